"""The table `make bench` prints: medians over the rounds, ratios to bare Sanic, targets."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.parts import FanOut, Measured

# part → (least ratio of bare's req/s, most p99 in ms); every callback part also keeps its p99
# within 2.5 × its p50.
TARGETS: dict[str, tuple[float, float]] = {
    "callback:help": (0.5, 100.0),
    "callback:mix": (0.25, 100.0),
    "pages:projects": (0.2, 50.0),
    "pages:notices": (0.2, 50.0),
}
TAIL_RATIO = 2.5
PUBLISH_MAX_S = 1.0
DELIVERED_MAX_S = 10.0
RSS_MAX_MB = 200.0


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


@dataclass
class Report:
    runs: dict[tuple[str, str], list[Measured]] = field(default_factory=dict)
    fanouts: list[FanOut] = field(default_factory=list)
    queries: dict[str, int] = field(default_factory=dict)
    rss_mb: float = 0.0  # the serving worker's peak
    rss_tree_mb: float = 0.0  # with Sanic's manager processes
    workers: int = 0  # `python server.py worker` processes; 0: the server's own worker

    def _outbox(self) -> str:
        if not self.workers:
            return "the server's own outbox worker"
        return f"{self.workers} worker process{'es' if self.workers > 1 else ''} (RUN_WORKER=0)"

    def add(self, part: str, side: str, measured: Measured) -> None:
        self.runs.setdefault((part, side), []).append(measured)

    def _median(self, part: str, side: str, value: Callable[[Measured], float]) -> float:
        return median([value(m) for m in self.runs.get((part, side), [])])

    def lines(self) -> list[str]:
        out = [f"{'part':<16}{'bare r/s':>10}{'r/s':>9}{'ratio':>7}{'p50 ms':>8}{'p99 ms':>8}"
               f"{'p99/p50':>8}{'CPU µs':>8}{'bare µs':>8}{'errors':>7}  target"]
        for part, (least, p99_max) in TARGETS.items():
            if (part, "product") not in self.runs:
                continue
            bare = self._median(part, "bare", lambda m: m.load.rps)
            rps = self._median(part, "product", lambda m: m.load.rps)
            p50 = self._median(part, "product", lambda m: m.load.p50_ms)
            p99 = self._median(part, "product", lambda m: m.load.p99_ms)
            ratio = rps / bare if bare else 0.0
            tail = p99 / p50 if p50 else 0.0
            errors = sum(m.load.errors for m in self.runs[(part, "product")])
            ok = ratio >= least and p99 <= p99_max and errors == 0
            if part.startswith("callback:"):
                ok = ok and tail <= TAIL_RATIO
            if any(m.wrapped for m in self.runs[(part, "product")]) and part.startswith("callback"):
                ok = False  # some requests were sent twice: the figure is not the product's
            out.append(f"{part:<16}{bare:>10.0f}{rps:>9.0f}{ratio:>7.2f}{p50:>8.1f}{p99:>8.1f}"
                       f"{tail:>8.1f}{self._median(part, 'product', lambda m: m.cpu_us):>8.0f}"
                       f"{self._median(part, 'bare', lambda m: m.cpu_us):>8.0f}{errors:>7}  "
                       f"≥{least:g}×bare, p99≤{p99_max:g} ms: {_mark(ok)}")
        return out

    def fanout_lines(self) -> list[str]:
        if not self.fanouts:
            return []
        publish = median([f.publish_s for f in self.fanouts])
        delivered = median([f.delivered_s for f in self.fanouts])
        lost = sum(f.lost for f in self.fanouts)
        doubled = sum(f.doubled for f in self.fanouts)
        ok = (publish <= PUBLISH_MAX_S and delivered <= DELIVERED_MAX_S and not lost
              and not doubled)
        rounds = "; ".join(
            f"{f.recipients} messages, {f.faults} sends failed once, publish {f.publish_s:.2f} s,"
            f" delivered {f.delivered_s:.1f} s, lost {f.lost}, doubled {f.doubled}, outbox "
            + " ".join(f"{k}={v}" for k, v in f.statuses.items() if v) for f in self.fanouts)
        return [f"fanout          publish {publish:.2f} s (≤{PUBLISH_MAX_S:g}), all delivered "
                f"{delivered:.1f} s (≤{DELIVERED_MAX_S:g}), lost {lost}, doubled {doubled}: "
                f"{_mark(ok)}", f"  sent by {self._outbox()}; rounds: {rounds}"]

    def render(self) -> str:
        out = ["", "medians of the rounds (p50/p99 at 64 connections; CPU µs per request of the"
               " server process)", *self.lines(), *self.fanout_lines()]
        if self.queries:
            # The same number on the first and a middle page: no query per row.
            fixed = self.queries.get("/h5/projects") == self.queries.get("/h5/projects?page=13")
            out.append("queries per page: " + ", ".join(
                f"{path} {n}" for path, n in self.queries.items())
                + f" ({'fixed' if fixed else 'VARIES with the page'})")
        if self.rss_mb:
            others = (f"; {self.rss_tree_mb:.0f} MB with Sanic's manager processes"
                      if self.rss_tree_mb > self.rss_mb else "")
            out.append(f"server peak RSS {self.rss_mb:.0f} MB (≤{RSS_MAX_MB:g}): "
                       f"{_mark(self.rss_mb <= RSS_MAX_MB)}{others}")
        return "\n".join(out)
