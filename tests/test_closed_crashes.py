"""Crash classes of issue 14 closed: abs() in every printer, lone surrogates in user text,
train's NaN at the start, an importable module name for a spec name that starts with a digit.

Each asserts the behaviour (numbers against an independent finite difference, exact text,
exit status), never just "did not crash".
"""
from __future__ import annotations

import json
from pathlib import Path
import math
import subprocess
import sys

import pytest
import yaml

from conftest import EXAMPLES
from symbackprop import derive, load_spec
from symbackprop.cli.numeric import default_module_path
from symbackprop.codegen import numeric_function
from symbackprop.errors import SpecError
from symbackprop.training import train

ABS_SPEC = """name: 1abs
inputs: [x]
neurons:
  h: {from: {x: w1}, activation: "abs(x)"}
  y: {from: {h: w2}, activation: sigmoid}
outputs: [y]
loss: half_sse
values:
  inputs: {x: 0.5}
  params: {w1: -0.7, w2: 0.3}
  targets: {y: 1}
learning_rate: 0.5
"""


def _abs_loss(w1: float, w2: float, x: float = 0.5, t: float = 1.0) -> float:
    """The network by hand: h = |w1·x|, y = σ(w2·h), E = ½(t − y)²."""
    y = 1 / (1 + math.exp(-w2 * abs(w1 * x)))
    return 0.5 * (t - y) ** 2


@pytest.fixture()
def abs_spec(tmp_path):
    path = tmp_path / "abs.yaml"
    path.write_text(ABS_SPEC)
    return path


def _central(f, w1, w2, h=1e-6):
    return ((f(w1 + h, w2) - f(w1 - h, w2)) / (2 * h), (f(w1, w2 + h) - f(w1, w2 - h)) / (2 * h))


def test_abs_in_the_generated_numeric_function(abs_spec):
    f = numeric_function(derive(load_spec(abs_spec)))
    loss, grads = f({"x": 0.5}, {"w1": -0.7, "w2": 0.3}, {"y": 1.0})
    fd1, fd2 = _central(_abs_loss, -0.7, 0.3)
    assert loss == pytest.approx(_abs_loss(-0.7, 0.3), rel=1e-12)
    assert grads["w1"] == pytest.approx(fd1, rel=1e-7) and grads["w2"] == pytest.approx(fd2, rel=1e-7)


@pytest.mark.subprocess
def test_abs_in_code_and_train(abs_spec, tmp_path):
    module = tmp_path / "m.py"
    run = subprocess.run([sys.executable, "-m", "symbackprop", "code", str(abs_spec), "-o", str(module)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(subprocess.run([sys.executable, str(module), "--json"], capture_output=True, text=True,
                                    timeout=120).stdout)
    fd1, _ = _central(_abs_loss, -0.7, 0.3)
    assert out["gradients"]["w1"]["value"] == pytest.approx(fd1, rel=1e-7)
    trained = train(derive(load_spec(abs_spec)), 2)
    assert trained.losses[0] == pytest.approx(_abs_loss(-0.7, 0.3), rel=1e-12)
    assert trained.losses[2] < trained.losses[0]


def test_a_spec_name_starting_with_a_digit_gives_an_importable_module():
    path = default_module_path("1abs")
    assert path.name == "net_1abs_grad.py" and path.stem.isidentifier()
    assert default_module_path("we05-221-sigmoid").name == "we05_221_sigmoid_grad.py"


def test_a_nan_at_the_start_is_not_blamed_on_the_learning_rate(tmp_path):
    path = tmp_path / "log.yaml"
    path.write_text("""name: logn
inputs: [x]
neurons:
  y: {from: {x: w}, activation: "log(x)"}
outputs: [y]
loss: half_sse
values:
  inputs: {x: 1}
  params: {w: 0.5}
  targets: {y: 1}
learning_rate: 0.001
""")
    with pytest.raises(SpecError) as info:
        train(derive(load_spec(path)), 3, params={"w": -0.5})     # log(−0.5)
    assert str(info.value) == ("values: the loss is nan at the starting values, before any step "
                               "(not the learning rate): out_y is nan")


def test_a_nan_after_steps_still_names_the_learning_rate():
    d = derive(load_spec(EXAMPLES / "we08-linear-regression.yaml"))
    with pytest.raises(SpecError, match=r"learning_rate: the loss is .* after \d+ steps: the learning rate "
                                        r"1e\+12 is too large"):
        train(d, 400, learning_rate=1e12)


SURROGATE = "\ud800"


@pytest.fixture(scope="module")
def surrogate_spec(tmp_path_factory):
    """A JSON spec (YAML refuses lone surrogates itself) with one in its title."""
    raw = yaml.safe_load((EXAMPLES / "we05-221-sigmoid.yaml").read_text())
    raw["title"] = f"bad {SURROGATE} title"
    path = tmp_path_factory.mktemp("sur") / "s.json"
    path.write_text(json.dumps(raw))
    return path


def _run(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "symbackprop", *map(str, args)], capture_output=True,
                          timeout=timeout)


@pytest.mark.subprocess
@pytest.mark.slow
@pytest.mark.parametrize("command", [
    ["derive"], ["derive", "--format", "json"], ["code", "-o", "-"], ["train", "--steps", "1"],
    ["check", "--wrt", "w_AT", "--answer", "A*delta_T", "--format", "latex"],
])
def test_a_lone_surrogate_in_a_spec_title_prints_escaped(surrogate_spec, command):
    proc = _run(command[0], surrogate_spec, *command[1:])
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    if command[0] == "code":   # the title in the module's docstring, escaped twice: it reads as \ud800
        assert b'"""bad \\\\ud800 title' in proc.stdout


@pytest.mark.subprocess
def test_a_lone_surrogate_in_an_answer_file_title(tmp_path):
    answers = tmp_path / "a.yaml"
    answers.write_text('title: "\\ud800 x"\nsolution:\n  out_T: 0.680\n')
    for fmt in ("text", "json", "latex"):
        proc = _run("check", EXAMPLES / "we05-221-sigmoid.yaml", "--answer-file", answers, "--format", fmt)
        assert proc.returncode == 0 and b"Traceback" not in proc.stderr, (fmt, proc.stderr)
    report = tmp_path / "r.json"
    proc = _run("check", EXAMPLES / "we05-221-sigmoid.yaml", "--answer-file", answers, "--format", "json", "-o", report)
    assert proc.returncode == 0
    assert json.loads(report.read_text())["solutions"][0]["title"] == f"{SURROGATE} x"   # the escape reads back


# ----------------------------------------------------------------------------- symbolic links and all-or-nothing

import errno  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from symbackprop import files  # noqa: E402
from symbackprop.cli import main  # noqa: E402

WE5 = EXAMPLES / "we05-221-sigmoid.yaml"


def _invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_report_symlinked_into_another_students_folder_is_refused(tmp_path):
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    alice.mkdir(), bob.mkdir()
    assert _invoke("check", WE5, "--wrt", "w_AT", "--answer", "A*delta_T", "-o", alice / "report.txt").exit_code == 0
    before = (alice / "report.txt").read_text()
    (bob / "report.txt").symlink_to(Path("..") / "alice" / "report.txt")
    result = _invoke("check", WE5, "--wrt", "w_AT", "--answer", "A", "-o", bob / "report.txt")
    assert result.exit_code == 2
    assert result.stderr == (f"symbackprop: error: refusing to write {bob / 'report.txt'}: it is a symbolic link "
                             "(--follow-symlinks to write the file it points to)\n")
    assert (alice / "report.txt").read_text() == before
    for command in (["derive"], ["code"], ["train", "--steps", "1"]):
        result = _invoke(*command[:1], WE5, *command[1:], "-o", bob / "report.txt")
        assert result.exit_code == 2 and "it is a symbolic link" in result.stderr
    assert (alice / "report.txt").read_text() == before


def test_an_answer_file_symlinked_to_the_key_is_refused(tmp_path):
    key = tmp_path / "key.yaml"
    key.write_text("solution:\n  out_T: 0.680267\n")
    mine = tmp_path / "mine.yaml"
    mine.symlink_to(key)
    for option in ("--answer-file", "--solution"):
        result = _invoke("check", WE5, option, mine)
        assert result.exit_code == 2
        assert result.stderr == (f"symbackprop: error: {mine}: the answer file is a symbolic link; give the file "
                                 "itself (or --follow-symlinks)\n")
    assert _invoke("check", WE5, "--solution", mine, "--follow-symlinks").exit_code == 0


def test_render_is_all_or_nothing_on_a_full_disk(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert _invoke("render", WE5, "--template", "exam", "-o", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(before) >= 2
    stage, calls = files._stage, []

    def full_disk(path, data, **kw):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return stage(path, data, **kw)

    monkeypatch.setattr(files, "_stage", full_disk)
    result = _invoke("render", WE5, "--template", "exam", "--digits", "3", "-o", out)
    assert result.exit_code == 2
    assert result.stderr.endswith(": No space left on device; nothing was written\n")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before       # no file replaced, no .part left


def test_internal_names_cannot_collide_and_figure_names_a_spec_took_mean_its_quantity(tmp_path):
    """Parameters named like figures (w_TF_new, dE_dw_AT) used to crash every worked-solution check."""
    raw = (EXAMPLES / "we05-221-sigmoid.yaml").read_text().replace("w_TF", "w_TF_new").replace("w_AT", "dE_dw_AT")
    spec = tmp_path / "names.yaml"
    spec.write_text(raw)
    answers = tmp_path / "a.yaml"
    answers.write_text("solution:\n  out_T: 0.680\n  w_TF_new: 0.3\n  dE_ddE_dw_AT: 0.000929\n")
    result = _invoke("check", spec, "--solution", answers, "--format", "json")
    assert result.exit_code == 0, result.output
    figures = {f["name"]: f for f in json.loads(result.stdout)["solutions"][0]["figures"]}
    assert figures["w_TF_new"]["correct_value"] == 0.3          # the spec's parameter, a given
    assert figures["dE_ddE_dw_AT"]["correct_value"] == pytest.approx(0.000929071, rel=1e-5)


@pytest.mark.subprocess
def test_a_lone_surrogate_in_a_spec_title_renders(surrogate_spec, tmp_path):
    proc = _run("render", surrogate_spec, "--template", "derivation", "-o", tmp_path)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    tex = (tmp_path / "we05-221-sigmoid-derivation.tex").read_text(encoding="utf-8")
    assert r"{\Large\bfseries bad  title\par}" in tex        # the tex filter drops what TeX cannot print
