"""The catalogue of slips: each one a transformation of the correct derivation.

A slip is named only when its transformation *reproduces* the student's answer (for a
symbolic answer: equal at every test point; for a figure of a worked solution: equal within
the rounding the student wrote). When none does, the checker says "no known slip matches" —
it never guesses.

Each :class:`Slip` in :data:`SLIPS` produces :class:`Change` records saying how the
derivation is altered: edge labels replaced (``∂out/∂net`` dropped, a loss derivative
negated, a term of a sum dropped), the whole result scaled, symbols substituted (swapped
weight indices), paths left out, δs propagated through updated weights, or a different
update rule. The same changes serve both checks: :mod:`.answers` runs the backward pass
with them (:meth:`CheckContext.adjoint`) to get the slip's version of a whole answer, and
:mod:`.solution` applies them to one step of a worked solution (one δ, one gradient, one
update) with the student's own earlier figures.

Adding a slip is adding one function and one :func:`register` call.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import sympy as sp

from .context import CheckContext

ANSWER, DELTA, GRADIENT, UPDATE, FORWARD, LOSS = "answer", "delta", "gradient", "update", "forward", "loss"
"""Where a change applies: whole symbolic answers, or one kind of worked-solution step."""


@dataclass(frozen=True)
class Change:
    """One concrete way a slip alters the derivation (see the module docstring)."""

    detail: str
    labels: Mapping[tuple[str, str], sp.Expr] = field(default_factory=dict)
    scale: sp.Expr | None = None
    substitute: Mapping[sp.Symbol, sp.Expr] = field(default_factory=dict)
    drop_paths: tuple[tuple[str, ...], ...] = ()
    updated: bool = False
    update_rule: str | None = None        # "plus": w + η·g; "no_eta": w − g
    applies: frozenset[str] = frozenset({ANSWER, DELTA, GRADIENT})

    def adjust(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` with this change's substitution, then its scale, applied."""
        if self.substitute:
            expr = expr.xreplace(dict(self.substitute))
        return self.scale * expr if self.scale is not None else expr


@dataclass(frozen=True)
class Slip:
    """A named slip: ``changes(ctx, start)`` lists its changes (``start`` is the node an
    answer differentiates, or ``None`` for a worked solution: every change anywhere)."""

    key: str
    title: str
    description: str
    changes: Callable[[CheckContext, str | None], list[Change]]


SLIPS: dict[str, Slip] = {}
"""The registry, in the order slips are tried and reported."""


def register(key: str, title: str, description: str):
    def decorate(fn: Callable[[CheckContext, str | None], Iterable[Change]]):
        SLIPS[key] = Slip(key, title, description, lambda ctx, start: list(fn(ctx, start)))
        return fn
    return decorate


# ----------------------------------------------------------------------------- helpers

def _scope(ctx: CheckContext, start: str | None) -> set[str]:
    return ctx.between(start) if start is not None else set(ctx.relevant)


def _loss_edges(ctx: CheckContext, start: str | None) -> dict[str, list[tuple[str, str]]]:
    """Output (owner) → its edges into the loss (one per example) within scope."""
    scope = _scope(ctx, start)
    out: dict[str, list[tuple[str, str]]] = {}
    for u in ctx.graph.predecessors(ctx.root):
        if u in scope and ctx.kind(u) in ("out", "node"):
            out.setdefault(ctx.graph.nodes[u]["owner"], []).append((u, ctx.root))
    return out


def _reg_edges(ctx: CheckContext, start: str | None) -> list[tuple[str, str]]:
    scope = _scope(ctx, start)
    return [(u, ctx.root) for u in ctx.graph.predecessors(ctx.root) if u in scope and ctx.kind(u) == "param"]


def _neurons(ctx: CheckContext, start: str | None) -> dict[str, list[tuple[str, str]]]:
    """Neuron (owner) → its (net, out) edges within scope, element-wise activations only."""
    scope = _scope(ctx, start)
    out: dict[str, list[tuple[str, str]]] = {}
    for key, net, o in ctx.neuron_nodes():
        if net in scope and o in scope:
            out.setdefault(ctx.graph.nodes[net]["owner"], []).append((net, o))
    return out


def _map_labels(ctx: CheckContext, edges: Iterable[tuple[str, str]],
                fn: Callable[[sp.Expr, str, str], sp.Expr | None]) -> dict[tuple[str, str], sp.Expr]:
    out = {}
    for u, v in edges:
        label = ctx.label(u, v)
        new = fn(label, u, v)
        if new is not None and new != label:
            out[(u, v)] = new
    return out


def _show(expr: sp.Expr) -> str:
    """Plain text, positive terms first and common factors out (``(t_F - out_F)/3``)."""
    expr = sp.factor_terms(expr)
    coeff, inner = expr.as_coeff_Mul()
    if not inner.is_Add:
        return sp.sstr(expr)
    if coeff < 0:
        coeff, inner = -coeff, sp.expand(-inner)
    terms = sorted(inner.args, key=lambda t: t.could_extract_minus_sign())
    text = sp.sstr(sp.Add(*terms, evaluate=False), order="none")
    if coeff == 1:
        return text
    if coeff.is_Rational and coeff.p == 1:
        return f"({text})/{coeff.q}"
    return f"{coeff}*({text})"


def _examples_note(edges: list) -> str:
    return " (in every example)" if len(edges) > 1 else ""


def _sym(ctx: CheckContext, node: str) -> sp.Symbol:
    return ctx.symbol(node)


# ----------------------------------------------------------------------------- the slips

@register("sign", "sign flipped",
          "(t − out) written for (out − t), or the sign of the whole result (or of the update) flipped")
def _sign(ctx: CheckContext, start: str | None):
    loss_edges = _loss_edges(ctx, start)
    several = len(loss_edges) > 1 or bool(_reg_edges(ctx, start))
    for owner, edges in loss_edges.items():
        label = ctx.label(*edges[0])
        yield Change(f"the error term of {owner} has the wrong sign: {_show(sp.expand(-label))} written for "
                     f"{_show(label)}{_examples_note(edges)}",
                     labels={e: -ctx.label(*e) for e in edges})
    if several and len(loss_edges) > 1:
        edges = [e for es in loss_edges.values() for e in es]
        yield Change("every output's error term has the wrong sign ((t − out) written for (out − t))",
                     labels={e: -ctx.label(*e) for e in edges})
    yield Change("the sign of the whole result is flipped", scale=sp.Integer(-1))
    yield Change("the update has the wrong sign: w + η·∂E/∂w instead of w − η·∂E/∂w", update_rule="plus",
                 applies=frozenset({UPDATE}))


@register("factor_two", "factor 2 or ½",
          "a missing or extra factor 2 or ½ (e.g. the ½ of E = ½(t − out)² or the 2 of its derivative)")
def _factor_two(ctx: CheckContext, start: str | None):
    every = frozenset({ANSWER, DELTA, GRADIENT, LOSS})
    yield Change("twice the correct value (a factor 2 too many, e.g. the ½ of E = ½(t − out)² dropped)",
                 scale=sp.Integer(2), applies=every)
    yield Change("half the correct value (a factor 2 missing, e.g. the 2 from d/dout (t − out)² dropped)",
                 scale=sp.Rational(1, 2), applies=every)
    reg = _reg_edges(ctx, start)
    data = [e for es in _loss_edges(ctx, start).values() for e in es]
    if reg and data:
        for factor, text in ((2, "twice"), (sp.Rational(1, 2), "half")):
            yield Change(f"the data term is {text} what it should be (the regularisation term is right)",
                         labels={e: factor * ctx.label(*e) for e in data})
        for factor, text in ((sp.Rational(1, 2), "λw instead of 2λw"), (2, "4λw instead of 2λw")):
            yield Change(f"the regularisation term is {text}", labels={e: factor * ctx.label(*e) for e in reg})


@register("missing_fprime", "activation derivative f′ missing",
          "a neuron's f′(net) (e.g. out(1 − out) for a sigmoid) left out of the chain")
def _missing_fprime(ctx: CheckContext, start: str | None):
    neurons = _neurons(ctx, start)
    found = {}
    for owner, edges in neurons.items():
        labels = _map_labels(ctx, edges, lambda lab, u, v: sp.Integer(1))
        if labels:
            found[owner] = labels
            yield Change(f"the activation derivative of {owner}, {_show(ctx.label(*edges[0]))}, is missing"
                         f"{_examples_note(edges)}", labels=labels, applies=frozenset({ANSWER, DELTA}))
    if len(found) > 1:
        yield Change("every activation derivative f′ is missing",
                     labels={e: l for labels in found.values() for e, l in labels.items()})


@register("fprime_as_activation", "f′ written as σ(net) instead of out(1 − out)",
          "the activation itself used for its derivative: σ(net) = out for σ′ = out(1 − out), tanh(net) for 1 − tanh²")
def _fprime_as_activation(ctx: CheckContext, start: str | None):
    found = {}
    for owner, edges in _neurons(ctx, start).items():
        act = ctx.activation(edges[0][0].removeprefix("net_"))
        if act not in ("sigmoid", "tanh"):
            continue
        labels = {(u, v): _sym(ctx, v) for u, v in edges}
        found[owner] = labels
        name = "σ" if act == "sigmoid" else "tanh"
        yield Change(f"{name}′(net_{owner}) written as {name}(net_{owner}) = out_{owner} instead of "
                     f"{_show(ctx.label(*edges[0]))}{_examples_note(edges)}", labels=labels,
                     applies=frozenset({ANSWER, DELTA}))
    if len(found) > 1:
        yield Change("every f′ written as the activation itself (σ(net) for out(1 − out))",
                     labels={e: l for labels in found.values() for e, l in labels.items()})


def _out_to_net(ctx: CheckContext) -> dict[sp.Symbol, sp.Symbol]:
    """out_X → net_X for neurons whose activation is not the identity."""
    out = {}
    for key, net, o in ctx.neuron_nodes():
        if ctx.activation(key) != "identity":
            out[_sym(ctx, o)] = _sym(ctx, net)
    return out


@register("net_for_out", "net used where out belongs",
          "net_X written for out_X: in f′ (net(1 − net)), as a neuron's output fed forward, or in the error term")
def _net_for_out(ctx: CheckContext, start: str | None):
    swap = _out_to_net(ctx)
    if not swap:
        return
    found = {}
    for owner, edges in _neurons(ctx, start).items():
        labels = _map_labels(ctx, edges, lambda lab, u, v: lab.xreplace(swap))
        if labels:
            found[owner] = labels
            first = next(iter(labels))
            yield Change(f"f′ of {owner} written with net for out: {_show(labels[first])} instead of "
                         f"{_show(ctx.label(*first))}", labels=labels, applies=frozenset({ANSWER, DELTA}))
    if len(found) > 1:
        yield Change("every f′ written with net for out", labels={e: l for ls in found.values() for e, l in ls.items()})
    scope = _scope(ctx, start)
    params = [start] if start is not None and ctx.kind(start) in ("param", "input") else [
        n for n in ctx.graph if ctx.kind(n) == "param"]
    for p in params:
        edges = [(p, v) for v in ctx.graph.successors(p) if v in scope and v != ctx.root]
        labels = _map_labels(ctx, edges, lambda lab, u, v: lab.xreplace(swap))
        if labels:
            first = next(iter(labels))
            yield Change(f"∂{ctx.node_text(first[1])}/∂{p} taken as {_show(labels[first])} instead of "
                         f"{_show(ctx.label(*first))} (net for out)", labels=labels,
                         applies=frozenset({ANSWER, GRADIENT}))
    for owner, edges in _loss_edges(ctx, start).items():
        labels = _map_labels(ctx, edges, lambda lab, u, v: lab.xreplace(swap))
        if labels:
            first = next(iter(labels))
            yield Change(f"the error term of {owner} written with net for out: {_show(labels[first])}",
                         labels=labels, applies=frozenset({ANSWER, DELTA}))
    yield Change("net used for out as a neuron's output fed forward", substitute=swap,
                 applies=frozenset({FORWARD}))
    if start is not None:
        yield Change("net written for out throughout", substitute=swap, applies=frozenset({ANSWER}))


@register("out_for_net", "out used where net belongs",
          "out_X written for net_X, e.g. f′ evaluated at out: σ(out)(1 − σ(out)) or ReLU′(out)")
def _out_for_net(ctx: CheckContext, start: str | None):
    from ..functions import sigmoid

    for owner, edges in _neurons(ctx, start).items():
        act = ctx.activation(edges[0][0].removeprefix("net_"))
        if all(_sym(ctx, u) in ctx.label(u, v).free_symbols for u, v in edges):
            labels = _map_labels(ctx, edges, lambda lab, u, v: lab.xreplace({_sym(ctx, u): _sym(ctx, v)}))
            if labels:
                yield Change(f"f′ of {owner} evaluated at out_{owner} instead of net_{owner}: "
                             f"{_show(labels[edges[0]])}", labels=labels, applies=frozenset({ANSWER, DELTA}))
        elif act in ("sigmoid", "tanh"):
            def at_out(lab, u, v):
                o = _sym(ctx, v)
                return sigmoid(o) * (1 - sigmoid(o)) if act == "sigmoid" else 1 - sp.tanh(o) ** 2
            labels = _map_labels(ctx, edges, at_out)
            yield Change(f"f′ of {owner} evaluated at out_{owner} instead of net_{owner}: "
                         f"{_show(labels[edges[0]])}", labels=labels, applies=frozenset({ANSWER, DELTA}))


@register("swapped_indices", "weight indices swapped",
          "w_ij used for w_ji (the transposed weight: w_TA for w_AT, w2_3_1 for w2_1_3)")
def _swapped_indices(ctx: CheckContext, start: str | None):
    partners = ctx.partners
    if not partners:
        return
    names = ctx.answer_names
    full = {sp.Symbol(p): names.get(q, sp.Symbol(q)) for p, q in partners.items()}
    scope_symbols = None
    if start is not None:
        expr = ctx.adjoint(start)
        scope_symbols = expr.free_symbols
    used = [p for p in full if scope_symbols is None or p in scope_symbols]
    applies = frozenset({ANSWER, DELTA, FORWARD})
    for p in used:
        yield Change(f"{p} written as {partners[str(p)]} (indices swapped)", substitute={p: full[p]},
                     applies=applies)
    groups: dict[str, list[sp.Symbol]] = {}
    for p in used:  # δ_u = f′·Σ_v w_uv·δ_v written with w_vu: the weights out of one node
        groups.setdefault(ctx.weight_edges[str(p)][0][0], []).append(p)
    for source, ps in groups.items():
        if 1 < len(ps) < len(used):
            yield Change(f"the weights out of {source} written with their indices swapped (" +
                         ", ".join(f"{partners[str(p)]} for {p}" for p in ps[:4]) + (", …)" if len(ps) > 4 else ")"),
                         substitute={p: full[p] for p in ps}, applies=applies)
    if len(used) > 1:
        yield Change("every weight written with its indices swapped (" +
                     ", ".join(f"{partners[str(p)]} for {p}" for p in used[:4]) + (", …)" if len(used) > 4 else ")"),
                     substitute={p: full[p] for p in used}, applies=applies)


@register("swapped_entries", "entries swapped",
          "the gradient, step or update of w_ji written under w_ij (a worked solution's figures; "
          "found by comparing the figure with its partner's value, so it has no change of its own)")
def _swapped_entries(ctx: CheckContext, start: str | None):
    return ()


def _describe_paths(ctx: CheckContext, removed: list[tuple[str, ...]], total: int) -> str:
    def show(path):
        return " → ".join(ctx.node_text(n) for n in path)
    if len(removed) == 1:
        return f"the path {show(removed[0])} is missing from the sum ({total} paths)"
    listed = "; ".join(show(p) for p in removed[:3]) + ("; …" if len(removed) > 3 else "")
    return f"{len(removed)} of the {total} paths are missing from the sum: {listed}"


@register("missing_path", "a path missing from the sum",
          "a term of the multivariate chain rule left out: one successor's δ, one path, one example")
def _missing_path(ctx: CheckContext, start: str | None):
    g = ctx.graph
    scope = _scope(ctx, start)
    paths = ctx.paths(start, 256) if start is not None else None
    seen: set[frozenset] = set()
    for u in ctx.order:
        if u not in scope or u == ctx.root or ctx.kind(u) == "target":
            continue
        successors = [v for v in g.successors(u) if v in scope or v == ctx.root]
        if ctx.kind(u) == "param":
            successors = [v for v in successors if v != ctx.root]  # the L2 term: missing_regulariser
        if len(successors) < 2:
            continue
        for v in successors:
            labels = {(u, v): sp.Integer(0)}
            if paths is not None:
                removed = [p for p in paths if any(p[i] == u and p[i + 1] == v for i in range(len(p) - 1))]
                if not removed or len(removed) == len(paths):
                    continue
                seen.add(frozenset(removed))
                detail = _describe_paths(ctx, removed, len(paths))
            else:
                example = g.nodes[v].get("example")
                if ctx.kind(u) == "param" and example is not None:
                    detail = f"example {example}'s term is missing from the sum over the examples"
                else:
                    detail = f"the term through {ctx.node_text(v)} is missing from the sum at {ctx.node_text(u)}"
            yield Change(detail, labels=labels, applies=frozenset({ANSWER, DELTA, GRADIENT}))
    if paths is not None and 2 <= len(paths) <= 64:
        for p in paths:
            if frozenset([p]) in seen:
                continue
            yield Change(_describe_paths(ctx, [p], len(paths)), drop_paths=(p,), applies=frozenset({ANSWER}))


@register("missing_regulariser", "regularisation term missing",
          "the penalty's 2λw left out of ∂E/∂w")
def _missing_regulariser(ctx: CheckContext, start: str | None):
    for e in _reg_edges(ctx, start):
        if start is None or e[0] == start:
            yield Change(f"the regularisation term {_show(ctx.label(*e))} of ∂E/∂{e[0]} is missing",
                         labels={e: sp.Integer(0)}, applies=frozenset({ANSWER, GRADIENT}))


@register("updated_weights", "updated instead of old weights",
          "δs propagated backwards through the already-updated weights w − η·∂E/∂w instead of the old ones "
          "(the lecture solutions of WE-5 and WE-6)")
def _updated_weights(ctx: CheckContext, start: str | None):
    if ctx.learning_rate is None:
        return
    yield Change("the δ was propagated through the already-updated weights (w − η·∂E/∂w) instead of the old ones",
                 updated=True, applies=frozenset({ANSWER, DELTA}))


@register("mean_factor", "factor 1/N of the mean",
          "with reduction: mean, the 1/N missing or applied twice")
def _mean_factor(ctx: CheckContext, start: str | None):
    n = ctx.examples
    if ctx.spec.reduction != "mean" or n < 2:
        return
    every = frozenset({ANSWER, DELTA, GRADIENT, LOSS})
    yield Change(f"the 1/N of the mean (N = {n}) is missing", scale=sp.Integer(n), applies=every)
    yield Change(f"the 1/N of the mean (N = {n}) is applied twice", scale=sp.Rational(1, n), applies=every)


@register("learning_rate", "learning rate left out",
          "the update w − ∂E/∂w written without η")
def _learning_rate(ctx: CheckContext, start: str | None):
    if ctx.learning_rate is None or ctx.learning_rate == 1:
        return
    yield Change("the update is w − ∂E/∂w: the learning rate η is left out", update_rule="no_eta",
                 applies=frozenset({UPDATE}))


def _shared_uses(ctx: CheckContext, p: str, scope: set[str]) -> dict[object, list[str]]:
    """A parameter's uses (the nodes it feeds, not the L2 term), grouped by example, in order."""
    position = {n: i for i, n in enumerate(ctx.order)}
    uses: dict[object, list[str]] = {}
    for v in sorted((v for v in ctx.graph.successors(p) if v in scope and v != ctx.root), key=position.get):
        uses.setdefault(ctx.graph.nodes[v].get("example"), []).append(v)
    return uses


@register("truncated_sum", "shared weight summed over the last uses only",
          "a shared weight's gradient summed over only the last time step(s) (BPTT truncated) or the last "
          "kernel position(s), instead of over every use")
def _truncated_sum(ctx: CheckContext, start: str | None):
    raw = ctx.spec.raw or {}
    what = "time step" if "recurrent" in raw else "kernel position" if "conv" in raw else "use"
    scope = _scope(ctx, start)
    params = [start] if start is not None and ctx.kind(start) == "param" else [
        n for n in ctx.order if ctx.kind(n) == "param" and n in scope]
    for p in params:
        uses = _shared_uses(ctx, p, scope)
        n = min((len(u) for u in uses.values()), default=0)
        for kept in range(1, n):
            labels = {(p, v): sp.Integer(0) for vs in uses.values() for v in vs[:len(vs) - kept]}
            last = "the last " + (what if kept == 1 else f"{kept} {what}s")
            yield Change(f"∂E/∂{p} summed over only {last} of its {n}{_examples_note(list(uses))}: "
                         f"the terms through " + ", ".join(ctx.node_text(v) for vs in uses.values()
                                                           for v in vs[:len(vs) - kept][:4])
                         + (", …" if n - kept > 4 else "") + " are missing",
                         labels=labels, applies=frozenset({ANSWER, GRADIENT}))
