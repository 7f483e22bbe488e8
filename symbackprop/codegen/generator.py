"""The code generator: forward pass, cached backward pass and gradients as straight-line NumPy code, scalar or matrix form."""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..derive import Derivation
from ..errors import SpecError
from ..layers.maps import map_derivative
from .lines import CodeLines, batched_code, prune_lines, sum_code, with_cse
from .printer import FORMS, CodePrinter, Namer
from .structure import Layer, layered_structure, regularisation_term, stable_program

class Generator:
    """Builds the bodies of ``_forward``, ``_loss`` and ``_gradient`` for one derivation."""

    def __init__(self, derivation: Derivation, *, use_cse: bool = True):
        self.derivation = derivation
        self.spec = derivation.spec
        if self.spec.batch_norms:  # the module batches independent examples; batch statistics couple them
            raise SpecError("the generated code computes examples independently; batch statistics "
                            "(batch_norm) couple them", key="batch_norm")
        untargeted = [o for o in self.spec.outputs if o not in self.spec.target_outputs]
        if untargeted:  # the module's calling convention takes one target per output
            raise SpecError(f"the generated code takes a target per output; this loss uses none for "
                            f"'{untargeted[0]}' (write it with t_{untargeted[0]}, or use 'targets: inputs')",
                            key="loss")
        self.core = derivation.per_example
        self.stable = stable_program(self.core)
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
        self.regularisation = regularisation_term(self.spec)
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
    def scalar(self) -> CodeLines:
        st = self.stable
        leaves_batched = set(self.input_syms) | set(self.target_syms)
        fsyms = self.forward_symbols()
        head = ["_B = _X.shape[1]"] + (["_scale = 1.0/_B"] if self.mean else [])

        fw = prune_lines(st.definitions, [s for _, s in fsyms])
        forward_body = self.unpack(targets=False) + self.assign(fw)
        forward_body.append("return (" + "".join(f"{self.name(s)}, " for _, s in fsyms) + ")")

        all_defs = list(st.definitions)
        loss_defs = prune_lines(all_defs, [self.loss_sym])
        batched = batched_code(all_defs + st.deltas, leaves_batched)
        loss_body = head + self.unpack(targets=True) + self.assign(loss_defs)
        loss_body += self.total_loss(self._loss_sum(batched))
        loss_body.append("return _loss")

        grad_syms = {w: sp.Symbol(f"_grad_{i}") for i, w in enumerate(self.wrt_params + self.wrt_inputs)}
        placeholders = set(grad_syms.values())
        program = all_defs + st.deltas + [(grad_syms[w], e) for w, e in st.gradients.items()]
        program = prune_lines(program, [self.loss_sym] + list(grad_syms.values()))
        forward_syms = {s for s, _ in all_defs}
        n_forward = sum(1 for s, _ in program if s in forward_syms)
        # the forward definitions are already one operation per quantity; the backward
        # pass (δs, gradients) shares its common subexpressions
        program = program[:n_forward] + with_cse(program[n_forward:], self.use_cse, placeholders)
        inlined = {}
        body_defs = []
        for s, e in program:
            if s in placeholders:
                inlined[s] = e
            else:
                body_defs.append((s, e))
        batched = batched_code(body_defs + list(inlined.items()), leaves_batched)
        gradient_body = head + self.unpack(targets=True) + self.assign(body_defs)
        gradient_body += self.total_loss(self._loss_sum(batched))
        gradient_body.append(f"_g = numpy.empty({len(self.wrt_params)})")
        for i, w in enumerate(self.wrt_params):
            code = sum_code(inlined[grad_syms[w]], batched, self.code)
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
        return CodeLines("scalar", [n for n, _ in fsyms], forward_body, loss_body, gradient_body, [])

    def _loss_sum(self, batched: set[sp.Symbol]) -> str:
        name = self.namer(self.loss_sym)
        return f"numpy.sum({name})" if self.loss_sym in batched else f"_B*{name}"

    # -- matrix form
    def matrix(self, layers: list[Layer]) -> CodeLines | None:
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

        forward_lines: list[str] = []
        first = {src for src, _ in spec.neurons[layers[0].neurons[0]].sources}  # layer 1's sources (all alike)
        feeding = [i for i, x in enumerate(self.inputs) if x in first]
        x0 = sp.Symbol("_X")
        if feeding != list(range(len(self.inputs))):  # inputs read only by maps (masks) are no source
            constants.append(f"_IX = numpy.array({feeding!r})")
            forward_lines.append("_X0 = _X[_IX]")
            x0 = sp.Symbol("_X0")
        A = [x0] + [sp.Symbol(f"_A{l}") for l in range(1, L + 1)]
        N = [None] + [sp.Symbol(f"_N{l}") for l in range(1, L + 1)]
        H = [x0] + [sp.Symbol(f"_H{l}") if layer.maps else A[l] for l, layer in enumerate(layers, start=1)]
        T = sp.Symbol("_T")
        maps = {l: _MapCode(self, l, layer, A[l], H[l], constants)
                for l, layer in enumerate(layers, start=1) if layer.maps}
        for l, layer in enumerate(layers, start=1):
            forward_lines.append(f"_N{l} = _W{l} @ {H[l - 1]}")
            if layer.biases:
                forward_lines.append(f"_N{l} += _b{l}")
            if spec.neurons[layer.neurons[0]].activation == "softmax":
                if st.softmax is None or layer.maps:
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
            if l in maps:
                forward_lines += maps[l].forward()

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
        if L in maps:  # the outputs are maps' values: written row by row
            loss_vec = delta_vec = None
        used = loss_expr.free_symbols.union(*(e.free_symbols for e in delta_exprs))
        outputs_head += [f"{self.namer(s)} = _X[{i}]" for i, s in enumerate(self.input_syms)
                         if i not in feeding and s in used]  # a mask the loss reads too
        rows_needed = loss_vec is None or delta_vec is None
        if rows_needed:
            for k, (o, nt, t) in enumerate(zip(out_syms, net_syms, self.target_syms)):
                outputs_head += [f"{self.namer(o)} = _A{L}[{k}]", f"{self.namer(nt)} = _N{L}[{k}]",
                                 f"{self.namer(t)} = _T[{k}]"]
            if L in maps:
                outputs_head += maps[L].names()
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
            if l in maps:
                for name, code in maps[l].values():
                    fsyms.append(name)
                    fw_return.append(code)
        forward_body = unpack + forward_lines + ["return (" + "".join(f"{r}, " for r in fw_return) + ")"]
        loss_body = head + unpack + forward_lines + outputs_head + loss_total + ["return _loss"]

        # backward
        back: list[str] = []
        scale = "_scale*" if self.mean else ""
        if delta_vec is not None:
            back.append(f"_D{L} = {scale}({self.printer.doprint(delta_vec)})" if delta_vec.free_symbols
                        else f"_D{L} = numpy.full(_N{L}.shape, {scale}({self.printer.doprint(delta_vec)}))")
        else:
            if L in maps:  # the output maps' own δs (∂E/∂node, last map first), which the neurons' δs use
                for chain in reversed(layers[-1].maps):
                    back += [f"{self.namer(self.core.deltas[m].symbol)} = {self.code(stable_deltas[self.core.deltas[m].symbol])}"
                             for m in reversed(chain)]
            back.append(f"_D{L} = numpy.empty_like(_N{L})")
            back += [f"_D{L}[{k}] = {scale}({self.code(e)})" for k, e in enumerate(delta_exprs)]
        back.append(f"_g = numpy.empty({len(self.params)})")
        for l in range(L, 0, -1):
            w_block, b_block = blocks[l - 1]
            if "[_I" in w_block:
                back.append(f"_g{w_block.removesuffix('[:, None]')} = _D{l} @ {H[l - 1]}.T")
            else:
                back.append(f"numpy.matmul(_D{l}, {H[l - 1]}.T, out=_g{w_block})")
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
                if l - 1 in maps:  # h = φ(f(a)): the map's derivative too
                    back += maps[l - 1].backward(f"_D{l - 1}")
        back += reg_lines
        if self.wrt_params == self.params:
            back.append("return _loss, _g, None")
        else:
            constants.append(f"_WRT = numpy.array({[index[w] for w in self.wrt_params]!r}, dtype=int)")
            back.append("return _loss, _g[_WRT], None")
        gradient_body = head + unpack + forward_lines + outputs_head + loss_total + back
        return CodeLines("matrix", fsyms, forward_body, loss_body, gradient_body, constants)

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

    def generate(self, form: str = "auto") -> CodeLines:
        if form not in FORMS:
            raise ValueError(f"form must be one of {', '.join(FORMS)}")
        if form in ("auto", "matrix"):
            layers = layered_structure(self.spec, self.core.network)
            code = self.matrix(layers) if layers else None
            if code is not None:
                return code
            if form == "matrix":
                raise ValueError(f"{self.spec.name}: not a layered network; only the scalar form applies")
        return self.scalar()


class _MapCode:
    """The element-wise maps after layer ``l`` (:mod:`symbackprop.layers.maps`) in matrix code:
    ``_H = φ(_A)`` in one line when every unit has one map of the same form (side inputs such as
    masks gathered from ``_X``), else row by row; and ``δ ⊙= φ′`` for the backward pass."""

    def __init__(self, gen: "Generator", l: int, layer: Layer, A: sp.Symbol, H: sp.Symbol, constants: list[str]):
        self.gen, self.A, self.H = gen, A, H
        g, defs = gen.g, dict(gen.stable.definitions)
        self.outs = [g.nodes[f"out_{n}"]["symbol"] for n in layer.neurons]
        self.chains = [[g.nodes[m]["symbol"] for m in chain] for chain in layer.maps]
        self.definitions = {m: defs[m] for chain in self.chains for m in chain}
        self.derivatives = [map_derivative(g, n, chain) for n, chain in zip(layer.neurons, layer.maps)]
        inputs = {g.nodes[x]["symbol"]: i for i, x in enumerate(gen.inputs)}
        self.side = [sorted({s for e in [*(self.definitions[m] for m in chain), d]
                             for s in e.free_symbols if s in inputs}, key=str)
                     for chain, d in zip(self.chains, self.derivatives)]
        self.input_index = inputs
        self.S = [sp.Symbol(f"_S{l}_{j}") for j in range(max(map(len, self.side), default=0))]
        self.uniform = self._uniform_forward()
        self.gathers = []
        if self.uniform is not None:
            for j, S in enumerate(self.S):
                constants.append(f"_IS{l}_{j} = numpy.array({[inputs[row[j]] for row in self.side]!r})")
                self.gathers.append(f"{S} = _X[_IS{l}_{j}]")

    def _generic(self, k: int, expr: sp.Expr) -> sp.Expr | None:
        """``expr`` of unit ``k`` in layer arrays (out → _A, its map → _H, its j-th side input → _S_j)."""
        chain = self.chains[k]
        if len(chain) != 1:
            return None
        rename = {self.outs[k]: self.A, chain[0]: self.H}
        rename.update({s: self.S[j] for j, s in enumerate(self.side[k])})
        generic = expr.xreplace(rename)
        return generic if generic.free_symbols <= {self.A, self.H, *self.S} else None

    def _uniform_forward(self) -> sp.Expr | None:
        if not all(self.chains) or len({len(row) for row in self.side}) != 1:
            return None
        forms = {self._generic(k, self.definitions[chain[0]]) for k, chain in enumerate(self.chains)}
        return forms.pop() if len(forms) == 1 and None not in forms else None

    def names(self) -> list[str]:
        """Lines naming every unit's out, side inputs and map values (for row-by-row code)."""
        gen, lines = self.gen, []
        for k, (out, chain) in enumerate(zip(self.outs, self.chains)):
            if chain:
                lines.append(f"{gen.namer(out)} = {self.A}[{k}]")
                lines += [f"{gen.namer(s)} = _X[{self.input_index[s]}]" for s in self.side[k]]
                if self.uniform is not None:
                    lines.append(f"{gen.namer(chain[-1])} = {self.H}[{k}]")
        return lines

    def forward(self) -> list[str]:
        printer = self.gen.printer
        if self.uniform is not None:
            return self.gathers + [f"{self.H} = {printer.doprint(self.uniform)}"]
        lines = self.names()
        for chain in self.chains:
            lines += [f"{self.gen.namer(m)} = {self.gen.code(self.definitions[m])}" for m in chain]
        rows = [self.gen.namer(chain[-1]) if chain else f"{self.A}[{k}]" for k, chain in enumerate(self.chains)]
        return lines + [f"{self.H} = numpy.stack(({''.join(r + ', ' for r in rows)}))"]

    def values(self) -> list[tuple[str, str]]:
        """``(node name, code)`` of every map value, for the forward pass's return."""
        out = []
        for k, chain in enumerate(self.chains):
            for m in chain:
                out.append((str(m), f"{self.H}[{k}]" if m == chain[-1] else self.gen.namer(m)))
        return out

    def backward(self, D: str) -> list[str]:
        """``D ⊙= φ′`` (the product of the edge derivatives along each unit's chain)."""
        if self.uniform is not None:
            forms = {self._generic(k, d) for k, d in enumerate(self.derivatives)}
            if len(forms) == 1 and None not in forms:
                form = forms.pop()
                return [] if form == 1 else [f"{D} *= {self.gen.printer.doprint(form)}"]
        lines = self.names() if self.uniform is not None else []
        return lines + [f"{D}[{k}] *= {self.gen.code(d)}" for k, d in enumerate(self.derivatives) if d != 1]


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
