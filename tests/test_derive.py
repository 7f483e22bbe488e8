"""Engine units: path counting, operation counts, expansion guard, lecture forms, the variant."""
from __future__ import annotations

import pytest
import sympy as sp

from conftest import EXAMPLES, derivation
from symbackprop import SpecError, derive, load_spec, spec_from_mapping
from symbackprop.derive.expand import ExpansionTooLarge
from symbackprop.derive.paths import enumerate_paths, path_counts
from symbackprop.derive.stats import backprop_cost, operations, paths_cost
from symbackprop.derive.backprop import backprop


def layered(layers, activation="sigmoid", loss="half_sse", **extra):
    return spec_from_mapping({"name": "n", "layers": layers, "activation": activation, "loss": loss, **extra})


def test_path_count_by_dynamic_programming_matches_enumeration_and_the_lecture():
    d = derivation(str(EXAMPLES / "we02-paths-3-3-3-3-2.yaml"))
    counts = path_counts(d.network)
    assert counts["w1_1_1"] == 3 * 3 * 2            # WE-2: 18 paths from w1 into one first-hidden node
    for w in d.network.wrt:
        assert counts[w] == len(enumerate_paths(d.network, w))


def test_huge_path_counts_are_counted_not_enumerated():
    net = derive(layered([2] + [10] * 30 + [1]), "backprop").network
    assert path_counts(net)["w1_1_1"] == 10 ** 29    # 10 choices in each of 29 later layers
    with pytest.raises(SpecError, match="paths to enumerate exceed the limit"):
        derive(layered([2] + [10] * 30 + [1]), "paths")


def test_paths_cost_by_dynamic_programming_equals_brute_force():
    for name in ("we02-paths-3-3-3-3-2", "we14b-two-layer", "we07c-softmax-ce", "we03-three-formulas"):
        d = derivation(str(EXAMPLES / f"{name}.yaml"))
        brute = {"mul": 0, "add": 0, "other": 0}
        for w in d.network.wrt:
            terms = enumerate_paths(d.network, w)
            if not terms:
                continue
            brute["add"] += len(terms) - 1
            for t in terms:
                brute["mul"] += len(t.factors) - 1
                for f in t.factors:
                    for k, v in operations(f).items():
                        brute[k] += v
        assert paths_cost(d.network) == brute, name


def test_backprop_needs_fewer_operations_and_grows_linearly():
    """WE-14's claim, measured: reuse of cached δs beats recomputing every path."""
    small, big = layered([3, 3, 3, 3, 2]), layered([3, 3, 3, 3, 3, 3, 2])
    for spec in (small, big):
        net = derive(spec).network
        a = backprop(net)
        cached = backprop_cost(a.deltas.values(), a.gradients.values())
        assert cached["mul"] < paths_cost(net)["mul"]
    grow = lambda s: backprop_cost(*(lambda a: (a.deltas.values(), a.gradients.values()))(backprop(derive(s).network)))["mul"]
    # two more 3-wide layers add 18 weights and 6 neurons: cost grows by a constant per edge,
    # while the path cost multiplies
    assert grow(big) - grow(small) < 3 * grow(small)
    assert paths_cost(derive(big).network)["mul"] > 5 * paths_cost(derive(small).network)["mul"]


def test_expansion_is_refused_past_the_limit_not_built():
    d = derive(layered([4, 8, 8, 8, 8, 2]), expansion_limit=1000)
    with pytest.raises(ExpansionTooLarge, match="limit 1,000"):
        d.expanded(d.gradients["w1_1_1"].expression)
    assert d.to_dict()["gradients"]["w1_1_1"]["expanded"] is None


def test_we1_expanded_equals_the_lecture_closed_form():
    d = derivation(str(EXAMPLES / "we01-cubic-chain.yaml"))
    x, w1, w2, t = sp.symbols("x w1 w2 t_o")
    lecture = 18 * (w2**3 * w1**9 * x**9 - t) * w2**3 * w1**8 * x**9
    assert sp.expand(d.expanded(d.gradients["w1"].expression) - lecture) == 0


def test_lecture_delta_forms():
    bce = derivation(str(EXAMPLES / "we07a-bce-l2.yaml"))
    out_key = [k for k in bce.deltas if bce.network.graph.nodes[bce.deltas[k].node]["owner"] in bce.spec.outputs][0]
    assert bce.deltas[out_key].expression == sp.Symbol(f"out_{out_key}") - sp.Symbol(f"t_{out_key}")
    ce = derivation(str(EXAMPLES / "we07c-softmax-ce.yaml"))
    for o in ce.spec.outputs:
        entry = ce.deltas[o]
        assert entry.simplified == sp.Symbol(f"out_{o}") - sp.Symbol(f"t_{o}")
        assert "sum to 1" in entry.condition and "holds for the given targets" in entry.condition
    half = derivation(str(EXAMPLES / "we05-221-sigmoid.yaml"))
    o, t = sp.symbols("out_F t_F")
    assert half.deltas["F"].expression == o * (1 - o) * (o - t)     # −(t − out)·f′


def test_softmax_simplification_is_not_claimed_when_targets_do_not_sum_to_one():
    raw = load_spec(EXAMPLES / "we07c-softmax-ce.yaml").raw
    raw = {**raw, "values": {**raw["values"], "targets": {o: 0.5 for o in raw["outputs"]}}}
    d = derive(spec_from_mapping(raw))
    entry = d.deltas[raw["outputs"][0]]
    assert "does NOT hold" in entry.condition
    # the general form is what is computed: out_k·Σt − t_k
    out = d.numbers.forward[f"out_{raw['outputs'][0]}"]
    assert d.numbers.deltas[raw["outputs"][0]] == pytest.approx(out * 1.5 - 0.5)


def test_variant_reproduces_the_lecture_and_says_how_far_it_is():
    d = derivation(str(EXAMPLES / "we06-221-sigmoid-updated.yaml"))
    # WE-6 (shared/worked-examples.md): lecture variant δ_T −0.009161, δ_B −0.006280; true −0.005492, −0.002815
    assert d.numbers.deltas["T"] == pytest.approx(-0.009161, abs=6e-7)
    assert d.numbers.deltas["Bo"] == pytest.approx(-0.006280, abs=6e-7)
    assert d.numbers.true_deltas["T"] == pytest.approx(-0.005492, abs=6e-7)
    assert d.numbers.true_deltas["Bo"] == pytest.approx(-0.002815, abs=6e-7)
    result = d.to_dict()
    assert "NOT the gradient" in result["variant"]["note"]
    assert result["variant"]["max_abs_gradient_difference"] > 1e-3
    assert sp.Symbol("w_TF__new") in d.deltas["T"].expression.free_symbols


def test_parameters_that_do_not_reach_the_loss_have_zero_gradient():
    spec = spec_from_mapping({"name": "n", "inputs": ["x"], "loss": "half_sse", "outputs": ["o"],
                              "neurons": {"o": {"from": {"x": "w"}, "activation": "identity"},
                                          "dead": {"from": {"x": "v"}, "activation": "sigmoid"}}})
    for method in ("backprop", "paths"):
        d = derive(spec, method)
        assert d.gradients["v"].expression == 0 and d.gradients["v"].path_count == 0


def test_unknown_method():
    with pytest.raises(SpecError, match="unknown method"):
        derive(layered([1, 1]), "forward")
