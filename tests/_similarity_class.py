"""A simulated class of notebook 5 hand-ins for ``asl-course similarity`` (tests/test_similarity.py).

Each function notebook 5 asks for has several genuinely different implementations (PIL, Keras'
image utilities or tf.io to load a picture; argsort, argpartition, sorted, heapq or a loop for
the top 3; ...), most with a detail or two that people write either way. An honest student is
drawn at random: an implementation and its details per exercise, a naming style of their own,
comments or none, docstrings or none, quotes, blank lines, independent lines in either order.
Two honest students may draw the same implementation of a function (as real students write the
same obvious code): the report must not flag them. The copier (``COPIER``) takes the
``ORIGINAL``'s answers whole, the same implementations and details, and writes them in a style
of their own: other names, other comments, independent lines in another order.

``python tests/_similarity_class.py [SEEDS]`` builds a class per seed and prints each one's
ranking and the precision of the flags (the figures the README quotes).
"""

from __future__ import annotations

import copy
import random
import sys
from pathlib import Path

import nbformat

ASSIGNMENT = "05_predictions"
ORIGINAL, COPIER = "s_original", "s_copier"
#: A student whose id and comments carry HTML: the report must show them as text.
HOSTILE_COMMENT = "# </pre><script>alert('copied')</script><img src=x onerror=alert(1)>"
HOSTILE_ID = "bad<img src=x onerror=alert(1)>"
REPO = Path(__file__).resolve().parents[1]

NAMES = {
    "path": ["path", "filename", "file_path", "fname", "image_path", "img_path", "picture", "p", "fp", "filePath"],
    "img": ["img", "image", "im", "pic", "photo", "gray", "g", "pilImg", "picture_obj", "grey"],
    "arr": ["arr", "pixels", "x", "data", "array", "values", "img_array", "a", "pixelArray", "out_arr"],
    "probs": ["probs", "probabilities", "preds", "pred", "scores", "p", "y", "output", "softmax_out", "predProbs"],
    "idx": ["idx", "index", "i", "best", "top", "pos", "j", "label_index", "best_index", "argmax_i"],
    "k": ["k", "n", "top_n", "count", "num", "how_many"],
    "order": ["order", "indices", "ids", "top_idx", "ranking", "ranked", "best_ids", "sel"],
    "cm": ["cm", "matrix", "conf", "confusion", "conf_mat", "m", "C"],
    "letters": ["LETTERS", "letters", "ALPHABET", "CLASS_NAMES", "labels", "alphabet", "LABELS", "abc"],
    "res": ["result", "res", "out", "answer", "ret", "top_list", "output_list", "lst"],
    "tot": ["totals", "row_sums", "counts", "per_row", "n_images", "denom"],
    "ok": ["correct", "hits", "diag", "right", "tp", "on_diag"],
}
COMMENTS = [
    "open the file", "grayscale", "28x28 like training", "scale to 0..1", "add batch dim", "predict",
    "most likely class", "sort descending", "take the best ones", "per class accuracy", "the alphabet without J and Z",
    "TODO check this", "works", "from the lecture", "same as notebook 1", "loop over rows", "convert",
]


class Student:
    """A student: their choices (what they write) and their style (how they write it)."""

    def __init__(self, rng: random.Random, choices: dict | None = None):
        self.rng = rng
        self.names = {concept: rng.choice(pool) for concept, pool in NAMES.items()}
        if self.names["probs"] == self.names["path"]:  # one student, one name per thing
            self.names["probs"] = "probs_" + self.names["probs"]
        self.comment_rate = rng.choice([0.0, 0.0, 0.2, 0.5, 0.8])
        self.docstrings = rng.random() < 0.4
        self.q = rng.choice(['"', "'"])
        self.blank = rng.random() < 0.5
        self.keep_stub = rng.random() < 0.3
        self.choices = choices if choices is not None else {}
        #: None: independent lines in a random order; "written": as the template lists them; "reversed".
        self.group_order = None

    def pick(self, key: str, options):
        """The student's choice ``key`` among ``options`` (drawn once, then kept: a copier reuses it)."""
        if key not in self.choices:
            self.choices[key] = self.rng.randrange(len(options))
        return options[self.choices[key]]

    def group(self, *blocks) -> list:
        """Independent lines (or blocks): in the student's own order."""
        blocks = list(blocks)
        if self.group_order:
            return blocks[::-1] if self.group_order == "reversed" else blocks
        self.rng.shuffle(blocks)
        return blocks


def _render(student: Student, lines) -> str:
    out = []
    for item in lines:
        if isinstance(item, list):
            out.append(_render(student, item))
            continue
        line = item.format(q=student.q, **student.names)
        if line.strip() and student.rng.random() < student.comment_rate and not line.rstrip().endswith(":"):
            line += "  # " + student.rng.choice(COMMENTS)
        out.append(line)
    return "\n".join(out)


def _doc(student: Student, text: str, indent: str = "    ") -> list:
    return [f'{indent}"""{text}"""'] if student.docstrings else []


def load_model(st: Student) -> list:
    return st.pick("load_model", [
        ["model = keras.models.load_model({q}asl_model.keras{q})"],
        ["model = keras.saving.load_model({q}asl_model.keras{q})"],
        ["from keras.models import load_model", "", "model = load_model({q}asl_model.keras{q})"],
        ["MODEL_FILE = {q}asl_model.keras{q}", "model = keras.models.load_model(MODEL_FILE)", "model.summary()"],
    ])


def prepare_image(st: Student) -> list:
    scale = st.pick("scale", ["255", "255.0", "255.", "float(255)"])
    size = st.pick("size", ["(28, 28)", "SIZE"])
    batch = st.pick("batch", ["{arr}.reshape(1, 28, 28, 1)", "{arr}.reshape((1, 28, 28, 1))",
                              "{arr}[np.newaxis, :, :, np.newaxis]", "{arr}.reshape(-1, 28, 28, 1)",
                              "np.expand_dims(np.expand_dims({arr}, -1), 0)"])
    gray = st.pick("gray", ["{img}.convert({q}L{q})", "ImageOps.grayscale({img})"])
    head = ["def prepare_image({path}):"] + _doc(st, "Load a picture as a (1, 28, 28, 1) batch in 0..1.")
    body = st.pick("prepare_image", [
        st.pick("p1", [[f"    {{img}} = Image.open({{path}}).convert({{q}}L{{q}}).resize({size})"],
                       ["    {img} = Image.open({path})", f"    {{img}} = {gray}.resize({size})"]]) +
        [f"    {{arr}} = np.asarray({{img}}, dtype={st.pick('dtype', ['{q}float32{q}', 'np.float32'])}) / {scale}",
         f"    return {batch}"],
        ["    {img} = Image.open({path})", f"    {{img}} = {gray}", f"    {{img}} = {{img}}.resize({size})",
         st.pick("p2arr", ["    {arr} = np.array({img}).astype(np.float32)", "    {arr} = np.array({img}, dtype=float)"]),
         st.pick("p2div", [f"    {{arr}} = {{arr}} / {scale}", f"    {{arr}} /= {scale}"]),
         f"    {{arr}} = {batch}", "    return {arr}"],
        [st.pick("p3load", [f"    {{img}} = keras.utils.load_img({{path}}, color_mode={{q}}grayscale{{q}}, target_size={size})",
                            f"    {{img}} = keras.utils.load_img({{path}}, target_size={size}, color_mode={{q}}grayscale{{q}})",
                            f"    {{img}} = keras.preprocessing.image.load_img({{path}}, color_mode={{q}}grayscale{{q}}, "
                            f"target_size={size})"]),
         f"    {{arr}} = keras.utils.img_to_array({{img}}) / {scale}",
         st.pick("p3batch", ["    return np.expand_dims({arr}, axis=0)", "    return {arr}[None]",
                             "    return {arr}.reshape(1, 28, 28, 1)", "    return np.array([{arr}])"])],
        ["    with Image.open({path}) as {img}:",
         f"        {{img}} = ImageOps.grayscale({{img}}).resize({size}, Image.BILINEAR)",
         st.pick("p4arr", ["        {arr} = np.asarray({img}, dtype=np.float32)", "        {arr} = np.array({img}) * 1.0"]),
         st.pick("p4ret", [f"    return ({{arr}} / {scale}).reshape(-1, 28, 28, 1)",
                           f"    {{arr}} = {{arr}} / {scale}", f"    {{arr}} /= {scale}"]),
         *([] if st.choices.get("p4ret", 0) == 0 else [f"    return {batch}"])],
        ["    raw = tf.io.read_file({path})",
         st.pick("p5dec", ["    {img} = tf.io.decode_image(raw, channels=1, expand_animations=False)",
                           "    {img} = tf.image.decode_png(raw, channels=1)"]),
         st.pick("p5size", ["    {img} = tf.image.resize({img}, [28, 28])", f"    {{img}} = tf.image.resize({{img}}, {size})"]),
         st.pick("p5cast", [f"    {{img}} = tf.cast({{img}}, tf.float32) / {scale}", f"    {{img}} = {{img}} / {scale}"]),
         st.pick("p5ret", ["    return tf.expand_dims({img}, 0).numpy()", "    return {img}.numpy()[None, ...]",
                           "    return np.expand_dims({img}.numpy(), axis=0)"])],
        st.group(f"    {{img}} = Image.open({{path}}).convert({{q}}L{{q}}).resize({size})",
                 st.pick("p6zeros", ["    {arr} = np.zeros((1, 28, 28, 1), dtype=np.float32)",
                                     "    {arr} = np.zeros((1, 28, 28, 1))"])) +
        ["    for r in range(28):", "        for c in range(28):",
         st.pick("p6pix", [f"            {{arr}}[0, r, c, 0] = {{img}}.getpixel((c, r)) / {scale}",
                           f"            {{arr}}[0][r][c][0] = {{img}}.getpixel((c, r)) / {scale}"]),
         "    return {arr}"],
    ])
    imports = ["from PIL import Image"] if (st.keep_stub or st.choices["prepare_image"] in (0, 1, 3, 5)) else []
    if "ImageOps" in "\n".join(body):
        imports = st.group("from PIL import Image", "from PIL import ImageOps")
    if size == "SIZE":
        imports = st.group(*imports, "SIZE = (28, 28)")
    return imports + ([""] if imports else []) + head + body


def predict_letter(st: Student) -> list:
    letters = st.pick("letters", [
        ["{letters} = {q}ABCDEFGHIKLMNOPQRSTUVWXY{q}"],
        ["import string", "{letters} = [c for c in string.ascii_uppercase if c not in {q}JZ{q}]"],
        ["{letters} = list({q}ABCDEFGHIKLMNOPQRSTUVWXY{q})"],
        ["{letters} = [chr(ord({q}A{q}) + i) for i in range(26) if chr(ord({q}A{q}) + i) not in ({q}J{q}, {q}Z{q})]"],
        ["{letters} = {q}ABCDEFGHIJKLMNOPQRSTUVWXYZ{q}.replace({q}J{q}, {q}{q}).replace({q}Z{q}, {q}{q})"],
    ])
    conf = st.pick("float", ["float({probs}[{idx}])", "{probs}[{idx}].item()", "round(float({probs}[{idx}]), 4)"])
    verbose = st.pick("verbose", [", verbose=0", ""])
    first = st.pick("first", ["[0]", ".squeeze()", "[0, :]", ".ravel()"])
    batch = st.pick("batch_in", [["    x = prepare_image({path})"], []])
    given = "x" if batch else "prepare_image({path})"
    ret = st.pick("ret", [[f"    return {{letters}}[{{idx}}], {conf}"],
                          ["    letter = {letters}[{idx}]", f"    return letter, {conf}"]])
    body = st.pick("predict_letter", [
        batch + [f"    {{probs}} = model.predict({given}{verbose}){first}",
                 st.pick("l1idx", ["    {idx} = int({probs}.argmax())", "    {idx} = int(np.argmax({probs}))"])] + ret,
        ["    batch = prepare_image({path})", f"    {{probs}} = model(batch).numpy(){first}",
         "    {idx} = np.argmax({probs})"] + ret,
        batch + [f"    {{probs}} = model.predict({given}{verbose}){first}",
                 "    best_i, best_p = 0, -1.0", "    for {idx}, value in enumerate({probs}):",
                 "        if value > best_p:", "            best_i, best_p = {idx}, value",
                 "    return {letters}[best_i], float(best_p)"],
        batch + [f"    {{probs}} = model.predict({given}{verbose})",
                 "    {idx} = {probs}.argmax(axis=1)[0]", "    confidence = {probs}[0, {idx}]",
                 st.pick("l4ret", ["    return {letters}[{idx}], float(confidence)",
                                   "    return ({letters}[{idx}], confidence.item())"])],
        batch + [f"    {{probs}} = model.predict({given}{verbose}){first}",
                 "    {idx} = max(range(len({probs})), key=lambda j: {probs}[j])"] + ret,
    ])
    function = "\n".join(["def predict_letter({path}):"] + _doc(st, "Letter and probability.") + body)
    return st.group("\n".join(letters), function)


def top_k(st: Student) -> list:
    default = st.pick("default", ["{k}=3", "{k}"])
    head = [f"def top_k({{probs}}, {default}):"] + _doc(st, "The k best letters with their probabilities.")
    pair = st.pick("pair", ["({letters}[i], float({probs}[i]))", "({letters}[i], {probs}[i].item())",
                            "({letters}[int(i)], float({probs}[i]))"])
    build = st.pick("build", [[f"    return [{pair} for i in {{order}}]"],
                              ["    {res} = []", "    for i in {order}:", f"        {{res}}.append({pair})",
                               "    return {res}"],
                              [f"    {{res}} = [{pair} for i in {{order}}]", "    return {res}"]])
    body = st.pick("top_k", [
        [st.pick("t1", ["    {order} = np.argsort({probs})[::-1][:{k}]", "    {order} = np.argsort({probs})[-{k}:][::-1]",
                        "    {order} = list(reversed(np.argsort({probs})))[:{k}]"])] + build,
        [st.pick("t2", ["    {order} = np.argsort(-{probs})[:{k}]", "    {order} = (-{probs}).argsort()[:{k}]",
                        "    {order} = np.argsort(-np.asarray({probs}))[:{k}]"])] + build,
        ["    {order} = np.argpartition({probs}, -{k})[-{k}:]",
         st.pick("t3", ["    {order} = {order}[np.argsort({probs}[{order}])[::-1]]",
                        "    {order} = sorted({order}, key=lambda i: -{probs}[i])"])] + build,
        [st.pick("t4", ["    ranked = sorted(enumerate({probs}), key=lambda t: t[1], reverse=True)",
                        "    ranked = sorted(enumerate({probs}), key=lambda t: -t[1])",
                        "    ranked = sorted(zip(range(len({probs})), {probs}), key=lambda t: t[1], reverse=True)"]),
         st.pick("t4ret", ["    return [({letters}[i], float(v)) for i, v in ranked[:{k}]]",
                           "    return [({letters}[i], v.item()) for (i, v) in ranked[0:{k}]]"])],
        ["    {order} = heapq.nlargest({k}, range(len({probs})), key=lambda i: {probs}[i])"] + build,
        st.group("    remaining = np.array({probs}, dtype=float)", "    {res} = []") +
        ["    for _ in range({k}):", "        i = int(np.argmax(remaining))", f"        {{res}}.append({pair})",
         st.pick("t6", ["        remaining[i] = -np.inf", "        remaining[i] = -1"]), "    return {res}"],
    ])
    return (["import heapq", ""] if st.choices["top_k"] == 4 else []) + head + body


def accuracy_per_letter(st: Student) -> list:
    head = ["def accuracy_per_letter({cm}):"] + _doc(st, "Diagonal over row sums.")
    return head + st.pick("accuracy", [
        ["    return {cm}.diagonal() / {cm}.sum(axis=1)"],
        ["    return np.diag({cm}) / {cm}.sum(1)"],
        st.group("    {tot} = {cm}.sum(axis=1)", "    {ok} = np.diag({cm})") + ["    return {ok} / {tot}"],
        ["    return np.array([{cm}[i, i] / {cm}[i].sum() for i in range(len({cm}))])"],
        ["    acc = []", "    for i in range({cm}.shape[0]):", "        acc.append({cm}[i][i] / np.sum({cm}[i]))",
         "    return np.array(acc)"],
    ])


EXERCISES = {"load_model": load_model, "prepare_image": prepare_image, "predict_letter": predict_letter,
             "top_k": top_k, "accuracy_per_letter": accuracy_per_letter}


def answers_of(student: Student) -> dict:
    """``{grade_id: cell source}`` of one student."""
    out = {}
    for grade_id, make in EXERCISES.items():
        text = _render(student, make(student))
        if student.keep_stub:
            text = "# YOUR CODE HERE\n" + text
        if not student.blank:
            text = "\n".join(line for line in text.splitlines() if line.strip())
        out[grade_id] = text
    return out


def make_class(seed: int = 0, honest: int = 30) -> dict:
    """``{student: answers}``: ``honest`` students, the original and the copier."""
    rng = random.Random(seed)
    students = {f"s{n:02d}": answers_of(Student(random.Random(rng.random()))) for n in range(honest)}
    original = Student(random.Random(rng.random()))
    original.group_order = "written"
    students[ORIGINAL] = answers_of(original)
    students[ORIGINAL]["prepare_image"] = HOSTILE_COMMENT + "\n" + students[ORIGINAL]["prepare_image"]
    copier = Student(random.Random(rng.random()), choices=copy.deepcopy(original.choices))
    copier.group_order = "reversed"
    students[COPIER] = answers_of(copier)
    return students


def write_course(root: Path, students: dict, *, broken=True) -> Path:
    """A course folder: the release of notebook 5 and ``submitted/<student>/05_predictions/``."""
    release = nbformat.read(REPO / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    (root / "release" / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
    nbformat.write(release, root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    for student, answers in students.items():
        nb = copy.deepcopy(release)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
                cell.source = answers[grade_id]
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")
    if broken:
        for student, content in ((HOSTILE_ID, '{"cells": [{"cell_type": "code", "sou'), ("s_empty", "")):
            folder = root / "submitted" / student / ASSIGNMENT
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{ASSIGNMENT}.ipynb").write_text(content)
    return root


COPIED = frozenset({ORIGINAL, COPIER})


def is_copied(pair) -> bool:
    return {pair.a, pair.b} == COPIED


def precision(report) -> tuple[int, int]:
    """(flagged pairs that copied, flagged pairs)."""
    return sum(1 for pair in report.flagged if is_copied(pair)), len(report.flagged)


def main(seeds) -> None:
    import tempfile

    from asl_course.grading.instructor import similarity

    right = total = caught = 0
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            root = write_course(Path(tmp), make_class(seed), broken=False)
            report = similarity.similarity_report(root, ASSIGNMENT, similarity.Similarity())
        true, flagged = precision(report)
        right, total, caught = right + true, total + flagged, caught + true
        honest = max((p.score for p in report.pairs if not is_copied(p)), default=0)
        rank, copied = next((n, p.score) for n, p in enumerate(report.pairs, 1) if is_copied(p))
        print(f"seed {seed}: copied pair {copied:.2f} (rank {rank}), highest honest pair {honest:.2f}, "
              f"flagged {flagged} ({true} copied)")
    print(f"{len(seeds)} classes of 32: precision {right}/{total}, copied pairs caught {caught}/{len(seeds)}")


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or list(range(20)))
