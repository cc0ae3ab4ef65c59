"""Text for Fortnox's fields: every Fortnox length limit, the characters Fortnox accepts, e-mail checks.

One home for both the customer fields and the invoice rows, so a limit or a cleaning rule is the
same wherever Stripe's text lands in Fortnox.
"""

from __future__ import annotations

import re
import unicodedata

# Max lengths of the Fortnox customer fields we send, copied from `fortnox_Customer` in the
# official OpenAPI spec. The spec gives no limit for VATNumber and OrganisationNumber: 1024 is
# what every other free-text field allows, and 30 fits every national organisation number
# format while keeping pasted junk out.
MAX_LENGTHS: dict[str, int] = {
    "Name": 1024,
    "Email": 1024,
    "Phone1": 1024,
    "Address1": 1024,
    "Address2": 1024,
    "ZipCode": 10,
    "City": 1024,
    "CountryCode": 2,
    "DeliveryName": 1024,
    "DeliveryAddress1": 1024,
    "DeliveryAddress2": 1024,
    "DeliveryZipCode": 10,
    "DeliveryCity": 1024,
    "DeliveryCountryCode": 2,
    "DeliveryPhone1": 1024,
    "Currency": 3,
    "ExternalReference": 1024,
    "VATNumber": 1024,
    "OrganisationNumber": 30,
}

# Invoice field limits from the OpenAPI spec (fortnox_Invoice_InvoiceRow.Description, fortnox_InvoicePayload).
MAX_DESCRIPTION = 255
MAX_EXTERNAL_REFERENCE = 80
MAX_REMARKS = 1024

# Characters that separate words in the source (line breaks in a pasted address, tabs):
# turned into one space rather than removed, so the words do not run together.
_BREAKS = frozenset("\t\n\r\v\f\x85\u2028\u2029")
# Placeholders while cleaning; both are control characters, so they can never survive from
# the input itself (every input control character is replaced by one of them).
_BREAK_MARK = "\x01"
_REMOVED_MARK = "\x00"
_BREAK_RUN = re.compile(r"[ \x00]*\x01[ \x00\x01]*")
_REMOVED_RUN = re.compile(r"( ?)\x00+( ?)")

# Pragmatic, ASCII-only: Fortnox's own check is undocumented, and a rejected e-mail address
# fails the whole customer, so anything unusual is dropped rather than risked.
_EMAIL_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}",
    re.ASCII,
)
_EMAIL_LOCAL_MAX = 64


def clean_text(value: object, max_length: int) -> tuple[str | None, list[str]]:
    """Make a value safe for a Fortnox text field.

    Returns the cleaned text (None when nothing is left) and the reasons for every change.
    Fortnox rejects a request with control characters or 4-byte UTF-8 characters (error
    2000359), so those are removed; line breaks and tabs become spaces.
    """
    if value is None:
        return None, []
    if isinstance(value, bool):
        # A JSON true/false in a text field is a data error, not the text "True".
        return None, ["dropped: not text"]
    if isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        return None, ["dropped: not text"]

    cleaned, reasons = _remove_invalid(text)
    cleaned = cleaned.strip()
    if not cleaned:
        if reasons:
            reasons.append("dropped: nothing left after cleaning")
        return None, reasons
    if len(cleaned) > max_length:
        # Cutting can leave a trailing space, which Fortnox would keep and we would not.
        cleaned = cleaned[:max_length].rstrip()
        reasons.append(f"cut to {max_length} characters")
    return cleaned, reasons


def _remove_invalid(text: str) -> tuple[str, list[str]]:
    """text without what Fortnox refuses (breaks become spaces), and a reason per kind removed."""
    breaks = controls = astral = invalid = False
    parts: list[str] = []
    for ch in text:
        if ch in _BREAKS:
            breaks = True
            parts.append(_BREAK_MARK)
        elif ord(ch) > 0xFFFF:
            astral = True
            parts.append(_REMOVED_MARK)
        else:
            category = unicodedata.category(ch)
            if category in ("Cc", "Cf"):
                controls = True
                parts.append(_REMOVED_MARK)
            elif category == "Cs":
                # A lone surrogate (JSON "\ud83d" without its pair) cannot even be encoded.
                invalid = True
                parts.append(_REMOVED_MARK)
            else:
                parts.append(ch)
    cleaned = "".join(parts)
    if breaks or controls or astral or invalid:
        cleaned = _BREAK_RUN.sub(" ", cleaned)
        # Keep one space where a removed emoji stood between words, none where it was inside one.
        cleaned = _REMOVED_RUN.sub(lambda m: " " if m.group(1) or m.group(2) else "", cleaned)
    reasons: list[str] = []
    if breaks:
        reasons.append("replaced line breaks or tabs with spaces")
    if controls:
        reasons.append("removed control or invisible format characters")
    if astral:
        reasons.append("removed characters outside the Basic Multilingual Plane (emoji and the like)")
    if invalid:
        reasons.append("removed invalid unpaired surrogates")
    return cleaned, reasons


def first_description(*candidates: object, fallback: str) -> str:
    """The first candidate with text left after cleaning, as an invoice row description."""
    for candidate in candidates:
        text, _ = clean_text(candidate, MAX_DESCRIPTION)
        if text:
            return text
    return fallback


def is_valid_email(value: str) -> bool:
    """True for a plain ``local@domain.tld`` address that fits Fortnox's Email field."""
    if not isinstance(value, str) or len(value) > MAX_LENGTHS["Email"]:
        return False
    if _EMAIL_RE.fullmatch(value) is None:
        return False
    return len(value.rsplit("@", 1)[0]) <= _EMAIL_LOCAL_MAX
