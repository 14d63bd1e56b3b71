"""The system description JSON of an MLPerf submission, with every field the checker reads.

MLCommons' submission checker requires the fields of :data:`REQUIRED` in
``systems/<system>.json`` and a non-empty value for those of :data:`MEANINGFUL` (a number 0
counts as empty there, so counts of zero are written as the text ``"0"``). What the run's
recorded platform facts tell (CPU, cores, memory, OS, GPUs) is filled in; what no detector
can know (cooling, the memory configuration, the storage and networking of the machine when
it is not this one) comes from the ``system`` input, and a missing one is an error naming
every such field with an example.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from ..errors import InvalidInput

REQUIRED = (
    "division", "submitter", "status", "system_name", "number_of_nodes",
    "host_processor_model_name", "host_processors_per_node", "host_processor_core_count",
    "host_memory_capacity", "host_storage_capacity", "host_storage_type",
    "accelerators_per_node", "accelerator_model_name", "accelerator_memory_capacity",
    "framework", "operating_system", "system_type", "other_software_stack",
    "host_processor_frequency", "host_processor_caches", "host_memory_configuration",
    "host_processor_interconnect", "host_networking", "host_networking_topology",
    "accelerator_frequency", "accelerator_host_interconnect", "accelerator_interconnect",
    "accelerator_interconnect_topology", "accelerator_memory_configuration",
    "accelerator_on-chip_memories", "cooling", "hw_notes", "sw_notes",
    "host_network_card_count", "system_type_detail")
MEANINGFUL = (
    "division", "submitter", "system_type", "status", "system_name", "number_of_nodes",
    "host_processor_model_name", "host_processors_per_node", "host_processor_core_count",
    "host_memory_capacity", "host_memory_configuration", "host_storage_capacity",
    "host_storage_type", "host_networking", "host_network_card_count",
    "host_networking_topology", "accelerators_per_node", "accelerator_model_name",
    "accelerator_memory_capacity", "accelerator_host_interconnect",
    "accelerator_memory_configuration", "accelerator_interconnect", "cooling", "framework",
    "operating_system", "other_software_stack")
STATUSES = ("available", "preview", "rdi")
SYSTEM_TYPES = ("edge", "datacenter", "datacenter,edge", "edge,datacenter")
EXAMPLES = {"cooling": "air", "host_memory_configuration": "'2x 16 GiB DDR4'",
            "accelerator_host_interconnect": "'PCIe 5.0 x16'",
            "accelerator_memory_configuration": "HBM3",
            "host_storage_capacity": "'500 GB'", "host_storage_type": "SSD",
            "host_networking": "Ethernet", "host_network_card_count": "1"}


def _this_machine() -> dict[str, Any]:
    """Storage and network facts of this machine (used only when the runs ran here)."""
    found: dict[str, Any] = {}
    try:
        total = shutil.disk_usage(os.path.expanduser("~")).total
        found["host_storage_capacity"] = f"{round(total / 1e9)} GB"
    except OSError:
        pass
    try:
        rotational = set()
        for dev in os.listdir("/sys/block"):
            if dev.startswith(("loop", "ram", "zram")):
                continue
            with open(f"/sys/block/{dev}/queue/rotational", encoding="ascii") as fh:
                rotational.add(fh.read().strip())
        if rotational:
            found["host_storage_type"] = "HDD" if rotational == {"1"} else "SSD"
    except OSError:
        pass
    try:
        cards = [n for n in os.listdir("/sys/class/net") if n != "lo"
                 and os.path.exists(f"/sys/class/net/{n}/device")]
        found["host_network_card_count"] = str(len(cards))
        if cards:
            found["host_networking"] = "Ethernet"
    except OSError:
        pass
    return found


def accelerator(facts: dict[str, Any]) -> dict[str, Any]:
    """The fields of the GPU a CUDA run used (ONNX Runtime's device 0); how it is attached
    and its memory type no detector reads, so those are asked for."""
    gpus = [g for g in facts.get("gpus") or [] if isinstance(g, dict)]
    gpu = gpus[0] if gpus else {}
    return {"accelerators_per_node": "1", "accelerator_model_name": gpu.get("name") or "",
            "accelerator_memory_capacity": f"{gpu['memory_gib']} GiB"
            if gpu.get("memory_gib") else "",
            "accelerator_host_interconnect": "", "accelerator_memory_configuration": "",
            "accelerator_interconnect": "N/A (one accelerator)",
            "accelerator_frequency": "", "accelerator_on-chip_memories": "",
            "accelerator_interconnect_topology": "N/A (one accelerator)",
            "hw_notes": f"NVIDIA driver {gpu.get('driver')}" if gpu.get("driver") else ""}


def describe(system_name: str, facts: dict[str, Any], framework: str, division: str,
             submitter: str, software: str, here: bool, given: dict[str, Any] | None = None,
             status: str = "available", device: str = "cpu") -> dict[str, Any]:
    """The system JSON for runs made on the machine ``facts`` describes (``here``: the
    fingerprint is this machine's, so its storage and network may be read); ``given``
    sets or overrides any field."""
    from .layout import host_fields

    gpus = [str(g.get("name")) for g in facts.get("gpus") or [] if isinstance(g, dict)]
    desc: dict[str, Any] = {field: "" for field in REQUIRED}
    desc.update(host_fields(facts))
    desc.update({
        "division": division, "submitter": submitter, "status": status,
        "system_name": system_name, "system_type": "edge", "number_of_nodes": 1,
        "framework": framework, "other_software_stack": software,
        # the harness runs the model on the host CPU
        "accelerators_per_node": "0", "accelerator_model_name": "N/A",
        "accelerator_memory_capacity": "N/A", "accelerator_host_interconnect": "N/A",
        "accelerator_memory_configuration": "N/A", "accelerator_interconnect": "N/A",
        "accelerator_frequency": "N/A", "accelerator_on-chip_memories": "N/A",
        "accelerator_interconnect_topology": "N/A",
        "host_networking_topology": "N/A (single node)",
        "system_type_detail": "single-node edge system",
        "sw_notes": "cknowledge MLPerf object-detection harness",
        "hw_notes": "GPUs present, not used: " + ", ".join(gpus) if gpus else "",
        "platform_fingerprint": facts.get("fingerprint"),
    })
    if device != "cpu":
        desc.update(accelerator(facts))
    if here:
        desc.update(_this_machine())
    for key, value in (given or {}).items():
        desc[str(key)] = value
    problems = []
    if str(desc["status"]).lower() not in STATUSES:
        problems.append(f"status {desc['status']!r} is not one of {', '.join(STATUSES)}")
    if desc["system_type"] not in SYSTEM_TYPES:
        problems.append(f"system_type {desc['system_type']!r} is not one of "
                        f"{', '.join(SYSTEM_TYPES)}")
    empty = [f for f in MEANINGFUL if desc.get(f) in ("", None, 0, [], {})]
    if empty:
        how = " ".join(f"--system.{f}={EXAMPLES.get(f, '...')}" for f in empty)
        problems.append(f"no detector knows {', '.join(empty)}: give them, e.g. {how}")
    if problems:
        raise InvalidInput(f"the system description of {system_name} is incomplete: "
                           + "; ".join(problems), fields=empty)
    return desc
