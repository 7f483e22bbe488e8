"""The lecture's own symbols (spec key ``symbols:``): the loss's name, and the learning rate's
and the targets' letters, so the documents speak the course's notation.

>>> symbols_from_mapping({"symbols": {"loss": "J", "learning_rate": "alpha"}})
{'loss': 'J', 'learning_rate': 'alpha'}
>>> symbols_from_mapping({"symbols": {"target": "c"}})
{'target': 'c'}
>>> symbols_from_mapping({})
{}
"""
from __future__ import annotations

from typing import Any, Mapping

from ..errors import SpecError
from .fields import as_mapping, check_name, key_text

ROLES = {
    "loss": "the loss's name everywhere (JSON, text, documents, answers): e.g. J or L",
    "learning_rate": "the learning rate's letter in the documents: e.g. alpha (default eta)",
    "target": "the targets' letter in the documents: e.g. c or y (default t)",
}

LETTERS = {"learning_rate", "target"}
"""The roles that are one letter in the documents (a target letter takes the output's subscript)."""


def symbols_from_mapping(raw: Mapping[str, Any]) -> dict[str, str]:
    """The validated ``symbols`` mapping (role → name); each mistake names its key."""
    if "symbols" not in raw:
        return {}
    body = as_mapping(raw["symbols"], "symbols")
    out: dict[str, str] = {}
    for role, value in body.items():
        key = f"symbols.{key_text(role)}"
        if role not in ROLES:
            raise SpecError(f"unknown symbol (allowed: {', '.join(sorted(ROLES))})", key=key)
        out[role] = check_name(value, key)
        if role in LETTERS and not out[role].isalpha():
            raise SpecError(f"'{out[role]}' is not a letter (a letter or a Greek name such as "
                            "alpha; it is subscripted in the documents)", key=key)
    return out
