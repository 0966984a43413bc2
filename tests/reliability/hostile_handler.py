"""The hostile server's request handler: it records each request and picks the behaviour named by
the first path segment (see hostile_server.py); the writing primitives are in hostile_wire.py.
"""

from __future__ import annotations

import json

from tests.reliability.hostile_answers import good_answer
from tests.reliability.hostile_body import BODY_MISBEHAVIOURS
from tests.reliability.hostile_sse import SSE_MISBEHAVIOURS
from tests.reliability.hostile_wire import Wire

MISBEHAVIOURS = {**BODY_MISBEHAVIOURS, **SSE_MISBEHAVIOURS}


class Handler(Wire):
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
            (handler or good_answer)(self)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True
