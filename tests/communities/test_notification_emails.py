"""Notification emails: per event or daily digest, in the partner's brand, one-click unsubscribe."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from communities import services
from communities.emails import deliver_digests
from communities.models import Notification
from communities.tasks import send_daily_digests
from members.models import EmailNotifications, Member
from tenants.db import use_public_schema
from tests.communities.worlds import start_topic
from tests.conftest import host_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world):
    w = world
    w.topic = start_topic(w, title="Fatigue after infusions?", body="How do you cope?")
    use_public_schema()
    return w


def reply(world, member, body="Rest helps me", capture=None):
    with tenant_context(world.tenant):
        return services.create_reply(acting_member=member, tenant=world.tenant, topic=world.topic, body=body)


def choose(member, mode):
    Member.objects.filter(pk=member.pk).update(email_notifications=mode)


def test_each_mode_sends_one_branded_email_per_notification(world, django_capture_on_commit_callbacks):
    choose(world.alice, EmailNotifications.EACH)
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, world.bob)
    use_public_schema()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [world.alice.email]
    assert message.subject.startswith(world.tenant.name)
    assert "Fatigue after infusions?" in message.body
    assert f"http://{world.tenant.primary_domain}:8000/t/{world.topic.pk}/" in message.body
    html = message.alternatives[0][0]
    assert world.tenant.name in html
    assert "List-Unsubscribe" in message.extra_headers
    with tenant_context(world.tenant):
        assert Notification.objects.get(recipient=world.alice).emailed_at is not None
        # Running the delivery again sends nothing more.
        from communities.emails import deliver_instant_emails

        assert deliver_instant_emails(tenant=world.tenant) == 0
    assert len(mail.outbox) == 1


def test_digest_mode_waits_for_the_daily_digest(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, world.bob, "First")
        reply(world, world.bob, "Second")
    use_public_schema()
    assert mail.outbox == []  # digest is the default
    send_daily_digests()
    use_public_schema()
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert digest.to == [world.alice.email]
    assert "2 new notifications" in digest.subject
    assert send_daily_digests() == {"alpha_alliance": 0, "beta_society": 0}


def test_off_mode_and_unread_rules(world, django_capture_on_commit_callbacks):
    choose(world.alice, EmailNotifications.OFF)
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, world.bob)
    send_daily_digests()
    use_public_schema()
    assert mail.outbox == []
    with tenant_context(world.tenant):
        assert Notification.objects.filter(recipient=world.alice, emailed_at__isnull=True).count() == 1


def test_a_digest_holds_only_its_own_tenants_notifications(world, tenant_b, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, world.bob, "Only in A")
    with tenant_context(tenant_b):
        assert deliver_digests(tenant=tenant_b) == 0
    use_public_schema()
    assert mail.outbox == []


def test_one_click_unsubscribe_works_without_signing_in(world, django_capture_on_commit_callbacks):
    choose(world.alice, EmailNotifications.EACH)
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, world.bob)
    use_public_schema()
    link = re.search(r"http://localhost(?::\d+)?(/accounts/unsubscribe/\S+/)", mail.outbox[0].body).group(1)
    anonymous = host_client("localhost")
    page = anonymous.get(link)
    assert page.status_code == 200
    assert "Stop notification emails" in page.content.decode()
    assert Member.objects.get(pk=world.alice.pk).email_notifications == EmailNotifications.EACH  # GET changes nothing
    done = anonymous.post(link)  # as a mail client's RFC 8058 one-click POST: no session, no CSRF token
    assert done.status_code == 200
    assert Member.objects.get(pk=world.alice.pk).email_notifications == EmailNotifications.OFF
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, world.bob, "Again")
    send_daily_digests()
    assert mail.outbox == []


def test_tampered_unsubscribe_links_change_nothing(world):
    response = host_client("localhost").post("/accounts/unsubscribe/not-a-token/")
    assert response.status_code == 400
    assert Member.objects.get(pk=world.alice.pk).email_notifications == EmailNotifications.DIGEST


def test_email_preference_is_in_the_api(world):
    from tests.conftest import signed_in

    client = signed_in("localhost", world.alice)
    assert client.get("/api/v1/me/").json()["email_notifications"] == "digest"
    response = client.patch("/api/v1/me/", {"email_notifications": "each"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["email_notifications"] == "each"
    bad = client.patch("/api/v1/me/", {"email_notifications": "hourly"}, content_type="application/json")
    assert bad.status_code == 400
    assert Member.objects.get(pk=world.alice.pk).email_notifications == EmailNotifications.EACH


def test_member_picks_the_email_mode_on_the_profile_page(world):
    from tests.conftest import signed_in

    client = signed_in("localhost", world.alice)
    page = client.get("/accounts/profile/").content.decode()
    assert re.search(r'value="digest"[^>]*checked', page)  # the default is the daily digest
    assert client.post("/accounts/profile/", {"email_notifications": "each"}).status_code == 302
    assert Member.objects.get(pk=world.alice.pk).email_notifications == EmailNotifications.EACH
    bad = client.post("/accounts/profile/", {"email_notifications": "hourly"})
    assert bad.status_code == 200
    assert Member.objects.get(pk=world.alice.pk).email_notifications == EmailNotifications.EACH
