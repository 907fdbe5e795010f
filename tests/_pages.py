"""Feedback pages for the feedback tests: a notebook through the course's sanitizer, the HTML
page nbconvert makes of it (what generate_feedback shows), and what in such HTML runs or loads
(judged here without the sanitizer's own functions, so that a mistake in them is not repeated)."""

import re

from asl_course.grading.plugins import feedback

#: Elements that run, load, submit or restyle the page (none of them is the student's to keep).
ACTIVE = ("script", "style", "iframe", "frame", "object", "embed", "svg", "math", "base", "meta", "link", "form",
          "textarea", "select", "button", "noscript", "template", "audio", "video", "source")
_LINK = re.compile(r"^(https?:|mailto:|#|[^:]*$)", re.IGNORECASE)  # a link to a page, or a relative one


def sanitized(nb):
    nb, _ = feedback.SanitizeStudentHTML().preprocess(nb, {})
    return nb


def page(nb):
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(nb)
    return html


def dangers(html: str) -> list[str]:
    """What in ``html`` (a page's body, or a fragment) runs, loads or submits: active elements,
    event handlers, links to anything but a page, images not embedded, CSS beyond text-align,
    inputs other than disabled check boxes."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    found = [f"<{tag.name}>" for tag in (soup.body or soup).find_all(ACTIVE)]
    for tag in (soup.body or soup).find_all(True):
        for name, value in tag.attrs.items():
            value = " ".join(value) if isinstance(value, list) else value
            url = re.sub(r"[\x00-\x20]", "", value)
            if (name.startswith("on") or name in ("action", "formaction", "srcset", "background", "poster")
                    or name == "href" and not _LINK.match(url) or name == "src" and not url.startswith("data:image/")
                    or name == "style" and not re.fullmatch(r"text-align:\s*(left|right|center);?", value)):
                found.append(f"<{tag.name} {name}={value!r}>")
        if tag.name == "input" and not (tag.get("type") == "checkbox" and tag.has_attr("disabled")):
            found.append(str(tag))
    return found
