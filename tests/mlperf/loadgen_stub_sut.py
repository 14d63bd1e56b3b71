"""Real LoadGen runs around an instant SUT, for tests of the log parsers and the layout.

    python -I loadgen_stub_sut.py OUTDIR SCENARIO MODE MIN_DURATION_MS MIN_QUERY_COUNT COUNT

Every sample is answered at once with one detection row
[qsl_idx, 0.1, 0.2, 0.5, 0.6, 0.9, 1] (normalized ymin, xmin, ymax, xmax, score, class).
"""

import array
import sys

import mlperf_loadgen as lg
import numpy as np

out, scenario, mode, min_duration, min_queries, count = sys.argv[1:7]
count = int(count)


def issue(queries):
    buffers = [array.array("B", np.array([[q.index, 0.1, 0.2, 0.5, 0.6, 0.9, 1]],
                                         np.float32).tobytes()) for q in queries]
    lg.QuerySamplesComplete([lg.QuerySampleResponse(q.id, b.buffer_info()[0], len(b))
                             for q, b in zip(queries, buffers)])


settings = lg.TestSettings()
settings.scenario = getattr(lg.TestScenario, scenario)
settings.mode = getattr(lg.TestMode, mode)
settings.min_duration_ms = int(min_duration)
settings.min_query_count = int(min_queries)
settings.single_stream_expected_latency_ns = 100000
settings.offline_expected_qps = 1000
log = lg.LogSettings()
log.log_output.outdir = out
log.log_output.copy_summary_to_stdout = False
sut = lg.ConstructSUT(issue, lambda: None)
qsl = lg.ConstructQSL(count, count, lambda s: None, lambda s: None)
lg.StartTestWithLogSettings(sut, qsl, settings, log)
lg.DestroyQSL(qsl)
lg.DestroySUT(sut)
