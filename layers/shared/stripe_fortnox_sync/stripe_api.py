"""Reads the current customer from the Stripe API, so a late or partial event applies today's data."""

from __future__ import annotations

from typing import Any

from .customer_sync import PermanentEventError


class StripeUnavailable(Exception):
    """Stripe could not answer now; the event is retried."""


class StripeApiCustomers:
    """The `StripeCustomers` port over stripe-python, with a restricted key (Customers: read)."""

    def __init__(self, api_key: str, api_base: str = "") -> None:
        import stripe  # the sync path only: the webhook never needs the API client

        self._stripe = stripe
        base = {"api": api_base} if api_base else None
        self._client = stripe.StripeClient(api_key, base_addresses=base, max_network_retries=2)  # type: ignore[arg-type]

    def invoice_lines(self, invoice_id: str) -> list[dict[str, Any]]:
        """Every line of an invoice: an event carries only the first page."""
        stripe = self._stripe
        try:
            page = self._client.v1.invoices.line_items.list(invoice_id, params={"limit": 100})
            return [line.to_dict() for line in page.auto_paging_iter()]
        except (stripe.AuthenticationError, stripe.PermissionError) as exc:
            raise PermanentEventError("stripe_auth", f"Stripe API key refused: {exc.user_message}") from None
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise StripeUnavailable(f"Stripe API unavailable: {type(exc).__name__}") from exc

    def fetch_customer(self, customer_id: str) -> dict[str, Any] | None:
        """The customer with `tax_ids` expanded; `{"deleted": true, ...}` once deleted; None if unknown."""
        stripe = self._stripe
        try:
            customer = self._client.v1.customers.retrieve(customer_id, params={"expand": ["tax_ids"]})
        except stripe.InvalidRequestError as exc:
            if exc.code == "resource_missing":
                return None
            raise PermanentEventError(
                "stripe_request", f"Stripe refused the customer lookup: {exc.user_message}"
            ) from None
        except (stripe.AuthenticationError, stripe.PermissionError) as exc:
            # A human must fix the key (or its permissions): park, do not retry for days.
            raise PermanentEventError("stripe_auth", f"Stripe API key refused: {exc.user_message}") from None
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise StripeUnavailable(f"Stripe API unavailable: {type(exc).__name__}") from exc
        data: dict[str, Any] = customer.to_dict()
        return data
