"""Sentence splitting under the character limit."""

import pytest

from models.tts.text import split_text


def test_short_text_is_one_piece():
    assert split_text("  Hello world.  ", 300) == ["Hello world."]


def test_sentences_are_packed_up_to_the_limit_and_never_cut_inside():
    text = "One two three. Four five six! Seven eight nine? Ten."
    pieces = split_text(text, 30)
    assert pieces == ["One two three. Four five six!", "Seven eight nine? Ten."]
    assert all(len(p) <= 30 for p in pieces)


def test_chinese_sentence_marks_split():
    text = "今天天气很好。我们去公园吧！你觉得怎么样？好的；走吧"
    assert split_text(text, 8) == ["今天天气很好。", "我们去公园吧！", "你觉得怎么样？", "好的；走吧"]


def test_decimal_points_and_abbreviation_dots_do_not_split():
    assert split_text("Pi is 3.14159 and e is 2.71828.", 20) == ["Pi is 3.14159 and e", "is 2.71828."]


def test_newlines_end_sentences():
    assert split_text("Title\nBody line one", 12) == ["Title", "Body line", "one"]


def test_a_long_sentence_is_cut_at_clauses_then_spaces():
    text = "first clause, second clause, third clause without a stop"
    pieces = split_text(text, 20)
    assert pieces == ["first clause,", "second clause,", "third clause without", "a stop"]


def test_unbreakable_text_is_hard_cut_and_nothing_is_lost():
    text = "x" * 45
    pieces = split_text(text, 20)
    assert pieces == ["x" * 20, "x" * 20, "x" * 5]


def test_every_character_survives_in_order():
    text = "Alpha beta. Gamma, delta; epsilon! 中文句子。Another one? " * 20
    pieces = split_text(text, 50)
    assert all(0 < len(p) <= 50 for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_blank_text_gives_no_pieces(text):
    assert split_text(text, 10) == []


def test_limit_must_be_positive():
    with pytest.raises(ValueError, match=r"^limit must be at least 1$"):
        split_text("abc", 0)


def test_a_limit_of_one_cuts_every_character():
    assert split_text("ab, c", 1) == ["a", "b", ",", "c"]
