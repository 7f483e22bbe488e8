"""The fault suite (issue 9): hostile and broken input. Nothing is executed, nothing hangs,
nothing is half-written.

1. code injection in every string a spec or answer may hold;
2. resource exhaustion, in a real process with a CPU-time limit and 2 GB of address space;
3. malformed specs, and names SymPy gives a meaning;
4. LaTeX: hostile text renders literally, pdflatex is fenced in;
5. numeric faults: |net| = 1000 in every registered activation and loss, log(0), 1/0, ReLU at 0;
6. output safety: atomic writes, --force, Ctrl-C.

Every case asserts the message or behaviour, not just "it failed": user mistakes give exit
status 2 and exactly one line ``symbackprop: error: FILE: KEY: problem``, no traceback, no file.
Command-line cases run in-process (click's runner) unless the process itself is the point.
"""
from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from conftest import EXAMPLES, at_most_steps, runner
from symbackprop import SpecError, derive, load_spec, spec_from_mapping
from symbackprop.activations import ACTIVATIONS, GROUP_ACTIVATIONS, softmax_outputs
from symbackprop.check import CheckContext, check_answer
from symbackprop.cli import main
from symbackprop.codegen import numeric_function
from symbackprop.expressions import LIMITS, ExpressionError, parse_expression
from symbackprop.files import (HEAD_BYTES, TAIL_BYTES, OutputError, check_target, produced_by_symbackprop,
                               write_atomically)
from symbackprop.losses import LOSSES
from symbackprop import templating as environment
from symbackprop.render import pdf as pdf_module

WE5 = EXAMPLES / "we05-221-sigmoid.yaml"
HAVE_TEX = shutil.which("pdflatex") is not None and shutil.which("pdftotext") is not None
needs_tex = pytest.mark.skipif(not HAVE_TEX, reason="needs pdflatex (TeX Live) and pdftotext (poppler)")
MEMORY = 2 << 30          # address space of a resource-case process
CPU_SECONDS = 10          # CPU time of a resource-case process (they take ~1–3 s): more is runaway work
HANG = 120                # wall-clock seconds after which a process has hung (only hangs; never speed)
REFUSAL_STEPS = 1_000_000    # Python steps a refusal may take (the worst takes ~15,000)
EVALUATION_STEPS = 5_000_000  # ... and the check of an allowed but nasty answer (the worst takes ~600,000)

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



def invoke(*args: str):
    """The command line in this process (fast); ``exception`` is SystemExit for a clean exit."""
    return runner().invoke(main, [str(a) for a in args])


def one_error_line(stderr: str, *fragments: str) -> str:
    """The single ``symbackprop: error:`` line of ``stderr``, checked to contain every fragment."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("symbackprop: error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def refused(*args: str, fragments: tuple[str, ...] = (), status: int = 2):
    """Run in-process; assert a clean exit with ``status`` and one error line with ``fragments``."""
    result = invoke(*args)
    assert result.exit_code == status and isinstance(result.exception, SystemExit), (result.output,
                                                                                      result.exception)
    one_error_line(result.stderr, *fragments)
    return result


def _limits(cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))  # SIGXCPU, then SIGKILL
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def bounded(*args: str, cwd: Path | None = None, cpu_seconds: int = CPU_SECONDS) -> subprocess.CompletedProcess:
    """``python -m symbackprop ARGS`` in a real process with 2 GB of address space and ``cpu_seconds``
    of CPU time -- a bound on the work it may do, whatever the machine's load. (The wall-clock
    timeout only catches a process that hangs, e.g. blocked on a FIFO.)"""
    proc = subprocess.run([sys.executable, "-m", "symbackprop", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=HANG, preexec_fn=lambda: _limits(cpu_seconds))
    assert proc.returncode not in (-signal.SIGXCPU, -signal.SIGKILL), (
        f"symbackprop {' '.join(map(str, args))[:200]} used more than {cpu_seconds} s of CPU time")
    return proc


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# =========================================================================== 1. code injection

PAYLOADS = {  # payload (CANARY: a file it would create if it ever ran) -> why the allow-list refuses it
    "import": ("__import__('os').system('touch CANARY')", "attribute access ('.') is not allowed"),
    "mro": ("().__class__.__mro__[1].__subclasses__()[0](open('CANARY', 'w'))", "indexing ('[...]') is not allowed"),
    "lambda": ("(lambda: open('CANARY', 'w'))()", "lambda expressions are not allowed"),
    "exec": ("exec(\"open('CANARY', 'w')\")", "function 'exec' is not allowed"),
    "eval": ("eval(\"open('CANARY', 'w')\")", "function 'eval' is not allowed"),
    "open": ("open('CANARY', 'w')", "function 'open' is not allowed"),
    "symbol-class": ("Symbol('x').__class__(open('CANARY', 'w'))", "attribute access ('.') is not allowed"),
    "comprehension": ("[open('CANARY', 'w') for x in (1,)]", "comprehensions are not allowed"),
}

EXPRESSION_PLACES = {  # where a spec holds an expression -> (spec text with {P}, the key named)
    "activation": (GOOD.replace("activation: sigmoid}", "activation: {P}}", 1), "neurons.T.activation: "),
    "node": ("name: n\ninputs: [A]\nparams: [w]\nnodes: {S: \"w*A\", P: {P}}\nobjective: S\n", "nodes.P: "),
    "loss": (GOOD.replace("loss: half_sse", "loss: {P}"), "loss: "),
}

NAME_PLACES = {  # where a spec holds a name -> (spec text with {P}, the key named, the complaint)
    "spec-name": (GOOD.replace("name: good", "name: {P}"), "name: ", "is not usable as a file name"),
    "input": (GOOD.replace("inputs: [A, B]", "inputs: [A, {P}]"), "inputs[1]: ", "is not a valid name"),
    "neuron": (GOOD.replace("  F: {from", "  {P}: {from"), "neurons.", "is not a valid name"),
    "weight": (GOOD.replace("{T: w_TF}", "{T: {P}}"), "neurons.F.from.T: ", "is not a valid name"),
    "output": (GOOD.replace("outputs: [F]", "outputs: [{P}]"), "outputs[0]: ", "is not a valid name"),
    "wrt": (GOOD + "wrt: [{P}]\n", "wrt[0]: ", "is not a valid name"),
}


def _canary(tmp_path: Path, payload: str) -> tuple[Path, str]:
    canary = tmp_path / "CANARY"
    return canary, payload.replace("CANARY", str(canary))


@pytest.mark.parametrize("place", sorted(EXPRESSION_PLACES))
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_injection_in_spec_expressions_is_refused_and_never_runs(payload, place, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    canary, text = _canary(tmp_path, PAYLOADS[payload][0])
    template, key = EXPRESSION_PLACES[place]
    spec = write(tmp_path, template.replace("{P}", json.dumps(text)))
    out = tmp_path / "out.json"
    refused("derive", spec, "-o", out, fragments=(f"{spec}: {key}", PAYLOADS[payload][1]))
    assert not canary.exists() and not out.exists()


@pytest.mark.parametrize("place", sorted(NAME_PLACES))
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_injection_in_names_is_refused(payload, place, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    canary, text = _canary(tmp_path, PAYLOADS[payload][0])
    template, key, complaint = NAME_PLACES[place]
    spec = write(tmp_path, template.replace("{P}", json.dumps(text)))
    refused("derive", spec, fragments=(f"{spec}: {key}", complaint))
    assert not canary.exists()


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_injection_in_answers_is_refused_and_never_runs(payload, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    canary, text = _canary(tmp_path, PAYLOADS[payload][0])
    message = PAYLOADS[payload][1]
    refused("check", WE5, "--wrt", "w_AT", "--answer", text, fragments=("--answer: ", message))
    sheet = write(tmp_path, "answers:\n  w_AT: " + json.dumps(text) + "\n", "answers.yaml")
    refused("check", WE5, "--answer-file", sheet, fragments=(f"{sheet}: answers.w_AT: ", message))
    refused("check", WE5, "--wrt", text, "--answer", "A*delta_T", fragments=("--answer: ", "is not something"))
    figures = write(tmp_path, "solution:\n  out_T: " + json.dumps(text) + "\n", "solution.yaml")
    refused("check", WE5, "--solution", figures, fragments=(f"{figures}: solution.out_T: ", "must be a number"))
    assert not canary.exists()


@pytest.mark.parametrize("latex,command", [(r"\input{/etc/passwd}", "input"), (r"\write18{touch CANARY}", "write"),
                                           (r"\def\x{1}\x", "def")])
def test_tex_commands_in_answers_are_refused(latex, command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused("check", WE5, "--wrt", "w_AT", "--answer", latex,
            fragments=(f"--answer: LaTeX: LaTeX command \\{command} is not allowed",))
    assert os.listdir(tmp_path) == []


HOSTILE_ANSWERS = {  # answer -> what the one-line refusal says (plain and LaTeX readers)
    "open('CANARY', 'w')": "function 'open' is not allowed",
    "lambda: 0": "lambda expressions are not allowed (in 'lambda: 0')",
    "().__class__.__bases__[0].__subclasses__()": "attribute access ('.') is not allowed",
    "9**9**9": "exponent too large (max_exponent is 1000) (in '9**9**9')",
    "exec('import os')": "function 'exec' is not allowed",
    "A" * 1_000_000: "answer too long (1000000 characters; max_length is 10000)",
    "__import__('os').system('touch CANARY')": "attribute access ('.') is not allowed",
    "(lambda: __import__('os').system('touch CANARY'))()": "lambda expressions are not allowed",
    "out_T.__class__.__mro__": "attribute access ('.') is not allowed",
    "[c for c in ().__class__.__bases__]": "comprehensions are not allowed",
    "out_T if 1 else 0": "conditional expressions ('if ... else') are not allowed",
    "A; import os": "syntax error at column 2",
    "A\n__import__('os').system('touch CANARY')": "syntax error at line 2, column 1",
    "f'{A}'": "LaTeX: unknown name 'f'",
    r"\input{/etc/passwd}": r"LaTeX command \input is not allowed",
    r"\immediate\write18{touch CANARY}": r"LaTeX command \immediate is not allowed",
    r"\def\x{\input{/etc/passwd}}\x": r"LaTeX command \def is not allowed",
    r"\csname input\endcsname{/etc/passwd}": r"LaTeX command \csname is not allowed",
    r"\sigma(__import__('os'))": "LaTeX: '_' is not allowed here",
    "step(__import__('os').system('touch CANARY'))": "attribute access ('.') is not allowed",
    "Heaviside(A, __import__('os'))": "function '__import__' is not allowed",
    "10**10**10": "exponent too large (max_exponent is 1000)",
    "\\sigma'(" * 14 + "A" + ")" * 14: "answer too long once converted (max_length is 10000)",
    "+".join(["out_T"] * 400_000): "answer too long (2399999 characters; max_length is 10000)",
    "(" * 5000 + "A" + ")" * 5000: "answer too long (10001 characters; max_length is 10000)",
}


@pytest.mark.parametrize("answer", list(HOSTILE_ANSWERS), ids=[a[:24] for a in HOSTILE_ANSWERS])
def test_hostile_answers_are_refused_quickly_and_nothing_runs(answer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    context = CheckContext(derive(load_spec(WE5)))
    with pytest.raises(SpecError) as info, at_most_steps(REFUSAL_STEPS, "the refusal"):
        check_answer(context, "w_AT", answer)
    message = str(info.value)
    assert message.startswith("answer: ") and HOSTILE_ANSWERS[answer] in message and "\n" not in message
    assert os.listdir(tmp_path) == []


def test_hostile_answers_that_parse_stay_bounded():
    """Allowed but nasty: huge powers and towers of exp are evaluated safely and quickly (and are wrong)."""
    context = CheckContext(derive(load_spec(WE5)))
    for answer in ("(1 + out_T)**1000*A", "exp(exp(exp(100)))", "exp(1000)*A", "log(out_T - 2)",
                   "exp(exp(exp(exp(A*1000))))"):
        with at_most_steps(EVALUATION_STEPS, answer):
            verdict = check_answer(context, "w_AT", answer).verdict
        assert verdict == "wrong", answer


HOSTILE_EXPRESSIONS = {  # text -> the refusal (after "nodes.S: "); CANARY is a file it would create
    "__import__('os').system('touch CANARY')": "attribute access ('.') is not allowed",
    "open('CANARY', 'w')": "function 'open' is not allowed",
    "open('CANARY', 'w').write('x')": "attribute access ('.') is not allowed",
    "().__class__.__mro__": "attribute access ('.') is not allowed (in '().__class__.__mro__')",
    "().__class__.__base__.__subclasses__()": "attribute access ('.') is not allowed",
    "lambda: open('CANARY', 'w')": "lambda expressions are not allowed",
    "(lambda: open('CANARY', 'w'))()": "lambda expressions are not allowed",
    "exec('open(\"CANARY\", \"w\")')": "function 'exec' is not allowed",
    "eval('open(\"CANARY\", \"w\")')": "function 'eval' is not allowed",
    "Symbol('x').__class__": "attribute access ('.') is not allowed (in \"Symbol('x').__class__\")",
    "[open('CANARY', 'w') for x in (1,)]": "comprehensions are not allowed",
    "x if open('CANARY', 'w') else x": "conditional expressions ('if ... else') are not allowed",
    "f'{open(\"CANARY\", \"w\")}'": "f-strings are not allowed",
    "(f := open('CANARY', 'w'))": "assignment expressions (':=') are not allowed",
    "[*map(open, ['CANARY'], ['w'])]": "lists ('[...]') are not allowed",
    "getattr(x, 'evalf')()": "function 'getattr' is not allowed",
    "sigmoid.__call__(x)": "attribute access ('.') is not allowed (in 'sigmoid.__call__')",
    "x.subs(x, open('CANARY', 'w'))": "attribute access ('.') is not allowed (in 'x.subs')",
    "exp(x).func.__globals__['__builtins__']['open']('CANARY', 'w')": "indexing ('[...]') is not allowed",
    "__builtins__": "names starting with '_' are not allowed: '__builtins__'",
    "breakpoint()": "function 'breakpoint' is not allowed",
    "sympify('open(\"CANARY\",\"w\")')": "function 'sympify' is not allowed",
}


@pytest.mark.parametrize("text", list(HOSTILE_EXPRESSIONS), ids=[t[:30] for t in HOSTILE_EXPRESSIONS])
def test_the_parser_compiles_nothing_but_an_ast(text, monkeypatch, tmp_path):
    """eval/exec/sympify are never reached: the only compile() is ast.parse's."""
    import ast
    import builtins

    monkeypatch.chdir(tmp_path)
    real_compile = builtins.compile
    modes = []

    def only_ast(source, filename, mode, flags=0, *args, **kwargs):
        modes.append(bool(flags & ast.PyCF_ONLY_AST))
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec/parse_expr must never be used on user text")

    monkeypatch.setattr(builtins, "compile", only_ast)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr("sympy.parsing.sympy_parser.parse_expr", forbidden)
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, {"x": sp.Symbol("x")}, where="nodes.S")
    assert str(info.value).startswith("nodes.S: " + HOSTILE_EXPRESSIONS[text]), str(info.value)
    assert modes and all(modes) and os.listdir(tmp_path) == []


def test_yaml_tags_never_construct_objects(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    canary = tmp_path / "CANARY"
    spec = write(tmp_path, GOOD + f"title: !!python/object/apply:os.system ['touch {canary}']\n")
    refused("derive", spec, fragments=(f"{spec}: YAML tag not allowed at line 12",
                                       "python/object/apply:os.system"))
    sheet = write(tmp_path, f"answers: !!python/object/apply:os.system ['touch {canary}']\n", "a.yaml")
    refused("check", WE5, "--answer-file", sheet, fragments=(f"{sheet}: YAML tag not allowed",))
    assert not canary.exists()


# =========================================================================== 2. resource exhaustion

def _spec_with_activation(expression: str) -> str:
    return GOOD.replace("activation: sigmoid}", f"activation: {json.dumps(expression)}}}", 1)


def _neurons(count: int) -> str:
    body = "".join(f"  n{i}: {{from: {{A: w{i}}}, activation: relu}}\n" for i in range(count))
    return f"name: many\ninputs: [A]\nneurons:\n{body}outputs: [n0]\nloss: sse\n"


def _aliased_neurons(count: int) -> str:
    body = "".join(f"  n{i}: *n\n" for i in range(1, count))
    return ("name: many\ninputs: [A]\nneurons:\n  n0: &n {from: {A: w}, activation: relu}\n"
            f"{body}outputs: [n0]\nloss: sse\n")


def _laughs() -> str:
    lines = ["name: lol", "inputs: [A]", "neurons: {o: {from: {A: w}, activation: relu}}", "outputs: [o]",
             "loss: sse", "randomize:", '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"  l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * 9) + "]" for k in range(1, 10)]
    return "\n".join(lines) + "\n"


RESOURCES = {  # case -> (spec text, extra arguments, what the one error line says)
    "9**9**9": (_spec_with_activation("9**9**9"), (),
                "neurons.T.activation: exponent too large (max_exponent is 1000) (in '9**9**9')"),
    "2**10**10": (_spec_with_activation("2**10**10"), (),
                  "neurons.T.activation: exponent too large (max_exponent is 1000)"),
    "huge-number": (_spec_with_activation("x*10**999*10**999"), (),
                    "number with more than 1000 digits (max_magnitude_digits)"),
    "parentheses-10^4": (_spec_with_activation("(" * 10_000 + "x" + ")" * 10_000), (),
                         "neurons.T.activation: expression too long (20001 characters; max_length is 10000)"),
    "parentheses-4000": (_spec_with_activation("(" * 4_000 + "x" + ")" * 4_000), (),
                         "neurons.T.activation: brackets nested too deeply (max_depth is 100)"),
    "expression-10^6": (_spec_with_activation("x+" * 499_999 + "x"), (),
                        "neurons.T.activation: expression too long (999999 characters; max_length is 10000)"),
    "neurons-10^5": (_neurons(100_000), (),
                     "neurons: more than 50000 neurons, nodes and weighted edges"),
    "aliased-neurons-10^5": (_aliased_neurons(100_000), (),
                             "neurons: more than 50000 neurons, nodes and weighted edges"),
    "layers-10^5": ("name: wide\nlayers: [1, 100000]\nactivation: sigmoid\nloss: sse\n", (),
                    "layers: more than 50000 weights"),
    "file-over-5MB": (_neurons(110_000), (), "file is larger than 5000000 bytes"),
    "yaml-nesting": ("name: deep\ntitle: " + "[" * 100_000 + "]" * 100_000 + "\n", (), "nested too deeply"),
    "yaml-mapping-nesting": ("name: deep\ntitle: " + "{a: " * 30_000 + "1" + "}" * 30_000 + "\n", (),
                             "nested too deeply"),
    "yaml-block-nesting": ("name: deep\nx:\n" + "- " * 50_000 + "x\n", (), "nested too deeply"),
    "yaml-indent-nesting": ("name: deep\nx:\n" + "".join(" " * i + "-\n" for i in range(0, 4000, 2)), (),
                            "nested too deeply"),
    "billion-laughs": (_laughs(), ("--template", "exam", "--variants", "2"), "randomize.l0: unknown key"),
    "paths-10^30": ("name: deep\nlayers: [10" + ", 10" * 31 + "]\nactivation: sigmoid\nloss: half_sse\n",
                    ("--method", "paths"), "paths to enumerate exceed the limit of 10,000; use --method backprop"),
}
# Reading a 4.8 MB spec (PyYAML's Python loader) is ~10 s of CPU here before its 100,000 neurons can be
# counted; 30 s still stops anything worse than linear in them (one n² pass is 10^10 steps).
RESOURCE_CPU_SECONDS = {"neurons-10^5": 30}


@pytest.mark.parametrize("case", sorted(RESOURCES))
def test_resource_exhaustion_is_refused_within_seconds_and_bounded_memory(case, tmp_path):
    text, extra, message = RESOURCES[case]
    spec = write(tmp_path, text)
    command = "render" if "--template" in extra else "derive"
    out = tmp_path / "out"
    proc = bounded(command, spec, *extra, "-o", out / "result.json" if command == "derive" else out,
                   cpu_seconds=RESOURCE_CPU_SECONDS.get(case, CPU_SECONDS))
    assert proc.returncode == 2, proc.stderr[-500:]
    one_error_line(proc.stderr, f"symbackprop: error: {spec}: ", message)
    assert not out.exists()
    if case == "paths-10^30":
        count = int(re.search(r"error: \S+ method: ([\d,]+) paths", proc.stderr).group(1).replace(",", ""))
        assert count >= 10**30


def test_deeply_nested_json_is_refused(tmp_path):
    spec = write(tmp_path, '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}", "deep.json")
    refused("derive", spec, fragments=(f"{spec}: nested too deeply",))


def test_an_exploding_expansion_is_bounded_by_the_expansion_limit(tmp_path):
    """12 sigmoid layers: the expanded first-layer gradients would be astronomically large; they are
    null (the limit), the lecture forms and numbers are still given, within seconds."""
    spec = write(tmp_path, "name: deep\nlayers: [3" + ", 3" * 11 + "]\nactivation: sigmoid\nloss: half_sse\n")
    proc = bounded("derive", spec, "--format", "json")
    assert proc.returncode == 0, proc.stderr[-500:]
    gradients = json.loads(proc.stdout)["gradients"]
    assert len(gradients) == 11 * 9 and all(g["expanded"] is None for g in gradients.values())
    assert gradients["w1_1_1"]["expression"] == "delta_h1_1*x1"
    assert gradients["w11_1_1"]["expression"] == "delta_y1*out_h10_1"
    assert set(LIMITS) == {"max_length", "max_depth", "max_nodes", "max_exponent", "max_magnitude_digits"}


def test_nesting_is_counted_before_python_parses(monkeypatch):
    monkeypatch.setitem(LIMITS, "max_length", 100_000)
    text = "(" * 10_000 + "x" + ")" * 10_000  # Python's own parser would fail ("too many nested parentheses")
    with pytest.raises(ExpressionError, match=r"^loss: brackets nested too deeply \(max_depth is 100\)$"):
        parse_expression(text, {"x": sp.Symbol("x")}, where="loss")


def test_hostile_answers_are_refused_in_a_real_process(tmp_path):
    sheet = write(tmp_path, "answers:\n  w_AT: " + json.dumps("{" * 10_000 + "A" + "}" * 10_000) + "\n", "a.yaml")
    proc = bounded("check", WE5, "--answer-file", sheet)
    assert proc.returncode == 2
    one_error_line(proc.stderr, f"{sheet}: answers.w_AT: answer too long (20001 characters; max_length is 10000)")
    proc = bounded("check", WE5, "--wrt", "w_AT", "--answer", "9**9**9")
    assert proc.returncode == 2
    one_error_line(proc.stderr, "--answer: exponent too large (max_exponent is 1000) (in '9**9**9')")
    canary = tmp_path / "CANARY"
    proc = bounded("check", WE5, "--wrt", "w_AT", "--answer", f"(lambda: __import__('os').system('touch {canary}'))()",
                   cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "" and not canary.exists()
    one_error_line(proc.stderr, "symbackprop: error: --answer: lambda expressions are not allowed")


# =========================================================================== 3. malformed specs

MALFORMED = {  # case -> (spec text or None for a missing file, the message after "FILE: ")
    "missing-file": (None, "no such file"),
    "empty": ("", "the file is empty"),
    "only-whitespace": ("\n  \n", "the file is empty"),
    "not-a-mapping": ("- 1\n- 2\n", "a spec must be a mapping"),
    "yaml-syntax": ("name: x\ninputs: [A, B\n", "YAML syntax error at line 3, column 1"),
    "yaml-tab": ("name: x\n\tinputs: [A]\n", "YAML syntax error at line 2"),
    "duplicate-key": (GOOD.replace("outputs: [F]", "outputs: [F]\noutputs: [T]"),
                      "line 7: duplicate key 'outputs'"),
    "duplicate-neuron": (GOOD.replace("  F: {from", "  T: {from: {A: w}, activation: relu}\n  F: {from"),
                         "line 5: duplicate key 'T'"),
    "yaml-tag": ("name: !!python/object:os.system x\n", "YAML tag not allowed at line 1"),
    "unknown-top-key": (GOOD + "lossy: 1\n", "lossy: unknown key"),
    "unknown-neuron-key": (GOOD.replace("activation: sigmoid}", "activation: sigmoid, bais: b}", 1),
                           "neurons.T.bais: unknown key"),
    "unknown-source": (GOOD.replace("{T: w_TF}", "{Q: w_TF}"), "neurons.F.from.Q: unknown source 'Q'"),
    "cycle": (GOOD.replace("{A: w_AT, B: w_BT}", "{A: w_AT, F: w_BT}"), "neurons.T: the network has a cycle: T → F → T"),
    "self-loop": (GOOD.replace("{T: w_TF}", "{F: w_TF}"), "neurons.F: 'F' feeds itself (a self-loop)"),
    "node-cycle": ("name: c\ninputs: [x]\nparams: [w]\nnodes: {S: \"P*w\", P: \"S + x\"}\nobjective: S\n",
                   "nodes.S: the network has a cycle: S → P → S"),
    "no-inputs": (GOOD.replace("{T: w_TF}", "{}"), "neurons.F.from: a neuron needs at least one source"),
    "unknown-activation": (GOOD.replace("activation: sigmoid}", "activation: sigmod}", 1),
                           "neurons.T.activation: unknown activation 'sigmod'"),
    "unknown-loss": (GOOD.replace("half_sse", "hinge"), "loss: unknown loss 'hinge'"),
    "bad-loss-expression": (GOOD.replace("half_sse", "\"(out_F - t_F)**2 + q\""), "loss: unknown name 'q'"),
    "missing-param-value": (GOOD.replace(", w_TF: 0.3", ""), "values.params: missing value for parameter 'w_TF'"),
    "missing-input-value": (GOOD.replace("A: 0.35, ", ""), "values.inputs: missing value for input 'A'"),
    "missing-target-value": (GOOD.replace("targets: {F: 0.5}", "targets: {}"),
                             "values.targets: missing value for target of output 'F'"),
    "not-a-parameter": (GOOD.replace("w_TF: 0.3", "w_XX: 0.3"), "values.params.w_XX: not a parameter"),
    "quoted-number": (GOOD.replace("A: 0.35", "A: \"1e-3\""),
                      "values.inputs.A: must be a number, got the string '1e-3' (write it without quotes)"),
    "quoted-learning-rate": (GOOD + "learning_rate: \"0.5\"\n",
                             "learning_rate: must be a number, got the string '0.5' (write it without quotes)"),
    "nan": (GOOD.replace("A: 0.35", "A: .nan"), "values.inputs.A: must be a finite number, got nan"),
    "inf": (GOOD.replace("w_AT: 0.1", "w_AT: .inf"), "values.params.w_AT: must be a finite number, got inf"),
    "minus-inf": (GOOD.replace("F: 0.5}", "F: -.inf}"), "values.targets.F: must be a finite number, got -inf"),
    "overflowing-float": (GOOD.replace("A: 0.35", "A: 1.0e+400"), "values.inputs.A: must be a finite number"),
    "too-large-number": (GOOD.replace("A: 0.35", "A: 1.0e+300"), "values.inputs.A: must be at most 1e+15 in size"),
    "bool-number": (GOOD.replace("A: 0.35", "A: true"), "values.inputs.A: must be a number, got a bool"),
    "bad-name": (GOOD.replace("T:", "_T:", 1), "neurons._T: '_T' is not a valid name"),
    "name-clash": (GOOD.replace("w_TF", "A"), "A: 'A' is both an input and a parameter"),
    "bool-name": (GOOD.replace("{T: w_TF}", "{T: true}"),
                  "neurons.F.from.T: a weight must be a parameter's name or a number, got a bool"),
    "nfkc-duplicate": (GOOD.replace("{T: w_TF}", "{T: w_TF, \"\uff34\": w_XF}"),
                       "neurons.F.from: two sources are the same name after Unicode normalisation"),
    "complex-constant": (_spec_with_activation("x + sqrt(-4)"),
                         "neurons.T.activation: the expression has a complex constant"),
    "overflow-at-values": (_spec_with_activation("exp(exp(x))").replace("A: 0.35", "A: 350"),
                           "values: out_T is inf at the given values (division by zero, log of 0 or overflow)"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_specs_exit_2_with_one_line_naming_file_and_key(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text, message = MALFORMED[case]
    spec = tmp_path / "spec.yaml"
    if text is not None:
        spec.write_text(text, encoding="utf-8")
    out = tmp_path / "out" / "result.json"
    refused("derive", spec, "--format", "json", "-o", out, fragments=(f"symbackprop: error: {spec}: {message}",))
    assert not (tmp_path / "out").exists()


BROKEN_FILES = {  # file name -> (bytes, the message after "FILE: ")
    "latin1.yaml": ("name: caf\xe9\n".encode("latin-1"), "not UTF-8 text (byte 9)"),
    "utf16.yaml": ("name: x\n".encode("utf-16"), "not UTF-8 text (byte 0)"),
    "dup.json": (b'{"name": "a", "name": "b"}', "duplicate key 'name'"),
    "nan.json": (b'{"name": "a", "learning_rate": NaN}', "'NaN' is not a number a spec may use"),
    "syntax.json": (b'{"name": "a",}', "JSON syntax error at line 1, column 14"),
    "newline-key.json": (b'{"name": "a", "inputs": ["A"], "neurons": {"a\\nb": {"from": {"A": "w"}, '
                         b'"activation": "relu"}}}', "neurons.'a\\nb': 'a\\nb' is not a valid name"),
    "long-key.json": (b'{"name": "a", "inputs": ["A"], "neurons": {"' + b"T" * 100_000
                      + b'": {"from": {"A": "w"}, "activation": "relu"}}}', "neurons.'" + "T" * 40 + "…': "),
}


@pytest.mark.parametrize("name", sorted(BROKEN_FILES))
def test_broken_files_name_the_file_in_one_short_line(name, tmp_path):
    data, message = BROKEN_FILES[name]
    spec = tmp_path / name
    spec.write_bytes(data)
    result = refused("derive", spec, "-o", tmp_path / "out.json", fragments=(f"symbackprop: error: {spec}: {message}",))
    assert len(result.stderr) < 400 and not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("case", ["latin1.yaml", "yaml-tag", "cycle", "quoted-number"])
def test_no_traceback_in_a_real_process(case, tmp_path):
    spec = tmp_path / "spec.yaml"
    if case in BROKEN_FILES:
        data, message = BROKEN_FILES[case]
        spec.write_bytes(data)
    else:
        text, message = MALFORMED[case]
        spec.write_text(text)
    proc = bounded("derive", spec, "-o", tmp_path / "out.json")
    assert proc.returncode == 2 and proc.stdout == ""
    one_error_line(proc.stderr, f"symbackprop: error: {spec}: {message}")
    assert not (tmp_path / "out.json").exists()


SYMPY_NAMES = """\
name: sympy-names
inputs: [lambda, I, pi]
neurons:
  S: {from: {lambda: E, I: N, pi: O}, activation: sigmoid}
  beta: {from: {S: Q}, activation: identity, bias: gamma}
outputs: [beta]
loss: half_sse
values:
  inputs: {lambda: 2, I: 3, pi: 1}
  params: {E: 0.5, N: 0.25, O: 0.1, Q: 2, gamma: 0.3}
  targets: {beta: 1}
"""


def test_names_sympy_gives_a_meaning_are_plain_user_symbols_everywhere(tmp_path):
    """E, I, N, O, Q, S, pi, beta, gamma, lambda: never Euler's number, the imaginary unit, π or a function."""
    spec = write(tmp_path, SYMPY_NAMES)
    net_s = 0.5 * 2 + 0.25 * 3 + 0.1 * 1
    out_s = 1 / (1 + np.exp(-net_s))
    out_beta = 2 * out_s + 0.3
    loss = 0.5 * (1 - out_beta) ** 2
    d_e = (out_beta - 1) * 2 * out_s * (1 - out_s) * 2       # δ_beta · Q · σ′ · lambda
    data = json.loads(invoke("derive", spec, "--format", "json").stdout)
    assert data["loss"]["symbol"] == "J"                      # E is a parameter, so the loss is J
    assert data["forward"]["S"]["net"] == pytest.approx(net_s)
    assert data["loss"]["value"] == pytest.approx(loss)
    assert data["gradients"]["E"]["value"] == pytest.approx(d_e)
    assert data["gradients"]["E"]["expression"] == "delta_S*lambda"
    assert data["gradients"]["O"]["expression"] == "delta_S*pi"
    module = tmp_path / "names_grad.py"
    assert invoke("code", spec, "-o", module).exit_code == 0
    printed = json.loads(subprocess.run([sys.executable, str(module), "--json"], capture_output=True, text=True,
                                        timeout=60, check=True).stdout)
    assert printed["gradients"]["E"]["value"] == pytest.approx(d_e)
    assert next(iter(printed)) == "generator"            # the module's --json is marked like every JSON output
    assert invoke("render", spec, "-o", tmp_path / "tex").exit_code == 0
    tex = (tmp_path / "tex" / "sympy-names-derivation.tex").read_text()
    assert r"\lambda" in tex and r"\mathrm{net}_{S} &= E\,\lambda + N\,I + O\,\pi" in tex
    ok = invoke("check", spec, "--wrt", "E", "--answer", "lambda*delta_S", "--wrt", "O", "--answer", "pi*delta_S")
    assert ok.exit_code == 0 and ok.stdout.count("✓") == 2


def test_python_keywords_are_valid_names_everywhere(tmp_path):
    """The chosen rule: keywords (lambda, if, for, class, import, def, None) are ordinary names."""
    spec = write(tmp_path, """\
name: keywords
inputs: [lambda, None]
params: [def]
neurons:
  if: {from: {lambda: class, None: "True"}, activation: sigmoid, bias: def}
  for: {from: {if: import}, activation: "x**2 + x"}
outputs: [for]
loss: half_sse
values:
  inputs: {lambda: 0.5, None: -1}
  params: {class: 0.5, "True": 0.25, import: 2, def: 0.1}
  targets: {for: 1}
""")
    data = json.loads(invoke("derive", spec, "--format", "json").stdout)
    assert data["forward"]["if"]["net"] == pytest.approx(0.5 * 0.5 - 0.25 + 0.1)
    assert data["gradients"]["class"]["expression"] == "delta_if*lambda"
    assert invoke("code", spec, "-o", tmp_path / "k.py").exit_code == 0
    assert subprocess.run([sys.executable, str(tmp_path / "k.py")], capture_output=True, timeout=60).returncode == 0
    assert invoke("check", spec, "--wrt", "class", "--answer", "lambda*delta_if").exit_code == 0


# =========================================================================== 4. LaTeX

HOSTILE_TITLE = r"Net \input{/etc/passwd} $x^^5c$ 100% {unbalanced"
HOSTILE_DESCRIPTION = "50% of {x} & #1 ~ \\end{document} \\write18{touch PWNED} }} λ → ≤ € ^^M\t<b>|\"`--"


@needs_tex
def test_hostile_text_renders_literally_and_pdfs_carry_the_marker(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    raw = WE5.read_text()
    raw = re.sub(r"^title: .*$", lambda m: "title: " + json.dumps(HOSTILE_TITLE), raw, flags=re.M)
    raw = re.sub(r"^description: >-\n(  .*\n)+", lambda m: "description: " + json.dumps(HOSTILE_DESCRIPTION)
                 + "\n", raw, flags=re.M)
    spec = write(tmp_path, raw)
    out = tmp_path / "out"
    for template in ("solution", "exam"):
        result = invoke("render", spec, "--template", template, "--edition", "instructor", "--pdf", "-o", out)
        assert result.exit_code == 0, result.output
    pdf = out / "we05-221-sigmoid-solution.pdf"
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout.replace("\u02c6", "^").replace("\u02dc", "~")
    assert HOSTILE_TITLE in " ".join(text.split())
    assert "50% of {x} & #1" in text and "\\end{document} \\write18{touch PWNED} }}" in text
    assert "root:" not in text and not (tmp_path / "PWNED").exists() and not (out / "PWNED").exists()
    assert b"/Creator (symbackprop)" in pdf.read_bytes() and produced_by_symbackprop(pdf)
    assert (out / "we05-221-sigmoid-exam-problem.pdf").read_bytes().startswith(b"%PDF")


def test_names_cannot_carry_tex(tmp_path):
    for name in (r"\input{x}", "a%b", "^^5c", "x{y", "a$b"):
        spec = write(tmp_path, GOOD.replace("  F: {from", f"  {json.dumps(name)}: {{from"))
        refused("render", spec, "-o", tmp_path / "out", fragments=(f"{spec}: neurons.", "is not a valid name"))
    assert not (tmp_path / "out").exists()


class _FakePopen:
    """Records how pdflatex would be started; "exits" at once without a PDF."""

    calls: list = []

    def __init__(self, command, **kwargs):
        self.pid = -1
        _FakePopen.calls.append((command, kwargs, Path(kwargs["cwd"]).is_dir()))

    def wait(self, timeout=None):
        return 0


def test_pdflatex_runs_fenced_in(monkeypatch):
    _FakePopen.calls = []
    monkeypatch.setattr(pdf_module, "pdflatex_path", lambda: "/usr/bin/pdflatex")
    monkeypatch.setattr(pdf_module.subprocess, "Popen", _FakePopen)
    with pytest.raises(pdf_module.LatexError, match="produced no PDF for job.tex"):
        pdf_module.compile_pdf("\\documentclass{article}", "job")
    ((command, kwargs, cwd_existed),) = _FakePopen.calls
    assert command[1:] == ["-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "-jobname=job",
                           "job.tex"]
    env = kwargs["env"]
    assert env["openin_any"] == "p" and env["openout_any"] == "p" and env["shell_escape"] == "f"
    assert kwargs["start_new_session"] is True and kwargs["stdin"] == subprocess.DEVNULL
    scratch = Path(kwargs["cwd"])
    assert cwd_existed and scratch.name.startswith("symbackprop-tex-") and not scratch.exists()
    assert env["TEXMFOUTPUT"] == str(scratch)


FAKE_TEX = """#!/bin/sh
(sleep 90; echo "$$" >> "$FAULT_PIDS.survivors") &
echo $! >> "$FAULT_PIDS"
wait
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def _fake_tex(tmp_path: Path) -> tuple[Path, Path]:
    script = tmp_path / "bin" / "pdflatex"
    script.parent.mkdir()
    script.write_text(FAKE_TEX)
    script.chmod(0o755)
    return script, tmp_path / "pids"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_timeout_kills_the_whole_process_group(tmp_path, monkeypatch):
    script, pids = _fake_tex(tmp_path)
    monkeypatch.setattr(pdf_module, "pdflatex_path", lambda: str(script))
    monkeypatch.setenv("FAULT_PIDS", str(pids))
    with pytest.raises(pdf_module.LatexError, match=r"^pdflatex did not finish within 1 seconds and was stopped"):
        pdf_module.compile_pdf("x", "loop", timeout=1)
    # The grandchild sleeps 90 s, then writes pids.survivors: had compile_pdf waited for it instead of
    # killing the group, the file would exist by now; had it killed only pdflatex, it would outlive this.
    assert not Path(f"{pids}.survivors").exists(), "compile_pdf waited for pdflatex's grandchild"
    (child,) = map(int, pids.read_text().split())
    deadline = time.monotonic() + 60  # only waits for the kill to land; never asserts how soon
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child), "the grandchild of pdflatex survived the timeout"


@needs_tex
def test_a_runaway_document_is_stopped():
    with pytest.raises(pdf_module.LatexError, match="did not finish within 2 seconds"):
        pdf_module.compile_pdf("\\documentclass{article}\\begin{document}\\def\\x{\\x}\\x\\end{document}",
                               "loop", timeout=2)


@needs_tex
def test_tex_cannot_reach_outside_its_scratch_directory(tmp_path):
    target = tmp_path / "written.tex"
    with pytest.raises(pdf_module.LatexError, match="pdflatex failed on probe.tex"):
        pdf_module.compile_pdf("\\documentclass{article}\\begin{document}\\immediate\\openout5=" + str(target)
                               + "\\immediate\\write5{x}\\immediate\\closeout5 x\\end{document}", "probe")
    assert not target.exists()
    with pytest.raises(pdf_module.LatexError, match="pdflatex failed on probe.tex"):
        pdf_module.compile_pdf("\\documentclass{article}\\begin{document}\\input{/etc/hostname}\\end{document}",
                               "probe")
    flag = tmp_path / "shell"
    pdf = pdf_module.compile_pdf("\\documentclass{article}\\begin{document}\\immediate\\write18{touch " + str(flag)
                                 + "}x\\end{document}", "probe")
    assert pdf.startswith(b"%PDF") and not flag.exists()


@needs_tex
def test_a_tex_error_leaves_the_output_directory_as_it_was(tmp_path, monkeypatch):
    broken = tmp_path / "templates"
    shutil.copytree(environment.TEMPLATE_DIR, broken)
    base = broken / "base.tex.j2"
    base.write_text(base.read_text().replace("\\begin{document}\n", "\\begin{document}\n\\undefinedcommandxyz\n", 1))
    monkeypatch.setattr(environment, "TEMPLATE_DIR", broken)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (out / "we05-221-sigmoid-solution.tex").write_text("% Generated by symbackprop (an older version)")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = invoke("render", WE5, "--template", "solution", "--pdf", "-o", out)
    assert result.exit_code == 2
    assert result.stderr.startswith("symbackprop: error: pdflatex failed on we05-221-sigmoid-solution.tex; "
                                    "nothing was written\n")
    assert "! Undefined control sequence." in result.stderr and "\\undefinedcommandxyz" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    result = invoke("render", WE5, "--pdf", "-o", tmp_path / "fresh")
    assert result.exit_code == 2 and not (tmp_path / "fresh").exists()


# =========================================================================== 5. numeric faults

NETS = [1000, -1000, 1000, -1000]
TARGETS = [sp.Integer(1), sp.Integer(0), sp.Rational(1, 4), sp.Rational(3, 4)]
ALPHA = sp.Rational(1, 10)
ALL_ACTIVATIONS = sorted(ACTIVATIONS) + list(GROUP_ACTIVATIONS)
PROBABILITY_LOGS = {("sigmoid", "bce"), ("sigmoid", "cross_entropy"), ("softmax", "cross_entropy")}


def _has_log(loss: str) -> bool:
    o, t = sp.symbols("o t")
    return LOSSES[loss].build([o], [t]).has(sp.log)


def _overflow_spec(activation: str, loss: str, values: bool) -> dict:
    extra = {"alpha": float(ALPHA)} if ACTIVATIONS.get(activation) and ACTIVATIONS[activation].needs_alpha else {}
    neurons = {f"o{k}": {"from": {"x": f"w{k}"}, "activation": activation, **extra} for k in range(1, 5)}
    raw = {"name": "overflow", "inputs": ["x"], "neurons": neurons, "outputs": list(neurons), "loss": loss}
    if values:
        raw["values"] = {"inputs": {"x": 1}, "params": {f"w{k}": n for k, n in enumerate(NETS, 1)},
                         "targets": {f"o{k}": float(t) for k, t in enumerate(TARGETS, 1)}}
    return raw


def _reference(activation: str, loss: str) -> list[float] | None:
    """[loss, dloss/dw1..w4] from the registries' own SymPy forms at 1100 digits; None where undefined."""
    ws = sp.symbols("w1:5")
    outs = (softmax_outputs(list(ws)) if activation in GROUP_ACTIVATIONS
            else [ACTIVATIONS[activation].apply(w, ALPHA) for w in ws])
    total = LOSSES[loss].build(outs, TARGETS)
    at = dict(zip(ws, NETS))
    values = [e.subs(at).evalf(1100) for e in [total] + [sp.diff(total, w) for w in ws]]
    if any(v.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or not v.is_real for v in values):
        return None
    return [float(v) for v in values]


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
def test_net_1000_in_every_activation_and_loss(activation, loss):
    """|net| = 1000, targets 1, 0, ¼, ¾. Where the value is defined and stable forms exist (every
    squared loss; BCE/cross-entropy of a sigmoid or softmax) both the derivation's numbers and the
    generated function equal the 1100-digit reference, without any overflow. Elsewhere the answer
    is the same float64 value or a clear error, and the generated function is non-finite exactly
    where the derivation refuses."""
    reference = _reference(activation, loss)
    stable = not _has_log(loss) or (activation, loss) in PROBABILITY_LOGS
    function = numeric_function(derive(spec_from_mapping(_overflow_spec(activation, loss, values=False))))
    params = {f"w{k}": float(n) for k, n in enumerate(NETS, 1)}
    targets = {f"o{k}": float(t) for k, t in enumerate(TARGETS, 1)}
    with np.errstate(all="raise", under="ignore") if stable else np.errstate(all="ignore"):
        total, grads = function({"x": 1.0}, params, targets)
        generated = [float(total)] + [float(grads[f"w{k}"]) for k in range(1, 5)]
    try:
        d = derive(spec_from_mapping(_overflow_spec(activation, loss, values=True)))
        derived = [d.numbers.forward[d.loss_name]] + [d.numbers.gradients[f"w{k}"] for k in range(1, 5)]
    except SpecError as exc:
        assert not stable, str(exc)
        assert exc.key == "values" and re.fullmatch(
            r"\w+ is (undefined \(nan\)|inf|-inf) at the given values \(.+\)", exc.message), str(exc)
        assert not all(np.isfinite(generated)), generated
        return
    assert reference is not None, (derived, "a value where the mathematics has none")
    assert all(np.isfinite(derived)) and all(np.isfinite(generated))
    assert derived == pytest.approx(reference, rel=1e-12, abs=1e-300)
    assert generated == pytest.approx(reference, rel=1e-12, abs=1e-300)


def test_the_registries_are_all_covered():
    assert {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "softmax"} <= set(ALL_ACTIVATIONS)
    assert {"half_sse", "sse", "mse", "bce", "cross_entropy"} <= set(LOSSES)


def _single(activation: str, net: float, loss: str = "half_sse", target: float = 0.0, **extra) -> dict:
    return {"name": "one", "inputs": ["x"], "neurons": {"o": {"from": {"x": "w"}, "activation": activation, **extra}},
            "outputs": ["o"], "loss": loss,
            "values": {"inputs": {"x": 1}, "params": {"w": net}, "targets": {"o": target}}}


@pytest.mark.parametrize("loss,target", [("bce", 0), ("bce", 1), ("cross_entropy", 1)])
@pytest.mark.parametrize("net", [1000, -1000, 40, -40])
def test_log_of_outputs_exactly_0_or_1_uses_the_stable_forms(loss, target, net):
    """σ(±1000) is exactly 0 or 1 in float64; log σ and log(1 − σ) are computed as −softplus(∓net)."""
    d = derive(spec_from_mapping(_single("sigmoid", net, loss, target)))
    expected = (target * np.logaddexp(0, -net) + (1 - target) * np.logaddexp(0, net)) if loss == "bce" \
        else target * np.logaddexp(0, -net)
    assert d.numbers.forward[d.loss_name] == pytest.approx(expected, rel=1e-15)
    sigma = 1 / (1 + np.exp(-np.float64(net))) if net > -700 else 0.0
    assert d.numbers.gradients["w"] == pytest.approx(sigma - target if loss == "bce" else target * (sigma - 1),
                                                     abs=1e-15)


@pytest.mark.parametrize("activation", ["relu", "identity"])
def test_log_of_zero_without_a_stable_form_is_a_clear_error(activation):
    with pytest.raises(SpecError) as info:
        derive(spec_from_mapping(_single(activation, 0, "cross_entropy", 1)))
    assert str(info.value) == "values: E is inf at the given values (division by zero, log of 0 or overflow)"
    with pytest.raises(SpecError) as info:
        derive(spec_from_mapping(_single(activation, -2, "bce", 0)))
    assert str(info.value) == ("values: E is undefined (nan) at the given values (log or square root of a "
                               "negative number, 0*inf, 0/0 or inf - inf)")


@pytest.mark.parametrize("node,values,message", [
    ("w/(x - 2)", {"x": 2}, "S is inf at the given values (division by zero, log of 0 or overflow)"),
    ("log(w*x)", {"x": 0}, "S is -inf at the given values (division by zero, log of 0 or overflow)"),
    ("sqrt(w*x)", {"x": -1}, "S is undefined (nan) at the given values (log or square root of a negative number"),
    ("exp(w*x)", {"x": 1000}, "S is inf at the given values (division by zero, log of 0 or overflow)"),
])
def test_division_by_zero_in_a_custom_expression_names_the_node(node, values, message, tmp_path):
    spec = write(tmp_path, f"name: n\ninputs: [x]\nparams: [w]\nnodes: {{S: \"{node}\", P: \"S**2\"}}\n"
                           f"objective: P\nvalues: {{inputs: {json.dumps(values)}, params: {{w: 1}}}}\n")
    refused("derive", spec, fragments=(f"symbackprop: error: {spec}: values: {message}",))


def test_a_custom_activation_dividing_by_zero_names_the_neuron(tmp_path):
    spec = write(tmp_path, _spec_with_activation("1/x").replace("A: 0.35, B: 0.9", "A: 0, B: 0"))
    refused("derive", spec, fragments=(f"{spec}: values: out_T is inf at the given values",))


def test_relu_at_exactly_zero_has_derivative_zero():
    """Documented: ReLU′(0) = 0 (leaky ReLU′(0) = alpha), in the derivation, --exact and the generated code."""
    from symbackprop.exact import exact_numbers

    relu = derive(spec_from_mapping(_single("relu", 0, target=1)))
    assert relu.numbers.forward["net_o"] == 0 and relu.numbers.gradients["w"] == 0.0
    assert exact_numbers(relu).to_dict()["gradients"]["w"] == "0"
    assert numeric_function(relu)({"x": 1.0}, {"w": 0.0}, {"o": 1.0})[1]["w"] == 0.0
    leaky = derive(spec_from_mapping(_single("leaky_relu", 0, target=1, alpha=0.1)))
    assert leaky.numbers.gradients["w"] == pytest.approx(-0.1)      # (out − t)·alpha·x = (0 − 1)·0.1
    assert numeric_function(leaky)({"x": 1.0}, {"w": 0.0}, {"o": 1.0})[1]["w"] == pytest.approx(-0.1)


# =========================================================================== 6. output safety

USER_TEXT = "my own notes, not from symbackprop\n"


def _outputs(tmp_path: Path) -> dict[str, tuple[list[str], Path]]:
    """command -> (arguments writing the file, the file) for every kind of file symbackprop writes."""
    answers = tmp_path / "answers.yaml"
    answers.write_text("answers:\n  w_AT: A*delta_T\n")
    t = tmp_path
    cases = {
        "derive-text": (["derive", WE5, "-o", t / "d.txt"], t / "d.txt"),
        "derive-json": (["derive", WE5, "--format", "json", "-o", t / "d.json"], t / "d.json"),
        "render-tex": (["render", WE5, "-o", t / "tex"], t / "tex" / "we05-221-sigmoid-derivation.tex"),
        "code": (["code", WE5, "-o", t / "g.py"], t / "g.py"),
        "train-json": (["train", WE5, "--steps", "2", "-o", t / "run.json"], t / "run.json"),
        "check-text": (["check", WE5, "--seed", "7", "--answer-file", answers, "-o", t / "c.txt"], t / "c.txt"),
        "check-json": (["check", WE5, "--seed", "7", "--answer-file", answers, "--format", "json", "-o", t / "c.json"], t / "c.json"),
        "check-latex": (["check", WE5, "--seed", "7", "--answer-file", answers, "--format", "latex", "-o", t / "c.tex"], t / "c.tex"),
    }
    try:
        import matplotlib  # noqa: F401
        cases["train-png"] = (["train", WE5, "--steps", "2", "--plot", t / "loss.png"], t / "loss.png")
    except ImportError:
        pass
    return cases


@pytest.mark.parametrize("kind", ["derive-text", "derive-json", "render-tex", "code", "train-json", "train-png",
                                  "check-text", "check-json", "check-latex"])
def test_own_files_are_replaced_other_files_only_with_force(kind, tmp_path):
    cases = _outputs(tmp_path)
    if kind not in cases:
        pytest.skip("needs matplotlib")
    args, target = cases[kind]
    assert invoke(*args).exit_code == 0
    assert produced_by_symbackprop(target), target.read_bytes()[:200]
    first = target.read_bytes()
    assert invoke(*args).exit_code == 0 and target.read_bytes() == first      # its own file: replaced
    target.write_text(USER_TEXT)
    refused(*args, fragments=(f"refusing to overwrite {target}: it was not written by symbackprop (use --force)",))
    assert target.read_text() == USER_TEXT
    assert invoke(*args, "--force").exit_code == 0 and target.read_bytes() == first
    assert not list(target.parent.glob(".*.part"))


def test_every_json_output_begins_with_the_generator_key(tmp_path):
    cases = _outputs(tmp_path)
    for kind in ("derive-json", "check-json", "train-json"):
        args, target = cases[kind]
        invoke(*args)
        assert next(iter(json.loads(target.read_text()))) == "generator", kind
        assert json.loads(target.read_text())["generator"] == "symbackprop"
    derived = json.loads(invoke("derive", WE5, "--format", "json").stdout)
    assert list(derived)[:2] == ["generator", "name"]


def test_render_checks_every_file_before_writing_any(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "we05-221-sigmoid-exam-solution.tex").write_text(USER_TEXT)
    refused("render", WE5, "--template", "exam", "-o", out,
            fragments=(f"refusing to overwrite {out / 'we05-221-sigmoid-exam-solution.tex'}",))
    assert sorted(p.name for p in out.iterdir()) == ["we05-221-sigmoid-exam-solution.tex"]   # the problem sheet too
    assert invoke("render", WE5, "--template", "exam", "-o", out, "--force").exit_code == 0
    assert len(list(out.iterdir())) == 2


@pytest.mark.parametrize("args", [["derive", "{spec}", "-o", "{spec}"], ["code", "{spec}", "-o", "{spec}"],
                                  ["train", "{spec}", "--steps", "1", "-o", "{spec}"],
                                  ["check", "{spec}", "--wrt", "w_AT", "--answer", "A", "-o", "{spec}"],
                                  ["check", "{spec}", "--answer-file", "{answers}", "-o", "{answers}"]])
def test_the_inputs_are_never_overwritten_even_with_force(args, tmp_path):
    spec = write(tmp_path, WE5.read_text())
    answers = write(tmp_path, "answers:\n  w_AT: A*delta_T\n", "answers.yaml")
    args = [a.format(spec=spec, answers=answers) for a in args]
    target = Path(args[-1])
    what = "the spec" if target == spec else "an answer file"
    for force in ([], ["--force"]):
        refused(*args, *force, fragments=(f"refusing to overwrite {target}: it is {what} this command reads",))
    assert spec.read_text() == WE5.read_text() and answers.read_text() == "answers:\n  w_AT: A*delta_T\n"


def test_a_directory_where_a_file_belongs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    refused("derive", WE5, "-o", "d", fragments=("Invalid value for '-o' / '--output': File 'd' is a directory.",))
    refused("check", WE5, "--wrt", "w_AT", "--answer", "A", "-o", "d", fragments=("File 'd' is a directory",))
    (tmp_path / "output" / "we05_221_sigmoid_grad.py").mkdir(parents=True)   # the default target of code
    refused("code", WE5, fragments=("cannot write output/we05_221_sigmoid_grad.py: it is a directory, not a file",))
    (tmp_path / "file").write_text("x")
    refused("render", WE5, "-o", "file", fragments=("Directory 'file' is a file.",))
    refused("derive", WE5, "-o", tmp_path / "file" / "sub" / "out.txt",
            fragments=(f"cannot write {tmp_path / 'file' / 'sub' / 'out.txt'}: Not a directory",))


def test_marker_rules(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("")
    check_target(empty)                                  # an empty file has nothing to lose
    user = tmp_path / "user.json"
    user.write_text('{"name": "mine"}')
    with pytest.raises(OutputError, match=r"it was not written by symbackprop \(use --force\)$"):
        check_target(user)
    check_target(user, force=True)
    with pytest.raises(OutputError, match="it is the spec this command reads"):
        check_target(user, force=True, inputs={tmp_path / "." / "user.json": "the spec"})


def test_markers_are_read_from_a_bounded_head_and_tail(tmp_path, monkeypatch):
    big = tmp_path / "big.txt"
    filler = b"x" * (4 << 20)
    big.write_bytes(filler + b"Generated by symbackprop" + filler)      # only in the middle: not a marker
    read = []
    real_open = open

    class Counting:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def read(self, n=-1):
            data = self.handle.read(n)
            read.append(len(data))
            return data

        def __getattr__(self, name):
            return getattr(self.handle, name)

    monkeypatch.setattr("symbackprop.files.open", lambda *a, **k: Counting(real_open(*a, **k)), raising=False)
    assert not produced_by_symbackprop(big)
    assert sum(read) <= HEAD_BYTES + TAIL_BYTES
    big.write_bytes(b"%PDF-1.5\n" + filler + b"/Creator (symbackprop)\n%%EOF\n")   # the info dictionary: at the end
    read.clear()
    assert produced_by_symbackprop(big)
    assert sum(read) <= HEAD_BYTES + TAIL_BYTES
    big.write_bytes(filler + b"/Creator (symbackprop)\n%%EOF\n")       # not a PDF: the Creator means nothing
    assert not produced_by_symbackprop(big)
    big.write_bytes(b"symbackprop derive: we05  (method: backprop)\n" + filler)
    assert produced_by_symbackprop(big)
    big.write_bytes(b"I ran symbackprop derive: and kept notes\n")
    assert not produced_by_symbackprop(big)


def test_an_interrupted_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "result.json"
    target.write_text('{"generator": "symbackprop", "old": true}')

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr("symbackprop.files.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, '{"generator": "symbackprop", "new": true}')
    assert target.read_text() == '{"generator": "symbackprop", "old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


# A real SIGINT, sent by the process to itself from inside the derivation (a timed signal from
# outside raced the derivation, which now finishes before it arrives).
INTERRUPT_IN_DERIVE = ("import importlib, os, signal, sys, symbackprop.cli as cli; "
                       "core = importlib.import_module('symbackprop.derive.core'); "
                       "real = core._derive; "
                       "core._derive = lambda *a: (os.kill(os.getpid(), signal.SIGINT), real(*a))[1]; "
                       "sys.argv[0] = 'symbackprop'; cli.main()")


def test_ctrl_c_during_derive_exits_130_with_one_line_and_no_file(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", INTERRUPT_IN_DERIVE, "derive", str(WE5), "--format", "json",
                           "--stats", "-o", str(out / "r.json")], capture_output=True, text=True, timeout=HANG)
    assert proc.returncode == 130 and proc.stderr == "symbackprop: interrupted\n" and proc.stdout == ""
    assert not out.exists()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ctrl_c_during_pdflatex_stops_it_and_writes_nothing(tmp_path):
    script, pids = _fake_tex(tmp_path)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, PATH=f"{script.parent}{os.pathsep}{os.environ['PATH']}", FAULT_PIDS=str(pids),
               TMPDIR=str(scratch))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "symbackprop", "render", str(WE5), "--template", "exam", "--pdf",
                             "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + HANG  # waits for pdflatex to start; never asserts how soon
    while not (pids.exists() and pids.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=HANG)
    assert proc.returncode == 130 and stderr == "symbackprop: interrupted\n", stderr
    assert not out.exists() and list(scratch.iterdir()) == []
    children = [int(p) for p in pids.read_text().split()]
    assert children and all(_gone(pid) for pid in children)


SPEC_MODULES = ("symbackprop.spec", "symbackprop.spec.fields", "symbackprop.spec.files", "symbackprop.spec.mapping",
                "symbackprop.spec.matrix_values", "symbackprop.spec.model", "symbackprop.spec.shorthand",
                "symbackprop.spec.values")


@pytest.mark.parametrize("modules", [("symbackprop.files",), SPEC_MODULES], ids=["files", "spec"])
def test_doctests(modules):
    import doctest
    import importlib

    results = [doctest.testmod(importlib.import_module(m)) for m in modules]
    failures, tried = sum(r.failed for r in results), sum(r.attempted for r in results)
    assert failures == 0 and tried >= 3


# --------------------------------------------------------------- anchored marks, non-regular targets,
# --------------------------------------------------------------- permissions and symbolic links

NOT_OURS_MESSAGE = "it was not written by symbackprop (use --force)"


def _png(*chunks: tuple[bytes, bytes]) -> bytes:
    import zlib
    out = b"\x89PNG\r\n\x1a\n"
    for kind, data in chunks:
        out += len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    return out


_IHDR = (b"IHDR", bytes(13))
_IDAT = (b"IDAT", b"x" * 64)
_IEND = (b"IEND", b"")
_SOFTWARE = (b"tEXt", b"Software\x00symbackprop")

LOOKALIKES = {  # files that mention symbackprop somewhere but are not its outputs
    "readme": (Path(__file__).parent.parent / "README.md").read_bytes(),
    "tex-line-5": b"\\documentclass{article}\n% my notes\n\\begin{document}\nHello\n% Generated by symbackprop\n",
    "tex-indented": b"  % Generated by symbackprop; regenerate it rather than edit it.\n",
    "py-later-comment": b"import os\n\n# Generated by symbackprop, then edited by hand\nprint(1)\n",
    "py-longer-word": b"# Generated by symbackprops\n",
    "text-line-2": b"notes\nsymbackprop derive: we05  (method: backprop)\n",
    "json-second-key": b'{"name": "x", "generator": "symbackprop"}\n',
    "json-in-list": b'[{"generator": "symbackprop"}]\n',
    "json-other-value": b'{"generator": "symbackprop-fork"}\n',
    "pdf-creator-without-pdf": b"notes /Creator (symbackprop) more notes\n",
    "pdf-other-creator": b"%PDF-1.5\n<< /Creator (LaTeX with hyperref) /Producer (symbackprop) >>\n%%EOF\n",
    "png-chunk-without-signature": b"Software\x00symbackprop",
    "png-text-after-image": _png(_IHDR, _IDAT, _SOFTWARE, _IEND),
    "png-mark-inside-image-data": _png(_IHDR, (b"IDAT", b"Software\x00symbackprop"), _IEND),
    "png-other-software": _png(_IHDR, (b"tEXt", b"Software\x00matplotlib"), _IDAT, _IEND),
}

OWN = {  # minimal files carrying each anchored mark
    "tex": b"% Generated by symbackprop; regenerate it rather than edit it.\n\\documentclass{article}\n",
    "check-tex": b"% Generated by symbackprop check.\n\\documentclass{article}\n",
    "py": b"# Generated by symbackprop; regenerate it rather than edit it.\nimport numpy\n",
    "text-derive": b"symbackprop derive: x  (method: backprop)\n",
    "text-check": b"symbackprop check: x\n",
    "json": b'{"generator": "symbackprop", "name": "x"}\n',
    "json-spaced": b'\n  {\n    "generator" : "symbackprop"\n  }\n',
    "pdf": b"%PDF-1.5\n1 0 obj << /Creator (symbackprop) /Producer (pdfTeX) >> endobj\n%%EOF\n",
    "png": _png(_IHDR, _SOFTWARE, (b"pHYs", bytes(9)), _IDAT, _IEND),
}


@pytest.mark.parametrize("kind", sorted(LOOKALIKES))
def test_a_file_that_merely_mentions_symbackprop_is_not_ours(kind, tmp_path):
    target = tmp_path / f"file-{kind}"
    target.write_bytes(LOOKALIKES[kind])
    assert not produced_by_symbackprop(target)
    with pytest.raises(OutputError, match=re.escape(f"refusing to overwrite {target}: {NOT_OURS_MESSAGE}")):
        check_target(target)


@pytest.mark.parametrize("kind", sorted(OWN))
def test_each_anchored_mark_is_ours(kind, tmp_path):
    target = tmp_path / f"file-{kind}"
    target.write_bytes(OWN[kind])
    assert produced_by_symbackprop(target)
    check_target(target)


def test_a_copy_of_the_readme_and_notes_mentioning_the_phrase_are_refused(tmp_path):
    readme = Path(__file__).parent.parent / "README.md"
    # README.md quotes the marks (`% Generated by symbackprop`, `"generator": "symbackprop"`)
    copy = tmp_path / "r.md"
    shutil.copyfile(readme, copy)
    refused("derive", WE5, "-o", copy, fragments=(f"refusing to overwrite {copy}: {NOT_OURS_MESSAGE}",))
    assert copy.read_bytes() == readme.read_bytes()
    notes = tmp_path / "notes.tex"
    notes.write_bytes(LOOKALIKES["tex-line-5"])
    refused("check", WE5, "--wrt", "w_AT", "--answer", "A*delta_T", "--format", "latex", "-o", notes,
            fragments=(f"refusing to overwrite {notes}: {NOT_OURS_MESSAGE}",), status=2)
    script = tmp_path / "helper.py"
    script.write_bytes(LOOKALIKES["py-later-comment"])
    refused("code", WE5, "-o", script, fragments=(f"refusing to overwrite {script}: {NOT_OURS_MESSAGE}",))
    assert notes.read_bytes() == LOOKALIKES["tex-line-5"] and script.read_bytes() == LOOKALIKES["py-later-comment"]
    assert invoke("derive", WE5, "-o", copy, "--force").exit_code == 0
    assert copy.read_text().startswith("symbackprop derive: ")


@pytest.mark.parametrize("kind", ["render-pdf", "render-exam", "code-scalar"])
def test_more_real_outputs_are_recognised_and_replaced_without_force(kind, tmp_path):
    """The outputs ``test_own_files_are_replaced_other_files_only_with_force`` does not write."""
    t = tmp_path
    args = {"render-pdf": ["render", WE5, "--template", "solution", "--pdf", "-o", t / "out"],
            "render-exam": ["render", WE5, "--template", "exam", "-o", t / "out"],
            "code-scalar": ["code", WE5, "--form", "scalar", "-o", t / "out" / "g.py"]}[kind]
    if kind == "render-pdf" and not HAVE_TEX:
        pytest.skip("needs pdflatex (TeX Live) and pdftotext (poppler)")
    assert invoke(*args).exit_code == 0
    files = sorted((t / "out").iterdir())
    assert files and all(produced_by_symbackprop(f) for f in files), [f.name for f in files]
    if kind == "render-pdf":
        assert {f.suffix for f in files} == {".tex", ".pdf"}
    for f in files:
        f.touch()
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr


_PROBE = """\
import sys
from symbackprop.files import OutputError, check_target, produced_by_symbackprop
for path in sys.argv[1:]:
    print(produced_by_symbackprop(path))
    for force in (False, True):
        try:
            check_target(path, force=force, follow_symlinks=True)
        except OutputError as exc:
            print(exc)
"""


def test_a_fifo_is_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to("f")
    expected = f"symbackprop: error: refusing to write {fifo}: it is not a regular file\n"
    for force in ([], ["--force"]):
        result = bounded("derive", WE5, "-o", fifo, *force)            # opening the FIFO would block: timeout
        assert result.returncode == 2 and result.stderr == expected, result.stderr
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "we05-221-sigmoid-derivation.tex")
    result = bounded("render", WE5, "-o", out, "--force")
    assert result.returncode == 2 and result.stderr == (f"symbackprop: error: refusing to write "
                                                        f"{out / 'we05-221-sigmoid-derivation.tex'}: it is not a "
                                                        "regular file\n"), result.stderr
    probe = subprocess.run([sys.executable, "-c", _PROBE, str(fifo), str(link)], capture_output=True, text=True,
                           timeout=HANG, check=True)
    assert probe.stdout.splitlines() == ["False", f"refusing to write {fifo}: it is not a regular file",
                                         f"refusing to write {fifo}: it is not a regular file",
                                         "False", f"refusing to write {link}: it is not a regular file",
                                         f"refusing to write {link}: it is not a regular file"]
    import stat
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "link", "out"]
    assert [p.name for p in out.iterdir()] == ["we05-221-sigmoid-derivation.tex"]


def test_a_device_is_never_replaced_even_with_force(tmp_path):
    import stat
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))      # a copy of /dev/null
    except (OSError, AttributeError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    for force in ([], ["--force"]):
        refused("derive", WE5, "-o", device, *force,
                fragments=(f"refusing to write {device}: it is not a regular file",))
    assert stat.S_ISCHR(os.lstat(device).st_mode) and not produced_by_symbackprop(device)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_replacing_a_file_keeps_its_permission_bits(tmp_path):
    target = tmp_path / "g.py"
    assert invoke("code", WE5, "--form", "scalar", "-o", target).exit_code == 0
    scalar = target.read_text()
    target.chmod(0o600)
    assert invoke("code", WE5, "-o", target).exit_code == 0
    assert (target.stat().st_mode & 0o777) == 0o600 and target.read_text() != scalar     # replaced, still 600
    user = tmp_path / "run.sh"
    user.write_text(USER_TEXT)
    user.chmod(0o750)
    assert invoke("derive", WE5, "-o", user, "--force").exit_code == 0
    assert (user.stat().st_mode & 0o777) == 0o750 and user.read_text().startswith("symbackprop derive: ")
    old = os.umask(0o027)
    try:
        assert invoke("derive", WE5, "-o", tmp_path / "new.txt").exit_code == 0
    finally:
        os.umask(old)
    assert ((tmp_path / "new.txt").stat().st_mode & 0o777) == 0o640      # a new file: 0666 less the umask


def test_a_symbolic_link_stays_a_link_and_its_file_is_updated(tmp_path):
    """With --follow-symlinks (without it a link is refused: tests/test_closed_crashes.py)."""
    real = tmp_path / "real" / "g.py"
    real.parent.mkdir()
    assert invoke("code", WE5, "--form", "scalar", "-o", real).exit_code == 0
    scalar = real.read_text()
    real.chmod(0o600)
    links = tmp_path / "links"
    links.mkdir()
    link = links / "g.py"
    link.symlink_to(Path("..") / "real" / "g.py")                     # relative to the link's directory
    assert invoke("code", WE5, "-o", link, "--follow-symlinks").exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(Path("..") / "real" / "g.py")
    assert real.read_text() != scalar and real.read_text() == link.read_text()
    assert (real.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in links.iterdir()] == ["g.py"] and [p.name for p in real.parent.iterdir()] == ["g.py"]
    # the rules apply to the file the link points to
    (tmp_path / "mine.txt").write_text(USER_TEXT)
    mine = tmp_path / "mine-link.txt"
    mine.symlink_to(tmp_path / "mine.txt")
    refused("derive", WE5, "-o", mine, "--follow-symlinks",
            fragments=(f"refusing to overwrite {mine}: {NOT_OURS_MESSAGE}",))
    assert (tmp_path / "mine.txt").read_text() == USER_TEXT
    assert invoke("derive", WE5, "-o", mine, "--force", "--follow-symlinks").exit_code == 0
    assert mine.is_symlink() and (tmp_path / "mine.txt").read_text().startswith("symbackprop derive: ")
    # a link to an input is still the input
    spec = write(tmp_path, WE5.read_text())
    spec_link = tmp_path / "spec-link.yaml"
    spec_link.symlink_to(spec)
    for force in ([], ["--force"]):
        refused("derive", spec, "-o", spec_link, *force,
                fragments=(f"refusing to overwrite {spec_link}: it is the spec this command reads",))
    assert spec.read_text() == WE5.read_text() and spec_link.is_symlink()
    # a dangling link creates the file it names; a loop is one line
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "created.txt")
    assert invoke("derive", WE5, "-o", dangling, "--follow-symlinks").exit_code == 0
    assert dangling.is_symlink() and (tmp_path / "created.txt").read_text().startswith("symbackprop derive: ")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    refused("derive", WE5, "-o", loop, "--force", "--follow-symlinks",
            fragments=(f"cannot write {loop}: Too many levels of symbolic links",))
    assert not list(tmp_path.rglob(".*.part"))


# =========================================================================== found by a second review

SYMPY_NAMES_IN_EXPRESSIONS = """\
name: sympy-in-nodes
inputs: [I, pi, S]
params: [E, N, beta, gamma, lambda]
nodes: {Q: "E*I + pi*S - N*beta + gamma*lambda + exp(E)"}
objective: Q
values:
  inputs: {I: 3, pi: 2, S: 5}
  params: {E: 0.5, N: 0.25, beta: 4, gamma: 0.3, lambda: 7}
"""


def test_sympy_names_inside_expressions_are_user_symbols(tmp_path):
    """In a node expression E, I, pi, S, N, beta, gamma, lambda are the spec's own symbols:
    Q = 0.5·3 + 2·5 − 0.25·4 + 0.3·7 + e^0.5, ∂Q/∂E = I + e^E = 3 + e^0.5, ∂Q/∂gamma = lambda = 7."""
    data = json.loads(invoke("derive", write(tmp_path, SYMPY_NAMES_IN_EXPRESSIONS), "--format", "json").stdout)
    assert data["loss"]["value"] == pytest.approx(1.5 + 10 - 1 + 2.1 + np.exp(0.5))
    assert data["gradients"]["E"]["value"] == pytest.approx(3 + np.exp(0.5))
    assert data["gradients"]["gamma"]["value"] == pytest.approx(7)
    assert data["gradients"]["N"]["value"] == pytest.approx(-4)


@pytest.mark.parametrize("name,text,message", [
    ("sexagesimal", GOOD + "learning_rate: 1:30\n", "line 12: '1:30' is a base-60 number in YAML 1.1"),
    ("timestamp", GOOD.replace("name: good", "name: good\ntitle: 2024-01-01"),
     "line 2: YAML type timestamp is not allowed"),
    ("binary", GOOD + "description: !!binary aGVsbG8=\n", "YAML type binary is not allowed"),
    ("int-4301-digits", GOOD + "learning_rate: " + "9" * 4301 + "\n", "a number has more than 4300 digits"),
    ("unicode-duplicate-value", GOOD.replace("w_TF: 0.3}", "w_TF: 0.3, \uff57_TF: 5}"),
     "values.params.\uff57_TF: the same name as another key after Unicode normalisation"),
    ("nested-power", _spec_with_activation("((((x**10)**10)**10)**10)"), "exponent too large (max_exponent is 1000)"),
])
def test_more_malformed_specs(name, text, message, tmp_path):
    spec = write(tmp_path, text)
    refused("derive", spec, "-o", tmp_path / "out.json", fragments=(f"{spec}: ", message))
    assert not (tmp_path / "out.json").exists()


def test_a_json_number_of_4301_digits(tmp_path):
    spec = write(tmp_path, '{"name": "a", "learning_rate": ' + "9" * 4301 + "}", "big.json")
    refused("derive", spec, fragments=(f"{spec}: a number has more than 4300 digits",))


@pytest.mark.parametrize("case,text,message", [
    ("huge-layer", "name: w\nlayers: [1, 1000000000]\nactivation: sigmoid\nloss: sse\n", "layers: more than 50000 weights"),
    ("aliased-data", "name: al\ninputs: [" + ", ".join(f"x{i}" for i in range(2000)) + "]\n"
     "neurons: {o: {from: {x0: w}, activation: identity}}\noutputs: [o]\nloss: sse\nvalues: {params: {w: 1}}\n"
     "data: [&ex {inputs: {" + ", ".join(f"x{i}: 0.5" for i in range(2000)) + "}, targets: {o: 1}}, "
     + ", ".join(["*ex"] * 999) + "]\n", "data: more than 1,000,000 input and target values"),
    ("device", None, "not a regular file"),
])
def test_resource_bombs_found_by_review(case, text, message, tmp_path):
    spec = Path("/dev/zero") if text is None else write(tmp_path, text)
    proc = bounded("derive", spec)
    assert proc.returncode == 2
    one_error_line(proc.stderr, f"symbackprop: error: {spec}: ", message)


def test_exact_arithmetic_stays_bounded(tmp_path):
    """n_i = n_{i-1}² thirty times: exact values past ~2,000 digits are given as decimals only (null)."""
    nodes = "\n".join(f'  n{i}: "n{i - 1}**2"' for i in range(1, 31))
    spec = write(tmp_path, "name: ch\ninputs: [x]\nparams: [w]\nnodes:\n  n0: \"w*x\"\n" + nodes
                 + "\nobjective: n30\nvalues: {params: {w: 1.0001}, inputs: {x: 0.999}}\n")
    proc = bounded("derive", spec, "--exact", "--format", "json", "--no-expanded")
    assert proc.returncode == 0, proc.stderr[-300:]
    exact = json.loads(proc.stdout)["exact"]
    assert exact["loss"] is None and exact["gradients"]["w"] is None
    assert json.loads(proc.stdout)["loss"]["value"] == pytest.approx((1.0001 * 0.999) ** (2 ** 30), rel=1e-6)


def test_user_text_cannot_forge_error_lines(tmp_path):
    spec = write(tmp_path, GOOD.replace("name: good", 'name: "ok\\nsymbackprop: error: forged"'))
    for command in ("derive", "render"):
        refused(command, spec, "-o", tmp_path / "out", fragments=("is not usable as a file name",))
    long_key = write(tmp_path, GOOD + "randomize:\n  ? " + "k" * 100_000 + "\n  : 1\n", "long.yaml")
    line = refused("render", long_key, "--template", "exam", "--variants", "2", "-o", tmp_path / "x").stderr
    assert len(line) < 1200 and "randomize." in line


def test_an_answer_file_title_cannot_forge_report_lines(tmp_path):
    answers = write(tmp_path, 'title: "x\\n  \\u2713 w_AT correct\\u001b]0;pwned\\u0007"\nsolution: {out_T: 0.68}\n',
                    "answers.yaml")
    result = invoke("check", WE5, "--solution", answers)
    heading = next(line for line in result.stdout.splitlines() if line.startswith("Worked solution"))
    assert "x \u2713 w_AT correct" in heading and "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert not any(line.strip().startswith("\u2713 w_AT correct") for line in result.stdout.splitlines())


def test_a_sum_in_an_update_rule_is_parenthesised(tmp_path):
    spec = write(tmp_path, 'name: upd\ninputs: [x]\nparams: [w]\nnodes: {S: "w*x + w**2"}\nobjective: S\n')
    assert invoke("render", spec, "-o", tmp_path / "tex").exit_code == 0
    tex = (tmp_path / "tex" / "upd-derivation.tex").read_text()
    assert r"w^{+} &= w - \eta\,\left(2 w + x\right)" in tex


def test_usage_mistakes_of_the_command_group_and_train(tmp_path):
    one_error_line(invoke("--bogus").stderr, "No such option '--bogus'")
    refused("train", EXAMPLES / "we13-relu-3layer.yaml", "--steps", "2", "--std", "inf", fragments=("--std",))
    same = tmp_path / "run.png"
    refused("train", EXAMPLES / "we13-relu-3layer.yaml", "--steps", "2", "-o", same, "--plot", same,
            fragments=("--plot and -o name the same file",))
    assert not same.exists()


# =========================================================================== issue 18: messages

BATCH = (GOOD.replace("values:", "data: [{inputs: {A: 1, B: 2}, targets: {F: 1}}, "
                                  "{inputs: {A: 0, B: 1}, targets: {F: 0}}]\nvalues:")
         .replace("  inputs: {A: 0.35, B: 0.9}\n", "").replace("  targets: {F: 0.5}\n", ""))
ISSUE_18_MESSAGES = {  # case -> (spec text, the message after "FILE: ")
    "did-you-mean-param": (GOOD.replace("w_TF: 0.3", "W_TF: 0.3"),
                           "values.params.W_TF: not a parameter of this network (did you mean 'w_TF'?)"),
    "did-you-mean-key": (GOOD + "lerning_rate: 0.5\n", "lerning_rate: unknown key (did you mean 'learning_rate'?)"),
    "did-you-mean-neuron-key": (GOOD.replace("activation: sigmoid}", "activaton: sigmoid}", 1),
                                "neurons.T.activaton: unknown key (did you mean 'activation'?)"),
    "did-you-mean-loss": (GOOD.replace("half_sse", "half_ssq"), "loss: unknown loss 'half_ssq' (did you mean 'half_sse'?)"),
    "did-you-mean-expression-name": (GOOD.replace("half_sse", "\"(out_F - t_f)**2\""),
                                     "loss: unknown name 't_f' (did you mean 't_F'?)"),
    "list-weight": (GOOD.replace("{T: w_TF}", "{T: [1]}"),
                    "neurons.F.from.T: a weight must be a parameter's name or a number, got a list"),
    "an-int": (GOOD.replace("title", "title").replace("name: good", "name: good\ntitle: 3"),
               "title: must be a string, got an int"),
    "undeclared-parameter": ("name: u\ninputs: [x]\nnodes: {E: \"(w*x - 1)**2\"}\nobjective: E\n",
                             "nodes.E: the node uses 'w', which is not declared: list the parameters under 'params'"),
    "l2-form": (GOOD + "regularization: {l2: 0.1, form: lambda/3*sum}\n",
                "regularization.form: unknown form 'lambda/3*sum' (choose from lambda*sum, lambda/2*sum, "
                "lambda/(2m)*sum)"),
    "targets-shorthand": (GOOD + "targets: outputs\n", "targets: the only shorthand is 'targets: inputs'"),
    "targets-inputs-count": (GOOD.replace("targets: {F: 0.5}", "") + "targets: inputs\n",
                             "targets: 'targets: inputs' needs as many outputs as inputs (1 outputs, 2 inputs)"),
    "loss-unknown-input": (GOOD.replace("half_sse", "\"(out_F - C)**2\""), "loss: unknown name 'C'"),
    "tie-with-neurons": (GOOD + "tie: {W2: W1^T}\n", "tie: only goes with 'layers'"),
    "tie-shape": ("name: t\nlayers: [2, 3, 1]\nactivation: sigmoid\nloss: sse\ntie: {W2: W1^T}\n",
                  "tie.W2: W2 is 1×3 but W1^T is 2×3"),
    "tie-itself": ("name: t\nlayers: [2, 2, 2]\nactivation: sigmoid\nloss: sse\ntie: {W2: W2}\n",
                   "tie.W2: a layer cannot be tied to itself"),
    "batch-norm-no-data": (GOOD + "batch_norm: {z: {of: T}}\n",
                           "batch_norm: batch statistics need 'data' with at least 2 examples"),
    "batch-norm-source": (BATCH + "batch_norm: {z: {of: Q}}\n", "batch_norm.z.of: unknown source 'Q'"),
    "batch-norm-key": (BATCH + "batch_norm: {z: {ofs: T}}\n", "batch_norm.z.ofs: unknown key (did you mean 'of'?)"),
    "batch-norm-clash": (BATCH + "batch_norm: {z: {of: T}}\nparams: [mu_z]\n",
                         "batch_norm.z: 'mu_z' is already a name of this spec"),
    "tie-value": ("name: t\nlayers: [2, 2, 2]\nactivation: sigmoid\nloss: sse\ntie: {W2: V1}\n",
                  "tie.W2: must be W<k> or W<k>^T for a layer k of 1..2, got the string 'V1'"),
}


@pytest.mark.parametrize("case", sorted(ISSUE_18_MESSAGES))
def test_issue_18_messages(case, tmp_path):
    text, message = ISSUE_18_MESSAGES[case]
    spec = write(tmp_path, text)
    refused("derive", spec, "-o", tmp_path / "out.json", fragments=(f"symbackprop: error: {spec}: {message}",))
    assert not (tmp_path / "out.json").exists()


def test_hyphenated_loss_names_are_the_registry_losses(tmp_path):
    spec = write(tmp_path, GOOD.replace("half_sse", "Half-SSE"))
    data = json.loads(invoke("derive", spec, "--format", "json").stdout)
    assert data["loss"]["expression"] == "(-out_F + t_F)**2/2"


def test_a_fixed_weight_in_from_is_a_constant_edge(tmp_path):
    """``from: {A: w_AT, B: 2}``: net_T = w_AT·A + 2·B, so ∂E/∂w_AT keeps A and B has no parameter."""
    spec = write(tmp_path, GOOD.replace("{A: w_AT, B: w_BT}", "{A: w_AT, B: 2}").replace("w_BT: 0.8, ", ""))
    data = json.loads(invoke("derive", spec, "--format", "json").stdout)
    assert list(data["gradients"]) == ["w_AT", "w_TF"]
    assert data["forward"]["T"]["net"] == pytest.approx(0.1 * 0.35 + 2 * 0.9)
