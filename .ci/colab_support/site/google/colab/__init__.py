"""Stand-in for Google Colab's ``google.colab`` package (CI's Colab-equivalent runtime).

Only what the course uses: ``drive``, ``files``, ``userdata``, and the kernel/shell classes
that Colab's kernel starts with (so ``"google.colab" in sys.modules`` from the first cell, and
``str(get_ipython())`` names ``google.colab``, as kagglehub checks). See ../../README.md.
"""

import json
import os
import time


def _log(call, **details):
    """Append one call to $COLAB_STANDIN_LOG (JSON lines) for the runner's report."""
    path = os.environ.get("COLAB_STANDIN_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"call": call, "time": time.time(), **details}) + "\n")


class StandInPrompt(RuntimeError):
    """Colab would wait here for the learner; the stand-in has no learner and says so."""
