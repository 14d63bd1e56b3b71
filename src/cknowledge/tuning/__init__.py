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


#: what the ``tune`` extra brings, by the part of autotuning that needs it
TUNE_NEEDS = {"numpy": "autotuning (the Pareto front)", "matplotlib": "the Pareto plot (PNG)",
              "plotly": "the interactive Pareto plot (HTML)"}


def require(module: str, what: str, extra: str = "tune") -> Any:
    """Import the optional ``module``; if it is missing, one ``InvalidInput`` line says
    what needs it and which extra of cknowledge installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        from ..errors import InvalidInput

        top = module.partition(".")[0]
        raise InvalidInput(f"{what} needs {top}, which is not installed: pip install "
                           f"'cknowledge[{extra}]'") from None


def run_tuning(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """See :func:`cknowledge.tuning.runner.run_tuning`."""
    from .runner import run_tuning as _run

    return _run(*args, **kwargs)
