"""The one reader of inbound values (``portal.fields``): what it refuses, with which code, and
that what it accepts comes back unchanged but for trimming (SECURITY.md, input validation;
ASVS v5.0.0-1.2, 2.2.1)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal import fields
from portal.errors import ValidationFailed

BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
CONTROLS = [chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))]
SURROGATES = [chr(c) for c in (0xD800, 0xDBFF, 0xDC00, 0xDFFF)]
FORBIDDEN = [*CONTROLS, *BIDI, *SURROGATES, "\ufffe", "\uffff"]

# What people type, names and decisions included: any letter, mark, number, punctuation,
# symbol or space, rare CJK (𪚥, Extension B and beyond) and private-use code points.
allowed_char = st.characters(blacklist_categories=("Cc", "Cs"),
                             blacklist_characters="".join(FORBIDDEN))
solid_char = allowed_char.filter(lambda c: not c.isspace())
allowed_text = st.builds(lambda a, middle, b: a + middle + b, solid_char,
                         st.text(allowed_char, max_size=40), solid_char)


@given(allowed_text)
def test_accepted_text_comes_back_unchanged(value: str) -> None:
    assert fields.text(value, limit=len(value)) == value
    assert fields.text(f"  {value}\u3000", limit=len(value)) == value  # trimmed, full-width space too


@given(allowed_text, st.sampled_from(FORBIDDEN), st.integers(min_value=0))
def test_any_forbidden_character_inside_a_text_is_refused(value: str, bad: str, where: int) -> None:
    at = 1 + where % len(value)  # after the first character: trimming cannot remove it
    tainted = value[:at] + bad + value[at:] + "字"
    multiline = bad not in "\n\r\t"  # line breaks and tab: refused in a single-line text
    with pytest.raises(fields.FieldError, match="invalid_character"):
        fields.text(tainted, limit=1000, multiline=multiline)


def test_the_three_characters_the_case_api_used_to_store_are_refused_everywhere() -> None:
    # NUL (PostgreSQL cannot store it), BEL, RIGHT-TO-LEFT OVERRIDE (turns "exe.pdf" around)
    for bad in ("\x00", "\x07", "\u202e"):
        for multiline in (False, True):
            with pytest.raises(fields.FieldError, match="invalid_character"):
                fields.text(f"罚款{bad}五千元", limit=100, multiline=multiline)


def test_line_breaks_and_tabs_only_where_the_text_spans_lines() -> None:
    typed = "第一行\r\n第二行\r第三行\n\t缩进"
    assert fields.text(typed, limit=100, multiline=True) == "第一行\n第二行\n第三行\n\t缩进"
    for single in ("第一行\n第二行", "名称\t后缀"):
        with pytest.raises(fields.FieldError, match="invalid_character"):
            fields.text(single, limit=100)


@pytest.mark.parametrize(("value", "code"), [
    (None, "required"), ("", "required"), (" \n\u3000 ", "required"), (5, "invalid_type"),
    (True, "invalid_type"), (["张三"], "invalid_type"), ("字" * 11, "too_long"),
])
def test_text_refusals_and_their_codes(value: object, code: str) -> None:
    with pytest.raises(fields.FieldError) as refused:
        fields.text(value, limit=10)
    assert refused.value.code == code


def test_rare_characters_and_private_use_are_kept() -> None:
    for name in ("张𪚥", "王\U00031350", "李\ue000", "Zoë", "阿卜杜勒·阿齐兹"):
        assert fields.text(name, limit=20) == name


EARLY, LATE = date(2020, 1, 1), date(2030, 12, 31)


@given(st.dates(min_value=EARLY, max_value=LATE))
def test_a_date_within_its_bounds_reads_back(day: date) -> None:
    assert fields.day(day.isoformat(), earliest=EARLY, latest=LATE) == day


@given(st.dates().filter(lambda d: not EARLY <= d <= LATE))
def test_a_date_outside_its_bounds_is_out_of_range(day: date) -> None:
    with pytest.raises(fields.FieldError) as refused:
        fields.day(day.isoformat(), earliest=EARLY, latest=LATE)
    assert refused.value.code in ("out_of_range", "invalid_date")  # years < 1000 are not ISO text
    assert day.year < 1000 or refused.value.code == "out_of_range"


@pytest.mark.parametrize("value", ["20260101", "2026-W01-1", "2026-1-1", "2026-02-30", "２０２６-01-01",
                                   "2026-01-01T00:00", "2026/01/01"])
def test_only_calendar_dates_in_one_format(value: str) -> None:
    with pytest.raises(fields.FieldError, match="invalid_date"):
        fields.day(value, earliest=date.min, latest=date.max)


def test_a_date_after_today_can_say_in_future() -> None:
    today = date(2026, 11, 20)
    with pytest.raises(fields.FieldError, match="in_future"):
        fields.day("2026-11-21", earliest=EARLY, latest=today, after_latest="in_future")
    assert fields.day("2026-11-20", earliest=EARLY, latest=today, after_latest="in_future") == today


def test_an_instant_needs_its_offset_and_its_bounds() -> None:
    now = datetime(2026, 11, 20, 1, 2, 3, tzinfo=UTC)

    def read(value: object) -> datetime:
        return fields.instant(value, earliest=fields.EARLIEST_INSTANT, latest=now, after_latest="in_future")

    assert read("2026-11-20T09:02:03+08:00") == now
    for value, code in (("2026-11-20T09:02:03", "invalid_instant"), ("yesterday", "invalid_instant"),
                        ("1999-12-31T23:59:59Z", "out_of_range"), ("2026-11-20T01:02:04Z", "in_future"),
                        (1763600000, "invalid_type")):
        with pytest.raises(fields.FieldError) as refused:
            read(value)
        assert refused.value.code == code, value


@given(st.integers(min_value=1, max_value=fields.MAX_FEN))
def test_an_amount_is_whole_fen(amount: int) -> None:
    assert fields.fen(amount, minimum=1) == amount


@pytest.mark.parametrize(("value", "code"), [
    (1.5, "invalid_type"), (100.0, "invalid_type"), ("100", "invalid_type"), (True, "invalid_type"),
    (0, "out_of_range"), (-1, "out_of_range"), (fields.MAX_FEN + 1, "out_of_range"), (None, "required"),
])
def test_amount_refusals(value: object, code: str) -> None:
    with pytest.raises(fields.FieldError) as refused:
        fields.fen(value, minimum=1)
    assert refused.value.code == code


def test_a_party_is_named_by_a_checked_identifier() -> None:
    assert fields.party_key({"id_number": " 35010219850312123x "}) == "35010219850312123X"
    assert fields.party_key({"credit_code": "91350100ma2xy12346"}) == "91350100MA2XY12346"
    for value, code in (({"id_number": "350102198503121230"}, "invalid_id_number"),
                        ({"credit_code": "91350100MA2XY12340"}, "invalid_credit_code"),
                        ({"name": "张三"}, "party_required"), ("35010219850312123X", "party_required")):
        with pytest.raises(fields.FieldError) as refused:
            fields.party_key(value)
        assert refused.value.code == code


def test_a_reader_names_every_bad_member_by_its_path_at_once() -> None:
    body = {"title": "通知\u202e", "amount_fen": "5", "served_on": "2026-13-01", "extra": 1,
            "party": {"kind": "robot", "name": ""}, "choice": "b"}
    read = fields.Reader(body, allowed=("title", "amount_fen", "served_on", "party", "choice", "note"))
    assert read.text("title", limit=20) is None
    assert read.fen("amount_fen") is None
    assert read.day("served_on", earliest=EARLY, latest=LATE) is None
    assert read.text("note", limit=20, required=False) is None
    assert read.choice("choice", ("a", "b")) == "b"
    party = read.object("party", allowed=("kind", "name"))
    assert party is not None
    assert party.choice("kind", ("person", "organisation")) is None
    assert party.text("name", limit=20) is None
    with pytest.raises(ValidationFailed) as failed:
        read.raise_errors()
    assert failed.value.errors == {
        "amount_fen": "invalid_type", "extra": "unknown_field", "party.kind": "invalid_choice",
        "party.name": "required", "served_on": "invalid_date", "title": "invalid_character",
    }


def test_a_body_that_is_not_an_object() -> None:
    for body, code in (([1], "invalid_type"), ("x", "invalid_type"), (None, "required")):
        read = fields.Reader(body)
        assert read.errors == {"body": code}
    assert fields.Reader({}).ok and fields.Reader({}).text("x", limit=1, required=False) is None
    assert fields.Reader({"x": [1, 2, 3]}).items("x", most=2) == []


def test_a_list_too_long_is_too_many() -> None:
    read = fields.Reader({"x": list(range(3))})
    assert read.items("x", most=2) == [] and read.errors == {"x": "too_many"}
    assert fields.Reader({"x": [1, 2]}).items("x", most=2) == [1, 2]
