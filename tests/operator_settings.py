"""The settings an operator chooses as stack parameters, by environment variable: the deployed sync
function gets them (tests/template) and so does the local stack's (tests/unit). A new operator
setting is one more name here."""

from __future__ import annotations

OPERATOR_VARIABLES = frozenset(
    {
        "CUSTOMER_MATCH_RULE",
        "ORGANISATION_NUMBER_METADATA_KEY",
        "VAT_NUMBER_METADATA_KEY",
        "SELLER_COUNTRY",
        "ENABLED_EVENT_TYPES",
        "CHECKOUT_MODES",
        "PAYMENT_FAILURE_COMMENTS",
        "BOOKKEEPING_ACCOUNTS",
        "INVOICE_ACCOUNTS",
        "INVOICE_CHECKOUT_PAYMENTS",
        "PAYMENT_INTENT_VAT_RATE",
        "PAYOUT_VOUCHER_SERIES",
        "STRIPE_FEE_VAT",
        "PAYOUT_ITEMISED_ROWS",
        "SALES_START_DATE",
        "BOOKING_MODE",
    }
)
