"""Run configuration: packaged defaults, merged with an optional user YAML file."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import InputError


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def default_config() -> dict[str, Any]:
    text = resources.files("pipeline.config").joinpath("defaults.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def load_config(path: Path | None = None) -> dict[str, Any]:
    """Defaults, with the user's file merged over them; a broken file is a clear error."""
    config = default_config()
    if path is None:
        return config
    try:
        user = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise InputError(f"the configuration cannot be read ({type(error).__name__}).",
                         "pass a UTF-8 YAML file to --config.", file=str(path)) from None
    if not isinstance(user, dict):
        raise InputError("the configuration must be a YAML mapping.",
                         "see pipeline/config/defaults.yaml for the keys.", file=str(path))
    return _merge(config, user)


def config_hash(config: dict[str, Any]) -> str:
    """A stable hash of the effective configuration (recorded in the manifest)."""
    canonical = json.dumps(config, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def today_in(timezone: str = "Asia/Shanghai") -> dt.date:
    """Today's date where the federation is (the default --as-of)."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(timezone)).date()
