"""The analysts' review round trip: `review.xlsx` out, decisions back in.

Each night writes `review.xlsx` (`workbook.write_review_workbook`): one row per open finding,
Chinese headers and labels, masked IDs, a 处理结果 dropdown (确认 / 驳回 / 待核实), 备注, 处理人,
处理日期, and the finding's id and evidence in hidden columns. Analysts fill it in Excel or WPS
and put it (any name, any number of copies, or saved as CSV in UTF-8 or GBK) into
`STATE/inbox/`, or record it at once with `bidui review import FILE… --state DIR` (`cli`).

The next night, before anything else, `inbox.prepare` reads every inbox file and the old
`STATE/review_decisions.csv`, validates every row and returns an `ImportPlan`: the decisions
to use tonight, the rows refused with a Chinese reason each (→ `review_import.parquet`), and
`manifest()` (→ `manifest["review"]`). A bad or unreadable file is a warning, never an error:
the night goes on with the decisions it had. After the night published, `ImportPlan.commit`
appends the accepted rows to the append-only decision log (`log`, `STATE/review_log.csv`:
who, when, which file) and moves the files to `STATE/inbox/done/` (unreadable ones to
`STATE/inbox/failed/`). `apply` adds what the decisions change to the detect stage.

Nothing here logs or raises a cell's value: messages name the file, the row, the column and
the reason.
"""

from __future__ import annotations

import unicodedata

# The decision codes of `pipeline.detect.lifecycle` (repeated here so that `bidui --help`,
# which registers `bidui review`, imports nothing heavy; a test checks they agree).
CONFIRMED, DISMISSED, PENDING = "confirmed", "dismissed", "pending"

# The people-facing words (the dropdown) and the codes in the frames.
DECISION_LABELS = {CONFIRMED: "确认", DISMISSED: "驳回", PENDING: "待核实"}
STATUS_LABELS = {"new": "新增", "persisting": "持续", CONFIRMED: "已确认"}
SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}

_DECISION_WORDS = {
    **{label: code for code, label in DECISION_LABELS.items()},
    **{code: code for code in DECISION_LABELS},
    "confirm": CONFIRMED, "dismiss": DISMISSED, "已确认": CONFIRMED, "已驳回": DISMISSED,
}


def decision_code(value: object) -> str | None:
    """`confirmed` / `dismissed` / `pending` for a dropdown label (确认 / 驳回 / 待核实) or an
    English code in any case (`Dismissed`); None for anything else."""
    if not isinstance(value, str):
        return None
    text = unicodedata.normalize("NFKC", value).strip().lower()
    return _DECISION_WORDS.get(text)


__all__ = ["DECISION_LABELS", "SEVERITY_LABELS", "STATUS_LABELS", "decision_code"]
