"""``asl-course serve [--model PATH] [--host H] [--port P] [--ssl-certfile F --ssl-keyfile F]``.

Serves the course's web page (:mod:`asl_course.web`): the camera (or a photo) read by the
learner's model in the browser, and ``POST /predict`` for scripts. The model is ``--model``,
else the one ``asl-course run`` wrote (``output/asl_model.keras``), else ``./asl_model.keras``
(notebook 4's); its ONNX export beside it is used when it is newer than the model, else written
(``asl-course export``). With no model it says how to train one and exits with code 2.

Localhost only by default: browsers give the camera only to ``https://`` pages or to
``http://localhost``. For a phone or another computer, serve with ``--host 0.0.0.0`` behind
HTTPS: ``--ssl-certfile``/``--ssl-keyfile`` (passed to uvicorn) or a reverse proxy (README).
"""

from __future__ import annotations

import sys
from pathlib import Path

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the web page where the model reads your hand from the camera (and POST /predict)",
        description="Serve the course's web page: the camera (or a photo) read by your model in the browser, "
                    "the top 3 letters live, and a JSON POST /predict for scripts.",
    )
    from asl_course.tooling.commands.predict import add_model_argument

    add_model_argument(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this computer only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--ssl-certfile", default=None, metavar="FILE", help="HTTPS certificate (for phones, other computers)")
    parser.add_argument("--ssl-keyfile", default=None, metavar="FILE", help="HTTPS private key")
    parser.set_defaults(handler=handle)


def onnx_for(model_path: Path) -> Path:
    """The ONNX export of ``model_path``: the one beside it if newer and readable, else a new one."""
    from asl_course.errors import UserError
    from asl_course.learners import predict
    from asl_course.tooling import export
    from asl_course.tooling.commands.predict import import_keras

    onnx_file = export.onnx_path(model_path)
    if onnx_file.is_file() and onnx_file.stat().st_mtime >= model_path.stat().st_mtime:
        try:
            export.onnx_session(onnx_file)
            return onnx_file
        except UserError:
            pass  # a damaged export: write it again
    print(f"exporting {model_path} to ONNX for the page ...", file=sys.stderr)
    import_keras()
    model = predict.load_model(model_path)
    try:
        return export.export_onnx(model, onnx_file)
    except OSError:  # the model's folder is read-only: export to a private temporary folder
        import tempfile

        return export.export_onnx(model, Path(tempfile.mkdtemp(prefix="asl-serve-")) / onnx_file.name)


def handle(args) -> int:
    import uvicorn

    from asl_course.errors import UserError
    from asl_course.learners import predict
    from asl_course.web import runtime, server

    model_path = args.model if args.model is not None else predict.default_model_path()
    if not model_path.is_file():
        raise UserError(
            f"no model at {model_path}: the page needs your trained model. Train one with "
            "`asl-course run --fast` (writes output/asl_model.keras, a few minutes on a laptop) or "
            "notebook 4 (asl_model.keras), or pass --model PATH."
        )
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise UserError("HTTPS needs both --ssl-certfile and --ssl-keyfile.")
    onnx_file = onnx_for(model_path)
    app = server.create_app(onnx_file, runtime.fetch(log=lambda m: print(m, file=sys.stderr)))
    scheme = "https" if args.ssl_certfile else "http"
    shown = "localhost" if args.host in LOCAL_HOSTS else args.host
    print(f"model: {model_path}\nopen {scheme}://{shown}:{args.port}/ in a browser (Ctrl+C stops)", file=sys.stderr)
    if scheme == "http" and args.host not in LOCAL_HOSTS:
        print("note: browsers give the camera only to https:// pages (or localhost); other devices need "
              "--ssl-certfile/--ssl-keyfile or an HTTPS reverse proxy (README). Photos work without.", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, ssl_certfile=args.ssl_certfile,
                ssl_keyfile=args.ssl_keyfile, log_level="warning")
    return 0
