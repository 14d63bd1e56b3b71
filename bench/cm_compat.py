#!/usr/bin/env python3
"""CM/MLC compatibility benchmark: ours against CM (cmx4mlops) and MLCFlow (mlperf-automations).

    .venv/bin/python bench/cm_compat.py                        # everything (~30-60 min on 2 cores)
    .venv/bin/python bench/cm_compat.py --limit 5              # first 5 candidates per collection
    .venv/bin/python bench/cm_compat.py --only detect-os,get-python3 --collections cm
    .venv/bin/python bench/cm_compat.py --sections dryrun,timing
    CMC_ONLY=detect-os CMC_LIMIT=3 .venv/bin/python bench/cm_compat.py   # the same knobs by env

Standard library and PyYAML (it runs in the project venv). The anchors
(``/work/shared/bench/anchors/setup.sh``) provide the
reference tools under /tmp/anchors: ``cmind-script`` (cmind 4.2.0 + cmx4mlops 1.0.1, which
cm registers by itself) and ``mlcflow`` (mlcflow 1.3.8). Each tool runs as the anchors run
it: its own fresh home (``CM_REPOS`` / ``MLC_REPOS`` / ``CK_HOME``, ``HOME`` inside it), a
minimal environment and an empty working folder per script. MLCFlow gets a ``git clone`` of
the mirror of mlcommons/mlperf-automations registered as a local repo (its path written into
``MLC_REPOS/repos.json``, which is all ``mlc pull repo`` records); ours gets the same clone
through ``ck pull repo FOLDER`` and cmx4mlops through ``ck install package:cmx4mlops``.
Nothing of CM/MLC is copied into this file or the results: they are only run.

Sections (``--sections``, default all):

``dryrun``  for every script of each collection, ``run`` with ``dry_run`` through
            ``cknowledge.access`` (this file re-run as ``--worker`` in the project venv): the
            tree is complete when its result has no ``unresolved`` node; the others are listed
            with their reasons. The trees also feed the safety filter below.
``agree``   for each candidate script, ``cm run script NAME --quiet -j`` (CM and MLC log
            the JSON result on stderr; the last JSON object is taken); where the reference
            succeeds within ``--timeout``, ``ck run script:NAME --json``, and ``new_env`` is
            compared (same keys, same values after normalising each tool's home, cache entry
            folders, repo folder and working folder to placeholders).
``pylib``   Python packages from the index: ``get,generic-python-lib,_package.NAME`` for a few
            small packages (``--pylib``), each tool in fresh homes with a fresh venv of its own
            first on PATH (so pip installs there, never into a system Python); ``new_env``
            compared with the venv folder as a placeholder.
``timing``  cached re-run of get-python3 through each CLI (hyperfine -N if present, else a
            loop; warm-up runs fill the caches): ours vs ``cm run script --tags=get,python3
            --quiet`` vs ``mlc run script --tags=get,python3 --quiet``; and ``ck find script
            --tags=get,python`` on the mlperf-automations collection vs ``python -c pass``
            (goal: at most 4x).

Candidates (``--all`` takes every script instead of the name/detection filter): ``detect-*``,
``print-*``, the scripts of ``EXTRA_CANDIDATES`` and ``get-*`` scripts whose ``customize.py``
looks for an installed tool
(``find_artifact``, ``search_paths``, ``detect_version``, ``which``), minus names of data
sets, models and sources. Safety, always on: a script is skipped when its own folder's
meta or shell scripts (``customize.py`` aside) mention sudo, apt/apt-get, yum, dnf, brew,
pip/conda install, wget, curl or git clone, when it is an ``install-*``/``download-*``
script, or when the dependency tree of our dry run reaches such a script; and every run's
PATH starts with a folder of stubs for sudo/apt/apt-get/yum/dnf/brew/snap that refuse.

Writes bench/results/cm_compat.json (everything) and bench/results/cm_compat.md (the
summary, also on stdout) with ``write_results`` of bench/foundation.py; progress on stderr;
command output in bench/results/logs/cm_compat/.
"""
from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ next to the benchmarks
import foundation as F  # noqa: E402  (helpers: write_results, log, src_digest, PROJECT)

PROJECT = F.PROJECT
RESULTS = F.RESULTS
LOGDIR = os.path.join(RESULTS, 'logs', 'cm_compat')
ANCHOR_DIR = F.ANCHOR_DIR
ANCHORS_ROOT = F.ANCHORS_ROOT
VENV = F.VENV
PY = F.PY
CK = F.CK
MARK = '@@CMCOMPAT-RESULT@@ '
MLPA_MIRROR = os.environ.get('CMC_MLPA_MIRROR', '/work/.mirror/mlcommons+mlperf-automations/repo')
CM_VENV = os.path.join(ANCHORS_ROOT, 'cmind-script')
MLC_VENV = os.path.join(ANCHORS_ROOT, 'mlcflow')
TOOL_BIN = {'cm': os.path.join(CM_VENV, 'bin', 'cm'), 'mlc': os.path.join(MLC_VENV, 'bin', 'mlc')}
log = F.log

UNSAFE = [(re.compile(p), p) for p in (
    r'\bsudo\b', r'\bapt-get\b', r'\bapt (install|update)', r'\byum\b', r'\bdnf\b', r'\bbrew\b',
    r'\bpip3? install\b', r'-m pip\b', r'\bconda install\b', r'\bwget\b', r'\bcurl\b',
    r'\bgit clone\b')]
UNSAFE_PREFIX = ('install-', 'download-', 'push-', 'prune-', 'remote-', 'clean-', 'destroy-')
STUBS = ('sudo', 'apt', 'apt-get', 'yum', 'dnf', 'brew', 'snap')
DETECT_HINTS = ('find_artifact', 'search_paths', 'detect_version', "'which'", 'shutil.which')
NOT_TOOLS = re.compile(r'dataset|ml-model|model-|-model|preprocess|-src\b|-src-|weights|checkpoint|'
                       r'results|submission|-repo\b|-repo-|-git\b|docker|-logs|huggingface|-hf-|'
                       r'croissant|rclone|aws|-code\b|-code-|sut-|-cache')
COLLECTIONS = {'cm': 'cmx4mlops (CM 4.2.0)', 'mlc': 'mlperf-automations (MLCFlow 1.3.8)'}


# ====================================================================== worker (project venv)
def worker_main(argv):
    """``--worker dryrun SCRIPT_DIR``: every script folder's dry run, in one process (CK_HOME set)."""
    import cknowledge
    cmd, sdir = argv[0], argv[1]
    assert cmd == 'dryrun'
    out = {}
    for name in script_names(sdir):
        t = time.perf_counter()
        rec = {}
        try:
            r = cknowledge.access({'action': 'run', 'automation': 'script', 'artifact': name,
                                   'dry_run': True})
        except Exception as exc:  # noqa: BLE001 - a crash is a result here
            rec = {'status': 'crash', 'error': '%s: %s' % (type(exc).__name__, exc)}
        else:
            if r.get('return', 1) != 0:
                rec = {'status': 'error', 'error': str(r.get('error'))}
            else:
                unres = r.get('unresolved') or []
                rec = {'status': 'unresolved' if unres else 'ok',
                       'unresolved': [str(u) for u in unres],
                       'nodes': sorted(_tree_names(r.get('graph')))}
        rec['s'] = round(time.perf_counter() - t, 4)
        out[name] = rec
    sys.stdout.flush()
    print(MARK + json.dumps(out), flush=True)


def _tree_names(node, acc=None):
    acc = set() if acc is None else acc
    if isinstance(node, dict):
        s = node.get('script')
        if isinstance(s, str):
            acc.add(s.split(':')[-1].split(',')[0])
        for k in ('deps', 'children'):
            for d in node.get(k) or []:
                _tree_names(d, acc)
    elif isinstance(node, list):
        for d in node:
            _tree_names(d, acc)
    return acc


# ====================================================================== helpers
def stub_dir(root):
    d = os.path.join(root, 'stubs')
    os.makedirs(d, exist_ok=True)
    for s in STUBS:
        p = os.path.join(d, s)
        with open(p, 'w') as f:
            f.write('#!/bin/sh\necho "cm_compat bench: %s refused (no system packages here)" >&2\nexit 1\n' % s)
        os.chmod(p, 0o755)
    return d


def tool_env(kind, home, stubs):
    """Minimal environment, as the anchors build it; ``kind`` is cm, mlc or ours."""
    os.makedirs(os.path.join(home, '_userhome'), exist_ok=True)
    bindir = {'cm': os.path.join(CM_VENV, 'bin'), 'mlc': os.path.join(MLC_VENV, 'bin'),
              'ours': os.path.join(VENV, 'bin')}[kind]
    # the tool's own bin folder comes last, so that scripts find the same python3 (/usr/bin) for
    # every tool; the tools themselves are called by absolute path
    env = {'PATH': stubs + ':/usr/local/bin:/usr/bin:/bin:' + bindir,
           'HOME': os.path.join(home, '_userhome'), 'LANG': 'C.UTF-8', 'LC_ALL': 'C.UTF-8',
           'TERM': 'dumb', {'cm': 'CM_REPOS', 'mlc': 'MLC_REPOS', 'ours': 'CK_HOME'}[kind]: home}
    return env


def sh(argv, env, cwd, timeout, tag):
    """Run; stdout and stderr apart; the log gets both. Returns dict(rc, out, err, wall_s)."""
    t = time.perf_counter()
    try:
        p = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=timeout, start_new_session=True)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out, err = 'timeout', exc.stdout or b'', exc.stderr or b''
    wall = time.perf_counter() - t
    out, err = out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')
    with open(os.path.join(LOGDIR, 'commands.log'), 'a') as f:
        f.write('\n### %s rc=%s wall=%.2fs cwd=%s\n$ %s\n--- stdout\n%s\n--- stderr\n%s\n'
                % (tag, rc, wall, cwd, ' '.join(argv), out[-8000:], err[-8000:]))
    return {'rc': rc, 'out': out, 'err': err, 'wall_s': wall}


RESULT_START = re.compile(r'\{\s*\n\s*"return"\s*:')


def last_json(text):
    """The last JSON object that starts with ``"return"`` (how CM and MLC log ``-j``), else None."""
    dec = json.JSONDecoder()
    for m in reversed(list(RESULT_START.finditer(text))):
        try:
            obj, _ = dec.raw_decode(text, m.start())
            return obj
        except ValueError:
            continue
    return None


def ours_json(text):
    try:
        return json.loads(text)
    except ValueError:
        pass
    dec = json.JSONDecoder()
    for i in reversed([m.start() for m in re.finditer(r'(?m)^\{', text)]):
        try:
            return dec.raw_decode(text, i)[0]
        except ValueError:
            continue
    return None


def error_line(res, obj=None):
    if res['rc'] == 'timeout':
        return 'timeout'
    if isinstance(obj, dict) and obj.get('error'):
        return str(obj['error']).strip().splitlines()[0][:400] if str(obj['error']).strip() else ''
    lines = [ln.strip() for ln in (res['err'] + '\n' + res['out']).splitlines() if ln.strip()]
    for ln in reversed(lines):
        if re.search(r'error|Error|ERROR|failed|Traceback|not found', ln):
            return ln[:400]
    return (lines[-1][:400] if lines else 'rc=%s, no output' % res['rc'])


def scan_folder(path):
    """Unsafe patterns in a script folder's meta and shell scripts (customize.py aside)."""
    hits = []
    for base, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(('.', '__'))]
        for fn in files:
            if not (fn.endswith(('.sh', '.yaml', '.json')) or fn == 'Dockerfile'):
                continue
            try:
                with open(os.path.join(base, fn), errors='replace') as f:
                    text = f.read()
                if not fn.endswith('.json'):     # comments do not run
                    text = re.sub(r'(?m)^\s*#.*$', '', text)
            except OSError:
                continue
            for rx, pat in UNSAFE:
                if rx.search(text):
                    hits.append('%s: %s' % (os.path.relpath(os.path.join(base, fn), path), pat))
    return hits


META_FILES = ('meta.yaml', '_cm.yaml', '_cm.json')


def script_names(sdir):
    """The folders that are scripts (a meta file; a folder of docs only is not one)."""
    return sorted(n for n in os.listdir(sdir)
                  if not n.startswith(('.', '_'))
                  and any(os.path.isfile(os.path.join(sdir, n, m)) for m in META_FILES))


#: scripts beyond detection and prints that their own tool runs offline here: cache folders,
#: venvs, results folders, pip freeze, the dependency-condition test scripts
EXTRA_CANDIDATES = ('create-custom-cache-entry', 'dump-pip-freeze', 'get-cache-dir', 'set-venv',
                    'test-deps-conditions', 'test-deps-conditions2', 'test-dummy', 'run-python',
                    'get-mlperf-inference-results-dir', 'get-mlperf-inference-submission-dir',
                    'set-sqlite-dir', 'fail', 'get-mlperf-automotive-scratch-space',
                    'get-mlperf-inference-nvidia-scratch-space', 'set-user-limits',
                    'get-compiler-flags', 'get-cuda-devices')


def is_candidate(sdir, name, take_all):
    if take_all or name in EXTRA_CANDIDATES:
        return True
    if name.startswith(('detect-', 'print-')):
        return True
    if not name.startswith('get-') or NOT_TOOLS.search(name):
        return False
    try:
        with open(os.path.join(sdir, name, 'customize.py'), errors='replace') as f:
            text = f.read()
    except OSError:
        return False
    return any(h in text for h in DETECT_HINTS)


def select(sdir, dry, take_all, only, limit):
    """(candidates, skipped{name: reason}) for one collection."""
    names = script_names(sdir)
    unsafe = {}
    for n in names:
        if n.startswith(UNSAFE_PREFIX):
            unsafe[n] = 'is an %s* script' % n.split('-')[0]
        else:
            hits = scan_folder(os.path.join(sdir, n))
            if hits:
                unsafe[n] = ', '.join(hits[:3])
    cands, skipped = [], {}
    pool = only if only else [n for n in names if is_candidate(sdir, n, take_all)]
    for n in pool:
        if n not in names:
            skipped[n] = 'no such script'
            continue
        if n in unsafe:
            skipped[n] = 'unsafe: ' + unsafe[n]
            continue
        rec = dry.get(n) or {}
        bad = sorted(x for x in rec.get('nodes', []) if x in unsafe and x != n)
        if bad:
            skipped[n] = 'unsafe dependency: %s (%s)' % (bad[0], unsafe[bad[0]])
            continue
        if rec.get('status') in ('error', 'crash') and not only:
            # our dry run cannot see the tree: be safe, but say so
            skipped[n] = 'no dry-run tree to check for safety (%s)' % rec.get('error', '')[:120]
            continue
        cands.append(n)
    if limit:
        cands = cands[:limit]
    return cands, skipped


def normaliser(subs):
    """Replace tool-specific folders by placeholders; ``subs`` is [(regex, placeholder)]."""
    rxs = [(re.compile(r), p) for r, p in subs]

    def norm(v):
        if isinstance(v, str):
            for rx, p in rxs:
                v = rx.sub(p, v)
            return v
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items()}
        return v
    return norm


def compare(ref_env, our_env, norm_ref, norm_ours):
    ref_env, our_env = ref_env or {}, our_env or {}
    rk, ok = set(ref_env), set(our_env)
    diff = {}
    for k in sorted(rk - ok):
        diff[k] = {'ref': _short(ref_env[k]), 'ours': '<missing>'}
    for k in sorted(ok - rk):
        diff[k] = {'ref': '<missing>', 'ours': _short(our_env[k])}
    for k in sorted(rk & ok):
        a, b = norm_ref(ref_env[k]), norm_ours(our_env[k])
        if a != b:
            diff[k] = {'ref': _short(a), 'ours': _short(b)}
    return diff


def _short(v, n=300):
    s = v if isinstance(v, str) else json.dumps(v)
    return s if len(s) <= n else s[:n] + '...'


# ====================================================================== sections
class Collection:
    """One collection: the reference tool's home and our CK_HOME, with the script folder."""

    def __init__(self, key, root, stubs, path_first=None):
        self.key, self.root, self.stubs = key, root, stubs
        os.makedirs(root, exist_ok=True)
        self.ref_home = os.path.join(root, key + '-home')
        self.our_home = os.path.join(root, 'ours-' + key + '-home')
        self.work = os.path.join(root, 'work')
        os.makedirs(self.work, exist_ok=True)
        self.ref_env = tool_env(key, self.ref_home, stubs)
        self.our_env = tool_env('ours', self.our_home, stubs)
        self.venvs = {}
        if path_first:   # a venv of each tool's own, first on PATH
            for tool, env in (('ref', self.ref_env), ('ours', self.our_env)):
                v = os.path.join(root, 'venv-' + tool)
                subprocess.run(['/usr/bin/python3', '-m', 'venv', v], check=True)
                env['PATH'] = os.path.join(v, 'bin') + ':' + env['PATH']
                self.venvs[tool] = v
        self.sdir = self.our_repo = self.ref_repo = None

    def setup(self, mlpa_clone):
        t = time.perf_counter()
        cwd = self.wdir('setup')
        if self.key == 'cm':
            self.ref_repo = os.path.join(CM_VENV, 'lib', 'python3.11', 'site-packages', 'cmx4mlops')
            if not os.path.isdir(self.ref_repo):
                import glob
                self.ref_repo = (glob.glob(os.path.join(CM_VENV, 'lib', 'python3*', 'site-packages',
                                                        'cmx4mlops')) or [self.ref_repo])[0]
            r = sh([CK, 'install', 'package:cmx4mlops', '--json'], self.our_env, cwd, 900,
                   'ours install cmx4mlops')
            obj = ours_json(r['out'])
            if r['rc'] != 0 or not obj:
                raise RuntimeError('ck install package:cmx4mlops failed: ' + error_line(r, obj))
            self.our_repo = obj['new_env']['CK_CMX4MLOPS_REPO']
            sh([TOOL_BIN['cm'], 'version'], self.ref_env, cwd, 300, 'cm init')
        else:
            self.ref_repo = self.our_repo = mlpa_clone
            os.makedirs(os.path.join(self.ref_home, 'local'), exist_ok=True)
            with open(os.path.join(self.ref_home, 'repos.json'), 'w') as f:
                json.dump([os.path.join(self.ref_home, 'local'), mlpa_clone], f, indent=2)
        r = sh([CK, 'pull', 'repo', self.our_repo], self.our_env, cwd, 600, 'ours pull repo')
        if r['rc'] != 0:
            raise RuntimeError('ck pull repo %s failed: %s' % (self.our_repo, error_line(r)))
        self.sdir = os.path.join(self.ref_repo, 'repo', 'script') if self.key == 'cm' \
            else os.path.join(self.ref_repo, 'script')
        cmp_root = self.our_repo
        subs_ref = [(re.escape(os.path.join(self.ref_home, 'local', 'cache')) + r'/[^/\s:;"]+', '<CACHE>'),
                    (re.escape(os.path.join(self.ref_home, 'repos', 'local', 'cache')) + r'/[^/\s:;"]+', '<CACHE>'),
                    (re.escape(self.ref_repo), '<REPO>'), (re.escape(self.work) + r'/[^/]+/[^/\s:;"]+', '<CWD>'),
                    (re.escape(self.ref_home), '<HOME>')]
        subs_ours = [(re.escape(os.path.join(self.our_home, 'cache', 'cm-script')) + r'/[0-9a-f]{2}/[0-9a-f]+', '<CACHE>'),
                     (re.escape(cmp_root), '<REPO>'), (re.escape(self.work) + r'/[^/]+/[^/\s:;"]+', '<CWD>'),
                     (re.escape(self.our_home), '<HOME>')]
        if self.venvs:
            subs_ref.insert(0, (re.escape(self.venvs['ref']), '<VENV>'))
            subs_ours.insert(0, (re.escape(self.venvs['ours']), '<VENV>'))
        self.norm_ref, self.norm_ours = normaliser(subs_ref), normaliser(subs_ours)
        return time.perf_counter() - t

    def wdir(self, tag, tool=''):
        d = os.path.join(self.work, (tool + '-' if tool else '') + self.key, tag)
        os.makedirs(d, exist_ok=True)
        return d

    def dryrun(self):
        r = sh([PY, os.path.abspath(__file__), '--worker', 'dryrun', self.sdir], self.our_env,
               self.wdir('dryrun', 'ours'), 3600, 'ours dry-run ' + self.key)
        for line in r['out'].splitlines():
            if line.startswith(MARK):
                return json.loads(line[len(MARK):]), r['wall_s']
        raise RuntimeError('dry-run worker gave no result: ' + error_line(r))

    def run_ref(self, name, timeout, tags=None):
        tool = 'cm' if self.key == 'cm' else 'mlc'
        # MLCFlow reads a bare name as a tag (a script whose alias is not among its tags is
        # "not found"): it is given the script's own full tag list instead
        what = ['--tags=' + tags] if tags else [name] if tool == 'cm' else \
            ['--tags=' + ','.join(self.tags(name))]
        r = sh([TOOL_BIN[tool], 'run', 'script'] + what + ['--quiet', '-j'], self.ref_env,
               self.wdir(name, tool), timeout, '%s run %s' % (tool, name))
        obj = last_json(r['err'] + '\n' + r['out'])
        ok = r['rc'] == 0 and isinstance(obj, dict) and obj.get('return') == 0
        return ok, obj, r

    def tags(self, name):
        import yaml   # the project venv runs this file; PyYAML is a dependency of the project
        for fn in ('meta.yaml', '_cm.yaml'):
            p = os.path.join(self.sdir, name, fn)
            if os.path.isfile(p):
                with open(p) as f:
                    tags = (yaml.safe_load(f) or {}).get('tags') or []
                return [t for t in ([tags] if isinstance(tags, str) else tags) if t] or [name]
        return [name]

    def run_ours(self, name, timeout, tags=None):
        what = ['script', '--tags=' + tags] if tags else ['script:' + name]
        r = sh([CK, 'run'] + what + ['--json'], self.our_env,
               self.wdir(name, 'ours'), timeout, 'ours run %s (%s)' % (name, self.key))
        obj = ours_json(r['out'])
        ok = r['rc'] == 0 and isinstance(obj, dict) and obj.get('return', 0) == 0
        return ok, obj, r


def agreement(col, cands, timeout, deadline, tags=None):
    """``tags``: {candidate: tags} to run by tags instead of by name."""
    rows = {}
    tags = tags or {}
    for i, name in enumerate(cands):
        if deadline and time.time() > deadline:
            rows[name] = {'status': 'not run (--deadline)'}
            continue
        ok, obj, r = col.run_ref(name, timeout, tags.get(name))
        rec = {'ref_s': round(r['wall_s'], 2)}
        if not ok:
            rec.update(status='ref fails', ref_error=error_line(r, obj))
            rows[name] = rec
            log('%s %d/%d %s: reference fails (%s)' % (col.key, i + 1, len(cands), name, rec['ref_error'][:100]))
            continue
        ref_env = obj.get('new_env') or {}
        ook, oobj, orr = col.run_ours(name, timeout, tags.get(name))
        rec['ours_s'] = round(orr['wall_s'], 2)
        rec['ref_new_env_keys'] = len(ref_env)
        if not ook:
            rec.update(status='ours fails', ours_error=error_line(orr, oobj))
        else:
            diff = compare(ref_env, oobj.get('new_env') or {}, col.norm_ref, col.norm_ours)
            if diff:
                # a second round of both: a key that agrees then, or whose reference value
                # moved between the reference's two runs (df's total over the mounts of the
                # moment, while containers come and go), is volatile, not a disagreement
                ok2, obj2, _ = col.run_ref(name, timeout, tags.get(name))
                ook2, oobj2, _ = col.run_ours(name, timeout, tags.get(name))
                if ok2 and ook2:
                    ref2 = obj2.get('new_env') or {}
                    moved = compare(ref_env, ref2, col.norm_ref, col.norm_ref)
                    still = compare(ref2, oobj2.get('new_env') or {}, col.norm_ref, col.norm_ours)
                    moving = sorted(k for k in diff if k in moved or k not in still)
                    if moving:
                        rec['volatile'] = {k: diff.pop(k) for k in moving}
            if diff:
                rec.update(status='differ', diff=diff)
            else:
                rec['status'] = 'agree'
        rows[name] = rec
        log('%s %d/%d %s: %s%s' % (col.key, i + 1, len(cands), name, rec['status'],
                                   (' ' + ','.join(rec['diff'])[:150]) if rec.get('diff') else
                                   (' (%s)' % rec['ours_error'][:150]) if rec.get('ours_error') else ''))
    return rows


def load_anchor_module():
    path = os.path.join(ANCHOR_DIR, 'bench.py')
    spec = importlib.util.spec_from_file_location('anchor_bench', path)
    B = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(B)
    B.RES = os.path.join(RESULTS, 'anchors')
    B.LOGDIR = LOGDIR
    B.log = log
    return B


def timing(cols, runs):
    """Cached re-runs of get-python3 through each CLI; ck find vs python -c pass."""
    B = load_anchor_module()
    res = {'method': 'hyperfine -N' if B.HYPERFINE else 'perf_counter loop'}
    for key, col in cols.items():
        tool = 'cm' if key == 'cm' else 'mlc'
        cwd = col.wdir('timing', tool)
        ocwd = col.wdir('timing', 'ours')
        try:
            for _ in range(2):   # fill the caches (first run may install/detect)
                sh([TOOL_BIN[tool], 'run', 'script', '--tags=get,python3', '--quiet'], col.ref_env, cwd, 600,
                   'warm ' + tool)
                sh([CK, 'run', 'script:get-python3'], col.our_env, ocwd, 600, 'warm ours ' + key)
            res[tool + '_get_python3'] = B.bench_cmd([TOOL_BIN[tool], 'run', 'script', '--tags=get,python3', '--quiet'],
                                                     col.ref_env, cwd, runs, tag=tool + ' get-python3')
            res['ours_%s_get_python3' % key] = B.bench_cmd([CK, 'run', 'script:get-python3'], col.our_env, ocwd,
                                                           runs, tag='ours get-python3 ' + key)
        except Exception as exc:  # noqa: BLE001
            res[key + '_error'] = repr(exc)[:2000]
            log('timing %s failed: %r' % (key, exc))
    if 'mlc' in cols:
        col = cols['mlc']
        cwd = col.wdir('timing-find', 'ours')
        try:
            r = sh([CK, 'find', 'script', '--tags=get,python'], col.our_env, cwd, 120, 'ours find')
            res['find_matches'] = [ln for ln in r['out'].splitlines() if ln.strip()]
            res['find_collection_size'] = len(script_names(col.sdir))
            res['ours_find'] = B.bench_cmd([CK, 'find', 'script', '--tags=get,python'], col.our_env, cwd,
                                           max(runs, 10), tag='ours find get,python')
            res['python_pass'] = B.bench_cmd([PY, '-c', 'pass'], col.our_env, cwd, max(runs, 10),
                                             tag='python -c pass')
        except Exception as exc:  # noqa: BLE001
            res['find_error'] = repr(exc)[:2000]
    return res


# ====================================================================== report
def pct(a, b):
    return '%.0f %%' % (100.0 * a / b) if b else 'n/a'


def ms(st):
    return '%.0f ms' % (st['median'] * 1000) if st else 'n/a'


def build_report(res):
    L = ['# CM/MLC compatibility: cknowledge vs CM 4.2.0 (cmx4mlops 1.0.1) and MLCFlow 1.3.8', '']
    L.append('Run %s, %s; code sha256 %s; load avg end %s.' % (
        res['started'], res.get('git', ''), res['src_sha256'][:12], ' '.join(res.get('loadavg_end', []))))
    L.append('')
    for key, C in res['collections'].items():
        L.append('## %s' % COLLECTIONS[key])
        L.append('')
        if C.get('error'):
            L.append('**setup failed**: %s' % C['error'])
            L.append('')
        D = C.get('dryrun')
        if D:
            n = len(D)
            okn = sum(1 for r in D.values() if r['status'] == 'ok')
            L.append('### Dry run: %d / %d scripts have a complete tree (%s)' % (okn, n, pct(okn, n)))
            L.append('')
            groups = collections.defaultdict(list)
            for name, r in sorted(D.items()):
                if r['status'] == 'ok':
                    continue
                for reason in (r.get('unresolved') or [r.get('error', '')]):
                    groups[dry_reason_class(r['status'], reason)].append('%s (%s)' % (name, reason[:160]))
            for g, items in sorted(groups.items(), key=lambda kv: -len(kv[1])):
                L.append('- **%s** (%d): %s' % (g, len(items), '; '.join(items)))
            L.append('')
        A = C.get('agree')
        if A is not None:
            st = collections.Counter(r['status'] for r in A.values())
            refok = [n for n, r in A.items() if r['status'] in ('agree', 'differ', 'ours fails')]
            L.append('### Agreement (new_env) on %d candidates; %d skipped as unsafe/unknown' % (
                len(A), len(C.get('skipped', {}))))
            L.append('')
            L.append('Reference succeeds on %d: agree %d, differ %d, ours fails %d -> **agreement %s**; '
                     'reference fails on %d.' % (len(refok), st['agree'], st['differ'], st['ours fails'],
                                                 pct(st['agree'], len(refok)), st['ref fails']))
            L.append('')
            L.append('Reference succeeds: ' + ', '.join('%s (%s)' % (n, A[n]['status']) for n in sorted(refok)))
            L.append('')
            vol = ['%s: %s' % (n, ', '.join('`%s`' % k for k in r['volatile']))
                   for n, r in sorted(A.items()) if r.get('volatile')]
            if vol:
                L.append('Keys that agreed on a second round or whose reference value moved between two '
                         'reference runs (volatile, not counted): '
                         + '; '.join(vol) + '.')
                L.append('')
            bad = [(n, r) for n, r in sorted(A.items()) if r['status'] in ('differ', 'ours fails')]
            if bad:
                L.append('| script | ours | detail |')
                L.append('|---|---|---|')
                for n, r in bad:
                    if r['status'] == 'ours fails':
                        det = r['ours_error']
                    else:
                        det = '; '.join('`%s`: ref=`%s` ours=`%s`' % (k, v['ref'][:80], v['ours'][:80])
                                        for k, v in list(r['diff'].items())[:8])
                        if len(r['diff']) > 8:
                            det += '; ... (%d keys)' % len(r['diff'])
                    L.append('| %s | %s | %s |' % (n, r['status'], det.replace('|', '\\|').replace('\n', ' ')))
                L.append('')
            rf = [(n, r) for n, r in sorted(A.items()) if r['status'] == 'ref fails']
            if rf:
                L.append('Reference fails (not compared): ' + '; '.join('%s (%s)' % (n, r['ref_error'][:90])
                                                                         for n, r in rf))
                L.append('')
    for key, C in res['collections'].items():
        P = C.get('pylib')
        if P is None and not C.get('pylib_error'):
            continue
        L.append('## Python packages from the index, %s' % COLLECTIONS[key])
        L.append('')
        if C.get('pylib_error'):
            L.append('**setup failed**: %s' % C['pylib_error'])
            L.append('')
            continue
        for n, r in sorted(P.items()):
            det = r.get('ours_error') or r.get('ref_error') or ''
            if r.get('diff'):
                det = '; '.join('`%s`: ref=`%s` ours=`%s`' % (k, v['ref'][:80], v['ours'][:80])
                                for k, v in list(r['diff'].items())[:8])
            L.append('- `%s`: %s (reference %.1f s, ours %s)%s' % (
                n, r['status'], r.get('ref_s', 0),
                ('%.1f s' % r['ours_s']) if 'ours_s' in r else 'not run',
                (' -- ' + det) if det else ''))
        L.append('')
    T = res.get('timing')
    if T:
        L.append('## Timing (%s; median)' % T.get('method'))
        L.append('')
        L.append('| command | median | ratio ours / reference |')
        L.append('|---|---|---|')
        for key, tool in (('cm', 'cm'), ('mlc', 'mlc')):
            ref, ours = T.get(tool + '_get_python3'), T.get('ours_%s_get_python3' % key)
            if ref and ours:
                L.append('| `%s run script --tags=get,python3 --quiet` (cached) | %s | |' % (tool, ms(ref)))
                L.append('| `ck run script:get-python3` (%s, cached) | %s | %.2fx |' % (
                    key, ms(ours), ours['median'] / ref['median']))
        f, p = T.get('ours_find'), T.get('python_pass')
        if f and p:
            r = f['median'] / p['median']
            L.append('| `ck find script --tags=get,python` (%d scripts, %d matches) | %s | %.2fx of `python -c pass` '
                     '(%s); goal <= 4x: %s |' % (T.get('find_collection_size', 0), len(T.get('find_matches', [])),
                                                 ms(f), r, ms(p), 'MET' if r <= 4 else 'NOT MET'))
        L.append('')
    L.append('Total %.0f s. Raw numbers: bench/results/%s.json; commands: %s/commands.log.' % (
        res.get('total_s', 0), res.get('args', {}).get('name', 'cm_compat'), os.path.relpath(LOGDIR, PROJECT)))
    return '\n'.join(L) + '\n'


def dry_reason_class(status, reason):
    if status != 'unresolved':
        r = re.sub(r"'[^']*'|\"[^\"]*\"|\b[\w.-]+(,[\w.-]+)+\b", 'X', reason)
        return '%s: %s' % (status, re.sub(r'entry \S+', 'entry X', r)[:70])
    if 'no CM/MLC script found' in reason:
        return 'no script for the tags'
    m = re.search(r'variation', reason)
    if m:
        return 'unknown variation'
    return reason.split(':', 1)[-1].strip()[:60] or 'unresolved'


# ====================================================================== main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--collections', default=os.environ.get('CMC_COLLECTIONS', 'cm,mlc'))
    ap.add_argument('--sections', default=os.environ.get('CMC_SECTIONS', 'dryrun,agree,pylib,timing'))
    ap.add_argument('--pylib', default=os.environ.get('CMC_PYLIB', 'six,tabulate,toml'),
                    help='packages for the pylib section')
    ap.add_argument('--only', default=os.environ.get('CMC_ONLY', ''), help='comma-separated script names')
    ap.add_argument('--limit', type=int, default=int(os.environ.get('CMC_LIMIT', '0') or 0))
    ap.add_argument('--all', action='store_true', help='every safe script, not only the detection candidates')
    ap.add_argument('--timeout', type=int, default=int(os.environ.get('CMC_TIMEOUT', '120')))
    ap.add_argument('--runs', type=int, default=10, help='hyperfine runs for the timing section')
    ap.add_argument('--minutes', type=float, default=0, help='stop starting agreement runs after this')
    ap.add_argument('--name', default='cm_compat', help='results file name')
    ap.add_argument('--keep', action='store_true', help='keep the temporary homes')
    ap.add_argument('--list', action='store_true', help='list candidates and skipped scripts, run none')
    ap.add_argument('--worker', nargs=argparse.REMAINDER)
    a = ap.parse_args()
    if a.worker:
        return worker_main(a.worker)
    t0 = time.perf_counter()
    deadline = time.time() + a.minutes * 60 if a.minutes else 0
    os.makedirs(LOGDIR, exist_ok=True)
    open(os.path.join(LOGDIR, 'commands.log'), 'w').close()
    for v in (CM_VENV, MLC_VENV):
        if not os.path.isdir(v):
            raise SystemExit('%s missing: run /work/shared/bench/anchors/setup.sh first' % v)
    sections = set(a.sections.split(','))
    only = [x for x in a.only.split(',') if x]
    root = tempfile.mkdtemp(prefix='ckbench-cmc-')
    stubs = stub_dir(root)
    git = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=PROJECT, capture_output=True, text=True)
    res = {'started': time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime()), 'git': git.stdout.strip(),
           'src_sha256': F.src_digest(), 'args': vars(a), 'root': root, 'collections': {}}
    cols = {}
    mlpa = None
    try:
        for key in [k for k in a.collections.split(',') if k]:
            C = res['collections'][key] = {}
            col = Collection(key, root, stubs)
            try:
                if key == 'mlc':
                    mlpa = os.path.join(root, 'mlperf-automations')
                    r = sh(['git', 'clone', '-q', MLPA_MIRROR, mlpa], dict(os.environ), root, 600, 'git clone')
                    if r['rc'] != 0:
                        raise RuntimeError('git clone failed: ' + error_line(r))
                    C['mlpa_commit'] = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=mlpa, capture_output=True,
                                                      text=True).stdout.strip()
                log('%s: setting up homes' % key)
                C['setup_s'] = col.setup(mlpa)
                C['scripts'] = len(script_names(col.sdir))
            except Exception as exc:  # noqa: BLE001
                C['error'] = repr(exc)[:2000]
                log('%s setup failed: %r' % (key, exc))
                continue
            cols[key] = col
            dry = {}
            if 'dryrun' in sections or 'agree' in sections:
                log('%s: dry run of %d scripts' % (key, C['scripts']))
                try:
                    dry, C['dryrun_s'] = col.dryrun()
                except Exception as exc:  # noqa: BLE001
                    C['dryrun_error'] = repr(exc)[:2000]
                    log('%s dry run failed: %r' % (key, exc))
                if 'dryrun' in sections:
                    C['dryrun'] = {n: {k: v for k, v in r.items() if k != 'nodes'} for n, r in dry.items()}
            if 'agree' in sections:
                cands, skipped = select(col.sdir, dry, a.all, only, a.limit)
                C['candidates'], C['skipped'] = cands, skipped
                log('%s: %d candidates, %d skipped' % (key, len(cands), len(skipped)))
                if a.list:
                    print('%s candidates: %s' % (key, ' '.join(cands)))
                    for n, why in sorted(skipped.items()):
                        print('  skip %s: %s' % (n, why))
                    continue
                C['agree'] = agreement(col, cands, a.timeout, deadline)
        if 'pylib' in sections:
            for key in list(cols):
                C = res['collections'][key]
                try:
                    pcol = Collection(key, os.path.join(root, 'pylib'), stubs, path_first=True)
                    pcol.setup(mlpa)
                except Exception as exc:  # noqa: BLE001
                    C['pylib_error'] = repr(exc)[:2000]
                    log('%s pylib setup failed: %r' % (key, exc))
                    continue
                names = ['generic-python-lib _package.' + p for p in a.pylib.split(',') if p]
                log('%s: %d Python packages' % (key, len(names)))
                C['pylib'] = agreement(pcol, names, a.timeout, deadline,
                                       {n: 'get,generic-python-lib,' + n.split()[1] for n in names})
        if 'timing' in sections and cols:
            log('timing')
            res['timing'] = timing(cols, a.runs)
    finally:
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)
    res['loadavg_end'] = open('/proc/loadavg').read().split()[:3]
    res['total_s'] = time.perf_counter() - t0
    F.write_results(a.name, res, build_report(res))
    return 0


if __name__ == '__main__':
    sys.exit(main())
