"""Text for Fortnox's fields: what is cleaned out of Stripe's text, and which e-mail addresses pass.

The property that cleaned text stays clean runs with the customer generators in test_customer_mapping.py.
"""

from __future__ import annotations

import pytest

from stripe_fortnox_sync.mapping.text import clean_text, first_description, is_valid_email


@pytest.mark.parametrize(
    ("value", "max_length", "expected", "reasons"),
    [
        pytest.param(None, 10, None, [], id="none"),
        pytest.param("", 10, None, [], id="empty"),
        pytest.param("  padded  ", 1024, "padded", [], id="stripped without a warning"),
        pytest.param("123 45", 10, "123 45", [], id="inner space kept"),
        pytest.param("abcdefghijkl", 10, "abcdefghij", ["cut to 10 characters"], id="cut"),
        pytest.param("abcd efghij", 5, "abcd", ["cut to 5 characters"], id="cut leaves no trailing space"),
        pytest.param("a\nb", 10, "a b", ["replaced line breaks or tabs with spaces"], id="newline"),
        pytest.param("a \r\n b", 10, "a b", ["replaced line breaks or tabs with spaces"], id="crlf"),
        pytest.param("a\tb", 10, "a b", ["replaced line breaks or tabs with spaces"], id="tab"),
        pytest.param("a\x00b", 10, "ab", ["removed control or invisible format characters"], id="nul"),
        pytest.param(
            "a\u200bb", 10, "ab", ["removed control or invisible format characters"], id="zero width"
        ),
        pytest.param("\ufeffBOM", 10, "BOM", ["removed control or invisible format characters"], id="bom"),
        pytest.param(
            "Hej 👋 där",
            20,
            "Hej där",
            ["removed characters outside the Basic Multilingual Plane (emoji and the like)"],
            id="emoji between words",
        ),
        pytest.param(
            "\U0001d54f Corp",
            20,
            "Corp",
            ["removed characters outside the Basic Multilingual Plane (emoji and the like)"],
            id="math letter",
        ),
        pytest.param(
            "👨\u200d👩\u200d👧",
            20,
            None,
            [
                "removed control or invisible format characters",
                "removed characters outside the Basic Multilingual Plane (emoji and the like)",
                "dropped: nothing left after cleaning",
            ],
            id="emoji sequence only",
        ),
        pytest.param("x\ud83dy", 10, "xy", ["removed invalid unpaired surrogates"], id="lone surrogate"),
        pytest.param("☕ ❤️ ©", 10, "☕ ❤️ ©", [], id="BMP symbols kept"),
        pytest.param("Åsa Öberg-Ärlig", 30, "Åsa Öberg-Ärlig", [], id="swedish letters"),
        pytest.param(12345, 10, "12345", [], id="number"),
        pytest.param(True, 10, None, ["dropped: not text"], id="bool"),
        pytest.param({"line1": "x"}, 10, None, ["dropped: not text"], id="object"),
    ],
)
def test_clean_text(value: object, max_length: int, expected: str | None, reasons: list[str]) -> None:
    assert clean_text(value, max_length) == (expected, reasons)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("anna@example.se", True),
        ("Anna.Svensson+stripe@sub.example.co.uk", True),
        ("o'brien@example.ie", True),
        ("x@a-b.io", True),
        ("", False),
        ("plainaddress", False),
        ("anna@example", False),
        ("anna@@example.se", False),
        ("anna @example.se", False),
        ("anna@exa mple.se", False),
        (".anna@example.se", False),
        ("anna.@example.se", False),
        ("an..na@example.se", False),
        ("anna@-example.se", False),
        ("anna@example.se.", False),
        ("anna@example.s", False),
        ("a@b.se, c@d.se", False),
        ("åsa@exempel.se", False),
        ("anna@example.se\n", False),
        ("a" * 65 + "@example.se", False),
        ("a@" + "b" * 60 + "." + ("c" * 60 + ".") * 16 + "se", False),
    ],
)
def test_is_valid_email(value: str, valid: bool) -> None:
    assert is_valid_email(value) is valid


def test_first_description_takes_the_first_candidate_with_text() -> None:
    assert first_description(None, " \n ", "Pro  plan", fallback="Stripe") == "Pro  plan"
    assert first_description("🚀", fallback="Stripe line 1") == "Stripe line 1"
    assert len(first_description("x" * 300, fallback="")) == 255
