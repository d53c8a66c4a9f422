from django.apps import AppConfig


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = "Content pages"

    def ready(self) -> None:
        # Resource pages join the community search page's tabs (communities never import cms).
        from cms.search import search_resources
        from communities.search import register_resource_source

        register_resource_source("resources", "Resources", search_resources)
