"""Property tests over random DAGs (random widths, activations, shared parameters, skip
connections, expression nodes, data and regularisation): paths == backprop (symbolically),
== sympy.diff of the composite, == central finite differences of tests/reference.py."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import reference
from symbackprop import derive, spec_from_mapping
from symbackprop.derive.expand import Expander
from symbackprop.functions import NUMPY_FUNCTIONS, numpy_printer

ACTIVATIONS = ["identity", "sigmoid", "tanh", "softplus", "leaky_relu", "x**2", "x**3", "sin(x) + x"]
value = st.integers(-90, 90).map(lambda k: k / 100)


@st.composite
def random_specs(draw):
    n_inputs = draw(st.integers(1, 3))
    inputs = [f"x{i}" for i in range(1, n_inputs + 1)]
    n_neurons = draw(st.integers(1, 5))
    pool = [f"w{i}" for i in range(draw(st.integers(2, 12)))]   # small pools force sharing
    sources = list(inputs)
    neurons, used = {}, set()
    nodes = {}
    for j in range(1, n_neurons + 1):
        name = f"n{j}"
        chosen = draw(st.lists(st.sampled_from(sources), min_size=1, max_size=3, unique=True))
        frm = {s: draw(st.sampled_from(pool)) for s in chosen}
        used |= set(frm.values())
        neuron = {"from": frm, "activation": draw(st.sampled_from(ACTIVATIONS))}
        if draw(st.booleans()):
            neuron["bias"] = draw(st.sampled_from(["b1", "b2"]))
            used.add(neuron["bias"])
        neurons[name] = neuron
        sources.append(name)
        if j == 1 and draw(st.booleans()):   # an expression node mixed in, fed to later neurons
            nodes["G"] = f"{name}*{inputs[0]} + tanh({name})"
            sources.append("G")
    n_out = draw(st.integers(1, min(2, n_neurons)))
    outputs = list(neurons)[-n_out:]
    spec = {"name": "random", "inputs": inputs, "neurons": neurons, "outputs": outputs,
            "loss": draw(st.sampled_from(["half_sse", "sse", "mse", "(out_%s - t_%s)**4" % (outputs[0], outputs[0])]))}
    if nodes:
        spec["nodes"] = nodes
    params = sorted(used)
    spec["values"] = {"params": {p: draw(value) for p in params}}
    example = lambda: {"inputs": {i: draw(value) for i in inputs}, "targets": {o: draw(value) for o in outputs}}
    if draw(st.booleans()):
        spec["data"] = [example() for _ in range(draw(st.integers(1, 3)))]
        spec["reduction"] = draw(st.sampled_from(["sum", "mean"]))
    else:
        spec["values"].update(example())
    if draw(st.booleans()):
        spec["regularization"] = {"l2": 0.01, "include_biases": draw(st.booleans())}
    return spec


def _lecture_form(d, expr):
    deltas = {e.symbol: e.expression for e in d.deltas.values()}
    return Expander(deltas, limit=10**7).expand(expr)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_specs())
def test_random_dags_all_methods_agree(raw):
    spec = spec_from_mapping(raw)
    b = derive(spec, "backprop")
    p = derive(spec, "paths")
    # paths == backprop, symbolically
    for w in b.gradients:
        assert sp.cancel(sp.expand(_lecture_form(b, b.gradients[w].expression) - p.gradients[w].expression)) == 0
    # == finite differences of an independent implementation, away from kinks (WE-10's trap)
    for node, attrs in b.network.graph.nodes(data=True):
        if attrs["kind"] == "net" and raw["neurons"][attrs["owner"]]["activation"] == "leaky_relu":
            assume(abs(b.numbers.forward[node]) > 1e-3)
    point = {k: float(v) for k, v in raw["values"]["params"].items()}
    fd = reference.finite_difference_gradient(raw, point)
    for w, v in b.numbers.gradients.items():
        assert v == pytest.approx(p.numbers.gradients[w], rel=1e-9, abs=1e-12)
        assert v == pytest.approx(fd[w], rel=1e-4, abs=1e-6), w
    # == sympy.diff of the composite loss, at the spec's values
    expander = Expander(dict(b.definitions()), limit=10**7)
    composite = expander.expand(b.loss_definition)
    leaves = [b.network.graph.nodes[n]["symbol"] for n in b.network.leaves()]
    values = [b.numbers.forward[str(s)] for s in leaves]
    for w, entry in b.gradients.items():
        by_diff = sp.diff(composite, sp.Symbol(w))
        f = sp.lambdify(leaves, by_diff, modules=[NUMPY_FUNCTIONS, "numpy"], printer=numpy_printer())
        assert np.isclose(float(f(*values)), b.numbers.gradients[w], rtol=1e-9, atol=1e-12)
