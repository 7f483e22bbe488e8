r"""Symbolic answers: read them (plain or LaTeX, always through the allow-list), check, diagnose.

An answer is text for one derivative: ``∂E/∂w`` of a parameter (``--wrt w_AT``, also
written ``dE_dw_AT`` or ``grad_w_AT``) or a δ (``--wrt delta_T``). It may use the names of
:meth:`CheckContext.answer_names` — the lecture's symbols (``out_T``, ``net_T``,
``delta_F``, ``t_F``, weights, inputs), fully expanded forms, ``eta`` and ``lambda`` — in
plain syntax (``-(t_F - out_F)*out_F*(1 - out_F)``) or in LaTeX (``-\left(t_F -
\mathrm{out}_F\right) \cdot \ldots``, converted by :mod:`.latex`). Plain text goes
straight to :func:`symbackprop.expressions.parse_expression`; LaTeX is converted to plain
text first. Nothing is ever evaluated as code.

The answer file (``--answer-file``, YAML)::

    title: Sheet 3, question 2          # optional
    spec: we05-221-sigmoid.yaml         # optional: the spec it was written for (not enforced)
    syntax: auto                        # optional default for every answer: auto, plain, latex
    answers:                            # wrt → answer text
      w_AT: "-(t_F - out_F)*out_F*(1 - out_F)*w_TF*out_T*(1 - out_T)*A"
      delta_T: '\delta_F w_{TF} \mathrm{out}_T (1 - \mathrm{out}_T)'
    # or a list, to give one wrt several answers or a syntax of its own:
    # answers:
    #   - {wrt: w_AT, answer: "A*delta_T", syntax: plain}

``syntax: auto`` reads an answer as LaTeX when it has ``\``, ``{``, ``}``, ``^`` or ``$``.
The same file may hold a worked solution under ``solution:`` (see :mod:`.solution`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import sympy as sp
import yaml

from ..errors import SpecError
from ..expressions import ANSWER_FUNCTIONS, LIMITS, ExpressionError, parse_expression
from ..spec import key_text, load_yaml, read_text, refuse_tag
from .budget import OutOfTime, answer_budget, limit_answers, run_deadline
from .context import CheckContext, NotApplicable, Point, Target
from .equivalence import Comparison, compare, compile_or_none, same_number, values_at
from .latex import LatexError, NameTable, latex_to_text, looks_like_latex
from .slips import ANSWER, SLIPS, Change
from .vocabulary import banned_symbols

SYNTAXES = ("auto", "plain", "latex")
MAX_FILE_BYTES = 1_000_000
DEFAULT_POINTS = 24
FILE_KEYS = {"title", "description", "spec", "source", "syntax", "answers", "solution"}


# ----------------------------------------------------------------------------- reading answers

def name_table(ctx: CheckContext) -> NameTable:
    table = getattr(ctx, "_name_table", None)
    if table is None:
        table = NameTable(ctx.answer_names)
        ctx._name_table = table
    return table


def parse_answer(ctx: CheckContext, text: Any, *, syntax: str = "auto", where: str = "answer") -> tuple[sp.Expr, str]:
    """The answer as a SymPy expression and the syntax it was read in.

    Raises :class:`SpecError` (key ``where``) with one clear line for anything not allowed.
    """
    if not isinstance(text, str):
        raise SpecError(f"an answer must be text, got {type(text).__name__}", key=where)
    if len(text) > LIMITS["max_length"]:
        raise SpecError(f"answer too long ({len(text)} characters; max_length is {LIMITS['max_length']})",
                        key=where)
    if syntax not in SYNTAXES:
        raise SpecError(f"syntax must be one of {', '.join(SYNTAXES)}, got '{str(syntax)[:20]}'", key=where)
    if syntax == "auto":
        syntax = "latex" if looks_like_latex(text) else "plain"
    names = ctx.answer_names
    try:
        if syntax == "latex":
            text = latex_to_text(text, name_table(ctx)).text
        expr = parse_expression(text, names, where=where, functions=ANSWER_FUNCTIONS)
    except ExpressionError as exc:
        raise SpecError(str(exc).removeprefix(f"{where}: "), key=where) from None
    except LatexError as exc:
        raise SpecError(f"LaTeX: {exc}", key=where) from None
    return expr, syntax


# ----------------------------------------------------------------------------- results

@dataclass(frozen=True)
class SlipMatch:
    """A catalogued slip that reproduces the student's answer (or figure)."""

    key: str
    title: str
    detail: str
    how: str = ""                 # for figures: "at the exact values" / "with your own figures"
    value: float | None = None    # for figures: what the slip gives
    expression: str | None = None


@dataclass
class AnswerResult:
    """One checked answer."""

    target: Target
    text: str
    syntax: str
    expression: sp.Expr
    comparison: Comparison
    slips: list[SlipMatch] = field(default_factory=list)
    where: str = ""
    refused: str | None = None     # why the answer may not be used (a symbol it may not contain)
    note: str = ""                 # why it is undecided, or why its diagnosis was cut short (a time budget)

    @property
    def verdict(self) -> str:
        if self.refused is not None:
            return "refused"
        if self.comparison.equal is True:
            return "correct"
        if self.comparison.equal is False:
            return "wrong"
        return "undecided"

    @property
    def ok(self) -> bool:
        return self.verdict == "correct"


# ----------------------------------------------------------------------------- checking

class SharedPoints:
    """Test points and the correct values per target, shared by every answer of one check."""

    def __init__(self, ctx: CheckContext, count: int, seed: int):
        self.ctx, self.count, self.seed = ctx, count, seed
        self.deadline = run_deadline()   # the run's time budget (see .budget)
        self._points: list[Point] | None = None
        self._correct: dict[str, list] = {}

    @property
    def points(self) -> list[Point]:
        if self._points is None:
            self._points = self.ctx.points(self.count, self.seed)
        return self._points

    def correct_values(self, target: Target) -> list:
        key = f"{target.kind}:{target.key}"
        if key not in self._correct:
            program = compile_or_none(target.correct)
            self._correct[key] = values_at(program, self.points)
        return self._correct[key]


def check_answer(ctx: CheckContext, wrt: str, text: Any, *, syntax: str = "auto", where: str = "answer",
                 points: int = DEFAULT_POINTS, seed: int = 0, shared: SharedPoints | None = None,
                 vocabulary: str | Callable[[Target], str] = "with_deltas") -> AnswerResult:
    """Check one answer for ``wrt``; diagnose it from the slip catalogue if it is wrong.

    An answer that uses a symbol it may not (:func:`.vocabulary.banned_symbols` under
    ``vocabulary``, or ``vocabulary(target)``) is refused with that symbol named, unchecked.
    """
    try:
        target = ctx.target(wrt)
    except SpecError as exc:
        raise SpecError(exc.message, key=where) from None
    expr, used_syntax = parse_answer(ctx, text, syntax=syntax, where=where)
    banned = banned_symbols(ctx, target, vocabulary(target) if callable(vocabulary) else vocabulary)
    offending = sorted((s for s in expr.free_symbols if s in banned), key=str)
    if offending:
        return AnswerResult(target, text, used_syntax, expr, Comparison(None), where=where,
                            refused=banned[offending[0]])
    shared = shared or SharedPoints(ctx, points, seed)
    result = AnswerResult(target, text, used_syntax, expr, Comparison(None), where=where)
    try:
        with answer_budget(shared.deadline):
            pts = shared.points
            result.comparison = compare(ctx, expr, target.correct, pts, shared.correct_values(target))
            if result.comparison.equal is False:
                result.slips = diagnose(ctx, target, result.comparison, pts)
    except OutOfTime as exc:  # undecided (never correct), or wrong with its diagnosis cut short
        result.note = str(exc) if result.comparison.equal is None else "cut short by the time budget"
    return result


def candidate_expression(ctx: CheckContext, start: str, change: Change, base: sp.Expr) -> sp.Expr:
    """The whole answer as the slip ``change`` makes it (δ-free lecture symbols)."""
    if change.drop_paths:
        paths = ctx.paths(start, 256) or []
        expr = sp.Add(*[ctx.path_product(p, change.labels) for p in paths if p not in change.drop_paths])
    elif change.updated or change.labels:
        expr = ctx.adjoint(start, change.labels, updated=change.updated)
    else:
        expr = base
    return change.adjust(expr)


def _agree(values: Sequence, reference: Sequence) -> bool:
    compared = 0
    for v, r in zip(values, reference):
        if r is None and v is None:
            continue
        if r is None or v is None or not same_number(v, r):
            return False
        compared += 1
    return compared > 0


def diagnose(ctx: CheckContext, target: Target, comparison: Comparison, points: Sequence[Point]) -> list[SlipMatch]:
    """Every catalogued slip whose version of the derivation equals the answer at every test point."""
    base = ctx.adjoint(target.node)
    answer_values = comparison.answer_values
    if not answer_values or all(v is None for v in answer_values):
        return []
    first = next(i for i, v in enumerate(answer_values) if v is not None)
    found: list[SlipMatch] = []
    for slip in SLIPS.values():
        for change in slip.changes(ctx, target.node):
            if ANSWER not in change.applies or change.update_rule:
                continue
            try:
                expr = candidate_expression(ctx, target.node, change, base)
            except NotApplicable:
                continue
            program = compile_or_none(expr)
            if program is None:
                continue
            head = values_at(program, points[first:first + 1])[0]
            if head is None or not same_number(head, answer_values[first]):
                continue
            values = values_at(program, points)
            if _agree(values, comparison.correct_values):
                continue  # this change does not alter this answer
            if _agree(values, answer_values):
                found.append(SlipMatch(slip.key, slip.title, change.detail, expression=_short(expr)))
    return _dedupe(found)


def _short(expr: sp.Expr, limit: int = 240) -> str | None:
    text = str(expr)
    return text if len(text) <= limit else None


def _dedupe(matches: list[SlipMatch]) -> list[SlipMatch]:
    """One entry per slip (the first, most specific change), in catalogue order."""
    seen: dict[str, SlipMatch] = {}
    for m in matches:
        seen.setdefault(m.key, m)
    return list(seen.values())


# ----------------------------------------------------------------------------- answer files

class Written(str):
    """A number exactly as it was written in the file (``0.80`` keeps its trailing zero)."""


class _Loader(yaml.SafeLoader):
    """Safe YAML: duplicate keys refused, numbers kept as written."""


def _mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    out: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, str):
            raise SpecError(f"line {key_node.start_mark.line + 1}: keys must be names")
        key = str(key)
        if key in out:
            raise SpecError(f"line {key_node.start_mark.line + 1}: duplicate key '{key}'")
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor("tag:yaml.org,2002:int", lambda loader, node: Written(node.value))
_Loader.add_constructor("tag:yaml.org,2002:float", lambda loader, node: Written(node.value))
for _tag in ("binary", "omap", "pairs", "set", "timestamp"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", refuse_tag)


@dataclass
class AnswerFile:
    """A parsed answer file: metadata, symbolic answers and/or a worked solution."""

    path: str
    title: str = ""
    spec: str | None = None
    answers: list[tuple[str, str, str, str]] = field(default_factory=list)  # (wrt, text, syntax, where)
    solution: list[tuple[str, Any, str]] | None = None                      # (name, value as written, where)


def read_answer_file(path: str | Path, *, follow_symlinks: bool = False) -> AnswerFile:
    """Read and validate an answer file; every mistake is a SpecError naming the file and key.

    An answer file that is a symbolic link is refused (a link to the instructor's key is not
    a student's answers) unless ``follow_symlinks``.
    """
    file = str(path)
    if not follow_symlinks and Path(path).is_symlink():
        raise SpecError("the answer file is a symbolic link; give the file itself (or --follow-symlinks)", file=file)
    raw = answer_yaml(read_text(path, "answer", MAX_FILE_BYTES), file)
    try:
        return _answer_file(raw, file)
    except SpecError as exc:
        raise exc.located(file) from None


def answer_yaml(text: str, file: str = "answers") -> Any:
    """The YAML of an answer file as read by the checker: safe, duplicate keys refused, numbers
    kept as written (:class:`Written`); a SpecError naming ``file`` for anything else.

    >>> answer_yaml("out_T: 0.680")
    {'out_T': '0.680'}
    """
    return load_yaml(text, _Loader, file)


def answer_file_from_mapping(raw: Any, file: str = "answers") -> AnswerFile:
    """An answer file given as a mapping (``answers:``, ``solution:``, ...) rather than a file, as
    a web page sends it; figures may be numbers or the text as written (``"0.80"``).

    >>> f = answer_file_from_mapping({"answers": {"w_AT": "A*delta_T"}, "solution": {"out_T": "0.68"}})
    >>> f.answers, f.solution
    ([('w_AT', 'A*delta_T', 'auto', 'answers.w_AT')], [('out_T', '0.68', 'solution.out_T')])
    """
    try:
        return _answer_file(raw, file)
    except SpecError as exc:
        raise exc.located(file) from None


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise SpecError(f"must be text, got {_describe(value)}", key=key)
    return str(value)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Written):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text '{value[:30]}'"
    return f"a {type(value).__name__}"


def _answer_file(raw: Any, file: str) -> AnswerFile:
    if not isinstance(raw, dict):
        raise SpecError("an answer file must be a mapping (answers:, solution:, title:, ...)")
    for k in raw:
        if k not in FILE_KEYS:
            raise SpecError(f"unknown key (allowed: {', '.join(sorted(FILE_KEYS))})", key=key_text(k))
    out = AnswerFile(file)
    out.title = _text(raw.get("title", ""), "title")
    for k in ("description", "source"):
        _text(raw.get(k, ""), k)
    out.spec = _text(raw["spec"], "spec") if "spec" in raw else None
    default = _text(raw.get("syntax", "auto"), "syntax")
    if default not in SYNTAXES:
        raise SpecError(f"must be one of {', '.join(SYNTAXES)}", key="syntax")
    if "answers" in raw:
        answers = raw["answers"]
        if isinstance(answers, (dict, list)):
            limit_answers(len(answers))
        if isinstance(answers, dict):
            for wrt, text in answers.items():
                out.answers.append((wrt, _text(text, f"answers.{key_text(wrt)}"), default, f"answers.{key_text(wrt)}"))
        elif isinstance(answers, list):
            for i, item in enumerate(answers):
                key = f"answers[{i}]"
                if not isinstance(item, dict):
                    raise SpecError("each answer is a mapping {wrt: ..., answer: ...}", key=key)
                for k in item:
                    if k not in ("wrt", "answer", "syntax"):
                        raise SpecError("unknown key (allowed: answer, syntax, wrt)", key=f"{key}.{key_text(k)}")
                for k in ("wrt", "answer"):
                    if k not in item:
                        raise SpecError(f"needs '{k}'", key=key)
                syntax = _text(item.get("syntax", default), f"{key}.syntax")
                if syntax not in SYNTAXES:
                    raise SpecError(f"must be one of {', '.join(SYNTAXES)}", key=f"{key}.syntax")
                out.answers.append((_text(item["wrt"], f"{key}.wrt"), _text(item["answer"], f"{key}.answer"),
                                    syntax, f"{key}.answer"))
        else:
            raise SpecError("must be a mapping wrt → answer, or a list of {wrt, answer}", key="answers")
        if not out.answers:
            raise SpecError("no answers given", key="answers")
    if "solution" in raw:
        solution = raw["solution"]
        if not isinstance(solution, dict) or not solution:
            raise SpecError("must be a mapping name → number, e.g. out_T: 0.68", key="solution")
        out.solution = [(name, value, f"solution.{key_text(name)}") for name, value in solution.items()]
    if not out.answers and out.solution is None:
        raise SpecError("nothing to check: give 'answers' or 'solution'")
    return out
