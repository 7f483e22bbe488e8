"""The network picture's layout (symbackprop.render.tikz) without running TeX: where labels sit,
what they say, the within-column order, and that the output is deterministic."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from conftest import EXAMPLES, EXAMPLE_SPECS, derivation, ids
from symbackprop.render.options import RenderOptions
from symbackprop import derive, spec_from_mapping
from symbackprop.cli.render import documents
from symbackprop.render import tikz
from symbackprop.render.texmath import fmt_given
from symbackprop.spec import load_spec

WE5 = EXAMPLES / "we05-221-sigmoid.yaml"
WE7C = EXAMPLES / "we07c-softmax-ce.yaml"
LABELLED = [p for p in EXAMPLE_SPECS if tikz.network_picture(derivation(str(p)).network)["labelled"]]


def spec_values(path: Path) -> dict[str, str]:
    return {p: fmt_given(v, 6) for p, v in (load_spec(path).params_values or {}).items()}


def label_boxes(pic: dict) -> list[tuple[float, float, float, float]]:
    """The boxes (cm) of every edge and bias label of a picture, from its own coordinates."""
    size = tikz.FONT_PT[pic["font"]]
    xu, yu = float(pic["x_unit"]), float(pic["y_unit"])
    spots = [(e["label"], e["x"], e["y"]) for e in pic["edges"] if e["label"]]
    spots += [(n["bias"], n["bias_x"], n["bias_y"]) for n in pic["nodes"] if n["bias"]]
    return [tikz._label_box(text, size, float(x) * xu, float(y) * yu) for text, x, y in spots]


def node_boxes(pic: dict) -> list[tuple[tuple[float, float, float, float], bool]]:
    xu, yu = float(pic["x_unit"]), float(pic["y_unit"])
    out = []
    for n in pic["nodes"]:
        hw, hh, round_ = tikz._node_half(n["kind"], n["label"])
        out.append(((float(n["x"]) * xu, float(n["y"]) * yu, hw, hh), round_))
    return out


def covers(node: tuple[float, float, float, float], round_: bool, box: tuple[float, float, float, float]) -> bool:
    """Whether a node's outline (a circle when ``round_``) overlaps a label box (no clearance)."""
    dx = max(abs(node[0] - box[0]) - box[2] - (0 if round_ else node[2]), 0.0)
    dy = max(abs(node[1] - box[1]) - box[3] - (0 if round_ else node[3]), 0.0)
    return dx * dx + dy * dy < (node[2] ** 2 if round_ else 1e-12)


@pytest.mark.parametrize("path", EXAMPLE_SPECS, ids=ids(EXAMPLE_SPECS))
def test_the_picture_is_deterministic(path):
    first = tikz.network_picture(derive(load_spec(path)).network, values=spec_values(path))
    again = tikz.network_picture(derive(load_spec(path)).network, values=spec_values(path))
    assert first == again


def test_the_document_tex_is_byte_identical():
    first = documents(WE7C, "derivation", "backprop", RenderOptions(), None, 0)
    assert first == documents(WE7C, "derivation", "backprop", RenderOptions(), None, 0)


@pytest.mark.parametrize("with_values", [False, True], ids=["names", "values"])
@pytest.mark.parametrize("path", LABELLED, ids=ids(LABELLED))
def test_labels_keep_apart_and_off_the_nodes(path, with_values):
    pic = tikz.network_picture(derivation(str(path)).network, values=spec_values(path) if with_values else None)
    boxes = label_boxes(pic)
    for a, b in itertools.combinations(boxes, 2):
        assert ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5 >= 2 * max(a[3], b[3]), (a, b)
        assert not tikz._boxes_meet(a, b)
    for box in boxes:
        assert not any(covers(n, round_, box) for n, round_ in node_boxes(pic))


@pytest.mark.parametrize("path", LABELLED, ids=ids(LABELLED))
def test_labels_sit_towards_the_source(path):
    pic = tikz.network_picture(derivation(str(path)).network)
    spots = [float(e["pos"]) for e in pic["edges"] if e["label"]]
    assert max(spots) <= max(tikz.LABEL_POSITIONS)
    assert sum(p <= 0.35 for p in spots) >= len(spots) / 2


@pytest.mark.parametrize("path", LABELLED, ids=ids(LABELLED))
def test_no_edge_runs_through_a_label_on_the_small_examples(path):
    """Where the picture leaves room (few edges), no other edge is hidden under a label."""
    pic = tikz.network_picture(derivation(str(path)).network)
    if len(pic["edges"]) > 10:
        pytest.skip("dense picture: labels may have to sit near other edges")
    xu, yu = float(pic["x_unit"]), float(pic["y_unit"])
    at = {n["id"]: (float(n["x"]) * xu, float(n["y"]) * yu) for n in pic["nodes"]}
    size = tikz.FONT_PT[pic["font"]]
    for e in pic["edges"]:
        if not e["label"]:
            continue
        box = tikz._label_box(e["label"], size, float(e["x"]) * xu, float(e["y"]) * yu)
        others = [(at[o["source"]], at[o["target"]]) for o in pic["edges"] if o is not e]
        hidden = [seg for seg in others if tikz._line_meets(seg, box)
                  and not {seg[0], seg[1]} & {at[e["source"]], at[e["target"]]}]
        assert not hidden, e


def test_the_crowded_lecture_pictures_put_no_label_on_another_edge():
    """WE-4 (W_λB used to sit on a crossing) and WE-7c (v₁₂): every label clear of every other edge."""
    for path in (EXAMPLES / "we04-232-symbolic.yaml", WE7C):
        pic = tikz.network_picture(derivation(str(path)).network)
        xu, yu = float(pic["x_unit"]), float(pic["y_unit"])
        centre = {n["id"]: (float(n["x"]) * xu, float(n["y"]) * yu) for n in pic["nodes"]}
        size = tikz.FONT_PT[pic["font"]]
        for e in pic["edges"]:
            if e["label"]:
                box = tikz._label_box(e["label"], size, float(e["x"]) * xu, float(e["y"]) * yu)
                through = [o for o in pic["edges"] if o is not e and o["source"] != e["source"]
                           and tikz._line_meets((centre[o["source"]], centre[o["target"]]), box)]
                assert not through, (e["label"], [o["label"] for o in through])


def test_label_fonts_are_at_least_8pt():
    assert set(tikz.FONT_PT) <= {r"\footnotesize", r"\scriptsize"}
    assert min(tikz.FONT_PT.values()) >= 8
    drawn = [pic for pic in (tikz.network_picture(derivation(str(p)).network) for p in EXAMPLE_SPECS)
             if pic["drawn"]]
    assert len(drawn) >= 20
    for pic in drawn:   # a network too large to draw (conv2d-4x4) has no picture and no font
        assert pic["font"] in tikz.FONT_PT
    macro = (Path(__file__).parent.parent / "templates" / "macros.tex.j2").read_text()
    picture = macro[macro.index("macro picture(net)"):macro.index("endmacro")]
    assert r"\tiny" not in picture


def test_bias_labels_are_inside_the_softmax_frame_and_off_every_node():
    pic = tikz.network_picture(derivation(str(WE7C)).network)
    biased = [n for n in pic["nodes"] if n["bias"]]
    assert [n["bias"] for n in biased] == [r"+\,c_{1}", r"+\,c_{2}", r"+\,c_{3}"]
    members = pic["groups"][0]["members"]
    assert all(f"({n['id']}b)" in members and f"({n['id']})" in members for n in biased)
    nodes = node_boxes(pic)
    for box in label_boxes(pic):
        assert not any(covers(n, round_, box) for n, round_ in nodes)


def test_bias_label_leaves_the_lines_alone_where_it_can():
    """WE-3's output bias ``+ b_o`` sits below o, clear of the edges into o."""
    pic = tikz.network_picture(derivation(str(EXAMPLES / "we03-three-formulas.yaml")).network)
    (o,) = [n for n in pic["nodes"] if n["bias"]]
    assert o["bias"] == r"+\,b_{o}" and float(o["bias_y"]) < float(o["y"])


def test_values_label_the_edges():
    network = derivation(str(WE5)).network
    plain = tikz.network_picture(network)
    assert [e["label"] for e in plain["edges"]][:2] == ["w_{AT}", "w_{AB}"]
    assert tikz.network_picture(network, values={}) == plain
    valued = tikz.network_picture(network, values={"w_AT": "0.3"})
    labels = [e["label"] for e in valued["edges"]]
    assert labels[0] == "w_{AT} = 0.3" and "= 0.3" in labels[0]
    assert labels[1] == "w_{AB}"  # no value given: the name stays


def test_crowded_values_show_the_bare_numbers():
    pic = tikz.network_picture(derivation(str(WE7C)).network, values=spec_values(WE7C))
    labels = [e["label"] for e in pic["edges"] if e["label"]]
    assert labels[:3] == ["0.3", "0.6", "-0.8"]
    assert [n["bias"] for n in pic["nodes"] if n["bias"]] == [r"+\,0.1", r"-\,0.2", r"+\,0.05"]


def test_roomy_values_keep_the_names():
    pic = tikz.network_picture(derivation(str(WE5)).network, values=spec_values(WE5))
    assert [e["label"] for e in pic["edges"] if e["label"]][0] == "w_{AT} = 0.1"


def test_values_reach_the_parameter_nodes():
    spec = spec_from_mapping({"name": "p", "inputs": ["x"], "params": ["w"], "nodes": {"S": "w*x"},
                              "objective": "S"})
    pic = tikz.network_picture(derive(spec).network, values={"w": "0.5"})
    assert "w = 0.5" in [n["label"] for n in pic["nodes"]]


def general_graph():
    """Inputs x, y, z: A = x z and B = y tie on the first pass (spec order A, B), which crosses
    z → A with y → B; putting z before y (an up sweep) uncrosses them."""
    spec = spec_from_mapping({"name": "g", "inputs": ["x", "y", "z"], "wrt": ["x"],
                              "nodes": {"A": "x*z", "B": "sin(y)", "C": "A + B"}, "objective": "C"})
    return derive(spec).network


def test_crossings_are_counted():
    order = {0: ["a", "b"], 1: ["c", "d"]}
    column = {"a": 0, "b": 0, "c": 1, "d": 1}
    assert tikz._crossings(order, column, [("a", "d"), ("b", "c")]) == 1
    assert tikz._crossings(order, column, [("a", "c"), ("b", "d")]) == 0


def _first_pass(network):
    """The picture's columns, its edges as (source, target) and the first barycentre pass's order."""
    entities, edges = tikz._entities(network)
    column = tikz._columns(entities, edges)
    by_column: dict[int, list[str]] = {}
    for e in entities:
        by_column.setdefault(column[e], []).append(e)
    return column, [(a, b) for a, b, *_ in edges], tikz._first_order(by_column, edges)


def test_sweeps_remove_crossings_the_first_pass_leaves():
    column, links, first = _first_pass(general_graph())
    better = tikz._order(first, column, links)
    assert tikz._crossings(first, column, links) > 0
    assert tikz._crossings(better, column, links) == 0
    assert tikz._order(first, column, links) == better  # deterministic


@pytest.mark.parametrize("path", EXAMPLE_SPECS, ids=ids(EXAMPLE_SPECS))
def test_the_order_never_has_more_crossings_than_the_first_pass(path):
    column, links, first = _first_pass(derivation(str(path)).network)
    assert tikz._crossings(tikz._order(first, column, links), column, links) <= tikz._crossings(first, column, links)


def test_layered_networks_keep_the_spec_order():
    """A fully connected layer gains nothing from reordering: h1, h2, h3 stay top to bottom."""
    pic = tikz.network_picture(derivation(str(EXAMPLES / "we13-relu-3layer.yaml")).network)
    hidden = [n for n in pic["nodes"] if n["column"] == 1]
    assert [n["label"] for n in sorted(hidden, key=lambda n: -float(n["y"]))] == [
        "h^{(1)}_{1}", "h^{(1)}_{2}", "h^{(1)}_{3}"]
