"""The generator at scale: the roster (members.csv) drawn and written in chunks, its size set by
``--roster-members`` without touching the roll, the civil file or the truth
(pipeline.generate: roster.py, fillers.py, shadow.py)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import cli
from pipeline.generate import _prepare, build, generate
from pipeline.generate import fillers as fillers_module
from pipeline.generate import roster as roster_module
from pipeline.generate.constants import PERSON_CLASS_RATES
from pipeline.generate.fillers import TakenNumbers
from pipeline.generate.memberids import SLOT, SPACE, MemberNumbers, permute
from pipeline.generate.people import PEOPLE_DRAWS
from pipeline.generate.roster import roster_chunks
from pipeline.generate.shadow import Streams
from pipeline.generate.writers import write_members_csv

HOUSEHOLDS, SEED = 300, 7
SMALL, LARGE = 20_000, 40_000
SAME_FILES = ("union_roll.xlsx", "civil_exchange.csv", "truth/links.csv",
              "truth/member_links.csv", "truth/roll_id_kinds.csv", "truth/discrepancies.csv",
              "truth/README.md")
# What the generator wrote for households=150, seed=42 before the roster was chunked (the
# xlsx as its zip entries, meta.json without member_id_kinds): the replayed draws (shadow.py)
# keep them. Update them only when the generator is changed on purpose.
BEFORE_CHUNKING = {
    "union_roll.xlsx": "146a83953704601db61dd7350a6932175fcdab8801c03d95c57e13886188822c",
    "civil_exchange.csv": "a4f7c39403f24b40479a19ec0e060f0005f02ace30fbfaed649e529dab0a5b1c",
    "truth/links.csv": "edf73b94ac6f4458fa222eb077ac5dc41a0c9b20f8f024be55c845c3c21e5897",
    "truth/member_links.csv": "6b0e773b16705443d27402746f1c2307e2f5512bfb3d4820ee71c1166330a2a9",
    "truth/discrepancies.csv": "9be7a3934fd16df3b881043b68f7287aa42d6e91e4e7a06b6ffb207e896c3bf4",
    "truth/roll_id_kinds.csv": "9ac2c7840f4e5b98149375deee0ad09beb7faea4887574ff6cc6e77abe1a6736",
    "truth/meta.json": "1565bf675b05c2f10370983998e9ba79026b6734ddfde6defab8e9bdab6be98f",
}
BEFORE_CHUNKING_MEMBER_ROWS = 7480


def _members(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "members.csv", encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)


def _meta_without_roster(folder: Path) -> dict:
    """meta.json less what describes members.csv's rows (their count, their ID kinds)."""
    meta = json.loads((folder / "truth" / "meta.json").read_text("utf-8"))
    meta["files"].pop("members.csv")
    meta.pop("member_id_kinds")
    return meta


def _digest(folder: Path, name: str) -> str:
    h = hashlib.sha256()
    if name.endswith(".xlsx"):
        with zipfile.ZipFile(folder / name) as z:
            for entry in sorted(z.namelist()):
                h.update(entry.encode())
                h.update(z.read(entry))
    elif name == "truth/meta.json":
        meta = json.loads((folder / name).read_text("utf-8"))
        meta.pop("member_id_kinds")
        h.update(json.dumps(meta, sort_keys=True, ensure_ascii=False).encode())
    else:
        h.update((folder / name).read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def sets(tmp_path_factory) -> dict[int, Path]:
    """The same roll and civil file with a roster of SMALL and of LARGE members."""
    out = {}
    for size in (SMALL, LARGE):
        out[size] = tmp_path_factory.mktemp(f"roster{size}")
        generate(out[size], households=HOUSEHOLDS, seed=SEED, roster_members=size)
    return out


# ---------------------------------------------------------------- --roster-members


def test_roll_civil_and_truth_do_not_depend_on_the_roster_size(sets) -> None:
    small, large = sets[SMALL], sets[LARGE]
    for name in SAME_FILES:
        assert (small / name).read_bytes() == (large / name).read_bytes(), name
    assert _meta_without_roster(small) == _meta_without_roster(large)


def test_roster_size_and_required_members(sets) -> None:
    required = None
    for size, folder in sets.items():
        members = _members(folder)
        assert len(members) == size
        assert json.loads((folder / "truth" / "meta.json").read_text("utf-8"))["files"][
            "members.csv"] == size
        assert members["会员编号"].is_unique
        links = pd.read_csv(folder / "truth" / "member_links.csv", dtype=str)
        assert len(links) > 0 and set(links["member_id"]) <= set(members["会员编号"])
        disc = pd.read_csv(folder / "truth" / "discrepancies.csv", dtype=str,
                           keep_default_na=False)
        assert set(disc.loc[disc["member_id"] != "", "member_id"]) <= set(members["会员编号"])
        # the members the truth knows are written alike, whatever the size
        rows = members.set_index("会员编号").loc[sorted(links["member_id"])]
        if required is None:
            required = rows
        assert rows.equals(required)


def test_fillers_carry_numbers_of_their_own() -> None:
    g = build(HOUSEHOLDS, SEED, roster_members=SMALL)
    roster, persons = g.world.roster, g.world.persons
    assert len(roster) == SMALL and roster["member_id"].is_unique
    fillers = roster[roster["pid"] >= len(persons)]
    assert len(fillers) > 0.9 * SMALL
    assert fillers["id18"].is_unique
    assert not set(fillers["id18"]) & set(persons["id18"])
    assert set(fillers["id_class"]) == {"resident", *PERSON_CLASS_RATES}  # drawn as ever
    # every member who is a civil person is a required member, with the truth's number
    civil_members = roster[roster["civil_row"] >= 0]
    assert set(civil_members["member_id"]) == set(g.truth["member_links"]["member_id"])


def test_too_small_a_roster_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = cli.main(["generate", "--out", str(out), "--households", str(HOUSEHOLDS),
                     "--seed", str(SEED), "--roster-members", "50"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--roster-members 50 is too small" in err and "To fix:" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()  # nothing written
    assert cli.main(["generate", "--out", str(out), "--roster-members", "0"]) == 2


# ---------------------------------------------------------------- chunks


def test_rows_do_not_depend_on_the_chunk_size(monkeypatch) -> None:
    """Fillers and placements are drawn per block (small here, so the roster spans many);
    the chunks members.csv is written in only cut those rows."""
    monkeypatch.setattr(fillers_module, "BLOCK", 1_000)
    monkeypatch.setattr(roster_module, "BLOCK", 1_000)
    world, _, plan = _prepare(HOUSEHOLDS, SEED, 12_345)

    def whole(chunk_rows: int):
        chunks = list(roster_chunks(world, plan, chunk_rows))
        assert all(len(c.rows) <= chunk_rows for c in chunks)
        return (pd.concat([c.frame for c in chunks], ignore_index=True),
                pd.concat([c.rows for c in chunks], ignore_index=True),
                [k for c in chunks for k in c.kinds])

    one = whole(12_345)  # unchunked
    for chunk_rows in (777, 1_000, 5_000):
        frame, rows, kinds = whole(chunk_rows)
        assert frame.equals(one[0]) and rows.equals(one[1]) and kinds == one[2]
    frame = one[0]
    assert len(frame) == 12_345 and frame["member_id"].is_unique and frame["id18"].is_unique
    # the required members are spread over the roster, in their order
    at = np.flatnonzero(frame["pid"].to_numpy() < len(world.persons))
    assert len(at) == len(plan.required) and at[-1] > 6_000
    assert frame["member_id"].to_numpy()[at].tolist() == plan.required["member_id"].tolist()


def test_chunked_writer_writes_what_one_frame_would(tmp_path: Path) -> None:
    world, _, plan = _prepare(HOUSEHOLDS, SEED, 3_000)
    rows = [c.rows for c in roster_chunks(world, plan, 700)]
    assert write_members_csv(iter(rows), tmp_path / "a.csv") == 3_000
    write_members_csv(pd.concat(rows, ignore_index=True), tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


# ---------------------------------------------------------------- the sizes there were


def test_files_are_the_bytes_they_were_before_chunking(tmp_path: Path) -> None:
    summary = generate(tmp_path, households=150, seed=42)
    assert summary["member_rows"] == BEFORE_CHUNKING_MEMBER_ROWS  # the default size rule
    for name, digest in BEFORE_CHUNKING.items():
        assert _digest(tmp_path, name) == digest, name


# ---------------------------------------------------------------- the pieces


def test_streams_read_side_by_side_what_one_pass_draws() -> None:
    n = 1_234
    whole = np.random.default_rng(5)
    expected = [draw(whole, n) for draw in PEOPLE_DRAWS]
    rng = np.random.default_rng(5)
    streams = Streams(rng, PEOPLE_DRAWS, n)
    assert rng.bit_generator.state == whole.bit_generator.state
    parts = [streams.take(k) for k in (1, 500, 733)]
    for i, values in enumerate(expected):
        assert np.array_equal(np.concatenate([p[i] for p in parts]), values)


def test_member_numbers_are_a_permutation_avoiding_taken_ones() -> None:
    keys = np.random.SeedSequence(1).generate_state(4, np.uint64)
    out = permute(np.arange(200_000, dtype=np.uint64), keys)
    assert len(np.unique(out)) == 200_000 and out.max() < SPACE
    first = MemberNumbers(3, np.array([], dtype=np.int64)).digits(0, 1_000)
    taken = first[:10]
    numbers = MemberNumbers(3, taken).digits(0, 1_000)
    assert not set(numbers.tolist()) & set(taken.tolist())
    assert np.array_equal(numbers[10:], first[10:]) and len(set(numbers.tolist())) == 1_000
    assert ((numbers >= SLOT) & (numbers < 10 * SLOT)).all()


def test_taken_numbers_never_miss() -> None:
    taken = TakenNumbers()
    bodies = np.random.default_rng(2).integers(10**16, 10**17, 100_000)
    assert not taken.contains(bodies).any()
    taken.add(bodies)
    assert taken.contains(bodies).all()
    others = np.random.default_rng(3).integers(10**16, 10**17, 100_000)
    assert taken.contains(others).mean() < 0.01
