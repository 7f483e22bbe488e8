"""The numeric worked solution: given values, the forward pass, loss, every δ and gradient in numbers, the update and the second pass."""
from __future__ import annotations

import copy

import sympy as sp

from ..derive import Derivation
from ..errors import SpecError
from ..graph import NodeKind
from ..latex import latex_name
from ..names import updated_name
from .derivation import gradient_row_list
from .front import document_front, network_context
from .texmath import (
    Digits,
    Namer,
    Sum,
    fmt,
    fmt_given,
    number_tex,
    precision_words,
    pairs,
    partial,
    product_tex,
    row,
    sci,
    sum_tex,
    table_context,
)
from .view import (
    VARIANT_WORDS,
    View,
    computed_nodes,
    dEdout_name,
    delta_display_order,
    delta_parts,
    loss_rows,
    neuron_net_terms,
    per_example_tex,
    regularisation_tex,
    render_terms,
    terms_into,
    times_factor,
    update_rows_needed,
)

ARITHMETIC_LIMIT = 12         # examples × (neurons + nodes) up to which every step is shown in numbers


class Numbers:
    """Every value of a derivation, raw and formatted, by symbol."""

    def __init__(self, d: Derivation, digits: Digits):
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
            self.values[sp.Symbol(updated_name(p))] = fmt(v, digits)
            self.raw[sp.Symbol(updated_name(p))] = v

    def namer(self) -> Namer:
        return Namer(False, self.values)

    def of(self, node: str) -> str:
        return self.values[self.d.network.graph.nodes[node]["symbol"]]

    def after_step(self) -> "Numbers":
        """The same network after the update: new parameters, the second forward pass."""
        n, g = self.d.numbers, self.d.network.graph
        other = copy.copy(self)
        other.values, other.raw = dict(self.values), dict(self.raw)
        for p, v in (n.updated_params or {}).items():
            other.values[sp.Symbol(p)], other.raw[sp.Symbol(p)] = fmt(v, self.digits), v
        for node, v in (n.forward_after or {}).items():  # computed nodes only: inputs keep their text
            if node in g:
                s = g.nodes[node]["symbol"]
                other.values[s], other.raw[s] = fmt(v, self.digits), v
        return other


def edge_values(view: View, digits: Digits) -> dict[str, str]:
    """The given parameter values, to show on the network's edges."""
    return {p: fmt_given(v, digits) for p, v in (view.spec.params_values or {}).items()}


def given_tables(view: View, digits: Digits) -> dict:
    """The given values: inline lists for one example, a table of the examples with data."""
    spec = view.spec
    params = ", ".join(f"${latex_name(p)} = {fmt_given(v, digits)}$" for p, v in (spec.params_values or {}).items())
    inputs = list(spec.inputs)
    targets = list(spec.target_outputs) if spec.objective is None else []
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


def _forward_table(view: View, values: dict[str, float], digits: Digits) -> dict:
    """A forward pass as a table: net and out of every neuron, the value of every node; with
    data the examples side by side (or one block of rows per example when there are many)."""
    spec = view.spec
    entities = [(n, f"net_{n}", f"out_{n}") for n in spec.neurons] + [(n, None, n) for n in spec.nodes]
    kind = "neuron" if spec.neurons else "node"
    out_head = r"\mathrm{out}" if spec.neurons else r"\text{value}"
    if not view.generic:
        rows = [[f"${latex_name(n)}$", f"${fmt(values[net], digits)}$" if net else "", f"${fmt(values[out], digits)}$"]
                for n, net, out in entities]
        return table_context([kind, r"$\mathrm{net}$", f"${out_head}$"], "l r r", rows)
    if view.N <= WIDE_EXAMPLES:
        header = [kind] + [c for k in range(1, view.N + 1)
                           for c in (rf"$\mathrm{{net}}^{{[{k}]}}$", rf"${out_head}^{{[{k}]}}$")]
        rows = [[f"${latex_name(n)}$"] + [c for k in range(1, view.N + 1) for c in (
            f"${fmt(values[f'{net}__{k}'], digits)}$" if net else "", f"${fmt(values[f'{out}__{k}'], digits)}$")]
            for n, net, out in entities]
        font = "" if view.N <= 2 else r"\small" if view.N == 3 else r"\footnotesize"
        return table_context(header, "l" + " r r" * view.N, rows, font)
    rows = []
    for k in range(1, view.N + 1):
        for i, (n, net, out) in enumerate(entities):
            rows.append([f"${k}$" if i == 0 else "", f"${latex_name(n)}$",
                         f"${fmt(values[f'{net}__{k}'], digits)}$" if net else "",
                         f"${fmt(values[f'{out}__{k}'], digits)}$"])
    return table_context(["$n$", kind, r"$\mathrm{net}$", f"${out_head}$"], "c l r r", rows)


def _forward_arithmetic(view: View, nums: Numbers, *, updated: bool = False) -> list[dict]:
    """net = Σ w·x = numbers = value; out = f(net) = value; per example (``updated``: the
    second pass, the parameters written ``w⁺``)."""
    blocks = []
    for ex in view.examples():
        rows = [r for _, r in forward_steps(view, nums, ex, updated=updated)]
        if ex is not None or view.spec.objective is None:
            rows += loss_arithmetic(view, nums, ex)
        blocks.append({"example": "" if ex is None else str(ex), "rows": rows})
    return blocks


def forward_steps(view: View, nums: Numbers, example: int | None, *, updated: bool = False) -> list[tuple[str, dict]]:
    """Each computed node of one example with its row: formula, numbers substituted, value."""
    namer, sym = nums.namer(), view.namer(False)
    if updated:
        sym.names = {**sym.names, **{sp.Symbol(p): latex_name(updated_name(p)) for p in view.spec.parameters}}
    steps = []
    for node, attrs in computed_nodes(view, example):
        lhs = sym.tex(attrs["symbol"])
        value = nums.of(node)
        if attrs["kind"] == NodeKind.NET:
            terms = neuron_net_terms(view, attrs["owner"], example)
            steps.append((node, row(lhs, Sum(product_tex(t, sym) for t in terms),
                                    Sum(product_tex(t, namer) for t in terms), value)))
        else:
            steps.append((node, row(lhs, sym.member(attrs["definition"]), namer.member(attrs["definition"]), value)))
    return steps


def loss_arithmetic(view: View, nums: Numbers, example: int | None) -> list[dict]:
    """The loss of one example in numbers (with data: ``E⁽ⁿ⁾``)."""
    sfx = "" if example is None else f"__{example}"
    namer = nums.namer()
    sym = view.namer(False)
    if example is None:
        regular = regularisation_tex(view, sym)
        regular_num = regularisation_tex(view, namer)
        total = fmt(nums.raw[view.sym(view.network.root)], nums.digits)
        return [row(view.loss, per_example_tex(view, "", sym) + (" + " + regular if regular else ""),
                    per_example_tex(view, "", namer) + (" + " + regular_num if regular_num else ""), total)]
    lhs = latex_name(f"{view.d.loss_name}__{example}")
    return [row(lhs, per_example_tex(view, sfx, sym), per_example_tex(view, sfx, namer),
                fmt(view.d.numbers.example_losses[example - 1], nums.digits))]


def _total_loss_rows(view: View, nums: Numbers) -> list[dict]:
    """With data: ``E = (1/N) Σ E⁽ⁿ⁾ (+ L2) = value``."""
    if not view.generic:
        return []
    namer = nums.namer()
    parts = [fmt(loss, nums.digits) for loss in view.d.numbers.example_losses]
    total = sum_tex([number_tex(p) if p.startswith("-") else p for p in parts])
    total = rf"\frac{{1}}{{{view.N}}}\left({total}\right)" if view.spec.reduction == "mean" else total
    regular = regularisation_tex(view, namer)
    if regular:
        total += " + " + regular
    return [row(view.loss, total, fmt(nums.raw[view.sym(view.network.root)], nums.digits))]


def _backward_arithmetic(view: View, nums: Numbers) -> list[dict]:
    """Each δ (output layer first): the formula, the numbers substituted, the value."""
    shown: set[sp.Symbol] = set()
    return [r for entry in view.d.deltas.values() for r in delta_steps(view, nums, entry, shown)]


def delta_steps(view: View, nums: Numbers, entry, shown: set[sp.Symbol]) -> list[dict]:
    """One δ's rows: the lecture variant's updated weights it needs first (``shown`` holds those
    already given), then the formula, the numbers substituted and the value (a neuron of its own:
    the three steps of :func:`neuron_steps`)."""
    d = view.d
    namer, sym = nums.namer(), view.namer(False)
    node = entry.node
    rows = update_rows_needed(view, entry.expression, shown, nums)
    value = fmt(d.numbers.deltas[entry.key], nums.digits)
    if entry.simplified is not None:
        formula, numeric = sym.tex(entry.simplified), namer.tex(entry.simplified)
    elif view.g.nodes[node]["kind"] == NodeKind.NET and _own_activation(view, node):
        return rows + neuron_steps(view, nums, entry, sym, namer)
    elif view.g.nodes[node]["kind"] == NodeKind.NET:
        out_node, out_terms, net_terms = delta_parts(view, node)
        formula, numeric = Sum(), Sum()
        for label, target in net_terms:
            if target == out_node:
                formula.append(times_factor(label, out_terms, sym))
                numeric.append(times_factor(label, out_terms, namer))
            else:
                formula.append(times_factor(label, [dEdout_name(view, target, sym)], sym))
                numeric.append(times_factor(label, [_numeric_dEdout(view, target, nums)], namer))
    else:
        terms = terms_into(view, node)
        formula, numeric = Sum(render_terms(terms, sym)), Sum(render_terms(terms, namer))
    return rows + [row(sym.tex(entry.symbol), formula, numeric, value)]


def _own_activation(view: View, net_node: str) -> bool:
    """Whether the neuron's out depends on its own net only (not a softmax group)."""
    _, _, net_terms = delta_parts(view, net_node)
    return len(net_terms) == 1


def neuron_steps(view: View, nums: Numbers, entry, sym: Namer, namer: Namer) -> list[dict]:
    """The classic walkthrough of one neuron: ``∂E/∂out`` (a sum over its outgoing edges),
    ``f′(net)``, then ``δ = f′(net) · ∂E/∂out``, each with its numbers and the derivation's value."""
    n = view.d.numbers
    out_node, out_terms, [(label, _)] = delta_parts(view, entry.node)
    dout = dEdout_name(view, out_node, sym, slash=True)
    dout_value = fmt(n.adjoints[out_node], nums.digits)
    fprime = rf"f'({sym.tex(view.sym(entry.node))})"
    fvalue = fmt(n.slopes[entry.node], nums.digits)
    value = fmt(n.deltas[entry.key], nums.digits)
    rows = [row(dout, Sum(render_terms(out_terms, sym)), Sum(render_terms(out_terms, namer)), dout_value),
            row(fprime, sym.tex(label), namer.tex(label), fvalue),
            row(sym.tex(entry.symbol), rf"{fprime} \cdot {dout}",
                rf"{number_tex(fvalue)} \cdot {number_tex(dout_value)}", value)]
    product = label * sp.Add(*[sp.Mul(*t) for t in out_terms])
    if entry.expression != product and sp.count_ops(entry.expression) < sp.count_ops(product):
        # the lecture's point: the product collapses (δ = out − t for sigmoid + BCE)
        rows.append(row(sym.tex(entry.symbol), sym.tex(entry.expression), namer.tex(entry.expression), value))
    return rows


def _delta_formula_rows(view: View) -> list[dict]:
    """Each δ as a formula (for example n with data): what a large solution computes per example."""
    namer = view.namer()
    rows: list[dict] = []
    shown: set[sp.Symbol] = set()
    for entry in delta_display_order(view.d, view):
        rows += update_rows_needed(view, entry.expression, shown, None)
        node = entry.node
        if entry.simplified is not None:
            formula = namer.tex(entry.simplified)
        elif view.g.nodes[node]["kind"] == NodeKind.NET:
            out_node, out_terms, net_terms = delta_parts(view, node)
            formula = Sum(times_factor(label, out_terms if target == out_node
                                 else [dEdout_name(view, target, namer)], namer) for label, target in net_terms)
        else:
            formula = Sum(render_terms(terms_into(view, node), namer))
        rows.append(row(namer.tex(entry.symbol), formula))
    return rows


def _numeric_dEdout(view: View, out_node: str, nums: Numbers) -> str:
    """The value of ``∂E/∂out_k`` (needed inside a softmax group)."""
    return number_tex(fmt(view.d.numbers.adjoints[out_node], nums.digits))


def _gradient_arithmetic(view: View, nums: Numbers) -> list[dict]:
    """Each gradient: ``Σ δ·input`` in symbols, in numbers, its value."""
    return [gradient_step(view, nums, name) for name in view.d.gradients]


def gradient_step(view: View, nums: Numbers, name: str) -> dict:
    """``∂E/∂w = Σ δ·input`` (the cached-backprop form) in symbols, in numbers, its value."""
    namer, sym = nums.namer(), view.namer(False)
    formula, numeric = Sum(), Sum()
    for v in view.succ(name):
        factors = [view.carried(v), view.label(name, v)]
        formula.append(product_tex(factors, sym))
        numeric.append(product_tex(factors, namer))
    return row(view.grad_tex(name, slash=True), formula, numeric, fmt(view.d.numbers.gradients[name], nums.digits))


def _update_rows(view: View, nums: Numbers) -> list[dict]:
    """``w⁺ = w − η ∂E/∂w = old − η·gradient = new`` for every parameter."""
    n = view.d.numbers
    if n.updated_params is None:
        return []
    return [update_step(view, nums, p) for p in n.updated_params if p in view.d.gradients]


def update_step(view: View, nums: Numbers, p: str) -> dict:
    """``w⁺ = w − η ∂E/∂w = old − η·gradient = new`` for one parameter (with a learning rate)."""
    n = view.d.numbers
    eta = fmt_given(view.d.spec.learning_rate, nums.digits)
    grad = number_tex(fmt(n.gradients[p], nums.digits))
    return row(latex_name(updated_name(p)), rf"{latex_name(p)} - {view.lr}\,{view.grad_tex(p, slash=True)}",
               rf"{nums.values[sp.Symbol(p)]} - {eta} \cdot {grad}", fmt(n.updated_params[p], nums.digits))


def _summary_head(view: View) -> dict[str, str]:
    """The summary table's first and gradient column heads: ``parameter`` and ``∂E/∂w``, or for
    inputs differentiated by ``wrt`` ``variable`` and, for one of them, its own name (``∂P/∂L``)."""
    names = list(view.d.gradients)
    if all(n in view.spec.parameters for n in names):
        return {"name": "parameter", "wrt": "w"}
    return {"name": "variable" if len(names) > 1 else "input",
            "wrt": latex_name(names[0]) if len(names) == 1 else r"(\cdot)"}


def _summary_rows(view: View, nums: Numbers, true: Derivation | None) -> list[dict]:
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


def _delta_table(view: View, nums: Numbers) -> dict:
    """Every δ's value (with data: one column per example); the true δ beside the lecture variant."""
    d = view.d
    sym, generic = view.namer(False), view.namer()
    digits = nums.digits
    if not view.generic or view.N > 2 * WIDE_EXAMPLES:
        header, spec = ["", "value"], "l r"
        variant = d.numbers.true_deltas is not None
        if variant:
            header, spec = ["", "variant", VARIANT_WORDS[d.variant_kind]["column"]], "l r r"
        rows = []
        for key, entry in d.deltas.items():
            cells = [f"${sym.tex(entry.symbol)}$", f"${fmt(d.numbers.deltas[key], digits)}$"]
            if variant:
                cells.append(f"${fmt(d.numbers.true_deltas[key], digits)}$")
            rows.append(cells)
        return table_context(header, spec, rows)
    rows = []
    for entry in delta_display_order(d, view):
        owner = entry.key[:-len("__1")]
        rows.append([f"${generic.tex(entry.symbol)}$"] + [f"${fmt(d.numbers.deltas[f'{owner}__{k}'], digits)}$"
                                                         for k in range(1, view.N + 1)])
    return table_context([""] + [f"$n = {k}$" for k in range(1, view.N + 1)], "l" + " r" * view.N, rows,
                  r"\small" if view.N > WIDE_EXAMPLES else "")


def solution_context(d: Derivation, digits: Digits = 6) -> dict:
    """Everything ``solution.tex.j2`` shows: given values, the forward pass (every step for
    small networks, always a table), the loss, the δs, the gradients, one update step, the
    second forward pass, and for the lecture variant the true figures beside."""
    view = View(d)
    nums = Numbers(d, digits)
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
        worked = (small and not view.generic and n.updated_params is not None
                  and all(p in n.updated_params for p in view.spec.parameters))
        after = {"table": _forward_table(view, n.forward_after, digits), "loss_before": loss_before,
                 "steps": _forward_arithmetic(view, nums.after_step(), updated=True) if worked else [],
                 "outputs": outputs,
                 "loss_after": fmt(n.forward_after[d.loss_name], digits),
                 "direction": "decreases" if change < 0 else "increases" if change > 0 else "does not change",
                 "learning_rate": fmt_given(d.spec.learning_rate, digits)}
    variant = None
    if d.is_variant and n.true_gradients is not None:
        diffs = [abs(n.gradients[k] - n.true_gradients[k]) for k in n.gradients]
        true_deltas = ", ".join(f"${latex_name(e.symbol.name)} = {fmt(n.true_deltas[k], digits)}$"
                                for k, e in d.deltas.items() if e.symbol in view.tilde)
        variant = {"max_difference": sci(max(diffs) if diffs else 0.0), "true_deltas": true_deltas,
                   "words": VARIANT_WORDS[d.variant_kind],
                   "true_loss_after": fmt(true.numbers.forward_after[d.loss_name], digits)
                   if true is not None and true.numbers.forward_after is not None else ""}
    return {
        "doc": document_front(d, "Worked solution"),
        "network": network_context(view, edge_values(view, digits)),
        "given": given_tables(view, digits),
        "digits": digits,
        "precision": precision_words(digits),
        "small": small,
        "forward_table": _forward_table(view, n.forward, digits),
        "forward_steps": _forward_arithmetic(view, nums) if small else [],
        "loss": {"symbol": view.loss, "value": loss_before, "definition": loss_rows(view),
                 "total": _total_loss_rows(view, nums) if small else [],
                 "objective": d.spec.objective is not None},
        "backward": _backward_arithmetic(view, nums) if small else [],
        "backward_formulas": [] if small else _delta_formula_rows(view),
        "gradient_formulas": [] if small else [r for r in gradient_row_list(view) if r["note"] != "update"],
        "gradient_formula_pairs": None if small else pairs([r for r in gradient_row_list(view) if r["note"] != "update"]),
        "deltas": _delta_table(view, nums),
        "kinks": [w["message"] for w in (d.warnings or [])],
        "gradient_steps": _gradient_arithmetic(view, nums) if small else [],
        "updates": _update_rows(view, nums) if small else [],
        "summary": _summary_rows(view, nums, true),
        "summary_head": _summary_head(view),
        "after": after,
        "variant": variant,
        "generic": view.generic,
        "method": d.method,
        "questions": [],
    }
