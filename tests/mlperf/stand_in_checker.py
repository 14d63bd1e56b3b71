"""A small stand-in for MLCommons' submission checker (tools/submission/submission_checker),
for tests where the real one cannot be fetched. Same command line, same log format, same
closing SUMMARY line and CSV; it checks the files and system fields a tree must have.

    python main.py --input DIR --version vX.Y --csv FILE [--skip-... switches]
"""

import argparse
import csv
import json
import os
import sys

FILES = ("performance/run_1/mlperf_log_summary.txt", "performance/run_1/mlperf_log_detail.txt",
         "accuracy/mlperf_log_summary.txt", "accuracy/mlperf_log_detail.txt",
         "accuracy/accuracy.txt", "accuracy/mlperf_log_accuracy.json", "measurements.json",
         "user.conf", "README.md")
FIELDS = ("division", "submitter", "status", "system_name", "system_type", "cooling",
          "host_processor_model_name", "framework", "operating_system")


def error(message):
    print(f"[stand-in checker ERROR] {message}", flush=True)


def dirs(path):
    return sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--input", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--csv", default="summary.csv")
    args, _ = p.parse_known_args()
    ok, rows = True, []
    for division in [d for d in dirs(args.input) if d in ("open", "closed", "network")]:
        for org in dirs(os.path.join(args.input, division)):
            base = os.path.join(args.input, division, org)
            if not os.path.isdir(os.path.join(base, "src")):
                ok = False
                error(f"{base}/src directory does not exist")
            for system in dirs(os.path.join(base, "results")):
                try:
                    with open(os.path.join(base, "systems", system + ".json")) as fh:
                        desc = json.load(fh)
                except (OSError, ValueError):
                    ok, desc = False, {}
                    error(f"{base}/systems/{system}.json system json file not found")
                for field in FIELDS:
                    if not desc.get(field):
                        ok = False
                        error(f"{system}, field {field} is missing")
                for model in dirs(os.path.join(base, "results", system)):
                    for scenario in dirs(os.path.join(base, "results", system, model)):
                        folder = os.path.join(base, "results", system, model, scenario)
                        lacking = [f for f in FILES if not os.path.isfile(
                            os.path.join(folder, f))]
                        for name in lacking:
                            ok = False
                            error(f"{folder} is missing {name}")
                        if not lacking:
                            rows.append({"Organization": org, "Division": division,
                                         "SystemName": system, "Model": model,
                                         "Scenario": scenario})
    with open(args.csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, ["Organization", "Division", "SystemName", "Model",
                                     "Scenario"])
        writer.writeheader()
        writer.writerows(rows)
    print("SUMMARY: submission looks OK" if ok else "SUMMARY: submission has errors")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
