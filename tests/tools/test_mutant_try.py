"""tools.mutant_try finds a recorded mutant's change in the source, methods included (mutmut shows a
method dedented, its docstring's continuation lines not)."""

from __future__ import annotations

from tools.mutant_try import placed

SOURCE = '''class Joiner:
    def add(self, piece):
        """Keep a piece.
        Empty pieces are dropped."""
        if not piece:
            return None
        self.pieces.append(piece)
        return piece
'''
SHOWN = '''def add(self, piece):
    """Keep a piece.
        Empty pieces are dropped."""
    if not piece:
        return None
    self.pieces.append(piece)
    return piece'''


def _apply(change):
    found = placed(SOURCE, change)
    assert found is not None
    return SOURCE.replace(found[0], found[1], 1)


def test_a_method_shown_dedented_is_changed_in_place():
    mutated = _apply((SHOWN, SHOWN.replace("return None", "return ''")))
    assert mutated == SOURCE.replace("return None", "return ''")


def test_a_change_found_as_shown_is_used_as_is():
    assert placed("a = 1\nb = 2\n", ("a = 1", "a = 2")) == ("a = 1", "a = 2")


def test_lines_that_stay_ambiguous_are_not_applied():
    twice = "def f():\n    return 1\n\n\ndef g():\n    return 1\n"
    assert placed(twice, ("return 1", "return 2")) is None
