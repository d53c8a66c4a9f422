from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self) -> None:
        # Registers the "database" system check that refuses transaction pooling (config/pooling.py).
        import config.pooling  # noqa: F401
