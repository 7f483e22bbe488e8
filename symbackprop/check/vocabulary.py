"""Which symbols an answer may use: never the circular ones, and no δs (or no nets and outs either) where the instructor asks so."""
from __future__ import annotations

import sympy as sp

from .context import CheckContext, Target


def banned_symbols(ctx: CheckContext, target: Target, vocabulary: str) -> dict[sp.Symbol, str]:
    """The symbols an answer for ``target`` may not use under ``vocabulary``, each with why.

    Always: the circular ones (:meth:`CheckContext.circular_symbols`). ``without_deltas``: every
    δ; ``givens_only``: every δ, net and out (inputs, parameters and targets remain).

    >>> from symbackprop import derive, load_spec
    >>> ctx = CheckContext(derive(load_spec("examples/we05-221-sigmoid.yaml")))
    >>> t = ctx.target("w_AT")
    >>> sorted(map(str, banned_symbols(ctx, t, "with_deltas"))), len(banned_symbols(ctx, t, "without_deltas"))
    ([], 3)
    >>> banned_symbols(ctx, t, "givens_only")[ctx.symbol("out_T")]
    'this question asks for dE/dw_AT in the given quantities only (inputs, weights, targets): out_T is not one'
    """
    banned = dict(ctx.circular_symbols(target))
    if vocabulary == "with_deltas":
        return banned
    if vocabulary == "givens_only":
        why = (f"this question asks for {target.label} in the given quantities only (inputs, weights, "
               "targets): {} is not one")
        leaves = {s for s, _, _ in ctx.leaves()}
        others = [ctx.symbol(n) for n in ctx.graph if ctx.symbol(n) not in leaves]
    else:
        why = f"this question asks for {target.label} without deltas: {{}} is one"
        others = []
    for sym in [*ctx.delta_symbols.values(), *others]:
        banned.setdefault(sym, why.format(sym))
    return banned
