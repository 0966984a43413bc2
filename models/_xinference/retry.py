"""The retry policy: what may be sent again, and how long to wait first.

Only three failures are retried, all harmless to repeat:
- the connection could not be opened (nothing reached the server);
- 503 with `Retry-After` (Xinference's "model is still loading");
- a cluster supervisor's 500 saying it could not connect to the worker holding the model (the model
  never saw the request; the supervisor routes the next attempt to the next replica).
Never 401/403: Xinference bans the whole client IP after 10 failed keys in 5 minutes, and one Dify
host is one IP for every tenant. Never a read timeout or a reset after sending (the server may have
done the work), and never once a stream has started.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import requests

BACKOFF_BASE = 0.5  # seconds before the first retry of a connection failure
BACKOFF_CAP = 8.0
RETRY_AFTER_CAP = 10.0  # a 503 asks for 30 s; we re-check sooner, within the overall deadline


@dataclass
class RetryBudget:
    """Counts attempts and keeps every wait inside the caller's deadline."""

    max_retries: int
    deadline: float  # time.monotonic() value after which no retry starts
    attempt: int = 0

    @classmethod
    def start(cls, max_retries: int, timeout: float) -> RetryBudget:
        return cls(max_retries=max_retries, deadline=time.monotonic() + timeout)

    def wait_before_retry(self, delay: float) -> bool:
        """Sleep `delay` and return True if another attempt fits the budget; else False."""
        if self.attempt >= self.max_retries or time.monotonic() + delay >= self.deadline:
            return False
        self.attempt += 1
        time.sleep(delay)
        return True


def is_unsent_connection_failure(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.SSLError | requests.exceptions.ReadTimeout):
        return False  # TLS misconfiguration will not heal; a read timeout means it was sent
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = repr(exc)
        return any(
            marker in text for marker in ("NewConnectionError", "NameResolutionError", "Connection refused")
        )
    return False


def backoff_delay(attempt: int) -> float:
    """Exponential backoff with up to 25 % jitter so many callers do not retry in lockstep."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * (2**attempt))
    return delay * (1 + random.random() / 4)


def retry_after_delay(response: requests.Response) -> float | None:
    """The wait a 503 asks for, capped; None when the response is not a retryable 503."""
    if response.status_code != 503:
        return None
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP-date Retry-After: Xinference never sends one
    return max(0.0, min(seconds, RETRY_AFTER_CAP))
