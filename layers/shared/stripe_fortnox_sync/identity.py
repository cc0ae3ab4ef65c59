"""Keys that identify a Stripe customer on our side, including guests who have no Customer object."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any


def guest_key(email: str) -> str:
    """The mapping key of a guest checkout's buyer: by e-mail, hashed so no address is stored."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]
    return f"guest#{digest}"


def checkout_email(session: Mapping[str, Any]) -> str | None:
    details = session.get("customer_details") or {}
    email = details.get("email") or session.get("customer_email")
    return str(email).strip() if isinstance(email, str) and email.strip() else None


def expandable_id(value: object) -> str | None:
    """The id in an expandable Stripe field, whether it came as the id or as the expanded object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None
