"""The derived index stays true to the folders with no manual reindex."""

from __future__ import annotations

import os
import shutil


from cknowledge import api
from cknowledge.store.metaio import find_meta_file
from tests.conftest import access, backdate, backdate_tree, git, names, ok, run_ck


def find(**kw):
    return ok(action="find", automation=kw.pop("automation", "dataset"), **kw)


def add(name: str, tags: str = "", automation: str = "dataset", **kw):
    return ok(action="add", automation=automation, artifact=name, tags=tags, **kw)


def meta_path(entry: dict) -> str:
    path = find_meta_file(entry["path"])
    assert path is not None
    return path


def write_yaml(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:  # in place, as an editor might
        fh.write(text)


def write_meta_dict(path: str, data: dict) -> None:
    """Rewrite a meta file in place in its own format (YAML or JSON)."""
    import json

    import yaml

    text = json.dumps(data) if path.endswith(".json") else yaml.safe_dump(data)
    write_yaml(path, text)


def new_entry(repo_root: str, automation: str, name: str, text: str,
              fname: str = "meta.yaml") -> str:
    folder = os.path.join(repo_root, automation, name)
    os.makedirs(folder, exist_ok=True)
    write_yaml(os.path.join(folder, fname), text)
    return folder


def local_root(home) -> str:
    return os.path.join(str(home), "repos", "local")


def test_hand_edit_changes_find_by_tags(home) -> None:
    a = add("a", "red,x")
    add("b", "blue,x")
    assert names(find(tags="red")) == ["a"]
    write_meta_dict(meta_path(a), {"uid": a["uid"], "alias": "a", "automation": "dataset",
                                   "tags": ["green", "x"]})
    assert names(find(tags="red")) == []
    assert names(find(tags="green")) == ["a"]
    assert names(find(tags="x")) == ["a", "b"]
    loaded = ok(action="load", automation="dataset", artifact="a")
    assert loaded["meta"]["tags"] == ["green", "x"]
    assert loaded["uid"] == a["uid"]


def test_hand_edit_after_a_while_is_seen(home) -> None:
    """An edit long after the last scan (no racy timestamps involved)."""
    a = add("a", "one")
    assert names(find(tags="one")) == ["a"]
    backdate_tree(local_root(home), seconds=30)
    assert names(find(tags="one")) == ["a"]  # the index now trusts the old stats
    write_meta_dict(meta_path(a), {"uid": a["uid"], "alias": "a", "tags": ["two"]})
    backdate(meta_path(a), seconds=10)  # even an edit whose mtime lies in the past
    assert names(find(tags="two")) == ["a"]
    assert names(find(tags="one")) == []


def test_hand_edit_replacing_file_like_editors_do(home) -> None:
    a = add("a", "one")
    assert names(find(tags="one")) == ["a"]
    path = meta_path(a)
    tmp = path + ".swp"
    with open(tmp, "w") as fh:
        fh.write(open(path).read().replace("one", "three"))
    os.replace(tmp, path)
    assert names(find(tags="three")) == ["a"]


def test_folder_created_by_hand_is_found(home) -> None:
    add("a", "x")
    assert names(find(tags="x")) == ["a"]
    new_entry(local_root(home), "dataset", "manual", "alias: manual\ntags: [x, hand]\n")
    assert names(find(tags="x")) == ["a", "manual"]
    loaded = ok(action="load", automation="dataset", artifact="manual")
    assert len(loaded["uid"]) == 16
    # the derived uid is stable
    assert ok(action="load", automation="dataset", artifact="manual")["uid"] == loaded["uid"]
    assert names(find(artifact=loaded["uid"])) == ["manual"]


def test_folder_created_by_hand_in_new_automation_folder(home) -> None:
    add("a", "x")
    assert names(find(tags="x")) == ["a"]
    new_entry(local_root(home), "model", "m1", "tags: [x]\n")
    assert names(find(automation="model", tags="x")) == ["m1"]


def test_folder_then_meta_created_later(home) -> None:
    add("a", "x")
    folder = os.path.join(local_root(home), "dataset", "later")
    os.makedirs(folder)
    assert names(find(tags="x")) == ["a"]  # a folder without meta is not an entry
    write_yaml(os.path.join(folder, "meta.yaml"), "tags: [x]\n")
    assert names(find(tags="x")) == ["a", "later"]


def test_settled_folders_without_meta_cost_no_write(home, monkeypatch) -> None:
    """Folders without meta (a docs folder among scripts) and a repo folder that does not
    exist are remembered: a query that finds nothing new writes nothing to the index, and
    the meta file that arrives later is still seen."""
    from cknowledge.store.index import Index

    add("a", "x")
    folder = os.path.join(local_root(home), "dataset", "docs-only")
    os.makedirs(folder)
    with open(os.path.join(folder, "README.md"), "w") as fh:
        fh.write("not an entry\n")
    # everything older than the index's 20 ms "too recent to trust" window, as folders are
    # a moment after they were made (the built-in repo folder of the tests is new too)
    backdate_tree(str(home))
    backdate_tree(os.environ["CK_BUILTIN_REPO"])
    assert names(find(tags="x")) == ["a"]
    writes: list[str] = []
    for method in ("put", "drop", "_set_folder"):
        original = getattr(Index, method)
        monkeypatch.setattr(Index, method, lambda self, *a, _o=original, _m=method, **k:
                            writes.append(_m) or _o(self, *a, **k))
    api.reset()
    assert names(find(tags="x")) == ["a"] and names(find(tags="x")) == ["a"]
    assert writes == []
    write_yaml(os.path.join(folder, "meta.yaml"), "tags: [x]\n")
    assert names(find(tags="x")) == ["a", "docs-only"]


def test_folder_deleted_by_hand_disappears(home) -> None:
    a = add("a", "x")
    add("b", "x")
    assert names(find(tags="x")) == ["a", "b"]
    shutil.rmtree(a["path"])
    assert names(find(tags="x")) == ["b"]
    assert access(action="load", automation="dataset", artifact="a")["return"] == 16


def test_automation_folder_deleted_by_hand(home) -> None:
    add("a", "x")
    add("m", "x", automation="model")
    assert names(find(automation="model")) == ["m"]
    shutil.rmtree(os.path.join(local_root(home), "model"))
    assert names(find(automation="model", tags="x")) == [] if access(
        action="find", automation="model")["return"] == 0 else True
    assert names(find(tags="x")) == ["a"]


def test_broken_yaml_is_a_warning_and_others_are_found(home) -> None:
    add("good1", "x")
    b = add("bad", "x")
    add("good2", "x")
    assert names(find(tags="x")) == ["bad", "good1", "good2"]
    bad_path = meta_path(b)
    write_yaml(bad_path, "tags: [x, y\nalias: : :\n")
    result = find(tags="x")
    assert names(result) == ["good1", "good2"]
    assert result["warnings"], result
    assert any(bad_path in w for w in result["warnings"]), result["warnings"]
    # still reported on the next query, and loading it fails clearly
    assert any(bad_path in w for w in find()["warnings"])
    # fixing the file brings the entry back and the warning goes
    write_meta_dict(bad_path, {"uid": b["uid"], "alias": "bad", "tags": ["x"]})
    result = find(tags="x")
    assert names(result) == ["bad", "good1", "good2"]
    assert not result.get("warnings")


def test_broken_json_meta_is_a_warning(home) -> None:
    add("good", "x")
    new_entry(local_root(home), "dataset", "bad", "{\"tags\": [", fname="meta.json")
    result = find(tags="x")
    assert names(result) == ["good"]
    assert any(os.path.join("bad", "meta.json") in w for w in result["warnings"])


def test_warning_via_cli_does_not_fail(home, ck) -> None:
    add("good", "x")
    new_entry(local_root(home), "dataset", "bad", "a: [\n")
    rc, out, err = ck("find", "dataset", "--tags=x")
    assert rc == 0, err
    assert "dataset:local:good" in out
    assert "warning" in err and os.path.join("bad", "meta.yaml") in err


def test_warnings_do_not_leak_into_unrelated_results(home) -> None:
    add("good", "x")
    new_entry(local_root(home), "dataset", "bad", "a: [\n")
    assert find()["warnings"]
    result = ok(action="version")
    assert "warnings" not in result, result


def test_yaml_scalars_that_json_cannot_hold_are_not_fatal(home) -> None:
    """YAML dates/timestamps are valid meta; they must not break the index."""
    add("a", "x")
    new_entry(local_root(home), "dataset", "dated",
              "tags: [x]\nreleased: 2024-01-31\nwhen: 2024-01-31 10:00:00\n")
    result = access(action="find", automation="dataset", tags="x")
    assert result["return"] == 0, result
    assert names(result) == ["a", "dated"]
    loaded = ok(action="load", automation="dataset", artifact="dated")
    assert str(loaded["meta"]["released"]).startswith("2024-01-31")


def test_meta_json_renamed_to_yaml_is_followed(home) -> None:
    folder = new_entry(local_root(home), "dataset", "r",
                       '{"alias": "r", "tags": ["old"]}', fname="meta.json")
    assert names(find(tags="old")) == ["r"]
    os.rename(os.path.join(folder, "meta.json"), os.path.join(folder, "meta.yaml"))
    write_yaml(os.path.join(folder, "meta.yaml"), "alias: r\ntags: [new]\n")
    assert names(find(tags="new")) == ["r"]
    assert names(find(tags="old")) == []
    # and back, without content change
    os.rename(os.path.join(folder, "meta.yaml"), os.path.join(folder, "meta.json"))
    write_yaml(os.path.join(folder, "meta.json"), '{"alias": "r", "tags": ["json"]}')
    assert names(find(tags="json")) == ["r"]


def test_pure_rename_json_to_yaml(home) -> None:
    folder = new_entry(local_root(home), "dataset", "r",
                       '{"alias": "r", "tags": ["t1"]}', fname="meta.json")
    assert names(find(tags="t1")) == ["r"]
    os.rename(os.path.join(folder, "meta.json"), os.path.join(folder, "meta.yaml"))
    result = find(tags="t1")
    assert names(result) == ["r"]
    assert result["list"][0]["path"] == folder


def test_higher_priority_meta_file_added_is_followed(home) -> None:
    """meta.yaml takes precedence over meta.json; adding one next to the other is seen."""
    folder = new_entry(local_root(home), "dataset", "p", '{"tags": ["from-json"]}',
                       fname="meta.json")
    assert names(find(tags="from-json")) == ["p"]
    backdate_tree(local_root(home), seconds=30)
    assert names(find(tags="from-json")) == ["p"]
    write_yaml(os.path.join(folder, "meta.yaml"), "tags: [from-yaml]\n")
    assert names(find(tags="from-yaml")) == ["p"]


def test_second_automation_found_after_find_scoped_to_another(home, tmp_path) -> None:
    """A registered folder with several automations: a find scoped to one automation
    must not make the others invisible (as happens after a clone made a while ago)."""
    repo = tmp_path / "multi"
    new_entry(str(repo), "dataset", "d1", "tags: [shared]\n")
    new_entry(str(repo), "script", "s1", "tags: [shared]\n")
    new_entry(str(repo), "model", "m1", "tags: [shared]\n")
    backdate_tree(repo, seconds=60)
    ok(action="pull", automation="repo", source=str(repo))
    assert names(find(automation="dataset", tags="shared")) == ["d1"]
    assert names(find(automation="script", tags="shared")) == ["s1"]
    assert names(find(automation="model", tags="shared")) == ["m1"]


def test_new_automation_folder_found_after_scoped_find(home) -> None:
    add("a", "x")
    root = local_root(home)
    new_entry(root, "model", "net", "tags: [handmade]\n")
    backdate_tree(root, seconds=30)
    assert names(find(automation="dataset", tags="x")) == ["a"]
    assert names(find(automation="model", tags="handmade")) == ["net"]


def test_repo_registered_by_another_process_is_seen(home, tmp_path) -> None:
    """A long-lived process (a Python program, ck serve) sees repos pulled by the CLI."""
    add("a", "x")
    assert names(find(tags="x")) == ["a"]  # the kernel of this process is warm
    repo = tmp_path / "other"
    new_entry(str(repo), "dataset", "o1", "tags: [x]\n")
    rc, out, err = run_ck(home, "pull", "repo", str(repo))
    assert rc == 0, err
    assert names(find(tags="x")) == ["a", "o1"]


def test_entry_added_by_another_process_is_seen(home) -> None:
    add("a", "x")
    assert names(find(tags="x")) == ["a"]
    rc, out, err = run_ck(home, "add", "dataset:b", "--tags=x")
    assert rc == 0, err
    assert names(find(tags="x")) == ["a", "b"]
    rc, out, err = run_ck(home, "rm", "dataset:a")
    assert rc == 0, err
    assert names(find(tags="x")) == ["b"]


def test_index_deleted_is_rebuilt(home) -> None:
    add("a", "x")
    add("b", "y")
    api.reset()
    shutil.rmtree(os.path.join(str(home), "index"))
    assert names(find(tags="x")) == ["a"]
    assert names(find()) == ["a", "b"]


def test_index_corrupt_is_not_fatal(home) -> None:
    add("a", "x")
    api.reset()
    idx = os.path.join(str(home), "index")
    for f in os.listdir(idx):
        os.unlink(os.path.join(idx, f))
    with open(os.path.join(idx, "index.sqlite"), "wb") as fh:
        fh.write(b"this is not a database" * 100)
    result = access(action="find", automation="dataset", tags="x")
    assert result["return"] == 0, result
    assert names(result) == ["a"]


def test_git_checkout_is_seen_by_next_find(home, tmp_path) -> None:
    repo = tmp_path / "gitrepo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    new_entry(str(repo), "dataset", "g1", "alias: g1\ntags: [v1, common]\n")
    new_entry(str(repo), "dataset", "g2", "alias: g2\ntags: [common]\n")
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "one", cwd=repo)
    first = git("rev-parse", "HEAD", cwd=repo).strip()
    write_yaml(str(repo / "dataset" / "g1" / "meta.yaml"), "alias: g1\ntags: [v2, common]\n")
    shutil.rmtree(repo / "dataset" / "g2")
    new_entry(str(repo), "dataset", "g3", "alias: g3\ntags: [common]\n")
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "two", cwd=repo)
    git("checkout", "-q", first, cwd=repo)

    rc, out, err = run_ck(home, "pull", "repo", str(repo))
    assert rc == 0, err
    assert names(find(tags="v1")) == ["g1"]
    assert names(find(tags="common")) == ["g1", "g2"]
    git("checkout", "-q", "main", cwd=repo)
    assert names(find(tags="v1")) == []
    assert names(find(tags="v2")) == ["g1"]
    assert names(find(tags="common")) == ["g1", "g3"]
    # the CLI, a fresh process, agrees
    rc, out, err = run_ck(home, "find", "dataset", "--tags=v2", "--json")
    assert rc == 0, err
    import json

    assert [e["name"] for e in json.loads(out)["list"]] == ["g1"]
