#!/usr/bin/env python3
"""Workflow benchmark: a cached 10-deep chain of scripts (cknowledge) against CM's and MLCFlow's
cached run of a single one-line script, in one run.

    .venv/bin/python bench/workflow.py                   # anchors measured in this run (~1-2 min)
    .venv/bin/python bench/workflow.py --stored-anchors  # anchors' stored results.json instead
    .venv/bin/python bench/workflow.py --report-only     # rebuild workflow.md from workflow.json

Goal: re-running a 10-deep chain of cached scripts through the CLI (``ck run script
--tags=chainbench,s0``, every step a cache hit) takes less than 0.5 x the wall time of CM's
cached run of one one-line script (``cm run script --tags=bench,echo``, "script: run 2, cache
hit") and less than 0.33 x MLCFlow's (``mlc run script --tags=bench,echo``).

cknowledge side: a fresh CK_HOME (temp dir) with scripts s0..s9 in
``$CK_HOME/repos/local/script/sN/meta.yaml`` (tags chainbench,sN; cache: true; sN depends on
``chainbench,s(N+1)``; new_env_keys CK_CHAIN_*), each with a one-line run.sh that writes
``CK_CHAIN_SN=done`` to ``$CK_ENV_OUT``.  Measured: the first-ever run (index build + all 10
run), the cold chain after ``ck rm cache`` (all 10 run), the cached chain (hyperfine, checked
with ``--json``: top and its 9 dependencies cached), ``--dry-run`` of the chain, and, in a second
fresh CK_HOME, the anchors' own single-script protocol (``bench-echo``, tags bench,echo:
first-ever run, 5 x [rm cache, miss, hit], hyperfine of the hit) for a like-for-like row;
``python -c pass`` of our venv is the floor.  One cProfile and one ``-X importtime`` of a
cached chain run are kept in the json.

Anchor side: the anchors' own ``bench_script('cm')`` / ``bench_script('mlc')`` from
/work/shared/bench/anchors/bench.py, imported as a module with its output folders redirected
(its folder is read-only).  Their "run 2, cache hit" row is ``run2_cache_hit_hyperfine``.

Writes bench/results/workflow.json and bench/results/workflow.md (the table, also on stdout);
commands and their output go to bench/results/workflow-logs/commands.log; progress to stderr.
Standard library only.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ next to the benchmarks
import foundation as F  # noqa: E402  (helpers: our_env, fmt_t, cell, log, src_digest, ...)

PROJECT = F.PROJECT
RESULTS = F.RESULTS
ANCHOR_DIR = F.ANCHOR_DIR
ANCHORS_ROOT = F.ANCHORS_ROOT
PY, CK = F.PY, F.CK
LOGDIR = os.path.join(RESULTS, 'workflow-logs')
log, fmt_t, cell = F.log, F.fmt_t, F.cell

DEPTH = 10
CM_FACTOR = 0.5
MLC_FACTOR = 0.33
CHAIN_TAGS = 'chainbench,s0'
LABEL = {'ours': 'cknowledge', 'cm': 'CM 4.2.0 (cmind + cmx4mlops)', 'mlc': 'MLCFlow 1.3.8'}

SINGLE_META = """alias: bench-echo
uid: 1a2b3c4d5e6f7081
cache: true
tags:
- bench
- echo
new_env_keys:
- BENCH_ECHO_*
"""
SINGLE_RUN = """#!/bin/bash
echo "bench-echo ran"
echo "BENCH_ECHO_DONE=yes" >> "$CK_ENV_OUT"
"""


# ====================================================================== anchors loader
def load_anchor_module():
    """The anchors' bench.py as a module, output folders redirected (as bench/foundation.py does,
    but with its own log folder so that foundation's commands.log is left alone)."""
    path = os.path.join(ANCHOR_DIR, 'bench.py')
    sys.dont_write_bytecode = True          # never write __pycache__ into the read-only folder
    spec = importlib.util.spec_from_file_location('anchor_bench', path)
    B = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(B)
    B.RES = os.path.join(RESULTS, 'anchors')
    B.LOGDIR = LOGDIR
    B.ROOT = ANCHORS_ROOT
    B.log = log
    os.makedirs(B.RES, exist_ok=True)
    os.makedirs(LOGDIR, exist_ok=True)
    open(os.path.join(LOGDIR, 'commands.log'), 'w').close()
    return B


def run_split(argv, env, cwd, tag):
    """One timed run with stdout and stderr apart (for --json); logged like the anchors' run()."""
    t = time.perf_counter()
    p = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=600)
    wall = time.perf_counter() - t
    out, err = p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')
    with open(os.path.join(LOGDIR, 'commands.log'), 'a') as f:
        f.write('\n### %s rc=%d wall=%.4fs cwd=%s\n$ %s\n%s\n[stderr]\n%s' % (
            tag, p.returncode, wall, cwd, ' '.join(argv), out[-20000:], err[-5000:]))
    return {'wall_s': wall, 'rc': p.returncode, 'out': out, 'err': err}


def parse_json(r, what):
    if r['rc'] != 0:
        raise RuntimeError('%s failed (rc=%d): %s' % (what, r['rc'], (r['err'] or r['out'])[-3000:]))
    try:
        return json.loads(r['out'])
    except ValueError:
        raise RuntimeError('%s: stdout is not JSON: %r' % (what, r['out'][-2000:])) from None


# ====================================================================== cknowledge side
def write_chain(home):
    for n in range(DEPTH):
        d = os.path.join(home, 'repos', 'local', 'script', 's%d' % n)
        os.makedirs(d)
        meta = ['alias: s%d' % n, 'uid: %016x' % (0xc4a1b2c3d4e5f600 + n),
                'tags: [chainbench, s%d]' % n, 'cache: true']
        if n < DEPTH - 1:
            meta += ['deps:', '- tags: "chainbench,s%d"' % (n + 1)]
        meta.append('new_env_keys: ["CK_CHAIN_*"]')
        with open(os.path.join(d, 'meta.yaml'), 'w') as f:
            f.write('\n'.join(meta) + '\n')
        with open(os.path.join(d, 'run.sh'), 'w') as f:
            f.write('echo "CK_CHAIN_S%d=done" >> "$CK_ENV_OUT"\n' % n)


def check_chain(res, want_cached):
    """Problems with a --json result of the chain (empty list: as expected)."""
    bad = []
    if res.get('name') != 's0':
        bad.append('top is %r, not s0' % res.get('name'))
    if bool(res.get('cached')) != want_cached:
        bad.append('top cached=%r' % res.get('cached'))
    if res.get('new_env', {}).get('CK_CHAIN_S0') != 'done':
        bad.append('top new_env %r' % res.get('new_env'))
    deps = res.get('deps') or {}
    names = sorted(d.get('name') for d in deps.values())
    if names != sorted('s%d' % i for i in range(1, DEPTH)):
        bad.append('deps are %r' % names)
    # on a hit of the top step its dependencies are planned and keyed but not consulted
    # ("skipped"); their keys are part of the top key, so a change anywhere still misses
    wrong = sorted(d.get('name') for d in deps.values()
                   if bool(d.get('cached') or (want_cached and d.get('skipped'))) != want_cached)
    if wrong:
        bad.append('deps with cached!=%s: %s' % (want_cached, ', '.join(wrong)))
    return bad


def profile_cached(env, cwd, argv_tail):
    """cProfile (top 25 by cumulative time) and -X importtime (top 15) of one cached run."""
    out = {}
    prof = os.path.join(cwd, 'chain.prof')
    r = run_split([PY, '-m', 'cProfile', '-o', prof, CK] + argv_tail, env, cwd, 'ours cProfile')
    if r['rc'] == 0 and os.path.exists(prof):
        code = ('import pstats, io, sys\ns = io.StringIO()\n'
                'p = pstats.Stats(sys.argv[1], stream=s)\np.sort_stats("cumulative").print_stats(25)\n'
                'print(s.getvalue())')
        txt = subprocess.run([PY, '-c', code, prof], capture_output=True, text=True).stdout
        out['cprofile_top25_cumulative'] = txt.strip().splitlines()
    r = run_split([PY, '-X', 'importtime', CK] + argv_tail, env, cwd, 'ours importtime')
    rows = []
    for line in r['err'].splitlines():
        if line.startswith('import time:') and '|' in line:
            parts = [p.strip() for p in line[len('import time:'):].split('|')]
            if parts[0].isdigit():
                rows.append((int(parts[1]), int(parts[0]), parts[2]))
    rows.sort(reverse=True)
    out['importtime_top15_cumulative_us'] = [
        {'module': m.strip(), 'cumulative_us': c, 'self_us': s} for c, s, m in rows[:15]]
    out['importtime_total_self_us'] = sum(s for _, s, _ in rows)
    out['modules_imported'] = len(rows)
    return out


def bench_ours(B, runs, reps):
    R = {'loadavg_start': B.loadavg()}
    homes = []
    try:
        # ---------------- chain
        home = tempfile.mkdtemp(prefix='ckbench-chain-')
        homes.append(home)
        env, cwd = F.our_env(home), home
        write_chain(home)
        R['chain_home'] = home
        chain = [CK, 'run', 'script', '--tags=' + CHAIN_TAGS]
        R['python_floor'] = B.bench_cmd([PY, '-c', 'pass'], env, cwd, runs, warmup=3, tag='floor ours')
        log('ours: floor %.1f ms' % (R['python_floor']['median'] * 1e3))

        r = run_split(chain + ['--json'], env, cwd, 'ours chain first-ever')
        res = parse_json(r, 'first-ever chain run')
        R['chain_first_ever_s'] = r['wall_s']
        R['chain_first_ever_check'] = check_chain(res, False)
        if R['chain_first_ever_check']:
            raise RuntimeError('first-ever chain run: ' + '; '.join(R['chain_first_ever_check']))
        log('ours: chain first-ever run (index + 10 steps ran) %.1f ms' % (r['wall_s'] * 1e3))

        # cold: cache removed before each run (all 10 run again)
        rm_chain = [CK, 'rm', 'cache', '--tags=chainbench', '--force']
        cold, rm_t, cold_bad = [], [], []
        for _ in range(reps):
            rr = B.run(rm_chain, env, cwd, tag='ours rm chain cache')
            rm_t.append(rr['wall_s'])
            r = run_split(chain + ['--json'], env, cwd, 'ours chain cold')
            cold.append(r['wall_s'])
            cold_bad += check_chain(parse_json(r, 'cold chain run'), False)
        R['chain_cold'] = B.stats(cold)
        R['chain_cold_check'] = sorted(set(cold_bad))
        R['rm_cache_cli'] = B.stats(rm_t)
        log('ours: chain cold (after rm cache) %.1f ms' % (R['chain_cold']['median'] * 1e3))

        # cached: verify through --json, then time the plain command
        r = run_split(chain + ['--json'], env, cwd, 'ours chain cached json')
        res = parse_json(r, 'cached chain run')
        R['chain_cached_check'] = check_chain(res, True)
        R['chain_cached_json'] = {'cached': res.get('cached'), 'key': res.get('key'),
                                  'deps_cached': sum(1 for d in res.get('deps', {}).values() if d.get('cached')),
                                  'deps': len(res.get('deps', {}))}
        r = B.run(chain, env, cwd, tag='ours chain cached text')
        R['chain_cached_text'] = r['out'].strip().splitlines()[:5]
        if R['chain_cached_check'] or ': cached' not in r['out']:
            raise RuntimeError('cached chain run not served from cache: %s / %r' % (
                R['chain_cached_check'], r['out'][-500:]))
        R['chain_cached'] = B.bench_cmd(chain, env, cwd, runs, warmup=2, tag='ours chain cached')
        log('ours: chain cached %.1f ms (%d runs)' % (R['chain_cached']['median'] * 1e3, runs))
        R['chain_cached_cpu'] = B.peak_rss(chain, env, cwd, reps=5, tag='ours chain cached')
        R['chain_cached_nowatch'] = B.bench_cmd(chain, dict(env, CK_WATCH='0'), cwd, runs, warmup=2,
                                                tag='ours chain cached CK_WATCH=0')
        log('ours: chain cached, CK_WATCH=0: %.1f ms' % (R['chain_cached_nowatch']['median'] * 1e3))

        dry = chain + ['--dry-run']
        r = B.run(dry, env, cwd, tag='ours chain dry-run text')
        lines = [l for l in r['out'].splitlines() if 'script:s' in l]
        R['chain_dry_run_text'] = r['out'].strip().splitlines()
        R['chain_dry_run_check'] = {'steps': len(lines), 'cached': sum(1 for l in lines if '[cached]' in l)}
        R['chain_dry_run'] = B.bench_cmd(dry, env, cwd, runs, warmup=2, tag='ours chain dry-run')
        log('ours: chain --dry-run %.1f ms' % (R['chain_dry_run']['median'] * 1e3))

        # after the timing: one verification more (still all cached) and the profiles
        R['chain_cached_check_after'] = check_chain(
            parse_json(run_split(chain + ['--json'], env, cwd, 'ours chain cached json after'),
                       'cached chain run (after timing)'), True)
        R['profile'] = profile_cached(env, cwd, chain[1:])

        # ---------------- single one-line script: the anchors' bench_script() protocol
        home = tempfile.mkdtemp(prefix='ckbench-single-')
        homes.append(home)
        env, cwd = F.our_env(home), home
        d = os.path.join(home, 'repos', 'local', 'script', 'bench-echo')
        os.makedirs(d)
        with open(os.path.join(d, 'meta.yaml'), 'w') as f:
            f.write(SINGLE_META)
        with open(os.path.join(d, 'run.sh'), 'w') as f:
            f.write(SINGLE_RUN)
        os.chmod(os.path.join(d, 'run.sh'), 0o755)
        single = [CK, 'run', 'script', '--tags=bench,echo']
        rm_single = [CK, 'rm', 'cache', '--tags=bench,echo', '--force']
        r = B.run(single, env, cwd, tag='ours single first-ever')
        assert 'bench-echo ran' in r['out'], r['out'][-2000:]
        R['single_first_ever_s'] = r['wall_s']
        miss, hit = [], []
        for _ in range(reps):
            B.run(rm_single, env, cwd, tag='ours single rm cache')
            r1 = B.run(single, env, cwd, tag='ours single miss')
            assert 'bench-echo ran' in r1['out'], r1['out'][-2000:]
            r2 = B.run(single, env, cwd, tag='ours single hit')
            assert 'bench-echo ran' not in r2['out'] and ': cached' in r2['out'], r2['out'][-2000:]
            miss.append(r1['wall_s'])
            hit.append(r2['wall_s'])
        R['single_run1_cache_miss'] = B.stats(miss)
        R['single_run2_cache_hit'] = B.stats(hit)
        R['single_run2_cache_hit_hyperfine'] = B.bench_cmd(single, env, cwd, runs, warmup=1,
                                                           tag='ours single hit')
        R['single_cpu'] = B.peak_rss(single, env, cwd, reps=5, tag='ours single hit')
        fenv = dict(env, CK_ENV_OUT=os.devnull)
        R['single_run_sh_floor'] = B.bench_cmd(['bash', os.path.join(d, 'run.sh')], fenv, d, runs,
                                               tag='ours run.sh floor')
        log('ours: single cached %.1f ms, miss %.1f ms' % (
            R['single_run2_cache_hit_hyperfine']['median'] * 1e3, R['single_run1_cache_miss']['median'] * 1e3))
        R['loadavg_end'] = B.loadavg()
        return R
    finally:
        for h in homes:
            if F.watchd_processes(h):
                F.stop_watchd(B, F.our_env(h), h, h)
            shutil.rmtree(h, ignore_errors=True)


# ====================================================================== anchors side
def anchor_env(B, tool):
    """The env, cwd, python and run command that the anchors' bench_script() uses for ``tool``."""
    venv = 'cmind-script' if tool == 'cm' else 'mlcflow-script'
    pyvenv = 'cmind-script' if tool == 'cm' else 'mlcflow'
    env = B.env_for(tool, venv=venv)
    env['PATH'] = os.path.join(B.ROOT, pyvenv, 'bin') + ':/usr/local/bin:/usr/bin:/bin'
    runcmd = [tool, 'run', 'script', '--tags=bench,echo']
    return env, B.workdir(venv), os.path.join(B.ROOT, pyvenv, 'bin', 'python'), runcmd


def run_anchors(B):
    A = {'source': 'measured in this run', 'script': {}, 'floor': {}, 'cpu': {}, 'errors': {}}
    for tool in ('cm', 'mlc'):
        t = time.perf_counter()
        log('anchor %s: bench_script() (the anchors\' cached-script test)' % tool)
        try:
            A['script'][tool] = B.bench_script(tool)
            env, cwd, py, runcmd = anchor_env(B, tool)
            A['floor'][tool] = B.bench_cmd([py, '-c', 'pass'], env, cwd, B.RUNS, warmup=3, tag='floor ' + tool)
            # CPU time (user+sys) of the cached run: less sensitive than wall time to a busy machine
            r = B.run(runcmd, env, cwd, tag=tool + ' script hit (cpu check)')
            assert 'bench-echo ran' not in r['out'], 'not served from cache: ' + r['out'][-1000:]
            A['cpu'][tool] = B.peak_rss(runcmd, env, cwd, reps=5, tag=tool + ' script hit')
            log('anchor %s: run 2 cache hit %.1f ms (hyperfine), done in %.0f s' % (
                tool, A['script'][tool]['run2_cache_hit_hyperfine']['median'] * 1e3, time.perf_counter() - t))
        except Exception as exc:  # keep going: one broken anchor must not lose the other
            A['errors'][tool] = repr(exc)[:2000]
            log('anchor %s failed: %r' % (tool, exc))
    return A


def stored_anchors():
    path = os.path.join(ANCHOR_DIR, 'results', 'results.json')
    with open(path) as f:
        S = json.load(f)
    return {'source': 'stored anchor numbers, not this run (%s, %s)' % (path, S['machine'].get('date_utc')),
            'script': S.get('script', {}), 'floor': {}, 'errors': {},
            'stored_machine': {k: S['machine'].get(k) for k in ('cpu', 'nproc', 'date_utc', 'loadavg_start')}}


# ====================================================================== report
def build_report(res):
    O, A = res['ours'], res['anchors']
    AS = A.get('script', {})
    chain = O['chain_cached']['median']
    rows, goals = [], []

    def acell(tool, key):
        try:
            v = AS[tool][key]
        except (KeyError, TypeError):
            return 'error (see json)' if tool in A.get('errors', {}) else 'n/a'
        return cell(v) if isinstance(v, dict) else fmt_t(v)

    def add(metric, ours, cm, mlc, goal='', ok=None):
        rows.append([metric, ours, cm, mlc, goal, F.verdict(ok) if goal else ''])

    for tool, factor in (('cm', CM_FACTOR), ('mlc', MLC_FACTOR)):
        try:
            a = AS[tool]['run2_cache_hit_hyperfine']['median']
        except (KeyError, TypeError):
            a = None
        ok = (chain < factor * a) if a else None
        try:
            cpu_ratio = O['chain_cached_cpu']['cpu_s']['median'] / A['cpu'][tool]['cpu_s']['median']
        except (KeyError, TypeError, ZeroDivisionError):
            cpu_ratio = None
        goals.append({'goal': '10-deep cached chain < %g x %s cached single' % (factor, LABEL[tool]),
                      'ours_s': chain, 'anchor_s': a, 'limit_s': factor * a if a else None,
                      'ratio': chain / a if a else None, 'cpu_ratio_info': cpu_ratio, 'pass': ok})
        txt = '%s = **%.2f×** %s' % (cell(O['chain_cached']), chain / a, tool.upper()) if a else cell(O['chain_cached'])
        if cpu_ratio:
            txt += ' (CPU user+sys: %.2f×)' % cpu_ratio
        add('**goal**: re-run the 10-deep cached chain (CLI) vs %s\'s cached single one-line script'
            % LABEL[tool].split(' (')[0], txt,
            acell('cm', 'run2_cache_hit_hyperfine') if tool == 'cm' else '',
            acell('mlc', 'run2_cache_hit_hyperfine') if tool == 'mlc' else '',
            '< %g × %s (%s)' % (factor, tool.upper(), fmt_t(factor * a) if a else 'n/a'), ok)

    single = O['single_run2_cache_hit_hyperfine']['median']

    def rel(tool):
        try:
            a = AS[tool]['run2_cache_hit_hyperfine']['median']
            return ' (ours %.2f×)' % (single / a)
        except (KeyError, TypeError):
            return ''
    add('script: run 2, cache hit — single one-line script, like for like (hyperfine)',
        cell(O['single_run2_cache_hit_hyperfine']),
        acell('cm', 'run2_cache_hit_hyperfine') + rel('cm'), acell('mlc', 'run2_cache_hit_hyperfine') + rel('mlc'))
    add('script: run 2, cache hit (5× one-shot, after a miss)', cell(O['single_run2_cache_hit']),
        acell('cm', 'run2_cache_hit'), acell('mlc', 'run2_cache_hit'))
    add('script: run 1, cache miss (5×, cache removed before)', cell(O['single_run1_cache_miss']),
        acell('cm', 'run1_cache_miss'), acell('mlc', 'run1_cache_miss'))
    add('script: first-ever run after writing it', fmt_t(O['single_first_ever_s']),
        acell('cm', 'first_ever_run_s'), acell('mlc', 'first_ever_run_s'))
    add('script: `bash run.sh` floor', cell(O['single_run_sh_floor']),
        acell('cm', 'run_sh_floor'), acell('mlc', 'run_sh_floor'))
    fl = A.get('floor', {})
    add('`python -c pass` (venv floor)', cell(O['python_floor']),
        cell(fl['cm']) if fl.get('cm') else 'n/a', cell(fl['mlc']) if fl.get('mlc') else 'n/a')
    AC = A.get('cpu', {})

    def cpu(st):
        return '%s CPU, %.1f MiB peak RSS' % (cell(st['cpu_s']), st['max_rss_kb']['median'] / 1024) if st else 'n/a'
    add('script: run 2, cache hit — CPU user+sys (`/usr/bin/time -v`, 5×)', cpu(O.get('single_cpu')),
        cpu(AC.get('cm')), cpu(AC.get('mlc')))
    cj = O['chain_cached_json']
    add('chain: re-run 10 cached steps (s0 + 9 deps), `ck run script --tags=%s`' % CHAIN_TAGS,
        '%s = %.1f× floor; `--json`: top cached=%s, %d/%d deps cached' % (
            cell(O['chain_cached']), chain / O['python_floor']['median'], cj['cached'], cj['deps_cached'], cj['deps']),
        '', '')
    add('chain: re-run, CPU user+sys (`/usr/bin/time -v`, 5×)', cpu(O.get('chain_cached_cpu')), '', '')
    if O.get('chain_cached_nowatch'):
        add('chain: re-run with `CK_WATCH=0` (no inotify watcher set up in the process)',
            cell(O['chain_cached_nowatch']), '', '')
    add('chain: marginal cost per cached step ((chain − single) / 9)',
        fmt_t((chain - single) / (DEPTH - 1)), '', '')
    dc = O['chain_dry_run_check']
    add('chain: `--dry-run` (resolve + keys + cache lookups, nothing run)',
        '%s (%d steps shown, %d [cached])' % (cell(O['chain_dry_run']), dc['steps'], dc['cached']), '', '')
    add('chain: cold, all 10 steps run (5×, `ck rm cache` before each)', cell(O['chain_cold']), '', '')
    add('chain: first-ever run in a fresh CK_HOME (index built, 10 steps run)',
        fmt_t(O['chain_first_ever_s']), '', '')
    add('`ck rm cache --tags=chainbench --force` (10 results)', cell(O['rm_cache_cli']), '', '')

    m = res['machine']
    L = ['# Workflow benchmark: cached 10-deep script chain (cknowledge) vs cached single script (CM, MLCFlow)', '']
    L.append('Run %s, %s cores (%s), load average start %s / end %s; hyperfine: %s. Total benchmark wall time: %s.' % (
        res['date_utc'], m.get('nproc'), ', '.join(m.get('cpu', [])), ' '.join(m.get('loadavg_start', [])),
        ' '.join(res.get('loadavg_end', [])), m.get('hyperfine'), fmt_t(res.get('total_s'))))
    L.append('')
    L.append('cknowledge: git %s%s, src sha256 %s.' % (
        (res.get('ours_git') or '?')[:12], ' + uncommitted changes' if res.get('ours_dirty_files') else '',
        res.get('ours_src_sha256', '?')[:16]))
    L.append('Anchor numbers: **%s**.' % A['source'])
    if A.get('errors'):
        L.append('Anchor errors: %s' % json.dumps(A['errors']))
    loads = [float(x[0]) for x in (m.get('loadavg_start'), res.get('loadavg_end'), O.get('loadavg_end')) if x]
    if loads and max(loads) > (m.get('nproc') or 1) * 0.75:
        L.append('')
        L.append('**Warning: the machine was busy during this run** (1-min load average up to %.2f on %s cores).'
                 % (max(loads), m.get('nproc')))
    L.append('')
    L.append('Cells: median (min–max) wall time, or one-shot; each CLI call is a fresh process (warm page '
             'cache). cknowledge: hyperfine -N, %d runs; anchors: their own `bench_script()` (hyperfine %d runs '
             'for "run 2, cache hit", 5 one-shot miss/hit pairs).' % (res['config']['runs'], res['config']['anchor_runs']))
    L.append('')
    hdr = ['metric', LABEL['ours'], LABEL['cm'], LABEL['mlc'], 'goal', 'result']
    L.append('| ' + ' | '.join(hdr) + ' |')
    L.append('|' + '---|' * len(hdr))
    for r in rows:
        L.append('| ' + ' | '.join(str(x).replace('|', '\\|') for x in r) + ' |')
    L.append('')
    L.append('Goals: %d PASS, %d FAIL, %d not evaluated.' % (
        sum(1 for g in goals if g['pass']), sum(1 for g in goals if g['pass'] is False),
        sum(1 for g in goals if g['pass'] is None)))
    L.append('')
    L.append('Notes:')
    L.append('- Chain: `$CK_HOME/repos/local/script/s0..s9/meta.yaml` (cache: true, sN deps on `chainbench,s(N+1)`, '
             'new_env_keys `CK_CHAIN_*`), run.sh `echo "CK_CHAIN_SN=done" >> "$CK_ENV_OUT"`. The cached timing runs '
             'the plain command (human output); `--json` runs before and after the timing check that s0 and its 9 '
             'dependencies are all cached%s.' % (
                 '' if not (O['chain_cached_check'] or O['chain_cached_check_after'])
                 else ' — **check failed: %s**' % (O['chain_cached_check'] + O['chain_cached_check_after'])))
    L.append('- Single script: the anchors\' `bench-echo` (tags bench,echo, cache: true); our run.sh exports through '
             '`$CK_ENV_OUT` instead of CM\'s `tmp-run-env.out`; our cache is cleared with `ck rm cache --tags=bench,echo --force`.')
    L.append('- Limits: CM × %g and MLCFlow × %g of their "script: run 2, cache hit" median (hyperfine).' % (
        CM_FACTOR, MLC_FACTOR))
    fails = [g for g in goals if g['pass'] is False]
    prof = O.get('profile', {})
    if fails and prof:
        L.append('')
        L.append('Profile of one cached chain run (goal failed): import time %s over %d modules; top imports '
                 '(cumulative): %s. cProfile top 25 in workflow.json.' % (
                     fmt_t(prof.get('importtime_total_self_us', 0) / 1e6), prof.get('modules_imported', 0),
                     ', '.join('%s %s' % (x['module'], fmt_t(x['cumulative_us'] / 1e6))
                               for x in prof.get('importtime_top15_cumulative_us', [])[:8])))
    else:
        L.append('- Profile (cProfile top 25, `-X importtime` top 15) of one cached chain run: workflow.json `ours.profile`.')
    return '\n'.join(L) + '\n', goals


# ====================================================================== main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--stored-anchors', action='store_true',
                    help="use the anchors' stored results.json instead of measuring them in this run")
    ap.add_argument('--runs', type=int, default=30, help='hyperfine runs for cknowledge (default 30, min 20)')
    ap.add_argument('--reps', type=int, default=5, help='one-shot miss/hit and cold repetitions (default 5)')
    ap.add_argument('--anchor-runs', type=int, default=None,
                    help="hyperfine runs for the anchors (default: their BENCH_RUNS, 10)")
    ap.add_argument('--report-only', action='store_true', help='rebuild workflow.md from workflow.json')
    args = ap.parse_args()
    if args.report_only:
        with open(os.path.join(RESULTS, 'workflow.json')) as f:
            res = json.load(f)
        md, res['goals'] = build_report(res)
        with open(os.path.join(RESULTS, 'workflow.md'), 'w') as f:
            f.write(md)
        sys.stdout.write(md)
        return 0
    runs = max(20, args.runs)
    t_start = time.perf_counter()
    os.makedirs(RESULTS, exist_ok=True)
    for need in (PY, CK):
        if not os.path.exists(need):
            raise SystemExit('missing %s: build the venv first (make venv)' % need)
    if not args.stored_anchors and not all(
            os.path.exists(os.path.join(ANCHORS_ROOT, v, '.anchors-installed')) for v in ('cmind-script', 'mlcflow')):
        log('installing the anchor venvs (setup.sh)')
        subprocess.run(['bash', os.path.join(ANCHOR_DIR, 'setup.sh')], check=True, stdout=sys.stderr)
    # an editable install is compiled here, so that no timed run pays for compiling
    subprocess.run([PY, '-m', 'compileall', '-q', os.path.join(PROJECT, 'src', 'cknowledge')], check=True)
    B = load_anchor_module()
    if args.anchor_runs:
        B.RUNS = max(5, args.anchor_runs)
    res = {'date_utc': datetime.datetime.now(datetime.timezone.utc).isoformat(),
           'config': {'runs': runs, 'reps': args.reps, 'anchor_runs': B.RUNS, 'depth': DEPTH,
                      'cm_factor': CM_FACTOR, 'mlc_factor': MLC_FACTOR, 'venv': F.VENV,
                      'anchor_dir': ANCHOR_DIR, 'anchors_root': ANCHORS_ROOT, 'argv': sys.argv[1:]},
           'machine': B.machine_info()}
    try:
        res['ours_git'] = subprocess.run(['git', '-C', PROJECT, 'rev-parse', 'HEAD'], capture_output=True,
                                         text=True).stdout.strip()
        res['ours_dirty_files'] = subprocess.run(['git', '-C', PROJECT, 'status', '--short'],
                                                 capture_output=True, text=True).stdout.splitlines()
    except OSError:
        pass
    res['ours_src_sha256'] = F.src_digest()
    log('ours: 10-deep chain and single script (%d hyperfine runs)' % runs)
    res['ours'] = bench_ours(B, runs, args.reps)
    res['anchors'] = stored_anchors() if args.stored_anchors else run_anchors(B)
    res['loadavg_end'] = B.loadavg()
    res['total_s'] = time.perf_counter() - t_start
    md, goals = build_report(res)
    res['goals'] = goals
    F.write_results('workflow', res, md)
    return 0


if __name__ == '__main__':
    sys.exit(main())
