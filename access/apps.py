from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Access (per-schema groups)"

    def ready(self) -> None:
        # Registration (DESIGN.md's pattern): every new tenant's schema gets its role groups first,
        # before other steps add pages those groups need rights on.
        from access.services import setup_role_groups
        from tenants.registry import register_tenant_setup

        register_tenant_setup(name="role groups", run=setup_role_groups, order=10)
