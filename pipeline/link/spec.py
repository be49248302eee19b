"""The linking model as data: blocking rules, comparisons, training and decision settings.

A spec is a YAML file (see `pipeline/link/specs/`), so the same engine links other schemas
(FEBRL ships as one) and a model change is a diff of a text file. It is validated data
(pydantic): an unknown key, a comparison parameter its kind does not take, a `fixed_m` level
the comparison does not have, an EM session or deterministic rule naming a comparison, level
or column the spec does not have, probabilities out of order, are refused with the key and
the fix (`InputError`, exit 2) before anything runs.

Columns: a spec whose comparisons mostly read person features (`pipeline/link/features.py`)
is a person spec, and every column it names must be such a feature. Other schemas (FEBRL)
name their own columns; there the columns of EM sessions, `null_when_both` and
`deterministic.both` must be columns that a comparison or blocking rule of the spec reads.
"""

from __future__ import annotations

import functools
import itertools
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

import yaml
from pydantic import (
    Field,
    NonNegativeInt,
    PositiveInt,
    StringConstraints,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from pipeline.config.checked import Problem, Strict, input_error, suggest
from pipeline.errors import InputError
from pipeline.link.comparisons import KINDS, LevelComparison

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Column = Name
Probability = Annotated[float, Field(gt=0, lt=1, strict=True)]
Score = Annotated[float, Field(gt=0, le=1, strict=True)]


def level_names(comparison: LevelComparison) -> tuple[str, ...]:
    """A built comparison's level names, whether its levels are names or objects with `.name`
    (`level_names`, else a `levels` tuple, else the class's LEVELS)."""
    levels = getattr(comparison, "level_names", None)
    if levels is None:
        levels = getattr(comparison, "levels", None)
        if levels is None or callable(levels):
            levels = type(comparison).LEVELS
    return tuple(level if isinstance(level, str) else level.name for level in levels)


def _feature_value(value: Any) -> Any:
    """Feature values are text: an unquoted YAML integer (`id_valid: 1`) means "1"."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


FeatureValue = Annotated[str, Field(strict=True)]


# -- blocking ---------------------------------------------------------------------------------
class BlockingRule(Strict):
    """One blocking pass: pairs whose `columns` all agree and are present (as Splink's
    `block_on`, a recordlinkage index algorithm). In YAML either `[birth, surname_py]` (named
    `birth+surname_py`) or `{name: birth_surname, columns: [birth, surname_py]}`."""

    WHAT: ClassVar[str] = "a key of a blocking rule"
    name: Name
    columns: tuple[Column, ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _list_form(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            data = {"columns": list(data)}
        if isinstance(data, dict) and "name" not in data and isinstance(
                data.get("columns"), list | tuple) and all(
                isinstance(c, str) for c in data["columns"]):
            data = {**data, "name": "+".join(data["columns"])}
        return data


# -- comparisons ------------------------------------------------------------------------------
class ComparisonSpec(Strict):
    """A comparison of the spec: `kind` (a class in `comparisons.KINDS`) on `column`, `tf`
    (term-frequency adjustment of its exact level), `fixed_m` (m of some levels, pinned) and
    the kind's own parameters (each subclass below declares them)."""

    WHAT: ClassVar[str] = "a parameter of this comparison kind"
    COMMON: ClassVar[tuple[str, ...]] = ("name", "kind", "column", "tf")
    name: Name
    kind: str
    column: Column
    tf: bool = False
    fixed_m: dict[Name, Probability] = None  # type: ignore[assignment]

    @classmethod
    def parameter_names(cls) -> list[str]:
        return [k for k in cls.model_fields if k not in cls.COMMON]

    @property
    def params(self) -> dict[str, Any]:
        """The parameters the file sets (the kind's own defaults apply to the others), as
        plain data: what the comparison class is built with."""
        return {k: _plain(getattr(self, k)) for k in self.parameter_names()
                if k in self.model_fields_set}

    def build(self) -> LevelComparison:
        return KINDS[self.kind](self.name, self.column, tf=self.tf, **self.params)

    @model_validator(mode="after")
    def _levels(self) -> ComparisonSpec:
        if self.kind not in KINDS:
            raise Problem(("kind",), f"'{self.kind}' is not a comparison kind",
                          suggest(self.kind, KINDS, noun="kinds"))
        built = self.build()
        levels = level_names(built)
        pinned = self.fixed_m or {}
        for level in pinned:
            if level not in levels:
                raise Problem(("fixed_m", level),
                              f"comparison {self.name} (kind {self.kind}) has no level "
                              f"'{level}'", suggest(level, levels, noun="its levels"))
        if sum(pinned.values()) >= 1:
            raise Problem(("fixed_m",), "the pinned m values add up to 1 or more, leaving "
                          "nothing for the other levels", "pin smaller values (m of all "
                          "levels sums to 1).")
        if self.tf and built.tf_level() is None:
            raise Problem(("tf",), f"kind {self.kind} has no level that term frequencies "
                          "adjust", "remove tf: true from this comparison.")
        return self


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _strictly(values: tuple, descending: bool, what: str) -> tuple:
    if not all((a > b) if descending else (a < b) for a, b in itertools.pairwise(values)):
        order = "descending" if descending else "ascending"
        raise Problem((), f"the {what} {list(values)} are not strictly {order} (a pair takes "
                      "the first level it meets, so a later level would never be reached)",
                      f"write them as {sorted(set(values), reverse=descending)}.")
    return values


class ExactComparison(ComparisonSpec):
    kind: Literal["exact"]


class DateYmdComparison(ComparisonSpec):
    kind: Literal["date_ymd"]
    # {column: value}: no evidence when both records have that value (birth dates both taken
    # from ID numbers that another comparison already weighs).
    null_when_both: dict[Column, FeatureValue] = None  # type: ignore[assignment]

    @field_validator("null_when_both", mode="before")
    @classmethod
    def _text_values(cls, value: Any) -> Any:
        return {k: _feature_value(v) for k, v in value.items()} if isinstance(value, dict) \
            else value


class _ThresholdComparison(ComparisonSpec):
    thresholds: tuple[Score, ...] = Field(default=None, min_length=1)  # type: ignore

    @field_validator("thresholds")
    @classmethod
    def _descending(cls, value: tuple | None) -> tuple | None:
        return None if value is None else _strictly(value, True, "thresholds")


class JaroWinklerComparison(_ThresholdComparison):
    kind: Literal["jaro_winkler"]


class SimilarityComparison(_ThresholdComparison):
    kind: Literal["similarity"]


class EditDistanceComparison(ComparisonSpec):
    kind: Literal["edit_distance"]
    distances: tuple[PositiveInt, ...] = Field(default=None, min_length=1)  # type: ignore

    @field_validator("distances")
    @classmethod
    def _ascending(cls, value: tuple | None) -> tuple | None:
        return None if value is None else _strictly(value, False, "distances")


class NameZhComparison(ComparisonSpec):
    kind: Literal["name_zh"]
    jaro_winkler: Score = None  # type: ignore[assignment]  # threshold on pinyin


class ResidentIdComparison(ComparisonSpec):
    kind: Literal["id_gb11643"]


PARAMETER_MODELS: dict[str, type[ComparisonSpec]] = {
    "exact": ExactComparison,
    "date_ymd": DateYmdComparison,
    "jaro_winkler": JaroWinklerComparison,
    "similarity": SimilarityComparison,
    "edit_distance": EditDistanceComparison,
    "name_zh": NameZhComparison,
    "id_gb11643": ResidentIdComparison,
}
for _kind in KINDS:  # a kind registered without a parameter model takes only fixed_m
    PARAMETER_MODELS.setdefault(_kind, create_model(
        f"{_kind}_comparison", __base__=ComparisonSpec, kind=(Literal[_kind], ...)))
AnyComparison = Annotated[Union[tuple(PARAMETER_MODELS[k] for k in KINDS)],  # noqa: UP007
                          Field(discriminator="kind")]


# -- training and decisions -------------------------------------------------------------------
class EmSession(Strict):
    """EM on the pairs of one blocking rule; the comparisons the rule makes agree by
    construction are not estimated there (they carry no information within the block).
    `block` is a rule as in `blocking`, or the name of one of the spec's blocking rules."""

    WHAT: ClassVar[str] = "a key of an EM session"
    block: BlockingRule
    estimate_without: tuple[Name, ...] = ()


class PriorLevel(Strict):
    """Where the prior comes from instead of EM over the candidates: the candidate pairs at
    `level` of `comparison`, divided by that level's m (`estimate.matches_from_level`). For a
    level only matches reach and that a blocking rule makes candidates (the same ID number:
    `exact_id`)."""

    WHAT: ClassVar[str] = "a key of training.prior_from"
    comparison: Name
    level: Name


class UWithinBlock(Strict):
    """u of levels that random pairs almost never reach (two ID numbers one digit apart),
    estimated from pairs that agree on what those levels imply (`agree_on`, the birth date)
    instead of the random sample, whose add-half floor (0.5 / its pairs) is thousands of
    times the truth: u = P(agree_on agrees) × P(level | the block's non-matches)
    (`estimate.u_within_block`). `block`: a blocking rule (or the name of one) whose columns
    include `agree_on`; its other columns must be independent of the comparison among
    non-matches (a surname says nothing of an ID number's digits)."""

    WHAT: ClassVar[str] = "a key of training.u_within_block"
    comparison: Name
    levels: tuple[Name, ...]  # at least one, each once: checked by ModelSpec
    agree_on: tuple[Column, ...]
    block: BlockingRule


class TrainingSpec(Strict):
    WHAT: ClassVar[str] = "a key of training"
    u_sample_pairs: PositiveInt = 1_000_000
    seed: NonNegativeInt = 1
    em_max_iterations: PositiveInt = 200
    em_tolerance: Annotated[float, Field(gt=0)] = 1e-6
    # Without sessions, one EM runs over all candidate pairs (fine where blocking keys are
    # not themselves strong evidence, as in FEBRL); with sessions, m is averaged over them.
    em_sessions: tuple[EmSession, ...] = ()
    # When the right side is streamed in chunks (the roster, `pipeline/link/streamed.py`):
    # train on at most this many right records, a uniform sample by a hash of the row key
    # (all of them when there are fewer). None: every record.
    right_sample_records: PositiveInt | None = None
    # The prior (the probability that two random records match) by EM over the candidate
    # pairs with m and u fixed (None), or from the candidates at one level (`PriorLevel`).
    # EM over candidates overstates it when blocking makes non-matches agree on what the
    # comparisons weigh: on the roster, the same name and birth year with two different
    # valid ID numbers scores about even, so EM counted those pairs as 8 % matches (the
    # truth: under 0.5 %): README, "How linking works".
    prior_from: PriorLevel | None = None
    # u of rare levels from a block instead of random pairs (`UWithinBlock`).
    u_within_block: tuple[UWithinBlock, ...] = ()


class DeterministicRule(Strict):
    """A pair at `level` of `comparison`, where both records have `both` values, is a match
    whatever its probability (SPEC §3: an exact valid ID links even when names disagree).
    `both` is a mapping {column: value} in YAML, kept as sorted (column, value) pairs."""

    WHAT: ClassVar[str] = "a key of a deterministic rule"
    comparison: Name
    level: Name
    both: tuple[tuple[Column, FeatureValue], ...] = ()

    @field_validator("both", mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return tuple(sorted((k, _feature_value(v)) for k, v in value.items()))
        return () if value is None else value


class DecisionSpec(Strict):
    WHAT: ClassVar[str] = "a key of decisions"
    match_probability: Probability = 0.9
    possible_probability: Probability = 0.5
    deterministic: tuple[DeterministicRule, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> DecisionSpec:
        if self.match_probability < self.possible_probability:
            raise Problem(("possible_probability",),
                          f"possible_probability {self.possible_probability} is above "
                          f"match_probability {self.match_probability}",
                          "make possible_probability at most match_probability (the "
                          "clerical band lies below a match).")
        return self


# -- the spec ---------------------------------------------------------------------------------
class ModelSpec(Strict):
    WHAT: ClassVar[str] = "a key of a linking spec"
    name: Name
    link_type: Literal["link", "dedupe"] = "link"  # two datasets, or one against itself
    blocking: tuple[BlockingRule, ...] = Field(min_length=1)
    comparisons: tuple[AnyComparison, ...] = Field(min_length=1)
    max_block_pairs: PositiveInt = 5000
    chunk_pairs: PositiveInt = 200_000
    training: TrainingSpec = TrainingSpec()
    decisions: DecisionSpec = DecisionSpec()
    # "one_to_one": a left record has at most one match and a right record is taken once
    # (except by left records of one cluster); "clusters": dedupe into connected components.
    assignment: Literal["one_to_one", "clusters"] = "one_to_one"

    @model_validator(mode="before")
    @classmethod
    def _session_blocks_by_name(cls, data: Any) -> Any:
        """`em_sessions[].block: exact_id` (and `u_within_block[].block`) is the blocking
        rule of that name."""
        if not isinstance(data, dict):
            return data
        training = data.get("training")
        if not isinstance(training, dict):
            return data
        keys = [key for key in ("em_sessions", "u_within_block")
                if isinstance(training.get(key), list) and any(
                    isinstance(s, dict) and isinstance(s.get("block"), str)
                    for s in training[key])]
        if not keys:
            return data
        rules: dict[str, Any] = {}
        for raw in data.get("blocking") or []:
            try:
                rule = BlockingRule.model_validate(raw)
            except (ValidationError, ValueError):
                continue  # reported where the blocking rules are validated
            rules.setdefault(rule.name, rule)
        training = dict(training)
        for key in keys:
            resolved = []
            for s, entry in enumerate(training[key]):
                if isinstance(entry, dict) and isinstance(entry.get("block"), str):
                    name = entry["block"]
                    if name not in rules:
                        raise Problem(("training", key, s, "block"),
                                      f"there is no blocking rule named '{name}'",
                                      suggest(name, rules, noun="the blocking rules") +
                                      " Or give the rule itself: [column, …].")
                    entry = {**entry, "block": rules[name]}
                resolved.append(entry)
            training[key] = resolved
        return {**data, "training": training}

    @model_validator(mode="after")
    def _cross_checks(self) -> ModelSpec:
        _unique([c.name for c in self.comparisons], "comparisons", "comparison")
        _unique([b.name for b in self.blocking], "blocking", "blocking rule")
        first: dict[frozenset[str], str] = {}
        for b, rule in enumerate(self.blocking):
            columns = frozenset(rule.columns)
            if columns in first:
                raise Problem(("blocking", b, "columns"), f"blocking rule {rule.name} blocks "
                              f"on the same columns as {first[columns]}",
                              "remove one of them (it adds no candidate pair).")
            first[columns] = rule.name
        built = {c.name: c.build() for c in self.comparisons}
        names = list(built)
        for s, session in enumerate(self.training.em_sessions):
            for w, name in enumerate(session.estimate_without):
                if name not in built:
                    raise Problem(("training", "em_sessions", s, "estimate_without", w),
                                  f"there is no comparison named '{name}'",
                                  suggest(name, names, noun="the comparisons"))
            if all(name in session.estimate_without for name in names):
                raise Problem(("training", "em_sessions", s, "estimate_without"),
                              "this session would estimate no comparison",
                              "leave out of estimate_without the comparisons the block does "
                              "not fix.")
        anchors = [(("decisions", "deterministic", r), rule)
                   for r, rule in enumerate(self.decisions.deterministic)]
        if self.training.prior_from is not None:
            anchors.append((("training", "prior_from"), self.training.prior_from))
        for where, rule in anchors:
            _known_levels(built, rule.comparison, (*where, "comparison"),
                          [((*where, "level"), rule.level)])
        self._check_columns(built)
        self._check_u_within_block(built)
        return self

    def _check_u_within_block(self, built: dict[str, LevelComparison]) -> None:
        """Each `u_within_block` entry names a comparison, levels of it (not every one: the
        others take up the rest of u), and a block that agrees on `agree_on`."""
        for e, entry in enumerate(self.training.u_within_block):
            where = ("training", "u_within_block", e)
            for key, noun in (("levels", "level"), ("agree_on", "column")):
                values = getattr(entry, key)
                if not values:
                    raise Problem((*where, key), f"{key} is empty",
                                  f"list at least one {noun}.")
                if len(set(values)) < len(values):
                    twice = next(v for v in values if values.count(v) > 1)
                    raise Problem((*where, key), f"'{twice}' is listed twice",
                                  f"list each {noun} once.")
            levels = _known_levels(built, entry.comparison, (*where, "comparison"),
                                   [((*where, "levels", v), level)
                                    for v, level in enumerate(entry.levels)])
            if len(set(entry.levels)) == len(levels):
                raise Problem((*where, "levels"), "every level is listed",
                              "list only the rare levels: the others keep the random "
                              "sample's u and take up the rest.")
            missing = [c for c in entry.agree_on if c not in entry.block.columns]
            if missing:
                raise Problem((*where, "block"), f"block {entry.block.name} does not agree "
                              f"on '{missing[0]}'",
                              "give a block whose columns include every agree_on column.")

    def _check_columns(self, built: dict[str, LevelComparison]) -> None:
        """Columns named outside the comparisons' own `column` exist (see the module doc)."""
        reads = {c.name: list(comp.inputs()) for c, comp in zip(self.comparisons,
                                                                built.values(), strict=True)}
        features = person_features()
        person = 2 * sum(c.column in features for c in self.comparisons) > len(self.comparisons)
        used = sorted({col for cols in reads.values() for col in cols} |
                      {col for rule in self.blocking for col in rule.columns})
        if person:
            allowed, noun = features, "the person features (pipeline/link/features.py)"
            for k, comparison in enumerate(self.comparisons):
                for column in getattr(comparison, "null_when_both", None) or {}:
                    if column not in features:
                        raise Problem(("comparisons", k, "null_when_both", column),
                                      f"'{column}' is not a column of this spec",
                                      suggest(column, features, noun=noun))
                missing = [col for col in reads[comparison.name] if col not in features]
                if missing:
                    raise Problem(("comparisons", k, "column"),
                                  f"kind {comparison.kind} on column '{comparison.column}' "
                                  f"reads '{missing[0]}', which is not a person feature",
                                  suggest(comparison.column, features, noun=noun))
            for b, rule in enumerate(self.blocking):
                _known_columns(rule.columns, allowed, ("blocking", b, "columns"), noun)
        else:
            allowed, noun = used, "the columns the comparisons and blocking rules read"
        for s, session in enumerate(self.training.em_sessions):
            _known_columns(session.block.columns, allowed,
                           ("training", "em_sessions", s, "block", "columns"), noun)
        for e, entry in enumerate(self.training.u_within_block):
            _known_columns(entry.agree_on, allowed,
                           ("training", "u_within_block", e, "agree_on"), noun)
            _known_columns(entry.block.columns, allowed,
                           ("training", "u_within_block", e, "block", "columns"), noun)
        for r, rule in enumerate(self.decisions.deterministic):
            for column, _value in rule.both:
                if column not in allowed:
                    raise Problem(("decisions", "deterministic", r, "both", column),
                                  f"'{column}' is not a column of this spec",
                                  suggest(column, allowed, noun=noun))

    def to_dict(self) -> dict[str, Any]:
        training = self.training
        return {
            "name": self.name, "link_type": self.link_type,
            "blocking": [_rule_dict(b) for b in self.blocking],
            "max_block_pairs": self.max_block_pairs,
            "chunk_pairs": self.chunk_pairs, "assignment": self.assignment,
            "comparisons": [{"name": c.name, "kind": c.kind, "column": c.column, "tf": c.tf,
                             **c.params} for c in self.comparisons],
            "training": {
                "u_sample_pairs": training.u_sample_pairs, "seed": training.seed,
                "em_max_iterations": training.em_max_iterations,
                "em_tolerance": training.em_tolerance,
                "em_sessions": [{"block": _rule_dict(s.block),
                                 "estimate_without": list(s.estimate_without)}
                                for s in training.em_sessions],
                **({"right_sample_records": training.right_sample_records}
                   if training.right_sample_records is not None else {}),
                **({"prior_from": {"comparison": training.prior_from.comparison,
                                   "level": training.prior_from.level}}
                   if training.prior_from is not None else {}),
                **({"u_within_block": [{"comparison": e.comparison, "levels": list(e.levels),
                                        "agree_on": list(e.agree_on),
                                        "block": _rule_dict(e.block)}
                                       for e in training.u_within_block]}
                   if training.u_within_block else {})},
            "decisions": {
                "match_probability": self.decisions.match_probability,
                "possible_probability": self.decisions.possible_probability,
                "deterministic": [{"comparison": r.comparison, "level": r.level,
                                   "both": dict(r.both)}
                                  for r in self.decisions.deterministic]},
        }


def _rule_dict(rule: BlockingRule) -> dict[str, Any]:
    return {"name": rule.name, "columns": list(rule.columns)}


def _known_levels(built: dict[str, LevelComparison], comparison: str,
                  where: tuple[str | int, ...],
                  levels: list[tuple[tuple[str | int, ...], str]]) -> tuple[str, ...]:
    """The level names of `comparison` (a name among `built`), once each (where, level) of
    `levels` is one of them; otherwise the Problem at that key, with the names to choose
    from."""
    if comparison not in built:
        raise Problem(where, f"there is no comparison named '{comparison}'",
                      suggest(comparison, list(built), noun="the comparisons"))
    names = level_names(built[comparison])
    for at, level in levels:
        if level not in names:
            raise Problem(at, f"comparison {comparison} has no level '{level}'",
                          suggest(level, names, noun="its levels"))
    return names


def _unique(names: list[str], key: str, noun: str) -> None:
    seen: set[str] = set()
    for k, name in enumerate(names):
        if name in seen:
            raise Problem((key, k, "name"), f"a second {noun} is named '{name}'",
                          f"give each {noun} its own name.")
        seen.add(name)


def _known_columns(columns: tuple[str, ...], allowed: list[str],
                   where: tuple[str | int, ...], noun: str) -> None:
    for c, column in enumerate(columns):
        if column not in allowed:
            raise Problem((*where, c), f"'{column}' is not a column of this spec",
                          suggest(column, allowed, noun=noun))


@functools.cache
def person_features() -> list[str]:
    """The feature columns `person_features` derives (from an empty frame: no second list)."""
    import pandas as pd

    from pipeline.link.features import INPUTS
    from pipeline.link.features import person_features as build

    return list(build(pd.DataFrame({c: pd.Series(dtype=object) for c in INPUTS})).columns)


def spec_from_dict(data: Any, origin: str = "spec") -> ModelSpec:
    """A validated spec; any problem is an InputError naming `origin`, the key and the fix."""
    if not isinstance(data, dict):
        raise InputError("a linking spec must be a YAML mapping (name, blocking, comparisons "
                         "…).", "compare it with pipeline/link/specs/union_civil.yaml.",
                         file=origin)
    try:
        return ModelSpec.model_validate(data)
    except ValidationError as error:
        raise input_error(error, data, origin) from None


SPECS_PACKAGE = "pipeline.link.specs"


def shipped_specs() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in resources.files(SPECS_PACKAGE).iterdir()
                  if p.name.endswith(".yaml"))


def load_spec(name_or_path: str | Path) -> ModelSpec:
    """A shipped spec by name (`union_civil`, `febrl4` …) or a YAML file path."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} and path.exists():
        try:
            text, origin = path.read_text("utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"the linking spec cannot be read ({type(error).__name__}).",
                             "pass a readable UTF-8 YAML file.", file=str(path)) from None
    else:
        resource = resources.files(SPECS_PACKAGE).joinpath(f"{name_or_path}.yaml")
        if not resource.is_file():
            raise InputError(f"no linking spec named '{name_or_path}'.",
                             "name a file in pipeline/link/specs/ or pass a YAML path; " +
                             suggest(name_or_path, shipped_specs(), noun="shipped specs"))
        text, origin = resource.read_text("utf-8"), f"pipeline/link/specs/{name_or_path}.yaml"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"the linking spec is not valid YAML{where}.",
                         "correct the YAML syntax there.", file=origin) from None
    return spec_from_dict(data, origin)
