"""Writes for the demo: three partner tenants with communities, pages and accounts to walk through.

``seed_demo`` is idempotent: it looks everything up by a natural key (slug, email) and creates only
what is missing, so ``make run`` can call it on every start. It assumes a migrated database
(``manage.py bootstrap``) and never deletes anything.
"""

from demo.services.contents import (
    BREAST_NEOPLASMS,
    CAREGIVER_EMAIL,
    DEFAULT_PASSWORD,
    DIABETES_TYPE_1,
    DIABETES_TYPE_2,
    LUPUS_ALLIANCE,
    LUPUS_NEPHRITIS,
    LUPUS_SYSTEMIC,
    MULTIPLE_SCLEROSIS,
    NOT_MEDICAL_ADVICE,
    PARTNERS,
    PATIENT_EMAIL,
    PEOPLE,
    STAFF_EMAIL,
    TRIPLE_NEGATIVE_BREAST_NEOPLASMS,
    CommunitySpec,
    PageSpec,
    PartnerSpec,
    PersonSpec,
)
from demo.services.reports import DemoLogin, DemoPartner, DemoSummary
from demo.services.seeding import DEMO_POLICY, _ensure_consent_policy, _ensure_trials, seed_demo

__all__ = [
    "BREAST_NEOPLASMS",
    "CAREGIVER_EMAIL",
    "DEFAULT_PASSWORD",
    "DEMO_POLICY",
    "DIABETES_TYPE_1",
    "DIABETES_TYPE_2",
    "LUPUS_ALLIANCE",
    "LUPUS_NEPHRITIS",
    "LUPUS_SYSTEMIC",
    "MULTIPLE_SCLEROSIS",
    "NOT_MEDICAL_ADVICE",
    "PARTNERS",
    "PATIENT_EMAIL",
    "PEOPLE",
    "STAFF_EMAIL",
    "TRIPLE_NEGATIVE_BREAST_NEOPLASMS",
    "CommunitySpec",
    "DemoLogin",
    "DemoPartner",
    "DemoSummary",
    "PageSpec",
    "PartnerSpec",
    "PersonSpec",
    "_ensure_consent_policy",
    "_ensure_trials",
    "seed_demo",
]
