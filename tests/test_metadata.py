"""The package metadata: license file, classifiers, project URLs."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_license_file_matches_the_declared_license() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "Apache-2.0"}
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "License :: OSI Approved :: Apache Software License" in project["classifiers"]


def test_classifiers_and_urls() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    classifiers = project["classifiers"]
    assert "Programming Language :: Python :: 3.11" in classifiers  # requires-python's floor
    assert project["requires-python"] == ">=3.11" and "Typing :: Typed" in classifiers
    assert (ROOT / "src" / "cknowledge" / "py.typed").exists()
    assert all(url.startswith("https://") for url in project["urls"].values())
