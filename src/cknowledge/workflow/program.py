"""Program workflows: compile with the detected compiler (cached), run on a dataset, validate.

A ``program`` entry's meta adds to the script keys (deps, input_mapping, default_env):

``sources``     source files in the entry folder; ``libs``: extra linker arguments;
``run``         ``args`` (templates: ``{dataset_file}``, ``{dataset}``, ``{binary}``),
                ``dataset_tags`` (which datasets fit), ``default_dataset``;
``validate``    ``reference``: a file in the entry (template ``{dataset}``) that stdout must
                equal, line by line after trailing spaces are stripped.

The compile step is a cached workflow step like any script: its key covers the sources,
the compiler found (path, version, binary signature), ``CK_OPT`` / ``CK_FLAGS`` and the
platform; flags with ``-march=native`` add the CPU model to the key.
"""

from __future__ import annotations

import os
import shlex
import time

from ..errors import CommandFailed, InvalidInput, NotFound
from ..store.cid import ArtifactRef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..kernel.kernel import Kernel
    from .spec import ScriptSpec


STEP_VERSION = "program-2"  # part of the compile key: bump when compile_step exports change


def compile_step(spec: ScriptSpec, env: dict[str, str], folder: str,
                 on_line: Callable[[str], None] | None) -> dict[str, str]:
    """Build the program into ``folder``; export the binary's path and size."""
    from .. import proc

    cc = env.get("CK_CC")
    if not cc:
        raise InvalidInput(f"{spec.owner}: no compiler in the environment (CK_CC); its deps must "
                           "include a compiler (tags compiler,gcc)")
    sources = [str(s) for s in spec.meta.get("sources") or []]
    if not sources:
        raise InvalidInput(f"{spec.owner} lists no sources")
    paths = []
    for src in sources:
        path = os.path.join(spec.path, src)
        if not os.path.isfile(path):
            raise NotFound(f"{spec.owner}: source file {src} is missing")
        paths.append(path)
    binary = os.path.join(folder, spec.name)
    try:
        opt, flags = shlex.split(env.get("CK_OPT", "")), shlex.split(env.get("CK_FLAGS", ""))
    except ValueError as exc:
        raise InvalidInput(f"{spec.owner}: cannot read --opt/--flags: {exc}") from None
    argv = [cc, *opt, *flags,
            "-o", binary, *paths, *[str(x) for x in spec.meta.get("libs") or []]]
    proc.run(argv, cwd=folder, env=env, on_line=on_line, what=f"{spec.owner} compile")
    out = {"CK_PROGRAM_BINARY": binary, "CK_PROGRAM_BINARY_SIZE": str(os.path.getsize(binary)),
           "CK_PROGRAM_COMPILE": shlex.join(argv)}
    code = code_size(binary)
    if code is not None:
        out["CK_PROGRAM_CODE_SIZE"] = str(code)
    return out


def code_size(path: str) -> int | None:
    """Bytes of code and initialised data in an ELF file (what ``size`` calls text + data):
    the sum of the sections that occupy memory and have content. None if not ELF. The file
    size hides most changes behind page padding; this does not."""
    import struct

    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
            if head[:4] != b"\x7fELF":
                return None
            is64, little = head[4] == 2, head[5] == 1
            end = "<" if little else ">"
            if is64:
                shoff, = struct.unpack_from(end + "Q", head, 0x28)
                shentsize, shnum = struct.unpack_from(end + "HH", head, 0x3A)
            else:
                shoff, = struct.unpack_from(end + "I", head, 0x20)
                shentsize, shnum = struct.unpack_from(end + "HH", head, 0x2E)
            fh.seek(shoff)
            table = fh.read(shentsize * shnum)
    except (OSError, struct.error):
        return None
    total = 0
    for i in range(shnum):
        base = i * shentsize
        try:
            if is64:
                sh_type, sh_flags = struct.unpack_from(end + "IQ", table, base + 4)
                sh_size, = struct.unpack_from(end + "Q", table, base + 0x20)
            else:
                sh_type, sh_flags = struct.unpack_from(end + "II", table, base + 4)
                sh_size, = struct.unpack_from(end + "I", table, base + 0x14)
        except struct.error:
            return None
        if sh_flags & 0x2 and sh_type != 8:  # SHF_ALLOC, not SHT_NOBITS (.bss)
            total += sh_size
    return total


def platform_keys(spec: ScriptSpec, env: dict[str, str]) -> tuple[str, ...]:
    flags = env.get("CK_FLAGS", "") + " " + env.get("CK_OPT", "")
    return spec.platform_keys + (("cpu",) if "native" in flags else ())


def pick_dataset(kernel: Kernel, meta: dict[str, Any], dataset: str | None) -> dict[str, Any]:
    run = meta.get("run") or {}
    if dataset:
        return kernel.store.load("dataset", ArtifactRef(*_split(dataset)))
    default = run.get("default_dataset")
    if default:
        return kernel.store.load("dataset", ArtifactRef(None, str(default)))
    tags = [str(t) for t in run.get("dataset_tags") or []]
    found = kernel.store.find("dataset", ArtifactRef(), tags, with_meta=True)
    if not found:
        raise NotFound(f"no dataset has the tags {','.join(tags)}; give one with --dataset=NAME")
    return found[0]


def _split(text: str) -> tuple[str | None, str]:
    repo, sep, name = text.partition(":")
    return (repo, name) if sep else (None, repo)


def run_binary(meta: dict[str, Any], entry_path: str, binary: str, dataset: dict[str, Any],
               repetitions: int, validate: bool, timeout: float | None) -> dict[str, Any]:
    """Run the built program on a dataset; time each run; check stdout against the reference."""
    from .. import proc

    dmeta = dataset.get("meta") or {}
    dfile = os.path.join(dataset["path"], str(dmeta.get("file") or ""))
    if not os.path.isfile(dfile):
        raise NotFound(f"dataset {dataset['name']} has no file {dmeta.get('file')!r}")
    values = {"dataset_file": dfile, "dataset": dataset["name"], "binary": binary}
    try:
        args = [str(a).format(**values) for a in (meta.get("run") or {}).get("args") or []]
    except KeyError as exc:
        raise InvalidInput(f"run.args uses an unknown placeholder {exc}") from None
    times, output = [], ""
    for _ in range(max(1, repetitions)):
        start = time.perf_counter()
        output = proc.run([binary, *args], cwd=os.path.dirname(binary), timeout=timeout,
                          what=f"program {os.path.basename(binary)}")
        times.append(time.perf_counter() - start)
    result: dict[str, Any] = {"dataset": dataset["name"], "times_s": times,
                              "time_s": sorted(times)[len(times) // 2], "output": output,
                              "valid": None}
    reference = (meta.get("validate") or {}).get("reference")
    if validate and reference:
        ref_path = os.path.join(entry_path, str(reference).format(**values))
        if not os.path.isfile(ref_path):
            raise NotFound(f"no reference output {ref_path} for dataset {dataset['name']}")
        with open(ref_path, encoding="utf-8") as fh:
            expected = [line.rstrip() for line in fh.read().strip().splitlines()]
        got = [line.rstrip() for line in output.strip().splitlines()]
        result["valid"] = got == expected
        if not result["valid"]:
            raise CommandFailed(f"the output of {os.path.basename(binary)} on {dataset['name']} "
                                f"differs from {ref_path}: got {' | '.join(got[:3])!r}, expected "
                                f"{' | '.join(expected[:3])!r}", result=result)
    return result
