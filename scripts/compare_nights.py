"""Compare two checkouts' nights on the same inputs: links, evidence, findings and models.

Used for "behaviour identical before and after" (issue 13): run the night's stages (ingest →
normalise → link → detect, in-process, as_of 2026-06-30) with each checkout first on the
path, pickle what they give, then compare. Columns and model keys the newer side added are
listed, not compared; everything both sides have must be equal.

    PYTHONPATH=/path/to/old python scripts/compare_nights.py run INPUTS old.pkl
    PYTHONPATH=/path/to/new python scripts/compare_nights.py run INPUTS new.pkl
    python scripts/compare_nights.py compare old.pkl new.pkl
"""

from __future__ import annotations

import datetime as dt
import pickle
import sys
from pathlib import Path


def run(folder: Path, out: Path) -> None:
    from pipeline import stages
    from pipeline.config import load_config

    as_of, config = dt.date(2026, 6, 30), load_config()
    inputs = stages.Inputs(union=[folder / "union_roll.xlsx"],
                           civil=[folder / "civil_exchange.csv"],
                           members=[folder / "members.csv"])
    normalised = stages.normalise(stages.ingest(inputs), as_of)
    links = stages.link(normalised, config)
    tracked = stages.detect(normalised, links, as_of, config)
    with out.open("wb") as handle:
        pickle.dump({"links": links.links, "member_links": links.member_links,
                     "evidence": links.evidence, "models": links.models,
                     "findings": tracked.findings}, handle)


def compare(old_path: Path, new_path: Path) -> None:
    import pandas as pd

    old, new = (pickle.loads(p.read_bytes()) for p in (old_path, new_path))
    for name in ("links", "member_links", "evidence", "findings"):
        a, b = old[name], new[name]
        shared = [c for c in a.columns if c in b.columns]
        added = sorted(set(b.columns) - set(a.columns))
        if name == "findings":  # the order is the rules'; compare by id, as text
            a = a[shared].sort_values("discrepancy_id").astype(str)
            b = b[shared].sort_values("discrepancy_id").astype(str)
        pd.testing.assert_frame_equal(a[shared].reset_index(drop=True),
                                      b[shared].reset_index(drop=True), check_dtype=False)
        print(f"{name}: identical on {len(shared)} shared columns, {len(a)} rows; "
              f"new columns {added}")
    for linkage, model in old["models"].items():
        other = new["models"][linkage]
        added = sorted(set(other) - set(model))
        differs = [k for k in model if k != "training" and model[k] != other.get(k)]
        training = dict(other["training"])
        new_training = sorted(set(training) - set(model["training"]))
        for key in new_training:
            training.pop(key)
        if training != model["training"]:
            differs.append("training")
        print(f"model {linkage}: {'identical' if not differs else 'DIFFERS in ' + str(differs)}"
              f" (new keys {added}, new training keys {new_training})")


if __name__ == "__main__":
    verb, *rest = sys.argv[1:]
    if verb == "run":
        run(Path(rest[0]), Path(rest[1]))
    else:
        compare(Path(rest[0]), Path(rest[1]))
