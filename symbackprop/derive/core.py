"""``derive``: a spec in, the one complete :class:`Derivation` out."""
from __future__ import annotations

import gc
import math
import random
from contextlib import contextmanager
from dataclasses import replace
from typing import Iterator

import sympy as sp

from ..errors import SpecError
from ..graph import Network, build_network
from ..spec import Spec
from ..straightline import evaluate
from .backprop import Adjoints, backprop
from .expand import DEFAULT_LIMIT
from .forms import one_hot_form
from .kinks import kink_warnings
from .numbers import compute_numbers
from .paths import DEFAULT_MAX_PATHS, adjoints_by_paths, path_counts
from .result import DeltaEntry, Derivation, GradientEntry, PathCheck
from .truncation import truncated_note, truncation_cuts

METHODS = ("backprop", "paths")
VARIANT_NOTE = ("backprop_weights: updated - hidden deltas are propagated through the already "
                "updated weights, as the lecture solution does. These are NOT the gradient; the "
                "true gradient is given beside.")


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside (reentrant): a derivation allocates millions of SymPy
    objects that all stay alive, and the collector's full scans of them cost a third of the time
    at 17k weights. Reference counting still frees everything that is not in a cycle.

    >>> with paused_gc():
    ...     gc.isenabled()
    False
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def derive(spec: Spec, method: str = "backprop", *, max_paths: int = DEFAULT_MAX_PATHS,
           expansion_limit: int = DEFAULT_LIMIT, strict_variant: bool = True) -> Derivation:
    """Derive every gradient of ``spec`` by ``method`` (``"backprop"`` or ``"paths"``).

    Everything the outputs show is computed here once: the lecture-form δs and gradients, the
    numbers at the spec's values, the true gradient beside the lecture variant (``.true``), and
    for ``paths`` the agreement of every sum over paths with cached backprop (``.path_check``).

    >>> from symbackprop.spec import spec_from_mapping
    >>> d = derive(spec_from_mapping({"name": "t", "inputs": ["x"],
    ...     "neurons": {"o": {"from": {"x": "w"}, "activation": "identity"}},
    ...     "outputs": ["o"], "loss": "half_sse",
    ...     "values": {"inputs": {"x": 2}, "params": {"w": 0.5}, "targets": {"o": 1}}}))
    >>> d.gradients["w"].expression, d.deltas["o"].expression, d.numbers.gradients["w"]
    (delta_o*x, out_o - t_o, 0.0)

    Raises :class:`SpecError` for a structural mistake, or for ``paths`` past ``max_paths``;
    also where the lecture variant is not defined (a weight used upstream of where it is
    updated) unless ``strict_variant=False``, which then gives the true gradient alone (what the
    checker grades against).
    """
    with paused_gc():
        return _derive(spec, method, max_paths, expansion_limit, strict_variant)


def _derive(spec: Spec, method: str, max_paths: int, expansion_limit: int, strict_variant: bool) -> Derivation:
    if method not in METHODS:
        raise SpecError(f"unknown method '{method}' (choose backprop or paths)", key="method")
    if method == "paths" and spec.backprop_weights == "updated":
        raise SpecError("the lecture variant is a backprop procedure, not a sum over paths; "
                        "use --method backprop", key="backprop_weights")
    if spec.detached and spec.backprop_weights == "updated":
        raise SpecError("give truncate or backprop_weights: updated, not both (each is a variant of "
                        "the gradient)", key="recurrent.truncate")
    network = build_network(spec)
    derivation = _derive_network(network, method, max_paths, expansion_limit, strict_variant)
    if derivation.is_variant or not set(derivation.gradients) >= set(spec.parameters):
        wrt = tuple(dict.fromkeys(list(spec.parameters) + [w for w in spec.wrt if w in spec.inputs]))
        complete = derivation.true
        if complete is None or set(complete.gradients) != set(wrt):
            complete = derive(replace(spec, wrt=wrt, backprop_weights="old", detached=()), "backprop",
                              expansion_limit=expansion_limit)
        derivation = replace(derivation, complete=complete)
    return derivation


def _derive_network(network: Network, method: str, max_paths: int, expansion_limit: int,
                    strict_variant: bool) -> Derivation:
    spec = network.spec
    counts = path_counts(network)
    true = backprop(network)
    if spec.backprop_weights == "updated":
        try:
            variant = backprop(network, through_updated=True, learning_rate=spec.learning_rate)
        except SpecError:
            if strict_variant:
                raise
            return _assemble(network, "backprop", true, counts, expansion_limit)
        true_d = _assemble(network, "backprop", true, counts, expansion_limit)
        return _assemble(network, method, variant, counts, expansion_limit, true=true_d, adjoints=true)
    paths = adjoints_by_paths(network, max_paths=max_paths) if method == "paths" else None
    if spec.detached:  # truncated BPTT: the labelled variant, the true gradient beside it
        cuts = truncation_cuts(network)
        variant = backprop(network, labels=cuts)
        variant_paths = adjoints_by_paths(network, max_paths=max_paths, cut=set(cuts)) if paths else None
        true_d = _assemble(network, method, true, counts, expansion_limit, paths=paths)
        return _assemble(network, method, variant, path_counts(network, frozenset(cuts)), expansion_limit,
                         paths=variant_paths, true=true_d,
                         adjoints=true, note=truncated_note(spec))
    return _assemble(network, method, true, counts, expansion_limit, paths=paths)


def _assemble(network: Network, method: str, shown: Adjoints, counts: dict[str, int], expansion_limit: int,
              *, paths=None, true: Derivation | None = None, adjoints: Adjoints | None = None,
              note: str = VARIANT_NOTE) -> Derivation:
    deltas = {}
    for node, expr in shown.deltas.items():
        key = node.removeprefix("net_")
        simplified, condition = one_hot_form(network, node, expr)
        deltas[key] = DeltaEntry(node=node, key=key, symbol=shown.delta_symbols[node],
                                 expression=paths[0][node] if paths is not None else expr,
                                 simplified=simplified, condition=condition,
                                 paths=tuple(paths[2][node]) if paths is not None else None)
    gradients = {w: GradientEntry(name=w, expression=paths[1][w] if paths is not None else expr,
                                  path_count=counts[w], paths=tuple(paths[2][w]) if paths is not None else None)
                 for w, expr in shown.gradients.items()}
    d = Derivation(network=network, method=method, deltas=deltas, gradients=gradients,
                   updated_definitions=dict(shown.updated), notes=(note,) if true else (),
                   expansion_limit=expansion_limit, adjoints=adjoints or shown,
                   cached=dict(shown.gradients) if paths is not None else None, true=true,
                   rederive=derive)
    if network.spec.has_values:
        numbers = compute_numbers(d, shown)
        if true is not None:
            numbers = replace(numbers, true_deltas=true.numbers.deltas, true_gradients=true.numbers.gradients)
        d = replace(d, numbers=numbers, warnings=kink_warnings(network, numbers.forward))
    if paths is not None:
        d = replace(d, path_check=_path_check(d, shown))
    return d


def _path_check(d: Derivation, cached: Adjoints) -> PathCheck | None:
    """Every gradient's sum over paths against the cached backprop form, in numbers: at the
    spec's values, else at a fixed test point; None where neither can be evaluated."""
    g = d.network.graph
    delta_defs = [(sym, cached.deltas[n]) for n, sym in cached.delta_symbols.items()]
    if d.numbers is not None:
        values = {g.nodes[n]["symbol"]: v for n, v in d.numbers.forward.items() if n in g}
        where = "at the given values"
        leaves = {s: v for s, v in values.items() if s in {g.nodes[n]["symbol"] for n in d.network.leaves()}}
    else:
        rng = random.Random(f"symbackprop-paths:{d.spec.name}")
        leaves = {g.nodes[n]["symbol"]: round(rng.uniform(0.1, 0.9), 2) for n in d.network.leaves()}
        where = "at a test point (inputs, parameters and targets drawn from [0.1, 0.9])"
    definitions = d.network.definitions() + delta_defs
    cached_syms = {w: sp.Symbol(f"cached__{w}") for w in d.gradients}
    definitions += [(cached_syms[w], cached.gradients[w]) for w in d.gradients]
    try:
        values = evaluate(definitions, leaves, [s for s, _ in definitions])
    except SpecError:  # e.g. a log of a negative number at the test point
        return None
    values.update(leaves)
    checked, products = {}, {}
    for name, entry in d.gradients.items():
        products[name] = [math.prod(_value(f, values) for f in t.factors) for t in entry.paths or ()]
        path_sum = math.fsum(products[name])
        value = values[cached_syms[name]]
        if not math.isclose(path_sum, value, rel_tol=1e-8, abs_tol=1e-12):
            raise RuntimeError(f"paths and backprop disagree for {name}: {path_sum} vs {value}")
        checked[name] = value
    return PathCheck(where=where, values=checked, products=products)


def _value(expr: sp.Expr, values: dict[sp.Symbol, float]) -> float:
    return float(expr.xreplace({s: sp.Float(values[s], 30) for s in expr.free_symbols}))
