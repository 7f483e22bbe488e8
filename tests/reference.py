"""An independent reference implementation of the spec semantics: the tests' oracle.

Nothing here comes from ``symbackprop`` (nor from SymPy): the spec is read with PyYAML,
expression strings are evaluated by a tiny recursive ``ast`` evaluator with our own
function tables (``math`` in the float backend, ``torch`` in the torch backend), and the
network is evaluated in topological order (``graphlib``).  Gradients come from central
finite differences (float64) or from ``torch.autograd`` (float64).

Public functions::

    load(path) -> dict
    expand_layers(spec) -> dict
    parameter_names(spec) -> list[str]
    wrt_names(spec) -> list[str]
    total_loss(spec, point, *, backend="float") -> float | torch.Tensor
    finite_difference_gradient(spec, point, h=1e-6) -> dict[str, float]
    torch_gradient(spec, point) -> dict[str, float]
    forward_values(spec, point) -> dict

``point`` maps names to numbers:

* every parameter name (a parameter missing from ``point`` falls back to
  ``spec["values"]["params"]``);
* optionally input names (they override ``values.inputs`` and, with ``data``, the input
  of *every* example);
* optionally targets as ``t_<output>`` (overriding ``values.targets`` / every example).

Keys that are none of these raise ``KeyError`` (typo guard), except names listed in
``values.params`` that the network does not use, which are ignored.

Semantic choices where docs/spec-reference.md is silent (kept strict on purpose):

* a neuron (or a ``layers:`` spec) without an activation is an error, not a default;
* ``softmax`` on a neuron that is not listed in ``outputs`` is an error;
* the L2 term sums over *distinct* parameter names (a shared weight counts once);
  weights are every name used in a ``from:`` plus every name in ``params:``; a name used
  only as a ``bias`` is a bias;
* the regulariser is added once to the reduced data loss, also when ``objective`` is used;
* with ``data``, an example's inputs/targets are ``values.inputs/targets`` updated by the
  example's own, then by ``point``.
"""

from __future__ import annotations

import ast
import copy
import functools
import io
import keyword
import math
import tokenize
import unicodedata
from graphlib import TopologicalSorter

import yaml

__all__ = [
    "load",
    "expand_layers",
    "parameter_names",
    "wrt_names",
    "total_loss",
    "finite_difference_gradient",
    "torch_gradient",
    "forward_values",
]

BUILTIN_ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "softmax")
DEFAULT_LEAKY_ALPHA = 0.01
_NAMED_LOSSES = ("half_sse", "sse", "mse", "bce", "cross_entropy")

# A spec name never contains "__", so this prefix cannot collide with one.
_KEYWORD_PREFIX = "kw__"


# --------------------------------------------------------------------------- loading


def load(path) -> dict:
    """``yaml.safe_load`` of a spec file (YAML or JSON)."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# --------------------------------------------------------------------------- layers


def expand_layers(spec: dict) -> dict:
    """Return an equivalent spec using ``neurons:`` (a deep copy; ``spec`` is not changed).

    Names as docs/spec-reference.md says: inputs ``x1..x{n0}`` (or ``inputs:``), hidden
    neurons ``h{l}_{j}``, output neurons ``y{j}``, weights ``w{l}_{j}_{i}`` (into layer l,
    target j, source i), biases ``b{l}_{j}`` with ``bias: true``; ``outputs`` defaults to
    the last layer.  A spec without ``layers`` is returned as a copy, unchanged.
    """
    spec = copy.deepcopy(spec)
    if "layers" not in spec:
        return spec
    sizes = [int(n) for n in spec.pop("layers")]
    if len(sizes) < 2:
        raise ValueError("layers needs at least an input and an output layer")
    n_layers = len(sizes) - 1  # non-input layers

    activation = spec.pop("activation", None)
    activations = spec.pop("activations", None)
    if activations is not None:
        activations = list(activations)
        if len(activations) != n_layers:
            raise ValueError(f"activations: expected {n_layers} entries, got {len(activations)}")
    elif activation is not None:
        activations = [activation] * n_layers
    else:
        raise ValueError("layers: no activation/activations given (no documented default)")
    with_bias = bool(spec.pop("bias", False))

    if spec.get("inputs"):
        input_names = list(spec["inputs"])
        if len(input_names) != sizes[0]:
            raise ValueError(f"inputs: expected {sizes[0]} names, got {len(input_names)}")
    else:
        input_names = [f"x{i}" for i in range(1, sizes[0] + 1)]
    spec["inputs"] = input_names

    neurons = dict(spec.get("neurons") or {})
    ties = {}  # tie: {W2: W1^T} -> layer 2 uses layer 1's names with row and column swapped
    for key, value in (spec.pop("tie", None) or {}).items():
        value = value.replace(" ", "")
        ties[int(key[1:])] = (int(value[1:].split("^")[0]), value.endswith("^T"))
    previous = input_names
    for layer in range(1, n_layers + 1):
        if layer == n_layers:
            names = [f"y{j}" for j in range(1, sizes[layer] + 1)]
        else:
            names = [f"h{layer}_{j}" for j in range(1, sizes[layer] + 1)]
        for j, name in enumerate(names, start=1):
            source_layer, transposed = ties.get(layer, (layer, False))
            neuron = {
                "from": {source: (f"w{source_layer}_{i}_{j}" if transposed else f"w{source_layer}_{j}_{i}")
                         for i, source in enumerate(previous, start=1)},
                "activation": activations[layer - 1],
            }
            if with_bias:
                neuron["bias"] = f"b{layer}_{j}"
            neurons[name] = neuron
        previous = names
    spec["neurons"] = neurons
    if not spec.get("outputs"):
        spec["outputs"] = list(previous)
    _expand_matrix_values(spec, sizes, input_names, list(previous))
    return spec


def _expand_matrix_values(spec: dict, sizes: list[int], inputs: list[str], outputs: list[str]) -> None:
    """Matrix-form values of a layered spec (README): ``W<l>`` rows → ``w<l>_<row>_<col>``,
    ``b<l>`` → ``b<l>_<j>``, ``x`` → the inputs in order, ``y`` → the outputs' targets."""
    def vectors(block: dict, key: str, names: list[str]) -> None:
        if isinstance(block.get(key), list) and key not in names:
            values = block.pop(key)
            assert len(values) == len(names), (key, values)
            block.update(zip(names, values))

    values = spec.get("values") or {}
    params = values.get("params") or {}
    for key in [k for k in params if isinstance(params[k], list)]:
        kind, layer = key[0], int(key[1:])
        matrix = params.pop(key)
        if kind == "W":
            assert len(matrix) == sizes[layer] and all(len(r) == sizes[layer - 1] for r in matrix), key
            for j, row in enumerate(matrix, start=1):
                params.update({f"w{layer}_{j}_{i}": v for i, v in enumerate(row, start=1)})
        else:
            assert kind == "b" and len(matrix) == sizes[layer], key
            params.update({f"b{layer}_{j}": v for j, v in enumerate(matrix, start=1)})
    for block in [values] + list(spec.get("data") or []):
        vectors(block.get("inputs") or {}, "x", inputs)
        vectors(block.get("targets") or {}, "y", outputs)


# --------------------------------------------------------------------------- names


def _weight_and_bias_names(spec: dict) -> tuple[set, set]:
    weights, biases = set(), set()
    for neuron in (spec.get("neurons") or {}).values():
        weights.update(w for w in (neuron.get("from") or {}).values() if isinstance(w, str))  # numbers: fixed
        if neuron.get("bias") is not None:
            biases.add(neuron["bias"])
    for norm in (spec.get("batch_norm") or {}).values():  # gamma scales (a weight), beta shifts (a bias)
        if norm.get("gamma") is not None:
            weights.add(norm["gamma"])
        if norm.get("beta") is not None:
            biases.add(norm["beta"])
    weights.update(spec.get("params") or [])
    return weights, biases - weights


def parameter_names(spec: dict) -> list[str]:
    """Every parameter (weights, biases, ``params:``), each once, sorted."""
    weights, biases = _weight_and_bias_names(expand_layers(spec))
    return sorted(weights | biases)


def wrt_names(spec: dict) -> list[str]:
    """``wrt`` if the spec gives it (in its order), else :func:`parameter_names`."""
    if spec.get("wrt"):
        return list(spec["wrt"])
    return parameter_names(spec)


# --------------------------------------------------------------------------- expressions


def _norm(name: str) -> str:
    # Python's parser NFKC-normalises identifiers; look names up the same way.
    return unicodedata.normalize("NFKC", name)


@functools.lru_cache(maxsize=None)
def _parse(text: str) -> ast.Expression:
    """Parse an expression string; Python keywords (``lambda``) become ordinary names."""
    text = " ".join(str(text).split())
    tokens = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NAME and keyword.iskeyword(tok.string):
            tokens.append((tokenize.NAME, _KEYWORD_PREFIX + tok.string))
        else:
            tokens.append((tok.type, tok.string))
    return ast.parse(tokenize.untokenize(tokens).strip(), mode="eval")


def _name_of(node: ast.Name) -> str:
    name = node.id
    if name.startswith(_KEYWORD_PREFIX):
        name = name[len(_KEYWORD_PREFIX):]
    return _norm(name)


def _free_names(tree: ast.AST) -> set[str]:
    """Names an expression reads (function names in calls excluded), NFKC-normalised."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {
        _name_of(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and id(node) not in called
    }


_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def _evaluate(node: ast.AST, env: dict, functions: dict):
    """Recursive evaluator over an allow-list of node types. ``env`` keys are NFKC names."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, env, functions)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.Name):
        name = _name_of(node)
        if name not in env:
            raise KeyError(f"unknown name {name!r} in expression")
        return env[name]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _evaluate(node.operand, env, functions)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _evaluate(node.left, env, functions)
        right = _evaluate(node.right, env, functions)
        return _BINARY[type(node.op)](left, right)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in functions
        and not node.keywords
    ):
        args = [_evaluate(arg, env, functions) for arg in node.args]
        return functions[node.func.id](*args)
    raise ValueError(f"expression element not allowed: {ast.dump(node)}")


def evaluate_expression(text: str, env: dict, *, backend: str = "float"):
    """Evaluate an expression string with names from ``env`` (spec names → numbers)."""
    bk = _backend(backend)
    return _evaluate(_parse(text), {_norm(k): bk.lift(v) for k, v in env.items()}, bk.functions)


# --------------------------------------------------------------------------- backends


def _float_sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _float_softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _float_softmax(nets: list) -> list:
    top = max(nets)
    exps = [math.exp(n - top) for n in nets]
    total = sum(exps)
    return [e / total for e in exps]


class _FloatBackend:
    name = "float"

    @staticmethod
    def lift(value):
        return float(value)

    functions = {
        "exp": math.exp,
        "log": math.log,
        "sqrt": math.sqrt,
        "sin": math.sin,
        "cos": math.cos,
        "tanh": math.tanh,
        "sigmoid": _float_sigmoid,
        "relu": lambda x: x if x > 0 else 0.0,
        "abs": abs,
        "max": max,
        "min": min,
    }
    sigmoid = staticmethod(_float_sigmoid)
    tanh = staticmethod(math.tanh)
    softplus = staticmethod(_float_softplus)
    softmax = staticmethod(_float_softmax)
    log = staticmethod(math.log)

    @staticmethod
    def relu(x):
        return x if x > 0 else 0.0

    @staticmethod
    def leaky_relu(x, alpha):
        return x if x > 0 else alpha * x


class _TorchBackend:
    name = "torch"

    def __init__(self):
        import torch

        self.torch = torch
        t = self.lift
        self.functions = {
            "exp": lambda x: torch.exp(t(x)),
            "log": lambda x: torch.log(t(x)),
            "sqrt": lambda x: torch.sqrt(t(x)),
            "sin": lambda x: torch.sin(t(x)),
            "cos": lambda x: torch.cos(t(x)),
            "tanh": lambda x: torch.tanh(t(x)),
            "sigmoid": lambda x: torch.sigmoid(t(x)),
            "relu": lambda x: torch.relu(t(x)),
            "abs": lambda x: torch.abs(t(x)),
            "max": lambda a, b: torch.maximum(t(a), t(b)),
            "min": lambda a, b: torch.minimum(t(a), t(b)),
        }

    def lift(self, value):
        if isinstance(value, self.torch.Tensor):
            return value
        return self.torch.tensor(float(value), dtype=self.torch.float64)

    def sigmoid(self, x):
        return self.torch.sigmoid(self.lift(x))

    def tanh(self, x):
        return self.torch.tanh(self.lift(x))

    def relu(self, x):
        return self.torch.relu(self.lift(x))  # gradient 0 at 0

    def leaky_relu(self, x, alpha):
        x = self.lift(x)
        return self.torch.where(x > 0, x, alpha * x)  # gradient alpha at 0

    def softplus(self, x):
        x = self.lift(x)
        return self.torch.logaddexp(x, self.torch.zeros_like(x))

    def softmax(self, nets: list) -> list:
        stacked = self.torch.stack([self.lift(n) for n in nets])
        probs = self.torch.softmax(stacked, dim=0)
        return [probs[k] for k in range(len(nets))]

    def log(self, x):
        return self.torch.log(self.lift(x))


def _backend(name: str):
    if name == "float":
        return _FloatBackend()
    if name == "torch":
        return _TorchBackend()
    raise ValueError(f"unknown backend {name!r}")


# --------------------------------------------------------------------------- the model


class _Model:
    """The expanded spec, with the evaluation order of its computed quantities."""

    def __init__(self, spec: dict):
        self.raw = spec
        spec = expand_layers(spec)
        self.spec = spec
        self.inputs = list(spec.get("inputs") or [])
        self.neurons = dict(spec.get("neurons") or {})
        self.nodes = {name: _parse(str(text)) for name, text in (spec.get("nodes") or {}).items()}
        self.outputs = list(spec.get("outputs") or [])
        self.objective = spec.get("objective")
        self.parameters = parameter_names(spec)
        self.weights, self.biases = _weight_and_bias_names(spec)
        self.values = spec.get("values") or {}

        # Node expressions may name neurons/nodes/inputs/params possibly spelled non-NFKC.
        self.by_norm = {_norm(n): n for n in [*self.inputs, *self.parameters, *self.neurons, *self.nodes]}

        for name, neuron in self.neurons.items():
            if neuron.get("activation") is None:
                raise ValueError(f"neuron {name}: no activation (no documented default)")
        self.softmax_group = [
            name for name in self.outputs
            if name in self.neurons and self.neurons[name]["activation"] == "softmax"
        ]
        for name, neuron in self.neurons.items():
            if neuron["activation"] == "softmax" and name not in self.softmax_group:
                raise ValueError(f"neuron {name}: softmax is defined for output neurons only")

        graph: dict[tuple, set] = {}
        for name, neuron in self.neurons.items():
            graph[("net", name)] = {d for s in (neuron.get("from") or {}) if (d := self._dependency(s))}
            if neuron["activation"] == "softmax":
                graph[("out", name)] = {("net", k) for k in self.softmax_group}
            else:
                graph[("out", name)] = {("net", name)}
        for name, tree in self.nodes.items():
            graph[("node", name)] = {
                d for n in _free_names(tree) if (d := self._dependency(self.by_norm.get(n, n)))
            }
        self.order = list(TopologicalSorter(graph).static_order())

    def _dependency(self, name):
        if name in self.neurons:
            return ("out", name)
        if name in self.nodes:
            return ("node", name)
        return None  # an input or a parameter: a leaf

    # ---- one example -------------------------------------------------------------

    def forward(self, leaves: dict, bk) -> dict:
        """Evaluate every net/out/node for one example; ``leaves`` = inputs + params."""
        values: dict[tuple, object] = {}

        def read(name):
            if name in self.neurons:
                return values[("out", name)]
            if name in self.nodes:
                return values[("node", name)]
            if name in leaves:
                return leaves[name]
            raise KeyError(f"no value for {name!r}")

        for kind, name in self.order:
            if kind == "net":
                neuron = self.neurons[name]
                net = bk.lift(0.0)
                for source, weight in (neuron.get("from") or {}).items():
                    factor = leaves[weight] if isinstance(weight, str) else bk.lift(weight)
                    net = net + factor * read(source)
                if neuron.get("bias") is not None:
                    net = net + leaves[neuron["bias"]]
                values[("net", name)] = net
            elif kind == "out":
                values[("out", name)] = self._activate(name, values, leaves, bk)
            else:
                env = {n: read(self.by_norm.get(n, n)) for n in _free_names(self.nodes[name])}
                values[("node", name)] = _evaluate(self.nodes[name], env, bk.functions)
        return values

    def _activate(self, name, values, leaves, bk):
        neuron = self.neurons[name]
        activation = neuron["activation"]
        net = values[("net", name)]
        if activation == "identity":
            return net
        if activation == "sigmoid":
            return bk.sigmoid(net)
        if activation == "tanh":
            return bk.tanh(net)
        if activation == "relu":
            return bk.relu(net)
        if activation == "leaky_relu":
            return bk.leaky_relu(net, float(neuron.get("alpha", DEFAULT_LEAKY_ALPHA)))
        if activation == "softplus":
            return bk.softplus(net)
        if activation == "softmax":
            outs = bk.softmax([values[("net", k)] for k in self.softmax_group])
            return outs[self.softmax_group.index(name)]
        # an expression in x
        env = {_norm(k): v for k, v in leaves.items()}
        env["x"] = net
        return _evaluate(_parse(str(activation)), env, bk.functions)

    def output_value(self, name, values, leaves=None):
        if name in self.neurons:
            return values[("out", name)]
        if name not in self.nodes and leaves is not None:  # a batch_norm quantity
            return leaves[name]
        return values[("node", name)]

    def example_loss(self, leaves: dict, targets: dict, bk):
        values = self.forward(leaves, bk)
        if self.objective is not None:
            return values[("node", self.objective)]
        outs = [self.output_value(o, values, leaves) for o in self.outputs]
        if self.spec.get("targets") == "inputs":  # an autoencoder: output j reconstructs input j
            targets = {o: leaves[i] for o, i in zip(self.outputs, self.inputs)}
        loss = str(self.spec.get("loss"))
        if loss not in _NAMED_LOSSES:  # an expression: it may use the inputs, and only some targets
            env = {_norm(k): v for k, v in leaves.items()}
            for o, y in zip(self.outputs, outs):
                env[_norm(f"out_{o}")] = y
                if o in targets:
                    env[_norm(f"t_{o}")] = targets[o]
            return _evaluate(_parse(loss), env, bk.functions)
        missing = [o for o in self.outputs if o not in targets]
        if missing:
            raise KeyError(f"no target for outputs {missing}")
        ts = [targets[o] for o in self.outputs]
        loss = self.spec.get("loss")
        if loss == "half_sse":
            return 0.5 * sum((t - y) ** 2 for t, y in zip(ts, outs))
        if loss == "sse":
            return sum((t - y) ** 2 for t, y in zip(ts, outs))
        if loss == "mse":
            return sum((t - y) ** 2 for t, y in zip(ts, outs)) / len(outs)
        if loss == "bce":
            return -sum(t * bk.log(y) + (1 - t) * bk.log(1 - y) for t, y in zip(ts, outs))
        if loss == "cross_entropy":
            return -sum(t * bk.log(y) for t, y in zip(ts, outs))
        if loss is None:
            raise ValueError("spec has neither objective nor loss")
        env = {_norm(k): v for k, v in leaves.items()}
        for o, t, y in zip(self.outputs, ts, outs):
            env[_norm(f"out_{o}")] = y
            env[_norm(f"t_{o}")] = t
        return _evaluate(_parse(str(loss)), env, bk.functions)

    # ---- the point and the examples ----------------------------------------------

    def leaves_and_examples(self, point: dict, bk):
        """Parameters, and a list of (inputs, targets) per example, all lifted."""
        declared = set((self.values.get("params") or {}).keys())
        params = {}
        for name in self.parameters:
            if name in point:
                params[name] = bk.lift(point[name])
            elif name in declared:
                params[name] = bk.lift(self.values["params"][name])
            else:
                raise KeyError(f"no value for parameter {name!r}")
        input_over, target_over = {}, {}
        for key, value in point.items():
            if key in params:
                continue
            if key in self.inputs:
                input_over[key] = value
            elif key.startswith("t_") and key[2:] in self.outputs:
                target_over[key[2:]] = value
            elif key not in declared:
                raise KeyError(f"point names {key!r}: not a parameter, input or t_<output>")

        base_inputs = dict(self.values.get("inputs") or {})
        base_targets = dict(self.values.get("targets") or {})
        data = self.spec.get("data")
        raw_examples = data if data else [{}]
        examples = []
        for example in raw_examples:
            inputs = {**base_inputs, **(example.get("inputs") or {}), **input_over}
            targets = {**base_targets, **(example.get("targets") or {}), **target_over}
            examples.append(
                ({k: bk.lift(v) for k, v in inputs.items()}, {k: bk.lift(v) for k, v in targets.items()})
            )
        return params, examples

    def batch_norm_leaves(self, params: dict, examples: list, bk) -> list[dict]:
        """Per example, the value of every ``batch_norm`` quantity: the source over the batch,
        normalised by the batch's mean and (biased, 1/m) variance. Each pass computes the sources
        with the statistics known so far (NaN before), so a chain of them settles in as many passes."""
        norms = self.spec.get("batch_norm") or {}
        m = len(examples)
        known = [{name: bk.lift(float("nan")) for name in norms} for _ in examples]
        sqrt = bk.functions["sqrt"]
        for _ in range(len(norms)):
            values = [self.forward({**inputs, **params, **known[i]}, bk) for i, (inputs, _) in enumerate(examples)]
            for name, norm in norms.items():
                source = norm["of"]
                xs = [v[("out", source)] if source in self.neurons else v[("node", source)] if source in self.nodes
                      else known[i].get(source, examples[i][0].get(source)) for i, v in enumerate(values)]
                mu = sum(xs[1:], xs[0]) / m
                var = sum(((x - mu) ** 2 for x in xs[1:]), (xs[0] - mu) ** 2) / m
                gamma = params[norm["gamma"]] if norm.get("gamma") is not None else 1.0
                beta = params[norm["beta"]] if norm.get("beta") is not None else 0.0
                eps = float(norm.get("eps", 0.001))
                for i, x in enumerate(xs):
                    known[i][name] = gamma * (x - mu) / sqrt(var + eps) + beta
        return known

    def regulariser(self, params: dict, bk):
        reg = self.spec.get("regularization") or {}
        lam = float(reg.get("l2", 0) or 0)
        if lam == 0:
            return bk.lift(0.0)
        form = "".join(str(reg.get("form", "lambda*sum")).split())
        m = len(self.spec.get("data") or [None])  # the examples (1 without data)
        lam = {"lambda*sum": lam, "lambda/2*sum": lam / 2, "lambda/(2m)*sum": lam / (2 * m)}[form]
        names = set(self.weights)
        if reg.get("include_biases", False):
            names |= self.biases
        return lam * sum((params[n] ** 2 for n in sorted(names)), bk.lift(0.0))


# --------------------------------------------------------------------------- public API


def total_loss(spec: dict, point: dict, *, backend: str = "float"):
    """The total loss at ``point``: Σ_n E_n (or the mean, ``reduction: mean``) + λΣw².

    ``backend="float"`` returns a float; ``backend="torch"`` a 0-dim float64 tensor (values
    in ``point`` may already be tensors, e.g. leaves with ``requires_grad``).
    """
    model = _Model(spec)
    bk = _backend(backend)
    params, examples = model.leaves_and_examples(point, bk)
    batch = model.batch_norm_leaves(params, examples, bk)
    losses = [model.example_loss({**inputs, **params, **norms}, targets, bk)
              for (inputs, targets), norms in zip(examples, batch)]
    reduction = model.spec.get("reduction", "sum")
    if reduction not in ("sum", "mean"):
        raise ValueError(f"unknown reduction {reduction!r}")
    total = sum(losses[1:], losses[0])
    if reduction == "mean":
        total = total / len(losses)  # one example without data: mean == sum
    return total + model.regulariser(params, bk)


def _current_value(spec: dict, point: dict, name: str) -> float:
    if name in point:
        return float(point[name])
    values = expand_layers(spec).get("values") or {}
    for group in ("params", "inputs"):
        if name in (values.get(group) or {}):
            return float(values[group][name])
    raise KeyError(f"{name!r}: no single value to differentiate at (give it in point)")


def finite_difference_gradient(spec: dict, point: dict, h: float = 1e-6) -> dict[str, float]:
    """Central differences ``(E(p + h) − E(p − h)) / 2h`` in float64 for each of ``wrt_names``.

    A name that is an input is varied in every example at once (point overrides data).
    Beware kinks (relu at exactly 0): a central difference straddles them.
    """
    gradient = {}
    for name in wrt_names(spec):
        value = _current_value(spec, point, name)
        up = total_loss(spec, {**point, name: value + h})
        down = total_loss(spec, {**point, name: value - h})
        gradient[name] = (up - down) / (2 * h)
    return gradient


def torch_gradient(spec: dict, point: dict) -> dict[str, float]:
    """``torch.autograd`` gradient (float64) for each of ``wrt_names``; skips if no torch."""
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        import pytest

        pytest.skip("torch is not installed")
    names = wrt_names(spec)
    leaves = {
        name: torch.tensor(_current_value(spec, point, name), dtype=torch.float64, requires_grad=True)
        for name in names
    }
    loss = total_loss(spec, {**point, **leaves}, backend="torch")
    grads = torch.autograd.grad(loss, [leaves[n] for n in names], allow_unused=True)
    return {n: (0.0 if g is None else float(g)) for n, g in zip(names, grads)}


def forward_values(spec: dict, point: dict) -> dict:
    """Forward pass of the first example: ``{neuron: {"net", "out"}, node: {"value"}}``."""
    model = _Model(spec)
    bk = _FloatBackend()
    params, examples = model.leaves_and_examples(point, bk)
    inputs, _ = examples[0]
    values = model.forward({**inputs, **params}, bk)
    result = {}
    for name in model.neurons:
        result[name] = {"net": values[("net", name)], "out": values[("out", name)]}
    for name in model.nodes:
        result[name] = {"value": values[("node", name)]}
    return result
