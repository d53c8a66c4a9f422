from django.apps import AppConfig


class CommunitiesConfig(AppConfig):
    name = "communities"
    verbose_name = "Communities"

    def ready(self) -> None:
        from communities.services import welcome_new_member
        from members.services import register_join_hook

        register_join_hook(welcome_new_member)

        from communities import personal_data

        personal_data.register()
        # Communities link to trials: the sync learns which conditions communities cover, and the
        # trial page shows this tenant's discussions of the trial.
        from communities.selectors import covered_condition_ids
        from communities.views import trial_discussions_panel
        from trials.registry import register_condition_source, register_trial_panel

        register_condition_source(covered_condition_ids)
        register_trial_panel(trial_discussions_panel)
        # A partner whose agreement ends receives aggregate counts of its communities (never member data).
        from communities.selectors import archive_statistics
        from partnerships.archive import register_statistics

        register_statistics(archive_statistics)
        # Posts may recruit only by linking to an approved, labelled study invitation (partnerships).
        from communities.recruiting import register_study_lookup
        from partnerships.selectors import labelled_study_ids

        register_study_lookup(labelled_study_ids)
