"""Benchmarks that print measured figures (never timed tests).

``asl-course bench training``: the lesson's training run as the notebooks do it, with
seconds per epoch and the validation accuracy figures the course reports; with
``--record-baseline`` (and ``--no-augmentation``, full mode, real data) it records the
reference baseline that notebook 4 shows next to the augmented run.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import time

from asl_course import data as _data
from asl_course import lesson, notebook


def machine() -> str:
    import tensorflow as tf

    gpus = notebook.gpu_names()
    device = ", ".join(gpus) if gpus else f"{os.cpu_count()} CPU cores"
    return f"TensorFlow {tf.__version__} on {device} ({platform.machine()})"


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
