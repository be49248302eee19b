"""The linking model as data: blocking passes, comparisons, training and decision settings.

A spec is a YAML file (see `pipeline/link/specs/`), so the same engine links other schemas
(FEBRL ships as one) and a model change is a diff of a text file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import InputError
from pipeline.link.comparisons import KINDS, LevelComparison


@dataclass(frozen=True)
class ComparisonSpec:
    name: str
    kind: str
    column: str
    tf: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    def build(self) -> LevelComparison:
        return KINDS[self.kind](self.name, self.column, tf=self.tf, **self.params)


@dataclass(frozen=True)
class EmSession:
    """EM on the pairs of one blocking rule; the comparisons the rule makes agree by
    construction are not estimated there (they carry no information within the block)."""

    block: tuple[str, ...]
    estimate_without: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainingSpec:
    u_sample_pairs: int = 1_000_000
    seed: int = 1
    em_max_iterations: int = 200
    em_tolerance: float = 1e-6
    # Without sessions, one EM runs over all candidate pairs (fine where blocking keys are
    # not themselves strong evidence, as in FEBRL); with sessions, m is averaged over them.
    em_sessions: tuple[EmSession, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingSpec:
        data = dict(data)
        sessions = tuple(EmSession(tuple(s["block"]), tuple(s.get("estimate_without", ())))
                         for s in data.pop("em_sessions", ()))
        return cls(**data, em_sessions=sessions)


@dataclass(frozen=True)
class DeterministicRule:
    """A pair at `level` of `comparison`, where both records have `both` values, is a match
    whatever its probability (SPEC §3: an exact valid ID links even when names disagree)."""

    comparison: str
    level: str
    both: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DecisionSpec:
    match_probability: float = 0.9
    possible_probability: float = 0.5
    deterministic: tuple[DeterministicRule, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecisionSpec:
        data = dict(data)
        rules = tuple(DeterministicRule(r["comparison"], r["level"],
                                        tuple(sorted((r.get("both") or {}).items())))
                      for r in data.pop("deterministic", ()))
        return cls(**data, deterministic=rules)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    link_type: str  # "link" (two datasets) or "dedupe" (one)
    blocking: tuple[tuple[str, ...], ...]
    comparisons: tuple[ComparisonSpec, ...]
    max_block_pairs: int = 5000
    chunk_pairs: int = 200_000
    training: TrainingSpec = TrainingSpec()
    decisions: DecisionSpec = DecisionSpec()
    # "one_to_one": a left record has at most one match and a right record is taken once
    # (except by left records of one cluster); "clusters": dedupe into connected components.
    assignment: str = "one_to_one"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "link_type": self.link_type,
            "blocking": [list(b) for b in self.blocking], "max_block_pairs": self.max_block_pairs,
            "chunk_pairs": self.chunk_pairs, "assignment": self.assignment,
            "comparisons": [{"name": c.name, "kind": c.kind, "column": c.column, "tf": c.tf,
                             **c.params} for c in self.comparisons],
            "training": {**vars(self.training), "em_sessions": [
                {"block": list(s.block), "estimate_without": list(s.estimate_without)}
                for s in self.training.em_sessions]},
            "decisions": {**vars(self.decisions), "deterministic": [
                {"comparison": r.comparison, "level": r.level, "both": dict(r.both)}
                for r in self.decisions.deterministic]},
        }


def spec_from_dict(data: dict[str, Any], origin: str = "spec") -> ModelSpec:
    try:
        comparisons = []
        for item in data["comparisons"]:
            item = dict(item)
            name, kind, column = item.pop("name"), item.pop("kind"), item.pop("column")
            if kind not in KINDS:
                raise InputError(f"unknown comparison kind '{kind}'.",
                                 f"use one of: {', '.join(sorted(KINDS))}.", file=origin)
            tf = bool(item.pop("tf", False))
            comparisons.append(ComparisonSpec(name, kind, column, tf, item))
        return ModelSpec(
            name=data["name"], link_type=data.get("link_type", "link"),
            blocking=tuple(tuple(b) for b in data["blocking"]),
            comparisons=tuple(comparisons),
            max_block_pairs=int(data.get("max_block_pairs", 5000)),
            chunk_pairs=int(data.get("chunk_pairs", 200_000)),
            training=TrainingSpec.from_dict(data.get("training", {})),
            decisions=DecisionSpec.from_dict(data.get("decisions", {})),
            assignment=data.get("assignment", "one_to_one"),
        )
    except (KeyError, TypeError) as error:
        raise InputError(f"the linking spec is incomplete ({error}).",
                         "compare it with pipeline/link/specs/union_civil.yaml.",
                         file=origin) from None


def load_spec(name_or_path: str | Path) -> ModelSpec:
    """A shipped spec by name (`union_civil`, `febrl4` …) or a YAML file path."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} and path.exists():
        text, origin = path.read_text("utf-8"), str(path)
    else:
        resource = resources.files("pipeline.link.specs").joinpath(f"{name_or_path}.yaml")
        if not resource.is_file():
            raise InputError(f"no linking spec named '{name_or_path}'.",
                             "name a file in pipeline/link/specs/ or pass a YAML path.")
        text, origin = resource.read_text("utf-8"), f"pipeline/link/specs/{name_or_path}.yaml"
    return spec_from_dict(yaml.safe_load(text), origin)
