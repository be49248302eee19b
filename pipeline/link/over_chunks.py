"""A linkage whose right side stays in chunks on the Dask workers, trained on the whole side:
the roll ↔ civil linkage of `--engine dask`.

The civil side's features are made chunk by chunk where each chunk was normalised
(`civil.on_dask.CivilChunks.normalise`, a `remote.RemoteFrame` with `parts`). The roll's
features are small: they are sent to every worker. Nothing reads the civil side whole:

1. **count** (`_observed`): each chunk counts its records per roll key of every blocking
   rule and per roll value of every term-frequency column (`streamed.observe_chunk`). The
   driver sums them: which blocks are usable (neither empty nor over `max_block_pairs`
   over the whole side, `streamed.usable_blocks`, as `blocking.pass_codes` decides) and the
   term frequencies of the roll's values among both sides (`streamed.tf_left`, as
   `inference.tf_records`).
2. **candidates** (`_candidates`): each chunk pairs its records with the roll's in the
   usable blocks of every rule, unions the rules (a pair counted by its first) and compares
   the pairs (`streamed.chunk_candidates`). They stay on the chunk's worker.
3. **train** (`fit_over_chunks`, unless a model is given), in one task on a worker
   (`_fit_on_a_worker`): the candidates' levels come there (int8; with their positions),
   in the order of the local engine's candidates (sorted by roll, then civil position),
   and `training.train` runs on them as `Linker.fit` does. What it asks of the records
   goes to the chunks (`ChunkedRight`): levels of any pairs (the u sample, the EM
   sessions' pairs that are not candidates, the labelled pairs: `compare`), a session
   rule's pairs (`block`, counted and paired as in 1–2) and the number of pairs agreeing
   on columns (`agreeing`, from the same counts).
4. **score** (`_scored`): each chunk scores its candidates with the model and the term
   frequencies and keeps the pairs worth keeping (`streamed.scored_pairs`); the workers
   reduce them in a tree to the pairs worth keeping over all chunks (`_best_of`,
   `streamed.best_pairs`: exact, since a pair among its roll record's best over all is
   among them in its chunk), and only those come here. The counts of step 1 are added up
   in a tree too (`_summed`).

The result is the local engine's, pair for pair, model and statistics
(tests/test_over_chunks.py, with chunks of a few rows). Every task goes through
`distributed._sanitised`: a record never reaches a log.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.link.blocking import PassStats, block_pairs, merge_stats
from pipeline.link.distributed import _peak_rss_mb, _sanitised
from pipeline.link.engine import Linker
from pipeline.link.executor import Scored
from pipeline.link.fellegi_sunter import Model
from pipeline.link.remote import RemoteFrame
from pipeline.link.spec import BlockingRule, ModelSpec
from pipeline.link.streamed import (
    ChunkCandidates,
    ChunkObservation,
    LeftIndex,
    TakingPart,
    best_pairs,
    chunk_candidates,
    in_usable,
    index_codes,
    key_index,
    observe_chunk,
    records_per_key,
    rule_keys,
    scored_pairs,
    tf_left,
    usable_blocks,
    usable_in_rule,
)
from pipeline.link.training import Labels, train

if TYPE_CHECKING:
    from distributed import Client, Future

FAN_IN = 4  # parts a task combines in a tree of counts or of kept pairs (`_tree`)


# -- worker tasks (pure functions of their arguments) -------------------------------------------

def _observed(spec: ModelSpec, index: LeftIndex, chunk: pd.DataFrame) -> ChunkObservation:
    """Step 1 on one chunk: its counts per roll key and value (no sample, no mask)."""
    def observe() -> ChunkObservation:
        seen = observe_chunk(index, Linker(spec, threads=1), chunk, 0)
        seen.could_pair = np.zeros(0, dtype=bool)  # not needed: the chunk stays there
        return seen

    return _sanitised(observe)


@dataclass
class _Found:
    """A chunk's candidates (kept on its worker) and what its task cost."""

    candidates: ChunkCandidates
    seconds: float
    peak_rss_mb: float


def _candidates(spec: ModelSpec, index: LeftIndex, usable: list[np.ndarray],
                left_inputs: dict[str, np.ndarray], chunk: pd.DataFrame) -> _Found:
    """Step 2 on one chunk."""
    def found() -> _Found:
        began = time.perf_counter()
        candidates = chunk_candidates(Linker(spec, threads=1), index, usable, left_inputs,
                                      chunk)
        return _Found(candidates, time.perf_counter() - began, _peak_rss_mb())

    return _sanitised(found)


def _summary(found: _Found) -> tuple[list[PassStats], float, float]:
    return found.candidates.stats, found.seconds, found.peak_rss_mb


def _for_training(found: _Found, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A chunk's candidates as the training reads them: roll positions (int32), civil
    positions over the whole side (int64) and levels (int8)."""
    candidates = found.candidates
    return (candidates.left.astype(np.int32), candidates.right.astype(np.int64) + start,
            candidates.levels)


def _compared(spec: ModelSpec, small_inputs: dict[str, np.ndarray], chunk: pd.DataFrame,
              pairs: tuple[np.ndarray, np.ndarray], chunk_left: bool = False) -> np.ndarray:
    """The levels of pairs (positions in the small side, positions within the chunk); with
    `chunk_left` the chunk's records are the pairs' left side."""
    def levels() -> np.ndarray:
        small, local = pairs
        part = TakingPart.chunk_left(chunk, small_inputs, local, small) if chunk_left else \
            TakingPart.of(small_inputs, chunk, small, local)
        return part.levels(Linker(spec, threads=1))

    return _sanitised(levels)


def _key_counts(index: pd.Index, columns: tuple[str, ...], chunk: pd.DataFrame
                ) -> np.ndarray:
    """The chunk's records per roll key of `columns` (int64, one per key of `index`)."""
    def counts() -> np.ndarray:
        codes = index_codes(index, rule_keys(chunk, columns))
        return records_per_key(codes, len(index))

    return _sanitised(counts)


def _key_pairs(index: pd.Index, left_codes: np.ndarray, usable: np.ndarray,
               columns: tuple[str, ...], chunk: pd.DataFrame, start: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of the roll with the chunk agreeing on `columns` in usable blocks: roll
    positions and civil positions over the whole side (int64, sorted by roll, then civil)."""
    def pairs() -> tuple[np.ndarray, np.ndarray]:
        codes = in_usable(index_codes(index, rule_keys(chunk, columns)), usable)
        found = block_pairs(left_codes, codes, dedupe=False)
        return found[:, 0], found[:, 1] + start

    return _sanitised(pairs)


def _summed(*seen: ChunkObservation) -> ChunkObservation:
    """Several chunks' counts added up (a step of the tree `_tree` makes; its inputs are
    left as they are)."""
    def summed() -> ChunkObservation:
        first = seen[0]
        return ChunkObservation(
            sum(one.records for one in seen),
            [sum(one.rule_counts[r] for one in seen) for r in range(len(first.rule_counts))],
            {c: sum(one.tf_counts[c] for one in seen) for c in first.tf_counts},
            {c: sum(one.tf_present[c] for one in seen) for c in first.tf_present},
            first.sample, first.could_pair)

    return _sanitised(summed)


def _best_of(spec: ModelSpec, *kept: pd.DataFrame) -> pd.DataFrame:
    """Several chunks' kept pairs reduced to those worth keeping over all of them
    (`streamed.best_pairs`; a step of the tree `_tree` makes)."""
    return _sanitised(lambda: best_pairs(spec, pd.concat(kept, ignore_index=True)))


def _tree(client: Client, combine: Any, parts: list[Future], *args: Any) -> Future:
    """`parts` combined on the workers in a tree, `FAN_IN` a task (`combine(*args, *some)`):
    the future of the one result. What comes to the driver is one part's size, not the
    sum of the chunks'."""
    level = list(parts)
    while len(level) > 1:
        level = [client.submit(combine, *args, *level[i:i + FAN_IN], pure=False)
                 for i in range(0, len(level), FAN_IN)]
    return level[0]


def _scored(spec: ModelSpec, model: Model, tf: list[np.ndarray | None],
            left_inputs: dict[str, np.ndarray], chunk: pd.DataFrame, found: _Found,
            start: int) -> pd.DataFrame:
    """Step 4 on one chunk: its candidates scored, those worth keeping in it."""
    def scored() -> pd.DataFrame:
        candidates = found.candidates
        positions = np.arange(start, start + len(chunk), dtype=np.int64)
        return scored_pairs(Linker(spec, threads=1), model, tf, left_inputs, chunk,
                            candidates.left, candidates.right, positions, candidates.levels)

    return _sanitised(scored)


# -- the driver's side ---------------------------------------------------------------------------

class ChunkedRight:
    """What training asks of the records (`training.train`'s `compare`, `block` and
    `agreeing`), answered by the right side's chunks on the workers with the left side's
    features (`left`, here) and inputs (`left_inputs`, a future on the workers).
    `ChunkedLeft` answers the same with the roles swapped."""

    chunk_left = False  # whether the chunked side is training's left side

    def __init__(self, client: Client, spec: ModelSpec, left: pd.DataFrame,
                 left_inputs: Future, right: RemoteFrame) -> None:
        self.client, self.spec, self.left = client, spec, left
        self.left_inputs, self.right = left_inputs, right
        self.n_comparisons = len(spec.comparisons)

    def compare(self, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
        """Levels (int8, pairs × comparisons) of the pairs (li[k], ri[k]), positions into
        the left side and the whole right side (int64, any order), compared on the chunk of
        each ri."""
        return self._levels(li, ri)

    def _levels(self, small: np.ndarray, chunked: np.ndarray) -> np.ndarray:
        """The levels of pairs given by their positions in the small side (here) and in
        the chunked side, compared on the chunk of each (in the pairs' order)."""
        small, chunked = np.asarray(small, dtype=np.int64), np.asarray(chunked, dtype=np.int64)
        out = np.zeros((len(small), self.n_comparisons), dtype=np.int8, order="F")
        if not len(small):
            return out
        parts, _ = self.right.chunks()
        starts = self.right.chunk_starts()
        chunk = np.searchsorted(starts, chunked, side="right") - 1
        chunks = np.unique(chunk)
        at = [np.flatnonzero(chunk == k) for k in chunks]
        # scattered, not put in the tasks' graph (the u sample: 1 M pairs, 16 MB)
        sent = self.client.scatter([(small[a], chunked[a] - starts[k]) for a, k in
                                    zip(at, chunks, strict=True)], hash=False)
        asked = [self.client.submit(_compared, self.spec, self.left_inputs, parts[k], pairs,
                                    self.chunk_left, pure=False)
                 for k, pairs in zip(chunks, sent, strict=True)]
        for rows, levels in zip(at, self.client.gather(asked), strict=True):
            out[rows] = levels
        for future in [*sent, *asked]:
            future.release()
        return out

    def _counted(self, columns: tuple[str, ...]) -> tuple[pd.Index, np.ndarray, np.ndarray]:
        """The small side's keys of `columns` (Index, each of its records' code) and the
        chunked side's records per key, summed over the chunks."""
        index, codes = key_index(rule_keys(self.left, columns))
        sent = self.client.scatter(index, broadcast=True, hash=False)
        counts = np.zeros(len(index), dtype=np.int64)
        for part in self.client.gather([
                self.client.submit(_key_counts, sent, columns, chunk, pure=False)
                for chunk in self.right.chunks()[0]]):
            counts += part
        sent.release()
        return index, codes, counts

    def agreeing(self, columns: Sequence[str]) -> int:
        """How many (left, right) pairs agree on every one of `columns`, all present, over
        the whole of both sides (`blocking.agreeing_pairs`)."""
        _, codes, counts = self._counted(tuple(columns))
        return int((records_per_key(codes, len(counts)) * counts).sum())

    def block(self, rule: BlockingRule) -> np.ndarray:
        """A blocking rule's pairs as an (n, 2) int64 array of positions, sorted by left then
        right, blocks over the spec's `max_block_pairs` skipped (`BlockPass.positions`)."""
        small, chunked = self._block_pairs(rule)
        left, right = (chunked, small) if self.chunk_left else (small, chunked)
        order = np.lexsort((right, left))
        out = np.empty((len(left), 2), dtype=np.int64)
        out[:, 0], out[:, 1] = left[order], right[order]
        return out

    def _block_pairs(self, rule: BlockingRule) -> tuple[np.ndarray, np.ndarray]:
        """A rule's pairs in usable blocks: positions in the small side and in the chunked
        side (int64, any order)."""
        index, codes, counts = self._counted(tuple(rule.columns))
        usable, _ = usable_in_rule(records_per_key(codes, len(counts)), counts,
                                   self.spec.max_block_pairs)
        small_codes = in_usable(codes, usable)
        sent = self.client.scatter([index, small_codes, usable], broadcast=True, hash=False)
        starts = self.right.chunk_starts()
        found = self.client.gather([
            self.client.submit(_key_pairs, *sent, tuple(rule.columns), chunk,
                               int(starts[k]), pure=False)
            for k, chunk in enumerate(self.right.chunks()[0])])
        for future in sent:
            future.release()
        return (np.concatenate([np.zeros(0, dtype=np.int64), *(a for a, _ in found)]),
                np.concatenate([np.zeros(0, dtype=np.int64), *(b for _, b in found)]))


class ChunkedLeft(ChunkedRight):
    """`ChunkedRight` with the roles swapped: the chunked side (`right` here, as it is
    held) is training's left side, and the small side (`left`, `left_inputs`) its right:
    the roster's member model, trained on the civil persons (in chunks) with the roster's
    sample. `compare(li, ri)` takes li in the chunked side; `block` gives pairs sorted by
    the chunked side's positions; `agreeing` is the same count."""

    chunk_left = True

    def compare(self, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
        """Levels (int8, pairs × comparisons) of the pairs (li[k], ri[k]): positions into
        the whole chunked side (training's left) and into the small side."""
        return self._levels(ri, li)


def fit_over_chunks(right: ChunkedRight, found: list[Future], labels: Labels | None
                    ) -> Model:
    """Train on the chunks' candidates (`found`) as `Linker.fit` trains on the whole
    side's: their levels and positions come here, sorted as the local engine's candidates,
    and what else training reads is asked of the chunks (`right`)."""
    client, spec = right.client, right.spec
    starts = right.right.chunk_starts()
    parts = client.gather([client.submit(_for_training, f, int(starts[k]), pure=False)
                           for k, f in enumerate(found)])
    li = np.concatenate([np.zeros(0, dtype=np.int32), *(p[0] for p in parts)])
    ri = np.concatenate([np.zeros(0, dtype=np.int64), *(p[1] for p in parts)])
    levels = np.concatenate([np.zeros((0, right.n_comparisons), dtype=np.int8),
                             *(p[2] for p in parts)])
    del parts
    order = np.lexsort((ri, li))  # chunks are in row order: this sorts within each roll row
    li, ri, levels = li[order].astype(np.int64), ri[order], levels[order]
    del order
    linker = Linker(spec)
    return train(spec.training, linker.comparisons, levels, right.compare, len(right.left),
                 len(right.right), right.block, (li, ri), labels=labels,
                 agreeing=right.agreeing).model


def _fit_on_a_worker(spec: ModelSpec, left: pd.DataFrame, inputs_key: str,
                     part_keys: list[str], lengths: list[int], found_keys: list[str],
                     labels: Labels | None) -> Model:
    """`fit_over_chunks` in a task, with a client of this worker's (`worker_client`: it
    leaves the worker's thread pool while it waits), so that the candidates' levels come
    to a worker and not to the driver. The chunks, the left side's inputs and the
    candidates are named by their keys (a future given as an argument would be sent here
    whole); the driver holds them meanwhile."""
    def fit() -> Model:
        from distributed import Future, worker_client

        with worker_client() as client:
            right = RemoteFrame.of_keys(client, part_keys, lengths, pd.DataFrame())
            asked = ChunkedRight(client, spec, left, Future(inputs_key, client=client), right)
            return fit_over_chunks(asked, [Future(k, client=client) for k in found_keys],
                                   labels)

    return _sanitised(fit)


def train_and_predict_over_chunks(client: Client, linker: Linker, left: pd.DataFrame,
                                  right: RemoteFrame, model: Model | None = None,
                                  labels: Labels | None = None
                                  ) -> tuple[Scored, list[dict[str, Any]]]:
    """`Linker.train_and_predict` of `left` (features, here) with `right` (features in
    chunks on the workers: `RemoteFrame.parts`), by the steps of the module: the scored
    pairs worth keeping (`inference.predict`'s frame), the model (trained unless given),
    the statistics per blocking rule and the number of candidates; and one row of metrics
    per chunk and rule (`DaskExecutor.partition_metrics`)."""
    spec = linker.spec
    index = LeftIndex.of(linker, left)
    left_inputs = linker.inputs(left)
    index_f, inputs_f = client.scatter([index, left_inputs], broadcast=True, hash=False)
    found: list[Future] = []
    sent: list[Future] = [index_f, inputs_f]
    try:
        seen = _tree(client, _summed, [client.submit(_observed, spec, index_f, chunk,
                                                     pure=False)
                                       for chunk in right.parts]).result()
        usable, skipped = usable_blocks(index, seen.rule_counts, spec.max_block_pairs)
        tf = tf_left(index, seen.tf_counts, seen.tf_present, len(left), len(right))
        del seen
        usable_f, tf_f = client.scatter([usable, tf], broadcast=True, hash=False)
        sent += [usable_f, tf_f]
        found = [client.submit(_candidates, spec, index_f, usable_f, inputs_f, chunk,
                               pure=False) for chunk in right.parts]
        summaries = client.gather([client.submit(_summary, f, pure=False) for f in found])
        if model is None:
            left_f = client.scatter(left, hash=False)
            sent.append(left_f)
            model = client.submit(_fit_on_a_worker, spec, left_f, inputs_f.key,
                                  [p.key for p in right.parts], right.lengths,
                                  [f.key for f in found], labels, pure=False).result()
        starts = right.chunk_starts()
        pairs = _tree(client, _best_of, [
            client.submit(_scored, spec, model, tf_f, inputs_f, chunk, f, int(starts[k]),
                          pure=False)
            for k, (chunk, f) in enumerate(zip(right.parts, found, strict=True))],
            spec).result()
    finally:
        for future in [*sent, *found]:
            future.release()
    pairs = best_pairs(spec, pairs)  # one chunk's: not yet reduced over its roll records
    names = [p.name for p in linker.passes]
    chunk_stats = [stats for stats, _, _ in summaries]
    stats = merge_stats(names, [*(s for one in chunk_stats for s in one),
                                *(PassStats(n, skipped_blocks=s)
                                  for n, s in zip(names, skipped, strict=True))])
    metrics = [{"spec": spec.name, "pass": part.name, "key": future.key, "pairs": part.pairs,
                "new_pairs": part.new_pairs, "chunk": k, "left_rows": len(left),
                "right_rows": int(right.lengths[k]), "seconds": seconds,
                "peak_rss_mb": peak}
               for k, (future, (parts, seconds, peak)) in enumerate(zip(found, summaries,
                                                                         strict=True))
               for part in parts]
    return Scored(pairs, model, stats, int(sum(s.new_pairs for s in stats))), metrics
