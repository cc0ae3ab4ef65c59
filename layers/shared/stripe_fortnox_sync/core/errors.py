"""Every exception type the layer raises, in one place, so that no module imports another only for
an error class. The sync service sorts them: transient ones retry, permanent ones park the event."""

from __future__ import annotations

# Statuses worth trying again later: the request may succeed unchanged.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# Fortnox error codes that mean the account, not the request, is wrong: a human must act.
LICENCE_CODES = frozenset({2001103, 2001101, 2000310, 2000311})


class ConfigError(ValueError):
    """An environment value is missing or malformed."""


class PermanentEventError(Exception):
    """The event can never be applied as it is; park it with this reason instead of retrying."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class WaitingForInvoice(Exception):
    """A refund arrived before the Fortnox invoice of its payment: SQS delivers it again later, and
    on the last receive it is parked with `reason`."""

    reason = "waiting_for_invoice"


class UnbookedCharge(WaitingForInvoice):
    """A payout holds a charge whose sale is not in Fortnox (yet): the payout waits for it."""

    reason = "unbooked_charge"


class StripeUnavailable(Exception):
    """Stripe could not answer now; the event is retried."""


class ConflictError(Exception):
    """A conditional write lost to a concurrent writer; the caller should retry the whole step."""


class RateLimitTimeout(Exception):
    """No Fortnox request slot came free within the limiter's wait budget."""


class InvoiceMappingError(ValueError):
    """The Stripe object cannot become a correct Fortnox invoice: a permanent error, not retried."""


class FortnoxError(Exception):
    """Any failed Fortnox call, with what Fortnox said about it."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        method: str = "",
        path: str = "",
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.method = method
        self.path = path
        # The request may have been applied even though it failed (timeout, 5xx on a write):
        # retrying blindly could create a second customer.
        self.ambiguous = ambiguous

    @property
    def transient(self) -> bool:
        return self.status is None or self.status in TRANSIENT_STATUSES

    @property
    def reason(self) -> str:
        """A short, stable label for metrics and DLQ attributes."""
        if self.status is None:
            return "network"
        if self.status == 429:
            return "rate_limited"
        if self.status == 401:
            return "unauthorized"
        if self.status == 403 or self.code in LICENCE_CODES:
            return "forbidden"
        if self.status == 404:
            return "not_found"
        if self.status >= 500:
            return "server_error"
        return "validation"

    def __str__(self) -> str:
        where = f"{self.method} {self.path} " if self.method else ""
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        code = f", code {self.code}" if self.code is not None else ""
        return f"Fortnox {where}failed ({status}{code}): {self.message}"


class FortnoxAuthError(FortnoxError):
    """The token endpoint refused us: wrong credentials or a broken refresh-token chain."""

    @property
    def transient(self) -> bool:
        return self.status is None or (self.status or 0) >= 500

    @property
    def reason(self) -> str:
        return "auth"
