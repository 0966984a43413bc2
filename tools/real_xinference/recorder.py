"""`make fixtures`, the recorder: sends one request to the real server and writes its answer as a fixture
file (`*.json` = the body, `*_raw_sse.txt` = the stream bytes, other `*.txt` = a `curl -i`-style dump), with
secrets replaced by the placeholders the existing files use and local paths by /srv/xinference.
"""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path
from typing import Any

from env import CACHE, REPO, log
from server import XinferenceServer

JWT_PLACEHOLDER = "eyJ...REDACTED-TEST-JWT"
KEY_PLACEHOLDER = "xf-TESTONLY" + "x" * 45


class Recorder:
    def __init__(self, server: XinferenceServer, out: Path, only: list[str], venv: Path) -> None:
        self.server = server
        self.out = out
        self.only = only
        self.written: list[str] = []
        # longest first, so a path inside another is replaced before its parent
        self.paths = sorted(
            [(str(venv), "/srv/xinference/venv"), (str(CACHE), "/srv/xinference"), (str(REPO), "/srv/repo")],
            key=lambda p: -len(p[0]),
        )

    def wanted(self, name: str) -> bool:
        return not self.only or any(name.startswith(p) for p in self.only)

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        raw: bytes | None = None,
        *,
        content_type: str | None = "application/json",  # multipart for audio uploads
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)
        headers = {}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type:
            headers["Content-Type"] = content_type
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def redact(self, data: bytes, secrets: dict[str, str]) -> bytes:
        text = data.decode("utf-8", errors="surrogateescape")
        for secret, placeholder in secrets.items():
            if secret:
                text = text.replace(secret, placeholder)
        for field in ("access_token", "refresh_token"):
            text = re.sub(rf'"{field}":\s*"[^"]+"', f'"{field}":"{JWT_PLACEHOLDER}"', text)
        text = re.sub(r'"key":\s*"xf-[^"]+"', f'"key":"{KEY_PLACEHOLDER}"', text)
        for local, public in self.paths:
            text = text.replace(local, public)
        return text.encode("utf-8", errors="surrogateescape")

    def record(self, name: str, method: str, path: str, body: Any = None, **kw: Any) -> bytes:
        """Send the request; write the file only when it is wanted (--only). Returns the raw body."""
        status, reason, headers, data = self.send(method, path, body, **kw)
        if not self.wanted(name):
            return data
        clean = self.redact(data, {t: JWT_PLACEHOLDER for t in (self.server.admin_token,) if t})
        if name.endswith(".json") or name.endswith("_raw_sse.txt"):
            blob = clean
        else:
            lines = [f"HTTP/1.1 {status} {reason}"]
            for k, v in headers:
                lines.append(f"{k}: {len(clean) if k.lower() == 'content-length' else v}")
            blob = ("\r\n".join(lines) + "\r\n\r\n").encode() + clean
        (self.out / name).write_bytes(blob)
        self.written.append(name)
        log(f"  {name}: HTTP {status}, {len(blob)} bytes")
        return data
