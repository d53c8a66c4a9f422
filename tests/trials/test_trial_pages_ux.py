"""Trial pages as members read them (issue 14, from verification): the registry's Markdown rendered
(no raw escapes), human status labels, a short sites list that expands, and a partner's default list
limited to the partner's own conditions."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from conditions.models import Condition
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, host_client
from tests.factories import CommunityFactory
from tests.trials.conftest import OWN_FIXTURES
from trials.models import Trial, TrialCondition, TrialSite
from trials.services import import_paths
from trials.text import registry_markdown, status_label

pytestmark = pytest.mark.django_db
HOST_A = TENANT_A["domain"]


@pytest.fixture
def own(tenant_a):
    import_paths(paths=[OWN_FIXTURES])


def test_registry_markdown_is_rendered_not_shown_raw():
    html = registry_markdown(
        "Inclusion Criteria:\n\n* Enrolled in study \\[EFC16033\\]\n* Age \\>= 18 years\n\n<script>x</script>"
    )
    assert "[EFC16033]" in html and "\\[" not in html
    assert "<li>" in html and "&gt;= 18" in html
    assert "<script>" not in html


def test_status_codes_read_as_words():
    assert status_label("NOT_YET_RECRUITING") == "Not yet recruiting"
    assert status_label("recruiting") == "Recruiting"
    assert status_label("ACTIVE_NOT_RECRUITING") == "Active, not recruiting"
    assert status_label("SOMETHING_NEW") == "Something new"
    assert status_label("") == "Not given"


def test_trial_page_renders_markdown_labels_and_a_short_sites_list(own):
    trial = Trial.objects.get(nct_id="NCT90000001")
    Trial.objects.filter(pk=trial.pk).update(eligibility_criteria="* Took part in \\[EFC16033\\]\n* Adults")
    TrialSite.objects.filter(trial=trial).delete()
    TrialSite.objects.bulk_create(
        TrialSite(
            trial=trial, position=n, facility=f"Clinic {n:02d}", city="Leeds", country="UK", status="NOT_YET_RECRUITING"
        )
        for n in range(15)
    )
    page = host_client(HOST_A).get("/trials/NCT90000001/").content.decode()
    assert "[EFC16033]" in page and "\\[EFC16033\\]" not in page
    assert "Not yet recruiting" in page and "not_yet_recruiting" not in page
    assert "Show all 15 sites" in page
    shown, hidden = page.split('<details class="more-sites">')
    assert shown.count("Clinic ") == 10 and hidden.count("Clinic ") == 5


def test_partner_trial_list_defaults_to_its_own_conditions(own, tenant_a):
    ms = Condition.objects.get(mesh_id="D009103")
    ms_trials = set(TrialCondition.objects.filter(condition=ms).values_list("trial__nct_id", flat=True))
    assert ms_trials
    with tenant_context(tenant_a):
        community = CommunityFactory()
        community.conditions.set([ms])
        default = host_client(HOST_A).get("/trials/").content.decode()
        everything = host_client(HOST_A).get("/trials/?all=1").content.decode()
    use_public_schema()
    shown = {nct for nct in Trial.objects.values_list("nct_id", flat=True) if f'data-nct="{nct}"' in default}
    assert shown and shown <= ms_trials
    assert "Show trials for every condition" in default
    all_shown = {nct for nct in Trial.objects.values_list("nct_id", flat=True) if f'data-nct="{nct}"' in everything}
    assert all_shown > shown
