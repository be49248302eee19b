"""Planted discrepancies: change the clean world on purpose, a few % of roll entries per code.

Each 在档 entry gets at most one "primary" planted code; DECEASED may coexist with one.
The truth is *not* taken from these intentions: truth.py recomputes every finding from the
final data, so accidental findings are counted too.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from . import names as nm
from .constants import DISTRICTS, INDUSTRY_UNIONS, REFERENCE_DATE
from .dates import day, to_date
from .population import World

REF_DAY = day(REFERENCE_DATE)

RATES: dict[str, float] = {  # share of 在档 roll entries
    "ASSISTANCE_ENDED": 0.015,
    "ASSISTANCE_TYPE_MISMATCH": 0.015,
    "UNCLAIMED_ASSISTANCE": 0.015,
    "HOUSEHOLD_SIZE_MISMATCH": 0.02,
    "ID_NAME_CONFLICT": 0.01,
    "CLAIMED_ASSISTANCE_NOT_FOUND": 0.02,
    "CATEGORY_INCONSISTENT": 0.02,
    "DUPLICATE_ROLL_ENTRY": 0.02,
    "DECEASED": 0.01,
}


def _count(code: str, active: int) -> int:
    return max(2, round(RATES[code] * active))


def plant(world: World, seed: int) -> None:
    r = random.Random(seed * 7919 + 1)
    roll, civil, persons = world.roll, world.civil, world.persons
    roll["planted"] = ""
    roll["force_valid_id"] = False
    roll["dup_of"] = -1
    roll["planted_deceased"] = False
    roll["name_variant"] = "none"
    civil["force_valid_id"] = False
    active = roll.index[roll["roll_status"] == "在档"].tolist()
    n_active = len(active)
    crow = roll["civil_row"].to_numpy()
    case_ok = civil["case_status"].to_numpy() == "在保"
    alive = civil["person_status"].to_numpy() == "正常"
    linked_ok = [i for i in active if crow[i] >= 0 and case_ok[crow[i]] and alive[crow[i]]]
    rollonly = [i for i in active if crow[i] < 0]
    r.shuffle(linked_ok)
    r.shuffle(rollonly)

    pos = 0
    for code in ("ASSISTANCE_ENDED", "ASSISTANCE_TYPE_MISMATCH", "UNCLAIMED_ASSISTANCE",
                 "HOUSEHOLD_SIZE_MISMATCH", "ID_NAME_CONFLICT"):
        k = _count(code, n_active)
        for i in linked_ok[pos: pos + k]:
            roll.at[i, "planted"] = code
        pos += k
    for i in rollonly[: _count("CLAIMED_ASSISTANCE_NOT_FOUND", n_active)]:
        roll.at[i, "planted"] = "CLAIMED_ASSISTANCE_NOT_FOUND"
    free = [i for i in active if roll.at[i, "planted"] == ""]
    r.shuffle(free)
    k_cat = _count("CATEGORY_INCONSISTENT", n_active)
    k_dup = _count("DUPLICATE_ROLL_ENTRY", n_active)
    for i in free[:k_cat]:
        roll.at[i, "planted"] = "CATEGORY_INCONSISTENT"
    dups = free[k_cat: k_cat + k_dup]
    for i in dups:
        roll.at[i, "planted"] = "DUPLICATE_ROLL_ENTRY"
    deceased = [i for i in linked_ok if roll.at[i, "planted"] != "DUPLICATE_ROLL_ENTRY"]
    r.shuffle(deceased)
    deceased = deceased[: _count("DECEASED", n_active)]

    atypes = ("低保", "低收入", "特困")
    case_rows: dict[str, list[int]] = {}
    for j, cid in enumerate(civil["case_id"].tolist()):
        case_rows.setdefault(cid, []).append(j)
    ended: dict[str, list] = {"rows": [], "case_status": [], "exit_day": []}
    for i in roll.index[roll["planted"] != ""].tolist():
        code = roll.at[i, "planted"]
        c = int(crow[i])
        if code == "ASSISTANCE_ENDED":
            case = case_rows[civil.at[c, "case_id"]]
            status = r.choice(("停保", "退出"))
            lo = min(max(int(civil.at[c, "approved"]) + 30, REF_DAY - 900), REF_DAY - 2)
            ex = r.randint(lo, REF_DAY - 1)
            ended["rows"] += case  # set below, at once: a frame-wide set per case is slow
            ended["case_status"] += [status] * len(case)
            ended["exit_day"] += [ex] * len(case)
        elif code == "ASSISTANCE_TYPE_MISMATCH":
            roll.at[i, "claimed"] = r.choice([t for t in atypes if t != roll.at[i, "claimed"]])
        elif code == "UNCLAIMED_ASSISTANCE":
            roll.at[i, "claimed"] = "无"
        elif code == "HOUSEHOLD_SIZE_MISMATCH":
            hh = int(roll.at[i, "household_size"])
            roll.at[i, "household_size"] = r.choice([x for x in (hh - 2, hh - 1, hh + 1, hh + 2)
                                                    if x >= 1])
        elif code == "ID_NAME_CONFLICT":
            _conflict_name(r, civil, c, case_rows[civil.at[c, "case_id"]])
            roll.at[i, "force_valid_id"] = True
            civil.at[c, "force_valid_id"] = True
        elif code == "CLAIMED_ASSISTANCE_NOT_FOUND":
            roll.at[i, "claimed"] = r.choice(atypes)
        elif code == "CATEGORY_INCONSISTENT":
            if r.random() < 0.5:
                roll.at[i, "category"], roll.at[i, "income"] = "深度困难", float(
                    r.randint(1400, 2600))
            else:
                roll.at[i, "category"], roll.at[i, "income"] = "相对困难", float(
                    r.randint(2800, 6000))
    for column in ("case_status", "exit_day"):
        if ended["rows"]:
            civil.loc[ended["rows"], column] = ended[column]
    for i in deceased:
        c = int(crow[i])
        civil.at[c, "person_status"] = "死亡"
        lo = min(max(int(roll.at[i, "filed"]), REF_DAY - 700), REF_DAY - 2)
        civil.at[c, "deceased_day"] = r.randint(lo, REF_DAY - 1)
        roll.at[i, "planted_deceased"] = True
    world.roll = _add_duplicates(r, roll, dups)
    _assign_roll_ids(world, seed)
    del persons


def _conflict_name(r: random.Random, civil: pd.DataFrame, c: int, case: list[int]) -> None:
    """Civil records another name for the worker: the spouse's, or a different given name."""
    rel = civil.at[c, "relation"]
    partner = {"户主": "配偶", "配偶": "户主"}.get(rel)
    own = civil.at[c, "name"]
    for j in case:
        if partner and civil.at[j, "relation"] == partner and civil.at[j, "name"] != own:
            civil.at[c, "name"] = civil.at[j, "name"]
            return
    male = bool(civil.at[c, "male"])
    if nm.is_minority(own):
        first, father = own.split("·", 1)
        pool = nm.MINORITY_MALE if male else nm.MINORITY_FEMALE
        civil.at[c, "name"] = r.choice([x for x in pool if x != first]) + "·" + father
        return
    sur, giv = nm.split_surname(own)
    while True:
        g = nm.given(r, male)
        if g != giv and nm.HOMOPHONES.get(giv[-1:]) != g[-1:]:
            civil.at[c, "name"] = sur + g
            return


def _add_duplicates(r: random.Random, roll: pd.DataFrame, dups: list[int]) -> pd.DataFrame:
    extra = []
    for i in dups:
        base = roll.loc[i].to_dict()
        for _ in range(1 if r.random() < 0.85 else 2):
            row = dict(base)
            row["dup_of"] = i
            if str(base["filing_union"]).endswith("总工会"):
                row["filing_union"] = r.choice(INDUSTRY_UNIONS)
            else:
                row["filing_union"] = f"{DISTRICTS[base['filing_district']][0]}总工会"
            row["filed"] = min(REF_DAY - 30, int(base["filed"]) + r.randint(-400, 400))
            row["filed_year"] = to_date(row["filed"]).year
            row["name_variant"] = r.choice(("trad", "space", "none"))
            if r.random() < 0.3:
                row["phone"] = base["phone"][:3] + f"{r.randrange(10**8):08d}"
            extra.append(row)
    out = pd.concat([roll, pd.DataFrame(extra)], ignore_index=True)
    # interleave the copies randomly among the roll
    order = np.random.default_rng(r.randrange(2**32)).permutation(len(out))
    return out.iloc[order].reset_index(drop=True)


def _assign_roll_ids(world: World, seed: int) -> None:
    roll = world.roll
    rng = np.random.default_rng(seed + 101)
    seqs = rng.choice(999_999, size=len(roll), replace=False) + 1
    roll["roll_id"] = [f"GH{y}-{s:06d}" for y, s in zip(roll["filed_year"].tolist(),
                                                          seqs.tolist(), strict=True)]
