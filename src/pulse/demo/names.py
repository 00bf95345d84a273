"""Name pools for people, companies, affiliates and occasions (precomputed, no per-call work)."""

from __future__ import annotations

import random

FIRST = (
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Leon", "Sofia", "Elias",
    "Hannah", "Finn", "Lena", "Paul", "Clara", "Jonas", "Laura", "Ben", "Marie", "Felix",
    "Sarah", "Tom", "Anna", "Max", "Julia", "David", "Lea", "Jason", "Nina", "Mike",
    "Chloe", "Dan", "Grace", "Fred", "Ella", "Oscar", "Ruby", "Hugo", "Alice", "Theo",
    "Zoe", "Adam", "Lily", "Samuel", "Eva", "Leo", "Maya", "Jack", "Ivy", "Carlos",
    "Lucia", "Mateo", "Ines", "Pablo", "Giulia", "Marco", "Chiara", "Luca", "Sven", "Freya",
)  # fmt: skip
LAST = (
    "Smith", "Jones", "Miller", "Schmidt", "Garcia", "Martin", "Brown", "Weber", "Wilson",
    "Taylor", "Moore", "Fischer", "Becker", "Wagner", "Rossi", "Russo", "Dubois", "Moreau",
    "Lopez", "Perez", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott",
    "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter",
    "Phillips", "Evans", "Turner", "Torres", "Parker", "Collins", "Edwards", "Stewart",
    "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Bell", "Cooper", "Richter", "Klein",
    "Wolf", "Neumann", "Schwarz", "Braun", "Hofmann", "Koch",
)  # fmt: skip
FREE_MAIL = (
    ("gmail.com", 0.42), ("outlook.com", 0.14), ("yahoo.com", 0.10), ("icloud.com", 0.12),
    ("gmx.de", 0.07), ("web.de", 0.05), ("proton.me", 0.04), ("hotmail.com", 0.06),
)  # fmt: skip
COMPANY_A = (
    "Bright", "Silver", "Golden", "Blue", "Urban", "Happy", "Pixel", "Smart", "Bold", "Nova",
    "Prime", "Clear", "Swift", "Lunar", "Coral", "Maple", "North", "Velvet", "Sunny", "Cedar",
    "Crystal", "Echo", "Fresh", "Grand", "Iron", "Jade", "Kite", "Lumen", "Metro", "Orbit",
)  # fmt: skip
COMPANY_B = (
    "Lens", "Moments", "Media", "Pixel", "Events", "Studio", "Works", "Labs", "Digital",
    "Frame", "Story", "Wave", "Spark", "Bloom", "Vision", "Craft", "Bridge", "Loop", "Hub",
    "Forge", "Nest", "Path", "Peak", "Harbor", "Signal",
)  # fmt: skip
COMPANY_C = ("Agency", "Studios", "Events", "Group", "Partners", "Co", "Collective", "GmbH", "Ltd")
TLDS = (".com", ".io", ".de", ".co", ".agency", ".events")
AFFILIATE_WORDS = (
    "Agency", "Growth", "Digital", "Marketing", "Coach", "Academy", "Media", "Labs", "Tech",
    "Funnels", "CRM", "Sales", "Creator", "Reviews", "Hacks", "Daily", "Pro", "Hub", "Talks",
)  # fmt: skip
CORPORATE_EVENTS = (
    "Summer Party", "Kick-off", "Annual Gala", "Product Launch", "Team Offsite",
    "Conference", "Awards Night", "Client Dinner", "Trade Fair", "Anniversary",
)  # fmt: skip
HOLIDAY_EVENTS = {
    12: ("Christmas Party", "Holiday Gala", "Winter Market", "Xmas Dinner"),
    1: ("New Year Party", "New Year Reception", "Winter Ball"),
    2: ("Valentine's Night", "Valentine's Dinner", "Carnival Party"),
}
OTHER_EVENTS = ("Birthday", "Graduation", "Festival", "Reunion", "Baby Shower", "Open House")


def person(rng: random.Random) -> tuple[str, str]:
    return FIRST[int(rng.random() * len(FIRST))], LAST[int(rng.random() * len(LAST))]


def free_mail(rng: random.Random) -> str:
    x = rng.random()
    for domain, w in FREE_MAIL:
        x -= w
        if x < 0:
            return domain
    return FREE_MAIL[0][0]


def person_email(rng: random.Random, n: int, domain: str | None = None) -> str:
    """A unique personal address (the counter `n` keeps it unique)."""
    first, last = person(rng)
    return f"{first.lower()}.{last.lower()}{n}@{domain or free_mail(rng)}"


def company(rng: random.Random, suffix: bool = True) -> str:
    a = COMPANY_A[int(rng.random() * len(COMPANY_A))]
    b = COMPANY_B[int(rng.random() * len(COMPANY_B))]
    if not suffix:
        return f"{a}{b}"
    return f"{a} {b} {COMPANY_C[int(rng.random() * len(COMPANY_C))]}"


def slugify(text: str) -> str:
    out = []
    for ch in text.lower():
        if ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


def domain_for(name: str, rng: random.Random, n: int) -> str:
    """A company web domain; `n` disambiguates names that repeat."""
    tld = TLDS[int(rng.random() * len(TLDS))]
    base = "".join(ch for ch in name.lower() if ch.isalnum())
    return f"{base}{n}{tld}" if n else f"{base}{tld}"


def affiliate_handle(rng: random.Random) -> str:
    first = FIRST[int(rng.random() * len(FIRST))]
    word = AFFILIATE_WORDS[int(rng.random() * len(AFFILIATE_WORDS))]
    return f"{first}{word}" if rng.random() < 0.6 else f"{word}With{first}"


def couple(rng: random.Random) -> str:
    a = FIRST[int(rng.random() * len(FIRST))]
    b = FIRST[int(rng.random() * len(FIRST))]
    return f"{a} & {b}"
