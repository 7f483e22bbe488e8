"""Benchmark: symbolic derivation and numeric gradients of layered sigmoid networks.

    python benchmarks/run.py                 # all networks (about 7 minutes on 2 cores)
    python benchmarks/run.py --threads 1     # steadier figures on a machine shared with other work
    python benchmarks/run.py --quick         # 2-3-2, 4-8-4, 8-16-16-8
    python benchmarks/run.py --networks 2-3-2,32-64-32-10 --write   # also writes benchmarks/results.md

Every network is ``layers: [...]``, sigmoid everywhere, no biases, loss ``half_sse``, measured
in a fresh Python process (cold SymPy caches).

Symbolic (derive ∂E/∂w for every weight):
- cached backprop: ``derive(spec)``; the spec is built (and timed) first;
- path enumeration: ``derive(spec, "paths")``, refused past ``--max-paths`` paths (the
  exact count comes from dynamic programming and is reported);
- naive: ``sympy.diff`` of the composite loss (written in inputs, weights and targets only)
  once per weight. Time-capped: a budget is spent on weights sampled from every layer in
  turn (one diff may be cut off by an alarm, which makes that layer's figure a lower
  bound), and the total is extrapolated per layer ("~" marks an extrapolation, ">" a
  lower bound);
- peak memory of each (``tracemalloc``, a second run in the same process);
- operation counts of the full gradient both ways (``symbackprop.derive.stats``).

Numeric (loss and every gradient, one example and a batch of 1024, median of repeated
runs, each method's time over the generated function's time measured in the same process):
generated matrix code (``numeric_function``), generated scalar code (up to 5,000 weights),
``sympy.lambdify`` of every expanded gradient (while the expanded forms are small), a
hand-written NumPy forward/backward pass, PyTorch CPU autograd, JAX CPU
(``jax.jit(jax.value_and_grad(...))``) and micrograd (small networks, batch 1), all in float64;
each skipped with a note when absent (``pip install -e ".[bench]"``). All methods' gradients are checked against each other.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ALL = ["2-3-2", "4-8-4", "8-16-16-8", "32-64-32-10", "64-128-64-10", "256-256-128-10"]
QUICK = ALL[:3]
BATCHES = (1, 1024)
SCALAR_LIMIT = 5_000          # weights: largest network timed with the generated scalar code
LAMBDIFY_LIMIT = 300_000      # tree nodes of all expanded gradients together


# ---------------------------------------------------------------- measuring

class _Alarm(Exception):
    pass


def _alarm(signum, frame):
    raise _Alarm


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def peak_memory(fn) -> float:
    """Peak traced allocation (MB) while ``fn`` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def median_time(fn, *, seconds: float = 0.4, least: int = 5, most: int = 300) -> float:
    """Median wall time of repeated calls (after one warm-up call)."""
    fn()
    times = []
    began = time.perf_counter()
    while len(times) < least or (len(times) < most and time.perf_counter() - began < seconds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def raise_spec_limit(widths: list[int]) -> bool:
    """Raise the spec's size limit (it guards user input) past this network, in every module that
    reads it: weights, neurons and inputs together. True when it had to be raised."""
    import importlib

    import symbackprop.spec.model as model

    entities = sum(a * b for a, b in zip(widths, widths[1:])) + sum(widths)
    if entities <= model.MAX_ENTITIES:
        return False
    for name in ("model", "mapping", "matrix_values", "shorthand"):
        importlib.import_module(f"symbackprop.spec.{name}").MAX_ENTITIES = entities
    return True


def network_mapping(widths: list[int], values: bool = False) -> dict:
    """The benchmark's spec: sigmoid layers, no biases, ``half_sse``; with ``values``, one example
    and weights of three decimals drawn from a seeded generator, and a learning rate."""
    import random

    spec = {"name": "-".join(map(str, widths)), "layers": widths, "activation": "sigmoid", "loss": "half_sse"}
    if values:
        rng = random.Random(0)
        spec["values"] = {
            "inputs": {"x": [round(rng.uniform(0, 1), 3) for _ in range(widths[0])]},
            "targets": {"y": [round(rng.uniform(0.1, 0.9), 3) for _ in range(widths[-1])]},
            "params": {f"W{i + 1}": [[round(rng.uniform(-1, 1) / math.sqrt(a), 3) for _ in range(a)]
                                     for _ in range(b)] for i, (a, b) in enumerate(zip(widths, widths[1:]))}}
        spec["learning_rate"] = 0.5
    return spec


def layered_spec(widths: list[int], values: bool = False):
    from symbackprop import spec_from_mapping

    raised = raise_spec_limit(widths)
    return spec_from_mapping(network_mapping(widths, values)), raised


# ---------------------------------------------------------------- symbolic

def naive_diff(d, budget: float) -> dict:
    """``sympy.diff`` of the composite loss per weight, sampled across layers within ``budget``."""
    import sympy as sp

    from symbackprop.derive.expand import Expander

    g = d.network.graph
    build, composite = timed(lambda: Expander(dict(d.network.definitions()), 10**12)._substitute(d.loss_definition))
    layers: dict[str, list] = {}
    for w in d.spec.parameters:
        layers.setdefault(w.split("_")[0], []).append(g.nodes[w]["symbol"])
    samples: dict[str, list[float]] = {k: [] for k in layers}
    cut: dict[str, float] = {}
    deadline = time.perf_counter() + budget
    signal.signal(signal.SIGALRM, _alarm)
    position = 0
    while True:
        pending = [k for k in layers if k not in cut and len(samples[k]) < len(layers[k])]
        if not pending:
            break
        if time.perf_counter() >= deadline and all(samples[k] or k in cut for k in layers):
            break
        for k in pending:
            left = deadline - time.perf_counter()
            if samples[k] and left <= 0:
                continue
            w = layers[k][(position * 7919) % len(layers[k])] if len(samples[k]) else layers[k][0]
            limit = max(left, budget / (2 * len(layers)))
            signal.setitimer(signal.ITIMER_REAL, limit)
            start = time.perf_counter()
            try:
                sp.diff(composite, w)
                samples[k].append(time.perf_counter() - start)
            except _Alarm:
                cut[k] = time.perf_counter() - start
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        position += 1
    total, measured, lower_bound = build, 0, False
    for k, ws in layers.items():
        if k in cut and not samples[k]:
            total += cut[k] * len(ws)
            lower_bound = True
        else:
            total += statistics.mean(samples[k]) * len(ws)
            measured += len(samples[k])
    return {"seconds": total, "weights_differentiated": measured, "composite_seconds": build,
            "extrapolated": measured < len(d.spec.parameters), "lower_bound": lower_bound}


def symbolic(widths: list[int], args) -> dict:
    from symbackprop import derive
    from symbackprop.derive.paths import path_counts
    from symbackprop.derive.stats import backprop_cost, paths_cost

    derive(layered_spec([1, 1])[0])  # load what SymPy and networkx load on first use
    spec_seconds, (spec, raised) = timed(lambda: layered_spec(widths))
    seconds, d = timed(lambda: derive(spec))
    network = d.network
    counts = path_counts(network)
    total_paths = sum(counts[w] for w in network.wrt)
    out = {"weights": len(spec.parameters), "edges": network.graph.number_of_edges(),
           "spec_seconds": spec_seconds, "limit_raised": raised, "backprop_seconds": seconds,
           "paths": total_paths,
           "ops_backprop": backprop_cost([e.expression for e in d.deltas.values()],
                                         [e.expression for e in d.gradients.values()]),
           "ops_paths": paths_cost(network)}
    print(f"  {'-'.join(map(str, widths))}: backprop {seconds:.2f} s", file=sys.stderr, flush=True)
    if total_paths <= args.max_paths:
        out["paths_seconds"], _ = timed(lambda: derive(spec, "paths", max_paths=args.max_paths))
    out["naive"] = naive_diff(d, args.naive_budget)
    print(f"  naive ~{out['naive']['seconds']:.1f} s", file=sys.stderr, flush=True)
    out["backprop_mb"] = peak_memory(lambda: derive(spec))
    if "paths_seconds" in out:
        out["paths_mb"] = peak_memory(lambda: derive(spec, "paths", max_paths=args.max_paths))
    return out, d


# ---------------------------------------------------------------- the whole pipeline

STAGE_LIMIT = 20_000          # weights: largest network whose layer view and exact numbers are timed


def cli_command(widths: list[int], *args: str) -> list[str]:
    """``symbackprop ARGS`` in a fresh process, with the spec's size limit raised for this network."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
            f"import run; run.raise_spec_limit({widths!r})\n"
            "from symbackprop.cli import main; main(sys.argv[1:], prog_name='symbackprop')")
    return [sys.executable, "-c", code, *args]


def wall(command: list[str], runs: int = 1) -> float:
    """Median wall time of ``command`` (a fresh process each run); raises on a failure."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed")
    return statistics.median(times)


def pipeline(widths: list[int], args) -> dict:
    """Each stage of ``derive --format json`` with values, in this process, and the CLI end to end
    (fresh processes) with and without values."""
    import tempfile

    from symbackprop import derive
    from symbackprop.derive import paused_gc

    name = "-".join(map(str, widths))
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        specs = {}
        for values in (False, True):
            specs[values] = Path(tmp) / f"{name}{'-values' if values else ''}.json"
            specs[values].write_text(json.dumps(network_mapping(widths, values)))
        for values in (False, True):
            target = Path(tmp) / "out.json"
            out["cli_values" if values else "cli"] = wall(cli_command(
                widths, "derive", str(specs[values]), "--format", "json", "-o", str(target), "--force"))
        out["json_mb"] = target.stat().st_size / 1e6
    derive(layered_spec([1, 1])[0])  # load what SymPy and networkx load on first use
    with paused_gc():  # as the CLI runs it
        out["spec"], (spec, _) = timed(lambda: layered_spec(widths, values=True))
        bare, _ = layered_spec(widths)
        out["derive"], _ = timed(lambda: derive(bare))
        out["derive_values"], d = timed(lambda: derive(spec))
        out["to_dict"], result = timed(lambda: d.to_dict())
        out["dumps"], _ = timed(lambda: json.dumps(result, indent=2, ensure_ascii=False))
        if len(spec.parameters) <= args.stage_limit:
            from symbackprop.exact import exact_numbers
            from symbackprop.layers import layer_view, layer_view_dict

            out["layer_view"], _ = timed(lambda: layer_view_dict(layer_view(d)))
            out["exact"], _ = timed(lambda: exact_numbers(d).to_dict())
    out["edges"] = d.network.graph.number_of_edges()
    out["weights"] = len(spec.parameters)
    print(f"  pipeline: cli {out['cli_values']:.2f} s with values, {out['cli']:.2f} s without",
          file=sys.stderr, flush=True)
    return out


# ---------------------------------------------------------------- numeric

def hand_numpy(Ws):
    """A hand-written forward/backward pass, the way one writes it for this network."""
    import numpy as np

    def run(X, T):
        activations = [X]
        for W in Ws:
            activations.append(1.0 / (1.0 + np.exp(-(W @ activations[-1]))))
        A = activations[-1]
        loss = 0.5 * np.sum((T - A) ** 2)
        D = (A - T) * A * (1.0 - A)
        grads = [None] * len(Ws)
        for l in range(len(Ws) - 1, -1, -1):
            grads[l] = D @ activations[l].T
            if l:
                D = (Ws[l].T @ D) * activations[l] * (1.0 - activations[l])
        return loss, np.concatenate([g.ravel() for g in grads])
    return run


def torch_autograd(Ws):
    import torch

    weights = [torch.tensor(W, requires_grad=True) for W in Ws]

    def run(Xt, Tt):
        for W in weights:
            W.grad = None
        A = Xt
        for W in weights:
            A = torch.sigmoid(A @ W.T)
        loss = 0.5 * ((Tt - A) ** 2).sum()
        loss.backward()
        return loss.item(), torch.cat([W.grad.reshape(-1) for W in weights]).numpy()
    return run


def jax_grad(Ws):
    """``jax.jit(jax.value_and_grad(loss))`` on CPU in float64, or None when JAX is absent."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    import jax.numpy as jnp

    def loss(weights, X, T):
        A = X
        for W in weights:
            A = jax.nn.sigmoid(W @ A)
        return 0.5 * jnp.sum((T - A) ** 2)

    step = jax.jit(jax.value_and_grad(loss))
    weights = [jnp.asarray(W) for W in Ws]

    def run(X, T):
        value, grads = step(weights, X, T)
        import numpy as np
        return float(value), np.concatenate([np.asarray(g).ravel() for g in grads])
    return run


MICROGRAD_LIMIT = 600         # weights: largest network timed with micrograd (scalar autograd in Python)


def micrograd_grad(Ws):
    """Karpathy's micrograd (one ``Value`` per scalar), or None when it is absent."""
    try:
        from micrograd.engine import Value
    except ImportError:
        return None
    import numpy as np

    def sigmoid(v):  # micrograd has no exp: the one activation as its own operation
        out = Value(1.0 / (1.0 + math.exp(-v.data)), (v,), "sigmoid")

        def backward():
            v.grad += out.data * (1.0 - out.data) * out.grad
        out._backward = backward
        return out

    def run(X, T):
        weights = [[[Value(float(w)) for w in row] for row in W] for W in Ws]
        total = Value(0.0)
        for p in range(X.shape[1]):
            a = [Value(float(x)) for x in X[:, p]]
            for W in weights:
                a = [sigmoid(sum((w * x for w, x in zip(row, a)), Value(0.0))) for row in W]
            total = total + 0.5 * sum(((float(t) - y) ** 2 for t, y in zip(T[:, p], a)), Value(0.0))
        total.backward()
        return total.data, np.array([w.grad for W in weights for row in W for w in row])
    return run


def lambdified(d, leaves):
    """One ``lambdify`` per expanded gradient (and the expanded loss): the slow path."""
    import sympy as sp

    from symbackprop.functions import NUMPY_FUNCTIONS, numpy_printer

    size = sum(d._expander.size(e.expression) for e in d.gradients.values())
    if size > LAMBDIFY_LIMIT:
        return None, size, 0.0
    start = time.perf_counter()
    printer = numpy_printer()
    loss = sp.lambdify(leaves, d.expanded(d.loss_definition), modules=[NUMPY_FUNCTIONS, "numpy"], printer=printer)
    grads = [sp.lambdify(leaves, d.expanded(e.expression), modules=[NUMPY_FUNCTIONS, "numpy"], printer=printer)
             for e in d.gradients.values()]
    setup = time.perf_counter() - start
    import numpy as np

    def run(values):
        return float(np.sum(loss(*values))), np.array([np.sum(f(*values)) for f in grads])
    return run, size, setup


def numeric(widths: list[int], d) -> dict:
    import numpy as np

    from symbackprop.codegen import numeric_function

    weights = len(d.spec.parameters)
    rng = np.random.default_rng(0)
    setup = {}
    setup["matrix"], matrix = timed(lambda: numeric_function(d))
    scalar = None
    if weights <= SCALAR_LIMIT:
        setup["scalar"], scalar = timed(lambda: numeric_function(d, form="scalar"))
    Ws, offset = [], 0
    theta = np.empty(weights)
    for a, b in zip(widths, widths[1:]):
        block = rng.normal(size=(b, a)) / math.sqrt(a)
        theta[offset:offset + a * b] = block.ravel()
        Ws.append(theta[offset:offset + a * b].reshape(b, a))
        offset += a * b
    hand = hand_numpy(Ws)
    jx = jax_grad(Ws)
    micro = micrograd_grad(Ws) if weights <= MICROGRAD_LIMIT else None
    try:
        import torch
        torch_version = torch.__version__
        if os.environ.get("OMP_NUM_THREADS"):
            torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        tor = torch_autograd(Ws)
    except ImportError:
        torch, torch_version, tor = None, None, None
    g = d.network.graph
    leaves = [g.nodes[n]["symbol"] for n in d.network.leaves()]
    lam, lam_size, setup["lambdify"] = lambdified(d, leaves)
    results = {"setup_seconds": setup, "expanded_size": lam_size, "torch": torch_version, "jax": jx is not None,
               "micrograd": micro is not None,
               "torch_threads": torch.get_num_threads() if torch else None, "batches": {}}
    for batch in BATCHES:
        X = rng.normal(size=(widths[0], batch))
        T = rng.uniform(0.1, 0.9, size=(widths[-1], batch))
        reference_loss, reference_grad = matrix.packed(X, theta, T)
        methods = {"generated": lambda: matrix.packed(X, theta, T)}
        if scalar is not None:
            methods["scalar"] = lambda: scalar.packed(X, theta, T)
        if lam is not None:
            values_by_name = {}
            for i, x in enumerate(d.spec.inputs):
                values_by_name[x] = X[i]
            for k, o in enumerate(d.spec.outputs):
                values_by_name[f"t_{o}"] = T[k]
            values_by_name.update(zip(d.spec.parameters, theta))
            values = [values_by_name[str(s)] for s in leaves]
            methods["lambdify"] = lambda: lam(values)
        methods["numpy"] = lambda: hand(X, T)
        if jx is not None:
            methods["jax"] = lambda: jx(X, T)
        if micro is not None and batch == 1:
            methods["micrograd"] = lambda: micro(X, T)
        if tor is not None:
            Xt, Tt = torch.tensor(X.T.copy()), torch.tensor(T.T.copy())
            methods["torch"] = lambda: tor(Xt, Tt)
        row = {}
        for name, fn in methods.items():
            loss, grad = fn()
            agree = bool(np.isclose(loss, reference_loss, rtol=1e-9)
                         and np.allclose(grad, reference_grad, rtol=1e-8, atol=1e-12))
            row[name] = {"seconds": median_time(fn), "agrees": agree}
            if name == "torch" and torch.get_num_threads() > 1:  # its pool stalls on busy cores: try one thread
                threads = torch.get_num_threads()
                torch.set_num_threads(1)
                single = median_time(fn)
                torch.set_num_threads(threads)
                row[name]["threads"] = threads if row[name]["seconds"] <= single else 1
                row[name]["seconds"] = min(row[name]["seconds"], single)
        results["batches"][str(batch)] = row
        print(f"  batch {batch}: " + ", ".join(f"{k} {v['seconds'] * 1e3:.3f} ms" for k, v in row.items()),
              file=sys.stderr, flush=True)
    return results


def worker(name: str, args) -> dict:
    widths = [int(w) for w in name.split("-")]
    out, d = symbolic(widths, args)
    out["numeric"] = numeric(widths, d)
    out["pipeline"] = pipeline(widths, args)
    return out


# ---------------------------------------------------------------- reporting

def _s(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 100:
        return f"{seconds:.0f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def _mb(mb: float) -> str:
    return f"{mb:.0f}" if mb >= 10 else f"{mb:.2f}"


def _ops(counts: dict) -> str:
    return f"{sum(counts.values()):,}"


def pipeline_table(results: dict[str, dict], startup: dict[str, float]) -> list[str]:
    """The whole pipeline: the CLI end to end, and each stage in µs per edge."""
    lines = ["## The whole pipeline", "",
             f"`symbackprop --help` {_s(startup['help'])}, `--version` {_s(startup['version'])} "
             "(median of 5 fresh processes).", "",
             "`symbackprop derive SPEC --format json -o FILE`, a fresh process each (start-up included); "
             "the spec with values has one example and a learning rate.", "",
             "| network | weights | edges | end to end, no values | with values | with ÷ without | JSON MB |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in results.items():
        if "error" in r:
            continue
        p = r["pipeline"]
        lines.append(f"| {name} | {r['weights']:,} | {p['edges']:,} | {_s(p['cli'])} | {_s(p['cli_values'])} | "
                     f"{p['cli_values'] / p['cli']:.2f}× | {_mb(p['json_mb'])} |")
    stages = [("spec", "spec with values"), ("derive", "derive, no values"),
              ("derive_values", "derive with values"), ("to_dict", "to_dict"), ("dumps", "json.dumps"),
              ("layer_view", "layer view + dict"), ("exact", "exact + dict")]
    lines += ["", "Each stage in one process (µs per edge; seconds in brackets); layer view and exact "
              "÷ the derivation with values in the last columns.", "",
              "| network | " + " | ".join(label for _, label in stages) + " | layer view ÷ derive | exact ÷ derive |",
              "| --- |" + " ---: |" * (len(stages) + 2)]
    for name, r in results.items():
        if "error" in r:
            continue
        p = r["pipeline"]
        cells = [f"{p[k] / p['edges'] * 1e6:.0f} ({_s(p[k])})" if k in p else "—" for k, _ in stages]
        ratios = [f"{p[k] / p['derive_values']:.2f}×" if k in p else "—" for k in ("layer_view", "exact")]
        lines.append(f"| {name} | " + " | ".join(cells + ratios) + " |")
    return lines + [""]


def tables(results: dict[str, dict], args, startup: dict[str, float]) -> str:
    lines = pipeline_table(results, startup) + ["## Symbolic derivation (all weights)", "",
             "| network | weights | edges | spec | cached backprop | µs per edge | peak MB | "
             "paths | path enumeration | naive `sympy.diff` | naive ÷ backprop | ops backprop | ops paths |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |"]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"| {name} | failed: {r['error']} |")
            continue
        if "paths_seconds" in r:
            paths = f"{_s(r['paths_seconds'])}, {_mb(r['paths_mb'])} MB"
        else:
            paths = f"refused (> {args.max_paths:,} paths)"
        naive = r["naive"]
        mark = ">" if naive["lower_bound"] else ("~" if naive["extrapolated"] else "")
        naive_text = (f"{mark}{_s(naive['seconds'])} ({naive['weights_differentiated']} of {r['weights']} "
                      f"weights diffed{', extrapolated' if naive['extrapolated'] else ''})")
        spec = _s(r["spec_seconds"]) + (" *" if r["limit_raised"] else "")
        lines.append(
            f"| {name} | {r['weights']:,} | {r['edges']:,} | {spec} | {_s(r['backprop_seconds'])} | "
            f"{r['backprop_seconds'] / r['edges'] * 1e6:.0f} | {_mb(r['backprop_mb'])} | {r['paths']:,} | {paths} | "
            f"{naive_text} | {mark}{naive['seconds'] / r['backprop_seconds']:,.0f}× | {_ops(r['ops_backprop'])} | "
            f"{_ops(r['ops_paths'])} |")
    lines += ["", "## Numeric loss and gradient (median time; ratios to the generated matrix code)", "",
              "| network | weights | batch | generated | generated scalar | lambdify per gradient | "
              "hand-written NumPy | PyTorch CPU autograd | JAX CPU (jit) | micrograd |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    notes = set()
    for name, r in results.items():
        if "error" in r:
            continue
        n = r["numeric"]
        for batch, row in n["batches"].items():
            base = row["generated"]["seconds"]

            def cell(key, row=row, base=base):
                if key not in row:
                    return "—"
                flag = "" if row[key]["agrees"] else " (DISAGREES)"
                return f"{row[key]['seconds'] / base:.2f}×{flag}"
            lines.append(f"| {name} | {r['weights']:,} | {batch} | {_s(base)} | {cell('scalar')} | "
                         f"{cell('lambdify')} | {cell('numpy')} | {cell('torch')} | {cell('jax')} | "
                         f"{cell('micrograd')} |")
        if not n.get("jax"):
            notes.add("JAX is not installed here: its column is empty (pip install 'jax[cpu]').")
        if not n.get("micrograd"):
            notes.add(f"micrograd: timed up to {MICROGRAD_LIMIT} weights at batch 1 (one Python object per "
                      "scalar); pip install micrograd.")
        if n["torch"] is None:
            notes.add("PyTorch is not installed here: its column is empty.")
        elif any(row.get("torch", {}).get("threads") == 1 for row in n["batches"].values()):
            notes.add("PyTorch: the faster of its default thread count and one thread (on a busy "
                      "2-core machine its thread pool can stall for tens of milliseconds); "
                      + ", ".join(f"{name} batch {b}: {row['torch']['threads']} thread(s)"
                                  for name, r2 in results.items() if "error" not in r2
                                  for b, row in r2["numeric"]["batches"].items() if "torch" in row))
        if "lambdify" not in n["batches"]["1"]:
            notes.add(f"lambdify: skipped where the expanded gradients together exceed {LAMBDIFY_LIMIT:,} "
                      "tree nodes (" + ", ".join(f"{k}: {v['numeric']['expanded_size']:,}"
                                                 for k, v in results.items() if "error" not in v
                                                 and "lambdify" not in v["numeric"]["batches"]["1"]) + ").")
    setup = ", ".join(f"{k}: matrix {_s(v['numeric']['setup_seconds']['matrix'])}"
                      + (f", scalar {_s(v['numeric']['setup_seconds']['scalar'])}"
                         if "scalar" in v["numeric"]["setup_seconds"] else "")
                      for k, v in results.items() if "error" not in v)
    lines += ["", f"Code generation and compilation time — {setup}."]
    if any(r.get("limit_raised") for r in results.values()):
        lines.append("* past the spec limit of 50,000 weights and neurons, raised for the benchmark.")
    lines += [f"- {n}" for n in sorted(notes)]
    return "\n".join(lines) + "\n"


def machine() -> str:
    import numpy
    import sympy
    try:
        import torch
        tv = f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        tv = "torch absent"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, NumPy {numpy.__version__}, SymPy {sympy.__version__}, {tv}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small networks only: " + ", ".join(QUICK))
    parser.add_argument("--networks", help="comma-separated layer widths, e.g. 2-3-2,4-8-4")
    parser.add_argument("--write", action="store_true", help="also write benchmarks/results.md")
    parser.add_argument("--naive-budget", type=float, default=None,
                        help="seconds of sympy.diff per network before extrapolating (default 15, quick 5)")
    parser.add_argument("--max-paths", type=int, default=100_000,
                        help="refuse path enumeration past this many paths (default 100000)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for BLAS and PyTorch (default: their own choice); 1 gives steady "
                             "figures on a machine shared with other work")
    parser.add_argument("--stage-limit", type=int, default=STAGE_LIMIT,
                        help=f"largest network (weights) whose layer view and exact numbers are timed "
                             f"(default {STAGE_LIMIT:,})")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the raw results as JSON")
    args = parser.parse_args(argv)
    if args.naive_budget is None:
        args.naive_budget = 5.0 if args.quick else 15.0
    if args.worker:
        print(json.dumps(worker(args.worker, args)))
        return 0
    networks = args.networks.split(",") if args.networks else (QUICK if args.quick else ALL)
    results: dict[str, dict] = {}
    began = time.perf_counter()
    wall([sys.executable, "-m", "symbackprop", "--help"])  # warm the file cache
    startup = {"help": wall([sys.executable, "-m", "symbackprop", "--help"], runs=5),
               "version": wall([sys.executable, "-m", "symbackprop", "--version"], runs=5)}
    for name in networks:
        print(f"{name} ...", file=sys.stderr, flush=True)
        command = [sys.executable, __file__, "--worker", name, "--naive-budget", str(args.naive_budget),
                   "--max-paths", str(args.max_paths), "--stage-limit", str(args.stage_limit)]
        env = dict(os.environ)
        if args.threads:
            for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                env[variable] = str(args.threads)
        proc = subprocess.run(command, capture_output=True, text=True, env=env)
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            results[name] = {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
            continue
        results[name] = json.loads(proc.stdout)
    elapsed = time.perf_counter() - began
    text = tables(results, args, startup)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(text)
    print(f"total {elapsed:.0f} s", file=sys.stderr)
    if args.write:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        command = "python benchmarks/run.py" + (" --quick" if args.quick else "") + (
            f" --networks {args.networks}" if args.networks else "") + (
            f" --threads {args.threads}" if args.threads else "") + " --write"
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        header = (f"# Benchmark results\n\n`{command}` on {stamp}, {elapsed:.0f} s in all.\n\n"
                  f"Machine: {machine()}" + (f", run with {args.threads} thread(s) for BLAS and PyTorch"
                                             if args.threads else "") + f"; load average {load} when it finished (the machine was "
                  "shared with other work: timings carry that noise).\n\n"
                  "Layered sigmoid networks without biases, loss `half_sse`; each network in a fresh "
                  "process. See `benchmarks/run.py` for what each column measures.\n\n")
        (Path(__file__).parent / "results.md").write_text(header + text, encoding="utf-8")
        print("wrote benchmarks/results.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
