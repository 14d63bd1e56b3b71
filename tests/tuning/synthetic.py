"""A cheap two-objective problem for the tuning tests (no compiler)."""

from __future__ import annotations

from typing import Any

SPACE: dict[str, Any] = {"choices": {
    "x": {"type": "int", "low": 0, "high": 12, "to": "none"},
    "mode": {"type": "categorical", "values": ["a", "b", "c"], "to": "none"},
    "fast": {"type": "flag", "flag": "-ffast"},
}}
OBJECTIVES = "f1:min,f2:min"
METRICS = ("f1", "f2")


def evaluate(config: dict[str, Any]) -> dict[str, Any]:
    x, mode, fast = config["x"], config["mode"], config["fast"]
    f1 = (x - 8) ** 2 + {"a": 0.0, "b": 2.0, "c": 5.0}[mode] + (0 if fast else 1.5)
    f2 = x + (3.0 if fast else 0.0) + (1.0 if mode == "a" else 0.0)
    # three noisy samples of f1 (a spread of 2%), one exact value of f2
    return {"samples": {"f1": [f1 * 0.98, f1, f1 * 1.02], "f2": [f2]}}
