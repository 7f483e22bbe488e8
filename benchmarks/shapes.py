"""Benchmark: derive time of unrolled recurrent networks and 2-D convolutions, against the graph's size.

    python benchmarks/shapes.py            # RNNs (state 8) over 2…20 steps, conv2d 3×3 on 4×4…16×16
    python benchmarks/shapes.py --quick    # the two sizes the issue names: 10 steps, 8×8
    python benchmarks/shapes.py --write    # also writes benchmarks/shapes.md

Each case runs in a fresh Python process (cold SymPy caches) and times ``spec_from_mapping``
(expanding the ``recurrent:``/``conv:`` block included) and ``derive(spec)`` by cached backprop
with numbers (values drawn once with a fixed seed), best of three. "edges" counts the graph's
edges; "µs per edge" is the derive time over that count: constant when the time is linear in edges.

RNN: ``recurrent: {state: 8, inputs: 2, outputs: 2, activation: tanh, loss_at: every}``.
Conv: ``conv2d`` with a 3×3 kernel, stride 1, padding 1, 2 output channels, ReLU, 2×2 max-pool,
flatten and one linear output.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RNN_STEPS = [2, 5, 10, 20]
CONV_SIZES = [4, 8, 12, 16]
QUICK = [("rnn", 10), ("conv", 8)]


def rnn_spec(steps: int) -> dict:
    rng = random.Random(f"rnn:{steps}")
    v = lambda: round(rng.uniform(-0.5, 0.5), 2)   # noqa: E731
    n_h, n_in, n_out = 8, 2, 2
    params = {"W": [[v() for _ in range(n_h)] for _ in range(n_h)], "U": [[v() for _ in range(n_in)] for _ in range(n_h)],
              "V": [[v() for _ in range(n_h)] for _ in range(n_out)], "b": [v() for _ in range(n_h)],
              "c": [v() for _ in range(n_out)]}
    sequence = [{"x": [v() for _ in range(n_in)], "t": [v() for _ in range(n_out)]} for _ in range(steps)]
    return {"name": f"rnn-{steps}", "loss": "half_sse",
            "recurrent": {"state": n_h, "inputs": n_in, "outputs": n_out, "activation": "tanh", "loss_at": "every"},
            "values": {"params": params, "sequence": sequence}}


def conv_spec(size: int) -> dict:
    rng = random.Random(f"conv:{size}")
    v = lambda: round(rng.uniform(-0.9, 0.9), 3)   # noqa: E731
    pooled = (size // 2) ** 2 * 2
    params = {"k1": [[[v() for _ in range(3)] for _ in range(3)] for _ in range(2)], "b1": [v(), v()],
              "w4": [[v() for _ in range(pooled)]], "b4": [v()]}
    return {"name": f"conv-{size}", "loss": "half_sse",
            "conv": {"input": [size, size], "layers": [
                {"conv2d": {"kernel": 3, "padding": 1, "channels": 2, "activation": "relu"}},
                {"max_pool": {"size": 2}}, "flatten", {"dense": {"units": 1}}]},
            "values": {"inputs": {"x": [[v() for _ in range(size)] for _ in range(size)]}, "params": params,
                       "targets": {"y": [v()]}}}


def worker(kind: str, size: int) -> dict:
    from symbackprop import derive, spec_from_mapping

    raw = rnn_spec(size) if kind == "rnn" else conv_spec(size)
    best_spec = best_derive = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        spec = spec_from_mapping(raw)
        middle = time.perf_counter()
        d = derive(spec)
        end = time.perf_counter()
        best_spec, best_derive = min(best_spec, middle - start), min(best_derive, end - middle)
    g = d.network.graph
    return {"kind": kind, "size": size, "nodes": g.number_of_nodes(), "edges": g.number_of_edges(),
            "parameters": len(spec.parameters), "spec": best_spec, "derive": best_derive,
            "warnings": len(d.warnings)}


def run_case(kind: str, size: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", f"{kind}:{size}"], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout)


def table(results: list[dict]) -> str:
    lines = ["| network | parameters | graph nodes | edges | spec | derive | µs per edge | edges ÷ first | time ÷ first |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    first: dict[str, dict] = {}
    for r in results:
        base = first.setdefault(r["kind"], r)
        name = f"RNN, state 8, {r['size']} steps" if r["kind"] == "rnn" else f"conv2d 3×3 on {r['size']}×{r['size']}"
        lines.append(f"| {name} | {r['parameters']:,} | {r['nodes']:,} | {r['edges']:,} | {r['spec'] * 1e3:.1f} ms | "
                     f"{r['derive']:.3f} s | {r['derive'] / r['edges'] * 1e6:.0f} | {r['edges'] / base['edges']:.1f}× | "
                     f"{r['derive'] / base['derive']:.1f}× |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 10-step RNN and the 8×8 conv only")
    parser.add_argument("--write", action="store_true", help="also write benchmarks/shapes.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, size = args.worker.split(":")
        print(json.dumps(worker(kind, int(size))))
        return 0
    cases = QUICK if args.quick else [("rnn", s) for s in RNN_STEPS] + [("conv", s) for s in CONV_SIZES]
    results = [run_case(kind, size) for kind, size in cases]
    text = (f"`python benchmarks/shapes.py{' --quick' if args.quick else ''}`, Python {platform.python_version()}, "
            f"{platform.machine()}; best of three in a fresh process per network (a shared machine: timings carry "
            f"that noise).\n\n{table(results)}\n")
    print(text)
    if args.write:
        (ROOT / "benchmarks" / "shapes.md").write_text("# Recurrent and convolutional networks: derive time\n\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
