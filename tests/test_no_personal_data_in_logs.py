"""A whole night prints and logs no full ID number and no full name from its inputs:
its console output and the Prefect server's stored run logs are both scanned.

A smoke test: a real `bidui run` (its console is what an operator sees) against the harness's
server."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.ingest import load_source
from pipeline.normalise.names import normalise_names
from pipeline.schema import Source


def personal_values(folder: Path) -> tuple[set[str], set[str]]:
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


def test_a_whole_night_leaks_no_id_number_or_name(bidui_cli, tmp_path) -> None:
    from pipeline.generate import generate

    generate(tmp_path / "in", households=150, seed=21)
    result = bidui_cli("run", "--union", str(tmp_path / "in" / "union_roll.xlsx"),
                       "--civil", str(tmp_path / "in" / "civil_exchange.csv"),
                       "--members", str(tmp_path / "in" / "members.csv"),
                       "--out", str(tmp_path / "out"), "--as-of", "2026-06-30")
    assert result.returncode == 0, result.stderr
    logs = stored_prefect_logs()
    assert "stage detect" in logs  # the run's own log lines are among the stored ones
    printed = result.stdout + result.stderr + logs
    ids, names = personal_values(tmp_path / "in")
    assert len(ids) > 1000 and len(names) > 1000
    leaked_ids = [i for i in ids if i in printed]
    leaked_names = [n for n in names if n in printed]
    assert leaked_ids == [] and leaked_names == []
