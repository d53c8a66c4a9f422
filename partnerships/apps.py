from django.apps import AppConfig


class PartnershipsConfig(AppConfig):
    name = "partnerships"

    def ready(self) -> None:
        from partnerships import personal_data

        personal_data.register()
