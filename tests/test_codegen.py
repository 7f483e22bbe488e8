"""Generated gradient code (symbackprop.codegen): equal to the derivation's numbers on every
example, matrix form == scalar form, batch == loop, == finite differences of the independent
reference on random networks, and the standalone module imports and runs."""
from __future__ import annotations

import importlib.util
import inspect
import json
import random
import subprocess
import sys

import numpy as np
import pytest

import reference
from conftest import EXAMPLES, EXAMPLE_SPECS, derivation, ids
from symbackprop import derive, spec_from_mapping
from symbackprop.errors import SpecError
from symbackprop.codegen import layered_structure, module_source, numeric_function
from symbackprop.cli.numeric import default_module_path


def assert_refuses_batch_statistics(generate):
    """The generated code batches independent examples, so batch norm is one clear refusal."""
    with pytest.raises(SpecError, match=r"batch statistics \(batch_norm\) couple them") as caught:
        generate()
    assert caught.value.key == "batch_norm"


def example_arguments(spec):
    """inputs, params, targets of a spec's examples (arrays of shape (N,))."""
    inputs = {n: np.array([float(ex.inputs[n]) for ex in spec.examples]) for n in spec.inputs}
    targets = {o: np.array([float(ex.targets[o]) for ex in spec.examples]) for o in spec.outputs}
    params = {p: float(v) for p, v in spec.params_values.items()}
    return inputs, params, targets


@pytest.mark.parametrize("form", ["auto", "scalar"])
def test_generated_function_equals_the_derivation_numbers(example, form):
    d = derivation(str(example))
    if d.numbers is None:
        pytest.skip("symbolic only (no values)")
    if d.spec.batch_norms:
        assert_refuses_batch_statistics(lambda: numeric_function(d, form=form))
        return
    f = numeric_function(d, form=form)
    spec, n = d.spec, d.numbers
    inputs, params, targets = example_arguments(spec)
    loss, grads = f(inputs, params, targets)
    assert loss == pytest.approx(n.forward[d.loss_name], rel=1e-12, abs=1e-15)
    expected = n.true_gradients if d.is_variant else n.gradients
    assert list(grads) == list(expected)
    for w, value in expected.items():
        assert np.asarray(grads[w]) == pytest.approx(value, rel=1e-12, abs=1e-15), w
    forward = f.forward(inputs, params)
    for name, values in forward.items():
        for i, v in enumerate(np.atleast_1d(values)):
            key = name + (f"__{i + 1}" if spec.has_data else "")
            assert v == pytest.approx(n.forward[key], rel=1e-12, abs=1e-15), key
    if n.updated_params is not None and not d.is_variant:
        after = f.loss(inputs, n.updated_params, targets)
        assert after == pytest.approx(n.forward_after[d.loss_name], rel=1e-12, abs=1e-15)


def test_auto_form_is_matrix_exactly_for_layered_networks():
    layered = {p.stem for p in EXAMPLE_SPECS if layered_structure(derivation(str(p)).spec)}
    assert {"we02-paths-3-3-3-3-2", "we05-221-sigmoid", "we07c-softmax-ce", "we10-relu-one-step",
            "we13-relu-3layer"} <= layered
    assert not layered & {"we03-three-formulas", "we11-composite-chain"}  # a skip edge; a node graph
    assert numeric_function(derivation(str(EXAMPLES / "we13-relu-3layer.yaml"))).form == "matrix"
    assert numeric_function(derivation(str(EXAMPLES / "we03-three-formulas.yaml"))).form == "scalar"


def test_matrix_code_has_one_product_per_layer_and_delta_x_transpose():
    f = numeric_function(derivation(str(EXAMPLES / "we02-paths-3-3-3-3-2.yaml")))
    body = f.source[f.source.index("def _gradient"):f.source.index("# ------")]
    assert body.count(" @ ") == 4 + 3            # forward W·a per layer, backward Wᵀ·δ per hidden layer
    assert body.count("numpy.matmul(") == 4      # δ·aᵀ per layer, written into the gradient vector
    assert "w1_1_1" not in body                  # no line per scalar weight


def _random_layered(rng: random.Random, *, data: int = 5) -> dict:
    widths = [rng.randint(1, 4) for _ in range(rng.randint(2, 4))]
    hidden = rng.choice(["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity", "x**2"])
    loss, last = rng.choice([("half_sse", "sigmoid"), ("sse", "identity"), ("mse", "tanh"),
                             ("bce", "sigmoid"), ("cross_entropy", "softmax"),
                             ("(out_o - t_o)**2", "identity")])
    if loss == "bce":
        widths[-1] = 1
    if loss == "cross_entropy":
        widths[-1] = max(2, widths[-1])
    raw = {"name": "r", "layers": widths, "activations": [hidden] * (len(widths) - 2) + [last],
           "bias": rng.random() < 0.5, "loss": loss}
    spec = spec_from_mapping({k: v for k, v in raw.items() if k != "loss"} | {"loss": "sse"})
    if loss.startswith("("):
        raw["loss"] = "+".join(f"(out_{o} - t_{o})**2" for o in spec.outputs)
    if rng.random() < 0.5:
        raw["regularization"] = {"l2": 0.03, "include_biases": rng.random() < 0.5}
    raw["reduction"] = rng.choice(["sum", "mean"])
    raw["data"] = []
    for _ in range(data):
        targets = [round(rng.uniform(0.1, 0.9), 3) for _ in spec.outputs]
        if loss == "cross_entropy":
            total = sum(targets)
            targets = [t / total for t in targets]
        raw["data"].append({"inputs": {x: round(rng.uniform(-1.5, 1.5), 3) for x in spec.inputs},
                            "targets": dict(zip(spec.outputs, targets))})
    raw["values"] = {"params": {p: round(rng.uniform(-1, 1), 3) for p in spec.parameters}}
    return raw


@pytest.mark.parametrize("seed", range(12))
def test_matrix_form_equals_scalar_form_and_finite_differences(seed):
    rng = random.Random(seed)
    raw = _random_layered(rng)
    d = derive(spec_from_mapping(raw))
    matrix, scalar = numeric_function(d, form="matrix"), numeric_function(d, form="scalar")
    assert matrix.form == "matrix" and scalar.form == "scalar"
    inputs, params, targets = example_arguments(d.spec)
    loss_m, grads_m = matrix(inputs, params, targets)
    loss_s, grads_s = scalar(inputs, params, targets)
    assert loss_m == pytest.approx(loss_s, rel=1e-12, abs=1e-14)
    for w in grads_s:
        assert grads_m[w] == pytest.approx(grads_s[w], rel=1e-10, abs=1e-12), w
        assert grads_m[w] == pytest.approx(d.numbers.gradients[w], rel=1e-10, abs=1e-12), w
    fd = reference.finite_difference_gradient(raw, params)
    for w in grads_m:
        assert grads_m[w] == pytest.approx(fd[w], rel=1e-5, abs=1e-7), w


BATCHED = [EXAMPLES / "we03-three-formulas.yaml", EXAMPLES / "we07c-softmax-ce.yaml",
           EXAMPLES / "we11-composite-chain.yaml"]


@pytest.mark.parametrize("path", BATCHED, ids=ids(BATCHED))
def test_a_batch_equals_the_loop_over_its_examples(path):
    d = derivation(str(path))
    f = numeric_function(d)
    rng = np.random.default_rng(5)
    batch = 7
    inputs = {n: rng.uniform(0.5, 1.5, size=batch) for n in d.spec.inputs}
    targets = {o: rng.uniform(0.1, 0.9, size=batch) for o in d.spec.outputs}
    params = {p: float(v) for p, v in d.spec.params_values.items()}
    loss, grads = f(inputs, params, targets)
    singles = [f({n: v[i] for n, v in inputs.items()}, params, {o: v[i] for o, v in targets.items()})
               for i in range(batch)]
    assert loss == pytest.approx(sum(s[0] for s in singles), rel=1e-12)
    for w in grads:
        if w in d.spec.parameters:
            assert grads[w] == pytest.approx(sum(s[1][w] for s in singles), rel=1e-12, abs=1e-15)
        else:  # a gradient with respect to an input has one value per example
            assert list(grads[w]) == pytest.approx([s[1][w] for s in singles], rel=1e-12)


def test_mean_reduction_averages_the_batch_and_adds_the_regularisation_once():
    raw = _random_layered(random.Random(3))
    raw["regularization"] = {"l2": 0.5}
    raw["reduction"] = "mean"
    d = derive(spec_from_mapping(raw))
    f = numeric_function(d)
    inputs, params, targets = example_arguments(d.spec)
    loss, grads = f(inputs, params, targets)
    n = len(d.spec.examples)
    singles = [f({k: v[i] for k, v in inputs.items()}, params, {k: v[i] for k, v in targets.items()})
               for i in range(n)]
    penalty = 0.5 * sum(params[w] ** 2 for w in d.spec.weights)
    assert loss == pytest.approx(sum(s[0] - penalty for s in singles) / n + penalty, rel=1e-12)
    w = d.spec.weights[0]
    assert grads[w] == pytest.approx(sum(s[1][w] - params[w] for s in singles) / n + params[w], rel=1e-10)


def test_packed_interface_and_gradient_subset():
    raw = {"name": "sub", "layers": [2, 3, 1], "activation": "sigmoid", "loss": "half_sse",
           "wrt": ["w2_1_2", "w1_3_1"]}
    f = numeric_function(derive(spec_from_mapping(raw)))
    assert f.form == "matrix" and f.wrt_params == ("w2_1_2", "w1_3_1")
    rng = np.random.default_rng(0)
    X, T, theta = rng.normal(size=(2, 4)), rng.uniform(size=(1, 4)), rng.normal(size=9)
    loss, g = f.packed(X, theta, T)
    params = dict(zip(f.params, theta))
    loss2, grads = f({"x1": X[0], "x2": X[1]}, params, {"y1": T[0]})
    assert g.shape == (2,) and loss == pytest.approx(loss2)
    assert list(g) == pytest.approx([grads["w2_1_2"], grads["w1_3_1"]])


def test_dictionary_interface_names_mistakes():
    f = numeric_function(derivation(str(EXAMPLES / "we05-221-sigmoid.yaml")))
    good = ({"A": 0.35, "B": 0.9}, {"w_AT": 0.1, "w_BT": 0.8, "w_AB": 0.4, "w_BB": 0.6, "w_TF": 0.3,
                                    "w_BF": 0.9}, {"F": 0.5})
    with pytest.raises(ValueError, match="missing input 'B'"):
        f({"A": 0.35}, good[1], good[2])
    with pytest.raises(ValueError, match="unknown parameter 'w_XX'"):
        f(good[0], good[1] | {"w_XX": 1.0}, good[2])
    with pytest.raises(ValueError, match="1-D arrays"):
        f({"A": np.zeros((2, 2)), "B": 0.9}, good[1], good[2])
    assert isinstance(f(*good)[0], float)


def test_names_python_reserves_are_renamed_in_the_code():
    raw = {"name": "names", "inputs": ["numpy", "lambda", "print"],
           "neurons": {"sum": {"from": {"numpy": "w", "lambda": "v", "print": "u"}, "activation": "tanh"},
                       "o": {"from": {"sum": "float", "numpy": "q"}, "activation": "identity"}},
           "outputs": ["o"], "loss": "half_sse",
           "values": {"inputs": {"numpy": 0.5, "lambda": -0.2, "print": 0.3},
                      "params": {"w": 0.4, "v": 0.1, "u": -0.7, "float": 1.3, "q": 0.2}, "targets": {"o": 1}}}
    d = derive(spec_from_mapping(raw))
    f = numeric_function(d)
    loss, grads = f({"numpy": 0.5, "lambda": -0.2, "print": 0.3},
                    {"w": 0.4, "v": 0.1, "u": -0.7, "float": 1.3, "q": 0.2}, {"o": 1.0})
    assert grads == pytest.approx(d.numbers.gradients, rel=1e-12)


def test_spec_text_cannot_escape_the_module_docstring(tmp_path):
    raw = {"name": "inject", "title": 'a """ title\\" \nimport os; os.system("echo pwned") #',
           "inputs": ["x"], "neurons": {"o": {"from": {"x": "w"}, "activation": "sigmoid"}},
           "outputs": ["o"], "loss": "half_sse"}
    source = module_source(derive(spec_from_mapping(raw)))
    compiled = compile(source, "inject_grad.py", "exec")
    namespace: dict = {}
    exec(compiled, namespace)  # noqa: S102 - generated by the code under test
    assert 'a """ title\\" ' in namespace["__doc__"]
    assert "os" not in namespace


# ---------------------------------------------------------------- the standalone module

PLAIN = [p for p in EXAMPLE_SPECS if not p.stem.endswith("-updated")]
NUMERIC_KEYS = ("loss.value", "forward.", "gradients.", "updated_params.", "loss_after_update",
                "forward_after_update.")


def _lookup(data, key):
    """``a.b.0``: dict keys, and list indices for per-example values."""
    for part in key.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


@pytest.mark.parametrize("path", PLAIN, ids=ids(PLAIN))
def test_standalone_module_prints_the_lecture_figures(path, tmp_path):
    d = derivation(str(path))
    if d.numbers is None:
        pytest.skip("symbolic only (no values)")
    if d.spec.batch_norms:
        assert_refuses_batch_statistics(lambda: module_source(d))
        return
    module = tmp_path / default_module_path(d.name).name
    module.write_text(module_source(d), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(module), "--json"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text())
    if d.is_variant:   # the module computes the true gradient; the spec's variant (truncated BPTT) is beside it
        true = {c["key"].rsplit(".", 1)[1]: c for c in expected["checks"]
                if c["key"].startswith("variant.true_gradient_values.")}
        expected["checks"] = [true[c["key"].split(".")[1]] | {"key": c["key"]}
                              if c["key"].startswith("gradients.") and c["key"].endswith(".value") else c
                              for c in expected["checks"]]
    checked = 0
    for check in expected["checks"]:
        key = check["key"]
        if "value" not in check or not key.startswith(NUMERIC_KEYS) or (
                key.startswith("gradients.") and not key.endswith(".value")):
            continue
        got = _lookup(printed, key)
        assert got == pytest.approx(check["value"], abs=check["tol"]), (key, check.get("from"))
        checked += 1
    assert checked, "no numeric figure was compared"


def test_standalone_module_imports_and_runs_as_a_script(tmp_path):
    d = derivation(str(EXAMPLES / "we05-221-sigmoid.yaml"))
    module = tmp_path / "we05_221_sigmoid_grad.py"
    module.write_text(module_source(d), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("we05_221_sigmoid_grad", module)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name in ("forward", "loss", "gradients", "step"):
        function = getattr(mod, name)
        arguments = inspect.signature(function).parameters
        assert function.__doc__ and all(f"{a}:" in function.__doc__ for a in arguments), name
    assert all(p in mod.forward.__doc__ for p in d.spec.parameters)
    inputs, params, targets = {"A": 0.35, "B": 0.9}, dict(mod.EXAMPLE["params"]), {"F": 0.5}
    loss, grads = mod.gradients(inputs, params, targets)
    assert loss == pytest.approx(0.018104, abs=6e-7)                          # WE-5
    assert mod.step(params, grads, 1.0)["w_TF"] == pytest.approx(0.272326, abs=6e-7)
    assert mod.forward(inputs, params)["out_F"] == pytest.approx(0.690283, abs=6e-7)
    text = subprocess.run([sys.executable, str(module)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=60, check=True).stdout
    assert "loss E = 0.0181039038" in text and "w_TF = 0.272325965" in text
    isolated = subprocess.run([sys.executable, "-I", "-c", "import sys, runpy; sys.modules['sympy'] = None; "
                               f"runpy.run_path({str(module)!r}, run_name='__main__')"],
                              capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert isolated.returncode == 0, isolated.stderr  # needs NumPy only, not SymPy or symbackprop


def test_module_for_a_spec_without_values_says_so(tmp_path):
    d = derivation(str(EXAMPLES / "we04-232-symbolic.yaml"))
    module = tmp_path / "we04_grad.py"
    module.write_text(module_source(d), encoding="utf-8")
    out = subprocess.run([sys.executable, str(module)], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    assert "gives no values" in out
