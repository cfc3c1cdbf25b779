-- The two database roles of an installation, and what the application may do.
--
-- hsh_owner  owns the schema and every table, sequence and trigger function: migrations
--            (`manage.py migrate`) run as it. It is not a superuser.
-- hsh_app    the web, worker and beat processes. It owns nothing and may only SELECT,
--            INSERT, UPDATE and DELETE rows (the append-only tables' triggers refuse the
--            last two there) and take ids from sequences. It cannot TRUNCATE, ALTER a
--            table (so cannot disable a trigger), setval a sequence, set
--            session_replication_role, or create anything.
--
-- The postgres image runs this file once, as its superuser, in POSTGRES_DB, when it
-- initialises an empty data directory (docker-compose.yml mounts it into
-- /docker-entrypoint-initdb.d/). The passwords come from HSH_DB_OWNER_PASSWORD and
-- HSH_DB_APP_PASSWORD in that container's environment. For an existing database, run it
-- by hand as a superuser, then deploy/postgres/transfer-ownership.sql.
--
-- core/db_roles.py reads the sections below (the tests create roles with them); psql
-- lines (starting with a backslash) are for psql only.

\set ON_ERROR_STOP on
\if :{?owner}
\else
\set owner hsh_owner
\endif
\if :{?app}
\else
\set app hsh_app
\endif
\getenv owner_password HSH_DB_OWNER_PASSWORD
\getenv app_password HSH_DB_APP_PASSWORD

-- section: roles
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE :"app" LOGIN PASSWORD :'app_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER SCHEMA public OWNER TO :"owner";

-- section: application privileges
-- Nobody but the owner creates objects in the schema.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
-- Rows of the tables that exist now, and of every table the owner creates later: no
-- TRUNCATE, REFERENCES or TRIGGER, and never ownership. Sequences: nextval (USAGE) and
-- currval (SELECT) only; UPDATE would let it setval an id sequence back under its rows.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";
