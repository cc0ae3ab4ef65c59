"""One tenant's Fortnox trouble on a many-tenant stack (issue 17): tenant A's consent revoked, then
A's company answering 500s; the other tenants' webhook-to-Fortnox latency against a run without
the fault, interleaved in the same process."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from .common import Result, customer, event, local_stack, percentile
from .tenants_load import Run, Tenants, _watch, add_tenants


def _send(stack: Any, tenants: Tenants, run: Run, numbers: range, per_second: float) -> None:
    """Each tenant `per_second` customer.created events (`numbers`) through its own webhook URL."""
    from stripe_fortnox_cli.local.events import sign_payload

    start = time.monotonic()
    for i, n in enumerate(numbers):
        for tenant, path in tenants.paths.items():
            eid = f"evt_{tenant}_{n}"
            obj = customer(n, id=f"cus_{tenant}_{n:06d}", name=f"{tenant} kund {n}")
            text = json.dumps(event(eid, "customer.created", 1000 + n, obj))
            headers = {"Stripe-Signature": sign_payload(text, tenants.secrets[tenant])}
            run.sent[eid], run.tenant_of[eid] = time.monotonic(), tenant
            status, _ = stack.invoke_webhook(text.encode(), headers, path)
            assert status == 200, status
        time.sleep(max(0.0, start + (i + 1) / per_second - time.monotonic()))


def one_run(count: int, per_tenant: int, per_second: float, fault: bool, workers: int) -> Run:
    run = Run()
    with local_stack(workers, None, None, True, CUSTOMER_MATCH_RULE="none") as stack:
        tenants = add_tenants(stack, count)
        sim = stack.fortnox.simulator
        victim = tenants.companies["t00"]
        if fault:
            sim.revoke_tenant(victim)
        stop = threading.Event()
        watcher = threading.Thread(target=_watch, args=(stack, run, stop), daemon=True)
        watcher.start()
        half = per_tenant // 2
        _send(stack, tenants, run, range(half), per_second)
        if fault:
            # Consent given again, but the company's Fortnox is down.
            sim.revoke_tenant(victim, revoked=False)
            from stripe_fortnox_sync.adapters.aws.tenants import DynamoTenantRegistry
            from stripe_fortnox_sync.core.tenants import TenantStatus

            DynamoTenantRegistry(stack.outputs["StateTableName"]).set_status("t00", TenantStatus.ACTIVE)
            sim.fail_tenant(victim)
        _send(stack, tenants, run, range(half, per_tenant), per_second)
        others = [e for e, t in run.tenant_of.items() if t != "t00"]
        deadline = time.monotonic() + 120
        while any(e not in run.done for e in others) and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        watcher.join()
        run.dead = stack.queue_depths()["DeadLetterQueueUrl"]
    return run


def _others(run: Run) -> list[float]:
    return [
        (run.done[e] - run.sent[e]) * 1000 for e, t in run.tenant_of.items() if t != "t00" and e in run.done
    ]


def bench_tenants_faults(count: int, per_tenant: int, per_second: float, workers: int) -> Result:
    baseline = one_run(count, per_tenant, per_second, False, workers)
    faulty = one_run(count, per_tenant, per_second, True, workers)
    base_p99, fault_p99 = percentile(_others(baseline), 99), percentile(_others(faulty), 99)
    others_total = sum(1 for t in faulty.tenant_of.values() if t != "t00")
    others_failed = sum(
        1 for e, o in faulty.outcome.items() if o == "failed" and faulty.tenant_of.get(e) != "t00"
    )
    victim_applied = sum(
        1 for e, o in faulty.outcome.items() if o != "failed" and faulty.tenant_of.get(e) == "t00"
    )
    result = Result(f"9. Tenants: one company's revoked consent, then its outage, {count} tenants")
    result.row(
        "other tenants' p99 webhook to Fortnox, fault / no fault",
        f"{fault_p99:.0f} / {base_p99:.0f} ms = {fault_p99 / base_p99:.2f}",
        "<= 1.10",
        fault_p99 / base_p99 <= 1.10,
    )
    result.row(
        "other tenants' events applied, parked",
        f"{len(_others(faulty))} of {others_total}, {others_failed}",
        "all, 0",
        len(_others(faulty)) == others_total and others_failed == 0,
    )
    result.row("tenant A's events applied while it failed", str(victim_applied), "0", victim_applied == 0)
    result.notes.append(
        f"{count} tenants through their own webhook URLs, {per_second:g} events per second each, "
        f"{per_tenant} each; {workers} sync workers. In the fault run tenant A's consent is revoked "
        "for the first half (its events parked `auth`, the tenant `auth_broken`), then given back "
        "with A's company answering 500 to everything (its events retried). The run without the "
        "fault is the same in a fresh stack."
    )
    return result


if __name__ == "__main__":
    res = bench_tenants_faults(5, 40, 2.0, 4)
    print(res.name)
    for row in res.rows:
        print(" | ".join(row))
