"""Reading user files safely: bounded reads of regular UTF-8 files, a strict YAML loader (no tags, no duplicate keys, bounded nesting), JSON."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from ..errors import SpecError
from .fields import quote_user_text
from .model import MAX_SPEC_BYTES, TOO_LONG


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and reads ``1e-3`` as a float (YAML 1.2)."""


class _FastStrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same rules on libyaml's parser (about four times faster), for text nested at most
    :data:`MAX_FAST_NESTING` deep (brackets, or indentation and ``-`` for block style): libyaml
    recurses in C and crashes on deep nesting."""


MAX_FAST_NESTING = 1_000


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, (str, int, float)):
            raise SpecError(f"line {key_node.start_mark.line + 1}: keys must be plain names")
        if key in mapping:
            raise SpecError(f"line {key_node.start_mark.line + 1}: duplicate key {quote_user_text(key)}")
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


def _construct_number(loader, node):
    """YAML 1.1 numbers without its base-60 form: ``1:30`` is an error, not 90 (and never a
    quadratic-time parse of a million ``:`` parts)."""
    text = loader.construct_scalar(node)
    if ":" in text:
        raise SpecError(f"line {node.start_mark.line + 1}: {quote_user_text(text)} is a base-60 number in YAML 1.1; "
                        "write it in decimal (or quote it)")
    tag = node.tag.rsplit(":", 1)[-1]
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node) if tag == "int" else \
        yaml.constructor.SafeConstructor.construct_yaml_float(loader, node)


def refuse_tag(loader, node):
    raise SpecError(f"line {node.start_mark.line + 1}: YAML type {node.tag.rsplit(':', 1)[-1]} is not allowed "
                    "(dates, binary data, sets and ordered maps have no meaning in a spec; quote the text)")


for _loader in (_StrictLoader, _FastStrictLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor("tag:yaml.org,2002:int", _construct_number)
    _loader.add_constructor("tag:yaml.org,2002:float", _construct_number)
    for _tag in ("binary", "omap", "pairs", "set", "timestamp"):
        _loader.add_constructor(f"tag:yaml.org,2002:{_tag}", refuse_tag)
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
        list("-+0123456789"),
    )


def flow_nesting(text: str) -> int:
    """How deep ``[``/``{`` brackets nest in ``text`` (quotes ignored: an upper bound), in one pass.

    >>> flow_nesting("solution: {out_T: 0.5}"), flow_nesting("[[[]]]")
    (1, 3)
    """
    depth = deepest = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _reject_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise SpecError(f"duplicate key {quote_user_text(key)}")
        out[key] = value
    return out


def read_text(path: str | Path, what: str = "spec", max_bytes: int = MAX_SPEC_BYTES) -> str:
    """A user's file as UTF-8 text, with one clear error for each way it can be unreadable."""
    file = str(path)
    try:
        if Path(path).exists() and not Path(path).is_dir() and not Path(path).is_file():
            raise SpecError(f"not a regular file (a device, pipe or socket is not a {what} file)", file=file)
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise SpecError("no such file", file=file) from None
    except IsADirectoryError:
        raise SpecError(f"is a directory, not a{'n' if what[0] in 'aeiou' else ''} {what} file",
                        file=file) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", file=file) from None
    if len(data) > max_bytes:
        raise SpecError(f"file is larger than {max_bytes} bytes", file=file)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text (byte {exc.start})", file=file) from None
    if not text.strip():
        raise SpecError("the file is empty", file=file)
    return text


def load_yaml(text: str, loader: type[yaml.SafeLoader], file: str):
    """``yaml.load`` with a safe loader; syntax errors, tags and nesting become SpecErrors."""
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - SafeLoader subclasses only
    except SpecError as exc:
        raise exc.located(file) from None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}" if mark else ""
        raise SpecError(f"YAML tag not allowed{where}: {exc.problem}", file=file) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SpecError(f"YAML syntax error{where}: {problem}", file=file) from None
    except RecursionError:
        raise SpecError("nested too deeply", file=file) from None
    except ValueError:  # an integer of more than 4300 digits
        raise SpecError(TOO_LONG, file=file) from None


def read_mapping(path: str | Path) -> dict:
    """Read a YAML or JSON file into a dict, with clear errors for every way it can be broken."""
    path = Path(path)
    return parse_mapping(read_text(path), str(path), json_text=path.suffix.lower() == ".json")


def parse_mapping(text: str, file: str, *, json_text: bool | None = None) -> dict:
    """A spec's text (YAML, or JSON when ``json_text``; ``None``: JSON if it starts with ``{``
    and parses as JSON) into a dict, with the same errors as a file, named ``file``.

    >>> parse_mapping('{"name": "t"}', "spec"), parse_mapping("name: t", "spec")
    ({'name': 't'}, {'name': 't'})
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SPEC_BYTES:
        raise SpecError(f"the spec is larger than {MAX_SPEC_BYTES} bytes", file=file)
    if not text.strip():
        raise SpecError("the spec is empty", file=file)
    if json_text is None:
        json_text = text.lstrip().startswith("{") and _is_json(text)
    if json_text:
        try:
            loaded = json.loads(text, object_pairs_hook=_reject_duplicates,
                                parse_constant=lambda c: _bad_constant(c))
        except SpecError as exc:
            raise exc.located(file) from None
        except json.JSONDecodeError as exc:
            raise SpecError(f"JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                            file=file) from None
        except RecursionError:
            raise SpecError("nested too deeply", file=file) from None
        except ValueError:  # an integer of more than 4300 digits
            raise SpecError(TOO_LONG, file=file) from None
    else:
        flow = text.count("[") + text.count("{") <= MAX_FAST_NESTING or flow_nesting(text) <= MAX_FAST_NESTING
        fast = flow and _block_nesting(text) <= MAX_FAST_NESTING
        loaded = load_yaml(text, _FastStrictLoader if fast else _StrictLoader, file)
    if not isinstance(loaded, dict):
        raise SpecError("a spec must be a mapping of keys (name, inputs, neurons, ...)", file=file)
    return loaded


def _is_json(text: str) -> bool:
    """Whether ``text`` is well-formed JSON (its errors are then JSON's; else YAML reads it)."""
    try:
        json.loads(text, object_pairs_hook=lambda pairs: None, parse_constant=lambda c: None)
    except (json.JSONDecodeError, RecursionError, ValueError):
        return False
    return True


def _block_nesting(text: str) -> int:
    """An upper bound on block-style nesting: the most leading spaces, ``-`` and ``?`` on a line
    (``- - - x`` nests three sequences on one line)."""
    return max((len(line) - len(line.lstrip(" -?")) for line in text.splitlines()), default=0)


def _bad_constant(name: str):
    raise SpecError(f"'{name}' is not a number a spec may use")
