""" "Download as FHIR R4 Consent resources" (issue 14, from verification): a download in FHIR's own
media type for a browser and for a FHIR client alike, never an HTML page and never a 406."""

from __future__ import annotations

import pytest

from consent import services
from tests.conftest import TENANT_A, signed_in
from tests.consent.conftest import CONTACT
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/consent/fhir/"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("accept", ["application/fhir+json", BROWSER_ACCEPT, "application/json", "*/*", None])
def test_bundle_is_a_fhir_json_download_whatever_the_client_accepts(policy_v1, accept):
    member = MemberFactory()
    services.record_consent(member=member, purpose=CONTACT, granted=True, channel="web")
    client = signed_in(TENANT_A["domain"], member)
    response = client.get(URL, HTTP_ACCEPT=accept) if accept else client.get(URL)
    assert response.status_code == 200
    expected = "application/json" if accept == "application/json" else "application/fhir+json"
    assert response["Content-Type"] == expected
    assert response["Content-Disposition"].startswith('attachment; filename="kindred-consent-')
    assert response.json()["resourceType"] == "Bundle"
    assert b"<html" not in response.content


def test_an_unsupported_type_is_still_refused(policy_v1):
    member = MemberFactory()
    response = signed_in(TENANT_A["domain"], member).get(URL, HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
