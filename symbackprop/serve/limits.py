"""The explorer's limits per request and the one error body of its API.

>>> error("unknown key", "neurons.T.bogus")
{'error': {'message': 'unknown key', 'key': 'neurons.T.bogus'}, 'status': 422}
"""
from __future__ import annotations

from typing import Any

DEFAULT_TIMEOUT = 10.0        # seconds one request may compute before its worker is replaced
DEFAULT_MEMORY_MB = 1536      # address space of a worker (SymPy and NumPy need ~300 MB of it)
DEFAULT_WAIT = 60.0           # seconds a request waits for a free worker before "busy"
MAX_BODY_BYTES = 1_000_000    # a spec or answers: the CLI's answer-file limit (specs are read with theirs)
OUT_OF_MEMORY = "the request needs more memory than a request may use"
RESTART = "restart"           # a worker's answer with this key set: it has exited, start a fresh one


def error(message: str, key: str | None = None, status: int = 422) -> dict[str, Any]:
    """The API's error body, with the HTTP status it goes with (removed before sending)."""
    return {"error": {"message": message, "key": key}, "status": status}
