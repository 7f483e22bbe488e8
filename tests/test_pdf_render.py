"""Every shipped example's documents compile with pdfLaTeX and show the expected figures.

Skipped only when TeX (pdflatex) or poppler (pdftotext) is not installed; CI installs both.
All documents are compiled once per session, in parallel, each in its own scratch directory;
the figures are read back from the PDF with pdftotext and compared with
``examples/*.expected.json`` (never with the engine), at the rounding each document asks for.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import EXAMPLES, EXAMPLE_SPECS, ids
from symbackprop.render import environment
from symbackprop.render.command import documents, render_command
from symbackprop.render.documents import fmt
from symbackprop.render.pdf import LatexError, compile_pdf
from symbackprop.spec import load_spec

pytestmark = pytest.mark.skipif(shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
                                reason="needs pdflatex (TeX Live) and pdftotext (poppler)")

# Display rounding per example (default 6): other roundings are exercised too.
DIGITS = {"we05-221-sigmoid": 4, "we06-221-sigmoid-updated": 5, "we13-relu-3layer": 5, "we07b-sse-l2": 4}
VALUE_KEYS = re.compile(r"^(forward\.[^.]+\.(net|out|value)|deltas\.[^.]+\.value|gradients\.[^.]+\.value"
                        r"|updated_params\.[^.]+|loss\.value|loss_after_update|forward_after_update\.[^.]+\.(net|out))$")
HOSTILE_TITLE = r"Net \input{/etc/passwd} $x^^5c$ 100%"


def applicable(path: Path) -> list[str]:
    spec = load_spec(path)
    templates = ["derivation"]
    if spec.backprop_weights == "old":
        templates.append("paths")
    if spec.has_values:
        templates += ["solution", "exam"]
    return templates


def pdf_text(pdf: Path) -> str:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.replace("\u2212", "-").replace("\u02c6", "^").replace("\u02dc", "~")


@pytest.fixture(scope="session")
def compiled(tmp_path_factory) -> dict[str, dict]:
    """{file stem: {"spec", "template", "tex", "pdf", "text", "log"}} for every document."""
    out = tmp_path_factory.mktemp("pdf")
    jobs = []
    for path in EXAMPLE_SPECS:
        for template in applicable(path):
            for name, tex in documents(path, template, "backprop", DIGITS.get(path.stem, 6), None, 0):
                jobs.append((path.stem, template, name[:-4], tex))
        if path.stem in ("we01-cubic-chain", "we02-paths-3-3-3-3-2", "we14b-two-layer"):
            for name, tex in documents(path, "derivation", "paths", 6, None, 0):  # --method paths
                jobs.append((path.stem, "derivation-by-paths", name[:-4] + "-by-paths", tex))

    def build(job):
        stem, template, name, tex = job
        logs: list[str] = []
        pdf = out / f"{name}.pdf"
        pdf.write_bytes(compile_pdf(tex, name, logs=logs))
        return name, {"spec": stem, "template": template, "tex": tex, "pdf": pdf, "text": pdf_text(pdf),
                      "log": logs[0]}

    with ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 2))) as pool:
        return dict(pool.map(build, jobs))


def test_every_example_renders_every_applicable_template(compiled):
    for path in EXAMPLE_SPECS:
        for template in applicable(path):
            names = [n for n, doc in compiled.items() if doc["spec"] == path.stem and doc["template"] == template]
            assert names, (path.stem, template)
    required = {"we04-232-symbolic", "we05-221-sigmoid", "we05-221-sigmoid-updated", "we06-221-sigmoid",
                "we08-linear-regression", "we10-relu-one-step", "we11-composite-chain", "we02-paths-3-3-3-3-2"}
    assert required <= {doc["spec"] for doc in compiled.values()}
    for doc in compiled.values():
        assert doc["pdf"].read_bytes().startswith(b"%PDF")


def test_no_line_runs_into_the_margin(compiled):
    for name, doc in compiled.items():
        widths = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", doc["log"])]
        assert max(widths, default=0.0) < 5, (name, widths)


def _expected(path: Path) -> list[tuple[str, float, float]]:
    checks = json.loads((EXAMPLES / f"{path.stem}.expected.json").read_text())["checks"]
    out = []
    for check in checks:
        if "value" not in check or not VALUE_KEYS.match(check["key"]) or check["tol"] > 1e-6:
            continue
        values = check["value"] if isinstance(check["value"], list) else [check["value"]]
        out += [(check["key"], v, check["tol"]) for v in values]
    return out


WITH_VALUES = [p for p in EXAMPLE_SPECS if load_spec(p).has_values]


@pytest.mark.parametrize("path", WITH_VALUES, ids=ids(WITH_VALUES))
def test_solution_pdf_shows_the_expected_figures(compiled, path):
    digits = DIGITS.get(path.stem, 6)
    for kind in ("solution", "exam-solution"):
        text = compiled[f"{path.stem}-{kind}"]["text"]
        words = set(re.findall(r"-?\d+\.\d+|-?\d+", text))
        missing = []
        for key, value, tol in _expected(path):
            candidates = {fmt(value - tol, digits), fmt(value, digits), fmt(value + tol, digits)}
            if digits == 0 or not candidates & words:
                missing.append((key, value, sorted(candidates)))
        assert not missing, (kind, missing[:10])


def test_exam_problem_pdf_gives_no_answers(compiled):
    text = compiled["we05-221-sigmoid-exam-problem"]["text"]
    assert "Questions" in text and "0.35" in text and "0.9" in text
    for answer in ("0.7550", "0.6803", "0.0407", "0.0991"):
        assert answer not in text


def test_paths_pdf_counts_the_paths(compiled):
    for path in EXAMPLE_SPECS:
        if f"{path.stem}-paths" not in compiled:
            continue
        text = compiled[f"{path.stem}-paths"]["text"]
        checks = json.loads((EXAMPLES / f"{path.stem}.expected.json").read_text())["checks"]
        for check in checks:
            if check["key"].endswith(".path_count"):
                count = check["value"]
                assert re.search(rf"\b{count} paths? to the loss", text), (path.stem, check["key"])
    assert "18 paths to the loss" in compiled["we02-paths-3-3-3-3-2-paths"]["text"]
    assert "more paths (not listed" in compiled["we02-paths-3-3-3-3-2-paths"]["text"]


def test_derivation_by_paths_adds_the_sums_over_paths(compiled):
    text = compiled["we14b-two-layer-derivation-by-paths"]["text"]
    assert "The same gradients as sums over paths" in text and "2 paths to the loss" in text


def test_lecture_variant_pdf_says_it_is_not_the_gradient(compiled):
    text = compiled["we05-221-sigmoid-updated-solution"]["text"]
    assert "Lecture variant, not the gradient." in text and "Not the gradient." in text
    assert "0.002410" in text and "0.002654" in text


# --------------------------------------------------------------------------- the command with --pdf

def test_render_pdf_writes_tex_and_pdf(tmp_path):
    from click.testing import CliRunner

    result = CliRunner().invoke(render_command, [str(EXAMPLES / "we05-221-sigmoid.yaml"), "--template",
                                                 "solution", "--pdf", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["we05-221-sigmoid-solution.pdf",
                                                          "we05-221-sigmoid-solution.tex"]
    assert "0.018104" in pdf_text(tmp_path / "we05-221-sigmoid-solution.pdf")


def test_hostile_text_renders_literally(tmp_path):
    from click.testing import CliRunner

    raw = (EXAMPLES / "we05-221-sigmoid.yaml").read_text()
    description = "50% of {x} & #1 ~ \\end{document} \\write18{touch pwned} λ → ≤ € ^^M\t<b>|\"`--"
    raw = re.sub(r"^title: .*$", lambda m: "title: " + json.dumps(HOSTILE_TITLE), raw, flags=re.M)
    raw = re.sub(r"^description: >-\n(  .*\n)+", lambda m: "description: " + json.dumps(description) + "\n",
                 raw, flags=re.M)
    spec = tmp_path / "hostile.yaml"
    spec.write_text(raw)
    out = tmp_path / "out"
    for template in ("derivation", "solution", "exam"):
        result = CliRunner().invoke(render_command, [str(spec), "--template", template, "--pdf", "-o", str(out)])
        assert result.exit_code == 0, result.output
    text = pdf_text(out / "we05-221-sigmoid-solution.pdf")
    assert HOSTILE_TITLE in text.replace("\n", " ")
    assert "50% of {x} & #1" in text and "\\end{document} \\write18{touch pwned}" in text
    assert not (out / "pwned").exists() and not Path("pwned").exists()


def _broken_templates(tmp_path: Path) -> Path:
    broken = tmp_path / "templates"
    shutil.copytree(environment.TEMPLATE_DIR, broken)
    base = broken / "base.tex.j2"
    base.write_text(base.read_text().replace("\\begin{document}\n", "\\begin{document}\n\\undefinedcommandxyz\n", 1))
    return broken


def test_failing_latex_leaves_the_output_directory_as_it_was(tmp_path, monkeypatch):
    from click.testing import CliRunner

    monkeypatch.setattr(environment, "TEMPLATE_DIR", _broken_templates(tmp_path))
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (out / "we05-221-sigmoid-solution.tex").write_text("an older version")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:
        runner = CliRunner()
    result = runner.invoke(render_command, [str(EXAMPLES / "we05-221-sigmoid.yaml"), "--template", "solution",
                                            "--pdf", "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith("symbackprop: error: pdflatex failed on we05-221-sigmoid-solution.tex; "
                                    "nothing was written\n")
    assert "! Undefined control sequence." in result.stderr and "\\undefinedcommandxyz" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    fresh = tmp_path / "fresh"
    result = runner.invoke(render_command, [str(EXAMPLES / "we05-221-sigmoid.yaml"), "--pdf", "-o", str(fresh)])
    assert result.exit_code == 2 and not fresh.exists()


def test_tex_cannot_reach_outside_its_scratch_directory(tmp_path):
    target = tmp_path / "written.tex"
    with pytest.raises(LatexError):
        compile_pdf("\\documentclass{article}\\begin{document}\\immediate\\openout5=" + str(target)
                    + "\\immediate\\write5{x}\\immediate\\closeout5 x\\end{document}", "probe")
    assert not target.exists()
    with pytest.raises(LatexError):
        compile_pdf("\\documentclass{article}\\begin{document}\\input{/etc/hostname}\\end{document}", "probe")
    flag = tmp_path / "shell"
    pdf = compile_pdf("\\documentclass{article}\\begin{document}\\immediate\\write18{touch " + str(flag)
                      + "}x\\end{document}", "probe")
    assert pdf.startswith(b"%PDF") and not flag.exists()


def test_a_runaway_document_is_stopped():
    with pytest.raises(LatexError, match="did not finish within 3 seconds"):
        compile_pdf("\\documentclass{article}\\begin{document}\\def\\x{\\x}\\x\\end{document}", "loop", timeout=3)
