r"""Plain data for ``matrix.tex.j2``: a layered derivation in vector and matrix notation.

Two documents share the template: the **matrix derivation** (``--template matrix``: the
Jacobians written out, the chain ``∂E/∂W⁽ˡ⁾ = ∂E/∂z · ∂z/∂a⁽ᴸ⁾ ⋯ ∂a⁽ˡ⁾/∂W⁽ˡ⁾``, the compact
rules, and the numbers when the spec has values) and the **worked solution in matrix form**
(``--template solution --notation matrix``: the numbers step by step). Names follow the
lectures: ``x`` the inputs, ``a⁽ˡ⁾`` and ``h⁽ˡ⁾`` a layer's nets and outputs, ``z`` the
outputs, ``t`` the targets, ``δ⁽ˡ⁾ = ∂E/∂a⁽ˡ⁾`` per example; parameters keep the spec's
names inside ``W⁽ˡ⁾`` and ``b⁽ˡ⁾``. Matrices larger than :data:`MAX_SHOWN` rows or columns
are given by their shape only.

>>> from symbackprop import derive, load_spec
>>> from symbackprop.layers import layer_view
>>> view = layer_view(derive(load_spec("examples/we10-relu-one-step.yaml")))
>>> pmatrix(view.layers[0].weights, _Names(view).tex)
'\\begin{pmatrix} W^{(1)}_{11} & W^{(1)}_{12} \\\\ W^{(1)}_{21} & W^{(1)}_{22} \\end{pmatrix}'
"""
from __future__ import annotations

import re
from typing import Any, Callable

import sympy as sp

from ..derive import Derivation
from ..latex import latex_name, target_letter, to_latex
from ..layers import LayerNumbers, LayerView, layer_numbers, layer_view
from ..layers.maps import map_definition
from ..layers.view import Matrix
from .front import document_front, network_context
from .texmath import LINE_WIDTH, Digits, fmt, fmt_given, l2_tex, precision_words, visual_width
from .view import View, activation_text, per_example_tex

MAX_SHOWN = 8          # rows or columns up to which a matrix is written out
EXAMPLES_SHOWN = 3     # examples whose numbers are shown one by one


def pmatrix(m: Matrix, cell: Callable[[sp.Expr], str]) -> str:
    """``\\begin{pmatrix} … \\end{pmatrix}`` with each entry's LaTeX from ``cell`` (a 1×1 matrix as its entry)."""
    if m.shape == (1, 1):
        return cell(m[0, 0])
    rows = [" & ".join(cell(m[r, c]) for c in range(m.cols)) for r in range(m.rows)]
    return r"\begin{pmatrix} " + r" \\ ".join(rows) + r" \end{pmatrix}"


def _shown(m: Matrix | None) -> bool:
    return m is not None and m.rows <= MAX_SHOWN and m.cols <= MAX_SHOWN


_PMATRIX = re.compile(r"\\begin\{pmatrix\}(.*?)\\end\{pmatrix\}")


def tex_width(tex: str) -> float:
    """Estimated width in points of displayed ``tex``; a ``pmatrix`` counts its widest entry per column."""
    total = 0.0
    for match in _PMATRIX.finditer(tex):
        rows = [row.split(" & ") for row in match.group(1).split(r" \\ ")]
        columns = max(len(r) for r in rows)
        widths = [max(visual_width(r[c]) for r in rows if c < len(r)) for c in range(columns)]
        total += sum(widths) + 11.0 * (columns - 1) + 14.0
    return total + visual_width(_PMATRIX.sub("", tex))


def _fits(*parts: str) -> bool:
    return sum(tex_width(p) for p in parts) + 12.0 * (len(parts) - 1) <= LINE_WIDTH


def _if_fits(tex: str, *beside: str) -> str:
    """``tex`` when it fits on a displayed line beside ``beside``, else "" (the template omits it)."""
    return tex if _fits(tex, *beside) else ""


class _Names:
    """The lecture's vector names for every symbol of the view (the example index dropped)."""

    def __init__(self, view: LayerView):
        self.view = view
        top = len(view.layers)
        names: dict[sp.Symbol, str] = {}
        for ex in view.examples:
            names.update(self._vector(ex.inputs, "x"))
            names.update(self._vector(ex.targets, target_letter()))
            for l in range(1, top + 1):
                names.update(self._vector(ex.nets[l - 1], f"a^{{({l})}}"))
                names.update(self._vector(ex.outs[l - 1], "z" if l == top else f"h^{{({l})}}"))
                if view.layers[l - 1].mapped:  # the activations before the element-wise map
                    names.update(self._vector(ex.neuron_outs[l - 1], f"o^{{({l})}}"))
                names.update(self._vector(ex.deltas[l - 1], rf"\delta^{{({l})}}"))
        self.names = names

    @staticmethod
    def _vector(m: Matrix, base: str) -> dict[sp.Symbol, str]:
        if m.rows == 1:
            return {m[0]: base}
        return {m[i]: f"{base}_{{{i + 1}}}" for i in range(m.rows)}

    def tex(self, expr: sp.Expr) -> str:
        return to_latex(expr, self.names)


class _Numbers:
    """Formatting of the layer view's numbers: exact rationals as written, others rounded."""

    def __init__(self, numbers: LayerNumbers, digits: Digits):
        self.numbers, self.digits = numbers, digits

    def cell(self, value: sp.Expr) -> str:
        if value.is_Rational:
            return fmt_given(value, self.digits)
        return fmt(float(value), self.digits)

    def matrix(self, m: Matrix) -> str:
        return pmatrix(m, self.cell)

    def factor(self, m: Matrix) -> str:
        """A matrix inside a formula: a negative 1×1 in parentheses."""
        tex = self.matrix(m)
        return rf"\left({tex}\right)" if m.shape == (1, 1) and tex.startswith("-") else tex

    def product(self, *ms: Matrix) -> str:
        r"""``A B`` for matrices; ``a \cdot B`` when a factor is a single number."""
        joint = r" \cdot " if any(m.shape == (1, 1) for m in ms) else " "
        return joint.join(self.factor(m) for m in ms)


def _vector_name(l: int, top: int) -> str:
    return "z" if l == top else f"h^{{({l})}}"


def _input_name(l: int, top: int) -> str:
    return "x" if l == 1 else _vector_name(l - 1, top)


def of_example(name: str) -> str:
    """The name for example ``n``: ``x^{[n]}``, ``h^{(1)[n]}``, ``\\delta^{(2)[n]}`` (layers in
    parentheses, the example in brackets, as everywhere)."""
    return name.replace(")}", ")[n]}", 1) if ")}" in name else f"{name}^{{[n]}}"


def transposed(name: str) -> str:
    r"""``name^⊤`` (braced when the name has a superscript already: ``{h^{(1)}}^{\top}``)."""
    return f"{{{name}}}^{{\\top}}" if "^" in name else f"{name}^{{\\top}}"


def _layers(view: LayerView, names: _Names, nums: _Numbers | None) -> list[dict[str, Any]]:
    out = []
    for layer in view.layers:
        l = layer.number
        shape = rf"{layer.weights.rows} \times {layer.weights.cols}"
        rows = []
        for symbol, matrix, values in (("W", layer.weights, nums.numbers.weights if nums else None),
                                       ("b", layer.biases, nums.numbers.biases if nums else None)):
            if matrix is not None:
                steps = [pmatrix(matrix, names.tex)] + ([nums.matrix(values[l - 1])] if values else [])
                if symbol == "W" and l in view.derivation.spec.ties:  # tie: {W2: W1^T}, as the spec states it
                    source, transposed = view.derivation.spec.ties[l]
                    steps.insert(0, rf"\left(W^{{({source})}}\right)^{{\top}}" if transposed else f"W^{{({source})}}")
                rows.append(_step(f"{symbol}^{{({l})}}", steps, matrix.shape))
        out.append({"number": l, "shape": shape, "activation": activation_text(layer.activation),
                    "maps": _map_equations(view, layer, names),
                    "side_inputs": ", ".join(f"${latex_name(i)}$" for i in _side_inputs(view, layer)),
                    "units": ", ".join(f"${latex_name(u)}$" for u in layer.units), "rows": rows,
                    "has_bias": layer.biases is not None, "softmax": layer.softmax})
    return out


def _map_equations(view: LayerView, layer, names: _Names) -> list[str]:
    r"""``h^{(l)}_j = φ_j(o^{(l)}_j)`` for each mapped unit, in the vector names (empty without maps)."""
    if not layer.mapped:
        return []
    ex, i = view.examples[0], layer.number - 1
    network = view.derivation.network
    out = []
    for k, (unit, chain) in enumerate(zip(layer.units, layer.maps)):
        if chain:
            definition = map_definition(network, chain[-1])  # in the spec's names: masks as written
            for node in reversed(chain[:-1]):  # a chain written out in the unit's activation
                definition = definition.xreplace({sp.Symbol(node): map_definition(network, node)})
            definition = definition.xreplace({sp.Symbol(f"out_{unit}"): ex.neuron_outs[i][k]})  # → o⁽ˡ⁾ⱼ
            out.append(f"{names.tex(ex.outs[i][k])} = {latex_name(chain[-1])} = {names.tex(definition)}")
    return out


def _side_inputs(view: LayerView, layer) -> list[str]:
    """The inputs (masks) that ``layer``'s maps read, in the spec's order."""
    read = {s.name for chain in layer.maps for node in chain
            for s in map_definition(view.derivation.network, node).free_symbols}
    return [i for i in view.derivation.spec.inputs if i in read]


def _jacobians(view: LayerView, names: _Names) -> list[dict[str, str]]:
    """The symbolic Jacobians of one (generic) example, from the loss inwards."""
    ex = view.examples[0]
    top = len(view.layers)
    loss = _per_example(view)
    lhs = rf"\frac{{\partial {loss}}}{{\partial z}}"
    rows = [{"lhs": lhs, "rhs": _if_fits(pmatrix(ex.loss_gradient, names.tex), lhs) if _shown(ex.loss_gradient) else ""}]
    for layer in reversed(view.layers):
        l = layer.number
        jac = ex.activation_jacobians[l - 1]
        lhs = rf"\frac{{\partial {_vector_name(l, top)}}}{{\partial a^{{({l})}}}}"
        rows.append({"lhs": lhs, "rhs": _if_fits(pmatrix(jac, names.tex), lhs) if _shown(jac) else ""})
        rows.append({"lhs": rf"\frac{{\partial a^{{({l})}}}}{{\partial {_input_name(l, top)}}}",
                     "rhs": f"W^{{({l})}}"})
    return rows


def _per_example(view: LayerView) -> str:
    return "E^{[n]}" if view.derivation.spec.has_data else latex_name(view.derivation.loss_name)


def _chains(view: LayerView) -> list[dict[str, str]]:
    """``∂E/∂W⁽ˡ⁾`` as the product of Jacobians, for every layer."""
    top = len(view.layers)
    loss = _per_example(view)
    out = []
    for layer in view.layers:
        l = layer.number
        factors = [rf"\frac{{\partial {loss}}}{{\partial z}}",
                   rf"\frac{{\partial z}}{{\partial a^{{({top})}}}}"]
        for k in range(top - 1, l - 1, -1):
            factors.append(rf"\frac{{\partial a^{{({k + 1})}}}}{{\partial h^{{({k})}}}}")
            factors.append(rf"\frac{{\partial h^{{({k})}}}}{{\partial a^{{({k})}}}}")
        out.append({"lhs": rf"\frac{{\partial {loss}}}{{\partial W^{{({l})}}}}", "head": r" \cdot ".join(factors),
                    "last": rf"\frac{{\partial a^{{({l})}}}}{{\partial W^{{({l})}}}}",
                    "delta": rf"\delta^{{({l})\top}}", "outer": rf"\delta^{{({l})}}\, {transposed(_input_name(l, top))}"})
    return out


def _delta_rules(view: LayerView, names: _Names) -> list[dict[str, str]]:
    ex = view.examples[0]
    top = len(view.layers)
    rows = []
    for layer in reversed(view.layers):
        l = layer.number
        if l == top:
            rule = (r"\left(\frac{\partial z}{\partial a^{(%d)}}\right)^{\top} "
                    r"\left(\frac{\partial %s}{\partial z}\right)^{\top}" % (l, _per_example(view)))
        elif layer.softmax:
            rule = rf"\left(\frac{{\partial h^{{({l})}}}}{{\partial a^{{({l})}}}}\right)^{{\top}} W^{{({l + 1})\top}} \delta^{{({l + 1})}}"
        else:
            rule = rf"\left(W^{{({l + 1})\top}} \delta^{{({l + 1})}}\right) \odot f'\!\left(a^{{({l})}}\right)"
            if layer.mapped:  # h = φ(f(a)): the map's derivative at o = f(a) as well
                rule += rf" \odot \varphi'\!\left(o^{{({l})}}\right)"
        rows.append({"lhs": rf"\delta^{{({l})}}", "rule": rule,
                     "value": _if_fits(pmatrix(ex.delta_definitions[l - 1], names.tex), rf"\delta^{{({l})}}")
                     if _shown(ex.delta_definitions[l - 1]) else ""})
    return rows


def _penalty_tex(view: LayerView, i: int, symbol: str, l: int, shared: bool) -> str:
    """``+ 2λW⁽ˡ⁾`` (or ``+ R⁽ˡ⁾`` when a shared parameter carries its penalty in one entry only)."""
    penalty = (view.weight_regularisation if symbol == "W" else view.bias_regularisation)[i]
    if penalty is None:
        return ""
    if shared:
        return rf" + R^{{({l})}}"
    return rf" + 2 \cdot {l2_tex(view.derivation.spec)}\, {symbol}^{{({l})}}"


def _gradient_rules(view: LayerView, names: _Names) -> list[dict[str, str]]:
    top = len(view.layers)
    d = view.derivation
    shared = bool(view.shared())
    scale = r"\frac{1}{N} \sum_{p=1}^{N} " if d.spec.reduction == "mean" and d.spec.has_data else (
        r"\sum_{p=1}^{N} " if d.spec.has_data else "")
    each = of_example if d.spec.has_data else (lambda name: name)
    rows = []
    for i, layer in enumerate(view.layers):
        l = layer.number
        inp = _input_name(l, top)
        delta = rf"\delta^{{({l})}}"
        masked = any(e == 0 for e in layer.weights)
        outer = each(delta) + r"\, " + transposed(each(inp))
        rule = scale + outer
        if masked:
            rule = rf"\left({rule}\right) \odot M^{{({l})}}"
        reg = _penalty_tex(view, i, "W", l, shared)
        note = rf"\delta^{{({l})}}\, {transposed(inp)}"
        note = rf"\left({note}\right) \odot M^{{({l})}}" if masked else note
        note = note if d.spec.has_data or reg or masked else ""
        generic = Matrix(view.examples[0].deltas[i] * view.examples[0].layer_input(l).T).multiply_elementwise(
            layer.weights.applyfunc(lambda e: 0 if e == 0 else 1))
        lhs = rf"\frac{{\partial {latex_name(d.loss_name)}}}{{\partial W^{{({l})}}}}"
        rows.append({"lhs": lhs, "rule": rule + reg,
                     "value": _if_fits(pmatrix(generic, names.tex), lhs, note) if _shown(generic) else "",
                     "value_note": note})
        if layer.biases is not None:
            breg = _penalty_tex(view, i, "b", l, shared)
            rows.append({"lhs": rf"\frac{{\partial {latex_name(d.loss_name)}}}{{\partial b^{{({l})}}}}",
                         "rule": scale + each(delta) + breg, "value": "", "value_note": ""})
    return rows


def _too_large(lhs: str, shape: tuple[int, int]) -> dict[str, Any]:
    return {"lhs": lhs, "steps": [rf"\text{{a ${shape[0]} \times {shape[1]}$ matrix, too large to write out}}"],
            "inline": True}


def _step(lhs: str, steps: list[str], shape: tuple[int, int] | None = None) -> dict[str, Any]:
    """One numeric equation ``lhs = step = … = result`` on one line when it fits; an
    intermediate step too wide for a line of its own is left out, and a result too wide (or a
    matrix of more than :data:`MAX_SHOWN` rows or columns, ``shape``) is given by its shape."""
    if shape is not None and (max(shape) > MAX_SHOWN or not _fits(lhs, steps[-1])):
        return _too_large(lhs, shape)
    kept = [s for s in steps[:-1] if _fits(lhs, s)] + steps[-1:]
    return {"lhs": lhs, "steps": kept, "inline": _fits(lhs, *kept)}


def _example_numbers(view: LayerView, nums: _Numbers) -> list[dict[str, Any]]:
    """Forward and backward pass in numbers, for the first few examples."""
    n = nums.numbers
    top = len(view.layers)
    out = []
    for ex in n.examples[:EXAMPLES_SHOWN]:
        forward, outer = [], []
        backward = [_step(rf"\frac{{\partial {_per_example(view)}}}{{\partial z}}", [nums.matrix(ex.loss_gradient)],
                          ex.loss_gradient.shape)]
        for layer in view.layers:
            l, i = layer.number, layer.number - 1
            inp = ex.inputs if l == 1 else ex.outs[i - 1]
            product = nums.product(n.weights[i], inp)
            if layer.biases is not None:
                product += " + " + nums.factor(n.biases[i])
            forward.append(_step(f"a^{{({l})}}", [product, nums.matrix(ex.nets[i])], layer.weights.shape))
            act = r"\operatorname{softmax}" if all(a == "softmax" for a in layer.activations) else "f"
            if layer.mapped:  # o = f(a), then the element-wise map h = φ(o)
                forward.append(_step(f"o^{{({l})}}", [rf"{act}\!\left(a^{{({l})}}\right)",
                                                      nums.matrix(ex.neuron_outs[i])], ex.outs[i].shape))
                forward.append(_step(_vector_name(l, top), [rf"\varphi\!\left(o^{{({l})}}\right)",
                                                            nums.matrix(ex.outs[i])], ex.outs[i].shape))
                continue
            forward.append(_step(_vector_name(l, top), [rf"{act}\!\left(a^{{({l})}}\right)", nums.matrix(ex.outs[i])],
                                 ex.outs[i].shape))
        for layer in reversed(view.layers):
            l, i = layer.number, layer.number - 1
            jac = ex.activation_jacobians[i]
            diagonal = Matrix([jac[k, k] for k in range(jac.rows)])
            incoming = ex.loss_gradient.T if l == top else ex.back[i]
            if jac.is_diagonal():
                step = nums.factor(incoming) + r" \odot " + nums.factor(diagonal)
            else:
                step = nums.product(jac.T, incoming)
            backward.append(_step(rf"\delta^{{({l})}}", [step, nums.matrix(ex.deltas[i])], ex.deltas[i].shape))
        for layer in view.layers:
            l, i = layer.number, layer.number - 1
            inp = ex.inputs if l == 1 else ex.outs[i - 1]
            outer.append(_step(rf"\delta^{{({l})}}\, {transposed(_input_name(l, top))}",
                               [nums.product(ex.deltas[i], inp.T), nums.matrix(ex.outer[i])], layer.weights.shape))
        out.append({"example": ex.example, "forward": forward, "backward": backward, "outer": outer})
    return out


def _plain_update(view: LayerView) -> bool:
    """True when ``W⁺ = W − η·∂J/∂W`` holds entry by entry: no shared parameter, every one differentiated."""
    d = view.derivation
    return not view.shared() and set(d.gradients) >= set(d.spec.parameters)


def _totals(view: LayerView, nums: _Numbers) -> dict[str, Any]:
    n, d = nums.numbers, view.derivation
    loss = latex_name(d.loss_name)
    gradients, updates = [], []
    eta = fmt_given(d.spec.learning_rate, 6) if d.spec.learning_rate is not None else ""
    plain = _plain_update(view)
    for layer in view.layers:
        i, l = layer.number - 1, layer.number
        rows = [("W", layer.weights, n.weights, n.weight_gradients, n.updated_weights),
                ("b", layer.biases, n.biases, n.bias_gradients, n.updated_biases)]
        for symbol, matrix, old, grad, new in rows:
            if matrix is None:
                continue
            gradients.append(_step(rf"\frac{{\partial {loss}}}{{\partial {symbol}^{{({l})}}}}",
                                   [nums.matrix(grad[i])], matrix.shape))
            if new is not None:
                steps = [nums.matrix(old[i]) + rf" - {eta} " + (r"\cdot " if grad[i].shape == (1, 1) else "")
                         + nums.factor(grad[i])] if plain else []
                updates.append(_step(f"{symbol}^{{({l})+}}", steps + [nums.matrix(new[i])], matrix.shape))
    return {"loss": nums.cell(n.loss), "gradients": gradients, "updates": updates, "eta": eta,
            "plain_update": plain,
            "loss_after": nums.cell(n.loss_after) if n.loss_after is not None else "",
            "exact": n.exact, "shown": min(len(n.examples), EXAMPLES_SHOWN), "count": len(n.examples)}


_GENERIC_LOSS = {
    "half_sse": r"\frac{1}{2} \sum_{k} \left(t_{k} - z_{k}\right)^{2}",
    "sse": r"\sum_{k} \left(t_{k} - z_{k}\right)^{2}",
    "mse": r"\frac{1}{K} \sum_{k} \left(t_{k} - z_{k}\right)^{2}",
    "bce": r"-\sum_{k} \left[t_{k} \log z_{k} + \left(1 - t_{k}\right) \log\left(1 - z_{k}\right)\right]",
    "cross_entropy": r"-\sum_{k} t_{k} \log z_{k}",
}


def _per_example_loss_tex(view: LayerView, names: _Names) -> str:
    """The loss of one example in the vector names; written as a sum over ``k`` when too wide."""
    ex = view.examples[0]
    tex = per_example_tex(View(view.derivation), "" if ex.example is None else f"__{ex.example}", names)
    if _fits(_per_example(view), tex):
        return tex
    t = target_letter()
    if (view.derivation.spec.loss or "") not in _GENERIC_LOSS:
        return rf"\ell\left(z, {t}\right)"
    return _GENERIC_LOSS[view.derivation.spec.loss].replace("t_{k}", f"{t}_{{k}}")


def _ties(view: LayerView, nums: _Numbers | None) -> list[dict[str, str]]:
    """``tie: {W2: W1^T}``: the rule for the shared matrix's whole gradient, with its numbers."""
    d, out = view.derivation, []
    for l, (k, transposed) in sorted(d.spec.ties.items()):
        mine = rf"\frac{{\partial E}}{{\partial W^{{({l})}}}}"
        rule = rf"\left({mine}\right)^{{\top}}" if transposed else mine
        total = ""
        if nums is not None and d.numbers is not None:
            weights = view.layers[k - 1].weights
            g = d.numbers.gradients
            values = Matrix(weights.rows, weights.cols,
                            lambda i, j: sp.Float(g[str(weights[i, j])]) if str(weights[i, j]) in g else sp.Integer(0))
            total = nums.matrix(values)
        out.append({"tie": rf"W^{{({l})}} = " + (rf"\left(W^{{({k})}}\right)^{{\top}}" if transposed else f"W^{{({k})}}"),
                    "source": str(k), "rule": rf"\frac{{\partial E}}{{\partial W^{{({k})}}}} + {rule}", "total": total})
    return out


def matrix_context(d: Derivation, digits: Digits = 6, *, solution: bool = False) -> dict[str, Any]:
    """Everything ``matrix.tex.j2`` shows (``solution=True``: the numeric worked solution)."""
    view = layer_view(d)
    names = _Names(view)
    nums = None
    if solution or d.spec.has_values:
        nums = _Numbers(layer_numbers(view), digits)
    kind = "Worked solution in matrix form" if solution else "Backpropagation in matrix form"
    top = len(view.layers)
    remarks = []
    one_hot = [e for e in d.deltas.values() if e.simplified is not None]
    spec = d.spec
    return {
        "doc": document_front(d, kind),
        "network": network_context(View(d)),
        "solution": solution,
        "digits": digits,
        "precision": precision_words(digits),
        "layers": _layers(view, names, nums),
        "top": top,
        "loss": {"symbol": latex_name(d.loss_name), "per_example": _per_example(view),
                 "formula": _per_example_loss_tex(view, names),
                 "data": spec.has_data, "mean": spec.reduction == "mean",
                 "examples": d.network.examples,
                 "l2": l2_tex(spec),
                 "l2_biases": spec.l2_include_biases},
        "jacobians": _jacobians(view, names),
        "chains": _chains(view),
        "deltas": _delta_rules(view, names),
        "gradients": _gradient_rules(view, names),
        "numbers": {"examples": _example_numbers(view, nums), **_totals(view, nums)} if nums else None,
        "one_hot": one_hot[0].condition if one_hot else "",
        "shared": ", ".join(f"${latex_name(p)}$" for p in view.shared()),
        "ties": _ties(view, nums),
        "masked": any(e == 0 for layer in view.layers for e in layer.weights),
        "mapped": ", ".join(str(layer.number) for layer in view.layers if layer.mapped),

        "partial_wrt": not set(d.gradients) >= set(spec.parameters),
        "variant": d.is_variant,
        "check": f"{view.max_difference:.1e}",
        "remarks": remarks,
    }
