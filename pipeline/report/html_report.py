"""`report.html`: one self-contained page for a union official, in Chinese.

Counts by code, severity and district, money at risk, the change since last night, charts as
inline SVG, and the top findings with masked names and ID numbers. No script, no external
reference of any kind: it opens offline from a USB stick.
"""

from __future__ import annotations

import html

import pandas as pd

from pipeline.detect.rules import codes_where, rules
from pipeline.normalise.districts import district_name


def code_labels() -> dict[str, str]:
    """Each discrepancy code's Chinese label (its rule's LABEL_ZH), in registry order."""
    return {rule.code: rule.label_zh for rule in rules()}


def money_codes(kind: str) -> frozenset[str]:
    """The codes whose amount is money at risk (`at_risk`: payments that may be wrong) or
    outreach potential (`outreach`: help that may be owed), as their rules declare (MONEY)."""
    return frozenset(codes_where(lambda rule: rule.money == kind))


SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
TOP_FINDINGS = 30

_STYLE = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;
margin:2em auto;max-width:1100px;color:#222;line-height:1.5}
h1{font-size:1.6em;border-bottom:3px solid #b22;padding-bottom:.3em}
h2{font-size:1.2em;margin-top:1.8em;color:#822}
.cards{display:flex;gap:1em;flex-wrap:wrap}
.card{border:1px solid #ddd;border-radius:6px;padding:.8em 1.2em;min-width:10em}
.card b{display:block;font-size:1.6em;color:#b22}
table{border-collapse:collapse;width:100%;margin:.8em 0;font-size:.92em}
td,th{border:1px solid #ddd;padding:.35em .6em;text-align:left}th{background:#f6f0f0}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.high{color:#b00;font-weight:bold}.medium{color:#a60}.low{color:#666}
svg text{font-size:12px;font-family:inherit}
"""


def _e(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return html.escape(str(value))


def _yuan(value: float) -> str:
    return f"{value:,.0f} 元"


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


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]], numeric: set[int]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
                         for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_report(manifest: dict, findings: pd.DataFrame, people: pd.DataFrame,
                  resolved: pd.DataFrame | None = None) -> str:
    """The page. `people`: union_roll_id → name_masked, id_masked (for the top findings)."""
    as_of = manifest["as_of"]
    labels = code_labels()
    # One figure for money at risk and outreach together (money_codes tells them apart).
    money = float(findings["amount_at_risk_yuan"].fillna(0).sum()) if len(findings) else 0.0
    new = int((findings["status"] == "new").sum()) if len(findings) else 0
    resolved_count = 0 if resolved is None else len(resolved)
    cards = [("问题总数", f"{len(findings):,}"), ("今日新增", f"{new:,}"),
             ("已解决（较上次）", f"{resolved_count:,}"), ("涉及年度金额", _yuan(money))]
    card_html = "".join(f'<div class="card">{_e(k)}<b>{_e(v)}</b></div>' for k, v in cards)

    by_code = findings.groupby("type").agg(n=("type", "size"),
                                           money=("amount_at_risk_yuan", "sum")) \
        if len(findings) else pd.DataFrame(columns=["n", "money"])
    by_code = by_code.sort_values("n", ascending=False)
    code_rows = [(labels.get(code, code), code, int(r.n), _yuan(float(r.money or 0)))
                 for code, r in by_code.iterrows()]
    by_severity = findings["severity"].value_counts() if len(findings) else pd.Series(dtype=int)
    severity_items = [(SEVERITY_LABELS[s], float(by_severity.get(s, 0)))
                      for s in ("high", "medium", "low")]
    districts = findings["district_code"].fillna("未知").value_counts().head(16) \
        if len(findings) else pd.Series(dtype=int)
    district_items = [(district_name(c) or str(c), float(n)) for c, n in districts.items()]

    top = findings.assign(_o=findings["severity"].map(SEVERITY_ORDER)).sort_values(
        ["_o", "amount_at_risk_yuan", "type"], ascending=[True, False, True],
        kind="mergesort").head(TOP_FINDINGS) if len(findings) else findings
    masked = people.drop_duplicates("union_roll_id").set_index("union_roll_id")
    top_rows = []
    for _, f in top.iterrows():
        roll = f["union_roll_id"]
        who = masked.loc[roll] if isinstance(roll, str) and roll in masked.index else None
        top_rows.append((
            SEVERITY_LABELS.get(f["severity"], f["severity"]),
            labels.get(f["type"], f["type"]), roll if isinstance(roll, str) else "",
            "" if who is None else who["name_masked"], "" if who is None else who["id_masked"],
            f["summary"], "" if pd.isna(f["amount_at_risk_yuan"]) else
            _yuan(float(f["amount_at_risk_yuan"])), "新" if f["status"] == "new" else "持续"))

    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>困难职工帮扶比对报告 {_e(as_of)}</title><style>{_STYLE}</style></head><body>
<h1>困难职工档案与民政救助数据比对报告</h1>
<p>比对日期：{_e(as_of)}。本报告只显示脱敏后的姓名和身份证号；完整信息见
<code>discrepancies.parquet</code>，按问题编号（discrepancy_id）查找。</p>
<div class="cards">{card_html}</div>
<h2>各类问题</h2>
{bar_chart([(label, n) for label, _c, n, _m in code_rows], "问题数量（按类型）", " 条")}
{_table(("问题类型", "代码", "数量", "涉及年度金额"), code_rows, {2, 3})}
<h2>按严重程度与区县</h2>
{bar_chart(severity_items, "问题数量（按严重程度）", " 条")}
{bar_chart(district_items, "问题数量（按区县）", " 条")}
<h2>需优先处理的问题（前 {TOP_FINDINGS} 条）</h2>
{_table(("严重程度", "类型", "档案编号", "姓名", "身份证号", "说明", "涉及金额", "状态"),
        top_rows, set())}
</body></html>
"""
