"""A Griffe extension for this site only: docstring examples and Sphinx roles as Markdown.

The package's docstrings are prose with doctest examples (``>>>`` lines, run by
``pytest --doctest-modules symbackprop``) and Sphinx roles (``:class:`Spec```). Markdown
would read ``>>>`` as three nested block quotes and print the roles as they are, so before
mkdocstrings parses a docstring each doctest block (from its ``>>>`` line to the next blank
line) becomes a fenced ``pycon`` block, its ``# doctest:`` flags dropped, and each role
becomes inline code. The docstrings themselves are not changed.

mkdocs.yml loads it (``extensions: [docs/griffe_doctest.py:DoctestMarkdown]``) and keeps it
out of the built site (``exclude_docs``).
"""
from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const):`~?([^`]+)`")
_FLAGS = re.compile(r"\s*#\s*doctest:\s*[+-]\w+(?:\s*,\s*[+-]\w+)*\s*$")


def as_markdown(text: str) -> str:
    """``text`` with its doctest blocks fenced as ``pycon`` and its Sphinx roles as inline code.

    Text already inside a ``` fence is left alone, so applying it twice changes nothing.
    """
    out: list[str] = []
    in_fence = False
    doctest_indent: str | None = None  # the indentation of the doctest block being fenced
    for line in text.splitlines():
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if doctest_indent is not None:
            if stripped:
                out.append(_FLAGS.sub("", line))
                continue
            out.append(doctest_indent + "```")
            doctest_indent = None
        if stripped.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and stripped.startswith(">>>"):
            out += [indent + "```pycon", _FLAGS.sub("", line)]
            doctest_indent = indent
            continue
        out.append(line if in_fence else _ROLE.sub(r"`\1`", line))
    if doctest_indent is not None:
        out.append(doctest_indent + "```")
    return "\n".join(out)


class DoctestMarkdown(griffe.Extension):
    """Rewrite every object's docstring with :func:`as_markdown` as it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = as_markdown(obj.docstring.value)
