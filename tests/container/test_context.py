"""Build contexts from locks: golden Containerfiles, repos copied, digests, host config."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from cknowledge import api
from cknowledge.container import hostcfg
from cknowledge.container.context import write_context
from cknowledge.container.plan import Target, resolve
from cknowledge.errors import InvalidInput
from tests.workflow.conftest import fake_soft  # noqa: F401  (a fixture)

GOLDEN = Path(__file__).parent / "golden"
REAL_APT_SOURCES, REAL_PIP_INDEXES = hostcfg.apt_sources, hostcfg.pip_indexes
BASE = "localhost/ck-base:bookworm"


@pytest.fixture(autouse=True)
def fixed_host(monkeypatch):
    """The host's apt and pip configuration as fixed data (the golden files need it)."""
    monkeypatch.setattr(hostcfg, "apt_sources", lambda root="/etc/apt": {
        "/etc/apt/sources.list.d/debian.sources":
            b"Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n"
            b"Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"})
    monkeypatch.setattr(hostcfg, "pip_indexes", lambda environ=None: {
        "index_url": "https://pypi.example/simple", "extra_index_urls": [],
        "skipped": ["file:///opt/pypi/simple"], "cert": None})


def make(home: Path, tmp_path: Path, component: str, inputs: dict | None = None,
         name: str = "ctx") -> dict:
    kernel = api.kernel_for(str(home))
    target = Target.parse(component)
    lock = resolve(kernel, target, dict(inputs or {}))
    return write_context(kernel, str(tmp_path / name), target, lock, dict(inputs or {}), BASE)


def normalized(text: str) -> str:
    from cknowledge import __version__

    text = re.sub(r'org\.cknowledge\.lock="[0-9a-f]{16}"', 'org.cknowledge.lock="LOCK"', text)
    return text.replace(f"cknowledge {__version__}", "cknowledge VERSION").replace(
        f'org.cknowledge.version="{__version__}"', 'org.cknowledge.version="VERSION"')


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CK_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs (CK_UPDATE_GOLDEN=1 rewrites it)"


def test_script_context_golden(home, tmp_path, greet):
    ctx = make(home, tmp_path, "script:greet", {"who": "ana"})
    folder = Path(ctx["folder"])
    check_golden("script-greet.Containerfile", normalized((folder / "Containerfile").read_text()))
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert files == ["Containerfile", "apt/etc/apt/sources.list.d/debian.sources",
                     "home/repos.json", "home/repos/local/script/greet/meta.yaml",
                     "home/repos/local/script/greet/run.sh", "lock.yaml", "pip-ca.pem",
                     "pip.conf", "request.json", "requirements.txt",
                     f"wheels/cknowledge-{__import__('cknowledge').__version__}-py3-none-any.whl"]
    assert (folder / "pip.conf").read_text() == (
        "[global]\ndisable-pip-version-check = true\nno-cache-dir = true\n"
        "index-url = https://pypi.example/simple\n")
    request = json.loads((folder / "request.json").read_text())
    assert request == {"component": {"kind": "script", "name": "greet", "tags": []},
                       "inputs": {"who": "ana"}, "plan_inputs": {"who": "ana"}}
    assert ctx["pip_skipped"] == ["file:///opt/pypi/simple"]
    assert "pydantic==" in (folder / "requirements.txt").read_text()


def test_soft_dependencies_become_packages(home, tmp_path, entries, fake_soft):  # noqa: F811
    entries.add("soft", "tool", {"tags": ["ctool"], "detect": {"executables": ["ctool"]},
                                 "container": {"apt": ["ctool-bin", "libctool1"]}})
    entries.add("soft", "pyfoo", {"tags": ["pyfoo"], "detect": {"python_package": ["foo-py"]}})
    fake_soft({"tool": [{"version": "2.1", "path": "/usr/bin/ctool"}],
               "pyfoo": [{"version": "1.4.2", "path": "/x/site-packages/foo"}]})
    entries.add("script", "uses", {"tags": ["uses"], "deps": [{"tags": "ctool"},
                                                              {"tags": "pyfoo"}]})
    ctx = make(home, tmp_path, "script:uses")
    assert ctx["needs"] == {"apt": ["ctool-bin", "libctool1"], "pip": ["foo-py==1.4.2"]}
    check_golden("script-uses.Containerfile",
                 normalized((Path(ctx["folder"]) / "Containerfile").read_text()))


def test_soft_without_a_package_is_one_clear_error(home, tmp_path, entries, fake_soft):  # noqa: F811
    entries.add("soft", "odd", {"tags": ["odd"], "detect": {"executables": ["odd"]}})
    fake_soft({"odd": [{"version": "1", "path": "/opt/odd"}]})
    entries.add("script", "needs-odd", {"tags": ["x"], "deps": [{"tags": "odd"}]})
    with pytest.raises(InvalidInput, match=r"soft:odd \(found at /opt/odd\) names no Debian "
                                           r"package for images; add 'container: \{apt"):
        make(home, tmp_path, "script:needs-odd")


def test_same_lock_same_context_and_a_change_touches_only_later_files(home, tmp_path, greet):
    first = make(home, tmp_path, "script:greet", name="a")
    again = make(home, tmp_path, "script:greet", name="b")
    assert (first["lock_digest"], first["context_digest"]) == \
        (again["lock_digest"], again["context_digest"])
    greet.add("script", "greet", {"tags": ["greet"], "input_mapping": {"who": "CK_WHO"}},
              {"run.sh": "echo changed\n"})
    changed = make(home, tmp_path, "script:greet", name="c")
    assert changed["lock_digest"] != first["lock_digest"]
    a, c = Path(first["folder"]), Path(changed["folder"])
    # the early layers' inputs are unchanged; the repos and the lock differ
    for rel in ("apt/etc/apt/sources.list.d/debian.sources", "pip.conf", "requirements.txt"):
        assert (a / rel).read_bytes() == (c / rel).read_bytes()
    assert [p.name for p in (a / "wheels").iterdir()] == [p.name for p in (c / "wheels").iterdir()]
    for whl in (a / "wheels").iterdir():
        assert whl.read_bytes() == (c / "wheels" / whl.name).read_bytes()
    assert (a / "lock.yaml").read_text() != (c / "lock.yaml").read_text()
    assert (c / "home/repos/local/script/greet/run.sh").read_text() == "echo changed\n"
    lines_a = (a / "Containerfile").read_text().splitlines()
    lines_c = (c / "Containerfile").read_text().splitlines()
    assert [i for i, (x, y) in enumerate(zip(lines_a, lines_c)) if x != y] == \
        [len(lines_a) - 3]  # only the LABEL with the lock digest


def test_only_the_locks_local_entries_are_copied_other_repos_whole(home, tmp_path, greet):
    other = tmp_path / "myrepo"
    (other / "script" / "helper").mkdir(parents=True)
    (other / "script" / "helper" / "meta.yaml").write_text(
        "uid: 1111222233334444\nalias: helper\nautomation: script\ntags: [helper]\n")
    (other / "script" / "spare").mkdir(parents=True)
    (other / "script" / "spare" / "meta.yaml").write_text(
        "uid: 5555222233334444\nalias: spare\nautomation: script\ntags: [spare]\n")
    (other / "experiment" / "e1").mkdir(parents=True)
    (other / "experiment" / "e1" / "meta.yaml").write_text("uid: 9999222233334444\n")
    (other / ".git").mkdir()
    (other / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    done = api.access({"action": "pull", "automation": "repo", "source": str(other),
                       "name": "myrepo"}, home=str(home))
    assert done["return"] == 0, done
    greet.add("script", "greet", {"tags": ["greet"], "deps": [{"tags": "helper"}]},
              {"run.sh": "echo hi\n"})
    greet.add("experiment", "old-run", {"tags": ["x"]})
    ctx = make(home, tmp_path, "script:greet")
    folder = Path(ctx["folder"])
    local = sorted(str(p.relative_to(folder / "home/repos/local"))
                   for p in (folder / "home/repos/local").rglob("*") if p.is_file())
    assert local == ["script/greet/meta.yaml", "script/greet/run.sh"]
    mine = sorted(str(p.relative_to(folder / "home/repos/myrepo"))
                  for p in (folder / "home/repos/myrepo").rglob("*") if p.is_file())
    assert mine == ["script/helper/meta.yaml", "script/spare/meta.yaml"]
    registry = json.loads((folder / "home/repos.json").read_text())["repos"]
    assert [(r["name"], r["path"]) for r in registry] == [("myrepo", "/ck/home/repos/myrepo")]
    assert {r["repo"] for r in ctx["repos"]} == {"local", "myrepo"}


def test_host_apt_sources_and_keyrings(tmp_path):
    root = tmp_path / "apt"
    (root / "sources.list.d").mkdir(parents=True)
    key = tmp_path / "k.gpg"
    key.write_bytes(b"KEY")
    (root / "sources.list").write_text(f"deb [signed-by={key}] http://m.example/debian bookworm main\n")
    (root / "sources.list.d" / "x.sources").write_text("Types: deb\nURIs: http://n.example/x\n")
    (root / "sources.list.d" / "y.list.disabled").write_text("deb http://off.example/ x main\n")
    files = REAL_APT_SOURCES(str(root))
    assert sorted(files) == sorted(["/etc/apt/sources.list", "/etc/apt/sources.list.d/x.sources",
                                    str(key)])
    assert files[str(key)] == b"KEY"


def test_pip_indexes_keep_network_ones_only():
    got = REAL_PIP_INDEXES({"PIP_INDEX_URL": "https://idx.example/simple",
                            "PIP_EXTRA_INDEX_URL": "file:///opt/x https://more.example/s",
                            "PIP_FIND_LINKS": "/opt/wheels"})
    assert got["index_url"] == "https://idx.example/simple"
    assert got["extra_index_urls"] == ["https://more.example/s"]
    assert got["skipped"] == ["file:///opt/x", "/opt/wheels"]
    assert "index-url = https://idx.example/simple" in hostcfg.pip_conf_text(got)


def test_targets_are_checked():
    for component, message in ((None, "name what the image is for"),
                               ("dataset:x", "not 'dataset'"), ("script", "select it with --tags"),
                               ("solution", "name the solution")):
        with pytest.raises(InvalidInput, match=message):
            Target.parse(component)
    assert Target.parse("script", "a,b").slug() == "script-a-b"
