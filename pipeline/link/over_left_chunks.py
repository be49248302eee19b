"""A model trained with its left side in chunks on the Dask workers: the roster's member
model on `--engine dask`.

The member model links the civil-affairs persons (left, hundreds of thousands to millions:
their features in row chunks on the workers, `remote.RemoteFrame`) with a sample of the
roster's members (right, at most `training.right_sample_records`: small). The local engine
trains it with `streamed.fit_on_sample`, `Linker.fit` on the whole left side. Here nothing
reads the left side whole; the small side goes to every worker and `over_chunks`' steps
run with the roles swapped:

1. **count**: each chunk counts its records per key of the sample's index
   (`streamed.observe_chunk`), summed in a tree; the usable blocks follow
   (`streamed.usable_blocks`: a block's size is the product of its two sides', the same
   whichever is left).
2. **candidates**: each chunk pairs its records with the sample's in the usable blocks,
   unions the rules, sorts the pairs by its own records (the left side's), then the
   sample's, and compares them with its records on the left (`TakingPart.chunk_left`). The
   chunks' pairs, in row order, are the local engine's candidates in its order.
3. **train**: `training.train` as `Linker.fit` runs it, with what it asks of the records
   answered by the chunks (`over_chunks.ChunkedLeft`).

The result is `fit_on_sample`'s model (tests/test_left_chunks.py). Every task goes through
`distributed._sanitised`: a record never reaches a log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipeline.link.distributed import _sanitised
from pipeline.link.engine import Linker
from pipeline.link.fellegi_sunter import Model
from pipeline.link.over_chunks import ChunkedLeft, _observed, _summed, _tree
from pipeline.link.remote import RemoteFrame
from pipeline.link.spec import ModelSpec
from pipeline.link.streamed import (
    LeftIndex,
    TakingPart,
    chunk_pair_positions,
    pick_sample,
    usable_blocks,
)
from pipeline.link.training import train

if TYPE_CHECKING:
    from distributed import Client


def _candidates_left(spec: ModelSpec, index: LeftIndex, usable: list[np.ndarray],
                     small_inputs: dict[str, np.ndarray], chunk: pd.DataFrame, start: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 2 on one chunk: its candidate pairs with the small side (`index`: the small
    side's keys), as positions over the whole chunked side (int64; `start`: the chunk's
    first) and in the small side (int64), sorted by the former then the latter, and their
    levels with the chunk's records on the left (int8, pairs × comparisons)."""
    def found() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        linker = Linker(spec, threads=1)
        small, local, _ = chunk_pair_positions(linker, index, usable, chunk)
        order = np.lexsort((small, local))
        small, local = small[order], local[order]
        levels = TakingPart.chunk_left(chunk, small_inputs, local, small).levels(linker)
        return local + start, small, levels

    return _sanitised(found)


def fit_left_over_chunks(client: Client, spec: ModelSpec, left: RemoteFrame,
                         right: pd.DataFrame) -> Model:
    """`Linker.fit` of `left` (features in row chunks on the workers) with `right` (features,
    here: small) on their candidate pairs, by the steps of the module. The model equals
    that of the chunks joined (`Linker(spec).fit` on `LocalExecutor` candidates)."""
    linker = Linker(spec)
    index = LeftIndex.of(linker, right)
    inputs = linker.inputs(right)
    index_f, inputs_f = client.scatter([index, inputs], broadcast=True, hash=False)
    parts, _ = left.chunks()
    starts = left.chunk_starts()
    try:
        seen = _tree(client, _summed, [client.submit(_observed, spec, index_f, chunk,
                                                     pure=False)
                                       for chunk in parts]).result()
        usable, _ = usable_blocks(index, seen.rule_counts, spec.max_block_pairs)
        del seen
        [usable_f] = client.scatter([usable], broadcast=True, hash=False)
        found = client.gather([
            client.submit(_candidates_left, spec, index_f, usable_f, inputs_f, chunk,
                          int(starts[k]), pure=False)
            for k, chunk in enumerate(parts)])
        usable_f.release()
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
        index_f.release()
        inputs_f.release()


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
        from distributed import Future, worker_client

        sample = pick_sample(candidates, chosen)
        with worker_client() as client:
            left = RemoteFrame(None, int(sum(lengths)), empty,
                               parts=[Future(k, client=client) for k in part_keys],
                               lengths=list(lengths), client=client)
            model = fit_left_over_chunks(client, spec, left, sample)
        model.training = {**model.training, "right_records": records,
                          "right_sample_records": len(sample)}
        return model

    return _sanitised(fit)
