"""ID numbers shared in one file by different people: treated as placeholders.

A clerk who does not know a family member's number copies the 户主's onto them; a roll clerk
copies one worker's number onto the next row. The number then belongs to at most one of the
people carrying it, and to none of them as evidence: it would link strangers (two different
people on one valid number) with near certainty. Such numbers are marked
``id_problem == 'shared'`` and handled exactly like a placeholder (:mod:`id_kinds`): invalid,
reported (INVALID_ID on the roll), never a blocking key, an exact-ID link or a birth date.

"Different people" is decided within one source file: two rows carrying the same number are
different people when their names differ in toneless pinyin (so 張偉 / 张伟 / 张玮, spellings of
one name, are the same person, as in a worker filed twice) AND their stated birth dates differ
or at least one is not stated (a civil-affairs file states none: the name decides there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.normalise.names import pinyin_keys
from pipeline.schema import SOURCE_FILE

SHARED = "shared"
# Distinct (name, birth date) combinations above this in one group: clearly not one person.
_MAX_PAIRWISE = 64


def _different_people(people: list[tuple[str, object]]) -> bool:
    """True if two of the (toneless pinyin, stated birth date or None) differ in both."""
    if len(people) > _MAX_PAIRWISE:
        return True
    for i, (name_a, birth_a) in enumerate(people):
        for name_b, birth_b in people[i + 1:]:
            if name_a != name_b and (birth_a is None or birth_b is None or birth_a != birth_b):
                return True
    return False


def shared_id_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose ID number is shared in their file by different people (n-long bool array).

    ``frame``: a normalised source frame with ``source_file``, ``id_norm`` (string),
    ``id_placeholder`` (bool), ``name`` (normalised, string) and optionally ``birth_date``
    (the stated date, datetime64; before it is filled from the ID). Rows without a number,
    with a placeholder or without a name never count. Cost: one duplicated() over the frame,
    then Python only for the rows whose number repeats in their file."""
    n = len(frame)
    out = np.zeros(n, dtype=bool)
    usable = (frame["id_norm"].notna() & frame["name"].notna()
              & ~frame["id_placeholder"].fillna(False).astype(bool)).to_numpy()
    if not usable.any():
        return out
    keys = frame.loc[usable, [SOURCE_FILE, "id_norm"]]
    repeated = keys.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return out
    rows = np.flatnonzero(usable)[repeated]
    sub = frame.iloc[rows]
    pinyin = [keys_[1] if (keys_ := pinyin_keys(name)) else name for name in sub["name"]]
    births = (sub["birth_date"] if "birth_date" in sub.columns
              else pd.Series(pd.NaT, index=sub.index, dtype="datetime64[ns]"))
    birth_values = [None if pd.isna(b) else b for b in births]
    groups: dict[tuple[str, str], list[int]] = {}
    for position, key in enumerate(zip(sub[SOURCE_FILE].astype(str), sub["id_norm"].astype(str),
                                       strict=True)):
        groups.setdefault(key, []).append(position)
    for members in groups.values():
        people = sorted({(pinyin[m], birth_values[m]) for m in members}, key=repr)
        if _different_people(people):
            out[rows[members]] = True
    return out


def mark_shared(frame: pd.DataFrame) -> int:
    """Mark shared numbers in place as placeholders (``id_problem`` 'shared', invalid, no
    birth date or sex from the ID); return how many rows were marked. Call it before the
    birth date and sex are filled from the ID."""
    shared = shared_id_rows(frame)
    if shared.any():
        frame.loc[shared, "id_problem"] = SHARED
        frame.loc[shared, "id_valid"] = False
        frame.loc[shared, "id_placeholder"] = True
        frame.loc[shared, "id_birth_date"] = pd.NaT
        frame.loc[shared, "id_sex"] = pd.NA
    return int(shared.sum())
