from django.db import migrations

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION public.research_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The one change allowed: forgetting who acted (erasure of that person's account, or its
    -- ON DELETE SET NULL). Everything else about the event stays as written.
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL
       AND (NEW.id, NEW.agreement_id, NEW.export_id, NEW.channel, NEW.action, NEW.details::text, NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.agreement_id, OLD.export_id, OLD.channel, OLD.action, OLD.details::text, OLD.created_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'research_researchevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER research_events_no_update_delete
    BEFORE UPDATE OR DELETE ON public.research_researchevent
    FOR EACH ROW EXECUTE FUNCTION public.research_events_append_only();
CREATE TRIGGER research_events_no_truncate
    BEFORE TRUNCATE ON public.research_researchevent
    FOR EACH STATEMENT EXECUTE FUNCTION public.research_events_append_only();
"""

DROP_APPEND_ONLY_SQL = """
DROP TRIGGER IF EXISTS research_events_no_truncate ON public.research_researchevent;
DROP TRIGGER IF EXISTS research_events_no_update_delete ON public.research_researchevent;
DROP FUNCTION IF EXISTS public.research_events_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("research", "0001_initial")]

    operations = [migrations.RunSQL(APPEND_ONLY_SQL, DROP_APPEND_ONLY_SQL)]
