"""The deployment files say what README.md promises of them."""

from pathlib import Path

import yaml

BASE_DIR = Path(__file__).resolve().parents[2]


def test_compose_has_the_five_services_with_healthchecks():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    for name, service in services.items():
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
