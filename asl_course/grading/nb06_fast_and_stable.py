"""Notebook 6 (fast augmentation, stable training): observers, judges and records of its exercises.

Three exercises, each judged from what the verifier can rebuild itself:

- ``test_augment_layers``: ``augment``, the lesson's generator as Keras preprocessing layers. The
  hidden test saves it as a ``.keras`` file; the verifier loads that file (safe mode) and reads
  the layers' settings from the loaded layers (:func:`describe_augment`).
- ``test_train_ds``: ``train_ds``, a ``tf.data`` pipeline. The hidden test writes the dataset's
  own graph (``tf.data``'s serialised ``GraphDef``, big constants reduced to their shapes); the
  verifier parses it (data, nothing runs) and reads the pipeline's steps from the ops
  (:func:`dataset_graph_facts`): where it starts, shuffle, batch, map (parallel, and whether the
  mapped function transforms images at all), cache, prefetch.
- ``test_schedule``: ``lr_schedule``. The hidden test writes its Keras config; the verifier
  rebuilds Keras' own schedule classes from it (never a custom class) and evaluates the step
  size along the run itself (:func:`schedule_facts`).

The mistakes are stated once (:func:`augment_mistakes`, :func:`train_ds_mistakes`,
:func:`schedule_mistakes`): the judges and the learners' self-checks
(``asl_course.learners.checks``) say the same words.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .expected import (AUGMENT_FILL_MODE, AUGMENT_LAYERS, BATCH_SIZE, BUILTIN_SCHEDULES, MAX_GRAPH_BYTES,
                       NUM_CLASSES, SCHEDULE_EPOCHS, SCHEDULE_PEAK)
from .models import is_keras_model, save_model, saved_model_from_record, saved_model_refused, take_measured
from .nb01_prepare_data import said
from .expected import DECAY_QUESTION_EPOCH, PREDICTION_TOLERANCE, SCHEDULE_EPOCHS
from .predictions import observe, share_mistake
from .language import t

GRAPH_FILE = "train_ds.graph.pb"
#: How a fix that is (or starts with) code begins: the grader's sentence says "use <fix>".
CODE_STARTS = (".", "keras.", "tf.")
#: Constants with more elements than this are written as their shape and type only.
_STRIPPED_ELEMENTS = 4096


def grader_sentence(pair):
    """The grader's sentence: ``mistake; fix`` (a fix that is bare code reads "use <code>"). A fix that
    starts with code starts with it in every language (tests/test_messages_ko_nb04_06.py checks the
    catalog), so that the sentence is built the same way whatever the learner's language."""
    mistake, fix = pair
    return said((mistake, t("use {fix}", fix=fix) if fix.startswith(CODE_STARTS) else fix))


# --- augment: the preprocessing layers ------------------------------------------------------------------


def _range(value):
    """A layer factor as ``[low, high]`` (Keras stores a single number f as (-f, f)), or None."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return [-abs(float(value)), abs(float(value))]
    values = [float(v) for v in value]
    return values if len(values) == 2 else None


def describe_augment(model) -> dict:
    """What ``augment`` is: its class and, per layer, the settings that decide the transforms."""
    if not is_keras_model(model):
        return {"type": type(model).__name__, "layers": None}
    rows = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        config = layer.get_config()
        row = {"class": type(layer).__name__}
        for key in ("factor", "height_factor", "width_factor"):
            if key in config:
                row[key] = _range(config[key])
        for key in ("mode", "fill_mode", "interpolation"):
            if key in config:
                row[key] = str(config[key])
        rows.append(row)
    return {"type": type(model).__name__, "layers": rows}


def _close(have, want) -> bool:
    return have is not None and len(have) == 2 and all(math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-6)
                                                        for a, b in zip(have, want))


_FIX = {
    "RandomRotation": "keras.layers.RandomRotation(10 / 360, fill_mode=\"nearest\")",
    "RandomZoom": "keras.layers.RandomZoom(0.1, 0.1, fill_mode=\"nearest\")",
    "RandomTranslation": "keras.layers.RandomTranslation(0.1, 0.1, fill_mode=\"nearest\")",
    "RandomFlip": "keras.layers.RandomFlip(\"horizontal\")",
}


def augment_mistakes(description: dict) -> list[tuple[str, str]]:
    """What differs from the lesson's generator in ``augment``, as ``(mistake, fix)`` pairs
    (empty: right). ``description``: :func:`describe_augment`. The order of the layers is free."""
    layers = description.get("layers")
    if layers is None:
        return [(t("augment is a {type}, not a Keras model", type=description.get("type")),
                 t("augment = keras.Sequential([RandomRotation, RandomZoom, RandomTranslation, RandomFlip layers])"))]
    out = []
    by_class: dict[str, list[dict]] = {}
    for row in layers:
        by_class.setdefault(row["class"], []).append(row)
    for cls in by_class:
        if cls not in AUGMENT_LAYERS:
            out.append((t("augment has a {cls} layer, which the lesson's generator does not do", cls=cls),
                        t("keep only the four random layers ({layers})", layers=", ".join(AUGMENT_LAYERS))))
        elif len(by_class[cls]) > 1:
            out.append((t("augment has {n} {cls} layers", n=len(by_class[cls]), cls=cls),
                        t("one of each: {fix}", fix=_FIX[cls])))
    for cls, want in AUGMENT_LAYERS.items():
        if cls not in by_class:
            out.append((t("augment has no {cls} layer", cls=cls), t("add {fix}", fix=_FIX[cls])))
            continue
        use = t("use {fix}", fix=_FIX[cls])
        row = by_class[cls][0]
        if cls == "RandomRotation" and not _close(row.get("factor"), want["factor"]):
            f = row.get("factor")
            if f is None:
                out.append((t("RandomRotation's factor is {factor}: the factor is a fraction of a full turn, so the "
                              "lesson's 10 degrees is 10 / 360 (about 0.0278)", factor=f), use))
            else:
                out.append((t("RandomRotation's factor is {factor} (up to {degrees:g} degrees): the factor is a "
                              "fraction of a full turn, so the lesson's 10 degrees is 10 / 360 (about 0.0278)",
                              factor=f, degrees=max(abs(v) for v in f) * 360), use))
        elif cls == "RandomZoom":
            if row.get("width_factor") is None:
                out.append((t("RandomZoom's width_factor is None, which zooms both axes by the same amount; the "
                              "generator zooms rows and columns independently"), use))
            elif not (_close(row.get("height_factor"), want["height_factor"])
                      and _close(row.get("width_factor"), want["width_factor"])):
                out.append((t("RandomZoom zooms by {height} (rows) and {width} (columns), not up to 10% each way",
                              height=row.get("height_factor"), width=row.get("width_factor")), use))
        elif cls == "RandomTranslation" and not (_close(row.get("height_factor"), want["height_factor"])
                                                  and _close(row.get("width_factor"), want["width_factor"])):
            out.append((t("RandomTranslation shifts by {height} (up/down) and {width} (left/right), not up to 10% "
                          "each way", height=row.get("height_factor"), width=row.get("width_factor")), use))
        elif cls == "RandomFlip" and row.get("mode") != want["mode"]:
            out.append((t("RandomFlip's mode is {mode!r}: hands are never upside down, so flip left-right only",
                          mode=row.get("mode")), use))
        if cls != "RandomFlip" and row.get("fill_mode", AUGMENT_FILL_MODE) != AUGMENT_FILL_MODE:
            out.append((t("{cls} fills uncovered pixels with fill_mode={fill_mode!r} (the layers' default); the "
                          "generator uses \"nearest\", which repeats the background",
                          cls=cls, fill_mode=row.get("fill_mode")),
                        t("pass fill_mode=\"nearest\": {fix}", fix=_FIX[cls])))
    return out


def obs_augment(ns, ref, folder):
    out = {"augment": describe_augment(ns["augment"])}
    if folder is not None:
        out["saved"] = save_model(ns["augment"], folder / "augment.keras")
    return out


def judge_augment(obs, ref, models):
    description = models.get("augment", obs["augment"]) if models else obs["augment"]
    return [grader_sentence(m) for m in augment_mistakes(description)]


def measure_augment(obs, ref, live, load, seed):
    return {"augment": describe_augment(live["augment"] if live else load("augment.keras"))}


def augment_from_record(meta, folder):
    """The verifier re-describes the reloaded layers itself (:func:`measure_augment`)."""
    return saved_model_from_record(meta, folder, name="augment", unread={"type": "not read", "layers": None})


def augment_refused(obs):
    return saved_model_refused(obs, name="augment")


def augment_measured(obs, models):
    return take_measured(obs, models, name="augment")


# --- train_ds: the tf.data pipeline, read from its graph -------------------------------------------------


def dataset_graph(dataset):
    """The dataset's ``GraphDef`` (``tf.data``'s own serialisation), constants of more than
    ``_STRIPPED_ELEMENTS`` elements reduced to their dtype and shape (the images themselves)."""
    import tensorflow as tf

    graph = tf.compat.v1.GraphDef.FromString(dataset._as_serialized_graph(
        external_state_policy=tf.data.experimental.ExternalStatePolicy.IGNORE,
        strip_device_assignment=True).numpy())
    for node in graph.node:
        if node.op == "Const":
            tensor = node.attr["value"].tensor
            if math.prod(d.size for d in tensor.tensor_shape.dim) > _STRIPPED_ELEMENTS:
                shape, dtype = [d.size for d in tensor.tensor_shape.dim], tensor.dtype
                tensor.Clear()
                tensor.dtype = dtype
                for size in shape:
                    tensor.tensor_shape.dim.add().size = size
    return graph


def _const(nodes: dict, name: str):
    """The value of a small Const node (or None), by input name (``"x:0"``, ``"^x"`` forms allowed)."""
    import tensorflow as tf

    node = nodes.get(name.lstrip("^").split(":")[0])
    if node is None or node.op != "Const":
        return None
    tensor = node.attr["value"].tensor
    if math.prod(d.size for d in tensor.tensor_shape.dim) > _STRIPPED_ELEMENTS:
        return None
    value = tf.make_ndarray(tensor)
    return value.item() if value.size == 1 else value.tolist()


def _function_ops(library: dict, name: str, seen: set) -> set[str]:
    """The ops of a graph function and of every function it calls."""
    if name in seen or name not in library:
        return set()
    seen.add(name)
    ops = set()
    for node in library[name].node_def:
        ops.add(node.op)
        for attr in node.attr.values():
            if attr.HasField("func"):
                ops |= _function_ops(library, attr.func.name, seen)
            for f in attr.list.func:
                ops |= _function_ops(library, f.name, seen)
    return ops


def dataset_graph_facts(graph) -> dict:
    """The pipeline's steps, from its source to its output, read from a dataset's ``GraphDef``.

    Each step: ``{"op": ...}`` with what decides it (``shapes`` of a tensor-slices source,
    ``buffer_size``, ``batch_size``/``drop_remainder``, ``parallel`` and the mapped function's
    ``transforms_images``/``flips``)."""
    nodes = {n.name: n for n in graph.node}
    library = {f.signature.name: f for f in graph.library.function}
    ret = [n for n in graph.node if n.op == "_Retval"]
    if len(ret) != 1:
        return {"error": "the dataset's graph has no single output"}
    steps = []
    name = ret[0].input[0]
    for _ in range(200):
        node = nodes.get(name.split(":")[0])
        if node is None or not node.op.endswith("Dataset") and "Dataset" not in node.op:
            break
        inputs = [i for i in node.input if not i.startswith("^")]
        step = {"op": node.op}
        if node.op in ("TensorSliceDataset", "TensorDataset"):
            shapes = []
            for i in inputs:
                src = nodes.get(i.split(":")[0])
                tensor = src.attr["value"].tensor if src is not None and src.op == "Const" else None
                shapes.append(None if tensor is None else [d.size for d in tensor.tensor_shape.dim])
            step["shapes"] = shapes
        elif node.op.startswith("Shuffle"):
            step["buffer_size"] = _const(nodes, inputs[1]) if len(inputs) > 1 else None
        elif node.op.startswith("BatchDataset") or node.op.startswith("PaddedBatchDataset"):
            step["batch_size"] = _const(nodes, inputs[1]) if len(inputs) > 1 else None
            step["drop_remainder"] = _const(nodes, inputs[-1]) if len(inputs) > 2 else False
        elif node.op.startswith("ParallelBatchDataset"):
            step["batch_size"] = _const(nodes, inputs[1]) if len(inputs) > 1 else None
        elif "MapDataset" in node.op:
            step["parallel"] = node.op.startswith("ParallelMap")
            if step["parallel"]:
                step["num_parallel_calls"] = _const(nodes, inputs[-1])
            ops = _function_ops(library, node.attr["f"].func.name, set())
            step["transforms_images"] = "ImageProjectiveTransformV3" in ops or "ImageProjectiveTransformV2" in ops
            step["flips"] = "ReverseV2" in ops
        elif node.op.startswith("Prefetch"):
            step["buffer_size"] = _const(nodes, inputs[1]) if len(inputs) > 1 else None
        steps.append(step)
        if not inputs:
            break
        name = inputs[0]
    return {"steps": steps[::-1]}


def train_ds_mistakes(facts: dict, n_images: int) -> list[tuple[str, str]]:
    """What is wrong with the pipeline (:func:`dataset_graph_facts`) of a training set of
    ``n_images``, as ``(mistake, fix)`` pairs (empty: right)."""
    if "steps" not in facts:
        build = t("build it with tf.data.Dataset.from_tensor_slices((x_train, y_train)) and its methods")
        if "error" not in facts:
            return [(t("train_ds is not a tf.data pipeline the grader can read (no graph)"), build)]
        return [(t("train_ds is not a tf.data pipeline the grader can read ({error})", error=facts["error"]), build)]
    steps = facts["steps"]
    ops = [s["op"] for s in steps]

    def first(prefix):
        return next((k for k, op in enumerate(ops) if op.startswith(prefix)), None)

    out = []
    source = steps[0] if steps else {}
    if source.get("op") != "TensorSliceDataset" or source.get("shapes") != [[n_images, 28, 28, 1],
                                                                          [n_images, NUM_CLASSES]]:
        out.append((t("train_ds does not start from the prepared x_train (N, 28, 28, 1) and one-hot y_train "
                      "(N, {classes})", classes=NUM_CLASSES), "tf.data.Dataset.from_tensor_slices((x_train, y_train))"))
    shuffle, batch = first("Shuffle"), first("BatchDataset")
    maps = [k for k, op in enumerate(ops) if "MapDataset" in op]
    if batch is None:
        out.append((t("train_ds does not make batches"), t(".batch({batch}) after .shuffle", batch=BATCH_SIZE)))
    else:
        b = steps[batch]
        if b.get("batch_size") != BATCH_SIZE:
            out.append((t("train_ds makes batches of {got}, not {batch}", got=b.get("batch_size"), batch=BATCH_SIZE),
                        f".batch({BATCH_SIZE})"))
        if b.get("drop_remainder"):
            out.append((t("drop_remainder=True drops the last images of every epoch"), f".batch({BATCH_SIZE})"))
    if shuffle is None:
        out.append((t("train_ds does not shuffle: every epoch would see the batches in the same order"),
                    t(".shuffle(len(x_train)) before .batch")))
    else:
        size = steps[shuffle].get("buffer_size")
        if batch is not None and shuffle > batch:
            out.append((t("train_ds shuffles whole batches, after .batch: the same images stay together"),
                        t(".shuffle(len(x_train)) before .batch")))
        if isinstance(size, int) and 0 < size < n_images:
            out.append((t("train_ds shuffles within a buffer of {size} of the {n} images: the order stays close to "
                          "the file's", size=size, n=n_images), ".shuffle(len(x_train))"))
    if not maps:
        out.append((t("train_ds does not augment"),
                    t(".map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE) after "
                      ".batch")))
    else:
        m = steps[maps[0]]
        if not any(steps[k].get("transforms_images") for k in maps):
            out.append((t("the function train_ds maps does not transform the images (with training=False the "
                          "random layers return them unchanged)"),
                        ".map(lambda x, y: (augment(x, training=True), y), ...)"))
        if not m.get("parallel") or m.get("num_parallel_calls") == 1:
            out.append((t("train_ds maps one batch at a time"), t("pass num_parallel_calls=tf.data.AUTOTUNE to .map")))
        if batch is not None and maps[0] < batch:
            out.append((t("train_ds augments image by image, before .batch; the layers work on a whole batch at once"),
                        t("map after .batch")))
        cache = first("CacheDataset")
        if cache is not None and cache > maps[0]:
            out.append((t("train_ds caches after the augmentation, so every epoch sees the first epoch's augmented "
                          "images"), t("cache before .map, or not at all")))
    if not ops or not ops[-1].startswith("Prefetch"):
        out.append((t("train_ds does not end with .prefetch: the model waits while the next batch is made"),
                    t("end with .prefetch(tf.data.AUTOTUNE)")))
    return out


def obs_train_ds(ns, ref, folder):
    ds = ns["train_ds"]
    if not hasattr(ds, "_as_serialized_graph"):
        return {"facts": {"error": f"it is a {type(ds).__name__}, not a tf.data.Dataset"}}
    return {"facts": dataset_graph_facts(dataset_graph(ds))}


def record_train_ds(namespace, folder, meta):
    ds = namespace.get("train_ds")
    if hasattr(ds, "_as_serialized_graph"):
        data = dataset_graph(ds).SerializeToString()
        if len(data) <= MAX_GRAPH_BYTES:
            (folder / GRAPH_FILE).write_bytes(data)
        meta["graph"] = {"bytes": len(data)}
    else:
        meta["graph"] = {"error": f"it is a {type(ds).__name__}, not a tf.data.Dataset"}


def train_ds_from_record(meta, folder):
    graph = meta.get("graph") or {}
    path = Path(folder) / GRAPH_FILE
    if graph.get("error"):
        return {"facts": {"error": str(graph["error"])[:200]}}
    if not path.is_file() or path.stat().st_size > MAX_GRAPH_BYTES:
        return {"facts": {"error": "its graph is missing or too large (a pipeline of the lesson's size is small)"}}
    import tensorflow as tf

    try:
        parsed = tf.compat.v1.GraphDef.FromString(path.read_bytes())
    except Exception as exc:  # noqa: BLE001 - not a GraphDef
        return {"facts": {"error": f"its graph cannot be read ({type(exc).__name__})"}}
    return {"facts": dataset_graph_facts(parsed)}


def judge_train_ds(obs, ref, models):
    return [grader_sentence(m) for m in train_ds_mistakes(obs["facts"], len(ref.y_train))]


# --- lr_schedule: the learning-rate schedule --------------------------------------------------------------


def run_steps(n_images: int, epochs: int = SCHEDULE_EPOCHS, batch_size: int = BATCH_SIZE) -> int:
    """The training steps of the recipe's run: ``ceil(n / batch) * epochs`` (858 * 20 on the real data)."""
    return math.ceil(n_images / batch_size) * epochs


def schedule_config(schedule):
    """``schedule``'s Keras config (``{"class_name", "config"}``), or None when it is not a Keras schedule."""
    import keras

    if not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        return None
    return {"class_name": type(schedule).__name__, "module": type(schedule).__module__,
            "config": json.loads(json.dumps(schedule.get_config(), default=str))}


def rebuild_schedule(config):
    """One of Keras' own schedules from its config (a custom class is never rebuilt: its code is the student's)."""
    import keras

    if not isinstance(config, dict) or config.get("class_name") not in BUILTIN_SCHEDULES \
            or not str(config.get("module", "")).startswith("keras"):
        return None
    return getattr(keras.optimizers.schedules, config["class_name"]).from_config(dict(config["config"]))


def schedule_facts(schedule, total: int) -> dict:
    """The step size along a run of ``total`` steps: at its start, a quarter, half, its last step and after."""
    import keras

    def at(step):
        return float(keras.ops.convert_to_numpy(schedule(step)))

    return {"total": total, "start": at(0), "quarter": at(total // 4), "half": at(total // 2),
            "last": at(total - 1), "end": at(total)}


def schedule_mistakes(facts: dict | None, type_name: str = "", config: dict | None = None) -> list[tuple[str, str]]:
    """What is wrong with a schedule, as ``(mistake, fix)`` pairs: ``facts`` (:func:`schedule_facts`
    of the schedule rebuilt from ``config``, :func:`schedule_config`), None when it is not one of
    Keras' own schedules (``type_name``: what it is)."""
    fix = f"keras.optimizers.schedules.CosineDecay({SCHEDULE_PEAK:g}, decay_steps=steps_per_epoch * EPOCHS)"
    if config is not None and config.get("class_name") not in BUILTIN_SCHEDULES:
        return [(t("lr_schedule is a {cls}, a schedule class of your own; the grader evaluates Keras' own schedules "
                   "only (it does not run your code)", cls=config.get("class_name")), fix)]
    if facts is None:
        return [(t("lr_schedule is a {type}, not one of Keras' learning-rate schedules", type=type_name), fix)]
    total = facts["total"]
    out = []
    if not math.isclose(facts["start"], SCHEDULE_PEAK, rel_tol=1e-3):
        out.append((t("lr_schedule starts at {start:.3g}, not at the lesson's step {peak:g}", start=facts["start"],
                      peak=SCHEDULE_PEAK), fix))
    cosine = {"quarter": SCHEDULE_PEAK * (1 + math.cos(math.pi / 4)) / 2, "half": SCHEDULE_PEAK / 2}
    if facts["half"] < 1e-3 * SCHEDULE_PEAK:
        out.append((t("lr_schedule has reached 0 by the middle of the run ({half} of {total} steps): its "
                      "decay_steps are fewer than the run's steps", half=total // 2, total=total), fix))
    elif facts["end"] > 1e-3 * SCHEDULE_PEAK:
        out.append((t("lr_schedule is still at {end:.3g} at the end of the run ({total} steps = "
                      "steps_per_epoch * {epochs}): it should decay to 0 over exactly the run",
                      end=facts["end"], total=total, epochs=SCHEDULE_EPOCHS), fix))
    elif not all(math.isclose(facts[k], v, rel_tol=0.01) for k, v in cosine.items()):
        out.append((t("lr_schedule is not a cosine decay (a quarter of the way it is {quarter:.3g}, halfway "
                      "{half:.3g}; a cosine gives {cosine_quarter:.3g} and {cosine_half:.3g})",
                      quarter=facts["quarter"], half=facts["half"], cosine_quarter=cosine["quarter"],
                      cosine_half=cosine["half"]), fix))
    return out


def obs_schedule(ns, ref, folder):
    value = ns["lr_schedule"]
    return {"type": type(value).__name__, "config": schedule_config(value)}


def record_schedule(namespace, folder, meta):
    meta["schedule"] = schedule_config(namespace.get("lr_schedule"))


def schedule_from_record(meta, folder):
    return {"type": meta["values"]["lr_schedule"].get("type"), "config": meta.get("schedule")}


def judge_schedule(obs, ref, models):
    config = obs.get("config")
    schedule = rebuild_schedule(config) if config is not None else None
    facts = schedule_facts(schedule, run_steps(len(ref.y_train))) if schedule is not None else None
    return [grader_sentence(m) for m in schedule_mistakes(facts, obs.get("type", ""), config)]


# --- Repairs (the grader's values, so that one mistake costs only its own exercise) -----------------------


def _grader_augment():
    import keras
    from keras import layers

    return keras.Sequential([
        layers.RandomRotation(10 / 360, fill_mode=AUGMENT_FILL_MODE),
        layers.RandomZoom(0.1, 0.1, fill_mode=AUGMENT_FILL_MODE),
        layers.RandomTranslation(0.1, 0.1, fill_mode=AUGMENT_FILL_MODE),
        layers.RandomFlip("horizontal"),
    ], name="augment")


def repair_augment(ns, ref):
    ns["augment"] = _grader_augment()


def repair_train_ds(ns, ref):
    import tensorflow as tf

    augment = ns.get("augment") if is_keras_model(ns.get("augment")) else _grader_augment()
    x = (np.asarray(ref.x_train, dtype="float32") / 255).reshape(-1, 28, 28, 1)
    y = np.eye(NUM_CLASSES, dtype="float32")[np.asarray(ref.y_train)]
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(BATCH_SIZE)
    ds = ds.map(lambda images, labels: (augment(images, training=True), labels), num_parallel_calls=tf.data.AUTOTUNE)
    ns["train_ds"] = ds.prefetch(tf.data.AUTOTUNE)


def repair_schedule(ns, ref):
    import keras

    ns["lr_schedule"] = keras.optimizers.schedules.CosineDecay(SCHEDULE_PEAK, decay_steps=run_steps(len(ref.y_train)),
                                                               alpha=0.0)


# --- Thinking: how much of the step is left for the last 5 epochs? (predict_decay) ------------------


def decay_answer() -> tuple[float, list, str]:
    """The share of the starting step a cosine decay over the run leaves after
    :data:`~.expected.DECAY_QUESTION_EPOCH` epochs, the shares near-misses give (-> what they are
    instead), and why."""

    e, total = DECAY_QUESTION_EPOCH, SCHEDULE_EPOCHS
    truth = 0.5 * (1 + math.cos(math.pi * e / total))
    known = [(1 - e / total, t("a straight line from the start to 0 ({left} of {total} epochs left); a cosine falls "
                               "slowly at first, fastest in the middle, and flattens near 0", left=total - e,
                               total=total)),
             (0.5, t("the share at the middle of the run, after {half} epochs", half=total // 2)),
             (e / total, t("the share of the run gone ({e} of {total} epochs), not of the step left", e=e, total=total)),
             (1 - truth, t("the share of the step gone, not the share left")),
             (1.0, t("a constant step: the schedule's point is that it falls")),
             (0.0, t("the end of the run, after {total} epochs", total=total)),
             (SCHEDULE_PEAK * truth, t("the step itself ({step:.3g}), not its share of the start",
                                       step=SCHEDULE_PEAK * truth)),
             (math.cos(math.pi * e / total), t("cos(pi x {e} / {total}) alone: the schedule is (1 + cos(pi x {e} / "
                                               "{total})) / 2 of the start", e=e, total=total))]
    why = t("the cosine decay's step after {e} of {total} epochs is {peak:g} x (1 + cos(pi x {e} / {total})) / 2 = "
            "{step:.3g}: the last {left} epochs train at {share:.0%} of the start or less, so the weights, and the "
            "normalisation's moving statistics with them, settle", e=e, total=total, peak=SCHEDULE_PEAK,
            step=SCHEDULE_PEAK * truth, left=total - e, share=truth)
    return truth, known, why


def decay_mistake(value, type_name: str) -> tuple[str, str] | None:
    """Stated once: the hidden test's judge and the self-check say these words."""

    truth, known, why = decay_answer()
    return share_mistake(value, type_name, truth, PREDICTION_TOLERANCE,
                         t("the share of the starting step left after {epochs} epochs", epochs=DECAY_QUESTION_EPOCH),
                         known, why)


def obs_prediction(ns, ref, folder):

    return observe(ns)


def judge_predict_decay(obs, ref, models):
    mistake = decay_mistake(obs["value"], obs["type"])
    return [f"{mistake[0]}; {mistake[1]}"] if mistake else []
