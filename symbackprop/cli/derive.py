"""``symbackprop derive``: every gradient of a spec as text or JSON (with ``--exact`` and the
layer view on request)."""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..derive import METHODS, derive, paused_gc
from ..derive.expand import DEFAULT_LIMIT
from ..derive.paths import DEFAULT_MAX_PATHS
from ..errors import SpecError, fail
from ..expressions import ExpressionError
from ..files import FORCE_HELP, JSON_MARKER
from ..render.text import text_report
from ..spec import load_spec
from .output import check_output, follow_option, write_output

__all__ = ["derive_command"]


@click.command("derive")
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
    with paused_gc():  # millions of SymPy objects, all alive: no collector scans of them
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
