"""README.md, README.zh_Hans.md and README.ja_JP.md stay in step over the operator sections.

The Marketplace shows README.md (English only) and README.<locale>.md to users of that language.
The translations cover the operator sections of README.md (OPERATOR_SECTIONS and their
subsections); each translated heading is followed by `<!-- en: English heading -->`. The test
demands the same headings in the same order and, in every section, the same tables with the same
number of rows, each row quoting the same `code` as its English row (flags, values, env vars …).
When README.md changes there, translate the change: the failure names the section, table and row.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_SECTIONS = (
    "Install into Dify",
    "Installing on an air-gapped Dify",
    "Adding a model",
    "Troubleshooting",
)
TRANSLATIONS = ("README.zh_Hans.md", "README.ja_JP.md")
HEADING = re.compile(r"^(#{2,6})\s+(.+?)\s*$")
MARKER = re.compile(r"^<!-- en: (.+?) -->$")
CODE = re.compile(r"`([^`]+)`")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")  # kana, CJK ideographs


def _split(lines: list[str]) -> list[tuple[int, str, list[str]]]:
    """(level, title, body lines) for each heading of level 2 or deeper."""
    sections, current = [], None
    for line in lines:
        if match := HEADING.match(line):
            current = (len(match.group(1)), match.group(2), [])
            sections.append(current)
        elif current is not None:
            current[2].append(line)
    return sections


def _tables(body: list[str]) -> list[list[set[str]]]:
    """Each table as its rows (header and separator dropped), a row as the set of its `code` spans."""
    tables, rows = [], None
    for line in [*body, ""]:
        if line.startswith("|"):
            rows = [] if rows is None else rows
            rows.append(line)
        elif rows is not None:
            tables.append([set(CODE.findall(row)) for row in rows[2:]])
            rows = None
    return tables


def english_sections() -> list[tuple[int, str, list[str]]]:
    scope, inside = [], False
    for level, title, body in _split((ROOT / "README.md").read_text(encoding="utf-8").splitlines()):
        if level == 2:
            inside = title in OPERATOR_SECTIONS
        if inside:
            scope.append((level, title, body))
    return scope


def translated_sections(name: str) -> list[tuple[int, str, list[str]]]:
    """Sections keyed by the English heading their marker names."""
    result = []
    for level, _title, body in _split((ROOT / name).read_text(encoding="utf-8").splitlines()):
        marker = next((m.group(1) for line in body[:1] if (m := MARKER.match(line))), None)
        assert marker, f"{name}: heading of level {level} without `<!-- en: … -->` on the next line"
        result.append((level, marker, body[1:]))
    return result


def test_the_operator_sections_exist_in_readme():
    titles = [title for level, title, _ in english_sections() if level == 2]
    assert titles == list(OPERATOR_SECTIONS)


@pytest.mark.parametrize("name", TRANSLATIONS)
def test_same_sections_in_the_same_order(name):
    english = [(level, title) for level, title, _ in english_sections()]
    assert [(level, title) for level, title, _ in translated_sections(name)] == english


@pytest.mark.parametrize("name", TRANSLATIONS)
def test_same_tables_and_rows(name):
    translated = {title: body for _, title, body in translated_sections(name)}
    for _, title, body in english_sections():
        ours, theirs = _tables(body), _tables(translated.get(title, []))
        assert [len(t) for t in theirs] == [len(t) for t in ours], f"{name} § {title}: rows per table differ"
        for number, (en_rows, tr_rows) in enumerate(zip(ours, theirs, strict=True), start=1):
            for row, (en, tr) in enumerate(zip(en_rows, tr_rows, strict=True), start=1):
                assert tr == en, f"{name} § {title}, table {number}, row {row}: `code` differs: {en} vs {tr}"


@pytest.mark.parametrize("name", TRANSLATIONS)
def test_translations_are_translated(name):
    """Each section carries text in the target language, not a copy of the English one."""
    for _, title, body in translated_sections(name):
        prose = "\n".join(line for line in body if not line.startswith(("|", "```")))
        assert len(CJK.findall(prose)) > 20, f"{name} § {title}: no translated prose"


def test_readme_md_points_to_the_translations():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert all(f"({name})" in text for name in TRANSLATIONS)
