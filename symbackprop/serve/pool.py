"""A pool of worker processes with a time and a memory limit per request.

Each worker is one process (``python -m symbackprop.serve.worker``, started once, reused) that
runs :func:`symbackprop.serve.jobs.run_job` for one request at a time under an address-space
limit. A request that runs past its time limit has its worker killed and replaced, so one
browser's hostile spec delays nobody else for longer than that limit; a worker that dies
(out of memory) is replaced the same way. Callers block in :meth:`WorkerPool.run` (the web app
calls it from threads).

>>> with WorkerPool(size=1, timeout=60) as pool:
...     pool.run("derive", spec="name: [")["status"]
422
"""
from __future__ import annotations

import json
import os
import queue
import selectors
import subprocess
import sys
import threading
from typing import Any

from .limits import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, DEFAULT_WAIT, OUT_OF_MEMORY, RESTART, error

STARTUP = 120.0    # seconds a new worker may take to import SymPy and the library (it only hangs past this)


class _Worker:
    """One ``python -m symbackprop.serve.worker`` process: a JSON line in, a JSON line out."""

    def __init__(self, memory_mb: int):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "symbackprop.serve.worker", str(memory_mb)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, env=env, start_new_session=True)

    def ready(self, timeout: float = STARTUP) -> None:
        """Wait until the worker has imported the library (so its first request's clock is fair)."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.process.stdout, selectors.EVENT_READ)
            if sel.select(timeout):
                self.process.stdout.readline()

    def ask(self, name: str, kwargs: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """The worker's answer, or None past ``timeout`` seconds. Raises OSError/ValueError if it died."""
        self.process.stdin.write(json.dumps([name, kwargs]).encode() + b"\n")
        self.process.stdin.flush()
        with selectors.DefaultSelector() as sel:
            sel.register(self.process.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                return None
        line = self.process.stdout.readline()
        if not line:
            raise OSError("the worker stopped")
        return json.loads(line)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(5)
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()


class WorkerPool:
    """``size`` worker processes; :meth:`run` sends one job to a free one and waits at most
    ``timeout`` seconds for its answer (then kills and replaces that worker)."""

    def __init__(self, size: int = 2, *, timeout: float = DEFAULT_TIMEOUT, memory_mb: int = DEFAULT_MEMORY_MB,
                 wait: float = DEFAULT_WAIT):
        self.timeout, self.memory_mb, self.wait = timeout, memory_mb, wait
        self.idle: queue.Queue[_Worker] = queue.Queue()
        self.replaced = 0
        self._lock = threading.Lock()
        self._workers = [_Worker(memory_mb) for _ in range(size)]
        for w in self._workers:   # started together, waited for in turn
            w.ready()
            self.idle.put(w)

    def _replace(self, worker: _Worker) -> _Worker:
        worker.stop()
        fresh = _Worker(self.memory_mb)
        fresh.ready()
        with self._lock:
            self._workers[self._workers.index(worker)] = fresh
            self.replaced += 1
        return fresh

    def run(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """The job's result, or an error body (``status`` 413 past the time or memory limit)."""
        try:
            worker = self.idle.get(timeout=self.wait)
        except queue.Empty:
            return error("the server is busy; try again in a moment", status=503)
        try:
            try:
                answer = worker.ask(name, kwargs, self.timeout)
                if answer is not None:
                    if answer.pop(RESTART, False):
                        worker = self._replace(worker)
                    return answer
            except (OSError, ValueError):
                worker = self._replace(worker)
                return error(OUT_OF_MEMORY, status=413)
            worker = self._replace(worker)
            return error(f"the request took longer than {self.timeout:g} seconds and was stopped", status=413)
        finally:
            self.idle.put(worker)

    @property
    def size(self) -> int:
        return len(self._workers)

    def close(self) -> None:
        for w in self._workers:
            w.stop()

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
