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
