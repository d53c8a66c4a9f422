"""The demo's conversations: a few topics with replies in each partner's communities, so a newcomer
lands in a living community rather than "No open conversations yet".

All text here was written for the Kindred demo (no real people, no copied posts). Each voice is a demo
member of that partner; posts go through the same services as a member's (watched words, pre-moderation:
a voice's first posts wait, and the partner's demo moderator approves them, as on a real site).
"""

from __future__ import annotations

from dataclasses import dataclass

from django_tenants.utils import tenant_context

from communities import moderation, services
from communities.models import Community, ContentStatus, Post, ReviewItem, Topic
from members.models import Member
from tenants.models import Tenant


@dataclass(frozen=True)
class Voice:
    key: str
    display_name: str

    def email(self, partner_slug: str) -> str:
        return f"{self.key}@{partner_slug}.localhost"


@dataclass(frozen=True)
class Thread:
    community: str  # community slug
    kind: str  # communities.models.TopicKind value
    author: str  # Voice.key
    title: str
    body: str
    replies: tuple[tuple[str, str], ...]  # (Voice.key, text)


VOICES: dict[str, tuple[Voice, ...]] = {
    "breast-cancer-alliance": (
        Voice("dana", "Dana R."),
        Voice("priya", "Priya"),
        Voice("helen", "Helen M."),
        Voice("joy", "Joy"),
    ),
    "multiple-sclerosis-society": (
        Voice("tom", "Tom B."),
        Voice("aisha", "Aisha"),
        Voice("gareth", "Gareth"),
        Voice("lena", "Lena K."),
    ),
    "diabetes-foundation": (
        Voice("marco", "Marco"),
        Voice("beth", "Beth T."),
        Voice("kwame", "Kwame"),
        Voice("sofia", "Sofia"),
    ),
    "lupus-alliance": (
        Voice("maya", "Maya"),
        Voice("carol", "Carol D."),
        Voice("ines", "Inès"),
        Voice("ruth", "Ruth"),
    ),
}

THREADS: dict[str, tuple[Thread, ...]] = {
    "breast-cancer-alliance": (
        Thread(
            community="newly-diagnosed",
            kind="question",
            author="dana",
            title="What did you pack for your first chemo day?",
            body=(
                "My first infusion is on Thursday and I keep adding things to the bag. "
                "What was actually useful, and what did you never touch?"
            ),
            replies=(
                ("priya", "A soft blanket and thick socks: the infusion room was colder than I expected."),
                (
                    "helen",
                    "Snacks, a water bottle and a notebook for questions. My tablet stayed in the bag: "
                    "I mostly chatted with the nurse and dozed.",
                ),
                ("dana", "Thank you both, blanket and notebook are in. I'll report back after Thursday."),
            ),
        ),
        Thread(
            community="newly-diagnosed",
            kind="question",
            author="joy",
            title="How did you tell your children?",
            body=(
                "My two are 8 and 12. I want to be honest without frightening them. "
                "Did anyone find words or books that helped?"
            ),
            replies=(
                (
                    "helen",
                    "We used simple words: 'a lump that doctors will take out, and medicine that may make "
                    "me tired'. The hospital's family nurse gave us a picture book for the younger one.",
                ),
                ("priya", "Our eldest wanted to come to one appointment. Meeting the team made it less scary."),
            ),
        ),
        Thread(
            community="newly-diagnosed",
            kind="update",
            author="priya",
            title="Finished radiotherapy today",
            body="Twenty sessions done. Rang the bell with my sister watching. Tired, but so glad.",
            replies=(
                ("dana", "Congratulations! That bell is on my list too."),
                ("joy", "Wonderful news. Rest well this week."),
            ),
        ),
        Thread(
            community="life-after-treatment",
            kind="question",
            author="helen",
            title="Going back to work after a year off",
            body="I start a phased return next month. What adjustments helped you in the first weeks?",
            replies=(
                ("priya", "Two short days a week to start, and a quiet corner for a rest after lunch."),
                ("joy", "I asked for meetings in the morning: by 3 pm my brain fog was at its worst."),
            ),
        ),
    ),
    "multiple-sclerosis-society": (
        Thread(
            community="newly-diagnosed-with-ms",
            kind="question",
            author="tom",
            title="Just diagnosed with relapsing MS: where do I start?",
            body=(
                "Neurologist confirmed it last week. I have a leaflet about treatments and a head full of "
                "questions. What do you wish you had asked at the start?"
            ),
            replies=(
                (
                    "aisha",
                    "Ask who your MS nurse is and how to reach them between appointments. "
                    "They were my lifeline in the first year.",
                ),
                (
                    "gareth",
                    "Write down your symptoms with dates. It made the treatment conversation much easier.",
                ),
                ("tom", "Both great tips, thank you. I didn't know there was an MS nurse."),
            ),
        ),
        Thread(
            community="newly-diagnosed-with-ms",
            kind="question",
            author="lena",
            title="Heat makes my symptoms worse: any tips for summer?",
            body="Last summer my legs felt like lead whenever it was warm. How do you cope with heat?",
            replies=(
                ("aisha", "A cooling vest for gardening, and cold drinks in a flask. Lukewarm showers help too."),
                ("gareth", "I plan errands for early morning and keep the afternoon for resting indoors."),
            ),
        ),
        Thread(
            community="newly-diagnosed-with-ms",
            kind="update",
            author="gareth",
            title="Five years since my diagnosis",
            body=(
                "Five years on I still work, cycle on flat routes and sleep more than I used to. "
                "To anyone newly diagnosed: the first year is the hardest, it does get easier to plan around."
            ),
            replies=(("tom", "Thank you for posting this. It helps a lot to read."),),
        ),
        Thread(
            community="fatigue-and-energy",
            kind="question",
            author="aisha",
            title="Pacing: how do you plan a busy week?",
            body="I keep overdoing it on good days and paying for it after. How do you pace yourselves?",
            replies=(
                ("lena", "I give each day three 'spoons' of tasks and stop when they are used, even on good days."),
                ("tom", "A timer for rests every 45 minutes. Annoying at first, now it's routine."),
            ),
        ),
    ),
    "diabetes-foundation": (
        Thread(
            community="type-1-together",
            kind="question",
            author="marco",
            title="Lows during exercise: what works for you?",
            body=(
                "I started running again and keep going low halfway round. "
                "How do you plan insulin and snacks around exercise?"
            ),
            replies=(
                (
                    "beth",
                    "I agreed a plan with my diabetes team: a lower basal rate an hour before, and a few "
                    "glucose tablets in my pocket.",
                ),
                ("kwame", "I run in the morning before breakfast insulin. Fewer surprises for me."),
                ("marco", "Thanks! I'll ask my team about adjusting before runs."),
            ),
        ),
        Thread(
            community="type-1-together",
            kind="update",
            author="beth",
            title="Thirty days in range above 70%",
            body="First month with my new sensor and I hit 70% time in range. Small win, but I'm proud.",
            replies=(
                ("sofia", "That's a big win, well done!"),
                ("marco", "Brilliant. What changed the most for you?"),
            ),
        ),
        Thread(
            community="type-2-everyday",
            kind="question",
            author="kwame",
            title="Breakfast ideas that don't spike me",
            body="Cereal sends my numbers up. What do you eat in the morning that keeps you steady?",
            replies=(
                ("sofia", "Greek yoghurt with berries and a few nuts works for me."),
                ("beth", "Eggs and wholegrain toast. I check two hours after to see what works."),
            ),
        ),
        Thread(
            community="type-2-everyday",
            kind="question",
            author="sofia",
            title="Starting a new medicine next week",
            body="My doctor is adding a new tablet. How long did it take your stomach to settle on yours?",
            replies=(
                ("kwame", "About two weeks for me. Taking it with food made a difference."),
                (
                    "marco",
                    "Ask your pharmacist too: they explained the side effects to expect better than the leaflet.",
                ),
            ),
        ),
    ),
    "lupus-alliance": (
        Thread(
            community="living-with-lupus",
            kind="question",
            author="maya",
            title="How do you tell a flare from an ordinary bad week?",
            body=(
                "Since my diagnosis I second-guess every ache. When do you call your rheumatology team, "
                "and when do you just rest and wait?"
            ),
            replies=(
                (
                    "carol",
                    "For me it's new swelling in my hands or a rash that wasn't there before. "
                    "Tiredness alone I give a few days. My nurse told me never to wait with chest pain.",
                ),
                ("ruth", "I keep a one-line diary each evening. Patterns show up that I'd never notice otherwise."),
            ),
        ),
        Thread(
            community="living-with-lupus",
            kind="question",
            author="ines",
            title="Sunscreen that doesn't feel like paint?",
            body="Summer is coming and my face reacts to most sunscreens. What do you use every day?",
            replies=(
                ("maya", "A mineral one for sensitive skin, plus a wide hat. The hat did more than any cream."),
                ("carol", "UV film on the car windows changed my summer drives completely."),
            ),
        ),
        Thread(
            community="living-with-lupus",
            kind="update",
            author="ruth",
            title="Six months without a flare",
            body="Steroids tapered off last month. Walking with the dog every morning again.",
            replies=(
                ("ines", "That's lovely to read. Give the dog a pat from me."),
                ("maya", "This gives me hope. Thank you for sharing it."),
            ),
        ),
        Thread(
            community="living-with-lupus",
            kind="question",
            author="carol",
            title="Explaining invisible fatigue to friends",
            body=(
                "People say I look well, so they don't understand when I cancel. "
                "How have you explained lupus fatigue to friends?"
            ),
            replies=(
                ("ruth", "The spoon theory helped my sister understand. Now she asks how many spoons I have."),
                ("ines", "I suggest plans that can shrink: coffee at my place instead of a day out."),
            ),
        ),
    ),
}


def ensure_discussions(*, partner_slug: str, tenant: Tenant, voices: dict[str, Member], moderator: Member) -> int:
    """Post whatever of the partner's threads is missing (matched by title); returns how many topics
    were created. A held post is approved by the partner's demo moderator before the next reply."""
    created = 0
    with tenant_context(tenant):
        # Re-fetched inside the tenant: a Member caches the permissions of the schema it was read in.
        moderator = Member.objects.get(pk=moderator.pk)
        members = {key: Member.objects.get(pk=member.pk) for key, member in voices.items()}
        for thread in THREADS.get(partner_slug, ()):
            community = Community.objects.filter(slug=thread.community).first()
            if community is None or Topic.objects.filter(community=community, title=thread.title).exists():
                continue
            for member in members.values():
                services.join_community(member=member, tenant=tenant, community=community)
            topic = services.create_topic(
                acting_member=members[thread.author],
                tenant=tenant,
                community=community,
                kind=thread.kind,
                title=thread.title,
                body=thread.body,
            )
            _approve_if_held(post=topic.posts.get(is_opening=True), moderator=moderator, tenant=tenant)
            for key, text in thread.replies:
                topic.refresh_from_db()
                reply = services.create_reply(acting_member=members[key], tenant=tenant, topic=topic, body=text)
                _approve_if_held(post=reply, moderator=moderator, tenant=tenant)
            created += 1
    return created


def _approve_if_held(*, post: Post, moderator: Member, tenant: Tenant) -> None:
    if post.status != ContentStatus.HELD:
        return
    item = ReviewItem.objects.filter(post=post).order_by("-pk").first()
    if item is not None:
        moderation.decide(
            acting_member=moderator,
            tenant=tenant,
            item=item,
            choice=moderation.DecisionInput(decision=moderation.Decision.APPROVE),
        )
