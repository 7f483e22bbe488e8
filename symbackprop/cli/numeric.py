"""``symbackprop code`` and ``symbackprop train``: standalone gradient code and gradient descent.

Both are click commands that ``symbackprop.cli`` registers on its group. User mistakes
print ``symbackprop: error: FILE: KEY: problem`` on stderr and exit with status 2, writing
no file.
"""
from __future__ import annotations

import io
import json
import math
import re
import sys
from pathlib import Path

import click

from ..codegen import FORMS, module_source, numeric_function
from ..derive import derive
from ..errors import SpecError, fail
from ..expressions import ExpressionError
from ..files import FORCE_HELP, JSON_MARKER
from .output import check_output, follow_option, write_output
from ..spec import load_spec
from ..training import INITS, initial_parameters, train, training_data

__all__ = ["code_command", "train_command"]



def _located(exc: Exception, spec: Path) -> str:
    return str(exc.located(str(spec))) if isinstance(exc, SpecError) else f"{spec}: {exc}"


def default_module_path(name: str) -> Path:
    """``output/<name>_grad.py`` with the name made importable (``-`` and ``.`` become ``_``,
    a leading digit gets ``net_`` before it).

    >>> default_module_path("we05-221.sigmoid").name, default_module_path("2-2-1").name
    ('we05_221_sigmoid_grad.py', 'net_2_2_1_grad.py')
    """
    stem = re.sub(r"[^0-9A-Za-z_]", "_", name)
    return Path("output") / f"{'net_' if stem[:1].isdigit() else ''}{stem}_grad.py"


@click.command("code")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="where to write the module (default output/<name>_grad.py; '-' for standard output)")
@click.option("--form", type=click.Choice(FORMS), default="auto", show_default=True,
              help="matrix code for layered networks (auto), or one line per scalar (scalar)")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@follow_option
def code_command(spec: Path, output: Path | None, form: str, force: bool, follow_symlinks: bool) -> None:
    """Write a Python module (NumPy only) computing the loss and gradients of SPEC.

    The module has forward, loss, gradients and step functions; run it to print the
    spec's example numbers (python output/<name>_grad.py, --json for JSON).
    """
    inputs = {spec: "the spec"}
    to_stdout = output is not None and str(output) == "-"
    if not to_stdout:
        check_output(output, force=force, inputs=inputs, follow_symlinks=follow_symlinks)
    try:
        parsed = load_spec(spec)
        source = module_source(derive(parsed), form=form, source_file=str(spec))
    except (SpecError, ExpressionError) as exc:
        fail(_located(exc, spec))
        return
    except ValueError as exc:  # --form matrix on a graph that is not layered
        fail(f"{spec}: --form: {str(exc).split(': ', 1)[-1]}")
        return
    if to_stdout:
        click.echo(source, nl=False)
        return
    target = output or default_module_path(parsed.name)
    write_output(target, source, force=force, inputs=inputs, follow_symlinks=follow_symlinks)
    click.echo(f"wrote {target}", err=True)


def _table(run, every: int) -> str:
    rows = [k for k in range(0, run.steps + 1, every)]
    if rows[-1] != run.steps:
        rows.append(run.steps)
    width = len(str(run.steps))
    lines = [f"{'step':>{max(width, 4)}}  {'loss':>14}  {'gradient norm':>14}"]
    lines += [f"{k:>{max(width, 4)}}  {run.losses[k]:>14.8g}  {run.gradient_norms[k]:>14.8g}" for k in rows]
    return "\n".join(lines)


def _plot(run) -> bytes:
    """The loss curve as PNG bytes (marked ``Software: symbackprop``)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(range(run.steps + 1), run.losses, color="tab:blue")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if min(run.losses) > 0:
        ax.set_yscale("log")
    ax.set_title(f"{run.name}: gradient descent, learning rate {run.learning_rate:g}")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, metadata={"Software": "symbackprop"})
    plt.close(fig)
    return buffer.getvalue()


@click.command("train")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--steps", type=click.IntRange(min=0, max=10_000_000), required=True,
              help="number of gradient-descent steps")
@click.option("--learning-rate", type=float, default=None,
              help="step size (default: the spec's learning_rate)")
@click.option("--init", type=click.Choice(INITS), default=None,
              help="starting parameters: the spec's values, or weights from a seeded normal "
                   "distribution and biases 0 (default: spec when it gives values, else normal)")
@click.option("--seed", type=int, default=0, show_default=True, help="seed for --init normal")
@click.option("--std", type=click.FloatRange(min=0, min_open=True, max=1e6), default=1.0, show_default=True,
              help="standard deviation of the weights for --init normal")
@click.option("--every", type=click.IntRange(min=1), default=None,
              help="print every N-th step (default: about 20 rows)")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the loss curve as a PNG (needs matplotlib: pip install 'symbackprop[plot]')")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the run (losses, gradient norms, final parameters) as JSON")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@follow_option
def train_command(spec: Path, steps: int, learning_rate: float | None, init: str | None, seed: int,
                  std: float, every: int | None, plot: Path | None, output: Path | None, force: bool,
                  follow_symlinks: bool) -> None:
    """Run gradient descent on the examples of SPEC and print the loss at each step."""
    inputs = {spec: "the spec"}
    if plot is not None and output is not None and plot.resolve() == output.resolve():
        fail(f"{plot}: --plot and -o name the same file")
    for target in (output, plot):
        check_output(target, force=force, inputs=inputs, follow_symlinks=follow_symlinks)
    if plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            fail("--plot needs matplotlib, which is not installed (pip install 'symbackprop[plot]')")
            return
    if learning_rate is not None and not (learning_rate > 0 and math.isfinite(learning_rate)):
        fail(f"--learning-rate: must be a positive number, got {learning_rate}")
        return
    try:
        parsed = load_spec(spec)
        derivation = derive(parsed)
        if init is None:
            init = "spec" if parsed.params_values is not None else "normal"
        start = initial_parameters(parsed, init, seed=seed, std=std)
        training_data(parsed)  # examples and a learning rate are checked before the bar starts
        if learning_rate is None and parsed.learning_rate is None:
            raise SpecError("no learning rate: give --learning-rate or learning_rate in the spec",
                            key="learning_rate")
        function = numeric_function(derivation)
        if not function.wrt_params:
            raise SpecError("nothing to train: no parameter is differentiated (wrt names only inputs)",
                            key="wrt")
        if sys.stderr.isatty():  # a bar for people; scripts and logs get the table only
            with click.progressbar(length=steps + 1, label=f"training {parsed.name}", file=sys.stderr) as bar:
                run = train(derivation, steps, learning_rate, params=start, function=function,
                            callback=lambda k, loss, norm: bar.update(1))
        else:
            run = train(derivation, steps, learning_rate, params=start, function=function)
    except (SpecError, ExpressionError) as exc:
        fail(_located(exc, spec))
        return
    reduction = parsed.reduction if parsed.has_data else "sum"
    click.echo(f"{parsed.name}: {steps} steps of gradient descent, learning rate {run.learning_rate:g}, "
               f"{run.examples} example{'s' if run.examples != 1 else ''} (loss {reduction}), "
               f"{len(function.wrt_params)} parameters ({init} start, {function.form} code)")
    if parsed.backprop_weights == "updated":
        click.echo("note: training follows the true gradient (backprop_weights: updated is a lecture "
                   "variant and is not used here)")
    click.echo(_table(run, every or max(1, math.ceil(steps / 20))))
    click.echo(f"loss {run.losses[0]:.8g} -> {run.losses[-1]:.8g} after {steps} step{'s' if steps != 1 else ''}")
    if output is not None:
        write_output(output, json.dumps(JSON_MARKER | run.to_dict(), indent=2) + "\n",
                     force=force, inputs=inputs, follow_symlinks=follow_symlinks)
        click.echo(f"wrote {output}", err=True)
    if plot is not None:
        write_output(plot, _plot(run), force=force, inputs=inputs, follow_symlinks=follow_symlinks)
        click.echo(f"wrote {plot}", err=True)
