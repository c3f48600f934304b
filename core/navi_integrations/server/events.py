"""The change stream behind ``GET /api/events`` (server-sent events).

Two sources feed it. Changes this process makes arrive at once through
``service.subscribe`` (``change`` events: connection, switches, health
transitions with before/after). Changes made by other processes (the CLI,
another server on the same PostgreSQL) are noticed by polling
``service.change_marker()`` — one cheap statement — every ``interval``
seconds; when the marker moves, the status documents of the scopes someone
watches are rebuilt and each entry that differs is sent as a ``status``
event. The same diff follows in-process changes, so a page only needs the
``status`` events to stay current.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..health.events import ChangeEvent
    from ..service import IntegrationService

__all__ = ["Broadcaster", "Listener"]

_log = logging.getLogger(__name__)


@dataclass(eq=False)
class Listener:
    """One client of the stream: its queue, its event loop and the scope it watches."""

    project_id: str | None
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=1000)
    )

    def put(self, event: str, data: dict[str, Any]) -> None:
        """Hand an event to the client's loop (thread-safe); a stuck client loses events."""

        def deliver() -> None:
            if not self.queue.full():
                self.queue.put_nowait((event, data))

        with contextlib.suppress(RuntimeError):  # the client's loop is closed: it is leaving
            self.loop.call_soon_threadsafe(deliver)


class Broadcaster:
    """Polls for changes while anyone listens and fans events out to the listeners."""

    def __init__(self, service: IntegrationService, *, interval: float = 0.5) -> None:
        self._service = service
        self._interval = interval
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Any = None
        self._snapshots: dict[str | None, dict[str, dict[str, Any]]] = {}

    def add(self, listener: Listener) -> None:
        """Start streaming to ``listener`` (and start polling if it is the first)."""
        snapshot = self._entries(listener.project_id)
        with self._lock:
            self._snapshots.setdefault(listener.project_id, snapshot)
            self._listeners.append(listener)
            if self._thread is None:
                self._stop = threading.Event()  # each polling thread has its own stop
                self._unsubscribe = self._service.subscribe(self._on_change)
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name="navi-events", daemon=True
                )
                self._thread.start()

    def remove(self, listener: Listener) -> None:
        """Stop streaming to ``listener`` (and stop polling after the last one)."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
            if not self._listeners:
                self.close()

    def close(self) -> None:
        """Stop polling (the next listener starts it again)."""
        self._stop.set()
        self._wake.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._thread = None
        self._snapshots = {}

    def _on_change(self, event: ChangeEvent) -> None:
        data = {
            "provider": event.provider,
            "projectId": event.project_id,
            "kind": event.kind,
            "before": event.before,
            "after": event.after,
            "message": event.message,
        }
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            # A user-scope change applies to every project that inherits it.
            if event.project_id in (None, listener.project_id):
                listener.put("change", data)
        self._wake.set()

    def _entries(self, project_id: str | None) -> dict[str, dict[str, Any]]:
        document = self._service.status_document(project_id=project_id)
        return {entry["provider"]: entry for entry in document["integrations"]}

    def _run(self, stop: threading.Event) -> None:
        marker: Any = None
        while not stop.is_set():
            try:
                current = self._service.change_marker()
                if current != marker or self._wake.is_set():
                    self._wake.clear()
                    if marker is not None:
                        self._publish()
                    marker = current
            except Exception:  # a database hiccup must not end the stream; try again
                _log.exception("polling for changes failed")
            self._wake.wait(self._interval)

    def _publish(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for project_id in {listener.project_id for listener in listeners}:
            entries = self._entries(project_id)
            before = self._snapshots.get(project_id, {})
            self._snapshots[project_id] = entries
            for provider, entry in entries.items():
                if before.get(provider) == entry:
                    continue
                for listener in listeners:
                    if listener.project_id == project_id:
                        listener.put("status", entry)


def sse(event: str, data: dict[str, Any]) -> bytes:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()
