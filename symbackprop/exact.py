"""Exact numbers for exam answers: every value of a derivation in SymPy Rationals.

Spec numbers are already exact (``0.35`` is read as ``7/20``). Substituting them into the
derivation's definitions in dependency order keeps every value exact: identity, ReLU and
polynomial networks give exact rationals (WE-10's integers, WE-8's ``1/2``); a sigmoid of a
rational is not rational, and its value is the closed form ``1/(1 + exp(-7/20))`` beside
a decimal. A closed form larger than :data:`DEFAULT_LIMIT` tree nodes is not written out
(``None``); its decimal (30 digits, computed from the decimals of what it uses) is still given.

>>> from symbackprop import spec_from_mapping, derive
>>> d = derive(spec_from_mapping({"name": "t", "inputs": ["x"],
...     "neurons": {"o": {"from": {"x": "w"}, "activation": "identity"}},
...     "outputs": ["o"], "loss": "half_sse",
...     "values": {"inputs": {"x": 0.5}, "params": {"w": 0.2}, "targets": {"o": 1}}}))
>>> exact = exact_numbers(d)
>>> exact.gradients["w"], exact.forward["E"]
(-9/20, 81/200)
>>> exact.to_dict()["gradients"]
{'w': '-9/20'}
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Mapping

import sympy as sp

from .derive import Derivation
from .errors import SpecError
from .functions import sigmoid, softplus
from .ordering import Texts
from .straightline import dependency_order

__all__ = ["exact_numbers", "ExactNumbers", "closed_form", "ClosedForms", "decimal_value"]

DECIMAL_DIGITS = 30
DEFAULT_LIMIT = 500
MAX_RATIONAL_BITS = 6_644
"""Largest exact rational written (about 2,000 digits); larger ones keep only their decimal."""
"""Largest closed form (tree nodes) written out; rationals are always written."""


def closed_form(value: sp.Expr) -> str:
    """The exact value as SymPy-readable text using only ``exp``/``log`` (no symbackprop
    functions): ``sigmoid(a)`` as ``1/(1 + exp(-a))``, ``softplus(a)`` as ``log(1 + exp(a))``.

    >>> closed_form(sigmoid(sp.Rational(7, 20)))
    '1/(exp(-7/20) + 1)'
    """
    return ClosedForms()(value)


class ClosedForms:
    """:func:`closed_form` for all the values of one network, which nest one another: each
    distinct sub-expression is rewritten and printed once for all of them (the same text as
    ``value.replace(sigmoid, ...).replace(softplus, ...)`` printed by ``str``)."""

    def __init__(self) -> None:
        self._texts = Texts()
        self._rewritten: dict[sp.Basic, sp.Basic] = {}

    def __call__(self, value: sp.Expr) -> str:
        return self._texts(self._rewrite(value))

    def _rewrite(self, expr: sp.Basic) -> sp.Basic:
        """``expr`` with every sigmoid and softplus in exp/log, bottom up as ``replace`` does."""
        if not expr.args:
            return expr
        got = self._rewritten.get(expr)
        if got is None:
            args = tuple(self._rewrite(a) for a in expr.args)
            if isinstance(expr, sigmoid):  # not rebuilt first: sigmoid(a) stayed unevaluated,
                got = 1 / (1 + sp.exp(-args[0]))  # so does sigmoid of a's rewritten form
            elif isinstance(expr, softplus):
                got = sp.log(1 + sp.exp(args[0]))
            else:
                got = expr.func(*args) if args != expr.args else expr
            self._rewritten[expr] = got
        return got


@dataclass(frozen=True)
class ExactNumbers:
    """Exact values (SymPy numbers; ``None`` where a closed form is too large) keyed as in
    :class:`~symbackprop.derive.result.Numbers`, and their decimals (Floats)."""

    derivation: Derivation
    forward: dict[str, sp.Expr | None]
    deltas: dict[str, sp.Expr | None]
    gradients: dict[str, sp.Expr | None]
    decimal: dict[str, sp.Float]                    # every symbol name above -> its decimal
    updated_params: dict[str, sp.Expr | None] | None = None
    forward_after: dict[str, sp.Expr | None] | None = None
    true_deltas: dict[str, sp.Expr | None] | None = None
    true_gradients: dict[str, sp.Expr | None] | None = None
    decimal_after: dict[str, sp.Float] | None = None

    @property
    def all_rational(self) -> bool:
        """True when every value is an exact rational number."""
        groups = [self.forward, self.deltas, self.gradients, self.updated_params or {},
                  self.forward_after or {}]
        return all(v is not None and v.is_Rational for group in groups for v in group.values())

    def to_dict(self, *, decimals: bool = False, digits: int = DECIMAL_DIGITS) -> dict[str, Any]:
        """The JSON ``exact`` block: the numeric keys of the result (``loss``, ``forward``,
        ``deltas``, ``gradients``, ``updated_params``, ``loss_after_update``,
        ``forward_after_update``, and the variant's true values) with exact values as
        strings (``null`` past the size limit); with ``decimals=True`` the same structure
        with ``digits`` significant digits instead."""
        d = self.derivation
        loss = d.loss_name
        closed = ClosedForms()

        def text(value: sp.Expr | None, name: str, table: Mapping[str, sp.Float]) -> str | None:
            if decimals:
                return _decimal_text(table[name], digits)
            return None if value is None else closed(value)

        forward = {k: text(v, k, self.decimal) for k, v in self.forward.items()}
        out: dict[str, Any] = {"loss": forward[loss], "forward": d.forward_json(forward)}
        out["deltas"] = {k: text(v, str(d.deltas[k].symbol), self.decimal) for k, v in self.deltas.items()}
        out["gradients"] = {w: text(v, f"grad__{w}", self.decimal) for w, v in self.gradients.items()}
        if self.updated_params is not None:
            out["updated_params"] = {p: text(v, f"updated__{p}", self.decimal)
                                     for p, v in self.updated_params.items()}
            after = {k: text(v, k, self.decimal_after) for k, v in self.forward_after.items()}
            out["loss_after_update"] = after[loss]
            out["forward_after_update"] = d.forward_json(after)
        if self.true_gradients is not None:
            out["variant"] = {
                "true_gradient_values": {w: text(v, f"grad__{w}__true", self.decimal)
                                         for w, v in self.true_gradients.items()},
                "true_delta_values": {k: text(v, f"{k}__true_delta", self.decimal)
                                      for k, v in self.true_deltas.items()},
            }
        return out


def _decimal_text(value: sp.Float, digits: int) -> str:
    return "0" if value == 0 else str(sp.N(value, digits))


class _Evaluator:
    """Exact values of definitions in dependency order, with a size guard on closed forms."""

    def __init__(self, limit: int):
        self.limit = limit
        self.exact: dict[sp.Symbol, sp.Expr | None] = {}
        self.decimal: dict[sp.Symbol, sp.Float] = {}
        self._sizes: dict[sp.Expr, int] = {}

    def size(self, expr: sp.Expr) -> int:
        if not expr.args:
            return 1
        got = self._sizes.get(expr)
        if got is None:
            got = min(1 + sum(self.size(a) for a in expr.args), 10 * self.limit + 1)
            self._sizes[expr] = got
        return got

    def leaf(self, symbol: sp.Symbol, value: sp.Expr | None, decimal: sp.Float | None = None) -> None:
        """A given value: an exact rational, or any exact value (or None) with its decimal."""
        self.exact[symbol] = value
        self.decimal[symbol] = sp.Float(value, DECIMAL_DIGITS + 10) if decimal is None else decimal

    def define(self, symbol: sp.Symbol, expr: sp.Expr) -> None:
        deps = expr.free_symbols
        missing = [s for s in deps if s not in self.exact]
        if missing:
            raise SpecError(f"no value for {', '.join(sorted(map(str, missing)))} (needed by {symbol})",
                            key="values")
        value = None
        if all(self.exact[s] is not None for s in deps):
            value = expr.xreplace({s: self.exact[s] for s in deps})
            if not value.is_Rational and self.size(value) > self.limit:
                value = None
            elif value.is_Rational and max(abs(value.p), value.q).bit_length() > MAX_RATIONAL_BITS:
                value = None  # a rational of more than ~2,000 digits: its decimal only
        if value is not None and value.is_Rational:
            decimal = sp.Float(value, DECIMAL_DIGITS + 10)
        else:  # from the decimals of what it uses: linear, where evalf of a closed form is not
            decimal = sp.N(decimal_value(expr, self.decimal), DECIMAL_DIGITS + 10)
        if not (decimal.is_Float or decimal.is_Rational) and (  # finite numbers need no search
                decimal.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or not decimal.is_number):
            raise SpecError(f"{symbol} is {decimal} at the given values (division by zero, log of 0)",
                            key="values")
        self.exact[symbol] = value
        self.decimal[symbol] = decimal


_ACCUMULATE = {sp.Add: (operator.add, sp.S.Zero), sp.Mul: (operator.mul, sp.S.One)}


def decimal_value(expr: sp.Expr, table: Mapping[sp.Symbol, sp.Expr]) -> sp.Expr:
    """``expr.xreplace(table)`` for number-valued ``table``, with the same bits: a sum or
    product whose arguments are all finite numbers is accumulated as ``AssocOp.__new__`` and
    ``Add.flatten``/``Mul.flatten`` accumulate it (an exact 0 or 1 dropped, a lone argument
    kept as it is, the rest from 0 or 1 in argument order), without building a SymPy
    expression and asking its assumptions; everything else is rebuilt as ``xreplace`` does.

    >>> a, b = sp.symbols("a b")
    >>> decimal_value(2 * a * b + sp.exp(b), {a: sp.Float("0.5", 40), b: sp.Float(3, 40)})
    23.08553692318766774092852965458171789699
    """
    if expr in table:
        return table[expr]
    if not expr.args:
        return expr
    args = [decimal_value(a, table) for a in expr.args]
    if all(new is old for new, old in zip(args, expr.args)):
        return expr  # nothing to replace below: xreplace returns it unchanged
    rule = _ACCUMULATE.get(expr.func)
    if rule is None or not all(a.is_Float or a.is_Rational for a in args):
        return expr.func(*args)
    op, value = rule
    args = [a for a in args if a is not value]
    if len(args) < 2:
        return args[0] if args else value
    for a in args:
        value = op(value, a)
    return value


def exact_numbers(derivation: Derivation, *, limit: int | None = None) -> ExactNumbers:
    """Every forward value, δ, gradient, update and the loss after the update, exactly.

    ``limit`` (default :data:`DEFAULT_LIMIT`) bounds the tree size of a closed form that is
    written out; exact rationals are always written. Raises :class:`SpecError` when the spec has no values.
    """
    d = derivation
    spec, network = d.spec, d.network
    if not spec.has_values:
        raise SpecError("exact arithmetic needs values (inputs, params and targets)", key="values")
    limit = DEFAULT_LIMIT if limit is None else limit
    g = network.graph

    def leaves(params: Mapping[str, sp.Expr]) -> dict[sp.Symbol, sp.Expr]:
        return network.leaf_values(params)

    params = {p: sp.Rational(v) for p, v in spec.params_values.items()}
    grad = {w: sp.Symbol(f"grad__{w}") for w in d.gradients}
    definitions = d.definitions() + [(grad[w], e.expression) for w, e in d.gradients.items()]
    true_delta = true_grad = None
    if d.is_variant:
        true_delta = {k: sp.Symbol(f"{k}__true_delta") for k in d.true_deltas}
        rename = {d.deltas[k].symbol: true_delta[k] for k in d.true_deltas}
        definitions += [(true_delta[k], e.xreplace(rename)) for k, e in d.true_deltas.items()]
        true_grad = {w: sp.Symbol(f"grad__{w}__true") for w in d.true_gradients}
        definitions += [(true_grad[w], e.xreplace(rename)) for w, e in d.true_gradients.items()]
    ev = _Evaluator(limit)
    for s, v in leaves(params).items():
        ev.leaf(s, v)
    for s, e in dependency_order(definitions):
        ev.define(s, e)

    forward_syms = [s for s, _ in network.definitions()] + [g.nodes[n]["symbol"] for n in network.leaves()]
    decimal = {str(s): v for s, v in ev.decimal.items()}
    forward = {str(s): ev.exact[s] for s in forward_syms}
    deltas = {k: ev.exact[e.symbol] for k, e in d.deltas.items()}
    gradients = {w: ev.exact[grad[w]] for w in d.gradients}
    updated = forward_after = decimal_after = None
    if spec.learning_rate is not None:
        eta = spec.learning_rate
        updated = {}
        new_params: dict[str, tuple[sp.Expr | None, sp.Float]] = {}
        for p in params:
            if p in gradients:
                s = sp.Symbol(f"updated__{p}")
                # p - η·g as SymPy writes it, built unevaluated: define evaluates it anyway
                ev.define(s, sp.Add(params[p], sp.Mul(-eta, grad[p], evaluate=False), evaluate=False))
                updated[p] = ev.exact[s]
                new_params[p] = (ev.exact[s], ev.decimal[s])
            else:
                updated[p] = params[p]
                new_params[p] = (params[p], sp.N(params[p], DECIMAL_DIGITS + 10))
            decimal[f"updated__{p}"] = new_params[p][1]
        after = _Evaluator(limit)
        exact_leaves = leaves({p: v for p, (v, _) in new_params.items()})
        decimal_leaves = leaves({p: v for p, (_, v) in new_params.items()})
        for s, v in exact_leaves.items():
            after.leaf(s, v, decimal_leaves[s])
        for s, e in network.definitions():
            after.define(s, e)
        forward_after = {str(s): after.exact[s] for s in forward_syms}
        decimal_after = {str(s): v for s, v in after.decimal.items()}
    true_deltas = true_gradients = None
    if d.is_variant:
        true_deltas = {k: ev.exact[true_delta[k]] for k in d.true_deltas}
        true_gradients = {w: ev.exact[true_grad[w]] for w in d.true_gradients}
    return ExactNumbers(derivation=d, forward=forward, deltas=deltas, gradients=gradients, decimal=decimal,
                        updated_params=updated, forward_after=forward_after, true_deltas=true_deltas,
                        true_gradients=true_gradients, decimal_after=decimal_after)
