"""Finding the release's two files among what the user gives: CSVs, ``.csv.gz``, Kaggle's zip,
folders (searched through), and reading them (several identical copies are fine).
"""

from __future__ import annotations

import gzip
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from asl_course.errors import one_line
from .files import KAGGLE_URL, RELEASE_FILES, DataError, sha256_bytes


_RELEASE_NAME = re.compile(r"^sign_mnist_(train|test)(?: ?\(\d+\))?\.csv(\.gz)?$", re.IGNORECASE)


@dataclass
class Source:
    role: str  # "train" or "test"
    path: Path
    member: str | None = None  # name inside a zip
    size: int | None = None  # unpacked size, when known without reading
    crc: int | None = None  # zip CRC32, when known

    @property
    def label(self) -> str:
        return f"{self.path}:{self.member}" if self.member else str(self.path)

    @property
    def name(self) -> str:
        return RELEASE_FILES[self.role]

    def read(self) -> bytes:
        try:
            if self.member is not None:
                with zipfile.ZipFile(self.path) as archive:
                    data = archive.read(self.member)
            elif self.path.name.lower().endswith(".gz"):
                with gzip.open(self.path, "rb") as handle:
                    data = handle.read()
            else:
                data = self.path.read_bytes()
        except FileNotFoundError:
            raise DataError(f"{self.label}: no such file. Check the path and try again.") from None
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile, gzip.BadGzipFile) as exc:
            raise DataError(
                f"{self.label} cannot be unpacked ({one_line(exc)}): the download is damaged "
                "or incomplete. Get the file again."
            ) from None
        return data


def _zip_sources(path: Path) -> list[Source]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(
            f"{path} is not a readable zip ({one_line(exc)}): the download is damaged or "
            "incomplete. Get it again."
        ) from None
    found = []
    for info in infos:
        parts = info.filename.split("/")
        base = parts[-1]
        if info.is_dir() or "__MACOSX" in parts or base.startswith("._"):
            continue
        match = _RELEASE_NAME.match(base)
        if match and not match.group(2):
            found.append(Source(match.group(1).lower(), path, info.filename, info.file_size, info.CRC))
    if not found:
        names = [i.filename for i in infos if not i.is_dir()]
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "") if names else "nothing"
        raise DataError(
            f"{path} holds no sign_mnist_train.csv or sign_mnist_test.csv (it holds: {shown}). "
            f"Download the Sign Language MNIST zip from {KAGGLE_URL} and import that."
        )
    return found


_SKIP_DIRS = {"__MACOSX", "__pycache__", "node_modules", "site-packages"}


def _walk_files(root: Path) -> list[Path]:
    """Files under ``root``, sorted; hidden folders (.git, .venv, ...) and our own data
    folders' temporary siblings are not searched."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        found.extend(Path(folder) / f for f in sorted(files) if not f.startswith("._"))
    return found


def collect_sources(paths) -> dict[str, list[Source]]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [Path(p).expanduser() for p in paths]
    if not paths:
        raise DataError(
            "No input given: pass the release's sign_mnist_train.csv and sign_mnist_test.csv, "
            "the zip from Kaggle, or a folder holding them."
        )
    found: dict[str, list[Source]] = {"train": [], "test": []}
    for path in paths:
        if path.is_dir():
            sources = []
            for item in _walk_files(path):
                match = _RELEASE_NAME.match(item.name)
                if match:
                    sources.append(Source(match.group(1).lower(), item))
                elif item.suffix.lower() == ".zip":
                    sources.extend(_zip_sources(item))
            if not sources:
                raise DataError(
                    f"Found no sign_mnist_train.csv / sign_mnist_test.csv (or .csv.gz, or a zip "
                    f"holding them) in the folder {path} (searched all its subfolders). Download "
                    f"them from {KAGGLE_URL} and pass their folder or the files."
                )
        elif path.is_file():
            match = _RELEASE_NAME.match(path.name)
            if match:
                sources = [Source(match.group(1).lower(), path)]
            elif path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
                sources = _zip_sources(path)
            else:
                raise DataError(
                    f"{path}: cannot tell which release file this is. The import takes "
                    "sign_mnist_train.csv and sign_mnist_test.csv as the release names them "
                    "(or .csv.gz), the zip from Kaggle, or a folder holding them."
                )
        else:
            raise DataError(
                f"{path}: no such file or folder. Pass the release's sign_mnist_train.csv and "
                f"sign_mnist_test.csv, the zip from Kaggle ({KAGGLE_URL}), or their folder."
            )
        for source in sources:
            found[source.role].append(source)
    for role in ("train", "test"):
        if not found[role]:
            other = [s.label for s in found["test" if role == "train" else "train"]]
            raise DataError(
                f"No {RELEASE_FILES[role]} among the inputs (found only {', '.join(other)}). "
                f"The release has two files; pass both (or the zip from Kaggle, {KAGGLE_URL})."
            )
    return found


def read_role(sources: list[Source]) -> tuple[Source, bytes]:
    """Read the one file for a role; several identical copies are fine, different ones are not."""
    first = sources[0]
    if len(sources) > 1 and all(s.crc is not None for s in sources):
        if len({(s.size, s.crc) for s in sources}) == 1:
            return first, first.read()
    data = first.read()
    digest = sha256_bytes(data) if len(sources) > 1 else None
    for other in sources[1:]:
        if sha256_bytes(other.read()) != digest:
            raise DataError(
                f"Found two different {first.name} files: {first.label} and {other.label}. "
                "Pass the one you mean."
            )
    return first, data
