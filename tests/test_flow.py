"""A whole night end to end (in-process, as `bidui run` runs it: the `night` fixture), on a
generated set and a small hand-made one; and one night served by Prefect (the harness): the
flow's per-stage log, its artifacts, and a Failed state carrying the one-paragraph message."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import valid_id

A = valid_id("11010519900101123")
B = valid_id("11010819850505234")
C = valid_id("11010319550303111")

OUTPUTS = {"links.parquet", "member_links.parquet", "discrepancies.parquet",
           "quarantine.parquet", "manifest.json", "report.html", "validation"}


@pytest.fixture()
def inputs(tmp_path: Path) -> dict[str, Path]:
    union = tmp_path / "union.csv"
    union.write_text(
        "档案号,职工姓名,公民身份号码(必填),档案状态,所属区,是否低保,家庭人口\n"
        f"A1,張偉,{A},在档,海淀,是,3\nA2,,,在档,110103,否,3\nA3,李娜,{B},在档,崇文区,低收入,2\n"
        f"A4,王芳,{B},在档,,无,2\nA5,赵强,1.10108E+17,在档,朝阳区,低保,1\n", encoding="utf-8-sig")
    civil = tmp_path / "civil.csv"
    civil.write_bytes(
        ("家庭编号,成员序号,姓名,身份证号,保障类别,区划代码,保障状态,家庭总人数\n"
         f"C1,1,张伟,{A},城市低保,110108,在保,3\nC2,1,李娜,{B},低收入,110101,在保,2\n"
         f"C3,1,买买提·艾力,{C},特困,110101,在保,1\n").encode("gb18030"))
    members = tmp_path / "members.csv"
    members.write_text(f"会员编号,姓名,身份证号\nM1,李娜,{B}\nM2,某人,\n", encoding="utf-8")
    return {"union": union, "civil": civil, "members": members}


def run(night, inputs: dict[str, Path], out: Path, civil: Path | None = None):
    return night("--union", str(inputs["union"]), "--civil", str(civil or inputs["civil"]),
                 "--members", str(inputs["members"]), "--out", str(out),
                 "--as-of", "2026-06-30")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    from pipeline.generate import generate

    folder = tmp_path_factory.mktemp("generated")
    generate(folder, households=200, seed=5)
    return folder


def test_run_publishes_a_complete_accounted_output_set(night, generated, tmp_path,
                                                       capsys) -> None:
    out = tmp_path / "out"
    result = night("--union", str(generated / "union_roll.xlsx"),
                   "--civil", str(generated / "civil_exchange.csv"),
                   "--members", str(generated / "members.csv"),
                   "--out", str(out), "--as-of", "2026-06-30")
    assert result.returncode == 0, result.stderr
    assert result.stages == ["ingest", "normalise", "validate", "roster", "link", "detect",
                             "report"]
    assert {p.name for p in out.iterdir()} >= OUTPUTS
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    accounting = manifest["accounting"]
    assert set(accounting) == {"union", "civil", "members"}
    for source, totals in accounting.items():
        assert totals["balanced"], source
        assert totals["rows_read"] == (totals["rows_linked"] + totals["rows_unlinked"]
                                       + totals["rows_quarantined"] + totals["rows_non_data"])
        assert totals["rows_linked"] > 0
    meta = json.loads((generated / "truth" / "meta.json").read_text("utf-8"))
    assert accounting["civil"]["rows_read"] == meta["files"]["civil_exchange.csv"]
    union = accounting["union"]
    # The generated roll has footers and template rows (the generator's layout counts them).
    assert union["rows_non_data"] == meta["roll_layout"]["non_data_rows"] > 0
    assert union["rows_read"] - union["rows_non_data"] == meta["files"]["union_roll.xlsx"]
    assert set(manifest["timings_seconds"]) == {"ingest", "normalise", "link", "validate",
                                                "roster", "detect", "report"}
    links = pd.read_parquet(out / "links.parquet")
    assert set(links["method"]) <= {"id_exact", "probabilistic"}
    assert links[links["decision"] == "match"].groupby("union_roll_id").size().max() == 1
    assert set(result.result.timings) >= {*manifest["timings_seconds"], "publish", "night"}

    from pipeline.cli import main

    capsys.readouterr()
    assert main(["evaluate", "--run", str(out), "--truth", str(generated / "truth"),
                 "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["links"]["by_method"]["id_exact"]["precision"] == 1.0
    assert scores["links"]["all"]["recall"] >= 0.99


def test_small_hand_made_set_runs_and_quarantines(night, inputs, tmp_path) -> None:
    out = tmp_path / "out"
    result = run(night, inputs, out)
    assert result.returncode == 0, result.stderr
    quarantine = pd.read_parquet(out / "quarantine.parquet")
    assert list(quarantine["source_row"]) == [3]
    assert list(quarantine["reason_code"]) == ["no_name_no_id"]
    findings = pd.read_parquet(out / "discrepancies.parquet")
    assert "INVALID_ID" in set(findings["type"])


def test_missing_column_stops_the_night_and_keeps_last_nights_outputs(
        night, inputs, tmp_path) -> None:
    out = tmp_path / "out"
    assert run(night, inputs, out).returncode == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    broken = tmp_path / "civil_no_id.csv"
    broken.write_text("家庭编号,成员序号,姓名,保障类别,区划代码,保障状态\nC1,1,张伟,低保,110108,在保\n",
                      encoding="utf-8")
    result = run(night, inputs, out, civil=broken)
    assert result.returncode == 2 and result.failed_stage == "ingest"
    err = result.stderr
    assert "身份证号" in err and "civil_no_id.csv" in err
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert not list(tmp_path.glob(".out.staging-*"))  # only the run lock file stays beside


def test_duplicate_civil_person_key_is_a_critical_gate(night, inputs, tmp_path) -> None:
    dup = tmp_path / "civil_dup.csv"
    dup.write_text("家庭编号,成员序号,姓名,身份证号,保障类别,区划代码,保障状态\n"
                   f"C1,1,张伟,{A},低保,110108,在保\nC1,1,李娜,{B},低保,110108,在保\n",
                   encoding="utf-8")
    out = tmp_path / "out"
    result = run(night, inputs, out, civil=dup)
    assert result.returncode == 3 and result.failed_stage == "validate"
    assert not out.exists()
    assert "person_key_unique" in result.stderr
    assert not list(tmp_path.glob(".out.*-*"))  # no staging folder left beside


# --- one night served by Prefect (the harness's server): the flow's own concerns ---------------


def _stored_logs(flow_run_id) -> str:
    """The run's log lines as the server stored them (after the log worker delivered them)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(
            any_=[flow_run_id])), limit=200)
    return "\n".join(log.message for log in logs)


def test_served_night_logs_each_stage_publishes_artifacts_and_fails_with_the_paragraph(
        prefect_harness, inputs, tmp_path) -> None:
    from prefect.client.orchestration import get_client

    from flows.nightly import FLOW_FAILED_LINE, StageFailure, nightly

    out = tmp_path / "out"
    state = nightly(union=[inputs["union"]], civil=[inputs["civil"]],
                    members=[inputs["members"]], out=out, as_of=dt.date(2026, 6, 30),
                    return_state=True)
    assert state.is_completed(), state.message
    manifest = state.result()
    assert manifest == json.loads((out / "manifest.json").read_text("utf-8"))
    assert state.message == (f"published {len(manifest['outputs'])} data outputs (as "
                             "manifest.json lists them), the report and the Data Docs")
    logs = _stored_logs(state.state_details.flow_run_id)
    for stage in ("ingest", "normalise", "validate", "roster", "link", "detect", "report"):
        assert f"stage {stage}" in logs  # progress per stage, through Prefect's run logger
    assert "in 1 chunk (" in logs  # counted as said
    assert "Finished in state Completed()" not in logs  # each stage's own line says it
    with get_client(sync_client=True) as client:
        keys = {artifact.key for artifact in client.read_artifacts()}
    assert {"bidui-validation", "bidui-findings-by-type", "bidui-night"} <= keys

    broken = tmp_path / "civil_no_id.csv"
    broken.write_text("家庭编号,成员序号,姓名,保障类别,区划代码,保障状态\nC1,1,张伟,低保,110108,在保\n",
                      encoding="utf-8")
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    failed = nightly(union=[inputs["union"]], civil=[broken], out=out,
                     as_of=dt.date(2026, 6, 30), return_state=True)
    assert failed.is_failed()
    failure = failed.result(raise_on_failure=False)
    assert isinstance(failure, StageFailure) and failure.exit_code == 2
    assert failed.message == failure.message
    assert "身份证号" in failed.message and "civil_no_id.csv" in failed.message
    logs = _stored_logs(failed.state_details.flow_run_id)
    assert "stage ingest stopped" in logs
    assert "Completed" not in logs  # nothing says the stage that stopped the night completed
    assert logs.count("civil_no_id.csv") == 1  # the paragraph once: the flow's line is short
    assert FLOW_FAILED_LINE in logs
    assert "Traceback" not in logs and "Traceback" not in failed.message
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_an_unexpected_error_in_a_served_night_is_its_type_and_line_only(
        prefect_harness, inputs, tmp_path, monkeypatch) -> None:
    """Issue 14 item 7: an exception's own text (a UnicodeDecodeError quotes the file's bytes,
    here a name) never reaches Prefect's stored logs or the flow's state; the task is Failed
    with bidui's sentence (type and source line), exit 70; `--debug` keeps the traceback."""
    from flows import nightly as nightly_module
    from flows.nightly import StageFailure, nightly
    from pipeline import stages

    secret = "欧阳娜娜".encode("gb18030")

    def broken_detect(*args, **kwargs):
        raise UnicodeDecodeError("utf-8", secret, 0, 1, "invalid start byte")

    monkeypatch.setattr(stages, "detect", broken_detect)
    monkeypatch.delenv(nightly_module.DEBUG_ENV, raising=False)
    failed = nightly(union=[inputs["union"]], civil=[inputs["civil"]], out=tmp_path / "out",
                     as_of=dt.date(2026, 6, 30), return_state=True)
    assert failed.is_failed()
    failure = failed.result(raise_on_failure=False)
    assert isinstance(failure, StageFailure) and failure.exit_code == 70
    assert "UnicodeDecodeError at test_flow.py:" in failed.message
    assert "stage detect" in failed.message
    logs = _stored_logs(failed.state_details.flow_run_id)
    assert "stage detect failed: internal error UnicodeDecodeError at" in logs
    for text in (logs, failed.message):
        assert repr(secret)[2:12] not in text and "欧阳" not in text and "Traceback" not in text
    assert not (tmp_path / "out").exists()

    monkeypatch.setenv(nightly_module.DEBUG_ENV, "1")  # bidui --debug: the original error
    debugged = nightly(union=[inputs["union"]], civil=[inputs["civil"]],
                       out=tmp_path / "out2", as_of=dt.date(2026, 6, 30), return_state=True)
    assert debugged.is_failed()
    with pytest.raises(UnicodeDecodeError):
        debugged.result()


def test_a_served_night_imports_a_gbk_decisions_csv_without_logging_its_words(
        prefect_harness, inputs, tmp_path) -> None:
    """Issue 14: a decisions CSV saved the way Chinese Excel saves it (GBK), holding the
    analyst's name and note, is applied by a served night, and neither the name nor the note
    reaches Prefect's stored logs, the flow's state or the manifest; a garbled file next to it
    is a warning, and the night publishes."""
    from flows.nightly import nightly

    name, note = "欧阳娜娜", "该户已于六月搬离本市"
    state, first_out = tmp_path / "state", tmp_path / "out1"
    first = nightly(union=[inputs["union"]], civil=[inputs["civil"]], out=first_out,
                    as_of=dt.date(2026, 6, 30), state_dir=state, return_state=True)
    assert first.is_completed(), first.message
    findings = pd.read_parquet(first_out / "discrepancies.parquet")
    target = findings.iloc[0]
    (state / "inbox").mkdir(exist_ok=True)
    (state / "inbox" / "处理结果.csv").write_bytes(
        ("问题编号,处理结果,备注,处理人,处理日期,依据\r\n"
         f"{target['discrepancy_id']},驳回,{note},{name},2026-07-01,{target['evidence']}\r\n"
         ).encode("gbk"))
    (state / "inbox" / "损坏.xlsx").write_bytes(b"PK\x03\x04 not a workbook at all")
    second = nightly(union=[inputs["union"]], civil=[inputs["civil"]], out=tmp_path / "out2",
                     as_of=dt.date(2026, 7, 1), state_dir=state, return_state=True)
    assert second.is_completed(), second.message
    manifest = second.result()
    assert manifest["review"]["imported"] == 1 and manifest["review"]["warnings"]
    assert target["discrepancy_id"] not in set(
        pd.read_parquet(tmp_path / "out2" / "discrepancies.parquet")["discrepancy_id"])
    logs = _stored_logs(second.state_details.flow_run_id)
    assert "stage ingest" in logs
    for secret in (name, note, name.encode("gbk").decode("latin-1")):
        assert secret not in logs and secret not in (second.message or "")
        assert secret not in json.dumps(manifest, ensure_ascii=False)


def test_the_normalise_line_counts_the_rows_with_a_shared_id_number() -> None:
    """Rows whose ID number different people carry in one file are used, their number no
    one's evidence: the line counts them per source (from the field issues), or says
    nothing of them when there are none."""
    from types import SimpleNamespace

    from flows.nightly import _describe
    from pipeline.normalise.field_issues import SHARED_NUMBER
    from pipeline.schema import Source

    def issues(*codes: str) -> pd.DataFrame:
        return pd.DataFrame({"reason_code": list(codes)})

    normalised = {
        Source.UNION: SimpleNamespace(frame=pd.DataFrame(index=range(5)),
                                      quarantine=pd.DataFrame(index=range(1)),
                                      field_issues=issues("not_a_date")),
        Source.CIVIL: SimpleNamespace(frame=pd.DataFrame(index=range(9)),
                                      quarantine=pd.DataFrame(),
                                      field_issues=issues(SHARED_NUMBER[0], "not_a_date",
                                                          SHARED_NUMBER[0])),
    }
    assert _describe(normalised, "normalise") == (
        "union 5 rows (1 quarantined), "
        "civil 9 rows (0 quarantined, 2 rows with an ID number shared by different people)")


def test_the_stage_lines_say_a_skipped_roster_and_count_chunks_as_said() -> None:
    from types import SimpleNamespace

    from flows.nightly import _describe
    from pipeline.stages import RosterPass

    assert _describe(None, "roster") == "skipped: no roster given (--members)"
    assert _describe(None, "report") == "done"
    for chunks, said in ((1, "in 1 chunk ("), (6, "in 6 chunks (")):
        roster = RosterPass(linkage=None, could_pair=SimpleNamespace(rows=3), files=[],
                            usable_per_file={}, chunks=chunks, rows_usable=10,
                            rejects=SimpleNamespace(quarantine=SimpleNamespace(rows=0)))
        assert said in _describe(roster, "roster")
