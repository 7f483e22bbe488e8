"""Lines of generated code: pruning unused lines, batching over examples, common subexpressions, sums."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import sympy as sp

from ..straightline import dependency_order
from .printer import CSE_LIMIT


@dataclass
class CodeLines:
    """The generated function bodies and what the module needs to know about them."""

    form: str
    forward_names: list[str]          # the spec-level names of what _forward returns
    forward_body: list[str]
    loss_body: list[str]
    gradient_body: list[str]
    constants: list[str]


def prune_lines(definitions: Sequence[tuple[sp.Symbol, sp.Expr]], wanted) -> list[tuple[sp.Symbol, sp.Expr]]:
    """Only the definitions ``wanted`` depends on, in their order."""
    needed = set(wanted)
    kept = []
    for sym, expr in reversed(definitions):
        if sym in needed:
            kept.append((sym, expr))
            needed |= expr.free_symbols
    return kept[::-1]


def batched_code(definitions, leaves_batched: set[sp.Symbol]) -> set[sp.Symbol]:
    """Symbols whose value depends on an input or target (one value per example)."""
    batched = set(leaves_batched)
    for sym, expr in definitions:
        if expr.free_symbols & batched:
            batched.add(sym)
    return batched


def with_cse(definitions: list[tuple[sp.Symbol, sp.Expr]], use_cse: bool,
              inline: set[sp.Symbol] = frozenset()) -> list[tuple[sp.Symbol, sp.Expr]]:
    """Shared subexpressions as ``_c0, _c1, …`` placed before their first use (symbols in
    ``inline`` are substituted by the caller, so they never stand for a temporary)."""
    if not use_cse or not definitions:
        return definitions
    size = sum(sp.count_ops(e) for _, e in definitions)
    if size > CSE_LIMIT:
        return definitions
    replacements, reduced = sp.cse([e for _, e in definitions], symbols=sp.numbered_symbols("_c"),
                                   optimizations=None, order="none")
    temporaries = {c for c, _ in replacements}
    alias = {}  # a temporary that is a whole definition keeps the definition's own name
    for (s, _), e in zip(definitions, reduced):
        if e in temporaries and e not in alias and s not in inline:
            alias[e] = s
    combined = [(alias.get(c, c), e.xreplace(alias)) for c, e in replacements]
    combined += [(s, e.xreplace(alias)) for (s, _), e in zip(definitions, reduced) if alias.get(e) != s]
    return dependency_order(combined)


def sum_code(expr: sp.Expr, batched: set[sp.Symbol], code: Callable[[sp.Expr], str]) -> str:
    """Code for ``Σ_batch expr``: ``numpy.dot`` for a product of two per-example factors."""
    if not expr.free_symbols & batched:
        return f"_B*({code(expr)})"
    if isinstance(expr, sp.Mul):
        per_example = [f for f in expr.args if f.free_symbols & batched]
        shared = [f for f in expr.args if not f.free_symbols & batched]
        if len(per_example) == 2:
            dot = f"numpy.dot({code(per_example[0])}, {code(per_example[1])})"
            return f"({code(sp.Mul(*shared))})*{dot}" if shared else dot
    return f"numpy.sum({code(expr)})"
