"""An installed bidui works outside the checkout: suites, Data Docs assets, specs and reference
tables are package data, and nothing reaches back into the source tree.

The wheel is built from the checkout (`pip wheel --no-deps --no-build-isolation`, offline)
and installed into a folder of its own (`pip install --target`); the night then runs from
another folder with that folder first on the path, so `pipeline` is the installed copy (the
test asserts where it was imported from). Its dependencies are the project venv's: what is
tested is the package, not pip's resolver (requirements.lock pins those).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"

pytestmark = pytest.mark.slow


def _pip(*args: str, cwd: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def test_pip_install_then_run_from_another_folder(prefect_harness, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    dist, site, elsewhere = tmp_path / "dist", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(dist),
         str(ROOT), cwd=tmp_path)
    (wheel,) = dist.glob("bidui-*.whl")
    _pip("install", "--no-deps", "--no-index", "-q", "--target", str(site), str(wheel),
         cwd=tmp_path)
    assert (site / "pipeline" / "validate" / "suites" / "union_roll.json").is_file()
    assert (site / "pipeline" / "validate" / "vendor" / "jquery" / "dist" /
            "jquery.min.js").is_file()
    assert (site / "pipeline" / "normalise" / "data" / "gbt2260_history.csv").is_file()

    env = {key: value for key, value in os.environ.items()
           if key not in ("BIDUI_HOME", "BIDUI_DOCS_ASSETS", "PYTHONPATH")}
    env.update(PYTHONPATH=str(site), PREFECT_API_URL=str(PREFECT_API_URL.value()))
    where = subprocess.run([sys.executable, "-c", "import pipeline, flows; "
                            "print(pipeline.__file__); print(flows.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert where.stdout.splitlines() == [str(site / "pipeline" / "__init__.py"),
                                         str(site / "flows" / "__init__.py")], where.stderr

    for name in ("union_roll.xlsx", "civil_exchange.csv", "members.csv"):
        shutil.copyfile(SAMPLE / name, elsewhere / name)
    out = elsewhere / "out"
    run = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--union", "union_roll.xlsx",
         "--civil", "civil_exchange.csv", "--members", "members.csv", "--out", str(out),
         "--as-of", "2026-06-30"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["validation"]["suites"] and manifest["outputs"]["links.parquet"]["rows"] > 0
    docs = out / "validation"
    assert (docs / "index.html").is_file()
    assert list(docs.rglob("jquery.min.js"))  # the vendored assets reached the night's docs
    for path in (out / "manifest.json", out / "report.html", *docs.rglob("*.html")):
        assert str(ROOT) not in path.read_text("utf-8", errors="ignore"), path.name
