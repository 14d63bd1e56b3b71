"""The soft automation: software detection plugins (``ck detect soft --tags=compiler,gcc``)."""

from __future__ import annotations


from ..errors import CKError, InvalidInput, NotFound
from ..kernel.automation import Automation, _with_repo, action, split_tags
from ..store.cid import parse_artifact

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class SoftAutomation(Automation):
    name = "soft"
    summary = "software detection plugins"

    @action(writes=False)
    def detect(self, tags: list[str] | None = None, artifact: str | None = None,
               version: str | None = None, python: str | None = None,
               paths: list[str] | None = None, repo: str | None = None) -> dict[str, Any]:
        """Find installed software by soft entries (--tags or NAME), --version range, newest first."""
        import os

        from ..detect.soft import detect
        from ..versions import VersionRange

        VersionRange(version)  # a bad range is an input error before anything runs
        if python is not None and not (os.path.isfile(python) and os.access(python, os.X_OK)):
            raise InvalidInput(f"--python={python}: not an executable file")
        include, exclude = split_tags(tags)
        ref = _with_repo(parse_artifact(artifact), repo)
        entries = self.store.find(self.name, ref, include, exclude, with_meta=True)
        what = _selection(artifact, tags)
        if not entries:
            raise NotFound(f"no soft entry matches {what}; 'ck find soft' lists them")
        detectors = [e for e in entries if isinstance((e.get("meta") or {}).get("detect"), dict)]
        if not detectors:
            raise NotFound(f"the soft entries matching {what} ("
                           f"{', '.join(e['name'] for e in entries[:5])}) have no 'detect' section")
        found: list[dict[str, Any]] = []
        notes: list[str] = []
        warnings: list[str] = []
        errors: list[CKError] = []
        for entry in detectors:
            try:
                found += [f.to_dict() for f in detect(entry, version=version, paths=paths,
                                                      python=python, home=self.kernel.home,
                                                      notes=notes)]
            except CKError as exc:  # one broken detector never hides the others' results
                errors.append(exc)
                warnings.append(f"soft entry {entry['name']!r}: {exc.message}")
        if errors and len(errors) == len(detectors):
            raise errors[0]
        result: dict[str, Any] = {"list": found}
        if notes:
            result["notes"] = notes
        if warnings:
            result["warnings"] = warnings
        if not found:
            names = ", ".join(e["name"] for e in detectors[:5])
            within = f" within {version!r}" if version else ""
            result["message"] = f"nothing installed was found{within} by {names}"
            if version:  # nothing in range is a failure (16) that says what there is outside it
                outside = []
                for entry in detectors:
                    try:
                        outside += [f.to_dict() for f in
                                    detect(entry, paths=paths, python=python,
                                           home=self.kernel.home)]
                    except CKError:
                        continue
                where = ("; found outside it: " + ", ".join(
                    f"{f['version']} at {f['path']}" for f in outside[:5])
                    + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
                    if outside else "; nothing was found outside it either")
                raise NotFound(result["message"] + where, outside=outside)
        return result


def _selection(artifact: str | None, tags: list[str] | None) -> str:
    parts = []
    if artifact:
        parts.append(repr(artifact))
    if tags:
        parts.append("the tags " + ",".join(tags))
    return " and ".join(parts) or "any name"
