"""Synthetic, realistic input set for bidui plus the truth (true links and findings).

Public API: ``generate(out_dir, households=500, seed=42, roster_members=None) -> dict`` (used
by ``bidui generate``) and ``build(households, seed, roster_members=None)`` (the in-memory
world, for tests). Output is byte-for-byte deterministic for a seed, whatever today's date.

Steps: population.py (the clean world) → plant.py (findings) → kinds.py (the SPEC §1.4 kinds:
permits, foreigners' numbers, historic / unpublished prefixes, placeholders, shared numbers,
dashed and GBK-era names, Excel serial 60) → roster.py (the roster's plan) → render.py (written
roll and civil values, layout.py's workbook plan) → truth.py (read back with idcheck.py) →
writers.py. The roster (members.csv, ~50 members per household by default, or
``roster_members``) is drawn, rendered (members.py) and written a chunk at a time by
``generate``: its memory does not grow with its size. Its filler members (fillers.py) are the
only part that depends on ``roster_members``: the roll, the civil file and truth/ (but
meta.json's members.csv row count and member ID kinds) are the same bytes whatever it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .constants import REFERENCE_DATE
from .kinds import plant_kinds
from .plant import plant
from .population import World, build_world
from .render import Rendered, render
from .roster import RosterChunk, RosterPlan, plan_roster, roster_chunks
from .truth import CODES, compute_truth
from .writers import write_civil_csv, write_members_csv, write_roll_xlsx, write_truth

__all__ = ["REFERENCE_DATE", "Generated", "build", "generate"]

ROLL_FILE = "union_roll.xlsx"
CIVIL_FILE = "civil_exchange.csv"
MEMBERS_FILE = "members.csv"


@dataclass
class Generated:
    world: World
    rendered: Rendered
    truth: dict[str, pd.DataFrame]
    meta: dict


# The fewest households a generated set has: each planted discrepancy kind needs a few.
MIN_HOUSEHOLDS = 10


def _prepare(households: int, seed: int,
             roster_members: int | None) -> tuple[World, Rendered, RosterPlan]:
    """The world, the written roll and civil rows, and the roster's plan (no roster rows)."""
    if households < MIN_HOUSEHOLDS:
        raise ValueError(f"households must be at least {MIN_HOUSEHOLDS}")
    world = build_world(seed, households)
    plant(world, seed)
    plant_kinds(world, seed)
    plan = plan_roster(world, seed, roster_members)
    return world, render(world, seed), plan


def _meta(world: World, rendered: Rendered, truth: dict[str, pd.DataFrame], seed: int,
          member_rows: int, member_kinds: Counter) -> dict:
    counts = Counter(truth["discrepancies"]["type"].tolist())
    return {
        "seed": seed,
        "households": world.households,
        "reference_date": REFERENCE_DATE.isoformat(),
        "files": {
            ROLL_FILE: len(rendered.roll),
            CIVIL_FILE: len(rendered.civil),
            MEMBERS_FILE: member_rows,
        },
        "truth": {k: len(v) for k, v in truth.items()},
        "discrepancies": {c: int(counts.get(c, 0)) for c in CODES},
        "roll_id_kinds": dict(sorted(Counter(rendered.roll_id_kind).items())),
        "civil_id_kinds": dict(sorted(Counter(rendered.civil_id_kind).items())),
        "member_id_kinds": dict(sorted(member_kinds.items())),
        "roll_name_kinds": dict(sorted(Counter(rendered.roll_name_kind).items())),
        "roll_birth_kinds": dict(sorted(Counter(rendered.roll_birth_kind).items())),
        "roll_layout": rendered.layout.meta(),
        "roll_status": dict(sorted(Counter(world.roll["roll_status"].tolist()).items())),
        "civil_cases": int(world.civil["case_id"].nunique()),
    }


def build(households: int = 500, seed: int = 42, roster_members: int | None = None) -> Generated:
    """Everything in memory: the clean world, the written rows (the whole roster too: for
    small sets) and the truth."""
    world, rendered, plan = _prepare(households, seed, roster_members)
    chunks = list(roster_chunks(world, plan))
    world.roster = pd.concat([c.frame for c in chunks], ignore_index=True)
    rendered.members = pd.concat([c.rows for c in chunks], ignore_index=True)
    rendered.member_id_kind = [k for c in chunks for k in c.kinds]
    truth = compute_truth(world, rendered, plan.required)
    meta = _meta(world, rendered, truth, seed, len(rendered.members),
                 Counter(rendered.member_id_kind))
    return Generated(world, rendered, truth, meta)


def _counted(chunks: Iterable[RosterChunk], kinds: Counter) -> Iterator[pd.DataFrame]:
    """The chunks' written rows, counting their ID kinds into ``kinds`` on the way."""
    for chunk in chunks:
        kinds.update(chunk.kinds)
        yield chunk.rows


def generate(out_dir: Path, households: int = 500, seed: int = 42,
             roster_members: int | None = None) -> dict:
    """Write union_roll.xlsx, civil_exchange.csv, members.csv and truth/ into ``out_dir``.

    ``roster_members``: rows of members.csv (default: the size rule, ~50 per household);
    InputError when fewer than the members the truth needs (nothing is written then)."""
    out_dir = Path(out_dir)
    world, rendered, plan = _prepare(households, seed, roster_members)
    truth = compute_truth(world, rendered, plan.required)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_roll_xlsx(rendered.roll, out_dir / ROLL_FILE, rendered.layout)
    write_civil_csv(rendered.civil, out_dir / CIVIL_FILE)
    kinds: Counter = Counter()
    member_rows = write_members_csv(_counted(roster_chunks(world, plan), kinds),
                                    out_dir / MEMBERS_FILE)
    meta = _meta(world, rendered, truth, seed, member_rows, kinds)
    write_truth(truth, meta, out_dir / "truth")
    return {
        "out_dir": str(out_dir),
        "roll_rows": meta["files"][ROLL_FILE],
        "civil_rows": meta["files"][CIVIL_FILE],
        "member_rows": meta["files"][MEMBERS_FILE],
        "links": meta["truth"]["links"],
        "member_links": meta["truth"]["member_links"],
        "discrepancies": meta["discrepancies"],
    }
