"""The two rounds of `normalise.shared_numbers` over any cut of a file mark exactly the rows
`shared_ids.shared_id_rows` marks on the file held whole (the roster's first read and the
civil-affairs side on Dask both rely on it)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.normalise.shared_ids import repeated, shared_id_rows
from pipeline.normalise.shared_numbers import carriers_of, decide, numbers_of

# Invented numbers of an ID number's shape (only such a number can be shared), named by a
# letter in the tests.
NUMBERS = {tag: f"1101011970010100{k}{k}" for k, tag in enumerate("ABCDE", start=1)}


def _frame() -> pd.DataFrame:
    """'A' shared by two strangers in one file (once in the other: not shared there), 'B'
    the same person filed twice (one name in two scripts), 'C' in two files once each, 'D'
    three ways (two strangers with one birth date each and a third without), 'E' a
    placeholder twice, a blank number twice, and filler rows with numbers of their own."""
    rows = [
        ("f1", "A", "张伟", "1970-01-01", False), ("f1", "A", "李娜", "1980-02-02", False),
        ("f1", "B", "張偉", "1971-03-03", False), ("f1", "B", "张伟", "1971-03-03", False),
        ("f1", "C", "王芳", None, False), ("f2", "C", "刘洋", None, False),
        ("f2", "A", "钱进", None, False),
        ("f2", "D", "陈静", "1990-01-01", False), ("f2", "D", "杨帆", "1991-01-01", False),
        ("f2", "D", "赵磊", None, False),
        ("f1", "E", "周杰", None, True), ("f1", "E", "吴敏", None, True),
        ("f1", None, "孙丽", None, False), ("f1", None, "郑强", None, False),
    ]
    rows = [(f, NUMBERS.get(n, n), *rest) for f, n, *rest in rows]
    rows += [("f1" if k % 2 else "f2", f"11010219800101{k:04d}", "黄晓", None, False)
             for k in range(40)]
    frame = pd.DataFrame(rows, columns=["source_file", "id_norm", "name", "birth_date",
                                        "id_placeholder"])
    frame["id_norm"] = frame["id_norm"].astype("string")
    frame["name"] = frame["name"].astype("string")
    frame["birth_date"] = pd.to_datetime(frame["birth_date"])
    return frame


def _in_rounds(frame: pd.DataFrame, cuts: list[int]) -> np.ndarray:
    chunks = [frame.iloc[a:b].reset_index(drop=True)
              for a, b in zip([0, *cuts], [*cuts, len(frame)], strict=True)]
    parts = [numbers_of(chunk) for chunk in chunks]
    again = repeated([part.hashes for part in parts])
    shared = decide(pd.concat([carriers_of(part.carriers, again) for part in parts],
                              ignore_index=True))
    return np.concatenate([shared.rows(chunk) for chunk in chunks])


@pytest.mark.parametrize("seed", range(6))
def test_any_cut_marks_what_the_whole_file_marks(seed: int) -> None:
    frame = _frame().sample(frac=1, random_state=seed).reset_index(drop=True)
    whole = shared_id_rows(frame)
    assert set(frame.loc[whole, "id_norm"]) == {NUMBERS["A"], NUMBERS["D"]}
    assert whole.sum() == 5
    rng = np.random.default_rng(seed)
    for pieces in (1, 2, 5, len(frame)):
        cuts = sorted(rng.choice(np.arange(1, len(frame)), pieces - 1, replace=False).tolist())
        assert np.array_equal(_in_rounds(frame, cuts), whole), (pieces, cuts)


def test_a_value_of_no_id_numbers_shape_is_never_shared() -> None:
    """Excel's scientific notation reads the same for thousands of different numbers, and a
    name or a short code typed in the field is no number: their repeats among different
    people say nothing of a copied number (each is reported for its form instead). The
    same people on one number of an ID number's shape are."""
    people = [("f1", "张伟", "1970-01-01"), ("f1", "李娜", "1980-02-02")]
    for value, shared in (("1.10106E+17", False), ("110106", False), ("不详号", False),
                          (NUMBERS["A"], True)):
        frame = pd.DataFrame([(f, value, name, birth, False) for f, name, birth in people],
                             columns=["source_file", "id_norm", "name", "birth_date",
                                      "id_placeholder"])
        frame["birth_date"] = pd.to_datetime(frame["birth_date"])
        assert list(shared_id_rows(frame)) == [shared, shared], value
        assert np.array_equal(_in_rounds(frame, [1]), shared_id_rows(frame))


def test_nothing_repeats_nothing_is_decided() -> None:
    frame = _frame()
    frame = frame[~frame["id_norm"].isin(list(NUMBERS.values())).fillna(False)]
    part = numbers_of(frame.reset_index(drop=True))
    assert not len(repeated([part.hashes]))
    shared = decide(carriers_of(part.carriers, repeated([part.hashes])))
    assert len(shared) == 0 and not shared.rows(frame).any()


def test_the_decision_prints_no_number_or_name() -> None:
    frame = _frame()
    part = numbers_of(frame)
    shared = decide(carriers_of(part.carriers, repeated([part.hashes])))
    assert len(shared) == 2
    for text in (repr(part), repr(shared), str(shared)):
        assert "张伟" not in text and NUMBERS["A"] not in text and "f1" not in text
