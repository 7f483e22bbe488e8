"""The real command in a subprocess: output and files (user mistakes: tests/test_faults.py)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES

WE5 = EXAMPLES / "we05-221-sigmoid.yaml"


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
    assert data["gradients"]["w_AT"]["latex"] == r"\delta_{T} A"  # the lecture writes δ first


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
