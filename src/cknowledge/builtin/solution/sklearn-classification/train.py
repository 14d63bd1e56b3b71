"""Train and evaluate one scikit-learn classifier on a dataset shipped inside scikit-learn.

Runs in the solution's managed venv (scikit-learn, NumPy; no cknowledge imports). Writes
the metrics as JSON to $CK_METRICS_FILE (or --out): accuracy (percent, on the held-out
split), macro F1 (percent), training and prediction wall times (seconds), split sizes.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from typing import Any


def sk(module: str, name: str) -> Any:
    """A name from scikit-learn (imported when the venv runs this file)."""
    return getattr(importlib.import_module(f"sklearn.{module}"), name)


def make_model(args: argparse.Namespace) -> Any:
    RandomForestClassifier = sk("ensemble", "RandomForestClassifier")
    LogisticRegression = sk("linear_model", "LogisticRegression")
    KNeighborsClassifier = sk("neighbors", "KNeighborsClassifier")
    make_pipeline = sk("pipeline", "make_pipeline")
    StandardScaler = sk("preprocessing", "StandardScaler")
    SVC = sk("svm", "SVC")

    jobs = args.threads or None
    if args.model == "logreg":
        return make_pipeline(StandardScaler(), LogisticRegression(C=args.C, max_iter=2000))
    if args.model == "svm":
        return make_pipeline(StandardScaler(), SVC(C=args.C, gamma="scale"))
    if args.model == "knn":
        return make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=args.neighbors,
                                                                    n_jobs=jobs))
    return RandomForestClassifier(n_estimators=args.trees, max_depth=args.max_depth or None,
                                  n_jobs=jobs, random_state=args.seed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="digits",
                        choices=["digits", "iris", "wine", "breast_cancer"])
    parser.add_argument("--model", default="svm", choices=["logreg", "svm", "knn", "forest"])
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--max-depth", type=int, default=0)
    parser.add_argument("--neighbors", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.environ.get("CK_METRICS_FILE", "metrics.json"))
    args = parser.parse_args()

    sklearn = importlib.import_module("sklearn")
    accuracy_score = sk("metrics", "accuracy_score")
    f1_score = sk("metrics", "f1_score")
    train_test_split = sk("model_selection", "train_test_split")

    x, y = sk("datasets", f"load_{args.dataset}")(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=args.test_size, random_state=args.seed, stratify=y)
    model = make_model(args)
    start = time.perf_counter()
    model.fit(x_train, y_train)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict(x_test)
    predict_s = time.perf_counter() - start
    metrics = {"accuracy": round(100 * accuracy_score(y_test, predicted), 4),
               "f1_macro": round(100 * f1_score(y_test, predicted, average="macro"), 4),
               "train_s": train_s, "predict_s": predict_s,
               "n_train": len(y_train), "n_test": len(y_test),
               "sklearn": sklearn.__version__}
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(metrics, fh, indent=1)
    print(f"{args.dataset} {args.model}: accuracy {metrics['accuracy']:.2f}% "
          f"(train {train_s:.3f} s, predict {predict_s:.4f} s, sklearn {sklearn.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
