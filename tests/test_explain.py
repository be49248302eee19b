"""`bidui explain`: a waterfall that adds up, with masked personal data only."""

from __future__ import annotations

import pandas as pd

from pipeline.link.explain import explain_roll_row
from pipeline.masking import mask_name


def evidence() -> pd.DataFrame:
    return pd.DataFrame({
        "union_roll_id": ["R1", "R1"], "civil_case_id": ["C1", "C2"],
        "civil_member_no": ["1", "2"], "decision": ["match", "none"],
        "method": ["probabilistic", "probabilistic"],
        "union_name_masked": ["张*", "张*"], "union_id_masked": ["110105********123X"] * 2,
        "civil_name_masked": ["张*", "张*"],
        "civil_id_masked": ["110105********1230", "110102********3201"],
        "name_level": ["exact", "exact"], "name_weight": [7.0, 7.0],
        "id_number_level": ["one_edit", "differs_valid"], "id_number_weight": [13.0, -10.0],
        "match_weight": [20.0, -3.0],
    })


def test_waterfall_orders_candidates_and_adds_up() -> None:
    text = explain_roll_row(evidence(), "R1", prior_weight=-13.0)
    assert text.index("#1 家庭 C1 成员 1") < text.index("#2 家庭 C2 成员 2")
    assert "身份证号：相差一位或相邻两位互换" in text and "+13.00" in text
    assert "先验（log2 赔率）" in text and "= 匹配概率" in text
    lines = text.splitlines()
    id_line = next(line for line in lines if line.lstrip().startswith("身份证号"))
    assert id_line.split()[-2] == "+7.00"  # running total: -13 + 7 + 13
    assert "110105********123X" in text


def test_explain_speaks_chinese_and_keeps_the_numbers() -> None:
    text = explain_roll_row(evidence(), "R1", prior_weight=-13.0)
    assert "档案 R1  档案登记：张*  110105********123X" in text
    assert "判定：匹配（概率模型）" in text and "判定：不匹配（概率模型）" in text
    assert "姓名：完全一致" in text and "身份证号：不同（双方均有效）" in text
    assert "比较项：比较结果" in text and "权重" in text and "累计" in text
    for english in ("prior", "total", "decision", "case", "member", "match probability",
                    "one_edit", "differs_valid", "exact"):
        assert english not in text, english
    assert "-10.00" in text and "-13.00" in text
    assert "0.992248" in text  # 2**7 / (1 + 2**7): the first candidate ends at +7 bits


def test_columns_line_up_by_display_width() -> None:
    """A Chinese character takes two terminal columns: weights start in the same column."""
    from pipeline.link.explain import _width

    text = explain_roll_row(evidence(), "R1", prior_weight=-13.0)
    rows = [line for line in text.splitlines() if "：" in line and line.startswith("  ")
            and not line.lstrip().startswith("比较项")]
    starts = {_width(line[: line.index(line.split()[-2]) - 1]) for line in rows}
    assert len(rows) == 4 and len(starts) <= 2  # the +7.00 / +13.00 widths differ by one


def test_null_and_unknown_levels_read_sensibly() -> None:
    pairs = evidence().assign(name_level=["null", "exact"], id_number_level=["new_kind",
                                                                           "exact"])
    text = explain_roll_row(pairs, "R1", prior_weight=-13.0)
    assert "姓名：缺失，无证据" in text
    assert "身份证号：new_kind" in text  # a level the spec does not know keeps its name


def test_labels_come_from_the_comparison_levels() -> None:
    from pipeline.link.comparisons.base import NULL
    from pipeline.link.explain import level_labels
    from pipeline.link.spec import load_spec

    labels = level_labels("union_civil")
    for comparison in load_spec("union_civil").comparisons:
        built = comparison.build()
        assert labels[comparison.name] == {**{lv.name: lv.label_zh for lv in built.levels},
                                           "null": NULL.label_zh}


def test_unknown_roll_id_says_so() -> None:
    text = explain_roll_row(evidence(), "R9", prior_weight=-13.0)
    assert text.startswith("档案 R9：本次比对中没有它的民政候选记录")


def test_mask_name() -> None:
    assert mask_name("王伟") == "王*"
    assert mask_name("欧阳娜娜") == "欧阳**"
    # a minority name: its first part is the person's own given name, so only its first
    # character is shown
    assert mask_name("买买提·艾力") == "买**·**"
    assert mask_name("阿依古丽·买买提·吐尔逊") == "阿***·***·***"
    assert mask_name("·艾力") == "*·**"
    assert mask_name(None) == ""


def test_a_roll_id_without_candidates_says_why_it_may_be_missing() -> None:
    """A quarantined roll row: where it is and why it was set aside; an id with no pair
    (or not in the run): says both, and asks to check the id. Typed ids are read as the
    roll's (full-width forms, spaces)."""
    quarantine = pd.DataFrame({
        "source": ["union", "civil"], "source_file": ["roll.xlsx", "civil.csv"],
        "source_sheet": ["朝阳区", None], "source_row": [7, 3],
        "reason": ["档案状态为空或无法识别", "家庭编号为空"], "raw_roll_id": ["R9", None]})
    text = explain_roll_row(evidence(), " Ｒ9 ", prior_weight=-13.0, quarantine=quarantine)
    assert "被隔离" in text and "roll.xlsx，工作表 朝阳区，第 7 行" in text
    assert "档案状态为空" in text and "家庭编号为空" not in text
    text = explain_roll_row(evidence(), "NOPE", prior_weight=-13.0, quarantine=quarantine)
    assert "没有它的民政候选记录" in text and "不在本次" in text and "请核对档案编号" in text
    assert "#1" in explain_roll_row(evidence(), "Ｒ1", prior_weight=-13.0)  # read as R1
    filed = quarantine.assign(raw_roll_id=["Ｒ8 ", None])  # the raw cell read the same way
    assert "被隔离" in explain_roll_row(evidence(), "R8", prior_weight=-13.0,
                                     quarantine=filed)


def test_explain_reads_only_the_rolls_quarantined_rows(tmp_path) -> None:
    from pipeline.cli import _roll_quarantine

    path = tmp_path / "quarantine.parquet"
    pd.DataFrame({"source": ["members", "union"], "source_file": ["m.csv", "roll.csv"],
                  "source_sheet": pd.array([None, None], dtype="string"),
                  "source_row": [4, 3], "reason_code": ["x", "y"], "reason": ["r1", "r2"],
                  "raw_member_id": ["M1", None], "raw_roll_id": [None, "R9"]}).to_parquet(path)
    rows = _roll_quarantine(path)
    assert rows["raw_roll_id"].tolist() == ["R9"] and "raw_member_id" not in rows.columns
    assert _roll_quarantine(tmp_path / "none.parquet") is None
