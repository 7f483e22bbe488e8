"""The command line: parse, call the API, write files. User mistakes exit 2 with one clear line.

Subcommands are loaded on demand from :data:`COMMANDS` (click's lazy-group pattern), so that
``symbackprop --help``, ``--version`` and usage mistakes start without importing SymPy, NumPy
or networkx; only the command that runs imports what it needs.
"""
from __future__ import annotations

import sys
from importlib import import_module
from typing import NamedTuple

import click

from ..errors import fail


class LazyCommand(NamedTuple):
    """Where a subcommand lives (``"module:attribute"``) and its short help for the listing: the
    first paragraph of its help (a test checks it equals the command's own)."""

    target: str
    short_help: str


COMMANDS: dict[str, LazyCommand] = {
    "check": LazyCommand("symbackprop.cli.check:check_command",
                         "Check hand derivations against SPEC (YAML or JSON)."),
    "code": LazyCommand("symbackprop.cli.numeric:code_command",
                        "Write a Python module (NumPy only) computing the loss and gradients of SPEC."),
    "derive": LazyCommand("symbackprop.cli.derive:derive_command",
                          "Derive dE/dw for every parameter of SPEC (YAML or JSON)."),
    "exam": LazyCommand("symbackprop.cli.exam:exam_command",
                        "Make randomised exam variants of SPEC: problem sheets, solutions, a marking key "
                        "and a variant manifest."),
    "export": LazyCommand("symbackprop.cli.export:export_command",
                          "Export the exam variants in MANIFEST (<name>-variants.json) to a learning "
                          "platform."),
    "grade": LazyCommand("symbackprop.cli.grade:grade_command",
                         "Grade a class's submissions against an exam MANIFEST (<name>-variants.json of "
                         "symbackprop exam)."),
    "render": LazyCommand("symbackprop.cli.render:render_command",
                          "Write LaTeX documents for SPEC into DIR: <name>-<template>.tex, for exams "
                          "<name>-exam-problem.tex and <name>-exam-solution.tex (with --variants N: what "
                          "`symbackprop exam --variants N` writes); <name>-solution-matrix.tex with "
                          "--notation matrix; and each .pdf with --pdf."),
    "serve": LazyCommand("symbackprop.cli.serve:serve_command",
                         "Explore SPEC (default: the WE-5 example) in the browser: the network, each "
                         "weight's paths, each neuron's formulas, the passes step by step, and the checker."),
    "train": LazyCommand("symbackprop.cli.numeric:train_command",
                         "Run gradient descent on the examples of SPEC and print the loss at each step."),
}
"""Every subcommand: name -> where it lives. A new command is one entry here (its module imports
what it needs at its top; nothing is imported until the command runs)."""


def load_command(name: str) -> click.Command:
    """The click command registered as ``name`` in :data:`COMMANDS`, imported now."""
    module, _, attribute = COMMANDS[name].target.partition(":")
    return getattr(import_module(module), attribute)


class _Main(click.Group):
    """The command group: subcommands loaded when they run, usage mistakes as one line (exit 2),
    Ctrl-C as one line (exit 130)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)  # one added with add_command wins
        if command is None and cmd_name in COMMANDS:
            command = self.commands[cmd_name] = load_command(cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing from the registry's short help: no command is imported for ``--help``."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names), default=0)  # as click.Group computes it
        rows = []
        for name in names:
            if name in self.commands or name not in COMMANDS:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(limit)))
            else:
                rows.append((name, click.Command(name, help=COMMANDS[name].short_help).get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:  # an unknown option of the group itself (symbackprop --bogus)
            fail(exc.format_message())

    def invoke(self, ctx: click.Context):
        from ..render.pdf import stop_on_interrupt

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


if __name__ == "__main__":  # pragma: no cover
    main()
