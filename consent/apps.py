from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent"

    def ready(self) -> None:
        from consent.signup import SIGNUP_STEP
        from members.signup import register_signup_step

        register_signup_step(SIGNUP_STEP)

        from consent import personal_data

        personal_data.register()
