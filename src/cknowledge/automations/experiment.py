"""``experiment``: recorded benchmarks — show, compare, replay with a drift report, export,
HTML report.

Entries are written by ``ck benchmark program:X --record`` / ``ck benchmark script:X
--record`` (their content: :mod:`cknowledge.experiments.record`).
"""

from __future__ import annotations

from ..errors import InvalidInput
from ..kernel.automation import Automation, _with_repo, action, split_tags
from ..store.cid import parse_artifact

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ExperimentAutomation(Automation):
    name = "experiment"
    summary = "recorded runs and results"

    def _entry(self, artifact: str | None, repo: str | None = None) -> dict[str, Any]:
        if not artifact:
            raise InvalidInput("name the experiment: experiment:NAME")
        if artifact.startswith("experiment:"):
            artifact = artifact[len("experiment:"):]
        entry = self.store.load(self.name, _with_repo(parse_artifact(artifact), repo))
        entry.pop("meta_file", None)
        return entry

    def _metrics(self, entry: dict[str, Any]) -> dict[str, Any]:
        metrics = (entry.get("meta") or {}).get("metrics")
        if not isinstance(metrics, dict):
            raise InvalidInput(f"experiment {entry['repo']}:{entry['name']} holds no metrics "
                               "(it was not recorded by 'ck benchmark')")
        return metrics

    @action(writes=False)
    def show(self, artifact: str | None = None, repo: str | None = None,
             metric: list[str] | None = None, tags: list[str] | None = None
             ) -> dict[str, Any]:
        """An experiment's metadata and statistics per metric (--metric=a,b: only those);
        --tags=a,b shows every experiment with those tags, oldest first.

        The table has n, mean, median, std, 95% CI, CV, noisy and outliers per metric."""
        if tags is not None or (artifact and any(c in artifact for c in "*?")):
            return self._show_many(artifact, repo, metric, tags)
        return self._show_one(self._entry(artifact, repo), metric)

    def _show_one(self, entry: dict[str, Any], metric: list[str] | None) -> dict[str, Any]:
        from ..experiments.analysis import select
        from ..experiments.record import render

        metrics = self._metrics(entry)
        names = select(metrics, None, metric)
        meta = dict(entry["meta"])
        meta["metrics"] = {n: metrics[n] for n in names}
        return {"name": entry["name"], "repo": entry["repo"], "uid": entry["uid"],
                "path": entry["path"], "meta": meta,
                "text": render(meta, f"experiment:{entry['repo']}:{entry['name']}")}

    def _show_many(self, artifact: str | None, repo: str | None, metric: list[str] | None,
                   tags: list[str] | None) -> dict[str, Any]:
        from ..errors import NotFound

        include, exclude = split_tags(tags)
        if artifact and artifact.startswith("experiment:"):
            artifact = artifact[len("experiment:"):]
        ref = _with_repo(parse_artifact(artifact), repo)
        found = self.store.find(self.name, ref, include, exclude, with_meta=True)
        what = " and ".join(([f"the name {artifact!r}"] if artifact else [])
                            + ([f"the tags {','.join(tags or [])}"] if tags else []))
        if not found:
            raise NotFound(f"no experiment has {what}; 'ck find experiment' lists them")
        def created(entry: dict[str, Any]) -> str:
            return str((entry.get("meta") or {}).get("created") or "")

        found.sort(key=lambda e: (not created(e), created(e), e["name"]))  # undated last
        shown = []
        texts = []
        for entry in found:
            entry.pop("meta_file", None)
            if not isinstance((entry.get("meta") or {}).get("metrics"), dict):
                texts.append(f"experiment:{entry['repo']}:{entry['name']}: no metrics "
                             f"(a {(entry.get('meta') or {}).get('kind') or 'non-benchmark'} "
                             "entry)")
                shown.append({"name": entry["name"], "repo": entry["repo"],
                              "uid": entry["uid"], "path": entry["path"],
                              "meta": entry.get("meta")})
                continue
            one = self._show_one(entry, metric)
            texts.append(one.pop("text"))
            shown.append(one)
        return {"list": shown, "count": len(shown),
                "text": f"{len(shown)} experiment{'s' if len(shown) != 1 else ''} with {what}"
                        "\n\n" + "\n\n".join(texts)}

    @action(writes=False)
    def compare(self, artifact: str | None = None, target: str | None = None,
                metric: list[str] | None = None, repo: str | None = None) -> dict[str, Any]:
        """Compare two experiments: ck compare experiment:A experiment:B [--metric=time].

        Per metric: both means, the difference, whether it is significant given the noise
        (Welch's t at 95%); then every difference of inputs and environment."""
        from ..experiments.analysis import compare_metrics, render_metrics, select
        from ..experiments.drift import diff
        from ..experiments.drift import render as render_drift

        if not target:
            raise InvalidInput("compare two experiments: ck compare experiment:A experiment:B "
                               "(or --target=B)")
        a, b = self._entry(artifact, repo), self._entry(target, repo)
        ma, mb = self._metrics(a), self._metrics(b)
        names = select(ma, mb, metric)
        metrics = compare_metrics(ma, mb, names)
        drift = diff(a["meta"], b["meta"])
        text = "\n".join([f"A = experiment:{a['repo']}:{a['name']}",
                          f"B = experiment:{b['repo']}:{b['name']}", "",
                          render_metrics(metrics), "", render_drift(drift, "A", "B")])
        return {"a": a["name"], "b": b["name"], "metrics": metrics, "environment": drift,
                "text": text}

    @action
    def replay(self, artifact: str | None = None, repo: str | None = None,
               record: bool = False, name: str | None = None) -> dict[str, Any]:
        """Re-run an experiment as recorded; say if it agrees within noise; report the drift.

        The recorded inputs run again with the locked dependencies pinned (when the lock
        cannot be reproduced, on what is here now); every environment difference is listed;
        --record [--name=E] keeps the new run as an experiment too."""
        from ..experiments.analysis import render_metrics, replay
        from ..experiments.drift import render as render_drift
        from ..experiments.record import save

        entry = self._entry(artifact, repo)
        result = replay(self.kernel, entry["meta"])
        now = result.pop("now")
        if record or name:
            now["replay_of"] = {"name": entry["name"], "repo": entry["repo"],
                                "uid": entry["uid"]}
            saved = save(self.kernel, now, name, None)
            result["experiment"] = {"name": saved["name"], "repo": saved["repo"],
                                    "uid": saved["uid"], "path": saved["path"]}
        verdict = ("the results agree within noise" if result["agree"]
                   else "the results DIFFER")
        result["text"] = "\n".join([
            f"replay of experiment:{entry['repo']}:{entry['name']}: {verdict}",
            f"lock: {result['lock']}", "",
            render_metrics(result["metrics"], "recorded", "now"), "",
            render_drift(result["drift"])])
        result["metrics_now"] = now["metrics"]
        if not result["warnings"]:
            del result["warnings"]
        return result

    @action
    def export(self, file: str | None = None, artifact: str | None = None,
               tags: list[str] | None = None, repo: str | None = None,
               format: str | None = None) -> dict[str, Any]:
        """Samples as --format=csv|json|parquet, or entries into an archive (--file=x.zip).

        With --format: one row per (metric, repetition) into --file (default
        EXPERIMENT.FORMAT); without: the archive for 'ck import', as for any automation."""
        import os

        from ..experiments.report import rows, write_rows

        if format is None:
            if not file:
                raise InvalidInput("give --file=ARCHIVE.zip, or --format=csv|json|parquet "
                                   "for the samples")
            return super().export(file, artifact=artifact, tags=tags, repo=repo)
        fmt = format.lower()
        include, exclude = split_tags(tags)
        if artifact and artifact.startswith("experiment:"):
            artifact = artifact[len("experiment:"):]
        ref = _with_repo(parse_artifact(artifact), repo)
        if ref.name is None and not include:
            raise InvalidInput("name the experiment to export (experiment:NAME) or select "
                               "them with --tags")
        found = self.store.find(self.name, ref, include, exclude, with_meta=True)
        if not found:
            from ..errors import NotFound

            raise NotFound(f"no experiment matches {artifact or ','.join(include)}")
        data = rows(found)
        if not data:
            raise InvalidInput(f"{', '.join(e['name'] for e in found[:5])}: no benchmark samples to "
                               "export (a tuning run keeps its trials in trials.jsonl; "
                               "'ck report' shows its Pareto front)")
        target = file or f"{found[0]['name'] if len(found) == 1 else 'experiments'}.{fmt}"
        write_rows(data, target, fmt)
        return {"file": os.path.abspath(target), "format": fmt, "count": len(found),
                "rows": len(data), "list": [{"name": e["name"], "repo": e["repo"],
                                             "uid": e["uid"]} for e in found]}

    @action
    def report(self, artifact: str | None = None, file: str | None = None,
               repo: str | None = None) -> dict[str, Any]:
        """Write a self-contained HTML report (--file=report.html); returns its path.

        Metadata, the statistics table and a box plot per metric with every repetition;
        plotly's JavaScript is embedded, so it opens offline."""
        import os

        from ..experiments.report import html_report
        from ..store.metaio import atomic_write_text

        entry = self._entry(artifact, repo)
        target = os.path.abspath(file or f"{entry['name']}.html")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        plot = os.path.join(entry["path"], "pareto.html")
        if (entry["meta"] or {}).get("kind") == "tuning":
            if not os.path.isfile(plot):
                from ..errors import NotFound

                raise NotFound(f"tuning run {entry['name']} has no pareto.html yet (no trial "
                               "finished); run it with 'ck autotune ... --resume'")
            with open(plot, encoding="utf-8") as fh:  # the run's own interactive report
                atomic_write_text(target, fh.read())
            return {"file": target, "text": f"report written to {target}"}
        atomic_write_text(target, html_report(entry["name"], entry["meta"]))
        return {"file": target, "text": f"report written to {target}"}
