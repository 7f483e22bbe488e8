"""Make docs/gallery/lms-*.png: what each LMS export shows, approximated in a local page (no
learning platform is reachable here). Draws 3 variants of WE-5 (seed 7), exports them, turns
each platform's markup into plain HTML (a Cloze part or a pl-number-input into a text box, the
picture inline) and screenshots it with headless Chromium, MathJax typesetting the TeX:

    python scripts/lms_preview.py --mathjax /path/to/mathjax/es5/tex-svg.js   # npm install mathjax@3

Without --mathjax the TeX shows as written. Needs /usr/bin/chromium (Debian's chromium).
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from lxml import etree

from symbackprop import load_spec, spec_from_mapping
from symbackprop.exams.manifest import build_manifest
from symbackprop.exams.variants import draw_variants
from symbackprop.lms import export_files

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "gallery"
BOX = '<input size="9" style="font-size: 90%">'
QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"


def manifest() -> dict:
    raw = dict(load_spec(ROOT / "examples" / "we05-221-sigmoid.yaml").raw)
    spec = spec_from_mapping({**raw, "randomize": {"params": {"low": -1, "high": 1, "step": 0.1}}},
                             file=str(ROOT / "examples" / "we05-221-sigmoid.yaml"))
    return build_manifest(spec, draw_variants(spec, 3, seed=7), seed=7, questions="forward,deltas,gradients:w_AT,w_TF,update",
                          sig=3, marks={"forward": 2, "deltas": 2, "gradients": 2, "update": 1})


def page(body: str, mathjax: str | None, title: str) -> str:
    script = f'<script src="file://{mathjax}"></script>' if mathjax else ""
    return (f'<html><head><meta charset="utf-8">{script}<style>body {{ font-family: sans-serif; max-width: 760px; '
            f'margin: 16px; font-size: 15px }} .frame {{ border: 1px solid #ccc; padding: 10px 16px }}</style></head>'
            f'<body><p style="color:#666">{title}</p><div class="frame">{body}</div></body></html>')


def data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def moodle(files: dict[str, bytes]) -> tuple[str, str]:
    q = etree.fromstring(files[""]).findall("question")[1]
    text = q.findtext("questiontext/text")
    file = q.find("questiontext/file")
    text = text.replace(f"@@PLUGINFILE@@/{file.get('name')}", "data:image/svg+xml;base64," + file.text)
    return re.sub(r"\{\d+:NUMERICAL:[^}]*\}", BOX, text), q.findtext("generalfeedback/text")


def canvas(files: dict[str, bytes]) -> str:
    archive = zipfile.ZipFile(io.BytesIO(files[""]))
    bank = sorted(n for n in archive.namelist() if n.endswith(".xml.qti"))[0]
    item = etree.fromstring(archive.read(bank)).find(f"{QTI}objectbank/{QTI}item")
    stem = item.findtext(f"{QTI}presentation/{QTI}material/{QTI}mattext")
    for src in re.findall(r'src="%24IMS-CC-FILEBASE%24/([^"]+)"', stem):
        stem = stem.replace(f"%24IMS-CC-FILEBASE%24/{src}", data_uri(archive.read(src)))
    return stem + f"<p>Answer: {BOX}</p>"


def prairielearn(files: dict[str, bytes]) -> str:
    texts = json.loads(files["texts.json"])["variants"]
    ident = sorted(texts)[0]
    html = files["question.html"].decode("utf-8")
    svg = files[f"clientFilesQuestion/{texts[ident]['picture']}"]
    html = html.replace("{{{params.problem}}}", texts[ident]["problem"])
    html = re.sub(r"\{\{#params.picture\}\}.*?\{\{/params.picture\}\}", f'<img src="{data_uri(svg)}">', html)
    html = re.sub(r'<pl-number-input[^>]*label="([^"]*)"[^>]*></pl-number-input>', rf"\1 {BOX}", html)
    html = re.sub(r"<pl-(submission|answer)-panel>.*?</pl-\1-panel>", "", html, flags=re.S)
    return re.sub(r"</?pl-question-panel>", "", html)


def shoot(html: str, name: str, height: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.html"
        path.write_text(html, encoding="utf-8")
        subprocess.run(["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--allow-file-access-from-files", "--virtual-time-budget=15000", f"--window-size=800,{height}",
                        f"--screenshot={OUT / name}", path.as_uri()], check=True, capture_output=True, timeout=120)
    print(f"wrote {OUT / name}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mathjax", help="path of MathJax 3's es5/tex-svg.js (npm install mathjax@3)")
    mathjax = parser.parse_args().mathjax
    m = manifest()
    question, feedback = moodle(export_files(m, "moodle"))
    shoot(page(question, mathjax, "Moodle: one Cloze question per variant (export --to moodle)"), "lms-moodle.png", 1250)
    shoot(page(feedback, mathjax, "Moodle: the general feedback, the worked solution"), "lms-solution.png", 1000)
    shoot(page(canvas(export_files(m, "qti")), mathjax, "Canvas: one numerical question of a variant's bank (export --to qti)"),
          "lms-canvas.png", 560)
    shoot(page(prairielearn(export_files(m, "prairielearn")), mathjax,
               "PrairieLearn: question.html with one variant's params (export --to prairielearn)"), "lms-prairielearn.png", 1250)
    return 0


if __name__ == "__main__":
    sys.exit(main())
