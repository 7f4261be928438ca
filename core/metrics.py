"""Prometheus metrics, kept in this process and written out in the text exposition format.

Counters and the histogram live in process memory, so with WORKERS > 1 (or several instances)
each process reports its own series and Prometheus sums them across scrape targets; the
outbox backlog is a database count taken at scrape time, the same in every process. A small
registry of our own is enough for three series and keeps the dependency list short.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Mapping

# Callback latency buckets in seconds: WeChat gives up after 5 s, the deadline is about 4 s.
CALLBACK_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 5.0)

_lock = threading.Lock()
_requests: Counter[tuple[str, int]] = Counter()
_outbox: Counter[str] = Counter()
_callback_buckets: dict[str, list[int]] = {}
_callback_sum: dict[str, float] = {}
_callback_count: Counter[str] = Counter()


def observe_callback(seconds: float, outcome: str) -> None:
    """One WeChat callback answered after `seconds`; outcome e.g. reply, success, deadline."""
    with _lock:
        buckets = _callback_buckets.setdefault(outcome, [0] * len(CALLBACK_BUCKETS))
        for i, bound in enumerate(CALLBACK_BUCKETS):
            if seconds <= bound:
                buckets[i] += 1
        _callback_sum[outcome] = _callback_sum.get(outcome, 0.0) + seconds
        _callback_count[outcome] += 1


def count_request(route: str, status: int) -> None:
    """One HTTP response; `route` is the route's pattern (never the raw path, which would
    make one series per URL)."""
    with _lock:
        _requests[(route, status)] += 1


def count_outbox(outcome: str) -> None:
    """One outbox delivery attempt's outcome, e.g. sent, retry, not_following, dead."""
    with _lock:
        _outbox[outcome] += 1


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: Mapping[str, str]) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs.items())
    return "{" + inner + "}" if inner else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _header(name: str, kind: str, help_text: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


def render(outbox_backlog: Mapping[str, int]) -> str:
    """Every series in the text format; `outbox_backlog` maps a status to its row count."""
    lines: list[str] = []
    with _lock:
        lines += _header("wuye_http_requests_total", "counter",
                         "HTTP responses by route pattern and status.")
        for (route, code), count in sorted(_requests.items()):
            labels = _labels({"route": route, "status": str(code)})
            lines.append(f"wuye_http_requests_total{labels} {count}")
        lines += _header("wuye_callback_seconds", "histogram",
                         "Time to answer a WeChat callback, by outcome.")
        for outcome in sorted(_callback_count):
            lines += _histogram_lines(outcome)
        lines += _header("wuye_outbox_outcomes_total", "counter",
                         "Outbox delivery attempts by outcome.")
        for outcome, n in sorted(_outbox.items()):
            lines.append(f"wuye_outbox_outcomes_total{_labels({'outcome': outcome})} {n}")
    lines += _header("wuye_outbox_backlog", "gauge",
                     "Outbox rows not yet delivered, by status, counted at scrape time.")
    for status, n in sorted(outbox_backlog.items()):
        lines.append(f"wuye_outbox_backlog{_labels({'status': status})} {n}")
    return "\n".join(lines) + "\n"


def _histogram_lines(outcome: str) -> Iterable[str]:
    bounds = [*CALLBACK_BUCKETS, math.inf]
    counts = [*_callback_buckets[outcome], _callback_count[outcome]]
    for bound, n in zip(bounds, counts, strict=True):
        labels = _labels({"outcome": outcome, "le": _number(bound)})
        yield f"wuye_callback_seconds_bucket{labels} {n}"
    yield f"wuye_callback_seconds_sum{_labels({'outcome': outcome})} {_callback_sum[outcome]!r}"
    yield f"wuye_callback_seconds_count{_labels({'outcome': outcome})} {_callback_count[outcome]}"
