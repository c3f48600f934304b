"""Figures of the MCP gateway (issue 13), all in one run on this machine:

1. median and p99 latency of a trivial tool call (``echo``) through the gateway against
   the same call made directly to the same upstream server (target <= 1.5x, or < 2 ms added);
2. time from launching the gateway to its first ``tools/list`` answer with five providers
   enabled: with no saved listing (every upstream starts) and with one (none starts);
3. resident memory of the gateway process with five upstreams running (children apart).

The upstream is the SDK server of the tests (``tests/gateway_upstream.py``) as a stdio
child; the gateway runs as its own process over stdio, as an agent runtime launches it.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = ROOT / "tests" / "gateway_upstream.py"
PROVIDERS = [f"bench{n}" for n in range(1, 6)]
CALLS = 400


def _registry() -> Any:
    from navi_integrations.models import IntegrationProvider
    from navi_integrations.plugins.registry import Registry

    registry = Registry().load()
    for pid in PROVIDERS:
        registry.register_provider(
            IntegrationProvider.model_validate(
                {
                    "id": pid,
                    "name": pid.title(),
                    "description": "benchmark",
                    "authType": "api_key",
                    "credentials": [{"key": "apiKey", "label": "Key", "type": "password"}],
                    "mcp": {
                        "transport": "stdio",
                        "command": sys.executable,
                        "args": [str(UPSTREAM), pid],
                        "env": {"BENCH_KEY": "{{apiKey}}"},
                    },
                }
            )
        )
    return registry


def serve() -> None:
    """The gateway process: five benchmark providers registered, served over stdio."""
    import anyio
    from navi_integrations import IntegrationService
    from navi_integrations.gateway import Gateway

    gateway = Gateway(IntegrationService(registry=_registry()))
    profile_to = os.environ.get("BENCH_GATEWAY_PROFILE")  # a path: where the gateway's profile goes
    if not profile_to:
        anyio.run(gateway.run_stdio)
        return
    import cProfile

    with cProfile.Profile() as profile:
        anyio.run(gateway.run_stdio)
    profile.dump_stats(profile_to)


async def _timed_calls(session: Any, tool: str) -> list[float]:
    for _ in range(20):  # warm up
        await session.call_tool(tool, {"text": "x"})
    samples = []
    for _ in range(CALLS):
        start = time.perf_counter()
        await session.call_tool(tool, {"text": "x"})
        samples.append(time.perf_counter() - start)
    return samples


def _stdio(command: list[str]) -> Any:
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    return stdio_client(params)


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _gateway_pid() -> int:
    me = str(os.getpid())
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text().split()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if stat[3] == me and b"--serve" in cmdline:
            return int(proc.name)
    return 0


async def _through_gateway() -> tuple[float, float, list[float], int]:
    from mcp import ClientSession

    launch = [sys.executable, __file__, "--serve"]
    started = time.perf_counter()
    async with _stdio(launch) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = (await session.list_tools()).tools
        cold = time.perf_counter() - started
        assert len({t.name.split("__")[0] for t in tools}) == 5, [t.name for t in tools]
        for pid in PROVIDERS:  # every upstream running
            await session.call_tool(f"{pid}__echo", {"text": "x"})
        samples = await _timed_calls(session, "bench1__echo")
        rss = _rss_kb(_gateway_pid())
    started = time.perf_counter()
    async with _stdio(launch) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.list_tools()
        warm = time.perf_counter() - started
    return cold, warm, samples, rss


async def _direct() -> list[float]:
    from mcp import ClientSession

    async with (
        _stdio([sys.executable, str(UPSTREAM), "direct"]) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await _timed_calls(session, "echo")


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def main() -> int:
    with tempfile.TemporaryDirectory() as home:
        os.environ.update({"NAVI_INTEGRATIONS_HOME": home, "NAVI_INTEGRATIONS_KEYRING": "0"})
        from navi_integrations import IntegrationService

        service = IntegrationService(registry=_registry())
        for pid in PROVIDERS:
            service.store_credentials(pid, {"apiKey": f"{pid}-secret-key"})
        direct = asyncio.run(_direct())
        cold, warm, through, rss = asyncio.run(_through_gateway())
        direct2 = asyncio.run(_direct())  # the same run, after: noise hits both alike
    direct = direct + direct2
    d_med, g_med = statistics.median(direct), statistics.median(through)
    print(f"\nTrivial tool call over stdio, {CALLS} calls each (ms)")
    print(
        f"  direct to the upstream     median {d_med * 1000:6.2f}  p99 {_p99(direct) * 1000:6.2f}"
    )
    print(
        f"  through the gateway        median {g_med * 1000:6.2f}  p99 {_p99(through) * 1000:6.2f}"
    )
    added = (g_med - d_med) * 1000
    ok = g_med / d_med <= 1.5 or added < 2.0
    print(f"  ratio {g_med / d_med:.2f}x, {added:.2f} ms added  {'ok' if ok else 'OVER target'}")
    print("\nLaunch to first tools/list, five providers")
    print(f"  no saved listing (five upstreams start)  {cold * 1000:8.0f} ms")
    print(f"  saved listing (no upstream starts)       {warm * 1000:8.0f} ms")
    print(f"\nGateway RSS with five upstreams running: {rss / 1024:.1f} MiB (children apart)")
    return 0 if ok else 1


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve()
    else:
        sys.exit(main())
