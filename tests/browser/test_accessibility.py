"""Accessibility in a real browser (issue 14): axe-core (the npm package pinned in package.json,
installed by `make test` with `npm ci`) is injected into each key page and must report no serious or
critical violation.

The pages carry the demo's content: partner A gets the Breast Cancer Alliance's palette, communities,
resource pages and seeded conversations (demo.services / demo.discussions), and the project's own
trial fixtures are loaded; everything is committed for the live server and removed afterwards.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from django.conf import settings

from tests.browser.conftest import DEFAULT_TIMEOUT_MS, require_axe
from tests.conftest import COMMITTED_EMAIL_DOMAIN, PASSWORD, TENANT_A

pytestmark = [pytest.mark.browser, pytest.mark.integration]

BLOCKING_IMPACTS = {"serious", "critical"}
DEMO = "breast-cancer-alliance"


@dataclass(frozen=True)
class DemoSite:
    community_slug: str
    topic_id: int
    page_url: str
    nct_id: str
    member_email: str


def _theme_values(theme: Any) -> dict[str, str]:
    fields = ("primary_colour", "secondary_colour", "accent_colour", "background_colour", "font_family", "logo_text")
    return {field: getattr(theme, field) for field in fields}


@pytest.fixture
def demo_site(committed_db: None, tenant_a: Any) -> Iterator[DemoSite]:
    from django_tenants.utils import tenant_context
    from wagtail.models import Page, Site
    from wagtail.rich_text import RichText

    from cms.models import ResourceIndexPage, ResourcePage
    from communities.models import Community
    from communities.services import create_community
    from demo.discussions import THREADS, VOICES, ensure_discussions
    from demo.services import PARTNERS
    from directory.services import withdraw_community
    from members.models import Member, MembershipRole
    from members.services import join_tenant
    from tenants.db import use_public_schema
    from tests.factories import MemberFactory, TenantMembershipFactory
    from themes.models import Theme
    from themes.services import ensure_theme
    from trials.models import Trial
    from trials.services import import_paths

    spec = next(partner for partner in PARTNERS if partner.slug == DEMO)
    token = secrets.token_hex(4)
    theme_before = _theme_values(Theme.objects.get(tenant=tenant_a))
    trials_before = set(Trial.objects.values_list("nct_id", flat=True))
    slugs = [community.slug for community in spec.communities]
    page_ids: list[int] = []
    try:
        staff = cast(
            Member,
            MemberFactory(email=f"a11y-staff-{token}@{COMMITTED_EMAIL_DOMAIN}", is_superuser=True, is_staff=True),
        )
        moderator = cast(Member, MemberFactory(email=f"a11y-mod-{token}@{COMMITTED_EMAIL_DOMAIN}"))
        voices = {
            voice.key: cast(
                Member,
                MemberFactory(
                    email=f"a11y-{voice.key}-{token}@{COMMITTED_EMAIL_DOMAIN}", display_name=voice.display_name
                ),
            )
            for voice in VOICES[DEMO]
        }
        ensure_theme(tenant=tenant_a, **{k: v for k, v in spec.theme.items() if k != "logo_text"})
        with tenant_context(tenant_a):
            TenantMembershipFactory(member=moderator, tenant=tenant_a, role=MembershipRole.MODERATOR)
            for member in voices.values():
                join_tenant(member=member, tenant=tenant_a)
            for community in spec.communities:
                create_community(
                    acting_member=staff,
                    tenant=tenant_a,
                    name=community.name,
                    slug=community.slug,
                    description=community.description,
                    visibility=community.visibility,
                )
            ensure_discussions(partner_slug=DEMO, tenant=tenant_a, voices=voices, moderator=moderator)
            root = ResourceIndexPage.objects.first() or Site.objects.get(is_default_site=True).root_page
            staff = Member.objects.get(pk=staff.pk)
            for page_spec in spec.pages[:1]:
                page = ResourcePage(
                    title=page_spec.title,
                    slug=f"{page_spec.slug}-{token}",
                    summary=page_spec.summary,
                    body=[("paragraph", RichText(page_spec.body))],
                )
                root.add_child(instance=page)
                page.save_revision(user=staff).publish(user=staff)
                page_ids.append(page.pk)
            first_thread = THREADS[DEMO][0]
            from communities.models import Topic

            topic = Topic.objects.get(community__slug=first_thread.community, title=first_thread.title)
            page_url = Page.objects.get(pk=page_ids[0]).specific.url
        use_public_schema()
        import_paths(paths=[Path(settings.BASE_DIR) / "trials" / "fixtures"])
        nct_id = Trial.objects.order_by("nct_id").values_list("nct_id", flat=True).first()
        assert nct_id
        yield DemoSite(
            community_slug=first_thread.community,
            topic_id=topic.pk,
            page_url=page_url,
            nct_id=nct_id,
            member_email=voices[first_thread.author].email,
        )
    finally:
        with tenant_context(tenant_a):
            Community.objects.filter(slug__in=slugs).delete()
            for page in Page.objects.filter(pk__in=page_ids):
                page.delete()
        for slug in slugs:
            withdraw_community(tenant=tenant_a, community_slug=slug)
        use_public_schema()
        Trial.objects.exclude(nct_id__in=trials_before).delete()
        Theme.objects.filter(tenant=tenant_a).update(**theme_before)


def _axe_violations(page: Any, axe_path: Path) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(axe_path))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " :: " + (n.failureSummary || ""))}));
        }"""
    )
    return [violation for violation in result if violation["impact"] in BLOCKING_IMPACTS]


def _checkboxes_far_from_labels(page: Any) -> list[str]:
    """Checkboxes whose label does not start right beside them on the same line."""
    return cast(
        list[str],
        page.evaluate(
            """() => Array.from(document.querySelectorAll("main input[type=checkbox]")).flatMap(box => {
                const label = box.labels && box.labels[0];
                if (!label) { return [box.name + ": no label"]; }
                const b = box.getBoundingClientRect(), l = label.getBoundingClientRect();
                const gap = l.left - b.right, sameLine = Math.abs(l.top - b.top) < 16;
                return gap >= 0 && gap < 24 && sameLine ? [] : [box.name + ": gap " + gap + "px"];
            })"""
        ),
    )


def test_key_pages_have_no_serious_or_critical_axe_violations(
    browser: Any, live_site: Any, demo_site: DemoSite
) -> None:
    axe_path = require_axe()
    root, alpha = live_site.root, live_site.host(TENANT_A["domain"])
    # axe is injected as an inline script: the page's CSP (script-src 'self') would block it.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    failures: dict[str, list[dict[str, Any]]] = {}
    try:
        page = context.new_page()
        anonymous = {
            "home": f"{alpha}/",
            "community": f"{alpha}/c/{demo_site.community_slug}/",
            "topic": f"{alpha}/t/{demo_site.topic_id}/",
            "search": f"{alpha}/search/?q=chemo",
            "trial": f"{alpha}/trials/{demo_site.nct_id}/",
            "trials": f"{alpha}/trials/",
            "resource": f"{alpha}{demo_site.page_url}",
            "resources": f"{alpha}/resources/",
            "sign-up": f"{root}/accounts/signup/",
            "platform home": f"{root}/",
        }
        for name, url in anonymous.items():
            response = page.goto(url)
            assert response is not None and response.status == 200, (
                f"{name}: {url} answered {response and response.status}"
            )
            if violations := _axe_violations(page, axe_path):
                failures[name] = violations

        # The search narrowed to one author (their "Posts by" link): the author filter and its controls.
        page.goto(anonymous["search"])
        page.locator(".card.topic .hit a", has_text="Posts by").first.click()
        page.wait_for_url(re.compile(r"author="))
        page.locator("summary", has_text="Filters").click()
        if violations := _axe_violations(page, axe_path):
            failures["search by author"] = violations

        # Signed in: the member's home, the topic with its reply form, privacy and delete-account pages.
        page.goto(f"{alpha}/")
        page.locator("header.site").get_by_role("link", name="Sign in", exact=True).click()
        page.wait_for_url(re.compile(rf"^{re.escape(root)}/accounts/login/\?"))
        page.get_by_label(re.compile(r"^Email:?$")).fill(demo_site.member_email)
        page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
        page.locator("main").get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{alpha}/")
        signed_in_pages = {
            "home (signed in)": f"{alpha}/",
            "topic (signed in)": f"{alpha}/t/{demo_site.topic_id}/",
            "new topic": f"{alpha}/c/{demo_site.community_slug}/new/?kind=question",
            "privacy": f"{root}/accounts/privacy/",
            "delete account": f"{root}/accounts/delete/",
        }
        for name, url in signed_in_pages.items():
            response = page.goto(url)
            assert response is not None and response.status == 200, (
                f"{name}: {url} answered {response and response.status}"
            )
            if violations := _axe_violations(page, axe_path):
                failures[name] = violations
            if name in {"privacy", "delete account"}:
                far = _checkboxes_far_from_labels(page)
                assert far == [], f"{name}: checkboxes far from their labels: {far}"
    finally:
        context.close()
    assert failures == {}, json.dumps(failures, indent=2)
