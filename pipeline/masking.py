"""Masked forms of personal data, for logs, reports, artifacts and explanations.

ID numbers keep the issuing place and the last four characters (`110105********123X`); names
keep the surname only (`王*`, `欧阳**`, minority names their first part `买买提·**`).
"""

from __future__ import annotations

import pandas as pd

from pipeline.normalise.id_number import mask_id
from pipeline.normalise.names import surname


def mask_name(name: object) -> str:
    if not isinstance(name, str) or not name:
        return ""
    head = surname(name) or name[:1]
    if "·" in name:
        return name.split("·", 1)[0] + "·" + "*" * max(len(name.split("·", 1)[1]), 1)
    return head + "*" * max(len(name) - len(head), 1)


def mask_names(values: pd.Series) -> pd.Series:
    return values.map(mask_name).astype("string")


def mask_ids(values: pd.Series) -> pd.Series:
    return values.map(mask_id).astype("string")


__all__ = ["mask_id", "mask_ids", "mask_name", "mask_names"]
