"""git installs: a pinned revision from a local repository made with real git."""

from __future__ import annotations

import os
import shutil

import pytest

from cknowledge.errors import DownloadError, InvalidInput, NotFound
from cknowledge.install import install
from tests.conftest import git

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture(scope="module")
def origin(tmp_path_factory) -> dict[str, str]:
    repo = tmp_path_factory.mktemp("origin")
    git("init", "--quiet", "--initial-branch=main", cwd=repo)
    (repo / "VERSION").write_text("one\n")
    git("add", "VERSION", cwd=repo)
    git("commit", "--quiet", "-m", "first", cwd=repo)
    first = git("rev-parse", "HEAD", cwd=repo).strip()
    git("tag", "v1", cwd=repo)
    (repo / "VERSION").write_text("two\n")
    (repo / "NEW").write_text("only in the second\n")
    git("add", "VERSION", "NEW", cwd=repo)
    git("commit", "--quiet", "-m", "second", cwd=repo)
    second = git("rev-parse", "HEAD", cwd=repo).strip()
    return {"path": str(repo), "first": first, "second": second}


def git_spec(url: str, revision: str | None, **kw) -> dict:
    spec = {"method": "git", "url": url, **kw}
    if revision is not None:
        spec["revision"] = revision
    return spec


def test_pinning_the_first_commit_gives_its_content(tmp_path, origin) -> None:
    res = install(git_spec(origin["path"], origin["first"],
                           env={"CK_SRC": "{src_dir}", "CK_ROOT": "{install_dir}"}),
                  str(tmp_path))
    src = tmp_path / "src"
    assert (src / "VERSION").read_text() == "one\n" and not (src / "NEW").exists()
    assert res["commit"] == origin["first"]
    assert res["env"] == {"CK_SRC": str(src), "CK_ROOT": str(tmp_path)}
    assert res["paths"] == [str(src), str(tmp_path)]


def test_short_sha_tag_and_branch(tmp_path, origin) -> None:
    for i, (rev, want, content) in enumerate([(origin["first"][:10], "first", "one\n"),
                                              ("v1", "first", "one\n"),
                                              ("main", "second", "two\n")]):
        target = tmp_path / str(i)
        target.mkdir()
        res = install(git_spec(origin["path"], rev), str(target))
        assert res["commit"] == origin[want], rev
        assert (target / "src" / "VERSION").read_text() == content


def test_shallow_clone_of_a_tag_and_of_a_commit(tmp_path, origin) -> None:
    url = "file://" + origin["path"]  # local paths ignore --depth; file:// honours it
    for i, rev in enumerate(["v1", origin["first"]]):
        target = tmp_path / str(i)
        target.mkdir()
        res = install(git_spec(url, rev, depth=1, subdir="."), str(target))
        assert res["commit"] == origin["first"]
        assert (target / "VERSION").read_text() == "one\n"
        assert git("rev-list", "--count", "HEAD", cwd=target).strip() == "1"


def test_revision_is_required(tmp_path, origin) -> None:
    with pytest.raises(InvalidInput, match="revision"):
        install(git_spec(origin["path"], None), str(tmp_path))
    with pytest.raises(InvalidInput, match="revision"):
        install(git_spec(origin["path"], "--upload-pack=evil"), str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_unknown_revision_and_unreachable_url_leave_nothing(tmp_path, origin) -> None:
    with pytest.raises(NotFound, match="no-such-tag"):
        install(git_spec(origin["path"], "no-such-tag"), str(tmp_path))
    assert os.listdir(tmp_path) == []
    missing = str(tmp_path / "not-a-repo")
    with pytest.raises(DownloadError, match="cannot clone") as exc:
        install(git_spec(missing, "main"), str(tmp_path))
    assert missing in exc.value.message
    assert os.listdir(tmp_path) == []


def test_subdir_must_stay_inside(tmp_path, origin) -> None:
    with pytest.raises(InvalidInput, match="subdir"):
        install(git_spec(origin["path"], "v1", subdir="../out"), str(tmp_path))
    assert os.listdir(tmp_path) == []
