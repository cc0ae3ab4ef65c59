"""The repository's own files: nothing tracked is also ignored, and what the local stack and the
operator commands write is."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=60)


@pytest.fixture(autouse=True)
def _checkout() -> None:
    if shutil.which("git") is None or git("rev-parse", "--is-inside-work-tree").stdout.strip() != "true":
        pytest.skip("not a git checkout")


def test_no_tracked_file_is_ignored() -> None:
    assert git("ls-files", "--cached", "--ignored", "--exclude-standard").stdout == ""


@pytest.mark.parametrize("path", ["events/expected.json", "events/stripe/01-customer.created.json"])
def test_reviewed_files_are_not_ignored(path: str) -> None:
    assert git("check-ignore", "--no-index", "--quiet", path).returncode == 1


@pytest.mark.parametrize(
    "path",
    [".local-stack/outputs.json", ".local-stack/functions.log", ".stripe-fortnox-backfill-x.json"],
)
def test_local_state_is_ignored(path: str) -> None:
    assert git("check-ignore", "--no-index", "--quiet", path).returncode == 0
