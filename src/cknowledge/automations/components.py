"""Component automations that, for now, carry the core entry actions.

Later work gives each its own actions (``run script``, ``detect soft``, ``install
package``, ``benchmark``, ...); the core actions come from :class:`Automation`.
"""

from __future__ import annotations

from ..kernel.automation import Automation, action

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Dataset(Automation):
    name = "dataset"
    summary = "data sets and their variants"


class Model(Automation):
    name = "model"
    summary = "trained models with checksums"


class Soft(Automation):
    name = "soft"
    summary = "software detection plugins"


class Solution(Automation):
    name = "solution"
    summary = "benchmark solutions: prepare (init) and run (benchmark) one portable benchmark"
    meta_file = "meta.yaml"

    def _entry(self, artifact: str | None) -> dict[str, Any]:
        from ..errors import InvalidInput
        from ..store.cid import parse_artifact

        if not artifact:
            raise InvalidInput("name the solution: ck init solution:NAME ('ck find solution' "
                               "lists them)")
        return self.store.load(self.name, parse_artifact(artifact))

    @action
    def init(self, artifact: str | None = None, backend: str | None = None,
             quiet: bool = False) -> dict[str, Any]:
        """Prepare a solution: detect Python, then install its venv, runtimes, model and
        dataset (each cached); --backend=NAME prepares only what that backend needs."""
        from ..solutions import init

        return init(self.kernel, self._entry(artifact), backend,
                    on_line=self.kernel.output(quiet))

    @action
    def benchmark(self, artifact: str | None = None, output: str | None = None,
                  submit: bool = False, hub: str | None = None,
                  submit_if_logged_in: bool = False, quiet: bool = False,
                  **inputs: Any) -> dict[str, Any]:
        """Run a solution's benchmark (--scenario, --backend, --count, ... as the solution
        declares): harness, results layout and checks, a recorded experiment, a summary beside
        reference rows and an HTML report; --submit posts the result to the hub
        (`cb benchmark` does so whenever a hub login exists; --submit=no keeps it local)."""
        from ..solutions import benchmark

        if submit_if_logged_in and not submit:
            from ..client.config import settings

            submit = settings(self.kernel.home, hub).token is not None
        return benchmark(self.kernel, self._entry(artifact), inputs, output=output,
                         submit=submit, hub=hub, on_line=self.kernel.output(quiet))
