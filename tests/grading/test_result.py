"""How a check's result (grading/result.py) reads: HTML in a notebook, plain text in a terminal."""

from __future__ import annotations

from autograder.grading.result import failed, passed

WRONG = failed(
    "send-keyed",
    "a record has the wrong key",
    "key 'alice'",
    "key <None>",
    "Which argument sets the key? Pass `key=` to send(), then run the cell again.",
)


def test_a_failure_shows_expected_found_and_hint_as_text():
    text = str(WRONG)
    assert text.splitlines()[0] == "[FAIL] send-keyed: a record has the wrong key"
    assert "expected: key 'alice'" in text and "found:    key <None>" in text
    assert "hint:     Which argument" in text


def test_the_html_escapes_what_the_broker_held_and_shows_code():
    page = WRONG._repr_html_()
    assert "key &lt;None&gt;" in page and "<None>" not in page
    assert "<code>key=</code>" in page


def test_a_pass_shows_no_expected_or_hint():
    page = passed("create-topic", "all good")._repr_html_()
    assert "passed" in page and "expected" not in page and "hint" not in page
