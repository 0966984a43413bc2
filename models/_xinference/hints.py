"""Hints for the two setup mistakes users hit most: Server URL = localhost while the Dify plugin daemon
runs in its own container, and an HTTP(S)_PROXY in the daemon's environment that also catches the private
Xinference address. Added to connection errors and to proxy error pages; they never quote the proxy's
address (it may hold a password) or the API key.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

import requests

# what a user types for "this machine"; inside a container it means the container
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})  # noqa: S104 (names, not a bind)
_PRIVATE_SUFFIXES = (".local", ".lan", ".internal", ".home", ".corp", ".localdomain")


def connect_hints(server_url: str) -> str:
    """What to try when a connection is refused or times out (never quotes a proxy's address)."""
    return docker_localhost_hint(server_url) + proxy_hint(server_url, proxy_page=False)


def docker_localhost_hint(server_url: str) -> str:
    parts = urlsplit(server_url)
    host = parts.hostname  # lower-cased by urlsplit; None (no host) is not local either
    if host not in _LOCAL_HOSTS:
        return ""
    port = f":{parts.port}" if parts.port else ""
    return (
        f". The Dify plugin daemon usually runs in its own Docker container, where {host} is that container "
        "itself, not the machine running Xinference: set Server URL to the Xinference host's LAN address "
        f"(e.g. {parts.scheme}://192.168.1.10{port}) or to {parts.scheme}://host.docker.internal{port}; on "
        'Linux, host.docker.internal needs `extra_hosts: ["host.docker.internal:host-gateway"]` on the '
        "plugin_daemon service in Dify's docker-compose file (and Xinference started with --host 0.0.0.0)"
    )


def proxy_hint(url: str, *, proxy_page: bool) -> str:
    """When the daemon's HTTP(S)_PROXY applies to this URL (requests honours NO_PROXY) and the host is
    private, or a proxy's error page came back: say to exempt the host."""
    host = urlsplit(url).hostname or ""
    variable = _proxy_variable(url)
    if not host or not variable or not (proxy_page or _is_private_host(host)):
        return ""
    return (
        f". {variable} is set in the plugin daemon's environment, so this request went through that proxy, "
        f"and a proxy usually cannot reach a private Xinference address: add {host} to NO_PROXY (and "
        "no_proxy) for the plugin daemon and restart it"
    )


def _proxy_variable(url: str) -> str:
    """The proxy variable used for `url`, or "" when none applies (unset, or exempted by NO_PROXY)."""
    # the same call sessions.py makes, unguarded, when it opens the session for this server URL
    if not requests.utils.get_environ_proxies(url):
        return ""
    scheme = urlsplit(url).scheme  # http or https: credentials.py refuses any other Server URL
    for name in (f"{scheme}_proxy", "all_proxy"):
        for spelled in (name.upper(), name):
            if os.environ.get(spelled):
                return spelled
    return ""  # only another scheme's proxy is set (HTTPS_PROXY for an http:// server): not used here


def _is_private_host(host: str) -> bool:
    """`host` as urlsplit gives it: an IPv6 address without its brackets."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        name = host.lower().rstrip(".")
        return "." not in name or name.endswith(_PRIVATE_SUFFIXES)
    return address.is_private  # loopback, link-local and unspecified addresses are all private too
