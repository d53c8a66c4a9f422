from django.db import migrations

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION public.partnerships_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The one change allowed: forgetting who acted (erasure of that person's account, or its
    -- ON DELETE SET NULL). Everything else about the event stays as written.
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
       AND (NEW.id, NEW.agreement_id, NEW.source, NEW.action, NEW.old_status, NEW.new_status,
            NEW.changes::text, NEW.reason, NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.agreement_id, OLD.source, OLD.action, OLD.old_status, OLD.new_status,
            OLD.changes::text, OLD.reason, OLD.created_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'partnerships_agreementevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER partnerships_audit_no_update_delete
    BEFORE UPDATE OR DELETE ON public.partnerships_agreementevent
    FOR EACH ROW EXECUTE FUNCTION public.partnerships_audit_append_only();
CREATE TRIGGER partnerships_audit_no_truncate
    BEFORE TRUNCATE ON public.partnerships_agreementevent
    FOR EACH STATEMENT EXECUTE FUNCTION public.partnerships_audit_append_only();
"""

DROP_APPEND_ONLY_SQL = """
DROP TRIGGER IF EXISTS partnerships_audit_no_truncate ON public.partnerships_agreementevent;
DROP TRIGGER IF EXISTS partnerships_audit_no_update_delete ON public.partnerships_agreementevent;
DROP FUNCTION IF EXISTS public.partnerships_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("partnerships", "0001_initial")]

    operations = [migrations.RunSQL(APPEND_ONLY_SQL, DROP_APPEND_ONLY_SQL)]
