"""Deterministic links: two records whose ID numbers are both valid and equal.

A valid GB 11643 number is unique to one person, so agreement is near-certain evidence. The
m-probability of ID agreement (from configuration) is the match probability; the weight is
log2(m/u) with u = 1 / (number of distinct valid IDs on the other side), the chance that a
random pair agrees. Names are compared too: an exact ID whose names disagree is still linked
and flagged (`name_agrees`), because SPEC §4 reports it as ID_NAME_CONFLICT.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from pipeline.normalise.names import name_without_separator

METHOD = "id_exact"
MATCH = "match"
POSSIBLE = "possible"


def _weight(m: float, distinct_ids: int) -> float:
    u = 1.0 / max(distinct_ids, 1)
    return math.log2(m / u)


def _names_agree(left: pd.Series, right: pd.Series) -> pd.Series:
    """Names agree after normalisation, with or without the minority-name separator."""
    same = (left == right).fillna(False)
    strip = left.map(name_without_separator) == right.map(name_without_separator)
    return (same | strip.fillna(False)).astype(bool)


def link_union_civil(union: pd.DataFrame, civil: pd.DataFrame, m: float = 0.999) -> pd.DataFrame:
    """Links from roll rows to civil persons on equal valid IDs.

    A roll row gets at most one `match`: when the same ID appears in several civil cases
    (a person who moved household), the active case with the latest approval wins and the
    others are `possible`, for review. Several roll rows may match one civil person only
    because they carry the same ID: the same worker filed twice.
    """
    left = union.loc[union["id_valid"], ["row_key", "roll_id", "id_norm", "name"]]
    right = civil.loc[civil["id_valid"], ["row_key", "case_id", "member_no", "id_norm", "name",
                                          "case_status", "approved_date"]]
    pairs = left.merge(right, on="id_norm", suffixes=("_union", "_civil"))
    pairs["name_agrees"] = _names_agree(pairs["name_union"], pairs["name_civil"])
    pairs["_active"] = (pairs["case_status"] == "在保").fillna(False)
    pairs = pairs.sort_values(
        ["row_key_union", "name_agrees", "_active", "approved_date", "case_id", "member_no"],
        ascending=[True, False, False, False, True, True], na_position="last", kind="mergesort",
    )
    first = ~pairs.duplicated("row_key_union")
    weight = _weight(m, right["id_norm"].nunique())
    return pd.DataFrame({
        "union_row_key": pairs["row_key_union"].astype("string"),
        "union_roll_id": pairs["roll_id"].astype("string"),
        "civil_row_key": pairs["row_key_civil"].astype("string"),
        "civil_case_id": pairs["case_id"].astype("string"),
        "civil_member_no": pairs["member_no"].astype("string"),
        "match_probability": np.full(len(pairs), m, dtype="float64"),
        "match_weight": np.full(len(pairs), weight, dtype="float64"),
        "decision": pd.Series(np.where(first, MATCH, POSSIBLE), index=pairs.index,
                              dtype="string"),
        "method": pd.Series(METHOD, index=pairs.index, dtype="string"),
        "id_level": pd.Series("exact", index=pairs.index, dtype="string"),
        "name_level": pd.Series(np.where(pairs["name_agrees"], "exact", "differs"),
                                index=pairs.index, dtype="string"),
        "name_agrees": pairs["name_agrees"].astype(bool),
    }).reset_index(drop=True)


def link_civil_members(civil: pd.DataFrame, members: pd.DataFrame,
                       m: float = 0.999) -> pd.DataFrame:
    """Links from civil persons to roster members on equal valid IDs (one match per person)."""
    left = civil.loc[civil["id_valid"], ["row_key", "case_id", "member_no", "id_norm", "name"]]
    right = members.loc[members["id_valid"], ["row_key", "member_id", "id_norm", "name"]]
    pairs = left.merge(right, on="id_norm", suffixes=("_civil", "_member"))
    pairs["name_agrees"] = _names_agree(pairs["name_civil"], pairs["name_member"])
    pairs = pairs.sort_values(["row_key_civil", "name_agrees", "member_id"],
                              ascending=[True, False, True], kind="mergesort")
    first = ~pairs.duplicated("row_key_civil")
    weight = _weight(m, right["id_norm"].nunique())
    return pd.DataFrame({
        "civil_row_key": pairs["row_key_civil"].astype("string"),
        "civil_case_id": pairs["case_id"].astype("string"),
        "civil_member_no": pairs["member_no"].astype("string"),
        "member_row_key": pairs["row_key_member"].astype("string"),
        "member_id": pairs["member_id"].astype("string"),
        "match_probability": np.full(len(pairs), m, dtype="float64"),
        "match_weight": np.full(len(pairs), weight, dtype="float64"),
        "decision": pd.Series(np.where(first, MATCH, POSSIBLE), index=pairs.index,
                              dtype="string"),
        "method": pd.Series(METHOD, index=pairs.index, dtype="string"),
        "name_agrees": pairs["name_agrees"].astype(bool),
    }).reset_index(drop=True)


def roll_duplicate_groups(union: pd.DataFrame) -> pd.DataFrame:
    """Roll rows (在档 only) that share a valid ID with another 在档 row: the same worker filed
    twice. Returns row_key, roll_id and a group key (the shared ID's row keys, sorted)."""
    active = union.loc[union["id_valid"] & (union["roll_status"] == "在档").fillna(False),
                       ["row_key", "roll_id", "id_norm"]]
    counts = active["id_norm"].map(active["id_norm"].value_counts())
    dup = active[counts > 1].copy()
    dup["group"] = dup.groupby("id_norm")["row_key"].transform(lambda s: ",".join(sorted(s)))
    return dup[["row_key", "roll_id", "group"]].reset_index(drop=True)
