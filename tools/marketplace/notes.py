"""The submission notes: the pull-request body for langgenius/dify-plugins, written from the check.

It follows the repository's pull-request template (plugin information, submission type, what
changed, risk level, security and privacy notes, local validation, reviewer notes) and explains
every warning the robots will show: what the plugin reaches, the known false positives, the
compiled files of offline packages. `notes_rule` checks the body the way the Marketplace checks a
pull request (fields filled, exactly one box ticked per choice, English only, security notes given).
"""

from __future__ import annotations

import re
from collections import Counter

from tools.marketplace.domains import access_domains
from tools.marketplace.findings import ERROR, EXPECTED, WARNING, Finding, Package
from tools.marketplace.review import capabilities

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
FIELDS = ("Author", "Plugin name", "Version", "Source repository", "Contact")
CHOICES = {
    "Submission type": ("New plugin", "Version update"),
    "Risk level": ("Low risk", "Medium risk", "High risk"),
}
TEXT_SECTIONS = ("What changed", "Local validation", "Security and privacy notes")
MISSING = "MISSING: build with `make marketplace-package REPO_URL=… CONTACT=…`"
RISK_WHY = (
    "Medium: the plugin sends prompts, documents and audio to a server URL that the workspace admin types in "
    "(their own Xinference server, usually on a private network). It runs no commands, reads no files, and "
    "contacts no other host."
)
KNOWN_FALSE_POSITIVES = {
    "tiktoken": (
        '`tiktoken` in requirements.txt (a name ending in "token" with a value): the tokenizer '
        "library that dify_plugin depends on, pinned by our lock. No secret; the plugin never loads "
        "a tokenizer (token counts are estimated offline, so nothing is downloaded)."
    ),
}
SECURITY = (
    "- Network: each model's requests go only to the Server URL the admin enters for it (HTTP/HTTPS, "
    "redirects never followed). The plugin contacts no other host: no telemetry, no tokenizer or image "
    "downloads.",
    "- Credentials: the optional API key is sent only as a Bearer header to that server; it is kept out "
    "of logs, error messages and tracebacks (server text echoing it is shown as [API key]).",
    "- Data: prompts, documents and audio pass through to the user's own server; nothing is stored "
    "outside the plugin process memory (a short-lived cache of the model description). See PRIVACY.md.",
)
SAFETY_WHY = (
    "They name token counts (`prompt_tokens`, `max_tokens`, usage) or the credentials object and API Key "
    "field; the key's value is never returned to Dify, logged or put in an error (the test suite checks "
    "the error paths for it)."
)
OFFLINE_WHY = (
    "This is an offline package for air-gapped Dify sites, which carries every dependency; it is not the "
    "package submitted to the Marketplace."
)


def _boxes(options: tuple[str, ...], chosen: str) -> list[str]:
    return [f"- [{'x' if option == chosen else ' '}] {option}" for option in options]


def _security(pkg: Package) -> list[str]:
    lines = list(SECURITY)
    hosts = access_domains(pkg)
    lines.append(
        "- Access domains found by the static scan: "
        + (", ".join(hosts) if hosts else "none (the server address comes from the admin at run time).")
    )
    found = capabilities(pkg)
    summary = ", ".join(f"{name} ({len(hits)} lines)" for name, hits in found.items())
    lines.append(f"- Sensitive capabilities found by the scan: {summary or 'none'}.")
    return lines


def _safety_note(found: list[Finding]) -> list[str]:
    safety = [f for f in found if f.rule == "python-safety"]
    if not safety:
        return []
    per_file = Counter(f.message.split(":", 1)[0] for f in safety)
    top = ", ".join(f"{name} {n}" for name, n in per_file.most_common(4))
    return [
        f"- Python safety scan: {len(safety)} warnings where a returned value, log call or exception "
        f"mentions a name containing `token`, `api_key` or `credential` ({top} …). {SAFETY_WHY}"
    ]


def _reviewer_notes(pkg: Package, found: list[Finding]) -> list[str]:
    lines = []
    for finding in found:
        for word, why in KNOWN_FALSE_POSITIVES.items():
            if finding.rule == "secrets" and f"`{word}`" in finding.message:
                lines.append(f"- False positive in the secrets scan: {why}")
    lines += _safety_note(found)
    wheels = [f.message for f in found if f.rule == "binaries" and "compiled file" in f.message]
    count = sum(int(m.split(": ", 1)[1].split(" ", 1)[0]) for m in wheels)
    projects = ", ".join(sorted({m.split("/", 1)[1].split("-", 1)[0] for m in wheels}))
    if wheels:
        lines.append(
            f"- Binaries: {count} compiled files, all inside {len(wheels)} dependency wheels in wheels/ "
            f"(the compiled extensions of {projects}). {OFFLINE_WHY}"
        )
    else:
        lines.append("- Binaries: this package contains no executables or compiled files.")
    lines += [f"- Expected in this offline package: {f.message}" for f in found if f.level == EXPECTED]
    return lines


def _validation(found: list[Finding], skipped: list[tuple[str, str]]) -> list[str]:
    counts = Counter(f.level for f in found)
    lines = [
        "```",
        "make marketplace-check PKG=dist/<package>.difypkg",
        f"{counts[ERROR]} error(s), {counts[WARNING]} warning(s), {counts[EXPECTED]} expected difference(s)",
        "```",
    ]
    return lines + [f"- Skipped: {name}: {why}" for name, why in skipped]


def submission_notes(pkg: Package, found: list[Finding], skipped: list[tuple[str, str]]) -> str:
    manifest = pkg.manifest()
    values = [manifest.get(k) for k in ("author", "name", "version")]
    values += [manifest.get("repo") or MISSING, manifest.get("contact") or MISSING]
    description = (manifest.get("description") or {}).get("en_US", "")
    lines = ["# Plugin Submission", "", "## Plugin information", ""]
    lines += [f"- **{field}**: {value}" for field, value in zip(FIELDS, values, strict=True)]
    lines += ["", "## Submission type", "", *_boxes(CHOICES["Submission type"], "New plugin")]
    lines += ["", "## What changed", "", f"First release. {description}"]
    lines += ["", "## Risk level", "", *_boxes(CHOICES["Risk level"], "Medium risk"), "", RISK_WHY]
    lines += ["", "## Security and privacy notes", "", *_security(pkg)]
    lines += ["", "## Local validation", "", *_validation(found, skipped)]
    lines += ["", "## Reviewer notes", "", *_reviewer_notes(pkg, found), ""]
    return "\n".join(lines)


def _sections(body: str) -> dict[str, str]:
    parts = re.split(r"^##\s+(.+?)\s*$", body, flags=re.MULTILINE)
    return {title.strip().lower(): text for title, text in zip(parts[1::2], parts[2::2], strict=False)}


def notes_rule(body: str, pkg: Package) -> list[Finding]:
    sections, errors = _sections(body), []
    info = sections.get("plugin information", "")
    for field in FIELDS:
        match = re.search(rf"^- \*\*{re.escape(field)}\*\*:[ \t]*(.*)$", info, re.MULTILINE)
        if not match or not match.group(1).strip() or match.group(1).startswith("MISSING"):
            errors.append(f"submission notes: {field} is empty ({MISSING.split(': ', 1)[1]})")
    for section, options in CHOICES.items():
        ticked = re.findall(r"^- \[[xX]\] (.+)$", sections.get(section.lower(), ""), re.MULTILINE)
        if len([t for t in ticked if t.strip() in options]) != 1:
            errors.append(f"submission notes: {section} must tick exactly one of {', '.join(options)}")
    for section in TEXT_SECTIONS:
        text = re.sub(r"<!--.*?-->", "", sections.get(section.lower(), ""), flags=re.DOTALL).strip()
        if not text or (section.startswith("Security") and text.lower().rstrip(".") in ("none", "n/a", "no")):
            errors.append(f"submission notes: the '{section}' section is empty")
    if count := len(CJK.findall(re.sub(r"```.*?```", "", body, flags=re.DOTALL))):
        errors.append(f"submission notes: {count} CJK characters; the pull request must be in English")
    return [Finding("submission-notes", ERROR, message) for message in errors]
