"""Shared fixtures: the shipped examples and their derivations (computed once per session)."""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/reference.py

EXAMPLE_SPECS = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith("-lecture-answers.yaml"))


@functools.lru_cache(maxsize=None)
def derivation(path: str, method: str = "backprop"):
    """The derivation of one example spec by one method (cached across tests)."""
    from symbackprop import derive, load_spec

    return derive(load_spec(path), method)


@functools.lru_cache(maxsize=None)
def result(path: str, method: str = "backprop") -> dict:
    """The JSON result (as the CLI's --format json writes it) of one example."""
    from symbackprop.layers import NotLayered, layer_view, layer_view_dict

    d = derivation(path, method)
    out = d.to_dict()
    try:  # what `derive --notation matrix` adds for a layered network
        out["layer_view"] = layer_view_dict(layer_view(d))
    except NotLayered:
        pass
    return json.loads(json.dumps(out))


def ids(paths):
    return [p.stem for p in paths]


@pytest.fixture(params=EXAMPLE_SPECS, ids=ids(EXAMPLE_SPECS))
def example(request) -> Path:
    return request.param
