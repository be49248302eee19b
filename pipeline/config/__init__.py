"""Run configuration: packaged defaults, merged with an optional user YAML file.

The merged configuration is validated (`model.Config`: unknown keys, types, severities, time
zone, …) and the linking specs it names are loaded and validated too, so a bad night
configuration fails at the start with the file, the key and the fix (exit 2), before any work.
`load_config` still returns the merged plain dict.
"""

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


DEFAULTS_FILE = "pipeline/config/defaults.yaml"


def default_config() -> dict[str, Any]:
    text = resources.files("pipeline.config").joinpath("defaults.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def load_config(path: Path | None = None) -> dict[str, Any]:
    """Defaults, with the user's file merged over them, validated with the linking specs it
    names; a broken file or a refused key is an InputError naming the file, key and fix."""
    config = default_config()
    user: dict[str, Any] | None = None
    if path is not None:
        try:
            user = yaml.safe_load(Path(path).read_text("utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            mark = getattr(error, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise InputError(f"the configuration cannot be read ({type(error).__name__}"
                             f"{where}).", "pass a UTF-8 YAML file to --config.",
                             file=str(path)) from None
        if not isinstance(user, dict):
            raise InputError("the configuration must be a YAML mapping.",
                             f"see {DEFAULTS_FILE} for the keys.", file=str(path))
        config = _merge(config, user)
    validate_config(config, user, path)
    return config


def validate_config(config: dict[str, Any], user: dict[str, Any] | None = None,
                    path: Path | None = None) -> None:
    """Refuse a merged configuration that `model.Config` does not accept, or whose linking
    specs do not load; the error names the user's file when the key came from it."""
    from pydantic import ValidationError

    from pipeline.config.checked import input_error
    from pipeline.config.model import Config

    def file_of(loc: tuple) -> str:
        return str(path) if user is not None and loc and loc[0] in user else DEFAULTS_FILE

    try:
        Config.model_validate(config)
    except ValidationError as error:
        raise input_error(error, config, None, file_of) from None
    _check_specs(config["linking"]["specs"], file_of(("linking",)))


# Which kind of linkage each configured spec runs (pipeline/link/people.py).
LINK_TYPES = {"union_civil": "link", "roll_dedupe": "dedupe", "civil_members": "link"}


def _check_specs(specs: dict[str, str], config_file: str) -> None:
    from pipeline.link.spec import load_spec

    for role, name in specs.items():
        key = f"linking.specs.{role}"
        try:
            spec = load_spec(name)
        except InputError as error:
            if error.file is None:  # no such spec: the configuration's key is at fault
                raise InputError(f"{key}: {error.what}", error.fix, file=config_file) from None
            raise InputError(f"{error.what.rstrip('.')} (the spec that {key} names).",
                             error.fix, file=error.file) from None
        if spec.link_type != LINK_TYPES[role]:
            raise InputError(f"{key}: spec {spec.name} has link_type {spec.link_type}, but "
                             f"the {role} linkage needs a {LINK_TYPES[role]} spec.",
                             f"name a {LINK_TYPES[role]} spec there (the shipped one is "
                             f"{role}).", file=config_file)


def config_hash(config: dict[str, Any]) -> str:
    """A stable hash of the effective configuration (recorded in the manifest)."""
    canonical = json.dumps(config, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def today_in(timezone: str = "Asia/Shanghai") -> dt.date:
    """Today's date where the federation is (the default --as-of)."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(timezone)).date()
