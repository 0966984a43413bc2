"""What happened to a connection, named from the exception chain `requests` hands us.

`requests` wraps every socket failure in one `ConnectionError`, whether the server could not be reached
at all or dropped a request it had already accepted. The admin needs to know which: a refused or
unresolvable address is a setup mistake (Server URL, Docker networking, a proxy), while a connection the
server closed or reset is a server-side event (a restart, an OOM kill, an overloaded accept queue, a load
balancer's idle timeout) where the Docker advice would send them the wrong way.

Three outcomes, read from urllib3's and the socket layer's own exceptions (never from message text when a
type says it): could not connect; closed or reset before any answer; cut off in the middle of the answer.
`transport_error` turns every failure below HTTP (those three, TLS, a proxy, a read timeout) into the
InvokeConnectionError the admin reads.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from enum import Enum

import requests
import urllib3.exceptions as u3
from dify_plugin.errors.model import InvokeConnectionError, InvokeError

from models._xinference.errors import squash
from models._xinference.hints import connect_hints, proxy_hint


class Fault(Enum):
    CONNECT = "could not connect"
    CONNECT_TIMEOUT = "connect timeout"
    DROPPED = "closed or reset before answering"
    CUT_OFF = "cut off mid-answer"
    OTHER = "other"


_CONNECT_CAUSES = (u3.NewConnectionError, ConnectionRefusedError, socket.gaierror)
_DROP_CAUSES = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
_CUT_CAUSES = http.client.IncompleteRead  # urllib3's IncompleteRead and InvalidChunkLength included


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps: args and `reason` (where urllib3 and requests nest them),
    __cause__ and __context__."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [a for a in current.args if isinstance(a, BaseException)]
        linked = (current.__cause__, current.__context__, getattr(current, "reason", None))  # MaxRetryError
        todo += [c for c in linked if isinstance(c, BaseException)]


def classify(exc: BaseException) -> Fault:
    chain = list(causes(exc))
    if any(_connect_timeout(e) for e in chain):
        return Fault.CONNECT_TIMEOUT
    if any(isinstance(e, _CONNECT_CAUSES) for e in chain):
        return Fault.CONNECT
    # urllib3 says "Connection broken" once the status line was read, "Connection aborted" before it
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) or any(
        isinstance(e, _CUT_CAUSES) or _protocol_error(e, "Connection broken") for e in chain
    ):
        return Fault.CUT_OFF
    if any(isinstance(e, _DROP_CAUSES) or _protocol_error(e, "Connection aborted") for e in chain):
        return Fault.DROPPED
    if isinstance(exc, requests.exceptions.ConnectionError):
        return Fault.CONNECT  # nothing typed inside (urllib3 always wraps one): the wording of old
    return Fault.OTHER


def _connect_timeout(exc: BaseException) -> bool:
    # urllib3 derives NewConnectionError (refused, DNS) from ConnectTimeoutError: only the bare one timed out
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    return isinstance(exc, u3.ConnectTimeoutError) and not isinstance(exc, u3.NewConnectionError)


def _protocol_error(exc: BaseException, words: str) -> bool:
    return isinstance(exc, u3.ProtocolError) and str(exc.args[0] if exc.args else "").startswith(words)


def describe(exc: BaseException, server_url: str, root_cause: str) -> str | None:
    """What to tell the admin about a connection-level failure, or None when it is none of the three."""
    fault = classify(exc)
    if fault is Fault.CONNECT_TIMEOUT:
        return "timed out while connecting; is the host up and the port open?" + connect_hints(server_url)
    if fault is Fault.CONNECT:
        problem = f"could not connect ({root_cause}); check Server URL and that Xinference is running"
        return problem + connect_hints(server_url)
    if fault is Fault.DROPPED:
        return (
            f"the server closed or reset the connection before answering ({root_cause}). The server was "
            "reached: Xinference may have restarted, been killed (e.g. out of memory) or be overloaded, or "
            "a proxy or load balancer in between dropped the connection; see the Xinference log"
        )
    if fault is Fault.CUT_OFF:
        return "the connection was cut while the answer was being received"
    return None


def transport_error(exc: requests.RequestException, server_url: str, what: str) -> InvokeError:
    """A failure below HTTP: refused, reset, DNS, TLS, timeout — all InvokeConnectionError, worded by
    what happened (`describe`)."""
    if isinstance(exc, requests.exceptions.ProxyError):
        problem = (
            f"the HTTP proxy set in the plugin daemon's environment failed ({_root_cause(exc)})"
            + proxy_hint(server_url, proxy_page=True)
        )
        return InvokeConnectionError(f"{what} at {server_url}: {problem}")
    if isinstance(exc, requests.exceptions.SSLError):
        problem = (
            "the TLS certificate could not be verified. Trust it by setting REQUESTS_CA_BUNDLE on the plugin "
            "daemon to a CA file that signs it, or turn off 'Verify TLS certificate' for this model"
        )
    elif isinstance(exc, requests.exceptions.ReadTimeout) or _read_timed_out(exc):
        problem = "the server stopped answering for longer than the configured timeout"
    else:  # could not connect / closed or reset before answering / cut off mid-answer
        problem = describe(exc, server_url, _root_cause(exc)) or squash(str(exc))
    return InvokeConnectionError(f"{what} at {server_url}: {problem}")


def _read_timed_out(exc: BaseException) -> bool:
    """A read timeout while a body streams surfaces as ConnectionError(urllib3 ReadTimeoutError)."""
    return any(isinstance(cause, u3.ReadTimeoutError) for cause in causes(exc))


def _root_cause(exc: BaseException) -> str:
    seen = exc
    while seen.__cause__ is not None or seen.__context__ is not None:
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
    text = str(seen)
    # urllib3 messages embed the connection object repr; keep the human part after the colon
    if "Failed to establish a new connection:" in text:
        text = text.split("Failed to establish a new connection:", 1)[1]
    return squash(text.strip(" >)'\"")) or type(seen).__name__
