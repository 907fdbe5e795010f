"""The course's exercises, each declared once: its notebook, points, what it reads, how it is
observed, judged, measured, recorded and repaired, and what to say when it is not done.

Every table the grading code, the autograder, the verifier and the self-checks use is derived
from :data:`REGISTRY` below (:data:`POINTS`, :data:`READS`, :data:`MODEL_EXERCISES`, ...); no
other module lists exercises. The source notebooks must give each test cell (its grade_id)
exactly these points (``tests/test_registry.py``).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from . import nb01_prepare_data as nb1
from . import nb02_cnn_model as nb2
from . import nb03_augmentation as nb3
from . import nb04_train_and_save as nb4
from . import nb05_predictions as nb5
from . import nb06_fast_and_stable as nb6
from . import nb07_beyond_the_studio as nb7

#: An observer: ``(namespace, reference or None, folder or None) -> observation`` (JSON-able).
Observer = Callable[[dict, object, object], dict]
#: A judge: ``(observation, reference or None, models or None) -> mistakes`` (empty: right).
Judge = Callable[[dict, object, object], list]


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One exercise (one graded test cell), as the hidden test, the verifier and the self-check see it."""

    grade_id: str  #: the test cell's nbgrader grade_id (``test_<answer cell's grade_id>``)
    notebook: str  #: the assignment (source/<notebook>/<notebook>.ipynb)
    points: int  #: the test cell's nbgrader points
    reads: tuple[str, ...]  #: the notebook variables it is graded on
    observe: Observer  #: measures the variables (in the kernel; in the verifier on rebuilt values)
    judge: Judge  #: the mistakes in an observation, in words
    #: Puts the grader's values in the namespace after a failure, so that the next exercise is
    #: graded on its own work: ``(namespace, reference or None) -> None``.
    repair: Callable[[dict, object], None] | None = None
    #: Added in parentheses to "x is not defined" when a name it reads is missing: what usually
    #: stops its cell (an English text marked for the catalogs, or code; shown through ``lookup``).
    hint: str = ""
    #: False: judged without the reference data (the lesson's settings suffice).
    needs_reference: bool = True
    #: Re-measures the exercise's models: ``(obs, ref, live, load, seed) -> dict``; ``live`` holds the
    #: kernel's objects, ``load(name, compile=False)`` reads the record's model files (verifier).
    #: Set: a model exercise (its judgement needs model objects).
    measure: Callable | None = None
    #: Functions (notebooks 5 and 7): judged by the verifier, which calls them itself in a fresh sandbox
    #: on inputs it chooses (:mod:`asl_course.grading.plugins.harness`); nothing the kernel records is used for them.
    function: bool = False
    #: The file the record saves the exercise's ``model`` under (default ``<name>.keras``).
    model_file: str | None = None
    #: Names recorded besides :attr:`reads` (when defined).
    records_also: tuple[str, ...] = ()
    #: Names recorded by what the exercise needs of them only: ``{name: "columns" | "length"}``.
    shallow: dict = dataclasses.field(default_factory=dict)
    #: Writes more raw values into the record: ``(namespace, folder, meta) -> None``.
    record_files: Callable | None = None
    #: The verifier's observation from a record's metadata, for exercises not judged by
    #: observing the rebuilt values: ``(meta, folder) -> observation``.
    from_record: Callable | None = None
    #: The verifier's refusal of an observation before measuring models: ``obs -> message | None``.
    refused: Callable | None = None
    #: Folds the verifier's model measurements into the observation: ``(obs, models) -> mistakes | None``.
    measured: Callable | None = None
    #: Seconds the autograder lets the test cell run, when more than its default.
    timeout: int | None = None
    #: Seconds the autograder lets the answer cell run, when more than its default.
    answer_timeout: int | None = None
    #: After this test cell the autograder sets the model's weights to the grader's initialisation,
    #: from a seed it has just chosen (the next exercise trains that model).
    seeds_next: bool = False
    #: The verifier judges this exercise against that seed (the model must descend from it).
    seeded: bool = False

    @property
    def answer(self) -> str:
        """The grade_id of the answer cell this test cell grades (``test_fit`` -> ``fit``)."""
        return self.grade_id[len("test_"):] if self.grade_id.startswith("test_") else self.grade_id

    @property
    def records_model(self) -> bool:
        return self.measure is not None


_NB1, _NB2, _NB3, _NB4, _NB5, _NB6, _NB7 = ("01_prepare_data", "02_cnn_model", "03_augmentation", "04_train_and_save",
                                            "05_predictions", "06_fast_and_stable", "07_beyond_the_studio")

#: Every exercise of the course, in the order the notebooks teach them.
REGISTRY: tuple[Exercise, ...] = (
    # Notebook 1: prepare the data
    Exercise("test_load_csv", _NB1, 1, ("train_df", "valid_df"), nb1.obs_load_csv, nb1.judge_load_csv,
             repair=nb1.repair_load_csv),
    Exercise("test_labels", _NB1, 1, ("y_train", "y_valid", "train_df", "valid_df"), nb1.obs_labels,
             nb1.judge_labels, repair=nb1.repair_labels, shallow={"train_df": "columns", "valid_df": "columns"}),
    Exercise("test_predict_balance", _NB1, 1, ("prediction",), nb1.obs_prediction, nb1.judge_predict_balance),
    Exercise("test_images", _NB1, 1, ("x_train", "x_valid"), nb1.obs_images, nb1.judge_images,
             repair=nb1.repair_images),
    Exercise("test_one_hot", _NB1, 1, ("y_train", "y_valid"), nb1.obs_one_hot, nb1.judge_one_hot,
             repair=nb1.repair_one_hot, records_also=("num_classes",)),
    Exercise("test_normalize", _NB1, 1, ("x_train", "x_valid"), nb1.obs_scaled, nb1.judge_normalize,
             repair=nb1.repair_normalize),
    Exercise("test_reshape", _NB1, 1, ("x_train", "x_valid"), nb1.obs_scaled, nb1.judge_reshape,
             repair=nb1.repair_reshape),
    # Notebook 2: the CNN
    Exercise("test_model", _NB2, 3, ("model",), nb2.obs_model, nb2.judge_model, needs_reference=False,
             timeout=120, measure=nb2.measure_model, model_file="model.keras", from_record=nb2.model_from_record,
             refused=nb2.model_refused, measured=nb2.model_measured),
    Exercise("test_predict_params", _NB2, 1, ("prediction",), nb2.obs_prediction, nb2.judge_predict_params,
             needs_reference=False),
    # Notebook 3: augmentation
    Exercise("test_datagen", _NB3, 2, ("datagen",), nb3.obs_datagen, nb3.judge_datagen, needs_reference=False,
             repair=nb3.repair_datagen, timeout=120),
    Exercise("test_predict_rotation", _NB3, 1, ("prediction",), nb3.obs_prediction, nb3.judge_predict_rotation,
             needs_reference=False),
    Exercise("test_batch", _NB3, 1, ("img_iter", "x_batch", "y_batch"), nb3.obs_batch, nb3.judge_batch, timeout=120,
             hint=nb3.NEXT_METHOD),
    # Notebook 4: train and save
    Exercise("test_compile", _NB4, 1, ("model",), nb4.obs_compile, nb4.judge_compile, needs_reference=False,
             repair=nb4.repair_compile, model_file="model.keras", from_record=nb4.compile_from_record),
    Exercise("test_steps", _NB4, 1, ("steps_per_epoch", "batch_size", "img_iter"), nb4.obs_steps,
             nb4.judge_steps, repair=nb4.repair_steps, shallow={"img_iter": "length"}, seeds_next=True),
    Exercise("test_predict_last_batch", _NB4, 1, ("prediction",), nb4.obs_prediction, nb4.judge_predict_last_batch),
    Exercise("test_fit", _NB4, 3, ("model", "history"), nb4.obs_fit, nb4.judge_fit,
             hint="history = model.fit(img_iter, ...)", timeout=240, answer_timeout=600, seeded=True,
             measure=nb4.measure_fit, model_file="trained.keras",
             from_record=nb4.fit_from_record, refused=nb4.fit_refused, measured=nb4.fit_measured),
    Exercise("test_save", _NB4, 1, ("model",), nb4.obs_save, nb4.judge_save, timeout=120, measure=nb4.measure_save,
             model_file="memory.keras", record_files=nb4.record_save, from_record=nb4.save_from_record),
    # Notebook 5: predictions
    Exercise("test_load_model", _NB5, 1, ("model",), nb5.obs_load_model, nb5.judge_load_model,
             repair=nb5.repair_load_model, hint='model = keras.models.load_model("asl_model.keras")',
             measure=nb5.measure_load_model, model_file="model.keras", record_files=nb5.record_load_model,
             from_record=nb5.load_model_from_record),
    Exercise("test_prepare_image", _NB5, 2, ("prepare_image",), nb5.obs_prepare_image, nb5.judge_prepare_image,
             repair=nb5.repair_prepare_image, function=True),
    Exercise("test_predict_letter", _NB5, 2, ("LETTERS", "predict_letter"), nb5.obs_predict_letter,
             nb5.judge_predict_letter, repair=nb5.repair_predict_letter, measure=nb5.measure_predict_letter,
             function=True),
    Exercise("test_top_k", _NB5, 1, ("top_k",), nb5.obs_top_k, nb5.judge_top_k, needs_reference=False,
             repair=nb5.repair_top_k, function=True),
    Exercise("test_predict_confusion", _NB5, 1, ("prediction",), nb5.obs_prediction, nb5.judge_predict_confusion,
             needs_reference=False),
    Exercise("test_accuracy_per_letter", _NB5, 1, ("accuracy_per_letter",), nb5.obs_accuracy_per_letter,
             nb5.judge_accuracy_per_letter, needs_reference=False, repair=nb5.repair_accuracy_per_letter,
             function=True),
    # Notebook 6: augmentation that costs nothing, training that does not swing
    Exercise("test_augment_layers", _NB6, 2, ("augment",), nb6.obs_augment, nb6.judge_augment,
             repair=nb6.repair_augment, needs_reference=False, timeout=120, measure=nb6.measure_augment, model_file="augment.keras",
             from_record=nb6.augment_from_record, refused=nb6.augment_refused, measured=nb6.augment_measured),
    Exercise("test_train_ds", _NB6, 2, ("train_ds",), nb6.obs_train_ds, nb6.judge_train_ds, timeout=120,
             repair=nb6.repair_train_ds,
             record_files=nb6.record_train_ds, from_record=nb6.train_ds_from_record),
    Exercise("test_schedule", _NB6, 1, ("lr_schedule",), nb6.obs_schedule, nb6.judge_schedule,
             repair=nb6.repair_schedule, record_files=nb6.record_schedule, from_record=nb6.schedule_from_record),
    Exercise("test_predict_decay", _NB6, 1, ("prediction",), nb6.obs_prediction, nb6.judge_predict_decay,
             needs_reference=False),
    # Notebook 7: hands the data set never showed
    Exercise("test_family_split", _NB7, 2, ("train_rows", "valid_rows"), nb7.obs_family_split,
             nb7.judge_family_split, repair=nb7.repair_family_split, timeout=120),
    Exercise("test_predict_lookup", _NB7, 1, ("prediction",), nb7.obs_prediction, nb7.judge_predict_lookup,
             needs_reference=False),
    Exercise("test_low_contrast", _NB7, 2, ("low_contrast",), nb7.obs_low_contrast, nb7.judge_low_contrast,
             repair=nb7.repair_low_contrast, function=True),
)


# --- Derived tables (read these; never list exercises elsewhere) ----------------------------------------

#: grade_id -> its declaration.
BY_ID: dict[str, Exercise] = {e.grade_id: e for e in REGISTRY}
if len(BY_ID) != len(REGISTRY):
    raise RuntimeError("an exercise is declared twice in the registry")
#: Every grade_id, in teaching order.
EXERCISES: tuple[str, ...] = tuple(BY_ID)
#: Points per exercise, per assignment (the README's points table).
POINTS: dict[str, dict[str, int]] = {}
for _e in REGISTRY:
    POINTS.setdefault(_e.notebook, {})[_e.grade_id] = _e.points
del _e
#: The course's total.
TOTAL_POINTS = sum(e.points for e in REGISTRY)
#: What each exercise reads from the notebook.
READS: dict[str, tuple[str, ...]] = {e.grade_id: e.reads for e in REGISTRY}
#: Exercises judged without the reference data.
NO_REFERENCE = frozenset(e.grade_id for e in REGISTRY if not e.needs_reference)
#: Exercises whose judgement needs model objects (live in the kernel, reloaded in the verifier).
MODEL_EXERCISES = tuple(e.grade_id for e in REGISTRY if e.records_model)
#: Notebook 5's functions, judged by the verifier calling them in its own sandbox.
FUNCTION_EXERCISES = tuple(e.grade_id for e in REGISTRY if e.function)
#: Seconds the autograder lets a cell run, by nbgrader grade_id (answer and test cells), where
#: more than its default.
CELL_TIMEOUTS: dict[str, int] = {**{e.answer: e.answer_timeout for e in REGISTRY if e.answer_timeout},
                                 **{e.grade_id: e.timeout for e in REGISTRY if e.timeout}}


def exercise(grade_id: str) -> Exercise:
    """The declaration of ``grade_id`` (a clear error for a grade_id the course does not have)."""
    try:
        return BY_ID[grade_id]
    except KeyError:
        raise KeyError(f"no exercise {grade_id!r} in the grading registry; there are: {', '.join(EXERCISES)}") from None


def answer_of(grade_id: str) -> str:
    """The grade_id of the answer cell an exercise's test cell grades (``test_fit`` -> ``fit``)."""
    return grade_id[len("test_"):] if grade_id.startswith("test_") else grade_id
