"""``symbackprop exam``: drawing (plans, rules, rosters), the books, the key, the manifest, the
stress test and the command's contract (deterministic, all or nothing, one-line errors).

Independent checks: a conv/max-pool variant is tested for ties by one-sided finite differences
of the oracle in tests/shapes_reference.py (not by the tool's own kink finder); answers are
compared with each variant's Derivation numbers and the CSV with the manifest.
"""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

import shapes_reference
from conftest import EXAMPLES, runner
from symbackprop import derive, load_spec, spec_from_mapping
from symbackprop.cli.exam import exam_command, parse_marks
from symbackprop.cli.render import render_command
from symbackprop.errors import SpecError
from symbackprop.exams.manifest import load_manifest
from symbackprop.exams.randomize import GENERIC_TITLE, Grid, OneHot, draw_plan, exam_title, leaves
from symbackprop.exams.rules import RULES, Candidate, rejections
from symbackprop.exams.stress import near_boundary, stress
from symbackprop.exams.variants import DrawLog, draw_variants

WE5 = EXAMPLES / "we05-221-sigmoid.yaml"
VALUED = sorted(p.stem for p in EXAMPLES.glob("*.yaml")
                if "lecture-answers" not in p.stem and load_spec(p).has_values)
SLOW_TO_DRAW = {"we13-relu-3layer", "we10-relu-one-step", "we10-matrix", "batchnorm-3", "conv1d-maxpool"}



def with_randomize(path: Path, randomize: dict):
    raw = dict(load_spec(path).raw)
    return spec_from_mapping({**raw, "randomize": randomize}, file=str(path))


# --------------------------------------------------------------------------- drawing

@pytest.mark.parametrize("stem", [pytest.param(s, marks=pytest.mark.slow) if s in SLOW_TO_DRAW else s
                                  for s in VALUED])
def test_every_shipped_spec_with_values_makes_30_variants_by_default(stem):
    spec = load_spec(EXAMPLES / f"{stem}.yaml")
    assert spec.randomize is None        # the default plan, not one written for the test
    variants = draw_variants(spec, 30, seed=0)
    assert len(variants) == 30 and len({tuple(sorted(v.drawn.items())) for v in variants}) == 30
    for v in variants:
        assert v.derivation.warnings == []
        assert v.spec.params_values != spec.params_values or spec.has_data or not spec.parameters


def test_draws_are_deterministic_and_prefix_stable():
    spec = load_spec(WE5)
    first = [v.drawn for v in draw_variants(spec, 8, seed=7)]
    assert first == [v.drawn for v in draw_variants(spec, 8, seed=7)]
    assert first[:3] == [v.drawn for v in draw_variants(spec, 3, seed=7)]
    assert first[:3] != [v.drawn for v in draw_variants(spec, 3, seed=8)]
    for drawn in first:
        for name, value in drawn.items():
            assert abs(value * 10 - round(value * 10)) < 1e-9 and -1 <= value <= 1, (name, value)
            assert value != 0 or name == "t_F"


def test_a_students_variant_does_not_change_when_the_roster_grows():
    spec = load_spec(WE5)
    small = {v.id: v.drawn for v in draw_variants(spec, ids=["s01", "s02"], seed=3)}
    grown = {v.id: v.drawn for v in draw_variants(spec, ids=["s00", "s01", "s02", "s03"], seed=3)}
    assert small["s01"] == grown["s01"] and small["s02"] == grown["s02"]
    assert grown["s00"] != grown["s03"]


def test_default_targets_follow_the_loss():
    ce = [v.drawn for v in draw_variants(load_spec(EXAMPLES / "we07c-softmax-ce.yaml"), 10, seed=1)]
    assert all(sorted(d[k] for k in ("t_p1", "t_p2", "t_p3")) == [0, 0, 1] for d in ce)
    assert len({tuple(d[k] for k in ("t_p1", "t_p2", "t_p3")) for d in ce}) > 1
    bce = [v.drawn["t_p"] for v in draw_variants(load_spec(EXAMPLES / "we07a-bce-l2.yaml"), 10, seed=1)]
    assert set(bce) <= {0, 1} and len(set(bce)) == 2
    sigmoid_out = [v.drawn["t_F"] for v in draw_variants(load_spec(WE5), 10, seed=1)]
    assert all(0 <= t <= 1 for t in sigmoid_out)


def test_fixed_names_keep_their_values_and_per_name_ranges_win():
    spec = with_randomize(WE5, {"params": {"low": -1, "high": 1, "step": 0.1}, "fixed": ["w_AT"],
                                "ranges": {"w_TF": {"low": 2, "high": 3, "step": 0.5}},
                                "inputs": {"low": 0.1, "high": 0.9, "step": 0.1}})
    for v in draw_variants(spec, 6, seed=2):
        assert "w_AT" not in v.drawn and float(v.spec.params_values["w_AT"]) == float(spec.params_values["w_AT"])
        assert v.drawn["w_TF"] in (2, 2.5, 3)
        assert 0.1 <= v.drawn["A"] <= 0.9
        assert "t_F" not in v.drawn    # targets not named: the spec's own


def test_shorthand_specs_draw_every_entry_and_keep_h0():
    rnn = load_spec(EXAMPLES / "rnn-three-steps.yaml")
    names = {leaf.name for leaf in leaves(rnn.raw)}
    assert {"W", "x_1", "x_3", "t_y_1", "t_y_3"} <= names
    for v in draw_variants(rnn, 3, seed=0):
        assert v.spec.raw["recurrent"]["h0"] == 0
        assert {"x_1", "x_2", "x_3", "t_y_3"} <= set(v.drawn)
    conv = load_spec(EXAMPLES / "conv1d-maxpool.yaml")
    assert {"k1_1", "k1_3", "w4_1_2", "x_6"} <= {leaf.name for leaf in leaves(conv.raw)}
    kept = spec_from_mapping({**conv.raw, "randomize": {"params": {"low": -1, "high": 1, "step": 0.1},
                                                        "fixed": ["k1"]}})
    for v in draw_variants(kept, 2, seed=0):
        assert not any(n.startswith("k1_") for n in v.drawn) and "b1" in v.drawn


def shapes_reference_spec(path: Path) -> dict:
    """The shipped file as the oracle reads it (its own YAML, not the tool's expansion)."""
    import yaml

    return yaml.safe_load(path.read_text())


def _one_sided_gap(raw: dict, params: dict, name: str, h: float = 1e-6) -> float:
    up, down, mid = dict(params), dict(params), shapes_reference.loss(raw, params)
    up[name] += h
    down[name] -= h
    return abs((shapes_reference.loss(raw, up) - mid) / h - (mid - shapes_reference.loss(raw, down)) / h)


def test_a_conv_max_pool_spec_never_yields_a_tie_or_kink():
    """Held against the oracle: at a tie or a ReLU kink the one-sided slopes differ by O(1)."""
    spec = load_spec(EXAMPLES / "conv1d-maxpool.yaml")
    log = DrawLog()
    variants = draw_variants(spec, 40, seed=5, log=log)
    assert log.fired["kink"] > 0          # ties do come up on a 0.1 grid, and were redrawn
    shipped = shapes_reference_spec(EXAMPLES / "conv1d-maxpool.yaml")
    for v in variants:
        inputs = v.spec.raw["values"]["inputs"]
        raw = {**shipped, "values": {**shipped["values"], "inputs": {"x": [inputs[f"x_{i}"] for i in range(1, 7)]},
                                     "targets": {"y": [v.spec.raw["values"]["targets"]["y_1"]]}}}
        params = {p: float(x) for p, x in v.spec.params_values.items()}
        assert all(_one_sided_gap(raw, params, p) < 1e-3 for p in params), v.drawn


def _candidate(path, values=None, **kw):
    spec = load_spec(path) if values is None else spec_from_mapping({**load_spec(path).raw, "values": values})
    d = derive(spec)
    return Candidate(d, kw.get("drawn", {}), frozenset(kw.get("targets", ())), list(d.gradients),
                     kw.get("asks_step", True), 3)


def test_each_rule_fires_on_its_degenerate_case():
    assert rejections(_candidate(EXAMPLES / "we10-relu-one-step.yaml"))[0][0] == "kink"   # the lecture's own ReLU at 0
    we5 = dict(load_spec(WE5).raw["values"])
    saturated = {**we5, "params": {p: 3 for p in we5["params"]}}
    assert rejections(_candidate(WE5, saturated))[0][0] == "saturated"
    assert rejections(_candidate(WE5, drawn={"w_AT": 0}))[0][0] == "zero_value"
    assert rejections(_candidate(WE5, drawn={"t_F": 0}, targets={"t_F"})) == []
    flat = {**we5, "inputs": {"A": 0, "B": 0}, "params": {**we5["params"], "w_TF": 0.3, "w_BF": 0.3}}
    assert "zero_gradient" in [r for r, _ in rejections(_candidate(WE5, flat), every=True)]
    fitted = _candidate(WE5, {**we5, "targets": {"F": 0.6}})
    lowered = fitted.derivation.numbers
    if lowered.forward_after[fitted.derivation.network.root] >= lowered.forward[fitted.derivation.loss_name]:
        assert rejections(fitted)[0][0] == "loss_not_lowered"
    overshoot = spec_from_mapping({**load_spec(WE5).raw, "learning_rate": 500})
    c = Candidate(derive(overshoot), {}, frozenset(), ["w_AT"], True, 3)
    assert ("loss_not_lowered" in [r for r, _ in rejections(c, every=True)])
    updated = _candidate(EXAMPLES / "we05-221-sigmoid-updated.yaml")
    assert "variant_like_true" not in [r for r, _ in rejections(updated, every=True)]   # WE-5's differ
    same = Candidate(updated.derivation, {}, frozenset(), ["w_TF"], False, 3)   # output weights: equal
    assert rejections(same)[0][0] == "variant_like_true"
    assert set(RULES) >= {"kink", "saturated", "zero_value", "zero_gradient", "loss_not_lowered",
                          "variant_like_true", "duplicate", "not_finite"}


def test_allowed_rules_are_not_applied_and_impossible_draws_fail_clearly():
    relu = with_randomize(EXAMPLES / "we10-relu-one-step.yaml", {"params": {"low": 0.5, "high": 0.5, "step": 1}})
    with pytest.raises(SpecError, match="could not draw variant 1") as err:
        draw_variants(relu, 1, seed=0)
    assert err.value.key == "randomize"
    tiny = with_randomize(WE5, {"params": {"low": 0.5, "high": 0.5, "step": 0.1}})
    assert len(draw_variants(tiny, 1, seed=0)) == 1
    with pytest.raises(SpecError, match="duplicate"):
        draw_variants(tiny, 2, seed=0)


@pytest.mark.parametrize("randomize,key", [
    ({"params": {"low": -1, "high": 1, "step": 0}}, "randomize.params.step"),
    ({"params": {"low": 1, "high": -1, "step": 0.1}}, "randomize.params.high"),
    ({"params": {"high": 1, "step": 0.1}}, "randomize.params.low"),
    ({"params": {"low": "a", "high": 1, "step": 0.1}}, "randomize.params.low"),
    ({"params": {"low": 0, "high": 1, "step": 0.1, "size": 3}}, "randomize.params.size"),
    ({"params": {"one_hot": True}}, "randomize.params"),
    ({"targets": {"one_hot": "yes"}}, "randomize.targets.one_hot"),
    ({"targets": {"values": []}}, "randomize.targets.values"),
    ({"weights": {"low": 0, "high": 1, "step": 0.1}}, "randomize.weights"),
    ({"params": {"low": 0, "high": 1e9, "step": 1e-3}}, "randomize.params.step"),
    ({"allow_kink": "yes", "params": {"low": 0, "high": 1, "step": 0.5}}, "randomize.allow_kink"),
    ({"fixed": ["nope"], "params": {"low": 0, "high": 1, "step": 0.5}}, "randomize.fixed.nope"),
    ({"fixed": "w_AT", "params": {"low": 0, "high": 1, "step": 0.5}}, "randomize.fixed"),
    ({"ranges": {"zz": {"low": 0, "high": 1, "step": 0.5}}}, "randomize.ranges.zz"),
    ({"allow": ["kinks"], "params": {"low": 0, "high": 1, "step": 0.5}}, "randomize.allow.kinks"),
    ({}, "randomize"),
])
def test_randomize_mistakes_name_their_key(randomize, key):
    with pytest.raises(SpecError) as err:
        draw_plan(with_randomize(WE5, randomize), tuple(RULES))
    assert err.value.key == key


def test_plans_and_titles():
    plan = draw_plan(load_spec(EXAMPLES / "we07c-softmax-ce.yaml"))
    assert isinstance(plan.groups["targets"], OneHot) and plan.default
    assert isinstance(plan.groups["params"], Grid) and plan.groups["params"].nonzero
    assert exam_title(load_spec(WE5), draw_plan(load_spec(WE5))) == GENERIC_TITLE     # "target t = 0.5" is redrawn
    fixed = with_randomize(WE5, {"params": {"low": -1, "high": 1, "step": 0.1}})
    assert exam_title(fixed, draw_plan(fixed)) == fixed.title                         # the target is kept
    titled = spec_from_mapping({**load_spec(WE5).raw, "exam": {"title": "Midterm, question 3"}})
    assert exam_title(titled, draw_plan(titled)) == "Midterm, question 3"


def test_stress_counts_rules_audits_and_flags_rounding():
    report = stress(load_spec(EXAMPLES / "conv1d-maxpool.yaml"), 20, seed=0)
    assert report.kept == 20 and report.attempts > 20 and report.audit_failures == 0
    assert report.fired["kink"] > 0
    text = report.markdown()
    for rule in RULES:
        assert f"| {rule}" in text
    assert "dE_dk1_1" in text
    assert near_boundary(0.12349, 3) and near_boundary(-2.145, 3) and not near_boundary(0.1234, 3)


# --------------------------------------------------------------------------- the command

def _exam(tmp_path: Path, *args: str, spec: Path = WE5) -> tuple[object, Path]:
    out = tmp_path / "out"
    result = runner().invoke(exam_command, [str(spec), *args, "-o", str(out)])
    return result, out


def test_the_exam_files_agree_with_the_manifest(tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_text("id,name\ns101,Ada\ns102,Alan\ns103,Grace\n")
    result, out = _exam(tmp_path, "--roster", str(roster), "--seed", "4", "--marks", "forward=2,gradients=4",
                        "--questions", "forward,gradients:w_AT,w_TF,update,loss_after", "--per-variant")
    assert result.exit_code == 0, result.output
    name = "we05-221-sigmoid"
    manifest = load_manifest(out / f"{name}-variants.json")
    assert [v["id"] for v in manifest["variants"]] == ["s101", "s102", "s103"]
    assert [(q["name"], q["marks"]) for q in manifest["questions"]] == [
        ("forward", 2.0), ("gradients", 4.0), ("update", 2.0), ("loss_after", 1.0)]
    spec = load_spec(WE5)
    for entry, v in zip(manifest["variants"], draw_variants(spec, ids=["s101", "s102", "s103"], seed=4)):
        n = v.derivation.numbers
        assert entry["answers"]["dE_dw_AT"]["value"] == n.gradients["w_AT"]
        assert entry["answers"]["w_TF_new"]["value"] == n.updated_params["w_TF"]
        assert entry["answers"]["E_after"]["value"] == n.forward_after[v.derivation.network.root]
    rows = list(csv.DictReader(io.StringIO((out / f"{name}-exam-key.csv").read_text())))
    assert len(rows) == 3 * sum(len(q["answers"]) for q in manifest["questions"])
    for row in rows:
        a = next(v for v in manifest["variants"] if v["id"] == row["id"])["answers"][row["answer"]]
        assert float(row["value"]) == a["value"] and float(row["tolerance"]) == a["tolerance"]
    problems = (out / f"{name}-exam-problems.tex").read_text()
    assert problems.count("\\setcounter{page}{1}") == 3 and problems.count("\\begin{document}") == 1
    for sid in ("s101", "s102", "s103"):
        assert f"\\texttt{{{sid}}}" in problems and f"{sid} \\ensuremath{{\\cdot}} Variant" in problems
    assert "Name:" in problems and "\\answerlines{" in problems and "(2 marks)" in problems
    assert "seed" not in problems.lower() and "we05" not in problems        # nothing for the student to mine
    assert "w_{BT}" not in problems.split("Gradients: compute")[1].split("\\item")[0]   # only w_AT, w_TF asked
    solutions = (out / f"{name}-exam-solutions.tex").read_text()
    assert solutions.count("\\setcounter{page}{1}") == 3 and "(seed 4)" in solutions
    key = (out / f"{name}-exam-key.tex").read_text()
    assert all(f"\\texttt{{{sid}}}" in key for sid in ("s101", "s102", "s103"))
    assert manifest["variants"][0]["answers"]["dE_dw_AT"]["shown"] in key
    singles = sorted(p.name for p in (out / f"{name}-exam").iterdir())
    assert singles == [f"s10{i}-{k}.tex" for i in (1, 2, 3) for k in ("problem", "solution")]


def test_exports_are_written_from_the_same_manifest(tmp_path):
    result, out = _exam(tmp_path, "--variants", "2", "--to", "moodle", "--to", "qti", "--to", "prairielearn")
    assert result.exit_code == 0, result.output
    name = "we05-221-sigmoid"
    manifest = json.loads((out / f"{name}-variants.json").read_text())
    xml = etree.fromstring((out / f"{name}-moodle.xml").read_bytes())
    assert len(xml.findall("question[@type='cloze']")) == 2
    assert repr(manifest["variants"][0]["answers"]["E"]["value"])[:8] in (out / f"{name}-moodle.xml").read_text()
    with zipfile.ZipFile(out / f"{name}-qti.zip") as z:
        assert "imsmanifest.xml" in z.namelist()
    assert json.loads((out / f"{name}-prairielearn" / "info.json").read_text())["type"] == "v3"


def test_exam_output_is_byte_identical_across_processes(tmp_path):
    def run(where: Path, hashseed: str) -> dict[str, bytes]:
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        code = "from symbackprop.cli.exam import exam_command; exam_command()"
        proc = subprocess.run([sys.executable, "-c", code, str(EXAMPLES / "conv1d-maxpool.yaml"), "--variants", "3",
                               "--seed", "9", "--to", "moodle", "-o", str(where)], env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return {p.name: p.read_bytes() for p in sorted(where.iterdir())}
    first, second = run(tmp_path / "a", "1"), run(tmp_path / "b", "2")
    assert first == second and len(first) == 6


def test_render_template_exam_is_an_alias(tmp_path):
    out = tmp_path / "r"
    result = runner().invoke(render_command, [str(WE5), "--template", "exam", "--variants", "2", "--seed", "1",
                                              "-o", str(out)])
    assert result.exit_code == 0, result.output
    direct, _ = _exam(tmp_path, "--variants", "2", "--seed", "1")
    assert direct.exit_code == 0
    for p in out.iterdir():
        assert p.read_bytes() == (tmp_path / "out" / p.name).read_bytes(), p.name
    assert len(list(out.iterdir())) == 5


@pytest.mark.parametrize("args,message", [
    (["--variants", "2", "--roster", "r.csv"], "variants: give --variants or --roster, not both"),
    (["--marks", "forward=lots"], "marks: 'forward=lots' is not question=marks"),
    (["--marks", "forwards=2"], "exam.marks.forwards: unknown question"),
    (["--questions", "gradients:w_XY"], "questions.gradients: 'w_XY' is not a parameter"),
    (["--roster", "missing.csv"], "missing.csv: no such file"),
])
def test_mistakes_exit_2_with_one_line_and_write_nothing(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    Path("r.csv").write_text("id\ns1\n")
    result, out = _exam(tmp_path, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("symbackprop: error: ") and message in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and not out.exists()


@pytest.mark.parametrize("text,message", [
    ("name\nAda\n", "needs a header row with an 'id' column"),
    ("id\ns1\ns1\n", "line 3: the id 's1' repeats line 2"),
    ("id\n../../etc\n", "is not a plain ID"),
    ("id\n\n", "lists no student"),
])
def test_roster_mistakes_name_the_line(tmp_path, text, message):
    roster = tmp_path / "class.csv"
    roster.write_text(text)
    result, out = _exam(tmp_path, "--roster", str(roster))
    assert result.exit_code == 2 and message in result.stderr and str(roster) in result.stderr
    assert not out.exists()


def test_stress_prints_and_writes_nothing(tmp_path):
    result, out = _exam(tmp_path, "--stress", "5")
    assert result.exit_code == 0, result.output
    assert "| kink |" in result.stdout and "**0**" in result.stdout and not out.exists()


def test_parse_marks():
    assert parse_marks("forward=2, gradients=4.5") == {"forward": 2.0, "gradients": 4.5}
    with pytest.raises(SpecError):
        parse_marks("forward=2000")


@pytest.mark.skipif(__import__("shutil").which("pdflatex") is None, reason="needs pdflatex (TeX Live)")
def test_the_books_compile_one_page_set_per_student(tmp_path):
    roster = tmp_path / "class.csv"
    roster.write_text("id\nst01\nst02\n")
    result, out = _exam(tmp_path, "--roster", str(roster), "--pdf", "--questions", "forward,gradients")
    assert result.exit_code == 0, result.stderr
    name = "we05-221-sigmoid"
    text = subprocess.run(["pdftotext", "-layout", str(out / f"{name}-exam-problems.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    assert sum("Student ID:" in p for p in pages) == 2
    first_of = [i for i, p in enumerate(pages) if "Student ID:" in p]
    assert "st01" in pages[first_of[0]] and "st02" in pages[first_of[1]]
    assert all("Variant" in p.splitlines()[0] for p in pages if p.strip())      # the running header
    assert "seed" not in text.lower() and "symbackprop" not in text.lower()
    key = subprocess.run(["pdftotext", str(out / f"{name}-exam-key.pdf"), "-"], capture_output=True, text=True,
                         check=True).stdout
    manifest = load_manifest(out / f"{name}-variants.json")
    for v in manifest["variants"]:
        assert v["answers"]["dE_dw_AT"]["shown"].replace("-", "−") in key.replace("-", "−")


def test_the_key_shows_tolerances_only_when_the_spec_sets_them(tmp_path):
    from symbackprop.exams.manifest import build_manifest
    from symbackprop.render.key import key_tex

    plain = load_spec(WE5)
    marked = spec_from_mapping({**plain.raw, "marking": {"tolerance": {"relative": 0.01}}})
    for spec, shows in ((plain, False), (marked, True)):
        m = build_manifest(spec, draw_variants(spec, 2, seed=0), seed=0, questions="gradients", sig=3)
        assert m["tolerance"] == ("marking" if shows else "half_unit")
        tex = key_tex(m, "t")
        assert ("\\pm" in tex) is shows
        assert "within half a unit" in tex or shows
