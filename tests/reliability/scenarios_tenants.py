"""Scenario 8 (issue 17): randomized events over several tenants, each its own webhook URL, signing
secret and Fortnox company; every event also posted to another tenant's URL with its own signature.

Nothing may land in another tenant's company, and every wrong-URL post must be answered 400.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from stripe_fortnox_cli.local import LocalStack
from tests.builders import event, ingrid_integration
from tests.integration.stack import drain, local_stack, simulator
from tests.integration.test_tenants_pipeline import COMPANIES, SECRETS, add_tenants, names, post

from .harness import Counts
from .scenario_common import Size

# Events per size (by name: the sizes' own fields belong to the other scenarios).
EVENTS = {"quick": 300, "soak": 10_000}
# Customer ids are shared across tenants (each company's customer 7 is its own).
SHARED_CUSTOMERS = 40


def _send(stack: LocalStack, counts: Counts, urls: dict[str, str], events: int) -> dict[str, set[str]]:
    rng = random.Random(17)
    sent: dict[str, set[str]] = {t: set() for t in COMPANIES}
    wrong_posts = wrong_answers = 0
    for n in range(events):
        tenant = rng.choice(sorted(COMPANIES))
        obj = ingrid_integration(f"cus_R{rng.randrange(SHARED_CUSTOMERS)}", name=f"{tenant} {n}")
        evt = event(f"evt_r{n}", "customer.updated", 1000 + n, obj)
        if tenant == "gamma":  # a connected account, on the Connect endpoint
            status, _ = post(stack, "/webhook/connect", {**evt, "account": "acct_gamma"},
                             stack.connect_webhook_secrets[0])  # fmt: skip
        else:
            status, _ = post(stack, urls[tenant], evt, SECRETS[tenant])
            other = rng.choice([t for t in urls if t != tenant] + ["default"])
            other_url = urls.get(other, "/webhook")
            wrong_answers += post(stack, other_url, evt, SECRETS[tenant])[0] == 400
            wrong_posts += 1
        counts.check(status == 200, f"evt_r{n} to {tenant}: {status}")
        sent[tenant].add(f"{tenant} {n}")
        if n % 50 == 49:
            drain(stack, rounds=40)  # keep moto's queue short, as a steady stream would
    counts.details.update(wrong_url_posts=wrong_posts, wrong_url_400=wrong_answers)
    counts.check(wrong_answers == wrong_posts > 0, f"{wrong_answers} of {wrong_posts} wrong-URL posts: 400")
    counts.deliveries = events + wrong_posts
    return sent


def tenant_isolation(size: Size, workdir: Path) -> Counts:
    """Randomized customer events over three tenants (two on their own URLs, one Connect account,
    customer ids shared), each also posted to another tenant's or the default URL: none may reach
    another tenant's Fortnox company, every wrong-URL post answered 400."""
    events = EVENTS.get(size.name, EVENTS["quick"])
    counts = Counts("8. Tenants", f"{events:,} randomized events over 3 tenants, with wrong-URL posts")
    started = time.monotonic()
    fast = {"FORTNOX_MAX_REQUESTS": "100000"}
    with local_stack(
        workdir, visibility_timeout=1, extra_env=fast, simulator_options={"max_requests": 100000}
    ) as stack:
        tenants = add_tenants(stack)
        urls = {t: f"/webhook/t/{tenants[t].webhook_slug}" for t in SECRETS}
        sent = _send(stack, counts, urls, events)
        drain(stack, rounds=400)
        foreign = 0
        for tenant, company in COMPANIES.items():
            landed = names(stack, company)
            foreign += sum(1 for name in landed if not name.startswith(f"{tenant} "))
            counts.check(bool(landed) and landed <= sent[tenant], f"{tenant}: {len(landed)} customers")
        counts.check(foreign == 0, f"{foreign} customers in another tenant's company")
        counts.details["written_to_another_company"] = foreign
        counts.dlq_entries = len(stack.dead_letters())
        counts.check(counts.dlq_entries == 0, f"{counts.dlq_entries} parked")
        stats = simulator(stack).stats()
        counts.fortnox_calls, counts.http_429 = int(stats["api_requests"]), int(stats["rate_limited"])
        counts.processed = stack.event_source.deliveries
        counts.retries = stack.event_source.redeliveries
    counts.events_sent = events
    counts.stripe_customers = SHARED_CUSTOMERS * len(COMPANIES)
    counts.seconds = round(time.monotonic() - started, 1)
    return counts
