"""A local HTTP server that speaks the part of OpenML's REST API synthrisk's loader uses, for
the fixture tables under ``tests/fixtures/openml/<id>/``:

* ``GET /api/v1/json/data/<id>``: ``description.json`` (its ``{base}`` filled with this server's URL)
* ``GET /api/v1/json/data/features/<id>``: ``features.json``
* ``GET /api/v1/json/data/qualities/<id>``: ``qualities.json``
* ``GET /data/v1/download/<file_id>/<name>.arff``: the ARFF file, gzip-encoded when the client
  sends ``Accept-Encoding: gzip`` (as OpenML's server does)

An unknown id gets HTTP 412 with OpenML's error JSON (``{"error": {"code": "111", "message":
"Unknown dataset"}}``). Every request path is recorded in :attr:`LocalOpenML.requests`.
"""
from __future__ import annotations

import gzip
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "openml"
API = re.compile(r"^/api/v1/json/data/(?:(features|qualities)/)?(\d+)$")
DOWNLOAD = re.compile(r"^/data/v1/download/(\d+)/([^/]+)$")


class LocalOpenML:
    def __init__(self, root: Path = FIXTURES):
        self.root = Path(root)
        self.requests: list[str] = []
        self.gzipped: list[str] = []
        self.corrupt: set[str] = set()  # file names served with one byte changed
        self.edits: dict = {}  # ("description"|"features"|"qualities", id) -> function(answer) -> answer
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                owner.requests.append(self.path)
                m = API.match(self.path)
                if m:
                    kind, data_id = m.groups()
                    f = owner.root / data_id / f"{kind or 'description'}.json"
                    if not f.exists():
                        return self._send(412, json.dumps({"error": {"code": "111", "message": "Unknown dataset"}})
                                          .encode(), "application/json")
                    answer = json.loads(f.read_text().replace("{base}", owner.url))
                    edit = owner.edits.get((kind or "description", data_id))
                    answer = edit(answer) if edit else answer
                    return self._send(200, json.dumps(answer).encode(), "application/json")
                m = DOWNLOAD.match(self.path)
                if m:
                    hits = [p for p in owner.root.glob(f"*/{m.group(2)}")
                            if str(json.loads((p.parent / "description.json").read_text())
                                   ["data_set_description"]["file_id"]) == m.group(1)]
                    if hits:
                        body = hits[0].read_bytes()
                        if m.group(2) in owner.corrupt:
                            body = body[:-2] + b"9\n"
                        return self._send(200, body, "text/plain", gz="gzip" in self.headers.get("Accept-Encoding", ""))
                self._send(404, b"not found", "text/plain")

            def _send(self, code, body, ctype, gz=False):
                if gz:
                    body = gzip.compress(body)
                    owner.gzipped.append(self.path)
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                if gz:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # port 0: a free port
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "LocalOpenML":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
