"""Reading and writing meta files, atomically.

An entry's meta lives in the first of ``META_FILES`` found in its folder. Our own
entries use ``meta.yaml`` (or ``meta.json``); the others are the legacy layouts of
CM/MLCFlow (``_cm.yaml``, ``_cm.json``) and CK 1.x/2.x (``.cm/meta.json``).
"""

from __future__ import annotations

import os

from ..errors import InvalidInput, MetaError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs start-up time; annotations are strings
    from typing import Any

META_FILES = ("meta.yaml", "meta.json", "_cm.yaml", "_cm.json", ".cm/meta.json")
YAML_SUFFIXES = (".yaml", ".yml")
#: the largest meta (or ``@input``) file read
MAX_META_BYTES = 32 << 20
#: the most values a meta document may hold, counted as a copy would (YAML aliases
#: repeat what they point to: a few lines can stand for billions of values)
MAX_NODES = 1_000_000
#: the deepest nesting of lists and mappings in a meta document or request
MAX_DEPTH = 200


def _yaml() -> Any:
    import yaml

    return yaml


def parse_text(text: str, path: str) -> dict[str, Any]:
    """Parse meta text by the file's suffix; raise MetaError naming the file."""
    try:
        if path.endswith(YAML_SUFFIXES):
            yaml = _yaml()
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            data = yaml.load(text, Loader=loader)
        else:
            import json

            data = json.loads(text)
    except Exception as exc:  # both parsers raise many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MetaError(f"cannot parse {path}: {first}", path=path) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MetaError(f"{path} must hold a mapping, not {type(data).__name__}", path=path)
    if "*" in text and path.endswith(YAML_SUFFIXES):
        # YAML aliases (``*name``) share values: bound what a copy (the index's JSON, a
        # merge) would hold; without them the parsers' own recursion limits bound it
        problem = tree_problem(data)
        if problem:
            raise MetaError(f"cannot use {path}: it {problem}; refused", path=path)
    return data


def read_text(path: str, max_bytes: int | None = None) -> str:
    """A meta or input file's text: UTF-8, at most ``max_bytes`` (``MAX_META_BYTES``);
    MetaError otherwise."""
    if max_bytes is None:
        max_bytes = MAX_META_BYTES
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                raise MetaError(f"cannot read {path}: {size} bytes is over the limit of "
                                f"{max_bytes} for a meta file", path=path)
            raw = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise MetaError(f"meta file {path} is missing", path=path) from None
    except IsADirectoryError:
        raise MetaError(f"cannot read {path}: it is a folder", path=path) from None
    except OSError as exc:
        raise MetaError(f"cannot read {path}: {exc.strerror or exc}", path=path) from None
    if len(raw) > max_bytes:
        raise MetaError(f"cannot read {path}: over the limit of {max_bytes} bytes for a "
                        "meta file", path=path)
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark (Windows editors) is not content
    except UnicodeDecodeError as exc:
        raise MetaError(f"cannot read {path}: not UTF-8 text (byte {exc.start}); is it a "
                        "binary file?", path=path) from None


def read_meta(path: str) -> dict[str, Any]:
    return parse_text(read_text(path), path)


def read_input_file(path: str) -> dict[str, Any]:
    """An ``@FILE`` of request inputs (YAML by suffix, else JSON), read like a meta file:
    bounded, UTF-8, one mapping; InvalidInput naming the file otherwise."""
    if not os.path.isfile(path):
        raise InvalidInput(f"input file {path} not found")
    try:
        return parse_text(read_text(path), path)
    except MetaError as exc:
        raise InvalidInput(exc.message.replace(f"cannot use {path}", f"input file {path}")
                           .replace(f"{path} must hold", f"input file {path} must hold"),
                           path=path) from None


def tree_problem(value: Any, strict: bool = False) -> str | None:
    """What makes ``value`` unusable as meta, or None: more than ``MAX_NODES`` values
    (counting shared ones each time, as JSON would write them), nesting deeper than
    ``MAX_DEPTH``, a cycle; with ``strict`` (request inputs) also keys that are not
    strings and values JSON cannot hold (sets, bytes, objects, NaN, infinities)."""
    import math

    stack: list[tuple[Any, int, bool]] = [(value, 0, False)]
    on_path: set[int] = set()
    count = 0
    while stack:
        node, depth, leaving = stack.pop()
        if leaving:
            on_path.discard(id(node))
            continue
        count += 1
        if count > MAX_NODES:
            return f"holds more than {MAX_NODES} values (YAML aliases repeat what they name)"
        if isinstance(node, (dict, list, tuple)):
            if depth >= MAX_DEPTH:
                return f"is nested deeper than {MAX_DEPTH} levels"
            if id(node) in on_path:
                return "contains itself (a circular reference)"
            on_path.add(id(node))
            stack.append((node, depth, True))
            if isinstance(node, dict):
                for key, item in node.items():
                    if strict and not isinstance(key, str):
                        return f"has a key that is not a string: {_short(key)}"
                    stack.append((item, depth + 1, False))
            else:
                stack.extend((item, depth + 1, False) for item in node)
        elif strict:
            if isinstance(node, float) and not math.isfinite(node):
                return f"holds {node!r}, which JSON cannot store; use a string or null"
            if node is not None and not isinstance(node, (str, int, float, bool)):
                return f"holds a {type(node).__name__} value ({_short(node)}); only " \
                    "strings, numbers, booleans, null, lists and mappings are allowed"
    return None


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 40 else text[:37] + "..."


def dump_text(data: dict[str, Any], path: str) -> str:
    if path.endswith(YAML_SUFFIXES):
        yaml = _yaml()
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return str(yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True,
                             default_flow_style=False))
    # One top-level key per line, values compact: readable in a diff, and written by
    # json's C encoder (``indent=`` would switch to the pure-Python one, 10x slower).
    encode = _json_encoder()
    lines = [f"  {encode(str(key))}: {encode(value)}" for key, value in data.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n" if lines else "{}\n"


_ENCODE: Any = None


def _json_encoder() -> Any:
    global _ENCODE
    if _ENCODE is None:
        import json

        _ENCODE = json.JSONEncoder(ensure_ascii=False).encode
    return _ENCODE


def atomic_write_text(path: str, text: str, mode: int | None = None) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half.

    The data goes to a temporary file in the same folder, which is renamed over the
    target; a crash (even ``kill -9``) leaves at most a stray ``.tmp-*`` file. ``mode``
    (e.g. ``0o600`` for secrets) is the new file's; by default a replaced file keeps its
    mode and a new one gets what the umask gives.
    """
    import tempfile

    if os.path.isdir(path):
        raise InvalidInput(f"cannot write {path}: it is a folder; give a file name")
    folder = os.path.dirname(path) or "."
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        if mode is None:
            try:  # keep the mode of the file replaced, else what the umask gives a new file
                mode = os.stat(path).st_mode & 0o7777
            except OSError:
                mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    """The process umask, read without changing it where the system allows (threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_meta(path: str, data: dict[str, Any]) -> None:
    atomic_write_text(path, dump_text(data, path))


def find_meta_file(entry_dir: str) -> str | None:
    """The meta file of an entry folder, by ``META_FILES`` order, or None."""
    for name in META_FILES:
        candidate = os.path.join(entry_dir, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``update`` into a copy of ``base`` (dicts merge, other values replace)."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
