"""Synthesising text pieces on a bounded thread pool while yielding their audio in reading order.

The first piece's bytes are handed on as they arrive; later pieces are synthesised meanwhile and
buffered until their turn. The pool is always shut down — after the last piece, on the first
error, and when the consumer (Dify) stops reading early — and pieces not yet started are cancelled
so the server does no work nobody will hear. (dify_plugin gevent-patches threading; queues and
events stay cooperative there.)
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Any

logger = logging.getLogger(__name__)

Synthesise = Callable[[str], Iterable[bytes]]
_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def synthesise_in_order(
    pieces: list[str], synthesise: Synthesise, workers: int
) -> Iterator[tuple[int, bytes]]:
    """Yields (piece index, audio bytes) for every piece, pieces in order, each piece's bytes in order."""
    if len(pieces) == 1:  # nothing to overlap: stream straight through, no thread needed
        with closing(_closing_iter(synthesise(pieces[0]))) as chunks:
            for chunk in chunks:
                yield 0, chunk
        return
    cancelled = threading.Event()
    outputs: list[queue.Queue[Any]] = [queue.Queue() for _ in pieces]
    pool = ThreadPoolExecutor(
        max_workers=max(1, min(workers, len(pieces))), thread_name_prefix="xinference-tts"
    )
    try:
        for index, piece in enumerate(pieces):
            pool.submit(_run, synthesise, piece, outputs[index], cancelled)
        for index, output in enumerate(outputs):
            while (item := output.get()) is not _DONE:
                if isinstance(item, _Failed):
                    raise item.error
                yield index, item
    finally:
        cancelled.set()
        pool.shutdown(wait=False, cancel_futures=True)


def _run(synthesise: Synthesise, piece: str, output: queue.Queue[Any], cancelled: threading.Event) -> None:
    # Cancelled only once the consumer has stopped reading: nobody waits on `output` any more.
    if cancelled.is_set():
        return
    try:
        with closing(_closing_iter(synthesise(piece))) as chunks:
            for chunk in chunks:
                if cancelled.is_set():
                    return  # leaving the `with` closes the HTTP stream
                output.put(chunk)
        output.put(_DONE)
    except BaseException as exc:  # handed to the consumer thread, which re-raises it in order
        output.put(_Failed(exc))


def _closing_iter(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Iterates `chunks` and closes it (an HTTP stream, a generator) however iteration ends."""
    iterator = iter(chunks)
    try:
        yield from iterator
    finally:
        for obj in (iterator, chunks):
            close = getattr(obj, "close", None)
            if close is not None:
                close()
