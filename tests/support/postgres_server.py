"""Throwaway PostgreSQL clusters of Debian's `postgresql` on free loopback ports, in temporary
folders: the tests never use a server they did not start.

initdb refuses to run as root, so as root the cluster is made and run as the `postgres` user
(`runuser`); the binaries are found with `pg_config --bindir`, else the newest
`postgresql/<version>/bin` under the system library folder (`lib`)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tickercast.cli.processes import free_port

# Without fsync a cluster starts and writes faster, and a server stopped at once (`immediate`,
# as in a crash) still keeps every commit it acknowledged: the WAL reached the operating system
# before the answer (synchronous_commit stays on), only the machine's own crash would lose it.
FAST = "-c fsync=off -c full_page_writes=off"


def bindir() -> Path | None:
    """Where initdb and pg_ctl are, or None when PostgreSQL is not installed."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        folder = Path(found.stdout.strip())
        if (folder / "initdb").exists():
            return folder
    versions = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not versions:
        return None
    newest = max(versions, key=lambda p: int(Path(p).parent.parent.name.split(".")[0]))
    return Path(newest).parent


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class PostgresServer:
    """One cluster, stopped and started again at will (its data stay in its folder)."""

    def __init__(self, bin_folder: Path) -> None:
        self.bin = bin_folder
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="tickercast-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]
            + ["--no-sync", "--no-instructions", "-E", "UTF8"]
        )

    def _run(self, args: list[str]) -> None:
        done = subprocess.run(_as_postgres(args), capture_output=True, text=True)
        if done.returncode:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stderr}{done.stdout}\n{log}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -h 127.0.0.1 -k {self.folder} {FAST}"
        self._run(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log)]
            + ["-o", options, "-w", "-t", "60", "start"]
        )

    def stop(self, mode: str = "fast") -> None:
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def running(self) -> bool:
        done = subprocess.run(
            _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "status"]),
            capture_output=True,
        )
        return done.returncode == 0

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        if self.running():
            with contextlib.suppress(RuntimeError):
                self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A running cluster for the block, removed with its folder after; without PostgreSQL
    installed the caller is told how to install it."""
    folder = bindir()
    if folder is None:
        raise RuntimeError("PostgreSQL is not installed: `make system-packages` installs it")
    server = PostgresServer(folder)
    try:
        server.start()
        yield server
    finally:
        server.remove()
