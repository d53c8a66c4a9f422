"""What the demo contains: the accounts, the three partners, their communities and pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from members.models import MemberRole

DEFAULT_PASSWORD = "kindred-demo-2026"
STAFF_EMAIL = "staff@kindred.localhost"
PATIENT_EMAIL = "maria@kindred.localhost"
CAREGIVER_EMAIL = "sam@kindred.localhost"

# MeSH descriptor ids, checked against the shared MeSH extract (conditions_mesh.csv).
BREAST_NEOPLASMS = "D001943"
TRIPLE_NEGATIVE_BREAST_NEOPLASMS = "D064726"
MULTIPLE_SCLEROSIS = "D009103"
DIABETES_TYPE_1 = "D003922"
DIABETES_TYPE_2 = "D003924"
LUPUS_SYSTEMIC = "D008180"
LUPUS_NEPHRITIS = "D008181"


# ---------------------------------------------------------------------------------------------
# what the demo contains
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommunitySpec:
    name: str
    slug: str
    description: str
    visibility: str  # communities.models.Visibility value
    mesh_ids: tuple[str, ...]


@dataclass(frozen=True)
class PageSpec:
    title: str
    slug: str
    summary: str
    body: str  # Wagtail rich text (HTML subset)


@dataclass(frozen=True)
class PartnerSpec:
    name: str
    slug: str
    tagline: str
    theme: dict[str, str]
    communities: tuple[CommunitySpec, ...]
    pages: tuple[PageSpec, ...]

    @property
    def domain(self) -> str:
        return f"{self.slug}.{settings.ROOT_DOMAIN}"

    @property
    def admin_email(self) -> str:
        return f"admin@{self.slug}.localhost"

    @property
    def moderator_email(self) -> str:
        return f"moderator@{self.slug}.localhost"


NOT_MEDICAL_ADVICE = (
    "<p><i>This page is general information written for the Kindred demo. It is not medical advice: "
    "talk to your care team about your own situation.</i></p>"
)

# Font stacks stay unquoted: the base template writes them into a <style> block, where HTML escaping
# of quotes would break the CSS.
PARTNERS: tuple[PartnerSpec, ...] = (
    PartnerSpec(
        name="Breast Cancer Alliance",
        slug="breast-cancer-alliance",
        tagline="From diagnosis to survivorship, nobody faces breast cancer alone.",
        theme={
            # Every pair passes WCAG 2.2 AA (themes.contrast): white on each colour is 4.5:1 or more.
            "primary_colour": "#b03a6f",
            "secondary_colour": "#6b2d5c",
            "accent_colour": "#9c4f0c",
            "background_colour": "#fff8fa",
            "font_family": "Georgia, Times New Roman, serif",
            "logo_text": "Breast Cancer Alliance",
        },
        communities=(
            CommunitySpec(
                name="Newly Diagnosed",
                slug="newly-diagnosed",
                description=(
                    "The first weeks after a breast cancer diagnosis are a blur of appointments, scans and new "
                    "words. Ask anything here, from reading a pathology report to what to pack for your first "
                    "infusion, and hear from people who were exactly where you are a few months ago."
                ),
                visibility="open",
                mesh_ids=(BREAST_NEOPLASMS,),
            ),
            CommunitySpec(
                name="Triple-Negative Circle",
                slug="triple-negative-circle",
                description=(
                    "A members-only space for people living with triple-negative breast cancer and those who "
                    "support them. Share experiences of chemotherapy and immunotherapy, clinical trials, scanxiety "
                    "and life after treatment, with others who understand why TNBC feels different."
                ),
                visibility="members",
                mesh_ids=(TRIPLE_NEGATIVE_BREAST_NEOPLASMS, BREAST_NEOPLASMS),
            ),
            CommunitySpec(
                name="Life After Treatment",
                slug="life-after-treatment",
                description=(
                    "Finishing active treatment is not the finish line. Talk about fatigue, returning to work, "
                    "body image, fear of recurrence, hormone therapy side effects and finding your new normal."
                ),
                visibility="members",
                mesh_ids=(BREAST_NEOPLASMS,),
            ),
        ),
        pages=(
            PageSpec(
                title="Understanding your pathology report",
                slug="understanding-your-pathology-report",
                summary="Grade, stage, hormone receptors and HER2: what the words on your report mean.",
                body=(
                    "<p>Your pathology report describes the tissue removed at biopsy or surgery. It guides "
                    "which treatments your team recommends, so it is worth asking them to walk you through it.</p>"
                    "<h2>Terms you will see</h2>"
                    "<ul><li><b>Invasive or in situ</b>: whether cells have grown beyond the duct or lobule.</li>"
                    "<li><b>Grade (1 to 3)</b>: how different the cells look from normal cells.</li>"
                    "<li><b>ER and PR status</b>: whether the cancer grows in response to hormones.</li>"
                    "<li><b>HER2 status</b>: whether the cells make too much of the HER2 protein.</li>"
                    "<li><b>Triple-negative</b>: ER, PR and HER2 are all negative.</li></ul>"
                    "<h2>Questions to ask</h2>"
                    "<ul><li>Is anything on the report still pending?</li>"
                    "<li>How do these results change my treatment options?</li></ul>" + NOT_MEDICAL_ADVICE
                ),
            ),
            PageSpec(
                title="Preparing for your first oncology appointment",
                slug="preparing-for-your-first-oncology-appointment",
                summary="A checklist of what to bring, what to ask and who to bring with you.",
                body=(
                    "<p>First appointments are long and full of information. A little preparation helps you "
                    "leave with answers rather than more questions.</p>"
                    "<h2>Bring</h2>"
                    "<ul><li>A list of your medicines and allergies.</li>"
                    "<li>Copies of scans and reports, if you have them.</li>"
                    "<li>A friend or relative to take notes.</li></ul>"
                    "<h2>Ask</h2>"
                    "<ul><li>What is the goal of the treatment you recommend?</li>"
                    "<li>What side effects should I report straight away, and to whom?</li>"
                    "<li>Are there clinical trials I could take part in?</li></ul>" + NOT_MEDICAL_ADVICE
                ),
            ),
        ),
    ),
    PartnerSpec(
        name="Multiple Sclerosis Society",
        slug="multiple-sclerosis-society",
        tagline="Living well with MS, together.",
        theme={
            "primary_colour": "#b8420a",
            "secondary_colour": "#1d4e6e",
            "accent_colour": "#2a6f97",
            "background_colour": "#fffaf5",
            "font_family": "Trebuchet MS, Helvetica, sans-serif",
            "logo_text": "MS Society",
        },
        communities=(
            CommunitySpec(
                name="Newly Diagnosed with MS",
                slug="newly-diagnosed-with-ms",
                description=(
                    "Just heard the words multiple sclerosis? Ask about MRI results, relapses, disease-modifying "
                    "therapies and how to tell family and colleagues. Members who have lived with MS for years "
                    "share what they wish they had known at the start."
                ),
                visibility="open",
                mesh_ids=(MULTIPLE_SCLEROSIS,),
            ),
            CommunitySpec(
                name="Fatigue and Energy",
                slug="fatigue-and-energy",
                description=(
                    "Fatigue is one of the most common and least visible MS symptoms. Swap pacing strategies, "
                    "heat-sensitivity tips, sleep routines and ways of explaining 'MS tired' to people who "
                    "have never felt it."
                ),
                visibility="members",
                mesh_ids=(MULTIPLE_SCLEROSIS,),
            ),
            CommunitySpec(
                name="Carers and Partners",
                slug="carers-and-partners",
                description=(
                    "For partners, parents, children and friends supporting someone with MS. Talk honestly "
                    "about caring, your own wellbeing, adapting the home and planning ahead, in a members-only "
                    "space."
                ),
                visibility="members",
                mesh_ids=(MULTIPLE_SCLEROSIS,),
            ),
        ),
        pages=(
            PageSpec(
                title="What is an MS relapse?",
                slug="what-is-an-ms-relapse",
                summary="How to tell a relapse from a bad day, and when to contact your MS team.",
                body=(
                    "<p>A relapse is new symptoms, or old symptoms getting worse, that last more than 24 hours "
                    "and are not explained by an infection, heat or stress.</p>"
                    "<h2>Pseudo-relapses</h2>"
                    "<p>An infection (often a urinary tract infection) or a rise in body temperature can "
                    "temporarily bring back old symptoms. These usually settle once the cause is treated.</p>"
                    "<h2>When to get in touch</h2>"
                    "<ul><li>Symptoms that affect your sight, mobility or continence.</li>"
                    "<li>Anything new that has lasted more than a day.</li></ul>" + NOT_MEDICAL_ADVICE
                ),
            ),
            PageSpec(
                title="Talking to your employer about MS",
                slug="talking-to-your-employer-about-ms",
                summary="Deciding whether to disclose, and adjustments that members found helpful.",
                body=(
                    "<p>Whether and when to tell your employer is your decision. Many members found that "
                    "sharing their diagnosis made it easier to ask for changes that help them keep working.</p>"
                    "<h2>Adjustments members mention</h2>"
                    "<ul><li>Flexible hours or working from home on bad days.</li>"
                    "<li>A desk near the toilets or away from heat sources.</li>"
                    "<li>Regular short breaks to manage fatigue.</li></ul>"
                    "<p>Your rights at work depend on where you live; an employment adviser can explain them.</p>"
                ),
            ),
        ),
    ),
    PartnerSpec(
        name="Diabetes Foundation",
        slug="diabetes-foundation",
        tagline="Everyday support for everyone living with type 1 and type 2 diabetes.",
        theme={
            "primary_colour": "#1f6fb2",
            "secondary_colour": "#1d4e6e",
            "accent_colour": "#287a4f",
            "background_colour": "#f7fbff",
            "font_family": "Verdana, Geneva, sans-serif",
            "logo_text": "Diabetes Foundation",
        },
        communities=(
            CommunitySpec(
                name="Type 1 Together",
                slug="type-1-together",
                description=(
                    "Carb counting, pumps, CGMs, exercise lows and 3 a.m. highs: an open community for adults "
                    "living with type 1 diabetes to share what works for them."
                ),
                visibility="open",
                mesh_ids=(DIABETES_TYPE_1,),
            ),
            CommunitySpec(
                name="Type 2 Everyday",
                slug="type-2-everyday",
                description=(
                    "Food, movement, medicines and the emotional side of a type 2 diagnosis. Members share "
                    "recipes, small changes that stuck, and experiences of starting new treatments."
                ),
                visibility="open",
                mesh_ids=(DIABETES_TYPE_2,),
            ),
            CommunitySpec(
                name="Parents of Children with Type 1",
                slug="parents-of-children-with-type-1",
                description=(
                    "A members-only space for parents and carers of children and teenagers with type 1 "
                    "diabetes: school plans, night-time checks, sleepovers, and handing over responsibility "
                    "as they grow up."
                ),
                visibility="members",
                mesh_ids=(DIABETES_TYPE_1,),
            ),
        ),
        pages=(
            PageSpec(
                title="Spotting and treating a hypo",
                slug="spotting-and-treating-a-hypo",
                summary="Signs of low blood glucose and the '15 and 15' approach many care teams teach.",
                body=(
                    "<p>Hypoglycaemia (a 'hypo') is blood glucose below 4 mmol/L (70 mg/dL). It is most common "
                    "with insulin and some tablets.</p>"
                    "<h2>Common signs</h2>"
                    "<ul><li>Shaking, sweating, hunger or a racing heart.</li>"
                    "<li>Confusion, irritability or blurred vision.</li></ul>"
                    "<h2>What many care teams advise</h2>"
                    "<p>Take about 15 g of fast-acting carbohydrate, re-check after 15 minutes and repeat if "
                    "still low. Follow your own team's plan, and make sure people around you know what to do."
                    "</p>" + NOT_MEDICAL_ADVICE
                ),
            ),
            PageSpec(
                title="Getting started with a continuous glucose monitor",
                slug="getting-started-with-a-cgm",
                summary="What a CGM measures, how alerts work, and tips from members for the first weeks.",
                body=(
                    "<p>A continuous glucose monitor (CGM) reads glucose in the fluid under the skin every few "
                    "minutes and shows the trend, not just a single number.</p>"
                    "<h2>Tips from members</h2>"
                    "<ul><li>Set alerts conservatively at first so they help rather than nag.</li>"
                    "<li>Expect readings to lag a finger-prick test by a few minutes when glucose moves fast.</li>"
                    "<li>Keep spare sensors and adhesive patches in your bag.</li></ul>" + NOT_MEDICAL_ADVICE
                ),
            ),
        ),
    ),
)

# The root's own example search ("lupus") finds these communities through the taxonomy's synonyms.
LUPUS_ALLIANCE = PartnerSpec(
    name="Lupus Alliance",
    slug="lupus-alliance",
    tagline="Flares, fatigue and everything between: lupus, shared.",
    theme={
        "primary_colour": "#6a3d9a",
        "accent_colour": "#8a5f00",
        "background_colour": "#fbf8ff",
        "font_family": "Palatino Linotype, Book Antiqua, Palatino, serif",
        "logo_text": "Lupus Alliance",
    },
    communities=(
        CommunitySpec(
            name="Living with Lupus",
            slug="living-with-lupus",
            description=(
                "Systemic lupus erythematosus (SLE) looks different in everyone. Talk about flares, joint pain, "
                "rashes, sun sensitivity, hydroxychloroquine and the fatigue nobody else can see, with people "
                "who live with it too."
            ),
            visibility="open",
            mesh_ids=(LUPUS_SYSTEMIC,),
        ),
        CommunitySpec(
            name="Lupus Nephritis Circle",
            slug="lupus-nephritis-circle",
            description=(
                "A members-only space for people whose lupus affects their kidneys: biopsies, infusions, "
                "dialysis decisions and keeping life going around the appointments."
            ),
            visibility="members",
            mesh_ids=(LUPUS_NEPHRITIS, LUPUS_SYSTEMIC),
        ),
    ),
    pages=(
        PageSpec(
            title="What is a lupus flare?",
            slug="what-is-a-lupus-flare",
            summary="Common signs of a flare, and when to call your rheumatology team.",
            body=(
                "<p>A flare is a time when lupus symptoms come back or get worse: joint pain, a rash, "
                "fevers, swelling or extreme tiredness.</p>"
                "<h2>When to get in touch</h2>"
                "<ul><li>Chest pain, shortness of breath or swelling in your legs.</li>"
                "<li>Blood in your urine or foamy urine.</li></ul>" + NOT_MEDICAL_ADVICE
            ),
        ),
        PageSpec(
            title="Sun protection with lupus",
            slug="sun-protection-with-lupus",
            summary="Why sunlight can trigger symptoms, and habits members rely on.",
            body=(
                "<p>Many people with lupus are sensitive to ultraviolet light: sun exposure can bring on a "
                "rash, joint pain or tiredness.</p>"
                "<ul><li>Broad-spectrum sunscreen every day, even when it is cloudy.</li>"
                "<li>Hats, long sleeves and shade in the middle of the day.</li></ul>" + NOT_MEDICAL_ADVICE
            ),
        ),
    ),
)
PARTNERS = (*PARTNERS, LUPUS_ALLIANCE)

_partner_names = {spec.slug: spec.name for spec in PARTNERS}


@dataclass(frozen=True)
class PersonSpec:
    email: str
    display_name: str
    role: str = ""
    mesh_ids: tuple[str, ...] = ()
    joins: tuple[str, ...] = ()  # partner slugs
    birth_year: int | None = None
    country: str = ""
    region: str = ""


PEOPLE: tuple[PersonSpec, ...] = (
    PersonSpec(
        email=PATIENT_EMAIL,
        display_name="Maria Alvarez",
        role=MemberRole.PATIENT,
        mesh_ids=(BREAST_NEOPLASMS, DIABETES_TYPE_2),
        joins=("breast-cancer-alliance", "diabetes-foundation"),
        birth_year=1974,
        country="US",
        region="Ohio",
    ),
    PersonSpec(
        email=CAREGIVER_EMAIL,
        display_name="Sam Okafor",
        role=MemberRole.CAREGIVER,
        mesh_ids=(MULTIPLE_SCLEROSIS,),
        joins=("multiple-sclerosis-society",),
        birth_year=1988,
        country="GB",
        region="Leeds",
    ),
)
