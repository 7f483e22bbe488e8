"""Registry of losses: each builds the per-example loss from outputs and targets.

>>> import sympy as sp
>>> o, t = sp.symbols("out_F t_F")
>>> LOSSES["half_sse"].build([o], [t])
(-out_F + t_F)**2/2

Each is a sum of one term per output (``term(out, target, K)`` with K outputs), which worked
solutions may state on its own (``E_o1``):

>>> outs, targets = sp.symbols("o1 o2"), sp.symbols("t1 t2")
>>> all(sp.simplify(sum(L.term(o, t, 2) for o, t in zip(outs, targets)) - L.build(outs, targets)) == 0
...     for L in LOSSES.values())
True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import sympy as sp

Expr = sp.Expr


@dataclass(frozen=True)
class Loss:
    """A named loss: ``build(outs, targets)`` returns the per-example expression."""

    name: str
    build: Callable[[Sequence[Expr], Sequence[Expr]], Expr]
    term: Callable[[Expr, Expr, int], Expr]   # one output's share of build (out, target, K outputs)
    formula: str
    words: str = ""                   # how a document names it ("binary cross-entropy")
    one_hot_simplifies: bool = False  # with softmax: δ_k = out_k·Σt − t_k = out_k − t_k when Σt = 1


def _sq(outs, targets):
    return [(t - o) ** 2 for o, t in zip(outs, targets)]


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("half_sse", lambda o, t: sp.Rational(1, 2) * sp.Add(*_sq(o, t)),
             lambda o, t, k: sp.Rational(1, 2) * (t - o) ** 2, "1/2 sum_o (t_o - out_o)^2",
             "half the sum of squared errors"),
        Loss("sse", lambda o, t: sp.Add(*_sq(o, t)), lambda o, t, k: (t - o) ** 2, "sum_o (t_o - out_o)^2",
             "the sum of squared errors"),
        Loss("mse", lambda o, t: sp.Add(*_sq(o, t)) / len(o), lambda o, t, k: (t - o) ** 2 / k,
             "1/K sum_o (t_o - out_o)^2", "the mean squared error over the outputs"),
        Loss("bce", lambda o, t: -sp.Add(*[ti * sp.log(oi) + (1 - ti) * sp.log(1 - oi)
                                           for oi, ti in zip(o, t)]),
             lambda o, t, k: -(t * sp.log(o) + (1 - t) * sp.log(1 - o)),
             "-sum_o [t_o log out_o + (1 - t_o) log(1 - out_o)]", "binary cross-entropy"),
        Loss("cross_entropy", lambda o, t: -sp.Add(*[ti * sp.log(oi) for oi, ti in zip(o, t)]),
             lambda o, t, k: -t * sp.log(o), "-sum_o t_o log out_o", "cross-entropy", one_hot_simplifies=True),
    )
}
