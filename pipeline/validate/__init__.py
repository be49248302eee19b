"""Validate: input checks, gates that stop a bad night, and the validation docs of a run."""
