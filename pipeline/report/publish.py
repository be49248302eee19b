"""Publish a night's outputs into DIR all at once, or not at all.

Outputs are written into a staging folder beside DIR (same file system), fsynced, and then
swapped into place with one rename. On Linux the swap is `renameat2(RENAME_EXCHANGE)`, which
replaces a previous night's folder atomically; elsewhere, or on file systems without it, a
rename of the old folder aside and a rename of the new one into place (a crash between the two
leaves the old night beside DIR as `.DIR.previous-*`, never a partial set inside DIR).

A DIR that already holds files that are not a bidui output set is refused: publishing replaces
the whole folder, and a user's unrelated files must never be swept away. So is a previous output
set into which someone has put something no night wrote (another run's output folder, notes),
for the same reason.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import fnmatch
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pipeline.errors import OutputError

MARKER = "manifest.json"
# Every entry a night writes into DIR: the files the report stage lists under the manifest's
# `outputs` (whichever options ran) and the four it writes beside them. Checked against a
# published night by tests/test_publish.py.
NIGHT_ENTRIES = frozenset({
    "links.parquet", "link_evidence.parquet", "member_links.parquet", "discrepancies.parquet",
    "discrepancies.xlsx", "quarantine.parquet", "field_issues.parquet", "review.xlsx",
    "review_import.parquet", MARKER, "report.html", "link_model.json", "validation"})
# What office programs put beside a file they have open (Excel and WPS `~$review.xlsx`,
# LibreOffice `.~lock.review.xlsx#`): an analyst with review.xlsx open never stops a night.
OFFICE_LOCKS = ("~$*", ".~lock.*#")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _libc_renameat2():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the system cannot."""
    function = _libc_renameat2()
    if function is None:
        return False
    result = function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


FILE_MODE, FOLDER_MODE = 0o600, 0o700  # personal data: owner only


def restrict_tree(root: Path) -> None:
    """Files 0600 and folders 0700: the outputs name people in hardship."""
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, FOLDER_MODE)
        for name in files:
            os.chmod(os.path.join(folder, name), FILE_MODE)


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under root to disk before it is made visible."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def check_target(target: Path) -> None:
    """Refuse a DIR that exists and holds something other than a bidui output set."""
    if target.exists() and not target.is_dir():
        raise OutputError(f"the output path {target} exists and is not a folder.",
                          "pass a folder path to --out.")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).exists():
        raise OutputError(
            f"the output folder {target} is not empty and does not hold a bidui output set "
            "(no manifest.json); publishing replaces the whole folder.",
            "pass an empty or new folder to --out, or one that a previous bidui run wrote.")
    foreign = foreign_entries(target) if target.is_dir() else []
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more"
                                          if len(foreign) > 5 else "")
        raise OutputError(
            f"the output folder {target} holds {len(foreign)} "
            f"{'entry' if len(foreign) == 1 else 'entries'} that no bidui night wrote "
            f"({shown}); publishing replaces the whole folder and would delete "
            f"{'it' if len(foreign) == 1 else 'them'}.",
            "move them out of that folder (another run's --out belongs beside it, e.g. "
            "out-case-01, not inside it), or pass another --out.")


def foreign_entries(target: Path) -> list[str]:
    """The names (sorted) in a previous output set that no night wrote: neither one of
    `NIGHT_ENTRIES` nor listed under its manifest's `outputs` (an older version's file) nor an
    office program's lock file (`OFFICE_LOCKS`). [] for a folder without a manifest."""
    if not (target / MARKER).exists():
        return []
    known = set(NIGHT_ENTRIES)
    try:
        outputs = json.loads((target / MARKER).read_text(encoding="utf-8")).get("outputs")
        known |= set(outputs) if isinstance(outputs, dict) else set()
    except (OSError, ValueError, AttributeError):  # a damaged manifest: the fixed list only
        pass
    return sorted(entry.name for entry in target.iterdir()
                  if entry.name not in known
                  and not any(fnmatch.fnmatchcase(entry.name, p) for p in OFFICE_LOCKS))


@contextlib.contextmanager
def output_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive lock on DIR for a whole run; a second run on DIR fails at once.

    The lock is a file beside DIR (`.DIR.lock`), locked with flock: the kernel releases it
    when the process ends, even when it is killed, so a crashed night never blocks the next.
    """
    target = target.absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    path = target.parent / f".{target.name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(f"another bidui run is writing {target} right now.",
                              "wait for it to finish, or pass another --out.") from None
        yield
    finally:
        os.close(fd)


def sweep_orphans(target: Path) -> int:
    """Remove staging, set-aside and scratch folders left beside DIR by a killed run.

    Call only while holding `output_lock(target)`: then no other run can own them."""
    target = target.absolute()
    orphans = [p for pattern in (f".{target.name}.staging-*", f".{target.name}.previous-*",
                                 f".{target.name}.scratch-*")
               for p in target.parent.glob(pattern) if p.is_dir()]
    for orphan in orphans:
        shutil.rmtree(orphan, ignore_errors=True)
    return len(orphans)


@contextlib.contextmanager
def staging_folder(target: Path) -> Iterator[Path]:
    """A fresh folder beside target; removed if the block fails or is not published."""
    with _folder_beside(target, "staging") as staging:
        yield staging


@contextlib.contextmanager
def scratch_folder(target: Path) -> Iterator[Path]:
    """A private folder (0700) beside target for the night's temporary files (the roster's
    spilled chunks and validation hashes); removed when the block ends, and by
    `sweep_orphans` after a killed night."""
    with _folder_beside(target, "scratch") as scratch:
        yield scratch


@contextlib.contextmanager
def _folder_beside(target: Path, kind: str) -> Iterator[Path]:
    """`.NAME.<kind>-XXXX` beside target (0700, `tempfile.mkdtemp`), removed when the block
    ends unless it was consumed (published) meanwhile; `sweep_orphans` knows the kinds."""
    target = target.absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.{kind}-", dir=target.parent))
    try:
        yield folder
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)


def publish(staging: Path, target: Path) -> None:
    """Make staging's content the content of target in one step; staging is consumed."""
    target = target.absolute()
    check_target(target)
    restrict_tree(staging)
    fsync_tree(staging)
    if not target.exists():
        os.rename(staging, target)
    elif not any(target.iterdir()):
        os.rename(staging, target)  # rename(2) replaces an empty folder atomically
    elif _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # staging now holds last night's set
    else:
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.previous-", dir=target.parent))
        os.rmdir(aside)
        os.rename(target, aside)
        os.rename(staging, target)
        shutil.rmtree(aside, ignore_errors=True)
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
