from django.apps import AppConfig


class ResearchConfig(AppConfig):
    name = "research"
    verbose_name = "Research exports"

    def ready(self) -> None:
        import research.services  # noqa: F401  (registers the exporters)
        from research import personal_data

        personal_data.register()
