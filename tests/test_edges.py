"""Issue 18, edges and losses (tests/test_shapes.py has the recurrent and conv shapes):
fixed (skip) weights, losses over the inputs, ``targets: inputs``,
the L2 forms — each checked like the MLPs (paths == backprop symbolically, == ``sympy.diff`` of
the composite, == central finite differences and torch autograd of the independent reference) —
and how they print; the residual and softmax slips on hand-written answers.

Shipped examples (residual-block, tied-autoencoder) go through tests/test_gradients.py and
tests/test_examples.py too; the specs here are the variants that have no example file.
"""
from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
import sympy as sp
import yaml

import reference
from conftest import EXAMPLES
from symbackprop import derive, load_spec, spec_from_mapping
from symbackprop.check import CheckContext, check_answer
from symbackprop.derive.expand import Expander
from symbackprop.render.text import text_report
from test_gradients import HAVE_TORCH, _lambdify, lecture_form

RECONSTRUCTION = """\
name: reconstruction
inputs: [x1, x2]
neurons:
  h: {from: {x1: w1, x2: w2}, activation: tanh}
  y1: {from: {h: v1}, activation: identity}
  y2: {from: {h: v2, x2: 0.5}, activation: identity}
outputs: [y1, y2]
loss: "(out_y1 - x1)**2 + (out_y2 - x2)**2"
values:
  inputs: {x1: 0.5, x2: -0.3}
  params: {w1: 0.4, w2: 0.7, v1: 0.9, v2: -0.2}
"""

AUTOENCODER_DATA = """\
name: ae-data
inputs: [x1, x2]
neurons:
  h: {from: {x1: w1, x2: w2}, activation: sigmoid}
  y1: {from: {h: w1}, activation: identity}
  y2: {from: {h: w2}, activation: identity}
outputs: [y1, y2]
targets: inputs
loss: half_sse
reduction: mean
data:
  - {inputs: {x1: 0.8, x2: -0.4}}
  - {inputs: {x1: -0.2, x2: 0.6}}
  - {inputs: {x1: 0.1, x2: 0.3}}
values:
  params: {w1: 0.5, w2: -0.7}
"""


TIED_LAYERS = """\
name: tied-layers
layers: [2, 1, 2]
activations: [sigmoid, identity]
bias: true
tie: {W2: W1^T}
targets: inputs
loss: half_sse
values:
  inputs: {x: [0.8, -0.4]}
  params: {W1: [[0.5, -0.7]], b1: [0.1], b2: [0.2, -0.1]}
"""


def _l2(form: str) -> str:
    raw = yaml.safe_load((EXAMPLES / "we07b-sse-l2.yaml").read_text())
    raw["regularization"] = {"l2": 0.05, "form": form}
    raw["name"] = "l2-form"
    return yaml.safe_dump(raw)


CASES = {"reconstruction": RECONSTRUCTION, "autoencoder-data": AUTOENCODER_DATA, "tied-layers": TIED_LAYERS,
         "l2-lambda": _l2("lambda*sum"), "l2-half": _l2("lambda/2*sum"), "l2-2m": _l2("lambda/(2m)*sum")}


def _point(raw: dict) -> dict:
    return {k: float(v) for k, v in reference.expand_layers(raw)["values"]["params"].items()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_paths_equal_backprop_and_diff_of_the_composite(case):
    spec = spec_from_mapping(yaml.safe_load(CASES[case]))
    b, p = derive(spec, "backprop"), derive(spec, "paths")
    expander = Expander(dict(b.definitions()), limit=10**7)
    composite = expander.expand(b.loss_definition)
    leaves = [b.network.graph.nodes[n]["symbol"] for n in b.network.leaves()]
    rng = random.Random(5)
    points = [[rng.uniform(0.2, 0.9) * rng.choice([-1, 1]) for _ in leaves] for _ in range(3)]
    for w, entry in p.gradients.items():
        assert sp.cancel(sp.expand(lecture_form(b, b.gradients[w].expression) - entry.expression)) == 0, w
        by_diff = _lambdify(leaves, sp.diff(composite, b.network.graph.nodes[w]["symbol"]))
        ours = _lambdify(leaves, expander.expand(b.gradients[w].expression))
        for point in points:
            assert np.isclose(float(ours(*point)), float(by_diff(*point)), rtol=1e-9, atol=1e-12), (w, point)


@pytest.mark.parametrize("case", sorted(CASES))
def test_numbers_equal_finite_differences_and_torch(case):
    raw = yaml.safe_load(CASES[case])
    fd = reference.finite_difference_gradient(raw, _point(raw))
    torch_grad = reference.torch_gradient(raw, _point(raw)) if HAVE_TORCH else None
    loss = reference.total_loss(raw, _point(raw))
    for method in ("backprop", "paths"):
        d = derive(spec_from_mapping(raw), method)
        assert d.numbers.forward[d.network.root] == pytest.approx(loss, rel=1e-12)
        for w, value in d.numbers.gradients.items():
            assert value == pytest.approx(fd[w], rel=1e-6, abs=1e-9), (method, w)
            if torch_grad is not None:
                assert value == pytest.approx(torch_grad[w], rel=1e-10, abs=1e-12), (method, w)


def test_the_l2_forms_scale_the_penalty_by_hand():
    """λ = 0.05, m = 3 examples: the penalties of the three forms are λΣw², λ/2·Σw², λ/(2·3)·Σw²
    over the weights w1 = 0.9, w2 = 1.3 (biases not regularised)."""
    squares = 0.9 ** 2 + 1.3 ** 2
    def loss(form):
        d = derive(spec_from_mapping(yaml.safe_load(_l2(form))))
        return d.numbers.forward[d.network.root]

    plain = loss("lambda*sum")
    for form, factor in (("lambda/2*sum", 0.05 / 2), ("lambda/(2m)*sum", 0.05 / 6)):
        assert plain - loss(form) == pytest.approx((0.05 - factor) * squares, rel=1e-12), form


def _document(d, kind: str) -> str:
    from symbackprop.render.options import RenderOptions
    from symbackprop.render.registry import DOCUMENTS

    return "".join(text for _, text in DOCUMENTS[kind].write(d, RenderOptions()))


def test_the_l2_form_is_printed_as_the_spec_writes_it():
    spec = spec_from_mapping(yaml.safe_load(_l2("lambda/(2m)*sum")))
    assert r"\frac{0.05}{2 \cdot 3}" in _document(derive(spec), "derivation")
    spec = spec_from_mapping(yaml.safe_load(_l2("lambda/2*sum")))
    assert r"\frac{0.05}{2}" in _document(derive(spec), "solution")


def test_a_loss_over_the_inputs_needs_no_targets():
    spec = spec_from_mapping(yaml.safe_load(RECONSTRUCTION))
    assert spec.target_outputs == () and spec.examples[0].targets == {}
    g = derive(spec).network.graph
    assert not [n for n in g if g.nodes[n]["kind"] == "target"]
    assert g.has_edge("x1", "E") and g.has_edge("x2", "E")   # the loss reads the inputs


def test_targets_inputs_copies_each_input_into_its_output_target():
    spec = spec_from_mapping(yaml.safe_load(AUTOENCODER_DATA))
    assert [dict(ex.targets) for ex in spec.examples] == [
        {"y1": sp.Rational(4, 5), "y2": sp.Rational(-2, 5)}, {"y1": sp.Rational(-1, 5), "y2": sp.Rational(3, 5)},
        {"y1": sp.Rational(1, 10), "y2": sp.Rational(3, 10)}]


# ------------------------------------------------------------------ printing a fixed weight

def test_a_fixed_weight_prints_as_its_number_everywhere():
    from symbackprop.render.tikz import network_picture

    d = derive(load_spec(EXAMPLES / "residual-block.yaml"))
    text = text_report(d.to_dict())
    assert "delta_h1 = delta_a2*w2 + delta_h2" in text
    data = d.to_dict()
    assert data["deltas"]["h1"]["expression"] == "delta_a2*w2 + delta_h2"
    tex = _document(d, "solution")
    # net_h1 = v1·out_a1 + 1·x with the 1 dropped
    assert r"v_{1}\,\mathrm{out}_{a_{1}} + x = \left(-0.6\right) \cdot 0.379949 + 0.5 = 0.272031" in tex
    picture = network_picture(d.network)
    skips = [e for e in picture["edges"] if e["controls"]]
    assert len(skips) == 2 and all(e["label"] == "1" for e in skips)   # x → h1 and h1 → h2, drawn as arcs
    assert all(not e["controls"] for e in picture["edges"] if e not in skips)


def test_a_relu_derivative_prints_as_the_lectures_indicator_in_text():
    d = derive(load_spec(EXAMPLES / "we10-relu-one-step.yaml"))
    text = text_report(d.to_dict())
    assert "Heaviside" not in text and "𝟙[net_h1 > 0]" in text
    assert "Heaviside(net_h1, 0)" in json.dumps(d.to_dict())   # the JSON stays parseable


# ------------------------------------------------------------------ slips on hand-written answers

def _residual_values() -> dict[str, float]:
    """The residual block's forward values, by hand (examples/independent/residual-block.py)."""
    x, t = 0.5, 1.0
    w1, v1, w2, v2, w3, b = 0.8, -0.6, 0.3, 0.9, 1.1, -0.2
    a1 = math.tanh(w1 * x)
    h1 = x + v1 * a1
    a2 = math.tanh(w2 * h1)
    h2 = h1 + v2 * a2
    o = 1 / (1 + math.exp(-(w3 * h2 + b)))
    return dict(x=x, t_o=t, w1=w1, v1=v1, w2=w2, v2=v2, w3=w3, b=b, out_a1=a1, out_h1=h1, out_a2=a2,
                out_h2=h2, out_o=o)


def _value(answer: str, values: dict[str, float]) -> float:
    return float(sp.sympify(answer).subs(values))   # test-side evaluation of a literal answer


RESIDUAL_SLIPS = [
    # dE/dw1 with delta_h1 = w2 delta_a2 only (the skip h1 -> h2 dropped)
    ("w1", "x*v1*(1-out_a1**2)*w2*v2*(1-out_a2**2)*w3*(out_o-t_o)*out_o*(1-out_o)",
     lambda r: r["x"] * r["v1"] * (1 - r["out_a1"] ** 2) * r["w2"] * r["v2"] * (1 - r["out_a2"] ** 2) * r["w3"]
     * (r["out_o"] - r["t_o"]) * r["out_o"] * (1 - r["out_o"]), "missing_skip"),
    ("delta_h1", "w2*v2*(1-out_a2**2)*w3*(out_o-t_o)*out_o*(1-out_o)",
     lambda r: r["w2"] * r["v2"] * (1 - r["out_a2"] ** 2) * r["w3"] * (r["out_o"] - r["t_o"]) * r["out_o"]
     * (1 - r["out_o"]), "missing_skip"),
    # the path through a2 dropped instead: a missing path, but not the skip
    ("w1", "x*v1*(1-out_a1**2)*w3*(out_o-t_o)*out_o*(1-out_o)",
     lambda r: r["x"] * r["v1"] * (1 - r["out_a1"] ** 2) * r["w3"] * (r["out_o"] - r["t_o"]) * r["out_o"]
     * (1 - r["out_o"]), "missing_path"),
]


@pytest.mark.parametrize("wrt,answer,by_hand,slip", RESIDUAL_SLIPS)
def test_residual_slips_are_named(wrt, answer, by_hand, slip):
    values = _residual_values()
    assert _value(answer, values) == pytest.approx(by_hand(values), rel=1e-12)   # the answer is the slip
    ctx = CheckContext(derive(load_spec(EXAMPLES / "residual-block.yaml")))
    names = [m.key for m in check_answer(ctx, wrt, answer).slips]
    assert slip in names, names
    if slip != "missing_skip":
        assert "missing_skip" not in names


def test_the_sigmoid_delta_for_softmax_is_named():
    """WE-7c: δ_p2 = p2 − t2 (one-hot); the slip writes p2(1 − p2)(p2 − t2). With the example's
    values (independent/we07c-softmax-ce.py: p2 and the target 1) the slip's figure differs."""
    ctx = CheckContext(derive(load_spec(EXAMPLES / "we07c-softmax-ce.yaml")))
    expected = json.loads((EXAMPLES / "we07c-softmax-ce.expected.json").read_text())["checks"]
    p2 = next(c["value"] for c in expected if c["key"] == "forward.p2.out")
    slipped = p2 * (1 - p2) * (p2 - 1)
    assert slipped != pytest.approx(p2 - 1, rel=1e-3)
    for wrt, answer in (("delta_p2", "out_p2*(1-out_p2)*(out_p2-t_p2)"),
                        ("v21", "out_p2*(1-out_p2)*(out_p2-t_p2)*out_h1")):
        result = check_answer(ctx, wrt, answer)
        assert result.verdict == "wrong"
        assert "softmax_sigmoid_delta" in [m.key for m in result.slips]
    assert check_answer(ctx, "delta_p2", "out_p2 - t_p2").verdict == "correct"


def test_tied_layers_are_the_tied_autoencoder_and_say_so_in_the_matrix_view():
    """``tie: {W2: W1^T}`` on [2, 1, 2] is examples/tied-autoencoder.yaml under generated names; its
    gradients are that example's independent figures; the layer view states the tie."""
    from symbackprop.layers import layer_view, layer_view_dict

    d = derive(spec_from_mapping(yaml.safe_load(TIED_LAYERS)))
    assert set(d.spec.parameters) == {"w1_1_1", "w1_1_2", "b1_1", "b2_1", "b2_2"}
    expected = {c["key"]: c["value"] for c in
                json.loads((EXAMPLES / "tied-autoencoder.expected.json").read_text())["checks"] if "value" in c}
    for ours, theirs in (("w1_1_1", "w1"), ("w1_1_2", "w2"), ("b1_1", "b"), ("b2_1", "c1"), ("b2_2", "c2")):
        assert d.numbers.gradients[ours] == pytest.approx(expected[f"gradients.{theirs}.value"], abs=1e-12)
    view = layer_view_dict(layer_view(d))
    assert view["layers"]["2"]["tied"] == "W1^T" and "tied" not in view["layers"]["1"]
    assert "W2 = W1^T = [w1_1_1; w1_1_2]" in text_report({**d.to_dict(), "layer_view": view})
    tex = _document(d, "matrix")
    assert r"W^{(2)} = \left(W^{(1)}\right)^{\top}" in tex
    total = f"{expected['gradients.w1.value']:.6f}"
    assert total in tex   # ∂E/∂W1 + (∂E/∂W2)^T in numbers


def _independent(stem: str) -> dict:
    """The module globals of examples/independent/<stem>.py (its hand-derived figures)."""
    import contextlib
    import io
    import runpy

    with contextlib.redirect_stdout(io.StringIO()):
        return runpy.run_path(str(EXAMPLES / "independent" / f"{stem}.py"))


def test_batch_statistics_taken_as_constants_are_named():
    """∂E/∂b of batchnorm-3 with the mean, or the mean and the variance, held constant; the
    slipped figures come from the independent script's forward and backward values."""
    r = _independent("batchnorm-3")
    h, mu, var, d_z, d_var, m = r["h"], r["mu"], r["var"], r["d_z"], r["d_var"], 3
    g, s = r["P0"]["g"], math.sqrt(r["var"] + r["EPS"])
    both = sum(d_z[n] * g / s * (1 - h[n] ** 2) for n in range(m))
    mean_only = sum((d_z[n] * g / s + d_var * 2 * (h[n] - mu) / m) * (1 - h[n] ** 2) for n in range(m))
    assert both != pytest.approx(r["g"]["b"], rel=1e-3) and mean_only != pytest.approx(r["g"]["b"], rel=1e-3)
    d = derive(load_spec(EXAMPLES / "batchnorm-3.yaml"))
    ctx = CheckContext(d)
    answers = {
        " + ".join(f"delta_z__{n}*g/sqrt(var_z + 1/1000)*(1 - out_h__{n}**2)" for n in (1, 2, 3)): both,
        " + ".join(f"(delta_z__{n}*g/sqrt(var_z + 1/1000) + delta_var_z*2*(out_h__{n} - mu_z)/3)"
                   f"*(1 - out_h__{n}**2)" for n in (1, 2, 3)): mean_only,
    }
    values = {sp.Symbol(k): v for k, v in d.numbers.forward.items()}
    values.update({sp.Symbol(e.symbol.name): d.numbers.deltas[k] for k, e in d.deltas.items()})
    values[sp.Symbol("g")] = g
    for answer, slipped in answers.items():
        assert float(sp.sympify(answer).subs(values)) == pytest.approx(slipped, rel=1e-9)
        result = check_answer(ctx, "b", answer)
        assert result.verdict == "wrong"
        assert "batch_stats_constant" in [m.key for m in result.slips], answer
