"""People drawn in bulk (roster-only members) and the numbers everyone is issued.

Each step is a fixed sequence of numpy draws, each over the n people at once, then a pure
function of the drawn values. Keeping the draws apart from what they make lets the same
sequence be drawn in one go (population.py), in chunks of a fresh generator (fillers.py), or
side by side at recorded stream positions (shadow.py); every numpy draw used here gives the same
values drawn whole or in consecutive pieces.

Day numbers are days since 1970-01-01 (dates.py); ID bodies are the first 17 digits of an
18-character number as int64 (identity.id_bodies).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from . import names as nm
from .constants import (
    DISTRICT_CODES,
    DISTRICTS,
    OLD_CODES,
    OTHER_PROVINCE_CODES,
    XINJIANG_CODES,
)
from .dates import day_in_year
from .identity import id_bodies

Draw = Callable[[np.random.Generator, int], np.ndarray]
_DW = np.array([w for _, w in DISTRICTS.values()])
DISTRICT_P = _DW / _DW.sum()
_CODES = np.array(DISTRICT_CODES)

# Roster-only people: sex (male < 0.55), birth year (normal 1980 ± 11, within 1962 … 2004), the
# day in that year, the name (names.NAME_DRAWS) and the hukou district.
PEOPLE_DRAWS: tuple[Draw, ...] = (
    lambda g, n: g.random(n),
    lambda g, n: g.normal(1980, 11, n),
    lambda g, n: g.random(n),
    *nm.NAME_DRAWS,
    lambda g, n: g.choice(len(DISTRICT_CODES), n, p=DISTRICT_P),
)
_NAMES = slice(3, 3 + len(nm.NAME_DRAWS))
MALE_DRAW, YEAR_DRAW, DAY_DRAW, DISTRICT_DRAW = 0, 1, 2, len(PEOPLE_DRAWS) - 1
MINORITY_DRAW = 3 + nm.MINORITY_DRAW


def people_from_draws(v: Sequence[np.ndarray], names: bool = True) -> dict[str, np.ndarray]:
    """People (one array per attribute, each of the draws' length) from PEOPLE_DRAWS' values:
    male (bool), birth (day number), birth_year, district (code), minority (bool) and, when
    ``names``, name (object)."""
    male = v[MALE_DRAW] < 0.55
    years = np.clip(np.round(v[YEAR_DRAW]), 1962, 2004).astype("int64")
    out = {
        "male": male,
        "birth": day_in_year(years, v[DAY_DRAW]),
        "birth_year": years,
        "district": _CODES[v[DISTRICT_DRAW]],
        "minority": v[MINORITY_DRAW] < nm.MINORITY_RATE,  # a minority name carries ·
    }
    if names:
        out["name"] = np.array(nm.names_from_draws(male, v[_NAMES]), dtype=object)
    return out


# ---------------------------------------------------------------- prefixes

# The draws of a prefix, each over the n people: kept hukou (< 0.70; ≥ 0.90: another province),
# another Beijing district, an abolished code (< 0.5), the province, a Xinjiang code, and
# whether a minority person's number was issued there (< 0.7).
PREFIX_DRAWS: tuple[Draw, ...] = (
    lambda g, n: g.random(n),
    lambda g, n: g.choice(len(DISTRICT_CODES), size=n, p=DISTRICT_P),
    lambda g, n: g.random(n),
    lambda g, n: g.integers(0, len(OTHER_PROVINCE_CODES), n),
    lambda g, n: g.integers(0, len(XINJIANG_CODES), n),
    lambda g, n: g.random(n),
)
_OLD_CODE = np.array([OLD_CODES.get(c, ("", "", 0))[0] for c in DISTRICT_CODES])
_OLD_LAST = np.array([OLD_CODES.get(c, ("", "", 0))[2] for c in DISTRICT_CODES])


def prefixes_from_draws(by: np.ndarray, hukou: np.ndarray, minority: np.ndarray,
                        v: Sequence[np.ndarray]) -> np.ndarray:
    """Six-character prefixes (one per person) from birth years, hukou codes, minority flags
    and PREFIX_DRAWS' values."""
    u, other, old_u, prov, xj, xj_u = v
    base = np.where(u < 0.70, hukou, _CODES[other])
    # abolished codes for people born before the change
    pos = np.searchsorted(_CODES, base)
    use_old = (_OLD_LAST[pos] >= by) & (old_u < 0.5)
    base = np.where(use_old, _OLD_CODE[pos], base)
    base = np.where(u >= 0.90, np.array(OTHER_PROVINCE_CODES)[prov], base)
    return np.where(minority & (xj_u < 0.7), np.array(XINJIANG_CODES)[xj], base)


def assign_prefixes(rng: np.random.Generator, persons: pd.DataFrame) -> np.ndarray:
    """Prefixes for ``persons`` (birth_year, district, minority), drawn from ``rng``."""
    draws = [draw(rng, len(persons)) for draw in PREFIX_DRAWS]
    return prefixes_from_draws(persons["birth_year"].to_numpy(), persons["district"].to_numpy(),
                               persons["minority"].to_numpy(), draws)


# ---------------------------------------------------------------- numbers

def sequence_draw(g: np.random.Generator, n: int) -> np.ndarray:
    """The draw of n sequence numbers (0 … 499, before the sex digit)."""
    return g.integers(0, 500, n)


def no_zero_sequence(seq: np.ndarray) -> np.ndarray:
    """Sequence 000 is what clerks type for an unknown one (a placeholder, SPEC §1.4): real
    numbers never carry it, so a drawn 000 (a woman's) becomes 998."""
    return np.where(seq == 0, 998, seq)


def birth_ymd(birth: np.ndarray) -> np.ndarray:
    """yyyymmdd (int64) of day numbers."""
    idx = pd.DatetimeIndex(np.asarray(birth, dtype="int64").astype("datetime64[D]"))
    return idx.year.to_numpy() * 10000 + idx.month.to_numpy() * 100 + idx.day.to_numpy()


def bodies_from_draws(prefix: np.ndarray, birth: np.ndarray, male: np.ndarray,
                      seq_draw: np.ndarray) -> np.ndarray:
    """17-digit ID bodies (int64): prefix, birth date, the drawn sequence with the sex digit
    (odd for men)."""
    seq = no_zero_sequence(seq_draw * 2 + male.astype("int64"))
    return id_bodies(np.asarray(prefix).astype("int64"), birth_ymd(birth), seq)


def redraw_sequences(rng: np.random.Generator, body: np.ndarray, which: np.ndarray) -> None:
    """New sequence numbers (same sex) for the bodies where ``which`` (in place); one draw of
    ``which.sum()`` values."""
    old = body[which]
    seq = no_zero_sequence(sequence_draw(rng, len(old)) * 2 + old % 2)
    body[which] = old - old % 1000 + seq


def unique_bodies(rng: np.random.Generator, body: np.ndarray) -> None:
    """Redraws, in place, the sequence of every body equal to an earlier one until all differ
    (the earlier one keeps its number)."""
    for _ in range(50):
        dup = pd.Series(body).duplicated().to_numpy()
        if not dup.any():
            return
        redraw_sequences(rng, body, dup)
    raise RuntimeError("could not make IDs unique")  # pragma: no cover - astronomically unlikely
