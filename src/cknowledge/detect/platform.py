"""Facts about this machine: OS, distribution, CPU, memory, GPUs, Python; a fingerprint.

:func:`platform_facts` reads ``/etc/os-release`` (through
:func:`platform.freedesktop_os_release`), ``/proc/cpuinfo`` and ``/proc/meminfo``, and asks NVML for GPUs when ``pynvml`` (nvidia-ml-py) imports; it
starts no subprocess on Linux (macOS asks ``sysctl`` as a last resort). The facts are
computed once per process. :func:`fingerprint` hashes a stable subset of them, so it is
the same on every run of the same machine and changes when the hardware or OS does.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import sys

from ..hashing import sha256

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and the platform module cost start-up time in every `ck run`
    from typing import Any


class _LazyPlatform:
    """The standard ``platform`` module, imported on first use (``os.uname`` answers the
    common questions on POSIX without it)."""

    def __getattr__(self, name: str) -> Any:
        import platform

        return getattr(platform, name)

    def system(self) -> str:
        return os.uname().sysname if hasattr(os, "uname") else str(self.__getattr__("system")())

    def release(self) -> str:
        return os.uname().release if hasattr(os, "uname") else str(self.__getattr__("release")())

    def machine(self) -> str:
        return os.uname().machine if hasattr(os, "uname") else str(self.__getattr__("machine")())

    def python_version(self) -> str:
        return ".".join(str(x) for x in sys.version_info[:3])

    def python_implementation(self) -> str:
        return {"cpython": "CPython", "pypy": "PyPy"}.get(sys.implementation.name,
                                                           sys.implementation.name)


_platform = _LazyPlatform()

FINGERPRINT_KEYS = ("os", "distro", "arch", "cpu_model", "logical_cores", "memory_gib", "gpus")
GIB = 1024 ** 3


def platform_facts(refresh: bool = False) -> dict[str, Any]:
    """All facts (a fresh copy each call; computed once per process unless ``refresh``)."""
    if refresh:
        _facts.cache_clear()
    return copy.deepcopy(_facts())


def selected_facts(keys: tuple[str, ...]) -> dict[str, Any]:
    """Only ``keys`` of the facts (copies of those alone: cheap enough to call per step)."""
    facts = _facts()
    return {k: copy.deepcopy(facts.get(k)) for k in keys}


@functools.lru_cache(maxsize=1)
def _facts() -> dict[str, Any]:
    system = _platform.system()
    facts: dict[str, Any] = {
        "os": system,
        "distro": _distro(system),
        "kernel": _platform.release(),
        "arch": _platform.machine(),
        "cpu": _cpu(system),
        "memory": _memory(system),
        "gpus": _gpus(),
        "python": {
            "version": _platform.python_version(),
            "implementation": _platform.python_implementation(),
            "executable": sys.executable,
        },
    }
    facts["fingerprint_parts"] = fingerprint_parts(facts)
    facts["fingerprint"] = fingerprint(facts)
    return facts


def fingerprint_parts(facts: dict[str, Any]) -> dict[str, Any]:
    """The stable subset of ``facts`` that the fingerprint hashes."""
    distro = facts.get("distro") or {}
    cpu = facts.get("cpu") or {}
    memory = facts.get("memory") or {}
    total = memory.get("total_bytes")
    return {
        "os": facts.get("os"),
        "distro": f"{distro.get('id') or ''} {distro.get('version_id') or ''}".strip(),
        "arch": facts.get("arch"),
        "cpu_model": cpu.get("model"),
        "logical_cores": cpu.get("logical_cores"),
        "memory_gib": round(total / GIB) if isinstance(total, int) else None,
        "gpus": sorted(str(g.get("name")) for g in facts.get("gpus") or []),
    }


def fingerprint(facts: dict[str, Any]) -> str:
    """16 hex characters: sha256 of :func:`fingerprint_parts` as canonical JSON."""
    text = json.dumps(fingerprint_parts(facts), sort_keys=True, separators=(",", ":"))
    return sha256(text.encode("utf-8")).hexdigest()[:16]


# -- the parts -------------------------------------------------------------------------------
def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def _distro(system: str) -> dict[str, str | None]:
    if system == "Linux":
        try:  # /etc/os-release, else /usr/lib/os-release, quoting and escapes as specified
            info = _platform.freedesktop_os_release()
        except OSError:
            info = {}
        return {"id": info.get("ID"), "version_id": info.get("VERSION_ID"),
                "pretty_name": info.get("PRETTY_NAME") or info.get("NAME")}
    if system == "Darwin":
        version = _platform.mac_ver()[0]
        return {"id": "macos", "version_id": version, "pretty_name": f"macOS {version}"}
    if system == "Windows":
        release, version = _platform.win32_ver()[:2]
        return {"id": "windows", "version_id": version,
                "pretty_name": f"Windows {release} ({version})"}
    return {"id": system.lower() or None, "version_id": _platform.release(), "pretty_name": None}


def _cpu(system: str) -> dict[str, Any]:
    cpu: dict[str, Any] = {"model": None, "logical_cores": os.cpu_count(),
                           "physical_cores": None, "flags": []}
    if system == "Linux":
        cpu.update(_parse_cpuinfo(_read("/proc/cpuinfo")))
    elif system == "Darwin":
        values = _sysctl("machdep.cpu.brand_string", "hw.physicalcpu")
        cpu["model"] = values.get("machdep.cpu.brand_string")
        if (values.get("hw.physicalcpu") or "").isdigit():
            cpu["physical_cores"] = int(values["hw.physicalcpu"])
    else:
        cpu["model"] = _platform.processor() or None
    if cpu["physical_cores"] is None:
        psutil = _optional("psutil")
        if psutil is not None:
            cpu["physical_cores"] = psutil.cpu_count(logical=False)
    return cpu


def _parse_cpuinfo(text: str) -> dict[str, Any]:
    """Model, physical cores and flags from the text of ``/proc/cpuinfo``."""
    model: str | None = None
    flags: list[str] = []
    cores: set[tuple[str, str]] = set()
    arm: dict[str, str] = {}
    physical = core = ""
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key in ("model name", "Model", "cpu model") and model is None:
            model = value
        elif key in ("flags", "Features") and not flags:
            flags = value.split()
        elif key == "physical id":
            physical = value
        elif key == "core id":
            core = value
            cores.add((physical, core))
        elif key in ("CPU implementer", "CPU part"):
            arm.setdefault(key, value)
    if model is None and arm:
        model = f"ARM implementer {arm.get('CPU implementer')} part {arm.get('CPU part')}"
    out: dict[str, Any] = {"model": model, "flags": flags}
    if cores:
        out["physical_cores"] = len(cores)
    return out


def _memory(system: str) -> dict[str, Any]:
    total: int | None = None
    if system == "Linux":
        for line in _read("/proc/meminfo").splitlines():
            if line.startswith("MemTotal:"):
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    total = int(parts[1]) * 1024  # the file says kB, meaning KiB
                break
    elif system == "Darwin":
        value = _sysctl("hw.memsize").get("hw.memsize", "")
        total = int(value) if value.isdigit() else None
    if total is None:
        psutil = _optional("psutil")
        if psutil is not None:
            total = int(psutil.virtual_memory().total)
    return {"total_bytes": total,
            "total_gib": round(total / GIB, 1) if total is not None else None}


def _gpus() -> list[dict[str, Any]]:
    """NVIDIA GPUs through NVML; an empty list when pynvml or the driver is missing."""
    nvml = _optional("pynvml")
    if nvml is None:
        return []
    try:
        nvml.nvmlInit()
    except Exception:
        return []
    try:
        driver = _text(nvml.nvmlSystemGetDriverVersion())
        gpus = []
        for index in range(int(nvml.nvmlDeviceGetCount())):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            memory = int(nvml.nvmlDeviceGetMemoryInfo(handle).total)
            gpus.append({"index": index, "vendor": "NVIDIA",
                         "name": _text(nvml.nvmlDeviceGetName(handle)),
                         "memory_bytes": memory, "memory_gib": round(memory / GIB, 1),
                         "driver": driver, "uuid": _text(nvml.nvmlDeviceGetUUID(handle))})
        return gpus
    except Exception:
        return []
    finally:
        try:
            nvml.nvmlShutdown()
        except Exception:
            pass


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _optional(module: str) -> Any:
    """The module if it imports, else None (psutil and pynvml are optional)."""
    import importlib

    try:
        return importlib.import_module(module)
    except Exception:
        return None


def _sysctl(*names: str) -> dict[str, str]:
    """``sysctl -n`` values on macOS (the last resort: a subprocess)."""
    from ..errors import CKError
    from ..proc import run

    try:
        lines = run(["sysctl", "-n", *names], timeout=5, what="sysctl").splitlines()
    except CKError:
        return {}
    return {name: line.strip() for name, line in zip(names, lines)}
