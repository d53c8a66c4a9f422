from django.apps import AppConfig


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = "Content pages"

    def ready(self) -> None:
        # Resource pages join the community search page's tabs (communities never import cms).
        from cms.search import search_resources
        from communities.search import register_resource_source

        register_resource_source("resources", "Resources", search_resources)
        # Every new tenant gets a community home page and a resource library (tenants knows no feature).
        from cms.services import setup_tenant_pages
        from tenants.registry import register_tenant_setup

        register_tenant_setup(name="pages", run=setup_tenant_pages, order=50)
        from cms import personal_data

        personal_data.register()
