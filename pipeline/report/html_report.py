"""`report.html`: one self-contained page for a union official, in Chinese.

What it says, in order:

- a notice when the night's data deserve caution (a stale feed, failed checks, quarantined
  rows, skipped sheets, refused review decisions), pointing to the data-quality section;
- the cards: open findings, new tonight, resolved since last night, dismissed on review, and
  two money figures that are never added together: **money at risk** (`MONEY = "at_risk"`:
  allowances that may be paid wrongly — to a household no longer assisted, to a deceased
  worker, twice, on a claim civil affairs does not know) and **outreach potential**
  (`MONEY = "outreach"`: help a household may be owed; not a loss). Each counts one yearly
  allowance per roll entry (at risk) or per household (outreach), however many findings
  name it, and leaves out findings an analyst dismissed;
- counts by code (with what its amount means), the review state (未处理 / 待核实 / 确认 /
  驳回（经核实）: a dismissal is never counted as resolved), severity and district, with
  charts as inline SVG;
- the top findings with masked names and ID numbers;
- data quality: every input file (sheets read and skipped with the reason, rows read,
  quarantined, non-data, blank), values not understood (`field_issues.parquet`), the checks
  (failed ones, skipped ones, stale feeds, row drops against the last good night) with a link
  to the Data Docs (`validation/index.html`), and the review decisions imported and refused.

The review columns (`review_decision`, …), `manifest["review"]` and `manifest["validation"]`
are read when present; without them the page says what it does not know. No script, no
external reference of any kind (the one link is to the night's own Data Docs folder): it opens
offline from a USB stick.
"""

from __future__ import annotations

import html
from pathlib import PurePath, PureWindowsPath

import pandas as pd

from pipeline.detect.rules import AT_RISK, OUTREACH, codes_where, rules
from pipeline.normalise.districts import district_name
from pipeline.schema import FIELDS
from pipeline.validate import INPUT_SUITES


def code_labels() -> dict[str, str]:
    """Each discrepancy code's Chinese label (its rule's LABEL_ZH), in registry order."""
    return {rule.code: rule.label_zh for rule in rules()}


def money_codes(kind: str) -> frozenset[str]:
    """The codes whose amount is money at risk (`at_risk`: payments that may be wrong) or
    outreach potential (`outreach`: help that may be owed), as their rules declare (MONEY)."""
    return frozenset(codes_where(lambda rule: rule.money == kind))


SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
STATUS_LABELS = {"new": "新增", "persisting": "持续", "confirmed": "已确认"}
# Review decisions: the codes in the frames, the words people read. No decision is 未处理.
CONFIRMED, DISMISSED, PENDING = "confirmed", "dismissed", "pending"
REVIEW_LABELS = {None: "未处理", PENDING: "待核实", CONFIRMED: "确认",
                 DISMISSED: "驳回（经核实）"}
MONEY_LABELS = {AT_RISK: "可能错付", OUTREACH: "帮扶潜力", None: "—"}
SOURCE_NAMES = {"union": "困难职工档案", "civil": "民政救助数据", "members": "工会会员名册"}
SUITE_NAMES = {"union_roll": "困难职工档案", "civil_exchange": "民政救助数据",
               "roster": "工会会员名册", "night_over_night": "与上次比对的对比",
               "links": "匹配结果", "discrepancies": "比对问题", "manifest": "运行清单"}
NON_DATA_NAMES = {"footer": "合计、制表人等表尾行", "serial_only": "只有序号的空模板行",
                  "repeated_header": "每页重复的表头行"}
DOCS_LINK = "validation/index.html"
TOP_FINDINGS = 30

_STYLE = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",
sans-serif;margin:2em auto;max-width:1180px;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.6em;border-bottom:3px solid #b22;padding-bottom:.3em}
h2{font-size:1.2em;margin-top:1.8em;color:#822}
h3{font-size:1.05em;margin:1.2em 0 .3em}
.cards{display:flex;gap:1em;flex-wrap:wrap}
.card{border:1px solid #ddd;border-radius:6px;padding:.7em 1em;flex:1 1 0;min-width:8.5em;
white-space:nowrap}
.card b{display:block;font-size:1.5em;color:#b22}
.card small{display:block;color:#666;white-space:normal;font-size:.8em}
.card.money b{color:#a40}.card.outreach b{color:#276}
.notice{border:1px solid #d9a300;background:#fff8e1;border-radius:6px;padding:.6em 1em;
margin:1em 0}
.notice.bad{border-color:#b22;background:#fdecea}
.notice ul{margin:.3em 0 .2em 1.2em;padding:0}
.note{color:#555;font-size:.92em}
.wide{overflow-x:auto;margin:.8em 0}
table{border-collapse:collapse;margin:0;font-size:.92em;word-break:keep-all;
overflow-wrap:normal}
table.full{min-width:100%}
td,th{border:1px solid #ddd;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#f6f0f0;white-space:nowrap}
td.nw{white-space:nowrap}
td small{color:#666}
td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.text{min-width:22em;word-break:normal;overflow-wrap:anywhere}
td.path{min-width:10em;word-break:break-all}
td.list{min-width:12em;word-break:keep-all}
tr.total td{font-weight:bold;background:#faf7f7}
.high{color:#b00;font-weight:bold}.medium{color:#a60}.low{color:#666}
svg text{font-size:12px;font-family:inherit}
code{font-size:.95em}
"""


def _e(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return html.escape(str(value))


def _yuan(value: float) -> str:
    return f"{value:,.0f} 元"


def _n(value: int) -> str:
    return f"{value:,}"


def bar_chart(items: list[tuple[str, float]], title: str, unit: str = "") -> str:
    """Horizontal bars as inline SVG (class `chart` so tests can find them)."""
    if not items:
        return f'<p class="empty">{_e(title)}：无</p>'
    width, bar_h, gap, label_w = 720, 22, 6, 230
    top = max(v for _, v in items) or 1
    height = len(items) * (bar_h + gap) + 30
    parts = [f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}">',
             f'<text x="0" y="14" font-weight="bold">{_e(title)}</text>']
    for i, (label, value) in enumerate(items):
        y = 24 + i * (bar_h + gap)
        w = max(2, int((width - label_w - 90) * value / top))
        parts.append(f'<text x="0" y="{y + 15}">{_e(label)}</text>'
                     f'<rect class="bar" x="{label_w}" y="{y}" width="{w}" height="{bar_h}" '
                     f'fill="#c44"/><text x="{label_w + w + 6}" y="{y + 15}">'
                     f'{value:,.0f}{_e(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


class Cell:
    """A table cell with its kind: `nw` (short: never wrapped), `n` (number, right-aligned),
    `text` (a sentence: wraps, with a minimum width), `path`; `raw` is already HTML."""

    def __init__(self, value: object, kind: str = "nw", raw: bool = False,
                 title: str | None = None) -> None:
        self.value, self.kind, self.raw, self.title = value, kind, raw, title

    def html(self) -> str:
        content = str(self.value) if self.raw else _e(self.value)
        title = f' title="{_e(self.title)}"' if self.title else ""
        return f'<td class="{self.kind}"{title}>{content}</td>'


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]], numeric: set[int],
           text: set[int] = frozenset(), total: tuple[object, ...] | None = None,
           css: str = "") -> str:
    """A table in a horizontally scrolling box. Cells are short (never wrapped: Chinese names
    and codes are not broken letter by letter) unless their column is in `text`."""
    def cell(i: int, value: object) -> str:
        if isinstance(value, Cell):
            return value.html()
        return Cell(value, "n" if i in numeric else "text" if i in text else "nw").html()

    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>"
                   for row in rows)
    if total is not None:
        body += '<tr class="total">' + "".join(cell(i, c) for i, c in enumerate(total)) + \
            "</tr>"
    klass = f' class="{css}"' if css else ""
    return (f'<div class="wide"><table{klass}><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


# -- the findings' figures --------------------------------------------------------------------

def _review_state(findings: pd.DataFrame) -> pd.Series:
    """Each finding's review decision code, None when nobody decided (or no such column)."""
    if "review_decision" not in findings.columns:
        return pd.Series([None] * len(findings), index=findings.index, dtype=object)
    words = findings["review_decision"].astype("string").str.strip().str.lower()
    known = words.isin([PENDING, CONFIRMED, DISMISSED]).fillna(False).astype(bool)
    return words.astype(object).where(known, None)


def _ids(frame: pd.DataFrame | None) -> set[str]:
    if frame is None or "discrepancy_id" not in frame.columns:
        return set()
    return set(frame["discrepancy_id"].dropna().astype(str))


def money_summary(findings: pd.DataFrame, kind: str) -> dict:
    """The yearly amount of one money kind: one allowance per roll entry (at risk) or per
    household (outreach), however many findings name it; dismissed findings left out."""
    mine = findings[findings["type"].astype(str).isin(money_codes(kind))
                    & findings["amount_at_risk_yuan"].notna()
                    & (_review_state(findings) != DISMISSED)]
    if mine.empty:
        return {"yuan": 0.0, "entities": 0, "findings": 0, "confirmed_yuan": 0.0}
    key_column = "union_roll_id" if kind == AT_RISK else "civil_case_id"
    key = mine[key_column].astype("string").fillna(
        "finding:" + mine["discrepancy_id"].astype("string"))
    amount = mine["amount_at_risk_yuan"].astype(float)
    per_entity = amount.groupby(key.to_numpy()).max()
    confirmed = ((_review_state(mine) == CONFIRMED)
                 | (mine["status"].astype("string") == CONFIRMED).fillna(False)).astype(bool)
    confirmed_yuan = float(amount[confirmed].groupby(key[confirmed].to_numpy()).max().sum()) \
        if confirmed.any() else 0.0
    return {"yuan": float(per_entity.sum()), "entities": len(per_entity),
            "findings": len(mine), "confirmed_yuan": confirmed_yuan}


def review_counts(findings: pd.DataFrame, manifest: dict,
                  dismissed: pd.DataFrame | None) -> dict[str | None, int]:
    """Findings per review state. Dismissed: the ones still listed with a dismissal, plus the
    ones held back tonight because an analyst dismissed them (not resolved, not open)."""
    state = _review_state(findings)
    counts: dict[str | None, int] = {code: int((state == code).sum()) for code in
                                     (PENDING, CONFIRMED, DISMISSED)}
    counts[None] = int(state.isna().sum())
    held_back = len(_ids(dismissed)) if dismissed is not None else int(
        (manifest.get("findings_lifecycle") or {}).get("suppressed_by_review") or 0)
    counts[DISMISSED] += held_back
    return counts


def resolved_count(resolved: pd.DataFrame | None, findings: pd.DataFrame, manifest: dict,
                   dismissed: pd.DataFrame | None) -> tuple[int, int]:
    """(resolved since last night, how many of them may be dismissals nobody could tell apart).

    A finding that went away because an analyst dismissed it is not resolved. When the night
    says which findings were dismissed (`dismissed`), they are taken out; when it only gives
    their number, that number is the uncertainty."""
    if resolved is None or resolved.empty:
        return 0, 0
    out = resolved
    if "review_decision" in out.columns:
        out = out[(out["review_decision"].astype("string") != DISMISSED).fillna(True)]
    gone = _ids(dismissed) | set(findings.loc[_review_state(findings) == DISMISSED,
                                              "discrepancy_id"].astype(str))
    if "discrepancy_id" in out.columns and gone:
        out = out[~out["discrepancy_id"].astype(str).isin(gone)]
    if dismissed is not None:
        return len(out), 0
    held_back = int((manifest.get("findings_lifecycle") or {}).get("suppressed_by_review") or 0)
    return len(out), min(held_back, len(out))


# -- data quality -------------------------------------------------------------------------------

def _file_name(path: object) -> str:
    text = str(path or "")
    return (PureWindowsPath(text) if "\\" in text else PurePath(text)).name or text


def _source_name(source: object) -> str:
    return SOURCE_NAMES.get(str(source), str(source))


def quality_facts(manifest: dict) -> dict:
    """What the manifest says about the night's data, gathered once for the notice and the
    data-quality section."""
    inputs = manifest.get("inputs") or []
    outputs = manifest.get("outputs") or {}
    validation = manifest.get("validation")
    review = manifest.get("review")
    skipped = [(item, sheet) for item in inputs for sheet in item.get("sheets") or []
               if sheet.get("status") != "read"]
    failed = [] if not validation else [
        (suite, failure) for suite, outcome in (validation.get("suites") or {}).items()
        for failure in outcome.get("failed") or []]
    stale = [] if not validation else [
        row for row in validation.get("night_over_night") or [] if row.get("stale_feed")]
    return {
        "inputs": inputs,
        "quarantined": sum(int(i.get("rows_quarantined") or 0) for i in inputs),
        "non_data": sum(int(i.get("rows_non_data") or 0) for i in inputs),
        "unbalanced": [i for i in inputs if i.get("balanced") is False],
        "field_issues": (outputs.get("field_issues.parquet") or {}).get("rows"),
        "skipped_sheets": skipped,
        "validation": validation,
        "failed": failed,
        "critical": sum(f.get("severity") == "critical" for _, f in failed),
        "warnings": sum(f.get("severity") != "critical" for _, f in failed),
        "stale": stale,
        "review": review,
        "refused": int((review or {}).get("refused") or 0),
        "review_warnings": list((review or {}).get("warnings") or []),
    }


def _notice(facts: dict) -> str:
    """The short list on top: what makes tonight's figures less certain."""
    items, bad = [], False
    if facts["stale"]:
        names = "、".join(_source_name(r.get("source")) for r in facts["stale"])
        last = (facts["validation"] or {}).get("last_good_as_of") or "上次"
        items.append(f"数据源未更新：{_e(names)}与上次成功比对（{_e(last)}）的文件完全相同，"
                     "今晚的结果可能沿用了旧数据")
        bad = True
    if facts["critical"]:
        items.append(f"严重校验未通过 {facts['critical']} 项")
        bad = True
    if facts["warnings"]:
        items.append(f"校验警告 {facts['warnings']} 项")
    if facts["validation"] is None:
        items.append("本报告生成时还没有校验结果摘要，请查看数据校验报告")
    if facts["quarantined"]:
        items.append(f"{_n(facts['quarantined'])} 行数据无法使用，已隔离，未参与比对")
    if facts["unbalanced"]:
        items.append(f"{len(facts['unbalanced'])} 个输入文件的行数对不上")
    if facts["field_issues"]:
        items.append(f"{_n(int(facts['field_issues']))} 处字段值无法识别或不能作为依据，按空值处理")
    if facts["skipped_sheets"]:
        items.append(f"跳过了 {len(facts['skipped_sheets'])} 个工作表")
    if facts["refused"]:
        items.append(f"{_n(facts['refused'])} 条处理结果未被接受")
    if facts["review_warnings"]:
        items.append(f"处理结果导入有 {len(facts['review_warnings'])} 条提醒")
    if not items:
        return ""
    klass = "notice bad" if bad else "notice"
    lis = "".join(f"<li>{item}</li>" for item in items)
    return (f'<div class="{klass}"><b>数据质量提示</b>（详见<a href="#quality">数据质量</a>）'
            f"<ul>{lis}</ul></div>")


def _inputs_table(inputs: list[dict]) -> str:
    rows = []
    for item in inputs:
        sheets = item.get("sheets") or []
        read = [s for s in sheets if s.get("status") == "read"]
        read_text = "、".join(
            f"{s.get('name') or '整个文件'}（{_n(int(s.get('rows_read') or 0))} 行）"
            for s in read) or "—"
        non_data = item.get("non_data") or {}
        non_data_text = "；".join(f"{NON_DATA_NAMES.get(k, k)} {_n(int(v))}"
                                 for k, v in non_data.items() if v)  # by kind
        rows.append((
            _source_name(item.get("source")),
            Cell(_file_name(item.get("path")), "path", title=str(item.get("path") or "")),
            Cell(read_text, "list"),
            _n(int(item.get("rows_read") or 0)), _n(int(item.get("rows_linked") or 0)),
            _n(int(item.get("rows_unlinked") or 0)), _n(int(item.get("rows_quarantined") or 0)),
            Cell(_e(_n(int(item.get("rows_non_data") or 0)))
                 + (f"<br><small>{_e(non_data_text)}</small>" if non_data_text else ""), "n",
                 raw=True),
            _n(int(item.get("blank_rows_skipped") or 0)),
            "是" if item.get("balanced", True) else "否"))
    return _table(("数据", "文件", "读取的工作表", "读取行数", "已匹配", "未匹配", "隔离",
                   "非数据行", "空行", "行数平衡"), rows, {3, 4, 5, 6, 7, 8}, css="full")


def _skipped_table(skipped: list[tuple[dict, dict]]) -> str:
    if not skipped:
        return "<p>没有跳过任何工作表。</p>"
    rows = [(_source_name(item.get("source")),
             Cell(_file_name(item.get("path")), "path", title=str(item.get("path") or "")),
             sheet.get("name") or "", Cell(sheet.get("reason") or "", "text"))
            for item, sheet in skipped]
    return _table(("数据", "文件", "跳过的工作表", "原因"), rows, set())


def _check_cell(failed: dict) -> Cell:
    """A failed check as a reader sees it: its Chinese sentence, then its code (small)."""
    code = f"<code>{_e(failed.get('check'))}</code>"
    sentence = failed.get("sentence")
    return Cell(f"{_e(sentence)}<br>{code}" if sentence else code, raw=True)


def _column_label(suite: str, column: str | None) -> str:
    """A checked column as the people who fix the file know it: the input's Chinese header
    (`schema.FIELDS`, SPEC §1) with the column's name after it, e.g. 建档日期（filed_date）;
    a column of no input (a derived one) by its name."""
    if not column:
        return ""
    suite_sources = {name: source for source, name in INPUT_SUITES.items()}
    sources = [suite_sources[suite]] if suite in suite_sources else list(FIELDS)
    for source in sources:
        for field in FIELDS[source]:
            if field.name == column:
                return f"{field.canonical_header}（{column}）"
    return column


def _checks_section(facts: dict) -> str:
    validation = facts["validation"]
    link = f'<a href="{DOCS_LINK}">数据校验报告（Data Docs）</a>'
    if validation is None:
        return (f"<p>本报告生成时还没有校验结果摘要。每项检查的结果见 {link}"
                "（与本报告在同一文件夹的 validation 目录中，离线可打开）。</p>")
    verdict = "全部严重检查通过" if validation.get("success", True) else "有严重检查未通过"
    parts = [f"<p>{verdict}；严重未通过 {facts['critical']} 项，警告 {facts['warnings']} 项。"
             f"每项检查、未通过的值所在的文件、工作表和行，见 {link}。</p>"]
    if facts["failed"]:
        rows = [(SUITE_NAMES.get(suite, suite), _check_cell(f),
                 "严重" if f.get("severity") == "critical" else "警告",
                 _column_label(suite, f.get("column")),
                 "" if f.get("unexpected_count") is None else _n(int(f["unexpected_count"])),
                 "" if f.get("element_count") is None else _n(int(f["element_count"])))
                for suite, f in facts["failed"]]
        parts.append(_table(("检查对象", "检查项", "级别", "字段", "不符合的行数", "总行数"),
                            rows, {4, 5}))
    if facts["stale"]:
        names = "、".join(_source_name(r.get("source")) for r in facts["stale"])
        parts.append(f'<p class="high">数据源未更新：{_e(names)}与上次成功比对'
                     f"（{_e(validation.get('last_good_as_of') or '')}）的文件逐字节相同"
                     "（sha256 一致）。请向数据提供方确认是否已导出最新数据。</p>")
    night = validation.get("night_over_night") or []
    if night:
        rows = [(_source_name(r.get("source")), _n(int(r.get("rows_read") or 0)),
                 _n(int(r.get("last_good_rows_read") or 0)),
                 "是" if r.get("stale_feed") else "否") for r in night]
        parts.append(_table(("数据", "今晚读取行数", "上次读取行数", "文件与上次相同"),
                            rows, {1, 2}))
    for name, reason in (validation.get("skipped") or {}).items():
        if name == "night_over_night" and "--state" in str(reason):
            reason = "未指定状态文件夹（--state），没有与上次比对的行数和数据源是否更新的检查"
        parts.append(f"<p class=\"note\">未运行的检查（{_e(SUITE_NAMES.get(name, name))}）："
                     f"{_e(reason)}</p>")
    return "".join(parts)


REVIEW_FILE_STATUS = {"read": "已读取", "unreadable": "无法读取"}
REFUSALS_SHOWN = 20


def _review_section(review: dict | None) -> str:
    """`manifest["review"]`: decisions imported and refused, per file, each refused row's
    place and reason (never a cell's value), and the import's warnings."""
    if not review:
        return "<p>今晚没有导入处理结果的记录。</p>"
    parts = [f"<p>导入处理结果 {_n(int(review.get('imported') or 0))} 条；"
             f"未被接受 {_n(int(review.get('refused') or 0))} 条"
             "（每条的原因见 <code>review_import.parquet</code>）。</p>"]
    files = review.get("files") or []
    refusals: list[tuple] = []
    if files:
        rows = []
        for entry in files:
            if not isinstance(entry, dict):
                entry = {"file": entry}
            path = str(entry.get("file") or entry.get("path") or entry.get("name") or "")
            status = str(entry.get("status") or "")
            rows.append((Cell(_file_name(path), "path", title=path),
                         _n(int(entry.get("imported") or 0)),
                         _n(int(entry.get("refused") or 0)),
                         _n(int(entry.get("unchanged") or 0)),
                         REVIEW_FILE_STATUS.get(status, status)))
            refusals += [(Cell(_file_name(path), "path", title=path),
                          r.get("source_sheet") or r.get("sheet") or "",
                          r.get("source_row") if r.get("source_row") is not None
                          else r.get("row", ""),
                          r.get("column") or "", Cell(r.get("reason") or "", "text"))
                         for r in entry.get("refusals") or []]
        parts.append(_table(("文件", "接受", "未接受", "此前已记录", "读取情况"), rows,
                            {1, 2, 3}))
    if refusals:
        more = len(refusals) - REFUSALS_SHOWN
        parts.append(_table(("文件", "工作表", "行", "列", "未接受的原因"),
                            refusals[:REFUSALS_SHOWN], {2}, {4}))
        if more > 0:
            parts.append(f'<p class="note">另有 {_n(more)} 条，见 '
                         "<code>review_import.parquet</code>。</p>")
    warnings = review.get("warnings") or []
    if warnings:
        parts.append("<ul>" + "".join(f"<li>{_e(w)}</li>" for w in warnings) + "</ul>")
    return "".join(parts)


def quality_section(facts: dict) -> str:
    field_issues = facts["field_issues"]
    issues = ("" if field_issues is None else
              f"<p>字段值无法识别或不能作为依据 {_n(int(field_issues))} 处（日期不是日期、"
              "人数不是数字、选项不在列表中、同一身份证号填在姓名不同的多人名下等）："
              "该行照常使用，此值按空值处理；逐条见 "
              "<code>field_issues.parquet</code>。</p>")
    return f"""<h2 id="quality">数据质量</h2>
<p>隔离 {_n(facts['quarantined'])} 行（无法使用，未参与比对；逐行原因见
<code>quarantine.parquet</code>）；非数据行 {_n(facts['non_data'])} 行（表尾、模板行、重复表头，
不参与比对，也不算问题）。每个文件：读取行数 = 已匹配 + 未匹配 + 隔离 + 非数据行。</p>
{issues}
<h3>输入文件</h3>
{_inputs_table(facts['inputs']) if facts['inputs'] else '<p>清单中没有输入文件信息。</p>'}
<h3>跳过的工作表</h3>
{_skipped_table(facts['skipped_sheets'])}
<h3>数据校验</h3>
{_checks_section(facts)}
<h3>处理结果导入</h3>
{_review_section(facts['review'])}
"""


# -- the page -----------------------------------------------------------------------------------

def render_report(manifest: dict, findings: pd.DataFrame, people: pd.DataFrame,
                  resolved: pd.DataFrame | None = None, *,
                  dismissed: pd.DataFrame | None = None) -> str:
    """The page. `people`: union_roll_id → name_masked, id_masked (for the top findings);
    `resolved`: findings raised last night and gone tonight; `dismissed`: findings an analyst
    dismissed that are not listed tonight (their discrepancy_id), when the night knows them."""
    as_of = manifest.get("as_of", "")
    labels = code_labels()
    money_kind = {rule.code: rule.money for rule in rules()}
    severity_of = {rule.code: rule.severity for rule in rules()}
    state = _review_state(findings)
    listed = findings[state != DISMISSED]  # open: not dismissed on review
    new = int((listed["status"] == "new").sum()) if len(listed) else 0
    resolved_n, unsure = resolved_count(resolved, findings, manifest, dismissed)
    reviews = review_counts(findings, manifest, dismissed)
    at_risk, outreach = money_summary(findings, AT_RISK), money_summary(findings, OUTREACH)
    facts = quality_facts(manifest)

    resolved_note = f"其中最多 {unsure} 条可能是经核实驳回" if unsure else "不含驳回"
    confirmed_note = (f"其中已确认 {_yuan(at_risk['confirmed_yuan'])}"
                      if at_risk["confirmed_yuan"] else "每个档案只计一次")
    cards = [
        ("", "待处理问题", _n(len(listed)), "不含已驳回"),
        ("", "今日新增", _n(new), ""),
        ("", "已解决（较上次）", _n(resolved_n), resolved_note),
        ("", "驳回（经核实）", _n(reviews[DISMISSED]), "不算已解决"),
        ("money", "可能错付（年度）", _yuan(at_risk["yuan"]),
         f"{_n(at_risk['entities'])} 个档案；{confirmed_note}"),
        ("outreach", "帮扶潜力（年度）", _yuan(outreach["yuan"]),
         f"{_n(outreach['entities'])} 户可能应帮未帮"),
    ]
    card_html = "".join(
        f'<div class="card {k}">{_e(t)}<b>{_e(v)}</b><small>{_e(s)}</small></div>'
        for k, t, v, s in cards)

    # Counts by code: every finding listed tonight, money as each code's rule declares it.
    rows_by_code, code_items = [], []
    if len(listed):
        grouped = listed.assign(_new=(listed["status"] == "new"),
                                _yuan=listed["amount_at_risk_yuan"].astype(float)).groupby(
            listed["type"].astype(str), sort=False)
        stats = grouped.agg(n=("_new", "size"), new=("_new", "sum"), yuan=("_yuan", "sum"))
        order = {code: i for i, code in enumerate(labels)}
        stats = stats.assign(_o=[order.get(c, len(order)) for c in stats.index]).sort_values(
            ["n", "_o"], ascending=[False, True], kind="mergesort")
        for code, r in stats.iterrows():
            kind = money_kind.get(code)
            yuan = float(r["yuan"] or 0)
            rows_by_code.append((
                labels.get(code, code), Cell(f"<code>{_e(code)}</code>", raw=True),
                SEVERITY_LABELS.get(severity_of.get(code, ""), ""), _n(int(r["n"])),
                _n(int(r["new"])), MONEY_LABELS.get(kind, "—"),
                _yuan(yuan) if yuan or kind else "—"))
            code_items.append((labels.get(code, code), float(r["n"])))

    def money_row(kind: str, summary: dict, unit: str, meaning: str) -> tuple:
        members = "、".join(labels[c] for c in labels if c in money_codes(kind))
        return (MONEY_LABELS[kind], Cell(f"{meaning}（{members}）", "text"),
                _n(summary["findings"]), f"{_n(summary['entities'])} {unit}",
                _yuan(summary["yuan"]))
    money_rows = [
        money_row(AT_RISK, at_risk, "个档案",
                  "正在发放、可能不应发放或重复发放的困难补助，应核实后停发或追回"),
        money_row(OUTREACH, outreach, "户",
                  "可能应得而未得的帮扶，是帮扶潜力，不是损失"),
    ]

    by_severity = listed["severity"].astype(str).value_counts() if len(listed) \
        else pd.Series(dtype=int)
    severity_items = [(SEVERITY_LABELS[s], float(by_severity.get(s, 0)))
                      for s in ("high", "medium", "low")]
    districts = listed["district_code"].astype("string").fillna("未知").value_counts().head(16) \
        if len(listed) else pd.Series(dtype=int)
    district_items = [(district_name(c) or str(c), float(n)) for c, n in districts.items()]

    status_counts = listed["status"].astype(str).value_counts() if len(listed) \
        else pd.Series(dtype=int)
    review_rows = [(REVIEW_LABELS[code], _n(reviews[code]), note) for code, note in (
        (None, "尚无人处理"), (PENDING, "已在核实，仍列入待处理"),
        (CONFIRMED, "问题属实，仍列入待处理，直至情况改变"),
        (DISMISSED, "经核实不是问题；证据不变就不再列出，证据一变会作为新问题重新提出；"
                    "不计入“已解决”"))]
    status_rows = [(STATUS_LABELS.get(s, s), _n(int(status_counts.get(s, 0))))
                   for s in ("new", "persisting", "confirmed")
                   if s != "confirmed" or status_counts.get(s, 0)]
    status_rows.append(("已解决（较上次不再出现）", _n(resolved_n)
                        + (f"（其中最多 {unsure} 条可能是驳回）" if unsure else "")))

    top = listed.assign(_o=listed["severity"].astype(str).map(SEVERITY_ORDER)).sort_values(
        ["_o", "amount_at_risk_yuan", "type"], ascending=[True, False, True],
        kind="mergesort").head(TOP_FINDINGS) if len(listed) else listed
    masked = people.drop_duplicates("union_roll_id").set_index("union_roll_id")
    top_state = _review_state(top)
    top_rows = []
    for index, f in top.iterrows():
        roll = f["union_roll_id"]
        who = masked.loc[roll] if isinstance(roll, str) and roll in masked.index else None
        severity = str(f["severity"])
        top_rows.append((
            Cell(f'<span class="{_e(severity)}">{_e(SEVERITY_LABELS.get(severity, severity))}'
                 "</span>", raw=True),
            labels.get(f["type"], f["type"]), roll if isinstance(roll, str) else "",
            "" if who is None else who["name_masked"], "" if who is None else who["id_masked"],
            Cell(f["summary"], "text"),
            "" if pd.isna(f["amount_at_risk_yuan"]) else Cell(
                f"{_e(_yuan(float(f['amount_at_risk_yuan'])))}<br><small>"
                f"{_e(MONEY_LABELS.get(money_kind.get(f['type']), '—'))}</small>", "n",
                raw=True),
            Cell(f"{_e(STATUS_LABELS.get(str(f['status']), str(f['status'])))}<br><small>"
                 f"{_e(REVIEW_LABELS.get(top_state.loc[index], '未处理'))}</small>", raw=True)))

    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>困难职工帮扶比对报告 {_e(as_of)}</title><style>{_STYLE}</style></head><body>
<h1>困难职工档案与民政救助数据比对报告</h1>
<p>比对日期：{_e(as_of)}。本报告只显示脱敏后的姓名和身份证号；完整信息见
<code>discrepancies.parquet</code>，按问题编号（discrepancy_id）查找。</p>
{_notice(facts)}
<div class="cards">{card_html}</div>
<p class="note">“可能错付”和“帮扶潜力”是两回事，不能相加：前者是可能发错的钱，
后者是可能应给而未给的帮扶。金额均按当年低保标准 × 12 个月估算，每个档案（或每户）只计一次，
已驳回的问题不计。</p>
<h2>涉及金额</h2>
{_table(("类别", "含义", "问题数", "涉及", "年度金额"), money_rows, {2, 3, 4}, {1}, css="full")}
<p class="note">这里的问题数只计带金额、未驳回的问题；“各类问题”中同类问题的数量还包括不带金额的
（例如同一职工重复建档，金额只计在一条上；已驳回的问题）。</p>
<h2>各类问题</h2>
{bar_chart(code_items, "问题数量（按类型）", " 条")}
{_table(("问题类型", "代码", "严重程度", "数量", "今日新增", "金额类别", "年度金额（按问题合计）"),
        rows_by_code, {3, 4, 6}, css="full")}
<h2>处理情况</h2>
{_table(("处理结果", "数量", "说明"), review_rows, {1}, {2})}
{_table(("状态", "数量"), status_rows, {1})}
<h2>按严重程度与区县</h2>
{bar_chart(severity_items, "问题数量（按严重程度）", " 条")}
{bar_chart(district_items, "问题数量（按区县）", " 条")}
<h2>需优先处理的问题（前 {TOP_FINDINGS} 条）</h2>
{_table(("严重程度", "类型", "档案编号", "姓名", "身份证号", "说明", "涉及金额", "状态"),
        top_rows, set(), css="full")}
{quality_section(facts)}
</body></html>
"""
