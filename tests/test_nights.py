"""Nights with one state folder (in-process, as `bidui run` runs them): stable ids, persisting
findings, dismissals; the report page rendered in headless Chromium."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest

from tests.browser import run_chromium


@pytest.fixture(scope="module")
def nights(night, tmp_path_factory) -> dict:
    from pipeline.generate import generate

    root = tmp_path_factory.mktemp("nights")
    generate(root / "in", households=200, seed=8)
    state = root / "state"

    def one(as_of: str):
        out = root / "out" / as_of
        result = night("--union", str(root / "in" / "union_roll.xlsx"),
                       "--civil", str(root / "in" / "civil_exchange.csv"),
                       "--members", str(root / "in" / "members.csv"),
                       "--out", str(out), "--as-of", as_of, "--state", str(state))
        assert result.returncode == 0, result.stderr
        return pd.read_parquet(out / "discrepancies.parquet"), json.loads(
            (out / "manifest.json").read_text("utf-8")), out

    first, _, _ = one("2026-06-30")
    second, _, _ = one("2026-07-01")
    dismissed = second.sort_values("discrepancy_id").iloc[0]
    (state / "review_decisions.csv").write_text(
        "discrepancy_id,decision,note,decided_by,decided_at,evidence\n"
        f"{dismissed['discrepancy_id']},dismissed,已核实无误,analyst-1,2026-07-01T10:00,"
        f"{dismissed['evidence']}\n", encoding="utf-8")
    third, third_manifest, third_out = one("2026-07-02")
    return {"first": first, "second": second, "third": third, "dismissed": dismissed,
            "third_manifest": third_manifest, "third_out": third_out}


def test_second_night_has_identical_ids_all_persisting(nights) -> None:
    first, second = nights["first"], nights["second"]
    assert len(first) > 20
    assert set(first["status"]) == {"new"}
    assert sorted(first["discrepancy_id"]) == sorted(second["discrepancy_id"])
    assert set(second["status"]) == {"persisting"}
    assert set(second["first_seen"]) == {dt.date(2026, 6, 30)}


def test_dismissed_finding_is_absent_the_third_night(nights) -> None:
    third, dismissed = nights["third"], nights["dismissed"]
    assert dismissed["discrepancy_id"] not in set(third["discrepancy_id"])
    assert len(third) == len(nights["second"]) - 1
    assert nights["third_manifest"]["findings_lifecycle"]["suppressed_by_review"] == 1


def test_report_is_offline_masked_and_its_charts_draw(nights, chromium, tmp_path) -> None:
    page = nights["third_out"] / "report.html"
    text = page.read_text("utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", text)
    assert "http://" not in text and "https://" not in text
    assert not re.search(r"(?<!\d)\d{17}[\dX](?!\d)", text)  # no full ID number anywhere
    probe = page.with_name("__probe_report.html")
    probe.write_text(text.replace("</body>", PROBE + "</body>", 1), encoding="utf-8")
    result = run_chromium(chromium, tmp_path, "--dump-dom", probe.as_uri())
    probe.unlink()
    match = re.search(r'data-probe="([^"]*)"', result.stdout)
    assert match, result.stderr[-2000:]
    drawn = json.loads(match.group(1).replace("&quot;", '"'))
    assert drawn["charts"] == 3
    assert drawn["bars"] >= 3 and drawn["bars"] == drawn["visible_bars"]
    assert drawn["resources"] == 0  # nothing fetched: no file, no network


PROBE = """<script>
const bars = [...document.querySelectorAll('svg.chart rect.bar')];
const out = {charts: document.querySelectorAll('svg.chart').length, bars: bars.length,
  visible_bars: bars.filter(b => b.getBoundingClientRect().width > 0).length,
  resources: performance.getEntriesByType('resource').length};
document.body.setAttribute('data-probe', JSON.stringify(out));
</script>"""
