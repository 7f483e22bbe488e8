"""Which names an answer may use, and how each may be written (plain or as symbackprop prints it)."""
from __future__ import annotations

import re
import unicodedata
from functools import cached_property
from typing import Iterable, Mapping

from ...latex import latex_name
from .grammar import GREEK_SET, LatexError
from .parser import parse_atom_text


def _greek_name(ch: str) -> str | None:
    """``λ`` → ``lambda`` (Unicode Greek letters spelled as LaTeX spells them)."""
    name = unicodedata.name(ch, "")
    if not name.startswith("GREEK ") or " LETTER " not in name:
        return None
    letter = name.split(" LETTER ")[-1].lower().replace("lamda", "lambda")
    if letter.startswith("final "):
        letter = "varsigma"
    spelled = letter.capitalize() if "CAPITAL" in name else letter
    return spelled if spelled in GREEK_SET else None


def _normal(text: str) -> str:
    """Greek letters spelled out; spaces removed (the form keys are compared in)."""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch.isspace():
            continue
        out.append(_greek_name(ch) or ch)
    return "".join(out)


def _key(base: str, sub: str | None, sup: str | None) -> str:
    key = _normal(base)
    if sub:
        key += "_" + _normal(sub)
    if sup:
        key += "^" + _normal(sup)
    return key


def _loose(key: str) -> str:
    return "".join(ch for ch in key if ch not in "_(),[]^'")


class NameTable:
    """The names an answer may use, indexed by every spelling :func:`latex_to_text` accepts.

    Each name is indexed by its plain spelling and by the LaTeX symbackprop prints for it
    (``latex_names`` overrides that), and loosely with ``_ ( ) , ^`` dropped as a fallback
    (``W^{(1)}_{1,1}`` → ``w1_1_1`` when nothing else is spelled ``w111``). A spelling
    shared by two different names is *ambiguous* and refused when used; with ``names`` a
    mapping, names that stand for the same thing (``λ`` and ``lambda``) count as one.
    """

    def __init__(self, names: Iterable[str] | Mapping[str, object], latex_names: dict[str, str] | None = None):
        self.names = set(names)
        self._keys: dict[str, set[str]] = {}
        self._loose: dict[str, set[str]] = {}
        self._meaning = dict(names) if isinstance(names, Mapping) else {}
        self._trie: dict | None = None     # built on the first split
        for name in sorted(self.names):
            self._add(_key(name, None, None), name)
            printed = (latex_names or {}).get(name)
            if printed is None:
                printed = _default_latex(name)
            for spelling in _spellings(printed):
                try:
                    atom = parse_atom_text(spelling)
                except LatexError:
                    atom = None
                if atom is not None:
                    self._add(_key(*atom), name)

    def _add(self, key: str, name: str) -> None:
        for table, k in ((self._keys, key), (self._loose, _loose(key))):
            found = table.setdefault(k, set())
            if not any(self._same(name, other) for other in found):  # λ and lambda meaning one thing
                found.add(name)

    def _same(self, a: str, b: str) -> bool:
        return a == b or (a in self._meaning and b in self._meaning and self._meaning[a] == self._meaning[b])

    def lookup(self, base: str, sub: str | None, sup: str | None) -> str | None:
        """The name spelled by ``base_{sub}^{sup}``, or ``None``; raises LatexError if ambiguous."""
        key = _key(base, sub, sup)
        tables = [(self._keys, key)] + ([(self._loose, _loose(key))] if sup is None else [])
        for table, k in tables:
            found = table.get(k)
            if found and len(found) == 1:
                return next(iter(found))
            if found:
                raise LatexError(f"'{key}' could mean {', '.join(sorted(found))}: write the name plainly")
        return None

    def split(self, word: str, sub: str | None, sup: str | None) -> list[list[str]]:
        """Every way to read the letter run ``word`` (with ``sub``/``sup`` on its last part) as
        a product of names (at most 2 ways are returned).

        Linear in the length of ``word``: a left-to-right pass over a trie of the names counts
        the ways to split each prefix (capped at 2, which is all the caller needs to know), so
        no run of letters, however long or however its names overlap, is read twice.
        """
        text = _normal(word)
        n = len(text)
        trie = self._name_trie()
        ways = [0] * (n + 1)                                  # ways to split text[:i], capped at 2
        back: list[list[tuple[int, str]]] = [[] for _ in range(n + 1)]  # ≤ 2 (start, name) per end
        ways[0] = 1
        for i in range(n):
            if not ways[i]:
                continue
            node, j = trie, i
            while j < n and text[j] in node:
                node = node[text[j]]
                j += 1
                name = node.get(_END)
                if name is not None and j < n:               # the last part is looked up below
                    ways[j] = min(2, ways[j] + ways[i])
                    if len(back[j]) < 2:
                        back[j].append((i, name))
        found: list[list[str]] = []
        for i in range(max(1, n - self._longest_key), n):  # the last part is at most one key long
            if not ways[i]:
                continue
            last = self._exact(text[i:]) if sub is None and sup is None else self.lookup(text[i:], sub, sup)
            if last is None:
                continue
            for head in _paths(back, i):
                found.append(head + [last])
                if len(found) > 1:
                    return found
        return found

    def _name_trie(self) -> dict:
        """The unambiguous plain keys (``_key(name)``) as a character trie (built once)."""
        if self._trie is None:
            self._trie = {}
            for key, found in self._keys.items():
                if len(found) == 1:
                    node = self._trie
                    for ch in key:
                        node = node.setdefault(ch, {})
                    node[_END] = next(iter(found))
        return self._trie

    @cached_property
    def _longest_key(self) -> int:
        return max((len(k) for k in self._keys), default=0)

    def _exact(self, text: str) -> str | None:
        found = self._keys.get(_key(text, None, None))
        return next(iter(found)) if found and len(found) == 1 else None


_END = ""  # the trie's end-of-name marker (no key character is empty)


def _paths(back: list[list[tuple[int, str]]], end: int) -> list[list[str]]:
    """Up to 2 splits of ``text[:end]`` from the back pointers (each a list of names).

    Every back pointer leads to the start, so the depth-first walk finds each split in one pass.
    """
    out: list[list[str]] = []
    stack: list[tuple[int, tuple | None]] = [(end, None)]   # (position, names after it as a linked list)
    while stack and len(out) < 2:
        i, tail = stack.pop()
        if i == 0:
            names = []
            while tail is not None:
                name, tail = tail
                names.append(name)
            out.append(names)
            continue
        for start, name in reversed(back[i]):
            stack.append((start, (name, tail)))
    return out


def _spellings(printed: str | None) -> list[str]:
    """The printed LaTeX of a name, and for an example's quantity (``x_{1}^{[2]}``) also the
    parenthesised superscript earlier documents used (``x_{1}^{(2)}``)."""
    if not printed:
        return []
    older = _EXAMPLE_TAG.sub(r"^{(\1)}", printed)
    return [printed] if older == printed else [printed, older]


_EXAMPLE_TAG = re.compile(r"\^\{\[(\d+)\]\}")


def _default_latex(name: str) -> str | None:
    """How symbackprop prints ``name`` in LaTeX (None when the printer cannot spell it)."""
    try:
        return latex_name(name)
    except Exception:  # noqa: BLE001 - a name the printer cannot spell is matched plainly only
        return None
