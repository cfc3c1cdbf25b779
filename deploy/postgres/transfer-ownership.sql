-- For a database created before the two roles (by a superuser, e.g. the compose file's
-- earlier `hsh` user): after 10-roles.sql, hand every table, view and function of the
-- schema to hsh_owner, so that migrations run as it and the application role gets the
-- owner's default privileges. Run once, as a superuser:
--   psql -v ON_ERROR_STOP=1 -U <superuser> -d hsh -f deploy/postgres/10-roles.sql
--   psql -v ON_ERROR_STOP=1 -U <superuser> -d hsh -f deploy/postgres/transfer-ownership.sql
-- (with HSH_DB_OWNER_PASSWORD and HSH_DB_APP_PASSWORD set for the first). A table's
-- identity sequences follow the table.

\set ON_ERROR_STOP on
\if :{?owner}
\else
\set owner hsh_owner
\endif

SELECT format('ALTER TABLE public.%I OWNER TO %I', tablename, :'owner')
  FROM pg_tables WHERE schemaname = 'public' AND tableowner <> :'owner' \gexec
SELECT format('ALTER VIEW public.%I OWNER TO %I', viewname, :'owner')
  FROM pg_views WHERE schemaname = 'public' AND viewowner <> :'owner' \gexec
SELECT format('ALTER FUNCTION %s OWNER TO %I', p.oid::regprocedure, :'owner')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> :'owner' \gexec
