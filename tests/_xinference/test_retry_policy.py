"""What is sent again, and after which wait (models/_xinference/retry.py): only a connection that never
reached the server is retried (refused, unreachable host, unresolvable name, connect timeout); the backoff
starts at 0.5 s with at most 25 % jitter; no retry starts whose wait would end at or after the deadline."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest
import requests
import urllib3.exceptions as u3
from urllib3.connection import HTTPConnection

from models._xinference import retry
from models._xinference.retry import RetryBudget, is_unsent_connection_failure


def _wrapped(reason: Exception) -> requests.exceptions.ConnectionError:
    """What requests raises: its ConnectionError around urllib3's MaxRetryError around the reason."""
    pool_error = u3.MaxRetryError(None, "/v1/models", reason=reason)
    return requests.exceptions.ConnectionError(pool_error)


_CONN = HTTPConnection("xinference.test", 9997)

NEVER_SENT = {
    "refused": _wrapped(
        u3.NewConnectionError(_CONN, "Failed to establish a new connection: [Errno 111] Connection refused")
    ),
    "host unreachable": _wrapped(
        u3.NewConnectionError(_CONN, "Failed to establish a new connection: [Errno 113] No route to host")
    ),
    "name not resolved": _wrapped(
        u3.NameResolutionError("xinference.test", _CONN, socket.gaierror(-2, "Name or service not known"))
    ),
    "connect timeout": requests.exceptions.ConnectTimeout("timed out"),
}
MAYBE_SENT = {
    "reset after sending": _wrapped(
        u3.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    ),
    "read timeout": requests.exceptions.ReadTimeout("read timed out"),
    "TLS": requests.exceptions.SSLError("certificate verify failed"),
    "body cut off": requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"),
}


@pytest.mark.parametrize("name", NEVER_SENT)
def test_a_request_that_never_reached_the_server_is_retried(name):
    assert is_unsent_connection_failure(NEVER_SENT[name]) is True


@pytest.mark.parametrize("name", MAYBE_SENT)
def test_a_request_the_server_may_have_received_is_not_retried(name):
    assert is_unsent_connection_failure(MAYBE_SENT[name]) is False


def test_the_backoff_doubles_from_half_a_second_with_at_most_a_quarter_of_jitter(monkeypatch):
    monkeypatch.setattr(retry.random, "random", lambda: 0.999999)
    waits = [retry.backoff_delay(attempt) for attempt in range(6)]
    assert waits == pytest.approx([0.625, 1.25, 2.5, 5.0, 10.0, 10.0], abs=1e-5)


def _frozen_budget(monkeypatch, timeout: float, slept: list[float]) -> RetryBudget:
    monkeypatch.setattr(retry, "time", SimpleNamespace(monotonic=lambda: 100.0, sleep=slept.append))
    return RetryBudget.start(max_retries=5, timeout=timeout)


def test_a_wait_that_ends_exactly_at_the_deadline_is_not_started(monkeypatch, slept):
    budget = _frozen_budget(monkeypatch, 5.0, slept)
    assert budget.wait_before_retry(5.0) is False
    assert budget.wait_before_retry(4.9) is True
    assert slept == [4.9] and budget.attempt == 1


def test_no_wait_once_the_retries_are_spent(monkeypatch, slept):
    budget = _frozen_budget(monkeypatch, 60.0, slept)
    budget.max_retries = 1
    assert [budget.wait_before_retry(0.5), budget.wait_before_retry(0.5)] == [True, False]
    assert slept == [0.5]
