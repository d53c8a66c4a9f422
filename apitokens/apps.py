from django.apps import AppConfig


class ApiTokensConfig(AppConfig):
    name = "apitokens"
    verbose_name = "API tokens"

    def ready(self) -> None:
        # Registers the bearer scheme with drf-spectacular (an extension is found by import).
        from apitokens import personal_data, schema  # noqa: F401

        personal_data.register()
