# The web, worker and beat image. Runs as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN groupadd --system --gid 10001 hsh \
 && useradd --system --uid 10001 --gid hsh --home-dir /app --shell /usr/sbin/nologin hsh

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=hsh:hsh . .
# Static files are baked into the image and served by WhiteNoise.
# Throwaway keys: production settings refuse missing, short or placeholder keys.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    AUDIT_HMAC_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/media && chown -R hsh:hsh /app/media /app/staticfiles

USER hsh
EXPOSE 8000
CMD ["gunicorn", "hsh_admin.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
