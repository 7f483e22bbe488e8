"""The real command in a subprocess: output, files, and every kind of user mistake."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import EXAMPLES

WE5 = EXAMPLES / "we05-221-sigmoid.yaml"

GOOD = """\
name: good
inputs: [A, B]
neurons:
  T: {from: {A: w_AT, B: w_BT}, activation: sigmoid}
  F: {from: {T: w_TF}, activation: sigmoid}
outputs: [F]
loss: half_sse
values:
  inputs: {A: 0.35, B: 0.9}
  params: {w_AT: 0.1, w_BT: 0.8, w_TF: 0.3}
  targets: {F: 0.5}
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symbackprop", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_json_output_reproduces_we5_and_follows_the_contract(tmp_path):
    out = tmp_path / "we5.json"
    proc = run("derive", str(WE5), "--format", "json", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert {"name", "method", "loss", "forward", "deltas", "gradients", "updated_params",
            "loss_after_update"} <= set(data)
    # WE-5 exact figures (shared/worked-examples.md)
    assert data["forward"]["T"] == pytest.approx({"net": 0.755, "out": 0.680267}, abs=6e-7)
    assert data["loss"]["value"] == pytest.approx(0.018104, abs=6e-7)
    assert data["deltas"]["F"]["value"] == pytest.approx(0.040681, abs=6e-7)
    assert data["updated_params"]["w_TF"] == pytest.approx(0.272326, abs=6e-7)
    assert data["updated_params"]["w_AT"] == pytest.approx(0.099071, abs=6e-7)
    assert data["forward_after_update"]["F"]["out"] == pytest.approx(0.682019, abs=6e-7)
    assert data["gradients"]["w_AT"]["expression"] == "A*delta_T"
    assert data["gradients"]["w_AT"]["latex"] == r"A \delta_{T}"


def test_text_report_and_stdout(tmp_path):
    proc = run("derive", str(WE5))
    assert proc.returncode == 0
    assert "delta_T = delta_F*out_T*w_TF*(1 - out_T) = 0.002654" in proc.stdout
    assert "0.018104 -> 0.016565" in proc.stdout


def test_variant_report_says_it_is_not_the_gradient():
    proc = run("derive", str(EXAMPLES / "we05-221-sigmoid-updated.yaml"))
    assert proc.returncode == 0
    assert "NOT the gradient" in proc.stdout
    assert "delta_T" in proc.stdout and "0.002410" in proc.stdout   # the lecture's variant figure
    assert "True gradient" in proc.stdout and "0.000929" in proc.stdout


def test_paths_method_and_stats():
    proc = run("derive", str(EXAMPLES / "we02-paths-3-3-3-3-2.yaml"), "--method", "paths",
               "--format", "json", "--stats")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["gradients"]["w1_1_1"]["path_count"] == 18 == len(data["gradients"]["w1_1_1"]["paths"])
    ops = data["stats"]["operations"]
    assert ops["backprop"]["mul"] < ops["paths"]["mul"]


def test_paths_refused_past_the_limit_without_output(tmp_path):
    out = tmp_path / "x.json"
    proc = run("derive", str(EXAMPLES / "we02-paths-3-3-3-3-2.yaml"), "--method", "paths",
               "--max-paths", "10", "-o", str(out))
    assert proc.returncode == 2
    assert "exceed the limit of 10" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_module_and_console_script_agree():
    a = run("derive", str(WE5), "--format", "json")
    b = subprocess.run(["symbackprop", "derive", str(WE5), "--format", "json"], capture_output=True, text=True)
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout


def test_output_is_deterministic(tmp_path):
    for i in (1, 2):
        assert run("derive", str(EXAMPLES / "we07c-softmax-ce.yaml"), "--format", "json",
                   "-o", str(tmp_path / f"{i}.json")).returncode == 0
    assert (tmp_path / "1.json").read_bytes() == (tmp_path / "2.json").read_bytes()


BAD = {
    "missing-file": (None, "no such file"),
    "yaml-syntax": ("name: x\ninputs: [A, B\n", "YAML syntax error at line"),
    "duplicate-key": (GOOD.replace("outputs: [F]", "outputs: [F]\noutputs: [T]"), "duplicate key 'outputs'"),
    "yaml-tag": ("name: !!python/object:os.system x\n", "YAML tag not allowed"),
    "unknown-top-key": (GOOD + "lossy: 1\n", "lossy: unknown key"),
    "unknown-neuron-key": (GOOD.replace("activation: sigmoid}", "activation: sigmoid, bais: b}", 1),
                           "neurons.T.bais: unknown key"),
    "unknown-source": (GOOD.replace("{T: w_TF}", "{Q: w_TF}"), "neurons.F.from.Q: unknown source 'Q'"),
    "cycle": (GOOD.replace("{A: w_AT, B: w_BT}", "{A: w_AT, F: w_BT}"), "cycle: "),
    "self-loop": (GOOD.replace("{T: w_TF}", "{F: w_TF}"), "feeds itself"),
    "unknown-activation": (GOOD.replace("activation: sigmoid}", "activation: sigmod}", 1),
                           "neurons.T.activation: unknown activation 'sigmod'"),
    "disallowed-expression": (GOOD.replace("activation: sigmoid}", "activation: \"__import__('os').system('touch CANARY')\"}", 1),
                              "neurons.T.activation"),
    "missing-values": (GOOD.replace("w_TF: 0.3", "w_XX: 0.3"), "values.params.w_XX: not a parameter"),
    "missing-param": (GOOD.replace(", w_TF: 0.3", ""), "values.params: missing value for parameter 'w_TF'"),
    "unknown-loss": (GOOD.replace("half_sse", "hinge"), "loss: unknown loss 'hinge'"),
    "quoted-number": (GOOD.replace("A: 0.35", "A: \"1e-3\""), "values.inputs.A: must be a number, got the string '1e-3' (write it without quotes)"),
    "nan": (GOOD.replace("A: 0.35", "A: .nan"), "values.inputs.A: must be a finite number"),
    "no-inputs": (GOOD.replace("{T: w_TF}", "{}"), "neurons.F.from: a neuron needs at least one source"),
    "empty": ("", "the file is empty"),
    "not-a-mapping": ("- 1\n- 2\n", "a spec must be a mapping"),
    "bad-name": (GOOD.replace("T:", "_T:", 1), "is not a valid name"),
    "name-clash": (GOOD.replace("w_TF", "A"), "'A' is both an input and a parameter"),
    "bad-loss-expression": (GOOD.replace("half_sse", "\"(out_F - t_F)**2 + q\""), "loss: unknown name 'q'"),
    "complex-constant": (GOOD.replace("activation: sigmoid}", "activation: \"x + sqrt(-4)\"}", 1),
                         "neurons.T.activation: the expression has a complex constant"),
    "nfkc-duplicate": (GOOD.replace("{T: w_TF}", "{T: w_TF, \"\uff34\": w_XF}"),
                       "neurons.F.from: two sources are the same name after Unicode normalisation"),
    "huge-number": (GOOD.replace("A: 0.35", "A: 1.0e+400"), "values.inputs.A: must be a finite number"),
    "too-large-number": (GOOD.replace("A: 0.35", "A: 1.0e+300"), "values.inputs.A: must be at most"),
    "overflow-at-values": (GOOD.replace("activation: sigmoid}", "activation: \"exp(exp(x))\"}", 1).replace("A: 0.35", "A: 350"),
                           "values: "),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_user_mistakes_exit_2_with_one_clear_line_and_no_file(case, tmp_path, monkeypatch):
    text, message = BAD[case]
    spec = tmp_path / "spec.yaml"
    if text is not None:
        spec.write_text(text)
    out = tmp_path / "out" / "result.json"
    proc = run("derive", str(spec), "--format", "json", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"symbackprop: error: {spec}"), lines[0]
    assert message in lines[0], lines[0]
    assert not out.exists() and not (tmp_path / "out").exists()
    assert not (tmp_path / "CANARY").exists()


def test_non_utf8_file(tmp_path):
    spec = tmp_path / "latin1.yaml"
    spec.write_bytes("name: caf\xe9\n".encode("latin-1"))
    proc = run("derive", str(spec))
    assert proc.returncode == 2 and "not UTF-8 text" in proc.stderr


def test_json_spec_with_duplicate_keys(tmp_path):
    spec = tmp_path / "s.json"
    spec.write_text('{"name": "a", "name": "b"}')
    proc = run("derive", str(spec))
    assert proc.returncode == 2 and "duplicate key 'name'" in proc.stderr


def test_sympy_names_are_plain_user_symbols(tmp_path):
    """E, I, S, N, beta, lambda as user names: plain symbols, never Euler's number or i."""
    spec = tmp_path / "names.yaml"
    spec.write_text(textwrap.dedent("""\
        name: names
        inputs: [lambda, I]
        neurons:
          S: {from: {lambda: E, I: N}, activation: identity}
          beta: {from: {S: Q}, activation: "x**2"}
        outputs: [beta]
        loss: half_sse
        values:
          inputs: {lambda: 2, I: 3}
          params: {E: 0.5, N: 0.25, Q: 2}
          targets: {beta: 1}
        """))
    proc = run("derive", str(spec), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    # by hand: net_S = 0.5*2 + 0.25*3 = 1.75; net_beta = 3.5; out = 12.25; E_loss = ½(1 − 12.25)²
    assert data["loss"]["symbol"] == "J"   # E is a parameter here, so the loss is called J
    assert data["forward"]["S"]["net"] == pytest.approx(1.75)
    assert data["loss"]["value"] == pytest.approx(0.5 * (1 - 12.25) ** 2)
    # dJ/dE = (out − t)·2·net_beta·Q·lambda = 11.25·7·2·2
    assert data["gradients"]["E"]["value"] == pytest.approx(11.25 * 7 * 2 * 2)
    assert data["gradients"]["E"]["latex"].count(r"\lambda") == 1


def test_unwritable_output_and_overwriting_the_spec(tmp_path):
    spec = tmp_path / "good.yaml"
    spec.write_text(GOOD)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run("derive", str(spec), "-o", str(blocker / "sub" / "out.txt"))
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("derive", str(spec), "-o", str(spec))
    assert proc.returncode == 2 and "refusing to overwrite the spec" in proc.stderr
    assert spec.read_text() == GOOD


def test_abs_in_a_node_has_the_real_derivative(tmp_path):
    spec = tmp_path / "abs.yaml"
    spec.write_text("name: a\ninputs: [x]\nparams: [w]\nnodes: {S: \"abs(x*w)\"}\nobjective: S\n"
                    "values: {inputs: {x: -2}, params: {w: 1.5}}\n")
    proc = run("derive", str(spec), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["gradients"]["w"]["value"] == pytest.approx(2.0)   # d|wx|/dw = x·sign(wx)


def test_deep_chain_does_not_crash(tmp_path):
    spec = tmp_path / "deep.yaml"
    spec.write_text("name: deep\nlayers: [" + ", ".join(["1"] * 100) + "]\nactivation: sigmoid\nloss: half_sse\n")
    proc = run("derive", str(spec), "--format", "json")
    assert proc.returncode == 0, proc.stderr[-500:]
    assert json.loads(proc.stdout)["gradients"]["w1_1_1"]["path_count"] == 1
