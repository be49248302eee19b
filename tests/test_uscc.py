"""GB 32100 unified social credit codes."""

from __future__ import annotations

import pytest
from stdnum.cn import uscc as stdnum_uscc

from pipeline.normalise.uscc import CHARSET, uscc_check_char, uscc_valid

FIRST17 = "91110108MA01C2X3K"


def make_code(first17: str = FIRST17) -> str:
    return first17 + uscc_check_char(first17)


def test_constructed_code_is_valid_and_agrees_with_stdnum() -> None:
    code = make_code()
    assert uscc_valid(code)
    assert stdnum_uscc.is_valid(code)


@pytest.mark.parametrize(
    "first17", ["91110000100000000", "12110000400000000", "92110105MA00AAAAA", "5111010833012345Y"]
)
def test_check_char_agrees_with_stdnum(first17: str) -> None:
    code = make_code(first17)
    assert stdnum_uscc.is_valid(code)
    assert uscc_valid(code)


def test_corrupted_code_rejected() -> None:
    code = make_code()
    wrong = CHARSET[(CHARSET.index(code[-1]) + 1) % len(CHARSET)]
    assert not uscc_valid(code[:-1] + wrong)
    changed = code[:5] + ("2" if code[5] != "2" else "3") + code[6:]
    assert not uscc_valid(changed)


def test_lowercase_full_width_and_spaces_accepted() -> None:
    code = make_code()
    assert uscc_valid(code.lower())
    assert uscc_valid(f" {code[:8]} {code[8:]} ")
    assert uscc_valid("".join(chr(ord(c) + 0xFEE0) for c in code))


def test_forbidden_letters_and_shapes_rejected() -> None:
    code = make_code()
    for letter in "IOSVZ":
        assert not uscc_valid(code[:10] + letter + code[11:])
    assert not uscc_valid(code[:-1])
    assert not uscc_valid(None)
    assert not uscc_valid(123)
    assert not uscc_valid("")


def test_check_char_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        uscc_check_char("91110108MA01C2X3")
    with pytest.raises(ValueError):
        uscc_check_char("91110108MA01C2X3I")


def test_check_char_zero_maps_to_zero() -> None:
    # Weighted sum ≡ 0 (mod 31) must give check char '0', not 'Y' (the (31 - 0) % 31 trap).
    assert uscc_check_char("0" * 17) == "0"
