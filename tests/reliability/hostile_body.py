"""Status and body misbehaviours of the hostile server: proxy error pages, error statuses with
and without JSON, broken or empty or endless bodies, wrong content types, resets, silence, a
redirect to another host, a model that is loading, and an error page quoting the request headers.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tests.reliability.hostile_answers import GOOD_FRAMES, HUGE_BYTES, good_answer

if TYPE_CHECKING:
    from tests.reliability.hostile_wire import Wire as Handler

PROXY_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
    b"</center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n"
)


def _html_502(h: Handler) -> None:
    h.send(502, PROXY_502, "text/html")


def _text_500(h: Handler) -> None:
    h.send(500, b"Internal Server Error: CUDA out of memory", "text/plain; charset=utf-8")


def _non_json_200(h: Handler) -> None:
    h.send(200, b"this is not JSON {", "application/json")


def _missing_fields(h: Handler) -> None:
    """200 JSON without choices / data / results (for a GET: without model_type)."""
    h.send_json(200, {"object": "list", "id": "x", "model": "m"})


def _wrong_content_type(h: Handler) -> None:
    if h.stream_requested():  # JSON where an event stream was asked for
        return _good_chat_as(h, "application/json")
    h.send(200, b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>", "text/html")


def _good_chat_as(h: Handler, content_type: str) -> None:
    body = b"".join(GOOD_FRAMES)
    h.send(200, body, content_type)


def _reset_after_headers(h: Handler) -> None:
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


def _reset_before_answer(h: Handler) -> None:
    h.reset()


def _silent(h: Handler) -> None:
    """Accepts the connection and the request, never answers."""
    h.hang()


def _redirect(h: Handler) -> None:
    target = h.server.redirect_target  # type: ignore[attr-defined]
    h.send(307, b"", "text/plain", Location=f"{target}{h.route}")


def _huge_ok(h: Handler) -> None:
    """200 with an endless non-JSON body (a proxy streaming a file, a misrouted download)."""
    _endless(h, 200, "text/plain; charset=utf-8", b"x" * (1024 * 1024))


def _huge_json(h: Handler) -> None:
    """200 application/json whose body never ends."""
    _endless(h, 200, "application/json", b"[" + b"1," * (512 * 1024))


def _huge_error(h: Handler) -> None:
    _endless(h, 502, "text/html", b"<p>" + b"gateway " * (128 * 1024))


def _endless(h: Handler, status: int, content_type: str, block: bytes) -> None:
    h.start_chunked(content_type, status)
    sent = 0
    try:
        while sent < HUGE_BYTES and not h.owner.stopping.is_set():
            h.chunk(block)
            sent += len(block)
    finally:
        h.close_connection = True


def _loading_then_ok(h: Handler) -> None:
    """503 + Retry-After twice (the model is loading), then the good answer."""
    if h.owner.count(h.key) <= 2:
        detail = {"detail": "Model is loading, please retry later: llm"}
        return h.send_json(503, detail, Retry_After="1")
    good_answer(h)


def _loading_forever(h: Handler) -> None:
    h.send_json(503, {"detail": "Model is loading, please retry later: llm"}, Retry_After="1")


def _unavailable_503(h: Handler) -> None:
    h.send_json(503, {"detail": "Service Unavailable"})


def _rate_limited(h: Handler) -> None:
    h.send_json(429, {"detail": "Rate limit reached for model llm"})


def _unauthorized(h: Handler) -> None:
    h.send_json(
        401, {"detail": "Could not validate credentials"}, WWW_Authenticate='Bearer scope="models:read"'
    )


def _forbidden_text(h: Handler) -> None:
    h.send(403, b"Access denied for IP: 10.0.0.7", "text/plain; charset=utf-8")


def _unknown_model(h: Handler) -> None:
    h.send_json(400, {"detail": "[address=127.0.0.1:1, pid=1] Model not found in the model list, uid: llm"})


def _validation_422(h: Handler) -> None:
    detail = [{"loc": ["body", "file"], "msg": "field required", "type": "value_error.missing"}]
    h.send_json(422, {"detail": detail})


def _echo_headers(h: Handler) -> None:
    """A debugging proxy that quotes the request headers in its error page (the key included)."""
    echoed = "; ".join(f"{k}: {v}" for k, v in h.headers.items())
    h.send_json(400, {"detail": f"bad request, headers were: {echoed}"})


def _empty_200(h: Handler) -> None:
    h.send(200, b"", "application/json")


BODY_MISBEHAVIOURS = {
    "html502": _html_502,
    "text500": _text_500,
    "nonjson": _non_json_200,
    "missing": _missing_fields,
    "ctype": _wrong_content_type,
    "empty": _empty_200,
    "echo": _echo_headers,
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
