"""LMS export (symbackprop.lms, symbackprop export): every export is read back with a real parser
and every exported answer is held to the manifest's; PrairieLearn's info.json and inputs are
validated against PrairieLearn's published schemas (tests/data/prairielearn/), and the exported
server.py is imported and run with a fake ``data`` dict."""
from __future__ import annotations

import base64
import importlib.util
import io
import json
import math
import re
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from lxml import etree, html as lxml_html

from conftest import EXAMPLES
from symbackprop import load_spec, spec_from_mapping
from symbackprop.cli import main
from symbackprop.errors import SpecError
from symbackprop.exams.manifest import build_manifest, manifest_text
from symbackprop.exams.variants import draw_variants
from symbackprop.files import OutputError, produced_by_symbackprop
from symbackprop.lms import EXPORTERS, export, export_files
from symbackprop.lms.cloze import ClozeError, numerical_part, parse_cloze
from symbackprop.lms.svg import picture_svg

PL_SCHEMAS = Path(__file__).parent / "data" / "prairielearn"
RANDOMIZE = {"params": {"low": -1, "high": 1, "step": 0.1}}
QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"


def make_manifest(stem: str, count: int, seed: int = 7, **options) -> dict:
    raw = dict(load_spec(EXAMPLES / f"{stem}.yaml").raw)
    spec = spec_from_mapping({**raw, "randomize": RANDOMIZE}, file=str(EXAMPLES / f"{stem}.yaml"))
    return build_manifest(spec, draw_variants(spec, count, seed=seed), seed=seed, questions=options.pop("questions", None),
                          sig=3, **options)


@pytest.fixture(scope="module")
def we05() -> dict:
    return make_manifest("we05-221-sigmoid", 3, marks={"forward": 2, "gradients": 3.5})


@pytest.fixture(scope="module")
def exports(we05) -> dict[str, dict[str, bytes]]:
    return {to: export_files(we05, to) for to in EXPORTERS}


def answers(manifest: dict) -> list[tuple[str, str, dict]]:
    """(variant id, answer name, answer) in the manifest's question order."""
    return [(v["id"], name, v["answers"][name]) for v in manifest["variants"]
            for q in manifest["questions"] for name in q["answers"]]


# --- Cloze ------------------------------------------------------------------------------------

def test_cloze_parts_read_back_exactly():
    for value, tol in ((0.1234567891234567, 5e-4), (-2.5e-7, 5e-10), (12.0, 0.5), (0.0, 1e-3)):
        [part] = parse_cloze("x " + numerical_part(value, tol, 7, feedback="a } # ~ / \\ \"b") + " y")
        [a] = part.answers
        assert (part.weight, a.value, a.tolerance, a.fraction, a.feedback) == (7, value, tol, 100.0, 'a } # ~ / \\ "b')


def test_cloze_parser_reads_moodle_syntax_and_refuses_broken_parts():
    parts = parse_cloze("{:NM:=1,5:0.1} {2:SHORTANSWER:=cat} {3:NUMERICAL:%50%2:0.5~=2.5e-3:1E-4#ok} {not a part}")
    assert [(p.weight, p.kind, [(a.fraction, a.value, a.tolerance) for a in p.answers]) for p in parts] == [
        (1, "NM", [(100.0, 1.5, 0.1)]), (3, "NUMERICAL", [(50.0, 2.0, 0.5), (100.0, 2.5e-3, 1e-4)])]
    for bad in ("{1:NUMERICAL:=abc:0.1}", "{1:NUMERICAL:=1:0.1", "{1:NUMERICAL:%50%1:0.1}", "{1:NM:=1:x}",
                "{1:NM:=+1:0.1}", "{1:NM:= 1:0.1}", "{1:NM:=1e:0.1}"):
        with pytest.raises(ClozeError):
            parse_cloze(bad)
    with pytest.raises(ValueError):
        numerical_part(1.0, 0.1, 0)
    with pytest.raises(ValueError):
        numerical_part(math.inf, 0.1, 1)


# --- Moodle -----------------------------------------------------------------------------------

def test_moodle_xml_one_cloze_question_per_variant_with_the_manifests_answers(we05, exports):
    root = etree.fromstring(exports["moodle"][""])
    category, *questions = root.findall("question")
    assert category.get("type") == "category" and "symbackprop" in category.findtext("category/text")
    assert [q.get("type") for q in questions] == ["cloze"] * len(we05["variants"])
    assert [q.findtext("idnumber") for q in questions] == [v["id"] for v in we05["variants"]]
    marks = {q["name"]: q["marks"] for q in we05["questions"]}
    for q, v in zip(questions, we05["variants"]):
        text = q.findtext("questiontext/text")
        parts = parse_cloze(text)
        names = [n for question in we05["questions"] for n in question["answers"]]
        assert len(parts) == len(names)
        per_mark = set()
        for part, name in zip(parts, names):
            [a] = part.answers
            expected = v["answers"][name]
            assert (a.value, a.tolerance, a.fraction) == (expected["value"], expected["tolerance"], 100.0), name
        for question in we05["questions"]:   # a question's weights add up to its marks, on one scale
            mine = [p.weight for p, n in zip(parts, names) if n in question["answers"]]
            per_mark.add(sum(mine) / marks[question["name"]])
            assert len(set(mine)) == 1
        assert len(per_mark) == 1
        # the picture: an embedded SVG file that the text refers to
        [file] = q.findall("questiontext/file")
        assert f'src="@@PLUGINFILE@@/{file.get("name")}"' in text and file.get("encoding") == "base64"
        svg = etree.fromstring(base64.b64decode(file.text))
        assert svg.tag == "{http://www.w3.org/2000/svg}svg"
        # the worked solution: MathJax TeX with this variant's figures
        feedback = q.findtext("generalfeedback/text")
        assert r"\[\begin{aligned}" in feedback and r"\delta_{F}" in feedback
        lxml_html.fragment_fromstring(feedback, create_parent="div")   # parses as HTML
        assert f"{v['answers']['E']['value']:.6f}" in feedback


def test_spec_and_manifest_text_is_escaped_in_html(we05):
    m = json.loads(manifest_text(we05))
    m["spec"]["title"] = "<script>alert(1)</script> & $x$"
    m["questions"][0]["title"] = "<img src=x onerror=alert(1)>"
    root = etree.fromstring(export_files(m, "moodle")[""])
    info = root.findtext("question/info/text")              # HTML (format="html") after XML parsing
    assert "<script>" not in info and "&lt;script&gt;" in info
    question = root.findall("question")[1].findtext("questiontext/text")
    assert "<img src=x" not in question and "&lt;img src=x" in question
    archive = zipfile.ZipFile(io.BytesIO(export_files(m, "qti")[""]))
    bank = next(n for n in archive.namelist() if n.endswith(".xml.qti"))
    stems = [t.text for t in etree.fromstring(archive.read(bank)).iter(f"{QTI}mattext")]
    assert stems and all("<img src=x" not in t for t in stems)
    m["questions"][0]["answers"][0] = m["questions"][0]["answers"][0] + "<b>"
    for v in m["variants"]:
        v["answers"][m["questions"][0]["answers"][0]] = v["answers"].pop(we05["questions"][0]["answers"][0])
    with pytest.raises(SpecError, match="answer name"):
        export_files(m, "prairielearn")


# --- QTI for Canvas ---------------------------------------------------------------------------

def test_qti_zip_has_canvas_structure_and_the_manifests_answers(we05, exports):
    data = exports["qti"][""]
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert names == sorted(names) and "imsmanifest.xml" in names
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in archive.infolist())
    manifest = etree.fromstring(archive.read("imsmanifest.xml"))
    resources = manifest.findall(f"{CP}resources/{CP}resource")
    referenced = {f.get("href") for r in resources for f in r.findall(f"{CP}file")}
    assert referenced == set(names) - {"imsmanifest.xml"}        # every file listed, every listed file there
    assert len({r.get("identifier") for r in resources}) == len(resources)
    banks = [r for r in resources if r.get("type") == "imsqti_xmlv1p2"]
    assert len(banks) == len(we05["variants"])
    idents, found = set(), {}
    for resource, variant in zip(banks, we05["variants"]):
        root = etree.fromstring(archive.read(resource.get("href")))
        [bank] = root.findall(f"{QTI}objectbank")
        assert bank.get("ident") == resource.get("identifier")
        title = bank.find(f"{QTI}qtimetadata/{QTI}qtimetadatafield")
        assert title.findtext(f"{QTI}fieldlabel") == "bank_title" and title.findtext(f"{QTI}fieldentry").endswith(variant["id"])
        points = 0.0
        for item in bank.findall(f"{QTI}item"):
            assert item.get("ident") not in idents
            idents.add(item.get("ident"))
            meta = {f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry")
                    for f in item.iter(f"{QTI}qtimetadatafield")}
            assert meta["question_type"] == "numerical_question"
            points += float(meta["points_possible"])
            assert item.find(f".//{QTI}render_fib").get("fibtype") == "Decimal"
            condition = item.find(f".//{QTI}respcondition[@continue='No']")
            assert condition.findtext(f"{QTI}setvar") == "100"
            exact = float(condition.findtext(f".//{QTI}varequal"))
            low, high = float(condition.findtext(f".//{QTI}vargte")), float(condition.findtext(f".//{QTI}varlte"))
            name = item.get("title").split(" ", 1)[1]
            found[(variant["id"], name)] = (exact, (high - low) / 2, low, high)
            stem = item.findtext(f"{QTI}presentation/{QTI}material/{QTI}mattext")
            for src in re.findall(r'src="%24IMS-CC-FILEBASE%24/([^"]+)"', stem):
                assert src in names
        assert points == pytest.approx(sum(q["marks"] for q in we05["questions"]))
    assert len(found) == len(answers(we05))
    for vid, name, a in answers(we05):
        exact, half, low, high = found[(vid, name)]
        assert exact == a["value"] and low <= a["value"] <= high
        assert half == pytest.approx(a["tolerance"], rel=1e-9, abs=1e-15)


def test_no_qti_xsd_is_claimed():
    """The IMS QTI 1.2 XSD is not shipped by any package installed here; the structure test above
    checks what Canvas' importer reads instead (docs/commands/export.md says so)."""
    assert not list(Path(__file__).parent.glob("data/**/*.xsd"))


# --- PrairieLearn -----------------------------------------------------------------------------

def load_server(folder: Path):
    spec = importlib.util.spec_from_file_location(f"pl_server_{abs(hash(str(folder)))}", folder / "server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pl_folder(we05, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pl") / "we05Backprop"
    export(we05, "prairielearn", folder)
    return folder


def fresh_data(folder: Path, seed: int) -> dict:
    return {"params": {}, "correct_answers": {}, "variant_seed": seed, "options": {"question_path": str(folder)},
            "submitted_answers": {}, "raw_submitted_answers": {}, "partial_scores": {}, "feedback": {},
            "format_errors": {}}


def test_prairielearn_info_json_is_valid_against_prairielearns_schema(pl_folder):
    schema = json.loads((PL_SCHEMAS / "infoQuestion.json").read_text())
    info = json.loads((pl_folder / "info.json").read_text())
    jsonschema.Draft7Validator(schema).validate(info)
    assert info["type"] == "v3" and re.fullmatch(r"[0-9a-f-]{36}", info["uuid"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate({**info, "bogus": 1})   # the schema is not a no-op


def test_prairielearn_inputs_are_valid_and_generate_sets_the_manifests_answers(we05, pl_folder):
    server = load_server(pl_folder)
    schema = json.loads((PL_SCHEMAS / "pl-number-input.json").read_text())
    checker = jsonschema.FormatChecker()
    checker.checks("number")(lambda s: bool(re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s)))
    checker.checks("integer")(lambda s: s.lstrip("+-").isdigit())
    checker.checks("boolean")(lambda s: s in ("true", "false"))
    template = (pl_folder / "question.html").read_text()
    names = [n for q in we05["questions"] for n in q["answers"]]
    for seed in range(len(we05["variants"])):
        data = fresh_data(pl_folder, seed)
        server.generate(data)
        variant = we05["variants"][seed]
        assert data["params"]["variant"] == variant["id"]
        assert data["correct_answers"] == {n: variant["answers"][n]["value"] for n in names}
        assert (pl_folder / "clientFilesQuestion" / data["params"]["picture"]).is_file()
        # PrairieLearn fills in the Mustache before the elements read their attributes
        rendered = re.sub(r"\{\{params\.atol\.(\w+)\}\}", lambda m: data["params"]["atol"][m.group(1)], template)
        inputs = lxml_html.fragment_fromstring(rendered, create_parent="div").iter("pl-number-input")
        seen = []
        for element in inputs:
            jsonschema.Draft4Validator(schema, format_checker=checker).validate(dict(element.attrib))
            seen.append(element.get("answers-name"))
            assert float(element.get("atol")) == variant["answers"][element.get("answers-name")]["tolerance"]
        assert seen == names


def test_prairielearn_grade_uses_the_checker_error_carried_forward_and_slips(we05, pl_folder):
    server = load_server(pl_folder)
    data = fresh_data(pl_folder, 1)
    server.generate(data)
    variant = we05["variants"][1]
    shown = {n: a["shown"] for n, a in variant["answers"].items()}
    right = dict(data, raw_submitted_answers=dict(shown), partial_scores={}, feedback={}, format_errors={})
    server.grade(right)
    assert right["score"] == 1.0 and not right["format_errors"]
    assert all(p["score"] == 1.0 for p in right["partial_scores"].values())
    # δ_F with the wrong sign: δ_F wrong with the slip named; what follows from it is carried forward
    slipped = dict(shown, delta_F=str(-float(shown["delta_F"])))
    later = {"dE_dw_TF": -float(shown["dE_dw_TF"]), "dE_dw_BF": -float(shown["dE_dw_BF"])}
    slipped.update({k: f"{v:.3g}" for k, v in later.items()})
    wrong = dict(data, raw_submitted_answers=slipped, partial_scores={}, feedback={}, format_errors={})
    server.grade(wrong)
    scores = wrong["partial_scores"]
    assert scores["delta_F"]["score"] == 0.0 and "sign" in scores["delta_F"]["feedback"]
    assert scores["dE_dw_TF"]["score"] == 1.0 and "carried forward" in scores["dE_dw_TF"]["feedback"]
    assert "First real error: delta_F" in wrong["feedback"]["summary"]
    total = sum(p["weight"] for p in scores.values())
    assert wrong["score"] == pytest.approx(1 - scores["delta_F"]["weight"] / total)
    # not a number as written: a format error, not a grade
    bad = dict(data, raw_submitted_answers=dict(shown, E="0.1.2"), partial_scores={}, feedback={}, format_errors={})
    server.grade(bad)
    assert "E" in bad["format_errors"] and "score" not in bad


# --- the command, output rules, determinism ---------------------------------------------------

def test_exports_are_deterministic(we05, exports):
    again = {to: export_files(json.loads(manifest_text(we05)), to) for to in EXPORTERS}
    assert again == exports


def test_export_command_writes_each_platform_and_refuses_foreign_files(tmp_path):
    path = tmp_path / "we05-variants.json"
    path.write_text(manifest_text(make_manifest("we05-221-sigmoid", 1)))
    runner = CliRunner()
    for to, out in (("moodle", "we05-moodle.xml"), ("qti", "we05-qti.zip"), ("prairielearn", "we05-prairielearn")):
        for _ in range(2):   # the second run replaces its own files without --force
            result = runner.invoke(main, ["export", str(path), "--to", to])
            assert result.exit_code == 0, result.output
        assert (tmp_path / out).exists()
    assert produced_by_symbackprop(tmp_path / "we05-qti.zip") and produced_by_symbackprop(tmp_path / "we05-moodle.xml")
    assert all(produced_by_symbackprop(p) for p in (tmp_path / "we05-prairielearn").rglob("*") if p.is_file())
    foreign = tmp_path / "notes.xml"
    foreign.write_text("<notes>mine</notes>")
    result = runner.invoke(main, ["export", str(path), "--to", "moodle", "-o", str(foreign)])
    assert result.exit_code == 2 and "not written by symbackprop" in result.output
    assert foreign.read_text() == "<notes>mine</notes>"
    with pytest.raises(OutputError):
        export(path, "moodle", path)   # never the manifest itself
    # the marks are anchored: a zip or XML that merely mentions symbackprop is not ours
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "Generated by symbackprop")
    late = tmp_path / "late.xml"
    late.write_text("<a/>\n<!-- Generated by symbackprop -->\n")
    assert not produced_by_symbackprop(other) and not produced_by_symbackprop(late)


def test_bad_manifests_are_one_line_errors(we05, tmp_path):
    bad = json.loads(manifest_text(we05))
    del bad["variants"][0]["answers"]["E"]
    path = tmp_path / "bad-variants.json"
    path.write_text(json.dumps(bad))
    result = CliRunner().invoke(main, ["export", str(path), "--to", "qti"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "variants[0].answers" in result.output and not (tmp_path / "bad-qti.zip").exists()
    zero = json.loads(manifest_text(we05))
    zero["questions"][0]["marks"] = 0
    with pytest.raises(SpecError, match="marks above 0"):
        export_files(zero, "moodle")
    with pytest.raises(SpecError, match="unknown platform"):
        export_files(we05, "blackboard")


@pytest.mark.slow
def test_softmax_and_data_specs_export(tmp_path):
    for stem in ("we07c-softmax-ce", "we12-linreg-m-examples"):
        m = make_manifest(stem, 2)
        files = export_files(m, "moodle")
        root = etree.fromstring(files[""])
        for q, v in zip(root.findall("question")[1:], m["variants"]):
            values = [a.value for p in parse_cloze(q.findtext("questiontext/text")) for a in p.answers]
            assert values == [v["answers"][n]["value"] for question in m["questions"] for n in question["answers"]]


def test_svg_picture_draws_every_node_and_label():
    from symbackprop import derive
    from symbackprop.render.exam import exam_contexts

    problem, _ = exam_contexts(derive(load_spec(EXAMPLES / "we07c-softmax-ce.yaml")), 6)
    picture = problem["network"]["picture"]
    svg = etree.fromstring(picture_svg(picture).encode())
    ns = "{http://www.w3.org/2000/svg}"
    shapes = svg.findall(f"{ns}circle") + svg.findall(f"{ns}rect")
    assert len(svg.findall(f"{ns}line")) == len(picture["edges"])
    assert len(shapes) >= len(picture["nodes"])
    texts = ["".join(t.itertext()) for t in svg.iter(f"{ns}text")]
    assert "softmax" in texts and any(t.startswith("p") for t in texts)
