"""symbackprop grade: submissions in every form, hostile files in a batch, marks, resume, Dask.

Expected figures are the exam manifest's (the key the exam printed, held against each variant's
derivation in test_exam.py); expected verdicts are those of ``symbackprop check`` on the same
figures; marks are counted by hand from the manifest's questions (WE-5: 7 + 3 + 6 + 6 + 6 + 1 =
29, one mark per figure).
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from symbackprop import load_spec
from symbackprop.cli.main import main as cli
from symbackprop.exams.manifest import build_manifest, manifest_text
from symbackprop.exams.variants import draw_variants
from symbackprop.grade.grader import grade_submission, guarded, manifest_digest
from symbackprop.grade.marks import Scheme
from symbackprop.grade.submissions import parse_pairs_csv, parse_text, parse_yaml, read_folder, read_table, unique

from conftest import ROOT, runner

IDS = [f"s{i:02d}" for i in range(1, 9)]


@pytest.fixture(scope="module")
def manifest() -> dict:
    spec = load_spec(ROOT / "examples/we05-221-sigmoid.yaml")
    m = build_manifest(spec, draw_variants(spec, len(IDS), seed=11, ids=IDS), seed=11, questions=None, sig=3)
    m["title"] = "Backpropagation exercise"
    return m


@pytest.fixture(scope="module")
def manifest_file(manifest, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("exam") / "we05-221-sigmoid-variants.json"
    path.write_text(manifest_text(manifest))
    return path


def right(manifest, sid: str) -> dict[str, str]:
    v = next(v for v in manifest["variants"] if v["id"] == sid)
    return {n: a["shown"] for n, a in v["answers"].items()}


def flipped(text: str) -> str:
    return text[1:] if text.startswith("-") else "-" + text


def write_class(folder: Path, manifest) -> None:
    """s01 right (YAML), s02 a sign slip on δ_F (text), s03 the second pass left out (CSV), s04 right
    net_T only and a wrong out_T (σ is above 0.1 on every variant), s05 binary, s06 too large, s07 a YAML bomb, s08 a link to
    s01's file, and a stranger the manifest does not know."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "s01.yaml").write_text(yaml.safe_dump({"solution": right(manifest, "s01")}))
    s02 = right(manifest, "s02")
    s02["delta_F"] = flipped(s02["delta_F"])
    (folder / "s02.txt").write_text("".join(f"{n} = {v}\n" for n, v in s02.items()))
    s03 = {n: v for n, v in right(manifest, "s03").items() if not n.endswith("_after")}
    (folder / "s03.csv").write_text("name,value\n" + "".join(f"{n},{v}\n" for n, v in s03.items()))
    (folder / "s04.txt").write_text("net_T = " + right(manifest, "s04")["net_T"] + "\nout_T = 0.05\n")
    (folder / "s05.yaml").write_bytes(bytes(range(256)))
    (folder / "s06.txt").write_text("out_T = 0.5\n" + "#" * 300_000 + "\n")
    (folder / "s07.yaml").write_text("solution: " + "[" * 3000 + "]" * 3000 + "\n")
    os.symlink(folder / "s01.yaml", folder / "s08.yaml")
    (folder / "stranger.txt").write_text("out_T = 0.5\n")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4 not a submission")


# ----------------------------------------------------------------------------- reading
def test_the_three_file_forms_and_a_table_read_the_same_figures(manifest):
    figures = right(manifest, "s01")
    forms = [
        parse_yaml("s01", yaml.safe_dump({"solution": figures}, sort_keys=False), "s01.yaml"),
        parse_yaml("s01", "".join(f"{n}: {v}\n" for n, v in figures.items()), "s01.yaml"),  # no 'solution:'
        parse_text("s01", "".join(f"{n} = {v}  # mine\n" for n, v in figures.items()), "s01.txt"),
        parse_pairs_csv("s01", "name,value\n" + "".join(f"{n},{v}\n" for n, v in figures.items()), "s01.csv"),
    ]
    names = list(figures)
    table = "id," + ",".join(names) + "\ns01," + ",".join(figures[n] for n in names) + "\n"
    forms += read_table(table, "class.csv", names)
    for s in forms:
        assert s.error is None and s.id == "s01"
        assert [(n, v) for n, v, _ in s.entries] == list(figures.items())
    records = [grade_submission(manifest, s, Scheme()) for s in forms]
    assert {(r["total"], r["out_of"]) for r in records} == {(29.0, 29.0)}


def test_yaml_keeps_numbers_as_written_and_reads_the_variant(manifest):
    s = parse_yaml("x1", "variant: v002\nsolution:\n  out_T: 0.50\n  net_T: 1e-3\n", "x1.yaml")
    assert s.variant == "v002" and s.claimed
    assert s.entries[0][:2] == ("out_T", "0.50") and s.entries[1][:2] == ("net_T", "1e-3")
    spec = load_spec(ROOT / "examples/we05-221-sigmoid.yaml")
    numbered = build_manifest(spec, draw_variants(spec, 3, seed=2), seed=2, questions="forward", sig=3)
    record = grade_submission(numbered, s, Scheme())        # numbered variants: the student says which
    assert (record["status"], record["variant"], record["id"]) == ("graded", "v002", "x1")


def test_a_student_cannot_claim_another_students_variant(manifest):
    """On a roster exam the variant is the one drawn for the ID: naming a friend's is refused."""
    figures = right(manifest, "s02")
    text = "variant = s02\n" + "".join(f"{n} = {v}\n" for n, v in figures.items())
    r = grade_submission(manifest, parse_text("s01", text, "s01.txt"), Scheme())
    assert r["status"] == "error" and r["total"] == 0.0
    assert r["reason"] == "names the variant 's02', but the variant drawn for this student is 's01'"
    stranger = grade_submission(manifest, parse_text("x9", text, "x9.txt"), Scheme())
    assert stranger["reason"] == ("names the variant 's02', but this exam was drawn for a roster and 'x9' is "
                                  "not on it")


def test_a_table_maps_columns_and_refuses_unknown_ones(manifest):
    table = "Student,Q1,Q2\ns01,%s,0.1\ns02,,\n" % right(manifest, "s01")["net_T"]
    subs = read_table(table, "t.csv", ["net_T", "out_T"], id_column="Student", columns={"net_T": "Q1", "out_T": "Q2"})
    assert [(s.id, [e[:2] for e in s.entries], s.error) for s in subs] == [
        ("s01", [("net_T", right(manifest, "s01")["net_T"]), ("out_T", "0.1")], None),
        ("s02", [], "no figures in the submission")]
    with pytest.raises(Exception, match="no 'id' column"):
        read_table("who,net_T\na,1\n", "t.csv", ["net_T"])
    with pytest.raises(Exception, match="not an answer of the exam"):
        read_table("id,Q\na,1\n", "t.csv", ["net_T"], columns={"nett": "Q"})


def test_hostile_files_become_error_rows_and_the_rest_is_read(tmp_path, manifest):
    write_class(tmp_path / "class", manifest)
    subs = {s.id: s for s in read_folder(tmp_path / "class")}
    assert sorted(subs) == ["s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08", "stranger"]
    assert subs["s01"].error is subs["s02"].error is subs["s03"].error is None
    assert subs["s05"].error == "s05.yaml is a binary file, not text"
    assert subs["s06"].error == "s06.txt is larger than 256000 bytes"
    assert "nested too deeply" in subs["s07"].error
    assert subs["s08"].error == "s08.yaml is a symbolic link (a student's file must be the file itself)"
    assert "notes" not in subs


@pytest.mark.parametrize("text, reason", [
    ("!!python/object/apply:os.system ['echo hacked']\n", "YAML tag not allowed"),
    ("solution:\n  out_T: !!binary aGk=\n", "YAML type binary is not allowed"),
    ("solution: {net_T: &a [1, 2], out_T: *a}\n", "must be a number"),
    ("solution:\n  out_T: 0.5\n  out_T: 0.6\n", "duplicate key 'out_T'"),
    ("answers:\n  w_AT: A*delta_T\n", "grading reads the figures under 'solution:'"),
    ("- 1\n- 2\n", "must be a mapping"),
])
def test_hostile_yaml_is_refused_with_a_reason(text, reason):
    s = parse_yaml("s01", text, "s01.yaml")
    assert s.error is not None and reason in s.error and s.entries == ()


@pytest.mark.parametrize("sid", ["../s02", "=cmd|' /C calc'!A0", ".hidden", "a/b", "x" * 65, "s 1", ""])
def test_an_unsafe_student_id_is_an_error_row(sid):
    s = parse_text(sid, "out_T = 0.5\n", "f.txt")
    assert "is not a plain ID" in s.error


def test_an_id_handed_in_twice_is_one_error_not_two_grades():
    subs = unique([parse_text("s01", "out_T = 1", "s01.txt"), parse_text("s01", "out_T = 2", "s01.yaml"),
                   parse_text("s02", "out_T = 2", "s02.txt"), parse_text("S03", "out_T = 2", "S03.txt"),
                   parse_text("s03", "out_T = 2", "s03.txt")])
    # S03 and s03 would share feedback files on a case-insensitive file system
    assert [(s.id, s.error is None) for s in subs] == [("s01", False), ("s02", True), ("S03", False)]


@pytest.mark.parametrize("value", ["0.2\u202e2", "٠.٥٥٥", "０.５５５", "0.22" + "0" * 80 + "e7"])
def test_a_value_is_read_as_written_or_not_at_all(manifest, value):
    """Control characters, non-ASCII digits and an 80-character tail never become another number."""
    r = grade_submission(manifest, parse_text("s01", f"net_T = {value}\n", "s01.txt"), Scheme())
    net = next(f for f in r["figures"] if f["name"] == "net_T")
    assert net["status"] == "unreadable" and net["marks"] == 0.0


def test_a_long_line_is_refused_at_once():
    s = parse_text("s01", "out_T = x" + " " * 64_000 + "y\n", "s01.txt")
    assert s.error == "line 1: longer than 400 characters"


@pytest.mark.parametrize("written", ["0.e9", "0.", "1.", "0.0", "1e5", "0.e-9"])
@pytest.mark.parametrize("penalty", [[], ["precision=0"]])
def test_figures_without_a_digit_of_the_answer_earn_nothing(manifest, written, penalty):
    """0.e9 (±5·10⁸ by its stated precision) everywhere once earned precision credit on every figure."""
    text = "".join(f"{n} = {written}\n" for n in right(manifest, "s01"))
    r = grade_submission(manifest, parse_text("s01", text, "s01.txt"), Scheme.parse("full", penalty))
    assert r["total"] == 0.0, [(f["name"], f["status"]) for f in r["figures"] if f["marks"]]


def test_unasked_figures_are_not_graded_and_carry_nothing_forward():
    """An update-only exam: wrong gradients (not asked) and updates consistent with them earn nothing."""
    spec = load_spec(ROOT / "examples/we05-221-sigmoid.yaml")
    m = build_manifest(spec, draw_variants(spec, 1, seed=4), seed=4, questions="update", sig=3)
    v = m["variants"][0]
    eta = spec.raw["learning_rate"]
    lines = []
    for name in v["answers"]:
        w = name[:-len("_new")]
        lines += [f"dE_d{w} = 0.500", f"{name} = {v['values']['params'][w] - eta * 0.5:.3f}"]
    r = grade_submission(m, parse_text("v001", "\n".join(lines), "v001.txt"), Scheme())
    assert r["total"] == 0.0 and {f["status"] for f in r["figures"]} == {"wrong"}
    assert "dE_dw_AT: not asked in this exam (not graded)" in r["ignored"]


# ----------------------------------------------------------------------------- grading and marks
def test_unknown_id_is_an_error_record(manifest):
    r = guarded(manifest, parse_text("nobody", "out_T = 0.5\n", "nobody.txt"), Scheme(), manifest_digest(manifest))
    assert r["status"] == "error" and r["total"] == 0.0 and r["out_of"] == 29.0
    assert r["reason"] == ("no variant for the student ID 'nobody' in the manifest (unknown student ID, and the "
                           "submission names no variant)")


def test_a_sign_slip_costs_its_figure_and_is_named(manifest):
    figures = right(manifest, "s02")
    figures["delta_F"] = flipped(figures["delta_F"])
    r = grade_submission(manifest, parse_text("s02", "".join(f"{n} = {v}\n" for n, v in figures.items()), "s02.txt"),
                         Scheme())
    wrong = [f for f in r["figures"] if f["status"] != "correct"]
    assert [(f["name"], f["status"], f["slip"]) for f in wrong] == [("delta_F", "wrong", "sign")]
    assert r["total"] == 28.0 and r["likely_cause"] == "sign"
    assert {q["name"]: q["marks"] for q in r["questions"]}["deltas"] == 2.0
    assert wrong[0]["working"] == "delta_F = out_F*(1 - out_F)*(out_F - t_F)" and wrong[0]["using"].startswith("out_F = ")
    half = grade_submission(manifest, parse_text("s02", "".join(f"{n} = {v}\n" for n, v in figures.items()),
                                                 "s02.txt"), Scheme.parse("full", ["sign=0.5"]))
    assert half["total"] == 28.5


def test_error_carried_forward_full_half_none(manifest):
    """A wrong out_T carried into net_F and on: ECF gives the later figures full, half or no credit."""
    figures = right(manifest, "s05")
    v = next(v for v in manifest["variants"] if v["id"] == "s05")
    # out_T written 0.1 too high; net_F recomputed from it by hand: net_F = out_T*w_TF + out_Bo*w_BF
    w_tf = v["values"]["params"]["w_TF"]
    out_t = float(figures["out_T"]) + 0.1
    net_f = out_t * w_tf + float(figures["out_Bo"]) * v["values"]["params"]["w_BF"]
    entries = {"net_T": figures["net_T"], "out_T": f"{out_t:.3f}", "net_Bo": figures["net_Bo"],
               "out_Bo": figures["out_Bo"], "net_F": f"{net_f:.3f}"}
    sub = parse_text("s05", "".join(f"{n} = {x}\n" for n, x in entries.items()), "s05.txt")
    by = {ecf: grade_submission(manifest, sub, Scheme.parse(ecf)) for ecf in ("full", "half", "none")}
    status = {f["name"]: f["status"] for f in by["full"]["figures"]}
    assert status["out_T"] == "wrong" and status["net_F"] == "carried_forward"
    assert [by[e]["questions"][0]["marks"] for e in ("full", "half", "none")] == [4.0, 3.5, 3.0]


def test_unreadable_and_unknown_figures_are_noted_and_the_rest_graded(manifest):
    figures = right(manifest, "s01")
    text = "".join(f"{n} = {v}\n" for n, v in figures.items() if n != "net_T") + "net_T = 0.2a\nfoo = 1\n"
    r = grade_submission(manifest, parse_text("s01", text, "s01.txt"), Scheme())
    assert r["total"] == 28.0
    net = next(f for f in r["figures"] if f["name"] == "net_T")
    assert (net["status"], net["written"], net["marks"]) == ("unreadable", "0.2a", 0.0)
    assert r["ignored"] == ["net_T: must be a number as written (e.g. 0.68 or -1.5e-3), got '0.2a'",
                            "foo: not a figure of this network"]


def test_grade_gives_the_verdicts_check_gives(tmp_path, manifest):
    """The same figures, graded by ``symbackprop check`` on the variant's spec and by grade."""
    from symbackprop.exams.manifest import variant_spec

    figures = right(manifest, "s03")
    figures["delta_F"] = flipped(figures["delta_F"])
    figures["out_T"] = "0.9"
    figures["w_TF_new"] = figures["w_TF_new"][:-1]       # one figure fewer: too coarse, or wrong
    spec = tmp_path / "s03-spec.yaml"
    spec.write_text(yaml.safe_dump(dict(variant_spec(manifest, "s03").raw)))
    answers = tmp_path / "s03.yaml"
    answers.write_text(yaml.safe_dump({"solution": figures}, sort_keys=False))
    out = runner().invoke(cli, ["check", str(spec), "--solution", str(answers), "--format", "json", "--seed", "1"])
    assert out.exit_code == 1, out.output
    checked = {f["name"]: f["status"] for f in json.loads(out.stdout)["solutions"][0]["figures"]}
    record = grade_submission(manifest, parse_yaml("s03", answers.read_text(), "s03.yaml"), Scheme())
    assert {f["name"]: f["status"] for f in record["figures"]} == checked
    assert checked["out_T"] == "wrong" and checked["delta_F"] == "wrong"


def test_feedback_shows_each_figure_and_escapes_student_text(manifest):
    from symbackprop.grade.feedback import feedback_html, feedback_markdown, feedback_tex

    figures = right(manifest, "s02")
    figures["delta_F"] = flipped(figures["delta_F"])
    del figures["E"]
    text = "".join(f"{n} = {v}\n" for n, v in figures.items()) + "E = <script>x</script>\n"
    r = grade_submission(manifest, parse_text("s02", text, "s02.txt"), Scheme())
    md, html, tex = feedback_markdown(r, manifest), feedback_html(r, manifest), feedback_tex(r, manifest)
    assert md.startswith("<!-- Generated by symbackprop") and html.startswith("<!-- Generated by symbackprop")
    assert "**Total: 27 of 29**" in md and "*sign flipped*" in md and "| ✗ | `delta_F` |" in md
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "\\<script\\>" in md and "<script>" not in md
    assert tex.startswith("% Generated by symbackprop") and "<script>" not in tex


# ----------------------------------------------------------------------------- the command, on Dask
def grade(*args: str):
    return runner().invoke(cli, ["grade", *args, "--quiet"])


@pytest.fixture(scope="module")
def dask_cluster():
    """A local 2-worker cluster started by the test itself (its address is --scheduler's)."""
    from symbackprop.grade.cluster import connect

    client, cluster = connect(2)
    yield cluster.scheduler_address
    client.close()
    cluster.close()


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_a_class_on_two_workers_then_resumed_changed_and_forced(tmp_path, manifest, manifest_file, dask_cluster):
    write_class(tmp_path / "class", manifest)
    out = tmp_path / "graded"
    first = grade(str(manifest_file), str(tmp_path / "class"), "-o", str(out), "--scheduler", dask_cluster)
    assert first.exit_code == 1, first.output            # some submissions could not be graded
    assert "graded 4 of 9 submissions; 5 could not be graded" in first.stderr
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert [r["id"] for r in rows] == ["s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08", "stranger"]
    by = {r["id"]: r for r in rows}
    assert (by["s01"]["total"], by["s02"]["total"], by["s03"]["total"], by["s04"]["total"]) == \
        ("29.00", "28.00", "22.00", "1.00")       # s03: second_pass (6) and loss_after (1) missing
    assert by["s02"]["deltas"] == "2.00" and by["s03"]["second_pass"] == by["s03"]["loss_after"] == "0.00"
    assert [by[i]["status"] for i in ("s05", "s06", "s07", "s08", "stranger")] == ["error"] * 5
    assert "unknown student ID" in by["stranger"]["reason"]
    for sid in IDS + ["stranger"]:
        assert (out / "feedback" / f"{sid}.md").is_file() and (out / "feedback" / f"{sid}.html").is_file()
    assert (out / "class-report.html").is_file() and (out / "class-report.md").is_file()
    before = files_of(out)

    again = grade(str(manifest_file), str(tmp_path / "class"), "-o", str(out), "--scheduler", dask_cluster)
    assert "9 unchanged since the last run" in again.stderr and files_of(out) == before

    figures = right(manifest, "s04")
    (tmp_path / "class" / "s04.txt").write_text("".join(f"{n} = {v}\n" for n, v in figures.items()))
    changed = grade(str(manifest_file), str(tmp_path / "class"), "-o", str(out), "--scheduler", dask_cluster)
    assert "8 unchanged since the last run" in changed.stderr
    assert {r["id"]: r["total"] for r in csv.DictReader((out / "gradebook.csv").open())}["s04"] == "29.00"

    forced = grade(str(manifest_file), str(tmp_path / "class"), "-o", str(out), "--scheduler", dask_cluster,
                   "--force")
    assert "unchanged" not in forced.stderr

    (out / "feedback" / "s02.html").unlink()          # lost feedback is written again from the stored result
    grade(str(manifest_file), str(tmp_path / "class"), "-o", str(out), "--scheduler", dask_cluster)
    assert (out / "feedback" / "s02.html").read_bytes() == before["feedback/s02.html"]


@pytest.mark.slow
def test_no_student_id_writes_outside_the_output_folder(tmp_path, manifest, manifest_file, dask_cluster):
    """IDs from a class table (and a list of single files, one of them binary) that try to leave OUTDIR."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "index.html").write_text("the instructor's page")
    net = right(manifest, "s01")["net_T"]
    rows = ["../victim/index", str(victim / "abs"), "a", "a.md/b", "..", "s01"]
    (tmp_path / "class.csv").write_text("id,net_T\n" + "".join(f"{r},{net}\n" for r in rows))
    (tmp_path / "s02.txt").write_text("net_T = " + right(manifest, "s02")["net_T"] + "\n")
    (tmp_path / "s03.yaml").write_bytes(b"\x00\x01binary")
    out = tmp_path / "graded"
    result = grade(str(manifest_file), str(tmp_path / "class.csv"), str(tmp_path / "s02.txt"),
                   str(tmp_path / "s03.yaml"), "-o", str(out), "--scheduler", dask_cluster)
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in victim.iterdir()) == ["index.html"]
    assert (victim / "index.html").read_text() == "the instructor's page"
    rows = {r["id"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
    assert rows["s01"]["status"] == rows["s02"]["status"] == "graded" and rows["s01"]["forward"] == "1.00"
    assert rows["s03"]["reason"] == "s03.yaml is a binary file, not text"
    invalid = [i for i in rows if i.startswith("invalid-")]
    assert len(invalid) == 4 and all("is not a plain ID" in rows[i]["reason"] for i in invalid)
    assert rows["a"]["status"] == "error"             # 'a' and 'a.md/b': no folder made of a file name
    written = {p.relative_to(out).parts[0] for p in out.rglob("*")}
    assert written <= {"results", "feedback", "class-report", "gradebook.csv", "class-report.md",
                       "class-report.html", ".symbackprop-grade.json"}


@pytest.mark.slow
def test_a_scheduler_without_workers_is_one_line_not_a_hang(tmp_path, manifest_file, monkeypatch):
    from distributed import LocalCluster

    import symbackprop.grade.cluster as cluster_module

    monkeypatch.setattr(cluster_module, "WAIT_FOR_WORKERS", 2.0)
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "s01.txt").write_text("out_T = 0.5\n")
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as empty:
        out = grade(str(manifest_file), str(tmp_path / "class"), "-o", str(tmp_path / "graded"), "--scheduler",
                    empty.scheduler_address)
    assert out.exit_code == 2
    assert out.stderr.strip().startswith("symbackprop: error: the Dask scheduler ")
    assert "has no worker" in out.stderr and len(out.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_output_is_byte_identical_on_one_and_two_workers(tmp_path, manifest, manifest_file, dask_cluster):
    write_class(tmp_path / "class", manifest)
    one = grade(str(manifest_file), str(tmp_path / "class"), "-o", str(tmp_path / "one"), "--workers", "1")
    two = grade(str(manifest_file), str(tmp_path / "class"), "-o", str(tmp_path / "two"), "--scheduler", dask_cluster)
    assert one.exit_code == two.exit_code == 1
    assert files_of(tmp_path / "one") == files_of(tmp_path / "two")


@pytest.mark.slow
def test_a_hanging_a_hungry_and_a_crashing_submission_do_not_cost_the_others(manifest):
    """Each gets its own error record; the worker it ran on is restarted; every other student is graded."""
    import cloudpickle

    import grade_faults
    from symbackprop.grade.cluster import connect, grade_all

    cloudpickle.register_pickle_by_value(grade_faults)
    spec = load_spec(ROOT / "examples/we05-221-sigmoid.yaml")
    ids = IDS + ["hang", "hog", "crash", "boom"]
    m = build_manifest(spec, draw_variants(spec, len(ids), seed=5, ids=ids), seed=5, questions="forward", sig=3)
    subs = [parse_text(v["id"], "".join(f"{n} = {a['shown']}\n" for n, a in v["answers"].items()), "f.txt")
            for v in m["variants"]]
    client, cluster = connect(2, memory_mb=1024)
    records: list[dict] = []
    try:
        grade_all(client, m, subs, Scheme(), manifest_digest(m), on_record=records.append, time_limit=3,
                  task=grade_faults.faulty_task)
        client.wait_for_workers(2, timeout=60)        # the nannies bring the killed and restarted ones back
        workers = len(client.scheduler_info(n_workers=-1)["workers"])
    finally:
        client.close()
        cluster.close()
    by = {r["id"]: r for r in records}
    assert sorted(by) == sorted(ids) and len(records) == len(ids)
    assert by["hang"]["reason"] == "grading took longer than 3 s (the limit per submission)"
    assert by["hog"]["reason"] == "grading needed more memory than one submission may use"
    assert by["crash"]["reason"].startswith("grading stopped its worker")
    assert by["boom"]["reason"] == "could not be graded (ValueError: a bug that strikes every time)"
    assert all(by[i].get("transient") for i in ("hang", "hog", "crash"))   # the machine's: tried again next run
    assert not by["boom"].get("transient")
    assert all(by[i]["status"] == "graded" and by[i]["total"] == 7.0 for i in IDS)
    assert workers == 2


def test_bad_input_is_one_line_and_exit_2(tmp_path, manifest_file):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("my own file")
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "s01.txt").write_text("out_T = 0.5\n")
    (tmp_path / "table.csv").write_text("who,out_T\ns01,0.5\n")
    cases = [
        ([str(tmp_path / "nope.json"), str(tmp_path / "class")], "no such file"),
        ([str(manifest_file), str(tmp_path / "class"), "-o", str(tmp_path / "mine")], "did not make it"),
        ([str(manifest_file), str(tmp_path / "class"), "--penalty", "sgn=1"], "unknown slip 'sgn'"),
        ([str(manifest_file), str(tmp_path / "absent")], "absent: cannot read: No such file"),
        ([str(manifest_file), str(tmp_path / "table.csv")], "no 'id' column"),
        ([str(manifest_file), str(tmp_path / "class"), "--scheduler", "notaurl"], "cannot use the Dask scheduler"),
        ([str(manifest_file), str(tmp_path / "class"), "--column", "out_T=Q1"], "--column and --id-column are for CSV"),
        ([str(manifest_file), str(tmp_path / "table.csv"), "--column", "out_T=Q1", "--column", "out_T=Q2"],
         "'out_T' is given twice"),
        ([str(manifest_file), str(tmp_path / "class"), "--scheduler", "tcp://[::1"], "cannot use the Dask scheduler"),
    ]
    for args, message in cases:
        if "-o" not in args:
            args = [*args, "-o", str(tmp_path / "graded")]
        out = grade(*args)
        assert out.exit_code == 2, (args, out.output)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("symbackprop: error: ") and message in lines[0], lines
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["thesis.tex"]


@pytest.mark.slow
def test_ctrl_c_leaves_a_gradebook_of_what_finished_and_the_rerun_finishes(tmp_path):
    """A real interrupt (SIGINT to the command) part-way through a 120-student class."""
    ids = [f"s{i:03d}" for i in range(1, 121)]
    (tmp_path / "roster.csv").write_text("id\n" + "\n".join(ids) + "\n")
    exam = runner().invoke(cli, ["exam", str(ROOT / "examples/we05-221-sigmoid.yaml"), "--roster",
                                 str(tmp_path / "roster.csv"), "-o", str(tmp_path / "exam")])
    assert exam.exit_code == 0, exam.output
    manifest_path = tmp_path / "exam" / "we05-221-sigmoid-variants.json"
    m = json.loads(manifest_path.read_text())
    (tmp_path / "class").mkdir()
    for v in m["variants"]:
        (tmp_path / "class" / f"{v['id']}.txt").write_text(
            "".join(f"{n} = {a['shown']}\n" for n, a in v["answers"].items()))
    out = tmp_path / "graded"
    command = [sys.executable, "-m", "symbackprop", "grade", str(manifest_path), str(tmp_path / "class"), "-o",
               str(out), "--workers", "1", "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "results").glob("*.json"))) < 5:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    done = len(list((out / "results").glob("*.json")))
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert 5 <= len(rows) == done < 120
    assert all(r["status"] == "graded" and r["total"] == "29.00" for r in rows)
    assert f"interrupted: {done} of 120 submissions graded" in stderr
    rerun = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"graded 120 of 120 submissions, {done} unchanged since the last run" in rerun.stderr
    assert len(list(csv.DictReader((out / "gradebook.csv").open()))) == 120
    shutil.rmtree(out)


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex (TeX Live)")
def test_feedback_pdf_compiles_and_reads_back(tmp_path, manifest):
    """A slipped student's feedback as PDF, read back with pdftotext: the total, the slip, the working."""
    from symbackprop.files import produced_by_symbackprop
    from symbackprop.grade.feedback import feedback_tex
    from symbackprop.render.pdf import compile_pdf

    figures = right(manifest, "s02")
    figures["delta_F"] = flipped(figures["delta_F"])
    del figures["E"]
    text = "".join(f"{n} = {v}\n" for n, v in figures.items()) + "E = {\\input{/etc/passwd}}_$^\n"
    r = grade_submission(manifest, parse_text("s02", text, "s02.txt"), Scheme())
    pdf = tmp_path / "s02.pdf"
    pdf.write_bytes(compile_pdf(feedback_tex(r, manifest), "s02"))
    assert produced_by_symbackprop(pdf)
    words = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout
    # pdftotext shows an underscore in typewriter text as a space
    assert "Total: 27 of 29" in words and "sign flipped" in words and "Working: delta F = out F*(1 - out F)" in words
    assert "root:" not in words and "input{/etc/passwd}" in words.replace("\\", "")
