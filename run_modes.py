"""Start-up checks for remote-debug mode, run by main.py before the SDK takes over.

The SDK, given a missing key, an unreachable daemon or a rejected key, either dies with a traceback
or reconnects forever while flooding stdout. We check first and exit with one line saying what to fix.
Local (stdio) and serverless modes are left entirely to the SDK.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

CONNECT_TIMEOUT = 5.0
HANDSHAKE_WAIT = 1.5  # the daemon answers a bad key at once; a good key gets silence


def _dotenv(path: Path = Path(".env")) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw_line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        values[name.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def _setting(name: str, dotenv: dict[str, str]) -> str:
    # Same precedence as the SDK: the process environment wins over .env.
    return (os.environ.get(name) or dotenv.get(name) or "").strip()


def remote_target(dotenv: dict[str, str]) -> tuple[str, int]:
    url = _setting("REMOTE_INSTALL_URL", dotenv)
    if url:
        parts = urlsplit(url if "://" in url else f"tcp://{url}")
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise ValueError(f"REMOTE_INSTALL_URL={url!r} must be host:port, e.g. localhost:5003")
        return parts.hostname, port
    host = _setting("REMOTE_INSTALL_HOST", dotenv) or "localhost"
    port_text = _setting("REMOTE_INSTALL_PORT", dotenv) or "5003"
    if not port_text.isdigit():
        raise ValueError(f"REMOTE_INSTALL_PORT={port_text!r} must be a port number")
    return host, int(port_text)


def check_remote(dotenv: dict[str, str]) -> str | None:
    """None when remote debugging can start; otherwise the one line that says what to fix."""
    key = _setting("REMOTE_INSTALL_KEY", dotenv)
    if not key:
        return (
            "Remote debugging needs REMOTE_INSTALL_KEY: copy the debug key from Dify → Plugins → Debug "
            "into .env (see .env.example)."
        )
    try:
        host, port = remote_target(dotenv)
    except ValueError as exc:
        return f"Remote debugging: {exc}."
    try:
        sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
    except OSError as exc:
        return (
            f"Cannot reach the Dify plugin daemon at {host}:{port} ({exc.strerror or exc}): check "
            "REMOTE_INSTALL_URL in .env and that the daemon's debug port is reachable from here."
        )
    with sock:
        return _probe_key(sock, key, host, port)


def _probe_key(sock: socket.socket, key: str, host: str, port: int) -> str | None:
    try:
        sock.sendall(json.dumps({"type": "handshake", "data": {"key": key}}).encode() + b"\n")
        sock.settimeout(HANDSHAKE_WAIT)
        answer = sock.recv(256)
    except TimeoutError:
        return None  # silence: the key was accepted and the daemon waits for declarations
    except OSError:
        return None  # let the SDK connect properly and report what it finds
    if b"handshake failed" in answer or b"invalid" in answer:
        return (
            f"The Dify plugin daemon at {host}:{port} rejected REMOTE_INSTALL_KEY: copy a fresh debug key "
            "from Dify → Plugins → Debug into .env (keys expire after 2 hours unused)."
        )
    return None


def prepare_run_mode() -> None:
    dotenv = _dotenv()
    if _setting("INSTALL_METHOD", dotenv).lower() != "remote":
        return
    problem = check_remote(dotenv)
    if problem:
        sys.stderr.write(problem + "\n")
        sys.exit(2)
