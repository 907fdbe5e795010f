"""Stand-in for Colab's Kaggle cache, the service kagglehub uses on Colab.

On Colab, ``kagglehub.dataset_download`` asks the runtime (``$TBE_RUNTIME_ADDR``) whether the
data set is cached (``/kagglehub/datasets/is_supported``), asks it to mount it
(``/kagglehub/datasets/mount``, answer ``{"slug": ...}``) and returns ``/kaggle/input/<slug>``
(``$COLAB_CACHE_MOUNT_FOLDER``). This serves the same two endpoints on localhost, over a mount
folder holding the real release laid out as Kaggle publishes it (each CSV at the top and in a
subfolder of its own name), unpacked once from ``../shared/asl_data``.

``mode="missing"`` answers 404 (not cached): kagglehub then downloads from kaggle.com, which a
machine without network cannot reach: the "download failed" path.
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import shutil
import threading
from pathlib import Path

DATASET = ("datamunge", "sign-language-mnist")
SLUG = "sign-language-mnist"


def prepare_mount(shared_data: Path, mount_root: Path) -> Path:
    """``mount_root/sign-language-mnist`` with the release's CSVs (unpacked once, then reused)."""
    folder = mount_root / SLUG
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("sign_mnist_train", "sign_mnist_test"):
        source = shared_data / f"{name}.csv.gz"
        if not source.exists():
            raise SystemExit(f"{source} is missing: the Colab run needs the real release in {shared_data}")
        top = folder / f"{name}.csv"
        with gzip.open(source, "rb") as src, open(top, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        (folder / name).mkdir(exist_ok=True)
        sub = folder / name / f"{name}.csv"
        if sub.exists():
            sub.unlink()
        os.link(top, sub)  # the same bytes, as in Kaggle's download
    done.write_text("ok\n")
    return folder


class _Handler(http.server.BaseHTTPRequestHandler):
    mode = "cached"
    requests: list

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            asked = json.loads(body or b"{}")
        except ValueError:
            asked = {}
        self.requests.append({"path": self.path, "data": asked})
        ours = (asked.get("owner"), asked.get("dataset")) == DATASET
        if self.mode != "cached" or not ours or self.path not in (
            "/kagglehub/datasets/is_supported", "/kagglehub/datasets/mount"
        ):
            self.send_response(404)
            self.end_headers()
            return
        answer = json.dumps({"slug": SLUG} if self.path.endswith("/mount") else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):  # quiet
        pass


def serve(mode: str = "cached") -> tuple[http.server.ThreadingHTTPServer, list]:
    """Start the service in a daemon thread; returns the server (``server_address``) and the
    list of requests it received."""
    received: list = []
    handler = type("Handler", (_Handler,), {"mode": mode, "requests": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received
