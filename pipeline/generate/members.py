"""Written roster rows (members.csv): alias headers and the roster's corruptions.

``render_members(frame, employers, r, rng)`` writes one frame of roster rows (member_id,
employer_idx, join, birth_year, name, id18, id_class; n rows) as members.csv rows and says how
each row's ID is written (its kind). Per-row randomness comes from the generators passed in:
roster.py gives the required members one pair and each chunk of fillers its own.

Kinds, at the roster's rates: typo / legacy15 / spaces (0.9 %), lowercase_x (30 % of numbers
ending in X), protection marks (MEMBER_PROTECTION_RATES) on resident IDs; a number that is no
resident ID has its class as its kind; names corrupted at 3.5 % (and every minority name's
separator).
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from . import corrupt as cx
from .constants import DISTRICTS, MEMBER_PROTECTION_RATES
from .render import MEMBER_HEADERS, ROLL_SEPARATORS


def render_members(frame: pd.DataFrame, employers: pd.DataFrame, r: random.Random,
                   rng: np.random.Generator) -> tuple[pd.DataFrame, list[str]]:
    """The written rows of ``frame`` (columns MEMBER_HEADERS) and each row's ID kind."""
    n = len(frame)
    ids = frame["id18"].tolist()
    names = frame["name"].tolist()
    bys = frame["birth_year"].to_numpy()
    kinds = ["valid"] * n
    # A number that is no resident ID is written as it is (its class is its kind), as the
    # civil file does: a legacy or spaced form of an unpublished prefix would read as benign.
    resident = frame["id_class"].to_numpy() == "resident"
    # sparse corruptions: only the touched rows go through Python
    u = rng.random(n)
    for i in np.flatnonzero((u < 0.009) & resident).tolist():
        ids[i], kinds[i] = cx.side_id(r, ids[i], int(bys[i]), typo=0.33, legacy=0.33,
                                      lower_x=0.0, spaces=0.34)
    x_rows = [i for i, s in enumerate(ids)
              if s.endswith("X") and kinds[i] == "valid" and resident[i]]
    for i in x_rows:
        if r.random() < 0.3:
            ids[i], kinds[i] = ids[i][:17] + "x", "lowercase_x"
    un = rng.random(n)
    minority = np.array(["·" in s for s in names], dtype=bool)
    for i in np.flatnonzero((un < 0.035) | minority).tolist():
        names[i] = cx.corrupt_name(r, names[i], trad=0.57, space=0.29, full=0.03,
                                   homophone=0.08, guo=0.3, separators=ROLL_SEPARATORS)
    emp = frame["employer_idx"].to_numpy()
    emp_name = employers["employer"].to_numpy()[emp]
    suffix = np.where(rng.random(n) < 0.7, "工会", "工会委员会")
    edist = employers["district"].to_numpy()[emp]
    dname = np.array([DISTRICTS[d][0] for d in employers["district"].tolist()])[emp]
    district = np.where(rng.random(n) < 0.1, edist, dname)
    out = pd.DataFrame({
        MEMBER_HEADERS[0]: frame["member_id"].to_numpy(),
        MEMBER_HEADERS[1]: names,
        MEMBER_HEADERS[2]: ids,
        MEMBER_HEADERS[3]: emp_name,
        MEMBER_HEADERS[4]: emp_name.astype(object) + suffix.astype(object),
        MEMBER_HEADERS[5]: district,
        MEMBER_HEADERS[6]: cx.fmt_dates_vectorised(rng, frame["join"].to_numpy()),
    })
    _member_id_kinds(r, rng, out, kinds, frame["id_class"].to_numpy())
    return out, kinds


def _member_id_kinds(r: random.Random, rng: np.random.Generator, out: pd.DataFrame,
                     kinds: list[str], classes: np.ndarray) -> None:
    """Roster IDs: the kind of number of plain ones, and protection marks on a few (in place)."""
    for i in np.flatnonzero(classes != "resident").tolist():
        if kinds[i] == "valid":
            kinds[i] = classes[i]
    marks = cx.protection_marks(rng, len(kinds), MEMBER_PROTECTION_RATES)
    column = out[MEMBER_HEADERS[2]].tolist()
    for i, mark in enumerate(marks):
        if mark and kinds[i] in ("valid", "lowercase_x"):
            column[i], kinds[i] = cx.protect(r, column[i], mark), mark
    out[MEMBER_HEADERS[2]] = column
