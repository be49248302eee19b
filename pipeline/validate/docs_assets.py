"""Make Great Expectations Data Docs open offline.

GX 1.24.1 templates load Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from CDNs and
a logo from a remote bucket; offline the pages render unstyled and `index.html` lists no runs.
The same files ship as package data in `pipeline/validate/vendor/` (the files of the npm
packages pinned by `expectations/assets/package.json` and its lock; `make vendor-assets`
refreshes them from the registry). Here they are
copied into the run's `validation/static/vendor/` and every page is rewritten to use them:
no `src` or `href` under `validation/` points off the machine.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

# Package data: the pinned files themselves (vendor/README.md), so the docs open offline
# wherever bidui is installed. BIDUI_DOCS_ASSETS points at another copy (an npm install).
DEFAULT_NODE_MODULES = Path(__file__).resolve().parent / "vendor"
VENDOR = Path("static") / "vendor"

# The URLs of GX 1.24.1's templates -> the file of the pinned npm package that replaces it.
_BT = "bootstrap-table/dist"
_FILTER = f"{_BT}/extensions/filter-control/bootstrap-table-filter-control"
REMOTE_TO_LOCAL: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        "bootstrap/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js":
        "bootstrap/dist/js/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        f"{_BT}/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        f"{_BT}/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": f"{_FILTER}.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": f"{_FILTER}.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": f"{_FILTER}.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "@fortawesome/fontawesome-free/css/all.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        "popper.js/dist/umd/popper.min.js",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
}
# Folders the CSS files reference relatively (Font Awesome's ../webfonts/).
EXTRA_FOLDERS = ("@fortawesome/fontawesome-free/webfonts",)

_EXTERNAL = r"(?:https?:)?//"
_TAG = re.compile(r"<(?P<tag>[a-zA-Z]+)\b(?P<attrs>[^>]*)>", re.S)
_URL_ATTR = re.compile(r"""\s(?P<name>src|href)\s*=\s*(?P<q>["'])(?P<url>[^"']*)(?P=q)""", re.I)
_SRI = re.compile(r"""\s(?:integrity|crossorigin)\s*=\s*(["'])[^"']*\1""", re.I)
_CSS_URL = re.compile(r"""url\(\s*(["']?)(?:https?:)?//[^)]*\)""", re.I)
_LOGO_TEXT = '<span class="navbar-brand mb-0 h4">bidui validation</span>'


def node_modules() -> Path:
    """Where the asset files are: the package's vendor/ (override with BIDUI_DOCS_ASSETS)."""
    return Path(os.environ.get("BIDUI_DOCS_ASSETS", DEFAULT_NODE_MODULES))


def missing_assets(source: Path | None = None) -> list[str]:
    source = source or node_modules()
    needed = [*REMOTE_TO_LOCAL.values(), *EXTRA_FOLDERS]
    return [rel for rel in needed if not (source / rel).exists()]


def copy_assets(site: Path, source: Path | None = None) -> list[str]:
    """Copy the vendored files into `site/static/vendor/`; return what was missing."""
    source = source or node_modules()
    target = site / VENDOR
    missing = []
    for rel in sorted(set(REMOTE_TO_LOCAL.values())):
        if not (source / rel).is_file():
            missing.append(rel)
            continue
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, target / rel)
    for rel in EXTRA_FOLDERS:
        if not (source / rel).is_dir():
            missing.append(rel)
            continue
        shutil.copytree(source / rel, target / rel, dirs_exist_ok=True)
    return missing


def _local_url(url: str, page: Path, site: Path) -> str | None:
    rel = REMOTE_TO_LOCAL.get(url.split("?", 1)[0])
    if rel is None:
        return None
    return Path(os.path.relpath(site / VENDOR / rel, page.parent)).as_posix()


def rewrite_page(text: str, page: Path, site: Path) -> str:
    """Point known CDN assets at the local copies; drop every other off-machine reference."""

    def tag(match: re.Match) -> str:
        name, attrs = match.group("tag").lower(), match.group("attrs")
        url_match = _URL_ATTR.search(attrs)
        if not url_match or not re.match(_EXTERNAL, url_match.group("url")):
            return match.group(0)
        local = _local_url(url_match.group("url"), page, site)
        if local is not None:
            attrs = _SRI.sub("", attrs)
            attrs = _URL_ATTR.sub(lambda m: f' {m.group("name")}="{local}"', attrs, count=1)
            return f"<{match.group('tag')}{attrs}>"
        if name == "img":  # the remote GX logo
            return _LOGO_TEXT
        if name == "a":  # links to GX's web site: keep the text, drop the link
            return f"<a{_URL_ATTR.sub('', attrs)}>"
        return ""  # any other remote <link>/<script>: dropped rather than fetched

    icon = Path(os.path.relpath(site / "static" / "images" / "favicon.ico", page.parent))
    # GX counts a results page's depth as 3 folders; bidui's are 4 deep: the icon from here
    text = _FAVICON.sub(f'href="{icon.as_posix()}"', text)
    return remove_remote_css_urls(_TAG.sub(tag, text))


_FAVICON = re.compile(r'href="[^"]*static/images/favicon\.ico"')


def remove_remote_css_urls(text: str) -> str:
    """`url(https://…)` in styles (GX's dark-mode logo) becomes `none`."""
    return _CSS_URL.sub("none", text)


def make_offline(site: Path, source: Path | None = None) -> list[str]:
    """Copy the assets and rewrite every HTML page under `site`; return missing assets."""
    missing = copy_assets(site, source)
    for page in site.rglob("*.html"):
        text = page.read_text("utf-8")
        page.write_text(rewrite_page(text, page, site), encoding="utf-8")
    for sheet in (site / "static").rglob("*.css"):
        if VENDOR.as_posix() not in sheet.relative_to(site).as_posix():
            text = sheet.read_text("utf-8")
            sheet.write_text(remove_remote_css_urls(text), encoding="utf-8")
    return missing


REMOTE_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def remote_references(site: Path) -> list[tuple[str, str]]:
    """Every `src`/`href` under `site` that points off the machine (should be none)."""
    found = []
    for path in site.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text("utf-8", errors="replace")
        found.extend((str(path.relative_to(site)), m.group(0)) for m in
                     REMOTE_REFERENCE.finditer(text))
    return found


def vendor_from(source: Path, target: Path = DEFAULT_NODE_MODULES) -> list[Path]:
    """Copy the asset files the pages use (every `REMOTE_TO_LOCAL` file and `EXTRA_FOLDERS`,
    with each package's licence file) from an npm install (`source`: its node_modules) into
    the package's vendor folder; return the files written. Raises FileNotFoundError when a
    file the pages need is not in `source` (the lock and REMOTE_TO_LOCAL disagree)."""
    written: list[Path] = []
    packages = set()
    for relative in REMOTE_TO_LOCAL.values():
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, target / relative)
        written.append(target / relative)
        parts = Path(relative).parts
        packages.add(Path(*parts[:2]) if parts[0].startswith("@") else Path(parts[0]))
    for folder in EXTRA_FOLDERS:
        shutil.copytree(source / folder, target / folder, dirs_exist_ok=True)
        written.extend(p for p in (target / folder).rglob("*") if p.is_file())
    for package in sorted(packages):
        for licence in sorted((source / package).glob("LICEN[CS]E*")):
            shutil.copyfile(licence, target / package / licence.name)
            written.append(target / package / licence.name)
    return written


if __name__ == "__main__":  # make vendor-assets
    import argparse

    parser = argparse.ArgumentParser(description=vendor_from.__doc__)
    parser.add_argument("--vendor", type=Path, required=True, metavar="NODE_MODULES")
    print(f"{len(vendor_from(parser.parse_args().vendor))} files in {DEFAULT_NODE_MODULES}")
