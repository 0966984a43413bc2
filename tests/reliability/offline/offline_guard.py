"""Make every network contact outside loopback fail loudly (tests only).

Installed for the whole pytest run by tests/conftest.py, and in every plugin process the
reliability suite starts (through sitecustomize.py in this folder, put on PYTHONPATH). It patches
`socket.socket.connect`, `connect_ex`, `sendto` and `socket.getaddrinfo`: loopback addresses
(127.0.0.0/8, ::1), the name `localhost` and AF_UNIX sockets pass; anything else raises
OfflineGuardError and is recorded in VIOLATIONS, so a test fails even if the code under test
swallows the exception. Name lookups count as contact: resolving a real host name asks a DNS server.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading

MARKER = "OFFLINE-GUARD-BLOCKED"
VIOLATIONS: list[str] = []
_lock = threading.Lock()
_installed: dict[str, object] = {}


class OfflineGuardError(RuntimeError):
    """Not an OSError on purpose: retry and error-typing code must not mistake it for a network fault."""


def is_loopback_host(host: object) -> bool:
    if host is None:
        return True  # passive (bind) lookups
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False  # a host name: resolving it would contact a DNS server
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _allowed(family: int, address: object) -> bool:
    if family == getattr(socket, "AF_UNIX", None):
        return True
    if isinstance(address, tuple) and address:
        return is_loopback_host(address[0])
    return False


def _block(what: str) -> OfflineGuardError:
    message = f"{MARKER}: {what} (tests may only contact 127.0.0.1; use a local server or `responses`)"
    with _lock:
        VIOLATIONS.append(message)
    print(message, file=sys.stderr, flush=True)
    return OfflineGuardError(message)


def install() -> None:
    """Idempotent."""
    if _installed:
        return
    cls = socket.socket
    connect, connect_ex, sendto = cls.connect, cls.connect_ex, cls.sendto
    getaddrinfo = socket.getaddrinfo

    def guarded_connect(self, address):
        if not _allowed(self.family, address):
            raise _block(f"connect to {address!r}")
        return connect(self, address)

    def guarded_connect_ex(self, address):
        if not _allowed(self.family, address):
            raise _block(f"connect_ex to {address!r}")
        return connect_ex(self, address)

    def guarded_sendto(self, data, *args):
        address = args[-1] if args else None
        if not _allowed(self.family, address):
            raise _block(f"sendto {address!r}")
        return sendto(self, data, *args)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if not is_loopback_host(host):
            try:
                ipaddress.ip_address(str(host).strip("[]"))
            except ValueError:
                raise _block(f"name lookup of {host!r}") from None
            # a literal non-loopback address resolves locally; connect() will refuse it
        return getaddrinfo(host, *args, **kwargs)

    _installed.update(connect=connect, connect_ex=connect_ex, sendto=sendto, getaddrinfo=getaddrinfo)
    cls.connect = guarded_connect
    cls.connect_ex = guarded_connect_ex
    cls.sendto = guarded_sendto
    socket.getaddrinfo = guarded_getaddrinfo


def take_violations() -> list[str]:
    """The violations recorded so far, removing them (a test that provokes one on purpose calls this)."""
    with _lock:
        taken = list(VIOLATIONS)
        VIOLATIONS.clear()
    return taken
