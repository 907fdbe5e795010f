"""Intake: file the hand-ins of an LMS download under nbgrader's ``submitted/<student>/<assignment>/``.

Learners hand in through a learning-management system, not nbgrader's exchange (its
extensions do not run in Colab, nbgrader issue 1273). The instructor downloads the LMS's zip
(or its unpacked folder) and a roster CSV, and :func:`intake` files every hand-in:

- **LMS file names** (:data:`PATTERNS`), the forms the LMS exports use:

  - Canvas: ``smithjohn_12345_67890_02_cnn_model.ipynb``, ``núñezjosé_LATE_12345_67890_02_cnn_model-1.ipynb``
    (the name as one lowercase word of any script's letters, ``LATE`` or ``late`` when handed in after the due date, the Canvas
    user id, the submission/attachment id, the student's file name; Canvas adds ``-1``, ``-2``
    when one name is uploaded again); also ``smith_john_12345_67890_...``;
  - Moodle: ``John Smith_12345_assignsubmission_file_/02_cnn_model.ipynb`` (a folder per
    participant) or the same flattened into one name;
  - Blackboard: ``02 CNN model_jsmith_attempt_2026-11-30-14-05-09_02_cnn_model.ipynb``
    (assignment, username, attempt time) beside its receipt ``..._attempt_<time>.txt``;
  - Gradescope: ``submission_metadata.yml`` and ``submission_<id>/<files>``, the yml naming
    each submission's submitters (``:name:``, ``:sid:``, ``:email:``) and ``:created_at:``;
  - a plain ``<student_id>/<file>`` folder per student.

- **The roster** (CSV with a header): a ``student_id`` column (the nbgrader id) and any of
  ``lms_user_id`` (or ``lms_id``, ``canvas_user_id``, ``user_id``, ``id``: the LMS's own user id,
  e.g. the ``ID`` column of Canvas's gradebook export), ``participant_id`` (Moodle's number),
  ``sid``, ``username``/``login``, ``email``, ``name``, ``first_name``/``last_name``,
  ``sortable_name`` (:attr:`Roster.COLUMNS`). An LMS identity is matched by its id in that id's
  own columns first, then by the name (letters of any script, accents and case folded, either
  order), never to a roster line whose LMS user id is another one.
- **LMS test users** (Canvas's "Test Student", Blackboard's preview user) not on the roster are
  skipped with one line. Only files it could not place need the instructor (exit 1).
- **The assignment** is read from the student's file name (Colab's ``Copy of ...``, ``(1)``,
  ``-2`` and the like removed), else from the notebook's own nbgrader ``grade_id`` cells.
- **Several attempts**: the latest is filed (by the LMS's time, then attempt number, then id,
  then the archive's file time); the others are reported as superseded.
- **Every file it could not place** is reported with the reason (unknown student, unknown
  assignment, an LMS name it does not recognise); LMS receipts and folders are skipped silently.

Files are copied as they are (a ``.py`` or ``.html`` export too: ``asl-course repair`` refuses
it with the reason, and grading skips it). A time the LMS records (Blackboard, Gradescope) is
written to ``timestamp.txt``, which nbgrader reads (against the gradebook's due date) for late
penalties; a hand-in Canvas names late (``_LATE_``/``_late_``, no time) is recorded there as one
second after the gradebook's due date (:func:`submission_time`).

Why not nbgrader's ``zip_collect`` (0.9.6): it reads one regular expression whose
``student_id`` group must be the nbgrader id itself (no roster: Canvas and Moodle names carry
LMS ids and display names), only from ``downloaded/<assignment>/archive/``, one assignment at
a time, and cannot read Moodle's per-participant folders or Gradescope's metadata file; its
``--strict`` stops at the first file it cannot place. The rules kept from it: the archive's
members are copied under ``submitted/<student>/<assignment>/``, the latest of several wins.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import json
import re
import shutil
import unicodedata
import zipfile
from pathlib import Path, PurePosixPath

from asl_course.errors import UserError
from asl_course.grading import cells

#: LMS receipts and extras that are not hand-ins (skipped without a report line).
IGNORED = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|\._)|submission_metadata\.ya?ml$|index\.html?$")
#: The largest archive member intake will copy (bytes): bigger ones are reported, not extracted.
MAX_MEMBER_BYTES = 1 << 30

#: Canvas: the name as Canvas writes it (lower case, letters of any script, non-letters dropped; ``[^\W\d_]``
#: is a letter of any script), ``_LATE`` or ``_late`` when handed in after the due date, the user id,
#: the submission (attachment) id, the student's file.
_CANVAS = re.compile(r"^(?P<name>[^\W\d_][^\W_]*(?:_(?!late_)[^\W\d_][^\W_]*)?)(?P<late>_late)?_(?P<uid>\d+)_(?P<aid>\d+)"
                     r"_(?P<file>.+)$", re.IGNORECASE)
_MOODLE = re.compile(r"^(?P<name>[^/]+?)_(?P<uid>\d+)_assignsubmission_(?:file|onlinetext)_/?(?P<file>.*)$")
_BLACKBOARD = re.compile(r"^(?P<title>.+?)_(?P<user>[^_/]+)_attempt_(?P<time>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)"
                         r"(?:_(?P<file>.+)|\.txt)?$")
_GRADESCOPE = re.compile(r"^submission_(?P<uid>\d+)/(?P<file>.+)$")

#: The LMS name forms recognised (for the report and the README).
PATTERNS = {
    "canvas": "lastfirst[_late]_<user id>_<submission id>_<file>  (Canvas 'Download Submissions')",
    "moodle": "Full Name_<participant id>_assignsubmission_file_/<file>  (Moodle 'Download all submissions')",
    "blackboard": "<Assignment>_<username>_attempt_<YYYY-MM-DD-HH-MM-SS>_<file>  (Blackboard 'Download Assignment')",
    "gradescope": "submission_metadata.yml + submission_<id>/<file>  (Gradescope 'Export Submissions')",
    "folder": "<student id>/<file>  (a folder per student)",
}


@dataclasses.dataclass
class Handin:
    """One file of the download, as read from its LMS name."""
    member: str  # its path in the archive or folder
    lms: str
    file: str  # the student's own file name
    who: dict  # identity fields: name, lms_id, username, email, sid, student_id
    time: str | None = None  # ISO time of the attempt when the LMS names it
    attempt: int = 0
    order: tuple = ()
    late: bool = False


# --- The roster -----------------------------------------------------------------------------------


def name_key(text: str) -> str:
    """A name as a matching key: letters and digits of any script, accents and case folded.

    Canvas keeps a name's letters (``núñezjosé``) and drops the rest; a zip made on macOS may
    spell é as e + a combining accent: both, and the roster's ``José Núñez``, give ``nunezjose``."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\W_]", "", bare.casefold())


def column_key(header: str) -> str:
    """A roster header as a key: ``LMS User ID`` -> ``lms_user_id``."""
    return re.sub(r"[^a-z0-9]+", "_", str(header).strip().lower()).strip("_")


#: The test users LMSs add to every course (Canvas's "Test Student", Blackboard's preview user):
#: their hand-ins are skipped with one line, unless the roster names them.
TEST_USER = re.compile(r"^(studenttest|teststudent)$|_previewuser$", re.IGNORECASE)


class Roster:
    """The roster CSV: LMS identities -> nbgrader student ids.

    Each identity an LMS gives is looked up in its own columns (:data:`COLUMNS`): the LMS's
    user id in ``lms_user_id`` (or ``lms_id``, ``canvas_user_id``, ``id``, ...), a student
    number in ``sid``, and so on. A name is used only when no id decides, and never for a
    roster line whose LMS user id is another one."""

    #: identity kind -> the roster columns that hold it (headers compared as :func:`column_key`).
    COLUMNS = {
        "lms_id": ("lms_user_id", "lms_id", "canvas_user_id", "canvas_id", "moodle_user_id", "moodle_id",
                   "user_id", "id"),
        # a student number or login may be the nbgrader id itself
        "sid": ("sid", "sis_user_id", "sis_id", "student_number", "student_id"),
        "username": ("username", "login", "sis_login_id", "login_id", "student_id"),
        "email": ("email", "e_mail", "email_address"),
        "student_id": ("student_id",),
        # Moodle's number is the assignment's participant id (not the Moodle user id)
        "participant_id": ("participant_id", "moodle_participant_id"),
    }

    def __init__(self, rows: list[dict], source: str = "roster"):
        self.source = source
        self.students: list[str] = []
        self.ids: dict[str, dict[str, str]] = {kind: {} for kind in self.COLUMNS}
        self.lms_of: dict[str, str] = {}  # student -> the LMS user id the roster gives
        self.names: dict[str, set] = {}
        for n, row in enumerate(rows, start=2):
            row = {column_key(k): str(v or "").strip() for k, v in row.items() if k}
            sid = row.get("student_id") or row.get("student")
            if not sid:
                raise UserError(f"{source}, line {n}: no student_id (the roster needs a student_id column: "
                                "the nbgrader id each LMS identity is filed under)")
            if not re.fullmatch(r"[A-Za-z0-9_.@+-]+", sid):
                raise UserError(f"{source}, line {n}: student_id {sid!r} cannot be a folder name "
                                "(letters, digits and _ . @ + - only)")
            self.students.append(sid)
            row["student_id"] = sid
            for kind, columns in self.COLUMNS.items():
                for column in columns:
                    if row.get(column):
                        self.ids[kind].setdefault(row[column].casefold(), sid)
                        if kind == "lms_id":
                            self.lms_of.setdefault(sid, row[column])
            for name in self._names(row):
                if name_key(name):
                    self.names.setdefault(name_key(name), set()).add(sid)

    @staticmethod
    def _names(row: dict) -> set:
        first, last = row.get("first_name", ""), row.get("last_name", "")
        names = {row.get("name", ""), row.get("sortable_name", ""), f"{first} {last}", f"{last} {first}"}
        if row.get("name"):
            parts = row["name"].replace(",", " ").split()
            names |= {" ".join(parts), " ".join(parts[::-1])}
        return names

    @classmethod
    def read(cls, path) -> "Roster":
        path = Path(path)
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise UserError(f"cannot read the roster {path}: {exc} (save it as CSV, UTF-8)") from None
        if not rows:
            raise UserError(f"the roster {path} has no rows (a header line with student_id, then one line per student)")
        return cls(rows, str(path))

    def find(self, who: dict) -> tuple[str | None, str]:
        """``(student_id, "")`` or ``(None, why)``: by id first (each kind in its own columns), then name."""
        for kind in ("lms_id", "participant_id", "student_id", "sid", "username", "email"):
            value = str(who.get(kind) or "").casefold()
            if value and value in self.ids[kind]:
                return self.ids[kind][value], ""
        lms_id = str(who.get("lms_id") or "")
        found = self.names.get(name_key(who.get("name", "")), set()) if name_key(who.get("name", "")) else set()
        if lms_id:  # a line with another LMS user id is another person of the same name
            found = {s for s in found if s not in self.lms_of}
        if len(found) == 1:
            return next(iter(found)), ""
        if len(found) > 1:
            return None, (f"the name {who['name']!r} is on the roster {len(found)} times ({', '.join(sorted(found))}): "
                          "add each one's LMS user id to the roster (column lms_user_id)")
        shown = ", ".join(f"{k} {v!r}" for k, v in who.items() if v)
        return None, (f"not on the roster ({shown}): add a line for this student to {self.source} "
                      "(student_id, and lms_user_id from the LMS's gradebook export)")


# --- Reading the download -------------------------------------------------------------------------


def _gradescope_metadata(text: str) -> dict:
    """``{submission folder: {"who": [...], "time": ...}}`` from Gradescope's submission_metadata.yml."""
    import yaml

    try:
        meta = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"submission_metadata.yml cannot be read ({exc})") from None
    out = {}
    for key, entry in meta.items():
        entry = {str(k).lstrip(":"): v for k, v in (entry or {}).items()}
        people = []
        for person in entry.get("submitters") or []:
            person = {str(k).lstrip(":"): v for k, v in (person or {}).items()}
            people.append({"name": person.get("name"), "sid": person.get("sid"), "email": person.get("email")})
        created = entry.get("created_at")
        out[str(key)] = {"who": people, "time": str(created) if created else None}
    return out


def parse_name(member: str, gradescope: dict | None = None) -> Handin | None:
    """The LMS identity and file of one archive member, or None if no LMS form matches."""
    path = PurePosixPath(member)
    parts = path.parts
    gs = _GRADESCOPE.match("/".join(parts[-2:])) if len(parts) >= 2 else None
    if gs and gradescope is not None:
        meta = gradescope.get(f"submission_{gs['uid']}", {})
        people = meta.get("who") or [{}]
        who = dict(people[0])
        return Handin(member, "gradescope", gs["file"], who, time=meta.get("time"), order=(int(gs["uid"]),))
    # Moodle: a folder per participant, or the flattened name.
    for depth in range(len(parts) - 1, -1, -1):
        joined = "/".join(parts[depth:])
        m = _MOODLE.match(joined)
        if m and m["file"]:
            return Handin(member, "moodle", m["file"].split("/")[-1], {"name": m["name"], "participant_id": m["uid"]},
                          order=(int(m["uid"]),))
    name = path.name
    m = _BLACKBOARD.match(name)
    if m:
        if not m["file"]:
            return Handin(member, "blackboard-receipt", "", {})
        stamp = datetime.datetime.strptime(m["time"], "%Y-%m-%d-%H-%M-%S").isoformat()
        return Handin(member, "blackboard", m["file"], {"username": m["user"]}, time=stamp)
    m = _CANVAS.match(name)
    if m:
        file = m["file"]
        attempt = 0
        again = re.match(r"^(?P<stem>.+)-(?P<n>\d+)(?P<ext>\.[A-Za-z0-9]+)$", file)
        if again:
            attempt = int(again["n"])
        return Handin(member, "canvas", file, {"name": m["name"].replace("_", " "), "lms_id": m["uid"]},
                      attempt=attempt, order=(int(m["aid"]),), late=bool(m["late"]))
    if len(parts) >= 2:  # <student id>/<file>
        return Handin(member, "folder", name, {"student_id": parts[-2]})
    return None


def assignment_of_name(file: str, assignments) -> str | None:
    """The assignment a student's file name names (``Copy of 02_cnn_model (1).ipynb`` -> 02_cnn_model)."""
    stem = PurePosixPath(file).stem
    stem = re.sub(r"^(copy of |kopie von |copie de )+", "", stem, flags=re.IGNORECASE)
    stem = re.sub(r"(\s*\(\d+\)|-\d+|\s+copy|_copy)+$", "", stem, flags=re.IGNORECASE).strip()
    if stem in assignments:
        return stem
    key = name_key(stem)
    found = [a for a in assignments if name_key(a) == key]
    if len(found) == 1:
        return found[0]
    prefixed = [a for a in assignments if stem.startswith(a) or a.startswith(stem + "_")]
    return prefixed[0] if len(prefixed) == 1 else None


def assignment_of_content(data: bytes, ids_by_assignment: dict) -> str | None:
    """The assignment whose grade_ids a notebook's cells carry (None if unreadable or unclear)."""
    try:
        nb = json.loads(data.decode("utf-8"))
        ids = set(cells.grade_ids(nb.get("cells")))
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    hits = {a: len(ids & set(g)) for a, g in ids_by_assignment.items()}
    best = max(hits.values(), default=0)
    winners = [a for a, n in hits.items() if n == best]
    return winners[0] if best and len(winners) == 1 else None


def _members(download: Path):
    """``[(member name, size, mtime, reader)]`` of a zip or folder."""
    if download.is_dir():
        out = []
        for path in sorted(p for p in download.rglob("*") if p.is_file() and not p.is_symlink()):
            st = path.stat()
            name = unicodedata.normalize("NFC", path.relative_to(download).as_posix())
            out.append((name, st.st_size, st.st_mtime, path.read_bytes))
        return out, None
    if not zipfile.is_zipfile(download):
        raise UserError(f"{download} is neither a folder nor a zip file: pass the LMS's download (.zip) or its unpacked folder")
    archive = zipfile.ZipFile(download)
    out = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        when = datetime.datetime(*info.date_time).timestamp()
        out.append((member_name(info), info.file_size, when, (lambda i=info: archive.read(i))))
    return out, archive


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name in NFC: a zip writer that stores UTF-8 names without the zip's UTF-8 flag
    (Python then reads them as cp437: ``nuñez`` as ``nu├▒ez``) is read as UTF-8."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return unicodedata.normalize("NFC", name)


def _release_ids(course: Path, assignments) -> dict:
    out = {}
    for a in assignments:
        path = course / "release" / a / f"{a}.ipynb"
        try:
            nb = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        out[a] = cells.grade_ids(nb.get("cells"))
    return out


def course_assignments(course: Path) -> list[str]:
    found = sorted(p.name for p in (Path(course) / "release").glob("*") if (p / f"{p.name}.ipynb").is_file())
    if not found:
        raise UserError(f"{course} has no released assignment (release/<assignment>/<assignment>.ipynb): "
                        "run `nbgrader generate_assignment ASSIGNMENT` in the course folder first")
    return found


def due_date(course: Path, assignment: str) -> datetime.datetime | None:
    """The assignment's due date in the course's gradebook (UTC), or None (no gradebook, none set)."""
    db = Path(course) / "gradebook.db"
    if not db.is_file():  # never create one here
        return None
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{db}") as gradebook:
        try:
            return gradebook.find_assignment(assignment).duedate
        except MissingEntry:
            return None


def submission_time(handin: Handin, due: datetime.datetime | None) -> tuple[datetime.datetime | None, str]:
    """The time to write to ``timestamp.txt`` (UTC, naive) and a note for the report.

    The LMS's own time when it gives one (Blackboard, Gradescope). Canvas says only *that* a
    hand-in is late (``_LATE_``): it is recorded as one second after the gradebook's due date,
    so nbgrader counts it late (its penalty then applies); without a due date there is nothing
    nbgrader could count it against, and the report says how to set one."""
    if handin.time:
        stamp = datetime.datetime.fromisoformat(str(handin.time).replace("Z", "+00:00"))
        if stamp.tzinfo is not None:
            stamp = stamp.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return stamp, ""
    if not handin.late:
        return None, ""
    if due is None:
        return None, ("late (the LMS says so, without a time); the gradebook has no due date to count it "
                      "against: `nbgrader db assignment add ASSIGNMENT --duedate 'YYYY-MM-DD HH:MM:SS UTC'`, "
                      "then intake again")
    return due + datetime.timedelta(seconds=1), "late (the LMS gives no time): recorded as 1 s after the due date"


def _choose(report: dict, chosen: dict, key: tuple, entry: tuple) -> None:
    """Keep the latest attempt of ``key`` (student, assignment) in ``chosen``; report the other."""
    if key not in chosen:
        chosen[key] = entry
        return
    old = chosen[key]
    newer, older = (entry, old) if entry[0] > old[0] else (old, entry)
    chosen[key] = newer
    report["superseded"].append({"file": older[1], "student": key[0], "assignment": key[1],
                                 "why": f"an earlier attempt: {newer[1]} is later"})


def _read_handin(member, size, read, *, gradescope, roster, assignment, assignments, ids, report):
    """``(student, target, handin, data, ext)`` of one archive member, or None (reported or skipped)."""
    if IGNORED.search(member):
        return None
    handin = parse_name(member, gradescope)
    if handin is None:
        report["not_placed"].append({"file": member, "why": "its name is in no LMS form this course reads ("
                                     + "; ".join(PATTERNS.values()) + ")"})
        return None
    if handin.lms == "blackboard-receipt":
        return None
    if size > MAX_MEMBER_BYTES:
        report["not_placed"].append({"file": member, "why": f"{size / 1e6:.0f} MB: larger than intake copies "
                                     f"({MAX_MEMBER_BYTES / 1e6:.0f} MB); ask the student for the notebook without outputs"})
        return None
    student, why = roster.find(handin.who)
    if student is None:
        if TEST_USER.search(name_key(handin.who.get("name", "")) or str(handin.who.get("username") or "")):
            report["skipped"].append({"file": member, "why": f"the {handin.lms} test user"})
        elif handin.lms == "folder":  # read as <student id>/<file> only for want of an LMS form
            report["not_placed"].append({"file": member, "why": f"its name is in no LMS form this course reads, and "
                                         f"its folder {handin.who['student_id']!r} is no student_id of the roster "
                                         f"({'; '.join(PATTERNS.values())})"})
        else:
            report["not_placed"].append({"file": member, "why": why})
        return None
    data = read()
    target = assignment or assignment_of_name(handin.file, assignments) or assignment_of_content(data, ids)
    if target is None:
        report["not_placed"].append({"file": member, "student": student, "why":
                                     f"{handin.file!r} names none of the assignments ({', '.join(assignments)}) "
                                     "and its cells carry none of their grade_ids: pass --assignment if it is one"})
        return None
    ext = PurePosixPath(handin.file).suffix.lower() or ".ipynb"
    if ext not in (".ipynb", ".py", ".html", ".htm", ".json", ".txt", ".pdf"):
        report["not_placed"].append({"file": member, "student": student,
                                     "why": f"a {ext} file, not a notebook (the course grades {target}.ipynb)"})
        return None
    return student, target, handin, data, ext


def _file(course: Path, student: str, target: str, entry: tuple, due, dry_run: bool) -> dict:
    """Write one chosen hand-in (and its ``timestamp.txt``) under ``submitted/``; its report line."""
    rank, member, handin, data, ext = entry
    folder = course / "submitted" / student / target
    name = f"{target}{'.ipynb' if ext in ('.ipynb', '.json') else ext}"
    stamp, note = submission_time(handin, due)
    if not dry_run:
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / name).write_bytes(data)
        if stamp is not None:  # nbgrader reads it for late penalties
            (folder / "timestamp.txt").write_text(stamp.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC")
    return {"student": student, "assignment": target, "file": member, "lms": handin.lms,
            "as": f"submitted/{student}/{target}/{name}", "late": handin.late, "time": handin.time,
            "timestamp": stamp.isoformat(sep=" ") if stamp else None, "note": note}


def intake(course, download, roster, *, assignment: str | None = None, dry_run: bool = False) -> dict:
    """File the hand-ins of ``download`` (zip or folder) under ``course/submitted/``.

    ``assignment``: the assignment every hand-in belongs to (else each file's name or content
    says). Returns ``{"filed": [...], "superseded": [...], "not_placed": [...], "skipped": [...],
    "by_lms": {...}}``; only ``not_placed`` needs the instructor.
    """
    course = Path(course).absolute()
    download = Path(download)
    if not download.exists():
        raise UserError(f"{download} does not exist: pass the zip the LMS exported (or its unpacked folder)")
    roster = roster if isinstance(roster, Roster) else Roster.read(roster)
    assignments = course_assignments(course)
    if assignment is not None and assignment not in assignments:
        raise UserError(f"--assignment {assignment}: not released in {course} (released: {', '.join(assignments)})")
    ids = _release_ids(course, assignments)
    members, archive = _members(download)
    gradescope = None
    for member, _, _, read in members:
        if PurePosixPath(member).name in ("submission_metadata.yml", "submission_metadata.yaml"):
            gradescope = _gradescope_metadata(read().decode("utf-8", "replace"))
    report = {"download": str(download), "filed": [], "superseded": [], "not_placed": [], "skipped": [], "by_lms": {}}
    chosen: dict[tuple[str, str], tuple] = {}
    for member, size, mtime, read in members:
        found = _read_handin(member, size, read, gradescope=gradescope, roster=roster, assignment=assignment,
                             assignments=assignments, ids=ids, report=report)
        if found is None:
            continue
        student, target, handin, data, ext = found
        report["by_lms"][handin.lms] = report["by_lms"].get(handin.lms, 0) + 1
        rank = (handin.time or "", handin.attempt, handin.order, mtime)
        _choose(report, chosen, (student, target), (rank, member, handin, data, ext))
    dues = {a: due_date(course, a) for a in {target for _, target in chosen}}
    for (student, target), entry in sorted(chosen.items()):
        report["filed"].append(_file(course, student, target, entry, dues[target], dry_run))
    if archive is not None:
        archive.close()
    report["students"] = sorted({f["student"] for f in report["filed"]})
    report["not_handed_in"] = sorted(set(roster.students) - set(report["students"]))
    return report


def describe(report: dict) -> list[str]:
    """The report as lines for people."""
    lines = [f"filed {len(report['filed'])} hand-ins of {len(report['students'])} students "
             f"({', '.join(f'{k}: {v}' for k, v in sorted(report['by_lms'].items())) or 'none'})"]
    for f in report["filed"]:
        late = f"  ({f['note']})" if f.get("note") else "  (late)" if f["late"] else ""
        lines.append(f"  {f['as']}  <- {f['file']}{late}")
    for f in report.get("skipped", []):
        lines.append(f"skipped: {f['file']} ({f['why']})")
    for f in report["superseded"]:
        lines.append(f"superseded: {f['file']} ({f['student']}, {f['assignment']}): {f['why']}")
    for f in report["not_placed"]:
        lines.append(f"NOT PLACED: {f['file']}: {f['why']}")
    if report["not_handed_in"]:
        lines.append(f"on the roster, nothing handed in: {', '.join(report['not_handed_in'])}")
    return lines
