"""The submission automation: MLPerf submission trees checked by MLCommons' own checker.

``ck submission solution:NAME ...`` (an action of ``solution``) builds a tree;
``ck check submission DIR`` runs the official checker on it.
"""

from __future__ import annotations

from ..kernel.automation import Automation, action

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class SubmissionAutomation(Automation):
    name = "submission"
    summary = "MLPerf submission trees: run MLCommons' submission checker on one"

    @action
    def check(self, artifact: str | None = None, version: str | None = None,
              source: str | None = None, skip: str | None = None, csv: str | None = None,
              timeout: float | None = 1800, quiet: bool = False) -> dict[str, Any]:
        """Run MLCommons' submission checker on the tree in folder ARTIFACT (`ck check
        submission DIR`): the inference sources come from the package entry
        mlperf-inference-src (pinned commit) or --source=CHECKOUT; --version=ROUND (default
        the round of the harness's LoadGen); --skip=NAME,... passes the checker's own skip
        switches; --csv=FILE keeps its summary CSV. Prints its verdict and summary rows; a
        tree it rejects is an error naming its reasons (the whole result in details)."""
        from ..errors import InvalidInput
        from ..mlperf.checker import refuse, run_checker, text
        from ..mlperf.submission import VERSION

        if not artifact:
            raise InvalidInput("name the submission folder: ck check submission DIR")
        skips = [s.strip() for s in skip.split(",") if s.strip()] if skip else None
        result = run_checker(self.kernel, artifact, version or VERSION, source, skips, csv,
                             timeout, on_line=self.kernel.output(quiet))
        result["text"] = text(result)
        refuse(result)
        return result
