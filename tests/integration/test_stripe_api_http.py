"""StripeApi over HTTP: what stripe-python really raises for Stripe's answers (and a refused
connection) is what the sorting in tests/unit/test_stripe_api.py expects.

Stripe is `stripe_fortnox_cli.local.stripe_fake.FakeStripeApi`, on a local port.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from stripe_fortnox_cli.local.stripe_fake import FakeStripeApi
from stripe_fortnox_sync.adapters.stripe_api import StripeApi
from stripe_fortnox_sync.core.errors import PermanentEventError, StripeUnavailable
from tests.payout_builders import charge_txn, dispute, payout, txn
from tests.support import free_port


@pytest.fixture
def api() -> Iterator[FakeStripeApi]:
    with FakeStripeApi() as running:
        yield running


def test_over_http_unknown_objects_are_none_and_empty(api: FakeStripeApi) -> None:
    reader = StripeApi(api.api_key, api.base_url)
    assert reader.fetch_customer("cus_gone") is None
    assert reader.refund("re_gone") is None
    assert reader.checkout_line_items("cs_gone") == []


def test_over_http_a_refused_key_is_parked(api: FakeStripeApi) -> None:
    with pytest.raises(PermanentEventError) as parked:
        StripeApi("rk_test_revoked", api.base_url).refund("re_1")
    assert parked.value.reason == "stripe_auth"


def test_over_http_an_unreachable_stripe_is_retried_later(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe._http_client.HTTPClient, "_sleep_time_seconds", lambda self, n, *a: 0.0)
    api = StripeApi("rk_test_x", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    with pytest.raises(StripeUnavailable, match="APIConnectionError"):
        api.payment_intent("pi_1")


def test_over_http_the_payment_lookups_read_stripe_s_lists(api: FakeStripeApi) -> None:
    api.add_invoice_payment("in_1", "pi_1")
    api.add_checkout_session({"id": "cs_1", "object": "checkout.session", "payment_intent": "pi_1"}, [])
    reader = StripeApi(api.api_key, api.base_url)
    assert reader.invoice_of("pi_1") == "in_1"
    assert reader.payment_intent_of_invoice("in_1") == "pi_1"
    assert reader.checkout_session_of("pi_1") == "cs_1"
    (by_intent, by_invoice, session) = api.calls()
    assert by_intent.query["payment[payment_intent]"] == ["pi_1"] and by_invoice.query["invoice"] == ["in_1"]
    assert (session.path, session.query) == (
        "/v1/checkout/sessions",
        {"payment_intent": ["pi_1"], "limit": ["1"]},
    )


def test_over_http_a_payout_its_transactions_and_a_dispute(api: FakeStripeApi) -> None:
    txns = [charge_txn(f"ch_{i}", 1000 + i, 30) for i in range(120)]  # more than one page of 100
    api.add_payout(payout("po_h", sum(t["net"] for t in txns)), txns)
    api.add_balance_transaction(txn("partial_capture_reversal", -200, source="ch_p"))
    api.add_dispute(dispute("dp_h"))
    reader = StripeApi(api.api_key, api.base_url)
    assert reader.payout("po_h") is not None and reader.payout("po_gone") is None
    listed = reader.payout_transactions("po_h")
    assert [t["id"] for t in listed] == [t["id"] for t in txns]
    assert listed[0]["source"]["payment_intent"] == "pi_0"  # expanded as stored
    pages = api.calls("/v1/balance_transactions")
    assert len(pages) == 2 and pages[0].query["payout"] == ["po_h"] and pages[0].query["limit"] == ["100"]
    assert pages[0].query["expand[0]"] == ["data.source"]
    assert [t["reporting_category"] for t in reader.balance_transactions_of("ch_p")] == [
        "partial_capture_reversal"
    ]
    assert (reader.dispute("dp_h") or {}).get("charge") == "ch_1" and reader.dispute("dp_gone") is None
