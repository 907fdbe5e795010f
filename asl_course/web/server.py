"""``asl-course serve``: the page, the learner's model as ONNX, onnxruntime-web, and ``POST /predict``.

A starlette application (:func:`create_app`) run by uvicorn. Routes:

- ``GET /``: the page (``static/index.html``, ``app.js``, ``prepare.js``, ``style.css``);
- ``GET /model.onnx``: the model the page runs (exported by :mod:`asl_course.tooling.export`);
- ``GET /ort/...``: onnxruntime-web's three files (:mod:`asl_course.web.runtime`);
- ``POST /predict``: one picture -> ``{"letter", "probability", "top": [3 x {"letter",
  "probability"}]}``, prepared by :func:`asl_course.learners.predict.prepare_image` and run by
  onnxruntime on the same ONNX file. The picture is the request body (``Content-Type:
  image/...``) or a form field ``image`` (``multipart/form-data``). Bad requests get a JSON
  ``{"error": ...}`` that says what to send: 400 (not a picture, no ``image`` field), 413
  (over :data:`MAX_UPLOAD` bytes or :data:`MAX_PIXELS` pixels), 415 (another content type).
"""

from __future__ import annotations

import io
from pathlib import Path

from asl_course.errors import one_line
from asl_course.learners import predict
from asl_course.tooling import export
from asl_course.web import STATIC

#: The largest upload ``POST /predict`` reads (a phone photo is 2-8 MB), and the largest picture.
MAX_UPLOAD = 16 * 1024 * 1024
MAX_PIXELS = 50_000_000
TOP = 3


class BadRequest(Exception):
    """A request ``POST /predict`` refuses: the HTTP status and one sentence for the sender."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def image_from_bytes(data: bytes):
    """An uploaded file -> a Pillow image, or :class:`BadRequest` saying why it is not one."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise BadRequest(413, f"the picture is {opened.width}x{opened.height} pixels; send one of at most "
                                      f"{MAX_PIXELS // 1_000_000} megapixels.")
            opened.load()
            return opened.copy()
    except UnidentifiedImageError:
        raise BadRequest(400, "the upload is not a picture Pillow can read: send a PNG, JPEG, BMP, GIF, TIFF "
                              "or WebP image.") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise BadRequest(400, f"the picture cannot be read ({one_line(exc)}): it may be truncated; "
                              "send it again.") from None


def letters(session, data: bytes) -> dict:
    """The model's top letters for one uploaded picture (the training preparation)."""
    batch = predict.prepare_image(image_from_bytes(data))
    row = export.onnx_probabilities(session, batch)[0]
    top = predict.top_k(row, TOP)
    return {"letter": top[0][0], "probability": top[0][1],
            "top": [{"letter": t, "probability": p} for t, p in top]}


async def _body(request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(413, f"the upload is over {limit // (1024 * 1024)} MB: send a smaller picture.")
        chunks.append(chunk)
    return b"".join(chunks)


async def _upload(request, limit: int) -> bytes:
    from starlette.datastructures import UploadFile
    from starlette.formparsers import MultiPartException

    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise BadRequest(413, f"the upload is over {limit // (1024 * 1024)} MB: send a smaller picture.")
    if kind.startswith("image/") or kind == "application/octet-stream":
        return await _body(request, limit)
    if kind != "multipart/form-data":
        raise BadRequest(415, f"Content-Type {kind or '(none)'} is not a picture: send the picture as the body "
                              "with Content-Type image/png or image/jpeg, or as a form field named image.")
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=limit)
    except MultiPartException as exc:
        raise BadRequest(400, f"the form cannot be read ({exc.message}): send one picture in a field named image.") from None
    upload = form.get("image")
    if not isinstance(upload, UploadFile):
        raise BadRequest(400, "the form has no file field named image: send the picture as image=@photo.jpg.")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise BadRequest(413, f"the upload is over {limit // (1024 * 1024)} MB: send a smaller picture.")
    return data


def create_app(onnx_file: Path, runtime_dir: Path, *, max_upload: int = MAX_UPLOAD):
    """The web application for one exported model and one onnxruntime-web folder."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    session = export.onnx_session(onnx_file)

    async def predict_route(request):
        try:
            data = await _upload(request, max_upload)
            return JSONResponse(await run_in_threadpool(letters, session, data))
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except predict.ImageError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    async def model_route(request):
        return FileResponse(onnx_file, media_type="application/octet-stream")

    routes = [
        Route("/predict", predict_route, methods=["POST"]),
        Route("/model.onnx", model_route),
        Mount("/ort", StaticFiles(directory=runtime_dir)),
        Mount("/", StaticFiles(directory=STATIC, html=True)),
    ]
    return Starlette(routes=routes)
