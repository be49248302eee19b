"""Validate: input checks, gates that stop a bad night, and the validation docs of a run."""

from pipeline.schema import Source

# The input suite of each source (`suites/<name>.json`).
INPUT_SUITES = {Source.UNION: "union_roll", Source.CIVIL: "civil_exchange",
                Source.MEMBERS: "roster"}
