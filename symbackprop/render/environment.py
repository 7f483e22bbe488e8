"""The one jinja2 environment every template is rendered with.

LaTeX-safe delimiters (``\\VAR{…}``, ``\\BLOCK{…}``, ``\\#{…}``), ``StrictUndefined`` (a
missing value is an error, never an empty string), autoescape off but an explicit ``tex``
filter for text, and trailing newlines kept so output is byte-stable.

>>> tex_escape("50% of $x_1$")
'50\\\\% of \\\\$x\\\\_1\\\\$'
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"

_TEX_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
}


def tex_escape(text: object) -> str:
    """Escape text for LaTeX in one pass; control characters are dropped."""
    out = []
    for ch in str(text):
        if ch in _TEX_ESCAPES:
            out.append(_TEX_ESCAPES[ch])
        elif ord(ch) < 32 and ch not in "\n\t":
            continue
        elif ch == "\x7f":
            continue
        else:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    """The shared environment (cached)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        line_statement_prefix=None, line_comment_prefix=None,
        trim_blocks=True, lstrip_blocks=True, autoescape=False,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    env.filters["tex"] = tex_escape
    return env


def render(template: str, **context) -> str:
    """Render ``templates/<template>`` with plain-data ``context``."""
    return environment().get_template(template).render(**context)
