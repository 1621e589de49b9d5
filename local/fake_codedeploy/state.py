"""What the moto patches and the control API share: recorded calls, injected faults, latency, page size.

One instance, here, so that what a test sets through the control API is what the patched moto reads.
Hold ``LOCK`` to touch the lists and the dict: moto's threaded server answers on several threads.
"""

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    operation: str
    params: dict[str, Any]
    at: float = field(default=0.0, compare=False)  # time.time() when received (benchmarks)


@dataclass
class Fault:
    operation: str
    code: str
    http_status: int
    message: str | None
    remaining: int  # -1: forever
    match: dict[str, Any] | None  # only calls whose parameters include these


@dataclass
class State:
    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    latency: dict[str | None, float] = field(default_factory=dict)  # by operation; None: every one
    page_size: int | None = None  # list operations' items per page; None: all


LOCK = threading.Lock()
STATE = State()
