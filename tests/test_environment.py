"""The pinned environment: requirements.txt is the one source of truth, and it is installed."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent

#: The set measured to work together (DEVELOPERS.md, issue 2).
REQUIRED_PINS = {
    "tensorflow-cpu": "2.21.0",
    "keras": "3.15.1",
    "nbgrader": "0.9.6",
    "nbval": "0.11.0",
    "pytest": "9.2.0",
    "jupyterlab": "4.6.6",
}
REQUIRED_PACKAGES = {"pandas", "numpy", "scipy", "matplotlib", "pillow", "kagglehub", "ipykernel"}


def pins() -> dict[str, str]:
    found = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"requirements.txt: '{line}' is not pinned with =="
        found[canonicalize_name(name)] = version
    return found


def test_requirements_pin_the_measured_set():
    found = pins()
    for name, version in REQUIRED_PINS.items():
        assert found.get(name) == version, f"{name} should be pinned to {version}, got {found.get(name)}"
    missing = {canonicalize_name(n) for n in REQUIRED_PACKAGES} - set(found)
    assert not missing, f"requirements.txt lacks {sorted(missing)}"


def test_environment_yml_uses_the_same_pins():
    text = (REPO / "environment.yml").read_text()
    assert re.search(r"^\s*-\s*python=3\.11\s*$", text, re.M), "environment.yml must ask for python=3.11"
    assert re.search(r"^\s*-\s*-r requirements\.txt\s*$", text, re.M), "environment.yml must install requirements.txt"
    conda = re.findall(r"^  - ([A-Za-z0-9_.\-]+)[=<>]", text, re.M)
    clash = {canonicalize_name(n) for n in conda} & set(pins())
    assert not clash, f"environment.yml pins {sorted(clash)} through conda as well as requirements.txt"


def test_pyproject_agrees_with_the_pins():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"].startswith(">=3.11")
    found = pins()
    for spec in project["dependencies"]:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in found, f"pyproject depends on {req.name}, which requirements.txt does not pin"
        assert req.specifier.contains(found[name]), f"{req.name}=={found[name]} does not satisfy pyproject's {spec}"


def test_installed_versions_match_the_pins():
    """The tests run in the pinned environment (catches a stale or hand-made venv)."""
    found = pins()
    for name in REQUIRED_PINS:
        assert metadata.version(name) == found[name], f"installed {name} {metadata.version(name)} != pinned {found[name]}"
