"""The union membership roster: who must be on it (the plan), and its rows chunk by chunk.

Required members: every roll worker with a usable number (their first roll row's employer),
and 3 % of the living civil persons of working age who are no roll worker. Their member
numbers, employers and join dates are what the whole-roster draw always gave them (replayed:
employers and join dates over the whole default roster, then its order and member numbers;
shadow.py), so truth/ (member_links, NOT_ON_HARDSHIP_ROLL) is the same whatever the roster's
size. Every other member is a filler (fillers.py): ``size - required`` of them.

members.csv is written CHUNK_ROWS rows at a time (``roster_chunks``). Each block of BLOCK rows
holds a hypergeometric share of the required members, in their order, at random rows among the
fillers (drawn a block at a time too); the rows do not depend on the chunk size. Memory per
block, not per roster: a chunk's and two filler blocks' frames, the rendered required rows
(~3 % of the default roster), the required rows' positions, 32 MB of numbers given out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.errors import InputError

from .fillers import BLOCK, RENDER, Fillers, generators, join_days
from .members import render_members
from .population import World
from .shadow import CIVIL_MEMBER_RATE, skip, spans

CHUNK_ROWS = 250_000
PLACE = 3  # purpose of the generator placing required members among fillers


@dataclass
class RosterPlan:
    """The roster to write: ``size`` members, ``required`` of them given."""

    required: pd.DataFrame  # K rows, roster order: member_id, pid, employer_idx, join (day),
    #                         civil_row (-1: none), birth_year, name, id18, id_class
    size: int  # rows of members.csv
    default_size: int  # the size rule's (without --roster-members)
    seed: int

    @property
    def fillers(self) -> int:
        return self.size - len(self.required)


@dataclass
class RosterChunk:
    """One piece of members.csv: the members, their written rows and their ID kinds."""

    frame: pd.DataFrame  # as RosterPlan.required
    rows: pd.DataFrame  # members.csv columns
    kinds: list[str]


def _required_people(world: World, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray,
                                                                      int]:
    """pids of the roll workers and civil persons who must be on the roster (in that order),
    the workers' employers, and how many are workers."""
    persons, civil, roll = world.persons, world.civil, world.roll
    n_civil = len(civil)
    # Civil people whose civil number is a placeholder or a copy (kinds.py) are kept off the
    # roster: with no usable number and no birth date on either side, nothing could link them.
    no_number = np.zeros(len(persons), dtype=bool)
    if "id_plan" in civil.columns:
        no_number[civil["pid"].to_numpy(dtype="int64")[civil["id_plan"].to_numpy() != ""]] = True
    first = roll.drop_duplicates("pid", keep="first")
    first = first[~no_number[first["pid"].to_numpy(dtype="int64")]]
    is_worker = np.zeros(len(persons), dtype=bool)
    is_worker[roll["pid"].to_numpy(dtype="int64")] = True
    by = persons["birth_year"].to_numpy()
    civ_ok = ((civil["person_status"].to_numpy() == "正常") & ~is_worker[:n_civil]
              & ~no_number[:n_civil] & (by[:n_civil] >= 1962) & (by[:n_civil] <= 2004))
    civ_pick = np.flatnonzero(civ_ok & (rng.random(n_civil) < CIVIL_MEMBER_RATE))
    pid = np.concatenate([first["pid"].to_numpy(dtype="int64"), civ_pick.astype("int64")])
    return pid, first["employer_idx"].to_numpy(dtype="int64"), len(first)


def plan_roster(world: World, seed: int, size: int | None = None) -> RosterPlan:
    """The required members with their member numbers, employers and join dates; ``size``
    rows in all (default: required + the shadow roster people, the size rule). Raises
    InputError when ``size`` is below the required count. Memory: briefly ~24 bytes per
    member of the default roster (the replayed order and member numbers), whatever ``size``."""
    rng = np.random.default_rng(seed + 202)
    pid, worker_emp, n_workers = _required_people(world, rng)
    k, n_shadow = len(pid), world.shadow_people
    default = k + n_shadow
    if size is not None and size < k:
        raise InputError(
            f"--roster-members {size:,} is too small: for --households {world.households} "
            f"--seed {seed} the roster must hold {k:,} members (every roll worker with a usable "
            "number and the civil-affairs persons drawn onto the roster).",
            f"pass --roster-members {k:,} or more (without it the roster has {default:,}).")

    def employers(g: np.random.Generator, n: int) -> np.ndarray:
        return g.integers(0, len(world.employers), n)

    emp = np.concatenate([worker_emp, employers(rng, k - n_workers)])
    skip(rng, employers, n_shadow)
    birth = world.persons["birth"].to_numpy(dtype="int64")[pid]
    join = join_days(birth, rng.random(k))
    skip(rng, lambda g, n: g.random(n), n_shadow)
    order = rng.permutation(default)
    at = np.flatnonzero(order < k)  # where the whole-roster order put the required members
    numbers = rng.choice(9 * 10**9, size=default, replace=False)[at] + 10**9
    j = order[at]
    del order
    persons = world.persons
    required = pd.DataFrame({
        "member_id": [f"HY{x}" for x in numbers.tolist()],
        "pid": pid[j],
        "employer_idx": emp[j],
        "join": join[j],
        "civil_row": np.where(pid[j] < len(world.civil), pid[j], -1),
        "birth_year": persons["birth_year"].to_numpy()[pid[j]],
        "name": persons["name"].to_numpy()[pid[j]],
        "id18": persons["id18"].to_numpy()[pid[j]],
        "id_class": persons["id_class"].to_numpy(dtype=object)[pid[j]],
    })
    return RosterPlan(required, default if size is None else size, default, seed)


def _positions(seed: int, size: int, k: int) -> np.ndarray:
    """Rows of members.csv (sorted, int64) that hold the ``k`` required members: per block of
    BLOCK rows a hypergeometric share of them, at random rows of the block."""
    rng = np.random.default_rng([seed, PLACE])
    out, left = [np.zeros(0, dtype=np.int64)], k
    for a, b in spans(size, BLOCK):
        others = size - a - left
        q = (int(rng.hypergeometric(left, others, b - a)) if left and others
             else min(b - a, left))
        out.append(a + np.sort(rng.choice(b - a, q, replace=False)).astype(np.int64))
        left -= q
    return np.concatenate(out)


def roster_chunks(world: World, plan: RosterPlan,
                  chunk_rows: int = CHUNK_ROWS) -> Iterator[RosterChunk]:
    """members.csv in pieces of ``chunk_rows`` rows (the last may be shorter); the rows are
    the same whatever ``chunk_rows``."""
    seed, required = plan.seed, plan.required
    req_rows, req_kinds = render_members(required, world.employers, *generators(seed, RENDER))
    positions = _positions(seed, plan.size, len(required))
    fillers = Fillers(seed, plan.fillers, persons=world.persons, employers=world.employers,
                      required_numbers=np.array([int(m[2:]) for m in required["member_id"]]))
    for a, b in spans(plan.size, chunk_rows):
        r0, r1 = np.searchsorted(positions, [a, b]).tolist()
        fill, fill_rows, fill_kinds = fillers.take(a - r0, (b - a) - (r1 - r0))
        is_req = np.zeros(b - a, dtype=bool)
        is_req[positions[r0:r1] - a] = True
        pick = np.empty(b - a, dtype=np.int64)  # chunk row i = [required…, fillers…][pick[i]]
        pick[is_req] = np.arange(r1 - r0)
        pick[~is_req] = r1 - r0 + np.arange(b - a - (r1 - r0))
        kinds = req_kinds[r0:r1] + fill_kinds
        yield RosterChunk(
            frame=pd.concat([required.iloc[r0:r1], fill], ignore_index=True).iloc[pick]
            .reset_index(drop=True),
            rows=pd.concat([req_rows.iloc[r0:r1], fill_rows], ignore_index=True).iloc[pick]
            .reset_index(drop=True),
            kinds=[kinds[i] for i in pick.tolist()])
