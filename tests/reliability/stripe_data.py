"""Stripe test data for the scenarios: customer histories and customers that do not fit Fortnox.

Everything is drawn from a `random.Random` the caller seeds, so every run sends the same events.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import Any

from tests import builders
from tests.builders import address, event, shipping

# Event `created` times: far enough in the past that nothing here collides with `time.time()`,
# spaced so every customer's events are strictly ordered (Stripe's `created` has 1 s resolution;
# two events in one second are a separate problem, see the report).
BASE_CREATED = 1_760_000_000

FIRST_NAMES = ("Anna", "Björn", "Cecilia", "Dragan", "Eva", "Fredrik", "Greta", "Håkan", "Ingrid", "Jönsson")
LAST_NAMES = ("Andersson", "Bäckström", "Carlsson", "Dahl", "Ek", "Falk", "Grönlund", "Holm", "Isaksson")
COMPANY_SUFFIXES = ("AB", "HB", "GmbH", "Oy", "AS", "Ltd", "SARL")
PLACES = (
    ("Storgatan", "111 22", "Stockholm", "SE"),
    ("Kungsportsavenyen", "411 36", "Göteborg", "SE"),
    ("Rådhusgatan", "903 26", "Umeå", "SE"),
    ("Unter den Linden", "10117", "Berlin", "DE"),
    ("Karl Johans gate", "0154", "Oslo", "NO"),
    ("Rue de Rivoli", "75001", "Paris", "FR"),
    ("Mannerheimintie", "00100", "Helsinki", "FI"),
    ("Baker Street", "NW1 6XE", "London", "GB"),
    ("Fifth Avenue", "10001", "New York", "US"),
)
CURRENCIES = ("sek", "eur", "usd", None)


def customer(stripe_id: str, **fields: Any) -> dict[str, Any]:
    """A Stripe Customer (tests/builders.py) with nothing set but the id, created at BASE_CREATED."""
    return builders.customer(
        stripe_id, **{"address": None, "shipping": None, "currency": None, "created": BASE_CREATED, **fields}
    )


def _vat_number(rng: random.Random, country: str) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(10))
    if country == "SE":
        return f"SE{digits}01"
    return f"{country}{digits[:9]}"


@dataclass
class History:
    """One Stripe customer's life: its events in `created` order."""

    stripe_id: str
    events: list[dict[str, Any]]
    deleted: bool

    @property
    def final(self) -> dict[str, Any]:
        """The customer as Stripe holds it after the last event."""
        obj: dict[str, Any] = self.events[-1]["data"]["object"]
        return obj


def histories(rng: random.Random, count: int, prefix: str, *, delete_share: float = 0.25) -> list[History]:
    """`count` customers, each created, updated 2 to 4 times (name, phone, address, e-mail,
    shipping, VAT number in metadata: set, changed, removed) and deleted with `delete_share`."""
    result = []
    for index in range(count):
        stripe_id = f"cus_{prefix}{index:05d}"
        created = BASE_CREATED + index * 1_000
        street, postcode, city, country = rng.choice(PLACES)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = rng.random() < 0.4
        state = customer(
            stripe_id,
            name=f"{last} {rng.choice(COMPANY_SUFFIXES)}" if company else f"{first} {last}",
            email=f"{first.lower()}.{index}.v0@example.se".replace("ö", "o").replace("å", "a"),
            phone=f"+46 70 {index:03d} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            address=address(country, line1=f"{street} {rng.randint(1, 99)}", postal_code=postcode, city=city),
            currency=rng.choice(CURRENCIES),
            metadata={"vat_number": _vat_number(rng, country)} if company else {},
            created=created,
        )
        events = [event(f"evt_{prefix}{index:05d}_0", "customer.created", created, copy.deepcopy(state))]
        for step in range(1, rng.randint(2, 4) + 1):
            state = copy.deepcopy(state)
            _mutate(rng, state, index, step)
            events.append(
                event(
                    f"evt_{prefix}{index:05d}_{step}",
                    "customer.updated",
                    created + step * 10,
                    copy.deepcopy(state),
                )
            )
        deleted = rng.random() < delete_share
        if deleted:
            # Stripe's customer.deleted carries the customer as it was, marked deleted.
            gone = {**copy.deepcopy(state), "deleted": True}
            events.append(event(f"evt_{prefix}{index:05d}_del", "customer.deleted", created + 100, gone))
        result.append(History(stripe_id, events, deleted))
    return result


def _mutate(rng: random.Random, state: dict[str, Any], index: int, step: int) -> None:
    """One `customer.updated`: one to three changes, tax id changes among them."""
    kinds = rng.sample(("name", "phone", "address", "email", "vat", "shipping"), rng.randint(1, 3))
    for kind in kinds:
        if kind == "name":
            state["name"] = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {step}"
        elif kind == "phone":
            state["phone"] = None if rng.random() < 0.3 else f"+46 8 {index:04d} {step:02d}"
        elif kind == "address":
            street, postcode, city, country = rng.choice(PLACES)
            line1 = f"{street} {rng.randint(1, 99)}"
            line2 = f"c/o {rng.choice(LAST_NAMES)}" if rng.random() < 0.3 else None
            state["address"] = address(country, line1=line1, line2=line2, postal_code=postcode, city=city)
        elif kind == "email":
            state["email"] = f"kund.{index}.v{step}@example.se"
        elif kind == "vat":
            # Until customer.tax_id.* is exercised here too: the metadata VAT number.
            metadata = dict(state.get("metadata") or {})
            if metadata.get("vat_number") and rng.random() < 0.4:
                del metadata["vat_number"]
            else:
                country = (state.get("address") or {}).get("country") or "SE"
                metadata["vat_number"] = _vat_number(rng, str(country))
            state["metadata"] = metadata
        elif kind == "shipping":
            if state.get("shipping") and rng.random() < 0.5:
                state["shipping"] = None
            else:
                street, postcode, city, country = rng.choice(PLACES)
                state["shipping"] = shipping(
                    f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    line1=f"{street} {rng.randint(1, 99)}",
                    postal_code=postcode,
                    city=city,
                    country=country,
                )


# Data that does not fit Fortnox as it is ------------------------------------------------------

SCRIPT_NAMES = (
    "Åsa Öberg-Ärlig",
    "Müller & Söhne GmbH",
    "Ελληνική Εταιρεία Α.Ε.",  # noqa: RUF001 (other scripts on purpose)
    "ООО «Ромашка»",  # noqa: RUF001 (other scripts on purpose)
    "株式会社テスト",
    "北京测试有限公司",
    "주식회사 테스트",
    "شركة الاختبار",
    "חברת בדיקה בע״מ",
    "परीक्षण प्राइवेट लिमिटेड",
    "บริษัท ทดสอบ จำกัด",
    "Nguyễn Văn Tèo",
    "Łukasz Żółć",
    "ქართული კომპანია",
    "Հայկական ընկերություն",
    "ᚠᚢᚦᚨᚱᚲ Runverkstad",
    "e\u0301clair Bageri",  # a combining accent
    "\u202eRTL override AB",  # a bidi control: invisible, rejected by Fortnox
    "Zero\u200bWidth AB",
    "Tab\tand\nline\r\nbreaks AB",
    "NUL\x00byte AB",
    "Bell\x07 AB",
    "\ufeffBOM AB",
    "𝔉𝔯𝔞𝔨𝔱𝔲𝔯 GmbH",  # noqa: RUF001 (mathematical letters outside the BMP)
)
EMOJI_NAMES = ("🎉 Party AB", "Café ☕", "👩‍💻 Dev Studio", "🇸🇪 Svensk Handel", "❤️ Love HB", "Smile 🙂 AB")
EMPTY_NAMES: tuple[Any, ...] = (
    None,
    "",
    "   ",
    "\t\n",
    "\u200b",
    "😀😀",
    "\x00",
    0,
    True,
    {"first": "x"},
    ["a"],
)
INVALID_EMAILS = (
    "not-an-email",
    "a@b",
    "anna@@example.se",
    "ünï@exämple.se",
    "x" * 65 + "@example.se",
    "anna@example",
    "anna @example.se",
    "anna@exa mple.se",
    "anna@-example.se",
    "anna@example.se,bob@example.se",
    "😀@example.se",
    "a" * 1020 + "@ex.se",
    "",
    "   ",
)
UNKNOWN_COUNTRIES: tuple[Any, ...] = (
    "XX",
    "ZZ",
    "Sweden",
    "S",
    "SWE",
    "EU",
    "UK",
    "",
    "  ",
    "D E",
    "1A",
    "ÖÄ",
    46,
)
UNKNOWN_CURRENCIES: tuple[Any, ...] = ("xyz", "sekk", "kr", "€", "", "eu", "usd\x00", "btc", "😀", 752)
POSTCODES: tuple[Any, ...] = ("123 45", "12345678901234", "SW1A 1AA", "", "😀", "0150", "1" * 2000, 11122)
PHONES: tuple[Any, ...] = ("+46 70 123 45 67", "☎ 070-1234567", "7" * 2000, "\x00", "📞")
VAT_NUMBERS: tuple[Any, ...] = ("SE 5566 7788 9901", "DE123456789", "x" * 2000, "😀", "se556677889901", "")
ORG_NUMBERS: tuple[Any, ...] = ("556677-8899", "5566778899", "x" * 40, "12-34", "😀", "")


def long_text(rng: random.Random) -> str:
    """2,000 characters of one kind: Fortnox takes 1,024 at most."""
    unit = rng.choice(("x", "Å", "ab ", "漢", "😀", "e\u0301", "Lång gata "))
    return (unit * 2_000)[:2_000]


def messy_customer(rng: random.Random, stripe_id: str, index: int) -> dict[str, Any]:
    """A customer with many fields Fortnox would refuse as they are."""
    pick = rng.choice

    def text() -> Any:
        roll = rng.random()
        if roll < 0.3:
            return pick(SCRIPT_NAMES)
        if roll < 0.45:
            return pick(EMOJI_NAMES)
        if roll < 0.6:
            return long_text(rng)
        if roll < 0.7:
            return pick(EMPTY_NAMES)
        return f"Vanlig text {index}"

    name = pick((pick(SCRIPT_NAMES), pick(EMOJI_NAMES), long_text(rng), pick(EMPTY_NAMES)))
    email = pick(INVALID_EMAILS) if rng.random() < 0.7 else f"ok.{index}@example.se"
    address: Any = {
        "line1": text(),
        "line2": text() if rng.random() < 0.5 else None,
        "postal_code": pick(POSTCODES),
        "city": text(),
        "country": pick(UNKNOWN_COUNTRIES) if rng.random() < 0.6 else pick(("SE", "DE", "US")),
        "state": text() if rng.random() < 0.2 else None,
    }
    if rng.random() < 0.05:
        address = "Storgatan 1, 111 22 Stockholm"  # not an object at all
    shipping: Any = None
    if rng.random() < 0.5:
        shipping = {
            "name": text(),
            "phone": pick(PHONES),
            "address": {
                "line1": text(),
                "line2": None,
                "postal_code": pick(POSTCODES),
                "city": text(),
                "country": pick(UNKNOWN_COUNTRIES),
                "state": None,
            },
        }
    metadata: Any = {}
    if rng.random() < 0.4:
        metadata["vat_number"] = pick(VAT_NUMBERS)
    if rng.random() < 0.3:
        metadata["organisation_number"] = pick(ORG_NUMBERS)
    if rng.random() < 0.05:
        metadata = None
    return customer(
        stripe_id,
        name=name,
        business_name=text() if rng.random() < 0.2 else None,
        email=email,
        phone=pick(PHONES) if rng.random() < 0.6 else None,
        address=address,
        shipping=shipping,
        currency=pick(UNKNOWN_CURRENCIES) if rng.random() < 0.6 else pick(("sek", "eur")),
        tax_exempt=pick(("none", "exempt", "reverse", "weird", None)),
        metadata=metadata,
    )
