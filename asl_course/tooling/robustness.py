"""``asl-course bench robustness``: what each training recipe reads under a camera's shifts.

Trains the lesson's model (264,049 parameters) with each recipe, per seed, and measures it on
the validation (Kaggle test) file as it is and under every kind and severity of the
camera-shift suite (:mod:`asl_course.learners.shifts`): accuracy per kind and severity, then
the mean and the worst kind, design kinds and held-out kinds apart. The test file is read
once per run, after training; nothing is chosen on it.

Recipes (:data:`RECIPES`):

- ``none``: no augmentation (the lesson's optimizer, RMSprop 1e-3, on the plain images);
- ``lesson``: the lesson's ``ImageDataGenerator`` and optimizer;
- ``recalibrated``: notebook 6's recipe (cosine schedule, batch norm recalibrated on clean
  training images), :mod:`asl_course.learners.recipe`;
- ``designed``: the recalibrated recipe's optimizer and recalibration, with the augmentation
  designed on the family validation split and the design kinds
  (:mod:`asl_course.learners.designed`) in place of the lesson's generator.

:func:`ablation` (``asl-course bench ablation``) is how the designed augmentation was chosen:
it trains with the whole design and with each part left out, and measures on the family
validation split (photos the model never saw) under the design kinds only: neither the test
file nor the held-out kinds are read.

``--fast`` (CI): one epoch on 2,048 training images, 200 test images, one seed: it checks that
the whole path works, its accuracies mean nothing. On the synthetic stand-in every figure is
labelled as such. ``--save-models DIR`` keeps each trained model as ``DIR/RECIPE-seedN.keras``
so that anyone can measure it on shifts of their own.
"""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path

import numpy as np

from asl_course import dataset as _data
from asl_course import facts
from asl_course.dataset import families
from asl_course.learners import designed, lesson, notebook, recipe, shifts

RECIPES = ("none", "lesson", "recalibrated", "designed")
FAST = {"epochs": 1, "train_images": 2048, "test_images": 200, "seeds": (0,)}
SUITE_SAMPLE_SEED = 2026
"""Which test images a shortened suite (``--suite-images``) measures on: the same for every recipe and seed."""


def data_label(folder) -> str:
    """What every figure is measured on: the real release, or the stand-in said loudly."""
    return "real data" if notebook.is_real(folder) else "SYNTHETIC STAND-IN: not results on Sign Language MNIST"


def fast_note(report: dict) -> str:
    return " (--fast: the path is checked, the figures mean nothing)" if report["fast"] else ""


def logged(report: dict, lines, log) -> dict:
    """``report`` after logging each of ``lines(report)``."""
    for line in lines(report):
        log(line)
    return report


def check_recipes(names) -> list[str]:
    names = list(names)
    unknown = [n for n in names if n not in RECIPES]
    if unknown or not names:
        raise ValueError(f"recipes must be among {', '.join(RECIPES)}, not {', '.join(unknown) or 'none given'}")
    return names


def make_flow(name: str, x, y, *, seed: int, parts=designed.CHOSEN_PARTS, settings: dict | None = None):
    """The batches recipe ``name`` trains on: the plain images, the lesson's generator or the designed flow
    (``parts`` and ``settings``: see :func:`asl_course.learners.designed.augment`)."""
    from tensorflow.keras.preprocessing.image import ImageDataGenerator

    if name == "designed":
        return designed.flow(x, y, batch_size=facts.BATCH_SIZE, seed=seed, parts=parts, settings=settings)
    datagen = ImageDataGenerator() if name == "none" else lesson.make_datagen(x)
    return datagen.flow(x, y, batch_size=facts.BATCH_SIZE, seed=seed)


def train(name: str, prepared: lesson.Prepared, *, seed: int, epochs: int, train_images: int | None = None,
          parts=designed.CHOSEN_PARTS, settings: dict | None = None):
    """The lesson's model trained with recipe ``name`` on the training file (or its first images);
    ``parts``, ``settings``: the designed augmentation's parts and ranges (recipe ``designed`` only)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = lesson.build_model()
    x, y = prepared.x_train[:train_images], prepared.y_train[:train_images]
    flow = make_flow(name, x, y, seed=seed, parts=parts, settings=settings)
    extra = []
    if name in ("recalibrated", "designed"):
        recipe.compile_model(model, "recalibrated", steps_per_epoch=len(flow), epochs=epochs)
        clean = x[np.random.default_rng(seed + 1).permutation(len(x))[:recipe.RECALIBRATION_IMAGES]]
        extra = recipe.callbacks("recalibrated", clean)
    else:
        lesson.compile_model(model)
    model.fit(flow, epochs=epochs, steps_per_epoch=len(flow), verbose=0, callbacks=extra)
    return model


def measure(model, x_test, y_test, *, seed: int, suite_images: int | None = None) -> dict:
    """The shift table of ``model`` on the test images (see :func:`asl_course.learners.shifts.evaluate`).

    ``suite_images``: the shifts are measured on that many test images (a seeded sample, the same
    for every recipe), ``clean`` on all of them (``clean_sample``: on the sample).
    """
    def predict(images):
        return model.predict(images, batch_size=1024, verbose=0)

    rows = np.arange(len(x_test))
    if suite_images is not None and suite_images < len(x_test):
        rows = np.sort(np.random.default_rng(SUITE_SAMPLE_SEED).permutation(len(x_test))[:suite_images])
    table = shifts.evaluate(predict, x_test[rows], y_test[rows], seed=seed)
    table["clean_sample"] = table["clean"]
    table["clean"] = float(np.mean(shifts.labels_of(predict(x_test)) == shifts.labels_of(y_test)))
    return table


def run(recipes=RECIPES, *, seeds=(0, 1, 2), epochs: int = facts.FULL_EPOCHS, fast: bool = False,
        save_models=None, suite_images: int | None = None, data_dir=None, log=print) -> dict:
    """Train each recipe for each seed and measure it on the shift suite; print and return the tables.

    ``suite_images``: measure the shifts on a sample of that many test images (all by default)."""
    recipes = check_recipes(recipes)
    folder = _data.locate(data_dir)
    train_images = test_images = None
    if fast:
        epochs, train_images, test_images, seeds = (FAST["epochs"], FAST["train_images"], FAST["test_images"],
                                                     FAST["seeds"])
    seeds = [int(s) for s in seeds]
    if suite_images is not None and suite_images < 1:
        raise ValueError("--suite-images must be at least 1")
    if not seeds:
        raise ValueError("give at least one seed")
    recipe.check_epochs(epochs)
    save_dir = Path(save_models) if save_models else None
    if save_dir is not None:
        save_dir.mkdir(parents=True, exist_ok=True)
    prepared = lesson.prepare(folder)
    x_test, y_test = prepared.x_valid[:test_images], prepared.labels_valid[:test_images]
    data_note = data_label(folder)
    log(_data.describe(folder))
    report = {"date": datetime.date.today().isoformat(), "data": data_note, "fast": fast, "epochs": epochs,
              "train_images": len(prepared.x_train[:train_images]), "test_images": len(x_test),
              "suite_images": min(suite_images or len(x_test), len(x_test)), "suite": shifts.SUITE_VERSION, "held_out_kinds": list(shifts.HELD_OUT_KINDS), "runs": []}
    for name in recipes:
        for seed in seeds:
            started = time.perf_counter()
            log(f"{name}, seed {seed}: training {epochs} epoch(s) on {report['train_images']:,} images ...")
            model = train(name, prepared, seed=seed, epochs=epochs, train_images=train_images)
            trained = time.perf_counter() - started
            table = measure(model, x_test, y_test, seed=seed, suite_images=suite_images)
            entry = {"recipe": name, "seed": seed, "table": table, "summary": shifts.summary(table),
                     "seconds_training": round(trained, 1),
                     "seconds_measuring": round(time.perf_counter() - started - trained, 1)}
            if save_dir is not None:
                path = save_dir / f"{name}-seed{seed}.keras"
                model.save(path)
                entry["model"] = str(path)
            report["runs"].append(entry)
            for line in shifts.table_lines(table, f"{name}, seed {seed} ({data_note}):"):
                log("  " + line)
    return logged(report, summary_lines, log)


def summary_lines(report: dict) -> list[str]:
    """One row per recipe and seed: clean accuracy, design and held-out means and worst kinds."""
    lines = [f"camera-shift suite v{report['suite']}, clean on {report['test_images']:,} test images, shifts on "
             f"{report.get('suite_images', report['test_images']):,}, "
             f"{report['epochs']} epoch(s), {report['data']}" + fast_note(report),
             f"  {'recipe':13s} {'seed':>4s} {'clean':>6s} {'design':>7s} {'worst design':>24s} "
             f"{'held-out':>8s} {'worst held-out':>24s}"]
    for run in report["runs"]:
        s, d, h = run["summary"], run["summary"]["design"], run["summary"]["held_out"]
        lines.append(f"  {run['recipe']:13s} {run['seed']:4d} {run['table']['clean']:6.3f} {d['mean']:7.3f} "
                     f"{d['worst'] + ' ' + format(d['worst_accuracy'], '.3f'):>24s} {h['mean']:8.3f} "
                     f"{h['worst'] + ' ' + format(h['worst_accuracy'], '.3f'):>24s}")
    for name in dict.fromkeys(r["recipe"] for r in report["runs"]):
        runs = [r for r in report["runs"] if r["recipe"] == name]
        held = [r["summary"]["held_out"] for r in runs]
        lines.append(f"  {name}: over {len(runs)} seed(s), clean {np.mean([r['table']['clean'] for r in runs]):.3f}, "
                     f"held-out mean {np.mean([h['mean'] for h in held]):.3f}, "
                     f"lowest held-out kind {min(h['worst_accuracy'] for h in held):.3f}")
    return lines


def save_report(report: dict, path) -> None:
    Path(path).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


# --- What a validation split measures: random against families ----------------------------------------

SPLITS = ("random", "families")


def splits(name: str = "recalibrated", *, seed: int = 0, epochs: int = 5, valid_fraction: float = 0.2,
           fast: bool = False, data_dir=None, log=print) -> dict:
    """Train recipe ``name`` twice, on the training file less a random split and less a family split
    (:mod:`asl_course.dataset.families`), and measure each on its own held-out part and on the test
    file: which validation predicts the test file."""
    check_recipes([name])
    recipe.check_epochs(epochs)
    folder = _data.locate(data_dir)
    prepared = lesson.prepare(folder)
    numbers = families.families(folder)
    n = len(prepared.x_train)
    test_images = FAST["test_images"] if fast else None
    if fast:
        epochs = FAST["epochs"]
    report = {"date": datetime.date.today().isoformat(), "recipe": name, "seed": seed, "epochs": epochs,
              "data": data_label(folder),
              "families": families.describe(numbers, prepared.labels_train), "fast": fast, "splits": {}}
    for split in SPLITS:
        train_rows, valid_rows = (families.random_split(n, valid_fraction, seed) if split == "random"
                                  else families.family_split(numbers, prepared.labels_train, valid_fraction, seed))
        if fast:
            train_rows, valid_rows = train_rows[:FAST["train_images"]], valid_rows[:FAST["test_images"]]
        part = lesson.Prepared(prepared.x_train[train_rows], prepared.y_train[train_rows],
                               prepared.x_valid, prepared.y_valid, prepared.labels_train[train_rows],
                               prepared.labels_valid)
        log(f"{split} split: training {name} for {epochs} epoch(s) on {len(train_rows):,} images, "
            f"{len(valid_rows):,} held out ...")
        model = train(name, part, seed=seed, epochs=epochs)

        def accuracy(x, labels):
            return float(np.mean(model.predict(x, batch_size=1024, verbose=0).argmax(1) == labels))

        held = accuracy(prepared.x_train[valid_rows], prepared.labels_train[valid_rows])
        test = accuracy(prepared.x_valid[:test_images], prepared.labels_valid[:test_images])
        near = families.nearest_training_cosine(
            np.rint(prepared.x_train[train_rows].reshape(len(train_rows), -1) * 255),
            np.rint(prepared.x_train[valid_rows[:2000]].reshape(-1, 784) * 255))
        report["splits"][split] = {"train_images": int(len(train_rows)), "held_out_images": int(len(valid_rows)),
                                   "held_out_accuracy": held, "test_accuracy": test,
                                   "error_of_validation": held - test,
                                   "median_nearest_training_cosine": float(np.median(near))}
    return logged(report, splits_lines, log)


def splits_lines(report: dict) -> list[str]:
    f = report["families"]
    lines = [f"validation splits of the training file, {report['recipe']} recipe, seed {report['seed']}, "
             f"{report['epochs']} epoch(s), {report['data']}" + fast_note(report),
             f"  the training file: {f['images']:,} images in {f['families']:,} families of near-copies "
             f"(median {f['median_size']:g}, largest {f['largest']}, {f['mixed_letter_families']} of several letters)",
             f"  {'split':9s} {'held out':>9s} {'nearest cos':>11s} {'validation':>10s} {'test file':>9s} "
             f"{'error':>7s}"]
    for split, s in report["splits"].items():
        lines.append(f"  {split:9s} {s['held_out_images']:9,d} {s['median_nearest_training_cosine']:11.4f} "
                     f"{s['held_out_accuracy']:10.4f} {s['test_accuracy']:9.4f} {s['error_of_validation']:+7.4f}")
    lines.append("  error: validation accuracy minus the test file's (what the split promises that the test "
                 "file does not give)")
    return lines


# --- Why each part of the designed augmentation is there -------------------------------------------------

ABLATION = {"epochs": 2, "train_every": 4, "valid_images": 600}
"""The ablation's defaults: short runs, every fourth image of the family split's training part
(families are near-copies, so a quarter of each family keeps its photos), 600 held-out images."""


def ablation_arms(parts=designed.PARTS) -> dict[str, tuple]:
    """The whole design, the lesson's geometry alone (no part), and the design less each part."""
    arms = {"all parts": tuple(parts), "none (lesson's geometry)": ()}
    arms.update({f"without {p}": tuple(q for q in parts if q != p) for p in parts})
    return arms


def policy_arms(parts=designed.PARTS) -> dict[str, dict]:
    """How the parts meet on an image: independently (chance ``p`` each) or one per image
    (TrivialAugment's way), against the lesson's geometry and the wider geometry alone."""
    photometric = tuple(p for p in parts if p != "geometric")
    return {"none (lesson's geometry)": {"parts": ()},
            "wider geometry only": {"parts": ("geometric",)},
            "all parts, independent": {"parts": tuple(parts), "settings": {"policy": "independent"}},
            "all parts, one per image": {"parts": tuple(parts), "settings": {"policy": "one"}},
            "lesson's geometry, one per image": {"parts": photometric, "settings": {"policy": "one"}}}


ARM_SETS = {"parts": ablation_arms, "policy": policy_arms}
"""``asl-course bench ablation --arms``: each part left out, or how the parts meet on an image."""


def arm_spec(arm) -> tuple[tuple, dict]:
    """``(parts, settings)`` of an arm given as its parts or as ``{"parts": ..., "settings": ...}``."""
    if isinstance(arm, dict):
        return designed.check_parts(arm.get("parts", ())), dict(arm.get("settings") or {})
    return designed.check_parts(arm), {}


def ablation(arms: dict | None = None, *, seed: int = 0, epochs: int = ABLATION["epochs"],
             train_every: int = ABLATION["train_every"], valid_images: int = ABLATION["valid_images"],
             valid_fraction: float = 0.2, fast: bool = False, data_dir=None, log=print) -> dict:
    """Train recipe ``designed`` with each arm's parts on the family split's training part and
    measure it on the held-out families, as they are and under the design kinds only."""
    arms = {name: arm_spec(arm) for name, arm in (arms or ablation_arms()).items()}
    recipe.check_epochs(epochs)
    if train_every < 1 or valid_images < 1:
        raise ValueError("train_every and valid_images must be at least 1")
    folder = _data.locate(data_dir)
    prepared = lesson.prepare(folder)
    train_rows, valid_rows = families.family_split(families.families(folder), prepared.labels_train,
                                                   valid_fraction, seed)
    train_rows = train_rows[::train_every]
    valid_rows = np.sort(np.random.default_rng(seed).permutation(valid_rows)[:valid_images])
    if fast:
        epochs, train_rows, valid_rows = FAST["epochs"], train_rows[:FAST["train_images"]], valid_rows[:200]
    part = lesson.Prepared(prepared.x_train[train_rows], prepared.y_train[train_rows], prepared.x_valid,
                           prepared.y_valid, prepared.labels_train[train_rows], prepared.labels_valid)
    x_held, labels_held = prepared.x_train[valid_rows], prepared.labels_train[valid_rows]
    report = {"date": datetime.date.today().isoformat(), "seed": seed, "epochs": epochs, "fast": fast,
              "data": data_label(folder),
              "train_images": int(len(train_rows)), "held_out_images": int(len(valid_rows)),
              "kinds": list(shifts.DESIGN_KINDS), "suite": shifts.SUITE_VERSION, "arms": {}}
    for name, (parts, settings) in arms.items():
        started = time.perf_counter()
        log(f"{name}: training {epochs} epoch(s) on {len(train_rows):,} images ...")
        model = train("designed", part, seed=seed, epochs=epochs, parts=parts, settings=settings)
        table = shifts.evaluate(lambda images: model.predict(images, batch_size=1024, verbose=0), x_held,
                                labels_held, kinds=shifts.DESIGN_KINDS, seed=seed)
        report["arms"][name] = {"parts": list(parts), "settings": settings, "table": table, "summary": shifts.summary(table),
                                "seconds": round(time.perf_counter() - started, 1)}
        log(ablation_lines(report)[-2])  # this arm's row, as soon as it is measured
    return logged(report, ablation_lines, log)


def ablation_lines(report: dict) -> list[str]:
    """One row per arm: held-out families' accuracy as they are, under each design kind, mean and worst."""
    kinds = report["kinds"]
    lines = [f"designed augmentation, ablation: family split (held-out families, {report['held_out_images']:,} "
             f"images; trained on {report['train_images']:,}), design kinds only, {report['epochs']} epoch(s), "
             f"seed {report['seed']}, {report['data']}" + fast_note(report),
             f"  {'arm':34s} {'clean':>5s} " + " ".join(f"{k[:5]:>5s}" for k in kinds) + f" {'mean':>5s} {'worst':>5s}"]
    for name, arm in report["arms"].items():
        per_kind, d = arm["summary"]["per_kind"], arm["summary"]["design"]
        lines.append(f"  {name:34s} {arm['table']['clean']:5.3f} " + " ".join(f"{per_kind[k]:5.3f}" for k in kinds)
                     + f" {d['mean']:5.3f} {d['worst_accuracy']:5.3f}")
    lines.append("  each kind: mean over severities 1-5; worst: the lowest kind")
    return lines
