"""Run the HTTP API for a test: uvicorn on 127.0.0.1 (a real socket, a free port), in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Running:
    """A server under test: its base URL, bearer token, settings and service."""

    url: str
    token: str
    settings: Any
    service: Any

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client with the bearer token."""
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0, **kwargs)

    def login(self) -> httpx.Client:
        """A browser-like client: spends a login code and keeps the session cookie."""
        client = httpx.Client(base_url=self.url, timeout=30.0)
        code = self.settings.sessions.new_code()
        response = client.get(f"/login?code={code}")
        assert response.status_code == 303, response.text
        return client


@contextmanager
def running_server(
    service: Any = None, *, poll_interval: float = 0.2, mount: str = ""
) -> Iterator[Running]:
    """Serve ``create_app(service)`` until the block ends (mounted under ``mount`` in a
    host app when given)."""
    import uvicorn
    from navi_integrations import IntegrationService
    from navi_integrations.server import ServerSettings, api_token, create_app

    svc = service if service is not None else IntegrationService()
    settings = ServerSettings(poll_interval=poll_interval)
    app: Any = create_app(svc, settings)
    if mount:
        from fastapi import FastAPI

        host = FastAPI()
        host.mount(mount, app)
        app = host
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield Running(f"http://127.0.0.1:{sock.getsockname()[1]}", api_token(), settings, svc)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
