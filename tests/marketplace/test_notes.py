"""The submission notes: a pull-request body that passes the body checks and explains the warnings."""

from __future__ import annotations

import pytest

from tests.marketplace.packages import check, good_package, variant, wheel_with_so
from tools.marketplace.__main__ import SKIPPED
from tools.marketplace.findings import Package
from tools.marketplace.notes import notes_rule, submission_notes


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return good_package(tmp_path_factory.mktemp("good"))


@pytest.fixture
def notes(base, tmp_path):
    pkg = Package.unpack(base, tmp_path / "p")
    return pkg, submission_notes(pkg, check(base, tmp_path), list(SKIPPED))


def test_the_notes_pass_the_body_checks_and_say_what_reviewers_ask(notes):
    pkg, body = notes
    assert notes_rule(body, pkg) == []
    assert "- [x] Medium risk" in body and body.count("- [x]") == 2
    assert "- **Source repository**: https://github.com/acme/xinference-dify-plugin" in body
    assert "Access domains found by the static scan: none" in body
    assert "False positive in the secrets scan: `tiktoken`" in body
    assert "contains no executables or compiled files" in body
    assert "Skipped: dependency-vulnerabilities" in body and "Skipped: version-exists" in body


def test_an_offline_package_explains_its_compiled_files(base, tmp_path):
    put = {"wheels/fast-1.0-cp312-cp312-manylinux_2_28_x86_64.whl": wheel_with_so()}
    offline = variant(base, tmp_path / "o.difypkg", put=put)
    body = submission_notes(Package.unpack(offline, tmp_path / "o"), check(offline, tmp_path), [])
    assert (
        "1 compiled files, all inside 1 dependency wheels in wheels/ (the compiled extensions of fast)"
        in body
    )
    assert "not the package submitted to the Marketplace" in body


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("- **Contact**: plugins@acme.example", "- **Contact**:", "Contact is empty"),
        ("- [ ] High risk", "- [x] High risk", "Risk level must tick exactly one"),
        ("- [x] New plugin", "- [ ] New plugin", "Submission type must tick exactly one"),
        ("## Plugin information", "## Plugin information\n\n中文说明", "CJK"),
    ],
)
def test_a_broken_body_is_refused(notes, old, new, why):
    pkg, body = notes
    assert old in body
    assert any(why in f.message for f in notes_rule(body.replace(old, new), pkg))


def test_security_notes_cannot_be_none(notes):
    pkg, body = notes
    head, rest = body.split("## Security and privacy notes", 1)
    broken = (
        head
        + "## Security and privacy notes\n\nNone\n\n## Local validation"
        + rest.split("## Local validation", 1)[1]
    )
    assert any("'Security and privacy notes' section is empty" in f.message for f in notes_rule(broken, pkg))
