"""Start and stop the servers under test as separate processes, as they run in production."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Running:
    pid: int
    base_url: str


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports: each socket stays bound until all are chosen, else the
    system may hand the same port out twice."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server not ready: {url}")


@contextmanager
def serve(command: list[str], env: dict[str, str], port: int,
          log: Path | None = None) -> Iterator[Running]:
    out = log.open("ab") if log is not None else subprocess.DEVNULL
    # A session of its own: Sanic serves from child processes, stopped together at the end.
    proc = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(f"{base}/healthz", proc)
        yield Running(proc.pid, base)
    finally:
        _stop(proc)
        if log is not None:
            out.close()  # type: ignore[union-attr]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@contextmanager
def run_workers(env: dict[str, str], count: int, log: Path) -> Iterator[list[int]]:
    """`count` processes of `python server.py worker` with `env`: the outbox worker beside the
    server, as the README's RUN_WORKER=0 deployment runs it. Their pids, once each has started
    its worker (it logs so)."""
    procs: list[subprocess.Popen[bytes]] = []
    with log.open("ab") as out:
        try:
            for _ in range(count):
                procs.append(subprocess.Popen(
                    [sys.executable, "server.py", "worker"], cwd=ROOT, env={**os.environ, **env},
                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
            _wait_started(procs, log)
            yield [proc.pid for proc in procs]
        finally:
            for proc in procs:
                _stop(proc)


def _wait_started(procs: list[subprocess.Popen[bytes]], log: Path,
                  timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(proc.poll() is not None for proc in procs):
            raise SystemExit(f"a worker exited; see {log}")
        lines = log.read_text(errors="replace").splitlines()
        if sum(1 for line in lines if "outbox worker" in line and line.endswith("started")) \
                >= len(procs):
            return
        time.sleep(0.2)
    raise SystemExit(f"workers not started; see {log}")


@contextmanager
def serve_bare(port: int) -> Iterator[Running]:
    with serve([sys.executable, "-m", "bench.bare", str(port)], {}, port) as running:
        yield running


@contextmanager
def serve_product(env: dict[str, str], port: int, log: Path | None = None) -> Iterator[Running]:
    """`python server.py serve` with `env` (which names HOST=127.0.0.1 and PORT=`port`)."""
    with serve([sys.executable, "server.py", "serve"], env, port, log) as running:
        yield running
