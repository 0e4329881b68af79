"""Every app's browser pages: Virtool's paths and their names, the shared layout, and the static files they load."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

# (URL name, kwargs, path): the paths stay Virtool's, whichever app serves them.
PAGES = [
    ("home", {}, "/"),
    ("account-page", {}, "/account"),
    ("administration-users", {}, "/administration/users"),
    ("administration-groups", {}, "/administration/groups"),
    ("administration-settings", {}, "/administration/settings"),
    ("jobs-page", {}, "/jobs"),
    ("job-page", {"job_id": "j1"}, "/jobs/j1"),
    ("uploads-page", {}, "/uploads"),
    ("samples-page", {}, "/samples"),
    ("labels-page", {}, "/samples/labels"),
    ("sample-page", {"sample_id": "s1"}, "/samples/s1"),
    ("sample-analysis-page", {"sample_id": "s1", "analysis_id": "a1"}, "/samples/s1/analyses/a1"),
    ("analysis-page", {"analysis_id": "a1"}, "/analyses/a1"),
    ("subtractions-page", {}, "/subtractions"),
    ("subtraction-page", {"subtraction_id": "x1"}, "/subtractions/x1"),
    ("references-page", {}, "/refs"),
    ("reference-page", {"ref_id": "r1"}, "/refs/r1"),
    ("otu-page", {"ref_id": "r1", "otu_id": "o1"}, "/refs/r1/otus/o1"),
]
ANONYMOUS_PAGES = [("setup", "/setup"), ("login", "/login"), ("reset", "/reset")]


def static_urls(html: str) -> list[str]:
    """The paths under /static/ that a page's markup loads."""
    return re.findall(r'(?:src|href)="/static/([^"]+)"', html)


def assert_layout(html: str) -> None:
    assert '<header class="site-header">' in html
    assert 'src="/static/virtool/virtool.js"' in html
    assert 'href="/static/virtool/virtool.css"' in html


@pytest.mark.parametrize(("name", "kwargs", "path"), [*PAGES, *((name, {}, path) for name, path in ANONYMOUS_PAGES)])
def test_page_names_reverse_to_virtools_paths(name, kwargs, path) -> None:
    assert reverse(name, kwargs=kwargs) == path


@pytest.mark.parametrize("path", [path for _, _, path in PAGES])
def test_page_renders_in_the_layout_with_static_files_that_exist(admin_client, path) -> None:
    response = admin_client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert_layout(html)
    missing = [url for url in static_urls(html) if not finders.find(url)]
    assert not missing


def test_setup_then_login_pages_for_anonymous_visitors(client, make_user) -> None:
    assert client.get("/samples")["Location"] == "/setup"
    setup = client.get("/setup")
    assert setup.status_code == 200
    assert 'id="setup-form"' in setup.content.decode()
    make_user("ada", role="full")
    assert client.get("/setup")["Location"] == "/login"
    assert client.get("/samples")["Location"] == "/login?next=%2Fsamples"
    for path in ("/login", "/reset"):
        response = client.get(path)
        assert response.status_code == 200
        assert_layout(response.content.decode())


def test_administration_is_refused_to_users_with_the_layout(user_client) -> None:
    response = user_client.get("/administration/users")
    assert response.status_code == 403
    html = response.content.decode()
    assert_layout(html)
    assert "only for administrators" in html


def exported_names(source: str) -> set[str]:
    """The names an ES module exports (the declaration forms these modules use)."""
    return set(re.findall(r"^export (?:async )?(?:function|const|let|class) ([\w$]+)", source, re.MULTILINE))


def test_page_scripts_import_only_what_exists() -> None:
    # A module is served at /static/<app>/<file>, so its relative imports resolve against that URL, not the disk.
    modules = {f"{path.parent.name}/{path.name}": path.read_text() for path in ROOT.glob("*/static/*/*.js")}
    assert "virtool/virtool.js" in modules
    broken = []
    for url, source in modules.items():
        for names, relative in re.findall(r'import \{([^}]*)\} from "(\.[^"]+)"', source):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(url), relative))
            if target not in modules:
                broken.append(f"{url} imports {target}, which does not exist")
                continue
            wanted = {name.split(" as ")[0].strip() for name in names.split(",") if name.strip()}
            broken += [f"{url} imports {name} from {target}" for name in wanted - exported_names(modules[target])]
    assert not broken


# --- Page parts (core/pages.py) ---------------------------------------------------------------------------------


def test_page_parts_keep_their_order_and_are_registered_once(monkeypatch) -> None:
    from core import pages

    monkeypatch.setattr(pages, "PAGE_PARTS", [])
    pages.page_part_register(page="p", slot="a", template="x/late.html", script="x/late.js", order=200)
    pages.page_part_register(page="p", slot="a", template="x/first.html", script="x/part.js")
    pages.page_part_register(page="p", slot="b", template="x/second.html", script="x/part.js")
    pages.page_part_register(page="p", slot="a", template="x/first.html", script="x/part.js")  # ready() again
    pages.page_part_register(page="other", slot="a", template="y/part.html")
    assert [part.template for part in pages.page_parts("p", "a")] == ["x/first.html", "x/late.html"]
    assert [part.template for part in pages.page_parts("p")] == ["x/first.html", "x/second.html", "x/late.html"]
    assert pages.page_scripts("p") == ["x/part.js", "x/late.js"]
    assert pages.page_scripts("other") == []


def test_page_slots_render_their_parts_with_the_page_context(monkeypatch) -> None:
    from django.template import Context, Template

    from core import pages

    monkeypatch.setattr(pages, "PAGE_PARTS", [])
    pages.page_part_register(page="sample", slot="sections", template="includes/pager.html", script="x/part.js")
    html = Template(
        '{% load page_parts %}<main>{% page_slot "sample" "sections" %}{% page_slot "sample" "none" %}</main>'
        '{% page_part_modules "sample" %}'
    ).render(Context({"id": "from-the-page"}))
    assert '<div class="pager" id="from-the-page" hidden>' in html
    assert '<link rel="modulepreload" href="/static/x/part.js">' in html
    assert '<script id="page-parts" type="application/json">["/static/x/part.js"]</script>' in html


def test_analyses_contribute_the_sample_pages_analyses_and_the_lists_selection_action(admin_client) -> None:
    sample = admin_client.get("/samples/s1").content.decode()
    assert '<section class="panel" id="analyses-section"' in sample
    assert sample.index('id="analyses-section"') < sample.index('id="quality-title"')
    assert '<script id="page-parts" type="application/json">["/static/analyses/sample-analyses.js"]</script>' in sample
    samples = admin_client.get("/samples").content.decode()
    assert 'id="bulk-toggle"' in samples
    assert 'id="bulk-form"' in samples
    scripts = '["/static/analyses/samples-part.js", "/static/analyses/samples-compare.js"]'
    assert f'<script id="page-parts" type="application/json">{scripts}</script>' in samples
    assert 'id="compare-selected"' in samples


def test_samples_name_nothing_of_analyses() -> None:
    # Python imports, template tags and ES module imports or static paths of the analyses app.
    forbidden = re.compile(r"^\s*(from|import)\s+analyses\b|[\"'](\.\./|/static/)?analyses/[\w./-]+\.(js|html|css)")
    offending = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "samples").rglob("*")
        if path.suffix in {".py", ".html", ".js"} and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line)
    ]
    assert not offending
