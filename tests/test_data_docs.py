"""The run's Data Docs (`DIR/validation/`) open fully offline, styled, with the runs table.

The rendering test drives headless Chromium with networking disabled. Without a Chromium it
skips with the reason, except in CI (`CI=true`, where `.ci/run` installs it): there it fails.
A screenshot is kept in var/test-artifacts/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.browser import render_with_probe, run_chromium
from tests.helpers import write_two_person_inputs

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "var" / "test-artifacts"
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
CSS_REMOTE = re.compile(r"""url\(\s*["']?\s*(?:https?:)?//""", re.I)

PROBE = """<script>
window.addEventListener('load', function () { setTimeout(function () {
  var body = getComputedStyle(document.body);
  var sheets = Array.prototype.map.call(document.querySelectorAll('link[rel=stylesheet]'),
    function (l) { return {href: l.href, loaded: !!l.sheet}; });
  var scripts = Array.prototype.map.call(document.querySelectorAll('script[src]'),
    function (s) { return s.src; });
  var icon = document.querySelector('.fas, .fa, .far');
  document.body.setAttribute('data-probe', JSON.stringify({
    bodyMargin: body.marginTop, font: body.fontFamily, jquery: typeof window.jQuery,
    bootstrapTable: !!(window.jQuery && window.jQuery.fn.bootstrapTable),
    tables: document.querySelectorAll('div.bootstrap-table').length,
    rows: document.querySelectorAll('div.bootstrap-table tbody tr').length,
    iconFont: icon ? getComputedStyle(icon).fontFamily : null,
    sheets: sheets, scripts: scripts}));
}, 500); });
</script>"""


@pytest.fixture(scope="module")
def published(night, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    union, civil = write_two_person_inputs(folder)
    out = folder / "out"
    result = night("--union", str(union), "--civil", str(civil), "--out", str(out),
                   "--as-of", "2026-06-30")
    assert result.returncode == 0, result.stderr
    return out


def test_no_reference_off_the_machine_in_any_file(published) -> None:
    site = published / "validation"
    files = [p for p in site.rglob("*") if p.is_file()]
    assert (site / "index.html") in files
    assert len([p for p in files if p.suffix == ".html"]) >= 7  # index, suites, validations
    offending = []
    for path in files:
        text = path.read_text("utf-8", errors="replace")
        offending += [f"{path.relative_to(site)}: {m.group(0)}" for m in REMOTE.finditer(text)]
        if path.suffix in {".html", ".css"}:
            offending += [f"{path.relative_to(site)}: {m.group(0)}"
                          for m in CSS_REMOTE.finditer(text)]
    assert offending == []
    vendor = site / "static" / "vendor"
    for rel in ("bootstrap/dist/css/bootstrap.min.css", "jquery/dist/jquery.min.js",
                "bootstrap-table/dist/bootstrap-table.min.js",
                "@fortawesome/fontawesome-free/webfonts/fa-solid-900.woff2",
                "vega/build/vega.min.js"):
        assert (vendor / rel).is_file(), rel
    manifest = json.loads((published / "manifest.json").read_text("utf-8"))
    assert manifest["validation"]["docs"]["missing_assets"] == []
    assert set(manifest["validation"]["suites"]) == {"union_roll", "civil_exchange", "links",
                                                     "discrepancies", "manifest"}


def render(binary: str, page: Path, tmp_path: Path) -> dict:
    """The probe's record of computed styles and what loaded, on a copy of `page`."""
    return render_with_probe(binary, page, tmp_path, PROBE)


def screenshot(binary: str, page: Path, tmp_path: Path, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / name
    target.unlink(missing_ok=True)
    run_chromium(binary, tmp_path, f"--screenshot={target}", page.as_uri())
    assert target.is_file() and target.stat().st_size > 10_000, target
    return target


def assert_styled_offline(probe: dict, site: Path) -> None:
    assert probe["bodyMargin"] == "0px", probe  # Bootstrap's reboot (browser default is 8px)
    assert "Segoe UI" in probe["font"] or "apple-system" in probe["font"], probe
    assert probe["jquery"] == "function" and probe["bootstrapTable"], probe
    assert probe["sheets"], probe
    for sheet in [*probe["sheets"], *({"href": s, "loaded": True} for s in probe["scripts"])]:
        assert sheet["href"].startswith(site.as_uri() + "/static/"), sheet
        assert sheet["loaded"], sheet


def test_index_and_validation_page_render_styled_offline(published, chromium, tmp_path) -> None:
    site = published / "validation"
    index = site / "index.html"
    probe = render(chromium, index, tmp_path)
    assert_styled_offline(probe, site)
    # The runs table: bootstrap-table built it from the page's data, one row per suite run.
    assert probe["tables"] >= 1 and probe["rows"] >= 5, probe
    screenshot(chromium, index, tmp_path, "validation.png")

    (page,) = list((site / "validations" / "civil_exchange").rglob("*.html"))
    probe = render(chromium, page, tmp_path)
    assert_styled_offline(probe, site)
    assert probe["iconFont"] is None or "Font Awesome" in probe["iconFont"], probe
    screenshot(chromium, page, tmp_path, "validation-page.png")


def test_every_asset_the_pages_use_ships_with_the_package() -> None:
    """The Data Docs assets are package data (pipeline/validate/vendor/): every file a CDN URL
    is rewritten to is there, with the Font Awesome webfonts its CSS loads."""
    from pipeline.validate.docs_assets import DEFAULT_NODE_MODULES, EXTRA_FOLDERS, REMOTE_TO_LOCAL

    assert DEFAULT_NODE_MODULES.parts[-3:] == ("pipeline", "validate", "vendor")
    for relative in REMOTE_TO_LOCAL.values():
        assert (DEFAULT_NODE_MODULES / relative).stat().st_size > 0, relative
    for folder in EXTRA_FOLDERS:
        assert any((DEFAULT_NODE_MODULES / folder).glob("*.woff2")), folder
