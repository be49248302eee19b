"""Masked forms of personal data, for logs, reports, artifacts and explanations.

ID numbers keep the issuing place and the last four characters (`110105********123X`); names
keep the surname only (`王*`, `欧阳**`). A minority name written with `·` keeps only its first
character (`买**·**`): its first part is usually the person's own given name (Uyghur and
Kazakh names: given name · father's name), which says more than a Han surname does.
"""

from __future__ import annotations

import pandas as pd

from pipeline.normalise.id_number import mask_id
from pipeline.normalise.names import surname


def mask_name(name: object) -> str:
    """The masked form of a name (text; '' for a missing one): the surname and one `*` per
    other character (at least one); a name with `·` its first character, each part's other
    characters as `*`, the `·` kept (`买**·**`)."""
    if not isinstance(name, str) or not name:
        return ""
    if "·" in name:
        parts = name.split("·")
        masked = "·".join("*" * max(len(part), 1) for part in parts)
        return name[0] + masked[1:] if parts[0] else masked
    head = surname(name) or name[:1]
    return head + "*" * max(len(name) - len(head), 1)


def mask_names(values: pd.Series) -> pd.Series:
    return values.map(mask_name).astype("string")


def mask_ids(values: pd.Series) -> pd.Series:
    return values.map(mask_id).astype("string")


__all__ = ["mask_id", "mask_ids", "mask_name", "mask_names"]
