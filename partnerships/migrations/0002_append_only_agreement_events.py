from django.db import migrations

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION public.partnerships_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
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
