"""The allow-list expression parser: what it builds, what it refuses, and that it never runs code."""
from __future__ import annotations

import ast
import builtins

import pytest
import sympy as sp

from symbackprop.expressions import FUNCTIONS, LIMITS, ExpressionError, parse_expression
from symbackprop.functions import absolute, maximum, minimum, relu, sigmoid

x, y, z = sp.symbols("x y z")
XYZ = {"x": x, "y": y, "z": z}


def parse(text: str, names=XYZ, where: str = "loss") -> sp.Expr:
    return parse_expression(text, names, where=where)


def refused(text, names=XYZ, where: str = "loss") -> str:
    """The message of the ExpressionError ``text`` raises, checked to be one line starting ``where: ``."""
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, names, where=where)
    message = str(info.value)
    assert message.startswith(f"{where}: ") and "\n" not in message
    assert len(message) < 300
    return message


# --- building ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("x + y*z", x + y * z),
    ("(x + y)*z", (x + y) * z),
    ("x - y - z", x - y - z),
    ("x - (y - z)", x - y + z),
    ("x / y / z", x / (y * z)),
    ("x / (y / z)", x * z / y),
    ("x**y**z", x ** (y**z)),
    ("(x**y)**z", (x**y) ** z),
    ("-x**2", -(x**2)),
    ("(-x)**2", x**2),
    ("--x", x),
    ("+x - -y", x + y),
    ("2*x**-1", 2 / x),
    ("x*y/z*2", 2 * x * y / z),
    ("1 - x + 2*y - 3", -x + 2 * y - 2),
    ("(x\n + y)", x + y),
    ("  x + 1  ", x + 1),
    ("x  # a comment", x),
])
def test_arithmetic_and_precedence(text: str, expected: sp.Expr) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("0.35", sp.Rational(7, 20)),
    ("1e-3", sp.Rational(1, 1000)),
    ("0.1 + 0.2", sp.Rational(3, 10)),
    ("1/3", sp.Rational(1, 3)),
    ("2.5e2", sp.Integer(250)),
    ("7", sp.Integer(7)),
    ("1_000", sp.Integer(1000)),
    ("0.5*x", x / 2),
    ("2**-2", sp.Rational(1, 4)),
    ("4**0.5", sp.Integer(2)),
])
def test_numbers_are_exact(text: str, expected: sp.Expr) -> None:
    got = parse(text)
    assert got == expected
    assert not got.atoms(sp.Float)


@pytest.mark.parametrize("text, expected", [
    ("exp(x)", sp.exp(x)),
    ("log(x)", sp.log(x)),
    ("sqrt(x)", sp.sqrt(x)),
    ("sin(x) + cos(y)", sp.sin(x) + sp.cos(y)),
    ("tanh(x)", sp.tanh(x)),
    ("sigmoid(x)", sigmoid(x)),
    ("relu(x - 1)", relu(x - 1)),
    ("abs(x)", absolute(x)),
    ("max(x, y)", maximum(x, y)),
    ("min(x, 2*y)", minimum(x, 2 * y)),
    ("max(x, y, 2*y)", maximum(x, y, 2 * y)),
    ("max(max(x, y), 0)", maximum(0, x, y)),
    ("exp(log(x))", x),
    ("sigmoid(0) + relu(-2) + max(1, 3)", sp.Rational(7, 2)),
])
def test_functions(text: str, expected: sp.Expr) -> None:
    assert parse(text) == expected


def test_function_table() -> None:
    assert set(FUNCTIONS) == {"exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "max", "min"}
    assert FUNCTIONS["abs"] is absolute and FUNCTIONS["sigmoid"] is sigmoid
    with pytest.raises(TypeError):
        FUNCTIONS["eval"] = eval  # type: ignore[index]


def test_sympy_meaningful_names_are_plain_user_symbols() -> None:
    spelled = ["E", "I", "S", "N", "O", "Q", "pi", "beta", "gamma", "Omega", "lambda", "exp"]
    names = {n: sp.Symbol(n) for n in spelled}
    got = parse("E + I", names)
    assert got == sp.Symbol("E") + sp.Symbol("I") and got.free_symbols == {sp.Symbol("E"), sp.Symbol("I")}
    assert parse("S*N + O - Q", names) == sp.Symbol("S") * sp.Symbol("N") + sp.Symbol("O") - sp.Symbol("Q")
    assert parse("pi*beta**gamma", names) == sp.Symbol("pi") * sp.Symbol("beta") ** sp.Symbol("gamma")
    assert parse("sin(pi)", names) == sp.sin(sp.Symbol("pi"))  # not 0
    assert parse("exp(exp)", names) == sp.exp(sp.Symbol("exp"))  # a name and a function
    assert parse("lambda*Omega", names) == sp.Symbol("lambda") * sp.Symbol("Omega")


def test_python_keywords_as_names() -> None:
    lam, if_, is_, as_ = sp.symbols("lambda if is as")
    names = {"lambda": lam, "if": if_, "is": is_, "as": as_, "x": x}
    assert parse("lambda", names) == lam
    assert parse("lambda*x**2 + if - is/as", names) == lam * x**2 + if_ - is_ / as_
    assert parse("sigmoid(lambda)\n", names) == sigmoid(lam)
    assert parse("(lambda\n+ lambda)", names) == 2 * lam
    assert "'lambda' is not a function" in refused("lambda(x)", names)
    assert "syntax error at column 7" in refused("lambda: 0", names)  # still never a lambda
    assert "syntax error" in refused("x if x else x", names)
    assert refused("x.__class__ + lambda", names) == \
        "loss: attribute access ('.') is not allowed (in 'x.__class__')"


def test_keywords_not_given_as_names_are_refused() -> None:
    assert refused("lambda: 0") == "loss: lambda expressions are not allowed (in 'lambda: 0')"
    assert refused("x if y else z") == "loss: conditional expressions ('if ... else') are not allowed " \
                                       "(in 'x if y else z')"
    assert refused("lambda*x", {"x": x}).startswith("loss: syntax error at column")


def test_unicode_names() -> None:
    lam, omega, alpha = sp.symbols("λ Ω α")
    names = {"λ": lam, "Ω": omega, "α": alpha}
    assert parse("λ*Ω + α**2", names) == lam * omega + alpha**2
    ohm = "\u2126"  # OHM SIGN: Python's parser reads it as GREEK CAPITAL OMEGA (NFKC)
    assert parse(f"{ohm} + 1", {ohm: omega}) == omega + 1
    assert parse("\u03a9 + 1", {ohm: omega}) == omega + 1
    assert parse("\uff58 + 1", XYZ) == x + 1  # fullwidth x


def test_names_starting_with_underscore_are_always_refused() -> None:
    names = {"_secret": x, "__class__": y, "lambda": z}
    assert refused("_secret", names) == "loss: names starting with '_' are not allowed: '_secret'"
    assert "'__class__'" in refused("__class__", names)
    assert "'______'" in refused("______ + lambda", names)  # looks like a hidden keyword; is not


def test_unknown_names() -> None:
    assert refused("q") == "loss: unknown name 'q' (allowed names: x, y, z)"
    many = {f"w{i}": sp.Symbol(f"w{i}") for i in range(20)}
    message = refused("q", many)
    assert message.startswith("loss: unknown name 'q' (allowed names: w0, w1,") and message.endswith("…)")
    assert refused("q", {}) == "loss: unknown name 'q'"
    assert refused("exp + 1") == "loss: 'exp' is a function: call it, e.g. exp(...)"


def test_where_defaults_to_expression() -> None:
    with pytest.raises(ExpressionError, match=r"^expression: unknown name 'q'"):
        parse_expression("q", XYZ)


# --- refusals ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("x.real", "loss: attribute access ('.') is not allowed (in 'x.real')"),
    ("x[0]", "loss: indexing ('[...]') is not allowed (in 'x[0]')"),
    ("[x for x in ()]", "loss: comprehensions are not allowed (in '[x for x in ()]')"),
    ("(x for x in ())", "loss: generator expressions are not allowed (in '(x for x in ())')"),
    ("x < y", "loss: comparisons are not allowed (in 'x < y')"),
    ("x and y", "loss: 'and'/'or' are not allowed (in 'x and y')"),
    ("not x", "loss: 'not' is not allowed (in 'not x')"),
    ("~x", "loss: '~' is not allowed (in '~x')"),
    ("f'{x}'", "loss: f-strings are not allowed (in \"f'{x}'\")"),
    ("(x, y)", "loss: tuples (',') are not allowed (in '(x, y)')"),
    ("[x]", "loss: lists ('[...]') are not allowed (in '[x]')"),
    ("{x: 1}", "loss: dicts ('{...}') are not allowed (in '{x: 1}')"),
    ("{x}", "loss: sets ('{...}') are not allowed (in '{x}')"),
    ("(x := 1)", "loss: assignment expressions (':=') are not allowed (in 'x := 1')"),
    ("x ^ 2", "loss: '^' (use ** for powers) is not allowed (in 'x ^ 2')"),
    ("x // 2", "loss: '//' (use / for division) is not allowed (in 'x // 2')"),
    ("x % 2", "loss: '%' is not allowed (in 'x % 2')"),
    ("x @ y", "loss: '@' is not allowed (in 'x @ y')"),
    ("x | y", "loss: '|' is not allowed (in 'x | y')"),
    ("x << 1", "loss: '<<' is not allowed (in 'x << 1')"),
    ("'x'", "loss: strings are not allowed (in \"'x'\")"),
    ("b'x'", "loss: bytes are not allowed (in \"b'x'\")"),
    ("True", "loss: True/False are not allowed (in 'True')"),
    ("None", "loss: None is not allowed (in 'None')"),
    ("...", "loss: '...' is not allowed (in '...')"),
    ("2j", "loss: complex numbers are not allowed (in '2j')"),
    ("1e999", "loss: number too large (in '1e999')"),
    ("x(y + 1)", "loss: 'x' is not a function (use * to multiply) (in 'x(y + 1)')"),
    ("(x + 1)(y)", "loss: calling the value of an expression is not allowed (use * to multiply) (in '(x + 1)(y)')"),
    ("sigmoid(x)(y)", "loss: calling the value of an expression is not allowed (use * to multiply) "
                      "(in 'sigmoid(x)(y)')"),
])
def test_refused_syntax(text: str, message: str) -> None:
    assert refused(text) == message


@pytest.mark.parametrize("text, message", [
    ("max(x)", "loss: max() takes at least 2 arguments (got 1) (in 'max(x)')"),
    ("min()", "loss: min() takes at least 2 arguments (got 0) (in 'min()')"),
    ("exp(x, y)", "loss: exp() takes exactly 1 argument (got 2) (in 'exp(x, y)')"),
    ("log(x, 2)", "loss: log() takes exactly 1 argument (got 2) (in 'log(x, 2)')"),
    ("exp(x=1)", "loss: keyword arguments are not allowed in exp() (in 'exp(x=1)')"),
    ("max(x, y, key=abs)", "loss: keyword arguments are not allowed in max() (in 'max(x, y, key=abs)')"),
    ("exp(**{})", "loss: keyword arguments are not allowed in exp() (in 'exp(**{})')"),
    ("exp(*y)", "loss: '*' unpacking is not allowed in exp() (in 'exp(*y)')"),
])
def test_calls_checked(text: str, message: str) -> None:
    assert refused(text) == message


@pytest.mark.parametrize("name", ["eval", "exec", "open", "getattr", "Symbol", "print", "compile", "globals"])
def test_functions_outside_the_allow_list(name: str) -> None:
    assert refused(f"{name}(x)") == (f"loss: function '{name}' is not allowed (allowed: abs, cos, exp, log, max, "
                                      f"min, relu, sigmoid, sin, sqrt, tanh) (in '{name}(x)')")


@pytest.mark.parametrize("text, message", [
    ("1/0", "loss: division by zero (in '1/0')"),
    ("x/(y - y)", "loss: division by zero (in 'x/(y - y)')"),
    ("0**-1", "loss: division by zero (in '0**-1')"),
    ("log(0)", "loss: the expression is undefined or infinite (e.g. log(0))"),
])
def test_undefined_values(text: str, message: str) -> None:
    assert refused(text) == message


@pytest.mark.parametrize("text, message", [
    ("x +", "loss: syntax error at column 4: unexpected end of expression"),
    ("(x", "loss: syntax error at column 1: '(' was never closed"),
    ("x)", "loss: syntax error at column 2: unmatched ')'"),
    ("  x y", "loss: syntax error at column 5: invalid syntax"),
    ("3 +* 4", "loss: syntax error at column 4: invalid syntax"),
    ("x\n+ y", "loss: syntax error at line 2, column 1: invalid syntax"),
    ("x = 1", "loss: syntax error at column"),
    ("import os", "loss: syntax error at column"),
])
def test_syntax_errors(text: str, message: str) -> None:
    assert refused(text).startswith(message)


@pytest.mark.parametrize("value, message", [
    (None, "loss: expected an expression as text, got NoneType"),
    (3, "loss: expected an expression as text, got int"),
    (b"x", "loss: expected an expression as text, got bytes"),
    ("", "loss: empty expression"),
    (" \n\t ", "loss: empty expression"),
])
def test_not_text_or_empty(value, message: str) -> None:
    assert refused(value) == message


def test_expression_error_is_a_value_error_with_one_line() -> None:
    assert issubclass(ExpressionError, ValueError)
    assert str(ExpressionError("a:\n  b")) == "a: b"


def test_long_offending_text_is_quoted_short() -> None:
    message = refused("x." + "a" * 500)
    assert message.startswith("loss: attribute access ('.') is not allowed (in 'x.aaaa")
    assert message.endswith("…')") and len(message) < 100
    assert len(refused("q" * 3000)) < 200


# --- code is never run (hostile texts: tests/test_faults.py) ----------------------------------

def test_allowed_text_does_not_compile_code(monkeypatch) -> None:
    real_compile = builtins.compile

    def only_ast(source, filename, mode, flags=0, *args, **kwargs):
        assert flags & ast.PyCF_ONLY_AST
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "compile", only_ast)
    assert parse("sigmoid(x)*exp(-y) + max(z, 0.5)**2") == sigmoid(x) * sp.exp(-y) + maximum(z, sp.S.Half) ** 2


# --- limits --------------------------------------------------------------------------------------

def test_limits_documented() -> None:
    assert LIMITS == {"max_length": 10_000, "max_depth": 100, "max_nodes": 5_000, "max_exponent": 1_000,
                      "max_magnitude_digits": 1_000}


@pytest.mark.parametrize("text", ["9**9**9", "2**10**10", "(2**100)**100**100", "2**2**2**2**2", "x**1001",
                                  "x**-1001", "10**10**10**10", "(-9)**9**9"])
def test_huge_exponents_refused(text: str) -> None:
    assert refused(text).startswith("loss: exponent too large (max_exponent is 1000)")


@pytest.mark.parametrize("text", ["100**501", "81**600", "(2**100)**100", "(1/3)**999 * (1/7)**999", "0.01**501",
                                  "1" * 1001, "1/" + "7" * 1001, "10**999*10**999", "1e300*1e300*1e300*1e300",
                                  "(8*x)**999 * 8**999", "sqrt(10**999)**1000", "(x + 10**999)**2",
                                  "1e-300**4"])
def test_huge_numbers_refused(text: str) -> None:
    assert "number with more than 1000 digits (max_magnitude_digits)" in refused(text)


@pytest.mark.parametrize("text, digits", [("10**1000", 1001), ("2**1000", 302), ("0.1**1000", 1001),
                                          ("9**999", 954), ("1" * 1000, 1000)])
def test_large_numbers_within_limits(text: str, digits: int) -> None:
    value = parse(text)
    assert value.is_Rational and len(str(max(abs(value.p), value.q))) == digits


def test_symbolic_powers_within_limits() -> None:
    assert parse("x**1000") == x**1000
    assert parse("x**-1000") == x**-1000
    assert parse("(2*x)**999") == 2**999 * x**999
    assert parse("(2*x)**1000 / 2**999") == 2 * x**1000
    assert parse("2**x") == 2**x


def test_bracket_depth_limit_is_exact() -> None:
    assert parse("(" * 100 + "x" + ")" * 100) == x
    assert refused("(" * 101 + "x" + ")" * 101) == "loss: brackets nested too deeply (max_depth is 100)"
    assert parse("sigmoid(" * 100 + "x" + ")" * 100).count(sigmoid) == 100


def test_operator_nesting_depth() -> None:
    assert parse("-" * 100 + "x") == x
    assert refused("-" * 101 + "x") == "loss: expression nested too deeply (max_depth is 100)"
    assert refused("x**" * 101 + "x") == "loss: expression nested too deeply (max_depth is 100)"


def test_node_count() -> None:
    assert refused("+".join(["x"] * 2600)) == "loss: expression too large (5199 nodes; max_nodes is 5000)"


def test_long_flat_sums_and_products_are_fine() -> None:
    names = {f"w{i}": sp.Symbol(f"w{i}") for i in range(1000)}
    total = parse(" + ".join(names) + " - 1", names)
    assert total == sp.Add(*names.values()) - 1
    product = parse("*".join(list(names)[:500]) + "/2", names)
    assert product == sp.Mul(*list(names.values())[:500]) / 2


def test_limits_are_read_at_call_time(monkeypatch) -> None:
    monkeypatch.setitem(LIMITS, "max_length", 5)
    assert refused("x + y + z") == "loss: expression too long (9 characters; max_length is 5)"


@pytest.mark.parametrize("text", ["sqrt(-4)", "(-8)**(1/3)", "x + log(-2)"])
def test_complex_constants_are_refused(text):
    with pytest.raises(ExpressionError, match="complex constant"):
        parse_expression(text, {"x": sp.Symbol("x")}, where="nodes.S")


def test_abs_has_the_real_derivative():
    x = sp.Symbol("x")
    assert sp.diff(parse_expression("abs(x)", {"x": x}), x) == sp.sign(x)
