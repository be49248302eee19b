"""A linkage whose right side comes in chunks (the union membership roster), with memory that
grows with the left side and the chunk, not with the right side.

Two passes over the right side's records (feature frames, `features.person_features`):

1. **observe** each chunk (`StreamedLinkage.observe`): a uniform sample of at most
   `training.right_sample_records` records is kept (the records with the smallest 64-bit hash
   of their row key: bottom-k sampling, the same sample whatever the chunking or the order of
   the chunks); the term-frequency counts of the left side's values are counted; each
   blocking rule's block sizes are counted over the left side's keys; and the records that
   could pair in some rule (their key is one the left side has) are returned, so the caller
   keeps (spills) only those.
2. **train** once (`fit`) on the left side against the sample: u from random pairs, EM sessions
   on the sample's blocked pairs, the prior scaled to the sample's pairs: an estimate of the
   whole side's, since the matches and the pairs of a uniform sample shrink alike;
3. **score** each chunk of the records that could pair (`score_chunk`): the candidate pairs of every
   blocking rule (a block too big over the whole right side is skipped, as the in-memory
   linker does), their levels, weights with the whole side's term frequencies, probabilities,
   and the pairs worth keeping; `finish` keeps each left record's best pairs over all chunks
   and assigns the decisions (`assign.assign`).

When the right side has at most `right_sample_records` records the sample is the whole side,
in its order, and the result is exactly `Linker(spec).run(left, right)`'s
(tests/test_streamed_linkage.py checks it chunk size by chunk size). Link mode only; labels are
not used (the roster linkage has none).

Every step is a plain function of frames and arrays: no files (the caller spills), no cluster
(a Dask task can run `observe`'s and `score`'s per-chunk parts, `ChunkObservation`,
`score_chunk`, and the driver merges them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.link.assign import assign
from pipeline.link.blocking import PassStats, block_pairs, merge_stats, union_of_passes
from pipeline.link.engine import Linker
from pipeline.link.fellegi_sunter import Model
from pipeline.link.inference import score_pairs, worth_keeping
from pipeline.link.remote import RemoteFrame
from pipeline.link.spec import ModelSpec

SEP = "\x1f"  # joins a rule's key columns into one text key (no feature holds it)
HASH_KEY = "bidui-roster-smp"  # 16 bytes: pandas' SipHash key for the sample's hashes
POSITION = "_position"  # a right record's position over the whole side (int64)
SAMPLE_HASH = "_sample_hash"
PRUNE_ROWS = 1_000_000  # kept pairs held before the first pruning (`add_scored`)


def rule_keys(frame: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """One text key per record (object array): the columns' values joined by `SEP`; '' where
    any of them is missing ('')."""
    values = [frame[c].to_numpy(dtype=object) for c in columns]
    missing = np.zeros(len(frame), dtype=bool)
    for v in values:
        missing |= v == ""
    if len(values) == 1:
        keys = values[0].copy()
    else:
        keys = pd.Series(values[0]).str.cat([pd.Series(v) for v in values[1:]],
                                             sep=SEP).to_numpy(dtype=object)
    keys[missing] = ""
    return keys


def key_index(keys: np.ndarray) -> tuple[pd.Index, np.ndarray]:
    """The distinct keys other than '' (a pandas Index, in the order they first appear; a
    key's code is its position) and each record's code (int64, -1 for '')."""
    codes, uniques = pd.factorize(keys)
    present = uniques != ""
    remap = np.where(present, np.cumsum(present) - 1, -1)
    return (pd.Index(uniques[present], dtype=object),
            np.where(codes >= 0, remap[np.maximum(codes, 0)], -1).astype(np.int64))


def index_codes(index: pd.Index, keys: np.ndarray) -> np.ndarray:
    """Each key's code in `index` (its position; int64), -1 where `index` lacks it or the
    key is '' (missing)."""
    codes = index.get_indexer(keys).astype(np.int64)
    codes[keys == ""] = -1
    return codes


def in_usable(codes: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """`codes` (int64, -1 missing) with -1 also where the key's block is not usable (`usable`:
    bool per key)."""
    return np.where((codes >= 0) & usable[np.maximum(codes, 0)], codes, -1)


def sample_hashes(row_keys: pd.Series | np.ndarray) -> np.ndarray:
    """uint64 per record: the SipHash (fixed key) of its row key, for bottom-k sampling."""
    return pd.util.hash_array(np.asarray(row_keys, dtype=object), hash_key=HASH_KEY,
                              categorize=False)


@dataclass
class LeftCounts:
    """What the driver needs of a left side it does not hold: counts, nothing per record.
    Per blocking rule, the left records per distinct key (int64, in `LeftIndex.rule_index`'s
    order: code = position); the term-frequency column of each comparison (or None); per
    term-frequency column, the left records per distinct value (int64, in
    `LeftIndex.tf_index`'s order). The records' codes stay where the left side is (on a Dask
    worker: `roster.remote_left`)."""

    rule_records: list[np.ndarray]
    tf_columns: list[str | None]
    tf_records: dict[str, np.ndarray]

    @property
    def rule_sizes(self) -> list[int]:
        """Per blocking rule, the number of distinct keys."""
        return [len(r) for r in self.rule_records]

    @property
    def tf_sizes(self) -> dict[str, int]:
        """Per term-frequency column, the number of distinct values."""
        return {c: len(r) for c, r in self.tf_records.items()}


@dataclass
class LeftIndex:
    """What the right side's chunks are looked up in: per blocking rule, the left side's
    distinct keys (a pandas Index; code = position) and each left record's code (int64,
    -1 missing); per term-frequency comparison, the left side's distinct values and each left
    record's value code."""

    rule_index: list[pd.Index]
    rule_codes: list[np.ndarray]
    tf_columns: list[str | None]  # per comparison: its term-frequency column, or None
    tf_index: dict[str, pd.Index]
    tf_codes: dict[str, np.ndarray]

    @classmethod
    def of(cls, linker: Linker, left: pd.DataFrame) -> LeftIndex:
        keys, codes = ChunkKeys.of(linker, left)  # the whole side as its one chunk
        return cls.of_chunks(linker, keys, [codes])

    @classmethod
    def of_chunks(cls, linker: Linker, keys: ChunkKeys, codes: Sequence[ChunkCodes]
                  ) -> LeftIndex:
        """The index of a left side held in row chunks: `keys`, the whole side's distinct
        keys (`ChunkKeys.joined`), and each chunk's codes in them (`ChunkCodes.in_whole`),
        in row order. Equal to `LeftIndex.of` of the chunks joined
        (tests/test_left_chunks.py)."""
        def joined(arrays: list[np.ndarray]) -> np.ndarray:
            return np.concatenate([np.zeros(0, dtype=np.int64), *arrays])

        return cls(list(keys.rules),
                   [joined([c.rules[r] for c in codes]) for r in range(len(keys.rules))],
                   tf_columns_of(linker), dict(keys.tf),
                   {column: joined([c.tf[column] for c in codes]) for column in keys.tf})

    @property
    def rule_sizes(self) -> list[int]:
        """Per blocking rule, the number of distinct keys."""
        return [len(i) for i in self.rule_index]

    @property
    def tf_sizes(self) -> dict[str, int]:
        """Per term-frequency column, the number of distinct values."""
        return {c: len(i) for c, i in self.tf_index.items()}

    @property
    def rule_records(self) -> list[np.ndarray]:
        """Per blocking rule, the left records per distinct key (int64)."""
        return [records_per_key(c, n) for c, n in zip(self.rule_codes, self.rule_sizes,
                                                         strict=True)]

    @property
    def tf_records(self) -> dict[str, np.ndarray]:
        """Per term-frequency column, the left records per distinct value (int64)."""
        return {c: records_per_key(self.tf_codes[c], n) for c, n in self.tf_sizes.items()}

    def counts(self) -> LeftCounts:
        """This index's counts: what the driver needs of it (`LeftCounts`)."""
        return LeftCounts(self.rule_records, self.tf_columns, self.tf_records)

    def chunk_codes(self, rule: int, keys: np.ndarray) -> np.ndarray:
        """The left side's code of each chunk key for a rule (int64; -1: no left record has
        it, or missing)."""
        return index_codes(self.rule_index[rule], keys)


def records_per_key(codes: np.ndarray, keys: int) -> np.ndarray:
    """The records per key (int64, `keys` long) of records' key codes (int64, -1 missing)."""
    return np.bincount(codes[codes >= 0], minlength=keys).astype(np.int64)


def tf_columns_of(linker: Linker) -> list[str | None]:
    """Per comparison, the column whose term frequencies it reads, or None."""
    return [c.tf_value_column() if c.tf_level() is not None else None
            for c in linker.comparisons]


@dataclass
class ChunkKeys:
    """Distinct keys of some of a left side's records: per blocking rule (a pandas Index of
    text, in the order they first appear, '' left out) and per term-frequency column (its
    values, likewise). Of one chunk (`of`, with its records' codes in them: `ChunkCodes`)
    or of the whole side (`joined`)."""

    rules: list[pd.Index]
    tf: dict[str, pd.Index]

    @classmethod
    def of(cls, linker: Linker, chunk: pd.DataFrame) -> tuple[ChunkKeys, ChunkCodes]:
        """One chunk's distinct keys (features: `LeftIndex.of`'s columns) and its records'
        codes in them."""
        rules = [key_index(rule_keys(chunk, p.columns)) for p in linker.passes]
        tf = {c: key_index(chunk[c].to_numpy(dtype=object))
              for c in dict.fromkeys(c for c in tf_columns_of(linker) if c)}
        return (cls([keys for keys, _ in rules], {c: keys for c, (keys, _) in tf.items()}),
                ChunkCodes([codes for _, codes in rules],
                           {c: codes for c, (_, codes) in tf.items()}))

    @classmethod
    def joined(cls, chunks: Sequence[ChunkKeys]) -> ChunkKeys:
        """The distinct keys of chunks given in row order: those of the whole side, in the
        order `pd.factorize` numbers them over it (a key first appears in the first chunk
        that has it, where it first appears in that chunk)."""
        def union(indexes: list[pd.Index]) -> pd.Index:
            return key_index(np.concatenate([np.zeros(0, dtype=object),
                                             *(i.to_numpy(dtype=object) for i in indexes)]))[0]

        first = chunks[0]
        return cls([union([c.rules[r] for c in chunks]) for r in range(len(first.rules))],
                   {column: union([c.tf[column] for c in chunks]) for column in first.tf})


@dataclass
class ChunkCodes:
    """One chunk's records' codes in some distinct keys: per blocking rule and per
    term-frequency column (int64, -1 missing). In the chunk's own (`ChunkKeys.of`), or in
    the whole side's (`in_whole`), as `LeftIndex.rule_codes` and `tf_codes` hold them for
    those records."""

    rules: list[np.ndarray]
    tf: dict[str, np.ndarray]

    def in_whole(self, own: ChunkKeys, whole: ChunkKeys) -> ChunkCodes:
        """These codes (in the chunk's own keys, `own`) as codes in the whole side's keys
        (`whole`, `ChunkKeys.joined`): each distinct key looked up once, not each record."""
        def moved(codes: np.ndarray, mine: pd.Index, theirs: pd.Index) -> np.ndarray:
            remap = theirs.get_indexer(mine).astype(np.int64)
            return np.where(codes >= 0, remap[np.maximum(codes, 0)] if len(remap) else -1,
                            -1).astype(np.int64)

        return ChunkCodes([moved(c, own.rules[r], whole.rules[r])
                           for r, c in enumerate(self.rules)],
                          {column: moved(c, own.tf[column], whole.tf[column])
                           for column, c in self.tf.items()})


@dataclass
class ChunkObservation:
    """What one chunk adds to the first pass (mergeable: `StreamedLinkage.merge`)."""

    records: int
    rule_counts: list[np.ndarray]  # per rule: right records per left key (int64)
    tf_counts: dict[str, np.ndarray]  # per tf column: right records per left value (int64)
    tf_present: dict[str, int]  # per tf column: right records with a value
    sample: pd.DataFrame  # this chunk's candidates for the sample (≤ k rows, with hashes)
    could_pair: np.ndarray  # bool per record of the chunk


def observe_chunk(index: LeftIndex | None, linker: Linker, chunk: pd.DataFrame, k: int,
                  below: int | None = None, tf_columns: list[str] | None = None
                  ) -> ChunkObservation:
    """The first pass over one chunk of right records (features, with `POSITION` and
    `row_key` columns): counts, the chunk's k smallest-hash records, and which records could
    pair in some blocking rule. `below`: the sample's largest hash so far, once it is full
    (a record with a larger hash cannot enter it, so it is not sent).

    `index` None (the left side's keys are in parts elsewhere, `partitioned.key_parts`):
    no counts per left key (`rule_counts` and `tf_counts` empty: the parts count them,
    `StreamedLinkage.add_key_counts`), every record marked as could pair (the parts decide,
    `partitioned.could_pair_mask`), and `tf_present` for `tf_columns`."""
    could = np.zeros(len(chunk), dtype=bool) if index is not None else \
        np.ones(len(chunk), dtype=bool)
    rule_counts = []
    for r, block_pass in enumerate(linker.passes if index is not None else []):
        codes = index.chunk_codes(r, rule_keys(chunk, block_pass.columns))
        rule_counts.append(records_per_key(codes, len(index.rule_index[r])))
        could |= codes >= 0
    tf_counts, tf_present = {}, {}
    for column in (index.tf_index if index is not None else tf_columns or []):
        values = chunk[column].to_numpy(dtype=object)
        tf_present[column] = int((values != "").sum())
        if index is None:
            continue
        values_index = index.tf_index[column]
        codes = values_index.get_indexer(values)
        tf_counts[column] = records_per_key(codes, len(values_index))
    if k == 0:  # no sample (a linkage that trains on the whole side: `over_chunks`)
        sample = chunk.iloc[:0].copy()
        sample[SAMPLE_HASH] = np.zeros(0, dtype=np.uint64)
        return ChunkObservation(len(chunk), rule_counts, tf_counts, tf_present, sample,
                                could)
    hashes = sample_hashes(chunk["row_key"])
    take = np.argsort(hashes, kind="stable")[:k]
    if below is not None:
        take = take[hashes[take] < np.uint64(below)]
    sample = chunk.iloc[take].copy()
    sample[SAMPLE_HASH] = hashes[take]
    return ChunkObservation(len(chunk), rule_counts, tf_counts, tf_present, sample, could)


@dataclass
class ScoredChunk:
    """The pairs of one chunk worth keeping (`inference.score_pairs` columns, `right` as the
    record's position over the whole side) and the chunk's statistics per blocking rule."""

    pairs: pd.DataFrame
    stats: list[PassStats]


@dataclass
class StreamedLinkage:
    """The linkage of a left frame (in memory) with a right side seen chunk by chunk.

    Use: `observe(chunk)` (or `merge` of a worker's `observe_chunk`) for every chunk,
    `fit()`, then `add_scored(score_chunk(...))` for every chunk of the records that could
    pair (`observe`'s mask), then `finish()`.

    `left` may be held elsewhere (a `remote.RemoteFrame` on a Dask worker), with `index` its
    `LeftCounts` (`roster.remote_left.remote_linkage`): then only counts are kept here (the
    usable blocks and the term-frequency shares per value are computed from them), and what
    reads the left side's rows or their codes (`observe`, `fit`, the scoring context, the
    term frequencies per record) runs where it is."""

    spec: ModelSpec
    left: pd.DataFrame | RemoteFrame  # the left side's features
    index: LeftIndex | LeftCounts | None = None  # None: `LeftIndex.of(left)`, built here
    linker: Linker = field(init=False)
    records: int = 0
    rule_counts: list[np.ndarray] = field(default_factory=list)
    tf_counts: dict[str, np.ndarray] = field(default_factory=dict)
    tf_present: dict[str, int] = field(default_factory=dict)
    sample: pd.DataFrame | None = None
    model: Model | None = None
    kept: list[pd.DataFrame] = field(default_factory=list)
    stats: list[PassStats] = field(default_factory=list)
    kept_rows: int = 0  # rows in `kept`
    pruned_rows: int = 0  # rows after the last pruning

    def __post_init__(self) -> None:
        if self.spec.link_type != "link":
            raise ValueError("a streamed linkage links two sides (link_type: link)")
        self.linker = Linker(self.spec)
        if self.index is None:
            self.index = LeftIndex.of(self.linker, self.left)
        self.rule_counts = [np.zeros(n, dtype=np.int64) for n in self.index.rule_sizes]
        self.tf_counts = {c: np.zeros(n, dtype=np.int64)
                          for c, n in self.index.tf_sizes.items()}
        self.tf_present = dict.fromkeys(self.index.tf_sizes, 0)

    def release(self) -> None:
        """Free what only linking reads, once the linkage is done: the left side's features,
        its blocking index and comparison inputs, the sample and the scored parts (the
        left side's features are its largest part: about 0.5 KB a civil person; held on a
        worker, they are freed there). The counts, the model and the statistics stay.
        Idempotent; nothing links after it."""
        if isinstance(self.left, RemoteFrame):
            self.left.release()
        self.left = self.left.iloc[:0]
        self.linker = Linker(self.spec)  # and whatever its comparer cached of the left side
        self.index = LeftIndex.of(self.linker, self.left)
        self.sample, self.kept, self.kept_rows = None, [], 0

    @property
    def sample_size(self) -> int:
        return self.spec.training.right_sample_records or np.iinfo(np.int64).max

    # -- pass 1 -----------------------------------------------------------------------------

    def sample_bound(self) -> int | None:
        """The largest hash in the sample once it holds `sample_size` records (records above
        it cannot enter), else None."""
        if self.sample is None or len(self.sample) < self.sample_size:
            return None
        return int(self.sample[SAMPLE_HASH].max())

    def observe(self, chunk: pd.DataFrame) -> np.ndarray:
        """Count one chunk (features with `POSITION` and `row_key`); the bool mask of its
        records that could pair (keep those for `score_chunk`)."""
        seen = observe_chunk(self.index, self.linker, chunk, self.sample_size,
                             self.sample_bound())
        self.merge(seen)
        return seen.could_pair

    def merge(self, seen: ChunkObservation) -> None:
        """Add one chunk's observation (from here or from a worker)."""
        self.records += seen.records
        for r, counts in enumerate(seen.rule_counts):
            self.rule_counts[r] += counts
        for column, counts in seen.tf_counts.items():
            self.tf_counts[column] += counts
        for column, present in seen.tf_present.items():
            self.tf_present[column] += present
        both = seen.sample if self.sample is None else pd.concat([self.sample, seen.sample])
        if len(both) > self.sample_size:
            both = both.iloc[np.argsort(both[SAMPLE_HASH].to_numpy(), kind="stable")
                             [:self.sample_size]]
        self.sample = both

    def add_key_counts(self, kind: str, which: int | str, codes: np.ndarray,
                       counts: np.ndarray) -> None:
        """Add a chunk's counts per left key found in a part of the left side's keys
        (`partitioned.KeyCounts`: `kind` 'rule' with the rule's index, or 'tf' with the
        column; `codes` unique within one call)."""
        target = self.rule_counts[int(which)] if kind == "rule" else self.tf_counts[str(which)]
        target[codes] += counts

    # -- training ---------------------------------------------------------------------------

    def training_sample(self) -> pd.DataFrame:
        """The sample in the right side's order (so that a whole side trains as in memory)."""
        if self.sample is None:
            return pd.DataFrame(columns=self.left.columns)
        return self.sample.sort_values(POSITION, kind="stable").reset_index(drop=True)

    def fit(self) -> Model:
        """Train on the left side against the sample (`fit_on_sample`), here."""
        return self.trained(fit_on_sample(self.spec, self.left, self.training_sample(),
                                          self.records, self.linker.threads))

    def chosen_hashes(self) -> np.ndarray:
        """The sample's hashes (uint64): enough to pick the sample out of its chunks' candidates
        where they are (`pick_sample`), when the merged observations carried only the
        hashes (the Dask engine keeps the candidates' records on the workers)."""
        if self.sample is None:
            return np.zeros(0, dtype=np.uint64)
        return self.sample[SAMPLE_HASH].to_numpy(dtype=np.uint64)

    def trained(self, model: Model) -> Model:
        """Hold the model trained on this linkage's sample (here or elsewhere) and free the
        sample."""
        self.model = model
        self.sample = None  # training is done: the sample's memory is freed
        return model

    # -- pass 2 -----------------------------------------------------------------------------

    def usable_blocks(self) -> tuple[list[np.ndarray], list[int]]:
        """`usable_blocks` of this linkage's counts so far."""
        return usable_blocks(self.index, self.rule_counts, self.spec.max_block_pairs)

    def tf_shares(self) -> TfShares:
        """`tf_shares` of this linkage's counts so far (per left value)."""
        return tf_shares(self.index, self.tf_counts, self.tf_present, len(self.left),
                         self.records)

    def tf_left(self) -> list[np.ndarray | None]:
        """`tf_left` of this linkage's counts so far (per left record: the left side here,
        its `LeftIndex` held; held elsewhere, send `tf_shares` to its records' codes)."""
        if not isinstance(self.index, LeftIndex):
            raise TypeError("the left records' codes are not here: use tf_shares")
        return self.tf_shares().of_records(self.index.tf_codes)

    def add_scored(self, scored: ScoredChunk) -> None:
        """Hold one chunk's kept pairs and statistics (from here or from a worker). The pairs
        held are pruned to the best over the chunks so far whenever they double, so they stay
        within a few per left record whatever the number of chunks."""
        self.kept.append(scored.pairs)
        self.stats.extend(scored.stats)
        self.kept_rows += len(scored.pairs)
        if self.kept_rows > max(PRUNE_ROWS, 2 * self.pruned_rows):
            held = pd.concat(self.kept, ignore_index=True)
            self.kept = []  # the parts are freed before pruning, not after
            self.kept = [self.best(held)]
            del held
            self.kept_rows = self.pruned_rows = len(self.kept[0])

    def best(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """`best_pairs` with this linkage's spec."""
        return best_pairs(self.spec, pairs)

    def finish(self) -> tuple[pd.DataFrame, list[PassStats]]:
        """The kept pairs of all chunks (sorted by left, right), each left record's best
        `EXPLAIN_TOP` over all chunks, with `decision`; and the statistics per rule."""
        stats = self.merged_stats()
        columns = None if not self.kept else self.kept[0].columns
        pairs = pd.concat(self.kept, ignore_index=True) if self.kept else pd.DataFrame(
            columns=columns)
        self.kept, self.kept_rows = [], 0  # held once, in `pairs` (and freed with it)
        return decided_pairs(self.spec, pairs), stats

    def merged_stats(self, more: list[PassStats] = ()) -> list[PassStats]:
        """The statistics per rule: every chunk's held (`add_scored`) and `more`, and the
        blocks skipped as too big."""
        names = [p.name for p in self.linker.passes]
        skipped = self.usable_blocks()[1]
        return merge_stats(names, [*self.stats, *more,
                                   *(PassStats(n, skipped_blocks=s)
                                     for n, s in zip(names, skipped, strict=True))])


def usable_blocks(index: LeftIndex | LeftCounts, rule_counts: list[np.ndarray],
                  limit: int | None) -> tuple[list[np.ndarray], list[int]]:
    """Per rule: bool per left key, its block is neither empty nor too big over the whole
    right side (size_left × size_right ≤ `limit`, the spec's max_block_pairs; None: no
    limit), as `blocking.pass_codes` decides; and the number of blocks skipped as too big.
    `rule_counts`: per rule, the right side's records per left key (int64), summed over
    every chunk. Reads only the index's counts (`rule_records`)."""
    usable, skipped = [], []
    for r, left_records in enumerate(index.rule_records):
        ok, too_big = usable_in_rule(left_records, rule_counts[r], limit)
        usable.append(ok)
        skipped.append(too_big)
    return usable, skipped


def usable_in_rule(left_records: np.ndarray, right_counts: np.ndarray, limit: int | None
                   ) -> tuple[np.ndarray, int]:
    """One rule's `usable_blocks`: bool per key (its left records, `left_records`, times
    its right records, `right_counts`, both int64 per key, are neither 0 nor over `limit`)
    and how many keys were too big."""
    pairs = left_records * right_counts
    too_big = np.zeros(len(pairs), dtype=bool) if limit is None else pairs > limit
    return (pairs > 0) & ~too_big, int(too_big.sum())


@dataclass
class TfShares:
    """Per term-frequency column, the share of each of the left side's distinct values
    among the values of both sides' records (float64, in `LeftIndex.tf_index`'s order), at
    least `floor`; `columns`: per comparison, its term-frequency column or None. Per value,
    not per record: what the driver computes from counts (`tf_shares`) and sends to where
    the left records' codes are (`of_records`)."""

    columns: list[str | None]
    shares: dict[str, np.ndarray]
    floor: float

    def of_records(self, codes: dict[str, np.ndarray]) -> list[np.ndarray | None]:
        """Per comparison, each left record's share (float64; `floor` for a record without a
        value), from the records' value codes (`LeftIndex.tf_codes`, or a chunk's
        `ChunkCodes.tf`); None for a comparison without term frequencies."""
        out: list[np.ndarray | None] = []
        for column in self.columns:
            if column is None:
                out.append(None)
                continue
            share, c = self.shares[column], codes[column]
            out.append(np.where(c >= 0, share[np.maximum(c, 0)] if len(share) else
                                self.floor, self.floor).astype(np.float64))
        return out


def tf_shares(index: LeftIndex | LeftCounts, tf_counts: dict[str, np.ndarray],
              tf_present: dict[str, int], left_records: int, right_records: int) -> TfShares:
    """Per term-frequency column, each left value's share among the values of both sides'
    records (as `inference.tf_records`, over the whole right side: `tf_counts`, the right
    records per left value, and `tf_present`, the right records with a value, summed over
    every chunk), at least 1 / (left + right records). Reads only the index's counts
    (`tf_records`)."""
    floor = 1.0 / max(left_records + right_records, 1)
    shares = {}
    for column, left_counts in index.tf_records.items():
        total = int(left_counts.sum()) + tf_present[column]
        shares[column] = np.maximum((left_counts + tf_counts[column]) / max(total, 1), floor)
    return TfShares(list(index.tf_columns), shares, floor)


def tf_left(index: LeftIndex, tf_counts: dict[str, np.ndarray], tf_present: dict[str, int],
            left_records: int, right_records: int) -> list[np.ndarray | None]:
    """Per comparison with term frequencies: per left record, `tf_shares`' share of its
    value (float64), at least 1 / (left + right records); None for the others."""
    return tf_shares(index, tf_counts, tf_present, left_records, right_records
                     ).of_records(index.tf_codes)


def decided_pairs(spec: ModelSpec, pairs: pd.DataFrame) -> pd.DataFrame:
    """All chunks' kept pairs (`score_pairs` columns, any order) reduced to the best
    (`best_pairs`) and assigned one to one (`assign.assign`): with `decision`. A pure
    function: on a Dask worker it decides the combined pairs where they are."""
    if len(pairs):
        pairs = best_pairs(spec, pairs)
        pairs["decision"] = assign(pairs, spec, dedupe=False)
    else:
        pairs["decision"] = pd.Series(dtype=object)
    return pairs


def best_pairs(spec: ModelSpec, pairs: pd.DataFrame) -> pd.DataFrame:
    """The pairs (`score_pairs` columns) sorted by (left, right) and reduced to those worth
    keeping over all of them: at or above the clerical band, deterministic, or among their
    left record's best `EXPLAIN_TOP` (a pair among the best of all pairs is among the best of
    any subset holding it, so pruning per chunk, per group of chunks and again at the end is
    exact)."""
    if not len(pairs):
        return pairs
    # The order (stable, as a mergesort on (left, right)) and the mask on arrays, then one
    # copy of the kept rows: the frame is not copied whole in between.
    order = np.lexsort((pairs["right"].to_numpy(), pairs["left"].to_numpy()))
    keep = worth_keeping(pairs["left"].to_numpy()[order],
                         pairs["match_weight"].to_numpy()[order],
                         pairs["match_probability"].to_numpy()[order],
                         min(spec.decisions.possible_probability, 0.5))
    keep |= pairs["deterministic"].to_numpy(dtype=bool)[order]
    return pairs.take(order[keep]).reset_index(drop=True)


def pick_sample(candidates: list[pd.DataFrame], chosen: np.ndarray) -> pd.DataFrame:
    """The training sample from the chunks' sample candidates (`ChunkObservation.sample`
    frames, with `SAMPLE_HASH`): the records whose hash is among `chosen`
    (`StreamedLinkage.chosen_hashes`), in the right side's order (`POSITION`): the frame
    `StreamedLinkage.training_sample` gives when the records were merged where it runs."""
    frames = [c for c in candidates if len(c)]
    if not frames:
        return pd.DataFrame()
    both = pd.concat(frames)
    both = both[np.isin(both[SAMPLE_HASH].to_numpy(dtype=np.uint64), chosen)]
    return both.sort_values(POSITION, kind="stable").reset_index(drop=True)


def fit_on_sample(spec: ModelSpec, left: pd.DataFrame, sample: pd.DataFrame, records: int,
                  threads: int | None = None) -> Model:
    """Train the linkage of `left` (features) with the right side's `sample` (features, in the
    right side's order): `Linker.fit` on their candidate pairs (u from random pairs, the EM
    sessions, the prior), its training record adding the right side's size (`records`) and
    the sample's. A pure function of its arguments, so a Dask worker can run it."""
    linker = Linker(spec, threads=threads)
    if not len(sample):
        sample = pd.DataFrame(columns=left.columns)
    lf, rf = linker.inputs(left), linker.inputs(sample)
    li, ri, levels, _ = linker.executor.candidates_with_levels(linker, left, sample, lf, rf)
    return with_sample_record(linker.fit(left, sample, levels, lf, rf, li, ri), records,
                              len(sample))


def with_sample_record(model: Model, records: int, sample_records: int) -> Model:
    """`model` with its training record adding the right side's size (`records`) and its
    training sample's (`sample_records`): what a model trained on a sample says of it."""
    model.training = {**model.training, "right_records": records,
                      "right_sample_records": sample_records}
    return model


@dataclass
class ChunkCandidates:
    """One chunk's candidate pairs with the left side (`chunk_candidates`): `left` (int32,
    or int64 past 2**31 - 1: left positions), `right` (likewise: positions within the
    chunk), sorted by left then right; `levels` (int8, pairs × comparisons); `stats`, the
    chunk's pairs per blocking rule."""

    left: np.ndarray
    right: np.ndarray
    levels: np.ndarray
    stats: list[PassStats]


def chunk_codes_of(linker: Linker, index: LeftIndex, chunk: pd.DataFrame) -> list[np.ndarray]:
    """Per blocking rule, the left side's code of each chunk record's key (int64, -1: no
    left record has it, or missing): what `chunk_pair_positions` pairs on."""
    return [index.chunk_codes(r, rule_keys(chunk, block_pass.columns))
            for r, block_pass in enumerate(linker.passes)]


def chunk_pair_positions(linker: Linker, index: LeftIndex, usable: list[np.ndarray],
                         chunk: pd.DataFrame, codes: list[np.ndarray] | None = None,
                         chunk_first: bool = False
                         ) -> tuple[np.ndarray, np.ndarray, list[PassStats]]:
    """Every blocking rule's pairs of the left side with one chunk of the right side's
    records, in blocks `usable` over the whole right side (`usable_blocks`), unioned (each
    pair counted by its first rule): left positions and positions within the chunk (int64,
    sorted by left then right; by the chunk's, then the left's, with `chunk_first`) and
    the statistics per rule. `codes`: the chunk's `chunk_codes_of`, when already made."""
    n = len(chunk)
    n_left = max(len(index.rule_codes[0]) if index.rule_codes else 0, 1)
    codes = chunk_codes_of(linker, index, chunk) if codes is None else codes
    pass_pairs, names = [], []
    for r, block_pass in enumerate(linker.passes):
        pairs = block_pairs(in_usable(index.rule_codes[r], usable[r]),
                            in_usable(codes[r], usable[r]), dedupe=False)
        pass_pairs.append(pairs[:, 1] * n_left + pairs[:, 0] if chunk_first else
                          pairs[:, 0] * max(n, 1) + pairs[:, 1])
        names.append(block_pass.name)
    pair_codes, stats = union_of_passes(pass_pairs, names)
    if chunk_first:
        return pair_codes % n_left, pair_codes // n_left, stats
    return pair_codes // max(n, 1), pair_codes % max(n, 1), stats


@dataclass
class TakingPart:
    """The records of a set of pairs (li: left positions, ri: positions within a chunk):
    their inputs (`left`, `right`: column → array, only those records), their positions
    (`left_rows`, `right_rows`, ascending) and each pair's positions among them (`li`,
    `ri`: int64). Comparing and scoring on these alone gives the levels of the whole: the
    encodings are per record."""

    left: dict[str, np.ndarray]
    right: dict[str, np.ndarray]
    left_rows: np.ndarray
    right_rows: np.ndarray
    li: np.ndarray
    ri: np.ndarray

    @classmethod
    def of(cls, left_inputs: dict[str, np.ndarray], chunk: pd.DataFrame, li: np.ndarray,
           ri: np.ndarray) -> TakingPart:
        return cls.between(left_inputs, _columns(chunk, left_inputs), li, ri)

    @classmethod
    def chunk_left(cls, chunk: pd.DataFrame, right_inputs: dict[str, np.ndarray],
                   li: np.ndarray, ri: np.ndarray) -> TakingPart:
        """`of` with the roles swapped: the chunk's records are the pairs' left side (li:
        positions within the chunk), `right_inputs` the right side's (ri: its positions)."""
        return cls.between(_columns(chunk, right_inputs), right_inputs, li, ri)

    @classmethod
    def between(cls, left: dict[str, np.ndarray], right: dict[str, np.ndarray],
                li: np.ndarray, ri: np.ndarray) -> TakingPart:
        """The pairs (li, ri) of two sides' inputs (column → array over each side)."""
        left_rows, li_sub = np.unique(li, return_inverse=True)
        right_rows, ri_sub = np.unique(ri, return_inverse=True)
        return cls({c: v[left_rows] for c, v in left.items()},
                   {c: v[right_rows] for c, v in right.items()},
                   left_rows.astype(np.int64), right_rows.astype(np.int64),
                   li_sub.astype(np.int64).ravel(), ri_sub.astype(np.int64).ravel())

    def levels(self, linker: Linker) -> np.ndarray:
        """The pairs' levels (int8, pairs × comparisons); the comparer keeps nothing."""
        comparer = linker.comparer
        levels = comparer.levels(self.left, self.right, self.li, self.ri)
        comparer._encoding = None  # per chunk: do not keep this chunk's encodings alive
        return levels


def _columns(chunk: pd.DataFrame, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The chunk's columns of the other side's `inputs` (object arrays: inputs are feature
    columns, `Linker.inputs`)."""
    return {c: chunk[c].to_numpy(dtype=object) for c in inputs}


def joined_inputs(parts: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Row chunks' comparison inputs (`Linker.inputs` of each, in row order) as those of
    the chunks joined: each column's arrays concatenated (the inputs are per record)."""
    return {column: np.concatenate([part[column] for part in parts]) for column in parts[0]}


def chunk_candidates(linker: Linker, index: LeftIndex, usable: list[np.ndarray],
                     left_inputs: dict[str, np.ndarray], chunk: pd.DataFrame
                     ) -> ChunkCandidates:
    """One chunk's candidate pairs and their levels (`chunk_pair_positions`,
    `TakingPart.levels`): a pure function, for a worker too."""
    li, ri, stats = chunk_pair_positions(linker, index, usable, chunk)
    levels = TakingPart.of(left_inputs, chunk, li, ri).levels(linker)
    # held until scored: int32 positions where they fit (7.6 M pairs: 61 MB less)
    return ChunkCandidates(_narrowed(li), _narrowed(ri), levels, stats)


def _narrowed(positions: np.ndarray) -> np.ndarray:
    """int32 positions when every one fits, else as they are (int64)."""
    fits = int(positions.max(initial=0)) < np.iinfo(np.int32).max
    return positions.astype(np.int32) if fits else positions


def score_chunk(linker: Linker, index: LeftIndex, usable: list[np.ndarray], model: Model,
                tf_left: list[np.ndarray | None], left_inputs: dict[str, np.ndarray],
                chunk: pd.DataFrame) -> ScoredChunk:
    """The second pass over one chunk (a pure function, for a worker too): every rule's
    pairs in usable blocks, unioned (each pair counted by its first rule), their levels and
    scores (`inference.score_pairs`); `right` is the record's `POSITION`."""
    li, local, stats = chunk_pair_positions(linker, index, usable, chunk)
    return ScoredChunk(scored_pairs(linker, model, tf_left, left_inputs, chunk, li, local,
                                    chunk[POSITION].to_numpy(dtype=np.int64)), stats)


def scored_pairs(linker: Linker, model: Model, tf_left: list[np.ndarray | None],
                 left_inputs: dict[str, np.ndarray], chunk: pd.DataFrame, li: np.ndarray,
                 ri: np.ndarray, positions: np.ndarray, levels: np.ndarray | None = None
                 ) -> pd.DataFrame:
    """The pairs (li: left positions, ri: positions within `chunk`) worth keeping among
    them, scored (`inference.score_pairs` columns), `left` the left position and `right`
    the record's position over the whole side (`positions`, per chunk record). `levels`:
    the pairs' levels when already compared (else compared here)."""
    part = TakingPart.of(left_inputs, chunk, li, ri)
    levels = part.levels(linker) if levels is None else levels
    tf = [None if t is None else t[li] for t in tf_left]
    pairs = score_pairs(model, linker.comparisons, linker.spec.decisions, part.left,
                        part.right, part.li, part.ri, levels, tf)
    # Back to positions over the whole sides.
    pairs["left"] = part.left_rows[pairs["left"].to_numpy()]
    pairs["right"] = positions[part.right_rows[pairs["right"].to_numpy()]]
    return pairs
