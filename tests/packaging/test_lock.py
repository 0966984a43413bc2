"""The lock (requirements.txt) agrees with the top-level list (requirements.in), checked offline.

The closure of requirements.in is computed from the metadata of the distributions installed in this
venv (which `make venv` installs from the lock): it must be exactly the lock's pins for this platform,
at the same versions. Editing requirements.in without `make lock`, or hand-editing the lock, fails here.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tools.packaging.lock import (
    LOCK,
    TOP_LEVEL,
    LockError,
    canonical,
    lock_digest,
    offline_requirements,
    parse_lock,
)
from tools.packaging.wheels import WheelError, _check, cache_dir, needed

FIX = "requirements.txt and requirements.in disagree: run `make lock`"


def _top_level() -> list[Requirement]:
    lines = [line.split("#", 1)[0].strip() for line in TOP_LEVEL.read_text(encoding="utf-8").splitlines()]
    return [Requirement(line) for line in lines if line]


def _installed_closure(roots: list[Requirement]) -> dict[str, str]:
    """name → installed version of every distribution the requirements pull in here (markers applied)."""
    found: dict[str, str] = {}
    pending = [(req, "") for req in roots]
    while pending:
        req, extra = pending.pop()
        if req.marker and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonical(req.name)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{req.name} is required but not installed ({FIX}, then `make venv`)")
        assert req.specifier.contains(dist.version, prereleases=True), f"{req} but {dist.version}: {FIX}"
        if name in found:
            continue
        found[name] = dist.version
        for text in dist.requires or []:
            child = Requirement(text)
            pending += [(child, "")] + [(child, wanted) for wanted in req.extras]
    return found


def test_lock_is_the_closure_of_the_top_level_list():
    locked = {
        pin.name: pin.version for pin in parse_lock(LOCK.read_text()) if pin.applies_to(platform.machine())
    }
    closure = _installed_closure(_top_level())
    extra, missing = set(locked) - set(closure), set(closure) - set(locked)
    assert not extra and not missing, f"only in the lock {extra}, only in the closure {missing}: {FIX}"
    assert closure == locked, FIX


def test_every_top_level_requirement_is_pinned_exactly():
    for req in _top_level():
        (spec,) = req.specifier
        assert spec.operator == "==", f"{req}: pin direct dependencies exactly"


def test_lock_holds_exact_pins_and_no_index():
    text = LOCK.read_text(encoding="utf-8")
    pins = parse_lock(text)  # raises on any line that is not `name==version [; marker]`
    assert {"dify-plugin", "requests", "pydantic", "pyyaml"} <= {pin.name for pin in pins}
    assert "make lock" in text.splitlines()[1]  # says how it was made
    for word in ("--index-url", "--extra-index-url", "-i ", "--find-links", "://"):
        assert word not in text, f"{word!r} in the lock: a fixed index breaks PIP_MIRROR_URL sites"


def test_parse_lock_rejects_a_range_and_keeps_markers():
    with pytest.raises(LockError, match="line 2"):
        parse_lock("a==1\nrequests>=2\n")
    (win,) = parse_lock("cffi==2.1.1 ; sys_platform == 'win32'\n")
    assert win.marker == "sys_platform == 'win32'" and not win.applies_to("x86_64")
    (arm,) = parse_lock("x==1 ; platform_machine == 'aarch64'\n")
    assert arm.applies_to("aarch64") and not arm.applies_to("x86_64")


def test_offline_requirements_install_the_same_pins_from_wheels_only():
    text = LOCK.read_text(encoding="utf-8")
    offline = offline_requirements(text, "test")
    lines = [line for line in offline.splitlines() if not line.startswith("#")]
    assert lines[:2] == ["--no-index", "--find-links ./wheels"]
    assert parse_lock("\n".join(lines[2:])) == parse_lock(text)


def test_wheel_cache_is_named_by_lock_and_platform():
    text = "a==1\n"
    assert cache_dir(text, "amd64") != cache_dir(text, "arm64") != cache_dir("a==2\n", "arm64")
    assert cache_dir(text, "amd64") == cache_dir("# comment\na==1\n", "amd64")
    assert lock_digest(text) != lock_digest("a==2\n")


def test_wheel_check_wants_exactly_the_pins(tmp_path: Path):
    pins = needed("dify-plugin==0.10.2\ncffi==2.1.1 ; sys_platform == 'win32'\n", "amd64")
    assert [pin.name for pin in pins] == ["dify-plugin"]
    wheel = tmp_path / "dify_plugin-0.10.2-py3-none-any.whl"
    with pytest.raises(WheelError, match=r"dify-plugin==0\.10\.2"):
        _check(tmp_path, pins)
    wheel.write_bytes(b"")
    assert _check(tmp_path, pins) == [wheel]
    (tmp_path / "requests-2.0-py3-none-any.whl").write_bytes(b"")
    with pytest.raises(WheelError, match="does not pin"):
        _check(tmp_path, pins)
    (tmp_path / "requests-2.0-py3-none-any.whl").unlink()
    (tmp_path / "dify_plugin-0.10.1-py3-none-any.whl").write_bytes(b"")
    with pytest.raises(WheelError, match="found"):
        _check(tmp_path, pins)
