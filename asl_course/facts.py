"""The lesson's facts, stated once: every module, notebook and test of the course reads them here.

What the lesson (``shared/lesson-spec.md``) fixes, independent of how any step is coded: the
letters and their numbering, the image and batch shapes, the model's size, the augmentation's
settings, the number of epochs and the model file's name. This module imports nothing (the
grading code, the synthetic stand-in and the data step all read it without import cycles).

Grading keeps an independent statement of what is right (``asl_course.grading``: the grader
must not trust the code it grades against); ``tests/test_facts.py`` holds the two equal.
"""

from __future__ import annotations

#: Course label ``i`` is the letter ``LETTERS[i]``: 24 classes, no J and no Z (they need motion).
LETTERS = "ABCDEFGHIKLMNOPQRSTUVWXY"
NUM_CLASSES = len(LETTERS)
#: The release numbers A=0 ... Y=24 and never uses 9 (J); course label i is RELEASE_LABELS[i].
RELEASE_LABELS = tuple(range(0, 9)) + tuple(range(10, 25))

IMAGE_SIZE = 28
NUM_PIXELS = IMAGE_SIZE * IMAGE_SIZE
#: One image as the model takes it: height, width, one grayscale channel.
IMAGE_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)

#: Rows (images) of the release's two files; the test file is the course's validation set.
TRAIN_IMAGES = 27_455
VALID_IMAGES = 7_172

BATCH_SIZE = 32
#: The lesson's run: 20 epochs (fast mode, for CI and grading, trains fewer; see ``lesson``).
FULL_EPOCHS = 20
#: The lesson's CNN has this many parameters (all trainable but BatchNorm's moving statistics).
MODEL_PARAMS = 264_049

#: The lesson's augmentation (step 4), as ``ImageDataGenerator`` arguments.
DATAGEN_SETTINGS = dict(
    rotation_range=10,  # randomly rotate images by up to 10 degrees
    zoom_range=0.1,  # randomly zoom in or out by up to 10%
    width_shift_range=0.1,  # Keras 3: moves images vertically (asl_course.learners.notebook.show_shift_axes)
    height_shift_range=0.1,  # Keras 3: moves images horizontally
    horizontal_flip=True,  # a left-handed signer mirrors the right-handed image
    vertical_flip=False,  # a hand is rarely upside down
)

#: The file the trained model is saved to (Keras 3 saves whole models only as ``.keras``).
MODEL_FILE = "asl_model.keras"
