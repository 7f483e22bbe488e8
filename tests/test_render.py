"""LaTeX documents without running TeX: escaping, names, plain data for templates, what the
documents say, determinism, randomised exam variants and the ``render`` command.

Compiling the documents (and reading the PDFs back) is tests/test_pdf_render.py.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, EXAMPLE_SPECS, derivation, ids, runner
from symbackprop.render.options import RenderOptions
from symbackprop.functions import relu
from symbackprop.cli import render as command_module
from symbackprop.cli.render import documents, render_command
from symbackprop.render.derivation import derivation_context
from symbackprop.render.exam import exam_contexts
from symbackprop.render.paths import paths_context
from symbackprop.render.solution import solution_context
from symbackprop.render.texmath import fmt, fmt_given, visual_width
from symbackprop.render.notebook import derivation_latex, gradient_latex
from symbackprop.templating import tex_escape
from symbackprop.latex import latex_name, to_latex

WE5 = EXAMPLES / "we05-221-sigmoid.yaml"
HOSTILE_TITLE = r"Net \input{/etc/passwd} $x^^5c$ 100%"
HOSTILE = [
    HOSTILE_TITLE, "\\", "{}", "$$", "&#_%~^", r"\begin{document}\end{document}", "^^5c^^M^^40",
    "\x00\x07\x1b[31m\x7f", "a--b---c", "<script>|\"`", "\u202ertl\u200b", "λ Ω αβ ≤ ∂ ² ½",
    "中文 € ǅ", r"\csname end\endcsname", r"\catcode`\%=11", "%\n\\write18{rm -rf /}",
    r"\def\x{\x}\x", "}}}}{{{{", "\\\\\\", "~~~", "#1#2", "\r\n\t",
]
SPECIALS = set("\\{}$&#^_%~")
_OUR_ESCAPES = re.compile(
    r"\\textbackslash\{\}|\\text(?:asciicircum|asciitilde|less|greater|bar)\{\}|\\[{}$&#_%]"
    r"|\{\\ttfamily\\char\d+\}|\{\\ttfamily\[U\+[0-9A-F]+\]\}|\\ensuremath\{(?:[^{}]|\{[^{}]*\})*\}|-\{\}|\\nobreakspace\{\}")



# --------------------------------------------------------------------------- escaping

@pytest.mark.parametrize("text", HOSTILE)
def test_escape_leaves_no_active_character(text):
    escaped = tex_escape(text)
    rest = _OUR_ESCAPES.sub("", escaped)
    assert not SPECIALS & set(rest), (text, escaped)
    assert not any(ord(c) < 32 and c not in " " for c in escaped.replace("\n", "").replace(" ", ""))
    assert "--" not in escaped and "^^" not in escaped


def test_escape_of_the_hostile_title():
    assert tex_escape(HOSTILE_TITLE) == (r"Net \textbackslash{}input\{/etc/passwd\} \$x\textasciicircum{}"
                                         r"\textasciicircum{}5c\$ 100\%")


def test_escape_keeps_accents_maps_greek_and_names_the_rest():
    assert tex_escape("Müller, Łódź, naïve") == "Müller, Łódź, naïve"
    assert tex_escape("λ") == r"\ensuremath{\lambda}"
    assert tex_escape("a → b") == r"a \ensuremath{\rightarrow} b"
    assert tex_escape("€") == r"{\ttfamily[U+20AC]}"


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escape_of_any_text(text):
    escaped = tex_escape(text)
    assert not SPECIALS & set(_OUR_ESCAPES.sub("", escaped))
    assert all(ord(c) >= 32 or c == "\n" or c == "\t" for c in escaped)


# --------------------------------------------------------------------------- names and math

@pytest.mark.parametrize("name,tex", [
    ("w_AT", "w_{AT}"), ("out_T", r"\mathrm{out}_{T}"), ("net_Bo", r"\mathrm{net}_{\mathit{Bo}}"),
    ("delta_T", r"\delta_{T}"), ("t_F", "t_{F}"), ("lambda", r"\lambda"), ("Omega", r"\Omega"),
    ("W_lambdaA", r"W_{\lambda A}"), ("W_OmegaA", r"W_{\Omega A}"), ("W_Aalpha", r"W_{A\alpha}"),
    ("out_alpha", r"\mathrm{out}_{\alpha}"), ("delta_beta", r"\delta_{\beta}"),
    ("W_Aalpha__new", r"W_{A\alpha}^{+}"), ("x1__2", "x_{1}^{[2]}"), ("w1_2_3", "w^{(1)}_{2,3}"),
    ("h1_1", "h^{(1)}_{1}"), ("W1_12", "W^{(1)}_{12}"), ("w_mutual", "w_{mutual}"), ("λ", r"\lambda"),
    ("W_λA", r"W_{\lambda A}"), ("w1_1_1__new", "{w^{(1)}_{1,1}}^{+}"),
])
def test_latex_names(name, tex):
    assert latex_name(name) == tex


def test_unusual_letters_in_names_still_compile_as_math():
    assert latex_name("é") == r"\text{é}"
    assert latex_name("x_中") == r"x_{\text{{\ttfamily[U+4E2D]}}}"


def test_relu_derivative_prints_as_an_indicator():
    net = sp.Symbol("net_h")
    assert to_latex(sp.diff(relu(net), net)) == r"\mathbf{1}\!\left[\mathrm{net}_{h} > 0\right]"


def test_number_formatting():
    assert fmt(0.6802672, 6) == "0.680267" and fmt(-4e-9, 4) == "0.0000" and fmt(-0.5, 2) == "-0.50"
    assert fmt_given(sp.Rational(7, 20), 6) == "0.35" and fmt_given(sp.Integer(-2), 6) == "-2"
    assert fmt_given(sp.Rational(1, 3), 3) == "0.333"


def test_visual_width_counts_fractions_by_their_wider_part():
    assert visual_width(r"\frac{a}{b}") < visual_width("ab")
    assert visual_width(r"x_{1}^{(2)}") < visual_width("x1(2)")


# --------------------------------------------------------------------------- plain data only

def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def contexts(path: Path) -> list[dict]:
    d = derivation(str(path))
    out = [derivation_context(d)]
    if not d.is_variant:
        out.append(paths_context(derivation(str(path), "paths")))
    if d.numbers is not None:
        out.append(solution_context(d, 6))
        out.extend(exam_contexts(d, 4))
    return out


@pytest.mark.parametrize("path", EXAMPLE_SPECS, ids=ids(EXAMPLE_SPECS))
def test_templates_receive_plain_data_only(path):
    for context in contexts(path):
        for leaf in _leaves(context):
            assert leaf is None or isinstance(leaf, (str, int, float, bool)), (path.stem, type(leaf), leaf)


# --------------------------------------------------------------------------- what the documents say

def render_one(path: Path, template: str, **kw) -> str:
    docs = documents(path, template, kw.get("method", "backprop"), RenderOptions(digits=kw.get("digits", 6)), None, 0)
    return "\n".join(tex for _, tex in docs)


def test_we4_reads_like_its_lecture():
    tex = render_one(EXAMPLES / "we04-232-symbolic.yaml", "derivation")
    # δ_α = out_α(1 − out_α)(out_α − t_α): the lecture's −out_α(1 − out_α)(t_α − out_α)
    assert (r"\delta_{\alpha} &= \frac{\partial E}{\partial \mathrm{net}_{\alpha}} = "
            r"\frac{\partial \mathrm{out}_{\alpha}}{\partial \mathrm{net}_{\alpha}}\,"
            r"\frac{\partial E}{\partial \mathrm{out}_{\alpha}} = \mathrm{out}_{\alpha} "
            r"\left(1 - \mathrm{out}_{\alpha}\right)\,\left(\mathrm{out}_{\alpha} - t_{\alpha}\right)") in tex
    assert (r"\mathrm{out}_{A} \left(1 - \mathrm{out}_{A}\right)\,\left(\delta_{\alpha}\,W_{A\alpha}"
            r" + \delta_{\beta}\,W_{A\beta}\right)") in tex
    assert r"W_{A\alpha}^{+} &= W_{A\alpha} - \eta\,\delta_{\alpha}\,\mathrm{out}_{A}" in tex
    assert r"W_{\lambda A}^{+} &= W_{\lambda A} - \eta\,\delta_{A}\,\lambda" in tex
    assert r"W_{\Omega C}^{+} &= W_{\Omega C} - \eta\,\delta_{C}\,\Omega" in tex


def test_we1_expanded_gradient_is_the_lectures():
    tex = render_one(EXAMPLES / "we01-cubic-chain.yaml", "derivation")
    # 18 (w2³ w1⁹ x⁹ − t) w2³ w1⁸ x⁹
    assert r"18 w_{1}^{8} w_{2}^{3} x^{9} \left(- t_{o} + w_{1}^{9} w_{2}^{3} x^{9}\right)" in tex


def test_we11_composite_chain():
    tex = render_one(EXAMPLES / "we11-composite-chain.yaml", "derivation")
    assert r"\delta_{S} &= \frac{\partial P}{\partial S} = \frac{1}{2 \sqrt{S}}" in tex
    assert r"\frac{\partial P}{\partial L} &= \delta_{S}\,2 L" in tex
    assert r"\frac{L}{\sqrt{L^{2} + 2}}" in tex


def test_softmax_states_the_one_hot_condition():
    tex = render_one(EXAMPLES / "we07c-softmax-ce.yaml", "derivation")
    assert r"= \mathrm{out}_{p_{1}} - t_{p_{1}}" in tex
    assert "the targets sum to 1 (one-hot): holds for the given targets" in tex


def test_lecture_variant_says_so_with_the_true_figures_beside():
    sol = render_one(EXAMPLES / "we05-221-sigmoid-updated.yaml", "solution")
    assert "Lecture variant, not the gradient." in sol and "Not the gradient." in sol
    assert "0.002410" in sol and "0.002654" in sol          # δ_T: variant, true
    assert "0.099157" in sol and "0.099071" in sol          # new w_AT: variant, true
    assert r"w_{TF}^{+} &= w_{TF} - \eta\,\delta_{F}\,\mathrm{out}_{T} = 0.3 - 1 \cdot 0.040681 \cdot 0.680267" in sol
    der = render_one(EXAMPLES / "we05-221-sigmoid-updated.yaml", "derivation")
    assert "Lecture variant, not the gradient." in der and r"w_{TF}^{+}" in der


def test_solution_shows_every_step_of_we5():
    tex = render_one(WE5, "solution")
    assert r"\mathrm{net}_{T} &= w_{AT}\,A + w_{BT}\,B = 0.1 \cdot 0.35 + 0.8 \cdot 0.9 = 0.755000" in tex
    assert r"\partial E / \partial \mathrm{out}_{F} &= \mathrm{out}_{F} - t_{F} = 0.690283 - 0.5 = 0.190283" in tex
    assert r"= 0.690283 \cdot \left(1 - 0.690283\right) = 0.213792" in tex
    assert r"\delta_{F} &= f'(\mathrm{net}_{F}) \cdot \partial E / \partial \mathrm{out}_{F} = 0.213792 \cdot 0.190283 = 0.040681" in tex
    assert r"w_{AT}^{+} &= w_{AT} - \eta\,\partial E / \partial w_{AT} = 0.1 - 1 \cdot 0.000929 = 0.099071" in tex
    assert "loss decreases from $E = 0.018104$ to $0.016565$" in tex


def test_digits_round_the_display_only():
    tex = render_one(WE5, "solution", digits=3)
    assert "= 0.755" in tex and "0.755000" not in tex and "0.041" in tex


def test_paths_document_caps_long_listings():
    tex = render_one(EXAMPLES / "we02-paths-3-3-3-3-2.yaml", "paths")
    assert r"$w^{(1)}_{1,1}$: 18 paths to the loss" in tex
    assert "The paths of the other 31 parameters (204 in all)" in tex  # whole parameters while 40 fit
    assert tex.count(r"\item $") == 36


def test_exam_problem_has_no_answers():
    problem, solution = documents(WE5, "exam", "backprop", RenderOptions(), None, 0)
    assert problem[0] == "we05-221-sigmoid-exam-problem.tex"
    assert solution[0] == "we05-221-sigmoid-exam-solution.tex"
    for answer in ("0.755000", "0.680267", "0.040681", "0.099071"):
        assert answer not in problem[1] and answer in solution[1]


def test_notebook_latex():
    d = derivation(str(WE5))
    text = gradient_latex(d, "w_AT")
    assert text == r"$$\frac{\partial E}{\partial w_{AT}} = \delta_{T} A = 0.000929$$"
    block = derivation_latex(d)
    assert block.startswith("$$\\begin{aligned}") and block.endswith("\\end{aligned}$$")
    assert r"\delta_{T} &= " in block and r"\frac{\partial E}{\partial w_{BF}} &= " in block
    assert "lecture variant" in derivation_latex(derivation(str(EXAMPLES / "we05-221-sigmoid-updated.yaml")))
    with pytest.raises(KeyError):
        gradient_latex(d, "nope")


# --------------------------------------------------------------------------- determinism

def _cli_tex(tmp: Path, seed_env: str, *args: str) -> dict[str, bytes]:
    env = dict(os.environ, PYTHONHASHSEED=seed_env)
    code = "from symbackprop.cli.render import render_command; render_command()"
    proc = subprocess.run([sys.executable, "-c", code, *args, "-o", str(tmp)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return {p.name: p.read_bytes() for p in sorted(tmp.iterdir())}


def test_same_spec_gives_byte_identical_tex(tmp_path):
    for template in ("derivation", "paths"):
        a = _cli_tex(tmp_path / f"{template}1", "3", str(EXAMPLES / "we07c-softmax-ce.yaml"), "--template", template)
        b = _cli_tex(tmp_path / f"{template}2", "4", str(EXAMPLES / "we07c-softmax-ce.yaml"), "--template", template)
        assert a == b


# Randomised variants and `render --template exam --variants N` (the exam command's alias): tests/test_exam.py.


# --------------------------------------------------------------------------- the command

def test_default_output_directory_and_file_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for template in ("derivation", "paths", "solution"):
        result = runner().invoke(render_command, [str(WE5), "--template", template])
        assert result.exit_code == 0, result.output
        assert (tmp_path / "output" / f"we05-221-sigmoid-{template}.tex").exists()
        assert f"wrote output/we05-221-sigmoid-{template}.tex" in result.stderr
    spec = tmp_path / "r.yaml"
    spec.write_text(WE5.read_text().replace("name: we05-221-sigmoid", "name: r"))
    result = runner().invoke(render_command, [str(spec), "--template", "exam", "--variants", "2", "-o", "ex"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "ex").iterdir()) == [
        "r-exam-key.csv", "r-exam-key.tex", "r-exam-problems.tex", "r-exam-solutions.tex", "r-variants.json"]


@pytest.mark.parametrize("args,message", [
    (["--template", "solution"], "values: this document needs numbers"),
    (["--template", "exam"], "values: this document needs numbers"),
    (["--template", "derivation", "--variants", "3"], "variants: --variants goes with --template exam"),
])
def test_user_mistakes_exit_2_with_one_line_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "out"
    result = runner().invoke(render_command, [str(EXAMPLES / "we04-232-symbolic.yaml"), *args, "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith("symbackprop: error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1
    assert not out.exists()


def test_bad_randomize_through_the_command(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text(WE5.read_text() + "randomize: {params: {low: -1, high: 1, step: 0}}\n")
    result = runner().invoke(render_command, [str(spec), "--template", "exam", "--variants", "2",
                                              "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr == f"symbackprop: error: {spec}: randomize.params.step: must be positive\n"


def test_paths_refuses_the_lecture_variant(tmp_path):
    result = runner().invoke(render_command, [str(EXAMPLES / "we05-221-sigmoid-updated.yaml"), "--template",
                                              "paths", "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "use --method backprop" in result.stderr


def test_pdf_without_tex_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(command_module, "pdflatex_path", lambda: None)
    out = tmp_path / "out"
    result = runner().invoke(render_command, [str(WE5), "--pdf", "-o", str(out)])
    assert result.exit_code == 2
    assert "--pdf needs pdflatex (TeX Live), which is not installed" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("module", ["symbackprop.templating", "symbackprop.latex", "symbackprop.names",
                                    "symbackprop.render.texmath", "symbackprop.render.view",
                                    "symbackprop.render.derivation", "symbackprop.render.notebook",
                                    "symbackprop.render.tikz",
                                    "symbackprop.render.pdf", "symbackprop.exams.variants"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0
