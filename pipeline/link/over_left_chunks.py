"""A model trained with its left side in chunks on the Dask workers: the roster's member
model on `--engine dask`.

The member model links the civil-affairs persons (left, hundreds of thousands to millions:
their features in row chunks on the workers, `remote.RemoteFrame`) with a sample of the
roster's members (right, at most `training.right_sample_records`: small). The local engine
trains it with `streamed.fit_on_sample`, `Linker.fit` on the whole left side. Here nothing
reads the left side whole; the small side goes to every worker and `over_chunks`' steps
run with the roles swapped:

1. **count**: each chunk codes its records' keys in the sample's index (kept on its
   worker for step 2, `streamed.chunk_codes_of`) and counts them per key, summed in a
   tree; the usable blocks follow
   (`streamed.usable_blocks`: a block's size is the product of its two sides', the same
   whichever is left).
2. **candidates**: each chunk pairs its records with the sample's in the usable blocks,
   unions the rules with the pairs sorted by its own records (the left side's), then the
   sample's, and compares them with its records on the left (`TakingPart.chunk_left`). The
   chunks' pairs, in row order, are the local engine's candidates in its order.
3. **train**: `training.train` as `Linker.fit` runs it, with what it asks of the records
   answered by the chunks (`over_chunks.ChunkedLeft`).

The result is `fit_on_sample`'s model (tests/test_left_chunks.py). Every task goes through
`distributed._sanitised`: a record never reaches a log.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline.link.distributed import _sanitised
from pipeline.link.engine import Linker
from pipeline.link.fellegi_sunter import Model
from pipeline.link.over_chunks import ChunkedLeft, _tree
from pipeline.link.remote import RemoteFrame
from pipeline.link.spec import ModelSpec
from pipeline.link.streamed import (
    LeftIndex,
    TakingPart,
    chunk_codes_of,
    chunk_pair_positions,
    pick_sample,
    records_per_key,
    usable_blocks,
    with_sample_record,
)
from pipeline.link.training import train

if TYPE_CHECKING:
    from distributed import Client


def _coded(spec: ModelSpec, index: LeftIndex, chunk: pd.DataFrame) -> list[np.ndarray]:
    """Step 1 on one chunk: its records' codes in the small side's keys, per blocking rule
    (`streamed.chunk_codes_of`), kept on its worker for step 2."""
    return _sanitised(chunk_codes_of, Linker(spec, threads=1), index, chunk)


def _key_counts(index: LeftIndex, codes: list[np.ndarray]) -> list[np.ndarray]:
    """A chunk's records per small-side key of every rule (int64)."""
    return _sanitised(lambda: [records_per_key(c, len(index.rule_index[r]))
                               for r, c in enumerate(codes)])


def _added(*counts: list[np.ndarray]) -> list[np.ndarray]:
    """Several chunks' counts added up (a step of `over_chunks._tree`)."""
    return _sanitised(lambda: [sum(one[r] for one in counts) for r in range(len(counts[0]))])


def _candidates_left(spec: ModelSpec, index: LeftIndex, usable: list[np.ndarray],
                     small_inputs: dict[str, np.ndarray], chunk: pd.DataFrame,
                     codes: list[np.ndarray], start: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 2 on one chunk: its candidate pairs with the small side (`index`: the small
    side's keys; `codes`: step 1's), as positions over the whole chunked side (int64;
    `start`: the chunk's first) and in the small side (int64), sorted by the former then
    the latter, and their levels with the chunk's records on the left (int8, pairs ×
    comparisons)."""
    def found() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        linker = Linker(spec, threads=1)
        small, local, _ = chunk_pair_positions(linker, index, usable, chunk, codes,
                                               chunk_first=True)
        levels = TakingPart.chunk_left(chunk, small_inputs, local, small).levels(linker)
        return local + start, small, levels

    return _sanitised(found)


def fit_left_over_chunks(client: Client, spec: ModelSpec, left: RemoteFrame,
                         right: pd.DataFrame) -> Model:
    """`Linker.fit` of `left` (features in row chunks on the workers) with `right` (features,
    here: small) on their candidate pairs, by the steps of the module. The model equals
    that of the chunks joined (`Linker(spec).fit` on `LocalExecutor` candidates)."""
    linker = Linker(spec)
    # no term frequencies: training reads none
    index = dataclasses.replace(LeftIndex.of(linker, right), tf_index={}, tf_codes={})
    inputs = linker.inputs(right)
    index_f, inputs_f = client.scatter([index, inputs], broadcast=True, hash=False)
    parts, _ = left.chunks()
    starts = left.chunk_starts()
    coded = [client.submit(_coded, spec, index_f, chunk, pure=False) for chunk in parts]
    try:
        counts = _tree(client, _added, [client.submit(_key_counts, index_f, codes, pure=False)
                                        for codes in coded]).result()
        usable, _ = usable_blocks(index, counts, spec.max_block_pairs)
        del counts
        [usable_f] = client.scatter([usable], broadcast=True, hash=False)
        found = client.gather([
            client.submit(_candidates_left, spec, index_f, usable_f, inputs_f, chunk,
                          codes, int(starts[k]), pure=False)
            for k, (chunk, codes) in enumerate(zip(parts, coded, strict=True))])
        usable_f.release()
        for future in coded:
            future.release()
        li = np.concatenate([np.zeros(0, dtype=np.int64), *(f[0] for f in found)])
        ri = np.concatenate([np.zeros(0, dtype=np.int64), *(f[1] for f in found)])
        levels = np.concatenate([np.zeros((0, len(spec.comparisons)), dtype=np.int8),
                                 *(f[2] for f in found)])
        del found
        asked = ChunkedLeft(client, spec, right, inputs_f, left)
        return train(spec.training, linker.comparisons, levels, asked.compare, len(left),
                     len(right), asked.block, (li, ri), labels=None,
                     agreeing=asked.agreeing).model
    finally:
        for future in [index_f, inputs_f, *coded]:
            future.release()


def fit_sample_over_chunks(spec: ModelSpec, part_keys: list[str], lengths: list[int],
                           empty: pd.DataFrame, records: int, chosen: np.ndarray,
                           candidates: list[pd.DataFrame]) -> Model:
    """`streamed.fit_on_sample` in a task on a worker, with the left side's chunks named by
    their keys (`part_keys`, `lengths` rows each; `empty`: its zero-row frame) and the
    sample picked there from the roster chunks' candidates (`pick_sample`): the model, its
    training record adding the right side's size (`records`) and the sample's. A client of
    the worker's (`worker_client`) runs `fit_left_over_chunks`' tasks; the driver holds the
    chunks meanwhile."""
    def fit() -> Model:
        from distributed import worker_client

        sample = pick_sample(candidates, chosen)
        with worker_client() as client:
            model = fit_left_over_chunks(
                client, spec, RemoteFrame.of_keys(client, part_keys, lengths, empty), sample)
        return with_sample_record(model, records, len(sample))

    return _sanitised(fit)
