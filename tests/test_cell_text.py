"""Protection marks are removed in one place, for every ID-like and code-like field."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.normalise.cell_text import maybe_protected, unprotect
from pipeline.normalise.districts import district_code
from pipeline.normalise.id_number import check_id, check_ids
from pipeline.normalise.uscc import clean_uscc
from pipeline.normalise.vocab import canon_phone, canon_roll_status, clean_text, map_unique
from tests.helpers import valid_id

ID = valid_id("11010519800101123")
WRAPPED = [
    f"'{ID}", f"\u2019{ID}", f"＇{ID}", f'="{ID}"', f"＝＂{ID}＂", f"\t{ID}", f"{ID}\t",
    f"\u00a0{ID}\u00a0", f"\u200b{ID}", f"{ID}\u200c", f"\u200d{ID}", f"\u2060{ID}",
    f"\ufeff{ID}", f" '{ID} ", f"\u3000{ID}", f"'\u200b{ID}\t",
]


@pytest.mark.parametrize("raw", WRAPPED)
def test_marks_are_removed_from_ids(raw: str) -> None:
    assert unprotect(raw) == ID
    check = check_id(raw)
    assert check.valid and check.normalised == ID


def test_batch_id_check_agrees_and_keeps_raw() -> None:
    out = check_ids(pd.Series([*WRAPPED, ID], dtype=object))
    assert out["id_valid"].all()
    assert (out["id_norm"] == ID).all()


@pytest.mark.parametrize("raw", ["'110108", '="110108"', "110108\u200b", "\t海淀区"])
def test_marks_are_removed_from_codes(raw: str) -> None:
    assert district_code(raw) == "110108"


def test_marks_are_removed_from_every_code_like_field() -> None:
    assert clean_text("'GH2022-0001") == "GH2022-0001"
    assert clean_text('="007"') == "007"  # a key keeps its leading zeros
    assert canon_phone("'13800000000") == "13800000000"
    assert canon_roll_status("\u200b在档") == "在档"
    assert clean_uscc("'91110108MA01ABCD1X") == "91110108MA01ABCD1X"


def test_fast_path_sends_protected_values_to_python() -> None:
    values = pd.Series(["GH1", "'GH2", "GH3\u200b", '="GH4"'], dtype=object)
    assert list(map_unique(values, clean_text, identity_when_clean=True)) == [
        "GH1", "GH2", "GH3", "GH4"]


def test_inner_text_is_kept() -> None:
    assert unprotect("O'Brien") == "O'Brien"  # not leading: not a mark
    assert unprotect("'") == ""
    assert maybe_protected("'1") and maybe_protected("1\u200b") and not maybe_protected("11")
