"""Record the multimodal fixtures (tests/fixtures/xinference-4.1.0/mm_*) from a real Xinference 4.1.0.

Starts its own open server, launches the tiny CLIP and the Qwen3-VL-Reranker-2B stand-in (see
multimodal.py), and records what the unit tests and the replay server need: both descriptions, text and
image embeddings, the server's refusals of a mixed batch and of raw base64, and an image-query rerank.

usage: .venv/bin/python tools/real_xinference/record_multimodal.py [--out DIR]
"""

from __future__ import annotations

import argparse
import base64
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from env import REPO, ensure_venv, log
from multimodal import build as build_multimodal
from multimodal import ensure_extras
from processes import sigterm_as_interrupt
from record_fixtures import DEFAULT_OUT, Recorder
from server import XinferenceServer
from specs import multimodal_models

IMAGES = REPO / "tests" / "assets" / "images"


def data_uri(name: str, mime: str) -> str:
    return f"data:image/{mime};base64," + base64.b64encode((IMAGES / name).read_bytes()).decode()


def record(rec: Recorder, clip: str, vl_rerank: str) -> None:
    png, jpeg = data_uri("red-square.png", "png"), data_uri("blue-square.jpg", "jpeg")
    gif = data_uri("green-square.gif", "gif")
    raw_png = png.split(",", 1)[1]
    texts = [{"text": "a red square"}, {"text": "a blue square"}]
    r = rec.record
    r("mm_01_clip_get_model.json", "GET", f"/v1/models/{clip}")
    r("mm_02_clip_embed_texts.json", "POST", "/v1/embeddings", {"model": clip, "input": texts})
    body = {"model": clip, "input": [{"image": png}, {"image": jpeg}]}
    r("mm_03_clip_embed_images.json", "POST", "/v1/embeddings", body)
    body = {"model": clip, "input": [texts[0], {"image": png}]}
    r("mm_04_clip_embed_mixed_batch.txt", "POST", "/v1/embeddings", body)
    r(
        "mm_05_clip_embed_raw_base64.txt",
        "POST",
        "/v1/embeddings",
        {"model": clip, "input": [{"image": raw_png}]},
    )
    r("mm_06_vl_rerank_get_model.json", "GET", f"/v1/models/{vl_rerank}")
    docs = [{"text": "a red square"}, {"image": jpeg}, {"image": png}, {"image": gif}]
    body = {"model": vl_rerank, "query": {"image": png}, "documents": docs, "return_documents": False}
    r("mm_07_vl_rerank_image_query.json", "POST", "/v1/rerank", body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ns = parser.parse_args()
    signal.signal(signal.SIGTERM, sigterm_as_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    t0 = time.monotonic()
    py, _ = ensure_venv()
    ensure_extras(py)
    launches = multimodal_models(build_multimodal(py))
    server = XinferenceServer(py, "fixtures-multimodal")
    rec = Recorder(server, ns.out, [], py.parent.parent)
    try:
        server.start()
        server.register_and_launch(list(launches.values()))
        record(rec, launches["clip"].uid, launches["vl_rerank"].uid)
    except BaseException:
        print(server.log_tail(), flush=True)
        raise
    finally:
        server.stop()
    log(f"wrote {len(rec.written)} files in {time.monotonic() - t0:.0f} s; review with `git diff {ns.out}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
