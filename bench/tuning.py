#!/usr/bin/env python3
"""Tuning benchmark: search efficiency of TPE / NSGA-II against random, and the harness cost.

    .venv/bin/python bench/tuning.py            # 5 seeds, random 150, TPE/NSGA-II 60 (~5 min)
    .venv/bin/python bench/tuning.py --quick    # 2 seeds, random 40, TPE/NSGA-II 20 (smoke run)

The issue's goals:

1. On the gcc flags problem, TPE or NSGA-II reach 95% of the best hypervolume found by a
   long random run in at most a third of the evaluations random needs (median over seeds).
2. The harness adds under 5 ms per trial on top of the measured command.

Problem: the program's own ``space.yaml`` (gcc -O level + 10 flag choices, 17,280
configurations for the cbench kernels), objectives ``time:min,size:min``, ``--repetitions``
(3) timed runs after 1 warm-up per evaluation, dataset ``cbench-n-medium``, in a fresh
temporary ``CK_HOME``. Default program: ``cbench-matmul``, the cbench kernel where the flags
matter most (time spans ~7x between -O0 and -O3, size ~30%; qsort ~1.5x, crc32 ~1.2x); the
-O level probe at the start of every run shows it.

Search efficiency (goal 1). The real evaluator (:class:`ProgramEvaluator`) is wrapped in a
memo keyed by the configuration, shared by every run and strategy: a configuration met
again returns its first measurement. Repeats are free, and all strategies see the same
(noisy) landscape, so the comparison is about search, not about measurement luck. For each
seed: a long random run, a TPE run and an NSGA-II run (``run_tuning`` with ``kernel=None``).
After all runs one reference point is fixed for every curve: ``pareto.reference_point`` of
the union of all evaluated points (for positive objectives: the worst value x 1.1). Each
run's hypervolume curve is recomputed after every trial with ``pareto.hypervolume`` over the
mean values of the trials so far. Target(seed) = 0.95 x the best hypervolume of that seed's
random run; evals(strategy, seed) = the first trial count whose hypervolume reaches it (inf
if never). PASS when median(evals_tpe) or median(evals_nsga2) <= median(evals_random) / 3.

Noise: the CV of the timed repetitions of every evaluated configuration, and a
re-measurement of a few configurations (compile cached) to show how far a fresh mean lands
from the memo's first one.

Harness (goal 2): ``run_tuning``'s ``timing.harness_ms_per_trial`` (trial wall time minus
the time inside ``evaluate``) on recorded runs (a kernel: a real experiment entry, its
``trials.jsonl`` appended and fsync'ed per trial), (a) with an instant evaluator, per
strategy: the pure harness; (b) with the real evaluator (no memo), per strategy, checked
against this file's own clock around the evaluator. PASS when every figure is under 5 ms.

Writes bench/results/tuning.json (raw numbers, every trial) and bench/results/tuning.md
(the table, also printed on stdout); progress goes to stderr.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, 'results')
STRATEGIES = ('random', 'tpe', 'nsga2')
OBJECTIVES = 'time:min,size:min'
CHECKPOINTS = (10, 20, 40, 60, 80, 120, 150)
FRACTIONS = (0.90, 0.95, 0.99)
GOAL_FRACTION = 0.95
HARNESS_LIMIT_MS = 5.0
OPT_LEVELS = ('-O0', '-O1', '-O2', '-O3', '-Os')


def log(msg):
    sys.stderr.write('[%s] %s\n' % (datetime.datetime.now().strftime('%H:%M:%S'), msg))
    sys.stderr.flush()


def _median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def _cv(xs):
    if len(xs) < 2:
        return None
    m = statistics.fmean(xs)
    return statistics.stdev(xs) / m if m else None


def _q(xs, q):
    xs = sorted(xs)
    if not xs:
        return None
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


# ====================================================================== evaluators
class Memo:
    """The real evaluator behind a memo keyed by the configuration (first measurement wins;
    a failure is remembered and raised again)."""

    def __init__(self, evaluate, config_key):
        self.evaluate, self.key = evaluate, config_key
        self.store = {}          # key -> (output or None, exception or None, seconds)
        self.order = []          # keys in first-evaluation order
        self.hits = self.misses = 0
        self.real_s = 0.0

    def __call__(self, config):
        key = self.key(config)
        got = self.store.get(key)
        if got is None:
            self.misses += 1
            t = time.perf_counter()
            try:
                out, exc = self.evaluate(config), None
            except Exception as e:  # noqa: BLE001 - recorded like the runner does
                out, exc = None, e
            dt = time.perf_counter() - t
            self.real_s += dt
            got = self.store[key] = (out, exc, dt, dict(config))
            self.order.append(key)
        else:
            self.hits += 1
        if got[1] is not None:
            raise got[1]
        return got[0]

    def points(self):
        """key -> [mean time, size] of every successful evaluation."""
        out = {}
        for key, (res, exc, _dt, _cfg) in self.store.items():
            if exc is None and res is not None:
                s = res['samples']
                out[key] = [statistics.fmean(s['time']), statistics.fmean(s['size'])]
        return out


class Clocked:
    """The evaluator with this file's own clock around it (to check the runner's)."""

    def __init__(self, evaluate):
        self.evaluate = evaluate
        self.inside_s = 0.0
        self.calls = 0
        self.samples_s = 0.0     # sum of the timed repetitions' own seconds

    def __call__(self, config):
        t = time.perf_counter()
        try:
            out = self.evaluate(config)
        finally:
            self.inside_s += time.perf_counter() - t
            self.calls += 1
        try:
            self.samples_s += sum(out['samples']['time'])
        except (KeyError, TypeError):
            pass
        return out


def instant_evaluator(memo, config_key):
    """An instant evaluator: the memo's measurement where it has one, else a made-up one
    (deterministic in the configuration) of the same shape."""
    import zlib

    def evaluate(config):
        key = config_key(config)
        got = memo.store.get(key)
        if got is not None and got[1] is None:
            return got[0]
        h = zlib.crc32(key.encode())
        t = 0.002 + (h % 1000) * 1e-5
        return {'samples': {'time': [t, t * 1.01, t * 0.99], 'size': [3000.0 + h % 1000]}}
    return evaluate


# ====================================================================== hypervolume curves
def curve(points_in_order, ref):
    """Hypervolume after each trial (None values: failed trials, add nothing)."""
    from cknowledge.tuning.pareto import hypervolume

    pts, out = [], []
    for p in points_in_order:
        if p is not None:
            pts.append(p)
        out.append(hypervolume(pts, ref) if pts else 0.0)
    return out


def first_reaching(hv_curve, target):
    for i, v in enumerate(hv_curve):
        if v >= target * (1 - 1e-12):
            return i + 1
    return math.inf


# ====================================================================== main pieces
def probe(memo, space):
    """The -O levels alone (memoised too: the search reuses them)."""
    rows = []
    for level in OPT_LEVELS:
        config = space.complete({})
        config['opt'] = level
        try:
            out = memo(config)
        except Exception as e:  # noqa: BLE001
            rows.append({'opt': level, 'error': str(e)})
            continue
        ts = out['samples']['time']
        rows.append({'opt': level, 'time_mean_s': statistics.fmean(ts), 'time_cv': _cv(ts),
                     'size': out['samples']['size'][0]})
    return rows


def search(memo, space, seeds, random_budget, budget, strategy_options):
    from cknowledge.experiments.measure import METRICS
    from cknowledge.tuning.runner import run_tuning
    from cknowledge.tuning.space import config_key

    runs = []
    for seed in seeds:
        for strategy in STRATEGIES:
            n = random_budget if strategy == 'random' else budget
            order = []
            t = time.perf_counter()
            misses0, real0 = memo.misses, memo.real_s
            res = run_tuning(None, memo, space=space, objectives=OBJECTIVES, metrics=METRICS,
                             strategy=strategy, budget=n, seed=seed, plots=False,
                             strategy_options=strategy_options.get(strategy),
                             on_trial=lambda r, order=order: order.append(
                                 (config_key(r['config']), r['values'])))
            wall = time.perf_counter() - t
            runs.append({'seed': seed, 'strategy': strategy, 'budget': n,
                         'trials': order, 'count': res['trials'], 'hypervolume_own_ref':
                         res['hypervolume'], 'front_size': len(res['front']),
                         'new_measurements': memo.misses - misses0,
                         'measure_s': memo.real_s - real0, 'wall_s': wall,
                         'timing': res['timing']})
            log('seed %d %-6s %3d trials, %3d new measurements, %.1f s (harness %.2f ms/trial)'
                % (seed, strategy, len(order), memo.misses - misses0, wall,
                   res['timing']['harness_ms_per_trial'] or 0))
    return runs


def analyse(runs, memo, seeds):
    """The goal's analysis (reference: all points), and the same with a tight reference
    (the nadir of the union's Pareto front x 1.1: only the front region counts; info)."""
    from cknowledge.tuning.pareto import pareto_front, reference_point

    union = list(memo.points().values())
    out = analyse_ref(runs, seeds, union, reference_point(union), 'hv_curve')
    front = [union[i] for i in pareto_front(union)]
    out['tight'] = analyse_ref(runs, seeds, union, reference_point(front), 'hv_curve_tight')
    out['tight']['front'] = sorted(front)
    return out


def analyse_ref(runs, seeds, union, ref, curve_key):
    from cknowledge.tuning.pareto import hypervolume

    hv_all = hypervolume(union, ref)
    per = {}
    for run in runs:
        hv = curve([v for _k, v in run['trials']], ref)
        run[curve_key] = hv
        per[(run['seed'], run['strategy'])] = run
    evals = {s: {} for s in STRATEGIES}
    targets = {}
    by_fraction = {f: {s: [] for s in STRATEGIES} for f in FRACTIONS}
    for seed in seeds:
        best_random = max(per[(seed, 'random')][curve_key])
        targets[seed] = GOAL_FRACTION * best_random
        for s in STRATEGIES:
            evals[s][seed] = first_reaching(per[(seed, s)][curve_key], targets[seed])
            for f in FRACTIONS:
                by_fraction[f][s].append(first_reaching(per[(seed, s)][curve_key], f * best_random))
    med = {s: statistics.median(list(evals[s].values())) for s in STRATEGIES}
    limit = med['random'] / 3
    goal = {s: med[s] <= limit for s in ('tpe', 'nsga2')}
    checkpoints = {}
    for s in STRATEGIES:
        row = {}
        for c in CHECKPOINTS:
            vals = [per[(seed, s)][curve_key][c - 1] / hv_all for seed in seeds
                    if len(per[(seed, s)][curve_key]) >= c]
            row[c] = statistics.median(vals) if len(vals) == len(seeds) else None
        row['final'] = statistics.median(per[(seed, s)][curve_key][-1] / hv_all for seed in seeds)
        checkpoints[s] = row
    return {'reference': ref, 'hv_union': hv_all, 'points': len(union),
            'targets': {str(k): v for k, v in targets.items()},
            'best_random_over_union': {str(seed): max(per[(seed, 'random')][curve_key]) / hv_all
                                       for seed in seeds},
            'evals': {s: {str(k): v for k, v in evals[s].items()} for s in STRATEGIES},
            'median_evals': med, 'limit': limit, 'pass': goal,
            'evals_by_fraction': {str(f): {s: {'per_seed': v, 'median': statistics.median(v)}
                                           for s, v in d.items()}
                                  for f, d in by_fraction.items()},
            'hv_fraction_of_union': {s: {str(k): v for k, v in r.items()}
                                     for s, r in checkpoints.items()}}


def noise(memo, evaluator, space, remeasure):
    """CV of the timed repetitions of all evaluations; a fresh re-measurement of a few
    configurations (the union front, then -O levels) against the memo's first mean."""
    from cknowledge.tuning.pareto import pareto_front

    cvs, halfs = [], []
    from cknowledge.experiments.stats import summarize
    for res, exc, _dt, _cfg in memo.store.values():
        if exc is None and res is not None and len(res['samples']['time']) >= 2:
            st = summarize(res['samples']['time'])
            cvs.append(st['cv'])
            halfs.append(st['ci95_half'] / st['mean'])
    pts = memo.points()
    keys = list(pts)
    front = [keys[i] for i in pareto_front([pts[k] for k in keys])]
    front.sort(key=lambda k: pts[k][0])
    pick = front[:: max(1, len(front) // 3)][:3]
    for k in memo.order:
        cfg = memo.store[k][3]
        if cfg.get('opt') in ('-O0', '-O2') and k not in pick and \
                all(cfg[n] == c.grid()[0] for n, c in space.choices.items() if n != 'opt'):
            pick.append(k)
    rows = []
    for k in pick[:remeasure]:
        cfg = memo.store[k][3]
        first = pts[k][0]
        means, walls, timed = [], [], []
        for _ in range(3):
            try:
                t = time.perf_counter()
                ts = evaluator(cfg)['samples']['time']
                walls.append(time.perf_counter() - t)
                timed.append(sum(ts))
                means.append(statistics.fmean(ts))
            except Exception:  # noqa: BLE001
                pass
        rows.append({'config': space.program_args(cfg), 'first_mean_s': first,
                     'again_means_s': means, 'cv_of_means': _cv([first] + means),
                     'cached_evaluate_s': walls, 'cached_timed_runs_s': timed,
                     'max_rel_dev': max(abs(m - first) / first for m in means) if means else None})
    scale = (evaluator.repetitions + evaluator.warmup) / evaluator.repetitions  # + the warm-up
    over = [w - t * scale for r in rows
            for w, t in zip(r['cached_evaluate_s'], r['cached_timed_runs_s'])]
    return {'n': len(cvs), 'cv_median': _median(cvs), 'cv_p90': _q(cvs, 0.9),
            'cached_evaluation_overhead_ms_median': 1000 * _median(over) if over else None,
            'cv_max': max(cvs) if cvs else None,
            'share_cv_over_5pct': sum(1 for c in cvs if c > 0.05) / len(cvs) if cvs else None,
            'ci95_rel_median': _median(halfs), 'ci95_rel_p90': _q(halfs, 0.9),
            'remeasured': rows,
            'size_note': 'size is one value per build (no noise)'}


def harness(kernel, memo, evaluator, space, program, budget, real_budget, seed):
    from cknowledge.experiments.measure import METRICS
    from cknowledge.tuning.runner import run_tuning
    from cknowledge.tuning.space import config_key

    out = {'instant': {}, 'real': {}}
    fast = instant_evaluator(memo, config_key)
    for strategy in STRATEGIES:
        clocked = Clocked(fast)
        t = time.perf_counter()
        res = run_tuning(kernel, clocked, space=space, objectives=OBJECTIVES, metrics=METRICS,
                         strategy=strategy, budget=budget, seed=seed, plots=False,
                         name='bench-harness-instant-%s' % strategy, program=program)
        call = time.perf_counter() - t
        n = res['trials']['new']
        lines = sum(1 for _ in open(res['experiment']['trials']))
        tm = res['timing']
        out['instant'][strategy] = {
            'trials': n, 'jsonl_lines': lines, 'harness_ms_per_trial': tm['harness_ms_per_trial'],
            'own_ms_per_trial': 1000 * (tm['wall_s'] - clocked.inside_s) / n,
            'call_fixed_ms': 1000 * (call - tm['wall_s']),
            'wall_s': tm['wall_s'], 'evaluate_s': tm['evaluate_s']}
        log('harness, instant evaluator, %-6s %.3f ms/trial (runner), %.3f ms/trial (own clock)'
            % (strategy, tm['harness_ms_per_trial'], out['instant'][strategy]['own_ms_per_trial']))
    for strategy in STRATEGIES:
        clocked = Clocked(evaluator)
        t = time.perf_counter()
        res = run_tuning(kernel, clocked, space=space, objectives=OBJECTIVES, metrics=METRICS,
                         strategy=strategy, budget=real_budget, seed=seed + 1, plots=True,
                         name='bench-harness-real-%s' % strategy, program=program)
        call = time.perf_counter() - t
        n = res['trials']['new']
        tm = res['timing']
        out['real'][strategy] = {
            'trials': n, 'ok': res['trials']['ok'],
            'jsonl_lines': sum(1 for _ in open(res['experiment']['trials'])),
            'harness_ms_per_trial': tm['harness_ms_per_trial'],
            'own_ms_per_trial': 1000 * (tm['wall_s'] - clocked.inside_s) / n,
            'evaluate_ms_per_trial': 1000 * tm['evaluate_s'] / n,
            'timed_runs_ms_per_trial': 1000 * clocked.samples_s / n,
            'call_fixed_ms_with_plots': 1000 * (call - tm['wall_s']),
            'wall_s': tm['wall_s'], 'evaluate_s': tm['evaluate_s'],
            'png': bool(res.get('png')), 'html': bool(res.get('html'))}
        log('harness, real evaluator,    %-6s %.3f ms/trial (runner), %.3f ms/trial (own clock), '
            'evaluate %.0f ms/trial' % (strategy, tm['harness_ms_per_trial'],
                                        out['real'][strategy]['own_ms_per_trial'],
                                        out['real'][strategy]['evaluate_ms_per_trial']))
    figures = [r[k] for part in out.values() for r in part.values()
               for k in ('harness_ms_per_trial', 'own_ms_per_trial')]
    out['max_ms'] = max(figures)
    out['pass'] = out['max_ms'] < HARNESS_LIMIT_MS
    return out


def machine():
    info = {'nproc': os.cpu_count(), 'python': platform.python_version(),
            'platform': platform.platform()}
    try:
        with open('/proc/cpuinfo') as f:
            info['cpu'] = sorted({ln.split(':', 1)[1].strip() for ln in f
                                  if ln.startswith('model name')})
    except OSError:
        pass
    try:
        info['loadavg_start'] = open('/proc/loadavg').read().split()[:3]
    except OSError:
        pass
    try:
        info['gcc'] = subprocess.run(['gcc', '--version'], capture_output=True,
                                     text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        pass
    try:
        import optuna
        info['optuna'] = optuna.__version__
    except ImportError:
        pass
    try:
        info['git'] = subprocess.run(['git', '-C', PROJECT, 'rev-parse', 'HEAD'],
                                     capture_output=True, text=True).stdout.strip()
        info['dirty_files'] = subprocess.run(['git', '-C', PROJECT, 'status', '--short'],
                                             capture_output=True, text=True).stdout.splitlines()
    except OSError:
        pass
    return info


# ====================================================================== report
def _plain(o):
    """JSON-safe copy: inf (never reached) becomes the string "inf"."""
    if isinstance(o, float) and not math.isfinite(o):
        return str(o)
    if isinstance(o, dict):
        return {str(k): _plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_plain(v) for v in o]
    return o


def fmt_evals(x):
    return '∞' if x == math.inf else ('%g' % x)


def fmt_ms(x):
    return 'n/a' if x is None else ('%.2f ms' % x)


def report(res):
    a, cfg, h, nz = res['analysis'], res['config'], res['harness'], res['noise']
    L = ['# Tuning benchmark: TPE / NSGA-II vs random on gcc flags, and the harness cost', '']
    m = res['machine']
    L.append('Run %s on %s cores (%s), %s, optuna %s; cknowledge git %s%s. Total wall time %.0f s.'
             % (res['date_utc'], m.get('nproc'), ', '.join(m.get('cpu', [])), m.get('gcc', 'gcc ?'),
                m.get('optuna', '?'), (m.get('git') or '?')[:12],
                ' + uncommitted changes' if m.get('dirty_files') else '', res['total_s']))
    L.append('')
    L.append('Problem: `program:%s`, dataset `%s`, its space.yaml (%d configurations), objectives `%s`, '
             '%d timed repetitions + 1 warm-up per evaluation. Seeds %s; random budget %d, TPE/NSGA-II '
             'budget %d each. %d distinct configurations measured (%.0f s of measuring, %d memo hits).'
             % (cfg['program'], cfg['dataset'], cfg['space_size'], OBJECTIVES, cfg['repetitions'],
                cfg['seeds'], cfg['random_budget'], cfg['budget'], res['memo']['misses'],
                res['memo']['real_s'], res['memo']['hits']))
    L.append('')
    L.append('-O levels alone: ' + '; '.join(
        '%s %.2f ms (CV %.0f%%) %d B' % (r['opt'], 1000 * r['time_mean_s'], 100 * (r['time_cv'] or 0),
                                          r['size']) if 'error' not in r else '%s failed' % r['opt']
        for r in res['probe']) + '.')
    L.append('')
    L.append('Reference point (union of all points, worst × 1.1): time %.3f ms, size %.0f B; '
             'hypervolume of the union %.4g (fractions below are of it).'
             % (1000 * a['reference'][0], a['reference'][1], a['hv_union']))
    L.append('Tight reference (info): nadir of the union\'s Pareto front (%d points) × 1.1: time %.3f ms, '
             'size %.0f B.' % (len(a['tight']['front']), 1000 * a['tight']['reference'][0],
                               a['tight']['reference'][1]))
    L.append('')
    hdr = ['metric', 'random', 'TPE', 'NSGA-II', 'goal', 'result']
    rows = []
    ev = a['evals']
    seeds = [str(s) for s in cfg['seeds']]
    rows.append(['trials to reach 95%% of random\'s best HV, per seed (%s)' % ', '.join(seeds)]
                + [' '.join(fmt_evals(ev[s][k]) for k in seeds) for s in STRATEGIES] + ['', ''])
    med = a['median_evals']
    ok_any = a['pass']['tpe'] or a['pass']['nsga2']
    rows.append(['**goal**: median trials to 95%'] + [fmt_evals(med[s]) for s in STRATEGIES]
                + ['≤ median(random)/3 = %.3g' % a['limit'],
                   '**%s** (TPE %s, NSGA-II %s)' % ('PASS' if ok_any else 'FAIL',
                                                    'pass' if a['pass']['tpe'] else 'fail',
                                                    'pass' if a['pass']['nsga2'] else 'fail')])
    for f in FRACTIONS:
        if f == GOAL_FRACTION:
            continue
        d = a['evals_by_fraction'][str(f)]
        rows.append(['median trials to %d%% of random\'s best HV (info)' % round(100 * f)]
                    + ['%s (%s)' % (fmt_evals(d[s]['median']), ' '.join(fmt_evals(x) for x in d[s]['per_seed']))
                       for s in STRATEGIES] + ['', ''])
    for c in list(CHECKPOINTS) + ['final']:
        vals = [a['hv_fraction_of_union'][s][str(c)] for s in STRATEGIES]
        if all(v is None for v in vals):
            continue
        rows.append(['HV / HV(union) after %s trials (median over seeds)' % c]
                    + ['n/a' if v is None else '%.4f' % v for v in vals] + ['', ''])
    rows.append(['best random HV / HV(union), per seed', ' '.join(
        '%.4f' % a['best_random_over_union'][k] for k in seeds), '', '', '', ''])
    t = a['tight']
    rows.append(['info, tight reference (front nadir × 1.1): trials to 95% of random\'s best HV, '
                 'per seed; median'] + ['%s; **%s**' % (' '.join(fmt_evals(t['evals'][s][k]) for k in seeds),
                                                       fmt_evals(t['median_evals'][s])) for s in STRATEGIES]
                + ['≤ %.3g' % t['limit'], 'TPE %s, NSGA-II %s (info)' % (
                    'pass' if t['pass']['tpe'] else 'fail', 'pass' if t['pass']['nsga2'] else 'fail')])
    d = t['evals_by_fraction']['0.99']
    rows.append(['info, tight reference: median trials to 99% of random\'s best HV (per seed)']
                + ['%s (%s)' % (fmt_evals(d[s]['median']), ' '.join(fmt_evals(x) for x in d[s]['per_seed']))
                   for s in STRATEGIES] + ['', ''])
    for c in (10, 20, 40, 60, 'final'):
        vals = [t['hv_fraction_of_union'][s][str(c)] for s in STRATEGIES]
        if all(v is None for v in vals):
            continue
        rows.append(['info, tight reference: HV / HV(union) after %s trials (median)' % c]
                    + ['n/a' if v is None else '%.4f' % v for v in vals] + ['', ''])
    search_harness = {s: _median([r['timing']['harness_ms_per_trial'] for r in res['runs']
                                  if r['strategy'] == s]) for s in STRATEGIES}
    rows.append(['search runs (no recording, memo): harness ms/trial, median of runs']
                + [fmt_ms(search_harness[s]) for s in STRATEGIES] + ['', ''])
    for kind, label in (('instant', 'instant evaluator'), ('real', 'real evaluator')):
        rows.append(['harness ms/trial, recorded run, %s (%d trials): runner / own clock'
                     % (label, h[kind]['random']['trials'])]
                    + ['%s / %s' % (fmt_ms(h[kind][s]['harness_ms_per_trial']),
                                    fmt_ms(h[kind][s]['own_ms_per_trial'])) for s in STRATEGIES]
                    + ['< %g ms' % HARNESS_LIMIT_MS, ''])
    rows[-1][-1] = '**%s** (max %.2f ms)' % ('PASS' if h['pass'] else 'FAIL', h['max_ms'])
    rows.append(['real evaluator: evaluate ms/trial (build + warm-up + %d runs) / timed runs ms/trial'
                 % cfg['repetitions']]
                + ['%.0f / %.1f' % (h['real'][s]['evaluate_ms_per_trial'], h['real'][s]['timed_runs_ms_per_trial'])
                   for s in STRATEGIES] + ['', ''])
    rows.append(['fixed cost per recorded run (open entry, summary; real: + png/html plots)']
                + ['%.0f ms / %.0f ms' % (h['instant'][s]['call_fixed_ms'], h['real'][s]['call_fixed_ms_with_plots'])
                   for s in STRATEGIES] + ['', ''])
    L.append('| ' + ' | '.join(hdr) + ' |')
    L.append('|' + '---|' * len(hdr))
    for r in rows:
        L.append('| ' + ' | '.join(str(x).replace('|', '\\|') for x in r) + ' |')
    L.append('')
    L.append('Noise (time; size has none): CV of the %d repetitions per evaluation over %d evaluations: '
             'median %.1f%%, p90 %.1f%%, max %.1f%%; %.0f%% of evaluations above 5%%. 95%% CI half-width / mean: '
             'median %.1f%%, p90 %.1f%%.' % (cfg['repetitions'], nz['n'], 100 * nz['cv_median'],
                                             100 * nz['cv_p90'], 100 * nz['cv_max'],
                                             100 * nz['share_cv_over_5pct'], 100 * nz['ci95_rel_median'],
                                             100 * nz['ci95_rel_p90']))
    if nz['remeasured']:
        L.append('Re-measured (3 fresh evaluations each, compile cached) vs the memo\'s first mean: ' + '; '.join(
            '`%s %s` first %.3f ms, again %s (max dev %.0f%%)' % (
                r['config'][0] or '', r['config'][1], 1000 * r['first_mean_s'],
                '/'.join('%.3f' % (1000 * x) for x in r['again_means_s']), 100 * (r['max_rel_dev'] or 0))
            for r in nz['remeasured']) + '.')
    if nz.get('cached_evaluation_overhead_ms_median') is not None:
        L.append('')
        L.append('A compile-cached evaluation (`measure_program`: %d timed runs + 1 warm-up) takes %.1f ms '
                 'more than its runs themselves (median; the warm-up estimated as one more run): the cost of '
                 '`ck run program` around the command, outside the tuning harness.'
                 % (cfg['repetitions'], nz['cached_evaluation_overhead_ms_median']))
    L.append('')
    L.append('Notes:')
    L.append('- Evaluations are memoised by configuration and shared by all runs: a strategy\'s trial count is '
             'what it would have measured; repeats cost nothing here, so wall times above are not search costs.')
    L.append('- evals = first trial count at which the run\'s hypervolume (means, common reference) reaches '
             '0.95 × the best hypervolume of the same seed\'s random run; ∞ = never within the budget. '
             'The median over seeds counts ∞ as larger than any number.')
    L.append('- Harness = trial wall time minus time inside `evaluate` (ask, tell, statistics, JSON line + '
             'fsync). "own clock": `(timing.wall_s − time measured around the evaluator) / trials`. The '
             'instant evaluator replays memoised measurements (made-up values where none), so the strategies '
             'search a realistic landscape.')
    return '\n'.join(L) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seeds', type=int, default=None, help='number of seeds (default 5; --quick 2)')
    ap.add_argument('--random-budget', type=int, default=None, help='long random run (default 150; --quick 40)')
    ap.add_argument('--budget', type=int, default=None, help='TPE / NSGA-II budget (default 60; --quick 20)')
    ap.add_argument('--harness-budget', type=int, default=None,
                    help='trials of each recorded harness run, instant evaluator (default --budget)')
    ap.add_argument('--real-budget', type=int, default=None,
                    help='trials of each recorded harness run, real evaluator (default 20; --quick 6)')
    ap.add_argument('--program', default='cbench-matmul')
    ap.add_argument('--dataset', default='cbench-n-medium')
    ap.add_argument('--repetitions', type=int, default=3)
    ap.add_argument('--quick', action='store_true', help='fewer seeds and trials (smoke run)')
    ap.add_argument('--keep-home', action='store_true', help='keep the temporary CK_HOME')
    args = ap.parse_args()
    seeds_n = args.seeds or (2 if args.quick else 5)
    random_budget = args.random_budget or (40 if args.quick else 150)
    budget = args.budget or (20 if args.quick else 60)
    harness_budget = args.harness_budget or budget
    real_budget = args.real_budget or (6 if args.quick else 20)
    seeds = list(range(seeds_n))

    t_start = time.perf_counter()
    os.makedirs(RESULTS, exist_ok=True)
    home = tempfile.mkdtemp(prefix='ck-bench-tuning-')
    os.environ['CK_HOME'] = home
    sys.path.insert(0, os.path.join(PROJECT, 'src'))
    try:
        from cknowledge.api import kernel_for
        from cknowledge.store.cid import parse_artifact
        from cknowledge.tuning.program import ProgramEvaluator, program_space
        from cknowledge.tuning.space import config_key

        kernel = kernel_for(home)
        entry = kernel.store.load('program', parse_artifact(args.program))
        space = program_space(kernel, entry, None)
        evaluator = ProgramEvaluator(home, entry['name'], space, args.dataset, args.repetitions,
                                     kernel=kernel)
        memo = Memo(evaluator, config_key)
        res = {'date_utc': datetime.datetime.now(datetime.timezone.utc).isoformat(),
               'machine': machine(),
               'config': {'program': entry['name'], 'dataset': args.dataset,
                          'repetitions': args.repetitions, 'warmup': 1, 'seeds': seeds,
                          'random_budget': random_budget, 'budget': budget,
                          'harness_budget': harness_budget, 'real_budget': real_budget,
                          'space_size': int(space.size()), 'space': space.describe(),
                          'objectives': OBJECTIVES, 'argv': sys.argv[1:], 'quick': args.quick}}
        log('probe: -O levels of program:%s on %s' % (entry['name'], args.dataset))
        res['probe'] = probe(memo, space)
        for r in res['probe']:
            log('  %s' % r)
        log('search: %d seeds x (random %d, tpe %d, nsga2 %d)' % (seeds_n, random_budget, budget, budget))
        runs = search(memo, space, seeds, random_budget, budget, {})
        res['analysis'] = analyse(runs, memo, seeds)
        res['runs'] = runs
        res['memo'] = {'hits': memo.hits, 'misses': memo.misses, 'real_s': memo.real_s,
                       'points': {k: v for k, v in memo.points().items()}}
        log('noise: re-measuring a few configurations')
        res['noise'] = noise(memo, evaluator, space, 5)
        log('harness: recorded runs (instant evaluator %d trials, real evaluator %d trials)'
            % (harness_budget, real_budget))
        res['harness'] = harness(kernel, memo, evaluator, space, 'program:' + entry['name'],
                                 harness_budget, real_budget, 1000)
        try:
            res['loadavg_end'] = open('/proc/loadavg').read().split()[:3]
        except OSError:
            pass
        res['total_s'] = time.perf_counter() - t_start
        md = report(res)
        res['goals'] = {
            'search': {'pass': res['analysis']['pass']['tpe'] or res['analysis']['pass']['nsga2'],
                       'median_evals': res['analysis']['median_evals'],
                       'limit': res['analysis']['limit']},
            'harness': {'pass': res['harness']['pass'], 'max_ms': res['harness']['max_ms']}}
        with open(os.path.join(RESULTS, 'tuning.json'), 'w') as f:
            json.dump(_plain(res), f, indent=1, default=str)
        with open(os.path.join(RESULTS, 'tuning.md'), 'w') as f:
            f.write(md)
        sys.stdout.write(md)
        log('done in %.0f s -> %s' % (res['total_s'], RESULTS))
    finally:
        try:
            from cknowledge.api import reset
            reset()
        except Exception:  # noqa: BLE001
            pass
        if args.keep_home:
            log('CK_HOME kept: %s' % home)
        else:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
