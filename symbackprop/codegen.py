"""Fast numeric gradient code generated from a symbolic derivation.

The derivation's forward definitions, cached δs and gradient formulas become straight-line
NumPy code, vectorised over a batch of examples (one array of shape ``(batch,)`` per input
and target), and rendered through ``templates/gradient_module.py.j2`` into a module that
needs only NumPy. :func:`numeric_function` compiles that same module in memory; ``symbackprop
code`` writes it to a file.

Two forms of code come out of one derivation:

- **matrix** — for layered networks (every neuron's sources are exactly the previous layer,
  unshared weights): one ``@`` per layer forward, ``δ = (Wᵀ δ_next) ⊙ f′`` backward and
  ``δ xᵀ`` for the weight gradients. ``f′`` is the derivation's edge label
  (``out(1 − out)`` for a sigmoid), the output δ and the loss are the derivation's own
  expressions printed once for the whole layer.
- **scalar** — for every other graph: one line per definition (forward, δ, gradient) with
  common subexpressions shared (``sympy.cse``).

Both give the same numbers (the tests check it). Numerics are overflow-safe: sigmoid is
computed without ``exp`` of a positive number, softplus as ``logaddexp(0, x)``, a softmax
group shifted by its maximum (``out_k = exp(net_k − m)/Σ_j exp(net_j − m)``), and ``log``
of a sigmoid or softmax output is fused into a log-sigmoid (``−softplus(−net)``) or
log-softmax (``net_k − m − log Σ_j exp(net_j − m)``), so BCE and cross-entropy stay finite
and accurate at ``|net| = 1000`` (see :func:`symbackprop.straightline.stable_forms`).

Only printer output of validated SymPy expressions and names checked to be identifiers
reach the code; no user text is compiled.

>>> from symbackprop import spec_from_mapping, derive
>>> spec = spec_from_mapping({"name": "t", "inputs": ["x"],
...     "neurons": {"o": {"from": {"x": "w"}, "activation": "identity"}},
...     "outputs": ["o"], "loss": "half_sse"})
>>> f = numeric_function(derive(spec))
>>> f({"x": [1.0, 2.0]}, {"w": 0.5}, {"o": [1.0, 1.0]})   # ½Σ(t − wx)², Σ(wx − t)x
(0.125, {'w': -0.5})
"""
from __future__ import annotations

import builtins
import keyword
import pprint
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from .derive import Derivation, derive
from .functions import leaky_relu, relu, sigmoid, softplus
from .straightline import dependency_order, stable_forms
from .templating import render

__all__ = ["numeric_function", "NumericFunction", "module_source", "per_example_derivation",
           "layered_structure", "FORMS"]

FORMS = ("auto", "matrix", "scalar")
CSE_LIMIT = 200_000
"""Largest scalar program (total operations) that is passed through ``sympy.cse``."""

_RESERVED = set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins)) | {"numpy", "functools"}


# ---------------------------------------------------------------- printing

class CodePrinter(NumPyPrinter):
    """NumPy printer for generated gradient code: stable helpers, ``numpy.where`` for
    two-branch piecewise functions, and nothing taken from the functions' own ``_numpycode``
    (so the helpers defined in the generated module are used)."""

    def __init__(self, settings: dict | None = None):
        super().__init__(settings)
        self.printmethod = "_symbackprop_gradient_code"

    def _print_sigmoid(self, expr: sigmoid) -> str:
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_softplus(self, expr: softplus) -> str:
        return f"numpy.logaddexp(0, {self._print(expr.args[0])})"

    def _print_relu(self, expr: relu) -> str:
        return f"numpy.maximum({self._print(expr.args[0])}, 0)"

    def _print_leaky_relu(self, expr: leaky_relu) -> str:
        x, alpha = (self._print(a) for a in expr.args)
        return f"numpy.where(({x}) > 0, {x}, ({alpha})*({x}))"

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        x, h0 = (self._print(a) for a in expr.args)
        return f"numpy.heaviside({x}, {h0})"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        if expr.args[-1].cond is not sp.true:
            return super()._print_Piecewise(expr)
        code = f"({self._print(expr.args[-1].expr)})"
        for piece in reversed(expr.args[:-1]):
            code = f"numpy.where({self._print(piece.cond)}, {self._print(piece.expr)}, {code})"
        return code


# ---------------------------------------------------------------- names

class Namer:
    """Python names for symbols: the symbol's own name where it is a safe identifier."""

    def __init__(self) -> None:
        self.taken = set(_RESERVED)
        self.names: dict[sp.Symbol, str] = {}

    def __call__(self, symbol: sp.Symbol) -> str:
        if symbol not in self.names:
            text = str(symbol)
            base = text if text.isidentifier() and not text.startswith("_") else "v"
            name, i = base, 1
            while name in self.taken:
                name, i = f"{base}_{i}", i + 1
            self.taken.add(name)
            self.names[symbol] = name
        return self.names[symbol]

    def mapping(self, symbols) -> dict[sp.Symbol, sp.Symbol]:
        """Symbol → symbol carrying its Python name (only where the name differs)."""
        out = {}
        for s in symbols:
            name = self(s)
            if name != str(s):
                out[s] = sp.Symbol(name)
        return out


# ---------------------------------------------------------------- the per-example derivation

def per_example_derivation(derivation: Derivation) -> Derivation:
    """The derivation of one example's loss by cached backprop: no data copies, no
    regularisation, the true gradient (not the lecture variant). Batches and the
    regularisation are added by the generated code."""
    spec = derivation.spec
    if (not spec.has_data and spec.l2 is None and spec.backprop_weights == "old"
            and derivation.method == "backprop"):
        return derivation
    core = replace(spec, has_data=False, examples=(), params_values=None, l2=None,
                   l2_include_biases=False, reduction="sum", backprop_weights="old", learning_rate=None)
    return derive(core, "backprop", expansion_limit=derivation.expansion_limit)


def _regularisation(spec) -> sp.Expr:
    if spec.l2 is None:
        return sp.Integer(0)
    names = list(spec.weights) + (list(spec.biases) if spec.l2_include_biases else [])
    return spec.l2 * sp.Add(*[sp.Symbol(p) ** 2 for p in names])


# ---------------------------------------------------------------- stable forms

@dataclass
class _Stable:
    """Stable rewrites of one per-example derivation."""

    definitions: list[tuple[sp.Symbol, sp.Expr]]   # forward (incl. loss), softmax max/sum symbols
    deltas: list[tuple[sp.Symbol, sp.Expr]]
    gradients: dict[str, sp.Expr]
    softmax: tuple[sp.Symbol, sp.Symbol] | None      # (max, shifted sum) of the one softmax group


def _stable(core: Derivation) -> _Stable:
    definitions, fix = stable_forms(core.network.definitions())
    names = {str(s): s for s, _ in definitions}
    softmax = (names["_max0"], names["_sum0"]) if "_max0" in names and "_max1" not in names else None
    deltas = [(d.symbol, fix(d.expression)) for d in core.deltas.values()]
    gradients = {w: fix(e.expression) for w, e in core.gradients.items()}
    return _Stable(definitions, deltas, gradients, softmax)


# ---------------------------------------------------------------- layered structure

@dataclass(frozen=True)
class Layer:
    """One layer of a layered network: its neurons (rows) and parameter names."""

    neurons: tuple[str, ...]
    weights: tuple[tuple[str, ...], ...]   # weights[j][i]: into neuron j from source i
    biases: tuple[str, ...] | None


def layered_structure(spec) -> list[Layer] | None:
    """The layers of a strictly layered network, or ``None`` for a general graph.

    Layered: every neuron's sources are exactly the previous layer (the inputs first), the
    last layer is the outputs, one activation per layer, every weight and bias used once.
    """
    if spec.nodes or spec.objective is not None or not spec.neurons or not spec.inputs:
        return None
    if set(spec.wrt) - set(spec.parameters):
        return None
    remaining = dict(spec.neurons)
    previous: tuple[str, ...] = tuple(spec.inputs)
    layers: list[Layer] = []
    used: set[str] = set()
    while remaining:
        members = [n for n, nr in remaining.items()
                   if len(nr.sources) == len(previous) and {s for s, _ in nr.sources} == set(previous)]
        if not members:
            return None
        if len(members) == len(remaining):  # the output layer: in the order of the targets
            if set(members) != set(spec.outputs):
                return None
            members = list(spec.outputs)
        kinds = {(remaining[n].activation, remaining[n].alpha) for n in members}
        has_bias = {remaining[n].bias is not None for n in members}
        if len(kinds) != 1 or len(has_bias) != 1:
            return None
        weights = []
        for n in members:
            source_param = dict(remaining[n].sources)
            weights.append(tuple(source_param[s] for s in previous))
        biases = tuple(remaining[n].bias for n in members) if has_bias == {True} else None
        params = [p for row in weights for p in row] + list(biases or ())
        if len(set(params)) != len(params) or used & set(params):
            return None
        used |= set(params)
        layers.append(Layer(tuple(members), tuple(weights), biases))
        for n in members:
            del remaining[n]
        previous = tuple(members)
    if "softmax" in {spec.neurons[n].activation for layer in layers[:-1] for n in layer.neurons}:
        return None
    return layers


# ---------------------------------------------------------------- code assembly

@dataclass
class _Code:
    """The generated function bodies and what the module needs to know about them."""

    form: str
    forward_names: list[str]          # the spec-level names of what _forward returns
    forward_body: list[str]
    loss_body: list[str]
    gradient_body: list[str]
    constants: list[str]


def _prune(definitions: Sequence[tuple[sp.Symbol, sp.Expr]], wanted) -> list[tuple[sp.Symbol, sp.Expr]]:
    """Only the definitions ``wanted`` depends on, in their order."""
    needed = set(wanted)
    kept = []
    for sym, expr in reversed(definitions):
        if sym in needed:
            kept.append((sym, expr))
            needed |= expr.free_symbols
    return kept[::-1]


def _batched(definitions, leaves_batched: set[sp.Symbol]) -> set[sp.Symbol]:
    """Symbols whose value depends on an input or target (one value per example)."""
    batched = set(leaves_batched)
    for sym, expr in definitions:
        if expr.free_symbols & batched:
            batched.add(sym)
    return batched


def _with_cse(definitions: list[tuple[sp.Symbol, sp.Expr]], use_cse: bool,
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


def _sum_code(expr: sp.Expr, batched: set[sp.Symbol], code: Callable[[sp.Expr], str]) -> str:
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


class _Generator:
    """Builds the bodies of ``_forward``, ``_loss`` and ``_gradient`` for one derivation."""

    def __init__(self, derivation: Derivation, *, use_cse: bool = True):
        self.derivation = derivation
        self.spec = derivation.spec
        self.core = per_example_derivation(derivation)
        self.stable = _stable(self.core)
        self.printer = CodePrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
        self.namer = Namer()
        self.use_cse = use_cse
        net = self.core.network
        g = net.graph
        self.g = g
        self.inputs = list(self.spec.inputs)
        self.params = list(self.spec.parameters)
        self.outputs = list(self.spec.outputs)
        parameters = set(self.params)
        self.wrt_params = [w for w in self.spec.wrt if w in parameters]
        self.wrt_inputs = [w for w in self.spec.wrt if w not in parameters]
        self.input_syms = [g.nodes[n]["symbol"] for n in self.inputs]
        self.param_syms = [g.nodes[p]["symbol"] for p in self.params]
        self.target_syms = [g.nodes[f"t_{o}"]["symbol"] for o in self.outputs]
        self.loss_sym = g.nodes[net.root]["symbol"]
        self.regularisation = _regularisation(self.spec)
        self.regularised = {s.name for s in self.regularisation.free_symbols}
        self.mean = self.spec.reduction == "mean"
        # reserve the names of every symbol up front, in a fixed order
        for s in self.input_syms + self.param_syms + self.target_syms:
            self.namer(s)
        for s, _ in self.stable.definitions + self.stable.deltas:
            if not str(s).startswith("_"):
                self.namer(s)

    # -- helpers
    def code(self, expr: sp.Expr) -> str:
        renames = self.namer.mapping(s for s in expr.free_symbols if not str(s).startswith("_"))
        return self.printer.doprint(expr.xreplace(renames) if renames else expr)

    def name(self, symbol: sp.Symbol) -> str:
        return str(symbol) if str(symbol).startswith("_") else self.namer(symbol)

    def unpack(self, *, targets: bool) -> list[str]:
        lines = [f"{self.namer(s)} = _X[{i}]" for i, s in enumerate(self.input_syms)]
        lines += [f"{self.namer(s)} = _theta[{i}]" for i, s in enumerate(self.param_syms)]
        if targets:
            lines += [f"{self.namer(s)} = _T[{i}]" for i, s in enumerate(self.target_syms)]
        return lines

    def assign(self, definitions) -> list[str]:
        return [f"{self.name(s)} = {self.code(e)}" for s, e in definitions]

    def forward_symbols(self) -> list[tuple[str, sp.Symbol]]:
        """(spec-level name, symbol) of every net, out and node value."""
        out = []
        for node in self.core.network.order:
            attrs = self.g.nodes[node]
            if attrs["kind"] in ("net", "out", "node"):
                out.append((node, attrs["symbol"]))
        return out

    def total_loss(self, summed: str) -> list[str]:
        """``_loss = (1/B)·Σ_batch E + R`` from the code of ``Σ_batch E``."""
        line = f"_loss = {'_scale*' if self.mean else ''}{summed}"
        if self.regularisation != 0:
            line += f" + {self.code(self.regularisation)}"
        return [line]

    def reg_gradient(self, w: str) -> sp.Expr:
        """``∂R/∂w`` of the regularisation ``R = λ Σ p²`` (term by term: linear in the parameters)."""
        if self.regularisation == 0 or w not in self.regularised:
            return sp.Integer(0)
        p = sp.Symbol(w)
        return sp.diff(self.spec.l2 * p ** 2, p)

    # -- scalar form
    def scalar(self) -> _Code:
        st = self.stable
        leaves_batched = set(self.input_syms) | set(self.target_syms)
        fsyms = self.forward_symbols()
        head = ["_B = _X.shape[1]"] + (["_scale = 1.0/_B"] if self.mean else [])

        fw = _prune(st.definitions, [s for _, s in fsyms])
        forward_body = self.unpack(targets=False) + self.assign(fw)
        forward_body.append("return (" + "".join(f"{self.name(s)}, " for _, s in fsyms) + ")")

        all_defs = list(st.definitions)
        loss_defs = _prune(all_defs, [self.loss_sym])
        batched = _batched(all_defs + st.deltas, leaves_batched)
        loss_body = head + self.unpack(targets=True) + self.assign(loss_defs)
        loss_body += self.total_loss(self._loss_sum(batched))
        loss_body.append("return _loss")

        grad_syms = {w: sp.Symbol(f"_grad_{i}") for i, w in enumerate(self.wrt_params + self.wrt_inputs)}
        placeholders = set(grad_syms.values())
        program = all_defs + st.deltas + [(grad_syms[w], e) for w, e in st.gradients.items()]
        program = _prune(program, [self.loss_sym] + list(grad_syms.values()))
        forward_syms = {s for s, _ in all_defs}
        n_forward = sum(1 for s, _ in program if s in forward_syms)
        # the forward definitions are already one operation per quantity; the backward
        # pass (δs, gradients) shares its common subexpressions
        program = program[:n_forward] + _with_cse(program[n_forward:], self.use_cse, placeholders)
        inlined = {}
        body_defs = []
        for s, e in program:
            if s in placeholders:
                inlined[s] = e
            else:
                body_defs.append((s, e))
        batched = _batched(body_defs + list(inlined.items()), leaves_batched)
        gradient_body = head + self.unpack(targets=True) + self.assign(body_defs)
        gradient_body += self.total_loss(self._loss_sum(batched))
        gradient_body.append(f"_g = numpy.empty({len(self.wrt_params)})")
        for i, w in enumerate(self.wrt_params):
            code = _sum_code(inlined[grad_syms[w]], batched, self.code)
            line = f"_g[{i}] = {'_scale*' if self.mean else ''}{code}"
            reg = self.reg_gradient(w)
            if reg != 0:
                line += f" + {self.code(reg)}"
            gradient_body.append(line)
        if self.wrt_inputs:
            gradient_body.append(f"_gx = numpy.zeros(({len(self.wrt_inputs)}, _B))")
            for i, x in enumerate(self.wrt_inputs):
                expr = inlined[grad_syms[x]]
                gradient_body.append(f"_gx[{i}] = {'_scale*' if self.mean else ''}({self.code(expr)})")
            gradient_body.append("return _loss, _g, _gx")
        else:
            gradient_body.append("return _loss, _g, None")
        return _Code("scalar", [n for n, _ in fsyms], forward_body, loss_body, gradient_body, [])

    def _loss_sum(self, batched: set[sp.Symbol]) -> str:
        name = self.namer(self.loss_sym)
        return f"numpy.sum({name})" if self.loss_sym in batched else f"_B*{name}"

    # -- matrix form
    def matrix(self, layers: list[Layer]) -> _Code | None:
        spec, g, st = self.spec, self.g, self.stable
        index = {p: i for i, p in enumerate(self.params)}
        defs = dict(st.definitions)
        constants: list[str] = []
        unpack: list[str] = []
        L = len(layers)

        def param_block(kind: str, l: int, names: np.ndarray) -> str:
            """Code for a view (contiguous) or a gather of parameters; records index constants."""
            idx = np.vectorize(index.__getitem__, otypes=[int])(names)
            flat = idx.ravel()
            shape = idx.shape
            if np.array_equal(flat, np.arange(flat[0], flat[0] + flat.size)):
                sl = f"{flat[0]}:{flat[0] + flat.size}"
                return f"[{sl}]" + (f".reshape({shape[0]}, {shape[1]})" if len(shape) == 2 else "[:, None]")
            const = f"_I{kind}{l}"
            constants.append(f"{const} = numpy.array({idx.tolist()!r})")
            return f"[{const}]" + ("" if len(shape) == 2 else "[:, None]")

        blocks = []
        for l, layer in enumerate(layers, start=1):
            w_block = param_block("W", l, np.array(layer.weights, dtype=object))
            unpack.append(f"_W{l} = _theta{w_block}")
            b_block = None
            if layer.biases:
                b_block = param_block("b", l, np.array(layer.biases, dtype=object))
                unpack.append(f"_b{l} = _theta{b_block}")
            blocks.append((w_block, b_block))

        A = [sp.Symbol("_X")] + [sp.Symbol(f"_A{l}") for l in range(1, L + 1)]
        N = [None] + [sp.Symbol(f"_N{l}") for l in range(1, L + 1)]
        T = sp.Symbol("_T")
        forward_lines: list[str] = []
        for l, layer in enumerate(layers, start=1):
            forward_lines.append(f"_N{l} = _W{l} @ {A[l - 1]}")
            if layer.biases:
                forward_lines.append(f"_N{l} += _b{l}")
            if spec.neurons[layer.neurons[0]].activation == "softmax":
                if st.softmax is None:
                    return None
                m, s = st.softmax  # max-shifted, as the scalar definitions are
                forward_lines += [f"{m} = numpy.max(_N{l}, axis=0)", f"_A{l} = numpy.exp(_N{l} - {m})",
                                  f"{s} = numpy.sum(_A{l}, axis=0)", f"_A{l} /= {s}"]
                continue
            out_exprs = []
            for n in layer.neurons:
                net_s, out_s = g.nodes[f"net_{n}"]["symbol"], g.nodes[f"out_{n}"]["symbol"]
                out_exprs.append(defs[out_s].xreplace({net_s: N[l], out_s: A[l]}))
            if len(set(out_exprs)) != 1:
                return None
            forward_lines.append(f"_A{l} = {self.printer.doprint(out_exprs[0])}")

        # the output layer: loss and δ, vectorised over the outputs when they are uniform
        last = layers[-1].neurons
        out_syms = [g.nodes[f"out_{n}"]["symbol"] for n in last]
        net_syms = [g.nodes[f"net_{n}"]["symbol"] for n in last]
        outputs_head: list[str] = []
        sum_t = sp.Symbol("_sumT")
        vectoriser = _OutputVectoriser(out_syms, net_syms, self.target_syms, A[L], N[L], T, sum_t)
        loss_expr = defs[self.loss_sym]
        loss_vec = vectoriser.loss(loss_expr)
        stable_deltas = dict(st.deltas)
        delta_exprs = [stable_deltas[self.core.deltas[n].symbol] for n in last]
        delta_vec = vectoriser.deltas(delta_exprs)
        rows_needed = loss_vec is None or delta_vec is None
        if rows_needed:
            for k, (o, nt, t) in enumerate(zip(out_syms, net_syms, self.target_syms)):
                outputs_head += [f"{self.namer(o)} = _A{L}[{k}]", f"{self.namer(nt)} = _N{L}[{k}]",
                                 f"{self.namer(t)} = _T[{k}]"]
        if vectoriser.used_sum_t:
            outputs_head.insert(0, "_sumT = numpy.sum(_T, axis=0)")
        if loss_vec is not None:
            loss_line = f"_E = {self.printer.doprint(loss_vec)}"
        else:
            loss_line = f"_E = {self.code(loss_expr)}"
        reg_lines: list[str] = []
        loss_total = [loss_line, f"_loss = {'_scale*' if self.mean else ''}numpy.sum(_E)"]
        if self.regularisation != 0:
            regularised = sorted((index[s.name] for s in self.regularisation.free_symbols if s.name in index))
            coefficients = {self.reg_gradient(self.params[i]) / self.param_syms[i] for i in regularised}
            if len(coefficients) != 1 or coefficients.pop() != 2 * spec.l2:
                return None
            block = param_block("R", 0, np.array([self.params[i] for i in regularised], dtype=object))
            block = block.removesuffix("[:, None]")
            loss_total += [f"_R = _theta{block}", f"_loss += ({self.printer.doprint(spec.l2)})*numpy.dot(_R, _R)"]
            reg_lines.append(f"_g{block} += ({self.printer.doprint(2 * spec.l2)})*_R")
        head = ["_B = _X.shape[1]"] + (["_scale = 1.0/_B"] if self.mean else [])
        # forward
        fsyms = []
        fw_return = []
        for l, layer in enumerate(layers, start=1):
            for k, n in enumerate(layer.neurons):
                fsyms.append(f"net_{n}")
                fw_return.append(f"_N{l}[{k}]")
            for k, n in enumerate(layer.neurons):
                fsyms.append(f"out_{n}")
                fw_return.append(f"_A{l}[{k}]")
        forward_body = unpack + forward_lines + ["return (" + "".join(f"{r}, " for r in fw_return) + ")"]
        loss_body = head + unpack + forward_lines + outputs_head + loss_total + ["return _loss"]

        # backward
        back: list[str] = []
        scale = "_scale*" if self.mean else ""
        if delta_vec is not None:
            back.append(f"_D{L} = {scale}({self.printer.doprint(delta_vec)})" if delta_vec.free_symbols
                        else f"_D{L} = numpy.full(_N{L}.shape, {scale}({self.printer.doprint(delta_vec)}))")
        else:
            back.append(f"_D{L} = numpy.empty_like(_N{L})")
            back += [f"_D{L}[{k}] = {scale}({self.code(e)})" for k, e in enumerate(delta_exprs)]
        back.append(f"_g = numpy.empty({len(self.params)})")
        for l in range(L, 0, -1):
            w_block, b_block = blocks[l - 1]
            if "[_I" in w_block:
                back.append(f"_g{w_block.removesuffix('[:, None]')} = _D{l} @ {A[l - 1]}.T")
            else:
                back.append(f"numpy.matmul(_D{l}, {A[l - 1]}.T, out=_g{w_block})")
            if b_block is not None:
                back.append(f"_g{b_block.removesuffix('[:, None]')} = numpy.sum(_D{l}, axis=1)")
            if l > 1:
                label = self._layer_label(layers[l - 2], A[l - 1], N[l - 1])
                if label is None:
                    return None
                back.append(f"_D{l - 1} = _W{l}.T @ _D{l}")
                factors = label.args if isinstance(label, sp.Mul) else (label,)
                for factor in factors:
                    if factor != 1:
                        back.append(f"_D{l - 1} *= {self.printer.doprint(factor)}")
        back += reg_lines
        if self.wrt_params == self.params:
            back.append("return _loss, _g, None")
        else:
            constants.append(f"_WRT = numpy.array({[index[w] for w in self.wrt_params]!r}, dtype=int)")
            back.append("return _loss, _g[_WRT], None")
        gradient_body = head + unpack + forward_lines + outputs_head + loss_total + back
        return _Code("matrix", fsyms, forward_body, loss_body, gradient_body, constants)

    def _layer_label(self, layer: Layer, A_l: sp.Symbol, N_l: sp.Symbol) -> sp.Expr | None:
        """The layer's ``∂out/∂net`` edge label (the derivation's own), in layer matrices."""
        labels = set()
        for n in layer.neurons:
            net_id, out_id = f"net_{n}", f"out_{n}"
            label = self.g.edges[net_id, out_id]["derivative"]
            labels.add(label.xreplace({self.g.nodes[net_id]["symbol"]: N_l, self.g.nodes[out_id]["symbol"]: A_l}))
        if len(labels) != 1:
            return None
        label = labels.pop()
        return label if label.free_symbols <= {A_l, N_l} else None

    def generate(self, form: str = "auto") -> _Code:
        if form not in FORMS:
            raise ValueError(f"form must be one of {', '.join(FORMS)}")
        if form in ("auto", "matrix"):
            layers = layered_structure(self.spec)
            code = self.matrix(layers) if layers else None
            if code is not None:
                return code
            if form == "matrix":
                raise ValueError(f"{self.spec.name}: not a layered network; only the scalar form applies")
        return self.scalar()


class _OutputVectoriser:
    """Print output-layer expressions once for the whole layer when every output's
    expression is the first one's with the indices swapped."""

    def __init__(self, outs, nets, targets, A, N, T, sum_t):
        self.outs, self.nets, self.targets = list(outs), list(nets), list(targets)
        self.A, self.N, self.T, self.sum_t = A, N, T, sum_t
        self.specific = set(self.outs) | set(self.nets) | set(self.targets)
        self.target_sum = sp.Add(*self.targets)
        self.used_sum_t = False

    def _generic(self, expr: sp.Expr, k: int) -> sp.Expr | None:
        if len(self.targets) > 1:
            expr = expr.xreplace({self.target_sum: self.sum_t})
        expr = expr.xreplace({self.outs[k]: self.A, self.nets[k]: self.N, self.targets[k]: self.T})
        return None if expr.free_symbols & self.specific else expr

    def deltas(self, exprs: list[sp.Expr]) -> sp.Expr | None:
        generic = [self._generic(e, k) for k, e in enumerate(exprs)]
        if any(e is None for e in generic) or len(set(generic)) != 1:
            return None
        self.used_sum_t |= self.sum_t in generic[0].free_symbols
        return generic[0]

    def loss(self, expr: sp.Expr) -> sp.Expr | None:
        """``E = c·Σ_k ℓ(out_k, t_k)`` → ``c·ℓ(A, T)`` (summed over the rows by the caller)."""
        coeff, rest = expr.as_coeff_Mul()
        terms = rest.args if isinstance(rest, sp.Add) else (rest,)
        per_output: dict[int, list[sp.Expr]] = {}
        position = {s: k for k, group in enumerate(zip(self.outs, self.nets, self.targets)) for s in group}
        for term in terms:
            ks = {position[s] for s in term.free_symbols if s in position}
            if len(ks) != 1:
                return None
            per_output.setdefault(ks.pop(), []).append(term)
        if sorted(per_output) != list(range(len(self.outs))):
            return None
        generic = self.deltas([sp.Add(*per_output[k]) for k in range(len(self.outs))])
        return None if generic is None else coeff * generic


# ---------------------------------------------------------------- the module

def _describe_params(gen: _Generator, layers: list[Layer] | None) -> list[str]:
    """One docstring line per parameter, or per layer matrix for large layered networks."""
    spec = gen.spec
    if len(gen.params) <= 60 or not layers:
        lines = []
        for n, neuron in spec.neurons.items():
            for src, p in neuron.sources:
                lines.append(f"{p}: weight {src} -> {n}")
            if neuron.bias:
                lines.append(f"{neuron.bias}: bias of {n}")
        seen, out = set(), []
        for line in lines:
            p = line.split(":")[0]
            if p not in seen:
                seen.add(p)
                out.append(line)
            else:
                out = [x if not x.startswith(p + ":") else x + " (shared)" for x in out]
        out += [f"{p}: parameter" for p in gen.params if p not in seen]
        return out
    lines = []
    for l, layer in enumerate(layers, start=1):
        rows, cols = len(layer.weights), len(layer.weights[0])
        lines.append(f"{layer.weights[0][0]} ... {layer.weights[-1][-1]}: W{l} ({rows}x{cols}), "
                     f"row j = target neuron {layer.neurons[0]}..{layer.neurons[-1]}, column i = source")
        if layer.biases:
            lines.append(f"{layer.biases[0]} ... {layer.biases[-1]}: biases of layer {l}")
    return lines


def _example(spec) -> dict | None:
    if not spec.has_values:
        return None
    return {
        "batch": spec.has_data,
        "inputs": {n: [float(ex.inputs[n]) for ex in spec.examples] for n in spec.inputs},
        "params": {p: float(v) for p, v in spec.params_values.items()},
        "targets": {o: [float(ex.targets[o]) for ex in spec.examples] for o in spec.outputs},
    }


def _doc(text: object) -> str:
    """Text made safe inside a triple-quoted docstring: no control characters, no quotes or
    backslashes that could end or bend the string."""
    text = "".join(ch for ch in str(text) if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))
    return text.replace("\\", "\\\\").replace('"', '\\"')


def module_source(derivation: Derivation, *, form: str = "auto", use_cse: bool = True,
                  source_file: str | None = None) -> str:
    """The standalone Python module (NumPy only) for ``derivation``: ``forward``, ``loss``,
    ``gradients``, ``step`` and a ``main`` that prints the spec's example numbers."""
    gen = _Generator(derivation, use_cse=use_cse)
    code = gen.generate(form)
    spec = gen.spec
    layers = layered_structure(spec) if code.form == "matrix" else None
    loss_symbol = gen.core.loss_name
    reduction = spec.reduction if spec.has_data else "sum"
    reduction_text = ("averaged over the examples of a batch (reduction: mean)" if reduction == "mean"
                      else "summed over the examples of a batch")
    if gen.regularisation != 0:
        reduction_text += f", plus the regularisation {gen.regularisation} (once)"
    param_lines = _describe_params(gen, layers)
    forward = []
    g = gen.core.network.graph
    for node in code.forward_names:
        attrs = g.nodes[node]
        forward.append((attrs["owner"], attrs["kind"]) if attrs["kind"] in ("net", "out")
                       else (attrs["label"], "value"))
    doc_lines = [
        f"{spec.title or spec.name}: gradient code generated by symbackprop.",
        "",
        f"Generated from {source_file or spec.file or spec.name} by `symbackprop code`; regenerate it rather",
        "than edit it. Needs only NumPy. Form: " + (
            "matrix (one matrix product per layer forward, delta x^T for the weight gradients)."
            if code.form == "matrix" else "scalar (one line per definition, shared subexpressions)."),
        "",
        f"Loss of one example: {loss_symbol} = {gen.core.loss_definition}",
        f"Over a batch: {reduction_text}.",
    ]
    if spec.backprop_weights == "updated":
        doc_lines += ["", "The spec asks for the lecture variant (backprop_weights: updated), which is not",
                      "the gradient; this module computes the true gradient."]
    doc_lines += ["", f"Inputs (numbers or arrays of shape (batch,)): {', '.join(gen.inputs) or 'none'}",
                  "Parameters:"] + [f"    {line}" for line in param_lines]
    doc_lines += [f"Targets (by output name): {', '.join(gen.outputs) or 'none'}",
                  f"Differentiated with respect to: {', '.join(spec.wrt)}", "",
                  "Use: loss_value, grads = gradients(inputs, params, targets); params = step(params, grads, eta).",
                  "Run this file to print the spec's example (add --json for JSON)."]
    return render(
        "gradient_module.py.j2",
        doc=_doc("\n".join(doc_lines)),
        name=repr(spec.name), form=repr(code.form), inputs=repr(tuple(gen.inputs)),
        params=repr(tuple(gen.params)), outputs=repr(tuple(gen.outputs)), wrt=repr(tuple(spec.wrt)),
        wrt_params=repr(tuple(gen.wrt_params)), wrt_inputs=repr(tuple(gen.wrt_inputs)),
        loss_symbol=repr(loss_symbol), loss_symbol_text=_doc(loss_symbol), reduction=repr(reduction),
        learning_rate=repr(float(spec.learning_rate)) if spec.learning_rate is not None else "None",
        forward=pprint.pformat(tuple(forward), width=96),
        example=pprint.pformat(_example(spec), width=96, sort_dicts=False),
        inputs_text=_doc(", ".join(gen.inputs) or "(none)"), outputs_text=_doc(", ".join(gen.outputs) or "none"),
        loss_text=_doc(gen.core.loss_definition), reduction_text=_doc(reduction_text),
        param_lines=[_doc(line) for line in param_lines],
        constants=code.constants, forward_body=code.forward_body, loss_body=code.loss_body,
        gradient_body=code.gradient_body,
    )


# ---------------------------------------------------------------- the compiled function

class NumericFunction:
    """``f(inputs, params, targets) -> (loss, grads)`` compiled from a derivation.

    ``inputs`` maps each input name to a number or an array of shape ``(batch,)``,
    ``params`` each parameter name to a number, ``targets`` each output name to a number or
    array. ``loss`` is the spec's loss summed (or averaged, with ``reduction: mean``) over
    the batch plus the regularisation; ``grads`` maps every ``wrt`` name to ``∂loss/∂name``
    (an array for inputs). :meth:`packed` is the same on arrays, without dictionaries.
    """

    def __init__(self, source: str, namespace: dict[str, Any]):
        self.source = source
        self._ns = namespace
        self.form: str = namespace["FORM"]
        self.inputs: tuple[str, ...] = namespace["INPUTS"]
        self.params: tuple[str, ...] = namespace["PARAMETERS"]
        self.outputs: tuple[str, ...] = namespace["OUTPUTS"]
        self.wrt: tuple[str, ...] = namespace["WRT"]
        self.wrt_params: tuple[str, ...] = namespace["WRT_PARAMETERS"]
        self.reduction: str = namespace["REDUCTION"]
        self.loss_symbol: str = namespace["LOSS_SYMBOL"]
        self._gradient: Callable = namespace["_gradient"]

    def __call__(self, inputs: Mapping[str, Any], params: Mapping[str, float],
                 targets: Mapping[str, Any] | None = None) -> tuple[float, dict[str, Any]]:
        return self._ns["gradients"](inputs, params, targets or {})

    def loss(self, inputs, params, targets=None) -> float:
        return self._ns["loss"](inputs, params, targets or {})

    def forward(self, inputs, params) -> dict[str, Any]:
        return self._ns["forward"](inputs, params)

    def packed(self, X: np.ndarray, theta: np.ndarray, T: np.ndarray) -> tuple[float, np.ndarray]:
        """``X``: ``(len(inputs), batch)``, ``theta``: ``(len(params),)`` in :attr:`params`
        order, ``T``: ``(len(outputs), batch)``. Returns the loss and the gradient vector
        over :attr:`wrt_params`."""
        loss, grads, _ = self._gradient(X, theta, T)
        return float(loss), grads

    def __repr__(self) -> str:
        return f"<NumericFunction {self._ns['NAME']} ({self.form} form, {len(self.params)} parameters)>"


def numeric_function(derivation: Derivation, *, form: str = "auto", use_cse: bool = True) -> NumericFunction:
    """Compile the forward pass and the cached backward pass of ``derivation`` into one
    vectorised function (see :class:`NumericFunction`). ``form`` is ``"auto"`` (matrix code
    for layered networks, scalar code otherwise), ``"matrix"`` or ``"scalar"``."""
    source = module_source(derivation, form=form, use_cse=use_cse)
    namespace: dict[str, Any] = {"__name__": f"symbackprop_generated_{derivation.name}"}
    exec(compile(source, f"<symbackprop {derivation.name}>", "exec"), namespace)  # noqa: S102 - printer output only
    return NumericFunction(source, namespace)
