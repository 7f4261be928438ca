"""`python -m bench [callback] [pages] [fanout]`: the product against a bare Sanic app.

Sets up its own city (see `bench.env` for where), starts the product (`python server.py serve`,
one worker, the sandbox as WeChat with 20 ms latency, the outbox worker on; with `--workers N`
the outbox runs in N `python server.py worker` processes instead) and the bare app, then runs
every chosen part against both, interleaved, for three rounds, and prints the medians:

    callback:help    the protocol path (`帮助`): signature, AES, de-duplication, reply
    callback:mix     `待办`, `通知`, `回复 1 …` (real replies stored), from 3,000 bound leaders
    pages:projects   /h5/projects, paged, for the leader of an enterprise with 500 projects
    pages:notices    the notice list of the same leader
    fanout           a city-wide notice to 3,000 enterprises, 2% of sends failing once
    memory           the product server's peak RSS over the whole run

BENCH_SECONDS (default 5) is the length of each wrk run; BENCH_SCALE (default 1) scales the city.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Iterator
from typing import Any

from bench import parts
from bench.callback_requests import callback_lines, help_contents, mix_contents
from bench.citydata import CitySize, create_city
from bench.env import BenchEnv, bench_env
from bench.load import run_wrk
from bench.procstat import peak_rss_mb
from bench.report import Report
from bench.servers import Running, free_ports, run_workers, serve_bare, serve_product
from core.db import close_db, init_db
from core.redis import make_redis

PARTS = ("callback", "pages", "fanout")
# Distinct callback requests built per run: the expected rate × seconds, with room.
EXPECTED_RPS = {"callback:help": 6000.0, "callback:mix": 2500.0}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", metavar="part", help=" | ".join(PARTS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int,
                        default=int(os.environ.get("BENCH_SECONDS", "5")))
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")))
    parser.add_argument("--workers", type=int, default=0, metavar="N",
                        help="run the outbox in N `python server.py worker` processes beside "
                             "the server (RUN_WORKER=0); default 0: in the server's process, "
                             "the README's default deployment")
    args = parser.parse_args()
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}; choose from {PARTS}")
    return args


class Bench:
    def __init__(self, env: BenchEnv, args: argparse.Namespace, size: CitySize) -> None:
        self.env = env
        self.args = args
        self.size = size
        self.report = Report(workers=args.workers)
        self.openids = parts.bench_openids(size.enterprises)
        self.cookie = ""

    def _contents(self, part: str) -> Iterator[str]:
        return help_contents() if part == "callback:help" else mix_contents()

    def _count(self, part: str) -> int:
        seen = [m.load.rps for m in self.report.runs.get((part, "product"), [])]
        rate = max([*seen, EXPECTED_RPS[part]])
        return int(rate * self.args.seconds * 1.5) + 1000

    async def callback(self, bare: Running, product: Running, settings: Any) -> None:
        for part in ("callback:help", "callback:mix"):
            bare_lines = await asyncio.to_thread(
                callback_lines, settings, self.openids, self._contents(part), 5000)
            self.report.add(part, "bare", await asyncio.to_thread(
                parts.measure, bare, bare_lines, self.args.seconds))
            self.report.add(part, "product", await asyncio.to_thread(
                parts.callback_load, product, settings, self.openids, self._contents(part),
                self._count(part), self.args.seconds))

    async def pages(self, bare: Running, product: Running) -> None:
        for part, path in (("pages:projects", "/h5/projects"), ("pages:notices", "/h5/notices")):
            lines = parts.page_lines(path, self.cookie)
            for side, running in (("bare", bare), ("product", product)):
                self.report.add(part, side, await asyncio.to_thread(
                    parts.measure, running, lines, self.args.seconds))

    async def run(self) -> None:
        chosen = self.args.parts or list(PARTS)
        port, wechat_port, bare_port, instrumented_port = free_ports(4)
        settings = self.env.settings(port, wechat_port)
        redis = make_redis(settings)
        await init_db(settings)
        try:
            started = time.perf_counter()
            timings = await create_city(self.size)
            print(f"city written in {time.perf_counter() - started:.1f} s: "
                  + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()), flush=True)
            if "pages" in chosen:
                self.report.queries = await parts.queries_per_page(
                    settings, redis, instrumented_port,
                    ["/h5/projects", "/h5/projects?page=13", "/h5/notices"])
                self.cookie = await parts.leader_cookie(redis, settings)
            await self._rounds(chosen, (port, wechat_port, bare_port), settings, redis)
        finally:
            await redis.aclose()
            await close_db()
        print(self.report.render(), flush=True)

    async def _rounds(self, chosen: list[str], ports: tuple[int, int, int], settings: Any,
                      redis: Any) -> None:
        port, wechat_port, bare_port = ports
        log, wechat_log, workers_log = (self.env.data_dir / name for name in (
            "server.log", "wechat.log", "workers.log"))
        for path in (log, wechat_log, workers_log):
            path.write_text("")
        workers = self.args.workers
        server_env = self.env.server_env(port, wechat_port, run_worker=not workers)
        with (serve_bare(bare_port) as bare,
              serve_product(self.env.wechat_env(wechat_port, port), wechat_port,
                            wechat_log) as wechat,
              serve_product(server_env, port, log) as product,
              run_workers(server_env, workers, workers_log)):
            await asyncio.to_thread(_warm, bare, product)
            if "callback" in chosen:
                parts.check_callback(product.base_url, settings, self.openids[1], "帮助",
                                     "您可以发送以下指令")
                parts.check_callback(product.base_url, settings, self.openids[1], "回复 1 已收到",
                                     "通知")
            if "pages" in chosen:
                parts.check_page(product.base_url, "/h5/projects", self.cookie, "花园")
                parts.check_page(product.base_url, "/h5/notices", self.cookie, "通知")
            for round_no in range(1, self.args.rounds + 1):
                print(f"round {round_no}: {', '.join(chosen)}", flush=True)
                if "callback" in chosen:
                    await self.callback(bare, product, settings)
                if "pages" in chosen:
                    await self.pages(bare, product)
                if "fanout" in chosen:
                    result = await parts.fan_out(wechat, settings, redis, round_no,
                                                 self.size.enterprises)
                    self.report.fanouts.append(result)
                    await asyncio.sleep(1.0)  # delivery reports still arriving
            self.report.rss_mb, self.report.rss_tree_mb = peak_rss_mb(product.pid)


def _warm(bare: Running, product: Running) -> None:
    """A short load on each server first: imports, JIT-free but cold caches and pools."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "warm.tsv"
        path.write_text("GET\t/healthz\t\t\n")
        for running in (bare, product):
            run_wrk(running.base_url, path, seconds=1)


def main() -> None:
    args = _arguments()
    size = CitySize.at(args.scale)
    with bench_env() as env:
        where = "PostgreSQL" if env.postgres else "SQLite"
        print(f"bench on {where} + Redis {env.redis_url}; city {size}; {args.rounds} rounds of "
              f"{args.seconds:g} s", flush=True)
        asyncio.run(Bench(env, args, size).run())


if __name__ == "__main__":
    main()
