"""Make every network contact outside loopback fail loudly (tests only).

Installed for the whole pytest run by tests/conftest.py, and in every plugin process the
reliability suite starts (through sitecustomize.py in this folder, put on PYTHONPATH). It patches
`socket.socket.connect`, `connect_ex`, `sendto` and `socket.getaddrinfo`: loopback addresses
(127.0.0.0/8, ::1), the name `localhost` and AF_UNIX sockets pass; anything else raises
OfflineGuardError and is recorded in VIOLATIONS, so a test fails even if the code under test
swallows the exception. Name lookups count as contact: resolving a real host name asks a DNS server.

gevent's socket class and resolver are patched too: the SDK monkey-patches `socket` with them when it
is imported, which in a plugin process happens after sitecustomize has installed this guard. A child
process started with OFFLINE_GUARD_REPORT_DIR set also appends every block to <dir>/<pid>.log, so the
test that started it fails even when the child's stderr is not read (tests/plugin_process.py).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading

MARKER = "OFFLINE-GUARD-BLOCKED"
REPORT_DIR_VARIABLE = "OFFLINE_GUARD_REPORT_DIR"
VIOLATIONS: list[str] = []
_lock = threading.Lock()
_installed: dict[object, object] = {}


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
    report_dir = os.environ.get(REPORT_DIR_VARIABLE)
    if report_dir:
        with open(os.path.join(report_dir, f"{os.getpid()}.log"), "a", encoding="utf-8") as report:
            report.write(message + "\n")
    return OfflineGuardError(message)


def install() -> None:
    """Idempotent; patches the stdlib socket class and, when gevent is installed, gevent's as well."""
    if _installed:
        return
    classes = [socket.socket]
    modules = [socket]
    try:
        import gevent._socketcommon
        import gevent.socket
    except ImportError:
        pass
    else:
        classes.append(gevent.socket.socket)
        modules += [gevent.socket, gevent._socketcommon]
    for cls in dict.fromkeys(classes):  # the same class once, even when gevent already patched socket
        _guard_class(cls)
    for module in dict.fromkeys(modules):
        _guard_getaddrinfo(module)


def _guard_class(cls: type) -> None:
    connect, connect_ex, sendto = cls.connect, cls.connect_ex, cls.sendto
    if connect.__name__ == "guarded_connect":
        return

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

    _installed[cls] = (connect, connect_ex, sendto)
    cls.connect = guarded_connect
    cls.connect_ex = guarded_connect_ex
    cls.sendto = guarded_sendto


def _guard_getaddrinfo(module) -> None:
    getaddrinfo = module.getaddrinfo
    if getaddrinfo.__name__ == "guarded_getaddrinfo":
        return

    def guarded_getaddrinfo(host, *args, **kwargs):
        if not is_loopback_host(host):
            try:
                ipaddress.ip_address(str(host).strip("[]"))
            except ValueError:
                raise _block(f"name lookup of {host!r}") from None
            # a literal non-loopback address resolves locally; connect() will refuse it
        return getaddrinfo(host, *args, **kwargs)

    _installed[module] = getaddrinfo
    module.getaddrinfo = guarded_getaddrinfo


def take_violations() -> list[str]:
    """The violations recorded so far, removing them (a test that provokes one on purpose calls this)."""
    with _lock:
        taken = list(VIOLATIONS)
        VIOLATIONS.clear()
    return taken
