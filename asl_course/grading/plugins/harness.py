"""The verifier's sandbox for the function exercises (notebooks 5 and 7): the student's answer cells, run afresh.

The verifier never asks the student's kernel what its functions return: the kernel could
choose both the inputs and the answers. Instead it takes the answer cells (nbgrader's solution
cells) from the notebook being graded, runs them in a new process of its own, with the
student's ``asl_model.keras`` as the only file there, and then calls the functions on inputs it
chooses and keeps to itself until the call (pictures made from validation images, random
probability rows and confusion matrices). That process is started with
:mod:`asl_course.grading.plugins.sandbox` when the course has it (no network, nothing of the grader's writable),
else as a plain isolated Python (``-I``, an empty environment, a private folder).

Protocol (JSON lines): the parent sends ``{"cells": [...]}``, the child answers
``{"defined": [...], "errors": [...]}``; then ``{"call": name, "args": [...]}`` ->
``{"value": ...}`` or ``{"error": "Type: message"}``. Values are encoded by :func:`encode`.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from asl_course.grading.plugins import limits, sandbox

#: Seconds the answer cells may take to run (loading TensorFlow and the model), and one call.
START_TIMEOUT = 180
CALL_TIMEOUT = 60
#: The bounds of the answer cells' sandbox: one notebook kernel's (GuardedExecute's defaults
#: ``memory_limit`` and ``max_processes``, held equal by tests/test_trust.py), and no file larger
#: than the hidden tests' largest record.
BOUNDS_MEMORY = 4 * 2**30
BOUNDS_PROCESSES = 512
BOUNDS_FILE_SIZE = 512 * 2**20
#: Names the setup cell of notebook 5 defines, defined the same way before the answer cells run.
PRELUDE = """
from pathlib import Path
import numpy as np
import keras
from PIL import Image
from asl_course.learners import evaluation, lesson, predict
MODEL_FILE = Path("asl_model.keras")
"""


def encode(value):
    """A JSON form of a function's result or argument (arrays keep their dtype and shape)."""
    if isinstance(value, np.ndarray):
        if value.dtype == object or value.size > 100_000:
            return {"__repr__": repr(value)[:80], "__type__": "ndarray"}
        return {"__array__": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return {"__scalar__": value.item(), "dtype": str(value.dtype)}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value[:1000]]
    if isinstance(value, bytes):
        return {"__file__": base64.b64encode(value).decode()}
    return {"__repr__": repr(value)[:80], "__type__": type(value).__name__}


class _Opaque:
    def __init__(self, text, type_name):
        self.text, self.type_name = text, type_name

    def __repr__(self):
        return self.text


def decode(value, files: Path | None = None):
    if isinstance(value, list):
        return [decode(v, files) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return np.asarray(value["__array__"], dtype=value["dtype"]).reshape(value["shape"])
    if "__scalar__" in value:
        return np.asarray(value["__scalar__"], dtype=value["dtype"])[()]
    if "__tuple__" in value:
        return tuple(decode(v, files) for v in value["__tuple__"])
    if "__file__" in value and files is not None:
        path = Path(tempfile.mkstemp(dir=files, suffix=".png")[1])
        path.write_bytes(base64.b64decode(value["__file__"]))
        return str(path)
    if "__repr__" in value:
        kind = type(value.get("__type__", "object"), (_Opaque,), {})
        return kind(value["__repr__"], value.get("__type__"))
    return value


def child() -> None:
    """The sandboxed side: run the cells, then answer calls."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    requests = os.fdopen(os.dup(0), "r")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    files = Path(tempfile.mkdtemp(prefix="calls-", dir="."))
    ns: dict = {"__name__": "__main__"}
    first = json.loads(requests.readline())
    errors = []
    for index, source in enumerate([PRELUDE] + list(first["cells"])):
        try:
            exec(compile(source, f"<answer cell {index}>", "exec"), ns)  # noqa: S102 - the point
        except BaseException as exc:  # noqa: BLE001 - a failing cell: go on, as the notebook did
            errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
    # The repair the notebook gets after test_load_model (one mistake costs only its own points):
    # the functions are judged with the model saved in asl_model.keras, whatever the load_model
    # answer made of ``model`` (test_load_model itself is judged from the kernel's recorded model).
    if Path("asl_model.keras").is_file():
        try:
            import keras as _keras

            ns["model"] = _keras.models.load_model("asl_model.keras", safe_mode=True)
        except BaseException as exc:  # noqa: BLE001 - said in the reply; the calls then fail
            errors.append(f"asl_model.keras: {type(exc).__name__}: {str(exc)[:200]}")
    defined = sorted(k for k, v in ns.items() if not k.startswith("_"))
    protocol.write(json.dumps({"defined": defined, "errors": errors}) + "\n")
    for line in requests:
        request = json.loads(line)
        try:
            if request.get("get"):
                reply = {"value": encode(ns[request["get"]])}
            else:
                fn = ns[request["call"]]
                reply = {"value": encode(fn(*[decode(a, files) for a in request["args"]]))}
        except BaseException as exc:  # noqa: BLE001 - the student's function failed: say how
            reply = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        protocol.write(json.dumps(reply, default=repr) + "\n")


class HarnessError(RuntimeError):
    pass


def bounds():
    """The answer cells' sandbox limits (:mod:`asl_course.grading.plugins.limits`)."""
    return limits.Limits(memory=BOUNDS_MEMORY, processes=BOUNDS_PROCESSES, file_size=BOUNDS_FILE_SIZE)


def _command(folder: Path, package: Path) -> tuple[list[str], dict, object]:
    """The command that runs the child in ``folder`` (with the sandbox when the course has it),
    its environment, and the sandbox's :class:`limits.Box` (None without a sandbox)."""
    bootstrap = (f"import sys; sys.path.insert(0, {str(package)!r}); "
                 "from asl_course.grading.plugins import harness; harness.child()")
    argv = [sys.executable, "-I", "-c", bootstrap]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder), "TF_CPP_MIN_LOG_LEVEL": "3",
           "MPLBACKEND": "Agg", "CUDA_VISIBLE_DEVICES": "", "PYTHONHASHSEED": "0"}
    if not sandbox.available():
        if os.environ.get("ASL_HARNESS_SANDBOX", "") == "required":
            sandbox.require()
        print(f"[asl-course verifier] WARNING: the answer cells run without a sandbox ({sandbox.problem()})",
              file=sys.stderr, flush=True)
        return argv, env, None
    os.chmod(folder, 0o755)  # bwrap enters it before dropping to the sandbox user
    sandbox.give(folder)
    box = limits.Box(bounds())
    return sandbox.command(argv, ro_binds=[str(package)], rw_binds=[str(folder)], workdir=folder,
                           env={k: v for k, v in env.items() if k not in ("PATH", "HOME")}, box=box), env, box


class Harness:
    """Notebook 5's answer cells running in a fresh process; call their functions by name."""

    def __init__(self, cells: list[str], model_file: Path | None, package: Path):
        self.folder = Path(tempfile.mkdtemp(prefix="asl-harness-"))
        if model_file is not None and Path(model_file).is_file():
            shutil.copyfile(model_file, self.folder / "asl_model.keras")
        self.model_path = self.folder / "asl_model.keras"
        argv, env, self.box = _command(self.folder, package)
        self._log = open(self.folder.parent / f"{self.folder.name}.log", "ab")
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                        cwd=self.folder, env=env, text=True, bufsize=1, start_new_session=True)
        try:
            reply = self._ask({"cells": list(cells)}, START_TIMEOUT)
        except HarnessError:
            self.close()
            raise
        self.defined = set(reply.get("defined", []))
        self.errors = list(reply.get("errors", []))

    def stopped(self) -> str:
        """Why the answer cells' sandbox is gone: the limit it went over, where one did."""
        over = self.box.exceeded() if self.box is not None else None
        return "the sandbox running the answer cells stopped" + (f": {over}" if over else "")

    def _ask(self, request: dict, timeout: float) -> dict:
        if self.process.poll() is not None:
            raise HarnessError(self.stopped())
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise HarnessError(self.stopped()) from exc
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            self.close()
            raise HarnessError(f"the answer cells took more than {timeout:.0f} s")
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            raise HarnessError(self.stopped())
        return json.loads(line)

    def call(self, name: str, *args):
        reply = self._ask({"call": name, "args": [encode(a) for a in args]}, CALL_TIMEOUT)
        if "error" in reply:
            raise _RaisedInSandbox(reply["error"])
        return decode(reply["value"])

    def get(self, name: str):
        reply = self._ask({"get": name}, CALL_TIMEOUT)
        if "error" in reply:
            raise _RaisedInSandbox(reply["error"])
        return decode(reply["value"])

    def functions(self, names) -> dict:
        """A namespace for :func:`asl_course.grading.observe`: each name as a proxy into the sandbox
        (pictures are sent as their bytes: the sandbox sees no file of the grader's)."""
        ns: dict = {"__model_path__": str(self.model_path)}
        for name in names:
            if name not in self.defined:
                continue
            if name == "LETTERS":
                try:
                    ns[name] = self.get(name)
                except _RaisedInSandbox:
                    pass
                continue
            ns[name] = _Proxy(self, name)
        return ns

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, 9)
            except OSError:
                self.process.kill()
            self.process.wait()
        if self.box is not None:
            self.box.close()
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)  # the sandbox's stderr: nothing reads it after
        shutil.rmtree(self.folder, ignore_errors=True)


class _RaisedInSandbox(Exception):
    """The student's function raised ``Type: message`` in the sandbox."""

    def __init__(self, text: str):
        name, _, message = text.partition(": ")
        super().__init__(message)
        self.text = text
        self.name = name

    def __str__(self):
        return self.text.partition(": ")[2]


class _Proxy:
    """A student's function in the sandbox, called like the function itself."""

    def __init__(self, harness: Harness, name: str):
        self.harness, self.name = harness, name

    def __call__(self, *args):
        converted = [Path(a).read_bytes() if isinstance(a, str) and a.endswith(".png") and Path(a).is_file()
                     else a for a in args]
        try:
            return self.harness.call(self.name, *converted)
        except _RaisedInSandbox as exc:
            raise _renamed(exc.name)(str(exc)) from None


def _renamed(name: str):
    safe = "".join(ch for ch in name if ch.isalnum() or ch == "_")[:60] or "Error"
    return type(safe, (Exception,), {})
