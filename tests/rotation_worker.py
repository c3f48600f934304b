"""A process of the rotation-under-writes test: a writer (connects, logs what succeeded) or a
rotator (rotates the master key again and again until a stop file appears)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from navi_integrations import IntegrationService
from navi_integrations.store.engine import Store


def write(url: str, worker: int, count: int, log_path: str) -> None:
    service = IntegrationService(store=Store(url))
    done = []
    for i in range(count):
        project = f"w{worker}-{i % 3}"
        value = f"lin_api_{worker:02d}x{i:05d}".ljust(48, "z")
        service.connect("linear", {"apiKey": value}, project_id=project)
        done.append([project, value])  # connect returned: this value must survive
    Path(log_path).write_text(json.dumps(done))


def rotate(url: str, stop_path: str, log_path: str) -> None:
    service = IntegrationService(store=Store(url))
    reports = []
    while not Path(stop_path).exists():
        report = service.rotate_keys(batch_size=5)
        reports.append([report.reencrypted, report.unreadable, report.dropped_keys])
        time.sleep(0.01)
    Path(log_path).write_text(json.dumps(reports))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        rotate(sys.argv[2], sys.argv[3], sys.argv[4])
