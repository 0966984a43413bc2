"""make marketplace-check PKG=… / make marketplace-package: the Marketplace pre-checks, our implementation.

Usage: python -m tools.marketplace PKG.difypkg [--notes FILE] [--no-install]
       python -m tools.marketplace --build [--repo-url URL --contact EMAIL]

Prints every rule's findings (errors refuse the package, warnings go to reviewers, "expected" are
errors an offline package needs, with the reason), lists the rules skipped and why, writes the
submission notes (the pull-request body) next to the package, and exits 1 on any error.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tools.marketplace import contents, dependencies, domains, install, metadata, notes, review, secrets
from tools.marketplace.findings import ERROR, EXPECTED, WARNING, Finding, Package
from tools.package import PackageError, build_package, check_and_sign
from tools.publisher import PublisherError, load, packaged_files, require

ROOT = Path(__file__).resolve().parents[2]
# The package rules, in the order a reviewer reads them (blocking ones first).
RULES: tuple[tuple[str, Callable[[Package], list[Finding]]], ...] = (
    ("contents", contents.contents_rule),
    ("secrets", secrets.secrets_rule),
    ("binaries", contents.binaries_rule),
    ("manifest", metadata.manifest_rule),
    ("daemon", metadata.daemon_rule),
    ("icon", metadata.icon_rule),
    ("privacy", metadata.privacy_rule),
    ("readme", metadata.readme_rule),
    ("dependencies", dependencies.dependencies_rule),
    ("python-compile", contents.compile_rule),
    ("python-safety", review.safety_rule),
    ("financial", review.financial_rule),
    ("domains", domains.domains_rule),
    ("capabilities", review.capabilities_rule),
)
# Rules of the workflow and toolkit that need more than the package and the package index.
SKIPPED = (
    ("version-exists", "asks marketplace.dify.ai whether this author/name/version is published (network)"),
    ("dependency-vulnerabilities", "looks each pinned dependency up in the OSV vulnerability database "
     "(network)"),
    ("daemon-packaging", "re-packages with the dify-plugin daemon binary downloaded from GitHub releases "
     "(network); the daemon's package rules are covered by the `daemon` rule (tools/package_inspect.py)"),
    ("pull-request-metadata", "PR title, changed-files count and template checks need the real pull request; "
     "the `submission-notes` rule checks the body we write"),
)  # fmt: skip


def run_rules(
    pkg: Package, workdir: Path, run_install: bool = True
) -> tuple[list[Finding], list[tuple[str, str]]]:
    """(findings, rules skipped with the reason) for every rule, the install and the start included."""
    found = [finding for _, rule in RULES for finding in rule(pkg)]
    if not run_install:
        return found, [(name, "not run (--no-install)") for name in ("install", "serverless-start")]
    python, problems = install.install(pkg, workdir)
    found += problems
    if python is not None:
        return found + install.serverless_start(pkg, python), []
    if problems:
        return found, [("serverless-start", "the dependencies did not install")]
    arch = install.package_arch(pkg)
    return found, [
        (
            "serverless-start",
            f"a linux-{arch} package on this {install.HOST_ARCH} machine: resolved, not started",
        )
    ]


def report(found: list[Finding], skipped: list[tuple[str, str]]) -> str:
    ran = [name for name, _ in RULES] + ["install", "serverless-start", "submission-notes"]
    lines = []
    for name in dict.fromkeys(ran + [f.rule for f in found]):
        mine = [f for f in found if f.rule == name]
        skipped_why = dict(skipped).get(name)
        status = "SKIP" if skipped_why else "FAIL" if any(f.level == ERROR for f in mine) else "ok"
        lines.append(f"[{status:4}] {name}" + (f": {skipped_why}" if skipped_why else ""))
        lines += [f"    {f.level}: {f.message}" for f in mine]
    lines += [f"[SKIP] {name}: {why}" for name, why in SKIPPED]
    counts = {level: sum(f.level == level for f in found) for level in (ERROR, WARNING, EXPECTED)}
    lines.append(
        f"{counts[ERROR]} error(s), {counts[WARNING]} warning(s), {counts[EXPECTED]} expected difference(s)"
    )
    return "\n".join(lines)


def check(path: Path, notes_path: Path | None = None, run_install: bool = True) -> int:
    with tempfile.TemporaryDirectory(prefix="marketplace-check-") as scratch:
        try:
            pkg = Package.unpack(path, Path(scratch) / "plugin")
        except (OSError, ValueError) as exc:
            print(f"[FAIL] unpack: {exc}")
            return 1
        found, skipped = run_rules(pkg, Path(scratch), run_install)
        body = notes.submission_notes(pkg, found, skipped + list(SKIPPED))
        found += notes.notes_rule(body, pkg)
    target = notes_path or path.with_name(path.name + ".submission.md")
    target.write_text(body, encoding="utf-8")
    print(report(found, skipped))
    print(f"submission notes (the pull-request body): {target}")
    return 1 if any(f.level == ERROR for f in found) else 0


def build(args: argparse.Namespace) -> Path:
    """`make marketplace-package`: the normal package, with the publisher settings required."""
    publisher = require(load(ROOT, args.repo_url, args.contact))
    path = build_package(ROOT, ROOT / "dist", replace=packaged_files(ROOT, publisher))
    if not check_and_sign(path):
        raise PackageError(f"{path.name} broke the daemon's rules (listed above)")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.marketplace", description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", type=Path, help="the .difypkg to check")
    parser.add_argument(
        "--notes", type=Path, help="where to write the submission notes (default: PKG.submission.md)"
    )
    parser.add_argument(
        "--no-install", action="store_true", help="skip the dependency install and serverless start"
    )
    parser.add_argument(
        "--build", action="store_true", help="build the Marketplace package first (needs publisher)"
    )
    parser.add_argument("--repo-url", default="")
    parser.add_argument("--contact", default="")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.build:
        try:
            args.package = build(args)
        except (PublisherError, PackageError) as exc:
            print(f"make marketplace-package: refused: {exc}", file=sys.stderr)
            return 2
    if args.package is None or not args.package.is_file():
        parser.error(f"no package at {args.package}: build one (make package) and pass PKG=dist/….difypkg")
    return check(args.package, args.notes, not args.no_install)


if __name__ == "__main__":
    sys.exit(main())
