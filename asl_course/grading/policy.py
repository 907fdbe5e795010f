"""The reference implementation is importable: answers that call it score 0."""

from __future__ import annotations

import ast

from .language import t

from .registry import answer_of  # noqa: F401 - re-exported: the answer cell an exercise grades


# --- The reference implementation is importable: answers that call it score 0 -----------------------

#: The course modules a notebook's setup imports (or a student could), holding reference code.
REFERENCE_MODULES = ("lesson", "predict", "evaluation", "checks", "grading", "synthetic", "augment", "augmentation",
                     "recipe", "asl_course")


def reference_calls(source: str) -> list[str]:
    """What an answer cell uses of the course's own package (its reference implementation):
    imports of ``asl_course``, attributes of the modules the setup imports (``lesson.build_model``),
    and strings naming the package (``__import__("asl_course.learners.lesson")``, or an old release's ``asl_course.lesson``). Empty for own work."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "asl_course"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "asl_course":
            found += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in REFERENCE_MODULES:
            found.append(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "asl_course" in node.value:
            found.append(repr(node.value[:40]))
    return sorted(set(found))


def reference_mistake(calls: list[str], lang: str | None = None) -> str:
    """The feedback for an answer that calls the course's reference implementation (in ``lang``)."""
    return t("the answer calls the course's reference implementation ({calls}): the course's "
             "policy is that an answer is your own code, so this exercise scores 0. Write the code yourself "
             "(the lesson's text shows each step)", lang=lang, calls=", ".join(calls[:4]))


# --- The former API (kept for hidden tests written against it) ----------------------------------
