from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "trials"
    verbose_name = "Clinical trials"

    def ready(self) -> None:
        from trials import personal_data

        personal_data.register()
