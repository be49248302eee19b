"""Truth tables, computed from the final data (clean semantics + written IDs/names/dates).

Roll-entry codes apply to 在档 entries only. Nothing here trusts the planting intentions: ID
numbers, birth-date cells and names are read back from what was written (:mod:`idcheck`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import opencc
import pandas as pd

from pipeline.detect.rules import codes_where

from .constants import DIBAO_STANDARD
from .idcheck import check_id, gbk_pua_map, parse_written_date
from .population import World
from .render import Rendered

_T2S = opencc.OpenCC("t2s")
# Minority-name separators: dots of every kind, and dashes typed between the parts.
_SEP = re.compile(r"\s*[·•‧・.．\-‐‑‒–—―－]+\s*")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
VARIANTS = str.maketrans({"囯": "国"})
# The codes the truth plants, in the rule registry's (SPEC §4) order: every rule with a
# TRUTH_KEY (POSSIBLE_MATCH_REVIEW has none: the clerical band depends on the model).
CODES = codes_where(lambda rule: rule.truth_key is not None)
DISC_COLUMNS = ["type", "union_roll_id", "civil_case_id", "civil_member_no", "member_id"]
ROLL_BIRTH_HEADER = "出生日期"


def normalise_name(name: str) -> str:
    """Folding the truth treats as "the same name": GBK-era private-use code points to their
    standard characters, NFKC, no spaces or zero-width characters, one separator (any dot or
    dash between two parts becomes ·), t2s, 囯→国."""
    s = unicodedata.normalize("NFKC", name.translate(gbk_pua_map()))
    s = "".join(_ZERO_WIDTH.sub("", s).split())
    s = _SEP.sub("·", s).strip("·")
    return _T2S.convert(s).translate(VARIANTS)


def shared_numbers(numbers: list[str | None], names: list[str],
                   births: list[object] | None) -> set[str]:
    """Numbers carried in one file by different people: two rows whose names differ (after
    :func:`normalise_name`) and whose birth dates differ or are not both stated (a file
    without birth dates: the names decide)."""
    rows: dict[str, list[int]] = {}
    for i, number in enumerate(numbers):
        if number is not None:
            rows.setdefault(number, []).append(i)
    shared = set()
    for number, members in rows.items():
        if len(members) < 2:
            continue
        people = {(normalise_name(names[i]),
                   parse_written_date(births[i]) if births is not None else None)
                  for i in members}
        if any(a[0] != b[0] and (a[1] is None or b[1] is None or a[1] != b[1])
               for a in people for b in people):
            shared.add(number)
    return shared


def _sound(raw: object) -> str | None:
    """The canonical number of a sound written ID (valid, or only its prefix unpublished)."""
    verdict = check_id(raw)
    return verdict.canonical if verdict.status in ("valid", "unpublished_prefix") else None


def _sound_column(values: list[object]) -> list[str | None]:
    """:func:`_sound` of a whole column, judging in full only what may be shared: a plain
    18-character cell is its own key until another cell carries the same number."""
    keys = [v.upper() if isinstance(v, str) and len(v) == 18 and v.isascii() and v.isalnum()
            else _sound(v) for v in values]
    counts = Counter(k for k in keys if k is not None)
    return [k if k is None or counts[k] < 2 else _sound(k) for k in keys]


def category_inconsistent(category: str, income: float) -> bool:
    return (category == "深度困难" and income >= DIBAO_STANDARD) or (
        category == "相对困难" and income >= 2 * DIBAO_STANDARD)


def compute_truth(world: World, rd: Rendered, roster: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The truth tables of the written roll and civil rows (``rd``) and the roster members
    who are civil persons (``roster``: member_id, civil_row; other members may be left out)."""
    roll, civil = world.roll, world.civil
    case_ids = civil["case_id"].tolist()
    member_nos = civil["member_no"].tolist()
    civil_id_by_key = {}
    civil_name_by_key = {}
    civil_kind_by_key = {}
    for cid, mno, idw, nw, kind in zip(rd.civil["救助证编号"], rd.civil["成员序号"],
                                       rd.civil_id_written, rd.civil_name_written,
                                       rd.civil_id_kind, strict=True):
        civil_id_by_key[(cid, mno)] = idw
        civil_name_by_key[(cid, mno)] = nw
        civil_kind_by_key[(cid, mno)] = kind
    roll_sound = [_sound(x) for x in rd.roll_id_written]
    roll_shared = shared_numbers(roll_sound, rd.roll_name_written,
                                 rd.roll[ROLL_BIRTH_HEADER].tolist())
    civil_shared = shared_numbers(_sound_column(rd.civil_id_written),
                                  rd.civil_name_written, None)
    sheets, excel_rows = rd.layout.positions(len(roll))

    def evidence(raw: object, shared: set[str]) -> str | None:
        """The number if it is valid and not shared in its file (else it is no evidence)."""
        verdict = check_id(raw)
        if verdict.status != "valid" or verdict.canonical in shared:
            return None
        return verdict.canonical

    civ_cols = {k: civil[k].tolist() for k in ("case_status", "assistance_type",
                                               "household_size", "person_status")}
    links, kinds, disc = [], [], []
    active_mask = roll["roll_status"] == "在档"
    cases_with_active_roll: set[str] = set()
    pid_active = Counter(roll.loc[active_mask, "pid"].tolist())

    for i, row in enumerate(roll.itertuples(index=False)):
        kind = rd.roll_id_kind[i]
        name_kind, birth_kind = rd.roll_name_kind[i], rd.roll_birth_kind[i]
        kinds.append((row.roll_id, kind, row.roll_status, sheets[i], excel_rows[i], name_kind,
                      birth_kind))
        c = int(row.civil_row)
        cid, mno = (case_ids[c], member_nos[c]) if c >= 0 else ("", "")
        if c >= 0:
            links.append((row.roll_id, cid, mno, kind, civil_kind_by_key[(cid, mno)], name_kind,
                          birth_kind))
        if row.roll_status != "在档":
            continue
        if c >= 0:
            cases_with_active_roll.add(cid)

        def add(code: str, with_civil: bool, _rid=row.roll_id, _cid=cid, _mno=mno) -> None:
            disc.append((code, _rid, _cid if with_civil else "",
                         str(_mno) if with_civil else "", ""))

        if check_id(rd.roll_id_written[i]).status != "valid" or roll_sound[i] in roll_shared:
            add("INVALID_ID", False)
        if category_inconsistent(row.category, float(row.income)):
            add("CATEGORY_INCONSISTENT", False)
        if pid_active[row.pid] >= 2:
            add("DUPLICATE_ROLL_ENTRY", False)
        claims = row.claimed != "无"
        if c < 0:
            if claims:
                add("CLAIMED_ASSISTANCE_NOT_FOUND", False)
            continue
        cv = {k: v[c] for k, v in civ_cols.items()}
        active_case = cv["case_status"] == "在保"
        if claims and not active_case:
            add("ASSISTANCE_ENDED", True)
        if claims and active_case and row.claimed != cv["assistance_type"]:
            add("ASSISTANCE_TYPE_MISMATCH", True)
        if not claims and active_case:
            add("UNCLAIMED_ASSISTANCE", True)
        if int(row.household_size) != int(cv["household_size"]):
            add("HOUSEHOLD_SIZE_MISMATCH", True)
        if cv["person_status"] == "死亡":
            add("DECEASED", True)
        rid_norm = evidence(rd.roll_id_written[i], roll_shared)
        cid_norm = evidence(civil_id_by_key[(cid, mno)], civil_shared)
        if (rid_norm is not None and rid_norm == cid_norm
                and normalise_name(rd.roll_name_written[i])
                != normalise_name(civil_name_by_key[(cid, mno)])):
            add("ID_NAME_CONFLICT", True)

    member_links = []
    active_cases = set(civil.loc[civil["case_status"] == "在保", "case_id"].tolist())
    for mid, c in zip(roster["member_id"].tolist(), roster["civil_row"].tolist(), strict=True):
        if c < 0:
            continue
        cid, mno = case_ids[c], member_nos[c]
        member_links.append((cid, mno, mid))
        if cid in active_cases and cid not in cases_with_active_roll:
            disc.append(("NOT_ON_HARDSHIP_ROLL", "", cid, str(mno), mid))

    links_df = pd.DataFrame(links, columns=["union_roll_id", "civil_case_id", "civil_member_no",
                                            "id_kind", "civil_id_kind", "name_kind",
                                            "birth_kind"]).sort_values("union_roll_id")
    ml_df = pd.DataFrame(member_links, columns=["civil_case_id", "civil_member_no", "member_id"])
    ml_df = ml_df.sort_values(["civil_case_id", "civil_member_no", "member_id"])
    kinds_df = pd.DataFrame(kinds, columns=["union_roll_id", "id_kind", "roll_status",
                                            "source_sheet", "source_row", "name_kind",
                                            "birth_kind"])
    kinds_df = kinds_df.sort_values("union_roll_id")
    disc_df = pd.DataFrame(disc, columns=DISC_COLUMNS)
    disc_df["_o"] = disc_df["type"].map({c: i for i, c in enumerate(CODES)})
    disc_df = disc_df.sort_values(["_o", "union_roll_id", "civil_case_id", "civil_member_no",
                                   "member_id"]).drop(columns="_o")
    return {
        "links": links_df.reset_index(drop=True),
        "member_links": ml_df.reset_index(drop=True),
        "roll_id_kinds": kinds_df.reset_index(drop=True),
        "discrepancies": disc_df.reset_index(drop=True),
    }
