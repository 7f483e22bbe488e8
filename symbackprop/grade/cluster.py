"""Grading on Dask: a local ``dask.distributed`` cluster (or a scheduler's), chunks of submissions as tasks.

:func:`connect` starts a :class:`~distributed.LocalCluster` of ``workers`` processes (one
thread each; every process derives each variant it meets once) or connects to a scheduler.
:func:`grade_all` sends the submissions in chunks sorted by variant, hands every record to
``on_record`` as its chunk finishes, and keeps one student's trouble from reaching another:

* a submission over the time limit gets an error record in the worker, which is then
  restarted (:meth:`~distributed.Client.restart_workers`; its nanny starts a fresh process),
  and the rest of its chunk is graded again;
* a chunk whose worker died (memory limit, a crash) is split and its submissions graded one
  by one; the one whose task kills a worker again gets the error record;
* each worker process limits its address space (:class:`MemoryLimit`): a submission that needs
  more gets a ``MemoryError`` — an error record — and the worker lives on.
"""
from __future__ import annotations

import logging
import math
import os
from typing import Any, Callable, Mapping, Sequence

from distributed.diagnostics.plugin import WorkerPlugin

from .grader import TIME_LIMIT, error_record, grade_chunk
from .marks import Scheme
from .submissions import Submission

MEMORY_LIMIT_MB = 2048
"""Address space one submission may add to its worker's (MiB)."""
CHUNKS_PER_WORKER = 4
MAX_CHUNK = 32
KILL_RETRIES = 2
"""A submission graded alone whose worker dies this often gets the error record (once may be a neighbour's fault)."""
KILLED = ("grading stopped its worker (it needed more memory than the limit, or crashed); the other "
          "submissions were graded")


class MemoryLimit(WorkerPlugin):
    """A Dask worker plugin: cap the worker process's address space at what it uses now plus ``megabytes``."""

    name = "symbackprop-memory-limit"

    def __init__(self, megabytes: int):
        self.megabytes = megabytes

    def setup(self, worker: Any) -> None:
        try:
            import resource
        except ImportError:  # pragma: no cover - not on this platform
            return
        with open("/proc/self/statm") as handle:
            size = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = size + self.megabytes * 2**20
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class ClusterError(Exception):
    """The cluster could not be started or reached (one line for the user)."""


WAIT_FOR_WORKERS = 60.0


def connect(workers: int, scheduler: str | None = None, *, memory_mb: int = MEMORY_LIMIT_MB):
    """A :class:`distributed.Client` (and the cluster to close, None for a scheduler's) with the memory plugin.

    Raises :class:`ClusterError` for an address that is not one, a scheduler that does not
    answer or has no worker within :data:`WAIT_FOR_WORKERS` seconds, or a cluster that fails to start.
    """
    try:
        return _connect(workers, scheduler, memory_mb)
    except ClusterError:
        raise
    except (OSError, ValueError, TypeError, RuntimeError, TimeoutError) as exc:
        what = f"the Dask scheduler {scheduler[:80]}" if scheduler else "a local Dask cluster"
        raise ClusterError(f"cannot use {what}: {type(exc).__name__}: {str(exc)[:200]}") from None


def _connect(workers: int, scheduler: str | None, memory_mb: int):
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        if not scheduler.startswith("inproc://"):
            from distributed.comm import get_address_host_port

            get_address_host_port(scheduler)   # a malformed address fails here, before a client starts a loop
        client = Client(scheduler, timeout="20s")
        cluster = None
        try:
            client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
        except (TimeoutError, OSError):
            client.close()
            raise ClusterError(f"the Dask scheduler {scheduler[:80]} has no worker (waited "
                               f"{WAIT_FOR_WORKERS:g} s): start some with 'dask worker {scheduler[:80]}'") from None
    else:
        # one task on a worker at a time (no task queued behind it), and a task on a worker that
        # dies fails at once: a dead worker then names the one submission (or chunk) that killed it
        dask.config.set({"distributed.scheduler.allowed-failures": 0,
                         "distributed.scheduler.worker-saturation": 1.0,
                         "distributed.worker.daemon": False,
                         "distributed.admin.log-length": 0})
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, scheduler_kwargs={"dashboard": False},
                               worker_dashboard_address=None, silence_logs=logging.CRITICAL,
                               env={"MALLOC_ARENA_MAX": "2", "OMP_NUM_THREADS": "1",
                                    "OPENBLAS_NUM_THREADS": "1"})
        client = Client(cluster)
    if memory_mb:
        client.register_plugin(MemoryLimit(memory_mb))
    return client, cluster


def chunks(subs: Sequence[Submission], workers: int) -> list[list[Submission]]:
    """Submissions in chunks of one variant's neighbours (sorted by variant, then ID), a few per worker."""
    ordered = sorted(subs, key=lambda s: (s.variant or s.id, s.id))
    size = max(1, min(MAX_CHUNK, math.ceil(len(ordered) / max(1, workers * CHUNKS_PER_WORKER))))
    return [list(ordered[i:i + size]) for i in range(0, len(ordered), size)]


def run_chunk(manifest: Mapping, subs: Sequence[Submission], scheme: Scheme, digest: str,
              time_limit: float) -> dict:
    """The task: :func:`~symbackprop.grade.grader.grade_chunk` and the worker it ran on."""
    out = grade_chunk(manifest, subs, scheme, digest, time_limit)
    try:
        from distributed import get_worker
        out["worker"] = get_worker().address
    except (ImportError, ValueError):
        out["worker"] = None
    return out


def grade_all(client: Any, manifest: Mapping, subs: Sequence[Submission], scheme: Scheme, digest: str, *,
              on_record: Callable[[dict], None], time_limit: float = TIME_LIMIT,
              task: Callable[..., dict] = run_chunk) -> None:
    """Grade ``subs`` on ``client``'s workers, calling ``on_record`` for each record as it comes.

    ``task`` is what each chunk runs (:func:`run_chunk`; tests pass a faulty one). On
    KeyboardInterrupt the tasks still running are cancelled and the interrupt goes on.
    """
    from distributed import as_completed

    try:
        from distributed.scheduler import KilledWorker
    except ImportError:  # pragma: no cover - older distributed
        from distributed import KilledWorker

    workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
    by_id = {v["id"]: v for v in manifest["variants"]}
    frame = {k: v for k, v in manifest.items() if k != "variants"}
    pending: dict[Any, list[Submission]] = {}
    kills: dict[str, int] = {}

    def submit(chunk: list[Submission]) -> Any:
        # each task carries only its chunk's variants: no shared data a dying worker could lose
        wanted = {s.variant or s.id for s in chunk}
        slim = {**frame, "variants": [by_id[i] for i in sorted(wanted) if i in by_id]}
        future = client.submit(task, slim, chunk, scheme, digest, time_limit, pure=False)
        pending[future] = chunk
        return future

    queue = as_completed([submit(c) for c in chunks(subs, workers)])
    try:
        for future in queue:
            chunk = pending.pop(future)
            try:
                out = future.result()
            except Exception as exc:  # noqa: BLE001 - a dead worker, a lost connection: regrade, then give up
                for sub in chunk:
                    kills[sub.id] = kills.get(sub.id, 0) + (len(chunk) == 1)   # failures graded alone
                    if len(chunk) > 1 or kills[sub.id] < KILL_RETRIES:
                        queue.add(submit([sub]))
                    else:
                        reason = KILLED if isinstance(exc, KilledWorker) else \
                            f"could not be graded ({type(exc).__name__}: {str(exc)[:120]})"
                        on_record(error_record(sub, reason, manifest, transient=True))
                continue
            for record in out["records"]:
                on_record(record)
            if out.get("tainted") and out.get("worker"):
                try:
                    client.restart_workers([out["worker"]], timeout=60)
                except Exception:  # noqa: BLE001 - the nanny may already be restarting it
                    pass
            if out["rest"]:
                queue.add(submit(list(out["rest"])))
    except KeyboardInterrupt:
        client.cancel(list(pending))
        raise
