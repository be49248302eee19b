"""Analysts' decision files: read them in any form, validate every row, plan the import.

Sources, read each night before anything else (`prepare`):
- every file in `STATE/inbox/` (any name; `.xlsx` / `.xlsm` / `.xls` / `.ods`, or `.csv` /
  `.txt` in UTF-8, UTF-8 with BOM, GBK or GB18030): filled copies of `review.xlsx`, or CSV
  with the same Chinese headers or the old English ones;
- the old `STATE/review_decisions.csv` (English headers, any of those encodings): a standing
  file, its rows recorded once.
`bidui review import FILE…` reads the files it is given the same way (`import_files`).

A row is a decision when any of 处理结果, 备注, 处理人, 处理日期 is filled. It is refused, with a
Chinese reason naming the column, when: the id (问题编号) is blank, malformed or in no night's
findings; 处理结果 is blank or outside 确认 / 驳回 / 待核实 (English codes in any case are
accepted); 处理人 is blank; 处理日期 is no date; the evidence (依据) is blank or differs from the
finding's evidence on the last night it was raised (the finding changed since: a stale
decision); or the same finding is decided differently by two rows of the same import. A row
identical to a decision already in the log is not recorded again.

Nothing here raises on a bad file: an unreadable file is a warning (and a row of
`review_import.parquet`), and the night goes on with the decisions it had. No message names a
cell's value (names, notes): only the file, the sheet, the row, the column and the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from pipeline.detect.lifecycle import DECISION_COLUMNS, latest_evidence
from pipeline.redaction import redact
from pipeline.review import decision_code, workbook
from pipeline.review import log as decision_log
from pipeline.state import private_folder

logger = logging.getLogger(__name__)

INBOX, DONE, FAILED = "inbox", "done", "failed"
LEGACY = "review_decisions.csv"
READABLE_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt"}
MAX_FILE_BYTES = 64 * 1024**2  # a filled review.xlsx of a city is a few MB
HEADER_ROWS = 10  # the header is searched in the first rows of each sheet
MAX_NOTE, MAX_REVIEWER = 2000, 50
MAX_LISTED = 100  # refused rows listed per file in the manifest
TIMEZONE = "Asia/Shanghai"
_ID = re.compile(r"[0-9a-f]{20}")
_EVIDENCE = re.compile(r"[0-9a-f]{16}")

# Headers as written → field (compared after NFKC, trimming and lower-casing).
HEADERS = {
    workbook.ID: "discrepancy_id", "discrepancy_id": "discrepancy_id",
    workbook.DECISION: "decision", "decision": "decision",
    workbook.NOTE: "note", "note": "note",
    workbook.REVIEWER: "decided_by", "decided_by": "decided_by",
    workbook.DATE: "decided_at", "decided_at": "decided_at",
    workbook.EVIDENCE: "evidence", "依据编号": "evidence", "evidence": "evidence",
}
FIELDS = DECISION_COLUMNS
FILLED = ("decision", "note", "decided_by", "decided_at")  # what the analyst fills in
# The header a reason points at when the file's own header is unknown.
FIELD_HEADERS = {"discrepancy_id": workbook.ID, "decision": workbook.DECISION,
                 "note": workbook.NOTE, "decided_by": workbook.REVIEWER,
                 "decided_at": workbook.DATE, "evidence": workbook.EVIDENCE}

REASONS = {
    "no_decision": "填写了备注、处理人或处理日期，但处理结果为空："
                   "请在下拉框中选择 确认 / 驳回 / 待核实",
    "not_in_list": "处理结果不在可选范围内：请在下拉框中选择 确认 / 驳回 / 待核实",
    "no_id": "缺少问题编号（隐藏列“问题编号”被清空或删除）：请在当晚的 review.xlsx 中填写",
    "bad_id": "问题编号格式不对（应为 20 位数字和字母，可能被 Excel 改成了数字）："
              "请在 review.xlsx 原文件中填写",
    "unknown_id": "问题编号不在任何一晚的问题清单中：请使用本系统生成的 review.xlsx",
    "no_reviewer": "缺少处理人：请填写姓名或工号",
    "bad_date": "处理日期无法识别：请写成 2026-07-01 这样的日期，或留空（按导入日期记录）",
    "future_date": "处理日期晚于导入当天（{today}），应是录入错误：请改为实际处理的日期，"
                   "或留空（按导入日期记录）",
    "no_evidence": "缺少依据（隐藏列“依据”被清空或删除）：请在当晚的 review.xlsx 中填写",
    "stale": "该问题在您处理之后已发生变化（依据不同），此处理未采用："
             "请在最新的 review.xlsx 中重新处理",
    "decided_twice": "同一问题在本次导入中有多行不同的处理（另见 {other}）：请只保留一行后重新提交",
    "too_long": f"内容过长（备注最多 {MAX_NOTE} 字，处理人最多 {MAX_REVIEWER} 字）：请缩短",
    "unreadable_file": "文件无法读取，未导入其中任何处理结果：{detail}",
    "no_header": "文件中找不到“问题编号”和“处理结果”两列，未导入：请提交填写后的 review.xlsx "
                 "（或保留其表头另存的 CSV）",
}
REFUSED_COLUMNS = ("source_file", "source_sheet", "source_row", "discrepancy_id", "column",
                   "reason_code", "reason")


@dataclass
class FileRead:
    """One decisions file as read: its rows (raw cells by field), or why it could not be."""

    path: Path
    sha256: str | None
    format: str | None = None
    encoding: str | None = None
    rows: list[dict] = field(default_factory=list)  # field → cell, + source_sheet/row/headers
    error: str | None = None  # reason code: unreadable_file / no_header
    detail: str = ""


@dataclass
class FileReport:
    file: str
    format: str | None
    encoding: str | None
    rows: int = 0  # rows holding a decision (filled rows)
    imported: int = 0
    refused: int = 0
    unchanged: int = 0  # already recorded (a file put in twice, a row filled in earlier)
    status: str = "read"  # read / unreadable
    moved_to: str | None = None  # inbox files: where the night moves it once published
    # Each refused row: sheet, row, column (its header), reason_code, reason (no cell value);
    # the first MAX_LISTED in the manifest, all of them in review_import.parquet.
    refusals: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class ImportPlan:
    """What tonight's import found; nothing is recorded or moved until `commit`."""

    decisions: pd.DataFrame  # the decisions to use tonight: the log + `accepted`
    accepted: pd.DataFrame  # new rows for the decision log (log.LOG_COLUMNS)
    refused: pd.DataFrame  # REFUSED_COLUMNS, one row per refused row or unreadable file
    files: list[FileReport]
    warnings: list[str]
    reads: list[FileRead] = field(default_factory=list)  # inbox files, to move on commit
    stamp: str = ""

    def manifest(self) -> dict:
        """`manifest["review"]`: imported / refused counts, per-file reports, warnings."""
        return {"imported": len(self.accepted), "refused": len(self.refused),
                "files": [f.as_dict() for f in self.files], "warnings": list(self.warnings)}

    def commit(self, root: Path) -> None:
        """After the night published: append the accepted rows to the log, move each inbox
        file to `inbox/done/` (unreadable ones to `inbox/failed/`) as its report's `moved_to`
        says. A file changed since it was read stays in the inbox for the next night."""
        decision_log.append(root, self.accepted)
        private_folder(Path(root) / INBOX)  # where analysts put files
        for read in self.reads:
            _move(read, Path(root) / _destination(read, self.stamp))


# -- reading -------------------------------------------------------------------------------------

def _norm_header(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).strip().lower()
    text = text.removesuffix("(必填)").strip()
    return HEADERS.get(text)


def _blank(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()


def _find_header(cells: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    """(the header's record index, field → column) of the first of the top rows that names
    both the id and the decision column."""
    for index, record in enumerate(cells[:HEADER_ROWS]):
        columns: dict[str, int] = {}
        for position, value in enumerate(record):
            name = _norm_header(value)
            if name and name not in columns:
                columns[name] = position
        if {"discrepancy_id", "decision"} <= set(columns):
            return index, columns
    return None


KIND_ZH = {"xlsx": "Excel 工作簿", "ods": "ODS 表格", "ole2": "旧版 Office 文件或加密的工作簿",
           "parquet": "Parquet 数据", "pdf": "PDF 文档", "html": "网页",
           "xml2003": "Excel 2003 XML", "xml": "XML 文档", "text": "CSV 文本", "zip": "压缩包",
           "docx": "Word 文档", "binary": "无法识别的二进制数据", "damaged-zip": "已损坏的工作簿"}
SAVE_AGAIN = "请在 Excel 或 WPS 中打开 review.xlsx，填写后保存为 .xlsx 再提交"


def _why_unreadable(path: Path) -> str:
    """Why read_book refused a file, in Chinese (from its first bytes, never its text)."""
    from pipeline.ingest.readers import CSV_SUFFIXES, sniff

    try:
        kind = sniff(path)
    except OSError:
        return "无法打开"
    if kind == "empty":
        return "文件是空的（0 字节）"
    what = KIND_ZH.get(kind, KIND_ZH["binary"])
    if path.suffix.lower() in CSV_SUFFIXES:
        if kind in ("text", "binary"):
            return ("不是 UTF-8 或 GBK/GB18030 编码的 CSV 文本（含有乱码或空字节）："
                    "请另存为 CSV（UTF-8）或直接提交 .xlsx")
        return f"扩展名是 .csv，内容却是{what}：{SAVE_AGAIN}"
    if kind in ("xlsx", "ods", "ole2", "damaged-zip"):
        return f"工作簿已损坏或设置了密码：{SAVE_AGAIN}"
    return f"不是工作簿（内容是{what}）：{SAVE_AGAIN}"


def read_decision_file(path: Path) -> FileRead:
    """Read one decisions file. Never raises; `error` says why a file could not be used."""
    from pipeline.errors import InputError
    from pipeline.ingest.readers import read_book

    path = Path(path)
    try:
        size = path.stat().st_size
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if size <= MAX_FILE_BYTES \
            else None
    except OSError as error:
        return FileRead(path, None, error="unreadable_file",
                        detail=f"无法打开（{type(error).__name__}）")
    if path.suffix.lower() not in READABLE_SUFFIXES:
        return FileRead(path, digest, error="unreadable_file",
                        detail="不是 xlsx / xls / ods 工作簿或 CSV 文件")
    if size > MAX_FILE_BYTES:
        return FileRead(path, digest, error="unreadable_file",
                        detail=f"文件超过 {MAX_FILE_BYTES // 1024**2} MB")
    try:
        book = read_book(path)
    except InputError:  # never its text here: the reason is said in Chinese for analysts
        return FileRead(path, digest, error="unreadable_file", detail=_why_unreadable(path))
    except Exception as error:  # a reader's own exception text may quote the bytes: not used
        return FileRead(path, digest, error="unreadable_file",
                        detail=f"内容已损坏（{type(error).__name__}）")
    read = FileRead(path, digest, format=book.format, encoding=book.encoding)
    sheets = [(sheet.name, sheet.cells.tolist()) for sheet in book.sheets
              if sheet.worksheet and len(sheet.cells)]
    found = _read_rows(read, sheets)
    if not found and book.format == "csv" and book.encoding:
        # Excel's 另存为 → Unicode 文本 (*.txt): UTF-16, tab-separated
        found = _read_rows(read, [(None, _tab_separated(path, book.encoding))])
    if not found:
        read.error = "no_header"
    return read


def _tab_separated(path: Path, encoding: str) -> list[list[str]]:
    """The file's records split at tabs (as Excel writes its Unicode text)."""
    text = path.read_bytes().decode(encoding).lstrip("\ufeff")
    try:
        return [list(record) for record in csv.reader(io.StringIO(text), delimiter="\t")]
    except csv.Error:
        return []


def _read_rows(read: FileRead, sheets: list[tuple[str | None, list[list[object]]]]) -> bool:
    """Add the decided rows of each sheet (name, cells) that has the header to `read.rows`;
    whether any sheet had it."""
    found = False
    for name, cells in sheets:
        header = _find_header(cells)
        if header is None:
            continue
        index, columns = header
        record = cells[index]
        found = True
        headers = {field: str(record[position]).strip() for field, position in columns.items()}
        for offset, values in enumerate(cells[index + 1:], start=index + 2):
            row = {field: values[position] if position < len(values) else None
                   for field, position in columns.items()}
            if all(_blank(row.get(field)) for field in FILLED):
                continue  # not decided: the id and evidence alone are no decision
            row.update(source_sheet=name, source_row=offset, headers=headers)
            read.rows.append(row)
    return found


# -- validating ----------------------------------------------------------------------------------

def _text(value: object) -> str:
    if _blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a staff number typed into a number cell
    return unicodedata.normalize("NFC", str(value)).strip()


def _when(value: object) -> str | None:
    """ISO date (or date and minute) of a 处理日期 cell; '' when blank; None when no date."""
    from pipeline.normalise.dates import parse_date

    if _blank(value):
        return ""
    if isinstance(value, dt.datetime):
        if value.hour or value.minute:
            return value.strftime("%Y-%m-%dT%H:%M")
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        try:
            stamp = dt.datetime.fromisoformat(text)
            return _when(stamp.replace(tzinfo=None))
        except ValueError:
            pass
    day = parse_date(value)
    return day.isoformat() if day is not None else None


def _candidate(row: dict, source_file: str) -> dict:
    """A raw row → the log's fields, normalised as they will be stored."""
    when = _when(row.get("decided_at"))
    return {
        "discrepancy_id": _text(row.get("discrepancy_id")).lower(),
        "decision_raw": row.get("decision"),
        "decision": decision_code(row.get("decision")) or "",
        # an ID number typed into a note is kept masked: the state holds none (security.md)
        "note": redact(_text(row.get("note"))),
        "decided_by": _text(row.get("decided_by")),
        "decided_at": when if when is not None else "",
        "date_ok": when is not None,
        "evidence": _text(row.get("evidence")).lower(),
        "source_file": source_file,
        "source_sheet": row.get("source_sheet"),
        "source_row": row.get("source_row"),
        "headers": row.get("headers") or {},
    }


def _refusal(candidate: dict, code: str, column: str | None, **extra: str) -> dict:
    header = None
    if column is not None:
        header = candidate["headers"].get(column, FIELD_HEADERS.get(column, column))
    identifier = candidate.get("discrepancy_id") or ""
    return {"source_file": candidate["source_file"], "source_sheet": candidate["source_sheet"],
            "source_row": candidate["source_row"],
            "discrepancy_id": identifier if _ID.fullmatch(identifier) else None,
            "column": header, "reason_code": code, "reason": REASONS[code].format(**extra)}


def _check(candidate: dict, evidence: pd.Series, today: dt.date | None = None
           ) -> dict | None:
    """The refusal of one row, or None when it is a valid decision (`today`: the import's
    day, see `validate`)."""
    identifier = candidate["discrepancy_id"]
    if _blank(candidate["decision_raw"]):
        return _refusal(candidate, "no_decision", "decision")
    if not identifier:
        return _refusal(candidate, "no_id", "discrepancy_id")
    if not _ID.fullmatch(identifier):
        return _refusal(candidate, "bad_id", "discrepancy_id")
    if identifier not in evidence.index:
        return _refusal(candidate, "unknown_id", "discrepancy_id")
    if not candidate["decision"]:
        return _refusal(candidate, "not_in_list", "decision")
    if not candidate["decided_by"]:
        return _refusal(candidate, "no_reviewer", "decided_by")
    if not candidate["date_ok"]:
        return _refusal(candidate, "bad_date", "decided_at")
    if len(candidate["note"]) > MAX_NOTE:
        return _refusal(candidate, "too_long", "note")
    if len(candidate["decided_by"]) > MAX_REVIEWER:
        return _refusal(candidate, "too_long", "decided_by")
    if not candidate["evidence"]:
        return _refusal(candidate, "no_evidence", "evidence")
    if not _EVIDENCE.fullmatch(candidate["evidence"]) or \
            candidate["evidence"] != str(evidence[identifier]):
        return _refusal(candidate, "stale", "evidence")
    if today is not None and candidate["decided_at"][:10] > today.isoformat():
        return _refusal(candidate, "future_date", "decided_at", today=today.isoformat())
    return None


def _where(candidate: dict) -> str:
    sheet = f"“{candidate['source_sheet']}”表" if candidate["source_sheet"] else ""
    return f"{candidate['source_file']} {sheet}第 {candidate['source_row']} 行"


def validate(candidates: list[dict], history: pd.DataFrame, logged: pd.DataFrame,
             before: dt.date | None = None, today: dt.date | None = None
             ) -> tuple[list[dict], list[dict], list[dict]]:
    """(accepted, refused, unchanged) among the candidate rows (see the module's rules).

    `history`: the findings history (the evidence of each id on the last night before
    `before` it was raised); `logged`: the decision log, whose rows are not recorded again;
    `today`: the import's day (Asia/Shanghai): a 处理日期 after it is a typo, refused."""
    if not candidates:
        return [], [], []
    evidence = latest_evidence(history, before)
    evidence = evidence[~evidence.index.duplicated(keep="last")]
    # a logged row, as given or as the next review.xlsx shows it (a blank 处理日期 filled with
    # the day it was recorded): handed back unchanged, it is not recorded again
    seen = (set(decision_log.row_keys(logged))
            | set(decision_log.row_keys(decision_log.as_decisions(logged)))) \
        if len(logged) else set()
    valid, refused, unchanged = [], [], []
    for candidate in candidates:
        refusal = _check(candidate, evidence, today)
        if refusal is not None:
            refused.append(refusal)
        elif _key(candidate) in seen:
            unchanged.append(candidate)
        else:
            valid.append(candidate)
    by_id: dict[str, list[dict]] = {}
    for candidate in valid:
        by_id.setdefault(candidate["discrepancy_id"], []).append(candidate)
    accepted = []
    for rows in by_id.values():
        distinct = {_key(r) for r in rows}
        if len(distinct) == 1:
            accepted.append(rows[0])
            unchanged.extend(rows[1:])  # the same decision twice (a file put in twice)
            continue
        for index, row in enumerate(rows):
            other = rows[1] if index == 0 else rows[0]
            refused.append(_refusal(row, "decided_twice", "discrepancy_id",
                                    other=_where(other)))
    return accepted, refused, unchanged


def _key(candidate: dict) -> str:
    return "\x1f".join(str(candidate[c] or "") for c in decision_log.KEY_COLUMNS)


# -- planning ------------------------------------------------------------------------------------

def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else dt.datetime.now(ZoneInfo(TIMEZONE))


def _refused_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(REFUSED_COLUMNS))
    for column in REFUSED_COLUMNS:
        if column == "source_row":
            frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
        else:
            frame[column] = frame[column].astype("string")
    return frame.reset_index(drop=True)


def empty_refused() -> pd.DataFrame:
    return _refused_frame([])


def _plan(root: Path, reads: list[FileRead], history: pd.DataFrame,
          before: dt.date | None, now: dt.datetime | None,
          inbox_reads: list[FileRead], announce: bool = True) -> ImportPlan:
    moment = _now(now)
    logged, log_warning = decision_log.read_log(root)
    warnings = [log_warning] if log_warning else []
    candidates, refused_rows, reports = [], [], []
    for read in reads:
        name = _shown_name(read.path, root)
        report = FileReport(name, read.format, read.encoding)
        reports.append(report)
        if read.error:
            report.status = "unreadable"
            refusal = {"source_file": name, "source_sheet": None, "source_row": None,
                       "discrepancy_id": None, "column": None, "reason_code": read.error,
                       "reason": REASONS[read.error].format(detail=read.detail)}
            refused_rows.append(refusal)
            warnings.append(f"处理结果文件 {name}：{refusal['reason']}。"
                            "本夜沿用此前已记录的处理结果，文件已移入 inbox/failed/。")
            if announce:
                logger.warning("review decisions file %s not used (%s); the night goes on "
                               "with the decisions recorded before", name, read.error)
            continue
        report.rows = len(read.rows)
        candidates.extend(_candidate(row, name) for row in read.rows)
    accepted, refused, unchanged = validate(candidates, history, logged, before,
                                            moment.date())
    refused_rows.extend(refused)
    by_file = {r.file: r for r in reports}
    for rows, attribute in ((accepted, "imported"), (refused, "refused"),
                            (unchanged, "unchanged")):
        for row in rows:
            report = by_file.get(row["source_file"])
            if report is not None:
                setattr(report, attribute, getattr(report, attribute) + 1)
    for row in refused:
        report = by_file.get(row["source_file"])
        if report is not None and len(report.refusals) < MAX_LISTED:
            report.refusals.append({k: row[k] for k in ("source_sheet", "source_row", "column",
                                                         "reason_code", "reason")})
    for report in reports:
        if report.refused:
            warnings.append(f"处理结果文件 {report.file}：{report.refused} 行未被采用，原因见 "
                            "review_import.parquet。")
    recorded = moment.isoformat(timespec="seconds")
    accepted_frame = pd.DataFrame(
        [{**{c: row[c] for c in decision_log.KEY_COLUMNS}, "source_file": row["source_file"],
          "source_sheet": row["source_sheet"] or "",
          "source_row": str(row["source_row"] or ""), "imported_at": recorded}
         for row in accepted], columns=list(decision_log.LOG_COLUMNS)).astype("string")
    decisions = decision_log.as_decisions(pd.concat([logged, accepted_frame],
                                                    ignore_index=True))
    if announce:
        logger.info("review import: %d file(s), %d decision(s) accepted, %d row(s) refused, "
                    "%d already recorded", len(reads), len(accepted), len(refused_rows),
                    len(unchanged))
    stamp = moment.strftime("%Y%m%dT%H%M%S")
    for read in inbox_reads:
        by_file[_shown_name(read.path, root)].moved_to = str(_destination(read, stamp))
    return ImportPlan(decisions=decisions, accepted=accepted_frame,
                      refused=_refused_frame(refused_rows), files=reports, warnings=warnings,
                      reads=inbox_reads, stamp=stamp)


def _shown_name(path: Path, root: Path) -> str:
    """How a decisions file is named in the log, the manifest and the report: its path
    within `STATE/inbox/` (`张/review.xlsx`: two people's copies of one name stay apart),
    else its file name."""
    try:
        return Path(path).relative_to(Path(root) / INBOX).as_posix()
    except ValueError:
        return Path(path).name


def inbox_files(root: Path) -> list[Path]:
    """The files waiting in `STATE/inbox/` and in any folder inside it (a colleague's
    folder: never skipped unseen), not its done/ and failed/ folders, not hidden files or
    folders, not Excel's `~$` lock files of a workbook someone has open; by path."""
    folder = Path(root) / INBOX
    if not folder.is_dir():
        return []
    waiting = []
    for path in folder.rglob("*"):
        parts = path.relative_to(folder).parts
        if (not path.is_file() or parts[0] in (DONE, FAILED)
                or any(part.startswith(".") for part in parts)
                or path.name.startswith("~$")):
            continue
        waiting.append(path)
    return sorted(waiting)


def prepare(root: Path, history: pd.DataFrame, as_of: dt.date | None = None,
            now: dt.datetime | None = None) -> ImportPlan:
    """Tonight's import (read only: nothing recorded or moved until `ImportPlan.commit`).

    `root`: the state folder; `history`: the findings history the night read; `as_of`: the
    night's date (a decision is checked against the evidence of the nights before it)."""
    root = Path(root)
    legacy = root / LEGACY
    reads = [read_decision_file(legacy)] if legacy.exists() else []
    inbox = [read_decision_file(path) for path in inbox_files(root)]
    return _plan(root, reads + inbox, history, as_of, now, inbox)


def import_files(root: Path, paths: list[Path], history: pd.DataFrame,
                 now: dt.datetime | None = None) -> ImportPlan:
    """`bidui review import FILE…`: the given files (nothing moved; commit records them)."""
    reads = [read_decision_file(Path(p)) for p in paths]
    # no night runs here: the command prints each file's outcome itself (no "the night goes
    # on" warning in the log)
    return _plan(Path(root), reads, history, None, now, [], announce=False)


def standing_decisions(state, history: pd.DataFrame) -> pd.DataFrame:
    """The decisions in force without tonight's inbox: the log, and the rows of the old
    `review_decisions.csv` that validate (for `pipeline.detect.tracking.read_decisions`)."""
    root = Path(state.root)
    legacy = root / LEGACY
    reads = [read_decision_file(legacy)] if legacy.exists() else []
    return _plan(root, reads, history, None, None, [], announce=False).decisions


def write_review_import(plan: ImportPlan | None, path: Path) -> int:
    """`review_import.parquet`: what the import refused, one row each, with the reason (no
    rows when nothing was refused, or without a state folder: `plan` None)."""
    from pipeline.report.outputs import write_parquet

    return write_parquet(plan.refused if plan is not None else empty_refused(), path)


def no_import() -> dict:
    """`manifest["review"]` of a night without a state folder."""
    return {"imported": 0, "refused": 0, "files": [], "warnings": []}


def _destination(read: FileRead, stamp: str) -> Path:
    """Where an inbox file goes, relative to the state folder: `inbox/done/<stamp>_<name>`
    (`inbox/failed/…` when it could not be read)."""
    return Path(INBOX) / (FAILED if read.error else DONE) / f"{stamp}_{read.path.name}"


def _move(read: FileRead, target: Path) -> Path | None:
    """Move an inbox file to target, unless it changed since it was read."""
    path = read.path
    try:
        if not path.exists():
            return None
        if read.sha256 is not None and \
                hashlib.sha256(path.read_bytes()).hexdigest() != read.sha256:
            logger.warning("review file %s changed while the night ran; it stays in the inbox "
                           "for the next night", path.name)
            return None
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        counter = 1
        while target.exists():  # the same name twice in one second
            target = target.with_name(f"{counter}_{target.name}")
            counter += 1
        shutil.move(str(path), str(target))
        return target
    except OSError as error:
        logger.warning("review file %s could not be moved out of the inbox (%s)", path.name,
                       type(error).__name__)
        return None
