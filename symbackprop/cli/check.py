"""``symbackprop check``: the click command (registered in :mod:`symbackprop.cli`).

Exit status: 0 when every answer and every figure is right, 1 when something is wrong, 2 for
bad input (one line ``symbackprop: error: ...`` on stderr, no output file written).
"""
from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

import click

from ..check.answers import DEFAULT_POINTS, SYNTAXES, read_answer_file
from ..check.checker import AnswerInput, SolutionInput, run_check
from ..check.report import latex_report, text_report, to_dict
from ..derive import derive
from ..errors import SpecError, fail
from ..expressions import ExpressionError
from .output import follow_option
from ..files import FORCE_HELP, JSON_MARKER, OutputError, check_target, write_atomically
from ..spec import load_spec
from ..spec.marking import DEFAULT, MAX_DIGITS, VOCABULARIES

HELP = """Check hand derivations against SPEC (YAML or JSON).

\b
Symbolic answers:  --wrt w_AT --answer "A*delta_F*w_TF*out_T*(1 - out_T)"
  (repeat the pair; or --answer-file FILE with an 'answers:' mapping wrt -> answer).
  --wrt names a parameter (w_AT, dE_dw_AT, grad_w_AT) or a delta (delta_T). Answers use
  the lecture's symbols (out_T, net_T, delta_F, t_F, weights, inputs, eta, lambda) or are
  expanded; plain syntax or LaTeX. A wrong answer gets a counterexample and the slip that
  reproduces it, if one in the catalogue does.

\b
Worked solution:   --solution FILE with a 'solution:' mapping name -> number as written
  (net_T, out_T, E, delta_T, dE_dw_AT, w_AT_new, out_F_after, ...). Each figure is graded
  within the rounding written, with error carried forward from your own earlier figures.
  An --answer-file is checked completely (its answers and its solution).

\b
Marking policy (the instructor's; the spec's 'marking:' key, these options on top):
  a figure is held to the tighter of its own written precision and the policy
  (default: at least 2 significant figures); --vocabulary limits the symbols answers use.

Exit status: 0 all right, 1 something wrong, 2 bad input.
"""


class _OneLineErrors(click.Command):
    """Usage mistakes (unknown option, missing SPEC) as one ``symbackprop: error:`` line, status 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            fail(exc.format_message())
            raise  # pragma: no cover - fail exits


@click.command("check", cls=_OneLineErrors, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--wrt", "wrts", multiple=True, metavar="NAME",
              help="what the next --answer differentiates: w_AT, dE_dw_AT, grad_w_AT or delta_T (repeatable)")
@click.option("--answer", "answers", multiple=True, metavar="TEXT",
              help="the answer for the matching --wrt, plain or LaTeX (repeatable)")
@click.option("--answer-file", "answer_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="YAML with 'answers:' (wrt -> answer) and/or 'solution:' (repeatable)")
@click.option("--solution", "solutions", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="YAML with a worked solution under 'solution:' (name -> number as written)")
@click.option("--syntax", type=click.Choice(SYNTAXES), default="auto", show_default=True,
              help="how to read --answer texts (auto: LaTeX if it has \\ { } ^ or $)")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "latex"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="write the report to this file instead of standard output")
@click.option("--points", type=click.IntRange(8, 400), default=DEFAULT_POINTS, show_default=True,
              help="test points for comparing expressions (the spec's values and random ones)")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=None,
              help="seed of the random test points (default: a fresh one, printed in the report to repeat the check)")
@click.option("--sig-figs", type=click.IntRange(0, MAX_DIGITS), metavar="N",
              help="figures need at least N significant figures, right to half a unit in the last "
                   "(default 2, or the spec's marking:; 0 drops the rule)")
@click.option("--decimals", type=click.IntRange(0, MAX_DIGITS), metavar="N",
              help="figures need at least N decimal places, right to ±0.5·10^-N")
@click.option("--rel-tol", type=click.FloatRange(0, 1, min_open=True, max_open=True), metavar="R",
              help="figures within R·|exact| at most (0.005 is 0.5 %)")
@click.option("--abs-tol", type=click.FloatRange(0, min_open=True), metavar="A", help="figures within A at most")
@click.option("--vocabulary", type=click.Choice(list(VOCABULARIES)),
              help="what answers may use: with_deltas (the lecture's, default), without_deltas, givens_only")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@follow_option
def check_command(spec: Path, wrts: tuple[str, ...], answers: tuple[str, ...], answer_files: tuple[Path, ...],
                  solutions: tuple[Path, ...], syntax: str, fmt: str, output: Path | None, points: int,
                  seed: int | None, sig_figs: int | None, decimals: int | None, rel_tol: float | None,
                  abs_tol: float | None, vocabulary: str | None, force: bool, follow_symlinks: bool) -> None:
    read = {spec: "the spec", **{f: "an answer file" for f in answer_files + solutions}}
    if output is not None:
        try:
            check_target(output, force=force, inputs=read, follow_symlinks=follow_symlinks)
        except OutputError as exc:
            fail(str(exc))
    if len(wrts) != len(answers):
        fail(f"give one --wrt for each --answer (got {len(wrts)} --wrt and {len(answers)} --answer)")
    if not answers and not answer_files and not solutions:
        fail("nothing to check: give --wrt/--answer, --answer-file or --solution")
    try:
        parsed = load_spec(spec)
    except SpecError as exc:
        fail(str(exc.located(str(spec))))
        return
    try:
        inputs = [AnswerInput(w, a, syntax, f"--answer {i}" if len(answers) > 1 else "--answer")
                  for i, (w, a) in enumerate(zip(wrts, answers), start=1)]
        worked = []
        for path in answer_files:
            f = read_answer_file(path, follow_symlinks=follow_symlinks)
            inputs += [AnswerInput(w, a, s, where, str(path)) for w, a, s, where in f.answers]
            if f.solution is not None:
                worked.append(SolutionInput(str(path), tuple(f.solution), f.title))
        for path in solutions:
            f = read_answer_file(path, follow_symlinks=follow_symlinks)
            if f.solution is None:
                raise SpecError("no 'solution:' in this file (answers go with --answer-file)", file=str(path))
            worked.append(SolutionInput(str(path), tuple(f.solution), f.title))
        given = {"significant_figures": sig_figs, "decimals": decimals, "relative": rel_tol, "absolute": abs_tol}
        tolerance = {k: v for k, v in given.items() if v is not None}
        if tolerance.get("significant_figures") == 0:
            tolerance["significant_figures"] = None   # --sig-figs 0 drops the rule
        policy = (parsed.marking or DEFAULT).overridden(tolerance=tolerance, vocabulary=vocabulary)
        if seed is None:
            seed = secrets.randbelow(2**32)
        report = run_check(derive(parsed, strict_variant=False), answers=inputs, solutions=worked, points=points,
                           seed=seed, policy=policy)
    except SpecError as exc:
        fail(str(exc))
        return
    except ExpressionError as exc:  # pragma: no cover - answers wrap these in SpecError
        fail(str(exc))
        return
    if fmt == "json":
        text = json.dumps(JSON_MARKER | to_dict(report), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "latex":
        text = latex_report(report)
    else:
        text = text_report(report)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            write_atomically(output, text, force=force, inputs=read, follow_symlinks=follow_symlinks)
        except OutputError as exc:
            fail(str(exc))
        click.echo(f"wrote {output}", err=True)
    sys.exit(0 if report.ok else 1)
