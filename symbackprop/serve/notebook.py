"""``Derivation._repr_html_``: the explorer's diagram and click-to-see-paths view inside Jupyter.

One self-contained HTML fragment: the page's own static assets inlined (KaTeX with its fonts as
``data:`` URIs, the drawing and panel modules, the style sheet) and the explorer's data as JSON
in a ``<script type="application/json">`` element (``<`` escaped, so no user text can close it).
No server is needed; a notebook that does not run scripts (an untrusted one) shows a note
saying how to see the LaTeX view instead.

>>> from symbackprop import derive, load_spec
>>> html = derivation_html(derive(load_spec("examples/we05-221-sigmoid.yaml")))
>>> html.startswith('<div class="sbp-explorer"'), html.count("</script"), "url(data:font/woff2;base64," in html
(True, 2, True)
"""
from __future__ import annotations

import base64
import json
import re
from functools import lru_cache
from importlib import resources

from ..derive import Derivation
from ..render.explorer import explorer_view
from ..render.notebook import derivation_latex

STATIC = resources.files("symbackprop.serve") / "static"
MODULES = ("math.js", "network.js", "panels.js")   # the page's modules, in dependency order
MAX_PATHS = 200                                    # the notebook lists paths up to this many in all


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str]:
    """(style sheets, script) shared by every fragment: KaTeX with inlined fonts, the page's style, the modules."""
    css = (STATIC / "katex" / "katex.min.css").read_text(encoding="utf-8")

    def font(match: re.Match) -> str:
        data = (STATIC / "katex" / "fonts" / match.group(1)).read_bytes()
        return f"url(data:font/woff2;base64,{base64.b64encode(data).decode()}) format(\"woff2\")"

    css = re.sub(r'url\(fonts/([A-Za-z0-9_-]+\.woff2)\) format\("woff2"\)', font, css)
    css = re.sub(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)', "", css)
    page = (STATIC / "app.css").read_text(encoding="utf-8")
    page = "\n".join(line for line in page.splitlines() if line.startswith((":root", "svg ", "button", ".svg-label", ".edge-label",
                                                                             ".bias-label", ".rows", ".math-", ".params", "ol.paths",
                                                                             ".path-value", ".note", ".muted")))
    code = [(STATIC / "katex" / "katex.min.js").read_text(encoding="utf-8")]
    for name in MODULES:
        text = (STATIC / "js" / name).read_text(encoding="utf-8")
        text = re.sub(r"^import .*$", "", text, flags=re.M)
        code.append(re.sub(r"^export ", "", text, flags=re.M))
    return css + "\n" + page, "\n".join(code)


def _json_for_script(data: object) -> str:
    """JSON that cannot end its ``<script>`` element early (``<``, ``>`` and ``&`` as escapes)."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def derivation_html(d: Derivation) -> str:
    """The notebook view of ``d`` (the LaTeX view when the network is too large to draw)."""
    paths = None
    if d.method == "paths":
        paths = d
    elif d.spec.backprop_weights == "old" and sum(g.path_count for g in d.gradients.values()) <= MAX_PATHS:
        paths = d.rederive(d.spec, "paths", expansion_limit=d.expansion_limit)
    view = explorer_view(d, paths)
    if not view["drawn"]:
        return f"<div>{_escape(derivation_latex(d))}</div>"
    css, script = _assets()
    notebook = (STATIC / "js" / "notebook.js").read_text(encoding="utf-8")
    return ('<div class="sbp-explorer" style="display:grid;grid-template-columns:3fr 2fr;gap:1em">'
            f"<style>{css}</style>"
            '<div><div class="sbp-picture"></div><div class="sbp-params params"></div></div>'
            '<div class="sbp-details rows"><p class="note">This view runs in a trusted notebook (it needs '
            "JavaScript); the formulas without it: <code>from IPython.display import Latex; "
            "Latex(d._repr_latex_())</code>.</p></div>"
            f'<script type="application/json" class="explorer-data">{_json_for_script(view)}</script>'
            f"<script>(function(){{{script}\n{notebook}}})();</script></div>")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
