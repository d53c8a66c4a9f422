"""The free-text scrubber: ``scrub_text(text) -> str`` replaces direct identifiers by typed placeholders.

Placeholders: [NAME] [EMAIL] [PHONE] [ADDRESS] [POSTCODE] [DATE] [AGE] [URL] [IP] [ID] [HANDLE] [MENTION].

How it works (no model, nothing downloaded; everything loads offline from installed packages):
- Structured identifiers (emails, URLs, IPs, phone numbers, dates, record/account numbers, social handles,
  @mentions, street addresses, postcodes, ages over 89) are found by regular expressions, in a fixed
  priority order; overlapping finds keep the higher-priority, then the longer one.
- Person names come from three signals: (1) a name lexicon, the first and last names of every locale that
  Faker ships (a pip package, read from its provider modules at first use); (2) an English vocabulary with
  word frequencies (pyspellchecker's), which tells a rare word ("Lauren") from an everyday word that is
  also a name ("Grace", "Hope", "Kidney"); everyday-word names count only with a cue; (3) context cues
  written here: titles ("Dr.", "Mrs."), phrases ("my name is", "call me", "my son"), and adjacency to
  another name ("Ronald Pesälä": a known first name followed by a capitalized word).
- Medical words survive: a vocabulary of drug and disease words and drug-name suffixes written here, and
  eponyms ("Parkinson's", "Crohn's disease") are never names.

Dates become [DATE] (the year alone, "in 2019", is kept: HIPAA Safe Harbor allows years); ages are
replaced only above 89 (Safe Harbor), since the exported age band already carries the rest.
``find_identifiers`` returns the typed spans, for evaluation (bench/deidentify.py) and tests.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from dataclasses import dataclass

PLACEHOLDERS = ("NAME", "EMAIL", "PHONE", "ADDRESS", "POSTCODE", "DATE", "AGE", "URL", "IP", "ID", "HANDLE", "MENTION")

# Everyday English frequency (pyspellchecker counts) at or above which a lexicon name needs a cue.
COMMON_WORD_FREQUENCY = 3000


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    kind: str


# --- vocabularies ---------------------------------------------------------------------------------

# Our own list: common first names that are also frequent English tokens but are almost always names.
_COMMON_FIRST_NAMES = frozenset(
    [
        "adam",
        "adrian",
        "alice",
        "andrew",
        "anna",
        "anne",
        "barbara",
        "ben",
        "benjamin",
        "bob",
        "brian",
        "charles",
        "charlie",
        "chris",
        "christian",
        "christine",
        "claire",
        "daniel",
        "david",
        "frank",
        "diana",
        "edward",
        "elizabeth",
        "emily",
        "emma",
        "eric",
        "george",
        "harry",
        "helen",
        "henry",
        "jack",
        "james",
        "jane",
        "jason",
        "jean",
        "jennifer",
        "jessica",
        "jim",
        "jimmy",
        "joe",
        "john",
        "johnny",
        "joseph",
        "julia",
        "julian",
        "karen",
        "kate",
        "laura",
        "linda",
        "lisa",
        "margaret",
        "maria",
        "mary",
        "matthew",
        "michael",
        "mike",
        "nancy",
        "nick",
        "oliver",
        "paul",
        "peter",
        "richard",
        "robert",
        "sam",
        "sarah",
        "simon",
        "sophie",
        "steve",
        "steven",
        "susan",
        "thomas",
        "tom",
        "william",
    ]
)

# Our own list: medical vocabulary that must never be taken for a name (drugs, conditions, anatomy, care).
_MEDICAL_WORDS = frozenset(
    [
        "acetaminophen",
        "adalimumab",
        "advil",
        "aimovig",
        "albuterol",
        "aleve",
        "allegra",
        "alzheimer",
        "alzheimers",
        "amitriptyline",
        "amlodipine",
        "amoxicillin",
        "anemia",
        "arava",
        "arthritis",
        "aspirin",
        "asthma",
        "ativan",
        "atorvastatin",
        "aubagio",
        "avonex",
        "azathioprine",
        "baclofen",
        "benlysta",
        "betaseron",
        "biktarvy",
        "botox",
        "cancer",
        "carboplatin",
        "celebrex",
        "celecoxib",
        "celiac",
        "cellcept",
        "chemo",
        "chemotherapy",
        "cialis",
        "cisplatin",
        "copaxone",
        "cortisone",
        "covid",
        "crohn",
        "crohns",
        "cymbalta",
        "cyclophosphamide",
        "dexamethasone",
        "diabetes",
        "dilaudid",
        "doxorubicin",
        "duloxetine",
        "dupixent",
        "eliquis",
        "embrel",
        "enbrel",
        "entyvio",
        "epipen",
        "epilepsy",
        "erenumab",
        "fibromyalgia",
        "fingolimod",
        "flonase",
        "fluoxetine",
        "gabapentin",
        "gilenya",
        "glatiramer",
        "graves",
        "guillain",
        "hashimoto",
        "herceptin",
        "hodgkin",
        "humalog",
        "humira",
        "huntington",
        "hydrocodone",
        "hydroxychloroquine",
        "ibrance",
        "ibuprofen",
        "imuran",
        "infliximab",
        "insulin",
        "interferon",
        "januvia",
        "jardiance",
        "kawasaki",
        "keytruda",
        "lamictal",
        "lamotrigine",
        "lantus",
        "lemtrada",
        "letrozole",
        "levothyroxine",
        "lexapro",
        "lipitor",
        "lisinopril",
        "lupus",
        "lyme",
        "lymphoma",
        "lyrica",
        "marfan",
        "mavenclad",
        "mayzent",
        "melanoma",
        "meniere",
        "mesalamine",
        "metformin",
        "methotrexate",
        "metoprolol",
        "mitoxantrone",
        "morphine",
        "motrin",
        "naltrexone",
        "naproxen",
        "neulasta",
        "neurontin",
        "nexium",
        "norco",
        "novolog",
        "nurtec",
        "ocrevus",
        "ocrelizumab",
        "omeprazole",
        "opdivo",
        "otezla",
        "oxycodone",
        "ozempic",
        "paracetamol",
        "parkinson",
        "parkinsons",
        "paxil",
        "percocet",
        "plaquenil",
        "prednisone",
        "prednisolone",
        "pregabalin",
        "prolia",
        "prozac",
        "raynaud",
        "rebif",
        "remicade",
        "rheumatoid",
        "rinvoq",
        "rituxan",
        "rituximab",
        "saxenda",
        "sertraline",
        "sjogren",
        "sjogrens",
        "skyrizi",
        "soliris",
        "stelara",
        "sumatriptan",
        "synthroid",
        "tamoxifen",
        "tecfidera",
        "tegretol",
        "topamax",
        "topiramate",
        "tourette",
        "tramadol",
        "trulicity",
        "truvada",
        "tylenol",
        "tysabri",
        "ubrelvy",
        "ulcerative",
        "valium",
        "vumerity",
        "wegovy",
        "wellbutrin",
        "xanax",
        "xarelto",
        "xeljanz",
        "zeposia",
        "zoloft",
        "zofran",
        "zyrtec",
    ]
)
_MEDICAL_SUFFIXES = (
    "mab", "nib", "pril", "sartan", "olol", "statin", "mycin", "cillin", "azole", "prazole", "tide", "vir",
    "formin", "parin", "dronate", "lukast", "oxetine", "azepam", "triptan", "itis", "osis", "emia", "oma",
    "pathy", "algia", "plasia", "ectomy", "otomy", "scopy", "gram", "zumab", "ximab", "tinib", "floxacin",
)  # fmt: skip
# "Mayo Clinic", "Johns Hopkins Hospital": an institution, not a person.
_INSTITUTION_TAIL = re.compile(
    r"^\s+(?:clinic|hospital|foundation|society|university|college|institute|center|centre|infirmary|trust)\b", re.I
)
_EPONYM_TAIL = re.compile(r"^(?:['’]s?)?\s*(?:disease|syndrome|palsy|lymphoma|disorder|sign|phenomenon|ataxia)\b", re.I)
_POSSESSIVE = re.compile(r"^['’]s\b")

# Calendar words are in some locales' name lists; they are never names here.
_CALENDAR = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "christmas",
        "easter",
    ]
)
# Verbs that follow a person far more often than a drug or a disease ("Morishita began writing").
_PERSON_VERB = re.compile(
    r"^\s+(?:began|said|says|told|tells|wrote|writes|lives|lived|married|works|worked|grew|asked|asks|thinks|"
    r"thought|went|had given|has given|called|replied|answered|smiled|laughed|cried)\b"
)
# Chinese names: a common surname after 病患/患者 (patient), or before a title (醫師 doctor, 先生 Mr., ...).
_CJK_SURNAMES = "王李張张劉刘陳陈楊杨黃黄趙赵吳吴周徐孫孙馬马朱胡郭何高林羅罗鄭郑梁謝谢宋唐許许韓韩曾蕭萧蔡葉叶蘇苏吕呂"
_CJK_NAME = re.compile(
    rf"(?<=病患|患者|病人)[{_CJK_SURNAMES}][\u4e00-\u9fff]{{1,2}}?(?=[，,。\s]|$)"
    rf"|[{_CJK_SURNAMES}](?:醫師|医师|醫生|医生|先生|小姐|女士|護理師|护士)"
)
_TITLES = frozenset(
    ["mr", "mrs", "ms", "miss", "mx", "dr", "doctor", "prof", "professor", "sir", "madam", "dame", "nurse"]
)
_NAME_CUES = re.compile(
    r"(?:\bmy name is|\bname is|\bname's|\bi am called|\bi'm called|\bcall me|\bcalls me|\bcalled|\bnamed|"
    r"\blast name\??|\bfirst name\??|\bmaiden name is|\bsigned,?|\bregards,?|\bthanks,?|\bcheers,?|"
    r"\bmy (?:son|daughter|kid|child|husband|wife|partner|mom|mum|mother|dad|father|brother|sister|"
    r"friend|boyfriend|girlfriend|neighbou?r|doctor|nurse|neurologist|oncologist|rheumatologist|gp)|"
    r"\bwith|\bto|\bask|\bsaw|\bmet|\btold)\s*[:,]?\s*$",
    re.I,
)
_STRONG_CUES = re.compile(
    r"(?:\bmy name is|\bname is|\bname's|\bcall me|\bcalls me|\bnamed|\blast name\??|\bfirst name\??|"
    r"\bmaiden name is|\bmy (?:son|daughter|kid|child|husband|wife|partner|mom|mum|mother|dad|father|brother|"
    r"sister|friend|boyfriend|girlfriend))\s*[:,]?\s*$",
    re.I,
)


@functools.cache
def _name_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, last names) of every Faker locale, lower-cased."""
    # Lazy, not a cycle: Faker costs ~130 ms at import, and every process imports this module.
    import faker.providers.person as person  # noqa: PLC0415

    first: set[str] = set()
    last: set[str] = set()

    def words(value: object) -> set[str]:
        if isinstance(value, dict):
            value = value.keys()
        if isinstance(value, list | tuple | set | frozenset | type({}.keys())):
            return {str(v).lower() for v in value if isinstance(v, str) and v[:1].isalpha()}
        return set()

    for module in pkgutil.iter_modules(person.__path__):
        try:
            provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        except (ImportError, AttributeError):
            continue
        for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
            first |= words(provider.__dict__.get(attr))
        last |= words(provider.__dict__.get("last_names"))
    return frozenset(first), frozenset(last)


@functools.cache
def _english() -> dict[str, int]:
    # Lazy, not a cycle: the scrubber alone needs it (160,000 words load once, on the first scrub).
    from spellchecker import SpellChecker  # noqa: PLC0415

    return dict(SpellChecker(language="en").word_frequency.dictionary)


def warm_up() -> None:
    """Load the vocabularies now (benchmarks and workers call it before timing or work)."""
    _name_lexicon()
    _english()


def is_medical(word: str) -> bool:
    lower = word.lower().rstrip("'’s") if word.lower().endswith(("'s", "’s")) else word.lower()
    return lower in _MEDICAL_WORDS or (len(lower) > 5 and lower.endswith(_MEDICAL_SUFFIXES))


# --- structured identifiers -----------------------------------------------------------------------

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# Full month names other than May (which is also a verb): "12 March", "March 12".
_FULL_MONTHS = r"(?:january|february|march|april|june|july|august|september|october|november|december)"
_STREET = (
    r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|place|pl|court|ct|way|terrace|crescent|"
    r"close|square|sq|parkway|pkwy|highway|hwy|circle|cir|trail|row|walk|gardens|grove|hill|mews)"
)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.I)),
    (
        "URL",
        re.compile(
            r"\b(?:https?://|www\.)[^\s<>\"')\]]+"
            r"|\b(?:[a-z0-9-]+\.)+(?:com|org|net|io|co|uk|de|fr|nl|pl|au|ca|info|me|ly|gov|edu)(?:/[^\s<>\"')\]]*)?\b",
            re.I,
        ),
    ),
    (
        "IP",
        re.compile(
            r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b|\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b",
            re.I,
        ),
    ),
    (
        "HANDLE",
        re.compile(
            r"\b(?:twitter|insta(?:gram)?|ig|tiktok|snap(?:chat)?|facebook|fb|reddit|telegram|discord|threads|bluesky)"
            r"\b\s*(?:handle|account|username|user|name|id)?\s*(?:is|:|-)?\s*@[A-Za-z0-9_.]{2,30}\b"
            r"|\b(?:twitter|insta(?:gram)?|tiktok|snap(?:chat)?|reddit|telegram|discord)\s+(?:handle|account|username)"
            r"\s*(?:is|:)?\s*[A-Za-z0-9_.]{2,30}\b"
            r"|\busername\s*(?:is|:)\s*@?[A-Za-z0-9_.]{2,30}\b"
            r"|\bu/[A-Za-z0-9_-]{3,20}\b"
            r"|\b(?:twitter|x|instagram|facebook|tiktok)\.com/[A-Za-z0-9_.]+",
            re.I,
        ),
    ),
    ("MENTION", re.compile(r"(?<![\w@.])@[A-Za-z0-9_][A-Za-z0-9_.-]{1,30}\b")),
    (
        "DATE",
        re.compile(
            r"\b\d{4}-\d{1,2}-\d{1,2}\b"
            r"|\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b"
            rf"|\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b"
            rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?,?\s+\d{{4}}\b"
            rf"|\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)\b"
            rf"|\b\d{{1,2}}(?:st|nd|rd|th)\s+(?:of\s+)?{_MONTHS}\b"
            rf"|\b\d{{1,2}}\s+(?:of\s+)?{_FULL_MONTHS}\b|\b{_FULL_MONTHS}\s+\d{{1,2}}\b(?!\s*(?:mg|ml|mcg|units?)\b)"
            r"|民國\d+年\d+月\d+日|\d{4}年\d{1,2}月\d{1,2}日",
            re.I,
        ),
    ),
    (
        "ID",
        re.compile(
            r"\b\d{3}-\d{2}-\d{4}\b"  # US SSN
            r"|\b\d{4}(?:[ -]?\d{4}){2,3}(?:[ -]?\d{1,3})?\b|\b\d{13,19}\b"  # card and account numbers
            r"|(?:\b(?:mrn|nhs|medicare|medicaid|insurance|policy|account|acct|record|member|patient|license|"
            r"licence|passport|ssn|id)\b\.?\s*(?:no\.?|number|num|#|id)?\s*(?:is|:|#)?\s*)"
            r"(?P<v>#?(?=[A-Z-]*\d)[A-Z0-9][A-Z0-9-]{4,})"
            r"|\b(?=(?:[A-Z-]*\d){4})(?=[A-Z0-9-]*[A-Z])[A-Z0-9]{1,5}(?:-[A-Z0-9]{2,}){1,4}\b"  # INS-ABC-123456
            r"|\b[A-Z]{1,3}\d{6,}\b"  # A123456789
            r"|(?<![\d.,])\d{8,12}(?![\d.,])",  # bare long numbers (not phone-shaped)
            re.I,
        ),
    ),
    (
        "PHONE",
        re.compile(
            r"(?<![A-Za-z0-9+])(?:\+|00)?\d{0,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]\d{2,4}){1,4}"
            r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?(?![\w])"
        ),
    ),
    (
        "ADDRESS",
        re.compile(
            rf"\b\d{{1,5}}[A-Za-z]?(?:\s+[A-Z][\w.'’-]*){{1,4}}\s+{_STREET}\b\.?"
            r"|\b[A-Z][\w'’-]+\s+(?:Street|Road|Avenue|Lane|Drive|Boulevard|Terrace|Crescent)\b"
            r"|\b[\w’'-]*(?:straat|strasse|straße|gasse|weg|laan|plein|gade|vej|gatan|katu)\s+\d{1,5}[a-z]?\b"
            r"|\b(?:rue|via|calle|avenida|rua|strada|ulica|ul\.)\s+(?:[\w'’-]+\s){0,3}?\d{0,5}[\w'’-]+"
            r"|\b(?:apt|apartment|suite|ste|unit|flat|po box|p\.o\. box)\b\.?\s*#?\s*(?=[A-Z]?\d)[A-Z0-9]{1,6}\b",
            re.I,
        ),
    ),
    (
        "POSTCODE",
        re.compile(
            r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"  # UK
            r"|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b"  # Canada
            r"|(?<=\b[A-Z]{2}\s)\d{5}(?:-\d{4})?\b"  # US after a state
            r"|(?:(?<=zip\s)|(?<=zip:\s)|(?<=postcode\s)|(?<=postcode:\s))\S+"
            r"|(?<=[A-Za-z])(?:[ \t]+)\d{4,5}(?=[ \t]*(?:\n|$))"  # an address block's last line
            r"|,\s[A-Z][\w-]+\s(?P<v>\d{4,5})\b(?!\s*(?:mg|ml|mcg|units?|iu|steps|kcal|calories)\b)"  # ", Dunedin 9016"
        ),
    ),
    (
        "AGE",
        re.compile(
            r"\b(?:9\d|1[0-1]\d)(?=\s*(?:-\s*)?(?:years?|yrs?|y/?o|year-old)\b)"
            r"|(?<=\baged\s)(?:9\d|1[0-1]\d)\b|(?<=\bage\s)(?:9\d|1[0-1]\d)\b|(?<=\bage:\s)(?:9\d|1[0-1]\d)\b",
            re.I,
        ),
    ),
]
_PRIORITY = {kind: index for index, (kind, _) in enumerate(_PATTERNS)}
_PRIORITY["NAME"] = len(_PATTERNS)

_TOKEN = re.compile(r"[^\W\d_]+(?:(?:-|['’](?!s\b))[^\W\d_]+)*")
_PHONE_DIGITS = re.compile(r"\d")


def _structured(text: str) -> list[Span]:
    spans: list[Span] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span("v") if match.groupdict().get("v") else match.span()
            value = text[start:end]
            if kind == "PHONE":
                digits = len(_PHONE_DIGITS.findall(value))
                if digits < 7 or digits > 16:
                    continue
                value_stripped = value.strip()
                start += len(value) - len(value.lstrip())
                end = start + len(value_stripped)
            if kind == "POSTCODE" and match.group().startswith((" ", "\t")):
                start += len(value) - len(value.lstrip())
            if end > start:
                spans.append(Span(start, end, kind))
    return spans


# --- names ----------------------------------------------------------------------------------------


def _names(text: str) -> list[Span]:
    first, last = _name_lexicon()
    english = _english()
    tokens = list(_TOKEN.finditer(text))
    flags: list[str] = []  # "strong", "weak" or "" per token
    for match in tokens:
        word = match.group()
        lower = word.lower()
        tail = text[match.end() : match.end() + 24]
        if is_medical(word) or lower in _CALENDAR or _EPONYM_TAIL.match(tail) or _INSTITUTION_TAIL.match(tail):
            flags.append("")
            continue
        known = lower in first or lower in last
        frequency = english.get(lower, 0)
        capitalized = (word[:1].isupper() and not word.isupper()) or (word.isupper() and len(word) > 3 and known)
        if known and capitalized:
            common = frequency >= COMMON_WORD_FREQUENCY and lower not in _COMMON_FIRST_NAMES
            flags.append("weak" if common else "strong")
        elif known and (frequency < 1000 or lower in _COMMON_FIRST_NAMES) and lower in first and len(word) > 2:
            flags.append("weak-lower")
        elif capitalized and frequency < 200 and len(word) > 2:
            flags.append("unknown")
        elif word.islower() and frequency == 0 and len(word) > 2 and not known:
            flags.append("lower-unknown")  # only beside a chosen name ("kristin crnić")
        else:
            flags.append("")
    chosen = [False] * len(tokens)
    for i, match in enumerate(tokens):
        flag = flags[i]
        if not flag:
            continue
        before = text[max(0, match.start() - 40) : match.start()]
        prev_word = tokens[i - 1].group().lower() if i else ""
        titled = prev_word.rstrip(".") in _TITLES and text[tokens[i - 1].end() : match.start()].strip(" .") == ""
        if flag == "strong":
            chosen[i] = True
        elif flag == "weak":
            chosen[i] = titled or bool(_STRONG_CUES.search(before))
        elif flag == "weak-lower":
            chosen[i] = titled or bool(_NAME_CUES.search(before)) or match.start() == 0
        elif flag == "unknown":
            cue = titled or bool(_NAME_CUES.search(before))
            tail = text[match.end() : match.end() + 3]
            possessive = bool(_POSSESSIVE.match(tail)) and i > 0
            vocative = match.start() == 0 and tail.startswith(",")
            subject = english.get(lower, 0) == 0 and bool(_PERSON_VERB.match(text[match.end() : match.end() + 16]))
            chosen[i] = cue or possessive or vocative or subject
    # A capitalized or unknown word right beside a chosen name (same line, a space between) is part of it.
    changed = True
    while changed:
        changed = False
        for i in range(len(tokens)):
            if chosen[i] or not flags[i]:
                continue
            for j in (i - 1, i + 1):
                if 0 <= j < len(tokens) and chosen[j]:
                    a, b = (tokens[j], tokens[i]) if j < i else (tokens[i], tokens[j])
                    gap = text[a.end() : b.start()]
                    if gap in (" ", ". ") and (flags[i] != "weak-lower" or not tokens[j].group()[:1].isupper()):
                        chosen[i] = changed = True
                        break
    spans = [Span(tokens[i].start(), tokens[i].end(), "NAME") for i in range(len(tokens)) if chosen[i]]
    spans += [Span(m.start(), m.end(), "NAME") for m in _CJK_NAME.finditer(text)]
    return spans


# --- API ------------------------------------------------------------------------------------------


def _resolve(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans: higher priority first, then longer."""
    ordered = sorted(spans, key=lambda s: (_PRIORITY[s.kind], -(s.end - s.start), s.start))
    taken: list[Span] = []
    for span in ordered:
        if all(span.end <= other.start or span.start >= other.end for other in taken):
            taken.append(span)
    return sorted(taken)


_ADDRESS_GAP = re.compile(r"[\s,]*(?:[^\W\d_][\w'’.-]*[\s,]*){0,4}")
_ADDRESS_KINDS = ("ADDRESS", "POSTCODE")


def _merge_names(spans: list[Span], text: str) -> list[Span]:
    """Adjacent names become one [NAME]; an address and what follows it up to its postcode, one [ADDRESS]."""
    merged: list[Span] = []
    for span in spans:
        if merged:
            last = merged[-1]
            gap = text[last.end : span.start]
            if span.kind == last.kind == "NAME" and gap in (" ", ". "):
                merged[-1] = Span(last.start, span.end, "NAME")
                continue
            if (
                last.kind == "ADDRESS"
                and span.kind in _ADDRESS_KINDS
                and len(gap) <= 40
                and _ADDRESS_GAP.fullmatch(gap)
            ):
                merged[-1] = Span(last.start, span.end, "ADDRESS")
                continue
        merged.append(span)
    return merged


def find_identifiers(text: str) -> list[Span]:
    """Every direct identifier in ``text``, typed, in order and without overlaps."""
    if not text:
        return []
    return _merge_names(_resolve(_structured(text) + _names(text)), text)


def scrub_text(text: str) -> str:
    """``text`` with every direct identifier replaced by a typed placeholder such as ``[NAME]``."""
    spans = find_identifiers(text)
    if not spans:
        return text
    out: list[str] = []
    position = 0
    for span in spans:
        out.append(text[position : span.start])
        out.append(f"[{span.kind}]")
        position = span.end
    out.append(text[position:])
    return "".join(out)
