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
