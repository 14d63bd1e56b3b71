"""Autotuning: search spaces, strategies, noise-aware Pareto fronts, recorded runs.

``ck autotune program:X --space=space.yaml --objectives=time:min,size:min
--strategy=random|grid|tpe|nsga2 --budget=N [--repetitions=R] [--backend=local|ray
--ray-address=...] [--name=NAME] [--resume]`` and ``ck reduce program:X --flags="..."``.

Modules: :mod:`.space` (the space format and how a configuration becomes ``--opt`` and
``--flags``), :mod:`.strategies`, :mod:`.pareto` (noise-aware dominance, hypervolume),
:mod:`.record` (the experiment entry and ``trials.jsonl``), :mod:`.runner`
(:func:`run_tuning`, the loop and its backends), :mod:`.report` (table, PNG, HTML) and
:mod:`.program` (programs as evaluators, flag reduction). Nothing heavy is imported here.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def run_tuning(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """See :func:`cknowledge.tuning.runner.run_tuning`."""
    from .runner import run_tuning as _run

    return _run(*args, **kwargs)
