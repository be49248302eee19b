"""Pseudonymised outputs: ID numbers replaced by keyed HMAC-SHA256 tokens.

With `--pseudonymise`, no output file holds a full ID number: quarantine's raw ID becomes a
token and its raw name a masked name, and links carry `union_id_token` / `civil_id_token` so
analysts can follow a person across nights and files without seeing the number. The same key
gives the same token for the same (normalised) ID, so tokens join; without the key they cannot
be reversed or recomputed. The key comes from the environment variable BIDUI_PSEUDONYM_KEY or
from a key file (`--key-file`), never from the command line or a flow parameter (Prefect
stores parameters). The run refuses to start without one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pandas as pd

from pipeline.errors import InputError
from pipeline.masking import mask_names
from pipeline.normalise.id_number import clean_id

KEY_ENV = "BIDUI_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16
TOKEN_PREFIX = "hm_"


def load_key(key_file: Path | None = None) -> bytes:
    """The pseudonymisation key from the key file, else the environment; refuse weak keys."""
    if key_file is not None:
        try:
            key = Path(key_file).read_bytes().strip()
        except OSError as error:
            raise InputError(f"the key file cannot be read ({type(error).__name__}).",
                             "pass a readable file to --key-file.", file=str(key_file)) from None
    else:
        key = os.environ.get(KEY_ENV, "").encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise InputError(
            "--pseudonymise needs a key of at least 16 bytes and none was given (or it is "
            "too short).", f"set {KEY_ENV} or pass --key-file FILE (e.g. 32 random bytes "
            "from `head -c 32 /dev/urandom | base64 > key`); keep it out of the output folder.")
    return key


def token(value: object, key: bytes) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    digest = hmac.new(key, clean_id(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return TOKEN_PREFIX + digest[:32]


def tokens(values: pd.Series, key: bytes) -> pd.Series:
    return values.map(lambda v: token(v, key)).astype("string")


def pseudonymise_quarantine(quarantine: pd.DataFrame, key: bytes) -> pd.DataFrame:
    out = quarantine.copy()
    out["raw_id_number"] = tokens(out["raw_id_number"], key)
    out["raw_name"] = mask_names(out["raw_name"])
    return out


def link_tokens(links: pd.DataFrame, union: pd.DataFrame, civil: pd.DataFrame,
                key: bytes) -> pd.DataFrame:
    """Token columns for the roll and civil sides of each link (by row key)."""
    union_tokens = dict(zip(union["row_key"], tokens(union["id_norm"], key), strict=True))
    civil_tokens = dict(zip(civil["row_key"], tokens(civil["id_norm"], key), strict=True))
    out = links.copy()
    out["union_id_token"] = out["union_row_key"].map(union_tokens).astype("string")
    out["civil_id_token"] = out["civil_row_key"].map(civil_tokens).astype("string")
    return out
