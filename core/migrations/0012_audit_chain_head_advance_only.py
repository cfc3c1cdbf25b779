"""The audit chain head only moves forward (PostgreSQL).

An UPDATE must move it onto entries just appended: `last_seq` grows by exactly the number
of entries between the old and the new end, and `last_hash` is the new last entry's hash.
It cannot be moved back (to hide removed entries), pointed at an entry that is not there,
deleted or truncated; it is created once, empty. The check reads the appended entries by
their unique `seq` index inside the same statement, so the hot path (core.services.
_append_one: entry and head in one statement) keeps its single round trip. A superuser or
the table's owner can still switch the trigger off: the application connects as a role
that can do neither (deploy/postgres/10-roles.sql), and an anchor kept outside the
database (manage.py audit_anchor) finds what a superuser did.
"""

from django.db import migrations

FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION hsh_audit_head_advance() RETURNS trigger AS $$
DECLARE
    appended bigint;
    appended_hash varchar;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.id = 1 AND NEW.last_seq = 0 AND NEW.last_hash = repeat('0', 64) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'the audit chain head starts once, empty: row % at #% is not allowed',
            NEW.id, NEW.last_seq USING ERRCODE = 'restrict_violation';
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW IS NOT DISTINCT FROM OLD THEN
            RETURN NEW;  -- a save() of the unchanged row (Django reloading data) moves nothing
        END IF;
        IF NEW.id <> OLD.id OR NEW.last_seq <= OLD.last_seq THEN
            RAISE EXCEPTION 'the audit chain head only moves forward: #% to #% is not allowed',
                OLD.last_seq, NEW.last_seq
                USING ERRCODE = 'restrict_violation',
                      HINT = 'Entries are appended, never removed.';
        END IF;
        IF NEW.last_seq = OLD.last_seq + 1 THEN
            -- One entry (every sale, payment, void): one probe of the unique seq index.
            SELECT 1, hash INTO appended, appended_hash
              FROM core_auditlog WHERE seq = NEW.last_seq;
        ELSE
            SELECT count(*), max(hash) FILTER (WHERE seq = NEW.last_seq)
              INTO appended, appended_hash
              FROM core_auditlog
             WHERE seq > OLD.last_seq AND seq <= NEW.last_seq;
        END IF;
        IF appended IS DISTINCT FROM NEW.last_seq - OLD.last_seq
           OR appended_hash IS DISTINCT FROM NEW.last_hash THEN
            RAISE EXCEPTION 'the audit chain head must move onto the entries appended: '
                '#% to #% with that hash is not allowed', OLD.last_seq, NEW.last_seq
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit chain head only moves forward: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS core_auditchainhead_advance_only ON core_auditchainhead;
CREATE TRIGGER core_auditchainhead_advance_only
    BEFORE INSERT OR UPDATE OR DELETE ON core_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION hsh_audit_head_advance();
DROP TRIGGER IF EXISTS core_auditchainhead_advance_only_truncate ON core_auditchainhead;
CREATE TRIGGER core_auditchainhead_advance_only_truncate
    BEFORE TRUNCATE ON core_auditchainhead
    FOR EACH STATEMENT EXECUTE FUNCTION hsh_audit_head_advance();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS core_auditchainhead_advance_only ON core_auditchainhead;
DROP TRIGGER IF EXISTS core_auditchainhead_advance_only_truncate ON core_auditchainhead;
DROP FUNCTION IF EXISTS hsh_audit_head_advance();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the SQL is run as written (its % signs are not placeholders).
        schema_editor.execute(FUNCTION_SQL, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0011_audit_chain_keyed"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
