from django.apps import AppConfig


class ThemesConfig(AppConfig):
    name = "themes"
    verbose_name = "Themes"

    def ready(self) -> None:
        # Registration (DESIGN.md's pattern): provisioning gives every new tenant its theme, with the
        # partner's colours when given, back in public after the tenant-schema steps.
        from tenants.registry import register_tenant_setup
        from themes.services import ensure_theme

        register_tenant_setup(name="theme", run=ensure_theme, schema="public")
