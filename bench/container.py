#!/usr/bin/env python3
"""Container benchmark: builds, rebuilds and image sizes of ``ck docker`` (podman).

    .venv/bin/python bench/container.py               # ~1-3 min with a warm layer cache
    .venv/bin/python bench/container.py --make-base   # also time `ck docker base`

Goal (issue: containers): a rebuild with an unchanged lock takes under 10 s (layer cache);
a changed lock rebuilds only the layers after the change; image sizes reported (the MLPerf
solution's image under 2.5 GB).

Measured in a fresh CK_HOME (temp dir), through ``cknowledge.access`` (the CLI's path):

- ``build program:cbench-crc32``: first build in this home (layers may be cached by earlier
  builds on this machine: the steps run/cached are counted from the engine's output);
- the same build again: the image is found by its tag and context digest (no engine build);
- ``--force``: the engine rebuilds with an unchanged lock (every layer from its cache);
- ``--flags=-DCK_BENCH_RUN=<now>``: a lock no image has; which steps came from the cache;
- ``docker run program:cbench-crc32 --offline``: a run in the image (valid output);
- the sizes of the program's image, of a one-line script's image and, when built on this
  machine (``ck docker build solution:mlperf-object-detection --backend=onnxruntime``), of
  the MLPerf solution's image.

Writes bench/results/container.json and prints a table. Standard library + cknowledge.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def access(**request):
    from cknowledge import api

    started = time.perf_counter()
    result = api.access({"automation": "docker", "quiet": True, **request})
    seconds = time.perf_counter() - started
    if result["return"]:
        sys.exit(f"bench: {request}: {result['error']}")
    return result, seconds


def changed_lock_build(flags: str) -> dict:
    """``ck docker build program:cbench-crc32 --flags=FLAGS`` (a lock no image has yet):
    its time and the engine steps it took from the layer cache."""
    started = time.perf_counter()
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "ck"), "docker", "build",
                           "program:cbench-crc32", f"--flags={flags}"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"bench: changed lock build: {done.stderr.strip().splitlines()[-1]}")
    steps: list[str] = []
    from_cache: set[str] = set()
    for line in (ln.strip() for ln in done.stderr.splitlines()):
        if line.startswith("STEP "):
            steps.append(line)
        elif line.startswith("--> Using cache") and steps:
            from_cache.add(steps[-1])
    first_run = next((st for st in steps[1:] if st not in from_cache), None)  # after FROM
    return {"seconds": round(seconds, 2), "steps": len(steps), "from_cache": len(from_cache),
            "first_step_run": first_run[:60] if first_run else None}


def image_size(ref: str) -> int | None:
    done = subprocess.run(["podman", "image", "inspect", "--format", "{{.Size}}", ref],
                          capture_output=True, text=True)
    return int(done.stdout.strip()) if done.returncode == 0 else None


def mlperf_image() -> str | None:
    done = subprocess.run(["podman", "images", "--format", "{{.Repository}}:{{.Tag}}",
                           "localhost/ck/solution-mlperf-object-detection"],
                          capture_output=True, text=True)
    tags = [t for t in done.stdout.split() if t]
    return tags[0] if tags else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--make-base", action="store_true", help="time `ck docker base` too")
    args = parser.parse_args()
    os.environ["CK_HOME"] = tempfile.mkdtemp(prefix="ck-bench-container-")
    from cknowledge.container.plan import Target

    out: dict = {"engine": "podman", "home": os.environ["CK_HOME"]}
    if args.make_base:
        base, seconds = access(action="base", tag="localhost/ck-base:bookworm")
        out["base"] = {"seconds": round(seconds, 1), "size": base["size"]}
    first, seconds = access(action="build", component="program:cbench-crc32")
    out["first_build"] = {"seconds": round(seconds, 2), "reused": first["reused"],
                          "image": first["image"], "size": first["size"]}
    _, seconds = access(action="build", component="program:cbench-crc32")
    out["same_lock_reuse_s"] = round(seconds, 2)
    _, seconds = access(action="build", component="program:cbench-crc32", force=True)
    out["same_lock_forced_rebuild_s"] = round(seconds, 2)
    out["changed_lock"] = changed_lock_build(f"-DCK_BENCH_RUN={int(time.time())}")
    run, seconds = access(action="run", component="program:cbench-crc32", offline=True)
    out["run_offline"] = {"seconds": round(seconds, 2), "valid": run.get("valid")}
    script_dir = Path(os.environ["CK_HOME"]) / "repos" / "local" / "script" / "hello"
    script_dir.mkdir(parents=True)
    (script_dir / "meta.yaml").write_text("uid: 0123456789abcdef\nalias: hello\n"
                                          "automation: script\ntags: [hello]\n")
    (script_dir / "run.sh").write_text("echo hello\n")
    script, seconds = access(action="build", component="script:hello")
    out["script_image"] = {"seconds": round(seconds, 2), "size": script["size"]}
    mlperf = mlperf_image()
    out["mlperf_image"] = {"image": mlperf, "size": image_size(mlperf) if mlperf else None}
    out["target"] = Target.parse("program:cbench-crc32").label
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "container.json").write_text(json.dumps(out, indent=2) + "\n")
    mb = lambda n: f"{n / 1e6:.0f} MB" if n else "-"  # noqa: E731
    print(f"""
| measurement (podman, {os.cpu_count()} cores) | value |
|---|---|
| first build of program:cbench-crc32 in a fresh home | {out['first_build']['seconds']} s |
| same lock again (image found by tag + context digest) | {out['same_lock_reuse_s']} s |
| same lock, forced engine rebuild (layer cache) | {out['same_lock_forced_rebuild_s']} s (goal < 10 s) |
| changed lock (new --flags) build | {out['changed_lock']['seconds']} s |
| engine steps from the layer cache, changed lock | {out['changed_lock']['from_cache']} of {out['changed_lock']['steps']} (first rebuilt: {out['changed_lock']['first_step_run']}) |
| run in the image, --offline | {out['run_offline']['seconds']} s (valid: {out['run_offline']['valid']}) |
| image size: program:cbench-crc32 | {mb(out['first_build']['size'])} |
| image size: a one-line script | {mb(out['script_image']['size'])} |
| image size: solution:mlperf-object-detection | {mb(out['mlperf_image']['size'])} (goal < 2.5 GB) |
""")


if __name__ == "__main__":
    main()
