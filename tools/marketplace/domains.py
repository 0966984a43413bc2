"""The hosts a package names as places it connects to: the plugin page's "access domains".

Only literal hostnames can be read from source. Documentation links (YAML `url`/`help` keys, doc
sites, source forges), schema identifiers, reserved example names (RFC 2606/6761: .example,
.local, .test …) and loopback are not access domains; a private address is, and shows on the page.
"""

from __future__ import annotations

import ast
import ipaddress
import re

from tools.marketplace.findings import WARNING, Finding, Package, findings
from tools.marketplace.walk import source_files

URL = re.compile(r"""(?i)\bhttps?://([^\s/?#"'`<>)\]}\\,;*]+)""")
HOSTNAME = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
NOT_CONTACTED = {
    "github.com", "www.github.com", "gist.github.com", "api.github.com", "raw.githubusercontent.com",
    "gitlab.com", "bitbucket.org", "www.w3.org", "w3.org", "json-schema.org", "schema.org", "spdx.org",
    "opensource.org", "pypi.org", "files.pythonhosted.org", "localhost", "host.docker.internal", "0.0.0.0",
    "example.com", "example.org", "example.net", "stackoverflow.com", "en.wikipedia.org", "wikipedia.org",
}  # fmt: skip
NOT_CONTACTED_SUFFIXES = (
    ".readthedocs.io", ".readthedocs.org", ".github.io", ".gitlab.io",
    ".example", ".example.com", ".example.org", ".example.net", ".test", ".invalid", ".localhost", ".local",
)  # fmt: skip
DOC_LABELS = {"docs", "doc", "developer", "learn"}
DOC_KEYS = {
    "url",
    "help",
    "privacy",
    "repo",
    "documentation",
    "doc_url",
    "docs",
    "icon",
    "website",
    "homepage",
    "source",
}
LOCALES = re.compile(r"^[a-z]{2}_[a-z]{2,4}$")
YAML_KEY = re.compile(r"^(\s*)(?:-\s+)?([A-Za-z_$][\w .$-]*)\s*:")
SCHEMA_REF = re.compile(r"""(^|[\s"'{,])\$?(?:ref|schema)\s*[:=]""", re.IGNORECASE)


def access_host(raw: str) -> str | None:
    """The host as the plugin page would list it, or None when it is not an access domain."""
    host = raw.strip().strip(".").lower().rsplit("@", 1)[-1].split(":", 1)[0]
    if not host or host.startswith("["):
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return None if address.is_loopback else host
    if not HOSTNAME.match(host) or host in NOT_CONTACTED or host.endswith(NOT_CONTACTED_SUFFIXES):
        return None
    return None if host.split(".")[0] in DOC_LABELS else host


def _python(text: str) -> list[tuple[int, str]]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return _lines(text)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        (node.lineno, match.group(1))
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
        for match in URL.finditer(node.value)
    ]


def _yaml(text: str) -> list[tuple[int, str]]:
    found, stack = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if key := YAML_KEY.match(line):
            while stack and stack[-1][0] >= len(key.group(1)):
                stack.pop()
            stack.append((len(key.group(1)), key.group(2).lower()))
        keys = [k for _, k in stack if not LOCALES.match(k)]
        if (keys and keys[-1] in DOC_KEYS) or "help" in keys or SCHEMA_REF.search(line):
            continue
        found += [(number, match.group(1)) for match in URL.finditer(line)]
    return found


def _lines(text: str) -> list[tuple[int, str]]:
    return [
        (number, match.group(1))
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#") and not SCHEMA_REF.search(line)
        for match in URL.finditer(line)
    ]


def access_domains(pkg: Package) -> dict[str, list[str]]:
    """host -> where it appears (file:line)."""
    hosts: dict[str, list[str]] = {}
    for name, text in source_files(pkg):
        suffix = name.rsplit(".", 1)[-1].lower()
        hits = _python(text) if suffix == "py" else _yaml(text) if suffix in ("yaml", "yml") else _lines(text)
        for number, raw in hits:
            if host := access_host(raw):
                hosts.setdefault(host, []).append(f"{name}:{number}")
    return dict(sorted(hosts.items()))


def _declared(pkg: Package) -> list[str]:
    """The optional manifest `network.domains` list, as host names (`*.x.com` kept as written)."""
    network = pkg.manifest().get("network")
    entries = network.get("domains") if isinstance(network, dict) else None
    hosts = [re.sub(r"^[a-z][a-z0-9+.-]*://", "", str(e).strip(), flags=re.I) for e in entries or []]
    return [h.split("/", 1)[0].split(":", 1)[0].lower() for h in hosts if h]


def _covered(host: str, declared: list[str]) -> bool:
    return any(
        host == d or (d.startswith("*.") and (host.endswith(d[1:]) or host == d[2:])) for d in declared
    )


def domains_rule(pkg: Package) -> list[Finding]:
    hosts = access_domains(pkg)
    listed = [f"access domain {host} (from {', '.join(where[:3])})" for host, where in hosts.items()]
    declared = _declared(pkg)
    if declared and (missing := [h for h in hosts if not _covered(h, declared)]):
        listed.append(f"reached but not declared in manifest network.domains: {', '.join(missing)}")
    return findings("domains", WARNING, listed)
