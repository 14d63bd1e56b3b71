"""MLPerf inference object detection (ssd-mobilenet style) under LoadGen.

    VENV_PYTHON -I main.py --backend tensorflow|onnxruntime --model PATH --dataset DIR
        --scenario SingleStream|Offline --mode performance|accuracy --count N --threads T
        --output DIR [--inter-threads I] [--min-duration-ms MS] [--min-query-count Q]
        [--max-duration-ms MS] [--max-batch B] [--target-qps X] [--expected-latency-ms L]
        [--device cpu|cuda] [--conf-model NAME] [--audit-config FILE]

Writes LoadGen's mlperf_log_summary.txt, mlperf_log_detail.txt and mlperf_log_accuracy.json
to DIR (and accuracy.txt / accuracy.json in accuracy mode), then prints one JSON line of
what it did. A failure prints one ``mlperf harness: error: ...`` line to stderr and exits 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import accuracy, backends, conf, harness
    from .common import HarnessError
    from .dataset import Dataset
else:  # run as a script; `python -I` (3.11+) leaves the script's folder off sys.path
    sys.dont_write_bytecode = True  # -I ignores PYTHONDONTWRITEBYTECODE; keep the package clean
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import accuracy
        import backends
        import conf
        import harness
        from common import HarnessError
        from dataset import Dataset
    except ImportError as exc:
        sys.exit(f"mlperf harness: error: the Python module {exc.name!r} is missing from the "
                 "solution venv: install it there (the harness needs numpy and pillow)")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="main.py", description=__doc__.split("\n")[0])
    p.add_argument("--backend", required=True, choices=backends.BACKENDS)
    p.add_argument("--model", required=True, help="TF frozen graph (.pb) or ONNX model")
    p.add_argument("--dataset", required=True, help="COCO folder: images/, annotations/")
    p.add_argument("--scenario", required=True, choices=harness.SCENARIOS)
    p.add_argument("--mode", required=True, choices=tuple(harness.MODES))
    p.add_argument("--count", type=int, default=None,
                   help="use the first N images of the dataset (default: all)")
    p.add_argument("--threads", type=int, default=0,
                   help="intra-op threads of the runtime (0: its default)")
    p.add_argument("--inter-threads", type=int, default=1,
                   help="inter-op threads of the runtime (0: its default)")
    p.add_argument("--output", required=True, help="folder for the LoadGen logs")
    p.add_argument("--min-duration-ms", type=int, default=10000)
    p.add_argument("--max-duration-ms", type=int, default=0, help="0: no limit")
    p.add_argument("--min-query-count", type=int, default=None,
                   help="default: the number of images")
    p.add_argument("--max-batch", type=int, default=8, help="Offline batch size")
    p.add_argument("--target-qps", type=float, default=None,
                   help="Offline expected QPS (default: measured in the warm-up)")
    p.add_argument("--expected-latency-ms", type=float, default=None,
                   help="SingleStream expected latency (default: measured in the warm-up)")
    p.add_argument("--device", default="cpu", choices=backends.DEVICES,
                   help="where the onnxruntime backend runs the model (default: cpu)")
    p.add_argument("--conf-model", default=conf.CONF_MODEL,
                   help="the benchmark's name in mlperf.conf (default: %(default)s)")
    p.add_argument("--audit-config", default=None,
                   help="a compliance test's audit.config (LoadGen reads it in the run)")
    return p


RUNTIMES = {"tensorflow": ("tensorflow-cpu", "tensorflow"), "onnxruntime": ("onnxruntime",)}


def versions(backend: str) -> dict[str, str]:
    """Installed versions of the runtime, LoadGen and the libraries the harness uses."""
    import importlib.metadata as metadata

    found: dict[str, str] = {}
    for name in (*RUNTIMES[backend], "mlcommons-loadgen", "pycocotools", "numpy", "pillow"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        if name in RUNTIMES[backend]:
            found.setdefault("runtime", f"{name} {found[name]}")
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    dataset = Dataset(args.dataset, args.count)
    backend = backends.create(args.backend, args.model, args.threads, args.inter_threads,
                              args.device)
    settings = harness.Settings(
        scenario=args.scenario, mode=args.mode, count=len(dataset),
        min_duration_ms=args.min_duration_ms,
        min_query_count=len(dataset) if args.min_query_count is None else args.min_query_count,
        max_duration_ms=args.max_duration_ms, max_batch=args.max_batch,
        target_qps=args.target_qps, expected_latency_ms=args.expected_latency_ms,
        conf_model=args.conf_model,
        audit_config=os.path.abspath(args.audit_config) if args.audit_config else None)
    h = harness.Harness(dataset, backend, settings)
    warmup = h.warm_up()
    loadgen = h.run(args.output)
    files = {name: os.path.join(os.path.abspath(args.output), name)
             for name in ("mlperf_log_summary.txt", "mlperf_log_detail.txt",
                          "mlperf_log_accuracy.json", conf.USER_CONF)}
    missing = [path for path in files.values() if not os.path.isfile(path)]
    if missing:
        raise HarnessError(f"LoadGen wrote no {', '.join(missing)}: see its output above")
    result: dict[str, Any] = {
        "backend": args.backend, "model": os.path.abspath(args.model),
        "dataset": dataset.root, "scenario": args.scenario, "mode": args.mode,
        "count": len(dataset), "threads": args.threads, "inter_threads": args.inter_threads,
        "device": args.device, "providers": getattr(backend, "providers", None),
        "max_batch": h.batch, "min_duration_ms": settings.min_duration_ms,
        "min_query_count": settings.min_query_count, "output": os.path.abspath(args.output),
        "warmup": warmup, "loadgen": loadgen, "files": files, "versions": versions(args.backend),
        "python": sys.version.split()[0]}
    if args.mode == "accuracy":
        acc = accuracy.evaluate(files["mlperf_log_accuracy.json"], dataset.root, args.output)
        result["accuracy"] = {k: acc[k] for k in ("mAP", "mAP_percent", "images",
                                                   "detections", "no_results")}
        result["files"]["accuracy.txt"] = os.path.join(result["output"], "accuracy.txt")
        result["files"]["accuracy.json"] = os.path.join(result["output"], "accuracy.json")
    result["wall_s"] = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result = run(args)
    except HarnessError as exc:
        print(f"mlperf harness: error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
