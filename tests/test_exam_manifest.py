"""The exam variant manifest: its answers are the checker's exact values, it round-trips, and a
hand-edited file is refused with the key named. (Only this test imports check: exams must not.)"""
from __future__ import annotations

import json

import pytest

from conftest import EXAMPLES
from symbackprop import derive, load_spec, spec_from_mapping
from symbackprop.check import CheckContext, Worksheet
from symbackprop.errors import SpecError
from symbackprop.exams.manifest import (MANIFEST_SUFFIX, build_manifest, load_manifest, manifest_text,
                                        variant_spec)
from symbackprop.exams.variants import Variant

VALUED = sorted(p.stem for p in EXAMPLES.glob("we*.yaml")
                if "lecture-answers" not in p.stem and load_spec(p).has_values)
RANDOMIZE = {"params": {"low": -1, "high": 1, "step": 0.1}}


def own_variant(spec) -> Variant:
    """The spec's own values as variant 1 (no drawing: the manifest alone is under test)."""
    return Variant(1, spec, derive(spec), {})


@pytest.mark.parametrize("stem", VALUED)
def test_every_answer_is_the_checkers_exact_value(stem):
    spec = load_spec(EXAMPLES / f"{stem}.yaml")
    m = build_manifest(spec, [own_variant(spec)], seed=0, questions=None, sig=3)
    ws = Worksheet(CheckContext(derive(spec)))
    answers = m["variants"][0]["answers"]
    assert answers and m["spec_name"] == stem
    variant_kinds = ("delta", "gradient", "update", "step", "after", "after_loss")
    compared = 0
    for name, a in answers.items():
        q = ws.quantities[name]                       # every answer name is a Worksheet key
        if spec.backprop_weights == "updated" and q.kind in variant_kinds:
            continue                                  # the lecture's variant, not the true gradient
        assert a["value"] == pytest.approx(q.exact, rel=1e-9, abs=1e-12), name
        compared += 1
    assert compared >= len(m["questions"][0]["answers"])


def test_the_lecture_variant_answers_are_the_variants_numbers():
    spec = load_spec(EXAMPLES / "we05-221-sigmoid-updated.yaml")
    m = build_manifest(spec, [own_variant(spec)], seed=0, questions=None, sig=3)
    a = m["variants"][0]["answers"]
    assert a["dE_dw_AT"]["value"] == pytest.approx(0.000843, abs=5e-7)   # WE-5's lecture figure


def test_questions_marks_shown_and_tolerance():
    spec = load_spec(EXAMPLES / "we05-221-sigmoid.yaml")
    m = build_manifest(spec, [own_variant(spec)], seed=3, questions="gradients:w_AT,w_TF,loss_after",
                       sig=3, marks={"gradients": 4}, ids=["s123"])
    assert [(q["name"], q["answers"], q["marks"]) for q in m["questions"]] == [
        ("gradients", ["dE_dw_AT", "dE_dw_TF"], 4.0), ("loss_after", ["E_after"], 1.0)]
    v = m["variants"][0]
    assert v["id"] == "s123" and v["values"] == spec.raw["values"]
    # WE-5's lecture figures: dE/dw_AT = 0.000929, dE/dw_TF = 0.0277, E after = 0.0166
    assert {k: (a["shown"], a["tolerance"]) for k, a in v["answers"].items()} == {
        "dE_dw_AT": ("0.000929", 5e-7), "dE_dw_TF": ("0.0277", 5e-5), "E_after": ("0.0166", 5e-5)}


def test_a_marking_tolerance_in_the_spec_wins():
    raw = dict(load_spec(EXAMPLES / "we05-221-sigmoid.yaml").raw)
    raw["marking"] = {"tolerance": {"decimals": 2}}
    spec = spec_from_mapping(raw)
    m = build_manifest(spec, [own_variant(spec)], seed=0, questions="forward", sig=3)
    assert m["variants"][0]["answers"]["out_T"]["tolerance"] == 0.005


def test_data_specs_keep_their_examples():
    spec = load_spec(EXAMPLES / "we12-linreg-m-examples.yaml")
    m = build_manifest(spec, [own_variant(spec)], seed=0, questions=None, sig=3)
    v = m["variants"][0]
    assert v["data"] == spec.raw["data"] and "out_y__2" in v["answers"]


def test_round_trip_and_variant_spec(tmp_path):
    raw = dict(load_spec(EXAMPLES / "we05-221-sigmoid.yaml").raw)
    spec = spec_from_mapping({**raw, "randomize": RANDOMIZE}, file="x/we05-221-sigmoid.yaml")
    from symbackprop.exams.variants import draw_variants

    variants = draw_variants(spec, 3, seed=5)
    m = build_manifest(spec, variants, seed=5, questions=None, sig=3)
    path = tmp_path / f"we05-221-sigmoid{MANIFEST_SUFFIX}"
    path.write_text(manifest_text(m), encoding="utf-8")
    assert load_manifest(path) == m
    assert manifest_text(m) == manifest_text(build_manifest(spec, draw_variants(spec, 3, seed=5), seed=5,
                                                            questions=None, sig=3))
    for v, entry in zip(variants, m["variants"]):
        again = derive(variant_spec(m, entry))
        assert again.numbers.gradients == v.derivation.numbers.gradients
        assert entry["answers"]["E"]["value"] == again.numbers.forward["E"]
    assert variant_spec(m, "v002").params_values == variants[1].spec.params_values
    with pytest.raises(SpecError, match="no variant"):
        variant_spec(m, "nobody")


@pytest.mark.parametrize("edit,key", [
    (lambda m: m.update(format="other"), "format"),
    (lambda m: m.update(version=2), "version"),
    (lambda m: m.pop("seed"), "seed"),
    (lambda m: m["questions"][0].update(marks=-1), "questions[0].marks"),
    (lambda m: m["variants"][0]["answers"].pop("E"), "variants[0].answers"),
    (lambda m: m["variants"][0]["answers"]["E"].update(value="0.5"), "variants[0].answers.E.value"),
    (lambda m: m["variants"][0]["answers"]["E"].update(question="deltas"), "variants[0].answers.E.question"),
    (lambda m: m["variants"][1].update(id="v001"), "variants[1].id"),
    (lambda m: m.update(variants=[]), "variants"),
])
def test_a_hand_edited_manifest_is_refused_naming_the_key(tmp_path, edit, key):
    spec = load_spec(EXAMPLES / "we05-221-sigmoid.yaml")
    v = own_variant(spec)
    m = build_manifest(spec, [v, Variant(2, v.spec, v.derivation, {})], seed=0, questions=None, sig=3)
    edit(m)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(m))
    with pytest.raises(SpecError) as info:
        load_manifest(path)
    assert info.value.key == key and info.value.file == str(path)


def test_not_json_is_one_clear_error(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("{not json")
    with pytest.raises(SpecError, match="not valid JSON"):
        load_manifest(path)
