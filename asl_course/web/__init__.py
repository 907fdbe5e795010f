"""The course's web page: the model reads a hand from the camera (or a photo), in the browser.

- ``static/``: the page (``index.html``, ``app.js``, ``style.css``); ``app.js`` prepares each
  frame as :func:`asl_course.learners.predict.prepare_image` does (centre square, Pillow's
  grayscale and bicubic 28x28 resize, /255) and runs the ONNX model with onnxruntime-web.
- :mod:`asl_course.web.runtime`: onnxruntime-web's WebAssembly files, fetched by pinned version
  from the npm registry and checked by SHA-256 (not committed: 14.3 MB).
- :mod:`asl_course.web.server`: ``asl-course serve`` (starlette + uvicorn): the page, the model
  and ``POST /predict``;
- :mod:`asl_course.web.fakecam`: a camera made of test images (a ``.y4m`` video Chromium plays as
  its camera), for the real-browser test and ``asl-course bench camera``.

May import: facts, errors, learners, and ``tooling.export`` (the ONNX session); not grading.
"""

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
