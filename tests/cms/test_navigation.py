"""A patient finds Expert Q&A from the partner's own pages: the header of every page and the tenant
home link the community home's sessions, and each session page links back to them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from communities.models import Visibility
from tenants.db import use_public_schema
from tests.conftest import TENANT_A, host_client, signed_in
from tests.factories import ExpertSessionPageFactory, community_world

pytestmark = pytest.mark.django_db

HOST = TENANT_A["domain"]
EXPERT_LINK = re.compile(r'<a class="expert-qa" href="([^"]+)">Expert Q&amp;A</a>')


@pytest.fixture
def session(tenant_a: Any) -> Any:
    with tenant_context(tenant_a):
        world = community_world(tenant=tenant_a, visibility=Visibility.OPEN)
        session: Any = ExpertSessionPageFactory(community=world.community, title="Ask a rheumatologist")
        session.world = world
        session.page_url = session.url
    use_public_schema()
    return session


def test_the_header_of_member_pages_links_expert_qa(session: Any) -> None:
    for client in (host_client(HOST), signed_in(HOST, session.world.alice)):
        for path in ("/", "/search/", "/trials/", "/resources/", session.page_url):
            response = client.get(path, follow=True)
            assert response.status_code == 200, path
            assert EXPERT_LINK.findall(response.content.decode()) == ["/pages/#expert-sessions"], path


def test_a_patient_gets_from_the_tenant_home_to_a_session(session: Any) -> None:
    client = signed_in(HOST, session.world.alice)
    home = client.get("/").content.decode()
    assert 'href="/pages/#expert-sessions"' in home and "Trusted resources and expert Q&amp;A" in home
    pages = client.get("/pages/").content.decode()
    assert 'id="expert-sessions"' in pages
    assert f'href="{session.page_url}"' in pages
    page = client.get(session.page_url).content.decode()
    assert "Ask a rheumatologist" in page and 'href="/pages/#expert-sessions"' in page


def test_the_root_domain_shows_no_partner_links(root_client: Any) -> None:
    response = root_client.get("/")
    assert not EXPERT_LINK.findall(response.content.decode())
