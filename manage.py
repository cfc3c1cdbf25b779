#!/usr/bin/env python
"""Django's command-line utility for the HSH Sales System."""

import os
import sys

# Commands that only read the code: they sign nothing and write no audit entry, so they
# run without the production secrets (each run gets throwaway ones). Everything else
# still refuses to start without them.
SECRETLESS_COMMANDS = {"makemigrations"}


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hsh_admin.settings")
    if len(sys.argv) > 1 and sys.argv[1] in SECRETLESS_COMMANDS:
        import secrets

        for name in ("SECRET_KEY", "AUDIT_HMAC_KEY"):
            os.environ.setdefault(name, secrets.token_urlsafe(50))
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - load the settings now, to report what is wrong
    except ImproperlyConfigured as exc:
        # Django would carry on and fail later with "Models aren't loaded yet".
        sys.exit(
            f"manage.py: {exc}\nOn a laptop, run it with DEBUG=1 (as the make targets do), "
            "or put SECRET_KEY in .env (see .env.example)."
        )
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
