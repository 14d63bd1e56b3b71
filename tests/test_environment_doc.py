"""docs/environment.md names every environment variable the code reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "cknowledge"

# os.environ.get("X") / os.environ["X"] / getenv("X"), and NAME_ENV = "X" constants used
# with them
_DIRECT = re.compile(r"""(?:environ(?:\.get)?[\[(]|getenv\()\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")
_CONSTANT = re.compile(r"""^([A-Z_]+(?:_ENV|_VAR))\s*=\s*["']([A-Z_][A-Z0-9_]*)["']""", re.M)


def read_variables() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        if "mlperf/runner" in path.as_posix() or "cmcompat/inside" in path.as_posix():
            continue  # these run inside other interpreters, for other programs
        text = path.read_text(encoding="utf-8")
        found.update(_DIRECT.findall(text))
        found.update(value for _, value in _CONSTANT.findall(text))
    return found


def test_every_variable_read_is_documented() -> None:
    doc = (ROOT / "docs" / "environment.md").read_text(encoding="utf-8")
    variables = read_variables()
    assert {"CK_HOME", "CK_BUILTIN_REPO", "CK_RAPL_DIR", "CK_DOWNLOAD_RETRIES"} <= variables
    missing = sorted(v for v in variables if f"`{v}`" not in doc)
    assert missing == [], f"add these to docs/environment.md: {missing}"
