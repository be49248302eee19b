"""The streamed linkage's second pass as a join partitioned by blocking key.

`streamed.score_chunk` scores a chunk of right records against the whole left side (on a
Dask cluster: the left side's index and comparison inputs broadcast to every worker, a
broadcast join). Here the left side is cut instead: for each blocking rule r, its keys are
hashed into `partitions` parts, and part (r, p) holds only the left records whose rule-r key
hashes to p and whose block is usable (neither empty nor too big over the whole right side,
`StreamedLinkage.usable_blocks`). A chunk is cut the same way (`split_chunk`): its piece
(r, p) holds the records whose rule-r key hashes to p. Piece (r, p) is scored against part
(r, p) alone (`score_partition`): rule r's pairs are the records with equal keys; a pair
that an earlier rule q < r also finds (equal, present keys in rule q, in a usable block) is
left to rule q, so every pair is scored once and counted by its first rule, as
`blocking.union_of_passes` counts it. Every cell of the result (levels, weights, term
frequencies of the whole sides, probabilities, the pairs worth keeping) is what
`score_chunk` gives for the same pair: `best_pairs` over the parts gives the same pairs.

A record is in at most one part per rule, so the parts hold the left side at most once per
rule, spread over the partitions: each of W workers holding P / W parts of each rule holds
about (records in usable blocks, summed over the rules) / W left records, where a broadcast
puts the whole left side on each (`partition_plan`; `roster/join.py` chooses between them).
The first pass's lookups are partitioned the same way (`key_parts`, `chunk_key_pieces`,
`count_keys`, `could_pair_mask`).

Pure functions of frames and arrays (no cluster, no files): `roster.partitioned_on_dask`
and `roster.on_dask.KeyParts` place the parts on workers and run these as tasks;
`second_pass.link_roster_partitioned` runs the second pass's in a loop.

Source: the hash-partitioned join (a "shuffle join") of parallel databases, e.g. DeWitt &
Gray, "Parallel database systems", CACM 35(6), 1992; the broadcast join is its alternative
when one side is small.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.link.blocking import PassStats, block_pairs
from pipeline.link.engine import Linker
from pipeline.link.fellegi_sunter import Model
from pipeline.link.inference import score_pairs
from pipeline.link.streamed import (
    POSITION,
    LeftIndex,
    ScoredChunk,
    StreamedLinkage,
    in_usable,
    rule_keys,
)

PARTITION_HASH_KEY = "bidui-partition!"  # 16 bytes: pandas' SipHash key for the partitions
KEY_COLUMN = "_block_key_{}"  # a piece's key of rule q (object: '' missing)


def partition_where(keys: np.ndarray, partitions: int) -> np.ndarray:
    """`partition_of` each key, -1 where it is missing ('': in no partition)."""
    present = keys != ""
    where = np.full(len(keys), -1, dtype=np.int64)
    where[present] = partition_of(keys[present], partitions)
    return where


def partition_of(keys: np.ndarray, partitions: int) -> np.ndarray:
    """The partition (int64 in [0, partitions)) of each blocking key (object array of text):
    its SipHash with a fixed key, modulo `partitions`; the same on every machine and in every
    process (no Python hash seed), so both sides of the join agree."""
    hashes = pd.util.hash_array(np.asarray(keys, dtype=object), hash_key=PARTITION_HASH_KEY,
                                categorize=True)
    return (hashes % np.uint64(max(partitions, 1))).astype(np.int64)


@dataclass
class LeftPart:
    """Part (rule, partition) of the left side: `rows` (int64 positions over the left side,
    ascending), `keys` (per rule q ≤ rule, each row's key of rule q, object; '' where it has
    none or its block of rule q is not usable), the rows' comparison `inputs` (object
    arrays, `Linker.inputs`) and, per comparison, the rows' term-frequency u (float64, over
    the whole sides: `StreamedLinkage.tf_left`) or None."""

    rule: int
    partition: int
    rows: np.ndarray
    keys: list[np.ndarray]
    inputs: dict[str, np.ndarray]
    tf: list[np.ndarray | None]
    _block: tuple[np.ndarray, pd.Index] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.rows)

    def block_index(self) -> tuple[np.ndarray, pd.Index]:
        """Each row's code of its rule-`rule` key (int64) and the distinct keys (a pandas
        Index: code = position), made once where the part lives and kept for every piece."""
        if self._block is None:
            codes, uniques = pd.factorize(self.keys[self.rule])
            self._block = codes.astype(np.int64), pd.Index(uniques, dtype=object)
        return self._block


def usable_keys(linkage: StreamedLinkage) -> list[np.ndarray]:
    """Per blocking rule, each left record's key (object array), '' where it has none or its
    block is not usable over the whole right side (`StreamedLinkage.usable_blocks`)."""
    return usable_keys_of(linkage.linker, linkage.left, linkage.index.rule_codes,
                          linkage.usable_blocks()[0])


def usable_keys_of(linker: Linker, left: pd.DataFrame, rule_codes: list[np.ndarray],
                   usable: list[np.ndarray]) -> list[np.ndarray]:
    """`usable_keys` from its parts (a pure function: a Dask task runs it where `left` is):
    the left side's features, each record's key code per rule (`LeftIndex.rule_codes`) and
    per rule the usable blocks (bool per key code)."""
    out = []
    for r, block_pass in enumerate(linker.passes):
        keys = rule_keys(left, block_pass.columns)
        keys[in_usable(rule_codes[r], usable[r]) < 0] = ""
        out.append(keys)
    return out


@dataclass
class PartitionPlan:
    """Which left records go to which part: per rule, each left record's key ('' outside
    usable blocks) and partition (int64, -1: in no part of that rule)."""

    partitions: int
    keys: list[np.ndarray]
    partition: list[np.ndarray]

    @property
    def part_records(self) -> int:
        """Left records over all parts (a record counts once per rule it is in)."""
        return int(sum((p >= 0).sum() for p in self.partition))

    def per_worker(self, workers: int) -> float:
        """Left records each of `workers` workers holds when the parts are spread evenly."""
        return self.part_records / max(workers, 1)

    def part_sizes(self) -> np.ndarray:
        """Left records per part (int64, rules × partitions)."""
        return np.array([np.bincount(where[where >= 0], minlength=self.partitions)
                         for where in self.partition], dtype=np.int64).reshape(
                             len(self.partition), self.partitions)


def partition_plan(linkage: StreamedLinkage, partitions: int) -> PartitionPlan:
    """The plan of the left side's parts (after `linkage.fit()`: the first pass's block
    sizes decide which blocks are usable)."""
    return plan_of(usable_keys(linkage), partitions)


def plan_of(keys: list[np.ndarray], partitions: int) -> PartitionPlan:
    """The plan for the left side's usable keys per rule (`usable_keys`)."""
    return PartitionPlan(partitions, keys, [partition_where(k, partitions) for k in keys])


def left_parts(linkage: StreamedLinkage, plan: PartitionPlan) -> Iterator[LeftPart]:
    """Every part (rule, partition) of the left side, rule by rule (one at a time: the caller
    ships each and lets it go). Parts without records are left out."""
    return left_parts_of(linkage.linker.inputs(linkage.left), linkage.tf_left(), plan)


def left_parts_of(inputs: dict[str, np.ndarray], tf: list[np.ndarray | None],
                  plan: PartitionPlan) -> Iterator[LeftPart]:
    """`left_parts` from the left side's comparison inputs (`Linker.inputs`) and term
    frequencies (`StreamedLinkage.tf_left`)."""
    for r, where in enumerate(plan.partition):
        for p in range(plan.partitions):
            rows = np.flatnonzero(where == p)
            if not len(rows):
                continue
            yield LeftPart(r, p, rows, [k[rows] for k in plan.keys[:r + 1]],
                           {c: v[rows] for c, v in inputs.items()},
                           [None if t is None else t[rows] for t in tf])


def chunk_left_parts(inputs: dict[str, np.ndarray], tf: list[np.ndarray | None],
                     plan: PartitionPlan, start: int) -> dict[tuple[int, int], LeftPart]:
    """`left_parts_of` for one row chunk of the left side: its comparison inputs, its
    records' term frequencies and its plan (`plan_of` of its records' usable keys), the
    rows as positions over the whole side (`start`: the chunk's first), by (rule,
    partition). `joined_part` makes each part from the chunks' pieces of it."""
    out = {}
    for part in left_parts_of(inputs, tf, plan):
        part.rows = part.rows + start
        out[(part.rule, part.partition)] = part
    return out


def joined_part(pieces: list[LeftPart]) -> LeftPart:
    """One part from its pieces in the left side's row chunks, given in row order: what
    `left_parts` gives of the chunks joined (every array is per record, in row order)."""
    first = pieces[0]
    return LeftPart(first.rule, first.partition, np.concatenate([p.rows for p in pieces]),
                    [np.concatenate([p.keys[q] for p in pieces])
                     for q in range(len(first.keys))],
                    {c: np.concatenate([p.inputs[c] for p in pieces]) for c in first.inputs},
                    [None if t is None else np.concatenate([p.tf[i] for p in pieces])
                     for i, t in enumerate(first.tf)])


def piece_columns(inputs: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """The columns of a chunk a piece carries: the comparison inputs (`Linker.inputs`' keys,
    which are feature columns), `POSITION` and `extra` (what the caller needs of the
    records a pair names), each once."""
    return list(dict.fromkeys([*inputs, POSITION, *extra]))


def split_chunk(linker: Linker, chunk: pd.DataFrame, partitions: int, columns: list[str]
                ) -> list[pd.DataFrame]:
    """A chunk of right records (features with `POSITION`) cut into its pieces, one per
    (rule, partition), in the order rule × partitions + partition: each the records (in the
    chunk's order) whose key of that rule hashes to that partition, with `columns` and every
    rule's key (`KEY_COLUMN`). A record without a key of a rule is in no piece of it."""
    keys = [rule_keys(chunk, p.columns) for p in linker.passes]
    base = chunk[columns].reset_index(drop=True)
    for q, k in enumerate(keys):
        base[KEY_COLUMN.format(q)] = k
    pieces = []
    for k in keys:
        where = partition_where(k, partitions)
        for p in range(partitions):
            pieces.append(base.take(np.flatnonzero(where == p)).reset_index(drop=True))
    return pieces


def score_partition(linker: Linker, model: Model, part: LeftPart, piece: pd.DataFrame
                    ) -> ScoredChunk:
    """Score piece (r, p) of a chunk against part (r, p) of the left side: rule r's pairs
    (equal keys) that no earlier rule finds, their levels and scores
    (`inference.score_pairs`), `left` as the left record's position over the left side and
    `right` as the right record's `POSITION`; the statistics of rule r for them."""
    r = part.rule
    name = linker.passes[r].name
    right_keys = piece[KEY_COLUMN.format(r)].to_numpy(dtype=object) if len(piece) else \
        np.zeros(0, dtype=object)
    codes_left, index = part.block_index()
    pairs = block_pairs(codes_left, index.get_indexer(right_keys).astype(np.int64),
                        dedupe=False)
    li, ri = pairs[:, 0], pairs[:, 1]
    found = len(li)
    earlier = np.zeros(found, dtype=bool)
    for q in range(r):  # a pair an earlier rule finds is that rule's (`union_of_passes`)
        left_q = part.keys[q][li]
        right_q = piece[KEY_COLUMN.format(q)].to_numpy(dtype=object)[ri]
        earlier |= (left_q != "") & (left_q == right_q)
    li, ri = li[~earlier], ri[~earlier]
    stats = [PassStats(name, found, len(li))]
    # Sorted by (left, right) as block_pairs gives them, the pieces' rows in the chunk's
    # order: ties in `worth_keeping` fall to the smaller right position, as in score_chunk.
    left_rows, li_sub = np.unique(li, return_inverse=True)
    right_rows, ri_sub = np.unique(ri, return_inverse=True)
    lf = {c: v[left_rows] for c, v in part.inputs.items()}
    rf = {c: piece[c].to_numpy(dtype=object)[right_rows] for c in part.inputs}
    comparer = linker.comparer
    levels = comparer.levels(lf, rf, li_sub.astype(np.int64), ri_sub.astype(np.int64))
    comparer._encoding = None  # per piece: do not keep this piece's encodings alive
    tf = [None if t is None else t[li] for t in part.tf]
    scored = score_pairs(model, linker.comparisons, linker.spec.decisions, lf, rf,
                         li_sub.astype(np.int64), ri_sub.astype(np.int64), levels, tf)
    positions = piece[POSITION].to_numpy(dtype=np.int64) if len(piece) else \
        np.zeros(0, dtype=np.int64)
    scored["left"] = part.rows[left_rows[scored["left"].to_numpy()]]
    scored["right"] = positions[right_rows[scored["right"].to_numpy()]]
    return ScoredChunk(scored, stats)


# -- the first pass: the civil side's keys in parts --------------------------------------------


@dataclass
class KeyPart:
    """Part `partition` of the left side's distinct keys of one blocking rule (`kind`
    'rule', `which` its index) or of one term-frequency column's values (`kind` 'tf',
    `which` the column), for the first pass: the `keys` (a pandas Index of text) and their
    `codes` in the whole side's index (`LeftIndex.rule_index[which]` or
    `LeftIndex.tf_index[which]`; int64)."""

    kind: str
    which: int | str
    partition: int
    keys: pd.Index
    codes: np.ndarray


@dataclass
class KeyCounts:
    """What a chunk's piece found in a `KeyPart`: the whole side's `codes` (int64) of the keys
    found, how many of the chunk's records carry each (`counts`, int64), and the keys
    themselves (`found`, object: which records could pair)."""

    kind: str
    which: int | str
    codes: np.ndarray
    counts: np.ndarray
    found: np.ndarray


def key_parts(index: LeftIndex, partitions: int) -> list[KeyPart]:
    """The left side's keys cut into parts, in this order: every rule's, then every
    term-frequency column's (in `index.tf_index` order), `partitions` parts each (empty parts
    included, so the order is fixed)."""
    parts = []
    cut = [("rule", r, keys) for r, keys in enumerate(index.rule_index)]
    cut += [("tf", column, values) for column, values in index.tf_index.items()]
    for kind, which, keys in cut:
        where = partition_of(keys.to_numpy(dtype=object), partitions)
        for p in range(partitions):
            chosen = np.flatnonzero(where == p)
            parts.append(KeyPart(kind, which, p, keys[chosen], chosen.astype(np.int64)))
    return parts


def chunk_key_pieces(linker: Linker, tf_columns: list[str], chunk: pd.DataFrame,
                     partitions: int) -> tuple[list[pd.Series], list[np.ndarray]]:
    """A chunk's keys cut as `key_parts` cuts the left side's (the same order; `tf_columns`:
    `list(index.tf_index)`): per part, the chunk's distinct keys that hash there (the
    Series' index, object) and how many of its records carry each (int64); missing keys
    ('') are in no piece. Also each record's key of every rule (object arrays, for
    `could_pair_mask`: made once)."""
    keys = [rule_keys(chunk, block_pass.columns) for block_pass in linker.passes]
    pieces = []
    for values in [*keys, *(chunk[c].to_numpy(dtype=object) for c in tf_columns)]:
        pieces += _counts_by_partition(values, partitions)
    return pieces, keys


def _counts_by_partition(keys: np.ndarray, partitions: int) -> list[pd.Series]:
    codes, uniques = pd.factorize(keys[keys != ""])
    counts = np.bincount(codes, minlength=len(uniques)).astype(np.int64)
    where = partition_of(np.asarray(uniques, dtype=object), partitions)
    return [pd.Series(counts[where == p], index=pd.Index(uniques[where == p], dtype=object))
            for p in range(partitions)]


def count_keys(part: KeyPart, piece: pd.Series) -> KeyCounts:
    """Look a chunk's piece up in its part of the left side's keys: the keys found, their
    whole-side codes and the chunk's count of each."""
    position = part.keys.get_indexer(piece.index) if len(piece) else np.zeros(0, dtype=int)
    hit = position >= 0
    return KeyCounts(part.kind, part.which, part.codes[position[hit]],
                     piece.to_numpy(dtype=np.int64)[hit],
                     piece.index.to_numpy(dtype=object)[hit])


def could_pair_mask(keys: list[np.ndarray], found: list[KeyCounts]) -> np.ndarray:
    """Per record of a chunk (bool): its key of some blocking rule (`keys`: per rule, each
    record's key, as `chunk_key_pieces` gives them) is one the left side has (`found`: the
    chunk's `KeyCounts` of every rule part; tf parts are ignored). The mask
    `streamed.observe_chunk` gives, from the parts instead of the whole index."""
    could = np.zeros(len(keys[0]) if keys else 0, dtype=bool)
    for r, rule_keys_ in enumerate(keys):
        known = [c.found for c in found if c.kind == "rule" and c.which == r]
        index = pd.Index(np.concatenate(known) if known else np.zeros(0, dtype=object),
                         dtype=object)
        could |= index.get_indexer(rule_keys_) >= 0
    return could
