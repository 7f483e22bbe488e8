"""The shorthands that generate a whole network (``recurrent:``, ``conv:``), one registry.

Each expands its block into the ordinary scalar form (``inputs``, ``neurons``, ``nodes``,
``outputs`` and values by generated name) before the spec is validated, so everything after
— graph, derivation, documents, checker — sees plain neurons with shared parameters.

>>> sorted(GENERATORS)
['conv', 'recurrent']
>>> expand_generated({"name": "plain"})
{'name': 'plain'}
"""
from __future__ import annotations

from typing import Callable

from ..errors import SpecError
from .conv import expand_conv
from .recurrent import expand_recurrent

GENERATORS: dict[str, Callable[[dict], dict]] = {"recurrent": expand_recurrent, "conv": expand_conv}


def expand_generated(raw: dict) -> dict:
    """``raw`` with its one generating block (if any) expanded; two are refused."""
    present = [k for k in GENERATORS if k in raw]
    if len(present) > 1:
        raise SpecError(f"give one of {' or '.join(present)}, not both", key=present[1])
    return GENERATORS[present[0]](raw) if present else raw
