"""Pytest plugin for the hub's quality tests: a throwaway PostgreSQL cluster and live hub
servers over loopback.

Loaded from the top-level ``tests/conftest.py`` with
``pytest_plugins = ["tests.hub.conftest_pg"]`` (or ``pytest -p tests.hub.conftest_pg``).

PostgreSQL: one cluster per test session, created with ``initdb`` and started with
``pg_ctl`` from ``/usr/lib/postgresql/*/bin`` (or ``$PATH``) in a temp dir, listening on a
free port of 127.0.0.1 only (its Unix socket lives in the temp dir too). ``initdb`` refuses
to run as root, so under root the server runs as the ``postgres`` system user. Each test
that asks for ``pg_url`` gets a fresh database in that cluster, dropped afterwards.
``CK_TEST_PG_URL=postgresql+psycopg://user:pw@host:port/db`` uses an existing server
instead (the fresh databases are created there). Without PostgreSQL binaries the tests
that need it are skipped, unless ``CK_REQUIRE_PG=1`` (set by ``.ci/run``): then they fail.

Live hub: ``start_hub(db_url, root)`` runs ``cknowledge.hub.create_app`` under a real
uvicorn in a child process on a free loopback port and returns its base URL once
``/openapi.json`` answers.
"""

from __future__ import annotations

import glob
import itertools
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
PG_USER = "ckhub"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_bindir() -> str | None:
    """The newest ``/usr/lib/postgresql/N/bin`` holding initdb and pg_ctl, else the folder
    of ``initdb`` on PATH, else None."""
    def major(path: str) -> int:
        try:
            return int(Path(path).parent.name.split(".")[0])
        except ValueError:
            return -1

    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=major, reverse=True):
        if os.access(os.path.join(bindir, "initdb"), os.X_OK) and \
                os.access(os.path.join(bindir, "pg_ctl"), os.X_OK):
            return bindir
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return os.path.dirname(os.path.realpath(initdb))
    return None


@dataclass
class PgCluster:
    """A running PostgreSQL server: superuser URL parts and how to stop it."""

    host: str
    port: int
    user: str
    password: str
    admin_db: str = "postgres"
    datadir: str | None = None
    bindir: str | None = None
    run_as: str | None = None
    tmp: str | None = None
    log: str | None = None
    _n: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, db: str, driver: str = "postgresql+psycopg") -> str:
        return (f"{driver}://{urllib.parse.quote(self.user)}:{urllib.parse.quote(self.password)}"
                f"@{self.host}:{self.port}/{db}")

    def connect(self, db: str | None = None) -> Any:
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password, dbname=db or self.admin_db,
                               autocommit=True, connect_timeout=10)

    def create_db(self) -> str:
        name = f"cktest_{os.getpid()}_{next(self._n)}_{secrets.token_hex(3)}"
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_db(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.datadir and self.bindir:
            _pg_run(self, [os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir, "-m", "fast",
                           "-w", "-t", "60", "stop"], check=False)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _pg_run(cluster: PgCluster, argv: list[str], check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    kw: dict[str, Any] = {}
    if cluster.run_as:
        kw["user"] = cluster.run_as
        import grp
        import pwd

        kw["group"] = grp.getgrgid(pwd.getpwnam(cluster.run_as).pw_gid).gr_name
        kw["extra_groups"] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = env["LANG"] = "C.UTF-8"
    proc = subprocess.run(argv, cwd=cluster.tmp or "/", env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        log = ""
        if cluster.log and os.path.exists(cluster.log):
            log = Path(cluster.log).read_text(errors="replace")[-2000:]
        raise RuntimeError(f"PostgreSQL test cluster: {' '.join(argv)} failed with exit "
                           f"{proc.returncode}: {proc.stderr.strip()[-2000:]} {log}")
    return proc


def start_cluster() -> PgCluster:
    """initdb + pg_ctl start of a fresh cluster in a temp dir on a free loopback port.
    Raises RuntimeError (with the server log) when it cannot start; returns the cluster."""
    bindir = pg_bindir()
    if bindir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb, pg_ctl): install the "
                                "Debian package 'postgresql' or set CK_TEST_PG_URL")
    run_as = None
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise FileNotFoundError("tests run as root and there is no 'postgres' user to run "
                                    "initdb as: install the Debian package 'postgresql'") from None
        run_as = "postgres"
    tmp = tempfile.mkdtemp(prefix="ck-pg-")
    password = secrets.token_urlsafe(16)
    cluster = PgCluster(host="127.0.0.1", port=0, user=PG_USER, password=password,
                        datadir=os.path.join(tmp, "data"), bindir=bindir, run_as=run_as,
                        tmp=tmp, log=os.path.join(tmp, "server.log"))
    try:
        pwfile = os.path.join(tmp, "pw")
        Path(pwfile).write_text(password + "\n")
        os.chmod(pwfile, 0o600)
        if run_as:
            import pwd

            pw = pwd.getpwnam(run_as)
            os.chown(tmp, pw.pw_uid, pw.pw_gid)
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        _pg_run(cluster, [os.path.join(bindir, "initdb"), "-D", cluster.datadir, "-U", PG_USER,
                          "--pwfile", pwfile, "--auth=scram-sha-256", "-E", "UTF8",
                          "--locale=C.UTF-8", "--no-sync"])
        os.unlink(pwfile)
        options = (f"-c listen_addresses=127.0.0.1 -c unix_socket_directories={tmp} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200 -c shared_buffers=64MB")
        for attempt in range(5):
            cluster.port = free_port()
            proc = _pg_run(cluster, [os.path.join(bindir, "pg_ctl"), "-D", cluster.datadir,
                                     "-l", str(cluster.log), "-w", "-t", "60",
                                     "-o", f"-p {cluster.port} {options}", "start"], check=False)
            if proc.returncode == 0:
                break
            log = Path(str(cluster.log)).read_text(errors="replace")
            if attempt == 4 or "could not bind" not in log:
                raise RuntimeError(f"PostgreSQL test cluster: pg_ctl start failed with exit "
                                   f"{proc.returncode}: {proc.stderr.strip()} {log[-2000:]}")
        return cluster
    except BaseException:
        cluster.stop()
        raise


def _cluster_from_url(url: str) -> PgCluster:
    parts = urllib.parse.urlsplit(url)
    return PgCluster(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                     user=urllib.parse.unquote(parts.username or "postgres"),
                     password=urllib.parse.unquote(parts.password or ""),
                     admin_db=parts.path.lstrip("/") or "postgres")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """The session's PostgreSQL server (started here, stopped and removed at the end)."""
    external = os.environ.get("CK_TEST_PG_URL")
    if external:
        yield _cluster_from_url(external)
        return
    try:
        cluster = start_cluster()
    except FileNotFoundError as e:
        if os.environ.get("CK_REQUIRE_PG") == "1":
            pytest.fail(str(e))
        pytest.skip(str(e))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A SQLAlchemy URL (postgresql+psycopg://...) of a fresh, empty database."""
    name = pg_cluster.create_db()
    try:
        yield pg_cluster.url(name)
    finally:
        pg_cluster.drop_db(name)


# --- live hub servers --------------------------------------------------------------------

_SERVER = """
import sys, uvicorn
from cknowledge.hub import create_app
app = create_app(sys.argv[1], sys.argv[2])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning",
            access_log=False, backlog=1024, timeout_keep_alive=30)
"""


@dataclass
class LiveHub:
    url: str
    db_url: str
    root: str
    proc: subprocess.Popen[bytes]
    logfile: str

    def log(self) -> str:
        return Path(self.logfile).read_text(errors="replace")

    def add_user(self, name: str, admin: bool = False) -> str:
        """A new user of this hub, created server-side as ``ck hub user add`` does; its
        token."""
        from cknowledge.hub.admin import add_user

        return add_user(self.db_url, self.root, name, admin=admin)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)


def start_hub(db_url: str, root: str | Path, env: dict[str, str] | None = None,
              timeout: float = 60) -> LiveHub:
    """A real uvicorn serving ``create_app(db_url, root)`` in a child process on a free
    loopback port; returns once ``/openapi.json`` answers 200."""
    root = str(root)
    os.makedirs(root, exist_ok=True)
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = SRC + os.pathsep + full_env.get("PYTHONPATH", "")
    if env:
        full_env.update(env)
    logfile = os.path.join(root, "server-test.log")
    port = free_port()
    with open(logfile, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", _SERVER, db_url, root, str(port)],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                env=full_env)
    hub = LiveHub(url=f"http://127.0.0.1:{port}", db_url=db_url, root=root, proc=proc,
                  logfile=logfile)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"hub server exited with {proc.returncode}:\n{hub.log()[-3000:]}")
        try:
            with urllib.request.urlopen(hub.url + "/openapi.json", timeout=5) as r:
                if r.status == 200:
                    return hub
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.monotonic() > deadline:
            hub.stop()
            raise RuntimeError(f"hub server did not answer within {timeout} s:\n"
                               f"{hub.log()[-3000:]}")
        time.sleep(0.1)


@pytest.fixture
def live_hub(tmp_path: Path) -> Iterator[Callable[..., LiveHub]]:
    """``live_hub(db_url=None, root=None) -> LiveHub``: started hubs are stopped afterwards.
    The default database is SQLite under the root."""
    started: list[LiveHub] = []

    def _start(db_url: str | None = None, root: str | Path | None = None,
               **kw: Any) -> LiveHub:
        root = Path(root) if root else tmp_path / f"hub{len(started)}"
        root.mkdir(parents=True, exist_ok=True)
        db_url = db_url or f"sqlite:///{root / 'hub.sqlite'}"
        hub = start_hub(db_url, root, **kw)
        started.append(hub)
        return hub

    yield _start
    for hub in started:
        hub.stop()


# --- submissions -------------------------------------------------------------------------

BOARD = "mlperf-object-detection"
BACKENDS = ("onnxruntime", "pytorch", "tvm")
FINGERPRINTS = tuple("%016x" % (0x1F2E3D4C5B6A7980 + k * 7919) for k in range(4))


def submission(i: int, *, tag: str = "t", reference: bool = False) -> dict[str, Any]:
    """A valid Submission for the built-in ``mlperf-object-detection`` scoreboard; distinct
    ``i`` (or ``tag``) give distinct results (different metrics and config)."""
    fp = FINGERPRINTS[i % len(FINGERPRINTS)]
    return {
        "solution": {"name": "mlperf-object-detection", "version": f"1.{i % 3}.0"},
        "components": [{"component": "model:retinanet", "version": "1.0"},
                       {"component": "dataset:openimages-mini", "version": "2.1"}],
        "config": {"scenario": "Offline", "backend": BACKENDS[i % len(BACKENDS)],
                   "count": 64 + i % 7, "run": f"{tag}-{i}"},
        "metrics": {"qps": round(50.0 + (i * 37) % 1000 / 3.0, 3),
                    "latency_p90_ms": round(5.0 + (i * 53) % 700 / 7.0, 3),
                    "map": round(0.30 + (i * 13) % 100 / 1000.0, 4)},
        "statistics": {"qps": {"mean": 50.0 + (i * 37) % 1000 / 3.0, "ci95": 0.5, "cv": 0.01,
                               "n": 5}},
        "platform": {"fingerprint": fp,
                     "facts": {"os": "Linux", "arch": "x86_64",
                               "cpu": f"Test CPU {i % len(FINGERPRINTS)}", "cores": 8}},
        "experiment": {"uid": "%016x" % (i + 1), "recorded_at": "2026-01-01T00:00:00Z"},
        "reference": reference,
    }
