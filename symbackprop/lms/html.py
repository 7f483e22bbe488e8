r"""HTML for learning platforms: the problem and the worked solution of a variant, with TeX
between ``\( … \)`` (inline) and ``\[ … \]`` (display) for MathJax, which Moodle, Canvas and
PrairieLearn all run on question text.

The texts come from the same contexts as the PDF handouts (:func:`symbackprop.render.exam.exam_contexts`);
HTML templates (``templates/lms-*.html.j2``) use jinja2's own delimiters with autoescape on, so
any text from a spec is escaped, and TeX ends up as text MathJax reads.

>>> str(inline_math("weights $w_{AT} = 0.1$ & <b>"))
'weights \\(w_{AT} = 0.1\\) &amp; &lt;b&gt;'
>>> aligned([{"lhs": "E", "lines": [{"rel": "=", "tex": "0.5"}]}])
'\\begin{aligned} E &= 0.5 \\end{aligned}'
>>> plain_text(r"WE-5 (target $t = 0.5$, $\eta = 1$)")
'WE-5 (target t = 0.5, η = 1)'
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable, Iterable

import jinja2
from markupsafe import Markup, escape

from ..templating import TEMPLATE_DIR
from .svg import runs

_DOLLARS = re.compile(r"\$([^$]+)\$")


def inline_math(text: object) -> Markup:
    """Text with ``$…$`` math, escaped for HTML, the math between ``\\( \\)``."""
    return Markup(_DOLLARS.sub(lambda m: rf"\({m.group(1)}\)", str(escape(str(text)))))


def plain_text(text: object) -> str:
    """Text with ``$…$`` math as plain Unicode (for titles, categories, file names)."""
    return _DOLLARS.sub(lambda m: "".join(t for t, _ in runs(m.group(1))), str(text))


def aligned(rows: Iterable[dict]) -> str:
    """Equation rows (``lhs``, ``lines`` of ``rel`` and ``tex``) as one ``aligned`` block."""
    lines = []
    for r in rows:
        for i, line in enumerate(r["lines"]):
            lines.append(f"{r['lhs'] if i == 0 else ''} &{line['rel']} {line['tex']}")
    return r"\begin{aligned} " + r" \\ ".join(lines) + r" \end{aligned}"


@lru_cache(maxsize=None)
def _environment(directory: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(directory), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["math"] = inline_math
    env.filters["aligned"] = aligned
    return env


def render_html(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` (HTML, autoescaped)."""
    return _environment(str(TEMPLATE_DIR)).get_template(template).render(**context)


def problem_html(problem: dict) -> str:
    """The network's facts and the given values (the picture and the questions are the exporter's)."""
    return render_html("lms-problem.html.j2", network=problem["network"], given=problem["given"])


def solution_html(solution: dict) -> str:
    """The worked solution: forward pass, loss, δs, gradients, the update and the second pass."""
    return render_html("lms-solution.html.j2", **solution)


def parts_html(parts: Iterable[Any], field: Callable[[Any], str], *, sig: int) -> str:
    """The questions of a variant, one row per figure: its TeX and ``field(figure)`` (trusted HTML
    the exporter makes: a Cloze part, a ``pl-number-input``)."""
    rows = [(p, [(f, Markup(field(f))) for f in p.figures]) for p in parts]
    return render_html("lms-parts.html.j2", parts=rows, sig=sig)


@lru_cache(maxsize=None)
def _code_environment(directory: str) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(directory), autoescape=False,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def render_code(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` as code (no escaping: the caller inserts literals only)."""
    return _code_environment(str(TEMPLATE_DIR)).get_template(template).render(**context)


def reference(variant: str, figure: str | None = None) -> str:
    """The line that names a question's variant (and figure) in the platform's own reports, where
    ``symbackprop grade`` reads it back (``[symbackprop v007 out_T]``; Canvas keeps it as text)."""
    what = f"{variant} {figure}" if figure else variant
    return f'<p class="symbackprop-ref" style="font-size: smaller; color: #666">[symbackprop {escape(what)}]</p>\n'
