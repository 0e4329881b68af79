"""Who may import whom (`../shared/docs/style.md`): every module's imports, Python and browser scripts alike.

The rules below are that section of the style guide, as data. A module of an app may import its own app, the apps
listed for it, and third-party code; `virtool_site` (wiring) may import anything and nothing imports it.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

REFERENCES = {"references", "otus", "indexes"}  # one part: references, their OTUs and history, their indexes
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "users": {"core"},
    "jobs": {"core", "users"},
    "files": {"core", "users"},
    "subtractions": {"core", "users", "files", "jobs"},
    "hmm": {"core", "users", "files", "jobs"},
    "samples": {"core", "users", "files", "jobs", "subtractions"},
    **{app: {"core", "users", "files", "jobs"} | (REFERENCES - {app}) for app in REFERENCES},
    "analyses": {"core", "users", "files", "jobs", "subtractions", "hmm", "samples"} | REFERENCES,
    # This software's own releases: it stands alone on core (the layout holds the slot its notice fills).
    "software": {"core"},
}
APPS = set(ALLOWED)
# Browser assets are served under /static/<app>/...; core's shared ones under /static/virtool/.
STATIC_NAMESPACES = {"virtool": "core"}


def _app_of(module: str) -> str | None:
    top = module.split(".")[0]
    if top == "virtool_site":
        return "virtool_site"
    return top if top in APPS else None


def python_imports() -> list[tuple[str, str, str]]:
    """(app, imported app, where) for every import between apps in the apps' Python modules (not migrations)."""
    found = []
    for app in sorted(APPS):
        folder = ROOT / app
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    target = _app_of(module)
                    if target and target != app:
                        found.append((app, target, f"{path.relative_to(ROOT)}:{node.lineno} imports {module}"))
    return found


# `import {a, b} from "x"` (over several lines too), `export {a} from "x"`, `import("x")`, `import "x"`.
_JS_IMPORT = re.compile(
    r"""\b(?:import|export)\b[\w\s{},*$]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']|\bimport\s*["']([^"']+)["']"""
)


def script_imports(text: str) -> list[tuple[int, str]]:
    """(line number, specifier) of every import in a script."""
    return [
        (text.count("\n", 0, match.start()) + 1, next(group for group in match.groups() if group))
        for match in _JS_IMPORT.finditer(text)
    ]


_TEMPLATE_REF = re.compile(r"""{%\s*(?:extends|include|static)\s+["']([^"']+)["']""")


def _static_app(url_path: str) -> str | None:
    """The app owning a path under /static/ (`samples/sample.js` → samples; `virtool/virtool.js` → core)."""
    namespace = url_path.strip("/").split("/")[0]
    return STATIC_NAMESPACES.get(namespace, namespace if namespace in APPS else None)


def browser_imports() -> list[tuple[str, str, str]]:
    """(app, used app, where) for every script import and template reference that crosses apps."""
    found = []
    for app in sorted(APPS):
        static = ROOT / app / "static"
        for path in sorted(static.rglob("*.js")) if static.is_dir() else []:
            url = "/" + path.relative_to(static).as_posix()
            for lineno, specifier in script_imports(path.read_text()):
                if not specifier.startswith((".", "/")):
                    continue
                resolved = (Path(url).parent / specifier).as_posix() if specifier.startswith(".") else specifier
                target = _static_app(os.path.normpath(resolved).removeprefix("/static"))
                if target and target != app:
                    found.append((app, target, f"{path.relative_to(ROOT)}:{lineno} imports {specifier}"))
        templates = ROOT / app / "templates"
        for path in sorted(templates.rglob("*.html")) if templates.is_dir() else []:
            for lineno, line in enumerate(path.read_text().splitlines(), 1):
                for reference in _TEMPLATE_REF.findall(line):
                    first = reference.split("/")[0]
                    target = _static_app(first) if "/" in reference else "core"
                    if target and target != app:
                        found.append((app, target, f"{path.relative_to(ROOT)}:{lineno} uses {reference}"))
    return found


def _breaches(edges: list[tuple[str, str, str]]) -> list[str]:
    return [where for app, target, where in edges if target == "virtool_site" or target not in ALLOWED[app]]


def test_python_imports_follow_who_may_import_whom():
    edges = python_imports()
    assert edges, "the scan found no imports between apps at all: it is not reading the code"
    assert _breaches(edges) == []


def test_browser_scripts_and_templates_follow_who_may_import_whom():
    edges = browser_imports()
    assert _breaches(edges) == []


def test_core_holds_no_domain_page():
    """Core's templates are the shared layout and error pages; its scripts are the shared helpers."""
    pages = ROOT / "core" / "static" / "virtool" / "pages"
    assert not pages.exists() or not list(pages.rglob("*.js"))
    templates = ROOT / "core" / "templates"
    domain = [p for p in templates.rglob("*.html")] if templates.is_dir() else []
    assert all(p.relative_to(templates).parts[0] not in APPS - {"core"} for p in domain)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('import { api } from "../virtool/virtool.js";', [(1, "../virtool/virtool.js")]),
        ('// header\nimport {\n  a,\n  b,\n} from "../jobs/jobs-common.js";', [(2, "../jobs/jobs-common.js")]),
        ('export { percent } from "./common.js";', [(1, "./common.js")]),
        ('const part = await import("../analyses/sample-part.js");', [(1, "../analyses/sample-part.js")]),
        ('import "./side-effect.js";', [(1, "./side-effect.js")]),
        ('const text = "important"; h("a", { text: "from" });', []),
    ],
)
def test_script_import_pattern(text, expected):
    """The scan recognises every import form the pages use."""
    assert script_imports(text) == expected


def test_samples_import_nothing_of_analyses():
    """Samples never name the analyses app, in code, scripts or templates (a database cascade links them)."""
    edges = [e for e in python_imports() + browser_imports() if e[0] == "samples" and e[1] == "analyses"]
    assert edges == []
