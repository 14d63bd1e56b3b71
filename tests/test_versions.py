"""Versions and ranges: PEP 440 where it applies, a loose scheme for other tools' numbering."""

from __future__ import annotations

import itertools

import pytest

from cknowledge.errors import InvalidInput
from cknowledge.versions import Version, VersionRange, parse_range, parse_version


def V(text: str) -> Version:
    return Version(text)


# -- ordering --------------------------------------------------------------------------------
@pytest.mark.parametrize("chain", [
    # loose scheme: pre-release tags before the bare release, other letters after it
    ["3.0.0-alpha1", "3.0.0-beta2", "3.0.0-rc1", "3.0.0-rc2", "3.0.0", "3.0.1"],
    ["1.1.1", "1.1.1d", "1.1.1k", "1.1.1w", "1.1.2"],      # OpenSSL fix letters
    ["1.1.0l", "1.1.1", "1.1.1k", "1.1.1w", "3.0.0"],
    # PEP 440: dev < a < b < rc < release < post
    ["1.0.dev1", "1.0a1", "1.0a2", "1.0b1", "1.0rc1", "1.0", "1.0.post1", "1.0.post2", "1.1"],
    ["2.0rc1", "2.0", "2.0.1"],
    # numbers compare as numbers, not text
    ["1.2", "1.9", "1.10", "1.10.1", "2", "10"],
    ["2.39.5", "2.39.5.windows.1", "2.40.0"],
    ["9.4.0", "12.2.0", "13.1.0"],
])
def test_ordering_chain(chain):
    versions = [V(t) for t in chain]
    for a, b in itertools.pairwise(versions):
        assert a < b, (a, b)
        assert b > a and a <= b and b >= a and a != b
    assert sorted(versions) == versions


def test_pep440_dev_of_a_prerelease_sorts_before_it():
    assert V("1.0a1.dev1") < V("1.0a1")
    assert V("1.0.post1.dev1") < V("1.0.post1")


@pytest.mark.parametrize("a,b", [
    ("1.2", "1.2.0"),
    ("1.2", "1.2.0.0"),
    ("12.2.0+deb12u1", "12.2.0"),      # local/build suffix ignored
    ("1.0+local.7", "1.0"),
    ("v1.4", "1.4"),
    ("1.0rc1", "1.0-rc1"),
    ("1.0c1", "1.0rc1"),               # PEP 440 spells rc as c too
])
def test_equal_versions(a, b):
    assert V(a) == V(b)
    assert hash(V(a)) == hash(V(b))
    assert not V(a) < V(b) and not V(b) < V(a)


def test_letter_a_b_after_release_reads_as_prerelease():
    # documented: a/alpha/b/beta/c/rc right after the numbers is a pre-release tag (PEP 440
    # wins over OpenSSL's 1.1.1a/1.1.1b fix letters)
    assert V("1.1.1a") < V("1.1.1b") < V("1.1.1c") < V("1.1.1") < V("1.1.1d")


def test_version_keeps_its_text():
    assert str(V("3.0.0-rc1")) == "3.0.0-rc1"
    assert parse_version("1.2") is not None and parse_version(V("1.2")) == V("1.2")


@pytest.mark.parametrize("bad", ["", "   ", "abc", "latest"])
def test_not_a_version(bad):
    with pytest.raises(InvalidInput) as exc:
        V(bad)
    assert exc.value.code == 2


# -- ranges ----------------------------------------------------------------------------------
@pytest.mark.parametrize("spec,yes,no", [
    (">=9,<14", ["9", "9.0.1", "12.2.0", "13.99"], ["8.5", "14", "14.0.0", "15.1"]),
    ("==12.*", ["12", "12.0", "12.2.0", "12.2.0+deb"], ["11.9", "13.0", "1.2", "120.1"]),
    ("~=1.4.2", ["1.4.2", "1.4.5", "1.4.10"], ["1.4.1", "1.4", "1.5.0", "2.0"]),
    ("~=2.2", ["2.2", "2.3", "2.9.9"], ["2.1", "3.0", "1.9"]),
    ("!=1.5", ["1.4", "1.5.1", "1.6"], ["1.5", "1.5.0"]),
    ("!=1.*", ["2.0", "0.9"], ["1.0", "1.9.9"]),
    ("==1.1.1w", ["1.1.1w"], ["1.1.1", "1.1.1v", "1.1.2"]),
    (">1.1.1", ["1.1.1g", "1.1.2"], ["1.1.1", "1.1.0"]),
    ("<3.0.0", ["2.9", "3.0.0-rc1"], ["3.0.0", "3.0.1"]),
    ("<=3.0", ["3.0.0", "2"], ["3.0.1"]),
    (">=1.0.post1", ["1.0.post1", "1.0.1"], ["1.0", "1.0rc1"]),
    ("1.2", ["1.2", "1.2.0"], ["1.2.1"]),                 # a bare version means ==
    ("  >= 9 , < 14 ", ["10"], ["14"]),                   # spaces are fine
    ("", ["0.1", "99"], []),                              # empty admits everything
])
def test_range_admits(spec, yes, no):
    rng = VersionRange(spec)
    for v in yes:
        assert rng.admits(v), (spec, v)
        assert v in rng
    for v in no:
        assert not rng.admits(v), (spec, v)


def test_range_filter_intersect_and_missing_version():
    rng = VersionRange(">=9,<14")
    assert [str(v) for v in rng.filter(["8", "9.1", "12.2.0", "14"])] == ["9.1", "12.2.0"]
    both = rng.intersect(VersionRange("!=12.2.0"))
    assert both.admits("12.1") and not both.admits("12.2.0") and not both.admits("14")
    assert not rng.admits(None) and VersionRange("").admits(None)
    assert bool(rng) and not bool(VersionRange(""))
    assert parse_range(">=1") .admits("1.0")


@pytest.mark.parametrize("bad", [">=", "=>9", ">=9 <14", "~=1", ">=1.*", "<<2", "abc",
                                 ">=x.y", "1 2", "==1.0,,<"])
def test_bad_ranges_are_invalid_input(bad):
    try:
        rng = VersionRange(bad)
    except InvalidInput as exc:
        assert exc.code == 2
        assert bad.strip(" ,") in exc.message or repr(bad) in exc.message, exc.message
    else:
        pytest.fail(f"{bad!r} parsed as {rng!r}")
