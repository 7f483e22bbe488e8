r"""Plain data for the LaTeX templates, built from a :class:`~symbackprop.derive.Derivation`.

Templates never see SymPy objects: everything here is strings (LaTeX made by SymPy's
printer with the project's symbol names, or user text that the templates escape with the
``tex`` filter), numbers already formatted for display, lists and dicts.

The backward pass is shown the way the lectures write it, built from the labelled graph:
for a neuron ``j``

1. ``∂E/∂out_j = Σ_{j→k} δ_k · w_jk`` (the cached δs of its successors),
2. ``δ_j = ∂E/∂net_j = f′(net_j) · ∂E/∂out_j`` with ``f′`` in terms of ``out``,
3. ``∂E/∂w = δ_j · (the input along w)``,

and the engine's own expression for each δ is shown as well whenever it differs (the
simplified output δ of sigmoid + BCE, softmax + cross-entropy). With ``data`` the formulas
are written once for a generic example ``n`` (superscript ``(n)``).

>>> from symbackprop import derive, spec_from_mapping
>>> d = derive(spec_from_mapping({"name": "t", "inputs": ["x"],
...     "neurons": {"o": {"from": {"x": "w"}, "activation": "sigmoid"}},
...     "outputs": ["o"], "loss": "half_sse"}))
>>> sorted(derivation_context(d))[:3]
['backward', 'doc', 'expanded']
"""
from __future__ import annotations

import math
import random
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable, Sequence

import sympy as sp

from ..activations import ACTIVATIONS, DEFAULT_LEAKY_ALPHA, activation_from_text
from ..derive import Derivation, derive
from ..derive.backprop import delta_symbol, relevant_nodes
from ..derive.expand import ExpansionTooLarge
from ..errors import SpecError
from ..graph import per_example_loss as _graph_per_example_loss
from ..straightline import evaluate
from ..spec import spec_from_mapping
from ..latex import latex_name, to_latex
from .tikz import network_picture

PATHS_PER_PARAMETER = 20      # paths listed per parameter in the paths document
PATHS_LISTED = 120            # paths listed in the whole paths document
ARITHMETIC_LIMIT = 12         # examples × (neurons + nodes) up to which every step is shown in numbers
VARIANT_HEADING = "Lecture variant, not the gradient."
VARIANT_TEXT = ("As in the lecture's own solution, the hidden errors are back-propagated through the "
                "output weights that were already updated in this step (written with a +). That is "
                "not the gradient of the loss: the true figures, through the old weights, are given "
                "beside.")


# --------------------------------------------------------------------------- numbers

def fmt(value: float, digits: int) -> str:
    """A computed value rounded for display (``-0.000`` shows as ``0.000``).

    >>> fmt(0.6802672, 6), fmt(-1e-9, 3), fmt(2.5, 0)
    ('0.680267', '0.000', '2')
    """
    text = f"{value:.{digits}f}"
    if text.lstrip("-").strip("0.") == "":
        text = text.lstrip("-")
    return text


def fmt_given(value: sp.Rational | float | int, digits: int) -> str:
    """A value from the spec as written when it is a short decimal (``7/20`` → ``0.35``), else rounded.

    >>> fmt_given(sp.Rational(7, 20), 6), fmt_given(sp.Integer(2), 6), fmt_given(sp.Rational(1, 3), 4)
    ('0.35', '2', '0.3333')
    """
    q = Fraction(int(sp.Rational(value).p), int(sp.Rational(value).q))
    den = q.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den == 1:
        text = format(Decimal(q.numerator) / Decimal(q.denominator), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if len(text.partition(".")[2]) <= max(digits, 6):
            return "0" if text == "-0" else text
    return fmt(float(q), digits)


def number_tex(text: str) -> str:
    """A formatted number as a factor in LaTeX: negatives in parentheses."""
    return rf"\left({text}\right)" if text.startswith("-") else text


# --------------------------------------------------------------------------- LaTeX pieces

_NO_WIDTH = {"mathrm", "mathit", "mathbf", "text", "operatorname", "displaystyle", "textstyle", "limits"}
_COMMAND_CLASS = {"cdot": "dot", "times": "dot", "to": "rel", "leq": "rel", "geq": "rel", "approx": "rel",
                  "sum": "sum", "partial": "lower", ",": "thin", "!": "neg", ";": "thin", "quad": "quad",
                  "qquad": "qquad", "log": "word3", "exp": "word3", "tanh": "word4", "sqrt": "sqrt",
                  "eta": "lower", "sigma": "lower", "delta": "lower", "lambda": "lower", "alpha": "lower",
                  "beta": "lower", "mu": "lower", "ell": "lower"}
# Points per glyph of each class, fitted (non-negative least squares) to pdfLaTeX's widths of
# ~900 displayed equations from the shipped examples' documents (11pt); the estimate is within
# -17% .. +22% of the real width for every one of them.
_WIDTHS = {"lower": 5.8, "upper": 7.3, "digit": 4.9, "other_cmd": 10.5, "rel": 16.3, "bin": 19.2,
           "dot": 5.9, "paren": 6.2, "punct": 0.7, "sum": 14.5, "word3": 15.0, "word4": 20.5,
           "sqrt": 13.0, "thin": 2.1, "neg": -1.7, "quad": 11.0, "qquad": 22.0, "frac": 0.0}


def _width_features(tex: str) -> dict[str, float]:
    """How much of each class of glyph ``tex`` typesets (sub- and superscripts at 0.7, stacked
    ones counting the wider, fractions the wider of numerator and denominator)."""
    def add(into: dict, other: dict, scale: float = 1.0) -> None:
        for k, v in other.items():
            into[k] = into.get(k, 0.0) + v * scale

    def width(f: dict) -> float:
        return sum(_WIDTHS[k] * v for k, v in f.items())

    def group(i: int) -> tuple[dict, int]:
        if i < len(tex) and tex[i] == "{":
            f, i = seq(i + 1)
            return f, i + 1
        return atom(i)

    def atom(i: int) -> tuple[dict, int]:
        ch = tex[i]
        if ch == "\\":
            j = i + 1
            while j < len(tex) and tex[j].isalpha():
                j += 1
            if j == i + 1:
                j += 1
            word = tex[i + 1:j]
            if word in ("frac", "dfrac", "tfrac"):
                top, j = group(j)
                bottom, j = group(j)
                wider = dict(top if width(top) >= width(bottom) else bottom)
                if word == "tfrac":
                    wider = {k: v * 0.75 for k, v in wider.items()}
                add(wider, {"frac": 1.0})
                return wider, j
            if word in ("left", "right"):
                return {"paren": 1.0}, j + 1
            if word in _NO_WIDTH:
                return {}, j
            return {_COMMAND_CLASS.get(word, "other_cmd"): 1.0}, j
        if ch == "{":
            return group(i)
        if ch in " }":
            return {}, i + 1
        if ch in "=<>":
            return {"rel": 1.0}, i + 1
        if ch in "+-":
            return {"bin": 1.0}, i + 1
        if ch in "()[]|":
            return {"paren": 1.0}, i + 1
        if ch in ",.;!":
            return {"punct": 1.0}, i + 1
        if ch.isdigit():
            return {"digit": 1.0}, i + 1
        return {"upper" if ch.isupper() else "lower": 1.0}, i + 1

    def seq(i: int) -> tuple[dict, int]:
        total: dict = {}
        while i < len(tex) and tex[i] != "}":
            if tex[i] in "_^":
                widest: dict = {}
                while i < len(tex) and tex[i] in "_^":
                    f, i = group(i + 1)
                    if width(f) > width(widest):
                        widest = f
                add(total, widest, 0.7)
            else:
                f, i = atom(i)
                add(total, f)
        return total, i

    total: dict = {}
    i = 0
    while i < len(tex):
        f, i = seq(i)
        add(total, f)
        i += 1  # a stray closing brace
    return total


def visual_width(tex: str) -> float:
    r"""The width of ``tex`` typeset in display math, estimated in points (11pt).

    Used only to decide where a displayed equation breaks into lines.

    >>> visual_width(r"\frac{\partial E}{\partial w_{AT}}") < visual_width(r"\partial E \partial w_{AT}")
    True
    """
    return sum(_WIDTHS[k] * v for k, v in _width_features(tex).items())


LINE_WIDTH = 400.0  # estimated points of one displayed line (the text is 472 pt; estimates err by up to 20%)


class Sum(list):
    """A sum of LaTeX terms: joined with + (or −), and broken across lines when too long."""

    def tex(self) -> str:
        return sum_tex(self)

    def lines(self, width: float) -> list[str]:
        lines: list[list[str]] = [[]]
        for term in self:
            if lines[-1] and visual_width(sum_tex(lines[-1] + [term])) > width:
                lines.append([])
            lines[-1].append(term)
        out = []
        for i, chunk in enumerate(lines):
            text = sum_tex(chunk)
            out.append(text if i == 0 else (text if text.startswith("-") else "+ " + text))
        return out


def row(lhs: str, *chain: str | Sum, note: str = "") -> dict[str, Any]:
    """One displayed equation ``lhs = chain[0] = chain[1] = …`` as aligned lines.

    Short chains stay on one line; otherwise each member starts a line with ``=`` and a
    long sum continues on further lines. ``note`` is plain text shown at the right.
    """
    items = []
    for c in chain:  # empty members and repeats (out = net = 1.5 = 1.5) are dropped
        text = c.tex() if isinstance(c, Sum) else c
        if text != "" and (not items or text != (items[-1].tex() if isinstance(items[-1], Sum) else items[-1])):
            items.append(c)
    room = LINE_WIDTH - visual_width(lhs)
    lines: list[dict[str, str]] = []
    current: list[str] = []
    for item in items:
        text = item.tex() if isinstance(item, Sum) else item
        if visual_width(" = ".join(current + [text])) <= room:
            current.append(text)
            continue
        if current:
            lines.append({"rel": "=", "tex": " = ".join(current)})
            current = []
        if visual_width(text) <= room or not isinstance(item, Sum):
            current = [text]
            continue
        pieces = item.lines(room - 25)
        lines.append({"rel": "=", "tex": pieces[0]})
        lines.extend({"rel": "", "tex": r"\qquad " + piece} for piece in pieces[1:])
    if current:
        lines.append({"rel": "=", "tex": " = ".join(current)})
    return {"lhs": lhs, "lines": lines or [{"rel": "=", "tex": ""}], "note": note, "shared": False}


def partial(numerator: str, denominator: str, *, slash: bool = False) -> str:
    """``∂numerator/∂denominator`` as a fraction, or slashed (compact, for numeric steps)."""
    if slash:
        return rf"\partial {numerator} / \partial {denominator}"
    return rf"\frac{{\partial {numerator}}}{{\partial {denominator}}}"


def _needs_parens(expr: sp.Expr) -> bool:
    return bool(expr.is_Add or (expr.is_Number and expr < 0) or
                (expr.is_Mul and expr.could_extract_minus_sign()))


class _Namer:
    """How symbols print: by name (symbolic; ``generic`` writes example 1 as example n) or as
    formatted numbers (numeric)."""

    def __init__(self, generic: bool = False, values: dict[sp.Symbol, str] | None = None):
        self.generic = generic
        self.values = values

    def rename(self, expr: sp.Expr) -> sp.Expr:
        if not self.generic:
            return expr
        return expr.xreplace({s: sp.Symbol(s.name[:-3] + "__n") for s in expr.free_symbols
                              if isinstance(s, sp.Symbol) and s.name.endswith("__1")})

    def tex(self, expr: sp.Expr) -> str:
        expr = sp.sympify(expr)
        if self.values is None:
            return to_latex(self.rename(expr))
        missing = [s for s in expr.free_symbols if s not in self.values]
        if missing:
            raise KeyError(f"no value for {sorted(map(str, missing))}")
        return to_latex(expr, {s: number_tex(self.values[s]) for s in expr.free_symbols}, mul_symbol="dot")

    def factor(self, expr: sp.Expr) -> str:
        text = self.tex(expr)
        return rf"\left({text}\right)" if _needs_parens(expr) else text

    @property
    def separator(self) -> str:
        return r" \cdot " if self.values is not None else r"\,"


def product_tex(factors: Sequence[Any], namer: _Namer) -> str:
    """Factors (SymPy expressions, or ready LaTeX strings) side by side, 1s dropped.

    A lone factor is not parenthesised; in a product, sums and negatives are.
    """
    items, sign = [], ""
    for f in factors:
        if isinstance(f, str):
            items.append((f, f))
            continue
        f = sp.sympify(f)
        if f == 1:
            continue
        if f == -1:
            sign = "" if sign else "-"
            continue
        items.append((namer.tex(f), namer.factor(f)))
    if not items:
        return sign + "1"
    if len(items) == 1 and not sign:
        return items[0][0]
    return sign + namer.separator.join(paren for _, paren in items)


def sum_tex(terms: Sequence[str]) -> str:
    """Terms (LaTeX) joined with + (a term starting with a minus joins with −)."""
    out = ""
    for t in terms:
        if not out:
            out = t
        elif t.startswith("-"):
            out += " - " + t[1:].lstrip()
        else:
            out += " + " + t
    return out or "0"


def _is_sum(tex: str) -> bool:
    """Whether ``tex`` has a ``+`` or ``−`` outside every bracket (after a leading sign).

    >>> _is_sum("2 w + x"), _is_sum("-x"), _is_sum(r"\\left(a + b\\right) c"), _is_sum("x^{a - b}")
    (True, False, False, False)
    """
    depth = 0
    body = tex.lstrip().removeprefix("-")
    for i, ch in enumerate(body):
        depth += 1 if ch in "({[" else -1 if ch in ")}]" else 0
        if depth == 0 and ch in "+-" and i > 0 and body[i - 1] == " ":
            return True
    return False


def parenthesised(terms: Sequence[str]) -> str:  # noqa: D401
    """A sum as one factor: in parentheses when it has several terms, one term that is itself a
    sum (``η(2w + x)``, not ``η 2w + x``), or starts with a minus."""
    text = sum_tex(terms)
    needs = len(terms) > 1 or text.startswith("-") or _is_sum(text)
    return rf"\left({text}\right)" if needs else text


# --------------------------------------------------------------------------- the graph, read back

class _View:
    """The derivation's graph as the documents read it (variant-aware edge labels)."""

    def __init__(self, d: Derivation):
        self.d = d
        self.spec = d.spec
        self.network = d.network
        self.g = d.network.graph
        self.relevant = relevant_nodes(d.network)
        self.updated = {sp.Symbol(s.name[:-len("__new")]): s for s in d.updated_definitions}
        self.generic = d.spec.has_data
        self.N = d.network.examples
        self.loss = latex_name(d.loss_name)

    def sym(self, node: str) -> sp.Symbol:
        return self.g.nodes[node]["symbol"]

    def succ(self, node: str) -> list[str]:
        return [v for v in self.g.successors(node) if v in self.relevant]

    def label(self, u: str, v: str) -> sp.Expr:
        expr = self.g.edges[u, v]["derivative"]
        if self.updated and self.g.nodes[u]["kind"] != "param":
            expr = expr.xreplace({p: q for p, q in self.updated.items() if p in expr.free_symbols})
        return expr

    def carried(self, v: str) -> sp.Expr:
        """What a successor hands back: 1 for the loss, the cached δ of a net or node."""
        if v == self.network.root:
            return sp.Integer(1)
        kind = self.g.nodes[v]["kind"]
        if kind in ("net", "node"):
            return delta_symbol(self.network, v)
        return sp.Symbol(f"dE_d{v}")   # an out node (softmax groups only)

    def shown(self, example: int | None) -> bool:
        return example in ((1,) if self.generic else (None,))

    def examples(self) -> list[int | None]:
        return list(range(1, self.N + 1)) if self.generic else [None]


def _terms_into(view: _View, node: str) -> list[list[sp.Expr]]:
    """``∂E/∂node`` as a list of products ``[carried(v), label(node → v)]`` over successors."""
    return [[view.carried(v), view.label(node, v)] for v in view.succ(node)]


def _delta_parts(view: _View, net_node: str):
    """For a neuron: its out node, the terms of ``∂E/∂out`` and the pairs ``(∂out_k/∂net, out_k)``
    of ``δ = Σ_k ∂out_k/∂net · ∂E/∂out_k`` (one pair, its own out, except in a softmax group)."""
    g = view.g
    owner = g.nodes[net_node]["owner"]
    out_node = next(v for v in g.successors(net_node)
                    if g.nodes[v]["kind"] == "out" and g.nodes[v]["owner"] == owner)
    out_terms = [[sp.Integer(1)]] if out_node == view.network.root else _terms_into(view, out_node)
    net_terms = [(view.label(net_node, v), v) for v in view.succ(net_node)]
    return out_node, out_terms, net_terms


def _render_terms(terms: list[list[sp.Expr]], namer: _Namer) -> list[str]:
    return [product_tex(t, namer) for t in terms]


def _delta_display_order(d: Derivation, view: _View):
    return [e for e in d.deltas.values() if view.shown(view.g.nodes[e.node]["example"])]


def _dEdout_name(view: _View, out_node: str, namer: _Namer) -> str:
    return partial(view.loss, namer.tex(view.sym(out_node)))


# --------------------------------------------------------------------------- activations, loss

_ACTIVATION_TEX = {
    "identity": (r"f(x) = x", r"f'(\mathrm{net}) = 1"),
    "sigmoid": (r"\sigma(x) = \frac{1}{1 + e^{-x}}", r"\sigma'(\mathrm{net}) = \mathrm{out}\,(1 - \mathrm{out})"),
    "tanh": (r"f(x) = \tanh x", r"f'(\mathrm{net}) = 1 - \mathrm{out}^{2}"),
    "relu": (r"\operatorname{ReLU}(x) = \max(0, x)",
             r"f'(\mathrm{net}) = \mathbf{1}\!\left[\mathrm{net} > 0\right]"),
    "softplus": (r"f(x) = \log(1 + e^{x})", r"f'(\mathrm{net}) = \sigma(\mathrm{net})"),
    "softmax": (r"\mathrm{out}_{k} = e^{\mathrm{net}_{k}} / \textstyle\sum_{j} e^{\mathrm{net}_{j}}",
                r"\partial \mathrm{out}_{k} / \partial \mathrm{net}_{j} = \mathrm{out}_{k}\,"
                r"(\mathbf{1}[k = j] - \mathrm{out}_{j})"),
}
_LOSS_TEXT = {
    "half_sse": "half the sum of squared errors", "sse": "the sum of squared errors",
    "mse": "the mean squared error over the outputs", "bce": "binary cross-entropy",
    "cross_entropy": "cross-entropy",
}


def _activation_rows(spec) -> list[dict[str, str]]:
    """One line per activation used: which neurons, its definition and its derivative."""
    groups: dict[tuple[str, Any], list[str]] = {}
    for name, neuron in spec.neurons.items():
        groups.setdefault((neuron.activation, neuron.alpha), []).append(name)
    rows = []
    x = sp.Symbol("x")
    for (act, alpha), names in groups.items():
        text = act
        if act in _ACTIVATION_TEX:
            definition, derivative = _ACTIVATION_TEX[act]
            if act == "relu":
                text = "ReLU (derivative 0 at the kink)"
        elif act == "leaky_relu":
            a = fmt_given(alpha if alpha is not None else DEFAULT_LEAKY_ALPHA, 6)
            definition = rf"f(x) = x \text{{ if }} x > 0 \text{{, else }} {a}\,x"
            derivative = rf"f'(\mathrm{{net}}) = 1 \text{{ if }} \mathrm{{net}} > 0 \text{{, else }} {a}"
            text = "leaky ReLU"
        else:
            activation = ACTIVATIONS.get(act) or activation_from_text(act, where="activation")
            definition = "f(x) = " + to_latex(activation.apply(x, alpha))
            derivative = "f'(x) = " + to_latex(activation.derivative(x, x, alpha))
            text = "custom"
        rows.append({"names": ", ".join(f"${latex_name(n)}$" for n in names), "activation": text,
                     "definition": definition, "derivative": derivative})
    return rows


def _output_symbols(view: _View, sfx: str) -> tuple[list[sp.Symbol], list[sp.Symbol]]:
    spec = view.spec
    outs = [sp.Symbol(f"out_{o}{sfx}") if o in spec.neurons else sp.Symbol(o + sfx) for o in spec.outputs]
    targets = [sp.Symbol(f"t_{o}{sfx}") for o in spec.outputs]
    return outs, targets


def _per_example_expr(view: _View, sfx: str) -> sp.Expr:
    """The loss of one example with the symbols of that example (suffix ``sfx``)."""
    spec = view.spec
    if spec.objective is not None:
        return sp.Symbol((spec.objective if spec.objective in spec.nodes else f"out_{spec.objective}") + sfx)
    template = _graph_per_example_loss(spec)
    return template.xreplace({s: sp.Symbol(s.name + sfx) for s in template.free_symbols})


def _per_example_tex(view: _View, sfx: str, namer: _Namer) -> str:
    """The per-example loss the way it is written by hand (``½(t − out)²``), or as printed."""
    name = view.spec.loss
    outs, targets = _output_symbols(view, sfx)
    o = [namer.tex(s) for s in outs]
    t = [namer.tex(s) for s in targets]
    if name in ("half_sse", "sse", "mse"):
        squares = [rf"\left({ti} - {oi}\right)^{{2}}" for oi, ti in zip(o, t)]
        body = sum_tex(squares)
        prefix = {"half_sse": r"\frac{1}{2}", "sse": "", "mse": rf"\frac{{1}}{{{len(o)}}}" if len(o) > 1 else ""}[name]
        if prefix and len(squares) > 1:
            return rf"{prefix}\left[{body}\right]"
        return prefix + body
    if name == "bce":
        parts = [rf"\left[{ti} \log {oi} + \left(1 - {ti}\right) \log\left(1 - {oi}\right)\right]"
                 for oi, ti in zip(o, t)]
        return "-" + " - ".join(parts)
    if name == "cross_entropy":
        inner = sum_tex([rf"{ti} \log {oi}" for oi, ti in zip(o, t)])
        return rf"-\left({inner}\right)" if len(o) > 1 else "-" + inner
    return namer.tex(_per_example_expr(view, sfx))


def _regularisation_tex(view: _View, namer: _Namer) -> str:
    spec = view.spec
    if spec.l2 is None:
        return ""
    regularised = list(spec.weights) + (list(spec.biases) if spec.l2_include_biases else [])
    squares = sum_tex([namer.tex(sp.Symbol(p) ** 2) for p in regularised])
    return rf"{fmt_given(spec.l2, 6)}\left({squares}\right)"


def _loss_rows(view: _View) -> list[dict]:
    """The loss as defined: per example (generic ``n``) and in total, with the L2 term."""
    spec = view.spec
    if spec.objective is not None and not view.generic:
        return []
    namer = _Namer(view.generic)
    regular = _regularisation_tex(view, namer)
    if not view.generic:
        body = _per_example_tex(view, "", namer)
        return [row(view.loss, body + (" + " + regular if regular else ""))]
    n_tex = latex_name(f"{view.d.loss_name}__n")
    total = rf"\sum_{{n=1}}^{{{view.N}}} {n_tex}"
    if spec.reduction == "mean":
        total = rf"\frac{{1}}{{{view.N}}}" + total
    if regular:
        total += " + " + regular
    return [row(n_tex, _per_example_tex(view, "__1", namer)), row(view.loss, total)]


# --------------------------------------------------------------------------- forward pass

def _net_terms(view: _View, neuron: str, example: int | None) -> list[list[sp.Expr]]:
    """``net_j = Σ w·source (+ b)`` as products, in the spec's order (weight first, as lectures write)."""
    spec = view.spec
    sfx = "" if example is None else f"__{example}"
    terms = []
    for src, p in spec.neurons[neuron].sources:
        source = sp.Symbol(f"out_{src}{sfx}") if src in spec.neurons else sp.Symbol(src + sfx)
        terms.append([sp.Symbol(p), source])
    if spec.neurons[neuron].bias:
        terms.append([sp.Symbol(spec.neurons[neuron].bias)])
    return terms


def _forward_rows(view: _View) -> list[dict]:
    namer = _Namer(view.generic)
    example = 1 if view.generic else None
    g = view.g
    rows = []
    for node in view.network.order:
        attrs = g.nodes[node]
        if attrs["example"] != example or attrs["kind"] not in ("net", "out", "node"):
            continue
        lhs = namer.tex(attrs["symbol"])
        if attrs["kind"] == "net":
            rows.append(row(lhs, Sum(product_tex(t, namer) for t in _net_terms(view, attrs["owner"], example))))
        else:
            rows.append(row(lhs, namer.tex(attrs["definition"])))
    return rows


# --------------------------------------------------------------------------- backward pass (symbolic)

def _entity_title(view: _View, node: str) -> str:
    attrs = view.g.nodes[node]
    if attrs["kind"] == "node":
        return "Node"
    return "Output neuron" if attrs["owner"] in view.spec.outputs else "Neuron"


def _sum_factor(terms: Sequence[Any], namer: _Namer) -> str:
    """A sum of products (lists of SymPy factors, or ready LaTeX) as one factor of a product."""
    texs = [t if isinstance(t, str) else product_tex(t, namer) for t in terms]
    text = sum_tex(texs)
    lone = [f for f in (terms[0] if len(terms) == 1 and not isinstance(terms[0], str) else [])
            if sp.sympify(f) != 1]
    if len(texs) > 1 or text.startswith("-") or (len(lone) == 1 and _needs_parens(sp.sympify(lone[0]))):
        return rf"\left({text}\right)"
    return text


def _times(label: sp.Expr, terms: Sequence[Any], namer: _Namer) -> str:
    """``label · (terms)``: a local derivative times a (possibly summed) factor."""
    if sp.sympify(label) == 1:
        return sum_tex([t if isinstance(t, str) else product_tex(t, namer) for t in terms])
    return product_tex([label, _sum_factor(terms, namer)], namer)


def _backward_blocks(view: _View) -> list[dict]:
    """Per δ (output layer first): formulas 1 and 2 (or the node rule), then formula 3."""
    d = view.d
    namer = _Namer(view.generic)
    blocks = []
    shown: set[sp.Symbol] = set()
    for entry in _delta_display_order(d, view):
        node = entry.node
        kind = view.g.nodes[node]["kind"]
        delta = namer.tex(entry.symbol)
        net_name = partial(view.loss, namer.tex(view.sym(node)))
        rows, notes = _update_rows_needed(view, entry.expression, shown, None), []
        if kind == "net":
            out_node, out_terms, net_terms = _delta_parts(view, node)
            out_name = _dEdout_name(view, out_node, namer)
            own = _render_terms(out_terms, namer)
            rows.append(row(out_name, Sum(own)))
            structure, values = [], []
            for label, target in net_terms:
                structure.append(partial(namer.tex(view.sym(target)), namer.tex(view.sym(node))) + r"\,"
                                 + _dEdout_name(view, target, namer))
                values.append(_times(label, out_terms if target == out_node
                                     else [_dEdout_name(view, target, namer)], namer))
            combined = sp.Add(*[label * (sp.Add(*[sp.Mul(*o) for o in out_terms]) if target == out_node
                                         else sp.Symbol(f"dE_d{target}")) for label, target in net_terms])
            chain = [net_name, Sum(structure), Sum(values)]
        else:
            terms = _terms_into(view, node)
            structure = [(_carried_tex(view, v, namer) + r"\," if view.carried(v) != 1 else "")
                         + partial(namer.tex(view.sym(v)) if v != view.network.root else view.loss,
                                   namer.tex(view.sym(node))) for v in view.succ(node)]
            combined = sp.Add(*[sp.Mul(*t) for t in terms])
            chain = [net_name, Sum(structure) if sum_tex(structure) != net_name else "",
                     Sum(_render_terms(terms, namer))]
        if d.method != "paths" and combined != entry.expression:  # paths: the expression is the path sum
            chain.append(namer.tex(entry.expression))
        if entry.simplified is not None:
            chain.append(namer.tex(entry.simplified))
            notes.append(f"The last form holds when {entry.condition}.")
        rows.append(row(delta, *chain))
        gradient_rows = _incoming_gradient_rows(view, node, namer)
        blocks.append({"title": _entity_title(view, node), "name": latex_name(view.g.nodes[node]["owner"]),
                       "rows": rows + gradient_rows, "notes": notes, "kind": kind,
                       "shared": any(r["shared"] for r in gradient_rows)})
    return blocks


def _carried_tex(view: _View, v: str, namer: _Namer) -> str:
    return namer.tex(view.carried(v))


def _incoming_gradient_rows(view: _View, node: str, namer: _Namer) -> list[dict]:
    """Formula 3 at one net or node: ``∂E/∂w = δ · ∂net/∂w`` for each parameter (or wrt input) into it."""
    rows = []
    g, d = view.g, view.d
    delta = view.carried(node)
    for u in g.predecessors(node):
        if u not in d.gradients or u not in view.relevant:
            continue
        uses = view.succ(u)
        term = product_tex([delta, view.label(u, node)], namer)
        sole = all(g.nodes[v]["owner"] == g.nodes[node]["owner"] and g.nodes[v]["kind"] == g.nodes[node]["kind"]
                   for v in uses)
        lhs = partial(view.loss, namer.tex(view.sym(u)))
        local = partial(namer.tex(view.sym(node)), namer.tex(view.sym(u)))
        if sole and view.generic:
            n = view.N
            rows.append(row(lhs, rf"\sum_{{n=1}}^{{{n}}} {namer.tex(delta)}\,{local}",
                            rf"\sum_{{n=1}}^{{{n}}} {term}"))
        elif sole:
            rows.append(row(lhs, rf"{namer.tex(delta)}\,{local}", term))
        else:
            rows.append(row(rf"{namer.tex(delta)}\,{local}", term))
            rows[-1]["shared"] = True
    return rows


# --------------------------------------------------------------------------- gradients

def _gradient_terms(view: _View, param: str, namer: _Namer) -> list[str]:
    """∂E/∂param as LaTeX terms: with data the per-example terms once, summed over n."""
    generic, direct = [], []
    for v in view.succ(param):
        ex = view.g.nodes[v]["example"]
        term = product_tex([view.carried(v), view.label(param, v)], namer)
        if ex is None:
            direct.append(term)
        elif ex == 1:
            generic.append(term)
    terms = []
    if generic:
        terms.append(rf"\sum_{{n=1}}^{{{view.N}}} {parenthesised(generic) if len(generic) > 1 else generic[0]}")
    return terms + direct


def _gradient_rows(view: _View) -> list[dict]:
    """``∂E/∂w`` for every parameter (and wrt input), each followed by its update rule."""
    d = view.d
    namer = _Namer(view.generic)
    rows = []
    for name, entry in d.gradients.items():
        terms = _gradient_terms(view, name, namer)
        note = f"{entry.path_count} path{'s' if entry.path_count != 1 else ''}" if d.method == "paths" else ""
        rows.append(row(partial(view.loss, latex_name(name)), Sum(terms), note=note))
        if name in d.spec.parameters:
            rows.append(row(latex_name(f"{name}__new"), rf"{latex_name(name)} - \eta\,{parenthesised(terms)}"))
            rows[-1]["note"] = "update"
    return rows


def _gradient_pairs(rows: list[dict]) -> list[list[dict]] | None:
    """Each gradient beside its update rule, when every pair fits on a line."""
    grouped: list[list[dict]] = []
    for r in rows:
        if r["note"] == "update" and grouped:
            grouped[-1].append(r)
        else:
            grouped.append([r])
    for group in grouped:
        if any(len(r["lines"]) > 1 for r in group) or \
                sum(visual_width(r["lhs"] + r["lines"][0]["tex"]) + 30 for r in group) > LINE_WIDTH:
            return None
    return grouped


def broken_tex(expr: sp.Expr, width: float = LINE_WIDTH, max_lines: int = 4) -> list[str] | None:
    """LaTeX of ``expr`` in lines of at most ``width``: a long sum breaks between terms, a long
    product between factors. None when it cannot be broken into ``max_lines`` lines."""
    text = to_latex(expr)
    if visual_width(text) <= width:
        return [text]
    namer = _Namer(False)
    if expr.is_Add:
        pieces = [to_latex(t) for t in expr.as_ordered_terms()]
        if any(visual_width(p) > width - 25 for p in pieces):
            return None
        lines = Sum(pieces).lines(width - 25)
    elif expr.is_Mul:
        coefficient, factors = expr.as_coeff_mul()
        pieces = [namer.factor(f) for f in factors]
        if coefficient != 1:
            pieces.insert(0, "-" if coefficient == -1 else to_latex(coefficient))
        if any(visual_width(p) > width - 25 for p in pieces):
            return None
        lines, current = [], ""
        for p in pieces:
            candidate = (current + r"\," + p) if current and current != "-" else current + p
            if current and current != "-" and visual_width(candidate) > width - 25:
                lines.append(current)
                current = r"\cdot " + p
            else:
                current = candidate
        lines.append(current)
    else:
        return None
    return lines if len(lines) <= max_lines else None


def _expanded_blocks(view: _View) -> list[dict]:
    """Each gradient in inputs, parameters and targets only, where that is short enough to read."""
    d = view.d
    out = []
    for name, entry in d.gradients.items():
        lhs = partial(view.loss, latex_name(name))
        try:
            expanded = _tidy_expanded(d.expanded(entry.expression))
        except ExpansionTooLarge as exc:
            out.append({"lhs": lhs, "lines": [], "note": f"left out: fully expanded it would have about "
                        f"{exc.size:,} terms"})
            continue
        lines = broken_tex(expanded, LINE_WIDTH - visual_width(lhs))
        if lines is None:
            out.append({"lhs": lhs, "lines": [], "note": "left out: too long to read; it is the formula above "
                        "with the forward pass substituted"})
        else:
            out.append({"lhs": lhs, "note": "", "lines": [{"rel": "=" if i == 0 else "",
                                                           "tex": line if i == 0 else r"\qquad " + line}
                                                          for i, line in enumerate(lines)]})
    return out


def _tidy_expanded(expr: sp.Expr) -> sp.Expr:
    """A polynomial comes out factored (WE-1's 18(w2³w1⁹x⁹ − t)w2³w1⁸x⁹); others as they are."""
    if sp.count_ops(expr) > 200:
        return expr
    symbols = sorted(expr.free_symbols, key=str)
    if symbols and expr.is_polynomial(*symbols):
        return sp.factor(expr)
    if symbols and expr.is_rational_function(*symbols):
        simpler = sp.factor(sp.cancel(expr))
        return simpler if sp.count_ops(simpler) < sp.count_ops(expr) else expr
    return expr


# --------------------------------------------------------------------------- common context

def _document(d: Derivation, kind: str, *, tagline: str = "", remarks: Iterable[dict] = ()) -> dict:
    spec = d.spec
    remarks = list(remarks)
    if d.is_variant:
        remarks.insert(0, {"heading": VARIANT_HEADING, "text": VARIANT_TEXT})
    return {"name": spec.name, "title": spec.title or spec.name, "kind": kind, "tagline": tagline,
            "description": spec.description, "remarks": remarks}


def _network_context(view: _View) -> dict:
    spec = view.spec
    loss = ""
    if spec.objective is None:
        loss = _LOSS_TEXT.get(spec.loss or "", "the expression below")
    hidden = [n for n in spec.neurons if n not in spec.outputs]
    picture = network_picture(view.network)
    layered = "layers" in (spec.raw or {})
    if layered and not picture["labelled"]:
        picture["weights"] = []
    parts = [(text, names) for text, names in (
        ("inputs" if len(spec.inputs) != 1 else "input", spec.inputs),
        ("node parameters" if len(_node_params(view)) != 1 else "node parameter", _node_params(view)),
        ("hidden neurons" if len(hidden) != 1 else "hidden neuron", hidden),
        ("output neurons" if len(spec.outputs) != 1 else "output neuron", [o for o in spec.outputs if o in spec.neurons]),
        ("expression nodes" if len(spec.nodes) != 1 else "expression node", list(spec.nodes)),
    ) if names]
    return {
        "picture": picture,
        "layered": layered,
        "parts": [{"text": text, "names": ", ".join(f"${latex_name(n)}$" for n in names)} for text, names in parts],
        "loss_formula": _loss_formula(view),
        "inputs": ", ".join(latex_name(n) for n in spec.inputs),
        "hidden": ", ".join(latex_name(n) for n in hidden),
        "outputs": ", ".join(latex_name(n) for n in spec.outputs if n in spec.neurons),
        "nodes": ", ".join(latex_name(n) for n in spec.nodes),
        "objective": latex_name(view.network.root) if spec.objective else "",
        "activations": _activation_rows(spec),
        "loss_text": loss,
        "loss_symbol": view.loss,
        "examples": view.N if view.generic else 0,
        "reduction": spec.reduction,
        "l2": fmt_given(spec.l2, 6) if spec.l2 is not None else "",
        "l2_biases": spec.l2_include_biases,
        "learning_rate": fmt_given(spec.learning_rate, 6) if spec.learning_rate is not None else "",
        "variant": view.d.is_variant,
        "wrt": ", ".join(latex_name(w) for w in view.d.gradients),
    }


def _node_params(view: _View) -> list[str]:
    g = view.g
    return [p for p in view.spec.parameters if any(g.nodes[v]["kind"] == "node" for v in g.successors(p))]


def _loss_formula(view: _View) -> str:
    """The per-example loss inline (``E = ½(t − out)²``, or ``E⁽ⁿ⁾ = …`` with data), when short."""
    spec = view.spec
    if spec.objective is not None:
        return ""
    if view.generic:
        text = f"{latex_name(view.d.loss_name + '__n')} = {_per_example_tex(view, '__1', _Namer(True))}"
    else:
        text = f"{view.loss} = {_per_example_tex(view, '', _Namer(False))}"
    return text if visual_width(text) < LINE_WIDTH * 0.7 else ""


# --------------------------------------------------------------------------- derivation document

def derivation_context(d: Derivation) -> dict:
    """Everything ``derivation.tex.j2`` shows: network, forward pass, loss, the three formulas
    per node, gradients with update rules, expanded gradients (where small enough)."""
    view = _View(d)
    return {
        "doc": _document(d, "Backpropagation, derived step by step"),
        "network": _network_context(view),
        "forward": _forward_rows(view),
        "loss": _loss_rows(view),
        "backward": _backward_blocks(view),
        "gradients": _gradient_rows(view),
        "gradient_pairs": _gradient_pairs(_gradient_rows(view)),
        "expanded": _expanded_blocks(view),
        "variant": _variant_symbolic(view) if d.is_variant else None,
        "paths": _paths_section(d, view) if d.method == "paths" else None,
        "method": d.method,
        "generic": view.generic,
        "has_updates": any(p in d.spec.parameters for p in d.gradients),
    }


def _variant_symbolic(view: _View) -> dict:
    """The true δs (through the old weights), for the remark beside the lecture variant."""
    d = view.d
    namer = _Namer(view.generic)
    rows = []
    for key, expr in d.true_deltas.items():
        if key in d.deltas and view.shown(view.g.nodes[d.deltas[key].node]["example"]) \
                and expr != d.deltas[key].expression:
            rows.append(row(namer.tex(d.deltas[key].symbol), namer.tex(expr)))
    return {"deltas": rows}


# --------------------------------------------------------------------------- paths

def _value_of(expr: sp.Expr, values: dict[sp.Symbol, float]) -> float:
    return float(expr.xreplace({s: sp.Float(values[s], 30) for s in expr.free_symbols}))


def _paths_section(d: Derivation, view: _View) -> dict:
    """Each parameter's paths (listing capped), their products, and the cached result they sum to
    (checked in numbers by derive: ``d.path_check``)."""
    namer = _Namer(False)
    g = view.g
    check = d.path_check
    where = check.where if check is not None else ""
    listed = 0
    params = []
    for name, entry in d.gradients.items():
        paths = entry.paths or ()
        shown = []
        for term in paths:
            if len(shown) >= PATHS_PER_PARAMETER or listed >= PATHS_LISTED:
                break
            chain = r" \to ".join(namer.tex(g.nodes[n]["symbol"]) if n != d.network.root else view.loss
                                  for n in term.nodes)
            factors = [f for f in term.factors if f != 1] or [sp.Integer(1)]
            shown.append({"chain": chain, "product": r" \cdot ".join(namer.factor(f) for f in factors)})
            listed += 1
        cached_expr = d.cached[name]
        value = fmt(check.values[name], 6) if check is not None else ""
        params.append({
            "name": latex_name(name), "lhs": partial(view.loss, latex_name(name)),
            "slashed": partial(view.loss, latex_name(name), slash=True), "count": entry.path_count, "paths": shown, "more": entry.path_count - len(shown),
            "cached": to_latex(cached_expr), "value": value,
        })
    return {"parameters": params, "where": where, "listed": listed,
            "total": sum(p["count"] for p in params)}


def paths_context(d: Derivation) -> dict:
    """Everything ``paths.tex.j2`` shows (``d`` derived with ``method="paths"``)."""
    view = _View(d)
    section = _paths_section(d, view)
    return {
        "doc": _document(d, "The multivariate chain rule: every path to the loss"),
        "network": _network_context(view),
        "forward": _forward_rows(view),
        "loss": _loss_rows(view),
        "edges": _edge_rows(view),
        "edge_pairs": pairs(_edge_rows(view)),
        "paths": section,
        "generic": view.generic,
        "limits": {"per_parameter": PATHS_PER_PARAMETER, "total": PATHS_LISTED},
    }


def _edge_rows(view: _View) -> list[dict]:
    """The local derivative on every edge that lies on a path from a parameter to the loss
    (example 1's edges, written for example n, with data)."""
    import networkx as nx

    g = view.g
    namer = _Namer(view.generic)
    on_path = set()
    for w in view.d.gradients:
        on_path |= ({w} | nx.descendants(g, w)) & view.relevant
    rows = []
    for v in view.network.order:
        if v not in on_path or not (view.shown(g.nodes[v]["example"]) or v == view.network.root):
            continue
        for u in g.predecessors(v):
            if u not in on_path or not (view.shown(g.nodes[u]["example"]) or g.nodes[u]["kind"] == "param"):
                continue
            top = view.loss if v == view.network.root else namer.tex(view.sym(v))
            rows.append(row(partial(top, namer.tex(view.sym(u))), namer.tex(view.label(u, v))))
    return rows


def pairs(rows: list[dict]) -> list[list[dict]] | None:
    """Single-line equations two to a line when they are short enough, else None."""
    if any(len(r["lines"]) > 1 or visual_width(r["lhs"] + r["lines"][0]["tex"]) > LINE_WIDTH / 2 - 20
           for r in rows):
        return None
    return [rows[i:i + 2] for i in range(0, len(rows), 2)]


# --------------------------------------------------------------------------- numeric solution

class _Numbers:
    """Every value of a derivation, raw and formatted, by symbol."""

    def __init__(self, d: Derivation, digits: int):
        if d.numbers is None:
            raise SpecError("this document needs numbers: give 'values' (inputs, params, targets) or 'data'",
                            key="values")
        self.d, self.digits = d, digits
        n, g, spec = d.numbers, d.network.graph, d.spec
        given: dict[sp.Symbol, str] = {}
        for p, v in (spec.params_values or {}).items():
            given[sp.Symbol(p)] = fmt_given(v, digits)
        for k, ex in enumerate(spec.examples, start=1):
            sfx = f"__{k}" if spec.has_data else ""
            for name, v in ex.inputs.items():
                given[sp.Symbol(name + sfx)] = fmt_given(v, digits)
            for name, v in ex.targets.items():
                given[sp.Symbol(f"t_{name}{sfx}")] = fmt_given(v, digits)
        self.values: dict[sp.Symbol, str] = {}
        self.raw: dict[sp.Symbol, float] = {}
        for node, v in n.forward.items():
            if node in g:
                s = g.nodes[node]["symbol"]
                self.values[s] = given.get(s, fmt(v, digits))
                self.raw[s] = v
        for key, entry in d.deltas.items():
            self.values[entry.symbol] = fmt(n.deltas[key], digits)
            self.raw[entry.symbol] = n.deltas[key]
        for p, v in (n.updated_params or {}).items():
            self.values[sp.Symbol(f"{p}__new")] = fmt(v, digits)
            self.raw[sp.Symbol(f"{p}__new")] = v

    def namer(self) -> _Namer:
        return _Namer(False, self.values)

    def of(self, node: str) -> str:
        return self.values[self.d.network.graph.nodes[node]["symbol"]]


def _given_tables(view: _View, digits: int) -> dict:
    """The given values: inline lists for one example, a table of the examples with data."""
    spec = view.spec
    params = ", ".join(f"${latex_name(p)} = {fmt_given(v, digits)}$" for p, v in (spec.params_values or {}).items())
    inputs = list(spec.inputs)
    targets = list(spec.outputs) if spec.objective is None else []
    given = {"params": params, "inputs": "", "targets": "", "example_header": [], "example_rows": [],
             "example_spec": ""}
    if not view.generic:
        ex = spec.examples[0]
        given["inputs"] = ", ".join(f"${latex_name(i)} = {fmt_given(ex.inputs[i], digits)}$" for i in inputs)
        given["targets"] = ", ".join(f"${latex_name('t_' + o)} = {fmt_given(ex.targets[o], digits)}$"
                                     for o in targets)
        return given
    header = ["$n$"] + [f"${latex_name(i)}$" for i in inputs] + [f"${latex_name('t_' + o)}$" for o in targets]
    columns = ["c"] + ["r"] * len(inputs) + (["@{\\qquad}"] if inputs and targets else []) + ["r"] * len(targets)
    rows = []
    for k, ex in enumerate(spec.examples, start=1):
        rows.append([f"${k}$"] + [f"${fmt_given(ex.inputs[i], digits)}$" for i in inputs]
                    + [f"${fmt_given(ex.targets[o], digits)}$" for o in targets])
    given.update({"example_header": header, "example_rows": rows, "example_spec": " ".join(columns)})
    return given


WIDE_EXAMPLES = 4     # with data, up to this many examples side by side in the forward table


def _table(header: list[str], spec: str, rows: list[list[str]], font: str = "") -> dict:
    """A table for the ``table`` macro: header cells, column spec, rows of cells (all LaTeX), and
    a font size command for wide tables."""
    return {"header": header, "spec": spec, "rows": rows, "font": font}


def _forward_table(view: _View, values: dict[str, float], digits: int) -> dict:
    """A forward pass as a table: net and out of every neuron, the value of every node; with
    data the examples side by side (or one block of rows per example when there are many)."""
    spec = view.spec
    entities = [(n, f"net_{n}", f"out_{n}") for n in spec.neurons] + [(n, None, n) for n in spec.nodes]
    kind = "neuron" if spec.neurons else "node"
    out_head = r"\mathrm{out}" if spec.neurons else r"\text{value}"
    if not view.generic:
        rows = [[f"${latex_name(n)}$", f"${fmt(values[net], digits)}$" if net else "", f"${fmt(values[out], digits)}$"]
                for n, net, out in entities]
        return _table([kind, r"$\mathrm{net}$", f"${out_head}$"], "l r r", rows)
    if view.N <= WIDE_EXAMPLES:
        header = [kind] + [c for k in range(1, view.N + 1)
                           for c in (rf"$\mathrm{{net}}^{{({k})}}$", rf"${out_head}^{{({k})}}$")]
        rows = [[f"${latex_name(n)}$"] + [c for k in range(1, view.N + 1) for c in (
            f"${fmt(values[f'{net}__{k}'], digits)}$" if net else "", f"${fmt(values[f'{out}__{k}'], digits)}$")]
            for n, net, out in entities]
        font = "" if view.N <= 2 else r"\small" if view.N == 3 else r"\footnotesize"
        return _table(header, "l" + " r r" * view.N, rows, font)
    rows = []
    for k in range(1, view.N + 1):
        for i, (n, net, out) in enumerate(entities):
            rows.append([f"${k}$" if i == 0 else "", f"${latex_name(n)}$",
                         f"${fmt(values[f'{net}__{k}'], digits)}$" if net else "",
                         f"${fmt(values[f'{out}__{k}'], digits)}$"])
    return _table(["$n$", kind, r"$\mathrm{net}$", f"${out_head}$"], "c l r r", rows)


def _forward_arithmetic(view: _View, nums: _Numbers) -> list[dict]:
    """net = Σ w·x = numbers = value; out = f(net) = value; per example."""
    g = view.g
    namer, sym = nums.namer(), _Namer(False)
    blocks = []
    for ex in view.examples():
        rows = []
        for node in view.network.order:
            attrs = g.nodes[node]
            if attrs["example"] != ex or attrs["kind"] not in ("net", "out", "node"):
                continue
            lhs = sym.tex(attrs["symbol"])
            value = nums.of(node)
            if attrs["kind"] == "net":
                terms = _net_terms(view, attrs["owner"], ex)
                rows.append(row(lhs, Sum(product_tex(t, sym) for t in terms),
                                Sum(product_tex(t, namer) for t in terms), value))
            else:
                rows.append(row(lhs, sym.tex(attrs["definition"]), namer.tex(attrs["definition"]), value))
        if ex is not None or view.spec.objective is None:
            rows += _loss_arithmetic(view, nums, ex)
        blocks.append({"example": "" if ex is None else str(ex), "rows": rows})
    return blocks


def _loss_arithmetic(view: _View, nums: _Numbers, example: int | None) -> list[dict]:
    """The loss of one example in numbers (with data: ``E⁽ⁿ⁾``)."""
    sfx = "" if example is None else f"__{example}"
    expr = _per_example_expr(view, sfx)
    value = _value_of(expr, nums.raw)
    namer = nums.namer()
    sym = _Namer(False)
    if example is None:
        regular = _regularisation_tex(view, sym)
        regular_num = _regularisation_tex(view, namer)
        total = fmt(nums.raw[view.sym(view.network.root)], nums.digits)
        return [row(view.loss, _per_example_tex(view, "", sym) + (" + " + regular if regular else ""),
                    _per_example_tex(view, "", namer) + (" + " + regular_num if regular_num else ""), total)]
    lhs = latex_name(f"{view.d.loss_name}__{example}")
    return [row(lhs, _per_example_tex(view, sfx, sym), _per_example_tex(view, sfx, namer),
                fmt(value, nums.digits))]


def _total_loss_rows(view: _View, nums: _Numbers) -> list[dict]:
    """With data: ``E = (1/N) Σ E⁽ⁿ⁾ (+ L2) = value``."""
    if not view.generic:
        return []
    namer = nums.namer()
    parts = [fmt(_value_of(_per_example_expr(view, f"__{k}"), nums.raw), nums.digits)
             for k in range(1, view.N + 1)]
    total = sum_tex([number_tex(p) if p.startswith("-") else p for p in parts])
    total = rf"\frac{{1}}{{{view.N}}}\left({total}\right)" if view.spec.reduction == "mean" else total
    regular = _regularisation_tex(view, namer)
    if regular:
        total += " + " + regular
    return [row(view.loss, total, fmt(nums.raw[view.sym(view.network.root)], nums.digits))]


def _backward_arithmetic(view: _View, nums: _Numbers) -> list[dict]:
    """Each δ (output layer first): the formula, the numbers substituted, the value."""
    d = view.d
    namer, sym = nums.namer(), _Namer(False)
    rows = []
    shown: set[sp.Symbol] = set()
    for entry in d.deltas.values():
        node = entry.node
        rows += _update_rows_needed(view, entry.expression, shown, nums)
        value = fmt(d.numbers.deltas[entry.key], nums.digits)
        if entry.simplified is not None:
            formula, numeric = sym.tex(entry.simplified), namer.tex(entry.simplified)
        elif view.g.nodes[node]["kind"] == "net":
            out_node, out_terms, net_terms = _delta_parts(view, node)
            formula, numeric = Sum(), Sum()
            for label, target in net_terms:
                if target == out_node:
                    formula.append(_times(label, out_terms, sym))
                    numeric.append(_times(label, out_terms, namer))
                else:
                    formula.append(_times(label, [_dEdout_name(view, target, sym)], sym))
                    numeric.append(_times(label, [_numeric_dEdout(view, target, nums)], namer))
        else:
            terms = _terms_into(view, node)
            formula, numeric = Sum(_render_terms(terms, sym)), Sum(_render_terms(terms, namer))
        rows.append(row(sym.tex(entry.symbol), formula, numeric, value))
    return rows


def _update_rows_needed(view: _View, expr: sp.Expr, shown: set, nums: _Numbers | None) -> list[dict]:
    """The lecture variant's updated weights ``w⁺ = w − η ∂E/∂w`` that ``expr`` uses and that have
    not been shown yet (symbolic when ``nums`` is None, else with the numbers)."""
    rows = []
    namer = nums.namer() if nums is not None else _Namer(view.generic)
    sym = _Namer(False) if nums is not None else namer
    for s in sorted(expr.free_symbols, key=str):
        if s in view.d.updated_definitions and s not in shown:
            shown.add(s)
            p = s.name[:-len("__new")]
            terms = [product_tex([view.carried(v), view.label(p, v)], sym) for v in view.succ(p)]
            chain = [rf"{latex_name(p)} - \eta\,{parenthesised(terms)}"]
            if nums is not None:
                eta = fmt_given(view.spec.learning_rate, nums.digits)
                numeric = [product_tex([view.carried(v), view.label(p, v)], namer) for v in view.succ(p)]
                chain += [rf"{nums.values[sp.Symbol(p)]} - {eta} \cdot {parenthesised(numeric)}", nums.values[s]]
            rows.append(row(latex_name(s.name), *chain))
    return rows


def _delta_formula_rows(view: _View) -> list[dict]:
    """Each δ as a formula (for example n with data): what a large solution computes per example."""
    namer = _Namer(view.generic)
    rows: list[dict] = []
    shown: set[sp.Symbol] = set()
    for entry in _delta_display_order(view.d, view):
        rows += _update_rows_needed(view, entry.expression, shown, None)
        node = entry.node
        if entry.simplified is not None:
            formula = namer.tex(entry.simplified)
        elif view.g.nodes[node]["kind"] == "net":
            out_node, out_terms, net_terms = _delta_parts(view, node)
            formula = Sum(_times(label, out_terms if target == out_node
                                 else [_dEdout_name(view, target, namer)], namer) for label, target in net_terms)
        else:
            formula = Sum(_render_terms(_terms_into(view, node), namer))
        rows.append(row(namer.tex(entry.symbol), formula))
    return rows


def _numeric_dEdout(view: _View, out_node: str, nums: _Numbers) -> str:
    """The value of ``∂E/∂out_k`` (needed inside a softmax group)."""
    total = math.fsum(_value_of(sp.Mul(*t), nums.raw) for t in _terms_into(view, out_node))
    return number_tex(fmt(total, nums.digits))


def _gradient_arithmetic(view: _View, nums: _Numbers) -> list[dict]:
    """Each gradient: ``Σ δ·input`` in symbols, in numbers, its value."""
    d = view.d
    namer, sym = nums.namer(), _Namer(False)
    rows = []
    for name in d.gradients:
        formula, numeric = Sum(), Sum()
        for v in view.succ(name):
            factors = [view.carried(v), view.label(name, v)]
            formula.append(product_tex(factors, sym))
            numeric.append(product_tex(factors, namer))
        rows.append(row(partial(view.loss, latex_name(name), slash=True), formula, numeric,
                        fmt(d.numbers.gradients[name], nums.digits)))
    return rows


def _update_rows(view: _View, nums: _Numbers) -> list[dict]:
    """``w⁺ = w − η ∂E/∂w = old − η·gradient = new`` for every parameter."""
    d = view.d
    n = d.numbers
    if n.updated_params is None:
        return []
    eta = fmt_given(d.spec.learning_rate, nums.digits)
    rows = []
    for p, new in n.updated_params.items():
        if p not in d.gradients:
            continue
        old = nums.values[sp.Symbol(p)]
        grad = number_tex(fmt(n.gradients[p], nums.digits))
        rows.append(row(latex_name(f"{p}__new"),
                        rf"{latex_name(p)} - \eta\,{partial(view.loss, latex_name(p), slash=True)}",
                        rf"{old} - {eta} \cdot {grad}", fmt(new, nums.digits)))
    return rows


def _summary_rows(view: _View, nums: _Numbers, true: Derivation | None) -> list[dict]:
    d = view.d
    n = d.numbers
    rows = []
    for p in d.gradients:
        entry = {"name": latex_name(p), "old": nums.values.get(sp.Symbol(p), ""),
                 "gradient": fmt(n.gradients[p], nums.digits),
                 "new": fmt(n.updated_params[p], nums.digits) if n.updated_params and p in n.updated_params else "",
                 "true_gradient": "", "true_new": ""}
        if n.true_gradients is not None:
            entry["true_gradient"] = fmt(n.true_gradients[p], nums.digits)
        if true is not None and true.numbers.updated_params and p in true.numbers.updated_params:
            entry["true_new"] = fmt(true.numbers.updated_params[p], nums.digits)
        rows.append(entry)
    return rows


def _delta_table(view: _View, nums: _Numbers) -> dict:
    """Every δ's value (with data: one column per example); the true δ beside the lecture variant."""
    d = view.d
    sym, generic = _Namer(False), _Namer(view.generic)
    digits = nums.digits
    if not view.generic or view.N > 2 * WIDE_EXAMPLES:
        header, spec = ["", "value"], "l r"
        variant = d.numbers.true_deltas is not None
        if variant:
            header, spec = ["", "lecture variant", "true (old weights)"], "l r r"
        rows = []
        for key, entry in d.deltas.items():
            cells = [f"${sym.tex(entry.symbol)}$", f"${fmt(d.numbers.deltas[key], digits)}$"]
            if variant:
                cells.append(f"${fmt(d.numbers.true_deltas[key], digits)}$")
            rows.append(cells)
        return _table(header, spec, rows)
    rows = []
    for entry in _delta_display_order(d, view):
        owner = entry.key[:-len("__1")]
        rows.append([f"${generic.tex(entry.symbol)}$"] + [f"${fmt(d.numbers.deltas[f'{owner}__{k}'], digits)}$"
                                                         for k in range(1, view.N + 1)])
    return _table([""] + [f"$n = {k}$" for k in range(1, view.N + 1)], "l" + " r" * view.N, rows,
                  r"\small" if view.N > WIDE_EXAMPLES else "")


def _sci(value: float) -> str:
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.2e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def solution_context(d: Derivation, digits: int = 6) -> dict:
    """Everything ``solution.tex.j2`` shows: given values, the forward pass (every step for
    small networks, always a table), the loss, the δs, the gradients, one update step, the
    second forward pass, and for the lecture variant the true figures beside."""
    view = _View(d)
    nums = _Numbers(d, digits)
    n = d.numbers
    small = view.N * (len(view.spec.neurons) + len(view.spec.nodes)) <= ARITHMETIC_LIMIT
    true = d.true
    loss_before = fmt(n.forward[d.loss_name], digits)
    after = None
    if n.forward_after is not None:
        change = n.forward_after[d.loss_name] - n.forward[d.loss_name]
        outputs = [{"name": latex_name(f"out_{o}{sfx}") if o in view.spec.neurons else latex_name(o + sfx),
                    "before": fmt(n.forward[(f"out_{o}" if o in view.spec.neurons else o) + sfx], digits),
                    "after": fmt(n.forward_after[(f"out_{o}" if o in view.spec.neurons else o) + sfx], digits)}
                   for o in view.spec.outputs for sfx in ([""] if not view.generic else [])]
        after = {"table": _forward_table(view, n.forward_after, digits), "loss_before": loss_before,
                 "outputs": outputs,
                 "loss_after": fmt(n.forward_after[d.loss_name], digits),
                 "direction": "decreases" if change < 0 else "increases" if change > 0 else "does not change",
                 "learning_rate": fmt_given(d.spec.learning_rate, digits)}
    variant = None
    if d.is_variant and n.true_gradients is not None:
        diffs = [abs(n.gradients[k] - n.true_gradients[k]) for k in n.gradients]
        variant = {"max_difference": _sci(max(diffs) if diffs else 0.0),
                   "true_loss_after": fmt(true.numbers.forward_after[d.loss_name], digits)
                   if true is not None and true.numbers.forward_after is not None else ""}
    return {
        "doc": _document(d, "Worked solution"),
        "network": _network_context(view),
        "given": _given_tables(view, digits),
        "digits": digits,
        "small": small,
        "forward_table": _forward_table(view, n.forward, digits),
        "forward_steps": _forward_arithmetic(view, nums) if small else [],
        "loss": {"symbol": view.loss, "value": loss_before, "definition": _loss_rows(view),
                 "total": _total_loss_rows(view, nums) if small else [],
                 "objective": d.spec.objective is not None},
        "backward": _backward_arithmetic(view, nums) if small else [],
        "backward_formulas": [] if small else _delta_formula_rows(view),
        "gradient_formulas": [] if small else [r for r in _gradient_rows(view) if r["note"] != "update"],
        "gradient_formula_pairs": None if small else pairs([r for r in _gradient_rows(view) if r["note"] != "update"]),
        "deltas": _delta_table(view, nums),
        "gradient_steps": _gradient_arithmetic(view, nums) if small else [],
        "updates": _update_rows(view, nums) if small else [],
        "summary": _summary_rows(view, nums, true),
        "after": after,
        "variant": variant,
        "generic": view.generic,
        "method": d.method,
        "questions": [],
    }


# --------------------------------------------------------------------------- exam

def exam_contexts(d: Derivation, digits: int = 6, *, variant: int | None = None,
                  seed: int | None = None) -> tuple[dict, dict]:
    """The problem sheet and its matching solution (same network, same values)."""
    _Numbers(d, digits)  # an exam needs numbers: a clear error otherwise
    view = _View(d)
    spec = view.spec
    tag = "" if variant is None else f"Variant {variant:02d}" + ("" if seed is None else f" (seed {seed})")
    loss_word = "the objective" if spec.objective is not None else "the loss"
    parts = []
    if spec.neurons:
        parts.append("net and out of every neuron")
    if spec.nodes:
        parts.append("the value of every node")
    texts = [
        "Forward pass: compute " + " and ".join(parts) + (f", and {loss_word}." if spec.objective is None else "."),
        ("Backward pass: compute the error δ = ∂E/∂net of every neuron, output layer first"
         if spec.neurons else "Backward pass: compute the derivative of the objective with respect to every node")
        + (" (and ∂E/∂v of every node)." if spec.neurons and spec.nodes else ".")
        + (" As in the lecture, propagate the hidden errors through the output weights after their "
           "update." if d.is_variant else ""),
        f"Gradients: compute the derivative of {loss_word} with respect to",
    ]
    if spec.learning_rate is not None:
        texts.append(f"Update: take one gradient-descent step with learning rate "
                         f"{fmt_given(spec.learning_rate, digits)}, give the new value of every parameter, "
                         f"repeat the forward pass with them and compare {loss_word} before and after.")
    wrt = ", ".join(f"${latex_name(p)}$" for p in d.gradients)
    questions = [{"text": t, "math": wrt + "." if i == 2 else ""} for i, t in enumerate(texts)]
    doc = _document(d, "Exercise" + (f" — {tag}" if tag else ""))
    doc["description"] = ""
    doc["remarks"] = []
    problem = {
        "doc": doc,
        "network": _network_context(view),
        "given": _given_tables(view, digits),
        "loss": _loss_rows(view),
        "forward": _forward_rows(view),
        "questions": questions,
        "digits": digits,
        "generic": view.generic,
    }
    solution = solution_context(d, digits)
    solution["doc"]["kind"] = "Solution" + (f" — {tag}" if tag else "")
    solution["doc"]["description"] = ""
    solution["questions"] = questions
    return problem, solution


# --------------------------------------------------------------------------- exam variants

def contents_context(spec, variants: Sequence[Any], files: Sequence[tuple[str, str]], seed: int,
                     digits: int = 6) -> dict:
    """The list of exam variants: files, drawn values and key figures (for the marker)."""
    ranges = []
    names = {"params": "Parameters", "inputs": "Inputs", "targets": "Targets"}
    for group, body in (spec.randomize or {}).items():
        if group in names and isinstance(body, dict):
            ranges.append({"what": names[group], "low": fmt_given(sp.Rational(str(body["low"])), 6),
                           "high": fmt_given(sp.Rational(str(body["high"])), 6),
                           "step": fmt_given(sp.Rational(str(body["step"])), 6)})
    rows = []
    has_after = False
    for v, (problem, solution) in zip(variants, files):
        d = v.derivation
        values = ", ".join(f"${latex_name(k)} = {fmt_given(sp.Rational(str(x)), digits)}$" for k, x in v.drawn.items())
        after = ""
        if d.numbers.forward_after is not None:
            after = fmt(d.numbers.forward_after[d.loss_name], digits)
            has_after = True
        rows.append({"number": f"{v.number:02d}", "problem": problem, "solution": solution, "drawn": values,
                     "loss": fmt(d.numbers.forward[d.loss_name], digits), "loss_after": after})
    doc = {"name": spec.name, "title": spec.title or spec.name, "kind": "Exam variants", "tagline": "",
           "description": "", "remarks": []}
    loss = variants[0].derivation.loss_name if variants else "E"
    return {"doc": doc, "variants": rows, "count": len(rows), "seed": seed, "ranges": ranges,
            "has_after": has_after, "loss_symbol": latex_name(loss)}
