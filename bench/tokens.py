"""get_num_tokens on a 100,000-character prompt: time, and no network (5)."""

from __future__ import annotations

import time

from dify_plugin.entities.model.message import UserPromptMessage

from bench.common import Result, Target, median
from models.llm.llm import XinferenceLargeLanguageModel

CHARACTERS = 100_000
_PROSE = (
    "The quarterly report shows revenue of 4,281,000 dollars, up 12% from last year; operating costs "
    "fell to 1.9 million. Customers in Zürich, 東京 and São Paulo asked for faster deliveries "
    "(ticket #4471). "
)


def prompt(characters: int = CHARACTERS) -> str:
    return (_PROSE * (characters // len(_PROSE) + 1))[:characters]


def num_tokens(target: Target, reps: int) -> list[Result]:
    credentials = target.credentials(target.llm_uid)
    messages = [UserPromptMessage(content=prompt())]
    model = XinferenceLargeLanguageModel(model_schemas=[])
    before = target.count()
    tokens = model.get_num_tokens(target.llm_uid, credentials, messages)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        model.get_num_tokens(target.llm_uid, credentials, messages)
        times.append(time.perf_counter() - start)
    sent = target.count() - before
    ms = median(times) * 1e3
    return [
        Result(
            "num_tokens_100k",
            round(ms, 3),
            f"{ms:.2f} ms ({tokens} tokens)",
            "n/a (no request needed)",
            {"tokens": tokens, "reps": reps, "min_ms": min(times) * 1e3},
        ),
        Result("num_tokens_requests", sent, f"{sent} requests", "0", {}),
    ]
