"""The command line: parse, call the API, write files. User mistakes exit 2 with one clear line."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..derive import METHODS, derive
from ..derive.expand import DEFAULT_LIMIT
from ..derive.paths import DEFAULT_MAX_PATHS
from ..errors import SpecError, fail
from ..expressions import ExpressionError
from ..files import FORCE_HELP, JSON_MARKER
from .output import check_output, follow_option, write_output
from ..render.pdf import stop_on_interrupt
from ..render.text import text_report
from ..spec import load_spec




class _Main(click.Group):
    """The command group: usage mistakes as one line (exit 2), Ctrl-C as one line (exit 130)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:  # an unknown option of the group itself (symbackprop --bogus)
            fail(exc.format_message())

    def invoke(self, ctx: click.Context):
        for stream in (sys.stdout, sys.stderr):   # a lone surrogate in user text prints as \ud800
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="backslashreplace")
        try:
            with stop_on_interrupt():
                return super().invoke(ctx)
        except click.UsageError as exc:
            fail(exc.format_message())
        except KeyboardInterrupt:
            click.echo("symbackprop: interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="symbackprop")
def main() -> None:
    """Derive backpropagation symbolically and show the work."""


@main.command("derive")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--method", type=click.Choice(METHODS), default="backprop", show_default=True,
              help="cached backprop, or the sum over every path (multivariate chain rule)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="write to this file instead of standard output")
@click.option("--stats", is_flag=True, help="operation counts of both methods and the path count")
@click.option("--max-paths", type=click.IntRange(min=1), default=DEFAULT_MAX_PATHS, show_default=True,
              help="refuse --method paths past this many paths")
@click.option("--expansion-limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True,
              help="largest expanded expression (tree nodes) to print; larger ones are null")
@click.option("--no-expanded", is_flag=True, help="skip the expanded forms (faster for large networks)")
@click.option("--digits", type=click.IntRange(0, 15), default=6, show_default=True,
              help="decimal places in the text report (display only)")
@click.option("--exact", is_flag=True,
              help="exact rational results (closed forms for sigmoids) beside the decimals")
@click.option("--notation", type=click.Choice(["scalar", "matrix"]), default="scalar", show_default=True,
              help="matrix: add the layer view (weight matrices, Jacobians, δ vectors, gradient matrices)")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@follow_option
def derive_command(spec: Path, method: str, fmt: str, output: Path | None, stats: bool,
                   max_paths: int, expansion_limit: int, no_expanded: bool, digits: int,
                   exact: bool, notation: str, force: bool, follow_symlinks: bool) -> None:
    """Derive dE/dw for every parameter of SPEC (YAML or JSON)."""
    inputs = {spec: "the spec"}
    check_output(output, force=force, inputs=inputs, follow_symlinks=follow_symlinks)
    try:
        parsed = load_spec(spec)
        derivation = derive(parsed, method, max_paths=max_paths, expansion_limit=expansion_limit)
        result = JSON_MARKER | derivation.to_dict(expanded=not no_expanded)
        counts = derivation.stats if stats else None
        if exact:
            from ..exact import exact_numbers

            if derivation.numbers is None:
                raise SpecError("--exact needs values (or data) in the spec", key="values")
            result["exact"] = exact_numbers(derivation).to_dict()
        if notation == "matrix":
            from ..layers import layer_view, layer_view_dict

            result["layer_view"] = layer_view_dict(layer_view(derivation))
    except (SpecError, ExpressionError) as exc:
        located = exc.located(str(spec)) if isinstance(exc, SpecError) else f"{spec}: {exc}"
        fail(str(located))
        return
    if counts is not None:
        result["stats"] = counts
    if fmt == "json":
        text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    else:
        text = text_report(result, digits=digits, stats=counts)
    if output is None:
        click.echo(text, nl=False)
        return
    write_output(output, text, force=force, inputs=inputs, follow_symlinks=follow_symlinks)
    click.echo(f"wrote {output}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()


def _register_commands() -> None:
    """Subcommands that live beside the modules they drive."""
    from .check import check_command
    from .numeric import code_command, train_command
    from .render import render_command

    main.add_command(check_command, "check")
    main.add_command(render_command, "render")
    main.add_command(code_command, "code")
    main.add_command(train_command, "train")
    from .export import export_command  # symbackprop export: the lms exporters
    main.add_command(export_command, "export")


_register_commands()
