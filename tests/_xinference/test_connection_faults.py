"""Which of the three connection faults an exception chain is, read from the exceptions requests and
urllib3 really raise (models/_xinference/connection_faults.py), and the words the admin gets for each."""

from __future__ import annotations

import http.client
import threading

import pytest
import requests
import urllib3.exceptions as u3
from urllib3.connection import HTTPConnection

from models._xinference.connection_faults import Fault, classify, describe


@pytest.fixture(autouse=True)
def _no_proxy_settings(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


_CONN = HTTPConnection("xinference.test", 9997)
URL = "http://xinference.test:9997"


def _pool_error(reason: Exception, wrapper=requests.exceptions.ConnectionError) -> Exception:
    """requests' error around urllib3's MaxRetryError, which keeps the reason in `.reason` only."""
    return wrapper(u3.MaxRetryError(None, "/v1/models", reason=reason))


def _aborted(cause: Exception) -> Exception:
    return requests.exceptions.ConnectionError(u3.ProtocolError("Connection aborted.", cause))


def _context(outer: Exception, inner: Exception) -> Exception:
    outer.__context__ = inner
    return outer


def _caused(outer: Exception, *, cause: Exception, context: Exception) -> Exception:
    """`raise outer from cause` while handling `context`."""
    outer.__cause__ = cause
    return _context(outer, context)


_INNER = OSError("inner")  # reached twice: as an argument and as the context of the same error


CHAINS = {
    "refused": (_pool_error(u3.NewConnectionError(_CONN, "[Errno 111] Connection refused")), Fault.CONNECT),
    "connect timeout": (
        _pool_error(u3.ConnectTimeoutError(_CONN, "timed out"), requests.exceptions.ConnectTimeout),
        Fault.CONNECT_TIMEOUT,
    ),
    "urllib3 connect timeout alone": (
        requests.exceptions.ConnectionError(u3.ConnectTimeoutError(_CONN, "timed out")),
        Fault.CONNECT_TIMEOUT,
    ),
    "reset before answering": (
        _aborted(ConnectionResetError(104, "Connection reset by peer")),
        Fault.DROPPED,
    ),
    "closed before answering": (_aborted(http.client.RemoteDisconnected("closed")), Fault.DROPPED),
    "a port that does not speak HTTP": (
        _aborted(http.client.BadStatusLine("SSH-2.0-OpenSSH")),
        Fault.DROPPED,
    ),
    "reset while the body arrives": (
        requests.exceptions.ConnectionError(
            u3.ProtocolError(
                "Connection broken: ConnectionResetError(104)", ConnectionResetError(104, "reset")
            )
        ),
        Fault.CUT_OFF,
    ),
    "reset found through __context__": (
        _context(requests.exceptions.ConnectionError("failed"), ConnectionResetError(104, "reset")),
        Fault.DROPPED,
    ),
    "refused found through a cause's __context__": (
        _context(
            requests.exceptions.ConnectionError("failed"),
            _context(OSError("wrapped"), ConnectionRefusedError()),
        ),
        Fault.CONNECT,
    ),
    "a chunked body that ended early": (
        requests.exceptions.ChunkedEncodingError(u3.ProtocolError("Response ended prematurely")),
        Fault.CUT_OFF,
    ),
    "a drop urllib3 reports after its own retries": (
        _pool_error(u3.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))),
        Fault.DROPPED,
    ),
    "a protocol error without words": (
        requests.exceptions.ConnectionError(u3.ProtocolError()),
        Fault.CONNECT,
    ),
    "a reset named as the cause, past a context that holds one error twice": (
        _caused(
            requests.exceptions.ConnectionError("failed"),
            cause=ConnectionResetError(104, "reset"),
            context=_context(OSError("wrapped", _INNER), _INNER),
        ),
        Fault.DROPPED,
    ),
    "no typed cause": (requests.exceptions.ConnectionError("something failed"), Fault.CONNECT),
    "not a connection failure": (requests.exceptions.InvalidURL("bad"), Fault.OTHER),
}


@pytest.mark.parametrize("name", CHAINS)
def test_each_chain_is_the_fault_it_is(name):
    exc, fault = CHAINS[name]
    assert classify(exc) is fault


def test_a_chain_that_loops_back_is_still_classified_and_never_hangs():
    first, second = OSError("first"), OSError("second")
    first.__context__, second.__context__ = second, first
    looped = _context(requests.exceptions.ConnectionError("failed"), first)
    found: list[Fault] = []
    worker = threading.Thread(target=lambda: found.append(classify(looped)), daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert found == [Fault.CONNECT]


def test_what_the_admin_reads_for_each_fault():
    refused, _ = CHAINS["refused"]
    assert describe(refused, URL, "refused") == (
        "could not connect (refused); check Server URL and that Xinference is running"
    )
    timeout, _ = CHAINS["connect timeout"]
    assert describe(timeout, URL, "t") == "timed out while connecting; is the host up and the port open?"
    dropped, _ = CHAINS["reset before answering"]
    assert describe(dropped, URL, "reset") == (
        "the server closed or reset the connection before answering (reset). The server was reached: "
        "Xinference may have restarted, been killed (e.g. out of memory) or be overloaded, or a proxy or "
        "load balancer in between dropped the connection; see the Xinference log"
    )
    cut, _ = CHAINS["reset while the body arrives"]
    assert describe(cut, URL, "x") == "the connection was cut while the answer was being received"
    assert describe(requests.exceptions.InvalidURL("bad"), URL, "x") is None
