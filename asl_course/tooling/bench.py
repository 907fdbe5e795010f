"""Benchmarks that print measured figures (never timed tests).

``asl-course bench training``: the lesson's training run as the notebooks do it, with
seconds per epoch and the validation accuracy figures the course reports; with
``--record-baseline`` (and ``--no-augmentation``, full mode, real data) it records the
reference baseline that notebook 4 shows next to the augmented run.

``asl-course bench grading``: seconds per graded submission, through the instructor's
nbgrader pipeline on a throwaway course folder (see :mod:`asl_course.tooling.classroom`).
With ``--workers N``: the class graded with 1 and with N parallel workers
(:mod:`asl_course.grading.instructor.parallel`), seconds per submission for each notebook and the throughput.

``asl-course bench data``: seconds to import the real release, to import it again (a no-op:
it reads and hashes, it neither parses nor writes), and to write the synthetic stand-in.

``asl-course bench augmentation``: the epoch time (or ``--steps N``) of the lesson's model
with no augmentation, ``ImageDataGenerator``, the preprocessing layers inside the model, the
tf.data way, the fused way, the jit layer and the whole data set on the accelerator
(:mod:`asl_course.learners.augment`), as ratios to no augmentation; TensorFlow or Keras on
JAX/PyTorch (there the generator and the tf.data ways say why they cannot run). With ``--full``
(:func:`augmentation_accuracy`): the real-data accuracy table of the lesson's recipe and the
stable one (:mod:`asl_course.learners.recipe`) over seeds; it refuses on the synthetic stand-in.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import shutil
import tempfile
import time
from pathlib import Path

from asl_course import dataset as _data
from asl_course.errors import UserError
from asl_course.learners import augment, lesson, notebook, recipe


def machine() -> str:
    import tensorflow as tf

    gpus = notebook.gpu_names()
    device = ", ".join(gpus) if gpus else f"{os.cpu_count()} CPU cores"
    return f"TensorFlow {tf.__version__} on {device} ({platform.machine()})"


def data_step(sources=None, *, log=print) -> dict:
    """Time the data step in a throwaway folder: import, import again, write the stand-in."""
    if not sources:
        shared = Path(__file__).resolve().parents[3] / "shared" / "asl_data"
        sources = sorted(shared.glob("sign_mnist_*.csv*")) if shared.is_dir() else []
        if not sources:
            raise UserError("give the release's files or zip: asl-course bench data PATH ... "
                            "(no ../shared/asl_data beside the repository)")
    report = {"machine": f"{os.cpu_count()} CPU cores ({platform.machine()})", "sources": [str(s) for s in sources],
              "date": datetime.date.today().isoformat()}
    with tempfile.TemporaryDirectory(prefix="asl-bench-data-") as tmp:
        dest = Path(tmp) / "asl_data"
        for key in ("import", "import_again"):
            started = time.perf_counter()
            _data.import_release(list(sources), dest, log=lambda *_: None)
            report[f"{key}_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        _data.write_synthetic(Path(tmp) / "standin", seed=0, log=lambda *_: None)
        report["standin_s"] = round(time.perf_counter() - started, 2)
    log(f"import {report['import_s']:.1f} s, import again (no-op) {report['import_again_s']:.1f} s, "
        f"synthetic stand-in {report['standin_s']:.1f} s on {report['machine']}")
    return report


def training(*, augment: bool = True, fast: bool = False, seed: int = 0, data_dir=None, log=print) -> dict:
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.start
            times.append(seconds)
            log(f"epoch {epoch + 1:2d}: {seconds:5.1f} s  loss {logs['loss']:.4f}  acc {logs['accuracy']:.4f}  "
                f"val_loss {logs['val_loss']:.4f}  val_acc {logs['val_accuracy']:.4f}")

    times: list[float] = []
    folder = _data.locate(data_dir)
    log(_data.describe(folder))
    plan = lesson.run_plan(fast)
    log(plan.describe() + (" With ImageDataGenerator." if augment else " Without augmentation."))
    prepared = lesson.prepare(folder)
    keras.utils.set_random_seed(seed)
    model = lesson.build_model()
    lesson.compile_model(model)
    n = plan.train_images
    x, y = prepared.x_train[:n], prepared.y_train[:n]
    if augment:
        datagen = lesson.make_datagen(x)
        flow = datagen.flow(x, y, batch_size=plan.batch_size)
        history = model.fit(flow, epochs=plan.epochs, steps_per_epoch=len(flow),
                            validation_data=(prepared.x_valid, prepared.y_valid), verbose=0, callbacks=[EpochTimer()])
    else:
        history = model.fit(x, y, epochs=plan.epochs, batch_size=plan.batch_size,
                            validation_data=(prepared.x_valid, prepared.y_valid), verbose=0, callbacks=[EpochTimer()])
    hist = {k: [round(float(v), 4) for v in vals] for k, vals in history.history.items()}
    summary = notebook.summarize_history(hist)
    summary["seconds_per_epoch"] = round(sum(times) / len(times), 1)
    report = {
        "date": datetime.date.today().isoformat(),
        "data": "real data" if notebook.is_real(folder) else "SYNTHETIC stand-in",
        "machine": machine(),
        "augmentation": augment,
        "mode": "fast" if plan.fast else "full",
        "seed": seed,
        "summary": summary,
        "history": hist,
    }
    log(json.dumps(summary))
    return report


def record_baseline(report: dict) -> None:
    if report["augmentation"] or report["mode"] != "full" or report["data"] != "real data":
        raise ValueError("the reference baseline is a full run without augmentation on the real data")
    notebook.BASELINE_FILE.write_text(json.dumps(report, indent=1) + "\n")


# --- Grading ------------------------------------------------------------------------------------


def grading(*, assignments: list[str] | None = None, students: int = 2, data_dir=None, keep=None,
            log=print) -> dict:
    """Seconds per graded submission: the instructor's pipeline on a throwaway course folder.

    For each assignment: ``students`` copies of the full solution and one untouched release
    are submitted, autograded in one ``nbgrader autograde`` call, then feedback is generated.
    Reports the wall time of each call and, from the autograder's log, each notebook's time.
    """
    from asl_course.tooling import classroom, editions

    folder = _data.locate(data_dir)
    log(_data.describe(folder))
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="asl-bench-grading-"))
    names = assignments or editions.assignments(editions.repo_root())
    course = classroom.Course.create(root, data_dir=folder)
    report = {"date": datetime.date.today().isoformat(), "machine": machine(), "cpu_load_before": _load(),
              "data": "real data" if notebook.is_real(folder) else "SYNTHETIC stand-in", "assignments": {}}
    try:
        for name in names:
            t = time.perf_counter()
            course.generate(name)
            generate_s = time.perf_counter() - t
            ids = [f"solution{i + 1}" for i in range(students)] + ["release"]
            for student in ids:
                nb = course.release_notebook(name) if student == "release" else classroom.solution_notebook(root, name)
                course.submit(student, name, nb, files=_student_files(root, student, name))
            t = time.perf_counter()
            result = course.autograde(name)
            autograde_s = time.perf_counter() - t
            t = time.perf_counter()
            course.generate_feedback(name)
            feedback_s = time.perf_counter() - t
            per_notebook = {m.group(1): float(m.group(2)) for m in
                            re.finditer(r"ran (\w+)/\S+ in ([0-9.]+) s", result.stderr)}
            scores = course.scores(name)
            entry = {
                "submissions": len(ids),
                "generate_assignment_s": round(generate_s, 1),
                "autograde_s": round(autograde_s, 1),
                "seconds_per_submission": round(autograde_s / len(ids), 1),
                "notebook_run_s": per_notebook,
                "generate_feedback_s": round(feedback_s, 1),
                "scores": {s: sum(v.values()) for s, v in scores.items()},
            }
            if name.startswith("05"):
                entry["solutions_came_with_asl_model_keras"] = bool(_student_files(root, "solution1", name))
            report["assignments"][name] = entry
            log(f"{name}: {entry['seconds_per_submission']} s per submission (autograde {entry['autograde_s']} s "
                f"for {len(ids)}; notebooks {per_notebook}); feedback {entry['generate_feedback_s']} s; "
                f"scores {entry['scores']}")
    finally:
        _finish(report, root, keep, log)
    return report



def _finish(report: dict, root, keep: bool, log) -> None:
    """The end of a grading bench: the load average after it, and its throwaway course removed."""
    report["cpu_load_after"] = _load()
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    log(f"CPU load average before/after: {report['cpu_load_before']} / {report['cpu_load_after']} "
        f"(above {os.cpu_count()} means other jobs shared the CPUs)")

def _student_files(root, student: str, assignment: str) -> dict[str, bytes] | None:
    """Notebook 5 loads the model notebook 4 saved: a student who ran notebook 5 has
    ``asl_model.keras`` in its folder (copied from notebook 4, or saved by the catch-up cell),
    so a solution submission carries the model its own notebook 4 produced when this benchmark
    graded notebook 4. The release (and notebook 5 graded alone) come without one: the
    notebook's catch-up cell then trains a quick model while it is graded."""
    if student == "release" or not assignment.startswith("05"):
        return None
    for path in sorted((Path(root) / "autograded" / student).glob("04*/asl_model.keras")):
        return {"asl_model.keras": path.read_bytes()}
    return None


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


# --- Grading a class in parallel ------------------------------------------------------------------


def parallel_grading(*, assignments: list[str] | None = None, students: int = 4, workers: int = 2, data_dir=None,
                     keep=None, log=print) -> dict:
    """Class throughput with 1 and ``workers`` parallel workers (:func:`asl_course.grading.instructor.parallel.grade`).

    For each assignment: ``students`` copies of the solution and one untouched release are
    submitted to a throwaway course, graded and merged with 1 worker, then graded again with
    ``workers`` workers. Reports seconds per submission for each notebook (from the 1-worker
    run: each student's time in its worker, the first one including the worker's start-up),
    each run's wall time and its throughput (submissions per hour), and whether both runs gave
    the same scores.
    """
    from asl_course.tooling import classroom, editions
    from asl_course.grading.instructor import parallel

    folder = _data.locate(data_dir)
    log(_data.describe(folder))
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="asl-bench-parallel-"))
    names = assignments or editions.assignments(editions.repo_root())
    course = classroom.Course.create(root, data_dir=folder)
    report = {"date": datetime.date.today().isoformat(), "machine": machine(), "cpu_load_before": _load(),
              "data": "real data" if notebook.is_real(folder) else "SYNTHETIC stand-in", "workers": workers,
              "assignments": {}}
    total = {1: 0.0, workers: 0.0}
    count = 0
    try:
        for name in names:
            ids = _submit_class(course, root, name, students)
            runs, scores = {}, {}
            for n in (1, workers):
                result = parallel.grade(root, name, workers=n, env=course.env, log=lambda *_: None)
                scores[n] = course.scores(name)
                runs[n] = grading_run(result, name, len(ids))
                total[n] += result["wall_s"]
            count += len(ids)
            report["assignments"][name] = entry = assignment_entry(runs, scores, len(ids), workers)
            log(f"{name}: " + _describe_entry(entry, runs, workers))
        report["class"] = class_throughput(total, count)
        log("class: " + "; ".join(f"{n} worker(s): {count} submissions in {round(t, 1)} s, "
                                  f"{round(3600 * count / t, 1) if t else '-'} per hour" for n, t in total.items())
            + (f"; speed-up {total[1] / total[workers]:.2f}x" if total[workers] and workers != 1 else ""))
    finally:
        _finish(report, root, keep, log)
    return report


def _submit_class(course, root, name: str, students: int) -> list[str]:
    """``students`` copies of the solution and one untouched release, handed in to ``name``."""
    from asl_course.tooling import classroom

    course.generate(name)
    ids = [f"solution{i + 1}" for i in range(students)] + ["release"]
    for student in ids:
        nb = course.release_notebook(name) if student == "release" else classroom.solution_notebook(root, name)
        course.submit(student, name, nb, files=_student_files(root, student, name))
    return ids


def grading_run(result: dict, name: str, submissions: int) -> dict:
    """One graded class (:func:`asl_course.grading.instructor.parallel.grade`'s report) in figures."""
    return {"workers": result["workers"], "wall_s": result["wall_s"],
            "seconds_per_submission": round(result["wall_s"] / submissions, 1),
            "submissions_per_hour": round(3600 * submissions / result["wall_s"], 1),
            "student_s": {s: t for shard in result["shards"] for s, t in shard["seconds"].items()},
            "not_graded": result["failed"].get(name, {})}


def assignment_entry(runs: dict, scores: dict, submissions: int, workers: int) -> dict:
    """An assignment's figures: each run's, the seconds per submission in a worker (from the
    1-worker run), and whether both runs gave the same scores."""
    one = runs[1]["student_s"]
    return {"submissions": submissions, "runs": {str(n): r for n, r in runs.items()},
            "seconds_per_submission_in_a_worker": round(sum(one.values()) / max(len(one), 1), 1),
            "same_scores": scores[1] == scores[workers],
            "scores": {s: sum(v.values()) for s, v in scores[workers].items()}}


def _describe_entry(entry: dict, runs: dict, workers: int) -> str:
    one = runs[1]["student_s"]
    return (f"{entry['seconds_per_submission_in_a_worker']} s per submission in a worker "
            f"({', '.join(f'{s} {t} s' for s, t in sorted(one.items()))}); class of {entry['submissions']}: "
            + "; ".join(f"{r['workers']} worker(s) {r['wall_s']} s = {r['seconds_per_submission']} s per "
                        f"submission, {r['submissions_per_hour']} per hour" for r in runs.values())
            + f"; same scores with 1 and {workers}: {entry['same_scores']}")


def class_throughput(total: dict, count: int) -> dict:
    """``{workers: {wall_s, submissions, submissions_per_hour}}`` over every assignment."""
    return {str(n): {"wall_s": round(t, 1), "submissions": count,
                     "submissions_per_hour": round(3600 * count / t, 1) if t else None}
            for n, t in total.items()}


# --- Augmentation, four ways ------------------------------------------------------------------------


def augmentation(*, steps: int | None = None, rounds: int = 5, warmup: int = 3, seed: int = 0, data_dir=None,
                 log=print) -> dict:
    """Epoch time of the lesson's model with no augmentation and with each way of augmenting
    (:mod:`asl_course.learners.augment`), each as a ratio to no augmentation: one run, the same
    machine, backend, model (``lesson.build_model``) and batch 32.

    The ways: ``generator`` (``ImageDataGenerator``), ``layers`` (Keras' preprocessing layers
    inside the model), ``tf.data`` (those layers mapped in a tf.data pipeline), ``fused layer``
    and ``fused`` (one affine map per image, one resample per batch: inside the model, and in a
    tf.data pipeline). ``steps``: steps per way and round instead of a full epoch (858 steps on
    the real data). The ways take turns, ``rounds`` times, each round in a rotated order, and a
    way's time is its fastest round (as ``timeit`` does: other jobs only ever add time), its
    median printed beside it. On a shared machine whose speed changes within minutes (measured
    here: the same 150 plain steps took 5.2 s and 10.3 s in one run, as another job took a core
    and let it go), timing each way once, one after the other, compares moments, not ways. Each way first trains ``warmup`` steps, so tracing is
    not counted. Without TensorFlow (Keras on JAX or PyTorch) only the ways inside the model run.
    The accuracy table (``--full``) is :func:`augmentation_accuracy`.
    """
    import keras


    if steps is not None and steps < 1:
        raise ValueError("steps must be at least 1")
    if warmup < 1:
        raise ValueError("warmup must be at least 1 step")
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    folder = _data.locate(data_dir)
    log(_data.describe(folder))
    prepared = lesson.prepare(folder)
    batch = lesson.BATCH_SIZE
    x, y = prepared.x_train.astype("float32"), prepared.y_train.astype("float32")
    n_steps = lesson.steps_per_epoch(len(x), batch) if steps is None else min(steps, lesson.steps_per_epoch(len(x)))
    xs, ys = x[: n_steps * batch], y[: n_steps * batch]
    backend = keras.backend.backend()
    gpus = accelerators(backend)
    device = ", ".join(gpus) if gpus else f"{os.cpu_count()} CPU cores"
    report = {"date": datetime.date.today().isoformat(),
              "data": "real data" if notebook.is_real(folder) else "SYNTHETIC stand-in",
              "machine": f"Keras {keras.__version__}, {backend} backend on {device} ({platform.machine()})",
              "steps": n_steps, "rounds": rounds, "batch_size": batch,
              "full_epoch": n_steps == lesson.steps_per_epoch(len(x), batch),
              "cpu_load_before": _load(), "ways": {}}
    ways = augment.timing_ways(x, y, steps=n_steps, warmup=warmup, seed=seed, ways=augment.ALL_WAYS + augment.JIT_WAYS)
    report["ways"] = augment.time_ways(ways, steps=n_steps, rounds=rounds)
    report["alone"] = _augmentation_alone(xs, ys, n_steps, rounds, seed, bool(gpus))
    report["targets"] = gpu_targets(report["ways"])
    report["cpu_load_after"] = _load()
    for line in augmentation_lines(report):
        log(line)
    return report


def _augmentation_alone(xs, ys, n_steps: int, rounds: int, seed: int, accelerator: bool) -> dict:
    """Seconds to make ``n_steps`` augmented batches each way, no model: the augmentation's own cost.

    Inside a training epoch that cost hides behind the model's steps when it runs beside them
    (tf.data's threads) and adds to them when it runs in line (the layers in the model, the
    generator without workers). On a fast accelerator the model's steps shrink and this cost
    is what is left: it bounds the epoch time from below. Each layer is compiled as ``fit``
    compiles the model around it (:func:`compiled_call`).
    """
    import keras


    batch = lesson.BATCH_SIZE
    tf_backend = keras.backend.backend() == "tensorflow"
    out: dict[str, dict] = {}
    makers = {}
    if augment.have_tensorflow():
        datagen = lesson.make_datagen(xs)

        def generator():
            it = datagen.flow(xs, ys, batch_size=batch, seed=seed)
            for _ in range(n_steps):
                next(it)

        makers["generator"] = generator
    for name, layer in (("layers", augment.make_layers(seed=seed)), ("fused layer", augment.make_fused_layer(seed=seed)),
                        ("jit layer", augment.make_jit_layer(seed=seed))):
        call = compiled_call(layer, accelerator)

        def in_model(call=call):
            for k in range(n_steps):
                keras.ops.convert_to_numpy(call(xs[k * batch:(k + 1) * batch]))

        makers[name] = in_model
    makers["on device"] = on_device_alone(xs, n_steps, seed, accelerator)
    if augment.have_tensorflow() and tf_backend:
        layers = augment.make_layers(seed=seed)
        makers["tf.data"] = lambda: sum(1 for _ in augment.make_dataset(xs, ys, augment=layers, seed=seed))
        makers["fused"] = lambda: sum(1 for _ in augment.make_fused_dataset(xs, ys, seed=seed))
    for name, make in makers.items():
        times = []
        for _ in range(max(2, rounds // 2)):
            started = time.perf_counter()
            make()
            times.append(time.perf_counter() - started)
        out[name] = {"seconds": round(min(times), 4), "batches_per_s": round(n_steps / min(times), 1)}
    return out


def on_device_alone(xs, n_steps: int, seed: int, accelerator: bool):
    """The jit layer on batches sliced from images already on the accelerator, waiting for the
    device once at the end: the augmentation's own cost in the ``"on device"`` way."""
    import keras


    images, batch = augment.on_accelerator(xs), lesson.BATCH_SIZE
    call = compiled_call(augment.make_jit_layer(seed=seed), accelerator)

    def run():
        for k in range(n_steps):
            out = call(images[k * batch:(k + 1) * batch])
        keras.ops.convert_to_numpy(out)

    return run


def accelerators(backend: str) -> list[str]:
    """The accelerators that Keras' ``backend`` sees (names), without importing TensorFlow when it runs on another."""
    if backend == "tensorflow" and augment.have_tensorflow():
        return notebook.gpu_names()
    if backend == "jax":
        import jax

        return [str(d) for d in jax.devices() if d.platform != "cpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(k) for k in range(torch.cuda.device_count())]
    return []


def compiled_call(layer, accelerator: bool):
    """``layer(batch, training=True)`` compiled as Keras' ``fit`` would compile a model holding it
    (``jit_compile="auto"``): TensorFlow: ``tf.function``, with XLA on an accelerator if the layer
    supports jit; JAX: ``jax.jit`` of its stateless call if it supports jit; PyTorch: eager."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(lambda b: layer(b, training=True), jit_compile=accelerator and layer.supports_jit)
    if backend == "jax" and layer.supports_jit:
        import jax

        layer.build((None, 28, 28, 1))
        pure = jax.jit(lambda state, b: layer.stateless_call([], state, b, training=True))
        state = [v.value for v in layer.non_trainable_variables]

        def call(b):
            out, state[:] = pure(state, b)
            return out

        return call
    return lambda b: layer(b, training=True)


def gpu_targets(ways: dict) -> dict:
    """Issue 12's GPU targets, read off a timing: the fastest augmented way at most 1.3 times the
    epoch without augmentation, and at least 4 times as fast as ``ImageDataGenerator``."""
    timed = {name: entry["seconds"] for name, entry in ways.items() if "seconds" in entry and name != "none"}
    if not timed or "seconds" not in ways.get("none", {}):
        return {}
    fastest = min(timed, key=timed.get)
    out = {"fastest": fastest, "fastest_ratio": round(timed[fastest] / ways["none"]["seconds"], 2)}
    out["at_most_1.3x"] = out["fastest_ratio"] <= 1.3
    if "generator" in timed:
        out["times_faster_than_generator"] = round(timed["generator"] / timed[fastest], 2)
        out["at_least_4x_faster_than_generator"] = out["times_faster_than_generator"] >= 4
    return out


def augmentation_lines(report: dict) -> list[str]:
    """:func:`augmentation`'s table as printed."""
    what = "a full epoch" if report["full_epoch"] else f"{report['steps']} steps"
    lines = [f"augmentation, {what} of batch {report['batch_size']} per way and round, the fastest of "
             f"{report['rounds']} rounds, {report['machine']}, {report['data']}:"]
    for name, entry in report["ways"].items():
        if "seconds" in entry:
            lines.append(f"  {name:12s} {entry['seconds']:7.2f} s  {entry['seconds_per_step_ms']:7.1f} ms/step  "
                         f"ratio {entry['ratio']:.2f}  median {entry['median_s']:.2f} s  rounds: " + ", ".join(f"{t:.1f}" for t in entry["rounds_s"]))
        else:
            lines.append(f"  {name:12s} not available ({entry['not_available']})")
    if report.get("alone"):
        lines.append(f"the augmentation alone, {report['steps']} batches, no model (the layers called batch by "
                     "batch, compiled as fit compiles them; on device: the jit layer on batches sliced on the "
                     "accelerator; tf.data and the generator iterated):")
        for name, entry in report["alone"].items():
            lines.append(f"  {name:12s} {entry['seconds']:7.2f} s  {entry['batches_per_s']:8.1f} batches/s")
    t = report.get("targets") or {}
    if t:
        gen = (f", {t['times_faster_than_generator']:.2f} times as fast as the generator (target at least 4: "
               f"{'yes' if t['at_least_4x_faster_than_generator'] else 'NO'})" if "times_faster_than_generator" in t
               else ", the generator not timed here")
        lines.append(f"fastest augmented way: {t['fastest']}, ratio {t['fastest_ratio']:.2f} (GPU target at most 1.3: "
                     f"{'yes' if t['at_most_1.3x'] else 'NO'}){gen}")
    lines.append(f"CPU load average before/after: {report['cpu_load_before']} / {report['cpu_load_after']} "
                 f"(above {os.cpu_count()} means other jobs shared the CPUs)")
    return lines


# --- Augmentation: the accuracy table (--full) -------------------------------------------------------


def augmentation_accuracy(*, seeds=(0, 1, 2), epochs: int | None = None, recipes=None, data_dir=None,
                          log=print) -> dict:
    """The real-data accuracy of the lesson's recipe and the stable one over ``seeds``.

    Each run trains the lesson's model with the lesson's ``ImageDataGenerator``
    (:func:`asl_course.learners.recipe.run`); the validation (Kaggle test) file is only reported, every
    epoch, never used to choose. Prints, per recipe and seed, the final, best and minimum of the
    last 5 epochs' accuracy and the seconds per epoch, then the mean over seeds and issue 12's
    targets. Refuses on the synthetic stand-in: no real data, no accuracy figures.
    """
    recipes = list(recipe.RECIPES if recipes is None else recipes)
    for name in recipes:
        recipe.check_recipe(name)
    if epochs is not None:
        recipe.check_epochs(epochs)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("give at least one seed")
    folder = _data.locate(data_dir)
    if not notebook.is_real(folder):
        raise UserError(f"bench augmentation --full reports accuracy on the real data only; {folder} holds the "
                        "synthetic stand-in, whose accuracies say nothing about the lesson. Import the release "
                        "(asl-course data import PATH) or set ASL_DATA_DIR to it")
    log(_data.describe(folder))
    report = {"date": datetime.date.today().isoformat(), "data": "real data", "machine": machine(),
              "cpu_load_before": _load(), "seeds": seeds, "runs": []}
    for name in recipes:
        for seed in seeds:
            log(f"{name} recipe, seed {seed}, {epochs or recipe.default_epochs(name)} epochs ...")
            report["runs"].append(recipe.run(name, seed=seed, epochs=epochs, data_dir=folder,
                                             log=lambda line: log("  " + line)))
    report["cpu_load_after"] = _load()
    report["table"] = recipe.table(report["runs"])
    for line in accuracy_table_lines(report):
        log(line)
    return report


def accuracy_table_lines(report: dict) -> list[str]:
    """The ``--full`` table as printed: one row per recipe and seed, then the means and the targets."""
    lines = [f"accuracy on the validation (Kaggle test) file, {report['machine']}, {report['data']}:",
             f"  {'recipe':12s} {'seed':>4s} {'epochs':>6s} {'final':>7s} {'best':>7s} {'min last 5':>10s} {'s/epoch':>8s}"]
    for r in report["runs"]:
        s = r["summary"]
        lines.append(f"  {r['recipe']:12s} {r['seed']:4d} {s['epochs']:6d} {s['final_val_acc']:7.4f} "
                     f"{s['best_val_acc']:7.4f} {s['min_last5_val_acc']:10.4f} {s.get('seconds_per_epoch', 0):8.1f}")
    for name, entry in report["table"].items():
        met = recipe.targets_met(entry)
        lines.append(f"  {name}: mean final {entry['mean_final_val_acc']:.4f}, mean best {entry['mean_best_val_acc']:.4f}, "
                     f"lowest of the last 5 epochs over seeds {entry['min_min_last5_val_acc']:.4f}; issue 12's "
                     f"targets: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in met.items()))
    lines.append(f"CPU load average before/after: {report.get('cpu_load_before')} / {report.get('cpu_load_after')} "
                 f"(above {os.cpu_count()} means other jobs shared the CPUs; seconds per epoch are then inflated)")
    return lines


def camera(model=None, *, seconds: float = 10.0, chromium: str = "/usr/bin/chromium", log=print) -> dict:
    """Frames per second from camera to letters in headless Chromium, and the page's size.

    The camera is Chromium's fake device playing a 640x480, 60 frames/s video of hands
    (:mod:`asl_course.web.fakecam`), so the page is never waiting for a slow camera; the page
    reads every new frame it can (prepare + model + showing the letters). ``model``: a ``.keras``
    file; default an untrained lesson model (the same graph: the speed does not depend on the
    weights). Prints and returns the figures, with the machine's load average.
    """
    import tempfile
    import threading
    from pathlib import Path

    import numpy as np
    import uvicorn
    from playwright.sync_api import sync_playwright

    from asl_course.learners import predict
    from asl_course.tooling import export
    from asl_course.web import STATIC, fakecam, runtime, server

    work = Path(tempfile.mkdtemp(prefix="asl-bench-camera-"))
    try:
        keras_model = predict.load_model(model) if model else lesson.build_model()
        onnx_file = export.export_onnx(keras_model, work / "asl_model.onnx")
        runtime_dir = runtime.fetch(log=log)
        rng = np.random.default_rng(0)
        hands = rng.integers(0, 256, (predict.NUM_CLASSES, 784))
        frames = [fakecam.hand_frame(h, i, width=640, height=480) for i, h in enumerate(hands)]
        video = fakecam.write_y4m((frames * 3)[:60], work / "camera.y4m", fps=60)
        web = uvicorn.Server(uvicorn.Config(server.create_app(onnx_file, runtime_dir), host="127.0.0.1", port=0,
                                            log_level="warning"))
        threading.Thread(target=web.run, daemon=True).start()
        while not web.started:
            time.sleep(0.05)
        port = web.servers[0].sockets[0].getsockname()[1]
        load_before = os.getloadavg()
        errors: list[str] = []
        with sync_playwright() as api:
            browser, page = fakecam.open_page(api, chromium, video, f"http://127.0.0.1:{port}/", errors)
            try:
                stats = "() => ({...window.asl.stats, w: window.asl.shown.image.width, h: window.asl.shown.image.height})"
                first, start = page.evaluate(stats), time.monotonic()
                time.sleep(seconds)
                last, elapsed = page.evaluate(stats), time.monotonic() - start
            finally:
                browser.close()
        web.should_exit = True
        load_after = os.getloadavg()
        model_bytes = onnx_file.stat().st_size
    finally:
        shutil.rmtree(work, ignore_errors=True)
    frames_read = last["frames"] - first["frames"]
    per_frame = {k: (last[k + "Total"] - first[k + "Total"]) / max(frames_read, 1) for k in ("prepare", "model")}
    page_files = sum(p.stat().st_size for p in STATIC.iterdir() if p.is_file())
    report = {
        "fps": frames_read / elapsed, "frames": frames_read, "seconds": elapsed,
        "frame_size": f"{last['w']}x{last['h']}", "prepare_ms": per_frame["prepare"], "model_ms": per_frame["model"],
        "page_bytes": page_files, "runtime_bytes": runtime.size(runtime_dir),
        "model_bytes": model_bytes,
        "load_average": [round(x, 2) for x in load_before + load_after], "cpus": os.cpu_count(),
        "javascript_errors": errors, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    total = (report["page_bytes"] + report["runtime_bytes"]) / 1e6
    log(f"camera to letters in headless Chromium: {report['fps']:.1f} frames/s ({frames_read} frames of "
        f"{report['frame_size']} in {elapsed:.1f} s; camera 60 frames/s); per frame: prepare "
        f"{report['prepare_ms']:.2f} ms, model {report['model_ms']:.2f} ms")
    log(f"page {page_files / 1e3:.1f} kB + onnxruntime-web {report['runtime_bytes'] / 1e6:.2f} MB = {total:.2f} MB "
        f"(limit 15 MB); the model it loads: {model_bytes / 1e6:.2f} MB")
    log(f"machine: {report['cpus']} CPUs, load average (1, 5, 15 min) before {load_before[0]:.1f} "
        f"{load_before[1]:.1f} {load_before[2]:.1f}, after {load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f}")
    if errors:
        log(f"JavaScript errors: {errors}")
    return report
