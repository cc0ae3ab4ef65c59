"""What the simulator answers: a response, Fortnox's error envelope and the codes it carries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

__all__ = ["ERROR_CODES", "ApiError", "Response", "error_response"]

# Error codes in the envelope {"ErrorInformation": {"error": 1, "message": ..., "code": N}}.
# The first group are codes Fortnox itself uses (FACTS.md; 2001304 from Fortnox's list of errors,
# developer.fortnox.se/general/errors). The 29900xx, 29901xx and 29902xx groups are invented here:
# Fortnox does not document a code for these cases, and a client must not depend on these numbers
# when talking to the real API, only on the HTTP status.
ERROR_CODES: Final[Mapping[str, int]] = {
    "invalid_characters": 2000359,  # control character or character outside the Unicode BMP
    "customer_number_used": 2000637,  # also answered for an empty or missing Name (reported)
    "invalid_content_type": 1000031,  # a POST/PUT whose Content-Type is not application/json
    "unauthorized": 2000311,  # missing, unknown or expired bearer token (HTTP 401)
    "account_not_found": 2001304,  # "Kunde inte hitta konto": not in the chart of accounts
    "unknown_field": 2990001,
    "wrong_type": 2990002,  # e.g. a number where the spec says string
    "too_long": 2990003,
    "too_short": 2990004,
    "invalid_enum": 2990005,  # Type, VATType, DefaultDeliveryTypes.*
    "invalid_email": 2990006,
    "invalid_country_code": 2990007,
    "invalid_currency": 2990008,  # not enabled in this (simulated) Fortnox company
    "invalid_body": 2990009,  # not JSON, or not wrapped as {"Customer": {...}}
    "invalid_parameter": 2990010,  # limit, page, filter, lastmodified, sortby, sortorder
    "multiple_filters": 2990011,  # more than one search filter in a list request
    "invalid_customer_number": 2990012,  # characters other than A-Z a-z 0-9 + - / _
    "customer_number_immutable": 2990013,  # PUT body names another CustomerNumber than the path
    "not_found": 2990014,  # HTTP 404: no such customer
    "unknown_resource": 2990015,  # HTTP 404: a path the simulator does not implement
    "method_not_allowed": 2990016,  # HTTP 405
    "rate_limited": 2990017,  # HTTP 429
    "internal_error": 2990018,  # HTTP 500, injected by error_rate (or a simulator bug)
    "gateway_timeout": 2990019,  # HTTP 504 after an injected hang that did not write
    # Invoices and invoice payments.
    "invoice_not_found": 2990101,  # HTTP 404: no such invoice
    "payment_not_found": 2990102,  # HTTP 404: no such invoice payment
    "customer_not_found": 2990103,  # CustomerNumber names no customer
    "financial_year_closed": 2990105,  # a date in a closed (locked) financial year
    "invoice_booked": 2990106,  # a booked invoice cannot be changed or cancelled: credit it
    "invoice_cancelled": 2990107,
    "already_credited": 2990108,  # PUT /credit works once per invoice (reported)
    "already_booked": 2990109,
    "invalid_date": 2990110,  # not YYYY-MM-DD, or a due date before the invoice date
    "payment_before_invoice": 2990111,  # PaymentDate before the invoice's InvoiceDate
    "invalid_amount": 2990112,  # missing, zero, wrong sign, or more than the balance
    "invalid_vat": 2990113,  # a VAT rate Fortnox does not have
    "invalid_credit_reference": 2990114,
    "unsupported": 2990115,  # a feature the simulator does not model (articles, ROT/RUT, freight)
    "invoice_not_booked": 2990116,  # a payment on an unbooked invoice
    "credit_exceeds_invoice": 2990117,  # credits would exceed what the invoice is worth
    # Bookkeeping: financial years, the locked period, voucher series, vouchers, files. The messages
    # integrators report from Fortnox are in the comments (Swedish); the codes are not documented.
    "financial_year_not_found": 2990201,  # no financial year covers the date, or no such Id
    "period_locked": 2990202,  # a date on or before the locked period's EndDate
    "voucher_series_not_found": 2990203,  # 'Verifikationsserien "F" finns inte' (reported)
    "voucher_series_not_manual": 2990204,  # "Verifikationsserien är inte manuell" (reported)
    "account_inactive": 2990205,  # 'Konto "xxxx" är inte aktivt' (reported)
    "voucher_unbalanced": 2990206,  # debits differ from credits
    "invalid_voucher_row": 2990207,  # Debit and Credit: one of them, not negative, two decimals
    "voucher_not_found": 2990208,  # HTTP 404
    "required_field": 2990209,  # a field the spec requires is missing or empty
    "file_not_found": 2990210,  # a FileId that is not in the inbox (HTTP 404 when in the path)
    "file_already_connected": 2990211,  # a file is connected to one voucher
}


class Response(NamedTuple):
    status: int
    body: Any = None  # JSON-serialisable, or None for no body


class ApiError(Exception):
    """Turned into Fortnox's error envelope by the dispatcher; code_name is a key of ERROR_CODES."""

    def __init__(self, status: int, code_name: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        # Looked up now, so that a misspelt name fails where it is raised, not in the envelope.
        self.code = ERROR_CODES[code_name]
        self.message = message

    def response(self) -> Response:
        return Response(self.status, _envelope(self.code, self.message))


def _bad(code_name: str, message: str, status: int = 400) -> ApiError:
    """The package's one way to refuse a request; tests read the code names from its calls."""
    return ApiError(status, code_name, message)


def error_response(status: int, code_name: str, message: str) -> Response:
    return ApiError(status, code_name, message).response()


def _envelope(code: int, message: str) -> dict[str, Any]:
    return {"ErrorInformation": {"error": 1, "message": message, "code": code}}
