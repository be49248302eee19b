"""The Dask engine gives exactly what the local engine gives: candidate levels, pass statistics,
links and models, and the published files of a whole night; an unreachable cluster is an
operator's error, not a traceback."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import stages
from pipeline.config import load_config
from pipeline.errors import InputError
from pipeline.generate import generate
from pipeline.generate.constants import REFERENCE_DATE
from pipeline.ingest import load_source
from pipeline.link.blocking import BlockPass
from pipeline.link.distributed import DaskExecutor, _block_hashes, open_dask_executor
from pipeline.link.engine import Linker, LocalExecutor
from pipeline.link.features import person_features
from pipeline.link.people import link_people
from pipeline.link.spec import load_spec
from pipeline.link.training import Labels
from pipeline.schema import Source

pytestmark = pytest.mark.slow  # a local Dask cluster of two worker processes


@pytest.fixture(scope="module")
def executor() -> DaskExecutor:
    """One local cluster of two single-threaded worker processes for the module."""
    with open_dask_executor(None, workers=2) as dask_executor:
        yield dask_executor


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("generated")
    generate(folder, households=300, seed=13)
    return folder


@pytest.fixture(scope="module")
def normalised(generated) -> dict:
    inputs = stages.Inputs([generated / "union_roll.xlsx"], [generated / "civil_exchange.csv"],
                           [generated / "members.csv"])
    loaded = stages.ingest(inputs)  # the roll and civil affairs (the night streams the roster)
    loaded[Source.MEMBERS] = load_source(inputs.members, Source.MEMBERS)
    return stages.normalise(loaded, REFERENCE_DATE)


@pytest.fixture(scope="module")
def features(normalised) -> dict[Source, pd.DataFrame]:
    return {source: person_features(item.frame) for source, item in normalised.items()}


def test_features_are_the_same_frame(executor, normalised) -> None:
    frame = normalised[Source.UNION].frame
    for part in (frame, frame.iloc[::3]):  # a RangeIndex, and an index with gaps
        pd.testing.assert_frame_equal(executor.features(person_features, part),
                                      person_features(part), check_index_type=True,
                                      check_column_type=True)


SIDES = {"union_civil": (Source.UNION, Source.CIVIL), "roll_dedupe": (Source.UNION, None),
         "civil_members": (Source.CIVIL, Source.MEMBERS)}


@pytest.mark.parametrize("max_block_pairs", [None, 3], ids=["shipped", "too-big-blocks"])
@pytest.mark.parametrize("spec_name", sorted(SIDES))
def test_candidates_and_levels_equal_the_local_engine(executor, features, spec_name,
                                                      max_block_pairs) -> None:
    spec = load_spec(spec_name)
    if max_block_pairs is not None:
        spec = spec.model_copy(update={"max_block_pairs": max_block_pairs})
    left_source, right_source = SIDES[spec_name]
    left = features[left_source]
    right = None if right_source is None else features[right_source]
    linker = Linker(spec)
    lf = linker.inputs(left)
    rf = lf if right is None else linker.inputs(right)

    li, ri, levels, stats = LocalExecutor().candidates_with_levels(linker, left, right, lf, rf)
    dli, dri, dlevels, dstats = executor.candidates_with_levels(linker, left, right, lf, rf)

    assert len(li) > 20 and levels.shape[1] == len(spec.comparisons)
    for local, dask in ((li, dli), (ri, dri), (levels, dlevels)):
        assert local.dtype == dask.dtype and local.shape == dask.shape
        assert np.array_equal(local, dask)
    assert dstats == stats
    skipped = sum(s.skipped_blocks for s in stats)
    assert skipped > 0 if max_block_pairs is not None else skipped == 0
    assert any(s.new_pairs < s.pairs for s in stats)  # earlier passes' pairs were dropped
    # Partitioned: several tasks per pass, none of them holding a whole side.
    metrics = executor.partition_metrics
    assert len({m["bucket"] for m in metrics}) > 1
    assert max(m["left_rows"] for m in metrics) < len(left) / 2
    if right is not None:
        assert max(m["right_rows"] for m in metrics) < len(right) / 2
    assert sum(m["new_pairs"] for m in metrics) == len(li)


def test_fixed_partition_counts_give_the_same_result(executor, features) -> None:
    linker = Linker(load_spec("union_civil"))
    left, right = features[Source.UNION], features[Source.CIVIL]
    lf, rf = linker.inputs(left), linker.inputs(right)
    expected = LocalExecutor().candidates_with_levels(linker, left, right, lf, rf)
    for partitions in (1, 7):
        got = DaskExecutor(executor.client, partitions).candidates_with_levels(
            linker, left, right, lf, rf)
        for a, b in zip(expected[:3], got[:3], strict=True):
            assert np.array_equal(a, b)
        assert got[3] == expected[3]


def test_both_engines_take_block_codes_from_one_function(executor, features,
                                                       monkeypatch) -> None:
    """One code path: each executor asks `BlockPass.codes` (`blocking.pass_codes`) once per
    pass, and the Dask driver shares the column codes the EM sessions then reuse."""
    calls: list[str] = []
    original = BlockPass.codes

    def spy(self, left, right, column_codes=None):
        calls.append(self.name)
        return original(self, left, right, column_codes)

    monkeypatch.setattr(BlockPass, "codes", spy)
    left, right = features[Source.UNION], features[Source.CIVIL]
    for run_on in (LocalExecutor(), executor):
        linker = Linker(load_spec("union_civil"))
        lf, rf = linker.inputs(left), linker.inputs(right)
        calls.clear()
        run_on.candidates_with_levels(linker, left, right, lf, rf)
        assert calls == [p.name for p in linker.passes]
        shared = linker.column_codes(left, right)
        assert {c for p in linker.passes for c in p.columns} <= set(shared._codes)


def test_a_key_goes_to_the_same_bucket_whatever_its_code(features) -> None:
    """Buckets follow the key's values, not its code (which depends on the night's data)."""
    left, right = features[Source.UNION], features[Source.CIVIL]
    block_pass = BlockPass(["birth", "surname_py"], 5000)
    reordered = left.iloc[::-1].reset_index(drop=True)
    hashes = {}
    for name, frame in (("as read", left), ("reversed", reordered)):
        codes = block_pass.codes(frame, right)
        table = _block_hashes(frame, right, block_pass.columns, codes)
        keys = frame["birth"] + "|" + frame["surname_py"]
        pairs_here = codes.left >= 0
        hashes[name] = dict(zip(keys[pairs_here], table[codes.left[pairs_here]], strict=True))
    assert len(hashes["as read"]) > 50 and hashes["as read"] == hashes["reversed"]


@pytest.mark.parametrize("spec_name", ["union_civil", "roll_dedupe"])
def test_training_and_scoring_run_on_a_worker(executor, features, spec_name,
                                              monkeypatch) -> None:
    """`train_and_predict` on Dask gives the local engine's pairs, model and statistics (with
    analysts' labels, and with a model given), while this process neither gathers the
    candidates' levels nor trains nor scores: those run on a worker."""
    spec = load_spec(spec_name)
    left_source, right_source = SIDES[spec_name]
    left = features[left_source]
    right = None if right_source is None else features[right_source]
    first = LocalExecutor().train_and_predict(Linker(spec), left, right)
    confirmed = first.pairs[["left", "right"]].to_numpy(dtype=np.int64)[:5]
    labels = Labels(confirmed, np.empty((0, 2), dtype=np.int64))
    expected = LocalExecutor().train_and_predict(Linker(spec), left, right, labels=labels)
    assert expected.model.as_dict() != first.model.as_dict()  # the labels count

    def here(*_args, **_kwargs):
        raise AssertionError("ran in the driver's process")

    for owner, name in ((Linker, "fit"), (Linker, "train_and_predict"),
                        (DaskExecutor, "candidates_with_levels")):
        monkeypatch.setattr(owner, name, here)
    got = executor.train_and_predict(Linker(spec), left, right, labels=labels)
    given = executor.train_and_predict(Linker(spec), left, right, model=first.model)

    assert expected.candidates >= len(expected.pairs) > 20
    pd.testing.assert_frame_equal(got.pairs, expected.pairs)
    assert got.model.as_dict() == expected.model.as_dict()
    assert got.stats == expected.stats and got.candidates == expected.candidates
    pd.testing.assert_frame_equal(given.pairs, first.pairs)
    assert given.model.as_dict() == first.model.as_dict()
    assert sum(m["new_pairs"] for m in executor.partition_metrics) == expected.candidates


def test_link_people_equals_the_local_engine(executor, normalised) -> None:
    union, civil = normalised[Source.UNION].frame, normalised[Source.CIVIL].frame
    members = normalised[Source.MEMBERS].frame
    specs = load_config()["linking"]["specs"]
    local = link_people(union, civil, members, specs)
    executor.partition_metrics = []
    dask = link_people(union, civil, members, specs, executor=executor)

    assert executor.partition_metrics  # the work did go to the cluster
    assert len(local.links) > 100 and local.member_links is not None
    pd.testing.assert_frame_equal(dask.links, local.links)
    pd.testing.assert_frame_equal(dask.member_links, local.member_links)
    pd.testing.assert_frame_equal(dask.evidence, local.evidence)
    pd.testing.assert_frame_equal(dask.roll_duplicates, local.roll_duplicates)
    pd.testing.assert_series_equal(dask.roll_cluster, local.roll_cluster)
    assert dask.models == local.models
    assert dask.blocking == local.blocking


class _Sent:
    """What the driver sends the workers (`client.scatter`'s data, `client.submit`'s
    arguments, not futures): each object's type name and, for frames and arrays, rows."""

    def __init__(self, client, monkeypatch) -> None:
        self.seen: list[tuple[str, int]] = []
        for verb in ("scatter", "submit"):
            original = getattr(client, verb)
            monkeypatch.setattr(client, verb, self._watching(original, verb))

    def _watching(self, original, verb):
        def watched(*args, **kwargs):
            given = args if verb == "submit" else (args[0],)
            for value in given:
                for item in value if isinstance(value, list | tuple) else [value]:
                    self.seen.append((type(item).__name__, len(item) if isinstance(
                        item, pd.DataFrame | np.ndarray) else 0))
            return original(*args, **kwargs)

        return watched

    def largest_frame(self) -> int:
        return max([n for kind, n in self.seen if kind == "DataFrame"], default=0)

    def kinds(self) -> set[str]:
        return {kind for kind, _ in self.seen}


def _in_chunks(client, frame: pd.DataFrame, chunks: int = 3):
    """`frame` cut into `chunks` row chunks on the workers, as the night's civil columns
    are (`RemoteChunks`)."""
    from pipeline.link.remote import RemoteChunks

    bounds = np.linspace(0, len(frame), chunks + 1).astype(int)
    parts = [frame.iloc[bounds[k]:bounds[k + 1]].reset_index(drop=True) for k in range(chunks)]
    return RemoteChunks(client, client.scatter(parts, hash=False), [len(p) for p in parts],
                        frame.iloc[:0].copy())


def _held_in_chunks(client, frame: pd.DataFrame, chunks: int = 4):
    """`frame` in row chunks on the workers, as the night's civil features are made
    (`RemoteFrame` with `parts`)."""
    from pipeline.link.remote import RemoteFrame

    bounds = np.linspace(0, len(frame), chunks + 1).astype(int)
    parts = [frame.iloc[bounds[k]:bounds[k + 1]].reset_index(drop=True) for k in range(chunks)]
    held = RemoteFrame(len(frame), frame.iloc[:0].copy(), client.scatter(parts, hash=False),
                       [len(p) for p in parts], client)
    held._part_keys = [part.key for part in held.parts]  # to see them freed (`_assert_freed`)
    return held


@pytest.mark.parametrize("chunks", [1, 4])
@pytest.mark.parametrize("labelled", [False, True], ids=["no-labels", "labels"])
def test_link_people_with_the_civil_side_on_a_worker_equals_the_local_engine(
        executor, normalised, monkeypatch, labelled, chunks) -> None:
    """The night's civil features stay on the workers (`RemoteFrame`) and its columns in
    chunks there (`RemoteChunks`): the roll ↔ civil linkage runs on the features' chunks
    (`over_chunks`), one or several; the analysts' labels find their persons in the chunks,
    and it gives the local engine's links, evidence, models and statistics; the driver sends
    the roll's features, never a frame of the civil side's size."""
    union, civil = normalised[Source.UNION].frame, normalised[Source.CIVIL].frame
    civil = civil.reset_index(drop=True)  # positions, as the night's chunks number them
    specs = load_config()["linking"]["specs"]
    labels = None
    if labelled:  # an analyst confirms one scored pair that is no match and dismisses a match
        evidence = link_people(union, civil, None, specs).evidence
        key = ["union_roll_id", "civil_case_id", "civil_member_no"]
        confirmed = evidence[evidence["decision"] != "match"].iloc[:1][key]
        dismissed = evidence[evidence["decision"] == "match"].iloc[:1][key]
        labels = pd.concat([confirmed.assign(label="match"),
                            dismissed.assign(label="non_match")]).astype(str)
        assert len(labels) == 2
    local = link_people(union, civil, None, specs, labels=labels)
    held = _held_in_chunks(executor.client, person_features(civil), chunks)
    columns = _in_chunks(executor.client, civil)
    sent = _Sent(executor.client, monkeypatch)
    executor.partition_metrics = []
    dask = link_people(union, columns, None, specs, labels=labels, executor=executor,
                       civil_features=held)

    assert {m["chunk"] for m in executor.partition_metrics} == set(range(chunks))
    assert len(local.links) > 100
    assert (local.evidence["method"] == "clerical").sum() == (2 if labelled else 0)
    pd.testing.assert_frame_equal(dask.links, local.links)
    pd.testing.assert_frame_equal(dask.evidence, local.evidence)
    assert dask.models == local.models
    assert dask.blocking == local.blocking
    assert 0 < sent.largest_frame() < len(civil)
    held.release()
    columns.release()


@pytest.fixture()
def quick_timeout(monkeypatch) -> None:
    """An unreachable scheduler fails after 1 s instead of the product's 10 s."""
    import pipeline.link.distributed as distributed

    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT_S", 1)


def test_an_unreachable_address_is_an_input_error(quick_timeout) -> None:
    with pytest.raises(InputError) as caught, open_dask_executor("tcp://127.0.0.1:1"):
        pass
    assert "tcp://127.0.0.1:1" in caught.value.paragraph()
    assert caught.value.fix


@pytest.fixture()
def other_server():
    """A loopback TCP server that is no Dask scheduler: `serve(reply)` accepts connections
    and sends `reply` (b"": says nothing), keeping them open; yields its address."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    reply: list[bytes] = [b""]

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)
            if reply[0]:
                conn.sendall(reply[0])

    threading.Thread(target=serve, daemon=True).start()

    def address(answer: bytes) -> str:
        reply[0] = answer
        return f"tcp://127.0.0.1:{listener.getsockname()[1]}"

    yield address
    listener.close()
    for conn in accepted:
        conn.close()


@pytest.mark.parametrize("answer", [b"", b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4],
                         ids=["silent", "web server"])
def test_a_port_where_another_server_listens_is_an_input_error(quick_timeout, other_server,
                                                               answer) -> None:
    """distributed's connect waits for the handshake with no deadline (it hung for ever on a
    silent server) and reads another server's bytes as a frame length (MemoryError): the
    probe's deadline and its reading of what answered make either an InputError."""
    address = other_server(answer)
    started = time.monotonic()
    with pytest.raises(InputError) as caught, open_dask_executor(address):
        pass
    assert time.monotonic() - started < 10  # the 1 s timeout and the slack, not for ever
    paragraph = caught.value.paragraph()
    assert f"no Dask scheduler answered at {address}" in paragraph
    assert ("said nothing" in paragraph) == (answer == b"")
    assert "check the port" in caught.value.fix


def _run(night, data: Path, out: Path, *extra: str):
    return night("--union", str(data / "union_roll.xlsx"),
                 "--civil", str(data / "civil_exchange.csv"),
                 "--members", str(data / "members.csv"),
                 "--out", str(out), "--as-of", "2026-06-30", *extra)


def test_night_on_the_dask_engine_publishes_the_same_links(night, executor, generated, tmp_path,
                                                          capfd) -> None:
    """On the module's cluster, through --dask-address (the fixture itself is what
    `--engine dask` without an address starts)."""
    local = _run(night, generated, tmp_path / "local", "--engine", "local")
    assert local.returncode == 0, local.stderr
    capfd.readouterr()
    dask = _run(night, generated, tmp_path / "dask", "--engine", "dask", "--dask-address",
                executor.client.scheduler.address)
    assert dask.returncode == 0, dask.stderr
    console = capfd.readouterr()
    assert "distributed" not in console.err + console.out  # no INFO chatter from the cluster
    for name in ("links.parquet", "member_links.parquet", "link_evidence.parquet"):
        expected = pd.read_parquet(tmp_path / "local" / name)
        assert len(expected) > 100, name
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask" / name), expected)


def test_unreachable_dask_address_fails_the_first_stage_using_it(night, generated,
                                                                 quick_timeout,
                                                                 tmp_path) -> None:
    out = tmp_path / "out"
    result = _run(night, generated, out, "--engine", "dask", "--dask-address",
                  "tcp://127.0.0.1:1")
    assert result.returncode == InputError.exit_code
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in result.stderr
    assert result.failed_stage == "ingest"  # reading the civil side onto the workers: first
    assert not out.exists()  # nothing published


MALFORMED_ADDRESSES = ("nonsense", "tcp://", "host:notaport", ":8786", "tcp://[::1:8786",
                       "tcp://host:0", "tcp://host:99999", "inproc://x", "ucx://host:8786",
                       "http://127.0.0.1:8786")
WELL_FORMED_ADDRESSES = ("tcp://127.0.0.1:8786", "127.0.0.1:8786", "tls://host:8786",
                         "ws://host:8786", "wss://host:8786", "tcp://[::1]:8786", "[::1]:8786",
                         "localhost:8786", "tcp://nohost.invalid:8786", "tcp://127.0.0.1:1")


def test_the_form_of_a_scheduler_address_is_read_by_distributeds_own_parsers() -> None:
    """Only parsed (no name lookup, no connection): a well-formed address that cannot be
    reached is still `_connect`'s "cannot reach" error, after the timeout."""
    from pipeline.link.distributed import address_problem

    assert {a: address_problem(a) for a in WELL_FORMED_ADDRESSES} == dict.fromkeys(
        WELL_FORMED_ADDRESSES)
    assert all(address_problem(a) for a in MALFORMED_ADDRESSES)
    with pytest.raises(InputError) as caught, open_dask_executor("host:notaport"):
        pass
    assert "'host:notaport'" in caught.value.paragraph()
    assert "after up to" not in caught.value.paragraph()  # refused at once, no timeout


def _run_cli_with_dask_address(bidui_cli, data: Path, out: Path, address: str
                               ) -> subprocess.CompletedProcess:
    """`bidui run` with this address. "At once" is read from what it says, not timed (a
    timed bound fails on a loaded machine): no "after up to" (the connect timeout's
    wording: it did not wait for one) and no "Exception ignored" (no half-made client
    closed by `__del__` at exit, which held the exit for 20 s)."""
    return bidui_cli("run", "--union", str(data / "union_roll.xlsx"),
                     "--civil", str(data / "civil_exchange.csv"), "--out", str(out),
                     "--as-of", "2026-06-30", "--engine", "dask", "--dask-address", address)


def _one_paragraph(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr + result.stdout
    assert "Exception ignored" not in result.stderr  # no half-made Client closed at exit
    (paragraph,) = [line for line in result.stderr.splitlines() if line.startswith("bidui: ")]
    return paragraph


def test_a_malformed_dask_address_exits_2_at_once_in_one_paragraph(bidui_cli, generated,
                                                                     tmp_path) -> None:
    """`bidui run --dask-address nonsense`: exit 2 naming the address and the fix, before any
    Dask client is made (one used to be left half-made: its `__del__` printed a traceback
    and held the exit for 20 s)."""
    out = tmp_path / "out"
    result = _run_cli_with_dask_address(bidui_cli, generated, out, "nonsense")
    assert result.returncode == InputError.exit_code, result.stderr
    paragraph = _one_paragraph(result)
    assert "'nonsense' is not the address of a Dask scheduler" in paragraph
    assert "tcp://host:8786" in paragraph and "leave --dask-address out" in paragraph
    assert "after up to" not in paragraph
    assert not out.exists()  # nothing published


@pytest.mark.parametrize("address", ["", "  "])
def test_an_empty_dask_address_is_refused_not_taken_for_a_local_cluster(address) -> None:
    """A nightly script passing an unset variable (`--dask-address "$SCHEDULER"`) meant a
    cluster: starting a local one instead would hide it."""
    from pipeline.night import NightRequest

    request = NightRequest(union=[Path("u.xlsx")], civil=[Path("c.csv")], members=[],
                           out=Path("out"), engine="dask", dask_address=address)
    with pytest.raises(InputError, match="empty"):
        request.check()


def test_tls_without_tls_settings_exits_2_at_once_in_one_paragraph(bidui_cli, generated,
                                                                     tmp_path) -> None:
    """A well-formed tls:// address that distributed refuses at once (no TLS settings: a
    TypeError, not a timeout): the client it half made is closed, not left to `__del__`."""
    out = tmp_path / "out"
    result = _run_cli_with_dask_address(bidui_cli, generated, out, "tls://127.0.0.1:8786")
    assert result.returncode == InputError.exit_code, result.stderr
    paragraph = _one_paragraph(result)
    assert "tls://127.0.0.1:8786" in paragraph and "TLS" in paragraph
    assert "after up to" not in paragraph
    assert not out.exists()


def test_a_local_cluster_leaves_nothing_in_the_system_temporary_folder(tmp_path,
                                                                       monkeypatch) -> None:
    """`--engine dask` without an address: the workers' spill and the scheduler's work space
    (its lock files) are in the folder the night gives (its scratch folder beside DIR)."""
    import tempfile

    system, scratch = tmp_path / "system", tmp_path / "scratch"
    system.mkdir()
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system))
    with open_dask_executor(None, workers=1, local_directory=scratch) as dask_executor:
        assert dask_executor.client.submit(sum, [1, 2]).result() == 3
        assert [p.name[:11] for p in scratch.iterdir()] == ["bidui-dask-"]
    assert list(system.iterdir()) == []
    assert list(scratch.iterdir()) == []  # removed when the cluster closed


def test_the_workers_are_asked_of_the_scheduler_not_read_from_the_clients_copy() -> None:
    """A client that connected as the workers came up has an empty copy of the scheduler's
    state for a few seconds: the workers (how many, where parts go) are asked of the
    scheduler itself."""
    from pipeline.link.distributed import DaskExecutor
    from pipeline.roster.on_dask import worker_addresses, workers_of

    class JustConnected:
        def scheduler_info(self, n_workers: int = -1) -> dict:
            return {"workers": {}}

        def nthreads(self) -> dict[str, int]:
            return {"tcp://127.0.0.1:2": 1, "tcp://127.0.0.1:1": 1}

    client = JustConnected()
    assert worker_addresses(client) == ["tcp://127.0.0.1:1", "tcp://127.0.0.1:2"]
    assert workers_of(client) == 2
    assert DaskExecutor(client)._workers() == 2


def test_a_worker_lost_mid_night_is_a_cluster_error(generated, normalised) -> None:
    """A worker dies between the roster's passes, with the chunks it held (scattered data
    cannot be recomputed): the link stage stops with a `ClusterError` (exit 2, what happened
    and what to do), not an internal error."""
    import os

    from pipeline.errors import ClusterError
    from pipeline.link.distributed import cluster_failures
    from pipeline.roster.on_dask import stream_roster_on_dask, worker_addresses
    from pipeline.roster.partitioned_on_dask import link_roster_dask

    civil = normalised[Source.CIVIL].frame
    with open_dask_executor(None, workers=2) as dask_executor:
        client = dask_executor.client
        there = stream_roster_on_dask(client, [], person_features(civil),
                                      load_spec("civil_members"), REFERENCE_DATE,
                                      chunks=_roster_chunks(generated, 997))
        try:
            lost = worker_addresses(client)[0]
            client.run(os._exit, 1, workers=[lost], on_error="ignore")  # a new one starts empty
            with pytest.raises(ClusterError) as caught, cluster_failures("link"):
                link_roster_dask(client, civil, there)
        finally:
            there.close()
    error = caught.value
    assert error.exit_code == 2
    text = error.paragraph()
    assert "the Dask cluster failed during the link stage" in text
    assert "nothing was published" in text and "--engine local" in text


def test_a_connection_failure_inside_distributed_is_a_cluster_error() -> None:
    """A scatter to a worker that died a moment ago (before the scheduler noticed) fails
    inside `distributed` with a bare `OSError` ("Timed out trying to connect"): that is the
    cluster failing, a `ClusterError`; an `OSError` of bidui's own (a file it writes) is
    not, and stays an `OSError`."""
    from pipeline.errors import ClusterError
    from pipeline.link.distributed import cluster_failures

    def connect() -> None:
        raise OSError("Timed out trying to connect to tcp://127.0.0.1:1 after 30 s")

    # `connect` as if it were defined in distributed.comm.core: its frame's module is there.
    in_distributed = type(connect)(connect.__code__, {"__name__": "distributed.comm.core"})
    with pytest.raises(ClusterError) as caught, cluster_failures("link"):
        in_distributed()
    assert caught.value.exit_code == 2
    assert "OSError" in caught.value.paragraph()
    with pytest.raises(OSError, match="Timed out") as own, cluster_failures("link"):
        connect()
    assert not isinstance(own.value, ClusterError)


def _roster_chunks(generated: Path, rows: int):
    loaded = load_source([generated / "members.csv"], Source.MEMBERS)
    frame = loaded.frame
    return [frame.iloc[i:i + rows] for i in range(0, len(frame), rows)], lambda: loaded.files


@pytest.mark.parametrize("sample_records", [None, 700])
@pytest.mark.parametrize("civil_as", ["here", "one-chunk", "chunks"],
                         ids=["civil-here", "civil-in-one-chunk", "civil-in-chunks"])
def test_the_roster_on_the_workers_links_exactly_as_here(executor, generated, normalised,
                                                          sample_records, civil_as,
                                                          monkeypatch) -> None:
    """Both passes of the streamed roster as Dask tasks (the records that could pair stay on
    the workers between them, and the training sample's records too: the driver merges only
    their hashes and a worker trains): the same member links, statistics, model, counts;
    with the whole roster as the sample and with a sample of 700 members. With the civil
    side's features held on the workers (in one row chunk, or in several as the night holds
    them), the driver sends no civil index, scoring context or frame of the civil side's
    size: they are made there from the chunks (the index, the member model's training and
    the scoring context)."""
    from pipeline.link.streamed import SAMPLE_HASH
    from pipeline.roster.first_pass import stream_roster
    from pipeline.roster.on_dask import (
        REDUCE_FAN_IN,
        WorkerChunks,
        link_roster_on_dask,
        stream_roster_on_dask,
    )
    from pipeline.roster.second_pass import link_roster

    civil = normalised[Source.CIVIL].frame
    civil_f = person_features(civil)
    spec = load_spec("civil_members")
    if sample_records is not None:
        spec = spec.model_copy(update={"training": spec.training.model_copy(
            update={"right_sample_records": sample_records})})
    views_here: list[pd.DataFrame] = []
    views_there: list[pd.DataFrame] = []
    here = stream_roster([], civil_f, spec, REFERENCE_DATE, validate=views_here.append,
                         chunks=_roster_chunks(generated, 997))
    held = civil_as != "here"
    left = _civil_features_as(executor.client, civil_f, civil_as)
    sent = _Sent(executor.client, monkeypatch)
    there = stream_roster_on_dask(executor.client, [], left, spec, REFERENCE_DATE,
                                  validate=views_there.append,
                                  chunks=_roster_chunks(generated, 997))
    try:
        _assert_counts_only(there.linkage, here.linkage, held)
        assert isinstance(there.could_pair, WorkerChunks)
        assert there.could_pair.rows == here.could_pair.rows > 0
        assert (there.chunks, there.rows_usable, there.usable_per_file) == (
            here.chunks, here.rows_usable, here.usable_per_file)
        pd.testing.assert_frame_equal(pd.concat(views_there), pd.concat(views_here))
        pd.testing.assert_frame_equal(there.rejects.quarantine.frame(),
                                      here.rejects.quarantine.frame())
        # the driver merged the sample's hashes only; here, the records themselves
        assert list(there.linkage.sample.columns) == [SAMPLE_HASH]
        assert len(here.linkage.sample.columns) > 1
        assert len(there.linkage.sample) == len(here.linkage.sample) == min(
            sample_records or len(here.linkage.sample), len(here.linkage.sample))
        assert there.could_pair.samples
        assert there.chunks > REDUCE_FAN_IN  # the scored chunks are combined in two levels
        assert sample_records is None or here.linkage.records > sample_records
        links_here, model_here, stats_here = link_roster(civil, here)
        links_there, model_there, stats_there = link_roster_on_dask(executor.client, civil,
                                                                    there)
        pd.testing.assert_frame_equal(links_there, links_here)
        assert model_there == model_here and stats_there == stats_here
        assert there.linkage.model.training["right_sample_records"] == (
            sample_records or here.linkage.records)
        assert there.linked_per_file == here.linked_per_file
        assert not there.could_pair.samples  # released once the model was trained
        civil_sized = sent.largest_frame() >= len(civil)
        assert civil_sized != held  # sent from here only when it is here
        assert bool({"LeftIndex", "ScoreContext"} & sent.kinds()) != held
        if held:  # once the scoring context is made, the features and the index are freed
            _assert_freed(executor.client, left)
    finally:
        here.close()
        there.close()


def _civil_features_as(client, features: pd.DataFrame, civil_as: str):
    """The civil features here, or on the workers in one row chunk or in several."""
    return {"here": lambda: features,
            "one-chunk": lambda: _held_in_chunks(client, features, 1),
            "chunks": lambda: _held_in_chunks(client, features)}[civil_as]()


def _assert_counts_only(there, here, held: bool) -> None:
    """With the civil side held on the workers, the driver's linkage keeps counts per key
    and value (`LeftCounts`), the whole index's, and nothing per civil person; its chunks'
    codes stay beside them (noted for `_assert_freed`)."""
    from pipeline.link.streamed import LeftCounts, LeftIndex

    if not held:
        assert isinstance(there.index, LeftIndex)
        return
    assert isinstance(there.index, LeftCounts) and not hasattr(there.index, "rule_codes")
    expected = here.index.counts()
    for mine, theirs in zip([*there.index.rule_records, *there.index.tf_records.values()],
                            [*expected.rule_records, *expected.tf_records.values()],
                            strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert sum(map(len, there.index.rule_records)) < len(there.left) * len(
        there.index.rule_records)
    assert len(there.left.codes) == len(there.left.chunks()[0]) > 0
    there.left._code_keys = [future.key for future in there.left.codes]


def _assert_freed(client, left) -> None:
    """The civil features (a `RemoteFrame`), their index and their chunks' codes are freed
    on the workers (which drop released data a moment later)."""
    assert not left.parts and not left.lengths and not left.codes
    keys = {left.index.key} if left.index is not None else set()
    keys |= set(getattr(left, "_part_keys", ())) | set(getattr(left, "_code_keys", ()))
    deadline = time.monotonic() + 20
    while _held_keys(client, keys) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert keys and not _held_keys(client, keys)


def _held_keys(client, keys: set) -> set:
    """Which of `keys` some worker holds data for."""
    def held(dask_worker) -> list:
        return [key for key in keys if key in dask_worker.data]

    return {key for found in client.run(held).values() for key in found}


@pytest.mark.parametrize("civil_as", ["here", "one-chunk", "chunks"],
                         ids=["civil-here", "civil-in-one-chunk", "civil-in-chunks"])
def test_the_partitioned_join_on_the_workers_links_exactly_as_here(executor, generated,
                                                                   normalised, civil_as,
                                                                   monkeypatch) -> None:
    """Both passes partitioned: the civil side's keys and its comparison inputs cut by
    blocking key, each part on one worker, each chunk's pieces counted and scored there
    (`on_dask.KeyParts`, `partitioned_on_dask`): the same members kept between the passes,
    the same counts, member links, model and statistics as the local engine's passes; no
    civil index is sent to the workers; while the pieces are scored, every part is on one
    worker only (no worker holds the whole civil side); afterwards nothing is left. With
    the civil side's features held on the workers, its key parts and left parts are made
    there and moved to their workers: none is sent from here; held in row chunks, each left
    part is joined from the chunks' pieces on its worker, and the features never are."""
    from distributed import wait

    import pipeline.roster.partitioned_on_dask as on_dask_partitioned
    from pipeline.roster.first_pass import stream_roster
    from pipeline.roster.on_dask import WorkerChunks, stream_roster_on_dask
    from pipeline.roster.second_pass import link_roster

    client = executor.client
    held: dict[str, list[str]] = {}
    reduce = on_dask_partitioned.decided_on_workers

    def parts_held(dask_worker) -> list[str]:
        return sorted(str(key) for key, value in dask_worker.data.items()
                      if type(value).__name__ == "LeftPart")

    def spying(client_, spec, scored, *args):  # once every piece is scored: who holds what
        with client_.as_current():
            wait(scored)
        held.update(client_.run(parts_held))
        return reduce(client_, spec, scored, *args)

    monkeypatch.setattr(on_dask_partitioned, "decided_on_workers", spying)
    civil = normalised[Source.CIVIL].frame
    civil_f = person_features(civil)
    spec = load_spec("civil_members")
    here = stream_roster([], civil_f, spec, REFERENCE_DATE, chunks=_roster_chunks(generated,
                                                                                  997))
    contexts: list = []
    scatter = client.scatter

    def watched_scatter(data, *args, **kwargs):  # what the first pass sends every worker
        if type(data).__name__ == "FirstPassContext":
            contexts.append(data)
        return scatter(data, *args, **kwargs)

    monkeypatch.setattr(client, "scatter", watched_scatter)
    sent = _Sent(client, monkeypatch)
    on_worker = civil_as != "here"
    left = _civil_features_as(client, civil_f, civil_as)
    there = stream_roster_on_dask(client, [], left, spec, REFERENCE_DATE,
                                  chunks=_roster_chunks(generated, 997), join="partitioned")
    try:
        assert isinstance(there.could_pair, WorkerChunks) and there.chunks > 4
        _assert_counts_only(there.linkage, here.linkage, on_worker)
        assert there.join.partitioned and [c.index for c in contexts] == [None]
        from flows.nightly import _describe  # the roster stage's log line: counts, the join

        assert _describe(there).endswith("; partitioned join (partitioned: as "
                                         "linking.dask_join asks)")
        assert there.could_pair.rows == here.could_pair.rows > 0
        for mine, theirs in zip(there.linkage.rule_counts, here.linkage.rule_counts,
                                strict=True):
            np.testing.assert_array_equal(mine, theirs)
        for column, counts in here.linkage.tf_counts.items():
            np.testing.assert_array_equal(there.linkage.tf_counts[column], counts)
        links_here, model_here, stats_here = link_roster(civil, here)
        links_there, model_there, stats_there, choice = on_dask_partitioned.link_roster_dask(
            client, civil, there)
        assert choice.join == "partitioned" and choice.partitions == 2
        assert 0 < choice.scored_records <= choice.partitioned_records
        pd.testing.assert_frame_equal(links_there, links_here)
        assert model_there == model_here and stats_there == stats_here
        assert len(links_here) > 100
        assert there.linked_per_file == here.linked_per_file
        parts = [key for keys in held.values() for key in keys]
        assert len(held) == 2 and all(held.values())  # both workers hold parts
        assert len(parts) == len(set(parts)) >= 8  # 4 rules × 2 partitions, each once
        deadline = time.monotonic() + 20  # released after the join (the workers drop
        while any(client.run(parts_held).values()) and time.monotonic() < deadline:
            time.sleep(0.2)  # released data a moment later)
        assert not any(client.run(parts_held).values())
        assert bool({"KeyPart", "LeftPart"} & sent.kinds()) != on_worker
        if on_worker:  # the left parts made, the features and the index are freed there
            _assert_freed(client, left)
    finally:
        here.close()
        there.close()


def test_a_night_with_the_partitioned_join_is_the_same_on_both_engines(
        night, executor, generated, tmp_path) -> None:
    """The partitioned join with a Parquet roster (its pieces read on the workers, then
    looked up in the civil side's key parts): the local night's outputs (its roster CSV)."""
    config = tmp_path / "partitioned.yaml"
    config.write_text("linking:\n  dask_join: partitioned\n", encoding="utf-8")
    folder = _parquet_roster(generated, tmp_path / "members")
    local = _run(night, generated, tmp_path / "local", "--engine", "local")
    dask = night("--union", str(generated / "union_roll.xlsx"),
                 "--civil", str(generated / "civil_exchange.csv"), "--members", str(folder),
                 "--out", str(tmp_path / "dask"), "--as-of", "2026-06-30", "--engine", "dask",
                 "--dask-address", executor.client.scheduler.address, "--config", str(config))
    assert local.returncode == 0 and dask.returncode == 0, dask.stderr
    for name in ("links.parquet", "member_links.parquet", "discrepancies.parquet"):
        expected = pd.read_parquet(tmp_path / "local" / name)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask" / name), expected)
    linking = dask.manifest["linking"]
    assert linking["roster_join"]["join"] == linking["roster_join"]["wanted"] == "partitioned"
    assert linking["roster_join"]["workers"] == 2
    assert linking["roster_join"]["scored_records"] > 0
    assert linking["roster_join"]["reason"] == "partitioned: as linking.dask_join asks"
    assert "roster_join" not in local.manifest["linking"]
    assert linking["blocking"] == local.manifest["linking"]["blocking"]


def _parquet_roster(generated: Path, folder: Path) -> Path:
    """The generated roster as a folder of three Parquet files of several row groups (the
    columns as exported: text, the file's own headers)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.read_csv(generated / "members.csv", dtype=str, keep_default_na=False)
    folder.mkdir(parents=True)
    bounds = np.linspace(0, len(frame), 4).astype(int)
    for k in range(3):
        part = frame.iloc[bounds[k]:bounds[k + 1]]
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False),
                       folder / f"part-{k}.parquet", row_group_size=301)
    return folder


def test_a_parquet_roster_is_read_on_the_workers(executor, generated, normalised, tmp_path,
                                                 monkeypatch) -> None:
    """Every roster input Parquet: the workers read their chunks (`pieces.read_piece`), the
    driver reads only the header's records and the footers, and the first pass, its
    accounting and the member links are those of the local engine reading the same folder."""
    import pipeline.roster.on_dask as on_dask
    from pipeline.ingest.stream_sources import ParquetSource
    from pipeline.roster.first_pass import stream_roster
    from pipeline.roster.second_pass import link_roster

    folder = _parquet_roster(generated, tmp_path / "members")
    civil = normalised[Source.CIVIL].frame
    civil_f = person_features(civil)
    spec = load_spec("civil_members")
    views_here: list[pd.DataFrame] = []
    views_there: list[pd.DataFrame] = []
    here = stream_roster([folder], civil_f, spec, REFERENCE_DATE, chunk_rows=997,
                         validate=views_here.append)

    def here_only(*_args, **_kwargs):
        raise AssertionError("the driver read roster rows")

    monkeypatch.setattr(ParquetSource, "blocks", here_only)
    monkeypatch.setattr(on_dask, "sent_from_here", here_only)
    there = on_dask.stream_roster_on_dask(executor.client, [folder], civil_f, spec,
                                          REFERENCE_DATE, chunk_rows=997,
                                          validate=views_there.append)
    try:
        assert there.chunks == here.chunks > 3
        assert (there.rows_usable, there.usable_per_file) == (here.rows_usable,
                                                              here.usable_per_file)
        assert there.files == here.files
        pd.testing.assert_frame_equal(pd.concat(views_there), pd.concat(views_here))
        pd.testing.assert_frame_equal(there.rejects.quarantine.frame(),
                                      here.rejects.quarantine.frame())
        links_here, model_here, stats_here = link_roster(civil, here)
        links_there, model_there, stats_there = on_dask.link_roster_on_dask(
            executor.client, civil, there)
        assert len(links_here) > 100
        pd.testing.assert_frame_equal(links_there, links_here)
        assert model_there == model_here and stats_there == stats_here
    finally:
        here.close()
        there.close()


def test_a_night_with_a_parquet_roster_is_the_same_on_both_engines(night, executor, generated,
                                                                   tmp_path) -> None:
    folder = _parquet_roster(generated, tmp_path / "members")
    outs = {}
    for engine in ("local", "dask"):
        outs[engine] = tmp_path / engine
        extra = ["--dask-address", executor.client.scheduler.address] if engine == "dask" \
            else []
        result = night("--union", str(generated / "union_roll.xlsx"),
                       "--civil", str(generated / "civil_exchange.csv"),
                       "--members", str(folder), "--out", str(outs[engine]),
                       "--as-of", "2026-06-30", "--engine", engine, *extra)
        assert result.returncode == 0, result.stderr
    for name in ("links.parquet", "member_links.parquet", "discrepancies.parquet",
                 "quarantine.parquet", "field_issues.parquet"):
        expected = pd.read_parquet(outs["local"] / name)
        pd.testing.assert_frame_equal(pd.read_parquet(outs["dask"] / name), expected)
    manifests = {engine: json.loads((out / "manifest.json").read_text("utf-8"))
                 for engine, out in outs.items()}
    assert manifests["dask"]["accounting"] == manifests["local"]["accounting"]
    # the roster suite checked on the workers: the same merged outcome as checked here
    assert manifests["dask"]["validation"] == manifests["local"]["validation"]
    assert manifests["local"]["validation"]["suites"]["roster"]["rows"] > 1000
    assert len(pd.read_parquet(outs["local"] / "member_links.parquet")) > 100


def test_the_roster_suite_checked_on_the_workers_is_the_whole_frames(executor) -> None:
    """Each chunk's view checked on a worker (`chunk_check.check_chunk`: GX in the worker's
    own context, the keyed hashes, the counts), merged here with `add_checked`: the same
    outcome, stored result (every count, failing value, duplicate across chunks), sentences
    and summary as the suite run on the whole frame."""
    from pipeline.validate.chunk_check import check_chunk
    from pipeline.validate.chunked import ChunkedSuite
    from tests.test_validate_chunked import (
        SAMPLE,
        _assert_same,
        _plant,
        _run,
        _stored,
        _view,
        _whole,
    )

    view, labels = _view(Source.MEMBERS, SAMPLE / "members.csv", _plant, rows=400)
    run = _run()
    try:
        suite = ChunkedSuite(run, "roster", labels)
        checks = executor.client.scatter(suite.checks, broadcast=True, hash=False)
        futures = [executor.client.submit(check_chunk, view.iloc[start:start + 37], checks,
                                          pure=False) for start in range(0, len(view), 37)]
        for future in futures:
            suite.add_checked(future.result())
        outcome = suite.finish()
        chunked = {"outcome": outcome, "stored": _stored(run), "sentences": run.sentences,
                   "summary": run.summary()["suites"]}
    finally:
        run.close()
    whole = _whole(view, labels)
    assert whole["outcome"].failed  # the planted faults fail checks
    _assert_same(chunked, whole)


@pytest.mark.parametrize("rows", [1, 3, 10_000])
def test_a_frame_scattered_in_row_chunks_is_the_frame_on_the_worker(executor, rows) -> None:
    from pipeline.link.distributed import scatter_frame

    frame = pd.DataFrame({"name": ["甲", None, "乙", "丙", ""], "n": [1, 2, 3, 4, 5]})
    for given in (frame, frame.set_index(pd.Index([9, 7, 5, 3, 1])), frame.iloc[:0]):
        future = scatter_frame(executor.client, given, rows)
        pd.testing.assert_frame_equal(future.result(), given)
        assert future.result().index.__class__ is given.index.__class__
        future.release()


def test_only_the_nannys_kill_at_close_is_left_out_of_the_log() -> None:
    """The nanny's "still alive …, killing" while the local cluster closes is dropped (a
    worker slow to exit is killed, as intended); any other nanny record is kept, and the
    filter is gone once the cluster is closed."""
    import logging

    from pipeline.link.distributed import _killed_at_close, open_dask_executor

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("distributed.nanny", logging.WARNING, __file__, 1, msg, None,
                                 None)

    assert not _killed_at_close(record("Worker process still alive after 4.0 seconds, killing"))
    assert _killed_at_close(record("Restarting worker"))
    with open_dask_executor(None, workers=1):
        assert _killed_at_close not in logging.getLogger("distributed.nanny").filters
    assert _killed_at_close not in logging.getLogger("distributed.nanny").filters
