"""Platform exports read into submissions (Moodle's responses report, Canvas' student analysis),
and the gradebook written back: realistic files built from a drawn manifest and our own exports,
hostile cells, and the exact cells the gradebooks hold."""
from __future__ import annotations

import csv
import io
import re

import pytest
from lxml import etree, html

from conftest import EXAMPLES
from symbackprop import load_spec, spec_from_mapping
from symbackprop.errors import SpecError
from symbackprop.exams.manifest import build_manifest
from symbackprop.exams.variants import draw_variants
from symbackprop.grade.gradebook import canvas_gradebook_csv, gradebook_csv, marks_text, safe_text
from symbackprop.grade.lms_csv import (CSV_READERS, MARKER, detect, read_canvas_student_analysis, read_moodle_responses,
                                       split_parts)
from symbackprop.grade.submissions import MAX_SUBMISSION_BYTES
from symbackprop.lms.cloze import parse_cloze
from symbackprop.lms.moodle import question_text
from symbackprop.lms.qti import QTI_NS, qti_files
from symbackprop.lms.source import load_exam

QUESTIONS = "forward,deltas,gradients:w_AT,w_TF"
MOODLE_HEADER = ["Last name", "First name", "ID number", "Email address", "State", "Started on", "Completed",
                 "Time taken", "Grade/10.00", "Question 1", "Response 1", "Right answer 1"]
CANVAS_HEAD = ["name", "id", "sis_id", "section", "section_id", "section_sis_id", "submitted"]
CANVAS_TAIL = ["n correct", "n incorrect", "score"]


def _manifest(count: int = 3, ids: list[str] | None = None) -> dict:
    raw = dict(load_spec(EXAMPLES / "we05-221-sigmoid.yaml").raw)
    spec = spec_from_mapping({**raw, "randomize": {"params": {"low": -1, "high": 1, "step": 0.1}}})
    return build_manifest(spec, draw_variants(spec, count, seed=7), seed=7, questions=QUESTIONS, sig=3, ids=ids)


@pytest.fixture(scope="module")
def manifest() -> dict:
    return _manifest()


@pytest.fixture(scope="module")
def roster() -> dict:
    return _manifest(2, ids=["s100", "s200"])


def names(m: dict) -> list[str]:
    return [a for q in m["questions"] for a in q["answers"]]


def variant(m: dict, vid: str) -> dict:
    return next(v for v in m["variants"] if v["id"] == vid)


def summary(values: list[str]) -> str:
    """A Cloze response as Moodle's report summarises it (qtype_multianswer: 'part i: …' joined by '; ')."""
    return "; ".join(f"part {k}: {v}" for k, v in enumerate(values, start=1))


def shown(m: dict, vid: str) -> list[str]:
    v = variant(m, vid)
    return [v["answers"][n]["shown"] for n in names(m)]


def right_answer(m: dict, vid: str) -> str:
    """The 'Right answer' cell: the Cloze parts' own numbers as our Moodle export writes them."""
    exam = load_exam(m)
    ev = next(v for v in exam.variants if v.id == vid)
    return summary([repr(p.answers[0].value) for p in parse_cloze(question_text(exam, ev))])


def moodle_csv(rows: list[list[str]], header: list[str] = MOODLE_HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def moodle_row(sid: str, response: str, right: str = "", *, state: str = "Finished", question: str = "",
               email: str = "") -> list[str]:
    return ["Doe", "Jo", sid, email or f"{sid}@uni.example", state, "12 May 2025, 10:00 AM", "12 May 2025, 10:40 AM",
            "40 mins", "7.50", question, response, right]


# ------------------------------------------------------------------ Moodle
def test_moodle_parts_are_the_manifest_figures_in_question_order(manifest):
    exam = load_exam(manifest)
    v = exam.variants[1]
    parts = parse_cloze(question_text(exam, v))
    expected = variant(manifest, v.id)["answers"]
    assert [p.answers[0].value for p in parts] == [expected[n]["value"] for n in names(manifest)]


def test_right_answers_identify_the_variant(manifest):
    text = moodle_csv([moodle_row("s1", summary(shown(manifest, "v002")), right_answer(manifest, "v002")),
                       moodle_row("s2", summary(shown(manifest, "v003")), right_answer(manifest, "v003"))])
    subs = read_moodle_responses(text, "exam/responses.csv", manifest)
    assert [(s.id, s.variant, s.error) for s in subs] == [("s1", "v002", None), ("s2", "v003", None)]
    assert [(n, v) for n, v, _ in subs[0].entries] == list(zip(names(manifest), shown(manifest, "v002")))
    assert subs[0].entries[2][2] == "Response 1 part 3" and subs[0].source == "responses.csv, row 2"
    assert subs[0].digest


def test_right_answers_rounded_as_php_prints_them_still_match(manifest):
    rounded = summary([f"{variant(manifest, 'v001')['answers'][n]['value']:.14g}".replace(".", ",")
                       for n in names(manifest)])
    sub, = read_moodle_responses(moodle_csv([moodle_row("s9", summary(shown(manifest, "v001")), rounded)]),
                                 "r.csv", manifest)
    assert sub.variant == "v001"


def test_roster_ids_name_the_variant(roster):
    header = [h for h in MOODLE_HEADER if h != "Right answer 1"]
    rows = [moodle_row(sid, summary(shown(roster, sid)))[:-1] for sid in ("s200", "s100")]
    subs = read_moodle_responses(moodle_csv(rows, header), "r.csv", roster)
    assert [(s.id, s.variant) for s in subs] == [("s200", "s200"), ("s100", "s100")]


def test_the_right_answer_wins_over_the_roster_id(roster):
    """A Moodle random question draws any variant: what the student answered is the Right answer's."""
    sub, = read_moodle_responses(moodle_csv([moodle_row("s100", summary(shown(roster, "s200")),
                                                        right_answer(roster, "s200"))]), "r.csv", roster)
    assert sub.variant == "s200"


def test_a_marker_in_the_question_text_names_the_variant(manifest):
    header = [h for h in MOODLE_HEADER if h != "Right answer 1"]
    row = moodle_row("s1", summary(shown(manifest, "v003")), question="Network. … [symbackprop v003]")[:-1]
    sub, = read_moodle_responses(moodle_csv([row], header), "r.csv", manifest)
    assert sub.variant == "v003"


def test_no_variant_when_nothing_names_it(manifest):
    header = [h for h in MOODLE_HEADER if h != "Right answer 1"]
    sub, = read_moodle_responses(moodle_csv([moodle_row("s1", summary(shown(manifest, "v001")))[:-1]], header),
                                 "r.csv", manifest)
    assert sub.variant is None and sub.error is None


def test_missing_parts_and_a_comma_decimal(manifest):
    values = shown(manifest, "v001")
    cell = summary(values).replace(f"part 2: {values[1]}", "part 2: ").replace(f"part 3: {values[2]}",
                                                                               f"part 3: {values[2].replace('.', ',')}")
    cell = cell.replace(f"; part {len(values)}: {values[-1]}", "")          # the last part not there at all
    sub, = read_moodle_responses(moodle_csv([moodle_row("s1", cell, right_answer(manifest, "v001"))]),
                                 "r.csv", manifest)
    got = {n: v for n, v, _ in sub.entries}
    assert names(manifest)[1] not in got and names(manifest)[-1] not in got
    assert got[names(manifest)[2]] == values[2] and sub.variant == "v001"


def test_no_answer_at_all_is_that_students_error(manifest):
    subs = read_moodle_responses(moodle_csv([moodle_row("s1", "-", right_answer(manifest, "v001")),
                                             moodle_row("s2", summary(shown(manifest, "v001")))]), "r.csv", manifest)
    assert subs[0].error == "no figures in the submission" and subs[1].error is None


def test_split_parts_keeps_a_students_semicolon_in_their_own_answer():
    assert split_parts("part 1: 1; part 2: 9; part 2: 0.22; part 3: 4", 3) == {1: "1", 2: "9; part 2: 0.22", 3: "4"}
    assert split_parts("parte 1: 0,5; parte 2: 7", 2) == {1: "0,5", 2: "7"}     # Moodle in Spanish
    assert split_parts("partie 1 : 0,5", 2) == {1: "0,5"}
    assert split_parts("hello", 2) is None


def test_hostile_rows_are_their_own_errors_never_the_files(manifest):
    values = shown(manifest, "v001")
    right = right_answer(manifest, "v001")
    formula = summary(["=HYPERLINK(\"http://x.example\",\"ok\")", "@SUM(A1)"] + values[2:])
    huge = summary(["0." + "5" * 100_000] + values[1:])
    nul = summary(["0.2\x002"] + values[1:])
    rows = [moodle_row("s1", formula, right), moodle_row("s2", huge, right), moodle_row("s3", nul, right),
            moodle_row("../etc/passwd", summary(values), right), moodle_row("s5", summary(values), right),
            moodle_row("s6", "x" * (MAX_SUBMISSION_BYTES + 10), right),
            moodle_row("s7", "part 1: 0.22", right) + ["one cell too many"]]
    subs = {s.id[:20]: s for s in read_moodle_responses(moodle_csv(rows), "r.csv", manifest)}
    first = names(manifest)[0]
    assert dict((n, v) for n, v, _ in subs["s1"].entries)[first] == "=HYPERLINK(\"http://x.example\",\"ok\")"
    cut = dict((n, v) for n, v, _ in subs["s2"].entries)[first]
    assert len(cut) <= 80 and cut.endswith("…")                      # never a number made from a prefix
    # kept unreadable, never joined into another number (0.2<NUL>2 is not 0.22)
    assert dict((n, v) for n, v, _ in subs["s3"].entries)[first] == "(a value with control characters)"
    from symbackprop.grade.submissions import surrogate
    assert "not a plain ID" in subs[surrogate("../etc/passwd")].error     # filed under a name that is no path
    assert subs["s5"].error is None and subs["s5"].variant == "v001"
    assert "larger than" in subs["s6"].error
    assert subs["s7"].error == "the row has more cells than the header"


def test_attempts_one_finished_row_per_student(manifest):
    right = right_answer(manifest, "v001")
    rows = [moodle_row("s1", summary(shown(manifest, "v001")), right, state="In progress"),
            moodle_row("s1", summary(shown(manifest, "v001")), right),
            moodle_row("s2", summary(shown(manifest, "v001")), right),
            moodle_row("s2", summary(shown(manifest, "v001")), right)]
    subs = read_moodle_responses(moodle_csv(rows), "r.csv", manifest)
    assert [(s.id, s.source) for s in subs][0] == ("s1", "r.csv, row 3")
    assert subs[1].id == "s2" and subs[1].error.startswith("2 attempts in the report")


def test_the_id_column(manifest):
    row = moodle_row("", summary(shown(manifest, "v001")), right_answer(manifest, "v001"), email="jo.doe@uni.example")
    sub, = read_moodle_responses(moodle_csv([row]), "r.csv", manifest)          # no ID numbers at all: the email
    assert (sub.id, sub.variant, sub.error) == ("jo.doe@uni.example", "v001", None)
    sub, = read_moodle_responses(moodle_csv([row]), "r.csv", manifest, id_column="ID number")
    assert sub.error == "no student ID in the column 'ID number'"
    with pytest.raises(SpecError, match=r"^r.csv: no column 'Matrikel'"):
        read_moodle_responses(moodle_csv([row]), "r.csv", manifest, id_column="Matrikel")


def test_the_response_column_of_the_exam_among_other_questions(manifest):
    header = MOODLE_HEADER[:9] + ["Response 1", "Right answer 1", "Response 2", "Right answer 2"]
    row = moodle_row("s1", "", "")[:9] + ["True", "True", summary(shown(manifest, "v002")),
                                          right_answer(manifest, "v002")]
    sub, = read_moodle_responses(moodle_csv([row], header), "r.csv", manifest)
    assert sub.variant == "v002" and sub.entries[0][2] == "Response 2 part 1"


@pytest.mark.parametrize("text, message", [
    ("id,out_T\ns1,0.5\n", "r.csv: not a Moodle responses report: no 'Response 1' column"),
    ("", "r.csv: the table has no header row"),
    ('a,"b\n', "r.csv: not CSV"),
])
def test_a_file_that_is_not_the_report_is_one_clear_error(manifest, text, message):
    with pytest.raises(SpecError) as info:
        read_moodle_responses(text, "r.csv", manifest)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


# ------------------------------------------------------------------ Canvas
def question_texts(m: dict) -> dict[tuple[str, str], str]:
    """Each exported QTI question's text as Canvas' student analysis heads its column (tags stripped)."""
    exam = load_exam(m)
    out = {}
    for path, data in qti_files(exam).items():
        if not path.endswith(".xml.qti"):
            continue
        for item in etree.fromstring(data).iter(f"{{{QTI_NS}}}item"):
            vid, name = item.get("title").split(" ", 1)
            mattext = item.find(f".//{{{QTI_NS}}}presentation//{{{QTI_NS}}}mattext").text
            out[(vid, name)] = html.fromstring(mattext).text_content()
    return out


def canvas_csv(m: dict, students: list[tuple[str, str, dict[str, str]]], *, marker: bool) -> str:
    """A student analysis: every exported question a column; each student answers their variant's."""
    texts = question_texts(m)
    columns = []
    for i, ((vid, name), text) in enumerate(sorted(texts.items()), start=1001):
        assert f"[symbackprop {vid} {name}]" in text         # the export writes the marker itself
        if not marker:                                       # as an export made before it did
            text = MARKER.sub("", text)
        columns.append((f"{i}: {text}", vid, name))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CANVAS_HEAD + [h for c in columns for h in (c[0], "1.0")] + CANVAS_TAIL)
    for n, (sis, vid, answers) in enumerate(students, start=1):
        cells = []
        for _, cvid, name in columns:
            cells += [answers.get(name, ""), "1.0" if name in answers else "0.0"] if cvid == vid else ["", ""]
        writer.writerow([f"Student {n}", str(40 + n), sis, "Sec A", "7", "", "2025-05-12 10:40:00 UTC"] + cells +
                        ["3", "2", "7.5"])
    return out.getvalue()


def test_canvas_markers_name_variant_and_figure(manifest):
    a2 = dict(zip(names(manifest), shown(manifest, "v002")))
    a3 = dict(zip(names(manifest), shown(manifest, "v003")))
    del a3[names(manifest)[0]]
    a3[names(manifest)[1]] = "=1+1"
    text = canvas_csv(manifest, [("S-1", "v002", a2), ("S-2", "v003", a3)], marker=True)
    assert detect(next(csv.reader(io.StringIO(text)))) == "canvas"
    subs = read_canvas_student_analysis(text, "analysis.csv", manifest)
    assert [(s.id, s.variant, s.error) for s in subs] == [("S-1", "v002", None), ("S-2", "v003", None)]
    assert dict((n, v) for n, v, _ in subs[0].entries) == a2
    got = dict((n, v) for n, v, _ in subs[1].entries)
    assert names(manifest)[0] not in got and got[names(manifest)[1]] == "=1+1"
    assert re.fullmatch(r"column \d+", subs[0].entries[0][2])


def test_canvas_without_markers_reads_the_figure_from_the_text_and_the_variant_from_the_roster(roster):
    answers = dict(zip(names(roster), shown(roster, "s200")))
    text = canvas_csv(roster, [("s200", "s200", answers)], marker=False)
    sub, = read_canvas_student_analysis(text, "a.csv", roster)
    assert sub.variant == "s200" and dict((n, v) for n, v, _ in sub.entries) == answers
    sub, = read_canvas_student_analysis(text, "a.csv", roster, id_column="id")        # the Canvas user ID
    assert sub.id == "41" and sub.variant is None                                 # the grader: no variant


def test_canvas_hostile_and_odd_rows(manifest):
    a1 = dict(zip(names(manifest), shown(manifest, "v001")))
    text = canvas_csv(manifest, [("../x", "v001", a1), ("", "v001", a1), ("S-3", "v001", {})], marker=True)
    subs = read_canvas_student_analysis(text, "a.csv", manifest)
    assert "not a plain ID" in subs[0].error
    assert subs[1].error == "no student ID in the column 'sis_id'"
    assert subs[2].error == "no figures in the submission"


def test_canvas_not_a_student_analysis(manifest):
    with pytest.raises(SpecError, match=r"^a.csv: not a Canvas student analysis: no 'submitted' column$"):
        read_canvas_student_analysis("name,id\nx,1\n", "a.csv", manifest)
    header = ",".join(CANVAS_HEAD + ["1: What is 2+2?", "1.0"] + CANVAS_TAIL)
    with pytest.raises(SpecError, match="no question of this exam"):
        read_canvas_student_analysis(header + "\n", "a.csv", manifest)


def test_detect():
    assert detect(MOODLE_HEADER) == "moodle" and CSV_READERS["moodle"] is read_moodle_responses
    assert detect(CANVAS_HEAD + ["123: Compute x", "1.0"] + CANVAS_TAIL) == "canvas"
    assert CSV_READERS["canvas"] is read_canvas_student_analysis
    assert detect(["id", "out_T", "Response 1"]) == "table"
    assert detect(["id", "variant", "net_T"]) == "table"


# ------------------------------------------------------------------ gradebooks
RECORDS = [
    {"id": "s2", "variant": "v002", "status": "graded", "reason": "", "total": 7.25, "out_of": 12.0,
     "questions": [{"name": "forward", "marks": 5.0}, {"name": "deltas", "marks": 2.25},
                   {"name": "gradients", "marks": -1.5}]},
    {"id": "=HYPERLINK(\"x\")", "variant": None, "status": "error", "reason": "=cmd|' /C calc'!A0",
     "total": 0.0, "out_of": 12.0, "questions": []},
    {"id": "s1", "variant": "@v001", "status": "graded", "reason": "", "total": 12.0, "out_of": 12.0,
     "questions": [{"name": "forward", "marks": 7.0}, {"name": "deltas", "marks": 3.0},
                   {"name": "gradients", "marks": 2.0}]},
    {"id": "s3", "variant": "v003", "status": "error", "reason": "\tno variant 's3' in the manifest\nforged",
     "total": 0.0, "out_of": 12.0, "questions": []},
]


def test_gradebook_cells(manifest):
    text = gradebook_csv(RECORDS, manifest)
    assert text == gradebook_csv(list(reversed(RECORDS)), manifest)          # deterministic, sorted by id
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["id", "variant", "forward", "deltas", "gradients", "total", "out_of", "status", "reason"],
        ["'=HYPERLINK(\"x\")", "", "-", "-", "-", "-", "12.00", "error", "'=cmd|' /C calc'!A0"],
        ["s1", "'@v001", "7.00", "3.00", "2.00", "12.00", "12.00", "graded", ""],
        ["s2", "v002", "5.00", "2.25", "-1.50", "7.25", "12.00", "graded", ""],   # a negative mark stays a number
        ["s3", "v003", "-", "-", "-", "-", "12.00", "error", "'no variant 's3' in the manifest forged"],
    ]
    assert "\r" not in text and text.endswith("\n")
    graded = list(csv.reader(io.StringIO(gradebook_csv(RECORDS, manifest, graded_only=True))))
    assert [r[0] for r in graded] == ["id", "s1", "s2"]


def test_text_and_marks_cells():
    assert [safe_text(x) for x in ("-1.5", "+1", "@a", "\rx", " =x", "ok")] == ["'-1.5", "'+1", "'@a", "'x", "'=x",
                                                                                "ok"]
    assert [marks_text(x) for x in (-1.5, 2, float("nan"), "3", True, None)] == ["-1.50", "2.00", "", "", "", ""]


def test_canvas_gradebook_layout(manifest):
    text = canvas_gradebook_csv(RECORDS, manifest, "Backprop exam")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Backprop exam"],
                    ["    Points Possible", "", "", "", "", "12.00"],
                    ["", "", "s1", "", "", "12.00"],
                    ["", "", "s2", "", "", "7.25"]]                     # students not graded: not touched
    rows = list(csv.reader(io.StringIO(canvas_gradebook_csv(RECORDS, manifest, "Exam (1234)", id_field="ID"))))
    assert rows[0][-1] == "Exam (1234)" and rows[2][:3] == ["", "s1", ""]
    assert text == canvas_gradebook_csv(list(reversed(RECORDS)), manifest, "Backprop exam")


@pytest.mark.parametrize("name", ["", "=1+1", "Final Score", "Unposted Current Score", "Section", "x" * 300])
def test_canvas_assignment_names_the_import_would_not_read(manifest, name):
    with pytest.raises(SpecError, match="^assignment: "):
        canvas_gradebook_csv(RECORDS, manifest, name)
    with pytest.raises(SpecError, match="^id_field: "):
        canvas_gradebook_csv(RECORDS, manifest, "Exam", id_field="Email")
