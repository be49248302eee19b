"""Roster-only members ("fillers"), drawn a block of BLOCK at a time with nothing kept between
blocks but a fixed-size table of the ID numbers given out.

A block's people are drawn as the roster-only people always were (people.py: sex, birth, name,
hukou district, prefix, sequence; then kinds.py's per-person classes: residence permits,
foreigners' numbers, historic and unpublished prefixes) from generators seeded by (seed, block
index), and their rows rendered (members.py) with the block's own generators. Their numbers
are unique: no filler carries a number of a civil or roll person, or of another filler
(TakenNumbers). Blocks are fixed (the k-th filler is in block k // BLOCK): the rows do not
depend on how members.csv is cut into pieces to be written.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from .constants import PERSON_CLASS_RATES, REFERENCE_DATE
from .dates import day
from .identity import id_strings
from .kinds import bump_sequence, reissue_id
from .memberids import MemberNumbers
from .members import render_members
from .people import (
    PEOPLE_DRAWS,
    PREFIX_DRAWS,
    bodies_from_draws,
    people_from_draws,
    prefixes_from_draws,
    redraw_sequences,
    sequence_draw,
)

REF_DAY = day(REFERENCE_DATE)
JOIN_FLOOR = day(REFERENCE_DATE.replace(year=1990, month=1, day=1))
BLOCK = 250_000  # fillers drawn together
FILLERS, RENDER = 1, 2  # purposes of block generators
_CLASSES = list(PERSON_CLASS_RATES)
_CLASS_CUM = np.cumsum([PERSON_CLASS_RATES[c] for c in _CLASSES])
_MULT = np.uint64(0x9E3779B97F4A7C15)


def generators(seed: int, purpose: int, block: int = -1) -> tuple[random.Random,
                                                                   np.random.Generator]:
    """A Python and a numpy generator for one purpose and block (-1: not per block)."""
    seq = np.random.SeedSequence([seed, purpose, block + 1])
    return random.Random(int(seq.generate_state(1, np.uint64)[0])), np.random.default_rng(seq)


def join_days(birth: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Join dates (day numbers): at fraction ``u`` of the time from the member's 18th birthday
    (not before 1990, not after a month before the reference date) to the reference date."""
    start = np.maximum(birth + 18 * 366, JOIN_FLOOR)
    start = np.minimum(start, REF_DAY - 31)
    return start + (u * (REF_DAY - start)).astype("int64")


class TakenNumbers:
    """ID bodies (17 digits, int64) given out so far, as a 2**28-bit table (32 MB whatever the
    roster's size): a body is known by one bit at its hash. A body never given out may share
    a bit with one that was (~2 % at 5 million): it is then redrawn, which costs nothing but
    keeps every number unique."""

    BITS = 28

    def __init__(self) -> None:
        self.table = np.zeros(1 << (self.BITS - 3), dtype=np.uint8)

    def _slots(self, bodies: np.ndarray) -> np.ndarray:
        return (np.asarray(bodies).astype(np.uint64) * _MULT) >> np.uint64(64 - self.BITS)

    def contains(self, bodies: np.ndarray) -> np.ndarray:
        """Whether each body may have been given out (bool, shape of ``bodies``)."""
        slots = self._slots(bodies)
        return ((self.table[slots >> np.uint64(3)] >> (slots & np.uint64(7)).astype(np.uint8))
                & 1).astype(bool)

    def add(self, bodies: np.ndarray) -> None:
        slots = self._slots(bodies)
        np.bitwise_or.at(self.table, slots >> np.uint64(3),
                         (np.uint8(1) << (slots & np.uint64(7)).astype(np.uint8)))

    def add_numbers(self, numbers: list[str]) -> None:
        """Adds 18-character numbers (the first 17 characters must be digits)."""
        self.add(np.array([int(x[:17]) for x in numbers], dtype=np.int64))


def filler_people(r: random.Random, rng: np.random.Generator, count: int,
                  taken: TakenNumbers) -> pd.DataFrame:
    """``count`` roster-only people: name, male, birth (day number), birth_year, id18 and
    id_class ('resident' or a PERSON_CLASS_RATES class); their numbers are added to
    ``taken``."""
    people = people_from_draws([draw(rng, count) for draw in PEOPLE_DRAWS])
    prefix = prefixes_from_draws(people["birth_year"], people["district"], people["minority"],
                                 [draw(rng, count) for draw in PREFIX_DRAWS])
    body = bodies_from_draws(prefix, people["birth"], people["male"], sequence_draw(rng, count))
    for _ in range(100):
        clash = taken.contains(body) | pd.Series(body).duplicated().to_numpy()
        if not clash.any():
            break
        redraw_sequences(rng, body, clash)
    else:  # pragma: no cover - astronomically unlikely
        raise RuntimeError("could not make roster IDs unique")
    taken.add(body)
    numbers = id_strings(body)
    id_class = np.full(count, "resident", dtype=object)
    which = np.searchsorted(_CLASS_CUM, rng.random(count), side="right")
    for i in np.flatnonzero(which < len(_CLASSES)).tolist():
        cls = _CLASSES[which[i]]
        new = reissue_id(r, numbers[i], cls)
        while taken.contains(np.array([int(new[:17])]))[0]:
            new = bump_sequence(new)
        taken.add_numbers([new])
        numbers[i], id_class[i] = new, cls
    return pd.DataFrame({"name": people["name"], "male": people["male"],
                         "birth": people["birth"], "birth_year": people["birth_year"],
                         "id18": numbers, "id_class": id_class})


def filler_members(seed: int, block: int, first: int, count: int, *, first_pid: int,
                   n_employers: int, taken: TakenNumbers,
                   numbers: MemberNumbers) -> pd.DataFrame:
    """Roster rows of fillers ``first`` … ``first + count - 1`` (block ``block``): member_id,
    pid (``first_pid + first`` on), employer_idx, join (day number), civil_row (-1),
    birth_year, name, id18, id_class."""
    r, rng = generators(seed, FILLERS, block)
    people = filler_people(r, rng, count, taken)
    return pd.DataFrame({
        "member_id": numbers.take(first, count),
        "pid": np.arange(first_pid + first, first_pid + first + count, dtype=np.int64),
        "employer_idx": rng.integers(0, n_employers, count),
        "join": join_days(people["birth"].to_numpy(), rng.random(count)),
        "civil_row": np.full(count, -1, dtype=np.int64),
        "birth_year": people["birth_year"].to_numpy(),
        "name": people["name"].to_numpy(), "id18": people["id18"].to_numpy(),
        "id_class": people["id_class"].to_numpy(),
    })


class Fillers:
    """The ``total`` fillers of one roster in order, drawn and rendered a block at a time;
    ``take`` them in order (one block and the next in memory at most)."""

    def __init__(self, seed: int, total: int, *, persons: pd.DataFrame,
                 employers: pd.DataFrame, required_numbers: np.ndarray) -> None:
        self.seed, self.total, self.first_pid = seed, total, len(persons)
        self.employers = employers
        self.taken = TakenNumbers()
        self.taken.add_numbers(persons["id18"].tolist())
        self.numbers = MemberNumbers(seed, required_numbers)
        self.block = -1
        self.frame, self.rows, self.kinds = pd.DataFrame(), pd.DataFrame(), []

    def _draw(self, block: int) -> None:
        first = block * BLOCK
        count = min(BLOCK, self.total - first)
        self.frame = filler_members(self.seed, block, first, count, first_pid=self.first_pid,
                                    n_employers=len(self.employers), taken=self.taken,
                                    numbers=self.numbers)
        self.rows, self.kinds = render_members(self.frame, self.employers,
                                               *generators(self.seed, RENDER, block))
        self.block = block

    def take(self, first: int, count: int) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
        """Fillers ``first`` … ``first + count - 1``: members (as filler_members), written
        rows (members.csv columns) and ID kinds. ``first`` never goes back a block."""
        frames, rows, kinds = [], [], []
        while count > 0:
            block = first // BLOCK
            if block != self.block:
                self._draw(block)
            lo = first - block * BLOCK
            hi = min(len(self.frame), lo + count)
            frames.append(self.frame.iloc[lo:hi])
            rows.append(self.rows.iloc[lo:hi])
            kinds.extend(self.kinds[lo:hi])
            first, count = first + hi - lo, count - (hi - lo)
        if not frames:
            return self.frame.iloc[:0], self.rows.iloc[:0], []
        return pd.concat(frames), pd.concat(rows), kinds
