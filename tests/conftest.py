"""Shared fixtures: the ../shared data (skipped cleanly when absent), temporary stores and a
throwaway PostgreSQL server."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VIGIL_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared, or a skip saying why the test cannot run without it."""
    if not (SHARED / "seeds").is_dir():
        pytest.skip(f"../shared is absent ({SHARED}): golden tests on real articles skipped")
    return SHARED


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep each test run's caches and default store out of the user's home."""
    cache = tmp_path_factory.getbasetemp() / "vigil-cache"
    monkeypatch.setenv("VIGIL_CACHE_DIR", os.environ.get("VIGIL_TEST_CACHE_DIR", str(cache)))
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path_factory.getbasetemp() / "vigil-data"))


# --- PostgreSQL: one throwaway server per test session, a fresh database per test ----------------

IN_CI = os.environ.get("CI", "").lower() == "true"


@dataclass(frozen=True, kw_only=True)
class PostgresServer:
    """A running PostgreSQL server on 127.0.0.1 (trust authentication, for tests only)."""

    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its URL."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url("postgres").replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url("postgres").replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_unavailable(why: str):
    message = f"PostgreSQL tests cannot run: {why} (run scripts/postgres to install the server)"
    if IN_CI:
        pytest.fail(message + "; under CI they must run", pytrace=False)
    pytest.skip(message)


def _postgres_bindir() -> Path | None:
    candidates = [os.environ.get("VIGIL_PG_BINDIR", "")]
    if which := shutil.which("pg_ctl"):
        candidates.append(str(Path(which).resolve().parent))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True
    )
    candidates += [str(p) for p in versions if p.parent.name.isdigit()]
    for folder in filter(None, candidates):
        if all((Path(folder) / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start PostgreSQL (initdb into a temporary directory, 127.0.0.1 and a socket there only, a free
    port; as the `postgres` user when we are root) and stop it when the session ends. Skips with the
    reason when the server cannot start, except under CI (CI=true), where it fails."""
    bindir = _postgres_bindir()
    if bindir is None:
        _postgres_unavailable("no initdb/pg_ctl/postgres found (VIGIL_PG_BINDIR, PATH, /usr/lib/postgresql)")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="vigil-pg-"))
    if os.geteuid() == 0:  # postgres refuses to run as root
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            _postgres_unavailable("running as root and there is no 'postgres' user to run the server as")
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, log = folder / "data", folder / "server.log"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=120, cwd=folder)

    started = None
    try:
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "vigil", "-A", "trust", "-E", "UTF8"]
        init = run(*initdb, "--no-locale", "--no-sync")
        if init.returncode != 0:
            _postgres_unavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
        for _attempt in range(3):  # another process may take the free port first
            port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            start = run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start")
            if start.returncode == 0:
                started = PostgresServer(port=port, user="vigil")
                break
        if started is None:
            server_log = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            _postgres_unavailable(f"pg_ctl start failed: {start.stderr.strip()[-500:]}\n{server_log}")
        yield started
    finally:
        if started is not None:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, empty database URL on each backend in turn (the PostgreSQL run skips, or fails under
    CI, when no server can be started)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("postgres_url")
