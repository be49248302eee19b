"""GB 11643 ID checks: the traps real roll files contain."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pipeline.normalise.id_number import IdCheck, check_char, check_id, check_ids, mask_id


def make_id(prefix: str, birth: str, seq: str = "123") -> str:
    """A valid 18-digit ID: prefix (6) + birth YYYYMMDD + 3-digit sequence + check char."""
    first17 = prefix + birth + seq
    return first17 + check_char(first17)


def _ending_000() -> str:
    """A genuinely valid ID whose last three characters are 000 (check char 0)."""
    for day in range(1, 29):
        for seq in range(10):
            first17 = f"110108198001{day:02d}{seq}00"
            if check_char(first17) == "0":
                return first17 + "0"
    raise AssertionError("no valid ID ending in 000 found")


VALID_1950 = make_id("110103", "19500315", "122")  # 崇文区, abolished 2010
VALID_1960 = make_id("110228", "19600704", "031")  # 密云县, abolished 2015


def test_check_char_known_value() -> None:
    # Sum of weighted digits of 11010519491231002 is 167; 167 % 11 = 2 → 'X'.
    assert check_char("11010519491231002") == "X"
    with pytest.raises(ValueError):
        check_char("1101051949123100")


@pytest.mark.parametrize("value", [make_id("110105", "19800101"), VALID_1950, VALID_1960])
def test_valid_ids(value: str) -> None:
    result = check_id(value)
    assert result.valid
    assert result.problem is None
    assert result.normalised == value
    assert result.admin_code == value[:6]


def test_old_people_with_abolished_prefix_are_valid() -> None:
    result = check_id(VALID_1950)
    assert result.birth_date == dt.date(1950, 3, 15)
    assert result.sex == "女"  # 17th digit 2
    assert not result.unknown_admin_code
    # 110114 昌平区 only exists since 1999, but its IDs of people born before are real.
    assert check_id(make_id("110114", "19450101", "011")).valid


def test_sex_from_17th_digit() -> None:
    assert check_id(make_id("110105", "19800101", "131")).sex == "男"
    assert check_id(make_id("110105", "19800101", "132")).sex == "女"


def test_lowercase_x_and_multiplication_sign() -> None:
    first17 = "11010519491231002"
    for raw in (first17 + "x", first17 + "×", first17 + "Ｘ"):
        result = check_id(raw)
        assert result.valid, raw
        assert result.normalised == first17 + "X"


def test_full_width_digits_and_inner_spaces() -> None:
    value = make_id("110105", "19800101")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in value)
    assert check_id(full_width).normalised == value
    assert check_id(full_width).valid
    spaced = f" {value[:6]} {value[6:14]}\u3000{value[14:]}\t"
    assert check_id(spaced).normalised == value
    assert check_id(value[:6] + "-" + value[6:]).normalised == value


def test_legacy_15_converted() -> None:
    result = check_id("110105491231002")
    assert result.legacy_15
    assert result.valid
    assert result.normalised == "11010519491231002X"
    assert result.birth_date == dt.date(1949, 12, 31)
    assert result.sex == "女"


def test_legacy_15_from_float_cell() -> None:
    # A 15-digit number read as float64 is exact; it must not be flagged as damage.
    result = check_id(110105491231002.0)
    assert result.legacy_15 and result.valid


def test_15_digits_without_valid_date_is_bad_format() -> None:
    result = check_id("110105491331002")  # month 13
    assert result.bad_format
    assert not result.legacy_15
    assert result.problem == "format"


@pytest.mark.parametrize("raw", ["1.10108E+17", "1.10108e+17", "1.10108199001011E17"])
def test_excel_scientific_notation(raw: str) -> None:
    result = check_id(raw)
    assert result.excel_damaged
    assert result.problem == "excel_damage"
    assert not result.valid
    assert result.normalised == raw.upper()


def test_excel_scientific_keeps_readable_birth_date() -> None:
    result = check_id("1.10108199001011e+17")
    assert result.admin_code == "110108"
    assert result.birth_date == dt.date(1990, 1, 1)
    assert result.sex is None  # the sex digit is lost


def test_float_cell_of_18_digit_id_is_damage_not_repaired() -> None:
    value = make_id("110108", "19900101", "234")
    result = check_id(float(value))
    assert result.excel_damaged
    assert result.normalised != value


def test_excel_15_significant_digits_then_000() -> None:
    value = make_id("110108", "19900101", "234")
    damaged = value[:15] + "000"
    assert check_char(damaged[:17]) != damaged[17]
    result = check_id(damaged)
    assert result.excel_damaged
    assert result.bad_checksum
    assert result.problem == "excel_damage"
    assert result.birth_date == dt.date(1990, 1, 1)  # still usable evidence for the linker
    assert result.admin_code == "110108"


def test_ending_000_with_good_checksum_is_valid() -> None:
    value = _ending_000()
    assert value.endswith("000")
    result = check_id(value)
    assert result.valid
    assert not result.excel_damaged


def test_bad_checksum_one_digit_changed() -> None:
    value = make_id("110105", "19800101", "123")
    changed = value[:16] + str((int(value[16]) + 1) % 10) + value[17]
    result = check_id(changed)
    assert result.bad_checksum
    assert not result.excel_damaged
    assert result.problem == "checksum"
    # Date part still readable: evidence kept, flags honest.
    assert result.birth_date == dt.date(1980, 1, 1)
    assert result.admin_code == "110105"


def test_transposition_detected() -> None:
    value = make_id("110105", "19800101", "123")
    swapped = value[:14] + value[15] + value[14] + value[16:]
    assert swapped != value
    assert check_id(swapped).problem == "checksum"


def test_impossible_date() -> None:
    first17 = "110105" + "19900230" + "123"
    result = check_id(first17 + check_char(first17))
    assert result.bad_birth_date
    assert result.problem == "birth_date"
    assert result.birth_date is None
    assert result.sex is None
    assert result.admin_code == "110105"


def test_birth_before_1900() -> None:
    result = check_id(make_id("110105", "18991231"))
    assert result.problem == "birth_date"


def test_future_birth_date_with_as_of() -> None:
    value = make_id("110105", "20250601")
    assert check_id(value).valid
    result = check_id(value, as_of=dt.date(2025, 5, 31))
    assert result.bad_birth_date
    assert result.problem == "birth_date"
    assert check_id(value, as_of=dt.date(2025, 6, 1)).valid


def test_unknown_prefix_no_exception() -> None:
    result = check_id(make_id("750101", "19800101"))
    assert result.unknown_admin_code
    assert result.problem == "admin_code"
    assert result.admin_code == "750101"
    assert not result.bad_checksum


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000", float("nan"), pd.NA, np.nan])
def test_missing(raw: object) -> None:
    result = check_id(raw)
    assert result.missing
    assert result.normalised is None
    assert result.problem == "missing"
    assert not result.valid


def test_garbage_is_bad_format() -> None:
    for raw in ("11010519800101", "11010519800101123Y", "110105198001011234567"):
        result = check_id(raw)
        assert result.bad_format, raw
        assert result.problem == "format"


def test_problem_priority() -> None:
    flags = IdCheck(raw="x", normalised="x", bad_checksum=True, bad_birth_date=True)
    assert flags.problem == "checksum"
    assert IdCheck(raw=None, normalised=None, missing=True, bad_format=True).problem == "missing"


def test_check_ids_series() -> None:
    good = make_id("110105", "19800101", "131")
    values = pd.Series(
        [good, None, "1.10108E+17", good.lower(), good, pd.NA, "110105491231002"],
        index=[10, 11, 12, 13, 14, 15, 16],
        dtype="object",
    )
    out = check_ids(values, as_of=dt.date(2025, 1, 1))
    assert list(out.index) == list(values.index)
    assert list(out.columns) == [
        "id_norm", "id_valid", "id_missing", "id_placeholder", "id_bad_format",
        "id_legacy15", "id_excel_damaged", "id_bad_checksum", "id_bad_birth_date",
        "id_unknown_admin", "id_problem", "id_birth_date", "id_sex", "id_admin_code", "id_kind",
    ]  # fmt: skip
    assert out["id_norm"].dtype == pd.StringDtype()
    assert out["id_problem"].dtype == pd.StringDtype()
    assert out["id_sex"].dtype == pd.StringDtype()
    assert out["id_admin_code"].dtype == pd.StringDtype()
    assert out["id_valid"].dtype == bool
    assert out["id_missing"].dtype == bool
    assert out["id_birth_date"].dtype == "datetime64[ns]"

    assert out.loc[10, "id_valid"] and out.loc[14, "id_valid"]
    assert out.loc[10, "id_norm"] == good
    assert out.loc[10, "id_birth_date"] == pd.Timestamp("1980-01-01")
    assert out.loc[10, "id_sex"] == "男"
    assert pd.isna(out.loc[10, "id_problem"])
    assert out.loc[11, "id_missing"] and out.loc[15, "id_missing"]
    assert out.loc[11, "id_problem"] == "missing"
    assert pd.isna(out.loc[11, "id_norm"]) and pd.isna(out.loc[11, "id_birth_date"])
    assert out.loc[12, "id_problem"] == "excel_damage"
    assert out.loc[16, "id_legacy15"] and out.loc[16, "id_norm"] == "11010519491231002X"


def test_check_ids_on_string_dtype_and_empty() -> None:
    values = pd.Series([make_id("110105", "19800101"), pd.NA], dtype="string")
    out = check_ids(values)
    assert out["id_valid"].tolist() == [True, False]
    empty = check_ids(pd.Series([], dtype="string"))
    assert len(empty) == 0
    assert empty["id_norm"].dtype == pd.StringDtype()


def test_mask_id() -> None:
    assert mask_id("11010519491231002x") == "110105********002X"
    assert mask_id("110105491231002") == "110**********02"
    assert mask_id(None) == ""
    assert mask_id("  ") == ""
    assert mask_id(float("nan")) == ""
    masked = mask_id("1234")
    assert masked.count("*") >= 2


def test_excel_damage_birth_date_withheld_when_rounding_may_have_carried() -> None:
    # 15th digit 0 after Excel rounding: the birth date might be one day off, so no evidence.
    value = "110108" + "19900109" + "0" + "000"
    result = check_id(value)
    assert result.excel_damaged
    assert result.birth_date is None
    assert result.admin_code == "110108"
    short = check_id("1.10108E+17")  # 6 shown digits are display-rounded: nothing derivable
    assert short.admin_code is None and short.birth_date is None


def test_check_ids_passes_as_of() -> None:
    values = pd.Series([make_id("110105", "20250601")])
    out = check_ids(values, as_of=dt.date(2025, 1, 1))
    assert out["id_problem"].tolist() == ["birth_date"]
    assert out["id_bad_birth_date"].tolist() == [True]
    assert out["id_birth_date"].isna().all()


def test_batch_check_equals_one_by_one_on_clean_and_damaged_ids() -> None:
    """check_ids checks already-clean IDs together (numpy); it must agree with check_id."""
    import random

    from pipeline.normalise import id_number as ids

    rng = random.Random(11)
    values: list[object] = []
    for _ in range(3000):
        body = "".join(rng.choice("0123456789") for _ in range(17))
        values += [body + ids.check_char(body), body + rng.choice("0123456789X"),
                   body[:15] + "000", body[:6] + rng.choice(
                       ["19000229", "20000229", "18991231", "20261301", "00000101",
                        "20270101", "19700230"]) + body[14:17] + "X"]
    values += [None, float("nan"), "１１０１０５１９９００１０１１２３Ｘ", "110105900101123",
               1.10105199001011e17, "  ", "110105199001011237 "]
    series = pd.Series(values, dtype=object)
    for as_of in (None, dt.date(2026, 6, 30)):
        batch = ids.check_ids(series, as_of)
        one_by_one = [ids.check_id(v, as_of) for v in values]
        assert batch["id_norm"].tolist() == [
            c.normalised if c.normalised is not None else pd.NA for c in one_by_one]
        assert batch["id_valid"].tolist() == [c.valid for c in one_by_one]
        assert batch["id_problem"].fillna("").tolist() == [c.problem or "" for c in one_by_one]
        assert batch["id_sex"].fillna("").tolist() == [c.sex or "" for c in one_by_one]
        for column, attr in ids._BOOL_COLUMNS.items():
            assert batch[column].tolist() == [getattr(c, attr) for c in one_by_one], column
        births = [c.birth_date if c.birth_date and c.birth_date.year < 2262 else None
                  for c in one_by_one]
        assert [None if pd.isna(d) else d.date() for d in batch["id_birth_date"]] == births
