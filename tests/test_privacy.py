"""Pseudonymised outputs, owner-only files, and the same night giving the same bytes (nights
in-process, as `bidui run` runs them)."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.pseudonymise import load_key, pseudonymise_quarantine, token

KEY = b"0123456789abcdef-test-key"
FULL_ID = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")


def test_tokens_are_keyed_stable_and_normalised() -> None:
    a = token("11010519900101123X", KEY)
    assert a == token(" 11010519900101123x ", KEY) and a.startswith("hm_")
    assert a != token("11010519900101123X", b"another-key-of-16-bytes")
    assert token("", KEY) is None


def test_no_key_or_a_short_key_is_refused(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BIDUI_PSEUDONYM_KEY", raising=False)
    with pytest.raises(InputError, match="BIDUI_PSEUDONYM_KEY"):
        load_key()
    short = tmp_path / "key"
    short.write_bytes(b"short")
    with pytest.raises(InputError, match="16 bytes"):
        load_key(short)
    monkeypatch.setenv("BIDUI_PSEUDONYM_KEY", KEY.decode())
    assert load_key() == KEY


def test_quarantine_keeps_no_id_or_name() -> None:
    quarantine = pd.DataFrame({"raw_id_number": ["11010519900101123X", None],
                               "raw_name": ["王伟", "买买提·艾力"]})
    out = pseudonymise_quarantine(quarantine, KEY)
    assert out.loc[0, "raw_id_number"].startswith("hm_") and pd.isna(out.loc[1, "raw_id_number"])
    assert list(out["raw_name"]) == ["王*", "买**·**"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    from pipeline.generate import generate

    folder = tmp_path_factory.mktemp("privacy")
    generate(folder, households=150, seed=13)
    # One unusable row, so quarantine holds raw values.
    civil = folder / "civil_exchange.csv"
    text = civil.read_bytes().decode("gb18030")
    civil.write_bytes((text + "BJX,1,王伟,11010519900101123X,其他补助,110105,在保"
                       + ",,,,,,,,,,\r\n").encode("gb18030"))
    return folder


def args(inputs: Path, out: Path, *extra: str) -> list[str]:
    return ["--union", str(inputs / "union_roll.xlsx"),
            "--civil", str(inputs / "civil_exchange.csv"),
            "--members", str(inputs / "members.csv"),
            "--out", str(out), "--as-of", "2026-06-30", *extra]


def run(night, inputs: Path, out: Path, *extra: str):
    return night(*args(inputs, out, *extra))


def test_pseudonymise_refuses_to_start_without_a_key(night, inputs, tmp_path) -> None:
    result = run(night, inputs, tmp_path / "out", "--pseudonymise",
                 "--key-file", str(tmp_path / "missing.key"))
    assert result.returncode == 2 and "key" in result.stderr
    assert not (tmp_path / "out").exists()


def test_pseudonymised_night_holds_no_full_id_and_owner_only_files(night, inputs,
                                                                   tmp_path) -> None:
    key = tmp_path / "bidui.key"
    key.write_bytes(KEY)
    out = tmp_path / "out"
    result = run(night, inputs, out, "--pseudonymise", "--key-file", str(key))
    assert result.returncode == 0, result.stderr
    for path in out.glob("*.parquet"):
        frame = pd.read_parquet(path)
        # Text columns: a probability's decimals (0.029087801926311337) are no ID number.
        text = frame.select_dtypes(exclude="floating").astype("string").fillna("").to_csv()
        assert not FULL_ID.search(text), path.name
    quarantine = pd.read_parquet(out / "quarantine.parquet")
    assert quarantine["raw_id_number"].str.startswith("hm_").all()
    links = pd.read_parquet(out / "links.parquet")
    assert links["union_id_token"].str.startswith("hm_").all()
    for path in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_the_same_night_twice_gives_identical_data_files(night, inputs, tmp_path) -> None:
    """Twice in this process; tests/test_kill.py compares a night run by `bidui run` in
    another process (another hash seed) with the same night run here."""
    for name in ("a", "b"):
        assert run(night, inputs, tmp_path / name).returncode == 0
    contents = [{p.name: p.read_bytes() for p in sorted((tmp_path / name).glob("*.parquet"))}
                for name in ("a", "b")]
    assert contents[0] == contents[1]
    assert set(contents[0]) >= {"links.parquet", "discrepancies.parquet", "quarantine.parquet"}


def test_prefect_s_own_folder_is_the_owner_s_only_unless_the_operator_chose_it(
        tmp_path: Path) -> None:
    """Prefect's database holds the runs' parameters (input paths) and logs: the folder bidui
    chooses for it is made owner-only; one the operator set (PREFECT_HOME) is left as it is."""
    import os
    import subprocess
    import sys

    code = "from flows.settings import apply_offline_settings; apply_offline_settings()"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["BIDUI_HOME"] = str(tmp_path / "home")
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=root)
    assert (tmp_path / "home" / "var" / "prefect").stat().st_mode & 0o777 == 0o700
    chosen = tmp_path / "operator"
    chosen.mkdir(mode=0o755)
    chosen.chmod(0o755)
    subprocess.run([sys.executable, "-c", code], env={**env, "PREFECT_HOME": str(chosen)},
                   check=True, cwd=root)
    assert chosen.stat().st_mode & 0o777 == 0o755
