"""LoadGen around a dataset and a backend: the QSL, the SUT and the test settings.

The QSL holds ``count`` samples (performance_sample_count = count, every sample fits in
memory) preprocessed on ``load``. The SUT answers in the caller's thread: SingleStream
queries carry one sample, an Offline query all of them, run in batches of ``max_batch``.
Each answer is the MLPerf ssd-mobilenet response (float32 rows of
[qsl_idx, ymin, xmin, ymax, xmax, score, class]), which LoadGen writes to
mlperf_log_accuracy.json in accuracy mode.

Short runs stay VALID: min_duration_ms and min_query_count are what the caller asks (in
SingleStream at least the 64 queries LoadGen's early stopping needs), and
LoadGen's expectation (SingleStream latency, Offline QPS) comes from a timed warm-up of
the backend, unless given, with a margin (OVERSCHEDULE), so LoadGen schedules enough
samples to fill the duration even when the machine slows down.
"""

from __future__ import annotations

import array
import os
import shutil
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import conf
    from .backends import Backend, encode
    from .common import HarnessError, require
    from .dataset import Dataset
else:
    import conf
    from backends import Backend, encode
    from common import HarnessError, require
    from dataset import Dataset

SCENARIOS = ("SingleStream", "Offline")
# LoadGen's early stopping needs this many SingleStream queries; fewer make the run INVALID
SINGLE_STREAM_MIN_QUERIES = 64
# LoadGen schedules its queries up front from the expected speed: a run faster than expected
# ends before min_duration (INVALID), a slower one only runs longer. The warm-up's best
# batch is scaled by this factor so that a machine slowed by other load stays VALID.
OVERSCHEDULE = 1.5
MODES = {"performance": "PerformanceOnly", "accuracy": "AccuracyOnly"}


@dataclass
class Settings:
    scenario: str
    mode: str
    count: int
    min_duration_ms: int
    min_query_count: int
    max_duration_ms: int = 0
    max_batch: int = 1
    target_qps: float | None = None
    expected_latency_ms: float | None = None
    conf_model: str = conf.CONF_MODEL
    audit_config: str | None = None

    def check(self) -> None:
        if self.scenario not in SCENARIOS:
            raise HarnessError(f"unknown scenario {self.scenario!r}: use one of "
                               f"{', '.join(SCENARIOS)}")
        if self.mode not in MODES:
            raise HarnessError(f"unknown mode {self.mode!r}: use one of {', '.join(MODES)}")
        for name in ("min_duration_ms", "min_query_count", "max_duration_ms"):
            if getattr(self, name) < 0:
                raise HarnessError(f"--{name.replace('_', '-')} must be 0 or more")
        if self.max_batch < 1:
            raise HarnessError(f"--max-batch must be at least 1, not {self.max_batch}")


class Harness:
    def __init__(self, dataset: Dataset, backend: Backend, settings: Settings) -> None:
        settings.check()
        self.lg = require("mlperf_loadgen", "running LoadGen")
        self.dataset = dataset
        self.backend = backend
        self.settings = settings
        self.samples: dict[int, npt.NDArray[np.uint8]] = {}
        self.batch = settings.max_batch if settings.scenario == "Offline" else 1
        self.completed = 0
        self.warmup: dict[str, float] = {}
        self.failure: str | None = None
        self.user_conf_path = ""

    # -- the QSL -------------------------------------------------------------------------
    def load(self, indices: list[int]) -> None:
        for i in indices:
            if i not in self.samples and self.failure is None:
                try:
                    self.samples[i] = self.dataset.load(i)
                except Exception as exc:  # LoadGen calls this: record, answer empty, report
                    self.failure = str(exc) if isinstance(exc, HarnessError) else \
                        f"loading sample {i} failed: {type(exc).__name__}: {exc}"

    def unload(self, indices: list[int]) -> None:
        for i in indices:
            self.samples.pop(i, None)

    # -- the SUT -------------------------------------------------------------------------
    def issue(self, queries: list[Any]) -> None:
        lg = self.lg
        for start in range(0, len(queries), self.batch):
            chunk = queries[start:start + self.batch]
            ids = [int(q.index) for q in chunk]
            buffers = [array.array("B") for _ in chunk]
            if self.failure is None:
                try:
                    # a short last batch is padded to the batch size with its last sample:
                    # every sample runs in a batch of one size, so its response does not
                    # depend on how a query was cut (what compliance TEST01 compares)
                    pad = [ids[-1]] * (self.batch - len(ids))
                    batch = np.stack([self.samples[i] for i in ids + pad])
                    rows = encode(ids, self.backend.predict(batch))
                    buffers = [array.array("B", r.tobytes()) for r in rows]
                except Exception as exc:  # an exception must not escape into LoadGen's thread
                    self.failure = f"{self.backend.name} failed on samples {ids}: " \
                                   f"{type(exc).__name__}: {exc}"
            responses = [lg.QuerySampleResponse(q.id, b.buffer_info()[0], len(b))
                         for q, b in zip(chunk, buffers)]
            lg.QuerySamplesComplete(responses)
            self.completed += len(chunk)

    def flush(self) -> None:
        pass

    # -- a run ---------------------------------------------------------------------------
    def warm_up(self, rounds: int = 3) -> dict[str, float]:
        """Time the backend on the first sample (batched as the scenario batches)."""
        batch = np.stack([self.dataset.load(0)] * self.batch)
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            self.backend.predict(batch)
            times.append(time.perf_counter() - t)
        best = min(times[1:] or times)
        self.warmup = {"batch": float(self.batch), "first_s": times[0],
                       "latency_s": best, "qps": self.batch / best}
        return self.warmup

    def min_query_count(self) -> int:
        """The asked count, raised to LoadGen's early-stopping floor in SingleStream."""
        if self.settings.scenario == "SingleStream":
            return max(self.settings.min_query_count, SINGLE_STREAM_MIN_QUERIES)
        return self.settings.min_query_count

    def user_conf(self) -> dict[str, Any]:
        """What this run sets in user.conf (LoadGen's own names and units)."""
        s = self.settings
        values: dict[str, Any] = {"min_duration": s.min_duration_ms,
                                  "min_query_count": self.min_query_count(),
                                  "max_duration": s.max_duration_ms or None}
        if s.scenario == "SingleStream":
            latency = s.expected_latency_ms / 1000 if s.expected_latency_ms else \
                self.warmup.get("latency_s", 0.01) / OVERSCHEDULE
            values["target_latency"] = round(max(latency * 1000, 1e-6), 6)  # ms
        else:
            values["target_qps"] = round(s.target_qps or
                                         self.warmup.get("qps", 10.0) * OVERSCHEDULE, 6)
        return values

    def test_settings(self, output: str) -> Any:
        """LoadGen's settings from mlperf.conf and the user.conf written into ``output``."""
        lg, s = self.lg, self.settings
        ts = lg.TestSettings()
        self.user_conf_path = conf.write_user_conf(output, s.conf_model, s.scenario,
                                                   self.user_conf())
        conf.load(lg, ts, self.user_conf_path, s.conf_model, s.scenario)
        ts.scenario = getattr(lg.TestScenario, s.scenario)
        ts.mode = getattr(lg.TestMode, MODES[s.mode])
        return ts

    def run(self, output: str) -> dict[str, Any]:
        lg = self.lg
        os.makedirs(output, exist_ok=True)
        if not self.warmup:
            self.warm_up()
        settings = self.test_settings(output)
        log = lg.LogSettings()
        log.log_output.outdir = os.path.abspath(output)
        log.log_output.copy_summary_to_stdout = False
        log.enable_trace = False
        count = len(self.dataset)
        sut = lg.ConstructSUT(self.issue, self.flush)
        qsl = lg.ConstructQSL(count, count, self.load, self.unload)
        started = time.perf_counter()
        here = os.getcwd()
        try:
            # LoadGen reads a compliance test's audit.config from the working folder
            os.chdir(output)
            if self.settings.audit_config:
                shutil.copyfile(self.settings.audit_config, "audit.config")
            lg.StartTestWithLogSettings(sut, qsl, settings, log)
        finally:
            os.chdir(here)
            lg.DestroyQSL(qsl)
            lg.DestroySUT(sut)
        if self.failure is not None:
            # every query was still answered (empty), so LoadGen finished; the logs are void
            raise HarnessError(f"{self.failure}; LoadGen's logs in {output} are not valid")
        return {"loadgen_s": time.perf_counter() - started, "samples": self.completed,
                "min_query_count": int(settings.min_query_count),
                "user_conf": self.user_conf_path, "conf_model": self.settings.conf_model,
                "audit_config": self.settings.audit_config,
                "expected_latency_ns": int(settings.single_stream_expected_latency_ns),
                "offline_expected_qps": float(settings.offline_expected_qps)}
