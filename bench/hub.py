#!/usr/bin/env python3
"""Hub benchmark: scoreboard reads with 100,000 results, and submissions over HTTP.

    .venv/bin/python bench/hub.py                 # 100,000 results, 50 clients (~2-4 min)
    .venv/bin/python bench/hub.py --n 10000       # a smaller scoreboard
    .venv/bin/python bench/hub.py --db postgresql+psycopg://u:pw@127.0.0.1:5432/db

Goals (SQLite, the default database):
  * with 100,000 results in one scoreboard, the p95 latency of the scoreboard's JSON API
    (``/api/v1/scoreboards/NAME/results``: sorted, filtered, first page) and of its HTML page
    (``/scoreboards/NAME`` with the same parameters) is under 300 ms, for every query below;
  * submissions over HTTP with 50 concurrent clients: at least 200 stored results per second.

Setup: a fresh hub root in a temp dir; the 100,000 results are bulk-loaded through the
hub's own models (``cknowledge.hub.models``) and its digest of a submission
(``Submission.digest``), not through HTTP, to keep the setup fast. Then a real uvicorn
serves ``cknowledge.hub.create_app`` in a child process on a free loopback port, and this
process is the client: reads (httpx) are sequential on one keep-alive connection, after a
warm-up; submissions come from 50 asyncio clients, each with its own keep-alive HTTP/1.1
connection, every submission distinct and serialized before the clock starts (a wrk-style
load generator on plain asyncio streams: the client shares the 2 cores with the server),
and the stored count is checked afterwards (no result lost).

Writes bench/results/hub.json and bench/results/hub.md (the table, also on stdout) with
``write_results`` of bench/foundation.py; progress goes to stderr.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import random
import shutil
import socket
import zlib
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ next to the benchmarks
import foundation as F  # noqa: E402  (helpers: write_results, log, src_digest, PROJECT)

PROJECT = F.PROJECT
SRC = os.path.join(PROJECT, 'src')
sys.path.insert(0, SRC)
log = F.log

BOARD = 'mlperf-object-detection'
GOAL_MS = 300.0
GOAL_RATE = 200.0
BACKENDS = ('onnxruntime', 'pytorch', 'tvm', 'tensorrt', 'openvino')
FINGERPRINTS = tuple('%016x' % (0x5EED0000C0FFEE00 + k * 104729) for k in range(8))
VERSIONS = tuple('1.%d.0' % k for k in range(5))
SCENARIOS = ('Offline', 'Server', 'SingleStream')


def make_submission(i, tag='bulk', reference=False):
    """Result ``i``: distinct per (tag, i); metrics spread so that sorting matters."""
    rnd = random.Random(i * 7919 + zlib.crc32(tag.encode()))
    return {
        'solution': {'name': 'mlperf-object-detection', 'version': VERSIONS[i % len(VERSIONS)]},
        'components': [{'component': 'model:retinanet', 'version': '1.0'},
                       {'component': 'dataset:openimages', 'version': '2.1'}],
        'config': {'scenario': SCENARIOS[i % len(SCENARIOS)],
                   'backend': BACKENDS[(i // 3) % len(BACKENDS)], 'count': 64 + i % 50,
                   'run': '%s-%d' % (tag, i)},
        'metrics': {'qps': round(rnd.uniform(10, 5000), 3),
                    'latency_p90_ms': round(rnd.uniform(1, 500), 3),
                    'map': round(rnd.uniform(0.2, 0.45), 4)},
        'statistics': {'qps': {'mean': 1.0, 'ci95': 0.01, 'cv': 0.01, 'n': 5}},
        'platform': {'fingerprint': FINGERPRINTS[i % len(FINGERPRINTS)],
                     'facts': {'os': 'Linux', 'arch': 'x86_64',
                               'cpu': 'Bench CPU %d' % (i % len(FINGERPRINTS)), 'cores': 16}},
        'experiment': {'uid': '%016x' % (i + 1), 'recorded_at': '2026-01-01T00:00:00Z'},
        'reference': reference,
    }


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ bulk load (models)
def bulk_load(db_url, root, n, batch=5000):
    """``n`` results into the built-in scoreboard through the hub's models; returns
    (seconds, user token)."""
    from sqlalchemy import func, insert, select

    from cknowledge.hub import models as M
    from cknowledge.hub.admin import add_user
    from cknowledge.hub.db import Database
    from cknowledge.hub.schemas import Submission
    from cknowledge.hub.service import _platform_summary

    t0 = time.perf_counter()
    token = add_user(db_url, root, 'bench', admin=True)   # also runs the migrations
    db = Database(db_url)
    try:
        with db.write() as s:
            board = s.execute(select(M.Scoreboard).where(M.Scoreboard.name == BOARD)).scalar_one()
            user_id = s.execute(select(M.User.id).where(M.User.name == 'bench')).scalar_one()
            board_id = board.id
            metric_names = [m['name'] for m in board.metrics]
            first = (s.execute(select(func.max(M.Result.id))).scalar() or 0) + 1
        now = datetime.datetime.now(datetime.timezone.utc)
        for start in range(0, n, batch):
            rows, values = [], []
            for i in range(start, min(n, start + batch)):
                body = make_submission(i)
                sub = Submission.model_validate(body)
                rid = first + i
                rows.append({
                    'id': rid, 'scoreboard_id': board_id,
                    'submission_sha256': sub.digest(BOARD), 'submitter_id': user_id,
                    'submitted_at': now - datetime.timedelta(seconds=n - i),
                    'solution_name': body['solution']['name'],
                    'solution_version': body['solution']['version'],
                    'platform_fingerprint': body['platform']['fingerprint'],
                    'platform_summary': _platform_summary(sub.platform.facts),
                    'backend': body['config']['backend'],
                    'scenario': body['config']['scenario'], 'reference': False,
                    'config': dict(sub.config), 'metrics': dict(sub.metrics),
                    'body': sub.model_dump(mode='json', exclude_none=True)})
                values += [{'result_id': rid, 'metric': m, 'scoreboard_id': board_id,
                            'value': float(body['metrics'][m])}
                           for m in metric_names if m in body['metrics']]
            with db.write() as s:
                s.execute(insert(M.Result), rows)
                s.execute(insert(M.ResultMetric), values)
            log('  loaded %d / %d' % (min(n, start + batch), n))
        with db.writer.begin() as c:     # fresh statistics, as after any large import
            c.exec_driver_sql('ANALYZE')
    finally:
        db.dispose()
    return time.perf_counter() - t0, token


# ------------------------------------------------------------------ server
SERVER = """
import sys, uvicorn
from cknowledge.hub import create_app
uvicorn.run(create_app(sys.argv[1], sys.argv[2]), host="127.0.0.1", port=int(sys.argv[3]),
            log_level="warning", access_log=False, backlog=2048)
"""


def start_server(db_url, root):
    port = free_port()
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get('PYTHONPATH', ''))
    logf = open(os.path.join(root, 'server-bench.log'), 'wb')
    proc = subprocess.Popen([sys.executable, '-c', SERVER, db_url, root, str(port)],
                            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                            env=env)
    url = 'http://127.0.0.1:%d' % port
    t0 = time.perf_counter()
    while True:
        if proc.poll() is not None:
            raise SystemExit('hub server exited with %s; see %s' % (proc.returncode, logf.name))
        try:
            with urllib.request.urlopen(url + '/openapi.json', timeout=5) as r:
                if r.status == 200:
                    return proc, url, time.perf_counter() - t0
        except OSError:
            pass
        if time.perf_counter() - t0 > 120:
            proc.kill()
            raise SystemExit('hub server did not answer in 120 s; see %s' % logf.name)
        time.sleep(0.1)


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ------------------------------------------------------------------ reads
QUERIES = [
    ('first page, default order', {}),
    ('sort qps desc', {'sort': 'qps', 'order': 'desc'}),
    ('sort latency_p90_ms asc', {'sort': 'latency_p90_ms', 'order': 'asc'}),
    ('sort map desc, backend=pytorch', {'sort': 'map', 'order': 'desc', 'backend': 'pytorch'}),
    ('sort qps asc, platform=FP', {'sort': 'qps', 'order': 'asc', 'platform': FINGERPRINTS[3]}),
    ('sort qps desc, version=1.2.0', {'sort': 'qps', 'order': 'desc', 'version': '1.2.0'}),
    ('sort latency asc, backend+platform+version',
     {'sort': 'latency_p90_ms', 'order': 'asc', 'backend': 'pytorch',
      'platform': FINGERPRINTS[5], 'version': '1.0.0'}),
    ('sort latency asc, 3 filters matching nothing',
     {'sort': 'latency_p90_ms', 'order': 'asc', 'backend': 'tvm',
      'platform': FINGERPRINTS[5], 'version': '1.0.0'}),
    ('sort qps desc, page 20 (offset 950)', {'sort': 'qps', 'order': 'desc', 'offset': 950}),
]


def pct(xs, p):
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def measure_reads(url, reps, warmup=3):
    import httpx

    out = []
    with httpx.Client(base_url=url, timeout=60) as http:
        for label, params in QUERIES:
            for kind, path in (('json', '/api/v1/scoreboards/%s/results' % BOARD),
                               ('html', '/scoreboards/%s' % BOARD)):
                q = dict(params)
                if kind == 'json':
                    q.setdefault('limit', 50)
                times, total = [], None
                for k in range(warmup + reps):
                    t0 = time.perf_counter()
                    r = http.get(path, params=q)
                    dt = time.perf_counter() - t0
                    if r.status_code != 200:
                        raise SystemExit('%s %s -> %d: %s' % (path, q, r.status_code, r.text[:500]))
                    if k >= warmup:
                        times.append(dt * 1000)
                    if kind == 'json' and total is None:
                        body = r.json()
                        total, items = body['total'], len(body['items'])
                row = {'query': label, 'kind': kind, 'params': q, 'n': len(times),
                       'p50_ms': pct(times, 50), 'p95_ms': pct(times, 95),
                       'max_ms': max(times), 'bytes': len(r.content)}
                if kind == 'json':
                    row['total'] = total
                    row['items'] = items
                out.append(row)
                log('  %-45s %-4s p50 %6.1f ms  p95 %6.1f ms%s' % (
                    label, kind, row['p50_ms'], row['p95_ms'],
                    '  (total %d)' % total if kind == 'json' else ''))
    return out


# ------------------------------------------------------------------ submissions
async def _submit_all(url, token, clients, per_client, tag):
    """``clients`` keep-alive HTTP/1.1 connections, each posting its ``per_client``
    submissions one after another. The requests are serialized before the clock starts and
    sent over plain asyncio streams (a wrk-style load generator), so that the two shared
    cores go to the server rather than to a client library's own work."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname, parts.port
    path = '/api/v1/scoreboards/%s/results' % BOARD
    statuses = {}
    lat = []

    def request(body):
        data = json.dumps(body).encode()
        head = ('POST %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n'
                'Content-Type: application/json\r\nContent-Length: %d\r\n\r\n'
                % (path, host, port, token, len(data)))
        return head.encode() + data

    prepared = [[request(make_submission(c * per_client + j, tag=tag))
                 for j in range(per_client)] for c in range(clients)]

    async def client(c):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for req in prepared[c]:
                t0 = time.perf_counter()
                writer.write(req)
                await writer.drain()
                head = await reader.readuntil(b'\r\n\r\n')
                status = int(head.split(b' ', 2)[1])
                length = 0
                for line in head.split(b'\r\n'):
                    if line.lower().startswith(b'content-length:'):
                        length = int(line.split(b':', 1)[1])
                await reader.readexactly(length)
                lat.append((time.perf_counter() - t0) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    return time.perf_counter() - t0, statuses, lat


def measure_submissions(url, token, clients, per_client, tag):
    import httpx

    before = httpx.get(url + '/api/v1/scoreboards/' + BOARD, timeout=60).json()['count']
    wall, statuses, lat = asyncio.run(_submit_all(url, token, clients, per_client, tag))
    after = httpx.get(url + '/api/v1/scoreboards/' + BOARD, timeout=60).json()['count']
    total = clients * per_client
    res = {'clients': clients, 'submissions': total, 'wall_s': wall, 'per_s': total / wall,
           'statuses': {str(k): v for k, v in sorted(statuses.items())},
           'stored': after - before, 'lost': total - (after - before),
           'latency_p50_ms': pct(lat, 50), 'latency_p95_ms': pct(lat, 95)}
    log('  %d submissions from %d clients in %.2f s: %.0f/s, statuses %s, stored %d' % (
        total, clients, wall, res['per_s'], res['statuses'], res['stored']))
    return res


# ------------------------------------------------------------------ report
def build_report(res):
    reads = res['reads']
    json_p95 = max(r['p95_ms'] for r in reads if r['kind'] == 'json')
    html_p95 = max(r['p95_ms'] for r in reads if r['kind'] == 'html')
    sub = res['submit']
    ok_reads = json_p95 < GOAL_MS and html_p95 < GOAL_MS
    ok_sub = sub['per_s'] >= GOAL_RATE and sub['lost'] == 0 and \
        set(sub['statuses']) <= {'201'}
    res['goals'] = {'json_p95_ms': json_p95, 'html_p95_ms': html_p95, 'reads_ok': ok_reads,
                    'submit_per_s': sub['per_s'], 'submit_ok': ok_sub}
    L = []
    L.append('# Hub benchmark: scoreboard reads at %s results, submissions over HTTP\n'
             % format(res['n'], ','))
    L.append('Run %s on %d cores (%s), Python %s, database %s; cknowledge git %s. '
             'Total wall time %.0f s.\n' % (res['date'], res['cores'], res['cpu'],
                                            res['python'], res['db_kind'], res['git'],
                                            res['total_s']))
    L.append('Setup: %s results bulk-loaded through the hub\'s models in %.1f s; server '
             '(uvicorn, one process, loopback) answered after %.1f s (migrations included). '
             'Reads: %d timed requests per row after %d warm-up, one keep-alive connection; '
             'JSON pages of 50 rows.\n' % (format(res['n'], ','), res['load_s'],
                                           res['server_start_s'], res['reps'], 3))
    L.append('| metric | value | goal | result |')
    L.append('|---|---|---|---|')
    L.append('| scoreboard JSON API, worst p95 over the queries below | %.1f ms | < %d ms | %s |'
             % (json_p95, GOAL_MS, '**PASS**' if json_p95 < GOAL_MS else '**FAIL**'))
    L.append('| scoreboard HTML page, worst p95 over the queries below | %.1f ms | < %d ms | %s |'
             % (html_p95, GOAL_MS, '**PASS**' if html_p95 < GOAL_MS else '**FAIL**'))
    L.append('| submissions over HTTP, %d concurrent clients | %.0f /s (%d in %.2f s) | '
             '>= %d /s | %s |' % (sub['clients'], sub['per_s'], sub['submissions'], sub['wall_s'],
                                  GOAL_RATE, '**PASS**' if ok_sub else '**FAIL**'))
    L.append('| submissions stored / lost; HTTP statuses | %d / %d; %s | 0 lost, all 201 | %s |'
             % (sub['stored'], sub['lost'], sub['statuses'],
                'ok' if sub['lost'] == 0 and set(sub['statuses']) <= {'201'} else '**FAIL**'))
    L.append('| submission latency p50 / p95 (under that load) | %.1f / %.1f ms | | |'
             % (sub['latency_p50_ms'], sub['latency_p95_ms']))
    if res.get('submit_1'):
        s1 = res['submit_1']
        L.append('| submissions, 1 client (info) | %.0f /s (p50 %.1f ms) | | |'
                 % (s1['per_s'], s1['latency_p50_ms']))
    L.append('')
    L.append('| query | rows matching | JSON p50 | JSON p95 | HTML p50 | HTML p95 | HTML size |')
    L.append('|---|---|---|---|---|---|---|')
    by = {}
    for r in reads:
        by.setdefault(r['query'], {})[r['kind']] = r
    for label, _ in QUERIES:
        j, h = by[label]['json'], by[label]['html']
        L.append('| %s | %s | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %d kB |' % (
            label, format(j['total'], ','), j['p50_ms'], j['p95_ms'], h['p50_ms'], h['p95_ms'],
            h['bytes'] // 1024))
    L.append('')
    L.append('The client runs on the same machine as the server (2 shared cores); its '
             'requests are serialized before the clock starts and sent over plain asyncio '
             'streams, so that most of the CPU goes to the server.\n')
    return '\n'.join(L) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--n', type=int, default=100_000, help='results in the scoreboard')
    ap.add_argument('--reps', type=int, default=40, help='timed requests per read query')
    ap.add_argument('--clients', type=int, default=50)
    ap.add_argument('--per-client', type=int, default=40, help='submissions per client')
    ap.add_argument('--db', default=None, help='database URL (default: SQLite in the temp root)')
    ap.add_argument('--keep', action='store_true', help='keep the temp hub root')
    ap.add_argument('--name', default='hub', help='results file name (bench/results/NAME.md)')
    args = ap.parse_args()

    t_start = time.perf_counter()
    root = tempfile.mkdtemp(prefix='ck-bench-hub-')
    db_url = args.db or 'sqlite:///%s' % os.path.join(root, 'hub.sqlite')
    res = {'n': args.n, 'reps': args.reps, 'root': root,
           'db_kind': db_url.split(':', 1)[0].split('+')[0],
           'date': datetime.datetime.now(datetime.timezone.utc).isoformat(),
           'cores': os.cpu_count(), 'cpu': platform.processor() or platform.machine(),
           'python': platform.python_version(), 'git': F.src_digest()}
    try:
        cpu = [ln.split(':', 1)[1].strip() for ln in open('/proc/cpuinfo')
               if ln.startswith('model name')]
        res['cpu'] = cpu[0] if cpu else res['cpu']
    except OSError:
        pass
    proc = None
    try:
        log('bulk-loading %d results into %s' % (args.n, db_url))
        res['load_s'], token = bulk_load(db_url, root, args.n)
        log('starting the server')
        proc, url, res['server_start_s'] = start_server(db_url, root)
        log('reads (%d reps per query)' % args.reps)
        res['reads'] = measure_reads(url, args.reps)
        log('submissions: 1 client')
        res['submit_1'] = measure_submissions(url, token, 1, 100, 'one')
        log('submissions: %d clients x %d' % (args.clients, args.per_client))
        res['submit'] = measure_submissions(url, token, args.clients, args.per_client, 'many')
        log('reads after the submissions')
        res['reads_after'] = measure_reads(url, max(5, args.reps // 4))
    finally:
        if proc is not None:
            stop_server(proc)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    res['total_s'] = time.perf_counter() - t_start
    md = build_report(res)
    F.write_results(args.name, res, md)
    return 0 if res['goals']['reads_ok'] and res['goals']['submit_ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
