"""Every example, both methods: paths == backprop exactly, == sympy.diff of the composite loss,
== central finite differences and == torch autograd of an independent implementation."""
from __future__ import annotations

import random

import numpy as np
import pytest
import sympy as sp
import yaml

import reference
from conftest import EXAMPLE_SPECS, derivation, ids
from test_shapes import SHAPES  # the shorthand examples, checked there against their own oracle
from symbackprop import derive, spec_from_mapping
from symbackprop.derive.expand import Expander
from symbackprop.functions import NUMPY_FUNCTIONS, numpy_printer

try:
    import torch  # noqa: F401  (the independent autodiff; optional)
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False

# WE-10's h2 sits exactly on the ReLU kink: a central difference there is not the derivative.
KINK_AT_GIVEN_VALUES = {"we10-relu-one-step", "we10-matrix"}


def lecture_form(d, expr: sp.Expr) -> sp.Expr:
    """Substitute the δ definitions (only): the expression in outs, nets, targets, params, inputs."""
    deltas = {e.symbol: e.expression for e in d.deltas.values()}
    deltas.update(d.updated_definitions)
    return Expander(deltas, limit=10**7).expand(expr)


PLAIN = [p for p in EXAMPLE_SPECS if not p.stem.endswith("-updated")]
VARIANTS = [p for p in EXAMPLE_SPECS if p.stem.endswith("-updated")]


@pytest.mark.parametrize("path", PLAIN, ids=ids(PLAIN))
def test_paths_equal_backprop_exactly(path):
    b, p = derivation(str(path), "backprop"), derivation(str(path), "paths")
    assert list(b.gradients) == list(p.gradients)
    for w, entry in p.gradients.items():
        assert len(entry.paths) == entry.path_count == b.gradients[w].path_count
        difference = lecture_form(b, b.gradients[w].expression) - entry.expression
        assert sp.cancel(sp.expand(difference)) == 0, w
    for key, entry in p.deltas.items():
        difference = lecture_form(b, b.deltas[key].symbol) - entry.expression
        assert sp.cancel(sp.expand(difference)) == 0, key


@pytest.mark.parametrize("path", VARIANTS, ids=ids(VARIANTS))
def test_variant_is_refused_by_paths_and_its_true_gradient_is_the_plain_one(path):
    from symbackprop import SpecError, load_spec

    with pytest.raises(SpecError, match="backprop procedure"):
        derive(load_spec(path), "paths")
    variant = derivation(str(path))
    plain = derivation(str(path).replace("-updated", ""))
    assert variant.numbers.true_gradients == pytest.approx(plain.numbers.gradients, rel=1e-12)
    assert variant.numbers.gradients != pytest.approx(plain.numbers.gradients, rel=1e-6)


def _leaf_symbols(d):
    return [d.network.graph.nodes[n]["symbol"] for n in d.network.leaves()]


def _lambdify(symbols, expr):
    return sp.lambdify(symbols, expr, modules=[NUMPY_FUNCTIONS, "numpy"], printer=numpy_printer())


@pytest.mark.parametrize("path", PLAIN, ids=ids(PLAIN))
@pytest.mark.parametrize("method", ["backprop", "paths"])
def test_gradient_equals_diff_of_composite(path, method):
    d = derivation(str(path), method)
    if d.is_variant:   # truncated BPTT: the true gradient beside it is what diff gives (the truncated
        d = d.true     # one is held against the detached oracle in tests/test_shapes.py)
    expander = Expander(dict(d.definitions()), limit=10**7)
    composite = expander.expand(d.loss_definition)
    leaves = _leaf_symbols(d)
    rng = random.Random(7)
    points = [[rng.uniform(0.2, 0.9) * rng.choice([-1, 1]) for _ in leaves] for _ in range(4)]
    for w, entry in d.gradients.items():
        wsym = d.network.graph.nodes[w]["symbol"]
        by_diff = sp.diff(composite, wsym)
        ours = expander.expand(entry.expression)
        f, g = _lambdify(leaves, by_diff), _lambdify(leaves, ours)
        for point in points:
            assert np.isclose(float(g(*point)), float(f(*point)), rtol=1e-9, atol=1e-12), (w, point)


def _perturbed(raw: dict, seed: int) -> dict:
    rng = random.Random(seed)
    out = yaml.safe_load(yaml.safe_dump(raw))
    out.setdefault("values", {})
    params = out["values"].get("params")
    if params:
        out["values"]["params"] = {k: float(v) + rng.uniform(-0.05, 0.05) for k, v in params.items()}
    return out


def _point(spec_raw: dict) -> dict:
    point = dict(spec_raw.get("values", {}).get("params", {}))
    wrt = reference.wrt_names(spec_raw)
    for name in wrt:
        if name not in point:
            point[name] = spec_raw["values"]["inputs"][name]
    return {k: float(v) for k, v in point.items()}


# The recurrent: and conv: shorthands are not read by tests/reference.py; their shipped examples are
# held against finite differences and torch of their own oracle (tests/shapes_reference.py) in
# tests/test_shapes.py::test_shipped_examples_all_methods_agree.
SHAPES_ORACLE = set(SHAPES)


def _valued_specs():
    out = []
    for p in EXAMPLE_SPECS:
        if p.stem in SHAPES_ORACLE:
            continue
        raw = reference.load(p)
        if "values" in raw and ("params" in raw["values"] or "inputs" in raw["values"]):
            out.append(p)
    return out


VALUED = _valued_specs()


def _scalar_values(raw: dict) -> dict:
    """Matrix-form values (``W1: [[…]]``) as the reference reads them, the network kept as written."""
    expanded = reference.expand_layers(raw)
    for key in ("values", "data"):
        if key in raw:
            raw[key] = expanded[key]
    return raw


@pytest.mark.parametrize("path", VALUED, ids=ids(VALUED))
def test_gradients_match_finite_differences_and_torch(path):
    raw = _scalar_values(reference.load(path))
    raw["backprop_weights"] = "old"
    cases = [raw] if path.stem not in KINK_AT_GIVEN_VALUES else []
    cases += [_perturbed(raw, seed) for seed in (1, 2)]
    for case in cases:
        point = _point(case)
        for method in ("backprop", "paths"):
            d = derive(spec_from_mapping(case), method)
            fd = reference.finite_difference_gradient(case, point)
            for w, value in d.numbers.gradients.items():
                assert value == pytest.approx(fd[w], rel=1e-4, abs=1e-7), (method, w)
        if HAVE_TORCH:
            torch_grad = reference.torch_gradient(case, point)
            for w, value in d.numbers.gradients.items():
                assert value == pytest.approx(torch_grad[w], rel=1e-9, abs=1e-12), w


def test_kink_trap_is_real():
    """WE-10: at the given values the central difference of W1_21 is not the ReLU' = 0 answer."""
    path = next(p for p in EXAMPLE_SPECS if p.stem == "we10-relu-one-step")
    raw = reference.load(path)
    d = derivation(str(path))
    fd = reference.finite_difference_gradient(raw, _point(raw))
    kinked = [w for w in d.numbers.gradients if abs(fd[w] - d.numbers.gradients[w]) > 1e-3]
    assert kinked, "expected a finite-difference disagreement at the ReLU kink"
    assert all(d.numbers.gradients[w] == 0 for w in kinked)


def test_every_shorthand_example_is_held_against_the_shapes_oracle():
    shorthand = {p.stem for p in EXAMPLE_SPECS if {"recurrent", "conv"} & set(reference.load(p))}
    assert shorthand == SHAPES_ORACLE
