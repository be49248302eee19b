"""field_issues: one row per value present but not understood, masked where personal."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.normalise.field_issues import COLUMNS, mask_value
from pipeline.normalise.sources import normalise_source
from pipeline.schema import Source
from tests.helpers import raw_frame, valid_id


def test_each_value_not_understood_is_one_row_with_its_place_and_reason() -> None:
    rows = [
        {"roll_id": "A1", "name": "张伟", "id_number": valid_id("11010519800101123"),
         "roll_status": "在档", "birth_date": dt.date(1900, 2, 28), "household_size": "三口",
         "phone": "12345", "claimed_assistance": "城市低保"},
        {"roll_id": "A2", "name": "李娜", "id_number": valid_id("11010519810101123"),
         "roll_status": "在档", "birth_date": "1981-01-01", "claimed_assistance": "低保户X"},
    ]
    raw = raw_frame(Source.UNION, rows, file="roll.xlsx")
    raw["source_sheet"] = "朝阳区"
    issues = normalise_source(raw, Source.UNION, dt.date(2025, 6, 30)).field_issues
    assert list(issues.columns) == list(COLUMNS)
    by_field = {(r.source_row, r.field): r for r in issues.itertuples()}
    assert set(by_field) == {(2, "birth_date"), (2, "household_size"), (2, "phone"),
                             (3, "claimed_assistance")}
    birth = by_field[(2, "birth_date")]
    assert birth.reason_code == "not_a_date" and "1900-02-29" in birth.reason
    assert birth.raw_value_masked == "1900-**-**"  # the year tells the Excel artefact
    assert birth.header == "出生日期" and birth.source_sheet == "朝阳区"
    assert birth.source_file == "roll.xlsx"
    assert by_field[(3, "claimed_assistance")].reason_code == "not_in_vocabulary"
    assert by_field[(3, "claimed_assistance")].raw_value_masked == "低保户X"
    assert by_field[(2, "phone")].raw_value_masked == "1**45"


def test_masking_hides_personal_values_only() -> None:
    assert mask_value("birth_date", "1985年3月12日") == "1985******"
    # The year is kept wherever it stands, and only the year: a day-first date must not show
    # its day and month as "the first four characters".
    assert mask_value("birth_date", "12/03/1985") == "**/**/1985"
    assert mask_value("deceased_date", "85.3.12") == "**.*.**"
    assert mask_value("birth_date", "19851332") == "1985****"  # a compact date's year
    assert mask_value("birth_date", "1985031200") == "**********"  # ten digits: no year
    # An Excel date cell holding serial 0 reads as a time of day: nothing of the person.
    assert mask_value("birth_date", "00:00:00") == "00:00:00"
    assert mask_value("phone", "13800001234") == "138******34"
    assert mask_value("household_size", "三口") == "三口"
    assert mask_value("category", "x" * 80).endswith("…")
    # An ID-shaped value in any field (a worker's ID typed as the employer's code) is masked.
    assert mask_value("employer_uscc", "110105199001011234") == "110105********1234"
    assert mask_value("employer_uscc", "91110108MA01ABCD1X") == "91110108MA01ABCD1X"


def test_a_name_typed_into_a_field_that_is_not_a_name_is_masked() -> None:
    """A shifted column puts people's names under 区划代码, 保障类别, 月保障金额…: the field
    issues must not show them, whichever field; vocabulary near-misses and counts stay
    readable for the steward."""
    for field in ("district_code", "assistance_type", "monthly_benefit", "household_size",
                  "case_status", "person_status", "relation", "sex", "employer_uscc"):
        assert mask_value(field, "王桂芳") == "王**"
        assert mask_value(field, " 欧阳修文 ") == "欧阳**"
        assert mask_value(field, "张三") == "张*"
        assert mask_value(field, "买买提·艾力") == "买**·**"
    for shown in ("城市低保", "在保中", "三口", "男性", "东城区", "低保户X", "王"):
        assert mask_value("assistance_type", shown) == shown


# (field, value typed, the person's name in it): the shapes a fresh-eyes trial found unmasked
# when only 2–4 Han characters from a surname were treated as names.
NAMES_IN_OTHER_SHAPES = [
    ("person_status", "扎西次仁", "扎西次仁"),  # Tibetan: no surname
    ("district_code", "格桑卓玛", "格桑卓玛"),
    ("household_size", "陳淑貞", "陳淑貞"),  # traditional characters
    ("monthly_benefit", "王 桂芳", "桂芳"),  # a space inside
    ("covered_size", "迪丽热巴", "迪丽热巴"),
    ("person_status", "努尔艾合买提", "努尔艾合买提"),  # Uyghur, written without ·
    ("person_status", "李娜（已故）", "李娜"),  # a note after the name
    ("district_code", "张三丰 王五", "三丰"),  # two names
    ("approved_date", "欧阳明1985年3月2日", "欧阳明"),
    ("covered_size", "Zhang Wei", "Zhang"),  # pinyin
    ("household_size", "王桂芬110105197409103799", "桂芬"),
]


@pytest.mark.parametrize(("field", "typed", "name"), NAMES_IN_OTHER_SHAPES,
                         ids=[typed for _, typed, _ in NAMES_IN_OTHER_SHAPES])
def test_a_name_in_any_shape_keeps_its_first_character_only(field, typed, name) -> None:
    shown = mask_value(field, typed)
    assert name not in shown and name[1:] not in shown
    assert len(shown) == len(typed)  # the shape stays: a steward sees its length


def test_what_may_hold_a_name_shows_its_shape_what_cannot_shows_whole() -> None:
    assert mask_value("person_status", "李娜（已故）") == "李*（**）"
    assert mask_value("covered_size", "Zhang Wei") == "Z**** W**"
    assert mask_value("monthly_benefit", "王 桂芳") == "王 **"
    # The vocabularies' characters, counts and places say nothing of a person: whole.
    for readable in ("在保中", "城市低保X", "三口", "男性", "东成区", "待定", "3.5人"):
        assert mask_value("case_status", readable) == readable
    # A company's credit code and a record's key keep their letters (less anything
    # ID-shaped): the steward looks them up.
    for code in ("91110112Y91985737E", "91110105704498281U", "9111011358R9704907"):
        assert mask_value("employer_uscc", code) == code  # its long digit runs are its own
    assert mask_value("case_id", "BJ110101DB2013000411") == "BJ110101DB2013000411"


def test_every_key_field_is_shown_as_a_code() -> None:
    from pipeline.normalise.field_issues import CODE_FIELDS
    from pipeline.normalise.sources import PLANS

    keys = {f for plan in PLANS.values() for f, kind in plan.items() if kind == "key"}
    assert keys and keys <= CODE_FIELDS


def test_names_in_shifted_columns_never_reach_the_field_issues() -> None:
    """Through the normaliser: each coded column given a name; every such cell is a field
    issue, and none of the names is in the masked values."""
    names = {"district_code": "王桂芳", "assistance_type": "李秀英", "monthly_benefit": "赵建国",
             "household_size": "孙丽娟", "case_status": "周海燕", "person_status": "郑淑珍"}
    rows = []
    for k, (field, name) in enumerate(names.items()):
        row = {"case_id": f"C{k}", "member_no": "1", "name": "张伟",
               "id_number": valid_id(f"1101051980010112{k}"), "relation": "户主",
               "assistance_type": "城市低保", "district_code": "110105",
               "monthly_benefit": "900", "household_size": "3", "case_status": "在保",
               "person_status": "正常"}
        row[field] = name
        rows.append(row)
    raw = raw_frame(Source.CIVIL, rows, file="civil.csv")
    result = normalise_source(raw, Source.CIVIL, dt.date(2025, 6, 30))
    shown = {r.field: r.raw_value_masked for r in result.field_issues.itertuples()}
    # A row whose 保障类别 or 保障状态 is not understood cannot be used: it is quarantined,
    # whole, and not listed again among the field issues of the rows used.
    quarantined = {"assistance_type", "case_status"}
    assert set(result.quarantine["reason_code"]) == {"bad_assistance_type", "bad_case_status"}
    assert {f: shown.get(f) for f in names} == {
        f: None if f in quarantined else n[0] + "**" for f, n in names.items()}


def test_a_number_shared_by_different_people_is_one_row_per_carrier() -> None:
    """Rows carrying an ID number that different people carry in the same file (a clerk
    copied it) are listed for the steward, number masked; the same person filed twice, or
    the number in another file, is not."""
    shared = valid_id("11010519800101123")
    twice = valid_id("11010519810101123")
    rows = [
        {"roll_id": "A1", "name": "张伟", "id_number": shared, "roll_status": "在档"},
        {"roll_id": "A2", "name": "李娜", "id_number": shared, "roll_status": "在档"},
        {"roll_id": "A3", "name": "王芳", "id_number": twice, "roll_status": "在档"},
        {"roll_id": "A4", "name": "王芳", "id_number": twice, "roll_status": "在档"},
    ]
    raw = raw_frame(Source.UNION, rows, file="roll.xlsx")
    normalised = normalise_source(raw, Source.UNION, dt.date(2025, 6, 30))
    issues = normalised.field_issues
    assert list(issues.columns) == list(COLUMNS)
    assert list(issues["source_row"]) == [2, 3]
    assert set(issues["reason_code"]) == {"shared_id_number"}
    assert set(issues["field"]) == {"id_number"} and set(issues["header"]) == {"身份证号"}
    assert "真实身份证号" in issues["reason"].iloc[0]
    assert shared not in "".join(issues["raw_value_masked"])
    assert list(issues["raw_value_masked"]) == [shared[:6] + "*" * 8 + shared[-4:]] * 2
    # the rows themselves are used (not quarantined), their number as no one's evidence
    assert len(normalised.quarantine) == 0
    assert list(normalised.frame["id_problem"].iloc[:2]) == ["shared", "shared"]
    other_file = raw.copy()
    other_file.loc[1, "source_file"] = "roll-2.xlsx"
    assert len(normalise_source(other_file, Source.UNION, dt.date(2025, 6, 30))
               .field_issues) == 0


def test_a_number_excel_turned_into_scientific_notation_is_not_a_shared_one() -> None:
    """Different people whose numbers Excel showed as 1.10106E+17 carry one text, not one
    number: they are not listed as sharing it, and their ID problem stays Excel's damage
    (what the roll's INVALID_ID finding tells the analyst to fix)."""
    rows = [{"roll_id": f"A{k}", "name": name, "id_number": "1.10106E+17",
             "roll_status": "在档"} for k, name in enumerate(["张伟", "李娜", "王芳"])]
    normalised = normalise_source(raw_frame(Source.UNION, rows, file="roll.xlsx"),
                                  Source.UNION, dt.date(2025, 6, 30))
    assert "shared_id_number" not in set(normalised.field_issues["reason_code"])
    assert list(normalised.frame["id_problem"]) == ["excel_damage"] * 3


def test_another_field_s_number_in_a_count_or_amount_is_not_understood() -> None:
    """A shifted column puts an ID number under 家庭总人数 and a phone under 月保障金额: they
    parsed as a household of 1.1e17 people and 13.9 billion yuan a month, with no field issue
    (and a 20-digit number stopped the night: int64 overflow). Now each is a field issue,
    blank for the rules, shown masked."""
    rows = [{"case_id": f"C{k}", "member_no": "1", "name": "张伟",
             "id_number": valid_id(f"1101051980010112{k}"), "relation": "户主",
             "assistance_type": "低保", "district_code": "110105", "case_status": "在保",
             "person_status": "正常", "household_size": size, "monthly_benefit": money}
            for k, (size, money) in enumerate([("110105197409103799", "900"),
                                               ("12345678901234567890", "13912345678"),
                                               ("3", "1320.5"), ("999", "1000000")])]
    raw = raw_frame(Source.CIVIL, rows, file="civil.csv")
    result = normalise_source(raw, Source.CIVIL, dt.date(2025, 6, 30))
    shown = {(r.source_row, r.field): r.raw_value_masked
             for r in result.field_issues.itertuples()}
    assert shown == {(2, "household_size"): "110105********3799",
                     (3, "household_size"): "123***************90",  # a bank card?
                     (3, "monthly_benefit"): "139******78"}
    frame = result.frame
    assert frame["household_size"].isna().tolist() == [True, True, False, False]
    assert frame["monthly_benefit"].isna().tolist() == [False, True, False, False]


def test_a_number_of_no_id_shape_is_the_steward_s_to_fix() -> None:
    """A name or a number with digits missing in 身份证号 is no one's evidence: listed, masked;
    a number with a wrong check digit is an ID with a problem (INVALID_ID's), not listed."""
    good = valid_id("11010519800101123")
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    rows = [{"case_id": f"C{k}", "member_no": "1", "name": "张伟", "id_number": number,
             "relation": "户主", "assistance_type": "低保", "district_code": "110105",
             "case_status": "在保", "person_status": "正常"}
            for k, number in enumerate(["周美玲", good[:17], wrong_check, good])]
    raw = raw_frame(Source.CIVIL, rows, file="civil.csv")
    issues = normalise_source(raw, Source.CIVIL, dt.date(2025, 6, 30)).field_issues
    listed = issues[issues["field"] == "id_number"]
    assert listed["source_row"].tolist() == [2, 3]
    assert set(listed["reason_code"]) == {"not_an_id_number"}
    assert listed["raw_value_masked"].tolist() == ["周**", good[:6] + "*" * 7 + good[13:17]]


# (field, typed, shown): a second fresh-eyes trial's values. Numbers however typed (spaces,
# dashes, full-width digits) and in any column, a code column included; notes that end like a
# place; a name beside a phone number.
TYPED_ANY_WAY = [
    ("employer_uscc", "13912345678", "139******78"),
    ("employer_uscc", "139-1234-5678", "139-****-**78"),
    ("employer_uscc", "6217 0012 3456 7890", "6217 00** **** 7890"),
    ("employer_uscc", "6222021234567890123", "622**************23"),
    ("employer_uscc", "110101 19900307 123X", "110101 ******** 123X"),
    ("employer_uscc", "王芳（病故）", "王*（**）"),
    ("employer_uscc", "张伟户已迁至昌平区", "张********"),
    ("employer_uscc", "ZHANGWEI", "Z*******"),
    ("district_code", "110101-19900307-1234", "110101-********-1234"),
    ("district_code", "６２２２ ０２１２ ３４５６ ７８９０ １２３", "622* **** **** **** *23"),
    ("monthly_benefit", "139 1234 5678", "139 **** **78"),
    ("district_code", "李桂英家住朝阳区", "李*******"),
    ("phone", "王芳13912345678", "王*139******78"),
    ("phone", "139 1234 5678 王芳", "139 **** **78 王*"),
    ("household_size", "19850312", "198***12"),  # a birth date in a count
]


@pytest.mark.parametrize(("field", "typed", "shown"), TYPED_ANY_WAY,
                         ids=[typed for _, typed, _ in TYPED_ANY_WAY])
def test_numbers_and_notes_are_masked_however_typed_and_wherever(field, typed, shown) -> None:
    assert mask_value(field, typed) == shown


def test_what_a_steward_needs_to_read_stays_readable() -> None:
    """Codes, places, the vocabularies' words and the other kinds of help, dates in a date
    column, short words in a phone column."""
    for field, value in [("employer_uscc", "91110105704498281U"),
                         ("employer_uscc", "91110108MA01ABCD1X"),
                         ("district_code", "北京市东城区"), ("district_code", "东成区"),
                         ("case_status", "临时救助"), ("case_status", "审核中"),
                         ("person_status", "失踪"), ("household_size", "3（含户主）"),
                         ("approved_date", "2019-02-29"), ("phone", "无"), ("phone", "不详")]:
        assert mask_value(field, value) == value


@pytest.mark.parametrize("source", [Source.CIVIL, Source.MEMBERS])
def test_a_number_excel_damaged_in_a_civil_file_or_the_roster_is_the_stewards(source) -> None:
    """No finding reports the civil side's or the roster's ID numbers Excel damaged
    (INVALID_ID is the roll's): each is a field issue `id_excel_damaged`, the number masked
    as everywhere, telling the feed's owner to export it again as text; a number of no ID
    shape stays `not_an_id_number`, and a sound number has none."""
    damaged = ["1.10106E+17", "11010519800101200" + "0"]  # scientific notation; 000 at the end
    ids = [*damaged, "张伟", valid_id("11010519800101123")]
    if source == Source.CIVIL:
        rows = [{"case_id": f"C{k}", "member_no": "1", "name": name, "id_number": number,
                 "relation": "户主", "assistance_type": "低保", "district_code": "110105",
                 "case_status": "在保", "person_status": "正常"}
                for k, (name, number) in enumerate(zip(["张伟", "李娜", "王芳", "赵强"], ids,
                                                       strict=True))]
    else:
        rows = [{"member_id": f"M{k}", "name": name, "id_number": number}
                for k, (name, number) in enumerate(zip(["张伟", "李娜", "王芳", "赵强"], ids,
                                                       strict=True))]
    result = normalise_source(raw_frame(source, rows, file="feed.csv"), source,
                              dt.date(2025, 6, 30))
    assert list(result.frame["id_problem"].fillna(""))[:2] == ["excel_damage"] * 2
    by_row = {r.source_row: r for r in result.field_issues.itertuples()
              if r.field == "id_number"}
    assert sorted(by_row) == [2, 3, 4]
    assert {by_row[2].reason_code, by_row[3].reason_code} == {"id_excel_damaged"}
    assert by_row[4].reason_code == "not_an_id_number"
    assert "Excel" in by_row[2].reason and "文本" in by_row[2].reason
    assert by_row[3].raw_value_masked == "110105********2000"


@pytest.mark.parametrize("source", [Source.CIVIL, Source.MEMBERS])
def test_a_placeholder_number_in_a_civil_file_or_the_roster_is_the_stewards(source) -> None:
    """No finding reports the placeholders typed for an unknown number in the civil side's
    or the roster's ID column (INVALID_ID `placeholder` is the roll's): every carrier's is a
    field issue `id_placeholder` (one carried by three people of different names too: it is
    no shared number, SPEC §1), whatever its form; a sound number has none."""
    placeholders = ["111111111111111111", "000000000000000000", "110105000000000000",
                    "不详", "111111111111111111", "111111111111111111"]
    ids = [*placeholders, valid_id("11010519800101123")]
    names = ["张伟", "李娜", "王芳", "赵强", "刘洋", "陈静", "杨帆"]
    if source == Source.CIVIL:
        rows = [{"case_id": f"C{k}", "member_no": "1", "name": name, "id_number": number,
                 "relation": "户主", "assistance_type": "低保", "district_code": "110105",
                 "case_status": "在保", "person_status": "正常"}
                for k, (name, number) in enumerate(zip(names, ids, strict=True))]
    else:
        rows = [{"member_id": f"M{k}", "name": name, "id_number": number}
                for k, (name, number) in enumerate(zip(names, ids, strict=True))]
    result = normalise_source(raw_frame(source, rows, file="feed.csv"), source,
                              dt.date(2025, 6, 30))
    assert list(result.frame["id_problem"].fillna("")) == ["placeholder"] * 6 + [""]
    by_row = {r.source_row: r for r in result.field_issues.itertuples()
              if r.field == "id_number"}
    assert sorted(by_row) == [2, 3, 4, 5, 6, 7]
    assert {r.reason_code for r in by_row.values()} == {"id_placeholder"}
    assert "占位" in by_row[2].reason and "真实身份证号" in by_row[2].reason
    assert by_row[2].raw_value_masked == "111111********1111"
    assert by_row[5].raw_value_masked == "不详"


@pytest.mark.parametrize(("number", "problem", "code"),
                         [("1.10106E+17", "excel_damage", "id_excel_damaged"),
                          ("111111111111111111", "placeholder", "id_placeholder")])
def test_the_rolls_unusable_numbers_are_its_findings_not_field_issues(number, problem,
                                                                      code) -> None:
    """On the roll an Excel-damaged number or a placeholder is an INVALID_ID finding, not a
    field issue."""
    rows = [{"roll_id": "A1", "name": "张伟", "id_number": number, "roll_status": "在档"}]
    normalised = normalise_source(raw_frame(Source.UNION, rows, file="roll.xlsx"),
                                  Source.UNION, dt.date(2025, 6, 30))
    assert code not in set(normalised.field_issues["reason_code"])
    assert list(normalised.frame["id_problem"]) == [problem]
