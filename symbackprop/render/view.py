"""The derivation's graph as the documents read it: variant-aware edge labels, what each successor hands back, the forward pass and the loss."""
from __future__ import annotations

from typing import Any, Sequence

import sympy as sp

from ..activations import ACTIVATIONS, DEFAULT_LEAKY_ALPHA, activation_from_text
from ..derive import Derivation
from ..derive.truncation import truncation_cuts
from ..derive.backprop import (
    cached_carry,
    graph_label,
    relevant_nodes,
    terms,
    variant_label,
)
from ..graph import NodeKind
from ..latex import latex_name, target_letter, to_latex
from ..names import updated_name, updated_param
from .texmath import (
    Namer,
    Sum,
    fmt_given,
    l2_tex,
    needs_parens,
    parenthesised,
    partial,
    product_tex,
    row,
    sum_tex,
)

VARIANT_HEADING = "Lecture variant, not the gradient."


VARIANT_TEXT = (r"As in the lecture's own solution, the hidden errors are back-propagated through the "
                r"output weights that were already updated in this step (written $w^{+}$). That is "
                r"not the gradient of the loss, so these figures carry a tilde: $\tilde{\delta}$ for the "
                r"errors and $\tilde{g}_w$ for what a parameter moves against. The true figures, through "
                r"the old weights, are given beside.")


VARIANT_WORDS = {
    "updated": {"heading": VARIANT_HEADING, "text": VARIANT_TEXT,
                "backward": "(and, as in the lecture, the already-updated output weights)",
                "true": "through the old weights", "column": "true (old weights)",
                "remark": "The lecture's figures above back-propagate the hidden errors through the "
                          "already-updated output weights."},
    "truncated": {"heading": "Truncated backpropagation through time, not the gradient.",
                  "text": r"The errors $\delta$ are carried back through the recurrent edges for at most "
                          r"$k$ time steps: the state is detached every $k$ steps, counting back from the "
                          r"last, so $\partial \mathrm{net}_{h_{t}} / \partial h_{t-1}$ is taken as 0 there. "
                          r"That is not the gradient of the loss, so these figures carry a tilde: "
                          r"$\tilde{\delta}$ for the errors and $\tilde{g}_w$ for what a parameter moves "
                          r"against. The true figures, by full backpropagation through time, are given beside.",
                  "backward": r"(truncated: no $\delta$ is carried back across a detached step)",
                  "true": "by full backpropagation through time",
                  "column": "true (full BPTT)",
                  "remark": "The figures above are truncated backpropagation through time: no error is "
                            "carried back across a detached time step."},
}
"""What the documents say about each variant of the gradient (``Derivation.variant_kind``)."""


class View:
    """The derivation's graph as the documents read it: ``label(u, v)`` is the backward rule's edge
    label (the lecture variant's, through ``w⁺``, when the derivation is that variant) and
    ``carried(v)`` what ``v`` hands back (1, its cached δ, or ``∂E/∂out`` by name)."""

    def __init__(self, d: Derivation):
        self.d = d
        self.spec = d.spec
        self.network = d.network
        self.g = d.network.graph
        self.relevant = relevant_nodes(d.network)
        base = graph_label(d.network, truncation_cuts(d.network) if d.variant_kind == "truncated" else None)
        self.label = (variant_label(d.network, lambda p, where: sp.Symbol(updated_name(p)), base)
                      if d.updated_definitions else base)
        self.carried = cached_carry(d.network)
        self.generic = d.spec.has_data
        self.N = d.network.examples
        self.loss = latex_name(d.loss_name)
        self.lr = latex_name(d.spec.symbols.get("learning_rate", "eta"))   # η, or the lecture's letter
        self.target = target_letter()   # t, or the lecture's letter (symbols.target)
        self.tilde, self.variant_params = variant_symbols(d)

    def namer(self, generic: bool | None = None) -> Namer:
        """A symbolic namer for this view (the lecture variant's δs print with a tilde)."""
        return Namer(self.generic if generic is None else generic, names=self.tilde)

    def grad_tex(self, param: str, *, slash: bool = False) -> str:
        """``∂E/∂w``, or ``g̃_w`` where the lecture variant's figure is not that derivative."""
        if param in self.variant_params:
            return rf"\tilde{{g}}_{{{latex_name(param)}}}"
        return partial(self.loss, latex_name(param), slash=slash)

    def sym(self, node: str) -> sp.Symbol:
        return self.g.nodes[node]["symbol"]

    def succ(self, node: str) -> list[str]:
        return [v for v in self.g.successors(node) if v in self.relevant]

    def shown(self, example: int | None) -> bool:
        return example in ((1,) if self.generic else (None,))

    def examples(self) -> list[int | None]:
        return list(range(1, self.N + 1)) if self.generic else [None]


def variant_symbols(d: Derivation) -> tuple[dict[sp.Symbol, str], set[str]]:
    """For the lecture variant: the δs that are not the true ones (their expression differs, or
    uses such a δ) with their tilde names, and the parameters whose figure is then not the
    gradient. Empty for a plain derivation.

    >>> from symbackprop import derive, load_spec
    >>> tilde, params = variant_symbols(derive(load_spec("examples/we05-221-sigmoid-updated.yaml")))
    >>> sorted(tilde.values()), sorted(params)
    (['\\\\tilde{\\\\delta}_{T}', '\\\\tilde{\\\\delta}_{\\\\mathit{Bo}}'], ['w_AB', 'w_AT', 'w_BB', 'w_BT'])
    """
    if not d.is_variant:
        return {}, set()
    true = d.true_deltas
    affected: set[sp.Symbol] = set()
    changed = True
    while changed:
        changed = False
        for key, entry in d.deltas.items():
            if entry.symbol not in affected and (entry.expression != true.get(key, entry.expression)
                                                 or entry.expression.free_symbols & affected):
                affected.add(entry.symbol)
                changed = True
    tilde = {s: latex_name(s.name).replace(r"\delta", r"\tilde{\delta}", 1) for s in affected}
    params = {w for w, g in d.gradients.items()
              if g.expression != d.true_gradients.get(w, g.expression) or g.expression.free_symbols & affected}
    return tilde, params


def terms_into(view: View, node: str) -> list[list[sp.Expr]]:
    """``∂E/∂node`` as a list of products ``[carried(v), label(node → v)]`` over successors
    (the backward rule's terms, :func:`symbackprop.derive.backprop.terms`)."""
    return [[c, lab] for _, c, lab in terms(view.network, node, view.carried, view.label, view.relevant)]


def delta_parts(view: View, net_node: str):
    """For a neuron: its out node, the terms of ``∂E/∂out`` and the pairs ``(∂out_k/∂net, out_k)``
    of ``δ = Σ_k ∂out_k/∂net · ∂E/∂out_k`` (one pair, its own out, except in a softmax group)."""
    g = view.g
    owner = g.nodes[net_node]["owner"]
    out_node = next(v for v in g.successors(net_node)
                    if g.nodes[v]["kind"] == NodeKind.OUT and g.nodes[v]["owner"] == owner)
    out_terms = [[sp.Integer(1)]] if out_node == view.network.root else terms_into(view, out_node)
    net_terms = [(view.label(net_node, v), v) for v in view.succ(net_node)]
    return out_node, out_terms, net_terms


def render_terms(terms: list[list[sp.Expr]], namer: Namer) -> list[str]:
    return [product_tex(t, namer) for t in terms]


def delta_display_order(d: Derivation, view: View):
    return [e for e in d.deltas.values() if view.shown(view.g.nodes[e.node]["example"])]


def dEdout_name(view: View, node: str, namer: Namer, *, slash: bool = False) -> str:
    """``∂E/∂out_k`` (or ``∂E/∂net_k``): slashed under a tilde where the lecture variant's figure
    is not that derivative (the neuron's δ is one of the variant's)."""
    owner = view.g.nodes[node].get("owner")
    if view.tilde and any(e.symbol in view.tilde and view.g.nodes[e.node].get("owner") == owner
                          for e in view.d.deltas.values()):
        return rf"\widetilde{{{partial(view.loss, namer.tex(view.sym(node)), slash=True)}}}"
    return partial(view.loss, namer.tex(view.sym(node)), slash=slash)


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


LOSS_TEXT = {
    "half_sse": "half the sum of squared errors", "sse": "the sum of squared errors",
    "mse": "the mean squared error over the outputs", "bce": "binary cross-entropy",
    "cross_entropy": "cross-entropy",
}


_ACTIVATION_WORDS = {"relu": "ReLU", "leaky_relu": "leaky ReLU", "identity": "identity", "softplus": "softplus",
                     "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax"}


def activation_text(act: str) -> str:
    """An activation as a document names it (LaTeX-ready): its word, or ``$f(x) = …$`` for a custom one.

    >>> activation_text("relu"), activation_text("x**3")
    ('ReLU', '$f(x) = x^{3}$')
    """
    if act in _ACTIVATION_WORDS or act == "mixed":
        return _ACTIVATION_WORDS.get(act, "mixed")
    activation = ACTIVATIONS.get(act) or activation_from_text(act, where="activation")
    return f"$f(x) = {to_latex(activation.apply(sp.Symbol('x'), None))}$"


def activation_rows(spec) -> list[dict[str, str]]:
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


def _output_symbols(view: View, sfx: str) -> tuple[list[sp.Symbol], list[sp.Symbol]]:
    spec = view.spec
    outs = [sp.Symbol(f"out_{o}{sfx}") if o in spec.neurons else sp.Symbol(o + sfx) for o in spec.outputs]
    targets = [sp.Symbol(f"t_{o}{sfx}") for o in spec.outputs]
    return outs, targets


def per_example_expr(view: View, sfx: str) -> sp.Expr:
    """The loss of one example with the symbols of that example (suffix ``sfx``)."""
    return view.network.example_loss(int(sfx[2:]) if sfx else None)


def per_example_tex(view: View, sfx: str, namer: Namer) -> str:
    """The per-example loss the way it is written by hand (``½(t − out)²``), or as printed."""
    name = view.spec.loss
    if name not in ("half_sse", "sse", "mse", "bce", "cross_entropy"):  # an expression: as printed
        return namer.tex(per_example_expr(view, sfx))
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
    return namer.tex(per_example_expr(view, sfx))


def regularisation_tex(view: View, namer: Namer) -> str:
    spec = view.spec
    if spec.l2 is None:
        return ""
    regularised = list(spec.weights) + (list(spec.biases) if spec.l2_include_biases else [])
    squares = sum_tex([namer.tex(sp.Symbol(p) ** 2) for p in regularised])
    return rf"{l2_tex(spec)}\left({squares}\right)"


def loss_rows(view: View) -> list[dict]:
    """The loss as defined: per example (generic ``n``) and in total, with the L2 term."""
    spec = view.spec
    if spec.objective is not None and not view.generic:
        return []
    namer = view.namer()
    regular = regularisation_tex(view, namer)
    if not view.generic:
        body = per_example_tex(view, "", namer)
        return [row(view.loss, body + (" + " + regular if regular else ""))]
    n_tex = latex_name(f"{view.d.loss_name}__n")
    total = rf"\sum_{{n=1}}^{{{view.N}}} {n_tex}"
    if spec.reduction == "mean":
        total = rf"\frac{{1}}{{{view.N}}}" + total
    if regular:
        total += " + " + regular
    return [row(n_tex, per_example_tex(view, "__1", namer)), row(view.loss, total)]


def neuron_net_terms(view: View, neuron: str, example: int | None) -> list[list[sp.Expr]]:
    """``net_j = Σ w·source (+ b)`` as products, in the spec's order (weight first, as lectures write)."""
    spec = view.spec
    sfx = "" if example is None else f"__{example}"
    terms = []
    for src, p in spec.neurons[neuron].sources:
        source = sp.Symbol(f"out_{src}{sfx}") if src in spec.neurons else sp.Symbol(src + sfx)
        terms.append([sp.Symbol(p) if isinstance(p, str) else p, source])  # a constant weight as its number
    if spec.neurons[neuron].bias:
        terms.append([sp.Symbol(spec.neurons[neuron].bias)])
    return terms


def computed_nodes(view: View, example: int | None):
    """``(node, attrs)`` of every net, out and expression node of one example, in forward order;
    the first example's also lists the nodes shared by all of them (a batch's mean and variance)."""
    for node in view.network.order:
        attrs = view.g.nodes[node]
        shared = example == 1 and attrs["example"] is None and attrs["kind"] == NodeKind.NODE
        if (attrs["example"] == example or shared) and attrs["kind"] in (NodeKind.NET, NodeKind.OUT, NodeKind.NODE):
            yield node, attrs


def forward_rows(view: View) -> list[dict]:
    namer = view.namer()
    example = 1 if view.generic else None
    rows = []
    for node, attrs in computed_nodes(view, example):
        lhs = namer.tex(attrs["symbol"])
        if attrs["kind"] == NodeKind.NET:
            rows.append(row(lhs, Sum(product_tex(t, namer) for t in neuron_net_terms(view, attrs["owner"], example))))
        else:
            rows.append(row(lhs, namer.member(attrs["definition"])))
    return rows


def entity_title(view: View, node: str) -> str:
    attrs = view.g.nodes[node]
    if attrs["kind"] == NodeKind.NODE:
        return "Node"
    return "Output neuron" if attrs["owner"] in view.spec.outputs else "Neuron"


def _sum_factor(terms: Sequence[Any], namer: Namer) -> str:
    """A sum of products (lists of SymPy factors, or ready LaTeX) as one factor of a product."""
    texs = [t if isinstance(t, str) else product_tex(t, namer) for t in terms]
    text = sum_tex(texs)
    lone = [f for f in (terms[0] if len(terms) == 1 and not isinstance(terms[0], str) else [])
            if sp.sympify(f) != 1]
    if len(texs) > 1 or text.startswith("-") or (len(lone) == 1 and needs_parens(sp.sympify(lone[0]))):
        return rf"\left({text}\right)"
    return text


def times_factor(label: sp.Expr, terms: Sequence[Any], namer: Namer) -> str:
    """``label · (terms)``: a local derivative times a (possibly summed) factor."""
    if sp.sympify(label) == 1:
        return sum_tex([t if isinstance(t, str) else product_tex(t, namer) for t in terms])
    return product_tex([label, _sum_factor(terms, namer)], namer)


def update_rows_needed(view: View, expr: sp.Expr, shown: set, nums) -> list[dict]:
    """The lecture variant's updated weights ``w⁺ = w − η ∂E/∂w`` that ``expr`` uses and that have
    not been shown yet (symbolic when ``nums`` is None, else with the numbers)."""
    rows = []
    namer = nums.namer() if nums is not None else view.namer()
    sym = view.namer(False) if nums is not None else namer
    for s in sorted(expr.free_symbols, key=str):
        if s in view.d.updated_definitions and s not in shown:
            shown.add(s)
            p = updated_param(s.name)
            parts = terms_into(view, p)
            chain = [rf"{latex_name(p)} - {view.lr}\,{parenthesised([product_tex(t, sym) for t in parts])}"]
            if nums is not None:
                eta = fmt_given(view.spec.learning_rate, nums.digits)
                numeric = [product_tex(t, namer) for t in parts]
                chain += [rf"{nums.values[sp.Symbol(p)]} - {eta} \cdot {parenthesised(numeric)}", nums.values[s]]
            rows.append(row(latex_name(s.name), *chain))
    return rows
