"""The one error type for user mistakes: a clear line naming the file, the key and the problem."""
from __future__ import annotations


class SpecError(ValueError):
    """A mistake in a spec (or other user input), located by file and key.

    >>> str(SpecError("unknown activation 'sigmod'", file="net.yaml", key="neurons.T.activation"))
    "net.yaml: neurons.T.activation: unknown activation 'sigmod'"
    """

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None):
        self.message = message
        self.file = file
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.key) if p]
        return ": ".join(parts + [self.message])

    def located(self, file: str | None = None, key: str | None = None) -> "SpecError":
        """The same error with a file (and a key, if it had none) filled in."""
        return SpecError(self.message, file=self.file or file, key=self.key or key)


MAX_ERROR_LENGTH = 1000


def error_line(message: object) -> str:
    r"""The one line a command prints for a user mistake: whitespace (newlines too) collapsed,
    at most :data:`MAX_ERROR_LENGTH` characters, so user text can never forge further lines.

    >>> error_line("net.yaml: name: 'a\\nb'\nsymbackprop: error: forged")
    "symbackprop: error: net.yaml: name: 'a\\nb' symbackprop: error: forged"
    """
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in str(message)).split())
    if len(text) > MAX_ERROR_LENGTH:
        text = text[:MAX_ERROR_LENGTH - 1] + "…"
    return f"symbackprop: error: {text}"


def fail(message: object, details: list[str] | tuple[str, ...] = ()) -> None:
    """Print :func:`error_line` (and any quoted log lines, for LaTeX failures) on stderr; exit 2."""
    import sys

    import click

    click.echo(error_line(message), err=True)
    for line in details:
        click.echo("  " + " ".join(str(line).split())[:MAX_ERROR_LENGTH], err=True)
    sys.exit(2)
