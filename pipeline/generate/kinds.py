"""Planted kinds of SPEC §1.4: numbers that are not resident IDs, placeholders, shared numbers,
GBK-era and dashed names, Excel's 1900-02-29.

Runs after plant.py (findings) and before the roster is planned. It changes the world on
purpose:

* people whose number is a residence permit of Hong Kong / Macau / Taiwan residents, a 2023
  foreigners' permanent-residence number, or carries a historic or an unpublished prefix
  (``persons.id_class``; their ``id18`` reissued with the same birth date and sequence);
* roll rows that write a placeholder, or a number shared with another worker
  (``roll.id_plan`` / ``roll.id_override``), and civil rows likewise (``civil.id_plan``: a
  placeholder, or the 户主's number copied onto a family member);
* linked workers whose name holds a character GBK-era systems stored at a private-use code
  point (one side writes it so), or a minority name the roll types with a dash;
* roll 出生日期 cells holding Excel serial 60;
* at least one roll row per text protection mark (render adds more at their rates).

Counts on the roll are ``max(1, round(rate × roll rows))`` so that small sets hold every kind;
other people get the per-person rates. Rows planted here are never rows of another planted
finding nor a worker filed twice, and the people whose number is no evidence (placeholder,
shared) have names no one else in the roll or the civil file carries, so their true links stay
findable on name, birth date, district and address.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable

import numpy as np
import pandas as pd

from . import names as nm
from .constants import (
    CIVIL_PLACEHOLDER_RATE,
    CIVIL_SHARED_RATE,
    CIVIL_WORKER_ID_RATE,
    DASH_NAME_RATE,
    FOREIGN_NATIONALITIES,
    FOREIGN_PROVINCES,
    HISTORIC_PREFIXES,
    PERMIT_PREFIXES,
    PERSON_CLASS_RATES,
    PERSON_CLASSES,
    PLACEHOLDER_FORMS,
    PROTECTION_KINDS,
    PUA_NAME_GIVEN,
    PUA_NAME_RATE,
    ROLL_KIND_RATES,
    SERIAL60_RATE,
    UNPUBLISHED_PREFIXES,
)
from .corrupt import protect
from .idcheck import id_check_char
from .population import World
from .shadow import replay_person_classes

ROLL_COLUMNS: dict[str, object] = {"id_plan": "", "id_override": "", "name_form": "",
                                   "birth_serial60": False}
CIVIL_COLUMNS: dict[str, object] = {"id_plan": "", "id_override": "", "name_pua": False}


def count_on_roll(rate: float, roll_rows: int) -> int:
    """Rows of one kind on a roll of ``roll_rows``: the rate, but at least one."""
    return max(1, round(rate * roll_rows))


def _weighted(r: random.Random, items: tuple[tuple[str, float], ...]) -> str:
    """One item of (value, weight) pairs."""
    cum = np.cumsum([w for _, w in items]).tolist()
    return items[min(bisect.bisect_right(cum, r.random() * cum[-1]), len(items) - 1)][0]


class RowPool:
    """Roll rows free for one planted kind, each taken at most once.

    Free: no planted finding, not forced valid (ID_NAME_CONFLICT), the worker's only roll row.
    Linked and roll-only rows are kept apart so a take can alternate between them."""

    def __init__(self, r: random.Random, roll: pd.DataFrame) -> None:
        counts = roll["pid"].map(roll["pid"].value_counts()).to_numpy()
        free = ((roll["planted"].to_numpy() == "") & (counts == 1)
                & ~roll["force_valid_id"].to_numpy(dtype=bool))
        self.linked_mask = roll["civil_row"].to_numpy() >= 0
        rows = np.flatnonzero(free).tolist()
        r.shuffle(rows)
        self.linked = [i for i in rows if self.linked_mask[i]]
        self.rollonly = [i for i in rows if not self.linked_mask[i]]
        self.taken: set[int] = set()

    def take(self, k: int, where: Callable[[int], bool] = lambda i: True,
             linked: str = "alternate") -> list[int]:
        """Up to ``k`` rows satisfying ``where``. ``linked``: 'alternate' (linked first, then
        roll-only, …; either when one runs out), 'only' (linked rows only) or 'prefer'.
        Each list is walked once per call."""
        walks = {"linked": iter(self.linked), "rollonly": iter(self.rollonly)}

        def first(name: str) -> int | None:
            for i in walks[name]:
                if i not in self.taken and where(i):
                    self.taken.add(i)
                    return i
            return None

        out: list[int] = []
        for n in range(k):
            if linked == "only":
                order = ["linked"]
            elif linked == "prefer" or n % 2 == 0:
                order = ["linked", "rollonly"]
            else:
                order = ["rollonly", "linked"]
            for name in order:
                if (i := first(name)) is not None:
                    out.append(i)
                    break
        return out


# ---------------------------------------------------------------- numbers


def reissue_id(r: random.Random, id18: str, id_class: str) -> str:
    """The person's number as one of ``id_class``: same birth date and sequence, new first six
    characters and check character."""
    if id_class in PERMIT_PREFIXES:
        prefix = PERMIT_PREFIXES[id_class]
    elif id_class == "foreign_pr":
        prefix = "9" + _weighted(r, FOREIGN_PROVINCES) + _weighted(r, FOREIGN_NATIONALITIES)
    elif id_class == "historic_prefix":
        prefix = r.choice(HISTORIC_PREFIXES)
    elif id_class == "unpublished_prefix":
        prefix = r.choice(UNPUBLISHED_PREFIXES)
    else:
        raise ValueError(id_class)
    body = prefix + id18[6:17]
    return body + id_check_char(body)


def bump_sequence(id18: str) -> str:
    """The same number with the next sequence of the same sex (never 000)."""
    seq = (int(id18[14:17]) + 2) % 1000 or 998
    body = f"{id18[:14]}{seq:03d}"
    return body + id_check_char(body)


def placeholder_value(r: random.Random, id18: str, district: str) -> str:
    """What a clerk types for an unknown number (PLACEHOLDER_FORMS)."""
    form = _weighted(r, PLACEHOLDER_FORMS)
    if form == "repeat_1":
        return "1" * 18
    if form == "repeat_0":
        return "0" * 18
    if form == "repeat_other":
        return r.choice("2345689") * 18
    if form == "ascending":
        return "123456789012345678"
    if form == "descending":
        return "987654321098765432"
    if form == "zero_birth":
        body = id18[:6] + "0" * 8 + id18[14:17]
        return body + id_check_char(body)
    if form == "zero_sequence":
        body = id18[:14] + "000"
        check = id_check_char(body)
        if check != "0":  # …0000 would read as Excel's damage, not a placeholder
            return body + check
    return district + "0" * 12


class Issuer:
    """Reissues numbers, keeping every number issued here unique (the new prefixes are no
    one else's, so a clash is only possible among the reissued)."""

    def __init__(self, r: random.Random, persons: pd.DataFrame) -> None:
        self.r = r
        self.persons = persons
        self.ids = persons["id18"].to_numpy()
        self.new: dict[int, tuple[str, str]] = {}  # pid -> (number, class)
        self.issued: set[str] = set()

    def reissue(self, pid: int, id_class: str) -> str:
        new = reissue_id(self.r, self.ids[pid], id_class)
        while new in self.issued:
            new = bump_sequence(new)
        self.issued.add(new)
        self.new[pid] = (new, id_class)
        return new

    def commit(self) -> None:
        """Write the reissued numbers into ``persons`` (``id_class`` a category column)."""
        persons = self.persons
        categories = ["resident", *PERSON_CLASSES]
        codes = np.zeros(len(persons), dtype=np.int8)
        if self.new:
            pids = np.fromiter(self.new, dtype="int64", count=len(self.new))
            numbers = [v[0] for v in self.new.values()]
            ids = persons["id18"].to_numpy(dtype=object).copy()
            prefix = persons["prefix"].to_numpy(dtype=object).copy()
            ids[pids] = numbers
            prefix[pids] = [n[:6] for n in numbers]
            persons["id18"] = ids
            persons["prefix"] = prefix
            codes[pids] = [categories.index(v[1]) for v in self.new.values()]
        persons["id_class"] = pd.Categorical.from_codes(codes, categories=categories)


# ---------------------------------------------------------------- the plan


def plant_kinds(world: World, seed: int) -> None:
    """Plant every kind of this module into ``world`` (in place)."""
    r = random.Random(seed * 104_729 + 11)
    rng = np.random.default_rng(seed + 606)
    roll, civil = world.roll, world.civil
    for column, default in ROLL_COLUMNS.items():
        roll[column] = default
    for column, default in CIVIL_COLUMNS.items():
        civil[column] = default
    pool = RowPool(r, roll)
    n_roll = len(roll)
    _plant_pua_names(r, world, pool, n_roll)
    _plant_dash_names(r, world, pool, n_roll)
    unique = _unique_name_pids(world)
    issuer = Issuer(r, world.persons)
    _plant_roll_classes(world, pool, issuer, n_roll)
    _plant_person_classes(rng, world, issuer)
    issuer.commit()
    _plant_roll_placeholders(r, world, pool, unique, n_roll)
    _plant_roll_shared(r, world, pool, unique, n_roll)
    _plant_serial60(world, pool, n_roll)
    _plant_roll_protection(r, world, pool)
    _plant_civil_worker_ids(r, world, pool, unique, n_roll)
    _plant_civil_placeholders(r, rng, world)
    _plant_civil_shared(r, rng, world)


def _rename(world: World, pid: int, civil_row: int, name: str, minority: bool) -> None:
    """A person's canonical name (persons and their civil row)."""
    world.persons.at[pid, "name"] = name
    world.persons.at[pid, "minority"] = minority
    world.civil.at[civil_row, "name"] = name
    world.civil.at[civil_row, "minority"] = minority


def _plant_pua_names(r: random.Random, world: World, pool: RowPool, n_roll: int) -> None:
    """Linked workers named with 䶮 / 䜣; the roll or the civil file writes the private-use
    code point a GBK-era system stored (name_form pua_roll / pua_civil)."""
    roll, persons, civil = world.roll, world.persons, world.civil
    pids, crow = roll["pid"].to_numpy(), roll["civil_row"].to_numpy()
    minority = persons["minority"].to_numpy()
    rows = pool.take(count_on_roll(PUA_NAME_RATE, n_roll), lambda i: not minority[pids[i]],
                     linked="only")
    for i in rows:
        pid, c = int(pids[i]), int(crow[i])
        sur, _ = nm.split_surname(persons.at[pid, "name"])
        _rename(world, pid, c, sur + r.choice(PUA_NAME_GIVEN), False)
        on_roll = r.random() < 0.5
        roll.at[i, "name_form"] = "pua_roll" if on_roll else "pua_civil"
        civil.at[c, "name_pua"] = not on_roll


def _plant_dash_names(r: random.Random, world: World, pool: RowPool, n_roll: int) -> None:
    """Linked minority workers whose roll row types a dash between the name's parts (civil
    affairs writes ·); Han workers are renamed when too few minority workers are linked."""
    roll, persons = world.roll, world.persons
    pids, crow = roll["pid"].to_numpy(), roll["civil_row"].to_numpy()
    minority = persons["minority"].to_numpy()
    k = count_on_roll(DASH_NAME_RATE, n_roll)
    rows = pool.take(k, lambda i: bool(minority[pids[i]]), linked="only")
    for i in pool.take(k - len(rows), lambda i: not minority[pids[i]], linked="only"):
        pid = int(pids[i])
        _rename(world, pid, int(crow[i]), nm.minority_name(r, bool(persons.at[pid, "male"])),
                True)
        rows.append(i)
    for i in rows:
        roll.at[i, "name_form"] = "dash"


def _unique_name_pids(world: World) -> set[int]:
    """People of the roll or the civil file whose name no one else there carries."""
    pids = np.unique(np.concatenate([world.roll["pid"].to_numpy(dtype="int64"),
                                     world.civil["pid"].to_numpy(dtype="int64")]))
    names = pd.Series(world.persons["name"].to_numpy()[pids])
    counts = names.map(names.value_counts()).to_numpy()
    return set(pids[counts == 1].tolist())


def _plant_roll_classes(world: World, pool: RowPool, issuer: Issuer, n_roll: int) -> None:
    """Roll workers (and so their civil rows) whose number is a permit, a foreigners' number,
    or carries a historic / unpublished prefix."""
    roll = world.roll
    pids = roll["pid"].to_numpy()
    for id_class in PERSON_CLASSES:
        for i in pool.take(count_on_roll(ROLL_KIND_RATES[id_class], n_roll)):
            issuer.reissue(int(pids[i]), id_class)
            roll.at[i, "id_plan"] = id_class


def _plant_person_classes(rng: np.random.Generator, world: World, issuer: Issuer) -> None:
    """Everyone else (civil people who are no roll worker), at the per-person rates of
    PERSON_CLASS_RATES; then the draws the shadow roster people took (shadow.py: roster
    members are classed as they are drawn, fillers.py)."""
    n = len(world.persons)
    eligible = np.ones(n, dtype=bool)
    eligible[world.roll["pid"].to_numpy(dtype="int64")] = False
    classes = list(PERSON_CLASS_RATES)
    cum = np.cumsum([PERSON_CLASS_RATES[c] for c in classes])
    which = np.searchsorted(cum, rng.random(n), side="right")
    for pid in np.flatnonzero(eligible & (which < len(classes))).tolist():
        issuer.reissue(pid, classes[which[pid]])
    replay_person_classes(rng, issuer.r, world.shadow_people, classes, cum, reissue_id)


def _plant_roll_placeholders(r: random.Random, world: World, pool: RowPool, unique: set[int],
                             n_roll: int) -> None:
    """Roll rows whose clerk typed a placeholder for the worker's number."""
    roll, ids = world.roll, world.persons["id18"].to_numpy()
    pids = roll["pid"].to_numpy()
    rows = pool.take(count_on_roll(ROLL_KIND_RATES["placeholder"], n_roll),
                     lambda i: int(pids[i]) in unique)
    for i in rows:
        roll.at[i, "id_plan"] = "placeholder"
        roll.at[i, "id_override"] = placeholder_value(r, ids[pids[i]], roll.at[i, "hukou"])


def _toneless(name: str) -> str:
    """A name's toneless pinyin (张伟 and 章伟 sound alike)."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(name))


def _plant_roll_shared(r: random.Random, world: World, pool: RowPool, unique: set[int],
                       n_roll: int) -> None:
    """Pairs of 在档 rows of different workers (names differ, even in sound; birth dates
    differ) where the clerk copied one worker's number onto the other row, in the same
    district's sheet where possible. Both rows are planted 'shared'."""
    roll, persons = world.roll, world.persons
    pids = roll["pid"].to_numpy()
    active = roll["roll_status"].to_numpy() == "在档"
    births, names = persons["birth"].to_numpy(), persons["name"].to_numpy()
    ids = persons["id18"].to_numpy()
    district = roll["filing_district"].to_numpy()

    def ok(i: int) -> bool:
        return bool(active[i]) and int(pids[i]) in unique

    pairs = max(1, round(count_on_roll(ROLL_KIND_RATES["shared"], n_roll) / 2))
    for _ in range(pairs):
        owner = pool.take(1, ok, linked="prefer")
        if not owner:
            return
        a = owner[0]
        sound = _toneless(names[pids[a]])

        def differs(i: int, a: int = a, sound: str = sound) -> bool:
            return (ok(i) and births[pids[i]] != births[pids[a]]
                    and _toneless(names[pids[i]]) != sound)

        copy = (pool.take(1, lambda i, a=a: differs(i) and district[i] == district[a])
                or pool.take(1, differs))
        roll.at[a, "id_plan"] = "shared"
        for b in copy:
            roll.at[b, "id_plan"] = "shared"
            roll.at[b, "id_override"] = ids[pids[a]]
        if not copy:  # pragma: no cover - only on a roll of a few rows
            roll.at[a, "id_plan"] = ""


def _plant_serial60(world: World, pool: RowPool, n_roll: int) -> None:
    """Roll rows whose 出生日期 cell holds serial 60 (their number is written soundly)."""
    for i in pool.take(count_on_roll(SERIAL60_RATE, n_roll)):
        world.roll.at[i, "birth_serial60"] = True
        world.roll.at[i, "force_valid_id"] = True


def _plant_roll_protection(r: random.Random, world: World, pool: RowPool) -> None:
    """One roll row per text protection mark, so that small rolls hold each; render adds
    more at ROLL_PROTECTION_RATES."""
    roll, ids = world.roll, world.persons["id18"].to_numpy()
    pids = roll["pid"].to_numpy()
    for kind in PROTECTION_KINDS:
        for i in pool.take(1):
            roll.at[i, "id_plan"] = kind
            roll.at[i, "id_override"] = protect(r, ids[pids[i]], kind)


def _plant_civil_worker_ids(r: random.Random, world: World, pool: RowPool, unique: set[int],
                            n_roll: int) -> None:
    """Linked workers whose civil row carries a placeholder, or (not being the 户主) the
    户主's number copied onto them; their roll row writes their own number soundly."""
    roll, civil = world.roll, world.civil
    ids = world.persons["id18"].to_numpy()
    pids, crow = roll["pid"].to_numpy(), roll["civil_row"].to_numpy()
    k = count_on_roll(CIVIL_WORKER_ID_RATE, n_roll)
    for i in pool.take(k, lambda i: int(pids[i]) in unique, linked="only"):
        c = int(crow[i])
        civil.at[c, "id_plan"] = "placeholder"
        civil.at[c, "id_override"] = placeholder_value(r, ids[pids[i]], civil.at[c, "district"])
        roll.at[i, "force_valid_id"] = True
    heads = _case_heads(civil)
    workers = set(roll["civil_row"].tolist())
    case_of, names = civil["case_id"].to_numpy(), civil["name"].to_numpy()
    planted = set(np.flatnonzero(civil["id_plan"].to_numpy() != "").tolist())

    def copy_ok(i: int) -> bool:
        c = int(crow[i])
        head = heads.get(case_of[c], -1)
        return (int(pids[i]) in unique and head >= 0 and head != c and head not in workers
                and head not in planted and _toneless(names[head]) != _toneless(names[c]))

    for i in pool.take(k, copy_ok, linked="only"):
        c = int(crow[i])
        _share_head_number(civil, ids, heads[case_of[c]], c)
        roll.at[i, "force_valid_id"] = True


def _case_members(civil: pd.DataFrame) -> dict[str, range]:
    """Civil rows of each case (a household's rows are consecutive, in case order)."""
    case = civil["case_id"].to_numpy()
    starts = [0, *(np.flatnonzero(case[1:] != case[:-1]) + 1).tolist(), len(case)]
    out = {case[a]: range(a, b) for a, b in itertools.pairwise(starts)}
    assert len(out) == len(starts) - 1, "a household's civil rows are not consecutive"
    return out


def _case_heads(civil: pd.DataFrame) -> dict[str, int]:
    """Civil row of each case's 户主."""
    heads = civil.index[civil["relation"] == "户主"]
    return dict(zip(civil.loc[heads, "case_id"].tolist(), heads.tolist(), strict=True))


def _share_head_number(civil: pd.DataFrame, ids: np.ndarray, head: int, member: int) -> None:
    """The 户主's number written on a family member's row too; both rows planted 'shared'."""
    civil.at[head, "id_plan"] = "shared"
    civil.at[member, "id_plan"] = "shared"
    civil.at[member, "id_override"] = ids[int(civil.at[head, "pid"])]


def _non_workers(world: World) -> np.ndarray:
    """Civil rows of people who are no roll worker and have nothing planted on their number."""
    free = world.civil["id_plan"].to_numpy() == ""
    free[world.roll["civil_row"].to_numpy()[world.roll["civil_row"].to_numpy() >= 0]] = False
    return free


def _plant_civil_placeholders(r: random.Random, rng: np.random.Generator, world: World) -> None:
    """Civil people (not roll workers) with a placeholder number, at CIVIL_PLACEHOLDER_RATE."""
    civil = world.civil
    ids = world.persons["id18"].to_numpy()
    chosen = _non_workers(world) & (rng.random(len(civil)) < CIVIL_PLACEHOLDER_RATE)
    for c in np.flatnonzero(chosen).tolist():
        civil.at[c, "id_plan"] = "placeholder"
        civil.at[c, "id_override"] = placeholder_value(r, ids[civil.at[c, "pid"]],
                                                       civil.at[c, "district"])


def _plant_civil_shared(r: random.Random, rng: np.random.Generator, world: World) -> None:
    """Civil households (no roll worker among the two people) whose 户主's number was copied
    onto another member of a different name, at CIVIL_SHARED_RATE per household."""
    civil = world.civil
    ids = world.persons["id18"].to_numpy()
    free = _non_workers(world)
    heads = _case_heads(civil)
    members = _case_members(civil)
    cases = [case for case, rows in members.items() if len(rows) >= 2 and case in heads]
    chosen = rng.random(len(cases)) < CIVIL_SHARED_RATE
    names = civil["name"].to_numpy()
    for case in [c for c, yes in zip(cases, chosen.tolist(), strict=True) if yes]:
        head = heads[case]
        others = [m for m in members[case] if m != head and free[m]
                  and _toneless(names[m]) != _toneless(names[head])]
        if free[head] and others:
            _share_head_number(civil, ids, head, r.choice(others))
