"""Recurrent (``recurrent:``) and convolutional (``conv:``) networks are checked like the MLPs:
paths == backprop symbolically, == sympy.diff of the composite loss, == central finite
differences and == torch autograd of the independent oracle in tests/shapes_reference.py —
on the shipped examples and on hypothesis-generated networks. Truncated BPTT is the labelled
variant: its figures equal the oracle's ``h.detach()`` gradient, its true gradient the full one."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import shapes_reference as oracle
from conftest import EXAMPLES
from symbackprop import SpecError, derive, load_spec, spec_from_mapping
from symbackprop.derive.expand import Expander
from symbackprop.functions import NUMPY_FUNCTIONS, numpy_printer

try:
    import torch  # noqa: F401  (the independent autodiff; optional)
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False

value = st.integers(-90, 90).filter(lambda k: k != 0).map(lambda k: k / 100)
SMOOTH = ["identity", "tanh", "sigmoid", "softplus"]


def _lecture_form(d, expr):
    return Expander({e.symbol: e.expression for e in d.deltas.values()}, limit=10**7).expand(expr)


def with_values(raw: dict, draw) -> dict:
    """``raw`` with a value drawn for every parameter the spec has (names from the spec)."""
    names = spec_from_mapping(copy.deepcopy({k: v for k, v in raw.items() if k != "values"})).parameters
    raw = copy.deepcopy(raw)
    raw.setdefault("values", {})["params"] = {p: draw(value) for p in names}
    return raw


def check_all_methods(raw: dict, drawn: bool = True) -> None:
    """The full battery on one spec with values (see the module docstring); a ``drawn`` one at a
    switch point (tie, kink) is drawn again, a shipped one must not be at one."""
    spec = spec_from_mapping(copy.deepcopy(raw))
    b, p = derive(spec, "backprop"), derive(spec, "paths")
    if drawn:
        assume(not b.warnings)                   # away from switch points (ties, kinks)
    assert not b.warnings
    detach = bool(spec.detached)
    true = b.true if detach else b
    for w in b.gradients:                        # paths == backprop, symbolically (the variant too)
        assert sp.cancel(sp.expand(_lecture_form(b, b.gradients[w].expression) - p.gradients[w].expression)) == 0, w
        assert b.numbers.gradients[w] == pytest.approx(p.numbers.gradients[w], rel=1e-9, abs=1e-12)
    expander = Expander(dict(true.definitions()), limit=10**7)   # == sympy.diff of the composite
    composite = expander.expand(true.loss_definition)
    leaves = [true.network.graph.nodes[n]["symbol"] for n in true.network.leaves()]
    point = [true.numbers.forward[str(s)] for s in leaves]
    for w, entry in true.gradients.items():
        f = sp.lambdify(leaves, sp.diff(composite, sp.Symbol(w)), modules=[NUMPY_FUNCTIONS, "numpy"],
                        printer=numpy_printer())
        assert np.isclose(float(f(*point)), true.numbers.gradients[w], rtol=1e-9, atol=1e-12), w
    params = {k: float(v) for k, v in raw["values"]["params"].items()}
    for shown, cut in ([(b, True), (true, False)] if detach else [(b, False)]):
        fd = oracle.finite_difference_gradient(raw, params, detach=cut)
        for w, v in shown.numbers.gradients.items():   # == finite differences of the oracle
            assert v == pytest.approx(fd[w], rel=1e-4, abs=1e-6), (w, cut)
        if HAVE_TORCH:                                  # == torch autograd of the oracle
            tg = oracle.torch_gradient(raw, params, detach=cut)
            for w, v in shown.numbers.gradients.items():
                assert v == pytest.approx(tg[w], rel=1e-9, abs=1e-12), (w, cut)
    if detach:
        assert true.numbers.gradients == pytest.approx(b.numbers.true_gradients, rel=1e-12)


# ----------------------------------------------------------------------------- recurrent

@st.composite
def recurrent_specs(draw):
    steps = draw(st.integers(1, 4))
    sizes = {k: draw(st.integers(1, 2)) for k in ("inputs", "state", "outputs")}
    block = {"steps": steps, **sizes, "activation": draw(st.sampled_from(SMOOTH)),
             "output_activation": draw(st.sampled_from(SMOOTH)), "bias": draw(st.booleans()),
             "loss_at": draw(st.sampled_from(["last", "every"]))}
    if draw(st.booleans()):
        block["h0"] = [draw(value) for _ in range(sizes["state"])]
    if steps > 1 and draw(st.booleans()):
        block["truncate"] = draw(st.integers(1, steps - 1))
    vec = lambda n: draw(value) if n == 1 else [draw(value) for _ in range(n)]   # noqa: E731
    sequence = []
    for t in range(1, steps + 1):
        step = {"x": vec(sizes["inputs"])}
        if block["loss_at"] == "every" or t == steps:
            step["t"] = vec(sizes["outputs"])
        sequence.append(step)
    raw = {"name": "random-rnn", "recurrent": block, "loss": draw(st.sampled_from(["half_sse", "sse", "mse"])),
           "values": {"sequence": sequence}}
    return with_values(raw, draw)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recurrent_specs())
def test_random_recurrent_networks_all_methods_agree(raw):
    check_all_methods(raw)


# ----------------------------------------------------------------------------- conv

@st.composite
def conv_specs(draw):
    dims = draw(st.integers(1, 2))
    shape = [draw(st.integers(3, 6))] if dims == 1 else [draw(st.integers(3, 4)), draw(st.integers(3, 4))]
    channels = draw(st.integers(1, 2))
    kernel = draw(st.integers(1, min(3, *shape)))
    conv = {"kernel": kernel, "stride": draw(st.integers(1, 2)), "padding": draw(st.integers(0, kernel - 1)),
            "channels": draw(st.integers(1, 2)), "activation": draw(st.sampled_from(SMOOTH)),
            "bias": draw(st.booleans())}
    layers = [{f"conv{dims}d": conv}]
    out = [(n + 2 * conv["padding"] - kernel) // conv["stride"] + 1 for n in shape]
    if min(out) >= 2 and draw(st.booleans()):
        layers.append({draw(st.sampled_from(["max_pool", "avg_pool"])): {"size": 2, "stride": draw(st.integers(1, 2))}})
    n_out = None
    if draw(st.booleans()):
        n_out = draw(st.integers(1, 2))
        layers += ["flatten", {"dense": {"units": n_out, "activation": draw(st.sampled_from(SMOOTH))}}]
    block = {"input": shape, "channels": channels, "layers": layers}
    x = [draw(value) for _ in range(channels * shape[0] * (shape[1] if dims == 2 else 1))]
    nest = x
    if dims == 2:
        nest = [nest[i:i + shape[1]] for i in range(0, len(nest), shape[1])]
    if channels > 1:
        per = len(nest) // channels
        nest = [nest[c * per:(c + 1) * per] for c in range(channels)]
    raw = {"name": "random-conv", "conv": block, "loss": draw(st.sampled_from(["half_sse", "sse", "mse"]))}
    outputs = spec_from_mapping(copy.deepcopy({**raw, "conv": block})).outputs
    raw["values"] = {"inputs": {"x": nest}, "targets": {"y": [draw(value) for _ in outputs]}}
    return with_values(raw, draw)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conv_specs())
def test_random_conv_networks_all_methods_agree(raw):
    check_all_methods(raw)


# ----------------------------------------------------------------------------- shipped examples

SHAPES = ["rnn-three-steps", "rnn-truncated", "conv1d-maxpool", "conv2d-4x4"]


@pytest.mark.parametrize("stem", SHAPES)
def test_shipped_examples_all_methods_agree(stem):
    from reference import load

    raw = load(EXAMPLES / f"{stem}.yaml")
    spec = spec_from_mapping(copy.deepcopy(raw))   # the oracle reads nested-list values by generated name
    raw["values"]["params"] = {p: float(v) for p, v in spec.params_values.items()}
    check_all_methods(raw, drawn=False)


def test_truncated_bptt_is_labelled_and_keeps_the_true_gradient_beside():
    d = derive(load_spec(EXAMPLES / "rnn-truncated.yaml"))
    out = d.to_dict()
    assert d.is_variant and d.variant_kind == "truncated"
    assert out["variant"]["kind"] == "truncated" and "NOT the gradient" in out["variant"]["note"]
    assert out["variant"]["true_gradient_values"] == pytest.approx(
        derive(load_spec(EXAMPLES / "rnn-truncated.yaml"), "backprop").true.numbers.gradients)
    assert out["variant"]["max_abs_gradient_difference"] > 1e-3


def test_the_delta_chain_reads_as_the_lecture_writes_it():
    """δ_{h_t} = f′(net_{h_t})·(W δ_{h_{t+1}} + V δ_{y_t}) with loss at every step."""
    d = derive(spec_from_mapping({"name": "r", "loss": "half_sse",
                                  "recurrent": {"steps": 3, "loss_at": "every"}}))
    W, V = sp.symbols("W V")
    out = sp.Symbol("out_h_2")
    assert sp.expand(d.deltas["h_2"].expression - (1 - out ** 2) * (W * sp.Symbol("delta_h_3")
                                                                   + V * sp.Symbol("delta_y_2"))) == 0
    assert d.gradients["W"].expression == sum(sp.Symbol(f"delta_h_{t}") * s for t, s in
                                              ((1, sp.Symbol("h_0")), (2, sp.Symbol("out_h_1")),
                                               (3, sp.Symbol("out_h_2"))))


def test_kernel_gradient_is_the_sum_over_positions():
    d = derive(spec_from_mapping({"name": "c", "loss": "half_sse",
                                  "conv": {"input": [4], "layers": [{"conv1d": {"kernel": 2, "bias": False}}]}}))
    assert d.gradients["k1_2"].expression == sum(sp.Symbol(f"delta_c1_{p}") * sp.Symbol(f"x_{p + 1}")
                                                 for p in (1, 2, 3))
    assert d.gradients["k1_2"].path_count == 3


# ----------------------------------------------------------------------------- ties and exams

def _tied_pool(x: list) -> dict:
    return {"name": "tie", "loss": "half_sse",
            "conv": {"input": [4], "layers": [{"conv1d": {"kernel": 1, "bias": False}},
                                              {"max_pool": {"size": 2}}]},
            "values": {"inputs": {"x": x}, "params": {"k1_1": 1}, "targets": {"y": [0, 0]}}}


def test_max_pool_at_a_tie_carries_the_warning():
    d = derive(spec_from_mapping(_tied_pool([0.5, 0.5, 0.2, 0.7])))
    assert [w["node"] for w in d.warnings] == ["p2_1"]
    assert "tie" in d.warnings[0]["message"]
    assert d.to_dict()["warnings"][0]["node"] == "p2_1"
    # the documented subgradient: the tie goes to the first argument, weights summing to 1
    assert d.numbers.deltas["c1_1"] == pytest.approx(0.5) and d.numbers.deltas["c1_2"] == 0


def test_exams_never_draw_a_max_pool_tie():
    """A grid so coarse that ties are common: every drawn variant is tie-free, and ties were met."""
    from symbackprop.exams.variants import degenerate, draw_variants

    raw = _tied_pool([1, 1, 0, 1])
    raw["randomize"] = {"inputs": {"low": 0, "high": 1, "step": 1}, "allow": ["zero_value", "zero_gradient"]}
    variants = draw_variants(spec_from_mapping(raw), 2, seed=3)
    assert len(variants) == 2
    for v in variants:
        d = v.derivation
        assert not d.warnings and degenerate(d) is None
    import itertools

    tied = [x for x in itertools.product([0, 1], repeat=4)
            if "max at a tie" in (degenerate(derive(spec_from_mapping(_tied_pool(list(x))))) or "")]
    assert len(tied) == 12   # 3 in 4 draws of this grid tie a pool: the generator drew again


def test_exam_variants_of_a_recurrent_spec_keep_h0_fixed():
    from symbackprop.exams.variants import draw_variants

    spec = load_spec(EXAMPLES / "rnn-three-steps.yaml")
    raw = dict(spec.raw, randomize={"params": {"low": -1, "high": 1, "step": 0.1}})
    for v in draw_variants(spec_from_mapping(raw), 2, seed=1):
        d = v.derivation
        assert d.numbers.forward["h_0"] == 0.0 and "h_0" not in d.spec.inputs


# ----------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("raw,key,message", [
    ({"recurrent": {}}, "recurrent.steps", "give 'steps"),
    ({"recurrent": {"steps": 3, "truncate": 3}}, "recurrent.truncate", "from 1 to 2"),
    ({"recurrent": {"steps": 2, "loss_at": "first"}}, "recurrent.loss_at", "'last' or 'every'"),
    ({"recurrent": {"steps": 2, "stat": 2}}, "recurrent.stat", "unknown key"),
    ({"recurrent": {"steps": 2}, "inputs": ["a"]}, "inputs", "generates the inputs"),
    ({"recurrent": {"steps": 2}, "values": {"sequence": [{"x": 1}]}}, "recurrent.steps", "sequence has 1"),
    ({"recurrent": {"steps": 1}, "values": {"sequence": [{"x": [1, 2]}]}}, "values.sequence[0].x", "a number"),
    ({"recurrent": {"steps": 1}, "values": {"sequence": [{"x": 1}]}}, "values.sequence[0]", "target"),
    ({"recurrent": {"steps": 2}, "conv": {"input": [3], "layers": ["flatten"]}}, "conv", "not both"),
    ({"conv": {"input": [3], "layers": [{"conv2d": {"kernel": 2}}]}}, "conv.layers[0].conv2d", "2-D input"),
    ({"conv": {"input": [3], "layers": [{"conv1d": {"kernel": 4}}]}}, "conv.layers[0].conv1d.kernel", "larger"),
    ({"conv": {"input": [3], "layers": [{"conv1d": {"kernel": 2, "padding": 2}}]}},
     "conv.layers[0].conv1d.padding", "smaller than the kernel"),
    ({"conv": {"input": [3], "layers": [{"dense": {"units": 1}}]}}, "conv.layers[0].dense", "flatten"),
    ({"conv": {"input": [3], "layers": [{"pool": {}}]}}, "conv.layers[0]", "one of conv1d"),
    ({"conv": {"input": [2, 2], "layers": ["flatten"]}, "values": {"inputs": {"x": [1, 2]}}},
     "values.inputs.x[0]", "list of 2"),
])
def test_bad_shorthands_are_one_clear_error(raw, key, message):
    with pytest.raises(SpecError) as info:
        spec_from_mapping({"name": "bad", "loss": "half_sse", **raw})
    assert info.value.key == key and message in info.value.message, str(info.value)
