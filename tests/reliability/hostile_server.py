"""A local Xinference look-alike with switchable misbehaviours, for the reliability suite.

The behaviour is chosen per request by the first path segment, so one server (and one plugin
process) serves every case concurrently: a model's Server URL is `http://127.0.0.1:<port>/<mode>`,
where mode is `<scope>.<name>.<token>`. `scope` is `post` (misbehave on inference POSTs only, so the
model description still loads) or `all` (misbehave on every request, description included); the
token makes each URL unique, which gives each case fresh counters, a fresh description cache entry
and a fresh pooled session in the plugin. `name` is a key of MISBEHAVIOURS, or `ok`.

Good answers are synthetic and fully known: a chat answers "Hello world" (stream: the pieces of
CHAT_PIECES), embeddings are [i, 1.0, 0.5] for text i, rerank scores fall with the document index.

This module holds the server itself and is what the tests import; the answers live in
hostile_answers.py, the handler and its writing primitives in hostile_handler.py, the
misbehaviours in hostile_body.py (statuses, bodies, connections) and hostile_sse.py (streams).
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections import Counter
from http.server import ThreadingHTTPServer

from tests.reliability.hostile_answers import CHAT_PIECES
from tests.reliability.hostile_handler import MISBEHAVIOURS, Handler
from tests.reliability.hostile_wire import STALL_SECONDS

__all__ = ["CHAT_PIECES", "MISBEHAVIOURS", "STALL_SECONDS", "HostileServer", "closed_port"]


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # like uvicorn's backlog (2048); the default 5 drops SYNs under load


class HostileServer:
    """Threaded HTTP(S) server on 127.0.0.1 (or another loopback address); a context manager."""

    def __init__(self, host: str = "127.0.0.1", tls_context=None, frame_delay: float = 0.0) -> None:
        self.frame_delay = frame_delay
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self._counts: Counter[str] = Counter()
        self._client_closed = threading.Condition(self._lock)
        self._closed_paths: list[str] = []  # requests whose client closed the connection while we stalled
        self._httpd = _Server((host, 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._httpd.redirect_target = "http://127.0.0.2:9"  # type: ignore[attr-defined]
        if tls_context is not None:
            self._httpd.socket = tls_context.wrap_socket(self._httpd.socket, server_side=True)
        self.scheme = "https" if tls_context is not None else "http"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hostile-server", daemon=True)

    def redirect_to(self, origin: str) -> None:
        """Where the `redirect` misbehaviour sends clients (another server, i.e. another host)."""
        self._httpd.redirect_target = origin  # type: ignore[attr-defined]

    @property
    def origin(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def url(self, name: str = "ok", scope: str = "post") -> str:
        """A fresh Server URL for one case."""
        return f"{self.origin}/{scope}.{name}.{uuid.uuid4().hex[:10]}"

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, server_url: str) -> list[tuple[str, str, dict[str, str], bytes]]:
        prefix = "/" + server_url.rsplit("/", 1)[1] + "/"
        return [r for r in self.requests if r[1].startswith(prefix)]

    def count(self, key: str) -> int:
        with self._lock:
            self._counts[key] += 1
            return self._counts[key]

    def saw_client_close(self, path: str) -> None:
        with self._client_closed:
            self._closed_paths.append(path)
            self._client_closed.notify_all()

    def wait_client_closed(self, server_url: str, timeout: float) -> bool:
        """True once the client closed its socket during a stall of a request under `server_url`."""
        prefix = "/" + server_url.rsplit("/", 1)[1] + "/"
        with self._client_closed:
            return self._client_closed.wait_for(
                lambda: any(p.startswith(prefix) for p in self._closed_paths), timeout
            )

    def record(self, entry: tuple[str, str, dict[str, str], bytes]) -> None:
        with self._lock:
            self._requests.append(entry)

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port
