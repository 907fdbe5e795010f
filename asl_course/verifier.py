"""The autograder's verifier process: re-judges exercises outside the student's kernel.

Started by :class:`asl_course.autograder.GradingSession` before the first submission runs
(``python -I``, from a snapshot of the course package), it loads the grading code and the
reference data once, then answers one JSON request per line on stdin
(``{"grade_id", "folder"}``) with ``{"mistakes": [...]}`` (or ``{"error": ...}``) on stdout.
Nothing a submission does in its kernel reaches this process's memory.
"""

from __future__ import annotations

import json
import os
import sys
import threading


def _warm() -> None:
    try:
        import keras  # noqa: F401 - import TensorFlow while the first notebook runs
    except Exception:  # noqa: BLE001
        pass


def main() -> None:
    # The protocol owns the real stdout; anything else printed goes to stderr (the log).
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from asl_course import grading

    reference = grading.load_reference_npz(sys.argv[1])
    threading.Thread(target=_warm, daemon=True).start()
    for line in sys.stdin:
        try:
            request = json.loads(line)
            mistakes = grading.verify(request["grade_id"], request["folder"], reference)
            reply = {"mistakes": [str(m) for m in mistakes]}
        except BaseException as exc:  # noqa: BLE001 - answer every request
            reply = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        protocol.write(json.dumps(reply) + "\n")
        protocol.flush()


if __name__ == "__main__":
    main()
