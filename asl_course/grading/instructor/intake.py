"""Intake: file the hand-ins of an LMS download under nbgrader's ``submitted/<student>/<assignment>/``.

Learners hand in through a learning-management system, not nbgrader's exchange (its
extensions do not run in Colab, nbgrader issue 1273). The instructor downloads the LMS's zip
(or its unpacked folder) and a roster CSV, and :func:`intake` files every hand-in:

- **LMS file names** (:data:`PATTERNS`), the forms the LMS exports use:

  - Canvas: ``smithjohn_12345_67890_02_cnn_model.ipynb``, ``smithjohn_late_12345_67890_02_cnn_model-1.ipynb``
    (the name as one lowercase word, ``late`` when handed in after the due date, the Canvas
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
  ``name``, ``first_name``/``last_name``, ``sortable_name``, ``lms_id``/``canvas_id``/``moodle_id``
  /``user_id``, ``username``/``login``, ``email``, ``sid``. An LMS identity is matched by id
  first, then username/email, then the name (letters only, either order).
- **The assignment** is read from the student's file name (Colab's ``Copy of ...``, ``(1)``,
  ``-2`` and the like removed), else from the notebook's own nbgrader ``grade_id`` cells.
- **Several attempts**: the latest is filed (by the LMS's time, then attempt number, then id,
  then the archive's file time); the others are reported as superseded.
- **Every file it could not place** is reported with the reason (unknown student, unknown
  assignment, an LMS name it does not recognise); LMS receipts and folders are skipped silently.

Files are copied as they are (a ``.py`` or ``.html`` export too: ``asl-course repair`` refuses
it with the reason, and grading skips it). A time the LMS records (Blackboard, Gradescope) is
written to ``timestamp.txt``, which nbgrader reads for late penalties.

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
import zipfile
from pathlib import Path, PurePosixPath

from asl_course.errors import UserError

#: LMS receipts and extras that are not hand-ins (skipped without a report line).
IGNORED = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|\._)|submission_metadata\.ya?ml$|index\.html?$")
#: The largest archive member intake will copy (bytes): bigger ones are reported, not extracted.
MAX_MEMBER_BYTES = 1 << 30

_CANVAS = re.compile(r"^(?P<name>[a-z][a-z0-9]*(?:_(?!late_)[a-z][a-z0-9]*)?)(?P<late>_late)?_(?P<uid>\d+)_(?P<aid>\d+)_(?P<file>.+)$",
                     re.IGNORECASE)
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


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


class Roster:
    """The roster CSV: LMS identities -> nbgrader student ids."""

    ID_COLUMNS = ("lms_id", "canvas_id", "moodle_id", "user_id", "sis_id", "id")

    def __init__(self, rows: list[dict], source: str = "roster"):
        self.ids, self.names, self.source = {}, {}, source
        self.students = []
        for n, row in enumerate(rows, start=2):
            row = {str(k).strip().lower(): str(v or "").strip() for k, v in row.items() if k}
            sid = row.get("student_id") or row.get("student")
            if not sid:
                raise UserError(f"{source}, line {n}: no student_id (the roster needs a student_id column: "
                                "the nbgrader id each LMS identity is filed under)")
            if not re.fullmatch(r"[A-Za-z0-9_.@+-]+", sid):
                raise UserError(f"{source}, line {n}: student_id {sid!r} cannot be a folder name "
                                "(letters, digits and _ . @ + - only)")
            self.students.append(sid)
            for key in self.ID_COLUMNS + ("username", "login", "email", "sid", "student_id"):
                if row.get(key):
                    self.ids.setdefault(row[key].lower(), sid)
            names = {row.get("name", ""), row.get("sortable_name", ""),
                     f"{row.get('first_name', '')} {row.get('last_name', '')}",
                     f"{row.get('last_name', '')} {row.get('first_name', '')}"}
            if row.get("name"):
                parts = row["name"].replace(",", " ").split()
                names |= {" ".join(parts), " ".join(parts[::-1])}
            for name in names:
                if _letters(name):
                    self.names.setdefault(_letters(name), set()).add(sid)

    @classmethod
    def read(cls, path) -> "Roster":
        path = Path(path)
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
        except OSError as exc:
            raise UserError(f"cannot read the roster {path}: {exc}") from None
        if not rows:
            raise UserError(f"the roster {path} has no rows (a header line with student_id, then one line per student)")
        return cls(rows, str(path))

    def find(self, who: dict) -> tuple[str | None, str]:
        """``(student_id, "")`` or ``(None, why)``."""
        for key in ("student_id", "lms_id", "sid", "username", "email"):
            value = str(who.get(key) or "").lower()
            if value and value in self.ids:
                return self.ids[value], ""
        name = _letters(who.get("name", ""))
        if name:
            found = self.names.get(name, set())
            if len(found) == 1:
                return next(iter(found)), ""
            if len(found) > 1:
                return None, f"the name {who['name']!r} is on the roster {len(found)} times ({', '.join(sorted(found))}): add its LMS id to the roster"
        shown = ", ".join(f"{k} {v!r}" for k, v in who.items() if v)
        return None, f"not on the roster ({shown}): add a line for this student to {self.source}"


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
            return Handin(member, "moodle", m["file"].split("/")[-1], {"name": m["name"], "lms_id": m["uid"]},
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
    key = _letters(stem)
    found = [a for a in assignments if _letters(a) == key]
    if len(found) == 1:
        return found[0]
    prefixed = [a for a in assignments if stem.startswith(a) or a.startswith(stem + "_")]
    return prefixed[0] if len(prefixed) == 1 else None


def assignment_of_content(data: bytes, ids_by_assignment: dict) -> str | None:
    """The assignment whose grade_ids a notebook's cells carry (None if unreadable or unclear)."""
    try:
        nb = json.loads(data.decode("utf-8"))
        ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.get("cells", [])
               if isinstance(c, dict)}
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
            out.append((path.relative_to(download).as_posix(), st.st_size, st.st_mtime, path.read_bytes))
        return out, None
    if not zipfile.is_zipfile(download):
        raise UserError(f"{download} is neither a folder nor a zip file: pass the LMS's download (.zip) or its unpacked folder")
    archive = zipfile.ZipFile(download)
    out = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        when = datetime.datetime(*info.date_time).timestamp()
        out.append((info.filename, info.file_size, when, (lambda i=info: archive.read(i))))
    return out, archive


def _release_ids(course: Path, assignments) -> dict:
    out = {}
    for a in assignments:
        path = course / "release" / a / f"{a}.ipynb"
        try:
            nb = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        out[a] = [c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"]
                  if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")]
    return out


def course_assignments(course: Path) -> list[str]:
    found = sorted(p.name for p in (Path(course) / "release").glob("*") if (p / f"{p.name}.ipynb").is_file())
    if not found:
        raise UserError(f"{course} has no released assignment (release/<assignment>/<assignment>.ipynb): "
                        "run `nbgrader generate_assignment ASSIGNMENT` in the course folder first")
    return found


def intake(course, download, roster, *, assignment: str | None = None, dry_run: bool = False) -> dict:
    """File the hand-ins of ``download`` (zip or folder) under ``course/submitted/``.

    ``assignment``: the assignment every hand-in belongs to (else each file's name or content
    says). Returns ``{"filed": [...], "superseded": [...], "not_placed": [...], "by_lms": {...}}``.
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
    report = {"download": str(download), "filed": [], "superseded": [], "not_placed": [], "by_lms": {}}
    chosen: dict[tuple[str, str, str], tuple] = {}
    for member, size, mtime, read in members:
        if IGNORED.search(member):
            continue
        handin = parse_name(member, gradescope)
        if handin is None:
            report["not_placed"].append({"file": member, "why": "its name is in no LMS form this course reads ("
                                         + "; ".join(PATTERNS.values()) + ")"})
            continue
        if handin.lms == "blackboard-receipt":
            continue
        if size > MAX_MEMBER_BYTES:
            report["not_placed"].append({"file": member, "why": f"{size / 1e6:.0f} MB: larger than intake copies "
                                         f"({MAX_MEMBER_BYTES / 1e6:.0f} MB); ask the student for the notebook without outputs"})
            continue
        student, why = roster.find(handin.who)
        if student is None:
            report["not_placed"].append({"file": member, "why": why})
            continue
        data = read()
        target = assignment or assignment_of_name(handin.file, assignments) or assignment_of_content(data, ids)
        if target is None:
            report["not_placed"].append({"file": member, "student": student, "why":
                                         f"{handin.file!r} names none of the assignments ({', '.join(assignments)}) "
                                         "and its cells carry none of their grade_ids: pass --assignment if it is one"})
            continue
        ext = PurePosixPath(handin.file).suffix.lower() or ".ipynb"
        if ext not in (".ipynb", ".py", ".html", ".htm", ".json", ".txt", ".pdf"):
            report["not_placed"].append({"file": member, "student": student,
                                         "why": f"a {ext} file, not a notebook (the course grades {target}.ipynb)"})
            continue
        rank = (handin.time or "", handin.attempt, handin.order, mtime)
        entry = (rank, member, handin, data, ext)
        key = (student, target)
        report["by_lms"][handin.lms] = report["by_lms"].get(handin.lms, 0) + 1
        if key in chosen:
            old = chosen[key]
            newer, older = (entry, old) if rank > old[0] else (old, entry)
            chosen[key] = newer
            report["superseded"].append({"file": older[1], "student": student, "assignment": target,
                                         "why": f"an earlier attempt: {newer[1]} is later"})
        else:
            chosen[key] = entry
    for (student, target), (rank, member, handin, data, ext) in sorted(chosen.items()):
        folder = course / "submitted" / student / target
        name = f"{target}{'.ipynb' if ext in ('.ipynb', '.json') else ext}"
        if not dry_run:
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            (folder / name).write_bytes(data)
            if handin.time:  # nbgrader reads it for late penalties
                stamp = datetime.datetime.fromisoformat(str(handin.time).replace("Z", "+00:00"))
                if stamp.tzinfo is not None:
                    stamp = stamp.astimezone(datetime.timezone.utc).replace(tzinfo=None)
                (folder / "timestamp.txt").write_text(stamp.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC")
        report["filed"].append({"student": student, "assignment": target, "file": member, "lms": handin.lms,
                                "as": f"submitted/{student}/{target}/{name}", "late": handin.late,
                                "time": handin.time})
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
        lines.append(f"  {f['as']}  <- {f['file']}{'  (late)' if f['late'] else ''}")
    for f in report["superseded"]:
        lines.append(f"superseded: {f['file']} ({f['student']}, {f['assignment']}): {f['why']}")
    for f in report["not_placed"]:
        lines.append(f"NOT PLACED: {f['file']}: {f['why']}")
    if report["not_handed_in"]:
        lines.append(f"on the roster, nothing handed in: {', '.join(report['not_handed_in'])}")
    return lines
