"""A throwaway PostgreSQL server for the benchmarks: initdb in a temporary directory, 127.0.0.1 only.

Needs Debian's postgresql package (`bash scripts/postgres` installs it); as root the server runs
as the `postgres` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg


def _bindir() -> Path:
    for folder in sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True
    ):
        if (folder / "pg_ctl").is_file():
            return folder
    raise SystemExit("PostgreSQL is not installed: run `bash scripts/postgres`, or pass --postgres URL")


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a server, yield the URL of an empty database on it, stop it and delete everything."""
    bindir = _bindir()
    folder = Path(tempfile.mkdtemp(prefix="vigil-bench-pg-"))
    as_user = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, cwd=folder)

    try:
        run(
            str(bindir / "initdb"), "-D", str(data), "-U", "vigil", "-A", "trust", "--no-locale", "-E", "UTF8"
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off"
        )
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o", options, "start")
        try:
            with psycopg.connect(f"postgresql://vigil@127.0.0.1:{port}/postgres", autocommit=True) as conn:
                conn.execute("CREATE DATABASE bench")
            yield f"postgresql+psycopg://vigil@127.0.0.1:{port}/bench"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
