"""The union membership roster: roll workers, some civil-household members, everyone else."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .constants import REFERENCE_DATE
from .dates import day, year_of
from .population import World

REF_DAY = day(REFERENCE_DATE)
CIVIL_MEMBER_RATE = 0.03  # share of working-age, living civil persons (not workers) on the roster


def build_roster(world: World, seed: int) -> None:
    rng = np.random.default_rng(seed + 202)
    persons, civil, roll = world.persons, world.civil, world.roll
    n_civil = len(civil)
    n_emp = len(world.employers)

    # Civil people whose civil number is a placeholder or a copy (kinds.py) are kept off the
    # roster: with no usable number and no birth date on either side, nothing could link them.
    no_number = np.zeros(len(persons), dtype=bool)
    if "id_plan" in civil.columns:
        no_number[civil["pid"].to_numpy(dtype="int64")[civil["id_plan"].to_numpy() != ""]] = True
    first = roll.drop_duplicates("pid", keep="first")
    first = first[~no_number[first["pid"].to_numpy(dtype="int64")]]
    worker_pid = first["pid"].to_numpy(dtype="int64")
    worker_emp = first["employer_idx"].to_numpy(dtype="int64")

    is_worker = np.zeros(len(persons), dtype=bool)
    is_worker[roll["pid"].to_numpy(dtype="int64")] = True
    by = persons["birth_year"].to_numpy()
    civ_ok = ((civil["person_status"].to_numpy() == "正常") & ~is_worker[:n_civil]
              & ~no_number[:n_civil] & (by[:n_civil] >= 1962) & (by[:n_civil] <= 2004))
    civ_pick = np.flatnonzero(civ_ok & (rng.random(n_civil) < CIVIL_MEMBER_RATE))
    other = np.flatnonzero(persons["kind"].to_numpy() == "roster").astype("int64")

    pid = np.concatenate([worker_pid, civ_pick.astype("int64"), other])
    emp = np.concatenate([worker_emp, rng.integers(0, n_emp, len(civ_pick) + len(other))])
    birth = persons["birth"].to_numpy(dtype="int64")[pid]
    start = np.maximum(birth + 18 * 366, day(REFERENCE_DATE.replace(year=1990, month=1, day=1)))
    start = np.minimum(start, REF_DAY - 31)
    join = start + (rng.random(len(pid)) * (REF_DAY - start)).astype("int64")

    order = rng.permutation(len(pid))
    pid, emp, join = pid[order], emp[order], join[order]
    ids = rng.choice(9 * 10**9, size=len(pid), replace=False) + 10**9
    roster = pd.DataFrame({
        "member_id": [f"HY{x}" for x in ids.tolist()],
        "pid": pid,
        "employer_idx": emp,
        "join": join,
        "civil_row": np.where(pid < n_civil, pid, -1),
    })
    roster["birth_year"] = year_of(birth[order]) if len(pid) else []
    world.roster = roster
