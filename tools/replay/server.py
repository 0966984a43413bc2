"""A local HTTP server that answers like the recorded Xinference 4.1.0 server.

The plugin under test runs in its own process, so `responses` cannot intercept its HTTP calls; this
server, bound to 127.0.0.1, serves the recordings in tests/fixtures/xinference-4.1.0 instead.
Streams are written frame by frame with real chunked transfer encoding, as uvicorn does.
Run `python -m tools.replay.server --port N` to try the console against it by hand.
"""

from __future__ import annotations

import argparse
import threading
import time
from http.server import ThreadingHTTPServer

from tools.replay.data import FIXTURES, _descriptions, _vectors
from tools.replay.handler import _Handler

__all__ = ["FIXTURES", "ReplayServer"]


class _Server(ThreadingHTTPServer):
    # Like uvicorn's backlog (2048): the default of 5 resets connections when 50 sessions start at once.
    request_queue_size = 1024


class ReplayServer:
    """Recorded Xinference on 127.0.0.1:<ephemeral>; a context manager."""

    def __init__(self, api_key: str | None = None, port: int = 0, frame_delay: float = 0.0) -> None:
        self.api_key = api_key
        self.frame_delay = frame_delay  # seconds between stream frames, to make sessions interleave
        self.descriptions = _descriptions()
        self.vectors = _vectors()
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str, dict[str, str], bytes]] = []
        handler = type("ReplayHandler", (_Handler,), {"replay": self})
        self._httpd = _Server(("127.0.0.1", port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="replay-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()

    def record(self, entry: tuple[str, str, dict[str, str], bytes]) -> None:
        with self._lock:
            self._requests.append(entry)

    def start(self) -> ReplayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve recorded Xinference 4.1.0 responses on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=9997)
    parser.add_argument("--api-key", default=None, help="answer 401 unless this Bearer key is sent")
    parser.add_argument("--frame-delay", type=float, default=0.0)
    args = parser.parse_args()
    with ReplayServer(api_key=args.api_key, port=args.port, frame_delay=args.frame_delay) as srv:
        print(f"replaying Xinference 4.1.0 recordings at {srv.url} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
