"""Overflow-safe numerics at |net| = 1000: sigmoid, softplus, log-sigmoid (BCE, cross-entropy of a
sigmoid), softmax and cross-entropy. No NaN, no inf, no overflow, and the float64 values of
high-precision references (mpmath, 50 digits) — in the generated function (both forms) and in
the derivation's own numbers."""
from __future__ import annotations

import mpmath
import numpy as np
import pytest

from symbackprop import derive, spec_from_mapping
from symbackprop.codegen import numeric_function

mpmath.mp.dps = 50


def sigma(x):
    return 1 / (1 + mpmath.exp(-x))


def one_layer(activation: str, loss: str, nets: list[int], targets: list[float]) -> dict:
    """x = 1 into one neuron per net (weight = the net), so each net is exactly the given value."""
    neurons = {f"o{k}": {"from": {"x": f"w{k}"}, "activation": activation} for k in range(1, len(nets) + 1)}
    return {"name": "stable", "inputs": ["x"], "neurons": neurons, "outputs": list(neurons), "loss": loss,
            "values": {"inputs": {"x": 1},
                       "params": {f"w{k}": n for k, n in enumerate(nets, 1)},
                       "targets": {f"o{k}": t for k, t in enumerate(targets, 1)}}}


def reference(activation: str, loss: str, nets, targets):
    """(loss, dloss/dnet_k, out_k) in mpmath; dloss/dw_k = dloss/dnet_k because x = 1."""
    nets = [mpmath.mpf(n) for n in nets]
    ts = [mpmath.mpf(t) for t in targets]
    if activation == "softmax":
        total = mpmath.fsum(mpmath.exp(n) for n in nets)
        outs = [mpmath.exp(n) / total for n in nets]
    elif activation == "sigmoid":
        outs = [sigma(n) for n in nets]
    elif activation == "softplus":
        outs = [mpmath.log1p(mpmath.exp(n)) for n in nets]
    else:
        outs = [mpmath.tanh(n) for n in nets]

    def total_loss(ns):
        if activation == "softmax":
            log_total = mpmath.log(mpmath.fsum(mpmath.exp(n) for n in ns))
            logs = [n - log_total for n in ns]
            return -mpmath.fsum(t * lo for t, lo in zip(ts, logs))
        if loss == "bce":  # log σ(n) = -log(1 + e^-n), log(1 - σ(n)) = -log(1 + e^n)
            return mpmath.fsum(t * mpmath.log1p(mpmath.exp(-n)) + (1 - t) * mpmath.log1p(mpmath.exp(n))
                               for n, t in zip(ns, ts))
        if loss == "cross_entropy":
            return mpmath.fsum(t * mpmath.log1p(mpmath.exp(-n)) for n, t in zip(ns, ts))
        f = {"sigmoid": sigma, "softplus": lambda n: mpmath.log1p(mpmath.exp(n)), "tanh": mpmath.tanh}[activation]
        return mpmath.fsum((t - f(n)) ** 2 for n, t in zip(ns, ts)) / 2

    grads = [mpmath.diff(lambda v, k=k: total_loss(nets[:k] + [v] + nets[k + 1:]), nets[k])
             for k in range(len(nets))]
    return float(total_loss(nets)), [float(g) for g in grads], [float(o) for o in outs]


CASES = [
    ("sigmoid", "bce", [1000], [0]), ("sigmoid", "bce", [1000], [1]),
    ("sigmoid", "bce", [-1000], [0]), ("sigmoid", "bce", [-1000], [1]),
    ("sigmoid", "bce", [1000, -1000], [0.25, 0.75]),
    ("sigmoid", "cross_entropy", [-1000], [1]), ("sigmoid", "cross_entropy", [1000], [1]),
    ("softmax", "cross_entropy", [1000, 0, -1000], [0, 0, 1]),
    ("softmax", "cross_entropy", [1000, 0, -1000], [1, 0, 0]),
    ("softmax", "cross_entropy", [-1000, -1000, 1000], [0.2, 0.3, 0.5]),
    ("softmax", "cross_entropy", [1000, 1000, 1000], [0, 1, 0]),
    ("sigmoid", "half_sse", [1000, -1000], [0.5, 0.5]),
    ("softplus", "half_sse", [1000, -1000], [1, 1]),
    ("tanh", "half_sse", [1000, -1000], [0.5, 0.5]),
]


@pytest.mark.parametrize("activation,loss,nets,targets", CASES,
                         ids=[f"{a}-{lo}-{n}-{t}" for a, lo, n, t in CASES])
def test_values_at_net_1000_equal_float64_references(activation, loss, nets, targets):
    raw = one_layer(activation, loss, nets, targets)
    ref_loss, ref_grads, ref_outs = reference(activation, loss, nets, targets)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is the float64 value
        d = derive(spec_from_mapping(raw))
        results = [(d.numbers.forward[d.loss_name], d.numbers.gradients)]
        params = {k: float(v) for k, v in raw["values"]["params"].items()}
        targets_ = {k: float(v) for k, v in raw["values"]["targets"].items()}
        for form in ("matrix", "scalar"):
            f = numeric_function(d, form=form)
            results.append(f({"x": 1.0}, params, targets_))
            forward = f.forward({"x": 1.0}, params)
            outs = [forward[f"out_o{k}"] for k in range(1, len(nets) + 1)]
            assert outs == pytest.approx(ref_outs, rel=1e-15, abs=0), form
    for loss_value, grads in results:
        assert np.isfinite(loss_value) and all(np.isfinite(list(grads.values())))
        assert loss_value == pytest.approx(ref_loss, rel=1e-15, abs=0)
        assert list(grads.values()) == pytest.approx(ref_grads, rel=1e-12, abs=0)


def test_generated_sigmoid_is_accurate_everywhere_without_overflow():
    d = derive(spec_from_mapping(one_layer("sigmoid", "half_sse", [1], [0])))
    sigmoid = numeric_function(d).__dict__["_ns"]["_sigmoid"]
    xs = [-1500, -1000, -745, -720, -709, -100, -40, -1, -1e-9, 0, 1e-9, 1, 40, 100, 709, 1000, 1500]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        values = sigmoid(np.array(xs, dtype=float))
        scalars = [sigmoid(float(x)) for x in xs]
    expected = [float(sigma(mpmath.mpf(x))) for x in xs]
    # correctly rounded to a few ulp, down to the subnormal numbers (-745 < x < -709)
    for x, got, one, want in zip(xs, values, scalars, expected):
        assert got == pytest.approx(want, rel=4e-16, abs=1e-322), x
        assert one == pytest.approx(want, rel=4e-16, abs=1e-322), x


@pytest.mark.parametrize("far_left", [None, -1000.0], ids=["direct", "clipped"])
def test_generated_sigmoid_is_accurate_on_both_of_its_paths(far_left):
    """Arrays with no x below -709 take the direct 1/(1 + exp(-x)); one far-left x sends the
    whole array through r/(h + r). Both agree with mpmath to a few ulp, keep the shape, leave
    the argument alone and never warn."""
    d = derive(spec_from_mapping(one_layer("sigmoid", "half_sse", [1], [0])))
    sigmoid = numeric_function(d).__dict__["_ns"]["_sigmoid"]
    rng = np.random.default_rng(20)
    xs = np.concatenate([[-709.0, -708.999, -700.0, -37.0, 0.0, 36.0, 709.0, 750.0],
                         rng.uniform(-709.0, 800.0, 400), rng.normal(0.0, 4.0, 400)])
    if far_left is not None:
        xs = np.append(xs, far_left)
    grid = xs.reshape(-1, 1) if far_left is None else xs.reshape(1, -1)
    before = grid.copy()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        values = sigmoid(grid)
    assert values.shape == grid.shape and np.array_equal(grid, before)
    expected = [float(sigma(mpmath.mpf(float(x)))) for x in xs]
    assert values.ravel().tolist() == pytest.approx(expected, rel=4e-16, abs=1e-322)
    assert sigmoid(np.empty((3, 0))).shape == (3, 0)
    assert np.isnan(sigmoid(np.array([0.0, np.nan]))[1])
