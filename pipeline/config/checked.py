"""Validated data: the pydantic base of the configuration and the linking specs, and how a
validation failure becomes one operator-facing paragraph (an `InputError`, exit 2).

Every model refuses keys it does not know, naming the allowed ones and the closest match; a
cross-check raises `Problem(path, what, fix)` inside a validator, with the path below the
model that found it. `input_error` turns the first failure into "<file>: <dotted key>: what.
To fix: …" (no traceback, no pydantic dump), e.g. `comparisons[1].fixed_m.differs_vaild`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from pipeline.errors import InputError

MAX_LISTED = 20  # allowed values listed in a fix; more are summarised


class Problem(ValueError):
    """A refused value found by a validator: `path` (keys and list indices) is relative to the
    model whose validator raised it; `fix` is one line saying what to write instead."""

    def __init__(self, path: Sequence[str | int], what: str, fix: str = "") -> None:
        super().__init__(what)
        self.path = tuple(path)
        self.what = what
        self.fix = fix


def suggest(given: object, allowed: Iterable[str], *, noun: str = "allowed") -> str:
    """'did you mean X? allowed: a, b, c' (the closest names by difflib, then the list)."""
    options = [str(a) for a in allowed]
    close = difflib.get_close_matches(str(given), options, n=1, cutoff=0.6)
    listed = ", ".join(options[:MAX_LISTED]) + (
        f", … ({len(options)} in all)" if len(options) > MAX_LISTED else "")
    text = f"{noun}: {listed}." if options else f"no {noun} values."
    return f"did you mean {close[0]}? {text}" if close else text


class Strict(BaseModel):
    """Frozen, and no key it does not declare: an unknown key is refused with the allowed
    ones (`WHAT` says what the keys are, e.g. "a key of a linking spec")."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    WHAT: ClassVar[str] = "a key here"

    @classmethod
    def allowed_keys(cls) -> list[str]:
        return [field.alias or name for name, field in cls.model_fields.items()]

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = cls.allowed_keys()
            for key in data:
                if key not in allowed:
                    raise Problem((str(key),), f"'{key}' is not {cls.WHAT}",
                                  suggest(key, allowed))
        return data


def dotted(loc: Sequence[str | int], data: Any) -> str:
    """A pydantic location as the key path a person reads in the YAML: `a.b[2].c`.

    The raw data is walked alongside, so a discriminated union's tag (pydantic puts the
    comparison kind into the location) is left out."""
    text = ""
    node = data
    for item in loc:
        if isinstance(item, int):
            text += f"[{item}]"
            node = node[item] if isinstance(node, list | tuple) and 0 <= item < len(node) \
                else None
            continue
        if isinstance(node, dict) and item not in node and node.get("kind") == item:
            continue  # the tag of a discriminated union, not a key of the file
        text += f".{item}" if text else str(item)
        node = node.get(item) if isinstance(node, dict) else None
    return text or "(top level)"


def _quoted(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def describe(error: dict[str, Any], data: Any) -> tuple[str, str, tuple[str | int, ...]]:
    """(what, fix, full location) for one pydantic error dict."""
    loc = tuple(error["loc"])
    kind, ctx, given = error["type"], error.get("ctx") or {}, error.get("input")
    cause = ctx.get("error")
    if isinstance(cause, Problem):
        loc = loc + cause.path
        return cause.what, cause.fix, loc
    key = dotted(loc, data)
    if kind == "missing":
        return (f"{key} is missing", f"add {loc[-1]}: … there (see the shipped files for "
                "examples).", loc)
    if kind == "extra_forbidden":
        return f"'{loc[-1]}' is not a known key", "remove it or correct its spelling.", loc
    if kind == "union_tag_invalid":
        tag = ctx.get("tag")
        return (f"{key}.kind '{tag}' is not a comparison kind",
                suggest(tag, _quoted(ctx.get("expected_tags", "")), noun="kinds"),
                (*loc, "kind"))
    if kind == "union_tag_not_found":
        return f"{key} has no kind", "add kind: one of the comparison kinds.", (*loc, "kind")
    if kind in {"literal_error", "enum"}:
        return (f"{key} is {_shown(given)}, which is not allowed",
                suggest(given, _quoted(ctx.get("expected", ""))), loc)
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    fix = message.replace("Input should be", "make it", 1) if message.startswith(
        "Input should be") else f"correct {key}: {message}"
    return f"{key} is {_shown(given)}: {message}", fix.rstrip(".") + ".", loc


def input_error(error: ValidationError, data: Any, file: str | None,
                file_of: Any = None) -> InputError:
    """The first failure of `error` as an InputError naming the file, the key and the fix.

    `file_of(loc)` may choose the file a location belongs to (a user configuration merged
    over the defaults); further failures are counted, not listed."""
    problems = [describe(e, data) for e in error.errors()]
    what, fix, loc = problems[0]
    key = dotted(loc, data)
    if not what.startswith(key):
        what = f"{key}: {what}"
    # Further failures, except those that only follow from this one (a list too short
    # after its bad item was dropped): named, so one run shows every key to look at.
    others = sorted({dotted(p[2], data) for p in problems[1:] if p[2] != loc[:len(p[2])]})
    if others:
        what += f" (also check {', '.join(others[:5])}" + (", …" if len(others) > 5 else "") \
            + ")"
    return InputError(what.rstrip(".") + ".", fix,
                      file=file_of(loc) if file_of is not None else file)
