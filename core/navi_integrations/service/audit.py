"""The audit trail: who read which token, which tool the gateway called (never a value),
and the change marker that tells a server another process changed something."""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any, Literal

from ..scopes import Scope
from ..store import reads

if TYPE_CHECKING:
    from ._parts import Parts

__all__ = ["AuditKind", "AuditTrail", "DeferredAudit"]

_log = logging.getLogger(__name__)

#: What an audit entry records: a credential handed out, or a tool called through the gateway.
AuditKind = Literal["token_read", "tool_call"]


class AuditTrail:
    """Audit entries and change detection, over the queries."""

    def __init__(self, parts: Parts) -> None:
        self._parts = parts

    def audit_token_read(
        self, provider_id: str, project_id: str | None, caller: str, *, outcome: str = "ok"
    ) -> None:
        """Record that ``caller`` read ``provider_id``'s token in a scope (never the value)."""
        self.record_audit(
            "token_read", provider_id, project_id=project_id, caller=caller, outcome=outcome
        )

    def record_audit(
        self,
        kind: AuditKind,
        provider_id: str,
        *,
        project_id: str | None = None,
        caller: str = "",
        tool: str | None = None,
        duration_ms: int | None = None,
        outcome: str = "ok",
    ) -> None:
        """Append one audit entry: a token read, or a gateway tool call with its duration."""
        entry = reads.audit_entry(
            kind,
            provider_id,
            Scope.of(project_id).project_id,
            caller,
            outcome=outcome,
            tool=tool,
            duration_ms=duration_ms,
        )
        self._parts.queries.audit.record_audit(entry)

    def deferred(self, *, max_delay: float = 0.05, max_batch: int = 500) -> DeferredAudit:
        """A writer that takes audit entries off the caller's path (see :class:`DeferredAudit`);
        the caller closes it."""
        return DeferredAudit(self._parts.queries.audit, max_delay=max_delay, max_batch=max_batch)

    def audit_log(
        self, *, limit: int = 100, kind: AuditKind | None = None, provider: str | None = None
    ) -> list[dict[str, Any]]:
        """The newest audit entries first, as documents: ``{kind, provider, scope, projectId,
        caller, tool, durationMs, outcome, at}`` (``at`` in epoch milliseconds)."""
        rows = self._parts.queries.audit.audit_entries(limit=limit, kind=kind, provider=provider)
        return [
            {
                "kind": r["kind"],
                "provider": r["provider"],
                "scope": "project" if r["project_id"] else "user",
                "projectId": r["project_id"] or None,
                "caller": r["caller"],
                "tool": r["tool"],
                "durationMs": r["duration_ms"],
                "outcome": r["outcome"],
                "at": r["at"],
            }
            for r in rows
        ]

    def change_marker(self) -> tuple[Any, ...]:
        """A value that changes whenever any process changes a connection, switch or health
        (one cheap query): poll it to notice changes made elsewhere."""
        return self._parts.queries.audit.change_marker()


class DeferredAudit:
    """Audit entries written off the request path: :meth:`add` queues an entry and returns;
    one thread writes what has queued in one transaction, at most ``max_delay`` seconds after
    the first entry of a batch (or as soon as ``max_batch`` have queued).

    :meth:`close` writes everything still queued, so a clean shutdown loses nothing; a
    process killed outright loses at most the entries of the last ``max_delay`` seconds
    (those not yet in a committed batch). A batch that cannot be written is retried once,
    then dropped with a warning that says how many entries were lost.
    """

    _STOP = object()

    def __init__(self, queries: Any, *, max_delay: float = 0.05, max_batch: int = 500) -> None:
        self._queries = queries
        self._max_delay = max_delay
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        #: Entries dropped after a failed write (kept for the closing report and tests).
        self.lost = 0

    def add(
        self,
        kind: AuditKind,
        provider_id: str,
        *,
        project_id: str | None = None,
        caller: str = "",
        tool: str | None = None,
        duration_ms: int | None = None,
        outcome: str = "ok",
    ) -> None:
        """Queue one entry (the arguments of :meth:`AuditTrail.record_audit`), stamped now."""
        entry = reads.audit_entry(
            kind,
            provider_id,
            Scope.of(project_id).project_id,
            caller,
            outcome=outcome,
            tool=tool,
            duration_ms=duration_ms,
        )
        if self._closed:  # after close: written at once rather than lost
            self._write([entry])
            return
        if self._thread is None:
            self._start()
        self._queue.put(entry)

    def close(self) -> None:
        """Write every queued entry and stop the writer thread (idempotent)."""
        with self._start_lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(self._STOP)
            thread.join()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every entry queued before this call is written (the audit log read
        right after a token read shows it); False when the writer did not get there in
        ``timeout`` seconds."""
        with self._start_lock:
            if self._thread is None or self._closed:
                return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="navi-audit-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is self._STOP:
                break
            if isinstance(first, threading.Event):  # a flush with nothing before it
                first.set()
                continue
            batch = [first]
            flushes: list[threading.Event] = []
            deadline = time.monotonic() + self._max_delay
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is self._STOP:
                    stopping = True
                    break
                if isinstance(item, threading.Event):  # written up to here: then set
                    flushes.append(item)
                    break
                batch.append(item)
            self._write(batch)
            for flushed in flushes:
                flushed.set()
        late, waiting = [], []  # queued by an add() or flush() that raced close()
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, threading.Event):
                waiting.append(item)
            elif item is not self._STOP:
                late.append(item)
        if late:
            self._write(late)
        for flushed in waiting:
            flushed.set()

    def _write(self, batch: list[dict[str, Any]]) -> None:
        for attempt in (1, 2):
            try:
                self._queries.record_audits(batch)
                return
            except Exception as exc:  # the store is busy or gone: the call itself went fine
                if attempt == 2:
                    self.lost += len(batch)
                    _log.warning("navi: %d audit entries could not be written: %s", len(batch), exc)
                else:
                    time.sleep(0.2)
