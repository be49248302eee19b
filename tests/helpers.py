"""Small builders shared by tests: valid IDs and raw frames as ingest produces them; what an
input set holds that must never be printed or logged, and the Prefect server's stored logs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.normalise.id_number import check_char
from pipeline.schema import FIELDS, SOURCE_FILE, SOURCE_ROW, Source


def valid_id(first17: str) -> str:
    return first17 + check_char(first17)


def raw_frame(source: Source, rows: list[dict], file: str = "in.csv") -> pd.DataFrame:
    """A frame shaped like `load_source` output: every field column, provenance."""
    frame = pd.DataFrame(rows, dtype=object)
    for field in FIELDS[source]:
        if field.name not in frame.columns:
            frame[field.name] = None
    frame = frame.astype(object).where(frame.notna(), None)
    frame[SOURCE_FILE] = file
    frame[SOURCE_ROW] = pd.Series(range(2, len(rows) + 2), dtype="int64")
    return frame


def personal_values(folder: Path) -> tuple[set[str], set[str]]:
    """Every ID number (15+ characters) and name (2+ characters, as filed and normalised) of
    a generated input set in `folder`."""
    from pipeline.ingest import load_source
    from pipeline.normalise.names import normalise_names

    ids: set[str] = set()
    names: set[str] = set()
    for source, file in ((Source.UNION, "union_roll.xlsx"), (Source.CIVIL, "civil_exchange.csv"),
                         (Source.MEMBERS, "members.csv")):
        frame = load_source([folder / file], source).frame
        ids |= {v.strip().upper() for v in frame["id_number"].dropna().astype(str)
                if len(v.strip()) >= 15}
        raw = frame["name"].dropna().astype(str)
        names |= {v for v in pd.concat([raw, normalise_names(raw)]).dropna() if len(v) >= 2}
    return ids, names


def stored_prefect_logs() -> str:
    """Every log message the current Prefect server stored."""
    from prefect.client.orchestration import get_client

    messages: list[str] = []
    with get_client(sync_client=True) as client:
        offset = 0
        while True:
            page = client.read_logs(limit=200, offset=offset)
            messages.extend(log.message for log in page)
            if len(page) < 200:
                break
            offset += 200
    return "\n".join(messages)
