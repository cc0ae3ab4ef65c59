"""The benchmarks, side by side in one run, as ratios; rewrites bench/RESULTS.md.

    make bench                      # everything (about 12 minutes: the throughput run is bound
                                    # by Fortnox's 25 requests per 5 s, as it should be)
    python -m bench.run --quick     # smaller counts, for a try-out; does not write RESULTS.md

This machine is shared and noisy, so every figure is a ratio to a baseline measured in the same
run, interleaved with it, and medians are reported. There are no timed assertions in the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import time

from .cold_start import bench_cold_start
from .common import ROOT, Result
from .cost import cost_result
from .latency import bench_latency
from .payouts import bench_payouts
from .per_event import aws_result, fortnox_result, measure_all
from .summary import bench_summary
from .tenants_faults import bench_tenants_faults
from .tenants_load import bench_tenants_load
from .throughput import bench_throughput
from .webhook import bench_webhook

RESULTS = ROOT / "bench" / "RESULTS.md"


def render(results: list[Result], command: str, seconds: float) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Reproduce with `{command}` (about {seconds / 60:.0f} minutes). Written by `bench/run.py`; "
        "every figure is a ratio to a baseline measured in the same run, or a count, because this "
        "machine is shared and noisy. There are no timed assertions in the test suite.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}.",
        "",
    ]
    for result in sorted(results, key=lambda r: r.name):
        lines += [f"## {result.name}", "", "| What | Measured | Target | |", "| --- | --- | --- | --- |"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in result.rows]
        lines += [""] + [f"- {note}" for note in result.notes] + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="small counts; prints, does not write RESULTS.md"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    quick = args.quick
    results = [bench_cold_start(5 if quick else 11)]
    webhook, webhook_us = bench_webhook(500 if quick else 2000, 3 if quick else 7)
    results.append(webhook)
    # The functions' EMF metrics and logs would drown the report; CloudWatch takes them in AWS.
    with (
        open(os.devnull, "w") as sink,
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        measured = measure_all()
        payouts = bench_payouts()
        summary = bench_summary(60 if quick else 500)
        throughput = bench_throughput(30 if quick else 1000)
        latency, _ = bench_latency(20 if quick else 200)
        # Issue 17: tenants each at twice their limit (a stretched window: see the module).
        tenants = bench_tenants_load(4 if quick else 20, 20 if quick else 60, 2 if quick else 10, 20.0, 5)
        faults = bench_tenants_faults(3 if quick else 5, 10 if quick else 40, 2.0, 4)
    results += [fortnox_result(measured), aws_result(measured), payouts, summary, throughput, latency]
    results += [tenants, faults]
    results.append(cost_result(measured, webhook_us))
    report = render(
        results, "python -m bench.run --quick" if quick else "make bench", time.monotonic() - started
    )
    print(report)
    if not quick:
        RESULTS.write_text(report + "\n", encoding="utf-8")
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
