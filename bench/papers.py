#!/usr/bin/env python3
"""Hub benchmark of papers and private items.

    .venv/bin/python bench/papers.py                       # 100,000 results, 10,000 reproductions
    .venv/bin/python bench/papers.py --n 20000 --repros 2000   # a quicker run

Goals (SQLite, the default database):
  * the paper page (``/papers/NAME``, HTML) and its JSON (``/api/v1/papers/NAME``) with
    10,000 reproductions of a 5-claim paper answer with p95 under 300 ms;
  * access checks add at most 10% to a read route: the scoreboard queries of bench/hub.py
    (JSON and HTML) on a scoreboard of 100,000 results, read once while it is public (by
    the public, no token) and once while it is private (by an invited reader, with a token),
    and the paper page public and private. The two are measured in pairs, back to back (the
    board's and the paper's ``private`` flag flipped between them, untimed), so that the
    shared machine's load falls on both sides of a pair alike; the overhead of a route is
    the median of its pairs' ratios.

Setup: bench/hub.py's bulk load (the hub's models, not HTTP) for the results; the paper is
a ``paper`` component with one published version and its reproductions (one row each plus
one verdict row per claim) inserted through the same models. A real uvicorn serves the hub
in a child process; this process reads over one keep-alive connection (httpx).

Writes bench/results/papers.json and bench/results/papers.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import foundation as F  # noqa: E402
import hub as H  # noqa: E402  (bulk_load, start_server, stop_server, pct, QUERIES, BOARD)

log = F.log
PAPER = 'bench-paper'
CLAIMS = ('map', 'qps', 'p90', 'front-size', 'front-time')
VERDICTS = ('reproduced', 'reproduced', 'reproduced', 'not_reproduced', 'not_comparable',
            'failed')
GOAL_MS = 300.0
GOAL_OVERHEAD = 0.10


def load_paper(db_url, root, repros, batch=5000):
    """The paper, its author and 50 reproducing users, and ``repros`` reproductions."""
    from sqlalchemy import insert, select

    from cknowledge.hub import models as M
    from cknowledge.hub.admin import add_user
    from cknowledge.hub.db import Database

    t0 = time.perf_counter()
    tokens = {'author': add_user(db_url, root, 'author'),
              'reader': add_user(db_url, root, 'reader')}
    for k in range(50):
        add_user(db_url, root, 'user%02d' % k)
    db = Database(db_url)
    meta = {'title': 'A benchmark paper', 'authors': ['Author'],
            'claims': [{'id': c, 'figure': 'Table 1', 'value': 1.0,
                        'tolerance': {'rel': 0.1}, 'metric': 'metrics.' + c,
                        'workflow': {'action': 'benchmark', 'automation': 'solution',
                                     'artifact': 's'}} for c in CLAIMS],
            'artifacts': [{'component': 'solution:mlperf-object-detection'}]}
    try:
        with db.write() as s:
            users = dict(s.execute(select(M.User.name, M.User.id)).all())
            comp = M.Component(automation='paper', name=PAPER, description=meta['title'],
                               tags=['paper'], latest='1.0')
            s.add(comp)
            s.flush()
            s.add(M.Owner(component_id=comp.id, user_id=users['author']))
            s.add(M.ComponentVersion(component_id=comp.id, version='1.0', version_key='1',
                                     sha256='0' * 64, size=1, meta=meta, deps=[],
                                     publisher_id=users['author']))
            s.add(M.Reader(component_id=comp.id, user_id=users['reader']))
            paper_id = comp.id
        now = datetime.datetime.now(datetime.timezone.utc)
        submitters = [users['user%02d' % k] for k in range(50)] + [users['author']]
        for start in range(0, repros, batch):
            rows, verdicts = [], []
            for i in range(start, min(repros, start + batch)):
                rid = i + 1
                who = submitters[i % len(submitters)]
                v = {c: VERDICTS[(i + j) % len(VERDICTS)] for j, c in enumerate(CLAIMS)}
                rows.append({'id': rid, 'paper_id': paper_id,
                             'submission_sha256': '%064x' % rid, 'submitter_id': who,
                             'submitted_at': now - datetime.timedelta(seconds=repros - i),
                             'paper_version': '1.0',
                             'platform_fingerprint': H.FINGERPRINTS[i % 8],
                             'platform_summary': 'Linux · x86_64 · Bench CPU %d' % (i % 8),
                             'complete': True,
                             'reproduced': sum(x == 'reproduced' for x in v.values()),
                             'claims': len(CLAIMS), 'verdicts': v,
                             'body': {'claims': {c: {'verdict': x} for c, x in v.items()}}})
                verdicts += [{'reproduction_id': rid, 'claim': c, 'paper_id': paper_id,
                              'submitter_id': who, 'verdict': x} for c, x in v.items()]
            with db.write() as s:
                s.execute(insert(M.Reproduction), rows)
                s.execute(insert(M.ReproductionVerdict), verdicts)
            log('  reproductions %d / %d' % (min(repros, start + batch), repros))
        with db.write() as s:
            board = s.execute(select(M.Scoreboard).where(M.Scoreboard.name == H.BOARD)
                              ).scalar_one()
            s.add(M.ScoreboardReader(scoreboard_id=board.id, user_id=users['reader']))
        with db.writer.begin() as c:
            c.exec_driver_sql('ANALYZE')
    finally:
        db.dispose()
    return time.perf_counter() - t0, tokens


class Flip:
    """Make the scoreboard and the paper private or public (one short write, not timed)."""

    def __init__(self, db_url):
        from cknowledge.hub.db import Database

        self.db = Database(db_url)

    def __call__(self, private):
        from sqlalchemy import update

        from cknowledge.hub import models as M

        with self.db.write() as s:
            s.execute(update(M.Scoreboard).where(M.Scoreboard.name == H.BOARD)
                      .values(private=private))
            s.execute(update(M.Component).where(M.Component.name == PAPER)
                      .values(private=private))

    def close(self):
        self.db.dispose()


def routes():
    out = [('paper page', 'html', '/papers/' + PAPER, {}),
           ('paper page', 'json', '/api/v1/papers/' + PAPER, {}),
           ('paper page, offset 5000', 'html', '/papers/' + PAPER, {'offset': 5000}),
           ('paper reproductions, offset 5000', 'json',
            '/api/v1/papers/%s/reproductions' % PAPER, {'offset': 5000})]
    for label, params in H.QUERIES:
        out.append((label, 'json', '/api/v1/scoreboards/%s/results' % H.BOARD, params))
        out.append((label, 'html', '/scoreboards/' + H.BOARD, params))
    return out


def measure(url, reader_token, rounds, reps):
    """Per route, ``rounds * reps`` pairs of requests: one while public (no token), one
    while private (the reader's token or cookie), back to back (the order alternating), so
    that the shared machine's load falls on both sides of a pair alike."""
    import httpx

    from cknowledge.hub.access import COOKIE

    flip = Flip(url['db'])
    rows = []
    try:
        with httpx.Client(base_url=url['url'], timeout=120) as http:
            for label, kind, path, params in routes():
                times = {'public': [], 'private': []}
                ratios = []
                for k in range(rounds * reps + 2):
                    pair = {}
                    for mode in (('public', 'private') if k % 2 else ('private', 'public')):
                        flip(mode == 'private')
                        http.cookies.clear()
                        headers = {}
                        if mode == 'private' and kind == 'json':
                            headers = {'Authorization': 'Bearer ' + reader_token}
                        if mode == 'private' and kind == 'html':
                            http.cookies.set(COOKIE, reader_token)
                        t0 = time.perf_counter()
                        r = http.get(path, params=params, headers=headers)
                        pair[mode] = (time.perf_counter() - t0) * 1000
                        if r.status_code != 200:
                            raise SystemExit('%s %s (%s) -> %d: %s' % (
                                path, params, mode, r.status_code, r.text[:300]))
                    if k >= 2:   # two warm-up pairs
                        for mode, dt in pair.items():
                            times[mode].append(dt)
                        ratios.append(pair['private'] / pair['public'])
                pub, priv = times['public'], times['private']
                row = {'route': label, 'kind': kind, 'n': len(pub),
                       'public_p50_ms': H.pct(pub, 50), 'public_p95_ms': H.pct(pub, 95),
                       'private_p50_ms': H.pct(priv, 50), 'private_p95_ms': H.pct(priv, 95),
                       'overhead': H.pct(ratios, 50) - 1}
                rows.append(row)
                log('  %-45s %-4s public p50 %6.1f  private p50 %6.1f  pair median %+5.1f%%'
                    % (label, kind, row['public_p50_ms'], row['private_p50_ms'],
                       100 * row['overhead']))
    finally:
        flip.close()
    return rows


def report(res):
    lines = ['# Hub: paper pages and private items', '',
             '%s; %s; Python %s; %d results, %d reproductions (%d claims); SQLite' % (
                 res['date'], res['machine'], res['python'], res['n'], res['repros'],
                 len(CLAIMS)), '',
             'Command: `%s`' % res['command'], '',
             '| route | kind | public p50 | public p95 | private p50 | private p95 | '
             'overhead (median of pairs) |', '|---|---|---|---|---|---|---|']
    for r in res['rows']:
        lines.append('| %s | %s | %.1f | %.1f | %.1f | %.1f | %+.1f%% |' % (
            r['route'], r['kind'], r['public_p50_ms'], r['public_p95_ms'],
            r['private_p50_ms'], r['private_p95_ms'], 100 * r['overhead']))
    paper = [r for r in res['rows'] if r['route'].startswith('paper')]
    worst_p95 = max(max(r['public_p95_ms'], r['private_p95_ms']) for r in paper)
    over = [r['overhead'] for r in res['rows']]
    med = sorted(over)[len(over) // 2]
    lines += ['', 'Paper page with %d reproductions: worst p95 %.1f ms (goal < %.0f ms): %s.' % (
        res['repros'], worst_p95, GOAL_MS, 'met' if worst_p95 < GOAL_MS else 'NOT met'),
        'Access checks, private (reader) vs public: median overhead %+.1f%%, largest '
        '%+.1f%% (goal <= %+.0f%%): %s.' % (100 * med, 100 * max(over), 100 * GOAL_OVERHEAD,
                                             'met' if max(over) <= GOAL_OVERHEAD
                                             else 'NOT met on every route'),
        'Setup: results %.0f s, reproductions %.0f s.' % (res['load_s'], res['paper_load_s']),
        '']
    return '\n'.join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--n', type=int, default=100_000, help='results in the scoreboard')
    ap.add_argument('--repros', type=int, default=10_000, help='reproductions of the paper')
    ap.add_argument('--rounds', type=int, default=4)
    ap.add_argument('--reps', type=int, default=10, help='timed requests per route and round')
    ap.add_argument('--keep', action='store_true')
    args = ap.parse_args()
    t0 = time.perf_counter()
    root = tempfile.mkdtemp(prefix='ck-bench-papers-')
    db_url = 'sqlite:///%s' % os.path.join(root, 'hub.sqlite')
    try:
        log('loading %d results ...' % args.n)
        load_s, _ = H.bulk_load(db_url, root, args.n)
        log('loading %d reproductions ...' % args.repros)
        paper_s, tokens = load_paper(db_url, root, args.repros)
        proc, url, _ = H.start_server(db_url, root)
        try:
            rows = measure({'url': url, 'db': db_url}, tokens['reader'], args.rounds,
                           args.reps)
        finally:
            H.stop_server(proc)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    res = {'date': datetime.date.today().isoformat(), 'machine': F.machine()
           if hasattr(F, 'machine') else platform.processor() or platform.machine(),
           'python': platform.python_version(), 'n': args.n, 'repros': args.repros,
           'rounds': args.rounds, 'reps': args.reps, 'load_s': load_s, 'paper_load_s': paper_s,
           'rows': rows, 'total_s': time.perf_counter() - t0,
           'command': ' '.join(['.venv/bin/python', 'bench/papers.py'] + sys.argv[1:])}
    F.write_results('papers', res, report(res))
    return 0


if __name__ == '__main__':
    sys.exit(main())
