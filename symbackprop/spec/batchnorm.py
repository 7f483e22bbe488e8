"""The ``batch_norm:`` block: statistics across the ``data:`` examples.

``batch_norm: {z: {of: h, gamma: g, beta: c, eps: 0.001}}`` normalises the source ``h`` (a
neuron's out, a node or an input) over the batch: ``mu_z = 1/m Σ_n h⁽ⁿ⁾``,
``var_z = 1/m Σ_n (h⁽ⁿ⁾ − mu_z)²`` (one node each, shared by every example) and per example
``z⁽ⁿ⁾ = g·(h⁽ⁿ⁾ − mu_z)/sqrt(var_z + eps) + c``. ``gamma`` and ``beta`` are parameters (left
out: 1 and 0); ``eps`` defaults to 0.001. ``z`` may then feed neurons and nodes, or be an output.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..errors import SpecError
from .fields import as_mapping, check_name, key_text, number, refuse_unknown_keys

BATCH_NORM_KEYS = {"of", "gamma", "beta", "eps"}
DEFAULT_EPS = sp.Rational(1, 1000)


@dataclass(frozen=True)
class BatchNorm:
    """One batch-normalised quantity ``name`` of ``source`` (see the module docstring)."""

    name: str
    source: str
    gamma: str | None = None
    beta: str | None = None
    eps: sp.Rational = DEFAULT_EPS

    @property
    def mean(self) -> str:
        return f"mu_{self.name}"

    @property
    def variance(self) -> str:
        return f"var_{self.name}"


def batch_norms(raw: dict) -> dict[str, BatchNorm]:
    """The validated ``batch_norm:`` block (``{}`` without one); it needs ``data`` of ≥ 2 examples."""
    if "batch_norm" not in raw:
        return {}
    block = as_mapping(raw["batch_norm"], "batch_norm")
    data = raw.get("data")
    if not isinstance(data, list) or len(data) < 2:
        raise SpecError("batch statistics need 'data' with at least 2 examples (the batch)", key="batch_norm")
    out: dict[str, BatchNorm] = {}
    for key, body in block.items():
        where = f"batch_norm.{key_text(key)}"
        name = check_name(key, where)
        body = as_mapping(body, where)
        refuse_unknown_keys(body, BATCH_NORM_KEYS, where)
        if "of" not in body:
            raise SpecError("say which quantity is normalised: 'of: <neuron, node or input>'", key=where)
        eps = number(body["eps"], f"{where}.eps") if "eps" in body else DEFAULT_EPS
        if eps <= 0:
            raise SpecError("must be positive (it keeps sqrt(var + eps) away from 0)", key=f"{where}.eps")
        out[name] = BatchNorm(name, check_name(body["of"], f"{where}.of"),
                              *(check_name(body[k], f"{where}.{k}") if body.get(k) is not None else None
                                for k in ("gamma", "beta")), eps=eps)
    return out


def batch_norm_parameters(norms: dict[str, BatchNorm]) -> tuple[list[str], list[str]]:
    """The scale (weight-like) and shift (bias-like) parameters the block declares, in order."""
    return ([b.gamma for b in norms.values() if b.gamma], [b.beta for b in norms.values() if b.beta])


def check_batch_norm_names(norms: dict[str, BatchNorm], owner: dict[str, Any]) -> None:
    """Sources exist; no name (nor its mu_/var_) clashes with another name of the spec."""
    for b in norms.values():
        where = f"batch_norm.{b.name}"
        for derived in (b.name, b.mean, b.variance):
            if derived in owner:
                raise SpecError(f"'{derived}' is already a name of this spec", key=where)
        if b.source not in owner and b.source not in norms:
            raise SpecError(f"unknown source '{b.source}' (not an input, neuron, node or batch_norm)",
                            key=f"{where}.of")
