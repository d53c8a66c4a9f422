"""Password rules beyond Django's validators: a length ceiling.

Hashing a megabyte-long password costs real CPU on every sign-in attempt, and nobody types one: past
``MAX_PASSWORD_LENGTH`` characters a password is refused with a clear message (web forms and API
alike, through AUTH_PASSWORD_VALIDATORS).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

MIN_PASSWORD_LENGTH = 10  # the MinimumLengthValidator's setting; the API schema declares it too
MAX_PASSWORD_LENGTH = 128


class MaximumLengthValidator:
    def __init__(self, max_length: int = MAX_PASSWORD_LENGTH) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"Use at most {self.max_length} characters.", code="password_too_long", params={"max": self.max_length}
            )

    def get_help_text(self) -> str:
        return f"Your password can have at most {self.max_length} characters."
