"""Signals routed to a human reviewer: sensitive capabilities, Python safety, financial activity.

None of them blocks by itself. Sensitive capabilities must be disclosed in the pull request's
"Security and privacy notes" (tools/marketplace/notes.py writes that section from this scan).
"""

from __future__ import annotations

import ast
import re

from tools.marketplace.findings import WARNING, Finding, Package, findings
from tools.marketplace.walk import source_files

CODE = (".py", ".js", ".ts")
CAPABILITIES = {
    "command execution": (
        r"\bsubprocess\.(?:run|Popen|call|check_call|check_output)\s*\(",
        r"\bos\.(?:system|popen|spawn[a-z_]*|exec[a-z_]*)\s*\(",
        r"\bpty\.spawn\s*\(",
    ),
    "code execution": (
        r"(?<![\w.])(?:eval|exec|compile)\s*\(",
        r"\bimportlib\.import_module\s*\(",
        r"\b__import__\s*\(",
        r"\b(?:pickle|marshal)\.loads?\s*\(",
    ),
    "SQL or database access": (
        r"(?i)\bSELECT\b[\s\S]{0,200}?\bFROM\b",
        r"(?i)\bINSERT\s+INTO\b|\bDELETE\s+FROM\b|\b(?:DROP|CREATE)\s+(?:TABLE|DATABASE|INDEX)\b|\bALTER\s+TABLE\b",
        r"(?i)\bUPDATE\s+[\w.\"`\[\]]+\s+SET\b",
        r"(?i)\b(?:sqlite3|psycopg2?|pymysql|mysql\.connector|sqlalchemy)\b",
        r"\.execute(?:many)?\s*\(",
    ),
    "SSH or SFTP": (r"\b(?:paramiko|asyncssh|pysftp)\b", r"\bSSHClient\s*\("),
    "filesystem operations": (
        r"(?<![\w.])open\s*\(",
        r"\bos\.(?:remove|unlink|rename|replace|makedirs|listdir|walk)\s*\(",
        r"\bshutil\.(?:copy|copyfile|copytree|move|rmtree)\s*\(",
        r"\bglob\.glob\s*\(",
    ),
    "arbitrary network requests": (
        r"\brequests\.(?:get|post|put|patch|delete|head|options|request)\s*\(",
        r"\bhttpx\.(?:get|post|put|patch|delete|head|options|request|stream)\s*\(",
        r"\baiohttp\.ClientSession\s*\(",
        r"\burlopen\s*\(",
    ),
    "browser automation": (
        r"\b(?:playwright|selenium|pyppeteer|webdriver)\b",
        r"\b(?:browser\.new_page|page\.goto)\s*\(",
    ),
}
COMPILED = {name: [re.compile(p) for p in patterns] for name, patterns in CAPABILITIES.items()}
HTTP_VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "request"}
SECRET_WORDS = ("credential", "api_key", "apikey", "secret", "token", "password", "passwd")
LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
FINANCIAL = re.compile(
    r"(?i)\b(?:payments?|payment\s+processing|checkout|charge[sd]?|refund(?:s|ed)?|payouts?|"
    r"financial\s+transactions?|transactions?|trading|(?:buy|sell|trade)\s+(?:stock|crypto|token|asset)s?|"
    r"asset\s+transfers?|transfer\s+(?:funds?|assets?|money|cash|crypto|tokens?|coins?)|wire\s+transfer|"
    r"withdraw(?:al|s)?|deposits?|token\s+transfers?|(?:swap|bridge)\s+(?:crypto|tokens?|coins?)|wallet\s+transfer)\b"
)
MAX_SAMPLES = 20


def capabilities(pkg: Package) -> dict[str, list[str]]:
    """category -> every matching line (file:line: text)."""
    found: dict[str, list[str]] = {}
    for name, text in source_files(pkg, CODE):
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            for category, patterns in COMPILED.items():
                if any(p.search(stripped) for p in patterns):
                    found.setdefault(category, []).append(f"{name}:{number}: {stripped[:160]}")
    return found


def capabilities_rule(pkg: Package) -> list[Finding]:
    messages = []
    for category, lines in capabilities(pkg).items():
        messages.append(f"{category}: {len(lines)} line(s), e.g. {lines[0]}")
    return findings("capabilities", WARNING, messages)


def _mentions_secret(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        name = sub.id if isinstance(sub, ast.Name) else sub.attr if isinstance(sub, ast.Attribute) else ""
        if any(word in name.lower() for word in SECRET_WORDS):
            return True
    return False


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _safety(name: str, tree: ast.AST) -> list[str]:
    problems = []
    for node in ast.walk(tree):
        where = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner, method = _dotted(node.func.value).lower(), node.func.attr
            if (
                owner == "requests"
                and method in HTTP_VERBS
                and not any(k.arg == "timeout" for k in node.keywords)
            ):
                problems.append(f"{where}: requests.{method} without a timeout")
            is_log = owner in {"logging", "logger", "log"} or owner.endswith((".logger", ".log"))
            if method in LOG_METHODS and is_log and _mentions_secret(node):
                problems.append(f"{where}: a log call mentions a credential-like name")
        elif isinstance(node, ast.Raise) and node.exc is not None and _mentions_secret(node.exc):
            problems.append(f"{where}: a raised exception mentions a credential-like name")
        elif (
            isinstance(node, (ast.Return, ast.Yield))
            and node.value is not None
            and _mentions_secret(node.value)
        ):
            problems.append(f"{where}: a returned/yielded value mentions a credential-like name")
    return problems


def safety_rule(pkg: Package) -> list[Finding]:
    problems = []
    for name, text in source_files(pkg, (".py",)):
        try:
            problems += _safety(name, ast.parse(text))
        except SyntaxError:
            problems.append(f"{name}: not parseable for the safety scan")
    return findings("python-safety", WARNING, problems[:100])


def financial_rule(pkg: Package) -> list[Finding]:
    hits = []
    for name, path in pkg.files((".md", ".yaml", ".yml", ".json", ".toml", ".py", ".js", ".ts")):
        text = path.read_text(encoding="utf-8", errors="ignore")
        hits += [
            f"{name}:{n}: {line.strip()[:120]}"
            for n, line in enumerate(text.splitlines(), 1)
            if FINANCIAL.search(line)
        ]
    return findings("financial", WARNING, hits[:MAX_SAMPLES])
