"""Synthetic, realistic input set for bidui plus the truth (true links and findings).

Public API: ``generate(out_dir, households=500, seed=42) -> dict`` (used by
``bidui generate``) and ``build(households, seed)`` (the in-memory world, for tests).
Output is byte-for-byte deterministic for a seed, whatever today's date.

Steps: population.py (the clean world) → plant.py (findings) → kinds.py (the SPEC §1.4 kinds:
permits, foreigners' numbers, historic / unpublished prefixes, placeholders, shared numbers,
dashed and GBK-era names, Excel serial 60) → roster.py → render.py (written values, layout.py's
workbook plan) → truth.py (read back with idcheck.py) → writers.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .constants import REFERENCE_DATE
from .kinds import plant_kinds
from .plant import plant
from .population import World, build_world
from .render import Rendered, render
from .roster import build_roster
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


def build(households: int = 500, seed: int = 42) -> Generated:
    """Everything in memory: the clean world, the written rows and the truth."""
    if households < 10:
        raise ValueError("households must be at least 10")
    world = build_world(seed, households)
    plant(world, seed)
    plant_kinds(world, seed)
    build_roster(world, seed)
    rendered = render(world, seed)
    truth = compute_truth(world, rendered)
    counts = Counter(truth["discrepancies"]["type"].tolist())
    meta = {
        "seed": seed,
        "households": households,
        "reference_date": REFERENCE_DATE.isoformat(),
        "files": {
            ROLL_FILE: len(rendered.roll),
            CIVIL_FILE: len(rendered.civil),
            MEMBERS_FILE: len(rendered.members),
        },
        "truth": {k: len(v) for k, v in truth.items()},
        "discrepancies": {c: int(counts.get(c, 0)) for c in CODES},
        "roll_id_kinds": dict(sorted(Counter(rendered.roll_id_kind).items())),
        "civil_id_kinds": dict(sorted(Counter(rendered.civil_id_kind).items())),
        "member_id_kinds": dict(sorted(Counter(rendered.member_id_kind).items())),
        "roll_name_kinds": dict(sorted(Counter(rendered.roll_name_kind).items())),
        "roll_birth_kinds": dict(sorted(Counter(rendered.roll_birth_kind).items())),
        "roll_layout": rendered.layout.meta(),
        "roll_status": dict(sorted(Counter(world.roll["roll_status"].tolist()).items())),
        "civil_cases": int(world.civil["case_id"].nunique()),
    }
    return Generated(world, rendered, truth, meta)


def generate(out_dir: Path, households: int = 500, seed: int = 42) -> dict:
    """Write union_roll.xlsx, civil_exchange.csv, members.csv and truth/ into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    g = build(households, seed)
    write_roll_xlsx(g.rendered.roll, out_dir / ROLL_FILE, g.rendered.layout)
    write_civil_csv(g.rendered.civil, out_dir / CIVIL_FILE)
    write_members_csv(g.rendered.members, out_dir / MEMBERS_FILE)
    write_truth(g.truth, g.meta, out_dir / "truth")
    return {
        "out_dir": str(out_dir),
        "roll_rows": g.meta["files"][ROLL_FILE],
        "civil_rows": g.meta["files"][CIVIL_FILE],
        "member_rows": g.meta["files"][MEMBERS_FILE],
        "links": g.meta["truth"]["links"],
        "member_links": g.meta["truth"]["member_links"],
        "discrepancies": g.meta["discrepancies"],
    }
