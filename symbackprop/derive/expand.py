"""Expand lecture-form expressions into inputs, parameters and targets only — with a size guard.

Substituting definitions (``out_T → σ(net_T)``, ``net_T → w_AT·A + …``, ``delta_F → …``)
can blow up exponentially with depth. The tree size of each expansion is computed first,
from the sizes of the definitions, without building anything; past the limit the expansion
is refused instead of hanging.

>>> import sympy as sp
>>> a, b, x = sp.symbols("a b x")
>>> e = Expander({a: x**2, b: a + 1})
>>> e.expand(b * a)
x**2*(x**2 + 1)
"""
from __future__ import annotations

from typing import Mapping

import sympy as sp

DEFAULT_LIMIT = 4_000


class ExpansionTooLarge(Exception):
    """The expanded expression would have more than ``limit`` tree nodes."""

    def __init__(self, size: int, limit: int):
        self.size, self.limit = size, limit
        super().__init__(f"the expanded form would have about {size:,} terms (limit {limit:,})")


class Expander:
    """Substitute definitions recursively, memoised, refusing expansions larger than ``limit``."""

    def __init__(self, definitions: Mapping[sp.Symbol, sp.Expr], limit: int = DEFAULT_LIMIT):
        self.definitions = dict(definitions)
        self.limit = limit
        self._sizes: dict[sp.Symbol, int] = {}
        self._expanded: dict[sp.Symbol, sp.Expr] = {}

    def size(self, expr: sp.Expr) -> int:
        """Tree size of the full expansion of ``expr`` (capped just past the limit)."""
        if expr.is_Symbol:
            if expr not in self.definitions:
                return 1
            if expr not in self._sizes:
                self._sizes[expr] = min(self.size(self.definitions[expr]), 10 * self.limit + 1)
            return self._sizes[expr]
        if not expr.args:
            return 1
        return min(1 + sum(self.size(a) for a in expr.args), 10 * self.limit + 1)

    def expand(self, expr: sp.Expr) -> sp.Expr:
        """The expansion of ``expr``; raises :class:`ExpansionTooLarge` past the limit."""
        size = self.size(expr)
        if size > self.limit:
            raise ExpansionTooLarge(size, self.limit)
        return self._substitute(expr)

    def _substitute(self, expr: sp.Expr) -> sp.Expr:
        mapping = {}
        for s in expr.free_symbols:
            if s in self.definitions:
                if s not in self._expanded:
                    self._expanded[s] = self._substitute(self.definitions[s])
                mapping[s] = self._expanded[s]
        return expr.xreplace(mapping) if mapping else expr
