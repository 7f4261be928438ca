"""Load generation with wrk, replaying pre-built requests (each sent once per run).

Requests are written one per line as `METHOD\tPATH\tHEADER;HEADER\tBODY`; the Lua script gives
each wrk thread every n-th line, so no request (MsgId, nonce) is sent twice. An answer other
than 200 (a redirect to sign-in included) counts as an error.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

LUA = r"""
local threads = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  requests = {}
  local n, i = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if i % n == tid then
      local method, path, hdrs, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {}
      for h in hdrs:gmatch("[^;]+") do
        local k, v = h:match("^([^:]+):%s*(.*)$")
        headers[k] = v
      end
      if body == "" then body = nil end
      table.insert(requests, wrk.format(method, path, headers, body))
    end
    i = i + 1
  end
  idx = 0
  non200 = 0
end
function request()
  idx = idx + 1
  if idx > #requests then idx = 1 end
  return requests[idx]
end
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
function done(summary, latency, requests)
  local not_ok = 0
  for _, thread in ipairs(threads) do not_ok = not_ok + thread:get("non200") end
  local out = io.open(os.getenv("WRK_SUMMARY"), "w")
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d, "mean_us": %f}',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout + not_ok,
    latency:percentile(50), latency:percentile(99), latency.mean))
  out:close()
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def write_requests(path: Path, lines: list[tuple[str, str, dict[str, str], str]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for method, target, headers, body in lines:
            hdrs = ";".join(f"{k}: {v}" for k, v in headers.items())
            f.write(f"{method}\t{target}\t{hdrs}\t{body}\n")


def run_wrk(base_url: str, requests_file: Path, *, connections: int = 64, threads: int = 2,
            seconds: float = 5) -> LoadResult:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "replay.lua"
        script.write_text(LUA)
        summary = Path(tmp) / "summary.json"
        subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(round(seconds), 1)}s",
             "--timeout", "10s", "-s", str(script), base_url, "--", str(requests_file),
             str(threads)],
            check=True, capture_output=True, env={"WRK_SUMMARY": str(summary), "PATH": "/usr/bin"})
        data = json.loads(summary.read_text())
    return LoadResult(requests=data["requests"], seconds=data["duration_us"] / 1e6,
                      errors=data["errors"], p50_ms=data["p50_us"] / 1000,
                      p99_ms=data["p99_us"] / 1000)
