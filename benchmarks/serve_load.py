"""A bounded load test of ``symbackprop serve`` on loopback, and its warm ``/api/derive`` latency.

    python benchmarks/serve_load.py [--clients 50] [--requests 500] [--workers 2]

Starts the server (``python -m symbackprop serve``) on a free port, sends REQUESTS requests from
CLIENTS concurrent clients — derivations and checks of the lecture's WE-5, WE-2 and WE-11,
and hostile or broken requests (``9**9**9``, 10⁵ weights, nesting bombs, malformed JSON, bodies
over the cap, unknown fields, and two specs that run past the time limit) — and prints a table:
per kind the statuses, p50/p95/max latency; in all requests/s and the number of 5xx responses and
of lost ones (no response at all). Exit status 1 if either is not zero, a response is not the one
expected or the server is not healthy afterwards.

A second, smaller phase runs a server with ``--memory-mb 256``: requests for a network too large
for that address space stop with 413 (the worker's MemoryError) beside ordinary ones.

Then, one request at a time after a warm-up, the latency of ``/api/derive`` for WE-5 and for a
64-128-64-10 sigmoid network (the latter on a second server with a 300 s time limit: it takes
longer than the default 10 s).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
WE5 = (EXAMPLES / "we05-221-sigmoid.yaml").read_text()
BIG = "name: big\nlayers: [64, 128, 64, 10]\nactivation: sigmoid\nloss: half_sse\n"
SLOW_SPEC = "name: slow\nlayers: [10, 200, 200, 10]\nactivation: sigmoid\nloss: half_sse\n"
HOSTILE_ACTIVATION = WE5.replace("activation: sigmoid}", "activation: \"x**9**9**9\"}", 1)


def _json(body: dict) -> bytes:
    return json.dumps(body).encode()


# kind -> (share of the requests, path, body bytes (None: a fresh one each time), the statuses expected).
# Derivations of the same text are answered from the server's cache after the first; "new values"
# changes a weight every time, and checks without a seed draw fresh test points: real work each time.
KINDS: dict[str, tuple[float, str, bytes, set[int]]] = {
    "derive WE-5": (0.15, "/api/derive", _json({"spec": WE5}), {200}),
    "derive WE-5, new values": (0.15, "/api/derive", None, {200}),
    "derive WE-5 (paths)": (0.04, "/api/derive", _json({"spec": WE5, "method": "paths"}), {200}),
    "derive WE-2": (0.04, "/api/derive", _json({"spec": (EXAMPLES / "we02-paths-3-3-3-3-2.yaml").read_text()}),
                    {200}),
    "derive WE-11": (0.04, "/api/derive", _json({"spec": (EXAMPLES / "we11-composite-chain.yaml").read_text()}),
                     {200}),
    "explore WE-5": (0.08, "/api/explore", _json({"spec": WE5}), {200}),
    "check sign slip": (0.22, "/api/check", _json({"spec": WE5, "answers": {"w_AT": "-A*delta_T"}}), {200}),
    "check solution": (0.08, "/api/check", _json({"spec": WE5, "solution": {"out_T": "0.68", "net_F": "0.80"}}),
                       {200}),
    "hostile 9**9**9": (0.05, "/api/derive", _json({"spec": HOSTILE_ACTIVATION}), {422}),
    "hostile 10^5 weights": (0.04, "/api/derive",
                             _json({"spec": "name: wide\nlayers: [1, 100000]\nactivation: sigmoid\nloss: sse\n"}),
                             {422}),
    "hostile nesting": (0.01, "/api/derive", _json({"spec": "name: deep\ntitle: " + "[" * 100_000 + "]" * 100_000}),
                        {422}),
    "hostile answer": (0.03, "/api/check", _json({"spec": WE5, "answers": {"w_AT": "__import__('os')"}}), {422}),
    "malformed JSON": (0.03, "/api/derive", b'{"spec": ', {400}),
    "unknown field": (0.02, "/api/derive", _json({"spec": WE5, "path": "/etc/passwd"}), {400}),
    "body over the cap": (0.03, "/api/derive", _json({"spec": "#" * 1_100_000}), {413}),
}
# (count, …): workers replaced. The largest network under the spec limit derives in about 8 s here
# (inside the 10 s limit since issue 20); the explorer's data of it takes about 12 s alone.
SLOW = {"slow spec (time limit)": (2, "/api/explore", _json({"spec": SLOW_SPEC}), {413})}
# The memory phase (a server with --memory-mb 256, the least the CLI allows): the explorer's data of a
# 10-200-200-10 network needs more address space than that and stops with 413 within seconds, while
# the lecture's examples go on being answered beside it.
MEMORY: dict[str, tuple[float, str, bytes, set[int]]] = {
    "derive WE-5, new values": KINDS["derive WE-5, new values"],
    "check sign slip": KINDS["check sign slip"],
    "explore WE-2": (0.2, "/api/explore", _json({"spec": (EXAMPLES / "we02-paths-3-3-3-3-2.yaml").read_text()}), {200}),
    "hostile memory (explore 10-200-200-10)": (0.2, "/api/explore", _json({"spec": SLOW_SPEC}), {413}),
}
MEMORY_MB = 256


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LOG = sys.stderr   # the server's own messages (a worker's internal error) go with the failures printed here


def start_server(*args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-m", "symbackprop", "serve", "--port", str(port), *args],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=LOG)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def plan(kinds: dict[str, tuple], total: int, fixed: dict[str, tuple] | None = None, seed: int = 19) -> list[str]:
    """``total`` request kinds in a random order: ``fixed`` ones their count, the others by their share."""
    fixed = fixed or {}
    rest = total - sum(n for n, *_ in fixed.values())
    names = [k for k, (share, *_) in kinds.items() for _ in range(round(share * rest))]
    names = (names + [next(iter(kinds))] * rest)[:rest] + [k for k, (n, *_) in fixed.items() for _ in range(n)]
    random.Random(seed).shuffle(names)
    return names


async def load(url: str, clients: int, names: list[str], kinds: dict[str, tuple]) -> list[tuple[str, int | None, float]]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for k in names:
        queue.put_nowait(k)
    results: list[tuple[str, int | None, float]] = []
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=180, limits=limits) as http:
        async def client() -> None:
            while not queue.empty():
                kind = queue.get_nowait()
                _, path, body, _ = kinds[kind]
                if body is None:
                    fresh = WE5.replace("w_AT: 0.1,", f"w_AT: {rng.uniform(-1, 1):.6f},")
                    body = _json({"spec": fresh})
                start = time.perf_counter()
                try:
                    r = await http.post(path, content=body, headers={"content-type": "application/json"})
                    status: int | None = r.status_code
                    if status >= 500:
                        print(f"{kind}: {status} {r.text[:200]}", file=sys.stderr)
                except httpx.HTTPError as exc:
                    status = None
                    print(f"{kind}: lost ({type(exc).__name__})", file=sys.stderr)
                results.append((kind, status, time.perf_counter() - start))

        await asyncio.gather(*(client() for _ in range(clients)))
    return results


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def report(results: list[tuple[str, int | None, float]], seconds: float, kinds: dict[str, tuple]) -> bool:
    """Print the table; True when every status was the one expected and none was 5xx or lost."""
    print("| kind | requests | statuses | p50 (ms) | p95 (ms) | max (ms) |\n|---|---:|---|---:|---:|---:|")
    ok = True
    for kind, (*_, expected) in kinds.items():
        rows = [r for r in results if r[0] == kind]
        if not rows:
            continue
        statuses: dict[str, int] = {}
        for _, s, _ in rows:
            statuses[str(s)] = statuses.get(str(s), 0) + 1
        ok &= all(s in expected for _, s, _ in rows)
        times = [t * 1000 for *_, t in rows]
        print(f"| {kind} | {len(rows)} | {', '.join(f'{k}×{v}' for k, v in sorted(statuses.items()))} | "
              f"{pct(times, .5):.0f} | {pct(times, .95):.0f} | {max(times):.0f} |")
    times = [t * 1000 for *_, t in results]
    fives = sum(1 for _, s, _ in results if s is not None and s >= 500)
    lost = sum(1 for _, s, _ in results if s is None)
    print(f"\n{len(results)} requests in {seconds:.1f} s ({len(results) / seconds:.1f} requests/s): 5xx {fives}, "
          f"lost {lost}, p50 {pct(times, .5):.0f} ms, p95 {pct(times, .95):.0f} ms, max {max(times):.0f} ms"
          f"{'' if ok else '; SOME STATUSES WERE NOT THE ONES EXPECTED'}")
    return ok and not fives and not lost


def phase(url: str, clients: int, kinds: dict[str, tuple], names: list[str]) -> bool:
    start = time.perf_counter()
    results = asyncio.run(load(url, clients, names, kinds))
    good = report(results, time.perf_counter() - start, kinds)
    with urllib.request.urlopen(url + "/healthz") as r:
        health = json.load(r)
    print(f"health after the run: {health}")
    return good and health["status"] == "ok"


def warm_latency(url: str, spec: str, repeats: int) -> tuple[float, float, int]:
    """Median seconds of ``/api/derive`` computed by a warm worker (each request's text differs by a
    comment, so the cache cannot answer), the median answered from the cache, and the answer's size."""
    computed, cached, size = [], [], 0
    with httpx.Client(base_url=url, timeout=600) as http:
        def post(text: str) -> float:
            nonlocal size
            start = time.perf_counter()
            r = http.post("/api/derive", content=_json({"spec": text}), headers={"content-type": "application/json"})
            assert r.status_code == 200, r.text[:300]
            size = len(r.content)
            return time.perf_counter() - start

        post(spec + "# warm-up\n")
        for k in range(repeats):
            computed.append(post(spec + f"# request {k}\n"))
            cached.append(post(spec + f"# request {k}\n"))
    return statistics.median(computed), statistics.median(cached), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-big", action="store_true", help="skip the 64-128-64-10 latency")
    args = parser.parse_args()
    proc, url = start_server("--workers", str(args.workers))
    try:
        print(f"## {args.clients} clients, {args.requests} requests (--workers {args.workers}, --timeout 10)\n")
        kinds = KINDS | SLOW
        good = phase(url, args.clients, kinds, plan(KINDS, args.requests, SLOW))
        we5, hit, size = warm_latency(url, WE5, 20)
        print(f"\nwarm /api/derive, WE-5: median {we5 * 1000:.0f} ms computed, {hit * 1000:.1f} ms from the cache "
              f"(20 each, {size:,} bytes)")
    finally:
        proc.terminate()
        proc.wait(10)
    proc, url = start_server("--workers", str(args.workers), "--memory-mb", str(MEMORY_MB))
    try:
        total = max(20, args.requests // 5)
        print(f"\n## the memory limit: {args.clients // 5 or 1} clients, {total} requests (--memory-mb {MEMORY_MB})\n")
        good &= phase(url, args.clients // 5 or 1, MEMORY, plan(MEMORY, total))
    finally:
        proc.terminate()
        proc.wait(10)
    if not args.skip_big:
        proc, url = start_server("--workers", "1", "--timeout", "300")
        try:
            big, hit, size = warm_latency(url, BIG, 3)
            print(f"warm /api/derive, 64-128-64-10 sigmoid (17,024 weights, no values): median {big:.1f} s computed, "
                  f"{hit * 1000:.0f} ms from the cache (3 each, {size:,} bytes)")
        finally:
            proc.terminate()
            proc.wait(10)
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
