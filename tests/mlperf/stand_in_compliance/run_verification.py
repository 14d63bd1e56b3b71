"""A stand-in for MLCommons' compliance/TEST01/run_verification.py, for tests where the
inference sources cannot be fetched: the same command line and output layout. Accuracy:
every response LoadGen logged in the compliance (performance) run must equal the accuracy
run's response for the same sample. Performance: the scenarios must agree (the official
script also bounds the score; the stand-in prints both scores)."""

import argparse
import json
import os
import shutil


def entries(path):
    with open(path) as fh:
        return json.load(fh)


def scenario_and_score(detail):
    values = {}
    with open(detail) as fh:
        for line in fh:
            if ":::MLLOG" in line:
                record = json.loads(line.split(":::MLLOG", 1)[1])
                values[record["key"]] = record["value"]
    return values.get("effective_scenario"), values.get("result_samples_per_second") or \
        values.get("result_90.00_percentile_latency_ns")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-r", "--results_dir", required=True)
    p.add_argument("-c", "--compliance_dir", required=True)
    p.add_argument("-o", "--output_dir", required=True)
    p.add_argument("--dtype", default="byte")
    a = p.parse_args()
    out = os.path.join(a.output_dir, "TEST01")
    os.makedirs(os.path.join(out, "accuracy"), exist_ok=True)
    os.makedirs(os.path.join(out, "performance", "run_1"), exist_ok=True)
    reference = {}
    for e in entries(os.path.join(a.results_dir, "accuracy", "mlperf_log_accuracy.json")):
        reference.setdefault(e["qsl_idx"], e["data"])
    sampled = entries(os.path.join(a.compliance_dir, "mlperf_log_accuracy.json"))
    mismatch = sum(1 for e in sampled if reference.get(e["qsl_idx"]) != e["data"])
    with open(os.path.join(out, "verify_accuracy.txt"), "w") as fh:
        fh.write(f"num_perf_log_entries = {len(sampled)}\n"
                 f"num_perf_log_data_mismatch = {mismatch}\n"
                 + ("TEST PASS\n" if sampled and not mismatch else "TEST FAIL\n"))
    ref = scenario_and_score(os.path.join(a.results_dir, "performance", "run_1",
                                          "mlperf_log_detail.txt"))
    test = scenario_and_score(os.path.join(a.compliance_dir, "mlperf_log_detail.txt"))
    with open(os.path.join(out, "verify_performance.txt"), "w") as fh:
        fh.write(f"Reference score = {ref[1]}\nTest score = {test[1]}\n"
                 + ("TEST PASS\n" if ref[0] == test[0] else "TEST FAIL\n"))
    shutil.copy(os.path.join(a.compliance_dir, "mlperf_log_accuracy.json"),
                os.path.join(out, "accuracy"))
    for name in ("mlperf_log_summary.txt", "mlperf_log_detail.txt"):
        shutil.copy(os.path.join(a.compliance_dir, name),
                    os.path.join(out, "performance", "run_1"))
    print("TEST01 verification complete")


if __name__ == "__main__":
    main()
