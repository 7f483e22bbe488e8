"""What every document starts with: title, header data, the network picture and its equations."""
from __future__ import annotations

from typing import Iterable

from ..derive import Derivation
from ..graph import NodeKind
from ..latex import latex_name
from .options import RenderOptions
from .texmath import LINE_WIDTH, Namer, fmt_given, l2_tex, visual_width
from .tikz import network_picture
from .view import (
    LOSS_TEXT,
    VARIANT_WORDS,
    View,
    activation_rows,
    per_example_tex,
)


def document_front(d: Derivation, kind: str, *, tagline: str = "", remarks: Iterable[dict] = ()) -> dict:
    spec = d.spec
    remarks = list(remarks)
    if d.is_variant:
        words = VARIANT_WORDS[d.variant_kind]
        remarks.insert(0, {"heading": words["heading"], "text": words["text"]})
    return {"name": spec.name, "title": spec.title or spec.name, "kind": kind, "tagline": tagline,
            "description": spec.description, "remarks": remarks, "subtitle": spec.subtitle,
            "course": spec.course, "sheet": spec.sheet, "notes": [], "edition": "student"}


def finish_front(doc: dict, spec, options: RenderOptions) -> dict:
    """The edition's title block and running header: a student's edition carries the title, the
    subtitle and the course/sheet header only; the instructor's adds the spec's description and
    notes. The CLI's ``--course``/``--sheet`` win over the spec's."""
    doc.update(course=options.course or spec.course, sheet=options.sheet or spec.sheet,
               edition=options.edition)
    notes = [text for text in (doc.get("description", ""), spec.notes) if text] if options.instructor else []
    doc.update(description="", notes=notes)
    return doc


def network_context(view: View, values: dict[str, str] | None = None) -> dict:
    """The network's picture (``values``: parameter → number shown on its edges) and its facts."""
    spec = view.spec
    loss = ""
    if spec.objective is None:
        loss = LOSS_TEXT.get(spec.loss or "", "the expression below")
    hidden = [n for n in spec.neurons if n not in spec.outputs]
    picture = network_picture(view.network, values=values)
    layered = spec.layered_shorthand
    if layered and not picture["labelled"]:
        picture["weights"] = []
    parts = [(text, names) for text, names in (
        ("inputs" if len(spec.inputs) != 1 else "input", spec.inputs),
        ("node parameters" if len(_node_params(view)) != 1 else "node parameter", _node_params(view)),
        ("hidden neurons" if len(hidden) != 1 else "hidden neuron", hidden),
        ("output neurons" if len(spec.outputs) != 1 else "output neuron", [o for o in spec.outputs if o in spec.neurons]),
        ("expression nodes" if len(spec.nodes) != 1 else "expression node", list(spec.nodes)),
    ) if names]
    return {
        "picture": picture,
        "layered": layered,
        "parts": [{"text": text, "names": ", ".join(f"${latex_name(n)}$" for n in names)} for text, names in parts],
        "loss_formula": _loss_formula(view),
        "inputs": ", ".join(latex_name(n) for n in spec.inputs),
        "hidden": ", ".join(latex_name(n) for n in hidden),
        "outputs": ", ".join(latex_name(n) for n in spec.outputs if n in spec.neurons),
        "nodes": ", ".join(latex_name(n) for n in spec.nodes),
        "objective": latex_name(view.network.root) if spec.objective else "",
        "activations": activation_rows(spec),
        "loss_text": loss,
        "loss_symbol": view.loss,
        "examples": view.N if view.generic else 0,
        "reduction": spec.reduction,
        "l2": l2_tex(spec),
        "l2_biases": spec.l2_include_biases,
        "learning_rate": fmt_given(spec.learning_rate, 6) if spec.learning_rate is not None else "",
        "lr": view.lr,
        "target": view.target,
        "variant": view.d.is_variant,
        "wrt": ", ".join(latex_name(w) for w in view.d.gradients),
    }


def _node_params(view: View) -> list[str]:
    g = view.g
    return [p for p in view.spec.parameters if any(g.nodes[v]["kind"] == NodeKind.NODE for v in g.successors(p))]


def _loss_formula(view: View) -> str:
    """The per-example loss inline (``E = ½(t − out)²``, or ``E⁽ⁿ⁾ = …`` with data), when short."""
    spec = view.spec
    if spec.objective is not None:
        return ""
    if view.generic:
        text = f"{latex_name(view.d.loss_name + '__n')} = {per_example_tex(view, '__1', Namer(True))}"
    else:
        text = f"{view.loss} = {per_example_tex(view, '', Namer(False))}"
    return text if visual_width(text) < LINE_WIDTH * 0.7 else ""
