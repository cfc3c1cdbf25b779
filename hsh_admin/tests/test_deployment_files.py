"""The deployment files say what README.md promises of them."""

from pathlib import Path

import yaml

BASE_DIR = Path(__file__).resolve().parents[2]


def test_compose_has_the_five_services_with_healthchecks():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis", "migrate"}
    for name, service in services.items():
        if name != "migrate":  # a one-shot: it runs the migrations and exits
            assert "healthcheck" in service, name
    for name in ("web", "worker", "beat"):
        assert services[name]["env_file"] == ".env"
        assert "media:/app/media" in services[name]["volumes"]
    assert "pgdata" in compose["volumes"]
    assert "gunicorn" in services["web"]["command"]


def test_image_runs_as_an_unprivileged_user():
    lines = (BASE_DIR / "Dockerfile").read_text().splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users
    assert users[-1] not in {"root", "0"}


def test_env_example_names_only_variables_the_readme_documents():
    readme = (BASE_DIR / "README.md").read_text()
    names = set()
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        line = line.lstrip("# ").strip()
        if "=" in line and line.split("=", 1)[0].isupper():
            names.add(line.split("=", 1)[0])
    assert names
    undocumented = {name for name in names if f"`{name}`" not in readme}
    assert not undocumented


def test_every_variable_settings_reads_is_in_the_readme():
    import re

    source = (BASE_DIR / "hsh_admin" / "settings.py").read_text()
    names = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))
    readme = (BASE_DIR / "README.md").read_text()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= names
    assert {name for name in names if f"`{name}`" not in readme} == set()


def test_env_example_names_every_variable_settings_reads():
    """A deployer copies .env.example: every setting is there, set or commented out."""
    import re

    source = (BASE_DIR / "hsh_admin" / "settings.py").read_text()
    names = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source)) - {"ENV_FILE"}
    example = (BASE_DIR / ".env.example").read_text()
    assert {"TAX_NAME", "COMPANY_NAME", "OUTBOX_MAX_ATTEMPTS"} <= names
    assert {name for name in names if f"{name}=" not in example} == set()


def _database_user(url):
    from urllib.parse import urlparse

    return urlparse(url).username


def test_compose_migrates_as_the_owner_and_runs_as_the_application_role():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    services = compose["services"]
    postgres = services["postgres"]
    assert (
        "./deploy/postgres/10-roles.sql:/docker-entrypoint-initdb.d/10-roles.sql:ro"
        in (postgres["volumes"])
    )
    assert {"HSH_DB_OWNER_PASSWORD", "HSH_DB_APP_PASSWORD"} <= set(postgres["environment"])
    superuser = postgres["environment"]["POSTGRES_USER"]

    migrate = services["migrate"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert _database_user(migrate["environment"]["DATABASE_URL"]) == "hsh_owner"
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert _database_user(environment["DATABASE_URL"]) not in {"hsh_owner", superuser}
        assert _database_user(environment["DATABASE_URL"]) == "hsh_app", name
        assert "migrate" not in str(services[name]["command"])
        assert "HSH_DB_OWNER_PASSWORD" not in str(environment)
    assert services["web"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }


def test_the_roles_file_makes_the_two_roles_compose_uses():
    from core import db_roles

    names = {"owner": "hsh_owner", "app": "hsh_app", "owner_password": "o", "app_password": "a"}
    sql = " ".join(
        db_roles.statements("roles", **names)
        + db_roles.statements("application privileges", **names)
    )
    assert 'CREATE ROLE "hsh_owner" LOGIN' in sql
    assert 'CREATE ROLE "hsh_app" LOGIN' in sql
    assert "NOSUPERUSER" in sql
    assert "TRUNCATE" not in sql
    assert "ALL PRIVILEGES" not in sql
    text = db_roles.ROLES_SQL.read_text()
    assert "\\set owner hsh_owner" in text
    assert "\\set app hsh_app" in text
    assert "\\getenv owner_password HSH_DB_OWNER_PASSWORD" in text
