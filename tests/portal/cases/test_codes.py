"""Case codes are printable, unguessable and catch typing mistakes (FJ art. 29; SECURITY.md
v5.0.0-11.5.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications.rendering import personal_data_in
from portal.cases import codes as case_codes

codes = st.builds(lambda _: case_codes.new_code(), st.integers())


@given(codes, st.integers(min_value=0, max_value=12), st.sampled_from(case_codes.ALPHABET))
def test_one_mistyped_character_is_always_rejected(code: str, position: int, replacement: str) -> None:
    typed = code[:position] + replacement + code[position + 1:]
    if typed != code:
        assert case_codes.normalise(typed) is None


@given(codes, st.integers(min_value=0, max_value=11))
def test_swapping_neighbours_is_caught_for_different_characters(code: str, position: int) -> None:
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2:]
    if swapped != code and {code[position], code[position + 1]} != {"0", "Z"}:
        # Luhn mod 32 misses only the swap of the pair whose values differ by N-1 (0 and Z).
        assert case_codes.normalise(swapped) is None


@given(codes)
def test_printed_form_and_forgiving_input_round_trip(code: str) -> None:
    printed = case_codes.display(code)
    assert case_codes.normalise(printed) == code
    assert case_codes.normalise(" " + printed.lower().replace("0", "o").replace("1", "l") + " ") == code


def test_codes_are_random_not_sequential() -> None:
    generated = {case_codes.new_code() for _ in range(2000)}
    assert len(generated) == 2000
    assert all(len(code) == case_codes.CODE_LENGTH for code in generated)


def test_qr_token_is_128_bits_and_bound_to_the_code_and_secret() -> None:
    secret = "k" * 40
    code = case_codes.new_code()
    token = case_codes.qr_token(secret, code)
    assert len(token) == 22  # 16 bytes in base64url
    assert case_codes.token_matches(secret, code, token)
    assert not case_codes.token_matches(secret, case_codes.new_code(), token)
    assert not case_codes.token_matches("j" * 40, code, token)


def test_no_code_is_issued_that_the_notice_guard_would_read_as_an_amount(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a first draw of 7CNY…, "CNY" between digits, reads as an amount to the e-mail guard: every
    # notice of that case (the arrival notice of each delivery with it) would be refused
    draws = iter("7CNY23456789" + "7KQ2M9XD4RTB")
    monkeypatch.setattr(case_codes.secrets, "choice", lambda _alphabet: next(draws))
    code = case_codes.new_code()
    assert code.startswith("7KQ2M9XD4RTB") and case_codes.normalise(code) == code
    assert personal_data_in(f"案件 {case_codes.display(code)}") == frozenset()
    assert personal_data_in("案件 7CNY-2345-6789") == {"amount"}  # what was drawn again
