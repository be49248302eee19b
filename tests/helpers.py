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


TWO_PEOPLE = (valid_id("11010519900101123"), valid_id("11010819850505234"))  # 张伟, 李娜


def write_two_person_inputs(folder: Path) -> tuple[Path, Path]:
    """A two-row union roll and the matching two-person civil file (CSV, UTF-8) in `folder`:
    张伟 (城市低保) and 李娜 (低收入), IDs `TWO_PEOPLE`. Returns (union, civil)."""
    a, b = TWO_PEOPLE
    union = folder / "union.csv"
    union.write_text("档案号,职工姓名,身份证号,档案状态,是否低保,家庭人口\n"
                     f"A1,张伟,{a},在档,是,3\nA2,李娜,{b},在档,无,2\n", encoding="utf-8")
    civil = folder / "civil.csv"
    civil.write_text("家庭编号,成员序号,姓名,身份证号,保障类别,区划代码,保障状态,家庭总人数\n"
                     f"C1,1,张伟,{a},城市低保,110108,在保,3\nC2,1,李娜,{b},低收入,110101,在保,2\n",
                     encoding="utf-8")
    return union, civil


def civil_without_ids_of(generated_civil: Path, links: pd.DataFrame, out: Path) -> Path:
    """A copy of a generated civil-affairs CSV (GB18030) in which the people of `links`
    (civil_case_id, civil_member_no) lost their ID number and have another address: pairs the
    linker can then find only by name, birth and household (a clerical-review band)."""
    civil = pd.read_csv(generated_civil, dtype=str, keep_default_na=False, encoding="gb18030")
    case = next(c for c in ("家庭编号", "救助证编号") if c in civil.columns)
    id_column = next(c for c in ("身份证号", "公民身份号码") if c in civil.columns)
    for pair in links.itertuples():
        person = (civil[case] == pair.civil_case_id) & (civil["成员序号"] == pair.civil_member_no)
        civil.loc[person, id_column] = ""
        civil.loc[person, "家庭住址"] = "不详地址"
    civil.to_csv(out, index=False, encoding="gb18030")
    return out
