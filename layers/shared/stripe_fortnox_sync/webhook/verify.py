"""The Stripe-Signature check: which of the endpoint's secrets signed this body, and how recently."""

from __future__ import annotations

from collections.abc import Sequence

from stripe import SignatureVerificationError, WebhookSignature

SIGNATURE_TOLERANCE_SECONDS = 300


def verify_signature(payload: str, header: str | None, secrets: Sequence[str]) -> str | None:
    """None when any of `secrets` signed `payload` recently enough, else why not."""
    if not header:
        return "missing Stripe-Signature header"
    problem = "signature does not match"
    for secret in secrets:
        try:
            # verify_header checks the HMAC and the timestamp without building a StripeObject,
            # which is most of construct_event's cost.
            WebhookSignature.verify_header(payload, header, secret, SIGNATURE_TOLERANCE_SECONDS)
            return None
        except SignatureVerificationError as exc:
            text = str(exc)
            if "tolerance" in text:
                problem = "signature timestamp is too old (replayed or delayed request)"
            elif "extract" in text or "scheme" in text:
                problem = "malformed Stripe-Signature header"
    return problem
