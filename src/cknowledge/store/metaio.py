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
    return data


def read_meta(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise MetaError(f"meta file {path} is missing", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MetaError(f"cannot read {path}: {exc}", path=path) from None
    return parse_text(text, path)


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
