"""Generated Chinese data head to head: bidui, Splink and recordlinkage, roll → civil.

:func:`run_generated_bench` writes a generated data set (``pipeline.generate``: union roll XLSX,
civil exchange CSV in GB18030, truth/) and links the roll (left) to the civil file (right) three
ways. A predicted link is ``(union_roll_id, civil_case_id, civil_member_no)``; every engine is
scored by :func:`pipeline.evaluate.score_links` against ``truth/links.csv``, whose ``id_kind``
(how the roll wrote the ID: valid, lowercase_x, legacy15, typo, excel_e17, blank …) gives the
recall per ID kind.

* bidui: its own path, ``stages.ingest → stages.normalise → stages.link`` (decision ``match``).
* The peers get the light, generic preparation any user would give them, and nothing of bidui's
  normalisers or linker: the files are read by ``pipeline.ingest.load_source`` (GB18030 decoded,
  every ID column read as text, the Chinese headers mapped to fields); then NFKC and all white
  space removed on name / ID / street / address, the ID upper-cased, and the birth date taken
  from the ID when it is a valid 18-digit GB 11643 number (check character right, date real) —
  on the roll, failing that, from its own birth-date column where pandas parses it
  (``pd.to_datetime(format="mixed")``: date cells and ISO-like text; not Excel serial numbers or
  ``1990年1月2日``). No legacy 15-digit upgrade, no Excel-damage repair, no traditional→simplified.
* Splink 5 (DuckDB): name Jaro–Winkler 0.92/0.8 with term frequencies, ID Levenshtein ≤1/≤2,
  Splink's DateOfBirthComparison on the birth-date string, street Jaro–Winkler 0.9, address
  Jaro–Winkler 0.9/0.7; predictions blocked on ID, name, birth date; λ from deterministic rules
  (ID; name + birth date) at recall 0.8, u by random sampling (1e6 pairs, seeded), EM blocked on
  name then on birth date; p ≥ 0.5, no one-to-one.
* recordlinkage 0.16: the same features binarised (name JW ≥ 0.85, ID Levenshtein similarity
  ≥ 0.88 i.e. ≤ 2 edits in 18, birth date exact, street and address JW ≥ 0.85), candidates
  from the union of exact blocks on ID, name and birth date, ``ECMClassifier``; no one-to-one.

``seconds`` is, for every engine, read + prepare + link (generation and scoring not timed).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.febrl import SPLINK_SKIPPED, splink_available
from pipeline.evaluate import score_links
from pipeline.ingest import load_source
from pipeline.schema import Source

AS_OF = dt.date(2026, 6, 30)
UNION_FILE = "union_roll.xlsx"
CIVIL_FILE = "civil_exchange.csv"
LINK_COLUMNS = ["union_roll_id", "civil_case_id", "civil_member_no"]
PEER_FIELDS = ["name", "id", "birth_date", "street", "address"]
SPLINK_U_MAX_PAIRS = 1e6
SPLINK_SEED = 1
DETERMINISTIC_RECALL = 0.8
RL_STRING_THRESHOLD = 0.85
RL_ID_THRESHOLD = 0.88  # Levenshtein similarity 1 - d/18: d <= 2

_SPACE = re.compile(r"\s+")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID18 = re.compile(r"^\d{17}[\dX]$")


# --- generic preparation for the peers -----------------------------------------------------


def _text(value: object) -> str | None:
    """NFKC, all white space out; None for blank."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = _SPACE.sub("", unicodedata.normalize("NFKC", str(value)))
    return text or None


def birth_from_id(id_text: str | None) -> str | None:
    """YYYY-MM-DD of a valid 18-digit GB 11643 ID (check character and date both right)."""
    if not id_text or not _ID18.match(id_text):
        return None
    total = sum(int(d) * w for d, w in zip(id_text[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != id_text[17]:
        return None
    try:
        born = dt.date(int(id_text[6:10]), int(id_text[10:12]), int(id_text[12:14]))
    except ValueError:
        return None
    return born.isoformat()


def _birth_from_column(values: pd.Series) -> pd.Series:
    """A birth-date column as pandas reads it: date cells and ISO-like text; else None."""
    def one(value: object) -> str | None:
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str) and value.strip():
            parsed = pd.to_datetime(value.strip(), errors="coerce", format="mixed")
            return None if pd.isna(parsed) else parsed.date().isoformat()
        return None

    return values.map(one)


def prepare_peer_frame(frame: pd.DataFrame, prefix: str, keys: dict[str, str]) -> pd.DataFrame:
    """Loaded source frame → uid, link keys, and the five peer fields (text, None = missing)."""
    out = pd.DataFrame({"uid": [f"{prefix}{i}" for i in range(len(frame))]})
    for target, column in keys.items():
        out[target] = frame[column].astype("string").to_numpy()
    out["name"] = frame["name"].map(_text).to_numpy()
    ids = frame["id_number"].map(_text).map(lambda s: s.upper() if s else None)
    out["id"] = ids.to_numpy()
    birth = ids.map(birth_from_id)
    if "birth_date" in frame.columns:
        birth = birth.where(birth.notna(), _birth_from_column(frame["birth_date"]))
    out["birth_date"] = birth.to_numpy()
    out["street"] = frame["street"].map(_text).to_numpy()
    out["address"] = frame["address"].map(_text).to_numpy()
    for column in ("uid", *PEER_FIELDS):
        out[column] = out[column].astype("string")
    return out


def read_and_prepare(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(roll, civil) for the peers: read via load_source, then the generic preparation."""
    union = load_source([folder / UNION_FILE], Source.UNION).frame
    civil = load_source([folder / CIVIL_FILE], Source.CIVIL).frame
    left = prepare_peer_frame(union, "L", {"union_roll_id": "roll_id"})
    right = prepare_peer_frame(civil, "R", {"civil_case_id": "case_id",
                                            "civil_member_no": "member_no"})
    return left, right


def links_frame(left: pd.DataFrame, right: pd.DataFrame, li: np.ndarray, ri: np.ndarray,
                method: str) -> pd.DataFrame:
    """Predicted (positional) pairs → the link triples score_links expects, all 'match'."""
    out = pd.DataFrame({
        "union_roll_id": left["union_roll_id"].to_numpy()[li],
        "civil_case_id": right["civil_case_id"].to_numpy()[ri],
        "civil_member_no": right["civil_member_no"].to_numpy()[ri],
    })
    out["decision"] = "match"
    out["method"] = method
    return out.drop_duplicates(LINK_COLUMNS)


def _entry(scores: dict, seconds: float, **extra: object) -> dict:
    leaf = {key: scores["all"][key] for key in ("precision", "recall", "f1")}
    leaf["seconds"] = seconds
    leaf.update({k: scores["all"][k] for k in ("predicted", "actual", "true_positive")})
    leaf.update(extra)
    return {"all": leaf, "recall_by_id_kind": scores["recall_by_id_kind"]}


# --- engines -------------------------------------------------------------------------------


def run_bidui_generated(folder: Path, truth: pd.DataFrame) -> dict:
    from pipeline import stages
    from pipeline.config import load_config

    config = load_config()
    t0 = time.perf_counter()
    inputs = stages.Inputs([folder / UNION_FILE], [folder / CIVIL_FILE])
    normalised = stages.normalise(stages.ingest(inputs), AS_OF)
    links = stages.link(normalised, config)
    seconds = time.perf_counter() - t0
    scores = score_links(links.links, truth)
    return _entry(scores, seconds, by_method=scores["by_method"])


def run_recordlinkage_generated(folder: Path, truth: pd.DataFrame) -> dict:
    import recordlinkage

    t0 = time.perf_counter()
    left, right = read_and_prepare(folder)
    # recordlinkage wants NaN for missing (exact blocks drop NaN keys; comparisons score 0).
    left_rl = left.astype(object).where(left.notna(), np.nan)
    right_rl = right.astype(object).where(right.notna(), np.nan)
    indexer = recordlinkage.Index()
    for key in ("id", "name", "birth_date"):
        indexer.block(key)
    candidates = indexer.index(left_rl, right_rl)
    comparer = recordlinkage.Compare()
    comparer.string("name", "name", method="jarowinkler", threshold=RL_STRING_THRESHOLD,
                    label="name")
    comparer.string("id", "id", method="levenshtein", threshold=RL_ID_THRESHOLD, label="id")
    comparer.exact("birth_date", "birth_date", label="birth_date")
    for column in ("street", "address"):
        comparer.string(column, column, method="jarowinkler", threshold=RL_STRING_THRESHOLD,
                        label=column)
    features = comparer.compute(candidates, left_rl, right_rl)
    matches = recordlinkage.ECMClassifier(binarize=None).fit_predict(features)
    li = np.asarray(matches.get_level_values(0), dtype=np.int64)
    ri = np.asarray(matches.get_level_values(1), dtype=np.int64)
    predicted = links_frame(left, right, li, ri, "ecm")
    seconds = time.perf_counter() - t0
    return _entry(score_links(predicted, truth), seconds, candidate_pairs=len(candidates),
                  recordlinkage_version=recordlinkage.__version__)


def splink_settings():
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        unique_id_column_name="uid",
        link_type="link_only",
        blocking_rules_to_generate_predictions=[
            block_on("id"), block_on("name"), block_on("birth_date")],
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.92, 0.8]).configure(
                term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("id", [1, 2]),
            cl.DateOfBirthComparison("birth_date", input_is_string=True,
                                     datetime_format="%Y-%m-%d", invalid_dates_as_null=True),
            cl.JaroWinklerAtThresholds("street", [0.9]),
            cl.JaroWinklerAtThresholds("address", [0.9, 0.7]),
        ],
    )


def run_splink_generated(folder: Path, truth: pd.DataFrame,
                         u_max_pairs: float = SPLINK_U_MAX_PAIRS,
                         threshold: float = 0.5) -> dict:
    import splink
    from splink import DuckDBAPI, Linker, block_on

    t0 = time.perf_counter()
    left, right = read_and_prepare(folder)
    columns = ["uid", *PEER_FIELDS]
    db_api = DuckDBAPI()
    sdfs = [db_api.register(left[columns], dataset_display_name="roll"),
            db_api.register(right[columns], dataset_display_name="civil")]
    linker = Linker(sdfs, splink_settings(), log_level=logging.WARNING)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("id"), block_on("name", "birth_date")], recall=DETERMINISTIC_RECALL)
    training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=SPLINK_SEED)
    for rule in (block_on("name"), block_on("birth_date")):
        training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True)
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    pred = predictions.as_pandas_dataframe()
    pred = pred[pred["match_probability"] >= threshold]
    positions_l = {uid: i for i, uid in enumerate(left["uid"])}
    positions_r = {uid: i for i, uid in enumerate(right["uid"])}
    li, ri = [], []
    for a, b in zip(pred["uid_l"], pred["uid_r"], strict=True):
        a, b = (a, b) if str(a).startswith("L") else (b, a)
        li.append(positions_l[a])
        ri.append(positions_r[b])
    predicted = links_frame(left, right, np.asarray(li, dtype=np.int64),
                            np.asarray(ri, dtype=np.int64), "splink")
    seconds = time.perf_counter() - t0
    return _entry(score_links(predicted, truth), seconds, splink_version=splink.__version__)


# --- the bench -----------------------------------------------------------------------------


def _same_generated(folder: Path, households: int, seed: int) -> bool:
    """Whether ``folder`` already holds a complete generated set with these parameters."""
    meta = folder / "truth" / "meta.json"
    if not (meta.exists() and (folder / UNION_FILE).exists() and (folder / CIVIL_FILE).exists()):
        return False
    try:
        found = json.loads(meta.read_text("utf-8"))
    except ValueError:
        return False
    return found.get("households") == households and found.get("seed") == seed


def run_generated_bench(households: int = 2000, seed: int = 42, workdir: Path | None = None,
                        splink_u_max_pairs: float = SPLINK_U_MAX_PAIRS,
                        data_dir: Path | None = None) -> dict:
    """Generate ``households`` (seeded) into ``workdir`` (or a temporary folder) and link
    roll → civil with bidui, Splink and recordlinkage; each scored by ``score_links``.

    A ``workdir`` that already holds the same generated set (truth/meta.json: households and
    seed) is reused. ``data_dir`` instead names an existing set (with its truth/) to link as
    is — nothing is generated or written there (the committed data/sample, say).

    Returns ``{engine: {"all": {precision, recall, f1, seconds, …}, "recall_by_id_kind":
    {kind: recall}}}``; Splink's entry is ``{"skipped": …}`` when Splink is not installed.
    """
    from pipeline.generate import generate

    with tempfile.TemporaryDirectory(prefix="bidui-bench-") as scratch:
        if data_dir is not None:
            folder = Path(data_dir)
        else:
            folder = Path(workdir) if workdir is not None else Path(scratch)
            folder.mkdir(parents=True, exist_ok=True)
            if not _same_generated(folder, households, seed):
                generate(folder, households, seed)
        truth = pd.read_csv(folder / "truth" / "links.csv", dtype=str, keep_default_na=False)
        out: dict[str, dict] = {"bidui": run_bidui_generated(folder, truth)}
        if splink_available():
            out["splink"] = run_splink_generated(folder, truth, u_max_pairs=splink_u_max_pairs)
        else:
            out["splink"] = dict(SPLINK_SKIPPED)
        out["recordlinkage"] = run_recordlinkage_generated(folder, truth)
    return out
