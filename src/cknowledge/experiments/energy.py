"""Energy counters: Linux RAPL (``/sys/class/powercap/intel-rapl:N/energy_uj``).

:class:`EnergyMeter` reads the package domains (``intel-rapl:N``: one per CPU socket; AMD
CPUs appear under the same name on recent kernels) before and after a repetition and
gives the difference in joules, taking the counter's wrap-around
(``max_energy_range_uj``) into account. Sub-domains (``intel-rapl:N:M``: core, uncore,
DRAM) are parts of their package and are not added again; a ``psys`` domain covers the
whole platform, packages included, and is left out for the same reason.

Most systems let only root read the counters. When nothing can be read the meter says
why (``reason``), and benchmarks record ``energy: "unavailable: <why>"``. The folder can
be changed with ``CK_RAPL_DIR`` (or the ``root`` argument): that is how tests give a fake
sysfs tree.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

RAPL_ROOT = "/sys/class/powercap"
ROOT_ENV = "CK_RAPL_DIR"
_PACKAGE = re.compile(r"^intel-rapl:\d+$")


def _read_int(path: str) -> int:
    with open(path, encoding="ascii") as fh:
        return int(fh.read().strip())


class EnergyMeter:
    """The readable RAPL package domains under ``root``; ``available`` or ``reason``."""

    def __init__(self, root: str | None = None) -> None:
        self.root = root or os.environ.get(ROOT_ENV) or RAPL_ROOT
        self.domains: list[dict[str, Any]] = []
        self.reason: str | None = None
        try:
            names = sorted(n for n in os.listdir(self.root) if _PACKAGE.match(n))
        except OSError as exc:
            self.reason = f"no RAPL counters ({self.root}: {exc.strerror or exc})"
            return
        problems = []
        for name in names:
            folder = os.path.join(self.root, name)
            label = name
            try:
                with open(os.path.join(folder, "name"), encoding="utf-8") as fh:
                    label = fh.read().strip() or name
            except OSError:
                pass
            if label == "psys":
                continue
            energy = os.path.join(folder, "energy_uj")
            try:
                _read_int(energy)
            except (OSError, ValueError) as exc:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                problems.append(f"cannot read {energy} ({why})")
                continue
            try:
                wrap = _read_int(os.path.join(folder, "max_energy_range_uj"))
            except (OSError, ValueError):
                wrap = 0
            self.domains.append({"domain": name, "name": label, "file": energy,
                                 "max_range_uj": wrap})
        if not self.domains:
            self.reason = "; ".join(problems) or f"no RAPL package domains under {self.root}"

    @property
    def available(self) -> bool:
        return bool(self.domains)

    def read(self) -> list[int]:
        """The counters now, in microjoules, one per domain."""
        return [_read_int(d["file"]) for d in self.domains]

    def joules(self, before: list[int], after: list[int]) -> float:
        """Energy between two readings, summed over the domains (a wrapped counter counts
        from its maximum)."""
        total = 0
        for domain, start, end in zip(self.domains, before, after):
            delta = end - start
            if delta < 0 and domain["max_range_uj"]:
                delta += domain["max_range_uj"]
            total += max(delta, 0)
        return total / 1e6

    def describe(self) -> dict[str, Any] | str:
        """What the experiment records: the domains read, or ``unavailable: <why>``."""
        if not self.available:
            return f"unavailable: {self.reason}"
        return {"source": "rapl", "root": self.root,
                "domains": [f"{d['domain']} ({d['name']})" for d in self.domains]}
