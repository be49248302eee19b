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
    assert text.index("#1 case C1") < text.index("#2 case C2")
    assert "id_number: one_edit" in text and "+13.00" in text
    assert "total    +7.00" in text  # -13 + 7 + 13
    assert "110105********123X" in text


def test_unknown_roll_id_says_so() -> None:
    assert "no candidate pairs" in explain_roll_row(evidence(), "R9", prior_weight=-13.0)


def test_mask_name() -> None:
    assert mask_name("王伟") == "王*"
    assert mask_name("欧阳娜娜") == "欧阳**"
    assert mask_name("买买提·艾力") == "买买提·**"
    assert mask_name(None) == ""
