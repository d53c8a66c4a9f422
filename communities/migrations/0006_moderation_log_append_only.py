"""The moderation log is append-only in the database too, not only through the ORM.

UPDATE is refused except the one change erasure and community deletion need: clearing the member and
community references (actor, subject, community) to NULL while every other column stays as it was.
DELETE and TRUNCATE are always refused. The function lives in public (one definition); the triggers
sit on each tenant's table (migrations run per schema, and a clone copies them with the table).
Only the table's owner can lift them (ALTER TABLE ... DISABLE TRIGGER): the application never does.
"""

from django.db import migrations

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION public.communities_moderation_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    detachable CONSTANT text[] := ARRAY['actor_id', 'subject_id', 'community_id'];
BEGIN
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - detachable) = (to_jsonb(OLD) - detachable)
       AND (NEW.actor_id IS NULL OR NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id)
       AND (NEW.subject_id IS NULL OR NEW.subject_id IS NOT DISTINCT FROM OLD.subject_id)
       AND (NEW.community_id IS NULL OR NEW.community_id IS NOT DISTINCT FROM OLD.community_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'communities_moderationaction is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER IF EXISTS moderation_log_no_update_delete ON communities_moderationaction;
CREATE TRIGGER moderation_log_no_update_delete
    BEFORE UPDATE OR DELETE ON communities_moderationaction
    FOR EACH ROW EXECUTE FUNCTION public.communities_moderation_log_append_only();
DROP TRIGGER IF EXISTS moderation_log_no_truncate ON communities_moderationaction;
CREATE TRIGGER moderation_log_no_truncate
    BEFORE TRUNCATE ON communities_moderationaction
    FOR EACH STATEMENT EXECUTE FUNCTION public.communities_moderation_log_append_only();
"""

DROP_APPEND_ONLY_SQL = """
DROP TRIGGER IF EXISTS moderation_log_no_truncate ON communities_moderationaction;
DROP TRIGGER IF EXISTS moderation_log_no_update_delete ON communities_moderationaction;
"""


class Migration(migrations.Migration):
    dependencies = [("communities", "0005_trial_discussions")]

    operations = [migrations.RunSQL(APPEND_ONLY_SQL, DROP_APPEND_ONLY_SQL)]
