"""Training (symbackprop.training) and the ``code``/``train`` commands: the loss falls on the
shipped examples, the first step is the derivation's own gradient step, and user mistakes exit 2."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import reference
from conftest import EXAMPLES, derivation
from symbackprop import SpecError, derive, spec_from_mapping
from symbackprop.training import initial_parameters, train

WE5 = EXAMPLES / "we05-221-sigmoid.yaml"
WE13 = EXAMPLES / "we13-relu-3layer.yaml"


def test_we5_first_step_is_the_lecture_step_and_the_loss_falls():
    d = derivation(str(WE5))
    run = train(d, steps=50)
    n = d.numbers
    assert run.losses[0] == pytest.approx(0.018104, abs=6e-7)              # WE-5
    assert run.losses[1] == pytest.approx(n.forward_after["E"], rel=1e-12)  # = 0.016565
    assert run.losses[1] == pytest.approx(0.016565, abs=6e-7)
    assert run.gradient_norms[0] == pytest.approx(np.linalg.norm(list(n.gradients.values())), rel=1e-12)
    one = train(d, steps=1)
    assert one.params == pytest.approx(n.updated_params, rel=1e-12)       # w − η·∂E/∂w from the derivation
    assert all(b < a for a, b in zip(run.losses, run.losses[1:]))
    assert run.losses[-1] < 0.1 * run.losses[0]


def test_we13_relu_network_trains_from_the_spec_values_and_from_a_seeded_normal():
    d = derivation(str(WE13))
    run = train(d, steps=100)
    assert run.losses[1] == pytest.approx(d.numbers.forward_after[d.loss_name], rel=1e-12)
    assert run.params != pytest.approx(run.initial_params)
    assert run.losses[-1] < run.losses[0]
    start = initial_parameters(d.spec, "normal", seed=4)
    assert all(start[b] == 0 for b in d.spec.biases)
    assert start == initial_parameters(d.spec, "normal", seed=4)             # seeded: reproducible
    random_run = train(d, steps=100, params=start)
    assert random_run.losses[-1] < random_run.losses[0]
    raw = reference.load(WE13)
    raw["values"]["params"] = start
    by_derivation = derive(spec_from_mapping(raw)).numbers.updated_params   # w − 0.05·∂L/∂w
    assert train(d, steps=1, params=start).params == pytest.approx(by_derivation, rel=1e-12)


def test_training_refuses_what_it_cannot_do():
    with pytest.raises(SpecError, match="no learning rate"):
        train(derivation(str(EXAMPLES / "we09-two-layer-sigmoid.yaml")), steps=1)
    with pytest.raises(SpecError, match="too large"):
        train(derivation(str(EXAMPLES / "we01-cubic-chain.yaml")), steps=20, learning_rate=1e3)
    with pytest.raises(SpecError, match="no parameter values"):
        initial_parameters(derivation(str(EXAMPLES / "we04-232-symbolic.yaml")).spec)


# ---------------------------------------------------------------- the commands

def cli(*args: str, cwd=None, pre: str = "") -> subprocess.CompletedProcess:
    """The command through symbackprop's CLI group (registered there, or added here until it is)."""
    code = (pre + "import sys\nfrom symbackprop.cli import main\n"
            "from symbackprop.cli.numeric import code_command, train_command\n"
            "main.commands.setdefault('code', code_command)\nmain.commands.setdefault('train', train_command)\n"
            "main(prog_name='symbackprop')\n")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_train_command_prints_a_falling_loss_table(tmp_path):
    out = tmp_path / "run.json"
    proc = cli("train", str(WE5), "--steps", "30", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[1].split() == ["step", "loss", "gradient", "norm"]
    rows = [line.split() for line in lines[2:-1]]
    assert rows[0][0] == "0" and rows[-1][0] == "30" and float(rows[0][1]) == pytest.approx(0.018104, abs=6e-7)
    assert float(rows[-1][1]) < float(rows[0][1])
    record = json.loads(out.read_text())
    assert len(record["losses"]) == 31 and record["losses"][-1] < record["losses"][0]


def test_train_command_with_a_seeded_normal_start():
    first = cli("train", str(WE13), "--steps", "40", "--init", "normal", "--seed", "4", "--every", "40")
    again = cli("train", str(WE13), "--steps", "40", "--init", "normal", "--seed", "4", "--every", "40")
    assert first.returncode == 0, first.stderr
    assert first.stdout == again.stdout and "normal start" in first.stdout
    rows = [line.split() for line in first.stdout.splitlines()[2:-1]]
    assert float(rows[-1][1]) < float(rows[0][1])


def test_train_plot(tmp_path):
    png = tmp_path / "we05-loss.png"
    proc = cli("train", str(WE5), "--steps", "5", "--plot", str(png))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert proc.returncode == 2 and "needs matplotlib" in proc.stderr and not png.exists()
    else:
        assert proc.returncode == 0, proc.stderr
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    hidden = cli("train", str(WE5), "--steps", "5", "--plot", str(png) + ".2.png",
                 pre="import sys\nsys.modules['matplotlib'] = None\n")
    assert hidden.returncode == 2
    assert hidden.stderr == ("symbackprop: error: --plot needs matplotlib, which is not installed "
                             "(pip install 'symbackprop[plot]')\n")


@pytest.mark.parametrize("args,message", [
    (["train", "missing.yaml", "--steps", "3"], "missing.yaml: no such file"),
    (["train", str(EXAMPLES / "we04-232-symbolic.yaml"), "--steps", "3", "--learning-rate", "1"],
     "data: training needs examples"),
    (["train", str(EXAMPLES / "we09-two-layer-sigmoid.yaml"), "--steps", "3"], "learning_rate: no learning rate"),
    (["train", str(WE5), "--steps", "3", "--learning-rate", "-1"], "--learning-rate: must be a positive number"),
    (["train", str(EXAMPLES / "we01-cubic-chain.yaml"), "--steps", "30", "--learning-rate", "1000"],
     "learning_rate: the loss is"),
    (["code", str(EXAMPLES / "we03-three-formulas.yaml"), "--form", "matrix"], "--form: not a layered network"),
    (["code", "missing.yaml"], "missing.yaml: no such file"),
])
def test_user_mistakes_exit_2_with_one_line(args, message, tmp_path):
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.startswith("symbackprop: error: ") and message in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert not (tmp_path / "output").exists()


def test_code_command_writes_an_importable_module(tmp_path):
    proc = cli("code", str(WE5), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    module = tmp_path / "output" / "we05_221_sigmoid_grad.py"
    assert proc.stderr == f"wrote {module.relative_to(tmp_path)}\n"
    run = subprocess.run([sys.executable, "-c", "import we05_221_sigmoid_grad as m; "
                          "print(m.gradients({'A': 0.35, 'B': 0.9}, m.EXAMPLE['params'], {'F': 0.5})[0])"],
                         capture_output=True, text=True, cwd=module.parent, timeout=60)
    assert float(run.stdout) == pytest.approx(0.018104, abs=6e-7)
    custom = cli("code", str(WE5), "-o", str(tmp_path / "elsewhere.py"), "--form", "scalar")
    assert custom.returncode == 0 and "FORM = 'scalar'" in (tmp_path / "elsewhere.py").read_text()
    to_stdout = cli("code", str(WE5), "-o", "-")
    assert to_stdout.stdout.startswith('# Generated by symbackprop') and to_stdout.stderr == ""
    assert to_stdout.stdout.splitlines()[1].startswith('"""WE-5')
