"""The bounded pool: pieces overlap, audio comes out in order, the pool always shuts down."""

import threading

import pytest
from dify_plugin.errors.model import InvokeServerUnavailableError

from models.tts import pipeline as tts_pipeline
from models.tts.pipeline import synthesise_in_order

SAFETY = 10  # seconds a test waits on an event before failing instead of hanging; not a timing check


@pytest.fixture
def pools(monkeypatch):
    """Records every pool the pipeline creates, and how it was shut down."""
    created = []

    class RecordingPool(tts_pipeline.ThreadPoolExecutor):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.shutdowns = []
            created.append(self)

        def shutdown(self, wait=True, *, cancel_futures=False):
            self.shutdowns.append({"wait": wait, "cancel_futures": cancel_futures})
            super().shutdown(wait=wait, cancel_futures=cancel_futures)

    monkeypatch.setattr(tts_pipeline, "ThreadPoolExecutor", RecordingPool)
    return created


def test_later_pieces_finish_first_but_audio_comes_out_in_order(pools):
    last_done = threading.Event()

    def synthesise(piece):
        if piece == "p0":
            assert last_done.wait(SAFETY), "pieces were not synthesised concurrently"
        yield piece.encode() + b"-a"
        yield piece.encode() + b"-b"
        if piece == "p2":
            last_done.set()

    out = list(synthesise_in_order(["p0", "p1", "p2"], synthesise, workers=3))
    assert out == [(0, b"p0-a"), (0, b"p0-b"), (1, b"p1-a"), (1, b"p1-b"), (2, b"p2-a"), (2, b"p2-b")]
    assert pools[0]._max_workers == 3
    assert pools[0].shutdowns == [{"wait": False, "cancel_futures": True}]


def test_pool_size_is_bounded_by_workers_and_pieces(pools):
    list(synthesise_in_order(["a", "b"], lambda p: [p.encode()], workers=5))
    list(synthesise_in_order(list("abcdefgh"), lambda p: [p.encode()], workers=3))
    assert [p._max_workers for p in pools] == [2, 3]


def test_first_chunk_is_handed_on_before_the_piece_is_finished(pools):
    may_finish = threading.Event()

    def synthesise(piece):
        yield b"early"
        assert may_finish.wait(SAFETY)
        yield b"late"

    stream = synthesise_in_order(["only-1", "only-2"], synthesise, workers=2)
    assert next(stream) == (0, b"early")  # would block forever if the piece were buffered whole
    may_finish.set()
    assert [c for _, c in stream] == [b"late", b"early", b"late"]


def test_error_in_a_piece_is_raised_in_order_and_the_pool_is_shut_down(pools):
    started = []
    gate = threading.Event()

    def synthesise(piece):
        started.append(piece)
        if piece == "bad":
            raise InvokeServerUnavailableError("boom")
        if piece == "next":
            assert gate.wait(SAFETY)  # holds the only worker until the consumer has given up
        yield piece.encode()

    stream = synthesise_in_order(["good", "bad", "next", "queued"], synthesise, workers=1)
    assert next(stream) == (0, b"good")
    with pytest.raises(InvokeServerUnavailableError, match="boom"):
        next(stream)
    assert pools[0].shutdowns == [{"wait": False, "cancel_futures": True}]
    gate.set()
    pools[0].shutdown(wait=True)  # let the worker finish, then see what it did
    assert "queued" not in started  # cancelled when the error ended the stream


def test_consumer_stopping_early_shuts_the_pool_and_closes_open_streams(pools):
    closed = []
    release = threading.Event()

    class FakeStream:
        def __init__(self, piece):
            self.piece = piece

        def __iter__(self):
            yield b"chunk-1"
            release.wait(SAFETY)
            yield b"chunk-2"

        def close(self):
            closed.append(self.piece)

    stream = synthesise_in_order(["p0", "p1", "p2", "p3"], FakeStream, workers=2)
    assert next(stream) == (0, b"chunk-1")
    stream.close()  # Dify stopped reading
    assert pools[0].shutdowns == [{"wait": False, "cancel_futures": True}]
    release.set()
    pools[0].shutdown(wait=True)
    assert {"p0", "p1"} <= set(closed)  # the streams that had started were closed
    assert "p3" not in closed  # queued behind the two workers: cancelled, never opened


def test_single_piece_needs_no_pool_and_its_stream_is_closed(pools):
    closed = []

    class FakeStream:
        def __iter__(self):
            yield b"a"
            yield b"b"

        def close(self):
            closed.append(True)

    stream = synthesise_in_order(["one"], lambda _p: FakeStream(), workers=3)
    assert next(stream) == (0, b"a")
    stream.close()
    assert closed == [True]
    assert pools == []


def test_the_workers_carry_the_tts_name_an_operator_sees_in_a_thread_dump(pools):
    # a stuck synthesis shows up by thread name in py-spy or faulthandler dumps (and the tests' timeout dump)
    names = set()

    def synthesise(piece):
        names.add(threading.current_thread().name)
        yield piece.encode()

    list(synthesise_in_order(["p0", "p1", "p2"], synthesise, workers=2))
    assert names and all(name.startswith("xinference-tts_") for name in names)
