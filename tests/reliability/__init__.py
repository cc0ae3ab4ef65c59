"""Reliability scenarios (issue #8): nothing lost, nothing duplicated, every bad input refused.

Each scenario in `scenarios.py` runs the local stack (the real handlers, moto, the Fortnox
simulator) and returns counted outcomes; `test_reliability.py` asserts them in CI and
`python -m tests.reliability.report [--soak]` tabulates them in docs/RELIABILITY.md.
"""
