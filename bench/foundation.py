#!/usr/bin/env python3
"""Foundation benchmark: cknowledge against CK 2.6.4, CM 4.2.0 and MLCFlow 1.3.8, in one run.

    .venv/bin/python bench/foundation.py            # N=10,000; anchors measured in this run (~8 min)
    .venv/bin/python bench/foundation.py --quick    # N=1,000; stored anchor numbers, not this run
    .venv/bin/python bench/foundation.py --full     # default + 100,000 entries (ours and CK's)

Standard library only. The anchor tools are driven by the anchors' own code in
/work/shared/bench/anchors (``bench.py`` is imported as a module with its output folders
redirected here, since its own ``results/`` is read-only; its ``api_worker.py`` does the
in-process numbers; ``setup.sh`` installs the venvs under /tmp/anchors).  cknowledge is
driven by this file re-run as a worker (``--worker``) with the project's venv interpreter,
so every in-process figure comes from a fresh process with a fresh ``CK_HOME``.

Anchor sections: by default the "slim" section runs, for each tool, exactly the anchors'
steps whose figures this benchmark compares (create repo, populate N, first CLI search,
hyperfine CLI search, peak RSS, in-process search) through the anchors' helper functions
(``run``, ``bench_cmd``, ``peak_rss``, ``worker``, ``prepare_type``, ...), and skips the ones it
does not use (marginal adds, miss search, load, delete): that keeps the default run at
~8 minutes on 2 cores.  ``--anchors-verbatim`` runs the anchors' ``bench_entries`` unchanged.

Data set.  cknowledge entry i is ``dataset`` ``e<i:06d>`` with the tags
``bench,a<i%10>,b<(i//10)%10>,p<i%8>,q<i%125>``.  ``p3,q77`` selects i % 1000 == 827
(8 and 125 are coprime): two tags matching exactly 0.1 %.  ``a3,b7`` is the anchors' own
query (i % 100 == 73, 1 %), measured too so one row compares the very same query.
The anchors' entries carry ``bench,a<i%10>,b<(i//10)%10>`` (3 tags; ours 5).

Writes bench/results/foundation.json (all raw numbers) and bench/results/foundation.md
(the table, also printed on stdout); progress goes to stderr.
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, 'results')
ANCHOR_DIR = os.environ.get('ANCHOR_DIR', '/work/shared/bench/anchors')
ANCHORS_ROOT = os.environ.get('ANCHORS_ROOT', '/tmp/anchors')
VENV = os.environ.get('CK_BENCH_VENV', os.path.join(PROJECT, '.venv'))
PY = os.path.join(VENV, 'bin', 'python')
CK = os.path.join(VENV, 'bin', 'ck')
MARK = '@@FOUNDATION-RESULT@@ '

Q01 = 'p3,q77'   # 0.1 %: i % 1000 == 827
Q1 = 'a3,b7'     # 1 %, the anchors' query: i % 100 == 73
TOOLS = ('ck', 'cm', 'mlc')
LABEL = {'ours': 'cknowledge', 'ck': 'CK 2.6.4', 'cm': 'CM 4.2.0', 'mlc': 'MLCFlow 1.3.8'}
MATCH_RE = re.compile(r'^dataset:\S+:\S+$', re.M)


def entry_tags(i: int) -> str:
    return 'bench,a%d,b%d,p%d,q%d' % (i % 10, (i // 10) % 10, i % 8, i % 125)


def expected(n: int, query: str) -> int:
    period, hit = (1000, 827) if query == Q01 else (100, 73)
    return sum(1 for i in range(n) if i % period == hit)


# ====================================================================== worker (venv)
def _stats(xs):
    if not xs:
        return None
    return {'median': statistics.median(xs), 'min': min(xs), 'max': max(xs),
            'mean': statistics.fmean(xs), 'n': len(xs)}


def worker_main(argv):
    t0 = time.perf_counter()
    cmd = argv[0]
    t = time.perf_counter()
    import cknowledge
    res = {'import_s': time.perf_counter() - t}
    if cmd == 'populate':
        start, count = int(argv[1]), int(argv[2])
        per = []
        t_loop = time.perf_counter()
        for i in range(start, start + count):
            t = time.perf_counter()
            r = cknowledge.access({'action': 'add', 'automation': 'dataset',
                                   'artifact': 'e%06d' % i, 'tags': entry_tags(i)})
            per.append(time.perf_counter() - t)
            if r['return'] != 0:
                raise SystemExit('add e%06d failed: %s' % (i, r.get('error')))
        total = time.perf_counter() - t_loop
        k = min(100, len(per))
        res.update({'loop_total_s': total, 'count': count, 'per_entry': _stats(per),
                    'first_100_mean_s': statistics.fmean(per[:k]),
                    'last_100_mean_s': statistics.fmean(per[-k:])})
    elif cmd == 'search':
        reps = int(argv[1])
        queries = argv[2:]
        for q in queries:
            req = {'action': 'find', 'automation': 'dataset', 'tags': q}
            t = time.perf_counter()
            r = cknowledge.access(req)
            first = time.perf_counter() - t
            if r['return'] != 0:
                raise SystemExit('find failed: %s' % r.get('error'))
            n_first = len(r['list'])
            per = []
            for _ in range(reps):
                t = time.perf_counter()
                r = cknowledge.access(req)
                per.append(time.perf_counter() - t)
            res[q] = {'first_call_s': first, 'repeat': _stats(per), 'matches': len(r['list']),
                      'matches_first': n_first, 'warnings': r.get('warnings')}
    else:
        raise SystemExit('unknown worker command ' + cmd)
    res['process_s'] = time.perf_counter() - t0
    sys.stdout.flush()
    print(MARK + json.dumps(res), flush=True)


# ====================================================================== orchestrator
def log(msg):
    sys.stderr.write('[%s] %s\n' % (datetime.datetime.now().strftime('%H:%M:%S'), msg))
    sys.stderr.flush()


def load_anchor_module():
    """Import the anchors' bench.py as a module, with its output folders redirected here."""
    path = os.path.join(ANCHOR_DIR, 'bench.py')
    sys.dont_write_bytecode = True          # never write __pycache__ into the read-only folder
    spec = importlib.util.spec_from_file_location('anchor_bench', path)
    B = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(B)
    B.RES = os.path.join(RESULTS, 'anchors')               # its own results/ is read-only
    B.LOGDIR = os.path.join(RESULTS, 'logs')
    B.log = log                                          # progress to stderr, table to stdout
    os.makedirs(B.RES, exist_ok=True)
    os.makedirs(B.LOGDIR, exist_ok=True)
    open(os.path.join(B.LOGDIR, 'commands.log'), 'w').close()
    return B


def our_env(home):
    os.makedirs(os.path.join(home, '_userhome'), exist_ok=True)
    return {'PATH': os.path.join(VENV, 'bin') + ':/usr/local/bin:/usr/bin:/bin',
            'HOME': os.path.join(home, '_userhome'), 'LANG': 'C.UTF-8', 'LC_ALL': 'C.UTF-8',
            'TERM': 'dumb', 'CK_HOME': home}


def our_worker(B, env, cwd, args, tag):
    r = B.run([PY, os.path.abspath(__file__), '--worker'] + [str(a) for a in args], env, cwd,
              tag='ours ' + tag)
    for line in r['out'].splitlines():
        if line.startswith(MARK):
            res = json.loads(line[len(MARK):])
            res['process_wall_s'] = r['wall_s']
            return res
    raise RuntimeError('no result from our worker: ' + r['out'][-2000:])


def bench_ours_cold(B, runs):
    home = tempfile.mkdtemp(prefix='ckbench-cold-')
    try:
        env, cwd = our_env(home), home
        R = {'first_ever_version_s': B.run([CK, '--version'], env, cwd, tag='ours first version')['wall_s']}
        R['python_floor'] = B.bench_cmd([PY, '-c', 'pass'], env, cwd, runs, warmup=3, tag='floor ours')
        R['version'] = B.bench_cmd([CK, '--version'], env, cwd, runs, warmup=3, tag='ours version')
        R['help'] = B.bench_cmd([CK, 'help'], env, cwd, runs, warmup=3, tag='ours help')
        out = B.run([CK, '--version'], env, cwd, tag='ours version text')['out'].strip()
        R['version_text'] = out
        log('cold start ours: floor %.1f ms, --version %.1f ms, help %.1f ms' % (
            R['python_floor']['median'] * 1e3, R['version']['median'] * 1e3, R['help']['median'] * 1e3))
        return R
    finally:
        shutil.rmtree(home, ignore_errors=True)


def watchd_processes(home):
    """pid and RSS of any cknowledge watcher service for ``home`` (read from /proc)."""
    out = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                argv = f.read().split(b'\0')
            if b'cknowledge.store.watchd' not in argv or os.fsencode(home) not in argv:
                continue
            with open('/proc/%s/status' % pid) as f:
                rss = re.search(r'VmRSS:\s+(\d+) kB', f.read())
            out.append({'pid': int(pid), 'rss_kb': int(rss.group(1)) if rss else None})
        except OSError:
            continue
    return out


def stop_watchd(B, env, cwd, home):
    """Ask the watcher service of ``home`` (if this cknowledge has one and it runs) to exit."""
    code = ('import sys\ntry:\n from cknowledge.store import watchd\nexcept ImportError:\n sys.exit(0)\n'
            'print(watchd.stop(sys.argv[1]))')
    B.run([PY, '-c', code, home], env, cwd, check=False, tag='ours stop watchd')
    for _ in range(50):
        if not watchd_processes(home):
            return True
        time.sleep(0.1)
    return False


def bench_ours_entries(B, n, cli_runs, api_reps, rss_reps):
    home = tempfile.mkdtemp(prefix='ckbench-%d-' % n)
    env, cwd = our_env(home), home
    nowatch = dict(env, CK_WATCH='0')
    try:
        R = {'N': n, 'loadavg_start': B.loadavg(), 'home': home}
        log('ours N=%d: populate through access() (fresh CK_HOME)' % n)
        R['populate'] = our_worker(B, env, cwd, ['populate', 0, n], 'populate %d' % n)
        log('ours N=%d: populated in %.2f s (%.3f ms/entry; last 100: %.3f ms/entry)' % (
            n, R['populate']['loop_total_s'], R['populate']['loop_total_s'] / n * 1e3,
            R['populate']['last_100_mean_s'] * 1e3))
        d = os.path.join(home, 'repos', 'local', 'dataset')
        R['count_on_disk'] = sum(1 for x in os.listdir(d) if not x.startswith('.'))
        # first CLI find right after the adds (like the anchors' "first call after adds")
        first = B.run([CK, 'find', 'dataset', '--tags=' + Q01], env, cwd, tag='ours first find')
        R['cli_first_s'] = first['wall_s']
        R['cli_first_matches'] = len(MATCH_RE.findall(first['out']))
        R['cli'] = {}
        for q, variant, e in ((Q01, '', env), (Q1, '', env), (Q01, 'nowatch', nowatch)):
            log('ours N=%d: CLI find --tags=%s %s' % (n, q, variant and '(CK_WATCH=0)'))
            argv = [CK, 'find', 'dataset', '--tags=' + q]
            out = B.run(argv, e, cwd, tag='ours find count')['out']
            c = {'matches': len(MATCH_RE.findall(out)), 'expected': expected(n, q),
                 'other_output': [l for l in out.splitlines() if not MATCH_RE.match(l)][:5]}
            c['time'] = B.bench_cmd(argv, e, cwd, cli_runs, warmup=1, tag='ours find %s %s' % (q, variant))
            c['rss'] = B.peak_rss(argv, e, cwd, reps=rss_reps, tag='ours find %s %s' % (q, variant))
            R['cli'][q + (':' + variant if variant else '')] = c
        R['watchd_after_cli'] = watchd_processes(home)
        log('ours N=%d: in-process find (access(), %d repeats)' % (n, api_reps))
        R['api'] = our_worker(B, env, cwd, ['search', api_reps, Q01, Q1], 'search %d' % n)
        R['api_nowatch'] = our_worker(B, nowatch, cwd, ['search', api_reps, Q01], 'search nowatch %d' % n)
        for q in (Q01, Q1):
            R['api'][q]['expected'] = expected(n, q)
        R['api_nowatch'][Q01]['expected'] = expected(n, Q01)
        R['index_bytes'] = sum(os.path.getsize(os.path.join(home, 'index', f))
                               for f in os.listdir(os.path.join(home, 'index')))
        R['watchd_end'] = watchd_processes(home)
        R['loadavg_end'] = B.loadavg()
        return R
    finally:
        try:
            stop_watchd(B, env, cwd, home)
        finally:
            shutil.rmtree(home, ignore_errors=True)


def anchor_entries_slim(B, tool, n, cli_runs, cli_warmup=1, rss_reps=3, api_reps=10):
    """The anchors' bench_entries() steps that this benchmark compares, via their own helpers."""
    t = B.TOOLS[tool]
    venv = t['venv']
    B.fresh_home(venv)
    env, cwd = B.env_for(tool), B.workdir(venv)
    R = {'N': n, 'mode': 'slim (anchors helpers; marginal adds, miss search, load, delete skipped)',
         'loadavg_start': B.loadavg()}
    log('%s N=%d: create repo' % (tool, n))
    R['create_repo_cli_s'] = B.run(B.CLI['add_repo'][tool], env, cwd, tag=tool + ' add repo')['wall_s']
    R['prepare_type_cli_s'] = B.prepare_type(tool, env, cwd)
    # same populate branches as bench_entries()
    if tool == 'ck' or n <= 1000 or B.FULL:
        log('%s N=%d: API add loop (tool default settings)' % (tool, n))
        R['populate'] = {'method': 'python API loop, tool defaults (index on)',
                         **B.worker(tool, ['populate', 0, n, 'e', 'main'], env, cwd, tag='%s pop %d' % (tool, n))}
    elif tool == 'cm':
        log('%s N=%d: API add loop with CM_INDEX=no, then cm reindex' % (tool, n))
        p = B.worker(tool, ['populate', 0, n, 'e', 'main'], B.env_for(tool, extra={'CM_INDEX': 'no'}), cwd,
                     tag='cm pop noindex %d' % n)
        ri = B.run(['cm', 'reindex', 'repo'], env, cwd, tag='cm reindex')['wall_s']
        R['populate'] = {'method': 'python API loop with CM_INDEX=no, then `cm reindex repo`', **p,
                         'reindex_cli_s': ri}
    else:
        log('%s N=%d: seed meta files with mlc.utils, then mlc reindex' % (tool, n))
        p = B.worker(tool, ['seed', 0, n, 'e'], env, cwd, tag='mlc seed %d' % n)
        ri = B.run(['mlc', 'reindex'], env, cwd, tag='mlc reindex')['wall_s']
        R['populate'] = {'method': 'entries written with mlc.utils.save_yaml (same files as `mlc add script`), '
                                   'then `mlc reindex`', **p, 'reindex_cli_s': ri}
    R['count_after_populate'] = B.count_entries(tool)
    assert R['count_after_populate'] == n, (tool, n, R['count_after_populate'])
    log('%s N=%d: search' % (tool, n))
    first = B.run(B.CLI['search'][tool], env, cwd, tag=tool + ' first search')
    R['search_first_cli_s'] = first['wall_s']
    R['search_matches'] = len(B.MATCH_RE[tool].findall(first['out']))
    R['search_expected'] = n // 100
    R['search_cli'] = B.bench_cmd(B.CLI['search'][tool], env, cwd, cli_runs, warmup=cli_warmup,
                                  tag=tool + ' search')
    R['search_rss'] = B.peak_rss(B.CLI['search'][tool], env, cwd, reps=rss_reps, tag=tool + ' search')
    R['search_api'] = B.worker(tool, ['search', B.SEARCH_TAGS, api_reps], env, cwd, tag=tool + ' api search')
    R['loadavg_end'] = B.loadavg()
    return R


def run_anchors(B, n, verbatim):
    A = {'source': 'measured in this run', 'N': n, 'cold_start': {}, 'entries': {}, 'errors': {}}
    log('anchors: cold start (%s)' % ', '.join(B.TOOLS))
    A['cold_start'] = B.bench_cold_start()
    for tool in B.TOOLS:
        t = time.perf_counter()
        try:
            if verbatim:
                A['entries'][tool] = B.bench_entries(tool, n)
                A['entries'][tool]['mode'] = 'verbatim bench_entries()'
            else:
                A['entries'][tool] = anchor_entries_slim(B, tool, n, cli_runs=B.RUNS_SLOW)
        except Exception as exc:  # keep going: one broken anchor must not lose the others
            A['errors'][tool] = repr(exc)[:2000]
            log('anchor %s failed: %r' % (tool, exc))
        log('anchor %s N=%d done in %.0f s' % (tool, n, time.perf_counter() - t))
    return A


def stored_anchors(n):
    path = os.path.join(ANCHOR_DIR, 'results', 'results.json')
    with open(path) as f:
        S = json.load(f)
    key = str(n) if str(n) in S['entries'] else max(S['entries'], key=int)
    return {'source': 'stored anchor numbers, not this run (%s, %s)' % (path, S['machine'].get('date_utc')),
            'N': int(key), 'cold_start': S['cold_start'], 'entries': S['entries'][key], 'errors': {},
            'stored_machine': {k: S['machine'].get(k) for k in ('cpu', 'nproc', 'date_utc', 'loadavg_start')}}


# ====================================================================== report
def fmt_t(s):
    if s is None:
        return 'n/a'
    if s < 0.001:
        return '%.0f µs' % (s * 1e6)
    if s < 1:
        return '%.0f ms' % (s * 1000) if s >= 0.0995 else '%.1f ms' % (s * 1000)
    return '%.2f s' % s if s < 100 else '%.0f s' % s


def cell(st):
    if not st:
        return 'n/a'
    if st.get('n', 1) == 1:
        return fmt_t(st['median'])
    return '%s (%s–%s)' % (fmt_t(st['median']), fmt_t(st['min']), fmt_t(st['max']))


def ratio_txt(anchor, ours):
    if not anchor or not ours:
        return ''
    return ' (**%.1f×**)' % (anchor / ours)


def dig(d, *keys):
    for k in keys:
        if d is None:
            return None
        d = d.get(k) if isinstance(d, dict) else None
    return d


def verdict(ok):
    return 'n/a' if ok is None else ('**PASS**' if ok else '**FAIL**')


ONEPCT = ' [1% query]'


def busiest_load(res):
    """Highest 1-minute load average among the samples the run recorded."""
    samples = []

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k.startswith('loadavg') and isinstance(v, list) and v:
                    try:
                        samples.append(float(v[0]))
                    except (TypeError, ValueError):
                        pass
                else:
                    walk(v)
    walk({k: v for k, v in res.items() if k != 'anchors' or v.get('source', '').startswith('measured')})
    return max(samples) if samples else None


def build_report(res):
    n = res['N']
    O, A = res['ours'], res['anchors']
    AC, AE, AERR = A.get('cold_start', {}), A.get('entries', {}), A.get('errors', {})
    floor = O['cold']['python_floor']['median']
    rows, goals = [], []

    def add(num, metric, ours_txt, acells, goal='', ok=None):
        info = goal.startswith('(info')
        rows.append([num, metric, ours_txt] + acells + [goal, (verdict(ok) if goal else '')
                                                         .replace('**', '') if info else (verdict(ok) if goal else '')])
        if goal:
            goals.append({'goal': num + ' ' + metric, 'target': goal, 'pass': ok, 'info': info})

    def cells(srcs, getter, ours_val=None, tag='', est=None):
        """One cell per anchor tool; getter(R) -> (value or None, text)."""
        out = []
        for t in TOOLS:
            R = srcs.get(t)
            if t in AERR and R is None:
                out.append('error (see json)')
                continue
            if R is None:
                txt = 'not measured at this N'
                if est and t == 'ck':
                    try:
                        v0, _ = getter(AE['ck'])
                        txt = 'not measured (use --full); linear estimate ×%g of N=%s: ~%s' % (
                            est / A['N'], format(A['N'], ','), fmt_t(v0 * est / A['N']))
                    except (KeyError, TypeError):
                        txt = 'not measured (use --full)'
                out.append(txt)
                continue
            try:
                v, txt = getter(R)
            except (KeyError, TypeError, ZeroDivisionError):
                out.append('n/a')
                continue
            out.append(txt + tag + (ratio_txt(v, ours_val) if ours_val and v else ''))
        return out

    def val(srcs, t, getter):
        try:
            return getter(srcs[t])[0] if srcs.get(t) else None
        except (KeyError, TypeError):
            return None

    # ---- 1. cold start
    add('1', '`python -c pass` (venv floor)', cell(O['cold']['python_floor']),
        cells(AC, lambda R: (None, cell(R['python_floor']))))
    for key, name in (('version', '`ck --version`'), ('help', '`ck help`')):
        v = O['cold'][key]['median']
        add('1', name + ' wall time', '%s = %.2f× floor' % (cell(O['cold'][key]), v / floor),
            cells(AC, lambda R, key=key: (R[key]['median'], cell(R[key])), v),
            '≤ 2× floor (%s)' % fmt_t(2 * floor), v <= 2 * floor)

    def block(nn, E, srcs, big):
        est = nn if big else None
        N = format(nn, ',')

        # ---- 2. populate
        def pop(R):
            p = R['populate']
            s = '%s, %s/entry' % (fmt_t(p['loop_total_s']), fmt_t(p['loop_total_s'] / p['count']))
            if 'reindex_cli_s' in p:
                return None, s + ' + reindex %s (bulk path, not an API loop: not comparable)' % fmt_t(p['reindex_cli_s'])
            return p['loop_total_s'], s
        tot = E['populate']['loop_total_s']
        ck_v = val(srcs, 'ck', pop)
        add('2', 'add %s entries through `access()` (in-process loop, fresh home)' % N,
            '%s, %s/entry' % (fmt_t(tot), fmt_t(tot / nn)), cells(srcs, pop, tot, est=est),
            '≥ 5× faster than CK', (ck_v / tot >= 5) if ck_v else None)

        def per_add(R):
            p = R['populate']
            if 'reindex_cli_s' in p:
                return None, 'n/a (bulk path)'
            return None, '%s / %s' % (fmt_t(p['first_100_mean_s']), fmt_t(p['last_100_mean_s']))
        add('2', 'N=%s per-add cost: mean of first 100 / last 100 adds' % N,
            '%s / %s' % (fmt_t(E['populate']['first_100_mean_s']), fmt_t(E['populate']['last_100_mean_s'])),
            cells(srcs, per_add))

        # ---- 3. in-process find
        api_get = lambda R: (R['search_api']['repeat']['median'], cell(R['search_api']['repeat']))
        ck_v, cm_v, mlc_v = (val(srcs, t, api_get) for t in TOOLS)

        def find_goal(v, prefix=''):
            if big:
                return prefix + '≥ 50× faster than CK', (ck_v / v >= 50) if ck_v else None
            ok = None
            if ck_v and cm_v and mlc_v:
                ok = ck_v / v >= 50 and v < cm_v and v < mlc_v
            return prefix + '≥ 50× faster than CK, faster than CM and MLCFlow', ok
        for q, label, api, pre in (
                (Q01, '0.1%% (`%s`: %d of %s)' % (Q01, expected(nn, Q01), N), E['api'], ''),
                (Q1, '1%% (`%s`, the anchors\' query)' % Q1, E['api'], '(info: same query as anchors) '),
                (Q01, '0.1% with `CK_WATCH=0` (no inotify/watcher service: stats every meta file)', E['api_nowatch'],
                 '(info: CK_WATCH=0) ')):
            v = api[q]['repeat']['median']
            goal, ok = find_goal(v, pre)
            add('3', 'N=%s find by 2 tags matching %s, `access()` in-process, repeat' % (N, label),
                cell(api[q]['repeat']), cells(srcs, api_get, v, ONEPCT if q == Q01 else '', est=est), goal, ok)
        add('3', 'N=%s in-process find: cost per indexed entry (repeat median / N)' % N,
            '%.2f µs (CK_WATCH=0: %.2f µs)' % (E['api'][Q01]['repeat']['median'] / nn * 1e6,
                                              E['api_nowatch'][Q01]['repeat']['median'] / nn * 1e6),
            cells(srcs, lambda R: (None, '%.2f µs' % (R['search_api']['repeat']['median'] / nn * 1e6)), tag=ONEPCT))
        add('3', 'N=%s first in-process find in a new process (incl. kernel init; after the CLI finds)' % N,
            '%s (CK_WATCH=0: %s)' % (fmt_t(E['api'][Q01]['first_call_s']), fmt_t(E['api_nowatch'][Q01]['first_call_s'])),
            cells(srcs, lambda R: (None, '%s (+ import %s)' % (fmt_t(R['search_api']['first_call_s']),
                                                                fmt_t(R['search_api']['import_s']))), tag=ONEPCT))

        # ---- 4. CLI find
        cli_get = lambda R: (R['search_cli']['median'], cell(R['search_cli']))
        for key, label, pre in ((Q01, '0.1%% (`ck find dataset --tags=%s`)' % Q01, ''),
                                (Q1, '1%% (`--tags=%s`, anchors\' query)' % Q1, '(info: same query as anchors) '),
                                (Q01 + ':nowatch', '0.1% with `CK_WATCH=0` (no watcher service)', '(info: CK_WATCH=0) ')):
            c = E['cli'][key]
            v = c['time']['median']
            add('4', 'N=%s CLI find %s, fresh process' % (N, label),
                '%s = %.1f× floor' % (cell(c['time']), v / floor),
                cells(srcs, cli_get, v, ONEPCT if key != Q1 else '', est=est),
                (('(info: the goal is set at 10,000) ' if big and not pre else pre)
                 + '< 4× floor (%s)' % fmt_t(4 * floor)), v < 4 * floor)
        add('4', 'N=%s CLI find, first call right after the adds (one-shot)' % N, fmt_t(E['cli_first_s']),
            cells(srcs, lambda R: (R['search_first_cli_s'], fmt_t(R['search_first_cli_s'])), E['cli_first_s'], ONEPCT))
        wd = E.get('watchd_end') or E.get('watchd_after_cli') or []
        rss_txt = '%.1f MiB (CK_WATCH=0: %.1f MiB)' % (E['cli'][Q01]['rss']['max_rss_kb']['median'] / 1024,
                                                      E['cli'][Q01 + ':nowatch']['rss']['max_rss_kb']['median'] / 1024)
        if wd:
            rss_txt += '; + watcher service running in the background: %s' % ', '.join(
                '%.1f MiB' % (w['rss_kb'] / 1024) for w in wd if w.get('rss_kb'))
        add('4', 'N=%s CLI find peak RSS (/usr/bin/time -v, median)' % N, rss_txt,
            cells(srcs, lambda R: (None, '%.1f MiB' % (R['search_rss']['max_rss_kb']['median'] / 1024)), tag=ONEPCT))
        m01, m1, mnw = E['cli'][Q01], E['cli'][Q1], E['cli'][Q01 + ':nowatch']
        ok = (m01['matches'] == m01['expected'] == E['api'][Q01]['matches'] == mnw['matches']
              == E['api_nowatch'][Q01]['matches'] and m1['matches'] == m1['expected'] == E['api'][Q1]['matches'])
        add('4', 'N=%s matches found / expected' % N,
            '0.1%%: %d / %d (API %d; CK_WATCH=0: CLI %d, API %d); 1%%: %d / %d (API %d)' % (
                m01['matches'], m01['expected'], E['api'][Q01]['matches'], mnw['matches'],
                E['api_nowatch'][Q01]['matches'], m1['matches'], m1['expected'], E['api'][Q1]['matches']),
            cells(srcs, lambda R: (None, '1%%: %d / %d (API %d)' % (R['search_matches'], R['search_expected'],
                                                                   R['search_api']['matches']))),
            '0.1%% query finds %d' % expected(nn, Q01), ok)

    block(n, O['entries'][str(n)], AE, False)
    big = res.get('big')
    if big and big.get('ours'):
        ck = big.get('ck')
        block(big['N'], big['ours'], {'ck': ck if ck and 'error' not in ck else None}, True)
    else:
        api_get = lambda R: (R['search_api']['repeat']['median'], cell(R['search_api']['repeat']))
        est = []
        for t in TOOLS:
            try:
                v0 = api_get(AE[t])[0]
                est.append('not measured (use --full)' + ('; linear estimate ×%g of N=%s: ~%s' % (
                    100000 / A['N'], format(A['N'], ','), fmt_t(v0 * 100000 / A['N'])) if t == 'ck' else ''))
            except (KeyError, TypeError):
                est.append('not measured (use --full)')
        rows.append(['2-4', 'N=100,000: populate, in-process find, CLI find', 'not measured (use --full)'] + est
                    + ['≥ 50× faster than CK (find)', 'not measured'])

    L = ['# Foundation benchmark: cknowledge vs CK 2.6.4 / CM 4.2.0 / MLCFlow 1.3.8', '']
    m = res['machine']
    L.append('Run %s, %s mode, %s cores (%s), load average start %s / end %s; hyperfine: %s. '
             'Total benchmark wall time: %s.' % (
                 res['date_utc'], res['mode'], m.get('nproc'), ', '.join(m.get('cpu', [])),
                 ' '.join(m.get('loadavg_start', [])), ' '.join(res.get('loadavg_end', [])),
                 m.get('hyperfine'), fmt_t(res.get('total_s'))))
    L.append('')
    L.append('cknowledge: git %s%s, src sha256 %s.' % (
        (res.get('ours_git') or '?')[:12], ' + uncommitted changes' if res.get('ours_dirty_files') else '',
        res.get('ours_src_sha256', '?')[:16]))
    L.append('Anchor numbers: **%s** (anchors at N=%s).' % (A['source'], format(A['N'], ',')))
    busy = busiest_load(res)
    if busy and busy > (m.get('nproc') or 1) * 0.75:
        L.append('')
        L.append('**Warning: the machine was busy during this run** (highest 1-min load average sampled: %.2f on '
                 '%s cores): other processes competed for the CPUs, so absolute times, and ratios whose two '
                 'sides ran at different moments, are noisier than usual.' % (busy, m.get('nproc')))
    if AERR:
        L.append('Anchor errors: %s' % json.dumps(AERR))
    L.append('')
    L.append('Cells: median (min–max) wall time, or one-shot. **k×** after an anchor number = anchor / '
             'cknowledge (> 1: cknowledge is faster). cknowledge entries carry 5 tags; the 0.1%% query '
             '`%s` has no counterpart in the anchors (their query `%s` matches 1%%, marked [1%% query]); '
             'the `%s` rows compare the very same query. Each CLI call is a fresh process (warm page cache). '
             'Rows whose goal starts with "(info" are not counted in the summary.' % (Q01, Q1, Q1))
    L.append('')
    hdr = ['#', 'metric', LABEL['ours']] + [LABEL[t] for t in TOOLS] + ['goal', 'result']
    L.append('| ' + ' | '.join(hdr) + ' |')
    L.append('|' + '---|' * len(hdr))
    for r in rows:
        L.append('| ' + ' | '.join(str(x).replace('|', '\\|') for x in r) + ' |')
    L.append('')
    main_goals = [g for g in goals if not g['info']]
    L.append('Goals: %d PASS, %d FAIL, %d not evaluated (of %d; info rows not counted).' % (
        sum(1 for g in main_goals if g['pass']), sum(1 for g in main_goals if g['pass'] is False),
        sum(1 for g in main_goals if g['pass'] is None), len(main_goals)))
    L.append('')
    L.append('Notes:')
    L.append('- Freshness: a cknowledge `find` without help stats the meta file of every indexed entry in '
             'scope (the `CK_WATCH=0` rows: expected ~3 µs per entry, linear in N). By default a long-lived '
             'process uses inotify from its second scan on, and the CLI uses a background watcher service '
             '(`cknowledge.store.watchd`, started by `ck` once a scan covers >= 2000 entries); the default '
             'rows measure that. The benchmark stops the service before deleting its home.')
    L.append('- CM and MLCFlow populate at N > 1,000 by their bulk paths (CM_INDEX=no + `cm reindex`, '
             'seeded files + `mlc reindex`), as the anchors do; only CK\'s API loop is comparable with ours.')
    L.append('- Anchor sections: %s.' % res.get('anchor_mode'))
    L.append('- Commands: ours `%s --version`, `%s help`, `%s find dataset --tags=...`; anchors: see %s/README.md.'
             % (CK, CK, CK, ANCHOR_DIR))
    return '\n'.join(L) + '\n', goals


# ====================================================================== main
def src_digest():
    """sha256 over the package's .py files: which code was measured (the tree may be dirty)."""
    import hashlib
    h = hashlib.sha256()
    top = os.path.join(PROJECT, 'src')
    for base, dirs, files in sorted(os.walk(top)):
        dirs.sort()
        for f in sorted(files):
            if f.endswith('.py'):
                p = os.path.join(base, f)
                h.update(os.path.relpath(p, top).encode() + b'\0')
                with open(p, 'rb') as fh:
                    h.update(fh.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='N=1000, few runs, stored anchor numbers')
    ap.add_argument('--full', action='store_true', help='also 100,000 entries (ours and CK)')
    ap.add_argument('--stored-anchors', action='store_true', help='use the stored anchor numbers')
    ap.add_argument('--anchors-verbatim', action='store_true',
                    help="run the anchors' bench_entries() unchanged (slower)")
    ap.add_argument('--n', type=int, default=None, help='entry count (default 10000; --quick: 1000)')
    ap.add_argument('--big-n', type=int, default=100000, help='entry count of --full')
    ap.add_argument('--runs', type=int, default=None, help='hyperfine runs (default 10; --quick: 5)')
    ap.add_argument('--report-only', action='store_true',
                    help='rebuild foundation.md (and stdout) from the existing foundation.json')
    ap.add_argument('--worker', nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker_main(args.worker)
    if args.report_only:
        with open(os.path.join(RESULTS, 'foundation.json')) as f:
            res = json.load(f)
        md, res['goals'] = build_report(res)
        with open(os.path.join(RESULTS, 'foundation.md'), 'w') as f:
            f.write(md)
        sys.stdout.write(md)
        return 0

    t_start = time.perf_counter()
    n = args.n or (1000 if args.quick else 10000)
    runs = args.runs or (5 if args.quick else 10)
    api_reps = 10 if args.quick else 20
    use_stored = args.quick or args.stored_anchors
    os.makedirs(RESULTS, exist_ok=True)
    for need in (PY, CK):
        if not os.path.exists(need):
            raise SystemExit('missing %s: build the venv first (make venv)' % need)
    if not use_stored or args.full:
        if not os.path.exists(os.path.join(ANCHORS_ROOT, 'ck', '.anchors-installed')):
            log('installing the anchor venvs (setup.sh)')
            subprocess.run(['bash', os.path.join(ANCHOR_DIR, 'setup.sh')], check=True,
                           stdout=sys.stderr)
    # pip compiles the anchors' packages at install time; an editable install of ours is
    # compiled here, so that no run pays for compiling (PYTHONDONTWRITEBYTECODE may be set)
    subprocess.run([PY, '-m', 'compileall', '-q', os.path.join(PROJECT, 'src', 'cknowledge')],
                   check=True)
    B = load_anchor_module()
    B.TOOLS = {k: v for k, v in B.TOOLS.items() if k in TOOLS}
    B.ROOT = ANCHORS_ROOT
    res = {'date_utc': datetime.datetime.now(datetime.timezone.utc).isoformat(),
           'mode': 'quick' if args.quick else ('full' if args.full else 'default'), 'N': n,
           'config': {'runs': runs, 'api_reps': api_reps, 'q01': Q01, 'q1': Q1, 'venv': VENV,
                      'anchor_dir': ANCHOR_DIR, 'anchors_root': ANCHORS_ROOT, 'argv': sys.argv[1:]},
           'machine': B.machine_info(), 'ours': {'entries': {}}}
    try:
        res['ours_git'] = subprocess.run(['git', '-C', PROJECT, 'rev-parse', 'HEAD'], capture_output=True,
                                         text=True).stdout.strip()
        res['ours_dirty_files'] = subprocess.run(['git', '-C', PROJECT, 'status', '--short'],
                                                 capture_output=True, text=True).stdout.splitlines()
    except OSError:
        pass
    res['ours_src_sha256'] = src_digest()

    log('ours: cold start (%d runs)' % runs)
    res['ours']['cold'] = bench_ours_cold(B, runs)
    res['ours']['entries'][str(n)] = bench_ours_entries(B, n, cli_runs=runs, api_reps=api_reps,
                                                        rss_reps=3)
    if use_stored:
        res['anchors'] = stored_anchors(n)
        res['anchor_mode'] = 'stored results.json of the anchors (not this run)'
    else:
        res['anchor_mode'] = ('verbatim bench_entries()' if args.anchors_verbatim else
                              'slim: the anchors\' own helpers, only the steps compared here '
                              '(use --anchors-verbatim for the whole bench_entries())')
        res['anchors'] = run_anchors(B, n, args.anchors_verbatim)
    if args.full:
        nb = args.big_n
        res['big'] = {'N': nb}
        res['big']['ours'] = bench_ours_entries(B, nb, cli_runs=5, api_reps=5, rss_reps=1)
        log('CK N=%d (anchors helpers; 3 CLI runs, 3 API repeats)' % nb)
        try:
            res['big']['ck'] = anchor_entries_slim(B, 'ck', nb, cli_runs=3, cli_warmup=0, rss_reps=1, api_reps=3)
        except Exception as exc:
            res['big']['ck'] = {'error': repr(exc)[:2000]}
            log('CK N=%d failed: %r' % (nb, exc))
        finally:
            shutil.rmtree(B.home_of('ck'), ignore_errors=True)
    res['loadavg_end'] = B.loadavg()
    res['total_s'] = time.perf_counter() - t_start
    md, goals = build_report(res)
    res['goals'] = goals
    write_results('foundation', res, md)
    return 0


def write_results(name, res, md):
    """bench/results/NAME.json and NAME.md, the table on stdout (shared by every benchmark)."""
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, name + '.json'), 'w') as f:
        json.dump(res, f, indent=1, default=str)
    with open(os.path.join(RESULTS, name + '.md'), 'w') as f:
        f.write(md)
    sys.stdout.write(md)
    log('done in %.0f s -> %s' % (res.get('total_s', 0), RESULTS))


if __name__ == '__main__':
    sys.exit(main())
