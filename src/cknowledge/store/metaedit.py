"""Rewriting a meta file with the least change: only the keys that changed.

A YAML meta keeps its comments, key order, quoting and layout (ruamel.yaml's round trip,
imported only here); a JSON meta keeps its key order, its indentation style and the
exact text of every top-level key that did not change. What changed is found by
comparing the meta as read (``old``) with the meta to write (``new``), so a value both
parsers read alike is left as it is written, whatever ruamel.yaml would make of it.
Whatever this cannot edit in place is written whole, as :func:`metaio.dump_text` does.
"""

from __future__ import annotations

import json

from .metaio import YAML_SUFFIXES, atomic_write_text, dump_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

_DELETE = object()


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types (``1`` is not ``True`` nor ``1.0`` here)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and bool(a == b)


def changes(old: dict[str, Any], new: dict[str, Any],
            prefix: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """``(key path, new value or _DELETE)`` for every difference; mappings recurse."""
    out: list[tuple[tuple[Any, ...], Any]] = []
    for key in old:
        if key not in new:
            out.append((prefix + (key,), _DELETE))
    for key, value in new.items():
        if key not in old:
            out.append((prefix + (key,), value))
        elif isinstance(value, dict) and isinstance(old[key], dict):
            out.extend(changes(old[key], value, prefix + (key,)))
        elif not same(old[key], value):
            out.append((prefix + (key,), value))
    return out


def rewrite_meta(path: str, text: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Write ``new`` to the meta file ``path`` whose current ``text`` parsed as ``old``."""
    diff = changes(old, new)
    if not diff:
        return
    edited: str | None = None
    try:
        if path.endswith(YAML_SUFFIXES):
            edited = _edit_yaml(text, diff)
        else:
            edited = _edit_json(text, new, old)
    except Exception:  # noqa: BLE001 - an odd file is written whole instead
        edited = None
    atomic_write_text(path, edited if edited is not None else dump_text(new, path))


# -- YAML ---------------------------------------------------------------------------------
def _edit_yaml(text: str, diff: list[tuple[tuple[Any, ...], Any]]) -> str | None:
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # long lines stay as the author wrote them
    doc = yaml.load(text)
    if doc is None or not hasattr(doc, "keys"):
        return None
    for path, value in diff:
        node = doc
        for key in path[:-1]:
            if key not in node or not hasattr(node[key], "keys"):
                return None  # the two parsers disagree on the shape: write it whole
            node = node[key]
        if value is _DELETE:
            if path[-1] in node:
                del node[path[-1]]
        else:
            node[path[-1]] = value
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


# -- JSON ---------------------------------------------------------------------------------
def _ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _spans(text: str) -> tuple[list[tuple[str, int, int, int]], int, int] | None:
    """The top-level members of a JSON object text: ``(key, key start, value start,
    value end)``, plus where the object's body starts and where its closing brace is."""
    decoder = json.JSONDecoder()
    i = _ws(text, 0)
    if i >= len(text) or text[i] != "{":
        return None
    body = i + 1
    i = _ws(text, body)
    spans: list[tuple[str, int, int, int]] = []
    if text[i] == "}":
        return spans, body, i
    while True:
        key, end = decoder.raw_decode(text, i)
        if not isinstance(key, str):
            return None
        colon = _ws(text, end)
        if text[colon] != ":":
            return None
        start = _ws(text, colon + 1)
        _, stop = decoder.raw_decode(text, start)
        spans.append((key, i, start, stop))
        i = _ws(text, stop)
        if text[i] == "}":
            return spans, body, i
        if text[i] != ",":
            return None
        i = _ws(text, i + 1)


def _edit_json(text: str, new: dict[str, Any], old: dict[str, Any]) -> str | None:
    found = _spans(text)
    if found is None:
        return None
    spans, body, close = found
    if not spans:
        return None
    where = {key: (k0, v0, v1) for key, k0, v0, v1 in spans}  # the last of repeated keys
    lead = text[body:spans[0][1]]               # e.g. "\n  "
    sep = text[spans[0][3]:spans[1][1]] if len(spans) > 1 else "," + (lead or " ")
    tail = text[spans[-1][3]:close]             # e.g. "\n"
    first_key, k0, v0, _ = spans[0]
    colon = text[k0 + len(json.dumps(first_key)):v0] if text[k0:v0].startswith(
        json.dumps(first_key)) else ": "
    unit = lead.lstrip("\r\n") or "  "
    block = any("\n" in text[v0:v1] for _, _, v0, v1 in spans)  # nested values indented
    ascii_only = "\\u" in text and text.isascii()

    def encode(value: Any) -> str:
        if block:
            return json.dumps(value, indent=unit, ensure_ascii=ascii_only).replace("\n", "\n" + unit)
        return json.dumps(value, ensure_ascii=ascii_only)

    parts = []
    for key, value in new.items():
        if key in where:
            k0, v0, v1 = where[key]
            if key in old and same(old[key], value):
                parts.append(text[k0:v1])
            else:
                parts.append(text[k0:v0] + encode(value))
        else:
            parts.append(json.dumps(key, ensure_ascii=ascii_only) + colon + encode(value))
    if not parts:
        return "{}\n"
    return text[:body] + lead + sep.join(parts) + tail + text[close:]
