"""Connections the server drops, against a real keep-alive server on 127.0.0.1 (keepalive_server.py):
what the admin is told, and the one resend that is safe (models/_xinference/sessions.py).

Each test uses its own server (its own port), so its own pooled session: call 1 opens a connection,
call 2 finds it kept alive in the pool."""

from __future__ import annotations

import pytest
from dify_plugin.errors.model import InvokeConnectionError

from models._xinference.credentials import parse_credentials
from models._xinference.sessions import pooled_session
from tests._xinference.client_support import client
from tests.reliability.keepalive_server import ANSWER, KeepAliveServer

pytestmark = pytest.mark.in_process  # loopback server threads, no plugin process: make test-fast runs it

EMBED = {"model": "m", "input": ["x"]}


def _post(c):
    return c.post_json("/v1/embeddings", EMBED)


def _second_call(server: KeepAliveServer, **overrides):
    """Call 1 (answered, leaves a kept-alive connection), then call 2; returns (client, attempts of call 2,
    handler requests of call 2, the result or error of call 2)."""
    c = client(server_url=server.url, **overrides)
    assert _post(c) == ANSWER and server.handled == 1
    sent_before = c.requests_sent
    try:
        outcome = _post(c)
    except InvokeConnectionError as err:
        outcome = err
    return c.requests_sent - sent_before, server.handled - 1, outcome


def test_request_lost_on_an_idle_closed_connection_is_resent_once_on_a_new_one():
    """The server closes the kept-alive connection as the request arrives: nothing reached the handler,
    the plugin sends it once more on a new connection, and the call succeeds. With Max retries 0: this
    resend is not the admin's retry budget."""
    with KeepAliveServer(on_reuse="idle_close") as server:
        attempts, handled, outcome = _second_call(server, max_retries="0")
    assert outcome == ANSWER
    assert server.dropped == 1 and handled == 1 and attempts == 2


def test_reset_after_the_answer_started_is_never_resent():
    with KeepAliveServer(on_reuse="reset_mid_answer") as server:
        attempts, handled, outcome = _second_call(server, max_retries="5")
    assert isinstance(outcome, InvokeConnectionError)
    assert "cut while the answer was being received" in str(outcome)
    assert handled == 1 and attempts == 1


def test_reset_before_answering_on_a_new_connection_is_not_resent_and_is_not_called_a_connect_failure():
    """The issue's report: a reset from a server that was reached is not 'could not connect', and the
    Docker advice (offered for 127.0.0.1) would send the admin the wrong way."""
    with KeepAliveServer(on_fresh="reset_before_answer") as server:
        c = client(server_url=server.url, max_retries="5")
        with pytest.raises(InvokeConnectionError) as info:
            _post(c)
    message = str(info.value)
    assert "closed or reset the connection before answering" in message, message
    assert "could not connect" not in message and "Docker" not in message
    assert server.handled == 1 and c.requests_sent == 1


def test_a_reused_connection_is_resent_at_most_once():
    """The handler got the request and reset before answering, on the reused and on the new connection:
    indistinguishable from an idle close for the client, so resent once, and never a third time."""
    with KeepAliveServer(on_reuse="reset_before_answer") as server:
        c = client(server_url=server.url, max_retries="5")
        assert _post(c) == ANSWER
        server.on_fresh = "reset_before_answer"
        with pytest.raises(InvokeConnectionError, match="before answering"):
            _post(c)
    assert server.handled == 3 and c.requests_sent == 3


def test_refused_connection_keeps_the_connect_wording_and_docker_advice():
    with KeepAliveServer() as server:
        url = server.url
    c = client(server_url=url, max_retries="0")
    with pytest.raises(InvokeConnectionError) as info:
        _post(c)
    assert "could not connect" in str(info.value) and "Docker" in str(info.value)


def test_urllib3_itself_never_retries():
    """The resend above is the only one below retry.py: urllib3's Retry is zero for every kind."""
    session = pooled_session(parse_credentials({"server_url": "http://127.0.0.1:1", "model_uid": "m"}))
    retries = session.get_adapter("http://127.0.0.1:1").max_retries
    assert retries.total == 0 and retries.read is False


def test_the_three_faults_are_read_from_the_exception_chain():
    import http.client

    import requests
    import urllib3.exceptions as u3

    from models._xinference.connection_faults import Fault, classify

    def wrapped(cause):
        return requests.exceptions.ConnectionError(u3.ProtocolError("Connection aborted.", cause))

    dns = u3.NameResolutionError("xinference.lan", None, OSError("Name or service not known"))
    assert classify(requests.exceptions.ConnectionError(u3.MaxRetryError(None, "/", dns))) is Fault.CONNECT
    timeout = u3.ConnectTimeoutError(None, "timed out")
    assert classify(requests.exceptions.ConnectTimeout(timeout)) is Fault.CONNECT_TIMEOUT
    assert classify(wrapped(ConnectionResetError(104, "reset"))) is Fault.DROPPED
    assert classify(wrapped(http.client.RemoteDisconnected("closed"))) is Fault.DROPPED
    broken = u3.ProtocolError("Connection broken: IncompleteRead(10 bytes read)", u3.IncompleteRead(10, 5))
    assert classify(requests.exceptions.ChunkedEncodingError(broken)) is Fault.CUT_OFF


def test_a_port_that_does_not_speak_http_is_a_server_that_answered_not_a_refused_connection():
    """Server URL on the wrong port (here an SSH server): the admin reads what that port answered."""
    import socket
    import threading

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)

        def banner() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

        threading.Thread(target=banner, daemon=True).start()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        c = client(server_url=url, max_retries="2")
        with pytest.raises(InvokeConnectionError) as info:
            c.get_json("/v1/models")
    assert c.requests_sent == 1  # it was sent: never sent again
    assert str(info.value).startswith(
        f"GET /v1/models at {url}: the server closed or reset the connection before answering "
        "(SSH-2.0-OpenSSH_9.6). The server was reached:"
    )
