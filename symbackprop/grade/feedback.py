"""One student's feedback from their record: Markdown, HTML and LaTeX (``--pdf``), from ``templates/feedback.*.j2``.

Each figure is shown ✓ / ↳ (carried forward) / ~ (too few digits) / ✗ / — (missing) with the
student's value, the correct one and its marks; for each figure that is not right, the slip
the checker named and the correct working (the figure's formula with the correct values it
uses). Everything shown comes from the record; nothing is graded or computed here. Student
text is escaped for each format (HTML autoescape, Markdown punctuation, the ``tex`` filter).

>>> r = {"id": "s1", "variant": "s1", "status": "error", "reason": "s1.yaml is empty", "questions": []}
>>> "**Not graded:** s1.yaml is empty" in feedback_markdown(r, {"questions": [], "spec_name": "we05"})
True
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping

import jinja2

from ..templating import TEMPLATE_DIR, environment

SYMBOL = {"correct": "✓", "carried_forward": "↳", "insufficient_precision": "~", "wrong": "✗", "missing": "—",
          "unreadable": "✗"}
TEX_SYMBOL = {"correct": r"\good", "carried_forward": r"\ecf", "insufficient_precision": r"\coarse",
              "wrong": r"\bad", "missing": r"\none", "unreadable": r"\bad"}
WORDS = {"correct": "right", "carried_forward": "wrong, but it follows from your own earlier figures",
         "insufficient_precision": "right, but written to fewer digits than asked for", "wrong": "wrong",
         "missing": "missing", "unreadable": "not a number as written"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def marks_text(x: float) -> str:
    """Marks as shown: at most two decimals, no trailing zeros (``7``, ``2.5``, ``0.33``).

    >>> marks_text(7.0), marks_text(2.5), marks_text(1 / 3)
    ('7', '2.5', '0.33')
    """
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def md_escape(text: object) -> str:
    """Text safe in Markdown (and in the HTML a Markdown viewer makes of it): one line, punctuation escaped."""
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def _code(text: object) -> str:
    return " ".join(str(text).replace("`", "'").split())


@lru_cache(maxsize=None)
def _environment(directory: str, html: bool) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(directory), autoescape=html,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters.update(marks=marks_text, md=md_escape, code=_code)
    return env


@lru_cache(maxsize=None)
def _tex_environment() -> jinja2.Environment:
    env = environment().overlay()
    env.filters["marks"] = marks_text
    return env


def _context(record: Mapping, manifest: Mapping) -> dict:
    title = manifest.get("title") or manifest.get("spec_name", "Exam")
    questions = [{"name": q["name"], "title": q["title"],
                  "figures": [f for f in record.get("figures", []) if f["question"] == q["name"]]}
                 for q in manifest["questions"]]
    return {"r": record, "title": title, "questions": questions, "symbol": SYMBOL, "words": WORDS,
            "texsymbol": TEX_SYMBOL}


def feedback_markdown(record: Mapping, manifest: Mapping) -> str:
    """``feedback/<id>.md``."""
    text = _environment(str(TEMPLATE_DIR), False).get_template("feedback.md.j2").render(**_context(record, manifest))
    return re.sub(r"\n{3,}", "\n\n", text)


def feedback_html(record: Mapping, manifest: Mapping) -> str:
    """``feedback/<id>.html`` (self-contained, escaped)."""
    return _environment(str(TEMPLATE_DIR), True).get_template("feedback.html.j2").render(**_context(record, manifest))


def feedback_tex(record: Mapping, manifest: Mapping) -> str:
    """The LaTeX of ``feedback/<id>.pdf``."""
    return _tex_environment().get_template("feedback.tex.j2").render(**_context(record, manifest))
