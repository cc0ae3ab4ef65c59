"""The Stripe-Signature check: which of the endpoint's secrets signed this body, and how recently.

Our own few lines instead of stripe's `WebhookSignature.verify_header`, for two reasons: importing
the stripe package is most of the webhook's cold start, and stripe's check lets some headers raise
errors other than its own (a non-ASCII `v1` value makes `hmac.compare_digest` raise `TypeError`) and
accepts timestamps from the future. For every header Stripe generates, the answer is the same as
stripe's (tests/unit/test_signature.py signs with stripe's own `generate_signature_header`); we refuse
malformed headers stripe would stumble on, and timestamps more than the tolerance ahead of now.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence

SIGNATURE_TOLERANCE_SECONDS = 300
SCHEME = "v1"
# Stripe's timestamps are Unix seconds.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# API Gateway allows far longer headers; Stripe's are well under this even while rolling secrets.
MAX_HEADER_LENGTH = 4096


def parse_header(header: str) -> tuple[int, list[str]] | None:
    """The header's first `t` and its `v1` signatures, or None when it has no usable timestamp."""
    if len(header) > MAX_HEADER_LENGTH:
        return None
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key == "t" and timestamp is None:
            if not _TIMESTAMP.fullmatch(value):
                return None
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    return None if timestamp is None else (timestamp, signatures)


def _signed(payload: bytes, timestamp: int, secret: str) -> str:
    message = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> str | None:
    """None when any of `secrets` signed `payload` (the raw body) within `tolerance` of now, else why not."""
    if not header:
        return "missing Stripe-Signature header"
    parsed = parse_header(header)
    if parsed is None or not parsed[1]:
        return "malformed Stripe-Signature header"
    timestamp, signatures = parsed
    expected = [_signed(payload, timestamp, secret) for secret in secrets if secret.strip()]
    # compare_digest takes ASCII text only; anything else cannot be a hex digest anyway.
    candidates = [s for s in signatures if s.isascii()]
    if not any(hmac.compare_digest(e, s) for e in expected for s in candidates):
        return "signature does not match"
    age = (time.time() if now is None else now) - timestamp
    if age > tolerance:
        return "signature timestamp is too old (replayed or delayed request)"
    if age < -tolerance:
        return "signature timestamp is in the future (clock skew or forged request)"
    return None
