"""Linking people across the three sources, with the engine and the shipped specs.

- the roll against itself (dedupe): clusters of roll rows that are one worker filed twice;
- the roll against civil affairs: one match per roll row, a civil person shared only within a
  roll cluster (SPEC §3);
- civil affairs against the roster, when given.
Outputs are frames keyed by the sources' own ids (roll id, case id + member no, member id).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.link.assign import MATCH, POSSIBLE, clusters
from pipeline.link.blocking import PassStats
from pipeline.link.engine import Linker, LinkResult, LocalExecutor, PairExecutor
from pipeline.link.features import feature_inputs, person_features
from pipeline.link.remote import RemoteChunks, rows_at, rows_of
from pipeline.link.spec import load_spec
from pipeline.link.training import Labels
from pipeline.masking import mask_ids, mask_names

ID_EXACT, PROBABILISTIC, CLERICAL = "id_exact", "probabilistic", "clerical"


@dataclass
class PeopleLinks:
    links: pd.DataFrame  # roll → civil, decisions match/possible
    evidence: pd.DataFrame  # each roll row's best candidates, for explanations
    member_links: pd.DataFrame | None
    roll_duplicates: pd.DataFrame  # row_key, roll_id, group (在档 rows only)
    roll_cluster: pd.Series  # cluster id per roll row_key
    models: dict[str, dict] = field(default_factory=dict)
    blocking: dict[str, list[dict]] = field(default_factory=dict)
    roster_join: dict | None = None  # --engine dask: `partitioned_on_dask.JoinChoice`
    engine: str = "local"  # where the linkage ran: local, or dask (`stages.link`)


def _method(pairs: pd.DataFrame, left: pd.DataFrame, right: pd.DataFrame) -> np.ndarray:
    """`id_exact` where both ID numbers are valid and equal; else `probabilistic`.

    Equal numbers that are not valid (a shared typo, Excel damage) are evidence the model
    weighs, never an exact-ID link (placeholders are not even evidence: features.py)."""
    both_valid = left["id_valid"].to_numpy(dtype=bool) & right["id_valid"].to_numpy(dtype=bool)
    exact = (pairs["id_number_level"] == "exact").to_numpy(dtype=bool)
    return np.where(exact & both_valid, ID_EXACT, PROBABILISTIC)


def _comparison_columns(pairs: pd.DataFrame) -> list[str]:
    return [c for c in pairs.columns if c.endswith(("_level", "_weight")) and c != "match_weight"]


def _stats(stats: list[PassStats]) -> list[dict]:
    return [vars(s) for s in stats]


def dedupe_roll(union: pd.DataFrame, features: pd.DataFrame, spec_name: str,
                executor: PairExecutor | None = None) -> tuple[LinkResult, np.ndarray]:
    result = Linker(load_spec(spec_name), executor).run(features)
    matched = result.pairs[result.pairs["decision"] == MATCH]
    cluster = clusters(len(union), matched["left"].to_numpy(), matched["right"].to_numpy())
    return result, cluster


def roll_duplicate_groups(union: pd.DataFrame, cluster: np.ndarray) -> pd.DataFrame:
    """在档 roll rows sharing a cluster with another 在档 row."""
    active = (union["roll_status"] == "在档").fillna(False).to_numpy()
    frame = pd.DataFrame({"row_key": union["row_key"].to_numpy(),
                          "roll_id": union["roll_id"].to_numpy(), "cluster": cluster})[active]
    sizes = frame["cluster"].map(frame["cluster"].value_counts())
    dup = frame[sizes > 1].copy()
    dup["group"] = dup.groupby("cluster")["row_key"].transform(lambda s: ",".join(sorted(s)))
    return dup[["row_key", "roll_id", "group"]].reset_index(drop=True)


def apply_labels(frame: pd.DataFrame, labels: pd.DataFrame | None) -> pd.DataFrame:
    """Analysts' decisions on possible matches override the model for those pairs.

    A confirmed pair becomes the roll row's match with method `clerical` (SPEC §3: a possible
    match an analyst confirmed; any other match of that row steps down to none); a dismissed
    pair is never linked again (decision none, method `clerical`: an analyst decided it, as
    `link_evidence.parquet` shows). Labels for pairs that are no longer candidates (the
    records changed) are simply not applied."""
    if labels is None or labels.empty or frame.empty:
        return frame
    key = ["union_roll_id", "civil_case_id", "civil_member_no"]
    wanted = labels[[*key, "label"]].astype(str).drop_duplicates(key, keep="last")
    label = frame[key].astype(str).merge(wanted, on=key, how="left")["label"]
    label.index = frame.index
    confirmed = (label == "match").to_numpy()
    dismissed = (label == "non_match").to_numpy()
    out = frame.copy()
    rows_confirmed = set(out.loc[confirmed, "union_roll_id"])
    out.loc[out["union_roll_id"].isin(rows_confirmed) & (out["decision"] == MATCH),
            "decision"] = "none"
    out.loc[confirmed, "decision"] = MATCH
    out.loc[dismissed, "decision"] = "none"
    out.loc[confirmed | dismissed, "method"] = CLERICAL
    out["decision"] = out["decision"].astype("string")
    out["method"] = out["method"].astype("string")
    return out


def label_positions(union: pd.DataFrame, civil: pd.DataFrame | RemoteChunks,
                    labels: pd.DataFrame | None) -> Labels | None:
    """The labelled pairs as positions into union and civil (every roll row of the labelled
    roll id against the labelled civil person), confirmed and dismissed, for training;
    labels whose records are gone are left out. None: no labels. `civil` may be held on
    the workers (`RemoteChunks`): only the labelled persons' rows come here."""
    if labels is None or labels.empty:
        return None
    key = ["union_roll_id", "civil_case_id", "civil_member_no"]
    wanted = labels[[*key, "label"]].astype(str).drop_duplicates(key, keep="last")
    left = pd.DataFrame({"union_roll_id": union["roll_id"].astype(str).to_numpy(),
                         "left": np.arange(len(union), dtype=np.int64)})
    named = rows_of(civil, wanted[["civil_case_id", "civil_member_no"]].rename(
        columns={"civil_case_id": "case_id", "civil_member_no": "member_no"}))
    right = pd.DataFrame({"civil_case_id": named["case_id"].astype(str).to_numpy(),
                          "civil_member_no": named["member_no"].astype(str).to_numpy(),
                          "right": named.index.to_numpy(dtype=np.int64)})
    pairs = wanted.merge(left, on="union_roll_id").merge(
        right, on=["civil_case_id", "civil_member_no"])

    def positions(label: str) -> np.ndarray:
        chosen = pairs[pairs["label"] == label].sort_values(["left", "right"])
        return chosen[["left", "right"]].to_numpy(dtype=np.int64).reshape(-1, 2)

    return Labels(positions("match"), positions("non_match"))


def link_people(union: pd.DataFrame, civil: pd.DataFrame | RemoteChunks,
                members: pd.DataFrame | None, specs: dict[str, str],
                labels: pd.DataFrame | None = None, executor: PairExecutor | None = None,
                civil_features: pd.DataFrame | None = None) -> PeopleLinks:
    """`executor` says where features and candidate levels are computed (default: here).
    `civil_features`: `person_features(civil)` when already computed (the roster stage's).
    `civil` may be held on the workers (`RemoteChunks`, with `civil_features`): only the
    rows of the scored pairs and of the labels come here."""
    run_on: PairExecutor = executor or LocalExecutor()
    union_f = run_on.features(person_features, feature_inputs(union))
    civil_f = civil_features if civil_features is not None else run_on.features(
        person_features, feature_inputs(civil))
    dedupe, cluster = dedupe_roll(union, union_f, specs["roll_dedupe"], run_on)
    result = Linker(load_spec(specs["union_civil"]), run_on).run(
        union_f, civil_f, left_cluster=cluster, labels=label_positions(union, civil, labels))
    pairs = result.pairs
    u_rows = union.iloc[pairs["left"]]
    c_rows = rows_at(civil, pairs["right"].to_numpy(dtype=np.int64))
    frame = pd.DataFrame({
        "union_row_key": u_rows["row_key"].to_numpy(),
        "union_roll_id": u_rows["roll_id"].to_numpy(),
        "civil_row_key": c_rows["row_key"].to_numpy(),
        "civil_case_id": c_rows["case_id"].to_numpy(),
        "civil_member_no": c_rows["member_no"].to_numpy(),
        "match_probability": pairs["match_probability"].to_numpy(),
        "match_weight": pairs["match_weight"].to_numpy(),
        "decision": pairs["decision"].to_numpy(),
        "method": _method(pairs, u_rows, c_rows),
        **{c: pairs[c].to_numpy() for c in _comparison_columns(pairs)},
    })
    frame["name_agrees"] = frame["name_level"] == "exact"
    # Masked display columns: enough for a person to recognise the pair, nothing more.
    frame["union_name_masked"] = mask_names(u_rows["name"]).to_numpy()
    frame["union_id_masked"] = mask_ids(u_rows["id_norm"]).to_numpy()
    frame["civil_name_masked"] = mask_names(c_rows["name"]).to_numpy()
    frame["civil_id_masked"] = mask_ids(c_rows["id_norm"]).to_numpy()
    for column in ("union_row_key", "union_roll_id", "civil_row_key", "civil_case_id",
                   "civil_member_no", "decision", "method"):
        frame[column] = frame[column].astype("string")
    frame = apply_labels(frame, labels)
    linked = frame["decision"].isin([MATCH, POSSIBLE])
    models = {"roll_dedupe": dedupe.model.as_dict(), "union_civil": result.model.as_dict()}
    blocking = {"roll_dedupe": _stats(dedupe.blocking), "union_civil": _stats(result.blocking)}

    member_links = None
    if members is not None:
        member_links, model, stats = link_civil_members(civil, civil_f, members,
                                                        specs["civil_members"], run_on)
        models["civil_members"], blocking["civil_members"] = model, stats
    return PeopleLinks(
        links=frame[linked].reset_index(drop=True), evidence=frame.reset_index(drop=True),
        member_links=member_links, roll_duplicates=roll_duplicate_groups(union, cluster),
        roll_cluster=pd.Series(cluster, index=union["row_key"].to_numpy()),
        models=models, blocking=blocking)


def link_civil_members(civil: pd.DataFrame, civil_f: pd.DataFrame, members: pd.DataFrame,
                       spec_name: str, executor: PairExecutor | None = None
                       ) -> tuple[pd.DataFrame, dict, list[dict]]:
    linker = Linker(load_spec(spec_name), executor)
    result = linker.run(civil_f, linker.executor.features(person_features,
                                                           feature_inputs(members)))
    pairs = result.pairs[result.pairs["decision"].isin([MATCH, POSSIBLE])]
    frame = member_links_frame(pairs, civil.iloc[pairs["left"]], members.iloc[pairs["right"]])
    return frame, result.model.as_dict(), _stats(result.blocking)


def member_links_frame(pairs: pd.DataFrame, c_rows: pd.DataFrame, m_rows: pd.DataFrame
                       ) -> pd.DataFrame:
    """The member links of linked pairs (`pairs`: decision match / possible, with
    match_probability, match_weight and the id_number level; c_rows / m_rows: each pair's
    civil and roster row, with row_key, case_id / member_no / member_id and a boolean
    id_valid), one row per pair, ids and decisions as string columns."""
    frame = pd.DataFrame({
        "civil_row_key": c_rows["row_key"].to_numpy(),
        "civil_case_id": c_rows["case_id"].to_numpy(),
        "civil_member_no": c_rows["member_no"].to_numpy(),
        "member_row_key": m_rows["row_key"].to_numpy(),
        "member_id": m_rows["member_id"].to_numpy(),
        "match_probability": pairs["match_probability"].to_numpy(),
        "match_weight": pairs["match_weight"].to_numpy(),
        "decision": pairs["decision"].to_numpy(),
        "method": _method(pairs, c_rows, m_rows),
    })
    for column in ("civil_row_key", "civil_case_id", "civil_member_no", "member_row_key",
                   "member_id", "decision", "method"):
        frame[column] = frame[column].astype("string")
    return frame.reset_index(drop=True)
