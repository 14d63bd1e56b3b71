"""LoadGen's configuration files: the official mlperf.conf and a generated user.conf.

LoadGen (4.1 and later) carries the official ``mlperf.conf`` inside itself and reads it
whenever a ``user.conf`` is loaded with ``TestSettings.FromConfig(path, model, scenario)``:
the seeds, the minimum durations, the per-benchmark performance sample count. The harness
writes what it chooses (minimum duration and query count, the expected speed from the
warm-up, a cap) into ``user.conf`` in the output folder and loads that once, so the run's
settings come from the two files the way MLPerf's reference harnesses set them, and the
user.conf that a submission's ``measurements`` needs is the one the run really used.

``model`` is the name mlperf.conf uses for the benchmark the run is measured against
(object detection on COCO: ``yolo``).
"""

from __future__ import annotations

import os
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .common import HarnessError
else:
    from common import HarnessError

USER_CONF = "user.conf"
CONF_MODEL = "yolo"


def user_conf_lines(model: str, scenario: str, values: dict[str, Any]) -> list[str]:
    """``model.scenario.key = value`` lines, in key order, for the values that are set."""
    lines = []
    for key in sorted(values):
        value = values[key]
        if value is None:
            continue
        text = repr(float(value)) if isinstance(value, float) else str(int(value))
        lines.append(f"{model}.{scenario}.{key} = {text}")
    return lines


def write_user_conf(folder: str, model: str, scenario: str, values: dict[str, Any]) -> str:
    path = os.path.join(os.path.abspath(folder), USER_CONF)
    text = ("# LoadGen user.conf written by the cknowledge MLPerf harness for this run\n"
            "# (LoadGen reads its built-in mlperf.conf first, then these lines)\n"
            + "".join(line + "\n" for line in user_conf_lines(model, scenario, values)))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def load(lg: Any, settings: Any, path: str, model: str, scenario: str) -> None:
    """Read mlperf.conf (built into LoadGen) and ``path`` into ``settings``; once per
    process (LoadGen marks a second user.conf as an error in its log)."""
    status = settings.FromConfig(path, model, scenario)
    if status != 0:
        raise HarnessError(f"LoadGen refused the configuration {path} (status {status}): "
                           "see mlperf_log_detail.txt for the line")
