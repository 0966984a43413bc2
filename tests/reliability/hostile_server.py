"""A local Xinference look-alike with switchable misbehaviours, for the reliability suite.

The behaviour is chosen per request by the first path segment, so one server (and one plugin
process) serves every case concurrently: a model's Server URL is `http://127.0.0.1:<port>/<mode>`,
where mode is `<scope>.<name>.<token>`. `scope` is `post` (misbehave on inference POSTs only, so the
model description still loads) or `all` (misbehave on every request, description included); the
token makes each URL unique, which gives each case fresh counters, a fresh description cache entry
and a fresh pooled session in the plugin. `name` is a key of MISBEHAVIOURS, or `ok`.

Good answers are synthetic and fully known: a chat answers "Hello world" (stream: the pieces of
CHAT_PIECES), embeddings are [i, 1.0, 0.5] for text i, rerank scores fall with the document index.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "xinference-4.1.0"
CHAT_PIECES = ["Hel", "lo", " wor", "ld"]
STALL_SECONDS = 6.0  # longer than any invoke_timeout the suite configures for hang cases
HUGE_BYTES = 768 * 1024 * 1024  # larger than the client's JSON cap; nobody should read it all


def _fixture_json(name: str) -> dict:
    return json.loads((FIXTURES / name).read_bytes())


DESCRIPTIONS = {
    "llm": _fixture_json("llm_04_get_model.json"),
    "embed": _fixture_json("embed_07_get_model.json"),
    "rerank": _fixture_json("rerank_07_get_model.json"),
    "stt": {
        "model_type": "audio",
        "model_name": "whisper-tiny",
        "model_family": "whisper",
        "model_ability": ["audio2text"],
        "replica": 1,
    },
    "tts": {
        "model_type": "audio",
        "model_name": "ChatTTS",
        "model_family": "ChatTTS",
        "model_ability": ["text2audio"],
        "replica": 1,
    },
}
DESCRIPTIONS["embed"] = {**DESCRIPTIONS["embed"], "dimensions": 3}


def sse(data: str) -> bytes:
    return f"data: {data}\r\n\r\n".encode()


def chat_chunk(content: str | None, finish: str | None = None, usage: dict | None = None) -> str:
    delta = {} if content is None else {"content": content}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return json.dumps(
        {
            "id": "chat-1",
            "model": "llm",
            "object": "chat.completion.chunk",
            "created": 1,
            "choices": [choice],
            "usage": usage,
        }
    )


USAGE = {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
GOOD_FRAMES = [
    sse(
        json.dumps(
            {
                "id": "chat-1",
                "model": "llm",
                "object": "chat.completion.chunk",
                "created": 1,
                "choices": [
                    {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
                ],
            }
        )
    )
]
GOOD_FRAMES += [sse(chat_chunk(piece)) for piece in CHAT_PIECES]
GOOD_FRAMES += [sse(chat_chunk(None, "stop", USAGE)), sse("[DONE]")]


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
        self._httpd = _Server((host, 0), _Handler)
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile/1"

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    @property
    def owner(self) -> HostileServer:
        return self.server.owner  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self.owner.record((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        segment, _, rest = self.path.lstrip("/").partition("/")
        scope, name, _token = ([*segment.split("."), "", ""])[:3]
        self.route = "/" + rest.split("?", 1)[0]
        self.body = body
        try:
            self.json_body = json.loads(body) if body and body.lstrip()[:1] == b"{" else {}
        except ValueError:
            self.json_body = {}
        hostile = scope == "all" or (scope == "post" and self.command == "POST")
        self.key = segment
        handler = MISBEHAVIOURS.get(name) if hostile else None
        try:
            (handler or _good)(self)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    # ---- writing helpers ------------------------------------------------------------------

    def send(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, data: object, **headers: str) -> None:
        self.send(status, json.dumps(data).encode(), **headers)

    def start_chunked(
        self, content_type: str = "text/event-stream; charset=utf-8", status: int = 200
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            if self.owner.frame_delay:
                time.sleep(self.owner.frame_delay)

    def end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0), as a crashed proxy or server does."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def hang(self, seconds: float = STALL_SECONDS) -> None:
        self.owner.stopping.wait(seconds)
        self.close_connection = True

    def stall_until_client_closes(self, seconds: float = STALL_SECONDS) -> None:
        """Send nothing more; record when the client closes its end (EOF), or give up after `seconds`."""
        deadline = time.monotonic() + seconds
        while not self.owner.stopping.is_set() and (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            if not readable:
                continue
            try:
                data = self.connection.recv(4096)
            except OSError:
                data = b""
            if not data:
                self.owner.saw_client_close(self.path)
                break
        self.close_connection = True

    def stream_requested(self) -> bool:
        return bool(self.json_body.get("stream"))


# ---- good answers ---------------------------------------------------------------------------


def _good(h: _Handler) -> None:  # noqa: PLR0911  (one route per return)
    route = h.route
    if h.command == "GET" and route.startswith("/v1/models/"):
        uid = route.rsplit("/", 1)[1]
        kind = uid.split("-", 1)[0]
        if kind in DESCRIPTIONS:
            return h.send_json(200, {**DESCRIPTIONS[kind], "id": uid})
        return h.send_json(400, {"detail": f"Model not found in the model list, uid: {uid}"})
    if h.command == "GET" and route == "/v1/models":
        data = [{**d, "id": f"{k}-model", "object": "model"} for k, d in DESCRIPTIONS.items()]
        return h.send_json(200, {"object": "list", "data": data})
    if route == "/v1/chat/completions":
        return _good_chat(h)
    if route == "/v1/embeddings":
        texts = h.json_body.get("input") or []
        texts = [texts] if isinstance(texts, str) else texts
        data = [
            {"index": i, "object": "embedding", "embedding": [float(i), 1.0, 0.5]} for i in range(len(texts))
        ]
        usage = {"prompt_tokens": 2 * len(texts), "total_tokens": 2 * len(texts)}
        return h.send_json(200, {"object": "list", "model": "embed", "data": data, "usage": usage})
    if route == "/v1/rerank":
        docs = h.json_body.get("documents") or []
        results = [
            {
                "index": i,
                "relevance_score": round(1.0 - i / (len(docs) + 1), 4),
                "document": {"text": d} if h.json_body.get("return_documents") else None,
            }
            for i, d in enumerate(docs)
        ]
        top_n = h.json_body.get("top_n")
        results = results[:top_n] if isinstance(top_n, int) and top_n > 0 else results
        meta = {"api_version": None, "billed_units": None, "tokens": None, "warnings": None}
        return h.send_json(200, {"id": "r-1", "results": results, "meta": meta})
    if route == "/v1/audio/speech":
        return h.send(200, b"ID3" + b"\x00" * 64, "audio/mpeg")
    if route in ("/v1/audio/transcriptions", "/v1/audio/translations"):
        return h.send_json(200, {"text": "hello from audio"})
    return h.send_json(404, {"detail": "Not Found"})


def _good_chat(h: _Handler) -> None:
    if h.stream_requested():
        h.start_chunked()
        for frame in GOOD_FRAMES:
            h.chunk(frame)
        return h.end_chunked()
    message = {"role": "assistant", "content": "".join(CHAT_PIECES)}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    h.send_json(
        200,
        {
            "id": "chat-1",
            "object": "chat.completion",
            "created": 1,
            "model": "llm",
            "choices": [choice],
            "usage": USAGE,
        },
    )


# ---- misbehaviours --------------------------------------------------------------------------

PROXY_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
    b"</center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n"
)


def _html_502(h: _Handler) -> None:
    h.send(502, PROXY_502, "text/html")


def _text_500(h: _Handler) -> None:
    h.send(500, b"Internal Server Error: CUDA out of memory", "text/plain; charset=utf-8")


def _non_json_200(h: _Handler) -> None:
    h.send(200, b"this is not JSON {", "application/json")


def _missing_fields(h: _Handler) -> None:
    """200 JSON without choices / data / results (for a GET: without model_type)."""
    h.send_json(200, {"object": "list", "id": "x", "model": "m"})


def _wrong_content_type(h: _Handler) -> None:
    if h.stream_requested():  # JSON where an event stream was asked for
        return _good_chat_as(h, "application/json")
    h.send(200, b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>", "text/html")


def _good_chat_as(h: _Handler, content_type: str) -> None:
    body = b"".join(GOOD_FRAMES)
    h.send(200, body, content_type)


def _sse_cut_mid_frame(h: _Handler) -> None:
    """Two good frames, then half a frame and a clean end of the chunked body."""
    h.start_chunked()
    for frame in GOOD_FRAMES[:2]:
        h.chunk(frame)
    h.chunk(GOOD_FRAMES[2][:25])
    h.end_chunked()


def _sse_cut_connection(h: _Handler) -> None:
    """Two good frames, half a frame, then the TCP connection drops (no chunked terminator)."""
    h.start_chunked()
    for frame in GOOD_FRAMES[:2]:
        h.chunk(frame)
    h.chunk(GOOD_FRAMES[2][:25])
    h.reset()


def _sse_no_done(h: _Handler) -> None:
    """Every frame but [DONE]: the stream ends cleanly between events."""
    h.start_chunked()
    for frame in GOOD_FRAMES[:-1]:
        h.chunk(frame)
    h.end_chunked()


def _sse_error_frame(h: _Handler) -> None:
    h.start_chunked()
    for frame in GOOD_FRAMES[:2]:
        h.chunk(frame)
    h.chunk(sse(json.dumps({"error": "RuntimeError: engine crashed while generating"})))
    h.end_chunked()


def _sse_non_json(h: _Handler) -> None:
    h.start_chunked()
    h.chunk(GOOD_FRAMES[0])
    h.chunk(sse("<html>oops</html>"))
    h.end_chunked()


def _sse_stall(h: _Handler) -> None:
    """Two frames, then silence longer than the read timeout (watching for the client to hang up)."""
    h.start_chunked()
    for frame in GOOD_FRAMES[:2]:
        h.chunk(frame)
    h.stall_until_client_closes()


def _sse_endless_line(h: _Handler) -> None:
    """An event line that never ends, sent as fast as possible (no read timeout ever fires)."""
    h.start_chunked()
    h.chunk(GOOD_FRAMES[0])
    h.chunk(b'data: {"choices": [{"delta": {"content": "')
    block = b"A" * (1024 * 1024)
    sent = 0
    while sent < HUGE_BYTES and not h.owner.stopping.is_set():
        h.chunk(block)
        sent += len(block)
    h.close_connection = True


def _sse_ping_flood(h: _Handler) -> None:
    """A good answer after one 2 MB transfer chunk of 250 000 keep-alive comment lines."""
    h.start_chunked()
    h.chunk(GOOD_FRAMES[0])
    h.chunk(b": ping\r\n" * 250_000)
    for frame in GOOD_FRAMES[1:]:
        h.chunk(frame)
    h.end_chunked()


def _sse_bad_utf8(h: _Handler) -> None:
    h.start_chunked()
    h.chunk(GOOD_FRAMES[0])
    choice = b'{"index": 0, "delta": {"content": "bad \xff\xfe bytes"}, "finish_reason": null}'
    h.chunk(b'data: {"choices": [' + choice + b"]}\r\n\r\n")
    for frame in GOOD_FRAMES[-2:]:
        h.chunk(frame)
    h.end_chunked()


def _bad_utf8(h: _Handler) -> None:
    if h.stream_requested():
        return _sse_bad_utf8(h)
    h.send(200, b'{"object": "list", "data": "\xff\xfe\xfd"}', "application/json")


def _reset_after_headers(h: _Handler) -> None:
    if h.stream_requested():
        h.start_chunked()
    else:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "4096")
        h.end_headers()
        h.wfile.write(b'{"object": "li')
    h.wfile.flush()
    time.sleep(0.05)
    h.reset()


def _reset_before_answer(h: _Handler) -> None:
    h.reset()


def _silent(h: _Handler) -> None:
    """Accepts the connection and the request, never answers."""
    h.hang()


def _redirect(h: _Handler) -> None:
    target = h.server.redirect_target  # type: ignore[attr-defined]
    h.send(307, b"", "text/plain", Location=f"{target}{h.route}")


def _huge_ok(h: _Handler) -> None:
    """200 with an endless non-JSON body (a proxy streaming a file, a misrouted download)."""
    _endless(h, 200, "text/plain; charset=utf-8", b"x" * (1024 * 1024))


def _huge_json(h: _Handler) -> None:
    """200 application/json whose body never ends."""
    _endless(h, 200, "application/json", b"[" + b"1," * (512 * 1024))


def _huge_error(h: _Handler) -> None:
    _endless(h, 502, "text/html", b"<p>" + b"gateway " * (128 * 1024))


def _endless(h: _Handler, status: int, content_type: str, block: bytes) -> None:
    h.start_chunked(content_type, status)
    sent = 0
    try:
        while sent < HUGE_BYTES and not h.owner.stopping.is_set():
            h.chunk(block)
            sent += len(block)
    finally:
        h.close_connection = True


def _loading_then_ok(h: _Handler) -> None:
    """503 + Retry-After twice (the model is loading), then the good answer."""
    if h.owner.count(h.key) <= 2:
        detail = {"detail": "Model is loading, please retry later: llm"}
        return h.send_json(503, detail, Retry_After="1")
    _good(h)


def _loading_forever(h: _Handler) -> None:
    h.send_json(503, {"detail": "Model is loading, please retry later: llm"}, Retry_After="1")


def _unavailable_503(h: _Handler) -> None:
    h.send_json(503, {"detail": "Service Unavailable"})


def _rate_limited(h: _Handler) -> None:
    h.send_json(429, {"detail": "Rate limit reached for model llm"})


def _unauthorized(h: _Handler) -> None:
    h.send_json(
        401, {"detail": "Could not validate credentials"}, WWW_Authenticate='Bearer scope="models:read"'
    )


def _forbidden_text(h: _Handler) -> None:
    h.send(403, b"Access denied for IP: 10.0.0.7", "text/plain; charset=utf-8")


def _unknown_model(h: _Handler) -> None:
    h.send_json(400, {"detail": "[address=127.0.0.1:1, pid=1] Model not found in the model list, uid: llm"})


def _validation_422(h: _Handler) -> None:
    detail = [{"loc": ["body", "file"], "msg": "field required", "type": "value_error.missing"}]
    h.send_json(422, {"detail": detail})


def _echo_headers(h: _Handler) -> None:
    """A debugging proxy that quotes the request headers in its error page (the key included)."""
    echoed = "; ".join(f"{k}: {v}" for k, v in h.headers.items())
    h.send_json(400, {"detail": f"bad request, headers were: {echoed}"})


def _echo_in_stream(h: _Handler) -> None:
    h.start_chunked()
    h.chunk(GOOD_FRAMES[0])
    h.chunk(sse(json.dumps({"error": f"auth failed for {h.headers.get('authorization')}"})))
    h.end_chunked()


def _empty_200(h: _Handler) -> None:
    h.send(200, b"", "application/json")


MISBEHAVIOURS = {
    "html502": _html_502,
    "text500": _text_500,
    "nonjson": _non_json_200,
    "missing": _missing_fields,
    "ctype": _wrong_content_type,
    "empty": _empty_200,
    "echo": _echo_headers,
    "sse_echo": _echo_in_stream,
    "sse_cut": _sse_cut_mid_frame,
    "sse_drop": _sse_cut_connection,
    "sse_nodone": _sse_no_done,
    "sse_error": _sse_error_frame,
    "sse_nonjson": _sse_non_json,
    "sse_stall": _sse_stall,
    "sse_endless": _sse_endless_line,
    "sse_flood": _sse_ping_flood,
    "badutf8": _bad_utf8,
    "reset": _reset_after_headers,
    "reset0": _reset_before_answer,
    "silent": _silent,
    "redirect": _redirect,
    "huge": _huge_ok,
    "hugejson": _huge_json,
    "hugeerr": _huge_error,
    "loading": _loading_then_ok,
    "loadingx": _loading_forever,
    "503": _unavailable_503,
    "429": _rate_limited,
    "401": _unauthorized,
    "403": _forbidden_text,
    "400": _unknown_model,
    "422": _validation_422,
}


def closed_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port
