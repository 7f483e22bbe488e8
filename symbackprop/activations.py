"""Registry of activations: the function, and its derivative written the way lectures write it.

Each activation gives ``out = f(net)`` and ``∂out/∂net`` in terms of ``net`` and ``out``
(sigmoid ``out(1 − out)``, tanh ``1 − out²``). A spec may also name an expression in ``x``,
whose derivative SymPy finds. Softmax is a group activation handled by :func:`softmax_outputs`.

>>> import sympy as sp
>>> net, out = sp.symbols("net_T out_T")
>>> ACTIVATIONS["sigmoid"].derivative(net, out, None)
out_T*(1 - out_T)
>>> activation_from_text("x**3", where="neurons.h.activation").derivative(net, out, None)
3*net_T**2
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import sympy as sp

from .expressions import ExpressionError, parse_expression
from .functions import leaky_relu, relu, sigmoid, softplus

Expr = sp.Expr


@dataclass(frozen=True)
class Activation:
    """An element-wise activation: ``apply(net, alpha)`` and ``derivative(net, out, alpha)``."""

    name: str
    apply: Callable[[Expr, Expr | None], Expr]
    derivative: Callable[[Expr, Expr, Expr | None], Expr]
    needs_alpha: bool = False
    description: str = ""
    tex: tuple[str, str] = (r"f(x)", r"f'(\mathrm{net})")   # (definition, lecture derivative) in LaTeX


def _register(*items: Activation) -> dict[str, Activation]:
    return {a.name: a for a in items}


ACTIVATIONS: dict[str, Activation] = _register(
    Activation("identity", lambda n, a: n, lambda n, o, a: sp.Integer(1), description="f(x) = x",
               tex=(r"f(x) = x", r"f'(\mathrm{net}) = 1")),
    Activation("sigmoid", lambda n, a: sigmoid(n), lambda n, o, a: o * (1 - o),
               description="f'(net) = out(1 - out)",
               tex=(r"\sigma(x) = \frac{1}{1 + e^{-x}}", r"\sigma'(\mathrm{net}) = \mathrm{out}\,(1 - \mathrm{out})")),
    Activation("tanh", lambda n, a: sp.tanh(n), lambda n, o, a: 1 - o**2,
               description="f'(net) = 1 - out^2",
               tex=(r"f(x) = \tanh x", r"f'(\mathrm{net}) = 1 - \mathrm{out}^{2}")),
    Activation("relu", lambda n, a: relu(n), lambda n, o, a: sp.Heaviside(n, 0),
               description="f'(net) = 1 if net > 0 else 0 (0 at the kink)",
               tex=(r"\operatorname{ReLU}(x) = \max(0, x)", r"f'(\mathrm{net}) = \mathbf{1}\!\left[\mathrm{net} > 0\right]")),
    Activation("leaky_relu", lambda n, a: leaky_relu(n, a),
               lambda n, o, a: sp.Piecewise((1, n > 0), (a, True)), needs_alpha=True,
               description="f'(net) = 1 if net > 0 else alpha",
               tex=(r"f(x) = \max(\alpha x, x)", r"f'(\mathrm{net}) = 1 \text{ if } \mathrm{net} > 0 \text{ else } \alpha")),
    Activation("softplus", lambda n, a: softplus(n), lambda n, o, a: sigmoid(n),
               description="f'(net) = sigmoid(net)",
               tex=(r"f(x) = \log(1 + e^{x})", r"f'(\mathrm{net}) = \sigma(\mathrm{net})")),
)
SOFTMAX_TEX = (r"\mathrm{out}_{k} = e^{\mathrm{net}_{k}} / \textstyle\sum_{j} e^{\mathrm{net}_{j}}",
               r"\partial \mathrm{out}_{k} / \partial \mathrm{net}_{j} = \mathrm{out}_{k}\,"
               r"(\mathbf{1}[k = j] - \mathrm{out}_{j})")
"""The group activation's LaTeX (definition, lecture derivative)."""

GROUP_ACTIVATIONS = ("softmax",)
DEFAULT_LEAKY_ALPHA = sp.Rational(1, 100)


def activation_from_text(text: str, *, where: str) -> Activation:
    """A registered activation by name, or a custom one from an expression in ``x``."""
    if text in ACTIVATIONS:
        return ACTIVATIONS[text]
    x = sp.Symbol("x")
    body = parse_expression(text, {"x": x}, where=where)
    if x not in body.free_symbols:
        raise ExpressionError(f"{where}: activation expression '{text}' does not use x")
    derivative = sp.diff(body, x)
    return Activation(
        name=text,
        apply=lambda n, a: body.xreplace({x: n}),
        derivative=lambda n, o, a: derivative.xreplace({x: n}),
        description=f"f(x) = {body}, f'(x) = {derivative}",
    )


def softmax_outputs(nets: Sequence[Expr]) -> list[Expr]:
    """``out_k = exp(net_k) / Σ_j exp(net_j)`` for a softmax group."""
    total = sp.Add(*[sp.exp(n) for n in nets])
    return [sp.exp(n) / total for n in nets]


def softmax_derivative(out_k: Expr, out_j: Expr, same: bool) -> Expr:
    """``∂out_k/∂net_j = out_k(𝟙[k=j] − out_j)``."""
    return out_k * ((1 if same else 0) - out_j)
