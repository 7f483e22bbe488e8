"""Numbers from a derivation: one generated straight-line function, not a lambdify per gradient.

The definitions (forward pass, cached δs, gradients) are sorted by dependency, made
overflow-safe (:func:`stable_forms`), printed with SymPy's NumPy printer (stable forms for
sigmoid and softplus) under internal variable names and joined into one straight-line
function (an internal program, never written to a file; no template or jinja2 needed). Only
printer output of validated SymPy expressions is compiled; no user text reaches the code.

>>> import sympy as sp
>>> x, y, z = sp.symbols("x y z")
>>> program = compile_program([(y, x**2), (z, 3*y)], leaves=[x], outputs=[z])
>>> float(program.function([2.0])[0])
12.0
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import networkx as nx
import numpy as np
import sympy as sp

from .errors import SpecError
from .functions import numpy_printer, sigmoid, softplus


@dataclass(frozen=True)
class Program:
    """A compiled straight-line function ``leaves -> outputs`` and its source."""

    source: str
    leaves: tuple[sp.Symbol, ...]
    outputs: tuple[sp.Symbol, ...]
    function: Callable


def _libm(name: str) -> Callable[[Any], np.float64]:
    """NumPy's ``name`` for one float64, computed by the C library (``math.exp``, ``math.atan``, …).

    NumPy's own vectorised ``exp``/``log``/``tanh`` loops depend on the CPU (AVX-512 machines round
    some results differently in the last bit), so the printed numbers would too; the C library's
    functions give the same bits on every machine. Where ``math`` refuses (overflow, log of 0 or of a
    negative number) the special value comes from NumPy, as before.
    """
    scalar, vector = getattr(math, name.replace("arc", "a")), getattr(np, name)

    def function(x: Any) -> np.float64:
        try:
            return np.float64(scalar(x))
        except (OverflowError, ValueError):
            return vector(x)
    function.__name__ = name
    return function


def _logaddexp(x: Any, y: Any) -> np.float64:
    """``log(eˣ + eʸ)`` exactly as NumPy's scalar ``logaddexp`` computes it, with the C library."""
    if x == y:
        return np.float64(x + math.log(2))
    d = x - y
    if d > 0:
        return np.float64(x + math.log1p(_exp(-d)))
    if d <= 0:
        return np.float64(y + math.log1p(_exp(d)))
    return np.float64(d)


class _LibmNumPy:
    """NumPy with its transcendental functions replaced by the C library's (:func:`_libm`)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.__dict__.update({name: _libm(name) for name in names if hasattr(math, name.replace("arc", "a"))},
                             logaddexp=_logaddexp)

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


_exp = _libm("exp")
LIBM_NUMPY = _LibmNumPy(("exp", "log", "log1p", "expm1", "tanh", "sinh", "cosh", "sin", "cos", "tan", "arctan",
                         "arcsin", "arccos", "arcsinh", "arccosh", "arctanh", "log2", "log10", "exp2", "cbrt"))
"""The ``numpy`` a straight-line program sees: exact operations from NumPy, transcendental ones from
the C library (:func:`_libm`), so every machine prints the same numbers.

>>> LIBM_NUMPY.exp(1.0), LIBM_NUMPY.exp(1000.0), LIBM_NUMPY.logaddexp(0.0, 0.0)
(np.float64(2.718281828459045), np.float64(inf), np.float64(0.6931471805599453))
>>> import warnings; warnings.simplefilter("ignore")
>>> LIBM_NUMPY.log(0.0), LIBM_NUMPY.log(-1.0)
(np.float64(-inf), np.float64(nan))
"""


def _softmax_parts(expr: sp.Expr) -> tuple[sp.Expr, sp.Add] | None:
    """``(a, Σ_j exp(a_j))`` when ``expr`` is ``exp(a)/Σ_j exp(a_j)`` with ``exp(a)`` in the sum."""
    if not isinstance(expr, sp.Mul) or len(expr.args) != 2:
        return None
    num = next((f for f in expr.args if isinstance(f, sp.exp)), None)
    den = next((f for f in expr.args if isinstance(f, sp.Pow) and f.exp == -1), None)
    if num is None or den is None:
        return None
    total = den.base
    if not isinstance(total, sp.Add) or num not in total.args or not all(isinstance(t, sp.exp) for t in total.args):
        return None
    return num.args[0], total


def _log_sigmoid(a: sp.Expr) -> sp.Expr:
    return -softplus(-a)


def _has_log(expr: sp.Basic) -> bool:
    """``expr.has(sp.log)`` without the pattern machinery (most definitions are sums and products)."""
    return isinstance(expr, sp.log) or any(_has_log(a) for a in expr.args)


def stable_forms(definitions: Sequence[tuple[sp.Symbol, sp.Expr]]) -> tuple[
        list[tuple[sp.Symbol, sp.Expr]], Callable[[sp.Expr], sp.Expr]]:
    """Overflow-safe definitions, and the rewrite for expressions that use them.

    A softmax value ``exp(a_k)/Σ_j exp(a_j)`` becomes the max-shifted ``exp(a_k − m)/s``
    with ``m = max_j a_j`` and ``s = Σ_j exp(a_j − m)`` defined once per group (symbols
    ``_max0``, ``_sum0``, …) before its first member; ``log`` of a sigmoid or softmax value
    becomes the fused log-sigmoid ``−softplus(−a)`` (``log(1 − σ(a)) = −softplus(a)``) or
    log-softmax ``a_k − m − log(s)``, so that BCE and cross-entropy stay finite and accurate
    at ``|a| = 1000``. The returned function applies the ``log`` rewrite to other
    expressions (δs, gradients).

    >>> out, net, t = sp.symbols("out net t")
    >>> defs, fix = stable_forms([(out, sigmoid(net))])
    >>> fix(-t*sp.log(out) - (1 - t)*sp.log(1 - out))
    t*softplus(-net) + (1 - t)*softplus(net)
    """
    fused: dict[sp.Expr, tuple[sp.Expr, sp.Expr | None]] = {}
    groups: dict[sp.Add, tuple[sp.Symbol, sp.Symbol]] = {}
    out: list[tuple[sp.Symbol, sp.Expr]] = []

    def log_form(arg: sp.Expr) -> sp.Expr | None:
        if isinstance(arg, sigmoid):
            return _log_sigmoid(arg.args[0])
        if arg in fused:
            return fused[arg][0]
        complement = 1 - arg
        if isinstance(complement, sigmoid):
            return _log_sigmoid(-complement.args[0])
        if complement in fused:
            return fused[complement][1]
        return None

    def fix(expr: sp.Expr) -> sp.Expr:
        if not _has_log(expr):
            return expr
        logs = {log: form for log in expr.atoms(sp.log) if (form := log_form(log.args[0])) is not None}
        return expr.xreplace(logs) if logs else expr

    for sym, expr in definitions:
        if isinstance(expr, sigmoid):
            fused[sym] = (_log_sigmoid(expr.args[0]), _log_sigmoid(-expr.args[0]))
            out.append((sym, expr))
            continue
        parts = _softmax_parts(expr)
        if parts is not None:
            a, total = parts
            if total not in groups:
                exponents = [t.args[0] for t in total.args]
                m, s = sp.Symbol(f"_max{len(groups)}"), sp.Symbol(f"_sum{len(groups)}")
                out += [(m, sp.Max(*exponents)), (s, sp.Add(*[sp.exp(b - m) for b in exponents]))]
                groups[total] = (m, s)
            m, s = groups[total]
            fused[sym] = (a - m - sp.log(s), None)
            out.append((sym, sp.exp(a - m) / s))
            continue
        out.append((sym, fix(expr)))
    return out, fix


def dependency_order(definitions: Sequence[tuple[sp.Symbol, sp.Expr]]) -> list[tuple[sp.Symbol, sp.Expr]]:
    """Definitions sorted so each comes after what it uses (stable for already sorted input).

    >>> x, y, z = sp.symbols("x y z")
    >>> dependency_order([(z, 3*y), (y, x**2)])
    [(y, x**2), (z, 3*y)]
    """
    index = {s: i for i, (s, _) in enumerate(definitions)}
    if all(index.get(d, -1) < i for i, (_, e) in enumerate(definitions) for d in e.free_symbols):
        return list(definitions)
    exprs = dict(definitions)
    g = nx.DiGraph()
    g.add_nodes_from(index)
    for s, e in definitions:
        g.add_edges_from((d, s) for d in e.free_symbols if d in index)
    return [(s, exprs[s]) for s in nx.lexicographical_topological_sort(g, key=index.__getitem__)]


class _NeedsDoprint(Exception):
    """An expression the code printer's ``doprint`` rewrites first (``re`` of an unevaluated one)."""


class _OutOfOrder(Exception):
    """A definition uses a symbol defined on a later line."""


def _direct_code(expr: sp.Expr, name: Callable[[sp.Symbol], str]) -> str | None:
    """The printer's line for a symbol, a product of symbols or a sum of those (most lines of a
    derivation's program), written directly: products by variable name, the sum's terms in SymPy's
    order -- lex over the variable names, so a term's sorted names, the longer of two where one is
    the other's start first (see :func:`~symbackprop.ordering.ordered_terms`); else None.

    >>> a, b, c = sp.symbols("a b c")
    >>> _direct_code(a*b + c + a, lambda s: {a: "v2", b: "v1", c: "v10"}[s])
    'v1*v2 + v10 + v2'
    """
    if type(expr) is sp.Symbol:
        return name(expr)
    if expr.is_Mul and all(type(a) is sp.Symbol for a in expr.args):
        return "*".join(sorted(name(a) for a in expr.args))
    if expr.is_Add:
        terms = []
        for t in expr.args:
            if type(t) is sp.Symbol:
                terms.append((name(t),))
            elif t.is_Mul and all(type(a) is sp.Symbol for a in t.args):
                terms.append(tuple(sorted(name(a) for a in t.args)))
            else:
                return None
        terms.sort(key=lambda names: [(0, n) for n in names] + [(1, "")])
        return " + ".join("*".join(names) for names in terms)
    return None


def _code(printer: Any, rename: Callable[[sp.Expr], sp.Expr], expr: sp.Expr) -> str:
    """``printer.doprint(expr.xreplace(names))`` without its per-call set-up: the printed line is
    the same unless ``doprint`` would rewrite ``re`` first, add declarations of number constants
    or comments on unsupported functions -- then ``doprint`` itself prints it."""
    try:
        renamed = rename(expr)
    except _NeedsDoprint:
        return printer.doprint(expr.xreplace({s: rename(s) for s in expr.free_symbols}))
    printer._not_supported, printer._number_symbols = set(), set()
    code = printer._print(renamed)
    if printer._not_supported or printer._number_symbols or "\n" in code:
        return printer.doprint(renamed)
    return code


def _renamer(name: Callable[[sp.Symbol], str]) -> Callable[[sp.Expr], sp.Expr]:
    """``expr.xreplace(names)`` for printing, each symbol to the symbol ``name(symbol)``: sums and
    products keep their arguments as they are (the printers order them), so nothing is flattened
    or re-sorted again; shared subexpressions are renamed once."""
    memo: dict[sp.Expr, sp.Expr] = {}

    def rename(expr: sp.Expr) -> sp.Expr:
        done = memo.get(expr)
        if done is None:
            if isinstance(expr, sp.re):
                raise _NeedsDoprint
            if type(expr) is sp.Symbol:
                done = sp.Symbol(name(expr))
            elif not expr.args:
                done = expr
            else:
                args = tuple(rename(a) for a in expr.args)
                if expr.is_Add or expr.is_Mul:
                    done = expr._new_rawargs(*args)
                else:
                    done = expr.func(*args)
            memo[expr] = done
        return done

    return rename


def compile_program(definitions: Sequence[tuple[sp.Symbol, sp.Expr]], leaves: Sequence[sp.Symbol],
                    outputs: Sequence[sp.Symbol], *, name: str = "program") -> Program:
    """Generate and compile one function computing ``outputs`` from ``leaves``."""
    try:
        return _compile(stable_forms(definitions)[0], leaves, outputs, name)
    except _OutOfOrder:
        return _compile(stable_forms(dependency_order(definitions))[0], leaves, outputs, name)


def _compile(ordered: Sequence[tuple[sp.Symbol, sp.Expr]], leaves: Sequence[sp.Symbol],
             outputs: Sequence[sp.Symbol], name: str) -> Program:
    """:func:`compile_program` of definitions in dependency order (else raises _OutOfOrder)."""
    names: dict[sp.Symbol, str] = {}
    for s in list(leaves) + [s for s, _ in ordered]:
        names.setdefault(s, f"v{len(names)}")
    line_of = {s: i for i, (s, _) in enumerate(ordered)}
    leaf_set = set(leaves)
    current = 0
    missing: set[sp.Symbol] = set()

    def known(symbol: sp.Symbol) -> str:
        """The variable of a symbol defined before the current line (a leaf or an earlier line)."""
        if symbol not in leaf_set:
            line = line_of.get(symbol)
            if line is None:
                missing.add(symbol)
                return str(symbol)
            if line >= current:
                raise _OutOfOrder
        return names[symbol]

    printer = numpy_printer()
    rename = _renamer(known)
    lines = []
    for current, (s, e) in enumerate(ordered):
        code = _direct_code(e, known)
        if code is None:
            code = _code(printer, rename, e)
        if missing:
            raise SpecError(f"no value for {', '.join(sorted(map(str, missing)))} (needed by {s})")
        lines.append((names[s], code))
    body = [f"    {names[s]} = leaves[{i}]" for i, s in enumerate(leaves)]
    body += [f"    {var} = {code}" for var, code in lines]
    body.append(f"    return ({', '.join(names[s] for s in outputs)},)")
    source = "\n".join(["import functools", "", "", f"def {name}(leaves):", *body, ""])
    namespace: dict = {"numpy": LIBM_NUMPY}
    exec(compile(source, f"<symbackprop {name}>", "exec"), namespace)  # noqa: S102 - printer output only
    return Program(source, tuple(leaves), tuple(outputs), namespace[name])


def evaluate(definitions: Sequence[tuple[sp.Symbol, sp.Expr]],
             leaf_values: Mapping[sp.Symbol, float], wanted: Sequence[sp.Symbol],
             lenient: Sequence[sp.Symbol] = ()) -> dict[sp.Symbol, float]:
    """Evaluate ``wanted`` symbols in float64; a clear error names the first non-finite one.

    ``lenient`` symbols are evaluated too but may be non-finite (values shown for reading only,
    such as ``∂E/∂out`` of a saturated output).
    """
    checked = set(wanted)
    outputs = list(wanted) + [s for s in lenient if s not in checked]
    return run(compile_program(definitions, list(leaf_values), outputs), leaf_values, wanted)


def run(program: Program, leaf_values: Mapping[sp.Symbol, float],
        checked: Sequence[sp.Symbol]) -> dict[sp.Symbol, float]:
    """Every output of ``program`` in float64 at ``leaf_values``; a clear error names the first of
    ``checked`` that is not finite (the other outputs may be).

    >>> x, y = sp.symbols("x y")
    >>> program = compile_program([(y, 1 / x)], leaves=[x], outputs=[y])
    >>> run(program, {x: 4.0}, [y])
    {y: 0.25}
    >>> run(program, {x: 0.0}, [])
    {y: inf}
    """
    try:
        with np.errstate(all="ignore"):
            results = program.function([np.float64(leaf_values[s]) for s in program.leaves])
    except (OverflowError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise SpecError(f"cannot evaluate at the given values: {exc}", key="values") from None
    if any(np.iscomplexobj(v) for v in results):
        raise SpecError("a value is complex at the given values", key="values")
    values = {s: float(v) for s, v in zip(program.outputs, results)}
    for s in checked:
        if np.isnan(values[s]):
            raise SpecError(f"{s} is undefined (nan) at the given values (log or square root of a "
                            "negative number, 0*inf, 0/0 or inf - inf)", key="values")
        if not np.isfinite(values[s]):
            raise SpecError(f"{s} is {values[s]} at the given values (division by zero, log of 0 "
                            "or overflow)", key="values")
    return values
