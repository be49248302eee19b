"""Replays the draws the generator once made for roster-only people, without making them.

Before the roster was written in chunks, ``build_world`` drew every roster-only person (sex,
birth date, name, hukou district) from the world's numpy stream, then drew prefixes and ID
sequences over civil, roll-only and roster people together and made all numbers unique;
``kinds.py`` drew the number classes over all of them too, and ``roster.py`` drew employers,
join dates, an order and member numbers over the whole roster. Where those draws leave each
stream decides everything drawn after them (civil and roll numbers, phones, the roll's order,
the planted kinds, the member numbers of civil people on the roster). Replaying them here, a
chunk at a time and keeping only what later draws depend on, keeps union_roll.xlsx,
civil_exchange.csv and truth/ the bytes they were, and the same whatever the roster's size
(``--roster-members``): the roster's filler members are drawn afresh, per chunk (fillers.py).

The replayed people are the "shadow" roster: ``shadow_roster_people(households, civil rows)``
of them, ~48 per roll household. Memory: their 17-digit ID bodies (8 bytes each, for the
uniqueness rule), and chunk-sized work arrays.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from .identity import id_strings
from .people import (
    PEOPLE_DRAWS,
    PREFIX_DRAWS,
    Draw,
    bodies_from_draws,
    people_from_draws,
    prefixes_from_draws,
    sequence_draw,
    unique_bodies,
)

CHUNK = 250_000  # values per draw taken at once
ROSTER_PER_HOUSEHOLD = 50  # the roster's size rule: ~50 members per roll household
CIVIL_MEMBER_RATE = 0.03  # share of civil persons on the roster the size rule expects
NO_NUMBER = "0" * 18  # stands for a shadow person's number where only the draws matter


def shadow_roster_people(households: int, civil_rows: int) -> int:
    """Roster-only people the size rule made: 50 per household, less the roll workers and the
    civil persons it expected on the roster."""
    expected_civil = round(CIVIL_MEMBER_RATE * civil_rows)
    return max(0, ROSTER_PER_HOUSEHOLD * households - households - expected_civil)


def spans(n: int, size: int = CHUNK) -> Iterator[tuple[int, int]]:
    """[start, stop) of consecutive pieces of at most ``size`` covering range(n)."""
    for start in range(0, n, size):
        yield start, min(n, start + size)


def skip(rng: np.random.Generator, draw: Draw, n: int) -> None:
    """Moves ``rng`` past ``draw`` over ``n`` values, a chunk at a time."""
    for a, b in spans(n):
        draw(rng, b - a)


class Streams:
    """Consecutive draws of one generator, each over ``n`` values, read side by side:
    ``take(k)`` gives the next ``k`` values of every draw. Making it moves ``rng`` past all
    of them (as drawing them whole would)."""

    def __init__(self, rng: np.random.Generator, draws: Sequence[Draw], n: int) -> None:
        self._draws = tuple(draws)
        self._gens: list[np.random.Generator] = []
        for draw in self._draws:
            self._gens.append(copy.deepcopy(rng))
            skip(rng, draw, n)

    def take(self, k: int) -> list[np.ndarray]:
        """The next ``k`` values of each draw, in draw order."""
        return [draw(g, k) for draw, g in zip(self._draws, self._gens, strict=True)]


# ---------------------------------------------------------------- build_world


def people_streams(rng: np.random.Generator, n_shadow: int) -> Streams:
    """The shadow people's draws of the world's stream (PEOPLE_DRAWS, each over all of
    them); ``rng`` is left where the world drew next."""
    return Streams(rng, PEOPLE_DRAWS, n_shadow)


def assign_numbers(rng: np.random.Generator, persons: pd.DataFrame,
                   shadow: Streams, n_shadow: int) -> tuple[np.ndarray, list[str]]:
    """Prefixes and unique 18-character numbers of ``persons`` (birth, birth_year, district,
    male, minority; n rows), drawn as when the ``n_shadow`` shadow people followed them in one
    pass: prefix and sequence draws over n + n_shadow, then repeated draws for numbers taken
    by an earlier person. ``rng`` is left where that pass left it."""
    n = len(persons)
    columns = Streams(rng, (*PREFIX_DRAWS, sequence_draw), n + n_shadow)
    head = columns.take(n)
    prefix = prefixes_from_draws(persons["birth_year"].to_numpy(),
                                 persons["district"].to_numpy(),
                                 persons["minority"].to_numpy(), head[:-1])
    body = np.empty(n + n_shadow, dtype=np.int64)
    body[:n] = bodies_from_draws(prefix, persons["birth"].to_numpy(),
                                 persons["male"].to_numpy(), head[-1])
    for a, b in spans(n_shadow):
        people = people_from_draws(shadow.take(b - a), names=False)
        v = columns.take(b - a)
        shadow_prefix = prefixes_from_draws(people["birth_year"], people["district"],
                                            people["minority"], v[:-1])
        body[n + a:n + b] = bodies_from_draws(shadow_prefix, people["birth"],
                                              people["male"], v[-1])
    unique_bodies(rng, body)
    return prefix, id_strings(body[:n])


# ---------------------------------------------------------------- kinds.py


def replay_person_classes(rng: np.random.Generator, r: random.Random, n_shadow: int,
                          classes: Sequence[str], cum: np.ndarray,
                          reissue: Callable[[random.Random, str, str], str]) -> None:
    """The shadow people's part of kinds.py's class draw (``rng.random`` over them, after the
    persons' part; class i where it falls below ``cum[i]``) and the ``r`` draws that
    ``reissue(r, number, class)`` took for each of them."""
    for a, b in spans(n_shadow):
        which = np.searchsorted(cum, rng.random(b - a), side="right")
        for k in which[which < len(classes)].tolist():
            reissue(r, NO_NUMBER, classes[k])
