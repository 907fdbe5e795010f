"""Stand-in for ``google.colab._message``: ``blocking_request("get_ipynb")`` answers as Colab's
frontend does, ``{"ipynb": <the open notebook as JSON>}``: the notebook file named by
$COLAB_STANDIN_NOTEBOOK (the runner sets it to the notebook it runs). The course reads the
notebook's language from it (``metadata.asl_course.lang``: asl_course.i18n)."""

import json
import os

from google.colab import StandInPrompt, _log


class MessageError(RuntimeError):
    """Colab's error for a request its frontend refused."""


def blocking_request(request_type, request="", timeout_sec=5, parent=None):
    _log("_message.blocking_request", request_type=request_type)
    if request_type != "get_ipynb":
        raise StandInPrompt(f"google.colab stand-in: no frontend to answer {request_type!r}")
    path = os.environ.get("COLAB_STANDIN_NOTEBOOK")
    if not path:
        raise MessageError("google.colab stand-in: no notebook open (set COLAB_STANDIN_NOTEBOOK)")
    with open(path, encoding="utf-8") as handle:
        return {"ipynb": json.load(handle)}
