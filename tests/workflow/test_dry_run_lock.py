"""Dry runs (the resolved tree), lock files, and the cache commands."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import git

from .conftest import cache_records, run, run_ok


@pytest.fixture
def graph_repo(repo, fake_soft, tmp_path):
    """app → (cc: detected soft 12.2.0, prep: a cached script, work: a script that makes a
    file when it runs)."""
    made = tmp_path / "made-by-work"
    repo.entry("soft", "cc-soft", {"tags": ["dl-cc"], "detect": {"executables": ["cc"]}})
    fake_soft({"cc-soft": [{"version": "12.2.0", "path": "/opt/cc12/bin/cc",
                            "env": {"CK_CC": "/opt/cc12/bin/cc"}}]})
    repo.script("prep", {"tags": ["dl-prep"], "cache": True, "version": "1.4"},
                'echo "PREP=1" >> "$CK_ENV_OUT"\n')
    repo.script("work", {"tags": ["dl-work"], "cache": True},
                f'touch "{made}"\necho "WORK=w" >> "$CK_ENV_OUT"\n')
    repo.script("app", {"tags": ["dl-app"], "cache": True,
                        "deps": [{"tags": "dl-cc", "names": ["cc"], "version": ">=12"},
                                 {"tags": "dl-prep", "names": ["prep"]},
                                 {"tags": "dl-work", "names": ["work"],
                                  "enable_if_env": {"WITH_WORK": ["1"]}}],
                        "default_env": {"WITH_WORK": "1"}},
                'echo "APP=$CK_CC/$PREP/$WORK" >> "$CK_ENV_OUT"\n')
    repo.made = made
    return repo


def test_dry_run_tree(graph_repo, home):
    run_ok(tags="dl-prep")                       # prep is cached now
    result = run_ok(tags="dl-app", dry_run=True)
    text = result["text"]
    lines = text.splitlines()
    assert lines[0].startswith("script:app") and "[will run]" in lines[0]
    cc = next(line for line in lines if "soft:cc-soft" in line)
    assert "12.2.0" in cc and "[detected]" in cc and "/opt/cc12/bin/cc" in cc
    assert cc.lstrip("│ ").startswith(("├── cc:", "└── cc:"))
    prep = next(line for line in lines if "script:prep" in line)
    assert "1.4" in prep and "[cached]" in prep
    work = next(line for line in lines if "script:work" in line)
    assert "[will run]" in work
    assert result["graph"]["key"][:12] in lines[0]
    assert not graph_repo.made.exists()           # nothing ran
    assert [r["name"] for r in cache_records(home)] == ["prep"]


def test_dry_run_through_the_cli(graph_repo, ck):
    rc, out, err = ck("run", "script", "--tags=dl-app", "--dry-run")
    assert rc == 0, err
    assert out.startswith("script:app") and "[detected]" in out and "12.2.0" in out
    assert "script:work" in out and "[will run]" in out
    assert not graph_repo.made.exists()


def test_run_after_dry_run_uses_the_dependencies(graph_repo, fake_soft):
    r = run_ok(tags="dl-app")
    assert r["new_env"] == {"APP": "/opt/cc12/bin/cc/1/w"}
    assert graph_repo.made.exists()
    kinds = sorted((d["name"], d["kind"], d["version"]) for d in r["deps"].values())
    assert kinds == [("cc-soft", "soft", "12.2.0"), ("prep", "script", "1.4"),
                     ("work", "script", None)]
    assert "[cached]" in run_ok(tags="dl-app", dry_run=True)["text"].splitlines()[0]


def test_lock_file(graph_repo, tmp_path):
    git("init", "-q", cwd=graph_repo.root)
    git("add", "-A", cwd=graph_repo.root)
    git("commit", "-q", "-m", "scripts", cwd=graph_repo.root)
    head = git("rev-parse", "HEAD", cwd=graph_repo.root).strip()
    graph_repo.settle()
    lock = tmp_path / "lock.yaml"
    result = run_ok(tags="dl-app", dry_run=True, lock=str(lock))
    assert result["lock"] == str(lock)
    assert not graph_repo.made.exists()
    data = yaml.safe_load(lock.read_text())
    assert data["cknowledge_lock"] == 1
    nodes = {n["name"]: n for n in data["nodes"]}
    assert set(nodes) == {"app", "cc-soft", "prep", "work"}
    assert data["nodes"][-1]["name"] == "app"     # dependencies first
    graph_keys = {g["entry"]: g["key"] for g in _flatten(result["graph"])}
    for name, node in nodes.items():
        assert {"ident", "kind", "version", "key", "parts", "repo_commit"} <= set(node)
        assert node["key"] == graph_keys[name]
        assert set(node["parts"]) == {"kind", "entry", "files", "env", "platform", "deps"}
        assert node["repo_commit"] == head, node
    assert nodes["cc-soft"]["kind"] == "soft" and nodes["cc-soft"]["version"] == "12.2.0"
    assert nodes["cc-soft"]["path"] == "/opt/cc12/bin/cc"
    assert nodes["prep"]["version"] == "1.4" and nodes["app"]["version"] is None


def _flatten(g):
    out = [g]
    for c in g["deps"]:
        out.extend(_flatten(c))
    return out


def test_from_lock_reproduces(graph_repo, tmp_path):
    lock = tmp_path / "lock.yaml"
    planned = run_ok(tags="dl-app", dry_run=True, lock=str(lock))
    r = run_ok(tags="dl-app", from_lock=str(lock))
    assert r["key"] == planned["graph"]["key"] and graph_repo.made.exists()
    again = run_ok(tags="dl-app", from_lock=str(lock))
    assert again["cached"] is True


def test_from_lock_names_the_changed_step_and_part(graph_repo, tmp_path):
    lock = tmp_path / "lock.yaml"
    run_ok(tags="dl-app", dry_run=True, lock=str(lock))
    graph_repo.write("script", "prep", "run.sh", 'echo "PREP=2" >> "$CK_ENV_OUT"\n')
    result = run(tags="dl-app", from_lock=str(lock))
    assert result["return"] == 18, result
    msg = result["error"]
    assert "lock.yaml" in msg
    assert "script:prep: its files changed" in msg, msg
    assert "script:app: its deps changed" in msg, msg      # the dependant, through its deps
    assert "script:work" not in msg and "soft:cc-soft" not in msg
    assert not graph_repo.made.exists()                    # nothing ran


def test_from_lock_names_a_changed_input(graph_repo, tmp_path):
    lock = tmp_path / "lock.yaml"
    run_ok(tags="dl-app", dry_run=True, lock=str(lock))
    result = run(tags="dl-app", from_lock=str(lock), env={"EXTRA": "1"})
    assert result["return"] == 18 and "script:app: its env changed" in result["error"], result


def test_from_lock_detects_a_missing_dependency(graph_repo, tmp_path):
    lock = tmp_path / "lock.yaml"
    run_ok(tags="dl-app", dry_run=True, lock=str(lock))
    result = run(tags="dl-app", from_lock=str(lock), env={"WITH_WORK": "0"})
    assert result["return"] == 18, result
    assert "no longer needed" in result["error"] and "dl-work" in result["error"]


def test_from_lock_pins_the_detected_version(graph_repo, fake_soft, tmp_path):
    lock = tmp_path / "lock.yaml"
    run_ok(tags="dl-app", dry_run=True, lock=str(lock))
    fake_soft({"cc-soft": [{"version": "13.1.0", "path": "/opt/cc13/bin/cc"},
                           {"version": "12.2.0", "path": "/opt/cc12/bin/cc"}]})
    # without the lock the newest wins; with it, the locked one
    assert run_ok(tags="dl-app", dry_run=True)["graph"]["deps"][0]["version"] == "13.1.0"
    pinned = run_ok(tags="dl-app", dry_run=True, from_lock=str(lock))
    assert pinned["graph"]["deps"][0]["version"] == "12.2.0"
    fake_soft({"cc-soft": [{"version": "13.1.0", "path": "/opt/cc13/bin/cc"}]})
    result = run(tags="dl-app", dry_run=True, from_lock=str(lock))
    assert result["return"] == 18, result
    assert "12.2.0" in result["error"] and "13.1.0" in result["error"]


def test_from_lock_rejects_other_files(graph_repo, tmp_path):
    bad = tmp_path / "not-a-lock.yaml"
    bad.write_text("hello: world\n")
    assert run(tags="dl-app", from_lock=str(bad))["return"] == 2
    assert run(tags="dl-app", from_lock=str(tmp_path / "missing.yaml"))["return"] == 16


# -- cache commands ----------------------------------------------------------------------------
@pytest.fixture
def cached_three(repo):
    for name, tags in (("one", ["cc-x", "cc-one"]), ("two", ["cc-x", "cc-two"]),
                       ("three", ["cc-y"])):
        repo.script(name, {"tags": tags, "cache": True}, f'echo "N={name}" >> "$CK_ENV_OUT"\n')
        run_ok(tags=",".join(tags))
    return repo


def test_show_cache(cached_three, ck, ckj):
    rows = ckj("show", "cache")["list"]
    assert sorted(r["name"] for r in rows) == ["one", "three", "two"]
    assert sorted(r["name"] for r in ckj("show", "cache", "--tags=cc-x")["list"]) == ["one", "two"]
    assert [r["name"] for r in ckj("show", "cache", "--tags=cc-one")["list"]] == ["one"]
    rc, out, _err = ck("show", "cache", "--tags=cc-y")
    assert rc == 0 and out.startswith("script:three") and "cache/script" in out


def test_show_cache_variation_tags(repo, ckj):
    repo.script("v", {"tags": ["cc-v"], "cache": True,
                      "variations": {"big": {"env": {"S": "b"}}, "small": {"env": {"S": "s"}}}},
                'echo "A=1" >> "$CK_ENV_OUT"\n')
    run_ok(tags="cc-v,_big")
    run_ok(tags="cc-v,_small")
    assert len(ckj("show", "cache", "--tags=cc-v")["list"]) == 2
    assert len(ckj("show", "cache", "--tags=cc-v,_big")["list"]) == 1


def test_rm_cache(cached_three, ck, ckj, home):
    rc, _out, err = ck("rm", "cache", "--tags=cc-x")
    assert rc == 2 and "--force" in err and "2" in err
    assert len(cache_records(home)) == 3
    rc, _out, err = ck("rm", "cache", "--tags=cc-y")
    assert rc == 0, err
    assert sorted(r["name"] for r in cache_records(home)) == ["one", "two"]
    assert run_ok(tags="cc-y")["cached"] is False        # removed, so it runs again
    rc, _out, err = ck("rm", "cache", "--tags=cc-x", "--force")
    assert rc == 0, err
    assert [r["name"] for r in cache_records(home)] == ["three"]
    rc, _out, err = ck("rm", "cache", "--tags=cc-nothing")
    assert rc == 16
    rc, _out, err = ck("rm", "cache")
    assert rc == 2 and len(cache_records(home)) == 1
