"""`pipeline.night.run_night`: the night's orchestration without Prefect — the stage runner
seam, the state read once and written only after publishing, the lock, the sweep, and a failed
night leaving nothing behind."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import stages
from pipeline.detect import tracking
from pipeline.detect.finding import findings_frame
from pipeline.detect.lifecycle import apply_history, evidence_hash
from pipeline.errors import BiduiError, GateError, InputError, OutputError
from pipeline.night import STAGES, NightRequest, run_night
from pipeline.report.publish import output_lock
from pipeline.state import StateSnapshot, StateStore
from tests.helpers import write_two_person_inputs

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    union, civil = write_two_person_inputs(tmp_path_factory.mktemp("inputs"))
    return {"union": union, "civil": civil}


def request(inputs: dict[str, Path], out: Path, **options) -> NightRequest:
    return NightRequest(union=[inputs["union"]], civil=[inputs["civil"]], out=out,
                        as_of=options.pop("as_of", AS_OF), **options)


def test_the_runner_runs_every_stage_in_order_and_returns_its_result(inputs, tmp_path) -> None:
    calls = []
    given: dict[str, tuple] = {}

    def runner(name, function, *args):
        calls.append(name)
        given[name] = args
        return function(*args)

    result = run_night(request(inputs, tmp_path / "out"), runner=runner)
    assert calls == list(STAGES)
    # the raw rows are read by normalise and validate; the stages after get the files only
    assert {len(item.frame) for item in given["validate"][0].values()} == {2}
    for later in (given["roster"][6], given["report"][1]):
        assert {len(item.frame) for item in later.values()} == {0}
        assert all(item.files for item in later.values())
    assert sum(i["rows_read"] for i in result.manifest["inputs"]) == 4
    assert result.out == tmp_path / "out"
    assert result.manifest["as_of"] == "2026-06-30"
    assert set(result.timings) == {*STAGES, "publish", "night"}
    assert set(result.manifest["timings_seconds"]) == set(STAGES)
    for name in ("ingest", "normalise", "validate", "link", "detect"):
        assert result.manifest["timings_seconds"][name] == pytest.approx(
            result.timings[name], abs=0.001)


@pytest.mark.slow  # two nights
def test_a_failing_stage_discards_staging_keeps_the_state_and_releases_the_lock(
        inputs, tmp_path) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    first = run_night(request(inputs, out, state_dir=state))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    state_before = {p.name: p.read_bytes() for p in state.iterdir() if p.is_file()}
    assert (state / "inbox").is_dir()  # made by the first night for the analysts' files

    def failing_report(name, function, *args):
        if name == "report":  # fail half-way through writing the staging folder
            (args[0] / "links.parquet").write_text("half")
            raise GateError("the output suites failed.", "look at the Data Docs.")
        return function(*args)

    with pytest.raises(GateError, match="output suites"):
        run_night(request(inputs, out, state_dir=state, as_of=AS_OF + dt.timedelta(1)),
                  runner=failing_report)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert {p.name: p.read_bytes() for p in state.iterdir() if p.is_file()} == state_before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out", "state"]
    assert first.manifest["as_of"] == StateStore(state).last_good_manifest()["as_of"]
    with output_lock(out):  # released
        pass


def test_an_internal_error_propagates_unchanged(inputs, tmp_path) -> None:
    def broken(name, function, *args):
        if name == "detect":
            raise ZeroDivisionError("a bug")
        return function(*args)

    with pytest.raises(ZeroDivisionError):
        run_night(request(inputs, tmp_path / "out"), runner=broken)
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.staging-*"))


def test_a_second_night_on_the_same_folder_is_refused_at_once(inputs, tmp_path) -> None:
    out = tmp_path / "out"
    with output_lock(out), pytest.raises(OutputError, match="another bidui run") as caught:
        run_night(request(inputs, out), runner=lambda *_: pytest.fail("a stage ran"))
    assert caught.value.exit_code == 4


def test_what_a_killed_night_left_is_swept_before_the_first_stage(inputs, tmp_path) -> None:
    out = tmp_path / "out"
    for leftover in (".out.staging-abc", ".out.previous-def"):
        (tmp_path / leftover).mkdir()
        (tmp_path / leftover / "links.parquet").write_text("half")
    left = []

    def stop_at_once(name, function, *args):
        left.extend(sorted(p.name for p in tmp_path.iterdir()))
        raise InputError("stopped by the test.")

    with pytest.raises(InputError):
        run_night(request(inputs, out), runner=stop_at_once)
    # only the lock and this night's own scratch folder (made before the first stage)
    assert [n for n in left if not n.startswith(".out.scratch-")] == [".out.lock"]
    assert len(left) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock"]


@pytest.mark.parametrize(("options", "exit_code", "words"), [
    ({"engine": "spark"}, 2, "engine 'spark'"),
    ({"dask_address": "tcp://127.0.0.1:8786"}, 2, "--engine dask"),
    ({"pseudonymise": True, "key_file": Path("/nonexistent/key")}, 2, "key"),
])
def test_requests_refused_before_any_work(inputs, tmp_path, monkeypatch, options, exit_code,
                                          words) -> None:
    monkeypatch.delenv("BIDUI_PSEUDONYM_KEY", raising=False)
    with pytest.raises(BiduiError, match=words) as caught:
        run_night(request(inputs, tmp_path / "out", **options),
                  runner=lambda *_: pytest.fail("a stage ran"))
    assert caught.value.exit_code == exit_code
    assert list(tmp_path.iterdir()) == []  # not even the lock file


def test_a_foreign_output_folder_is_refused(inputs, tmp_path) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    with pytest.raises(OutputError, match="not empty"):
        run_night(request(inputs, out))
    assert [p.name for p in out.iterdir()] == ["thesis.docx"]


@pytest.mark.slow  # two nights
def test_the_state_is_read_at_the_start_only_and_written_after_publishing(
        inputs, tmp_path, monkeypatch) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    run_night(request(inputs, out, state_dir=state))
    current = {"stage": None}
    reads = []
    for name in ("read_history", "read_decisions"):
        real = getattr(tracking, name)

        def counted(store, real=real, name=name):
            reads.append((name, current["stage"]))
            return real(store)

        monkeypatch.setattr(tracking, name, counted)
    seen = []

    def runner(name, function, *args):
        current["stage"] = name
        # An analyst saving a decision while the night runs: tomorrow's, not tonight's.
        if name == "link":
            (state / "review_decisions.csv").write_text("garbage that is not read tonight\n")
        seen.append([a for a in args if isinstance(a, StateSnapshot)])
        return function(*args)

    second = run_night(request(inputs, out, state_dir=state, as_of=AS_OF + dt.timedelta(1)),
                       runner=runner)
    assert {name for name, _ in reads} == {"read_history", "read_decisions"}
    assert {stage for _, stage in reads} == {None}  # before the first stage, never during
    link_args, detect_args = seen[STAGES.index("link")], seen[STAGES.index("detect")]
    assert len(link_args) == 1 and link_args[0] is detect_args[0]  # the same snapshot
    assert StateStore(state).last_good_manifest()["as_of"] == second.manifest["as_of"]
    history = tracking.read_history(StateStore(state))
    assert set(history["night"].dt.date) <= {AS_OF, AS_OF + dt.timedelta(1)}


def _review_history(tmp_path: Path) -> tuple[StateStore, pd.DataFrame]:
    """A state with POSSIBLE_MATCH_REVIEW findings on two nights, one confirmed, one
    dismissed (then changed to confirmed), as analysts leave it."""
    rows = pd.DataFrame({"union_roll_id": ["R1", "R2", "R3"], "civil_case_id": ["C1", "C2", "C3"],
                         "civil_member_no": ["1", "1", "2"], "union_value": ["0.5"] * 3,
                         "civil_value": ["x"] * 3})
    store = StateStore(tmp_path / "state")
    history = tracking.read_history(store)
    for night in (AS_OF - dt.timedelta(2), AS_OF - dt.timedelta(1)):
        tonight = findings_frame(tracking.REVIEW_CODE, "low", rows, pd.Series(["…"] * 3), night)
        _, history, _ = apply_history(tonight, history, night)
    tracking.save(store, tracking.TrackedFindings(tonight, tonight.iloc[0:0], 0, history))
    evidence = evidence_hash(tonight)
    ids = list(tonight["discrepancy_id"])
    store.root.mkdir(exist_ok=True)
    store.decisions_path.write_text(
        "discrepancy_id,decision,note,decided_by,decided_at,evidence\n"
        f"{ids[0]},confirmed,,a,2026-06-29T09:00,{evidence[0]}\n"
        f"{ids[1]},dismissed,,a,2026-06-29T09:00,{evidence[1]}\n"
        f"{ids[2]},dismissed,,a,2026-06-29T09:00,{evidence[2]}\n"
        f"{ids[2]},confirmed,,b,2026-06-29T10:00,{evidence[2]}\n"
        f"{ids[1]},maybe,,c,2026-06-29T11:00,{evidence[1]}\n", encoding="utf-8")
    return store, findings_frame(tracking.REVIEW_CODE, "low", rows, pd.Series(["…"] * 3), AS_OF)


def test_the_stages_give_the_same_over_a_snapshot_as_over_the_folder(tmp_path) -> None:
    store, tonight = _review_history(tmp_path)
    snapshot = store.read()
    labels = stages._review_labels(snapshot)
    assert len(labels) and set(labels["label"]) <= {"match", "non_match"}
    pd.testing.assert_frame_equal(labels, tracking.review_labels(store))
    over_snapshot = stages._track(tonight, snapshot, AS_OF)
    over_folder = tracking.track(tonight, store, AS_OF)
    pd.testing.assert_frame_equal(over_snapshot.findings, over_folder.findings)
    pd.testing.assert_frame_equal(over_snapshot.history, over_folder.history)
    pd.testing.assert_frame_equal(over_snapshot.resolved, over_folder.resolved)
    assert over_snapshot.suppressed == over_folder.suppressed


def test_an_empty_state_folder_reads_as_no_state(tmp_path) -> None:
    snapshot = StateStore(tmp_path / "none").read()
    assert snapshot.history.empty and snapshot.decisions.empty
    assert stages._review_labels(snapshot).empty
    pd.testing.assert_frame_equal(stages._review_labels(snapshot),
                                  stages._review_labels(None))


def test_an_unreadable_input_is_the_input_error_with_nothing_published(inputs, tmp_path) -> None:
    broken = tmp_path / "civil.csv"
    broken.write_bytes(b"\x00\x01binary")
    with pytest.raises(InputError):
        run_night(NightRequest(union=[inputs["union"]], civil=[broken], out=tmp_path / "out",
                               as_of=AS_OF))
    assert not (tmp_path / "out").exists()


def test_without_rows_keeps_columns_dtypes_and_files_and_holds_no_row() -> None:
    import gc
    import weakref

    from pipeline.ingest import Loaded
    from pipeline.schema import Source

    class Cell:  # a raw value that can be watched
        pass

    cells = [Cell(), Cell()]
    watched = weakref.ref(cells[0])
    frame = pd.DataFrame({"name": pd.array(["张伟", "李娜"], dtype="string"),
                          "source_row": np.array([2, 3], dtype=np.int64),
                          "extra": pd.Series(cells, dtype=object)})
    dtypes = frame.dtypes
    loaded = {Source.UNION: Loaded(Source.UNION, frame, ["a file"])}
    out = stages.without_rows(loaded)[Source.UNION]
    assert len(out.frame) == 0 and out.files == ["a file"]
    pd.testing.assert_series_equal(out.frame.dtypes, dtypes)
    del frame, loaded, cells
    gc.collect()
    assert watched() is None  # nothing of the raw rows is held (a view would hold them)
