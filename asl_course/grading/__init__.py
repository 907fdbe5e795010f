"""Grading: the checks behind the hidden tests, run in the student's kernel and outside it.

Each exercise (a test cell's grade_id) is declared once, in :mod:`.registry`: its notebook,
points, the names it reads, its observer and judge, its repair, its hint, how its raw values
are recorded and re-measured. Every other table is derived from there. The layout:

- :mod:`.registry`: the exercises (:class:`Exercise`) and the tables derived from them;
- :mod:`.expected`: what the lesson asks for, in the grader's own words (layers, settings,
  thresholds), independent of ``lesson.py``'s code;
- :mod:`.refdata`: the training plan the grader expects and its reference data;
- :mod:`.arrays`, :mod:`.models`: measuring arrays (digests, shapes, value ranges) and Keras models;
- :mod:`.nb01_prepare_data` ... :mod:`.nb07_beyond_the_studio`: each notebook's observers, judges,
  model measurements, record hooks and repairs;
- :mod:`.predictions`: the thinking exercises' observer and words (a choice, a count, a share, a
  pair of letters), each notebook's question in its own module;
- :mod:`.judging`: observe / judge / measure one exercise through its declaration;
- :mod:`.raw`: the raw values a hidden test records, and how the verifier rebuilds them;
- :mod:`.kernel`: in the student's kernel: :func:`check` (the hidden test), :func:`repair`;
- :mod:`.fresh`: the hidden tests' one line, which loads a fresh copy of this package and checks;
- :mod:`.cells`: nbgrader's cell metadata, for the plugins, the instructor's tools and the editions
  (not imported by this package);
- :mod:`.verdict`: outside the kernel: :func:`verify` (the verifier's judgement);
- :mod:`.policy`: answers that call the course's reference implementation.
- :mod:`.language`: its words in the learner's language (``t``, ``lookup``, ``mark`` of
  :mod:`asl_course.i18n`; a fresh copy loads its own copy of that file, importing no ``asl_course``).

Beside them, two subpackages this package never imports (so neither does a kernel):
:mod:`.plugins`, what nbgrader runs while it grades (the autograder's preprocessors, the verifier,
the harness, the sandbox, the feedback filters), and :mod:`.instructor`, what the instructor runs
on a class (intake, repair, parallel grading).

A student's code runs in the same kernel before the hidden tests and can change anything
importable there (this package, ``asl_course.learners.checks``, numpy, builtins, IPython itself). So
grading has two layers (see also :mod:`asl_course.grading.plugins.autograder`):

1. **In the kernel.** Each hidden test loads a *fresh copy of this package* (by path: this
   ``__init__.py``, under a private name registered in ``sys.modules``, its submodules loaded
   fresh with it; never the ``asl_course.grading`` object in ``sys.modules``) and calls
   :func:`check`. It records the exercise's raw values for the verifier when the autograder
   runs it (``$ASL_GRADING_DIR``), measures and judges them against the lesson and raises
   :class:`GradingFailed` with the mistake in words. Outside the autograder a failure also
   puts the right values in the student's variables (:func:`repair`), so that one mistake costs
   only its own exercise; under it, the autograder repairs once the raw values are out of the
   kernel's reach. This package imports nothing from ``asl_course`` at import time but
   :mod:`asl_course.i18n`, and a fresh copy not even that (:mod:`.language`): the
   expected values are written out in :mod:`.expected`, and reference arrays come from the
   grader's copy of the data (``reference.npz``) or from the CSV files themselves.
2. **Outside the kernel.** After the notebook ran, the autograder's verifier process, which
   loaded this package before any student's code ran, judges the raw values again with
   :func:`verify`; it loads the models the hidden tests saved itself and re-evaluates them on
   the validation data *it* loaded. A test cell that passed in the kernel but whose
   measurements fail here scores 0.

Every expected value is recomputed from the data files, never taken from the student's
variables; a ``History`` or a printed number is never trusted: the model is re-evaluated.
Each failure is an ``AssertionError`` whose message names the mistake and its fix; that
message is what the feedback shows (:mod:`asl_course.grading.plugins.feedback` hides the test code).
"""

import sys as _sys

# A fresh copy (the hidden tests load this file again under the same private name) must not
# reuse the submodules of the previous copy, which the notebook's code could have changed.
for _stale in [n for n in _sys.modules if n.startswith(__name__ + ".")]:
    del _sys.modules[_stale]
del _sys

from .expected import (  # noqa: E402
    BATCH_SIZE, COLUMNS, DATAGEN, DATAGEN_OFF, GRADING_CODE_ENV, GRADING_DIR_ENV, GRADING_PLAN_ENV, HISTORY_TOLERANCE,
    INPUT_SHAPE, LAYERS, LETTERS, MAX_MODEL_BYTES, MIN_DESCENT, MIN_MOVED, MIN_VAL_ACCURACY, MIN_VAL_ACCURACY_STANDIN,
    MODEL_FILE, MODEL_PARAMS, N_PIXELS, NUM_CLASSES, OBSERVATION_FILE, PREPARE_TOLERANCE, PROBE_KINDS,
    DECAY_QUESTION_EPOCH, RELEASE_TRAIN_IMAGES, RELEASE_VALID_COUNTS, GradingFailed)
from .refdata import (  # noqa: E402
    Reference, grading_mode, load_reference_csv, load_reference_npz, plan, reference, save_reference)
from .models import (  # noqa: E402
    descent, describe_model, initial_weights, load_saved_model, model_mistakes, reinitialise)
from .nb01_prepare_data import (CSV_FILES, balance_answer, balance_mistake, frame_facts,  # noqa: E402
                                images_mistake, label_kept_mistake, labels_mistake,
                                load_csv_mistakes, num_classes_mistake, one_hot_facts, one_hot_mistake,
                                order_mistake, pixels_mistake, reshape_mistake, scale_facts, scale_mistake)
from .nb02_cnn_model import conv_params, params_mistake  # noqa: E402
from .nb03_augmentation import (NEXT_METHOD, ROTATION_WHY, batch_facts, batch_mistakes, flow_mistakes,  # noqa: E402
                                rotation_mistake)
from .nb04_train_and_save import (expected_steps, history_facts, history_mistake, last_batch_answer,  # noqa: E402
                                  last_batch_mistake, save_mistake, steps_mistake, trained_mistake)
from .nb05_predictions import (confusion_pair_mistake, prepare_picture, prepared_mistake, probe_picture,  # noqa: E402
                               top_letters)
from .nb06_fast_and_stable import (augment_mistakes, decay_answer, decay_mistake, dataset_graph,  # noqa: E402
                                   dataset_graph_facts, describe_augment,
                                   rebuild_schedule, run_steps, schedule_config, schedule_facts, schedule_mistakes,
                                   train_ds_mistakes)
from .nb07_beyond_the_studio import (CONTRAST_FACTORS, CONTRAST_IMAGES, contrast_case, contrast_mistake, contrast_reference,  # noqa: E402
                                     lookup_mistake, split_facts, split_mistakes)
from .predictions import letter_pair  # noqa: E402
from .predictions import observe as observe_prediction  # noqa: E402
from .raw import RECORD_FILE, RUN_PREFIX  # noqa: E402
from .registry import (  # noqa: E402
    BY_ID, CELL_TIMEOUTS, EXERCISES, FUNCTION_EXERCISES, MODEL_EXERCISES, NO_REFERENCE, POINTS, READS, REGISTRY, TOTAL_POINTS,
    Exercise, answer_of, exercise)
from .judging import judge, measure_models, observe  # noqa: E402
from .kernel import artefact_dir, check, record, repair, sentences  # noqa: E402
from .verdict import observe_record, runs, verify  # noqa: E402
from .policy import REFERENCE_MODULES, reference_calls, reference_mistake  # noqa: E402
