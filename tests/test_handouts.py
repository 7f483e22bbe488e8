"""Handouts an instructor gives out unchanged (issue 15): editions, the running header, safe
math in titles, the lecture variant's honest notation, the precision shown, the neuron-by-neuron
working and the paths listing. LaTeX source only; the PDFs are checked in test_pdf_render.py."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from symbackprop.cli.render import documents, render_command
from symbackprop.render.options import RenderOptions
from symbackprop.render.texmath import Precision, fmt
from symbackprop.templating import tex_with_math

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WE5 = EXAMPLES / "we05-221-sigmoid.yaml"
WE5U = EXAMPLES / "we05-221-sigmoid-updated.yaml"


def tex(path: Path, template: str = "solution", **options) -> str:
    return "".join(t for _, t in documents(path, template, "backprop", RenderOptions(**options), None, 0))


def body(source: str) -> str:
    return source.split(r"\begin{document}", 1)[1]


# --------------------------------------------------------------------------- editions and header

def test_a_students_edition_leaves_out_the_instructors_notes():
    student, instructor = tex(WE5), tex(WE5, edition="instructor")
    note = "computed correctly"  # from the spec's description
    assert note not in student and note in instructor
    assert "Instructor's note." in instructor and "instructor's edition" in instructor
    assert "Instructor" not in body(student)


def test_the_header_names_the_course_and_sheet_never_the_spec_or_the_tool(tmp_path):
    source = tex(WE5, course=r"Neural networks ($\eta$ week)", sheet="Sheet 4")
    assert r"\fancyhead[L]{\small Neural networks ($\eta$ week)}" in source
    assert r"\fancyhead[R]{\small Sheet 4}" in source
    assert "we05-221-sigmoid" not in body(source) and "symbackprop" not in body(source)
    spec = tmp_path / "s.yaml"
    spec.write_text(WE5.read_text() + "course: 'ML 101'\nsheet: 'Exercise 2'\nsubtitle: 'A $2$-$2$-$1$ net'\n")
    source = tex(spec)
    assert r"\fancyhead[L]{\small ML 101}" in source and r"{\large A $2$-$2$-$1$ net\par}" in source
    assert r"\fancyhead[L]{\small Other}" in tex(spec, course="Other")  # the CLI wins


def test_the_exam_problem_sheet_is_always_a_students_edition_and_shows_no_seed():
    problem, solution = (t for _, t in documents(WE5, "exam", "backprop", RenderOptions(edition="instructor"),
                                                 None, 0))
    assert "Instructor" not in body(problem) and "seed" not in body(problem)
    assert "Instructor's note." in solution


@pytest.mark.parametrize("text, kept", [
    (r"one step with $\eta = 1$", r"one step with $\eta = 1$"),
    (r"$S = L^2 + 2$, $P = \sqrt{S}$", r"$S = L^2 + 2$, $P = \sqrt{S}$"),
    (r"$\input{/etc/passwd}$", None),
    (r"$\def\x{1}$", None),
    (r"$x^^5c$", None),
    (r"$\catcode`\@=11$", None),
    (r"$x$ and $", None),       # an unpaired dollar is text
    (r"${x$", None),            # unbalanced braces
    (r"$x^$", None),            # a dangling superscript would stop pdflatex
    (r"$\\ \write18{ls}$", None),
    (r"$\text{\input{a}}$", None),
    ("$" + "x" * 300 + "$", None),
])
def test_titles_keep_only_safe_math(text, kept):
    out = tex_with_math(text)
    if kept is not None:
        assert out == kept
    else:
        for bad in (r"\input", r"\def", r"\catcode", r"\write", "^^"):
            assert bad not in out
        assert "$" not in out.replace(r"\$", "") or out.count("$") - out.count(r"\$") == 2


def test_shipped_titles_are_typeset_math_not_python():
    source = tex(WE5)
    assert r"(target $t = 0.5$, $\eta = 1$)" in source and "eta = 1" not in source.replace(r"\eta = 1", "")
    derivation = tex(EXAMPLES / "we11-composite-chain.yaml", "derivation")
    assert r"$S = L^2 + 2$, $P = \sqrt{S}$" in derivation and "**" not in derivation


# --------------------------------------------------------------------------- the lecture variant

def test_the_lecture_variant_never_calls_its_figures_the_gradient():
    for template in ("solution", "derivation"):
        source = tex(WE5U, template)
        for w in ("AT", "BT", "AB", "BB"):  # hidden weights: the variant's figure is not ∂E/∂w
            assert rf"\partial E / \partial w_{{{w}}} &" not in source
            assert rf"\frac{{\partial E}}{{\partial w_{{{w}}}}} &" not in source
            assert rf"\tilde{{g}}_{{w_{{{w}}}}}" in source
        assert r"\tilde{\delta}_{T}" in source
        assert r"\frac{\partial E}{\partial w_{TF}}" in source or r"\partial E / \partial w_{TF}" in source
    solution = tex(WE5U)
    assert r"\tilde{g}_{w_{AT}} &= \tilde{\delta}_{T}\,A = 0.002410 \cdot 0.35 = 0.000843" in solution
    assert "Through the old weights the true errors are $\\delta_{T} = 0.002654$" in solution


def test_a_plain_derivation_has_no_tilde():
    assert r"\tilde" not in tex(WE5) and r"\tilde" not in tex(WE5, "derivation")


# --------------------------------------------------------------------------- numbers

@pytest.mark.parametrize("value, precision, shown", [
    (0.0026543, Precision(sig=3), "0.00265"),
    (0.040681, Precision(sig=2), "0.041"),
    (123.456, Precision(sig=4), "123.5"),
    (9.9996, Precision(sig=4), "10.00"),
    (1.0, Precision(decimals=6), "1"),
    (-2.0, Precision(sig=3), "-2"),
    (-0.0000001, Precision(decimals=3), "0.000"),
    (3.2e-9, Precision(sig=2), r"3.2 \times 10^{-9}"),
])
def test_numbers_are_shown_at_the_chosen_precision(value, precision, shown):
    assert fmt(value, precision) == shown


def test_sig_figures_keep_the_printed_arithmetic_consistent():
    source = tex(WE5, sig=3)
    assert r"= 0.214 \cdot 0.190 = 0.0407" in source  # δ_F = f′ · ∂E/∂out at three figures
    assert "rounded to 3 significant figures" in source
    assert "1.000000" not in tex(EXAMPLES / "we10-relu-one-step.yaml")


def test_the_exam_asks_for_the_chosen_precision():
    problem = next(t for n, t in documents(WE5, "exam", "backprop", RenderOptions(sig=4), None, 0)
                   if n.endswith("problem.tex"))
    assert "Give every number to 4 significant figures" in problem


# --------------------------------------------------------------------------- working

def test_each_neuron_is_worked_as_in_the_lecture():
    source = tex(WE5)
    steps = [r"\partial E / \partial \mathrm{out}_{T} &= \delta_{F}\,w_{TF} = 0.040681 \cdot 0.3 = 0.012204",
             r"f'(\mathrm{net}_{T}) &= \mathrm{out}_{T} \left(1 - \mathrm{out}_{T}\right)",
             r"\delta_{T} &= f'(\mathrm{net}_{T}) \cdot \partial E / \partial \mathrm{out}_{T} = 0.217504 \cdot 0.012204 = 0.002654"]
    positions = [source.index(s) for s in steps]
    assert positions == sorted(positions)


def test_the_second_pass_is_worked_and_a_rising_loss_is_remarked():
    source = tex(EXAMPLES / "we10-relu-one-step.yaml")
    assert "The same computation with the new parameters" in source
    assert "The loss rose." in source
    assert "The loss rose." not in tex(WE5)


# --------------------------------------------------------------------------- paths

def test_paths_wrt_lists_only_the_chosen_parameters():
    source = tex(EXAMPLES / "we02-paths-3-3-3-3-2.yaml", "paths", wrt=("w1_1_1",))
    assert source.count(r"\item $") == 18
    assert "The paths of the other 32 parameters (222 in all)" in source


def test_paths_wrt_refuses_an_unknown_parameter(tmp_path):
    result = CliRunner().invoke(render_command, [str(WE5), "--template", "paths", "--wrt", "w_XX",
                                                 "-o", str(tmp_path)])
    assert result.exit_code == 2 and "'w_XX' is not a parameter" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = CliRunner().invoke(render_command, [str(WE5), "--template", "solution", "--wrt", "w_AT",
                                                 "-o", str(tmp_path)])
    assert result.exit_code == 2 and "--wrt goes with --template paths" in result.output


def test_a_test_point_appears_only_when_asked_for():
    spec = EXAMPLES / "we04-232-symbolic.yaml"  # no values: the gradients' values come from derive's check
    assert "test point" not in tex(spec, "paths")
    assert re.search("test point|at x|where", tex(spec, "paths", verbose=True))


# --------------------------------------------------------------------------- one notation system

WE13 = EXAMPLES / "we13-relu-3layer.yaml"
WE4 = EXAMPLES / "we04-232-symbolic.yaml"


def test_examples_are_bracketed_and_layers_parenthesised():
    solution = body(tex(WE13))
    assert r"\mathrm{net}_{h^{(1)}_{1}}^{[n]}" in solution          # layer (1), example [n]
    assert r"\mathrm{net}^{[1]}" in solution and r"\mathrm{net}^{(1)}" not in solution
    matrix = body(tex(WE13, "matrix"))
    assert r"\sum_{n=1}^{N} E^{[n]}" in matrix and "Example $n = 1$" in matrix
    assert "$p" not in matrix and "E^{(p)}" not in matrix


def test_the_matrix_view_states_its_names_and_its_per_example_delta():
    matrix = body(tex(WE13, "matrix"))
    assert r"$a^{(l)}_{j}$ is its $\mathrm{net}$" in matrix and "in this order" in matrix
    # WE-13: the mean over N = 4 examples; the scalar δ is the matrix δ divided by 4
    # (example 1: 2(z − t) = 2(0.851153 − 1) = −0.297694, and −0.297694 / 4 = −0.074424).
    assert "divided by $N = 4$" in matrix
    assert r"2 \left(z - t\right)" in matrix


def test_sums_with_a_shared_factor_and_products_are_written_as_lectures_write_them():
    solution = body(tex(WE13))
    assert r"\frac{\mathrm{out}_{y_{1}}^{[n]} - t_{y_{1}}^{[n]}}{2}" in solution   # not out/2 − t/2
    assert r"\frac{\mathrm{out}_{y_{1}}^{[n]}}{2}" not in solution
    paths = body(tex(WE4, "paths"))
    assert r"= \delta_{A} \Omega$" in paths and r"\Omega \delta_{A}" not in paths
    matrix = body(tex(WE4, "matrix"))
    assert r"\delta^{(1)}_{1} x_{1}" in matrix and r"x_{1} \delta^{(1)}_{1}" not in matrix


def test_new_weights_are_w_plus_in_the_matrix_view():
    matrix = body(tex(EXAMPLES / "we10-matrix.yaml", "matrix"))
    assert r"W^{(2)+} &=" in matrix and r"W^{(l)+} = W^{(l)} - \eta" in matrix


def test_a_negative_number_in_a_function_has_one_pair_of_parentheses():
    solution = body(tex(EXAMPLES / "we03-three-formulas.yaml"))   # out_b = tanh(net_b), net_b < 0
    assert re.search(r"= \\tanh\{\\left\(-0\.\d+ \\right\)\}", solution)
    assert r"\tanh{\left(\left(" not in solution


def test_sigmoid_with_cross_entropy_shows_the_lectures_simple_delta():
    # WE-7a: δ_p = out_p − t_p (the sigmoid's f′ cancels the BCE's denominator); out_p =
    # 0.6735268 and t_p = 1 come from examples/independent/we07a-bce-l2.py's hand-written pass
    solution = body(tex(EXAMPLES / "we07a-bce-l2.yaml"))
    assert r"\delta_{p} &= \mathrm{out}_{p} - t_{p} = 0.673527 - 1 = -0.326473" in solution
    assert r"\delta_{h} &= \mathrm{out}" not in solution     # a hidden δ has no such form


def test_the_lectures_own_symbols(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(WE5.read_text() + "symbols: {loss: J, learning_rate: alpha}\n")
    for template in ("derivation", "solution"):
        source = body(tex(spec, template))
        assert r"\partial J}{\partial w_{AT}}" in source or r"\partial J / \partial w_{AT}" in source
        assert r"\partial E" not in source
        assert r"w^{+} = w - \alpha\," in source
        assert r"\eta" not in source.split(r"\end{center}", 1)[1]   # the title's own η is the spec's text
    from symbackprop import derive, load_spec
    d = derive(load_spec(spec))
    assert d.loss_name == "J" and round(d.numbers.gradients["w_AT"], 6) == 0.000929   # WE-5's figure


def test_the_lectures_target_letter(tmp_path):
    """``symbols.target: c`` writes every target as c in every document (scalar and matrix);
    the JSON keeps the canonical names t_<output>, as the answer files and the checker do."""
    spec = tmp_path / "s.yaml"
    spec.write_text(WE5.read_text() + "symbols: {target: c}\n")
    for template in ("derivation", "solution", "paths", "matrix"):
        source = body(tex(spec, template))
        assert re.search(r"[^a-zA-Z\\]t_\{", source) is None, template
        assert "c_{F}" in source or (template == "matrix" and r"\left(c - z\right)" in source), template
    assert r"\mathrm{out}_{F} - c_{F} = 0.690283 - 0.5 = 0.190283" in body(tex(spec, "solution"))  # WE-5
    from symbackprop import derive, load_spec
    d = derive(load_spec(spec))
    assert "t_F" in {s.name for s in d.loss_definition.free_symbols}
    assert body(tex(WE5, "solution")).count("c_{F}") == 0   # the letter does not leak to other specs


@pytest.mark.parametrize("symbols, message", [
    ("{loss: A}", "symbols.loss: 'A' is already a name"),
    ("{loss: out_F}", "symbols.loss:"),
    ("{rate: alpha}", "symbols.rate: unknown symbol (allowed: learning_rate, loss, target)"),
    ("{target: c_1}", "symbols.target: 'c_1' is not a letter"),
    ("{learning_rate: a2}", "symbols.learning_rate: 'a2' is not a letter"),
    ("{learning_rate: 3}", "symbols.learning_rate: a name must be a string"),
    ("[J]", "symbols: "),
])
def test_bad_symbols_name_their_key(tmp_path, symbols, message):
    spec = tmp_path / "s.yaml"
    spec.write_text(WE5.read_text() + f"symbols: {symbols}\n")
    result = CliRunner().invoke(render_command, [str(spec), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and message in result.output, result.output


def test_a_computation_graph_is_not_worked_in_layers():
    solution = body(tex(EXAMPLES / "we11-composite-chain.yaml"))     # P = sqrt(L**2 + 2), wrt the input L
    assert "From the objective backwards" in solution and "Output layer first" not in solution
    assert r"\text{input} & \text{value} & \partial P / \partial L" in solution
    assert r"\partial P / \partial w" not in solution



def test_one_parameter_left_out_of_the_paths_listing_is_named_in_words():
    """Not "the other 1 parameter (9 in all)" (issue 15): the 2-D convolution lists its four
    kernel weights' paths and leaves out the bias's nine."""
    source = tex(EXAMPLES / "conv2d-4x4.yaml", "paths")
    assert "The 9 paths of the remaining parameter follow the same pattern" in source
    assert "other 1 parameter" not in source


def test_long_cached_results_and_path_products_break_across_lines():
    """The batch-norm example's ∂E/∂g (three long terms) and its path products ran up to 26 pt
    into the margin in one line of inline math; they are displayed, broken between terms."""
    source = tex(EXAMPLES / "batchnorm-3.yaml", "paths")
    cached = source.split(r"the cached backprop result", 4)[3]
    assert cached.lstrip().startswith(r"\begin{align*}") and r"\\*" in cached.split(r"\end{align*}")[0]
    assert "product of the edge labels:\n  \\begin{align*}" in source
