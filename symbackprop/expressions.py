"""The only way untrusted text becomes SymPy: an allow-list walk over Python's ``ast``.

Nothing is evaluated as code: the text is parsed with ``ast.parse`` and every node is
checked and turned into SymPy objects by hand. Names mean only what ``names`` says, so
``E``, ``I``, ``S``, ``N``, ``pi``, ``beta``, ``gamma`` and even ``lambda`` are plain symbols.

>>> import sympy as sp
>>> lam, E = sp.symbols("lambda E")
>>> parse_expression("lambda*E**2 + 0.35", {"lambda": lam, "E": E})
E**2*lambda + 7/20
>>> parse_expression("x.__class__", {"x": lam}, where="loss")
Traceback (most recent call last):
...
symbackprop.expressions.ExpressionError: loss: attribute access ('.') is not allowed (in 'x.__class__')
"""
from __future__ import annotations

import ast
import io
import keyword
import math
import tokenize
import unicodedata
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping

import sympy as sp

from .functions import absolute, leaky_relu, maximum, minimum, relu, sigmoid, softplus
from .suggest import did_you_mean

__all__ = ["ExpressionError", "FUNCTIONS", "ANSWER_FUNCTIONS", "FunctionRule", "LIMITS", "parse_expression",
           "superscript_text"]


class ExpressionError(ValueError):
    """A spec/answer string that is not an allowed expression; str() is one clear line."""

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))


FUNCTIONS: Mapping[str, Callable[..., sp.Expr]] = MappingProxyType({
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh,
    "sigmoid": sigmoid, "relu": relu, "abs": absolute, "max": maximum, "min": minimum,
})
"""Allowed function names and their SymPy callables; each takes one argument, ``max``/``min`` two or
more (symbackprop's own, whose derivative gives a tie to the first argument; see docs/numbers.md)."""


class _Refused(ValueError):
    """Raised by a function rule for arguments it does not take; the parser adds where."""


@dataclass(frozen=True)
class FunctionRule:
    """How one call is read: the SymPy builder, how many arguments it takes, and their kind."""

    build: Callable[..., sp.Expr]
    arity: tuple[int, int | None] = (1, 1)   # fewest and most arguments (None: no limit)
    cases: bool = False                       # the arguments are (value, condition) pairs (Piecewise)

    def arity_text(self) -> str:
        low, high = self.arity
        if low == high:
            return f"exactly {low} argument{'s' if low != 1 else ''}"
        return f"at least {low} arguments" if high is None else f"{low} to {high} arguments"


def _heaviside(x: sp.Expr, h0: sp.Expr = sp.S.Half) -> sp.Expr:
    if h0 not in (0, sp.S.Half, 1):
        raise _Refused("Heaviside's value at 0 must be 0, 1/2 or 1")
    return sp.Heaviside(x, h0)


_SPEC_RULES: Mapping[str, FunctionRule] = MappingProxyType(
    {name: FunctionRule(f, (2, None) if name in ("max", "min") else (1, 1)) for name, f in FUNCTIONS.items()})

ANSWER_FUNCTIONS: Mapping[str, FunctionRule] = MappingProxyType({**_SPEC_RULES, **{
    "Max": FunctionRule(maximum, (2, None)), "Min": FunctionRule(minimum, (2, None)),
    "softplus": FunctionRule(softplus), "leaky_relu": FunctionRule(leaky_relu, (2, 2)),
    "sign": FunctionRule(sp.sign), "Heaviside": FunctionRule(_heaviside, (1, 2)),
    "step": FunctionRule(lambda x: sp.Heaviside(x, 0)), "Piecewise": FunctionRule(sp.Piecewise, (1, None), cases=True),
}})
"""The functions an *answer* may call: :data:`FUNCTIONS` and every function symbackprop prints
(``Max``/``Min`` with any number of arguments, ``softplus``, ``leaky_relu(x, alpha)``,
``sign``, ``Heaviside(x)`` / ``Heaviside(x, h0)`` with ``h0`` 0, 1/2 or 1, ``Piecewise((value,
condition), ...)``), and ``step(x)``, the ReLU derivative (1 for x > 0, else 0)."""

_RELATIONS: Mapping[type, Callable[[sp.Expr, sp.Expr], sp.Basic]] = MappingProxyType({
    ast.Gt: sp.StrictGreaterThan, ast.GtE: sp.GreaterThan, ast.Lt: sp.StrictLessThan, ast.LtE: sp.LessThan,
})

LIMITS: dict[str, int] = {
    "max_length": 10_000,  # characters of text
    "max_depth": 100,  # bracket nesting in the text, and nesting of the parsed expression
    "max_nodes": 5_000,  # expression nodes (numbers, names, operators, calls)
    "max_exponent": 1_000,  # |n| in x**n when n is a number
    "max_magnitude_digits": 1_000,  # decimal digits of any exact number (literal or computed)
}
"""Limits checked before any expensive work; a text beyond one is refused with the limit named.

A power ``b**k`` with a number ``k`` is refused before it is computed when ``|k| * log10(n)``
exceeds ``max_magnitude_digits``, ``n`` being the largest number in ``b`` (``9**999``, ``(2*x)**999``).
"""

_NOT_ALLOWED: dict[type, str] = {  # what a refused node is, with its verb
    ast.Attribute: "attribute access ('.') is",
    ast.Subscript: "indexing ('[...]') is",
    ast.Slice: "slicing is",
    ast.Lambda: "lambda expressions are",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "generator expressions are",
    ast.Compare: "comparisons are",
    ast.BoolOp: "'and'/'or' are",
    ast.IfExp: "conditional expressions ('if ... else') are",
    ast.JoinedStr: "f-strings are",
    ast.FormattedValue: "f-strings are",
    ast.Starred: "'*' unpacking is",
    ast.Tuple: "tuples (',') are",
    ast.List: "lists ('[...]') are",
    ast.Dict: "dicts ('{...}') are",
    ast.Set: "sets ('{...}') are",
    ast.NamedExpr: "assignment expressions (':=') are",
    ast.Await: "'await' is",
    ast.Yield: "'yield' is",
    ast.YieldFrom: "'yield' is",
}
_BINOPS: dict[type, str] = {
    ast.BitXor: "'^' (use ** for powers)", ast.BitOr: "'|'", ast.BitAnd: "'&'", ast.LShift: "'<<'",
    ast.RShift: "'>>'", ast.FloorDiv: "'//' (use / for division)", ast.Mod: "'%'", ast.MatMult: "'@'",
}
_UNARYOPS: dict[type, str] = {ast.Not: "'not'", ast.Invert: "'~'"}
_ADDITIVE = (ast.Add, ast.Sub)
_MULTIPLICATIVE = (ast.Mult, ast.Div)


def _oneline(text: str, limit: int = 60) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _quote(text: str, limit: int = 40) -> str:
    """``text`` on one line, cut to ``limit`` characters, in quotes."""
    return repr(_oneline(text, limit))


def _digits(number: sp.Rational) -> float:
    """log10 of the larger of numerator and denominator (cheap even for huge ints)."""
    return math.log10(max(abs(number.p), number.q))


def _digits_message() -> str:
    return f"number with more than {LIMITS['max_magnitude_digits']} digits (max_magnitude_digits)"


def superscript_text(ch: str) -> str | None:
    """What a Unicode superscript character stands for (``²`` → ``2``, ``⁻`` → ``-``, ``ⁿ`` → ``n``), else None.

    >>> superscript_text("²"), superscript_text("⁻"), superscript_text("2")
    ('2', '-', None)
    """
    if ch.isascii() or not unicodedata.decomposition(ch).startswith("<super>"):
        return None
    return unicodedata.normalize("NFKC", ch).replace("\u2212", "-")  # ⁻ is MINUS SIGN, not '-'



def _powers(text: str) -> tuple[str, list[int]]:
    """Each run of superscripts as a power: ``x²`` → ``x**(2)``, ``x⁻¹`` → ``x**(-1)``.

    Python would read ``xⁿ`` as the name ``xn`` (and refuse ``x²``). Returns the new text and,
    for each of its characters (and its end), the index in ``text`` it came from.
    """
    if text.isascii():
        return text, list(range(len(text) + 1))
    out: list[str] = []
    origin: list[int] = []
    i = 0
    while i < len(text):
        if superscript_text(text[i]) is None:
            out.append(text[i])
            origin.append(i)
            i += 1
            continue
        j = i
        while j < len(text) and superscript_text(text[j]) is not None:
            j += 1
        power = "**(" + "".join(superscript_text(ch) for ch in text[i:j]) + ")"
        if text[j:].lstrip().startswith("**"):
            raise _Refused(f"'**' after the superscript {text[i:j]} is ambiguous: use brackets, e.g. "
                           f"(x{text[i:j]})**k (column {j + 1})")
        out.append(power)
        origin += [i] * len(power)
        i = j
    origin.append(len(text))
    return "".join(out), origin


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def _tree_depth(tree: ast.AST) -> int:
    """Operator/call nesting: names and numbers do not count, nor does each further step of a
    left-nested chain ``a + b - c ...`` (or ``a * b / c ...``), which is built without recursion."""
    deepest, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Name, ast.Constant)) or not isinstance(child, ast.expr):
                continue
            same_chain = (isinstance(node, ast.BinOp) and child is node.left and isinstance(child, ast.BinOp)
                          and any(isinstance(node.op, g) and isinstance(child.op, g)
                                  for g in (_ADDITIVE, _MULTIPLICATIVE)))
            stack.append((child, depth if same_chain else depth + 1))
    return deepest


def _hide_keywords(text: str, keywords: set[str]) -> tuple[str, dict[tuple[int, int], str]]:
    """Replace each keyword token that is a user name (``lambda``) by ``_`` of the same length.

    Returns the new text and ``{(line, utf-8 column): keyword}`` of the replaced tokens, so only
    those exact positions map back (a user-written ``______`` stays an underscore name).
    Same-length replacement keeps every column valid for the original text.
    """
    if not keywords:
        return text, {}
    lines = text.split("\n")
    found: dict[tuple[int, int], str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.NAME and tok.string in keywords:
                (row, col), line = tok.start, lines[tok.start[0] - 1]
                lines[row - 1] = line[:col] + "_" * len(tok.string) + line[col + len(tok.string):]
                found[row, len(line[:col].encode("utf-8"))] = tok.string
    except (tokenize.TokenError, SyntaxError, IndexError):
        return text, {}  # ast.parse reports the error
    return "\n".join(lines), found


class _Builder:
    """Walks an already size-checked tree and builds SymPy, refusing anything not allowed."""

    def __init__(self, text: str, names: Mapping[str, sp.Expr], keywords: Mapping[tuple[int, int], str],
                 where: str, functions: Mapping[str, FunctionRule]):
        self.text, self.names, self.keywords, self.where = text, names, keywords, where
        self.functions = functions

    def ident(self, node: ast.Name) -> str:
        """The name as written (a hidden keyword such as ``lambda`` mapped back)."""
        return self.keywords.get((node.lineno, node.col_offset), node.id)

    def fail(self, message: str, node: ast.AST | None = None) -> ExpressionError:
        segment = ast.get_source_segment(self.text, node) if node is not None else None
        if segment:
            message = f"{message} (in {_quote(segment)})"
        return ExpressionError(f"{self.where}: {message}")

    def check_number(self, value: sp.Expr, node: ast.AST) -> sp.Expr:
        if value.is_Rational and _digits(value) > LIMITS["max_magnitude_digits"]:
            raise self.fail(_digits_message(), node)
        return value

    def build(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Expression):
            return self.build(node.body)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.build(node.operand)
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand)
            raise self.fail(f"{_UNARYOPS.get(type(node.op), type(node.op).__name__)} is not allowed", node)
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.fail(f"{_NOT_ALLOWED.get(type(node), type(node).__name__ + ' is')} not allowed", node)

    def constant(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = {bool: "True/False", str: "strings", bytes: "bytes", complex: "complex numbers",
                    type(None): "None", type(...): "'...'"}.get(type(value), type(value).__name__)
            verb = "is" if kind in ("None", "'...'") else "are"
            raise self.fail(f"{kind} {verb} not allowed", node)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail("number too large", node)
            return self.check_number(sp.Rational(repr(value)), node)
        return self.check_number(sp.Integer(value), node)

    def name(self, node: ast.Name) -> sp.Expr:
        ident = self.ident(node)
        if ident.startswith("_"):
            raise self.fail(f"names starting with '_' are not allowed: {_quote(ident)}")
        if ident in self.names:
            return self.names[ident]
        if ident in self.functions:
            raise self.fail(f"'{ident}' is a function: call it, e.g. {ident}(...)")
        allowed = sorted(self.names)
        hint = f" (allowed names: {', '.join(allowed[:8])}{', …' if len(allowed) > 8 else ''})" if allowed else ""
        raise self.fail(f"unknown name {_quote(ident)}{did_you_mean(ident, allowed)}{hint}")

    def binop(self, node: ast.BinOp) -> sp.Expr:
        if isinstance(node.op, ast.Pow):
            return self.power(self.build(node.left), self.build(node.right), node)
        group = next((g for g in (_ADDITIVE, _MULTIPLICATIVE) if isinstance(node.op, g)), None)
        if group is None:
            raise self.fail(f"{_BINOPS.get(type(node.op), type(node.op).__name__)} is not allowed", node)
        chain: list[tuple[ast.operator, ast.expr, ast.BinOp]] = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, group):  # flatten a + b - c + ...
            chain.append((node.op, node.right, node))
            node = node.left
        number, others = sp.Integer(0 if group is _ADDITIVE else 1), []
        for op, operand, at in [(None, node, node)] + chain[::-1]:
            value = self.build(operand)
            if isinstance(op, ast.Div):
                if value.is_zero:
                    raise self.fail("division by zero", at)
                value = 1 / value
            elif isinstance(op, ast.Sub):
                value = -value
            if group is _MULTIPLICATIVE:  # fold exact coefficients one at a time, checking their size
                coeff, value = value.as_coeff_Mul(rational=True)
                number = self.check_number(number * coeff, at)
                others.append(value)
            elif value.is_Rational:
                number = self.check_number(number + value, at)
            else:
                others.append(value)
        return sp.Add(number, *others) if group is _ADDITIVE else sp.Mul(number, *others)

    def power(self, base: sp.Expr, exponent: sp.Expr, node: ast.BinOp) -> sp.Expr:
        if exponent.is_Number:
            if abs(exponent) > LIMITS["max_exponent"]:
                raise self.fail(f"exponent too large (max_exponent is {LIMITS['max_exponent']})", node)
            if base.is_zero and exponent.is_negative:
                raise self.fail("division by zero", node)
            largest = max((_digits(r) for r in base.atoms(sp.Rational)), default=0.0)
            if float(abs(exponent)) * largest > LIMITS["max_magnitude_digits"]:  # 9**999, (2*x)**999
                raise self.fail(_digits_message(), node)
        result = base**exponent  # SymPy combines (x**10)**10 into x**100: check what it made
        if any(p.exp.is_Number and abs(p.exp) > LIMITS["max_exponent"] for p in result.atoms(sp.Pow)):
            raise self.fail(f"exponent too large (max_exponent is {LIMITS['max_exponent']})", node)
        return self.check_number(result, node)

    def call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            self.build(node.func)  # refuses an attribute, lambda, disallowed call ... as such
            raise self.fail("calling the value of an expression is not allowed (use * to multiply)", node)
        ident = self.ident(node.func)
        rule = self.functions.get(ident)
        if rule is None:
            if ident in self.names:
                raise self.fail(f"'{ident}' is not a function (use * to multiply)", node)
            raise self.fail(f"function {_quote(ident)} is not allowed (allowed: "
                            f"{', '.join(sorted(self.functions, key=str.lower))})", node)
        if node.keywords:
            raise self.fail(f"keyword arguments are not allowed in {ident}()", node)
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(f"'*' unpacking is not allowed in {ident}()", node)
        low, high = rule.arity
        if len(node.args) < low or (high is not None and len(node.args) > high):
            raise self.fail(f"{ident}() takes {rule.arity_text()} (got {len(node.args)})", node)
        args = [self.case(a, last=i == len(node.args) - 1) for i, a in enumerate(node.args)] if rule.cases \
            else [self.build(a) for a in node.args]
        try:
            return rule.build(*args)
        except _Refused as exc:
            raise self.fail(str(exc), node) from None

    def case(self, node: ast.expr, *, last: bool) -> tuple[sp.Expr, sp.Basic]:
        """``(value, condition)`` of a Piecewise: the condition compares two expressions, or is
        ``True`` (the last case only)."""
        if not isinstance(node, ast.Tuple) or len(node.elts) != 2:
            raise self.fail("each case of Piecewise is (value, condition), e.g. (1, x > 0)", node)
        value, condition = node.elts
        if last and isinstance(condition, ast.Constant) and condition.value is True:
            return self.build(value), sp.true
        if not (isinstance(condition, ast.Compare) and len(condition.ops) == 1
                and type(condition.ops[0]) in _RELATIONS):
            raise self.fail("a condition compares two expressions with >, >=, < or <= (or is True, "
                            "in the last case)", condition)
        relation = _RELATIONS[type(condition.ops[0])]
        return self.build(value), relation(self.build(condition.left), self.build(condition.comparators[0]))


def _normalised_names(names: Mapping[str, sp.Expr], where: str) -> dict[str, sp.Expr]:
    """``names`` keyed the way Python's parser spells identifiers (NFKC)."""
    result: dict[str, sp.Expr] = {}
    for key, value in names.items():
        norm = unicodedata.normalize("NFKC", key)
        if norm in result and result[norm] is not value:
            raise ExpressionError(f"{where}: names {_quote(key)} and {_quote(norm)} cannot be told apart")
        result[norm] = value
    return result


def parse_expression(text: str, names: Mapping[str, sp.Expr], *, where: str = "expression",
                     functions: Mapping[str, FunctionRule] | None = None) -> sp.Expr:
    """Parse untrusted `text` into SymPy. `names` maps every allowed user name to the SymPy object it stands for.

    Allowed: numbers (floats become exact rationals), the user names, ``+ - * / **``, unary
    ``-``/``+``, parentheses, Unicode superscripts as powers (``x²`` is ``x**2``) and calls
    of :data:`FUNCTIONS` (or of ``functions``, e.g. :data:`ANSWER_FUNCTIONS`). Anything else,
    or text beyond :data:`LIMITS`, raises :class:`ExpressionError` with a one-line message
    starting ``{where}: ``.

    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> parse_expression("max(x, 2*y) - 1e-3", {"x": x, "y": y})
    Max(x, 2*y) - 1/1000
    >>> parse_expression("x² + x⁻¹", {"x": x})
    x**2 + 1/x
    >>> parse_expression("x^2", {"x": x}, where="nodes.S")
    Traceback (most recent call last):
    ...
    symbackprop.expressions.ExpressionError: nodes.S: '^' (use ** for powers) is not allowed (in 'x^2')
    """
    if not isinstance(text, str):
        raise ExpressionError(f"{where}: expected an expression as text, got {type(text).__name__}")
    if len(text) > LIMITS["max_length"]:
        raise ExpressionError(f"{where}: expression too long ({len(text)} characters; "
                              f"max_length is {LIMITS['max_length']})")
    if not text.strip():
        raise ExpressionError(f"{where}: empty expression")
    if _bracket_depth(text) > LIMITS["max_depth"]:
        raise ExpressionError(f"{where}: brackets nested too deeply (max_depth is {LIMITS['max_depth']})")
    lookup = _normalised_names(names, where)
    lead = text[:len(text) - len(text.lstrip())]
    stripped = text.strip().replace("\r\n", "\n").replace("\r", "\n")  # line ends as tokenize sees them
    try:
        source, origin = _powers(stripped)
        return _build(source, lookup, where, _SPEC_RULES if functions is None else functions)
    except ExpressionError:
        raise
    except _Refused as exc:
        raise ExpressionError(f"{where}: {exc}") from None
    except SyntaxError as exc:
        raise _syntax_error(exc, source, origin, stripped, lead, where) from None
    except RecursionError:
        raise ExpressionError(f"{where}: expression nested too deeply") from None
    except MemoryError:
        raise ExpressionError(f"{where}: expression too large") from None
    except (ValueError, OverflowError, TypeError, ArithmeticError) as exc:
        raise ExpressionError(f"{where}: cannot build the expression: {_oneline(str(exc))}") from None


def _build(source: str, lookup: Mapping[str, sp.Expr], where: str, functions: Mapping[str, FunctionRule]) -> sp.Expr:
    """Parse, check the size limits, build, and check the result (errors other than ExpressionError escape)."""
    replaced, keywords = _hide_keywords(source, {k for k in lookup if keyword.iskeyword(k)})
    tree = ast.parse(replaced, mode="eval")
    count = sum(isinstance(n, ast.expr) for n in ast.walk(tree))
    if count > LIMITS["max_nodes"]:
        raise ExpressionError(f"{where}: expression too large ({count} nodes; max_nodes is {LIMITS['max_nodes']})")
    if _tree_depth(tree) > LIMITS["max_depth"]:
        raise ExpressionError(f"{where}: expression nested too deeply (max_depth is {LIMITS['max_depth']})")
    result = _Builder(source, lookup, keywords, where, functions).build(tree)
    if result.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise ExpressionError(f"{where}: the expression is undefined or infinite (e.g. log(0))")
    constants = (sub for sub in sp.preorder_traversal(result) if sub.is_number)
    if any(c.is_extended_real is False for c in constants):
        raise ExpressionError(f"{where}: the expression has a complex constant (e.g. sqrt(-4) or "
                              "(-8)**(1/3)); only real numbers are allowed")
    if any(_digits(r) > LIMITS["max_magnitude_digits"] for r in result.atoms(sp.Rational)):
        raise ExpressionError(f"{where}: {_digits_message()}")
    return result


def _syntax_error(exc: SyntaxError, source: str, origin: list[int], original: str, lead: str,
                  where: str) -> ExpressionError:
    """``{where}: syntax error at column N: ...``, columns counted in the caller's text.

    ``source`` is what was parsed (superscripts rewritten as powers); ``origin`` maps each of
    its characters back into ``original``, the text the caller wrote (less ``lead``).
    """
    lineno, message = exc.lineno or 1, exc.msg
    lines = source.split("\n")
    if not exc.offset:  # Python reports an unexpected end at offset 0
        at = len(source)
        message = "unexpected end of expression" if message == "invalid syntax" else message
    else:
        lineno = min(max(lineno, 1), len(lines))
        at = sum(len(line) + 1 for line in lines[:lineno - 1]) + exc.offset - 1
    at = origin[min(max(at, 0), len(origin) - 1)]
    lineno = original.count("\n", 0, at) + 1
    column = at - (original.rfind("\n", 0, at) + 1) + 1
    if lineno == 1 and "\n" not in lead:
        column += len(lead)
    line = f"line {lineno}, " if lineno > 1 else ""
    return ExpressionError(f"{where}: syntax error at {line}column {column}: {_oneline(message)}")
