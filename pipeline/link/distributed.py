"""The Dask engine: per-record features and candidate levels on a Dask cluster.

`DaskExecutor` implements `pipeline.link.executor.PairExecutor` with `dask.distributed`
directly and returns exactly what `LocalExecutor` returns. No partition needs the whole data:

- features: the frame is cut into row chunks, one task each, concatenated in order;
- candidates: for each blocking pass the driver computes every record's block code with the
  function the local engine uses (`BlockPass.codes`, i.e. `blocking.pass_codes`: -1 where the
  record cannot pair — key missing, block too big, no partner) and a stable hash of each
  block's key; records are split into P buckets by that hash, so every pair of the pass lies
  inside one bucket. One task per (pass, bucket) gets only the bucket's records: their global
  positions, their comparison inputs, and their block codes for this pass and every earlier
  pass. It pairs the records of each block (`blocking.block_pairs`, as the local engine),
  drops the pairs an earlier pass already generates (same code there), computes level codes
  for the rest (`compare.Comparer`) and returns them with global positions and its part of
  the pass's statistics. Each candidate pair is therefore made and compared once, by the first
  pass that generates it, as `candidate_pairs` counts it; the driver sums the parts
  (`blocking.merge_stats`).
- training and inference (`train_and_predict`, what `Linker.run` asks for): one task on a
  worker takes the buckets' results (fetched from the workers that made them), joins them in
  the local engine's order, and runs `Linker.train_and_predict` on them, the function the
  local engine runs (u from random pairs, the EM sessions' blocks, the prior, then the
  scores). Only the pairs worth keeping, the model and the statistics come back: the
  candidates' levels never reach the driver. (`candidates_with_levels` still gathers them,
  for callers that want them here.)
- a right side held in chunks on the workers (`link.remote.RemoteFrame` with `parts`: the
  night's civil features): the roll's features are sent to every worker and each chunk
  makes, compares and scores its own pairs (`link.over_chunks`); the model is trained in
  one task on a worker from the candidates' levels, as the local engine trains. The
  driver never holds a civil record, and this linkage holds the civil side whole on no
  worker (nor does the roster linkage: `roster.remote_left`). A `RemoteFrame` is only ever
  held in chunks (since 2026-12-02: the form joined on one worker, and the linkage that ran
  beside it, served no night and were removed).

Block codes are integers (equal codes ⇔ equal keys), so no string keys travel and no hash
collision can add or lose a pair. What stays on the driver, and what that costs, is in
docs/scale.md.

Privacy: task arguments are scattered futures (a failed task's log line shows keys, not
records); exceptions inside tasks are replaced by their type and place; the scratch space of a
local cluster is a private temporary folder removed on exit.
"""

from __future__ import annotations

import contextlib
import logging
import math
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.errors import ClusterError, InputError
from pipeline.link.blocking import PassCodes, PassStats, block_pairs, merge_stats
from pipeline.link.compare import Comparer, Inputs
from pipeline.link.executor import Candidates, Scored
from pipeline.link.fellegi_sunter import Model
from pipeline.link.remote import RemoteFrame, is_remote
from pipeline.link.spec import ModelSpec

if TYPE_CHECKING:
    from distributed import Client

    from pipeline.link.engine import Linker
    from pipeline.link.training import Labels

CONNECT_TIMEOUT_S = 10
HANDSHAKE_SLACK_S = 2  # the probe's deadline beyond CONNECT_TIMEOUT_S (`_handshake_problem`)
ROWS_PER_CHUNK = 100_000  # features: rows per task
ROWS_PER_PARTITION = 100_000  # candidates: records (both sides) per bucket, at least


class PartitionTaskError(RuntimeError):
    """A task failed on a worker; carries the exception's type and place, never its text
    (which could quote a record)."""


def _sanitised(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except Exception as error:
        frames = traceback.extract_tb(error.__traceback__)
        where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
        raise PartitionTaskError(f"{type(error).__name__}{where}") from None


# -- features --------------------------------------------------------------------------------
def _features_task(build: Callable[[pd.DataFrame], pd.DataFrame], chunk: pd.DataFrame
                   ) -> pd.DataFrame:
    return _sanitised(build, chunk)


# -- candidates ------------------------------------------------------------------------------
@dataclass
class _Side:
    """One side's records of one bucket: global positions (int64, ascending), block codes
    (int32 or int64, records × passes up to the bucket's pass; -1 = cannot pair in that pass)
    and the comparison inputs (object arrays)."""

    positions: np.ndarray
    codes: np.ndarray
    inputs: Inputs


@dataclass
class _Bucket:
    pass_index: int
    pass_name: str
    bucket: int
    left: _Side
    right: _Side | None  # None: dedupe, pairs within `left`


@dataclass
class _BucketResult:
    li: np.ndarray  # int64 global left positions of the new pairs
    ri: np.ndarray  # int64 global right positions
    levels: np.ndarray  # int8, new pairs × comparisons
    stats: PassStats  # this bucket's part of its pass's statistics (no skipped blocks)
    metrics: dict[str, float | int]  # counts, seconds, peak memory: no records


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Not `getrusage().ru_maxrss`: that survives exec, so
    a spawned worker reports the peak of the process it was forked from (the driver)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import psutil  # a dependency of distributed; current, not peak, memory

    return psutil.Process().memory_info().rss / 2**20


def _bucket_pairs(spec: ModelSpec, bucket: _Bucket) -> _BucketResult:
    started = time.perf_counter()
    left = bucket.left
    right = left if bucket.right is None else bucket.right
    p = bucket.pass_index
    # Renumbered within the bucket (equal ⇔ equal), so pairing holds arrays of the bucket's
    # blocks, not of the whole pass's code range. Positions ascend within a bucket, so for
    # dedupe local i < j is global i < j.
    if bucket.right is None:
        codes_left = codes_right = pd.factorize(left.codes[:, p])[0]
    else:
        codes = pd.factorize(np.concatenate([left.codes[:, p], right.codes[:, p]]))[0]
        codes_left, codes_right = codes[:len(left.positions)], codes[len(left.positions):]
    pairs = block_pairs(codes_left, codes_right, bucket.right is None)
    a, b = pairs[:, 0], pairs[:, 1]
    earlier = np.zeros(len(a), dtype=bool)
    for q in range(p):
        code = left.codes[a, q]
        earlier |= (code >= 0) & (code == right.codes[b, q])
    a_new, b_new = a[~earlier], b[~earlier]
    # One thread per task: the cluster's workers are the parallelism here.
    levels = Comparer.from_spec(spec, threads=1).levels(left.inputs, right.inputs, a_new, b_new)
    metrics = {"bucket": bucket.bucket, "left_rows": len(left.positions),
               "right_rows": 0 if bucket.right is None else len(right.positions),
               "seconds": time.perf_counter() - started, "peak_rss_mb": _peak_rss_mb()}
    return _BucketResult(left.positions[a_new], right.positions[b_new], levels,
                         PassStats(bucket.pass_name, len(a), len(a_new)), metrics)


def _bucket_task(spec: ModelSpec, bucket: _Bucket) -> _BucketResult:
    return _sanitised(_bucket_pairs, spec, bucket)


def _joined(n_comparisons: int, results: Sequence[_BucketResult], stats: list[PassStats]
            ) -> Candidates:
    """The buckets' new pairs as one `Candidates`, sorted by (left, right) as the local
    engine's."""
    li = np.concatenate([np.zeros(0, dtype=np.int64), *(r.li for r in results)]).astype(np.int64)
    ri = np.concatenate([np.zeros(0, dtype=np.int64), *(r.ri for r in results)]).astype(np.int64)
    levels = np.concatenate([np.zeros((0, n_comparisons), dtype=np.int8),
                             *(r.levels for r in results)])
    order = np.lexsort((ri, li))
    return Candidates(li[order], ri[order], levels[order], stats)


def _trained_and_scored(linker: Linker, left: pd.DataFrame, right: pd.DataFrame | None,
                        lf: Inputs, rf: Inputs, model: Model | None, labels: Labels | None,
                        results: Sequence[_BucketResult]
                        ) -> tuple[Scored, list[PassStats], list[dict]]:
    """The buckets' results joined in the local engine's order, trained on (unless `model`
    is given) and scored (`Linker.train_and_predict`), with each bucket's statistics and
    metrics: the part of a Dask linkage that runs in one task."""
    candidates = _joined(len(linker.comparisons), results, [])
    parts, metrics = [r.stats for r in results], [r.metrics for r in results]
    del results
    return linker.train_and_predict(left, right, lf, rf, candidates, model, labels), parts, \
        metrics


def _train_and_predict_on_worker(spec: ModelSpec, threads: int, left: pd.DataFrame,
                                 right: pd.DataFrame | None, model: Model | None,
                                 labels: Labels | None, *results: _BucketResult
                                 ) -> tuple[Scored, list[PassStats], list[dict]]:
    from pipeline.link.engine import Linker

    linker = Linker(spec, threads=threads)
    lf, rf = linker.side_inputs(left, right)
    return _trained_and_scored(linker, left, right, lf, rf, model, labels, results)


def _train_and_predict_task(*args: Any) -> tuple[Scored, list[PassStats], list[dict]]:
    return _sanitised(_train_and_predict_on_worker, *args)


def _places(submitted: list[tuple[int, Any]]) -> list[tuple[int, str]]:
    """(pass, task key) of each bucket task submitted: what `partition_metrics` names."""
    return [(p, future.key) for p, future in submitted]


def _rows_joined(*parts: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(parts)


def scatter_frame(client: Client, frame: pd.DataFrame, rows: int = ROWS_PER_CHUNK) -> Any:
    """`frame` on a worker (a future of it, equal to it: values, dtypes, index), sent in
    chunks of `rows` rows that the worker joins (`pd.concat`). Serialising a frame of text
    columns at once holds a copy of it in this process meanwhile: 0.36 GiB for the linking
    features of 767,712 civil persons (measured, 2026-11-30); in chunks, one chunk's."""
    if len(frame) <= rows:
        return client.scatter(frame, hash=False)
    parts = [client.scatter(frame.iloc[start:start + rows], hash=False)
             for start in range(0, len(frame), rows)]
    joined = client.submit(_rows_joined, *parts, pure=False)
    for part in parts:  # the scheduler keeps them until the join has run
        part.release()
    return joined


def _block_hashes(left: pd.DataFrame, right: pd.DataFrame | None, columns: Sequence[str],
                  codes: PassCodes) -> np.ndarray:
    """A stable hash (uint64) of each block's key values, indexed by block code: SipHash
    with pandas' fixed key over the values themselves, so a key goes to the same bucket on
    every machine and every night, whatever its code. Hashes each distinct key once."""
    n_left = len(codes.left)
    combined = codes.left if codes.dedupe else np.concatenate([codes.left, codes.right])
    present = np.flatnonzero(combined >= 0)[::-1]
    first = np.full(int(combined.max(initial=-1)) + 1, -1, dtype=np.int64)
    first[combined[present]] = present  # written last to first: each block's first record
    blocks = np.flatnonzero(first >= 0)
    representative = first[blocks]
    on_left = representative < n_left
    values = {}
    for column in columns:
        column_values = np.empty(len(representative), dtype=object)
        column_values[on_left] = left[column].to_numpy(dtype=object)[representative[on_left]]
        if right is not None:
            column_values[~on_left] = right[column].to_numpy(dtype=object)[
                representative[~on_left] - n_left]
        values[column] = column_values
    hashes = np.zeros(len(first), dtype=np.uint64)
    hashes[blocks] = pd.util.hash_pandas_object(pd.DataFrame(values), index=False).to_numpy()
    return hashes


def _narrow(codes: np.ndarray) -> np.ndarray:
    """Block codes as int32 where they fit (what is sent to the workers)."""
    fits = int(codes.max(initial=-1)) < 2**31 - 1
    return codes.astype(np.int32) if fits else codes


def _split(codes: np.ndarray, hashes: np.ndarray, partitions: int) -> list[np.ndarray]:
    """Positions of the records that can pair, per bucket (ascending within a bucket)."""
    rows = np.flatnonzero(codes >= 0)
    bucket = (hashes[codes[rows]] % np.uint64(partitions)).astype(np.int64)
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(partitions + 1))
    return [rows[order[bounds[k]:bounds[k + 1]]] for k in range(partitions)]


class DaskExecutor:
    """Features and candidate levels on a Dask cluster, partitioned by blocking keys.

    `partitions` fixes the number of buckets per pass; by default it is at least twice the
    number of workers and large enough for ~ROWS_PER_PARTITION records per bucket.
    After a run, `partition_metrics` has one row of counts and costs per (pass, bucket) task."""

    def __init__(self, client: Client, partitions: int | None = None) -> None:
        self.client = client
        self.partitions = partitions
        self.partition_metrics: list[dict[str, Any]] = []

    def _workers(self) -> int:
        return workers_of(self.client)

    def features(self, build: Callable[[pd.DataFrame], pd.DataFrame], frame: pd.DataFrame
                 ) -> pd.DataFrame:
        if len(frame) == 0:
            return build(frame)
        count = min(len(frame), max(2 * self._workers(), math.ceil(len(frame) / ROWS_PER_CHUNK)))
        bounds = np.linspace(0, len(frame), count + 1).astype(int)
        chunks = [frame.iloc[bounds[k]:bounds[k + 1]] for k in range(count)]
        scattered = self.client.scatter(chunks, hash=False)
        futures = [self.client.submit(_features_task, build, chunk, pure=False)
                   for chunk in scattered]
        out = pd.concat(self.client.gather(futures))
        if out.index.equals(frame.index):
            out.index = frame.index  # the frame's own index type (a RangeIndex stays one)
        return out

    def candidates_with_levels(self, linker: Linker, left: pd.DataFrame,
                               right: pd.DataFrame | None, lf: Inputs, rf: Inputs
                               ) -> Candidates:
        submitted, stats_parts = self._submit_buckets(linker, left, right, lf, rf)
        results = self.client.gather([future for _, future in submitted])
        self._record_metrics(linker, _places(submitted), [r.metrics for r in results],
                             [r.stats for r in results])
        stats = merge_stats([block_pass.name for block_pass in linker.passes],
                            stats_parts + [r.stats for r in results])
        return _joined(len(linker.comparisons), results, stats)

    def train_and_predict(self, linker: Linker, left: pd.DataFrame,
                          right: pd.DataFrame | RemoteFrame | None,
                          model: Model | None = None, labels: Labels | None = None) -> Scored:
        """The candidates computed on the workers as `candidates_with_levels` does, then
        joined, trained on (unless `model` is given) and scored by one task on a worker
        (`Linker.train_and_predict`, the local engine's function): the candidates' levels,
        the u sample and the EM sessions' pairs never reach this process, only the pairs
        worth keeping, the model and the statistics do. A right side held on the workers
        (`RemoteFrame`, a link's only): in its chunks, where they are (`over_chunks`)."""
        client = self.client
        if is_remote(right):
            from pipeline.link.over_chunks import train_and_predict_over_chunks

            scored, self.partition_metrics = train_and_predict_over_chunks(
                client, linker, left, right, model, labels)
            return scored
        lf, rf = linker.side_inputs(left, right)
        submitted, stats_parts = self._submit_buckets(linker, left, right, lf, rf)
        del lf, rf
        sides = [None if side is None else scatter_frame(client, side)
                 for side in (left, right)]
        try:
            future = client.submit(_train_and_predict_task, linker.spec, linker.threads,
                                   *sides, model, labels, *[f for _, f in submitted],
                                   pure=False)
            scored, parts, metrics = future.result()
        finally:
            for scattered in sides:
                if scattered is not None:
                    scattered.release()
        return self._finished(linker, scored, parts, metrics, _places(submitted), stats_parts)

    def _finished(self, linker: Linker, scored: Scored, parts: list[PassStats],
                  metrics: list[dict], places: list[tuple[int, str]],
                  stats_parts: list[PassStats]) -> Scored:
        """`scored` with every pass's statistics (the buckets' `parts` and the skipped
        blocks' `stats_parts`), the buckets' metrics recorded."""
        self._record_metrics(linker, places, metrics, parts)
        stats = merge_stats([block_pass.name for block_pass in linker.passes],
                            stats_parts + parts)
        return scored._replace(stats=stats)

    def _submit_buckets(self, linker: Linker, left: pd.DataFrame, right: pd.DataFrame | None,
                        lf: Inputs, rf: Inputs) -> tuple[list[tuple[int, Any]], list[PassStats]]:
        """One task per (pass, bucket) submitted: their futures (with their pass), and each
        pass's skipped blocks (the driver's part of the statistics)."""
        client = self.client
        workers = self._workers()
        spec = client.scatter(linker.spec, broadcast=False, hash=False)
        column_codes = linker.column_codes(left, right)  # shared with the EM sessions
        codes: list[tuple[np.ndarray, np.ndarray | None]] = []  # per pass, sent to tasks
        stats_parts: list[PassStats] = []
        submitted: list[tuple[int, Any]] = []
        for p, block_pass in enumerate(linker.passes):
            pass_codes = block_pass.codes(left, right, column_codes)  # as LocalExecutor
            stats_parts.append(PassStats(block_pass.name,
                                         skipped_blocks=pass_codes.skipped_blocks))
            hashes = _block_hashes(left, right, block_pass.columns, pass_codes)
            left_codes = _narrow(pass_codes.left)
            right_codes = None if right is None else _narrow(pass_codes.right)
            codes.append((left_codes, right_codes))
            records = int((left_codes >= 0).sum()) + (
                0 if right_codes is None else int((right_codes >= 0).sum()))
            partitions = self.partitions or max(2 * workers,
                                                math.ceil(records / ROWS_PER_PARTITION))
            left_rows = _split(left_codes, hashes, partitions)
            right_rows = None if right_codes is None else _split(right_codes, hashes,
                                                                 partitions)
            buckets = []
            for k in range(partitions):
                left_side = self._side(left_rows[k], [c for c, _ in codes], lf)
                if right_rows is None:
                    if len(left_side.positions) >= 2:
                        buckets.append(_Bucket(p, block_pass.name, k, left_side, None))
                    continue
                right_side = self._side(right_rows[k], [c for _, c in codes], rf)
                if len(left_side.positions) and len(right_side.positions):
                    buckets.append(_Bucket(p, block_pass.name, k, left_side, right_side))
            for future in client.scatter(buckets, hash=False):
                submitted.append((p, client.submit(_bucket_task, spec, future, pure=False)))
            del buckets
        return submitted, stats_parts

    def _record_metrics(self, linker: Linker, places: list[tuple[int, str]],
                        metrics: list[dict], stats: list[PassStats]) -> None:
        """`partition_metrics`: one row per (pass, bucket) task (`places`: its pass and
        key), no records."""
        self.partition_metrics = [
            {"spec": linker.spec.name, "pass": linker.passes[p].name, "key": key,
             "pairs": part.pairs, "new_pairs": part.new_pairs, **row}
            for (p, key), row, part in zip(places, metrics, stats, strict=True)]

    @staticmethod
    def _side(positions: np.ndarray, codes: list[np.ndarray], inputs: Inputs) -> _Side:
        """A bucket's records on one side: `codes` has one array per pass so far."""
        positions = positions.astype(np.int64)
        stacked = np.column_stack([column[positions] for column in codes])
        return _Side(positions, stacked, {k: v[positions] for k, v in inputs.items()})


# -- clusters --------------------------------------------------------------------------------
def _quiet_logs() -> None:
    """Distributed's INFO lines (workers joining, ports) would bury the night's own log.

    Called after `distributed` is imported: its import sets its loggers' levels from config."""
    import distributed  # noqa: F401

    for name in ("distributed", "distributed.client", "distributed.scheduler",
                 "distributed.worker", "distributed.nanny", "distributed.core"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from pipeline.redaction import install_redaction

    install_redaction()  # distributed adds its own handler on import: mask IDs there too


def address_problem(address: str) -> str | None:
    """What is wrong with the form of the scheduler address `address`, or None when it has the
    form of one: `scheme://host:port` (scheme tcp when left out) whose scheme is one of Dask's
    network transports (tcp, tls, ws, wss: those whose backend parses a host and a port), with
    a host and a port from 1 to 65535. Read by distributed's own parsers (`parse_address`, the
    backend's `get_address_host_port`), never resolved or connected to: whether the scheduler
    is there is `_connect`'s question. Not among them: inproc:// (a scheduler inside one
    Python process) and ucx:// (removed from distributed)."""
    from distributed.comm.addressing import parse_address
    from distributed.comm.registry import get_backend

    scheme, location = parse_address(address)
    try:
        backend = get_backend(scheme)
    except ValueError:
        return f"{scheme}:// is not one of Dask's schemes"
    try:
        host, port = backend.get_address_host_port(location)
    except NotImplementedError:
        return f"{scheme}:// addresses do not name a host and port this machine can reach"
    except ValueError:
        return "it is not host:port"
    if not host:
        return "it has no host"
    if not 1 <= port <= 65535:
        return f"its port {port} is not between 1 and 65535"
    return None


def check_address(address: str) -> None:
    """`InputError` (exit 2, one paragraph) when `address` does not have the form of a Dask
    scheduler's address (`address_problem`); instant, no connection is made."""
    problem = address_problem(address)
    if problem:
        raise InputError(
            f"--dask-address {address!r} is not the address of a Dask scheduler ({problem}), "
            "so the stages that need it (the civil-affairs side's, the roster's and the "
            "linkage's) did not run and nothing was published.",
            "give the scheduler's address in the form tcp://host:8786 (as `dask scheduler` "
            "prints it), or leave --dask-address out to start a local cluster, or run with "
            "--engine local.")


def _close_half_made_client(error: BaseException) -> None:
    """Close the `Client` whose constructor raised `error` (found in the traceback's frames).

    distributed's `Client._start` closes the client itself when connecting raises `OSError`,
    not when it raises `ValueError` or `TypeError` (e.g. tls:// without TLS settings): that
    half-made client would be closed by its `__del__` at exit, when its event loop has
    stopped, which waits twice the timeout and prints "Exception ignored in Client.__del__
    ... TimeoutError". Closed now, while its loop still runs, it closes at once."""
    from distributed import Client

    tb = error.__traceback__
    while tb is not None:
        client = tb.tb_frame.f_locals.get("self")
        if isinstance(client, Client):
            with contextlib.suppress(Exception):
                client.close(timeout=CONNECT_TIMEOUT_S)
            return
        tb = tb.tb_next


def _handshake_problem(address: str, timeout: float) -> tuple[str, BaseException] | None:
    """Why no Dask scheduler answered at `address` within `timeout` seconds, with the error,
    or None when one did: `unreachable` (OSError: refused or no route, retried until the
    timeout), `silent` (a connection, then no Dask handshake), `refused_at_once` (ValueError
    or TypeError, before any traffic: e.g. tls:// without TLS settings), `not_dask` (an
    answer that is not Dask's).

    distributed's own `connect` (2026.8) waits for the peer's handshake with no deadline, so a
    `Client` pointed at a port where some other server listens (a web server, a database)
    hangs for ever, and a server that answers with its own bytes makes it read a frame length
    of exabytes (MemoryError). This probe runs that same `connect` with a deadline, in its own
    thread and event loop (the caller may be inside one), and closes what it opened."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect
    from distributed.security import Security

    async def handshake() -> None:
        # connect's own timeout covers reaching the port (then OSError); the deadline here,
        # a little later, the handshake that follows
        comm = await asyncio.wait_for(
            connect(address, timeout=timeout, **Security().get_connection_args("client")),
            timeout + HANDSHAKE_SLACK_S)
        await comm.close()

    with ThreadPoolExecutor(1, thread_name_prefix="bidui-dask-probe") as pool:
        try:
            pool.submit(asyncio.run, handshake()).result()
        except TimeoutError as error:  # (OSError's subclass: before it)
            return "silent", error
        except OSError as error:
            return "unreachable", error
        except (ValueError, TypeError) as error:
            return "refused_at_once", error
        except Exception as error:  # the peer's bytes were not Dask's (MemoryError too)
            return "not_dask", error
    return None


# Why no scheduler can be used (`_handshake_problem`'s kinds): what happened, what to check.
_NO_SCHEDULER = {
    "refused_at_once": ("cannot use the Dask scheduler address {address} ({error})",
                        "check the address (it looks like tcp://host:8786) and, for a tls:// "
                        "address, Dask's TLS settings (distributed.comm.tls in Dask's "
                        "configuration)"),
    "unreachable": ("cannot reach the Dask scheduler at {address} ({error_type} after up to "
                    "{timeout} s)",
                    "check that `dask scheduler` runs there and that this machine can reach "
                    "its port (the address looks like tcp://host:8786)"),
    "silent": ("no Dask scheduler answered at {address}: something accepted the connection "
               "but said nothing for {probe} s (another server on that port?)",
               "check the port (`dask scheduler` prints its address, tcp://host:8786 by "
               "default)"),
    "not_dask": ("no Dask scheduler answered at {address}: something answered, but not as a "
                 "Dask scheduler does (another server on that port?)",
                 "check the port (`dask scheduler` prints its address, tcp://host:8786 by "
                 "default)"),
}


def _no_scheduler(kind: str, address: str, error: BaseException) -> InputError:
    """The one-paragraph error when no scheduler can be used at `address` (`kind`: a key of
    `_NO_SCHEDULER`): what happened, so nothing ran; what to check, else the two ways round
    it. The error's own text only for `refused_at_once` (distributed's, no data)."""
    what, check = _NO_SCHEDULER[kind]
    what = what.format(address=address, timeout=CONNECT_TIMEOUT_S,
                       probe=CONNECT_TIMEOUT_S + HANDSHAKE_SLACK_S,
                       error_type=type(error).__name__,
                       error=f"{type(error).__name__}: {' '.join(str(error).split())}")
    return InputError(
        f"{what}, so the stages that need it (the civil-affairs side's, the roster's and the "
        "linkage's) did not run and nothing was published.",
        f"{check}, or run without --dask-address to use a local cluster, or with --engine "
        "local.")


def _connect(address: str) -> Client:
    """A client of the scheduler at `address` that has at least one worker. `InputError`
    (one paragraph, nothing left open) when the address is malformed (at once, before any
    client is made: `check_address`), when nothing or something other than a Dask scheduler
    answers there (`_handshake_problem`), when the scheduler cannot be reached in
    `CONNECT_TIMEOUT_S` seconds, or when it has no workers."""
    from distributed import Client

    check_address(address)
    problem = _handshake_problem(address, CONNECT_TIMEOUT_S)
    if problem is not None:
        kind, error = problem
        raise _no_scheduler(kind, address, error) from None
    try:  # a scheduler answered just now: the client connects at once
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except OSError as error:  # TimeoutError is an OSError
        raise _no_scheduler("unreachable", address, error) from None
    except (ValueError, TypeError) as error:  # refused at once, not after the timeout
        _close_half_made_client(error)
        raise _no_scheduler("refused_at_once", address, error) from None
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except (TimeoutError, OSError):
        client.close()
        raise InputError(
            f"the Dask scheduler at {address} has no workers, so the roster and link stages "
            "did not run and nothing was published.",
            f"start workers with `dask worker {address}` (bidui installed in their Python) "
            "and run again.") from None
    return client


def worker_addresses(client: Client) -> list[str]:
    """The cluster's workers' addresses now, sorted (where the roster's parts are placed:
    part i on worker i mod W): asked of the scheduler (`nthreads`), not read from the
    client's copy of its state (`scheduler_info`), which is refreshed every few seconds and
    can be empty for a client that connected as the workers came up."""
    return sorted(client.nthreads())


def workers_of(client: Client) -> int:
    """How many workers the cluster has now (`worker_addresses`); at least 1."""
    return max(len(worker_addresses(client)), 1)


def raised_by_distributed(error: BaseException) -> bool:
    """Whether `error` was raised inside Dask's `distributed` package (its innermost
    traceback frame is there): a connection to a worker or the scheduler that failed
    (`CommClosedError`, or the `OSError` "Timed out trying to connect" that a scatter to a
    worker that died a moment ago raises before the scheduler has noticed), as opposed to
    an `OSError` of bidui's own files, which stays what it is."""
    tb = error.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return module == "distributed" or module.startswith("distributed.")


@contextlib.contextmanager
def cluster_failures(stage: str) -> Iterator[None]:
    """The cluster's own failures during `stage` as a `ClusterError` (exit 2, one paragraph,
    nothing published): a worker lost with the data it held (its futures cancelled, a task
    that killed workers, a scatter to a worker that has just died), the connection to the
    scheduler closed: any `OSError` raised inside `distributed` (`raised_by_distributed`).
    An error inside a task (`PartitionTaskError`) or an `OSError` of bidui's own files is
    not one of them: that is bidui's, and stays what it is."""
    from distributed import KilledWorker
    from distributed.client import FutureCancelledError

    try:
        yield
    except (FutureCancelledError, KilledWorker, OSError) as error:
        if isinstance(error, OSError) and not raised_by_distributed(error):
            raise
        raise ClusterError(
            f"the Dask cluster failed during the {stage} stage ({type(error).__name__}: a "
            "worker was lost with the data it held, or the scheduler could no longer be "
            "reached), so nothing was published.",
            "look in the workers' and the scheduler's logs for why (a worker killed for "
            "using too much memory: give workers more with --memory-limit or lower "
            "linking.roster_chunk_rows), then run the night again; --engine local needs no "
            "cluster.") from None


@contextlib.contextmanager
def open_dask_executor(address: str | None, workers: int = 2,
                       partitions: int | None = None,
                       local_directory: Path | None = None) -> Iterator[DaskExecutor]:
    """A `DaskExecutor` on the scheduler at `address`, or on a local cluster of `workers`
    single-threaded processes on 127.0.0.1 (no dashboard) that is closed on exit; its
    workers spill task data into a private folder made in `local_directory` (the night's
    scratch folder; default the system's temporary folder).

    A malformed or unreachable address raises `InputError` (one paragraph, no traceback)."""
    _quiet_logs()
    if address:
        client = _connect(address)
        try:
            yield DaskExecutor(client, partitions)
        finally:
            client.close()
        return
    import dask
    from distributed import Client, LocalCluster

    # Workers spill task data to disk under memory pressure: keep it in a private folder,
    # and the scheduler's own work space (its lock files) there too, not in the system's
    # temporary folder.
    scratch = tempfile.mkdtemp(prefix="bidui-dask-", dir=local_directory)
    try:
        with dask.config.set({"temporary-directory": scratch}), \
                LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None,
                          # no dashboard; its health routes on a free loopback port, not 8787
                          scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                          silence_logs=logging.WARNING, local_directory=scratch) as cluster, \
                Client(cluster, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=CONNECT_TIMEOUT_S)
            try:
                yield DaskExecutor(client, partitions)
            finally:  # the night's work is over: the cluster closes next
                logging.getLogger("distributed.nanny").addFilter(_killed_at_close)
    finally:
        logging.getLogger("distributed.nanny").removeFilter(_killed_at_close)
        shutil.rmtree(scratch, ignore_errors=True)


def _killed_at_close(record: logging.LogRecord) -> bool:
    """False for the nanny's "Worker process still alive after 4.0 seconds, killing" while
    the night's own local cluster closes: a worker freeing millions of small objects takes
    longer to exit than the nanny waits (distributed's `Nanny.close`), and is then killed,
    as intended, with nothing of the night's left in it; the operator need not read it as a
    failure. Every other record passes."""
    return not str(record.msg).startswith("Worker process still alive")


class LazyDaskExecutor:
    """A `DaskExecutor` opened on first use (`client`, `features`, `candidates_with_levels`):
    the cluster is reached inside the first stage that needs it (the roster stage, else the
    link stage), so an unreachable scheduler fails that stage. `close()` closes it."""

    def __init__(self, address: str | None, workers: int = 2,
                 local_directory: Path | None = None) -> None:
        self.address, self.workers = address, workers
        self.local_directory = local_directory
        self._stack = contextlib.ExitStack()
        self._executor: DaskExecutor | None = None

    def executor(self) -> DaskExecutor:
        if self._executor is None:
            self._executor = self._stack.enter_context(
                open_dask_executor(self.address, self.workers,
                                   local_directory=self.local_directory))
        return self._executor

    @property
    def client(self) -> Client:
        return self.executor().client

    def features(self, build: Callable[[pd.DataFrame], pd.DataFrame], frame: pd.DataFrame
                 ) -> pd.DataFrame:
        return self.executor().features(build, frame)

    def candidates_with_levels(self, linker: Linker, left: pd.DataFrame,
                               right: pd.DataFrame | None, lf: Inputs, rf: Inputs
                               ) -> Candidates:
        return self.executor().candidates_with_levels(linker, left, right, lf, rf)

    def train_and_predict(self, linker: Linker, left: pd.DataFrame,
                          right: pd.DataFrame | RemoteFrame | None,
                          model: Model | None = None, labels: Labels | None = None) -> Scored:
        return self.executor().train_and_predict(linker, left, right, model, labels)

    def close(self) -> None:
        self._stack.close()
        self._executor = None
