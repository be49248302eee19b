"""The roster's second pass: train on the sample, score the spilled chunks, assign.

`link_roster` gives what `people.link_civil_members` gives for a roster held in memory: the
member links (civil person → member, decisions match / possible), the model as
link_model.json records it, and the blocking statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.link.assign import MATCH, POSSIBLE
from pipeline.link.streamed import POSITION
from pipeline.roster.first_pass import RosterPass
from pipeline.schema import SOURCE_FILE

ID_EXACT, PROBABILISTIC = "id_exact", "probabilistic"
MEMBER_COLUMNS = ("row_key", "member_id", "id_valid", SOURCE_FILE)


def link_roster(civil: pd.DataFrame, roster: RosterPass) -> tuple[pd.DataFrame, dict,
                                                                   list[dict]]:
    """Member links (one row per linked pair: civil_row_key, civil_case_id, civil_member_no,
    member_row_key, member_id, match_probability, match_weight, decision, method; string
    columns as `people.link_civil_members`), the model (dict) and the statistics per
    blocking rule (dicts). `civil`: the normalised civil frame the first pass saw."""
    linkage = roster.linkage
    model = linkage.fit()
    members: list[pd.DataFrame] = []
    for chunk in roster.could_pair:
        scored = linkage.score(chunk)
        rights = np.unique(scored.pairs["right"].to_numpy())
        if len(rights):
            rows = chunk.set_index(POSITION).loc[rights, list(MEMBER_COLUMNS)]
            members.append(rows)
    pairs, stats = linkage.finish()
    pairs = pairs[pairs["decision"].isin([MATCH, POSSIBLE])].reset_index(drop=True)
    member = pd.concat(members) if members else pd.DataFrame(
        columns=list(MEMBER_COLUMNS), index=pd.Index([], dtype="int64", name=POSITION))
    member = member[~member.index.duplicated()]
    c_rows = civil.iloc[pairs["left"].to_numpy()]
    m_rows = member.loc[pairs["right"].to_numpy()]
    exact = (pairs["id_number_level"] == "exact").to_numpy(dtype=bool)
    both_valid = (c_rows["id_valid"].to_numpy(dtype=bool)
                  & (m_rows["id_valid"].to_numpy(dtype=object) == "1"))
    frame = pd.DataFrame({
        "civil_row_key": c_rows["row_key"].to_numpy(),
        "civil_case_id": c_rows["case_id"].to_numpy(),
        "civil_member_no": c_rows["member_no"].to_numpy(),
        "member_row_key": m_rows["row_key"].to_numpy(),
        "member_id": m_rows["member_id"].to_numpy(),
        "match_probability": pairs["match_probability"].to_numpy(),
        "match_weight": pairs["match_weight"].to_numpy(),
        "decision": pairs["decision"].to_numpy(),
        "method": np.where(exact & both_valid, ID_EXACT, PROBABILISTIC),
    })
    for column in ("civil_row_key", "civil_case_id", "civil_member_no", "member_row_key",
                   "member_id", "decision", "method"):
        frame[column] = frame[column].astype("string")
    roster.linked_per_file = m_rows[SOURCE_FILE].astype(str).groupby(
        m_rows["row_key"].astype(str).to_numpy()).first().value_counts().to_dict()
    return frame.reset_index(drop=True), model.as_dict(), [vars(s) for s in stats]
