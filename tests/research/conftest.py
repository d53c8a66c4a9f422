"""Research tests reuse the consent fixtures (purposes and a first policy version)."""

from tests.consent.conftest import policy_v1, purposes

__all__ = ["policy_v1", "purposes"]
