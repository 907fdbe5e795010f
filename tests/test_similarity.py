"""``asl-course similarity``: normalisation, fingerprints, a simulated class, the too-short case, the page.

The notebooks are only read, never run: no TensorFlow, no nbgrader run; the whole file takes
seconds. The simulated class is tests/_similarity_class.py (30 honest notebook-5 students written
differently, and a pair that copied with other names, comments and line order).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

import _similarity_class as sc
from asl_course.grading.instructor import similarity as sim
from asl_course.tooling import cli

REPO = Path(__file__).resolve().parents[1]
NAMES = sim.Names({"np": "numpy", "Image": "PIL.Image"}, frozenset({"prepare_image", "top_k"}))


def tokens(source: str, **kw) -> list:
    return sim.normalise(source, NAMES, **kw).tokens


# --- Normalising ----------------------------------------------------------------------------------


def test_names_comments_docstrings_literals_and_layout_do_not_count():
    a = '''def top_k(probabilities, k=3):
    """The k best."""
    # sort, best first
    order = np.argsort(probabilities)[::-1][:k]
    return [(LETTERS[i], float(probabilities[i])) for i in order]
'''
    b = "def top_k(p,n = 5) :\n    idx=np.argsort( p )[::-1][:n]  # hm\n\n    return [ (abc[j],float(p[j])) for j in idx ]"
    assert tokens(a) == tokens(b)
    assert "numpy" in tokens(a) and "argsort" in tokens(a) and "float" in tokens(a)  # APIs and builtins stay
    assert tokens(a) != tokens(b.replace("argsort", "argpartition"))  # another answer is another answer


def test_independent_lines_in_any_order_are_one_answer_dependent_ones_are_not():
    first = "import string\nletters = list(string.ascii_uppercase)\nsize = (28, 28)\ndef f(x):\n    return x\n"
    moved = "def f(x):\n    return x\nsize = (28, 28)\nimport string\nletters = list(string.ascii_uppercase)\n"
    assert tokens(first) == tokens(moved)
    body = "def g(x):\n    a = x + 1\n    b = x * 2\n    return a - b\n"
    assert tokens(body) == tokens("def g(x):\n    b = x * 2\n    a = x + 1\n    return a - b\n")
    # a statement that reads what another writes keeps its place; one that changes an object too
    assert tokens("a = 1\nb = a + 1\n") != tokens("b = a + 1\na = 1\n")
    assert tokens("out = []\nout.append(1)\nn = len(out)\n") != tokens("out = []\nn = len(out)\nout.append(1)\n")
    assert tokens("x = f(1)\nreturn x\n") != tokens("return x\nx = f(1)\n")


def test_imports_by_module_and_the_release_starter_removed():
    assert tokens("import numpy as xp\ny = xp.argsort(p)") == tokens("import numpy as np\ny = np.argsort(p)")
    assert tokens("import numpy as xp\ny = xp.argsort(p)")[2:] == tokens("y = np.argsort(p)")
    stub = sim.release_drop("from PIL import Image\n\n# YOUR CODE HERE\nraise NotImplementedError()", NAMES)
    kept = tokens("from PIL import Image\n# YOUR CODE HERE\ndef prepare_image(path):\n    return Image.open(path)\n",
                  drop=stub)
    assert kept == tokens("def prepare_image(p):\n    return Image.open(p)")
    assert "import" not in kept and "NotImplementedError" not in tokens("raise NotImplementedError()", drop=stub)


def test_magics_and_broken_cells_are_still_read():
    answer = sim.normalise("if True:\n    %pip install x\n!ls\ny = np.argsort(p)\n", NAMES)
    assert answer.parsed and tokens("y = np.argsort(p)")[0] in answer.tokens
    broken = sim.normalise("def top_k(p, k=3)\n    return np.argsort(p)[:k]  # no colon\n", NAMES)
    assert not broken.parsed and broken.tokens[:2] == ["def", "F"] and "argsort" in broken.tokens


def test_a_hostile_answer_is_read_as_text_and_stops_nothing():
    deep = sim.normalise("x = " + "-" * 30000 + "1", NAMES)  # the parser runs out of memory / recursion
    assert not deep.parsed and deep.tokens[:2] == ["V", "="] and len(deep.tokens) == 30003
    chain = sim.normalise("y = " + "+".join(["a"] * 5000), NAMES)  # parses, too deep to write back
    assert not chain.parsed and chain.tokens.count("+") == 4999
    long = "def f(x):\n" + "".join(f"    v{i} = x.m{i}()\n" for i in range(sim.MAX_REORDER + 1))
    written = sim.normalise(long, NAMES).tokens  # too long to reorder: kept as written (sorted, m10 < m2)
    assert written.index("m2") < written.index("m10")
    short = sim.normalise(long.replace(f"    v{sim.MAX_REORDER} = x.m{sim.MAX_REORDER}()\n", ""), NAMES).tokens
    assert short.index("m2") > short.index("m10")


def test_winnowing_keeps_one_fingerprint_in_every_window_and_is_the_same_on_every_run():
    hashes = sim.kgram_hashes([str(i % 7) for i in range(60)], 4)
    kept = sim.winnow(hashes, 3)
    assert kept == sorted(set(kept))
    assert all(any(start <= p < start + 3 for p in kept) for start in range(len(hashes) - 2))
    code = ("from asl_course.grading.instructor import similarity as s; "
            "print(sorted(s.fingerprints(s.normalise('def f(a):\\n    return a.argsort()[::-1][:3]', s.Names()), 4, 2)))")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(runs) == 1  # Python's hash() is salted per process: BLAKE2b is not


# --- The simulated class --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return sc.write_course(tmp_path_factory.mktemp("class"), sc.make_class(0))


@pytest.fixture(scope="module")
def report(course):
    return sim.similarity_report(course, sc.ASSIGNMENT, sim.load_settings(course))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_copied_pair_is_first_and_no_honest_pair_is_flagged_in_other_classes(tmp_path, seed):
    root = sc.write_course(tmp_path, sc.make_class(seed), broken=False)
    check_class(sim.similarity_report(root, sc.ASSIGNMENT, sim.Similarity()))


def test_the_copied_pair_is_first_and_no_honest_pair_is_flagged(report):
    check_class(report)
    assert [(s, why.split(":")[1].strip()) for s, why in sorted(report.problems.items())] == [
        (sc.HOSTILE_ID, "not valid JSON (Unterminated string starting at"), ("s_empty", "the file is empty (0 bytes)")]
    assert len(report.students) == 32


def check_class(report):
    first, *others = report.pairs
    assert sc.is_copied(first), f"the copied pair ranks {[sc.is_copied(p) for p in report.pairs].index(True) + 1}"
    true, flagged = sc.precision(report)
    highest_honest = max(p.score for p in others)
    print(f"copied pair {first.score:.2f}, highest honest pair {highest_honest:.2f}, precision {true}/{flagged}")
    assert (true, flagged) == (1, 1), [(p.a, p.b, round(p.score, 2)) for p in report.flagged]
    assert set(first.exercises) >= {"prepare_image", "predict_letter", "top_k"}
    # the class does hold honest students who wrote one function alike (the case the report must not flag)
    assert any(d["score"] >= 0.95 for p in others for d in p.exercises.values())
    # the one-liner is named as too short, not compared
    assert not report.exercises["load_model"]["compared"] and "too short to tell" in report.exercises["load_model"]["note"]


def test_a_notebook_without_nbgrader_metadata_is_named_and_the_rest_compared(tmp_path):
    students = {k: v for k, v in sc.make_class(3).items() if k in ("s00", "s01", sc.ORIGINAL, sc.COPIER)}
    root = sc.write_course(tmp_path, students, broken=False)
    path = root / "submitted" / "s01" / sc.ASSIGNMENT / f"{sc.ASSIGNMENT}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    nbformat.write(nb, path)
    (root / "submitted" / "s02" / sc.ASSIGNMENT).mkdir(parents=True)
    report = sim.similarity_report(root, sc.ASSIGNMENT, sim.Similarity())
    assert "asl-course repair 05_predictions" in report.problems["s01"]
    assert "no .ipynb" in report.problems["s02"]
    assert report.students == ["s00", sc.COPIER, sc.ORIGINAL] and sc.is_copied(report.pairs[0])


# --- Notebook 1: too short to tell ------------------------------------------------------------------


def test_one_liners_are_too_short_to_tell(tmp_path, capsys):
    assignment = "01_prepare_data"
    release = nbformat.read(REPO / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    solution = sim.answer_sources(nbformat.read(REPO / "source" / assignment / f"{assignment}.ipynb", as_version=4))
    (tmp_path / "release" / assignment).mkdir(parents=True)
    nbformat.write(release, tmp_path / "release" / assignment / f"{assignment}.ipynb")
    renames = [{}, {"train_df": "train"}, {"valid_df": "val", "y_train": "labels"}, {"train_df": "df"}]
    for n, rename in enumerate(renames + renames[:1]):  # the last one copied the first
        nb = nbformat.read(REPO / "release" / assignment / f"{assignment}.ipynb", as_version=4)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution") and gid in solution:
                text = solution[gid].replace("### BEGIN SOLUTION\n", "").replace("### END SOLUTION", "")
                for old, new in rename.items():
                    text = text.replace(old, new)
                cell.source = text
        (tmp_path / "submitted" / f"s{n}" / assignment).mkdir(parents=True)
        nbformat.write(nb, tmp_path / "submitted" / f"s{n}" / assignment / f"{assignment}.ipynb")
    assert cli.main(["similarity", assignment, "--course", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "answers too short to tell anything" in out and "flagged" not in out.split("\n", 1)[1]
    page = (tmp_path / "similarity" / f"{assignment}.html").read_text()
    assert "answers too short to tell anything" in page and "Pairs, most similar first" not in page


# --- The command and the page ------------------------------------------------------------------------


def test_the_command_writes_the_page_and_the_ranking(course, tmp_path, capsys):
    page, ranking = tmp_path / "report.html", tmp_path / "ranking.json"
    assert cli.main(["similarity", sc.ASSIGNMENT, "--course", str(course), "--html", str(page),
                     "--json", str(ranking)]) == 0
    out = capsys.readouterr().out
    assert "1 pair(s) flagged" in out and f"left out {sc.HOSTILE_ID}: " in out
    assert "exercise load_model: 32 answers" in out and "too short to tell" in out
    data = json.loads(ranking.read_text())
    assert {*data["flagged"][0]} == {sc.ORIGINAL, sc.COPIER} and len(data["pairs"]) == 32 * 31 // 2
    assert page.is_file()


def test_settings_come_from_the_course_config_then_the_options(course, tmp_path, capsys):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.Similarity.threshold = 0.3\n")
    assert sim.load_settings(tmp_path).threshold == 0.3
    assert sim.load_settings(tmp_path, threshold=0.9, shown=None).threshold == 0.9
    assert sim.Similarity().threshold == 0.8  # the default, stated once
    assert cli.main(["similarity", sc.ASSIGNMENT, "--course", str(course), "--threshold", "2"]) == 2
    assert "between 0 and 1" in capsys.readouterr().err
    assert cli.main(["similarity", sc.ASSIGNMENT, "--course", str(tmp_path)]) == 2
    assert "no submitted/ folder" in capsys.readouterr().err


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attributes, self.text = set(), set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}

    def handle_data(self, data):
        self.text.append(data)


def test_the_page_shows_hostile_code_as_text(report):
    page = sim.to_html(report)
    parsed = _Tags()
    parsed.feed(page)
    assert parsed.tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "ul", "li", "table",
                           "tr", "th", "td", "a", "div", "b", "pre", "span"}
    assert parsed.attributes <= {"charset", "http-equiv", "content", "lang", "class", "href", "id"}
    assert "script" not in parsed.tags and "<script" not in page.lower()
    text = "".join(parsed.text)
    assert sc.HOSTILE_COMMENT in text and sc.HOSTILE_ID in text  # shown, as text
    assert "default-src 'none'" in page
    # the copied pair is shown side by side, its shared lines marked
    assert f"{min(sc.ORIGINAL, sc.COPIER)} ~ {max(sc.ORIGINAL, sc.COPIER)}: 1.00 (flagged)" in text
    assert page.count('class="line shared"') > 20


def _answer(tag: str) -> str:
    return (f"def f(v):\n    a = v.alpha_{tag}(v, axis=1)\n    b = a.beta_{tag}()\n"
            f"    return [x.gamma_{tag}(y) for x, y in zip(a, b)]\n")


def test_what_two_students_alone_share_weighs_more_than_what_four_share():
    rare = {"e1": _answer("rare"), "e2": None}
    common = {"e1": _answer("common"), "e2": None}
    answers = {f"s{n}": dict(rare if n < 2 else common if n < 6 else {"e1": _answer(f"own{n}")}) for n in range(10)}
    for student, found in answers.items():
        found["e2"] = _answer(f"e2{student}")  # everyone wrote e2 their own way
    report = sim.compare("x", answers, (sim.Names(), {}, []), sim.Similarity(window=1))  # every k-gram: equal counts
    score = {(p.a, p.b): p.score for p in report.pairs}
    assert score["s0", "s1"] > score["s2", "s3"] > 0 and score["s0", "s2"] == 0
    assert report.exercises["e1"]["compared"] and not report.flagged  # half alike is not copying
