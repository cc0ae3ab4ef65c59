"""The CLI's words: complete help with the exit codes, a version, plurals and human durations."""

from __future__ import annotations

import argparse
import io
from importlib.metadata import version

import pytest

from stripe_fortnox_cli.cli import build_parser, main
from stripe_fortnox_cli.exits import EXIT_TEXT
from stripe_fortnox_cli.ops.progress import Progress, format_duration, plural
from stripe_fortnox_cli.ops.status import _when


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_help_has_the_whole_description_and_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--help"])
    out = capsys.readouterr().out
    assert stopped.value.code == 0
    assert "`stripe-fortnox COMMAND --help` says more." in out
    commands = "stack (backfill, redrive, status, reconcile, ledger, book-day) and its tenants"
    assert f"operate a deployed or local\n{commands}" in out
    for code, text in EXIT_TEXT.items():
        assert f"  {code}  {text.split()[0]}" in out


def test_version_comes_from_the_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"stripe-fortnox {version('stripe-fortnox-sync')}"


def test_every_command_and_option_has_help_and_every_command_its_exit_codes() -> None:
    parser = build_parser()
    commands = _subparsers(parser)
    assert set(commands) >= {"dev", "demo", "sign", "sqs-event", "fortnox-sim", "backfill", "status"}
    (choices,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    helped = {action.dest for action in choices._choices_actions if action.help}
    assert helped == set(commands)
    for name, command in commands.items():
        assert command.epilog and command.epilog.startswith("exit codes:"), name
        assert "  0  done" in command.epilog and "  2  " in command.epilog, name
        for action in command._actions:
            assert action.help and action.help != argparse.SUPPRESS, f"{name} {action.option_strings}"


def test_dev_and_demo_choose_their_state_directory() -> None:
    parser = build_parser()
    assert parser.parse_args(["dev"]).state_dir == ".local-stack"
    assert parser.parse_args(["dev", "--state-dir", "/tmp/x"]).state_dir == "/tmp/x"
    assert parser.parse_args(["demo"]).state_dir is None  # a temporary one of its own


@pytest.mark.parametrize(
    ("count", "word", "words", "text"),
    [
        (0, "event", None, "0 events"),
        (1, "event", None, "1 event"),
        (2, "event", None, "2 events"),
        (1_000, "customer", None, "1,000 customers"),
        (1, "entry", "entries", "1 entry"),
        (3, "entry", "entries", "3 entries"),
    ],
)
def test_plurals(count: int, word: str, words: str | None, text: str) -> None:
    assert plural(count, word, words) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "0 s"),
        (59, "59 s"),
        (60, "1 min"),
        (328, "5 min 28 s"),
        (2 * 3600 + 5 * 60, "2 h 5 min"),
        (3 * 3600, "3 h"),
        (47 * 3600 + 59 * 60, "47 h 59 min"),
        (48 * 3600, "2 days"),
        (8909 * 3600 + 56 * 60, "371 days"),
    ],
)
def test_durations_read_as_an_operator_says_them(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_a_year_old_event_is_days_ago_not_hours() -> None:
    now = 1_800_000_000.0
    assert _when(now - (8909 * 3600 + 56 * 60), now).endswith("(371 days ago)")
    assert _when(now - (2 * 3600 + 5 * 60), now).endswith("(2 h 5 min ago)")


def test_progress_without_a_summary_adds_no_line_to_a_log() -> None:
    """The caller prints the action's summary on stdout: in a log it appears once, not twice."""
    now = [0.0]
    log = io.StringIO()
    progress = Progress("Queueing events", total=30, stream=log, clock=lambda: now[0])
    now[0] = 11.0
    progress.update(20)
    progress.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Queueing events [")
