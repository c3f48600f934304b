"""Change events: what a host app (or the settings page) may want to react to.

Every connection and health change the library makes is published on an
:class:`EventBus`; the service's ``subscribe`` hands callbacks to it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["ChangeEvent", "EventBus", "Subscriber"]


@dataclass(frozen=True)
class ChangeEvent:
    """A change a host app may want to react to (e.g. prompt the user to reconnect).

    ``kind`` is ``"health"`` (``before``/``after`` are health states) or
    ``"connection"`` (``"connected"``/``"disconnected"``/``"enabled"``/``"disabled"``/
    ``"settings"``).
    """

    provider: str
    project_id: str | None
    kind: Literal["health", "connection"]
    before: str | None
    after: str
    message: str = ""


Subscriber = Callable[[ChangeEvent], None]


class EventBus:
    """Subscribers, and the publishing of events to them (a failing subscriber is logged)."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` on every event; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    @property
    def active(self) -> bool:
        """Whether anyone listens (events are not even built otherwise)."""
        return bool(self._subscribers)

    def emit(self, event: ChangeEvent) -> None:
        """Publish ``event``; a subscriber that raises does not stop the others."""
        with self._lock:
            callbacks = list(self._subscribers)
        for callback in callbacks:
            try:
                callback(event)
            except Exception:  # a host app's bug must not break a credential operation
                logging.getLogger(__name__).exception("subscriber failed on %s", event.kind)
