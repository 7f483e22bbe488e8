"""A worker process of the pool: ``python -m symbackprop.serve.worker MEMORY_MB``.

It limits its own address space, imports the library, says ``{"ready": true}``, then answers
one JSON line ``[job, kwargs]`` on standard input with one JSON line on the pipe that was
standard output (anything a library prints goes to standard error instead), until standard
input closes. Past its memory limit it answers 413 marked ``"restart": true`` and exits, and
the pool replaces it: a heap that ran out is not trusted with the next request.
"""
from __future__ import annotations

import json
import os
import sys


def _limit_memory(megabytes: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv: list[str]) -> None:  # pragma: no cover - runs in the child (tests/test_serve_api.py)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _limit_memory(int(argv[0]))
    from .jobs import run_job
    from .limits import OUT_OF_MEMORY, RESTART, error

    out.write(b'{"ready": true}\n')   # imports done: the pool's time limit starts counting now
    out.flush()
    for line in sys.stdin.buffer:
        restart = False
        try:
            name, kwargs = json.loads(line)
            result = run_job(name, **kwargs)
        except (MemoryError, SystemError):   # SystemError: C code whose allocation failed (seen under the limit)
            result, restart = error(OUT_OF_MEMORY, status=413), True
        except Exception as exc:  # noqa: BLE001 - a bug must not reach the client as a traceback
            print(f"symbackprop serve: worker: internal error: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
            result = error("internal error while handling this request", status=500)
        try:
            data = json.dumps(result, ensure_ascii=False).encode("utf-8", "surrogatepass")
        except MemoryError:
            data, restart = json.dumps(error("the result is too large", status=413)).encode(), True
        if restart:   # the heap may be left half-full or inconsistent: answer, then let the pool start a fresh worker
            data = data[:-1] + b', "' + RESTART.encode() + b'": true}'
        out.write(data + b"\n")
        out.flush()
        if restart:
            return


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
