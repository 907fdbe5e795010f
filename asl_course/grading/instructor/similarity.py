"""Similar answers in a class's hand-ins: ``asl-course similarity ASSIGNMENT``.

Only the answer cells count (nbgrader's solution cells, by ``grade_id``), each compared with the
same exercise of every other student. Each answer is normalised before it is compared, so that
what a copier changes cheaply changes nothing:

- comments, docstrings, blank lines and formatting are gone (the code is parsed, then written
  back by :func:`ast.unparse`);
- names by role: a variable or parameter is ``V``, a function the exercise asks for (one the
  release calls) or the student defines is ``F``; an imported name is its module's path
  (``np`` and ``xp`` alike are ``numpy``); builtins, attributes and keyword names are kept
  (``np.argsort`` and ``np.argpartition`` are different answers);
- literals by class: a string is ``S``, a number ``N``;
- independent statements in a canonical order: in each block, statements that neither read
  nor write what the others write may be swapped without changing the program; they are put
  in the order of their normalised text (a topological order of the block's dependencies that
  picks the smallest text first), so a copier's reordering of independent lines is undone;
- the release's starter code is removed: a statement of the release's answer cell (``from PIL
  import Image``, ``raise NotImplementedError()``) is dropped, and a fingerprint that occurs
  anywhere in the release's code is ignored.

Each answer becomes a set of fingerprints: hashes of every ``kgram`` consecutive tokens,
winnowed (the smallest hash of every ``window`` consecutive ones, Schleimer, Wilkerson and
Aiken, SIGMOD 2003: any shared run of ``kgram + window - 1`` tokens is found). The hashes are
BLAKE2b, so a class gives the same report on every run. (copydetect, the maintained Python
implementation of this scheme, was not used: it hashes with Python's ``hash()``, salted per
process, so its fingerprints and scores change from run to run; it tokenises text with
Pygments, which cannot reorder statements; importing it imports matplotlib's pyplot; and the
part of it this needs is the dozen lines of :func:`winnow`.)

A fingerprint shared by more than ``boilerplate`` of the class (and by at least 3 students) is
the course's boilerplate and is ignored; the others weigh ``log(class / students who have it)``
(:func:`weight`): two students who alone wrote the same thing are what the report looks for, the
answer a fifth of the class found counts less. A pair's score pools its compared
exercises: the weighted shared fingerprints over the fingerprints of the shorter of the two
answers, summed over exercises (longer answers weigh more). An exercise counts for a pair only
where both answers have at least ``min_tokens`` distinct normalised tokens; one whose median
answer is shorter is reported as too short to tell (notebook 1's one-liners: everyone writes
the same line), and a class where every exercise is too short gets that sentence and no ranking.

Notebooks that cannot be read get one line each (the reason, from
:func:`asl_course.grading.instructor.repair.read_submission`) and the report goes on without
them. The HTML report escapes everything taken from a submission (names, code): it contains no
script, and its Content-Security-Policy forbids any.
"""

from __future__ import annotations

import ast
import builtins
import copy
import dataclasses
import functools
import hashlib
import heapq
import html
import io
import keyword
import math
import re
import statistics
import tokenize
from itertools import combinations
from pathlib import Path

from nbformat import from_dict
from traitlets import Float, Integer
from traitlets.config import Configurable
from traitlets.config.loader import PyFileConfigLoader

from asl_course.errors import UserError, one_line
from asl_course.grading import cells
from asl_course.grading.instructor.repair import Refused, read_submission, release_notebook


class Similarity(Configurable):
    """The report's settings: ``c.Similarity.threshold = 0.7`` in ``nbgrader_config.py``, or the options."""

    kgram = Integer(12, help="Tokens per fingerprinted k-gram (after normalisation).").tag(config=True)
    window = Integer(3, help="Winnowing window: the smallest hash of each run of this many k-grams is kept.").tag(
        config=True)
    threshold = Float(0.8, help="A pair at or above this score (0..1: the share of the shorter answers' "
                                "fingerprints found in the other's, rarer ones weighing more) is flagged.").tag(config=True)
    boilerplate = Float(0.5, help="A fingerprint found in more than this share of the class (and in at least 3 "
                                  "students) is boilerplate and ignored.").tag(config=True)
    min_tokens = Integer(30, help="An answer with fewer distinct normalised tokens is too short to tell copying "
                                  "from the one obvious answer; an exercise whose median answer is shorter is "
                                  "left out.").tag(config=True)
    shown = Integer(10, help="Pairs shown side by side in the HTML report (every flagged pair, at least).").tag(
        config=True)


def load_settings(course: Path, **overrides) -> Similarity:
    """The course's settings (its ``nbgrader_config.py``, if any), then ``overrides`` that are not None."""
    config = None
    if (Path(course) / "nbgrader_config.py").is_file():
        try:
            config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        except Exception as exc:  # noqa: BLE001 - the instructor's own file: say what failed
            raise UserError(f"{course}/nbgrader_config.py could not be read ({one_line(exc)}): fix it, or pass "
                            "--course to another folder") from None
    settings = Similarity(config=config)
    for name, value in overrides.items():
        if value is not None:
            setattr(settings, name, value)
    if not 0 < settings.threshold <= 1 or not 0 < settings.boilerplate <= 1:
        raise UserError("--threshold and the boilerplate share are between 0 and 1 (e.g. --threshold 0.6)")
    if settings.kgram < 1 or settings.window < 1 or settings.min_tokens < 1:
        raise UserError("kgram, window and min_tokens are whole numbers of at least 1")
    return settings


# --- Normalising one answer ---------------------------------------------------------------------------

_BUILTINS = frozenset(dir(builtins))
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9]*|\d+|\*\*=?|//=?|->|:=|[<>=!]=|<<=?|>>=?|[-+*/%&|^@]=|\S")
_STOP = (ast.Return, ast.Raise, ast.Break, ast.Continue, ast.Global, ast.Nonlocal, ast.Yield, ast.YieldFrom,
         ast.Await)
#: Blocks longer than this keep their order (finding the independent statements takes their square).
MAX_REORDER = 100
#: An answer is read up to this many characters (a hostile cell of megabytes stops nothing).
MAX_ANSWER_CHARS = 100_000
_BODIES = ("body", "orelse", "finalbody")


@dataclasses.dataclass
class Names:
    """How names are written: ``aliases`` (name -> module path) and ``functions`` (written ``F``)."""

    aliases: dict = dataclasses.field(default_factory=dict)
    functions: frozenset = frozenset()


@dataclasses.dataclass
class Answer:
    """One answer, normalised: its tokens and, for each token, the original lines (first, last)."""

    source: str
    tokens: list
    lines: list
    parsed: bool = True

    @functools.cached_property
    def size(self) -> int:
        """Distinct normalised tokens (a line repeated counts once)."""
        seen, size = set(), 0
        for unit in _units_of(self):
            if unit not in seen:
                seen.add(unit)
                size += len(unit)
        return size


def _units_of(answer: Answer):
    unit, last = [], None
    for token, span in zip(answer.tokens, answer.lines):
        if span != last and unit:
            yield tuple(unit)
            unit = []
        unit.append(token)
        last = span
    if unit:
        yield tuple(unit)


def strip_magics(source: str) -> str:
    """IPython's ``%magic`` and ``!shell`` lines made ``pass`` (indent and line numbers kept), so the cell parses."""
    return "\n".join(line[:len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def imported_names(tree: ast.AST) -> dict:
    """``{name: module path}`` of a tree's imports (``np`` -> ``numpy``, ``Image`` -> ``PIL.Image``)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if alias.name != "*":
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def defined_functions(tree: ast.AST) -> set:
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


class _Rename(ast.NodeTransformer):
    """Names by role, literals by class, imports by module, docstrings dropped."""

    def __init__(self, names: Names):
        self.names = names

    def visit_Name(self, node):
        if node.id in self.names.aliases:
            return ast.copy_location(ast.Name(self.names.aliases[node.id], node.ctx), node)
        if node.id in _BUILTINS:
            return node
        return ast.copy_location(ast.Name("F" if node.id in self.names.functions else "V", node.ctx), node)

    def visit_arg(self, node):
        node.arg, node.annotation = "V", None
        return node

    def visit_Constant(self, node):
        if isinstance(node.value, (str, bytes)):
            return ast.copy_location(ast.Name("S", ast.Load()), node)
        if isinstance(node.value, (int, float, complex)) and not isinstance(node.value, bool):
            return ast.copy_location(ast.Name("N", ast.Load()), node)
        return node

    def visit_JoinedStr(self, node):
        return ast.copy_location(ast.Name("S", ast.Load()), node)

    def _scope(self, node):
        node.name, node.returns = "F", None
        self.generic_visit(node)
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scope

    def visit_alias(self, node):
        node.asname = None
        return node

    def visit_ExceptHandler(self, node):
        if node.name:
            node.name = "V"
        self.generic_visit(node)
        return node

    def visit_Global(self, node):
        node.names = ["V" for _ in node.names]
        return node

    visit_Nonlocal = visit_Global

    def generic_visit(self, node):
        for field in _BODIES:
            body = getattr(node, field, None)
            if isinstance(body, list):
                kept = [s for s in body if not _is_docstring(s)]
                setattr(node, field, kept or [ast.Pass()])
        return super().generic_visit(node)


def _is_docstring(stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _walk_now(node):
    """The nodes that run when ``node`` runs (not the bodies of functions and lambdas it defines)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef)) and current is not node:
            stack.extend(current.decorator_list + current.args.defaults + [d for d in current.args.kw_defaults if d])
        elif isinstance(current, ast.Lambda):
            stack.extend(current.args.defaults + [d for d in current.args.kw_defaults if d])
        else:
            stack.extend(ast.iter_child_nodes(current))


def _base_name(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def effects(stmt) -> tuple[set, set, bool]:
    """What a statement reads and writes when it runs (names), and whether nothing may cross it."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        reads = {n.id for d in stmt.decorator_list + stmt.args.defaults for n in ast.walk(d) if isinstance(n, ast.Name)}
        return reads, {stmt.name}, False
    reads, writes, stop = set(), set(), False
    for node in _walk_now(stmt):
        if isinstance(node, _STOP):
            stop = True
        elif isinstance(node, ast.Name):
            (reads if isinstance(node.ctx, ast.Load) else writes).add(node.id)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(node.ctx, ast.Load):
            writes.add(_base_name(node))
        elif isinstance(node, ast.AugAssign):
            reads.add(_base_name(node.target))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            writes.update((a.asname or a.name.split(".")[0]) for a in node.names)
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            writes.add(node.name)
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):  # called for its effect: it may change
        call = stmt.value                                                # its object and its arguments
        writes.update({_base_name(call.func), "<call>"} | {_base_name(a) for a in call.args})
    writes.discard(None)
    return reads, writes, stop


def _conflict(a, b) -> bool:
    (ra, wa, sa), (rb, wb, sb) = a, b
    return sa or sb or bool(wa & (rb | wb)) or bool(wb & ra)


def canonical_order(body: list, key) -> list:
    """``body`` with independent statements in the order of ``key`` (dependent ones keep theirs)."""
    if len(body) < 2 or len(body) > MAX_REORDER:
        return body
    facts = [effects(s) for s in body]
    after = {i: [j for j in range(i + 1, len(body)) if _conflict(facts[i], facts[j])] for i in range(len(body))}
    waiting = {j: sum(1 for i in range(j) if j in after[i]) for j in range(len(body))}
    keys = [key(s) for s in body]
    ready = [(keys[j], j) for j in range(len(body)) if waiting[j] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, i = heapq.heappop(ready)
        order.append(body[i])
        for j in after[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, (keys[j], j))
    return order


def _reorder(node, names: Names):
    for child in ast.iter_child_nodes(node):
        _reorder(child, names)
    for field in _BODIES:
        body = getattr(node, field, None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            setattr(node, field, canonical_order(body, lambda s: ast.unparse(_Rename(names).visit(copy.deepcopy(s)))))


def _header(stmt) -> str:
    head = copy.copy(stmt)
    head.body = [ast.Pass()]
    for field in ("orelse", "finalbody", "handlers"):
        if hasattr(head, field):
            setattr(head, field, [])
    return ast.unparse(head).rsplit("\n", 1)[0]


def _header_end(stmt) -> int:
    """The last line of a compound statement's header (its decorators, arguments, condition...)."""
    ends = [stmt.lineno]
    for field, value in ast.iter_fields(stmt):
        if field not in _BODIES + ("handlers",):
            for node in value if isinstance(value, list) else [value]:
                if isinstance(node, ast.AST):
                    ends += [n.end_lineno for n in ast.walk(node) if getattr(n, "end_lineno", None)]
    return max(ends)


def _emit(stmt, out: list) -> None:
    """``(normalised text, (first line, last line))`` for each statement, headers apart from bodies."""
    if isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.FunctionDef,
                         ast.AsyncFunctionDef, ast.ClassDef, ast.Try, ast.ExceptHandler) + _TRY_STAR):
        first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        out.append((_header(stmt) if not isinstance(stmt, ast.Try) else "try:", (first, _header_end(stmt))))
        for child in stmt.body:
            _emit(child, out)
        for handler in getattr(stmt, "handlers", []):
            _emit(handler, out)
        for word, field in (("else:", "orelse"), ("finally:", "finalbody")):
            block = getattr(stmt, field, None)
            if block and hasattr(block[0], "lineno"):
                out.append((word, (block[0].lineno - 1, block[0].lineno - 1)))
                for child in block:
                    _emit(child, out)
    elif hasattr(stmt, "lineno"):
        out.append((ast.unparse(stmt), (stmt.lineno, stmt.end_lineno or stmt.lineno)))
    else:  # a Pass put in for an emptied body
        out.append((ast.unparse(stmt), None))


_TRY_STAR = (ast.TryStar,) if hasattr(ast, "TryStar") else ()


def normalise(source: str, names: Names, *, drop=frozenset()) -> Answer:
    """One answer's normalised tokens; ``drop``: normalised statements to remove (the release's stub)."""
    source = source[:MAX_ANSWER_CHARS]
    try:
        tree = ast.parse(strip_magics(source))
        names = Names({**names.aliases, **imported_names(tree)}, names.functions | defined_functions(tree))
        _reorder(tree, names)
        units = _renamed_units(tree, _Rename(names))
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # broken, or nested too deep to walk
        return _normalise_tokens(source, names)
    tokens, lines = [], []
    for stmt_text, span in units:
        if span is None or stmt_text in drop:
            continue
        for token in _TOKEN.findall(stmt_text):
            tokens.append(token)
            lines.append(span)
    return Answer(source, tokens, lines)


def _renamed_units(tree, renamed):
    tree = renamed.visit(tree)
    units = []
    for stmt in tree.body:
        _emit(stmt, units)
    return units


def _normalise_tokens(source: str, names: Names) -> Answer:
    """A cell that does not parse: its tokens, renamed the same way, in their own order."""
    tokens, lines = [], []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                            tokenize.ENDMARKER):
                continue
            text = tok.string
            if tok.type == tokenize.NAME and not keyword.iskeyword(text) and tokens[-1:] != ["."]:  # attributes stay
                text = names.aliases.get(text) or (text if text in _BUILTINS else "F" if text in names.functions else "V")
            elif tok.type == tokenize.NUMBER:
                text = "N"
            elif tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_START", -1):
                text = "S"
            for token in _TOKEN.findall(text):
                tokens.append(token)
                lines.append((tok.start[0], tok.end[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # what was read so far counts
    return Answer(source, tokens, lines, parsed=False)


def release_drop(source: str, names: Names) -> frozenset:
    """The normalised statements of a release's answer cell (the starter code a student may keep)."""
    try:
        units = _renamed_units(ast.parse(strip_magics(source[:MAX_ANSWER_CHARS])), _Rename(names))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return frozenset()
    return frozenset(text for text, span in units if span is not None)


# --- Fingerprints --------------------------------------------------------------------------------------


def kgram_hashes(tokens: list, k: int) -> list:
    """A stable 63-bit hash of each run of ``k`` tokens (of the whole, if shorter)."""
    runs = [tokens[i:i + k] for i in range(max(1, len(tokens) - k + 1))] if tokens else []
    return [int.from_bytes(hashlib.blake2b(" ".join(run).encode(), digest_size=8).digest(), "big") >> 1 for run in runs]


def winnow(hashes: list, window: int) -> list:
    """Positions kept by winnowing: the smallest hash of each window (the rightmost if tied), once each."""
    if window <= 1 or len(hashes) <= window:
        return list(range(len(hashes))) if window <= 1 else ([] if not hashes else _smallest(hashes, 0, len(hashes)))
    kept = []
    for start in range(len(hashes) - window + 1):
        position = _smallest(hashes, start, start + window)[0]
        if not kept or kept[-1] != position:
            kept.append(position)
    return kept


def _smallest(hashes, start, end) -> list:
    low = min(hashes[start:end])
    return [max(i for i in range(start, end) if hashes[i] == low)]


def fingerprints(answer: Answer, k: int, window: int) -> dict:
    """``{hash: [token positions]}`` of an answer's winnowed k-grams."""
    hashes = kgram_hashes(answer.tokens, k)
    found = {}
    for position in winnow(hashes, window):
        found.setdefault(hashes[position], []).append(position)
    return found


# --- Reading a class -----------------------------------------------------------------------------------


def answer_sources(nb) -> dict:
    """``{grade_id: source}`` of a notebook's code answer cells (nbgrader's solution cells)."""
    found = {}
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code" or not cells.is_solution(cell):
            continue
        grade_id = cells.grade_id(cell) or f"cell {index + 1}"
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        found[grade_id] = f"{found[grade_id]}\n{source}" if grade_id in found else source
    return found


def _notebook_file(folder: Path, assignment: str) -> Path | None:
    for name in (f"{assignment}.ipynb", f"{assignment}.original.ipynb"):
        if (folder / name).is_file():
            return folder / name
    found = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    return found[0] if found else None


def read_class(course: Path, assignment: str) -> tuple[dict, dict]:
    """``({student: {grade_id: source}}, {student: why it was left out})`` of ``submitted/*/ASSIGNMENT/``."""

    answers, problems = {}, {}
    for folder in sorted(p for p in (Path(course) / "submitted").glob(f"*/{assignment}") if p.is_dir()):
        student = folder.parent.name
        path = _notebook_file(folder, assignment)
        if path is None:
            problems[student] = f"no .ipynb in submitted/{student}/{assignment}/: nothing to compare"
            continue
        try:
            data, _ = read_submission(path)
            found = answer_sources(from_dict(data))
        except Refused as exc:
            problems[student] = f"{path.name}: {exc}"
            continue
        except Exception as exc:  # noqa: BLE001 - one notebook never stops the report
            problems[student] = f"{path.name} could not be read ({one_line(exc)}): run `asl-course repair {assignment}`"
            continue
        if not found:
            problems[student] = (f"{path.name} has no answer cells (nbgrader's metadata is gone): run "
                                 f"`asl-course repair {assignment}`, then compare again")
            continue
        answers[student] = found
    return answers, problems


def release_context(course: Path, assignment: str) -> tuple[Names, dict, list]:
    """The release's names, its answer cells' stubs ``{grade_id: source}`` and its code cells."""
    release = release_notebook(course, assignment)
    code = [c.source for c in release.cells if c.cell_type == "code"]
    aliases, defined, called = {}, set(), set()
    for source in code:
        try:
            tree = ast.parse(strip_magics(source))
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
        aliases.update(imported_names(tree))
        defined |= defined_functions(tree) | {n.id for n in ast.walk(tree)
                                               if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        called |= {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    asked = frozenset(called - defined - set(aliases) - _BUILTINS)
    return Names(aliases, asked), answer_sources(release), code


# --- Comparing ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Pair:
    a: str
    b: str
    score: float
    exercises: dict  # grade_id -> {"score", "shared", "size", "lines_a", "lines_b"}


@dataclasses.dataclass
class Report:
    assignment: str
    settings: dict
    students: list
    problems: dict
    exercises: dict  # grade_id -> {"median", "answers", "compared", "note"}
    pairs: list
    flagged: list
    note: str = ""
    answers: dict = dataclasses.field(default_factory=dict, repr=False)
    normal: dict = dataclasses.field(default_factory=dict, repr=False)  # (student, grade_id) -> Answer
    left_out: dict = dataclasses.field(default_factory=dict, repr=False)  # grade_id -> hashes not counted


def weight(students_sharing: int, students: int) -> float:
    """What a fingerprint found in ``students_sharing`` of ``students`` is worth: the rarer, the more."""
    return math.log(max(students, 2) / max(1, students_sharing))


def compare(assignment: str, answers: dict, release: tuple, settings: Similarity, problems=None) -> Report:
    """Every pair of students, ranked; see the module's docstring for the score."""
    names, stubs, release_code = release
    k, w = settings.kgram, settings.window
    ignored = set()  # every k-gram of the release's code, not only its winnowed ones
    for source in release_code:
        ignored.update(kgram_hashes(normalise(source, names).tokens, k))
    students = sorted(answers)
    grade_ids = list(dict.fromkeys(g for s in students for g in answers[s]))
    normal, prints, exercises = {}, {}, {}
    for gid in grade_ids:
        drop = release_drop(stubs.get(gid, ""), names)
        for student in students:
            if gid in answers[student]:
                answer = normalise(answers[student][gid], names, drop=drop)
                normal[student, gid] = answer
                prints[student, gid] = {h: p for h, p in fingerprints(answer, k, w).items() if h not in ignored}
        sizes = [normal[s, gid].size for s in students if (s, gid) in normal]
        median = statistics.median(sizes) if sizes else 0
        exercises[gid] = {"median": median, "answers": len(sizes), "compared": median >= settings.min_tokens,
                          "note": "" if median >= settings.min_tokens else
                          f"too short to tell: the median answer has {median:g} distinct tokens, fewer than "
                          f"{settings.min_tokens} (most students write the same few lines)"}
    compared = [g for g in grade_ids if exercises[g]["compared"]]
    worth = {gid: _worth(prints, students, gid, settings.boilerplate) for gid in compared}
    pairs = [pair for a, b in combinations(students, 2)
             if (pair := _pair(a, b, compared, normal, prints, worth, settings)) is not None]
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    note = "" if compared else (
        "answers too short to tell anything: every exercise's median answer has fewer than "
        f"{settings.min_tokens} distinct tokens, so copied and independent answers look the same")
    chosen = {n: getattr(settings, n) for n in settings.trait_names() if settings.trait_metadata(n, "config")}
    left_out = {gid: ignored | {h for h, value in worth[gid].items() if value == 0} for gid in compared}
    return Report(assignment, chosen, students, dict(problems or {}), exercises, pairs,
                  [p for p in pairs if p.score >= settings.threshold], note, answers, normal, left_out)


def _worth(prints, students, gid, boilerplate: float) -> dict:
    """``{hash: weight}`` of an exercise's fingerprints; boilerplate (found in too many students) weighs 0."""
    counts = {}
    for student in students:
        for h in prints.get((student, gid), {}):
            counts[h] = counts.get(h, 0) + 1
    limit = max(2, boilerplate * len(students))
    return {h: 0.0 if n > limit else weight(n, len(students)) for h, n in counts.items()}


def _pair(a, b, compared, normal, prints, worth, settings) -> Pair | None:
    shared_total, size_total, details = 0.0, 0.0, {}
    for gid in compared:
        if (a, gid) not in normal or (b, gid) not in normal:
            continue
        if min(normal[a, gid].size, normal[b, gid].size) < settings.min_tokens:
            continue
        pa, pb, value = prints[a, gid], prints[b, gid], worth[gid]
        size = min(sum(value[h] for h in pa), sum(value[h] for h in pb))
        if size <= 0:
            continue
        common = {h for h in set(pa) & set(pb) if value[h] > 0}
        shared = sum(value[h] for h in common)
        shared_total += shared
        size_total += size
        details[gid] = {"score": shared / size, "shared": len(common), "size": min(len(pa), len(pb))}
    if not size_total:
        return None
    return Pair(a, b, min(1.0, shared_total / size_total), details)


def shared_lines(a: Answer, b: Answer, k: int, left_out=frozenset()) -> tuple[set, set]:
    """The original lines of ``a`` and ``b`` in runs of ``k`` normalised tokens that both have (every
    k-gram, not only the winnowed ones, so the whole shared run shows), less those ``left_out``."""
    ha, hb = kgram_hashes(a.tokens, k), kgram_hashes(b.tokens, k)
    both = (set(ha) & set(hb)) - set(left_out)
    return _lines(a, ha, both, k), _lines(b, hb, both, k)


def _lines(answer: Answer, hashes: list, both: set, k: int) -> set:
    lines = set()
    for position, h in enumerate(hashes):
        if h in both:
            for span in answer.lines[position:position + k]:
                lines.update(range(span[0], span[1] + 1))
    return lines


#: Where the command writes the HTML report unless told (relative to the course folder).
REPORT_DIR = "similarity"


def similarity_report(course, assignment: str, settings: Similarity | None = None) -> Report:
    """Read the class's hand-ins and the release, compare every pair (see the module's docstring)."""
    course = Path(course)
    if not (course / "submitted").is_dir():
        raise UserError(f"{course} has no submitted/ folder: run this in the nbgrader course folder (or pass "
                        "--course), after `asl-course intake`")
    settings = settings or load_settings(course)
    release = release_context(course, assignment)
    answers, problems = read_class(course, assignment)
    if not answers and not problems:
        raise UserError(f"no hand-ins of {assignment} in {course}/submitted/*/{assignment}/")
    return compare(assignment, answers, release, settings, problems)


# --- Telling it -----------------------------------------------------------------------------------------


def describe(report: Report) -> list:
    """The report in lines of text (the command prints them)."""
    s = report.settings
    lines = [f"{report.assignment}: {len(report.students)} notebooks compared, {len(report.pairs)} pairs scored; "
             f"flagged at {s['threshold']:g} and above"]
    for student, why in sorted(report.problems.items()):
        lines.append(f"  left out {student}: {why}")
    for gid, ex in report.exercises.items():
        status = "compared" if ex["compared"] else ex["note"]
        lines.append(f"  exercise {gid}: {ex['answers']} answers, median {ex['median']:g} tokens: {status}")
    if report.note:
        lines.append(report.note)
        return lines
    if report.flagged:
        lines.append(f"{len(report.flagged)} pair(s) flagged: look at the shared lines before concluding anything")
    else:
        lines.append("no pair flagged")
    for rank, pair in enumerate(report.pairs[:max(s["shown"], len(report.flagged))], 1):
        mark = "FLAGGED" if pair.score >= s["threshold"] else "       "
        parts = ", ".join(f"{g} {d['score']:.2f}" for g, d in pair.exercises.items())
        lines.append(f"  {rank:3d}. {mark} {pair.score:.2f}  {pair.a} ~ {pair.b}  ({parts})")
    return lines


_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: .5em 0 1em; }
td, th { border: 1px solid #ccc; padding: .2em .6em; text-align: left; vertical-align: top; }
.flag { background: #fde2e1; }
.side { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: .8em; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: .4em; margin: 0; overflow-x: auto; font-size: 12px; }
.line { display: block; min-height: 1.2em; } .shared { background: #ffe08a; }
h3 { margin-bottom: .2em; } .note { color: #8a4b00; }
"""


def _code(source: str, shared: set) -> str:
    rows = []
    for number, line in enumerate(source.splitlines() or [""], 1):
        kind = "line shared" if number in shared else "line"
        rows.append(f'<span class="{kind}">{html.escape(line) or " "}</span>')
    return "<pre>" + "".join(rows) + "</pre>"


def to_html(report: Report) -> str:
    """A page for the instructor: no script, everything from the submissions escaped."""
    e, s = html.escape, report.settings
    out = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
           "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">",
           f"<title>Similar answers: {e(report.assignment)}</title><style>{_CSS}</style></head><body>",
           f"<h1>Similar answers: {e(report.assignment)}</h1>",
           f"<p>{len(report.students)} notebooks compared, {len(report.pairs)} pairs scored. A pair is flagged at "
           f"{s['threshold']:g} and above: the share of the shorter answers' fingerprints found in the other's "
           "(comments, names, literals and the order of independent lines do not count; the release's code and "
           "what many students wrote are left out; a fingerprint shared by more students weighs less). "
           "A high score is a reason to look, not a verdict.</p>"]
    if report.problems:
        out += ["<h2>Left out</h2><ul>"] + [f"<li>{e(student)}: {e(why)}</li>"
                                           for student, why in sorted(report.problems.items())] + ["</ul>"]
    out += _exercises_html(report)
    if report.note:
        out.append(f"<p class='note'>{e(report.note)}</p>")
    else:
        shown = report.pairs[:max(s["shown"], len(report.flagged))]
        out += _ranking_html(report, shown)
        for rank, pair in enumerate(shown, 1):
            out += _pair_html(report, rank, pair)
    return "\n".join(out + ["</body></html>"])


def _exercises_html(report: Report) -> list:
    out = ["<h2>Exercises</h2><table><tr><th>exercise</th><th>answers</th><th>median tokens</th><th></th></tr>"]
    for gid, ex in report.exercises.items():
        out.append(f"<tr><td>{html.escape(gid)}</td><td>{ex['answers']}</td><td>{ex['median']:g}</td>"
                   f"<td>{'compared' if ex['compared'] else html.escape(ex['note'])}</td></tr>")
    return out + ["</table>"]


def _ranking_html(report: Report, shown: list) -> list:
    compared = [g for g, ex in report.exercises.items() if ex["compared"]]
    out = ["<h2>Pairs, most similar first</h2><table><tr><th>#</th><th>score</th><th>students</th>"
           + "".join(f"<th>{html.escape(g)}</th>" for g in compared) + "</tr>"]
    for rank, pair in enumerate(shown, 1):
        flag = " class='flag'" if pair.score >= report.settings["threshold"] else ""
        cells = "".join(f"<td>{pair.exercises[g]['score']:.2f}</td>" if g in pair.exercises else "<td>-</td>"
                        for g in compared)
        out.append(f"<tr{flag}><td><a href='#pair{rank}'>{rank}</a></td><td>{pair.score:.2f}</td>"
                   f"<td>{html.escape(pair.a)} ~ {html.escape(pair.b)}</td>{cells}</tr>")
    return out + ["</table>"]


def _pair_html(report: Report, rank: int, pair: Pair) -> list:
    e = html.escape
    flag = " (flagged)" if pair.score >= report.settings["threshold"] else ""
    out = [f"<h2 id='pair{rank}'>{rank}. {e(pair.a)} ~ {e(pair.b)}: {pair.score:.2f}{flag}</h2>"]
    for gid, d in pair.exercises.items():
        lines_a, lines_b = shared_lines(report.normal[pair.a, gid], report.normal[pair.b, gid],
                                        report.settings["kgram"], report.left_out.get(gid, ()))
        out.append(f"<h3>{e(gid)}: {d['score']:.2f} ({d['shared']} of {d['size']} fingerprints shared)</h3>"
                   f"<div class='side'><div><b>{e(pair.a)}</b>{_code(report.answers[pair.a][gid], lines_a)}</div>"
                   f"<div><b>{e(pair.b)}</b>{_code(report.answers[pair.b][gid], lines_b)}</div></div>")
    return out


def to_json(report: Report) -> dict:
    pairs = [{"a": p.a, "b": p.b, "score": round(p.score, 4),
              "exercises": {g: {"score": round(d["score"], 4), "shared": d["shared"], "size": d["size"]}
                            for g, d in p.exercises.items()}} for p in report.pairs]
    return {"assignment": report.assignment, "settings": report.settings, "students": report.students,
            "problems": report.problems, "exercises": report.exercises, "note": report.note,
            "flagged": [[p.a, p.b] for p in report.flagged], "pairs": pairs}
