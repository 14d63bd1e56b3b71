"""Platform facts and the fingerprint."""

from __future__ import annotations

import json
import platform
import re
import sys
import types

import pytest

from cknowledge.detect import platform as plat
from cknowledge.detect.platform import fingerprint, platform_facts


def test_facts_have_the_documented_types() -> None:
    facts = platform_facts()
    assert facts["os"] == platform.system() and facts["arch"] == platform.machine()
    assert facts["kernel"] == platform.release()
    assert set(facts["distro"]) == {"id", "version_id", "pretty_name"}
    cpu = facts["cpu"]
    assert isinstance(cpu["logical_cores"], int) and cpu["logical_cores"] >= 1
    assert isinstance(cpu["flags"], list)
    assert isinstance(facts["gpus"], list)
    assert facts["python"] == {"version": platform.python_version(),
                               "implementation": platform.python_implementation(),
                               "executable": sys.executable}
    if sys.platform.startswith("linux"):
        assert isinstance(cpu["model"], str) and cpu["model"]
        assert isinstance(facts["memory"]["total_bytes"], int) and facts["memory"]["total_bytes"] > 0
        assert isinstance(cpu["physical_cores"], int)
        assert 1 <= cpu["physical_cores"] <= cpu["logical_cores"]


def test_fingerprint_is_stable_and_16_hex() -> None:
    first = platform_facts()
    again = platform_facts(refresh=True)
    assert re.fullmatch(r"[0-9a-f]{16}", first["fingerprint"])
    assert first["fingerprint"] == again["fingerprint"] == fingerprint(first)
    assert set(first["fingerprint_parts"]) == set(plat.FINGERPRINT_KEYS)


def test_fingerprint_follows_hardware_not_volatile_facts() -> None:
    facts = platform_facts()
    other_cpu = json.loads(json.dumps(facts))
    other_cpu["cpu"]["model"] = "Some Other CPU @ 9.99GHz"
    assert fingerprint(other_cpu) != fingerprint(facts)
    other_gpu = json.loads(json.dumps(facts))
    other_gpu["gpus"] = [*other_gpu["gpus"], {"name": "Some Other GPU 1TB"}]
    assert fingerprint(other_gpu) != fingerprint(facts)
    same = json.loads(json.dumps(facts))
    same["kernel"] = "9.9.9-other"
    same["python"]["executable"] = "/elsewhere/python"
    assert fingerprint(same) == fingerprint(facts)


def test_facts_are_a_copy() -> None:
    platform_facts()["cpu"]["model"] = "changed"
    assert platform_facts()["cpu"]["model"] != "changed"


def test_parse_cpuinfo_counts_physical_cores() -> None:
    blocks = []
    for socket in (0, 1):
        for core in (0, 1):
            for _thread in (0, 1):
                blocks.append(f"processor\t: x\nmodel name\t: Xeon X\nphysical id\t: {socket}\n"
                              f"core id\t\t: {core}\nflags\t\t: fpu sse avx2\n")
    out = plat._parse_cpuinfo("\n".join(blocks))
    assert out == {"model": "Xeon X", "flags": ["fpu", "sse", "avx2"], "physical_cores": 4}
    arm = plat._parse_cpuinfo("processor : 0\nFeatures : fp asimd\nCPU implementer : 0x41\n"
                              "CPU part : 0xd0c\n")
    assert arm["model"] == "ARM implementer 0x41 part 0xd0c" and arm["flags"] == ["fp", "asimd"]


def test_distro_from_freedesktop_os_release(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path) -> None:
    import platform

    release = tmp_path / "os-release"
    release.write_text('ID=ubuntu\nVERSION_ID="22.04"\n# c\n'
                       'PRETTY_NAME="Ubuntu \\"Jammy\\" 22.04 \\$HOME"\n')
    # the standard library's parser: quoting and backslash escapes as the spec says
    monkeypatch.setattr(platform, "_os_release_candidates", (str(release),))
    monkeypatch.setattr(platform, "_os_release_cache", None)
    assert plat._distro("Linux") == {"id": "ubuntu", "version_id": "22.04",
                                     "pretty_name": 'Ubuntu "Jammy" 22.04 $HOME'}

    def missing() -> dict[str, str]:
        raise OSError("no os-release")

    monkeypatch.setattr(platform, "freedesktop_os_release", missing)
    assert plat._distro("Linux") == {"id": None, "version_id": None, "pretty_name": None}


def _fake_nvml(fail_init: bool = False) -> types.SimpleNamespace:
    def init() -> None:
        if fail_init:
            raise RuntimeError("NVML Shared Library Not Found")

    handle = object()
    return types.SimpleNamespace(
        nvmlInit=init, nvmlShutdown=lambda: None, nvmlDeviceGetCount=lambda: 1,
        nvmlSystemGetDriverVersion=lambda: b"550.54.15",
        nvmlDeviceGetHandleByIndex=lambda i: handle,
        nvmlDeviceGetName=lambda h: "NVIDIA H100 80GB HBM3",
        nvmlDeviceGetMemoryInfo=lambda h: types.SimpleNamespace(total=80 * 1024 ** 3),
        nvmlDeviceGetUUID=lambda h: "GPU-1234")


def test_gpus_through_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml())
    assert plat._gpus() == [{"index": 0, "vendor": "NVIDIA", "name": "NVIDIA H100 80GB HBM3",
                             "memory_bytes": 80 * 1024 ** 3, "memory_gib": 80.0,
                             "driver": "550.54.15", "uuid": "GPU-1234"}]
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml(fail_init=True))
    assert plat._gpus() == []
    monkeypatch.setitem(sys.modules, "pynvml", None)   # not installed: import fails
    assert plat._gpus() == []


def test_detect_platform_cli(ck) -> None:
    rc, out, err = ck("detect", "platform", "--json")
    assert rc == 0, err
    result = json.loads(out)
    assert result["return"] == 0
    assert result["fingerprint"] == platform_facts()["fingerprint"]
    assert result["fingerprint_parts"]["os"] == platform.system()
