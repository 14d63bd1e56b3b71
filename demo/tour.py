"""A short tour of cknowledge: the real ``ck`` command on a fresh, temporary home.

    python demo/tour.py           # run the tour; the temporary home is removed at the end
    python demo/tour.py --keep    # keep it, to look around afterwards (CK_HOME=... ck find dataset)

Every command is run through the real CLI (``python -m cknowledge.cli.main``) and its
real output is printed below it. The tour checks each exit code and stops with exit
status 1 if anything behaves otherwise than expected.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

HOME = ""  # the temporary CK_HOME, set in main()


class TourFailed(Exception):
    pass


def heading(title: str) -> None:
    print(f"\n== {title} " + "=" * max(3, 72 - len(title)))


def note(text: str) -> None:
    print(textwrap.fill(text, 78, initial_indent="# ", subsequent_indent="# "))


def shown(text: str) -> str:
    """Output with the temporary home folder written as $CK_HOME, to keep lines short."""
    return text.replace(HOME, "$CK_HOME")


def ck(*args: str, expect: int = 0, home: str | None = None) -> str:
    """Run ``ck ARGS``, print the command and what it printed; check the exit code."""
    prefix = "" if home is None else f"CK_HOME={shown(home)} "
    print(shown(f"\n$ {prefix}ck " + " ".join(_quote(a) for a in args)))
    proc = subprocess.run([sys.executable, "-m", "cknowledge.cli.main", *args],
                          capture_output=True, text=True,
                          env=dict(os.environ, CK_HOME=home or HOME),
                          stdin=subprocess.DEVNULL)
    for line in (proc.stdout + proc.stderr).rstrip("\n").splitlines():
        print(shown("  " + line))
    if proc.returncode != 0 or expect != 0:
        print(f"  [exit code {proc.returncode}]")
    if proc.returncode != expect:
        raise TourFailed(f"'ck {' '.join(args)}' exited {proc.returncode}, expected {expect}")
    return proc.stdout


def _quote(arg: str) -> str:
    return f"'{arg}'" if any(c in arg for c in "*? ") else arg


def check(condition: bool, what: str) -> None:
    if not condition:
        raise TourFailed(what)


def tour() -> None:
    heading("1. A fresh home")
    note("Everything cknowledge writes goes under $CK_HOME (here a temporary folder). "
         "Two repos always exist: 'builtin' (read-only, shipped with the package) and "
         "'local' (the default target of writes).")
    ck("version")
    ck("list", "repo")

    heading("2. Create a repo")
    ck("add", "repo:demo")

    heading("3. Add entries with tags and meta")
    note("An artifact is [REPO:]NAME; --meta.KEY=VALUE sets meta, dotted keys nest.")
    ck("add", "dataset:demo:mnist", "--tags=image,classification,small",
       "--meta.format=idx", "--meta.samples=70000")
    ck("add", "dataset:demo:cifar10", "--tags=image,classification", "--meta.format=png")
    ck("add", "dataset:demo:squad", "--tags=text,qa", "--meta.format=json")
    note("Inputs can also come from a JSON or YAML file with @file (values keep their types):")
    spec = os.path.join(HOME, "resnet50.yaml")
    with open(spec, "w", encoding="utf-8") as fh:
        fh.write("tags: [image, classification, onnx]\n"
                 "meta:\n  framework: onnx\n  dataset: imagenet\n  accuracy:\n    top1: 76.1\n")
    print(shown(f"\n$ cat {spec}"))
    print(textwrap.indent(open(spec, encoding="utf-8").read().rstrip(), "  "))
    ck("add", "model:demo:resnet50", f"@{spec}")
    ck("add", "model:demo:bert-base", "--tags=text,qa", "--meta.framework=pytorch")
    note("Each entry is a plain folder REPO/AUTOMATION/NAME with a meta file:")
    entry = os.path.join(HOME, "repos", "demo", "model", "resnet50")
    meta_file = os.path.join(entry, next(f for f in sorted(os.listdir(entry))
                                         if f.startswith("meta.")))
    print(shown(f"\n$ cat {meta_file}"))
    print(textwrap.indent(open(meta_file, encoding="utf-8").read().rstrip(), "  "))

    heading("4. Find entries")
    note("By tags (AND); a tag written -TAG excludes it:")
    ck("find", "dataset", "--tags=image,classification")
    out = ck("find", "dataset", "--tags=image,-small")
    check("dataset:demo:cifar10" in out and "mnist" not in out, "the -small exclusion failed")
    note("By name wildcard, by meta (nested keys with dots); 'search' is an alias of 'find':")
    ck("find", "dataset", "c*")
    ck("find", "model", "--meta.accuracy.top1=76.1")
    ck("search", "model", "--meta.framework=pytorch")

    heading("5. Load one entry as JSON")
    note("--json prints the whole result, 'return': 0 included, and nothing else on stdout.")
    ck("load", "dataset:mnist", "--json")

    heading("6. Update (merge into the meta)")
    ck("update", "dataset:mnist", "--meta.license=CC-BY-SA-3.0")
    ck("find", "dataset", "--meta.license=CC-BY-SA-3.0")

    heading("7. Copy and rename across repos")
    ck("add", "repo:team")
    note("cp gives the copy a new UID; ren and mv keep it.")
    ck("cp", "dataset:demo:mnist", "team:mnist")
    ck("ren", "dataset:team:mnist", "mnist-team")
    ck("find", "dataset", "mnist*")

    heading("8. Export to an archive, import it on another machine")
    note("An archive carries entries with their meta and files. Here a second home "
         "folder stands for the other machine; the entries keep their UIDs.")
    archive = os.path.join(HOME, "image-datasets.zip")
    other = os.path.join(HOME, "other-machine")
    ck("export", "dataset", "--repo=demo", "--tags=image", f"--file={archive}")
    ck("add", "repo:archive", home=other)
    ck("import", f"--file={archive}", "--repo=archive", home=other)
    out = ck("find", "dataset", "archive:*", home=other)
    check("dataset:archive:mnist" in out and "dataset:archive:cifar10" in out,
          "the imported entries were not found")
    note("Importing them again is refused: those UIDs exist already (8 = already exists).")
    ck("import", f"--file={archive}", "--repo=local", expect=8, home=other)

    heading("9. Errors: one line on stderr, a non-zero exit code")
    note("A typo'd action gets a suggestion (exit code 3 = unknown action):")
    ck("fnd", "dataset", "--tags=image", expect=3)
    note("A name that matches entries in several repos must be qualified (9 = ambiguous):")
    ck("cp", "dataset:demo:mnist", "local:mnist")
    ck("load", "dataset:mnist", expect=9)
    ck("load", "dataset:nope", expect=16)

    heading("10. The same find from Python")
    python_api()

    heading("11. Workflows: detect, build, run, benchmark")
    if shutil.which("gcc") is None:
        note("gcc is not installed here: skipping the program workflow.")
    else:
        note("Software detection is data (soft entries); the C benchmark programs of the "
             "built-in repo compile with the gcc found, cached by sources, compiler and "
             "flags, and check their output against reference outputs.")
        ck("detect", "soft", "--tags=compiler,gcc")
        ck("compile", "program:cbench-matmul", "--opt=-O3", "--dry-run")
        ck("run", "program:cbench-matmul", "--opt=-O3", "--dataset=cbench-n-small")
        note("A benchmark repeats separate runs and reports statistics, never one number:")
        ck("benchmark", "program:cbench-matmul", "--opt=-O3", "--repetitions=5",
           "--name=matmul-o3")

    heading("Done")
    note("Next: 'ck help', 'ck help dataset', 'ck find dataset --help'; docs/ has the guides.")


def python_api() -> None:
    import cknowledge

    request = {"action": "find", "automation": "dataset", "tags": "image,-small"}
    print(">>> import cknowledge")
    print(f">>> cknowledge.access({request!r})")
    result = cknowledge.access(request)
    print(shown(_short_repr(result)))
    check(result["return"] == 0 and result["list"], "access() found nothing")
    bad = {"action": "fnd", "automation": "dataset"}
    print(f">>> cknowledge.access({bad!r})")
    result = cknowledge.access(bad)
    print(_short_repr(result))
    check(result["return"] == 3, "access() did not return code 3 for an unknown action")


def _short_repr(result: dict) -> str:
    if "list" not in result:
        return repr(result)
    rows = [f"    {{'repo': {e['repo']!r}, 'name': {e['name']!r}, 'uid': {e['uid']!r}, "
            f"'tags': {e['tags']!r}, ...}}," for e in result["list"]]
    return "{'return': %r, 'list': [\n%s\n]}" % (result["return"], "\n".join(rows))


def main(argv: list[str] | None = None) -> int:
    global HOME
    parser = argparse.ArgumentParser(description="A short tour of the ck command.")
    parser.add_argument("--keep", action="store_true", help="keep the temporary CK_HOME")
    args = parser.parse_args(argv)
    HOME = os.path.realpath(tempfile.mkdtemp(prefix="ck-tour-"))
    os.environ["CK_HOME"] = HOME  # for the Python API part, in this process
    started = time.perf_counter()
    print(f"cknowledge tour; CK_HOME={HOME}")
    try:
        tour()
    except TourFailed as exc:
        print(f"\ntour failed: {exc}", file=sys.stderr)
        return 1
    finally:
        from cknowledge.api import reset

        reset()
        if args.keep:
            print(f"\nkept: CK_HOME={HOME}")
        else:
            shutil.rmtree(HOME, ignore_errors=True)
    print(f"\ntour finished in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
