"""The wheel install method: pip download of one wheel, sha256, safe unpack, nothing else kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from cknowledge.errors import ArchiveError, ChecksumError, CommandFailed, InvalidInput
from cknowledge.install import install

from .conftest import make_wheel, png, sha


@pytest.fixture
def index(tmp_path: Path) -> tuple[Path, str]:
    links = tmp_path / "links"
    links.mkdir()
    wheel = make_wheel(links, "demo-data", "1.2", {
        "demo_data/__init__.py": b"raise RuntimeError('never imported')\n",
        "demo_data/images/one.png": png(3, 2),
        "demo_data/images/sub/two.png": png(4, 4, 9)})
    return links, sha(wheel.read_bytes())


def spec(links: Path, digest: str, **extra: object) -> dict:
    return {"method": "wheel", "package": "demo-data==1.2", "sha256": digest,
            "no_index": True, "find_links": [str(links)], **extra}


def test_wheel_is_unpacked_checked_and_not_kept(index, tmp_path) -> None:
    links, digest = index
    target = tmp_path / "t"
    target.mkdir()
    res = install(spec(links, digest, env={"CK_DEMO_IMAGES": "{install_dir}/demo_data/images",
                                           "CK_DEMO_VERSION": "{version}"}), str(target))
    assert res["version"] == "1.2" and res["wheel"] == "demo_data-1.2-py3-none-any.whl"
    assert res["env"] == {"CK_DEMO_IMAGES": str(target / "demo_data" / "images"),
                          "CK_DEMO_VERSION": "1.2"}
    assert (target / "demo_data" / "images" / "sub" / "two.png").read_bytes() == png(4, 4, 9)
    assert (target / "demo_data-1.2.dist-info" / "METADATA").is_file()
    assert sorted(os.listdir(target)) == ["demo_data", "demo_data-1.2.dist-info"]  # no .whl


def test_include_keeps_only_matching_members(index, tmp_path) -> None:
    links, digest = index
    target = tmp_path / "t"
    target.mkdir()
    res = install(spec(links, digest, include=["demo_data/images/*"]), str(target))
    assert res["wheel"].endswith(".whl")
    found = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert found == ["demo_data/images/one.png", "demo_data/images/sub/two.png"]
    with pytest.raises(ArchiveError, match="no member matches"):
        other = tmp_path / "o"
        other.mkdir()
        install(spec(links, digest, include=["nothing/*"]), str(other))


def test_checksum_mismatch_names_the_package_and_leaves_nothing(index, tmp_path) -> None:
    links, digest = index
    wrong = "0" * 64
    target = tmp_path / "t"
    target.mkdir()
    with pytest.raises(ChecksumError) as exc:
        install(spec(links, wrong), str(target))
    msg = exc.value.message
    assert "demo-data==1.2" in msg and digest in msg and wrong in msg and exc.value.code == 17
    assert os.listdir(target) == []


def test_sha256_is_required_and_options_are_refused(index, tmp_path) -> None:
    links, _ = index
    with pytest.raises(InvalidInput, match="sha256"):
        install({"method": "wheel", "package": "demo-data==1.2"}, str(tmp_path))
    with pytest.raises(InvalidInput, match="option"):
        install({"method": "wheel", "package": "--index-url=http://x demo", "sha256": "a" * 64},
                str(tmp_path))
    with pytest.raises(InvalidInput, match="platform"):
        install({"method": "wheel", "package": "demo-data==1.2", "sha256": "a" * 64,
                 "platform": "linux --user"}, str(tmp_path))
    with pytest.raises(InvalidInput, match="needs `package`"):
        install({"method": "wheel", "sha256": "a" * 64}, str(tmp_path))


def test_a_missing_release_names_the_requirement(index, tmp_path) -> None:
    links, digest = index
    target = tmp_path / "t"
    target.mkdir()
    with pytest.raises(CommandFailed) as exc:
        install(spec(links, digest, package="demo-data==9.9"), str(target))
    assert "demo-data==9.9" in exc.value.message and os.listdir(target) == []


def test_wheel_package_through_the_workflow(index, home, ckj) -> None:
    links, digest = index
    folder = home / "repos" / "local" / "package" / "demo-data"
    folder.mkdir(parents=True)
    (folder / "meta.yaml").write_text(yaml.safe_dump({
        "uid": "1234567890abcdef", "tags": ["demo-data", "pypi-data"], "version": "1.2",
        "install": {**spec(links, digest), "env": {"CK_DEMO_DIR": "{install_dir}/demo_data"}}}))
    first = ckj("install", "package", "--tags=demo-data")
    path = first["new_env"]["CK_DEMO_DIR"]
    assert path.startswith(str(home / "cache" / "package")) and not first["cached"]
    assert Path(path, "images", "one.png").read_bytes() == png(3, 2)
    again = ckj("install", "package", "--tags=demo-data")
    assert again["cached"] and again["new_env"] == first["new_env"]
