"""Notebook 1 (prepare the data): observers, judges and repairs of its exercises."""

from __future__ import annotations

import math

import numpy as np

from .language import lookup, mark, t
from .expected import COLUMNS, N_PIXELS, NUM_CLASSES
from .arrays import array_facts, int_digest, onehot_facts, scaled_digest, sha
from .expected import LETTERS, RELEASE_VALID_COUNTS
from .predictions import choice_mistake, observe


# --- Observing -----

def _observe_arrays(ns: dict, names, extra) -> dict:
    out = {}
    for name in names:
        facts, a = array_facts(ns[name])
        extra(facts, a)
        out[name] = facts
    return out


def obs_load_csv(ns, ref, folder):
    out = {}
    for name in ("train_df", "valid_df"):
        facts, a = _frame_facts(ns[name])
        facts["digest"] = int_digest(a)
        out[name] = facts
    return out


def obs_labels(ns, ref, folder):
    out = _observe_arrays(ns, ("y_train", "y_valid"), lambda f, a: f.update(digest=int_digest(a)))
    for name in ("train_df", "valid_df"):
        cols = getattr(ns[name], "columns", None)
        out[name] = {"has_label": cols is not None and "label" in list(cols)}
    return out


def obs_images(ns, ref, folder):
    return _observe_arrays(ns, ("x_train", "x_valid"), lambda f, a: f.update(digest=int_digest(a)))


def obs_one_hot(ns, ref, folder):
    def extra(f, a):
        f.update(onehot_facts(a))
        if a is not None and a.ndim == 1:
            f["digest"] = int_digest(a)

    out = _observe_arrays(ns, ("y_train", "y_valid"), extra)
    num = ns.get("num_classes")
    out["num_classes"] = num if isinstance(num, (int, np.integer)) and not isinstance(num, bool) else repr(num)[:40]
    if isinstance(out["num_classes"], np.integer):
        out["num_classes"] = int(out["num_classes"])
    return out


def obs_scaled(ns, ref, folder):
    def extra(f, a):
        digest, worst = scaled_digest(a)
        f.update(scaled=digest, off_grid=None if math.isinf(worst) else worst)

    return _observe_arrays(ns, ("x_train", "x_valid"), extra)


#: The file each DataFrame of notebook 1's first exercise is read from.
CSV_FILES = {"train_df": "sign_mnist_train.csv", "valid_df": "sign_mnist_valid.csv"}


def _frame_facts(value) -> tuple[dict, np.ndarray | None]:
    facts, a = array_facts(value)
    facts["dataframe"] = type(value).__name__ == "DataFrame" and hasattr(value, "columns")
    if facts["dataframe"]:
        cols = [str(c) for c in value.columns]
        first_row = [str(v) for v in value.iloc[0].tolist()[:N_PIXELS + 1]] if len(value) else []
        index = getattr(value, "index", None)
        facts.update(columns_ok=cols == COLUMNS, first_columns=[c if len(c) <= 24 else c[:21] + "..." for c in cols[:3]],
                     has_label="label" in cols,
                     header_row="label" in first_row,
                     index_name=None if getattr(index, "name", None) is None else str(index.name))
    return facts, a


def frame_facts(value) -> dict:
    """What :func:`load_csv_mistakes` reads of one loaded CSV: type, shape, its columns (the
    first three, whether they are the CSV's header, whether ``label`` is one), whether its first
    row is the CSV's header, its index's name."""
    return _frame_facts(value)[0]


def load_csv_found(frames: dict, rows: dict | None = None) -> dict[str, tuple[str, str]]:
    """What is wrong with the two loaded CSVs, as ``(mistake, fix)`` pairs keyed by the name of the
    DataFrame each is about (the two files swapped: one pair under both names); see
    :func:`load_csv_mistakes`. The grader reads which DataFrames are wrong from the keys, never
    from the words (they are in the learner's language)."""
    def read(name):
        return f'{name} = pd.read_csv(DATA_DIR / "{CSV_FILES[name]}")'

    found: dict = {}
    for name, f in frames.items():  # what is wrong with a DataFrame on its own
        shape = list(f.get("shape") or [])
        if not f.get("dataframe"):
            found[name] = (t("{name} is a {type}, not a pandas DataFrame", name=name, type=f["type"]), read(name))
        elif f.get("header_row"):
            found[name] = (t("{name}'s columns are numbered {columns}, ... and its first row is the CSV's header "
                             "(label, pixel1, ...): the CSV was read with header=None",
                             name=name, columns=", ".join(f.get("first_columns") or [])),
                           t("read the CSV with its header row: pd.read_csv(path), without header=None"))
        elif shape[1:] == [N_PIXELS] and f.get("index_name") == "label":
            found[name] = (t("{name} has 784 columns and the labels as its index: the CSV was read with index_col=0",
                             name=name),
                           t("read it without index_col: pd.read_csv(path)"))
        elif not f.get("has_label"):
            found[name] = (t("{name} has no 'label' column (its first columns are {columns})",
                             name=name, columns=f.get("first_columns")),
                           t("read the course's CSV with its header row and without index_col: pd.read_csv(path)"))
        elif shape[1:] != [N_PIXELS + 1]:
            found[name] = (t("{name} has {n} columns; the CSV has 785 (a label and 784 pixels)", name=name, n=shape[1])
                           if len(shape) > 1 else
                           t("{name} has no columns; the CSV has 785 (a label and 784 pixels)", name=name),
                           t("read the whole CSV: pd.read_csv(path), without usecols"))
        elif not f.get("columns_ok"):
            found[name] = (t("{name}'s columns are {columns}..., not label, pixel1, ...",
                             name=name, columns=f.get("first_columns")),
                           t("read the file with its header row and without index_col: pd.read_csv(path)"))
        elif f.get("kind") not in ("i", "u", "f"):
            found[name] = (t("{name} holds {dtype} values, not the CSV's numbers", name=name, dtype=f.get("dtype")),
                           t("let pandas read the numbers: {read}, without dtype", read=read(name)))
    if not found and set(frames) == set(CSV_FILES):
        train, valid = frames["train_df"]["shape"][0], frames["valid_df"]["shape"][0]
        # the training file is the larger one; where the sizes are known, each holds the other's
        if (train < valid) if rows is None else (train, valid) == (rows["valid_df"], rows["train_df"]) != (valid, train):
            swapped = (t("train_df has fewer rows ({train:,}) than valid_df ({valid:,}): the two files are swapped",
                         train=train, valid=valid),
                       t("read {train_file} into train_df and {valid_file} into valid_df",
                         train_file=CSV_FILES["train_df"], valid_file=CSV_FILES["valid_df"]))
            return dict.fromkeys(CSV_FILES, swapped)
    for name, f in frames.items():  # the number of rows, where it is known
        if name in found or rows is None:
            continue
        got, n = f["shape"][0], rows[name]
        other = next(o for o in CSV_FILES if o != name)
        if got == n + 1:
            found[name] = (t("{name} has {got:,} rows, one too many: the header row was read as data "
                             "(read with header=None?)", name=name, got=got),
                           t("read the CSV with its header row: pd.read_csv(path), without header=None"))
        elif got == rows[other] != n:
            found[name] = (t("{name} has {got:,} rows, as many as {other_file}: it was read from the other file",
                             name=name, got=got, other_file=CSV_FILES[other]),
                           t("read {file} into {name}: {read}", file=CSV_FILES[name], name=name, read=read(name)))
        elif got != n:
            found[name] = (t("{name} has {got:,} rows, not the {n:,} of {file}", name=name, got=got, n=n,
                             file=CSV_FILES[name]),
                           t("read the whole file: {read}, without nrows or skiprows", read=read(name)))
    return found


def load_csv_mistakes(frames: dict, rows: dict | None = None) -> list[tuple[str, str]]:
    """What is wrong with the two loaded CSVs, as ``(mistake, fix)`` pairs, at most one for each
    DataFrame (empty: nothing seen).

    Stated once: the grader's judge (:func:`judge_load_csv`) and the learners' self-check
    (``asl_course.learners.checks.check_dataframes``) both say these words. ``frames``: the
    :func:`frame_facts` of ``train_df`` and ``valid_df``; ``rows``: the number of rows of each
    file (the grader's reference data; None: not known, as in a self-check: then the two files
    being swapped is seen only from their sizes, and a wrong number of rows not at all).
    """
    return _in_order(load_csv_found(frames, rows), frames)


def _in_order(found: dict, names) -> list[tuple[str, str]]:
    """The pairs of :func:`load_csv_found` in the order of ``names``, each once (the swap is under both)."""
    return list({id(found[name]): found[name] for name in names if name in found}.values())


def judge_load_csv(obs, ref, models):
    found = load_csv_found({name: obs[name] for name in CSV_FILES},
                           {"train_df": len(ref.y_train), "valid_df": len(ref.y_valid)})
    mistakes = [said(m) for m in _in_order(found, CSV_FILES)]
    for name in CSV_FILES:  # what only the grader sees: the rows themselves
        if name not in found and obs[name].get("digest") != ref.digest(name):
            mistakes.append(t("{name} does not hold the rows of {file}", name=name, file=CSV_FILES[name]))
    return mistakes


def labels_mistake(name: str, shape, n: int, top: float | None = None, bottom: float | None = None,
                   column_gone: bool = False, dtype: str | None = None) -> tuple[str, str] | None:
    """``y_train``/``y_valid`` not the label column, as ``(mistake, fix)`` (None: nothing seen).

    Stated once, with :func:`label_kept_mistake`: the grader's judge (:func:`judge_labels`) and
    the learners' self-check (``asl_course.learners.checks.check_labels``) both say these words.
    ``top``/``bottom``: the largest and smallest value (None: not known); ``column_gone``: the
    DataFrame has no label column any more (the cell deleted it), so the fix first reads the CSV again;
    ``dtype``: the values' type (None: not known).
    """
    df = "train_df" if name == "y_train" else "valid_df"
    take = f'{name} = {df}["label"]'
    if column_gone:
        take = t("{take} (the label column is deleted already: rerun exercise 1's cell first, then this one)",
                 take=take)
    shape = tuple(int(d) for d in (shape or ()))
    if shape != (n,):
        return t("{name} has shape {shape}; it should be the label column, {n:,} labels", name=name, shape=shape,
                 n=n), take
    if dtype is not None and dtype[:1] not in ("i", "u", "f"):
        return t("{name} holds {dtype} values, not the integer labels", name=name, dtype=dtype), take
    if top is not None and (top > NUM_CLASSES - 1 or (bottom is not None and bottom < 0)):
        if top == NUM_CLASSES and bottom == 0:
            return (t("{name} holds labels up to 24: the Kaggle release's numbering; the course's CSVs number "
                      "the letters 0..23", name=name),
                    t("use the course's CSVs (asl-course data import maps the release's 0..24)"))
        return t("{name} holds values {bottom:g}..{top:g}, not the label column's 0..23", name=name, bottom=bottom,
                 top=top), take
    return None


def label_kept_mistake(df: str) -> tuple[str, str]:
    """The label column left in DataFrame ``df``, as ``(mistake, fix)``."""
    return (t("the label column is still in {df}, where it would be read as a pixel", df=df),
            t('del {df}["label"] after taking the labels', df=df))


def judge_labels(obs, ref, models):
    mistakes = []
    for name, n in (("y_train", len(ref.y_train)), ("y_valid", len(ref.y_valid))):
        f = obs[name]
        df = "train_df" if name == "y_train" else "valid_df"
        wrong = labels_mistake(name, f.get("shape"), n, f.get("max"), f.get("min"), not obs[df]["has_label"],
                               f.get("dtype"))
        if wrong:
            mistakes.append(said(wrong))
        elif f.get("digest") != ref.digest(name):
            mistakes.append(t('{name} is not the label column of {df}: {name} = {df}["label"]', name=name, df=df)
                            if obs[df]["has_label"] else
                            t('{name} is not the label column of {df}: {name} = {df}["label"] (the label column is '
                              "deleted already: rerun exercise 1's cell first, then this one)", name=name, df=df))
    for df in ("train_df", "valid_df"):
        if obs[df]["has_label"]:
            mistakes.append(said(label_kept_mistake(df)))
    return mistakes


def images_mistake(name: str, type_name: str, shape, n: int | None = None, top: float | None = None,
                   dtype: str | None = None) -> tuple[str, str] | None:
    """What is wrong with an image array taken from its DataFrame, as ``(mistake, fix)`` (None: right).

    Stated once: the grader's judge (:func:`judge_images`) and the learners' self-check
    (``asl_course.learners.checks.check_images``) both say these words. ``type_name``: the
    value's type's name; ``n``: the number of rows it must have (None: not checked); ``top``: its
    largest value and ``dtype`` its values' type (None: not known).
    """
    df = "train_df" if name == "x_train" else "valid_df"
    values = f"{name} = {df}.values"
    if type_name != "ndarray":
        fix = t("take the array out of it with .values: {values}", values=values)
        if type_name in ("DataFrame", "Series"):
            return t("{name} is still a pandas {type}, not a NumPy array", name=name, type=type_name), fix
        return t("{name} is a {type}, not a NumPy array", name=name, type=type_name), fix
    shape = tuple(int(d) for d in (shape or ()))
    if len(shape) == 2 and shape[1] == N_PIXELS + 1:
        return (t("{name} has 785 columns: the label column is still in {df}", name=name, df=df),
                t("delete it first (del {df}['label']), then {values}", df=df, values=values))
    if len(shape) != 2 or shape[1] != N_PIXELS or (n is not None and shape[0] != n):
        return (t("{name} has shape {shape}, not ({rows}, 784)", name=name, shape=shape, rows="N" if n is None else n),
                t("{values}, after deleting the 'label' column", values=values))
    if dtype is not None and dtype[:1] not in ("i", "u", "f"):
        return t("{name} holds {dtype} values, not the pixels as numbers", name=name, dtype=dtype), values
    if top is not None and 0 < top <= 1:
        return (t("{name} goes up only to {top:g}: it is scaled already; this exercise takes the pixels 0..255 "
                  "(exercise 5 divides them)", name=name, top=top), values)
    return None


def pixels_mistake(name: str) -> tuple[str, str]:
    """An image array of the right shape that is not its DataFrame's pixels, as ``(mistake, fix)``:
    the grader sees it against its reference data, the self-check against the DataFrame."""
    df = "train_df" if name == "x_train" else "valid_df"
    return t("{name} does not hold the pixel columns of {df} in their order", name=name, df=df), f"{name} = {df}.values"


def judge_images(obs, ref, models):
    mistakes = []
    for name, n in (("x_train", len(ref.y_train)), ("x_valid", len(ref.y_valid))):
        f = obs[name]
        df = "train_df" if name == "x_train" else "valid_df"
        wrong = images_mistake(name, f["type"], f.get("shape"), n, f.get("max"), f.get("dtype"))
        if wrong:
            mistakes.append(said(wrong))
        elif f.get("digest") != ref.digest(name):
            mistakes.append(said(pixels_mistake(name)))
    return mistakes


def one_hot_facts(value) -> dict:
    """What :func:`one_hot_mistake` reads of a label array: type, shape, min, max, one-hot or not."""
    facts, a = array_facts(value)
    facts.update(onehot_facts(a))
    return facts


def _encode_again(name: str) -> str:
    return t("{name} is no longer the integer labels, and exercise 2 deleted their column: run the notebook "
             "again from the top (Run All Above Selected Cell), then this cell once", name=name)


def one_hot_mistake(name: str, f: dict, n: int | None = None, num_classes=None) -> tuple[str, str] | None:
    """What is wrong with one-hot labels of facts ``f`` (:func:`one_hot_facts`), as ``(mistake, fix)``.

    Stated once: the grader's judge (:func:`judge_one_hot`) and the learners' self-check
    (``asl_course.learners.checks.check_one_hot``) both say these words. ``n``: the number of
    labels (None: not checked). None: one-hot with 24 columns (the grader also checks, apart,
    that they encode the right labels). ``num_classes``: the notebook's (None: not known), said first
    while the labels are still integers. Once the labels are encoded, running the cell again
    would encode them twice, so such a fix says to start again from the top.
    """
    shape = f.get("shape")
    encode = f"{name} = keras.utils.to_categorical({name}, num_classes)"
    if shape is None:
        return t("{name} is a {type}, not an array of one-hot labels", name=name, type=f["type"]), encode
    if len(shape) == 1:
        if f.get("max", 0) > NUM_CLASSES - 1:
            return (t("{name} holds labels up to {top:g}: that is the Kaggle release's numbering (A=0 .. Y=24, "
                      "skipping 9 for J), so to_categorical(y, 24) has no column for 24 (IndexError)",
                      name=name, top=f["max"]),
                    t("use the course's labels 0..23 as loaded (asl-course data import maps the release's); if you "
                      "load the Kaggle files yourself, map 10..24 to 9..23 first"))
        if isinstance(num_classes, int) and num_classes_mistake(num_classes):  # a number set wrong
            return num_classes_mistake(num_classes)[0], t("set num_classes = 24, then run this cell again")
        return (t("{name} is still a vector of integer labels, not one-hot encoded", name=name),
                t("one-hot encode it: {encode}", encode=encode))
    if f["type"] != "ndarray":
        return (t("{name} is a {type}, not the NumPy array keras.utils.to_categorical returns", name=name,
                  type=f["type"]),
                t("{rerun} (with keras.utils.to_categorical)", rerun=_encode_again(name)))
    if len(shape) == 3 and shape[-1] == NUM_CLASSES:
        return (t("{name} has shape {shape}: it was one-hot encoded twice (to_categorical of labels that "
                  "were one-hot already)", name=name, shape=tuple(shape)), _encode_again(name))
    if len(shape) != 2 or (n is not None and shape[0] != n):
        return (t("{name} has shape {shape}, not ({rows}, 24)", name=name, shape=tuple(shape),
                  rows="N" if n is None else n), _encode_again(name))
    if shape[1] != NUM_CLASSES:
        if f.get("top_class", 0) >= NUM_CLASSES:
            return (t("{name} has {columns} columns and uses column {top_class}: the Kaggle release's labels "
                      "0..24; the course's are 0..23", name=name, columns=shape[1], top_class=f["top_class"]),
                    t("use the course's CSVs (asl-course data import), then run the notebook again from the top "
                      "with num_classes = 24"))
        return (t("{name} has {columns} columns: it was encoded with num_classes = {columns}; one-hot encoding "
                  "needs 24 classes", name=name, columns=shape[1]),
                t("set num_classes = 24; {rerun}", rerun=_encode_again(name)))
    if not f.get("onehot"):
        return (t("{name}'s rows are not one-hot (each row should hold a single 1)", name=name),
                t("encode the integer labels once with keras.utils.to_categorical; {rerun}",
                  rerun=_encode_again(name)))
    return None


def num_classes_mistake(num) -> tuple[str, str] | None:
    """``num_classes`` other than 24 while the labels are right, as ``(mistake, fix)``; stated once for the
    judge and the self-check (both look at it only when the labels themselves are right)."""
    if num in (NUM_CLASSES, None):
        return None
    return (t("num_classes is {num}; the alphabet has 24 static letters (no J, no Z)", num=num),
            t("set num_classes = 24 (the labels are encoded right already: do not encode them again)"))


def judge_one_hot(obs, ref, models):
    mistakes = []
    for name, labels in (("y_train", ref.y_train), ("y_valid", ref.y_valid)):
        wrong = one_hot_mistake(name, obs[name], len(labels), obs.get("num_classes"))
        if wrong:
            mistakes.append(said(wrong))
        elif obs[name].get("argmax") != sha(np.ascontiguousarray(labels, dtype=np.uint8)):
            mistakes.append(t("{name} is not the one-hot encoding of the labels; {rerun}", name=name,
                              rerun=_encode_again(name)))
    if not mistakes and num_classes_mistake(obs.get("num_classes")):
        mistakes.append(said(num_classes_mistake(obs["num_classes"])))
    return mistakes


def scale_facts(value) -> dict:
    """What :func:`scale_mistake` reads of an image array: type, dtype, shape, min, max, and
    ``off_grid``: how far ``value * 255`` is from whole numbers at worst (None: not floats)."""
    facts, a = array_facts(value)
    worst = scaled_digest(a)[1] if a is not None else math.inf
    facts["off_grid"] = None if math.isinf(worst) else worst
    return facts


def _from_pixels(name: str) -> str:
    df = "train_df" if name == "x_train" else "valid_df"
    return t("rerun exercise 3's cell ({name} = {df}.values) to get the pixels back, then {name} = {name} / 255",
             name=name, df=df)


def scale_mistake(name: str, kind: str, dtype: str, top: float, bottom: float, off_grid: float | None = None,
                  peak: float | None = None, type_name: str = "ndarray") -> tuple[str, str] | None:
    """What is wrong with one array's scaling, as ``(mistake, fix)`` (None: floats in 0..1).

    Stated once: the grader's judge (:func:`judge_normalize`) and the learners' self-check
    (``asl_course.learners.checks.check_normalized``) both say these words. ``kind`` is the
    dtype's kind (``"f"``: floating), ``top`` and ``bottom`` the array's largest and smallest
    value, ``off_grid`` how far ``array * 255`` is from whole numbers at worst (None: not
    measured): the pixels divided by 255 are whole multiples of 1/255, so a value off that grid
    (``/ 256``, ``/ 127.5``) is a wrong divisor. ``peak``: the data's largest pixel (the grader's
    reference; the self-check's ``train_df``; None: not known), which names the divisor used.
    A fix never repeats a division on values already divided: it says where the pixels come back.
    ``type_name``: the value's type's name.
    """
    divide = f"{name} = {name} / 255"
    if type_name != "ndarray":
        return array_mistake(name, type_name)
    if top == 0 and bottom == 0:
        return t("{name} holds only zeros", name=name), _from_pixels(name)
    if kind != "f":
        if top <= 1:
            return (t("{name} holds {dtype} values {bottom:g}..{top:g}: integer division (//) dropped the fractions",
                      name=name, dtype=dtype, bottom=bottom, top=top),
                    t("{rerun} (/, not //)", rerun=_from_pixels(name)))
        return t("{name} is not divided by 255: it holds {dtype} values 0..255", name=name, dtype=dtype), divide
    if bottom < 0:
        return (t("{name} has negative values", name=name),
                t("divide by 255; do not subtract a mean: {rerun}", rerun=_from_pixels(name)))
    if top > 1.0 + 1e-6 and (peak is None or math.isclose(top, peak)) and float(top).is_integer():
        return t("{name} is not divided by 255: its values go up to {top:g}", name=name, top=top), divide
    twice = top * 255 * 255
    if 0 < top < 0.5 and math.isclose(twice, round(twice), abs_tol=1e-6) and twice <= 255:
        return (t("{name} goes up to only {top:g}: the pixels were scaled twice (divided by 255 twice)", name=name,
                  top=top),
                t("divide by 255 once: {rerun}", rerun=_from_pixels(name)))
    if dtype == "float16":
        return (t("{name} is float16, too coarse for the pixels / 255 (they are rounded)", name=name),
                t("{rerun} (float64; float32 is fine too)", rerun=_from_pixels(name)))
    if top > 1.0 + 1e-6 or (off_grid is not None and off_grid > 1e-3):
        if not peak:
            return (t("{name} is not divided by 255: its values are not whole multiples of 1/255 and go up to "
                      "{top:.4g}", name=name, top=top), _from_pixels(name))
        return (t("{name} is not divided by 255: its values are not whole multiples of 1/255 and go up to "
                  "{top:.4g} ({peak:g} / {divisor:.4g}: divided by {divisor:.4g}?)",
                  name=name, top=top, peak=peak, divisor=peak / top), _from_pixels(name))
    return None


def said(mistake: tuple[str, str]) -> str:
    """A ``(mistake, fix)`` pair as the grader's one sentence."""
    return f"{mistake[0]}; {mistake[1]}"


def judge_normalize(obs, ref, models):
    mistakes = []
    for name, n in (("x_train", len(ref.y_train)), ("x_valid", len(ref.y_valid))):
        f = obs[name]
        shape = f.get("shape")
        ref_x = ref.x_train if name == "x_train" else ref.x_valid
        scaling = scale_mistake(name, f.get("kind"), f.get("dtype"), f.get("max", 0), f.get("min", 0),
                                f.get("off_grid"), float(np.max(ref_x)) if len(ref_x) else None, f["type"])
        if shape is None or not shape or shape[0] != n or math.prod(shape) != n * N_PIXELS:
            mistakes.append(t("{name} has shape {shape}, expected ({n}, 784)", name=name, shape=tuple(shape or ()),
                              n=n))
        elif scaling:
            mistakes.append(said(scaling))
        elif f.get("scaled") != ref.digest(name):
            mistakes.append(t("{name} is not the pixels divided by 255", name=name))
    return mistakes


def array_mistake(name: str, type_name: str) -> tuple[str, str]:
    """An image array held as another type (a list, a tensor, a DataFrame), as ``(mistake, fix)``."""
    return t("{name} is a {type}, not a NumPy array", name=name, type=type_name), f"{name} = np.asarray({name})"


def reshape_mistake(name: str, shape, n: int | None = None, type_name: str = "ndarray") -> tuple[str, str] | None:
    """What is wrong with a reshaped image array of ``shape``, as ``(mistake, fix)`` (None: right).

    Stated once: the grader's judge (:func:`judge_reshape`) and the learners' self-check
    (``asl_course.learners.checks.check_reshaped``) both say these words. ``n``: the number of
    images it must hold (None: not checked); ``type_name``: the value's type's name.
    """
    if type_name != "ndarray":
        return array_mistake(name, type_name)
    shape = tuple(int(d) for d in (shape or ()))
    reshape = f"{name} = {name}.reshape(-1, 28, 28, 1)"
    if len(shape) == 3 and shape[1:] == (28, 28):
        return (t("{name} has shape {shape}: the channel axis is missing", name=name, shape=shape),
                t("Conv2D needs (images, height, width, channels): {reshape}", reshape=reshape))
    if len(shape) == 4 and shape[1:] == (1, 28, 28):
        return t("{name} has shape {shape}: the channel comes last in Keras", name=name, shape=shape), reshape
    if len(shape) != 4 or shape[1:] != (28, 28, 1):
        return (t("{name} has shape {shape}, not (N, 28, 28, 1)", name=name, shape=shape),
                t("{reshape} (-1 keeps the number of images)", reshape=reshape))
    if n is not None and shape[0] != n:
        return (t("{name} holds {got:,} images, not {n:,}", name=name, got=shape[0], n=n),
                t("use -1 as the first dimension so that the number of images stays the same: {reshape}",
                  reshape=reshape))
    return None


def judge_reshape(obs, ref, models):
    mistakes = []
    for name, n in (("x_train", len(ref.y_train)), ("x_valid", len(ref.y_valid))):
        f = obs[name]
        wrong = reshape_mistake(name, f.get("shape"), n, f["type"])
        if wrong:
            mistakes.append(said(wrong))
        elif f.get("scaled") != ref.digest(name):
            mistakes.append(said(order_mistake(name)))
    return mistakes


def order_mistake(name: str) -> tuple[str, str]:
    """An image array of the right shape whose pixels are not the normalised pixels in their order,
    as ``(mistake, fix)``: the grader sees it against its reference data, the self-check against
    the DataFrame the pixels came from."""
    df = "train_df" if name == "x_train" else "valid_df"
    return (t("{name} does not hold the normalised pixels in their order: reshape, do not transpose or rescale",
              name=name),
            t("start again from the pixels: {name} = {df}.values / 255, then {name} = {name}.reshape(-1, 28, 28, 1)",
              name=name, df=df))


# --- Repairs: the right values, so that the next exercise is graded on its own ---------------------


def repair_load_csv(ns, ref):
    import pandas as pd

    ns["train_df"] = pd.DataFrame(np.column_stack([ref.y_train, ref.x_train]).astype(np.int64), columns=COLUMNS)
    ns["valid_df"] = pd.DataFrame(np.column_stack([ref.y_valid, ref.x_valid]).astype(np.int64), columns=COLUMNS)


def repair_labels(ns, ref):
    import pandas as pd

    ns["y_train"] = pd.Series(ref.y_train, name="label")
    ns["y_valid"] = pd.Series(ref.y_valid, name="label")
    ns["train_df"] = pd.DataFrame(ref.x_train.astype(np.int64), columns=COLUMNS[1:])
    ns["valid_df"] = pd.DataFrame(ref.x_valid.astype(np.int64), columns=COLUMNS[1:])


def repair_images(ns, ref):
    ns["x_train"], ns["x_valid"] = ref.x_train.astype(np.int64), ref.x_valid.astype(np.int64)


def repair_one_hot(ns, ref):
    eye = np.eye(NUM_CLASSES)
    ns["y_train"], ns["y_valid"], ns["num_classes"] = eye[ref.y_train], eye[ref.y_valid], NUM_CLASSES


def repair_normalize(ns, ref):
    ns["x_train"], ns["x_valid"] = ref.x_train / 255, ref.x_valid / 255


def repair_reshape(ns, ref):
    ns["x_train"] = (ref.x_train / 255).reshape(-1, 28, 28, 1)
    ns["x_valid"] = (ref.x_valid / 255).reshape(-1, 28, 28, 1)


# --- Thinking: how balanced is the validation file? (predict_balance) ------------------------------

#: Each option, and what it would mean (said when it is chosen and the count says otherwise).
#: The options are what the learner writes (never translated); what they mean is (:func:`lookup`).
BALANCE_OPTIONS = {
    "equal": mark("that would put every letter within 10 % of the commonest letter's images"),
    "uneven": mark("that would keep the rarest letter above half of the commonest letter's images"),
    "lopsided": mark("that would put some letter below half of the commonest letter's images"),
}


def balance_answer(counts) -> tuple[str, str]:
    """The right option for the validation file's images per letter (``counts``, 24 numbers) and
    why, in words. The question is about the real release: on other data (the synthetic stand-in,
    balanced by construction, or a test's few rows) the answer is the release's
    (:data:`~.expected.RELEASE_VALID_COUNTS`), and the words say so."""

    counts = np.asarray(counts, dtype=np.int64)
    run = int(counts.sum())
    other = run != sum(RELEASE_VALID_COUNTS)
    counts = np.asarray(RELEASE_VALID_COUNTS, dtype=np.int64) if other else counts
    rare, common = int(counts.argmin()), int(counts.argmax())
    ratio = counts[rare] / counts[common]
    truth = "equal" if ratio >= 0.9 else ("uneven" if ratio >= 0.5 else "lopsided")
    facts = dict(rare=LETTERS[rare], rare_n=int(counts[rare]), common=LETTERS[common], common_n=int(counts[common]),
                 ratio=ratio, weight=f"{counts[common] / max(counts[rare], 1):.1f}")
    if other:
        return truth, t("in the real release (this run's validation data, {run:,} images, is not its {release:,}), "
                        "{rare} has {rare_n:,} validation images and {common} {common_n:,} (the rarest {ratio:.0%} "
                        "of the commonest), so {common} weighs {weight} times as much as {rare} in an accuracy over "
                        "the whole file: read each letter's accuracy too (notebook 5)",
                        run=run, release=sum(RELEASE_VALID_COUNTS), **facts)
    return truth, t("{rare} has {rare_n:,} validation images and {common} {common_n:,} (the rarest {ratio:.0%} of "
                    "the commonest), so {common} weighs {weight} times as much as {rare} in an accuracy over the "
                    "whole file: read each letter's accuracy too (notebook 5)", **facts)


def balance_mistake(value, type_name: str, counts) -> tuple[str, str] | None:
    """Stated once: the hidden test's judge and the self-check say these words."""

    truth, why = balance_answer(counts)
    return choice_mistake(value, type_name, {o: lookup(meaning) for o, meaning in BALANCE_OPTIONS.items()}, truth, why)


def obs_prediction(ns, ref, folder):

    return observe(ns)


def judge_predict_balance(obs, ref, models):
    mistake = balance_mistake(obs["value"], obs["type"], np.bincount(ref.y_valid, minlength=NUM_CLASSES))
    return [said(mistake)] if mistake else []
