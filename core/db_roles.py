"""The database roles: deploy/postgres/10-roles.sql, read back for Python.

The SQL file is what an installation runs (through psql, as the postgres image does);
the tests run its sections with roles of their own through this module, so what is
tested is what is deployed.
"""

import re
from pathlib import Path

ROLES_SQL = Path(__file__).resolve().parents[1] / "deploy" / "postgres" / "10-roles.sql"

_SECTION = re.compile(r"^-- section: (.+)$", re.MULTILINE)
_VARIABLE = re.compile(r""":"(\w+)"|:'(\w+)'""")


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def sections(path: Path = ROLES_SQL) -> dict[str, str]:
    """{section name: its SQL text}, psql's own lines and comments left out."""
    parts = _SECTION.split(path.read_text())
    found = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        lines = [
            line
            for line in body.splitlines()
            if line.strip() and not line.lstrip().startswith(("--", "\\"))
        ]
        found[name.strip()] = "\n".join(lines)
    return found


def statements(section: str, **variables: str) -> list[str]:
    """The statements of one section, with psql's :"name" (an identifier) and :'name' (a
    literal) replaced by `variables`: owner, app, owner_password, app_password."""

    def substitute(match):
        name = match[1] or match[2]
        if name not in variables:
            raise KeyError(f"{ROLES_SQL.name} needs the variable {name!r}")
        quote = _identifier if match[1] else _literal
        return quote(variables[name])

    text = _VARIABLE.sub(substitute, sections()[section])
    return [statement.strip() for statement in text.split(";") if statement.strip()]
