"""The Ray backend: trials run in parallel on a local Ray with two workers."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from cknowledge.tuning.record import read_trials
from cknowledge.tuning.runner import run_tuning
from tests.tuning.synthetic import METRICS, OBJECTIVES, SPACE

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance with 2 worker CPUs, started and stopped by this module."""
    if ray.is_initialized():
        ray.shutdown()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.pathsep.join([os.path.join(root, "src"), root, os.environ.get("PYTHONPATH", "")])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": path}})

    @ray.remote(num_cpus=1)
    def warm() -> int:  # both workers up before the timing-sensitive test
        time.sleep(0.5)
        return os.getpid()

    ray.get([warm.remote() for _ in range(2)])
    yield ray
    ray.shutdown()


def test_trials_run_in_two_workers_in_parallel(local_ray, home) -> None:
    from cknowledge.api import kernel_for

    def slow(config):  # a local function: Ray ships it by value
        import os
        import time

        from tests.tuning.synthetic import evaluate

        start = time.time()
        time.sleep(0.4)
        out = evaluate(config)
        out["pid"] = os.getpid()
        out["start"], out["end"] = start, time.time()
        if config["mode"] == "c" and config["x"] > 10:
            raise ValueError("rejected")
        return out

    r = run_tuning(kernel_for(str(home)), slow, space=SPACE, objectives=OBJECTIVES,
                   metrics=METRICS, strategy="tpe", budget=6, seed=1, backend="ray", workers=2,
                   name="on-ray", plots=False)
    assert r["trials"]["count"] == 6 and r["front"]
    records = read_trials(r["experiment"]["trials"])
    assert len(records) == 6
    ok_records = [t for t in records if t["status"] == "ok"]
    pids = {t["info"]["pid"] for t in ok_records}
    assert os.getpid() not in pids and len(pids) == 2, pids
    spans = sorted((t["info"]["start"], t["info"]["end"]) for t in ok_records)
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:])), "no two trials overlapped"
    # the Ray started by the test is still there: the backend only stops a Ray it started
    assert local_ray.is_initialized()


@pytest.mark.builtin
@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_a_program_is_tuned_on_ray_workers(local_ray, home) -> None:
    from tests.conftest import ok

    r = ok(action="autotune", automation="program", artifact="cbench-crc32", strategy="random",
           budget=2, repetitions=2, backend="ray", name="crc-on-ray")
    assert r["trials"] == {"count": 2, "ok": 2, "failed": 0, "infeasible": 0, "new": 2, "resumed": 0}
    assert os.path.isfile(r["html"])


@pytest.mark.builtin
def test_a_solution_is_tuned_on_ray_workers(local_ray, home) -> None:
    from tests.conftest import access, ok
    from tests.solutions.test_generic import TOY, WORK

    assert access(action="list", automation="repo")["return"] == 0
    folder = home / "repos" / "local" / "solution" / "toy"
    folder.mkdir(parents=True)
    import yaml

    (folder / "meta.yaml").write_text(yaml.safe_dump(TOY))
    (folder / "work.py").write_text(WORK)
    r = ok(action="autotune", automation="solution", artifact="toy", space="n", mode="b",
           objectives="score:max,cost:min", strategy="random", budget=3, backend="ray",
           workers=2, name="toy-on-ray")
    assert r["trials"]["count"] == 3 and r["trials"]["ok"] == 3
    records = read_trials(r["experiment"]["trials"])
    # every trial ran in a worker and was recorded as its own experiment in this home
    for t in records:
        assert ok(action="load", automation="experiment",
                  artifact=t["info"]["experiment"])["meta"]["inputs"]["mode"] == "b"
