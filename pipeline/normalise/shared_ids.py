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

from pipeline.normalise.id_number import id_shaped
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


def usable_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose number can be shared (n-long bool): a number of an ID number's shape
    (`id_number.id_shaped`), not a placeholder, a name. A value of no such shape is no
    one's evidence and already reported for its form: Excel's scientific notation
    (1.10106E+17) reads the same for thousands of different numbers, so its repeats say
    nothing of a copied number."""
    return (frame["id_norm"].notna().to_numpy() & frame["name"].notna().to_numpy()
            & ~frame["id_placeholder"].fillna(False).astype(bool).to_numpy()
            & id_shaped(frame["id_norm"].to_numpy(dtype=object)))


def number_hashes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(positions int64, hashes uint64) of the usable rows: a 64-bit hash of each one's (file,
    number). Equal numbers in one file hash equal; unequal ones almost never do, and when they
    do, `shared_in` (which compares the numbers themselves) still keeps them apart. For a file
    read in chunks: the hashes of every chunk find the numbers that repeat (`repeated`)."""
    positions = np.flatnonzero(usable_rows(frame)).astype(np.int64)
    if not len(positions):
        return positions, np.empty(0, dtype=np.uint64)
    keys = frame.iloc[positions][[SOURCE_FILE, "id_norm"]].astype(str)
    hashes = pd.util.hash_pandas_object(keys, index=False).to_numpy(dtype=np.uint64)
    return positions, hashes


def repeated(hashes: list[np.ndarray]) -> np.ndarray:
    """The hashes (sorted uint64) that occur twice or more over all the arrays given."""
    joined = np.concatenate(hashes) if hashes else np.empty(0, dtype=np.uint64)
    values, counts = np.unique(joined, return_counts=True)
    return values[counts > 1]


def people(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """Who carries the number at each of `positions`: a frame with `position` (int64),
    `source_file`, `id_norm`, `pinyin` (the toneless pinyin of the name, else the name) and
    `birth` (the stated birth date, NaT if none), in the order given."""
    sub = frame.iloc[positions]
    pinyin = [keys_[1] if (keys_ := pinyin_keys(name)) else name for name in sub["name"]]
    births = (sub["birth_date"] if "birth_date" in sub.columns
              else pd.Series(pd.NaT, index=sub.index, dtype="datetime64[ns]"))
    return pd.DataFrame({"position": np.asarray(positions, dtype=np.int64),
                         SOURCE_FILE: sub[SOURCE_FILE].astype(str).to_numpy(dtype=object),
                         "id_norm": sub["id_norm"].astype(str).to_numpy(dtype=object),
                         "pinyin": np.asarray(pinyin, dtype=object),
                         "birth": births.to_numpy(dtype="datetime64[ns]")})


def shared_in(carriers: pd.DataFrame) -> np.ndarray:
    """For each row of `carriers` (`people` of one file's rows, or of several chunks' rows
    concatenated), whether its number is shared by different people among those rows
    (n-long bool). The decision of a number depends only on the set of its carriers, so the
    rows of one file give the same answer together or gathered from its chunks."""
    out = np.zeros(len(carriers), dtype=bool)
    births = [None if pd.isna(b) else b for b in carriers["birth"]]
    groups: dict[tuple[str, str], list[int]] = {}
    for position, key in enumerate(zip(carriers[SOURCE_FILE], carriers["id_norm"],
                                       strict=True)):
        groups.setdefault(key, []).append(position)
    pinyin = carriers["pinyin"].tolist()
    for members in groups.values():
        if len(members) < 2:
            continue
        found = sorted({(pinyin[m], births[m]) for m in members}, key=repr)
        if _different_people(found):
            out[members] = True
    return out


def shared_id_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose ID number is shared in their file by different people (n-long bool array).

    ``frame``: a normalised source frame with ``source_file``, ``id_norm`` (string),
    ``id_placeholder`` (bool), ``name`` (normalised, string) and optionally ``birth_date``
    (the stated date, datetime64; before it is filled from the ID). Rows without a number,
    with a placeholder or without a name never count. Cost: one duplicated() over the frame,
    then Python only for the rows whose number repeats in their file. (A file read in
    chunks: `number_hashes` of each, `repeated`, then `people` of the rows with a repeated
    hash gathered and `shared_in` on them.)"""
    out = np.zeros(len(frame), dtype=bool)
    usable = usable_rows(frame)
    if not usable.any():
        return out
    keys = frame.loc[usable, [SOURCE_FILE, "id_norm"]]
    again = keys.duplicated(keep=False).to_numpy()
    if not again.any():
        return out
    rows = np.flatnonzero(usable)[again]
    out[rows[shared_in(people(frame, rows))]] = True
    return out


def mark_shared(frame: pd.DataFrame, shared: np.ndarray | None = None) -> int:
    """Mark shared numbers in place as placeholders (``id_problem`` 'shared', invalid, no
    birth date or sex from the ID); return how many rows were marked. Call it before the
    birth date and sex are filled from the ID. `shared`: the rows to mark (n-long bool),
    when decided over more than this frame (a chunk of a file); default `shared_id_rows`."""
    if shared is None:
        shared = shared_id_rows(frame)
    if shared.any():
        frame.loc[shared, "id_problem"] = SHARED
        frame.loc[shared, "id_valid"] = False
        frame.loc[shared, "id_placeholder"] = True
        frame.loc[shared, "id_birth_date"] = pd.NaT
        frame.loc[shared, "id_sex"] = pd.NA
    return int(shared.sum())
