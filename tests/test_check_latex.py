"""LaTeX answers → plain text: the supported subset, names as printed, and refusals.

Expected texts are written by hand from the LaTeX; nothing here is produced by the code
under test and then asserted back.
"""
from __future__ import annotations

import pytest
import sympy as sp

from conftest import at_most_steps
from symbackprop.check.latex import LatexError, NameTable, latex_to_text, looks_like_latex
from symbackprop.expressions import ANSWER_FUNCTIONS, parse_expression
from symbackprop.functions import sigmoid

NAMES = ["out_T", "net_T", "out_F", "net_F", "delta_F", "delta_T", "delta_Bo", "w_TF", "w_AT", "A", "B", "t_F",
         "lambda", "Omega", "delta_alpha", "W_lambdaA", "W_Aalpha", "out_alpha", "w1_2_3", "x1", "x1__2",
         "out_h1", "delta_h1_1", "eta"]
TABLE = NameTable(NAMES)
SYMBOLS = {n: sp.Symbol(n) for n in NAMES}


def plain(latex: str) -> sp.Expr:
    return parse_expression(latex_to_text(latex, TABLE).text, SYMBOLS, where="test", functions=ANSWER_FUNCTIONS)


def same(a: sp.Expr, text: str) -> bool:
    return sp.simplify(a - parse_expression(text, SYMBOLS, where="expected")) == 0


@pytest.mark.parametrize("latex,expected", [
    # the issue's own example and the lecture's notation
    (r"-\left(t_F - out_F\right) \cdot out_F (1 - out_F) w_{TF} out_T (1-out_T) A",
     "-(t_F - out_F)*out_F*(1 - out_F)*w_TF*out_T*(1 - out_T)*A"),
    (r"\delta_{F} \mathrm{out}_{T} w_{TF} \left(1 - \mathrm{out}_{T}\right)", "delta_F*out_T*w_TF*(1 - out_T)"),
    (r"A\,\delta_T", "A*delta_T"),
    (r"\frac{1}{2}\left(t_{F}-\mathrm{out}_{F}\right)^{2}", "(t_F - out_F)**2/2"),
    (r"\frac12 A", "A/2"),
    (r"\dfrac{A}{B}", "A/B"),
    (r"\sigma(\mathrm{net}_T)\,(1-\sigma(\mathrm{net}_T))", "sigmoid(net_T)*(1 - sigmoid(net_T))"),
    (r"\sigma'(\mathrm{net}_T)", "sigmoid(net_T)*(1 - sigmoid(net_T))"),
    (r"\sigma^{\prime}\left(\mathrm{net}_{T}\right)", "sigmoid(net_T)*(1 - sigmoid(net_T))"),
    (r"\sigma^{2}\left(\mathrm{net}_{T}\right)", "sigmoid(net_T)**2"),
    (r"e^{-\mathrm{net}_T}", "exp(-net_T)"),
    (r"\exp\left(-net_T\right) \times 2", "2*exp(-net_T)"),
    (r"\log out_F + \ln(1 - out_F)", "log(out_F) + log(1 - out_F)"),
    (r"\sqrt{A}", "sqrt(A)"),
    (r"\left| A - B \right|", "abs(A - B)"),
    (r"\max(A, B)", "max(A, B)"),
    (r"\operatorname{ReLU}(\mathrm{net}_T)", "relu(net_T)"),
    (r"$A^2 B$", "A**2*B"),
    (r"2A\delta_T", "2*A*delta_T"),
    (r"AB", "A*B"),                             # a run that is no name: the unique split
    (r"Aw_{TF}", "A*w_TF"),
    (r"\lambda \Omega", "lambda*Omega"),
    (r"\delta_{\alpha} W_{\lambda A} W_{A\alpha}", "delta_alpha*W_lambdaA*W_Aalpha"),   # as symbackprop prints them
    (r"λ Ω", "lambda*Omega"),                   # Unicode Greek
    (r"\mathrm{out}_{\alpha}", "out_alpha"),
    (r"w^{(1)}_{2,3} + w1_2_3", "2*w1_2_3"),    # layered weights, printed and plain
    (r"x_{1}^{[2]} + x_1", "x1__2 + x1"),       # example 2 of x1, and x1
    (r"x_{1}^{(2)} + x_1", "x1__2 + x1"),       # the older parenthesised spelling
    (r"\mathrm{out}_{h_{1}}", "out_h1"),
    (r"\delta_{h^{(1)}_{1}}", "delta_h1_1"),
    (r"\left[A + B\right] \cdot \left\{ A \right\}", "(A + B)*A"),
    (r"\eta \, \delta_T", "eta*delta_T"),
])
def test_supported_latex(latex, expected):
    assert same(plain(latex), expected), latex_to_text(latex, TABLE).text


def test_relu_indicator_becomes_heaviside():
    assert latex_to_text(r"\delta_F \mathbf{1}\!\left[\mathrm{net}_{T} > 0\right] A", TABLE).text == \
        "delta_F*Heaviside(net_T, 0)*A"
    expr = plain(r"\delta_F \mathbf{1}\!\left[\mathrm{net}_{T} > 0\right] A")
    assert expr == sp.Symbol("delta_F") * sp.Symbol("A") * sp.Heaviside(sp.Symbol("net_T"), 0)


def test_sigmoid_function_object():
    assert plain(r"\sigma(A)") == sigmoid(sp.Symbol("A"))


@pytest.mark.parametrize("latex,message", [
    (r"\input{/etc/passwd}", r"LaTeX command \input is not allowed"),
    (r"\immediate\write18{touch CANARY}", r"LaTeX command \immediate is not allowed"),
    (r"\def\x{1} \x", r"LaTeX command \def is not allowed"),
    (r"\newcommand{\a}{A} \a", r"LaTeX command \newcommand is not allowed"),
    (r"\catcode 94=7", r"LaTeX command \catcode is not allowed"),
    (r"\catcode`\^=7", "character '`' is not allowed"),
    (r"\partial E", r"LaTeX command \partial is not allowed"),
    (r"A & B", "character '&' is not allowed"),
    (r"A % comment", "character '%' is not allowed"),
    (r"out_T = 1", "'=' is not allowed"),
    (r"A > B", "comparison '>' is only allowed inside"),
    (r"w_{XY}", "unknown name 'w_{XY}'"),
    (r"AT", "unknown name 'AT'"),
    (r"\left( A", "expected ')'"),
    (r"A )", "unmatched ')'"),
    (r"\frac{A}", "needs an argument"),
    (r"\sqrt[3]{A}", "only square roots"),
    (r"2 3", "two numbers side by side"),
    (r"|A|", "absolute values"),
    (r"", "empty answer"),
    ("(" * 200 + "A" + ")" * 200, "nested too deeply"),
])
def test_refused_with_one_clear_line(latex, message):
    with pytest.raises(LatexError) as info:
        latex_to_text(latex, TABLE)
    text = str(info.value)
    assert message in text and "\n" not in text


def test_huge_input_is_refused_before_reading_it():
    # a handful of steps; reading the 1,000,001 characters would take at least one step each
    with pytest.raises(LatexError, match="too long"), at_most_steps(1_000, "refusing 1,000,001 characters"):
        latex_to_text("A+" * 500_000 + "A", TABLE)


def test_ambiguous_names_are_refused_not_guessed():
    table = NameTable(["w1_11", "w11_1"])      # both are 'w111' once _ ( ) , are dropped
    assert latex_to_text(r"w^{(1)}_{11}", table).text == "w1_11"
    with pytest.raises(LatexError, match="could mean w11_1, w1_11"):
        latex_to_text(r"w_{111}", table)
    split_table = NameTable(["a", "b", "ab", "c", "bc"])
    with pytest.raises(LatexError, match="ambiguous"):
        latex_to_text("abc", split_table)        # a·bc or ab·c


def test_auto_detection():
    assert looks_like_latex(r"\delta_F") and looks_like_latex("out_T^2") and looks_like_latex("w_{AT}")
    assert not looks_like_latex("out_T*(1 - out_T)")
