"""The roster's second pass: train on the sample, score the chunks of records that could
pair, assign.

`link_roster` gives what `people.link_civil_members` gives for a roster held in memory: the
member links (civil person → member, decisions match / possible), the model as
link_model.json records it, and the blocking statistics. Scoring one chunk is one pure
function, `second_pass_chunk`, run here or on a Dask worker (`on_dask.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.link.assign import MATCH, POSSIBLE
from pipeline.link.fellegi_sunter import Model
from pipeline.link.partitioned import (
    LeftPart,
    left_parts,
    partition_plan,
    piece_columns,
    score_partition,
    split_chunk,
)
from pipeline.link.people import member_links_frame
from pipeline.link.remote import RemoteChunks, rows_at
from pipeline.link.spec import ModelSpec
from pipeline.link.streamed import (
    POSITION,
    LeftIndex,
    ScoredChunk,
    StreamedLinkage,
    best_pairs,
    decided_pairs,
    score_chunk,
)
from pipeline.roster.first_pass import RosterPass, _linker
from pipeline.schema import SOURCE_FILE

MEMBER_COLUMNS = ("row_key", "member_id", "id_valid", SOURCE_FILE)


@dataclass
class ScoreContext:
    """What scoring every chunk needs (shipped once to each Dask worker): the spec, the left
    side's index and inputs, the usable blocks, the model and the left records' term
    frequencies."""

    spec: ModelSpec
    index: LeftIndex
    usable: list[np.ndarray]
    model: Model
    tf_left: list[np.ndarray | None]
    left_inputs: dict[str, np.ndarray]

    @classmethod
    def of(cls, linkage: StreamedLinkage) -> ScoreContext:
        """After `linkage.fit()`."""
        if linkage.model is None:
            raise RuntimeError("the linkage is not trained yet")
        usable, _ = linkage.usable_blocks()
        return cls(linkage.spec, linkage.index, usable, linkage.model, linkage.tf_left(),
                   linkage.linker.inputs(linkage.left))


@dataclass
class ScoredPart:
    """One chunk's kept pairs and statistics, and the member rows those pairs name
    (`MEMBER_COLUMNS`, indexed by `POSITION`)."""

    scored: ScoredChunk
    members: pd.DataFrame


def second_pass_chunk(context: ScoreContext, chunk: pd.DataFrame) -> ScoredPart:
    """Score one chunk of records that could pair (a pure function of its arguments)."""
    linker = _linker(context.spec)
    return _with_members(score_chunk(linker, context.index, context.usable, context.model,
                                     context.tf_left, context.left_inputs, chunk), chunk)


def second_pass_piece(spec: ModelSpec, model: Model, part: LeftPart, piece: pd.DataFrame
                      ) -> ScoredPart:
    """Score one piece of a chunk (`partitioned.split_chunk`, with `MEMBER_COLUMNS`) against
    its part of the civil side (`partitioned.score_partition`; a pure function)."""
    return _with_members(score_partition(_linker(spec), model, part, piece), piece)


def _with_members(scored: ScoredChunk, records: pd.DataFrame) -> ScoredPart:
    rights = np.unique(scored.pairs["right"].to_numpy())
    return ScoredPart(scored, records.set_index(POSITION).loc[rights, list(MEMBER_COLUMNS)])


def combine_parts(spec: ModelSpec, parts: list[ScoredPart]) -> ScoredPart:
    """Several chunks' scored parts as one (a pure function, so Dask workers can reduce the
    parts in a tree before the driver sees them): their pairs pruned to the best over all of
    them (`streamed.best_pairs`: exact, the driver's `finish` keeps the same pairs), the
    member rows those pairs still name, and the statistics of every chunk."""
    if not parts:
        raise ValueError("no scored part to combine")
    frames = [p.scored.pairs for p in parts if len(p.scored.pairs)]
    pairs = best_pairs(spec, pd.concat(frames, ignore_index=True)) if frames else \
        parts[0].scored.pairs.iloc[:0]
    stats = [s for p in parts for s in p.scored.stats]
    held = [p.members for p in parts if len(p.members)]
    members = named_members(held, pairs) if held else parts[0].members
    return ScoredPart(ScoredChunk(pairs, stats), members)


def named_members(members: list[pd.DataFrame], pairs: pd.DataFrame) -> pd.DataFrame:
    """The member rows (`MEMBER_COLUMNS`, indexed by `POSITION`; a non-empty list of frames)
    that `pairs` still name in their `right` column, each once."""
    held = pd.concat(members)
    named = np.unique(pairs["right"].to_numpy())
    return held[held.index.isin(named) & ~held.index.duplicated()]


def link_roster(civil: pd.DataFrame, roster: RosterPass) -> tuple[pd.DataFrame, dict,
                                                                   list[dict]]:
    """Member links (one row per linked pair: civil_row_key, civil_case_id, civil_member_no,
    member_row_key, member_id, match_probability, match_weight, decision, method; string
    columns as `people.link_civil_members`), the model (dict) and the statistics per
    blocking rule (dicts). `civil`: the normalised civil frame the first pass saw."""
    linkage = roster.linkage
    if linkage.model is None:  # the roster stage trains it
        linkage.fit()
    context = ScoreContext.of(linkage)
    return finish_roster(civil, roster, (second_pass_chunk(context, chunk)
                                         for chunk in roster.could_pair))


def link_roster_partitioned(civil: pd.DataFrame, roster: RosterPass, partitions: int
                            ) -> tuple[pd.DataFrame, dict, list[dict]]:
    """`link_roster` as a join partitioned by blocking key (`pipeline.link.partitioned`),
    every part and piece here, one after another: what `partitioned_on_dask` runs as tasks.
    The same member links, model and statistics as `link_roster`."""
    linkage = roster.linkage
    if linkage.model is None:
        linkage.fit()
    parts = list(left_parts(linkage, partition_plan(linkage, partitions)))
    columns = piece_columns(linkage.linker.inputs(linkage.left.iloc[:0]), MEMBER_COLUMNS)

    def scored() -> Iterable[ScoredPart]:
        for chunk in roster.could_pair:
            pieces = split_chunk(linkage.linker, chunk, partitions, columns)
            for part in parts:
                yield second_pass_piece(linkage.spec, linkage.model, part,
                                        pieces[part.rule * partitions + part.partition])

    return finish_roster(civil, roster, scored())


def decide_part(spec: ModelSpec, part: ScoredPart) -> ScoredPart:
    """The whole roster's combined part (`combine_parts` of every chunk's) decided where it
    is (a pure function, for the Dask worker that combined it): its pairs assigned one to
    one (`streamed.decided_pairs`, as `StreamedLinkage.finish`), only the linked ones (match,
    possible) kept, with the member rows they name and every chunk's statistics. The driver
    then receives a few rows per link instead of the best pairs of every civil person
    (`finish_roster(..., decided=...)`)."""
    pairs = decided_pairs(spec, part.scored.pairs)
    pairs = pairs[pairs["decision"].isin([MATCH, POSSIBLE])].reset_index(drop=True)
    members = named_members([part.members], pairs) if len(part.members) else part.members
    return ScoredPart(ScoredChunk(pairs, part.scored.stats), members)


def finish_roster(civil: pd.DataFrame | RemoteChunks, roster: RosterPass,
                  parts: Iterable[ScoredPart] = (), *, decided: ScoredPart | None = None
                  ) -> tuple[pd.DataFrame, dict, list[dict]]:
    """Add the chunks' scored parts (in chunk order), assign, and build the member links;
    or, with `decided` (`decide_part` of them all, done elsewhere, instead of `parts`),
    build them from its linked pairs. `civil` may be held on the workers (`RemoteChunks`):
    only the linked persons' rows come here."""
    linkage = roster.linkage
    members: list[pd.DataFrame] = []
    if decided is not None:
        pairs, stats = decided.scored.pairs, linkage.merged_stats(decided.scored.stats)
        if len(decided.members):
            members.append(decided.members)
    else:
        for part in parts:
            linkage.add_scored(part.scored)
            if len(part.members):
                members.append(part.members)
            if len(linkage.kept) == 1 and len(members) > 1:  # just pruned: drop unnamed
                members = [named_members(members, linkage.kept[0])]
        pairs, stats = linkage.finish()
        pairs = pairs[pairs["decision"].isin([MATCH, POSSIBLE])].reset_index(drop=True)
    member = pd.concat(members) if members else pd.DataFrame(
        columns=list(MEMBER_COLUMNS), index=pd.Index([], dtype="int64", name=POSITION))
    member = member[~member.index.duplicated()]
    c_rows = rows_at(civil, pairs["left"].to_numpy(dtype=np.int64))
    m_rows = member.loc[pairs["right"].to_numpy()]
    # Features hold id_valid as "1" / "": the rows' own boolean, as the roster frame has it.
    frame = member_links_frame(pairs, c_rows, m_rows.assign(
        id_valid=m_rows["id_valid"].to_numpy(dtype=object) == "1"))
    linked = m_rows[[SOURCE_FILE, "row_key"]].astype(str).drop_duplicates("row_key")
    roster.linked_per_file = {str(k): int(v) for k, v in
                              linked[SOURCE_FILE].value_counts().items()}
    model = linkage.model.as_dict() if linkage.model is not None else {}
    return frame, model, [vars(s) for s in stats]
