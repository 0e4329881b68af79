"""NuVs in headless Chromium. A NuVs analysis stored in the database (a sample, the real vFam HMMs installed,
results in the workflow's shape, one hit on a profile purged since): its contigs best e-value first, the filters
kept in the address, a contig opened to its ORF map on both strands (and the same ORFs as a table), its HMM hits,
the FASTA downloads; the start forms offering NuVs, disabled with the reason while no HMMs are installed.
The acceptance test: HMMs installed, NuVs started from the sample page on a real worker, its result opened and
a contig BLASTed against the recorded NCBI server, whose result table the page shows live."""

from __future__ import annotations

import random
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.analyses.ncbi_server import FakeNCBI, ncbi  # noqa: F401  (fixture)
from tests.browser.conftest import in_thread
from tests.browser.test_analyses import SCREENSHOTS, open_page
from tests.conftest import session_cookie_for
from tests.hmm.conftest import DATA as HMM_DATA

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PURGED = "gone0001"  # the id of an HMM no longer installed

# Records every state the BLAST panels show ([contig, state]), so a test can tell the page followed a search live.
RECORD_BLAST = """
window.__blast = [];
new MutationObserver(() => {
  for (const node of document.querySelectorAll("[data-part=blast][data-state]")) {
    const contig = node.closest("[data-contig]")?.dataset.contig;
    const text = node.querySelector("[data-state]")?.dataset.state || node.dataset.state;
    const last = window.__blast.filter((entry) => entry[0] === contig).pop();
    if (!last || last[1] !== text) window.__blast.push([contig, text]);
  }
}).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] });
"""


def contig_with_orfs(rng: random.Random, index: int, length: int, orfs: list[tuple[int, int, int, int, list]]) -> dict:
    """A contig of `length` random bases with ORFs `(strand, frame, start, end, hits)` in the stored shape."""
    sequence = "".join(rng.choice("ACGT") for _ in range(length))
    stored = []
    for position, (strand, frame, start, end, hits) in enumerate(orfs):
        stored.append(
            {
                "index": position,
                "frame": frame,
                "strand": strand,
                "pos": [start, end],
                "pro": "M" + "".join(rng.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range((end - start) // 3 - 1)),
                "hits": hits,
            }
        )
    return {"index": index, "sequence": sequence, "orfs": stored}


def hmm_hit(hmm_id: str, full_e: float, score: float) -> dict:
    """An hmmscan hit as the workflow stores it (best_bias and best_score swapped, as Virtool keeps them)."""
    return {
        "hit": hmm_id,
        "full_e": full_e,
        "full_score": score,
        "full_bias": 0.2,
        "best_e": full_e * 2,
        "best_bias": score - 1,
        "best_score": 0.1,
    }


def nuvs_results(hmms: dict[int, str]) -> dict:
    """Four contigs: two ORFs on both strands hit (1e-30, 1e-8), one weak hit (0.5), one unannotated, one hit on a
    purged HMM (1e-12)."""
    rng = random.Random(11)
    return {
        "hits": [
            contig_with_orfs(rng, 0, 900, [(1, 0, 0, 600, [hmm_hit(hmms[1000], 0.5, 12.0)])]),
            contig_with_orfs(
                rng,
                1,
                1800,
                [
                    (1, 1, 100, 1000, [hmm_hit(hmms[10], 1e-30, 105.3), hmm_hit(hmms[100], 1e-3, 20.1)]),
                    (-1, 2, 1100, 1700, [hmm_hit(hmms[100], 1e-8, 40.5)]),
                    (-1, 0, 200, 560, []),
                ],
            ),
            contig_with_orfs(rng, 2, 2400, [(1, 2, 302, 1202, []), (-1, 1, 1500, 2100, [])]),
            contig_with_orfs(rng, 3, 700, [(-1, 0, 40, 640, [hmm_hit(PURGED, 1e-12, 50.0)])]),
        ]
    }


def keep_assembly(analysis_id: str) -> bytes:
    """The contigs written gzipped to the analysis folder as `assembly.fa.gz` and recorded as its result file."""
    import gzip

    from analyses.models import Analysis
    from analyses.selectors import analysis_path
    from analyses.services import analysis_files_record

    analysis = Analysis.objects.get(pk=analysis_id)
    fasta = "".join(f">contig_{c['index']}\n{c['sequence']}\n" for c in analysis.results["hits"])
    data = gzip.compress(fasta.encode(), mtime=0)
    folder = analysis_path(analysis)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "assembly.fa.gz").write_bytes(data)
    analysis_files_record(analysis_id=analysis_id)
    return data


def make_nuvs(user, *, results: dict | None) -> dict:
    """A sample, a reference with a ready index and a NuVs analysis of them (ready with `results` unless None)."""
    from analyses.models import Analysis
    from indexes.models import Index
    from references.models import Reference
    from samples.models import Sample

    sample = Sample.objects.create(name="Leaf 7", user=user, ready=True, all_read=True, all_write=True)
    reference = Reference.objects.create(name="Plant viruses", user=user)
    index = Index.objects.create(reference=reference, version=0, ready=True, user=user)
    analysis = Analysis.objects.create(
        workflow="nuvs",
        sample=sample,
        reference=reference,
        reference_name=reference.name,
        index=index,
        index_version=0,
        user=user,
        ready=results is not None,
        results=results,
    )
    return {"sample": sample.pk, "analysis": analysis.pk, "reference": reference.pk}


def install_hmms() -> dict[int, str]:
    """The real vFam profiles installed as the install command does; their annotation ids by cluster."""
    from hmm import services
    from hmm.models import HMM

    services.hmm_install_files(
        profiles=HMM_DATA / "profiles.hmm", annotations=HMM_DATA / "annotations.json.gz", user=None
    )
    return dict(HMM.objects.values_list("cluster", "id"))


@pytest.fixture
def scientist(make_user):
    return make_user("ada", role="full")


def contig_order(page: Page) -> list[str]:
    return page.locator("#contig-table tbody.contig-group").evaluate_all(
        "(nodes) => nodes.map((n) => n.dataset.contig)"
    )


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_nuvs_result_contigs_filters_orf_map_and_downloads(scientist, live_server_url: str, browser: Browser) -> None:
    hmms = in_thread(install_hmms)
    results = nuvs_results(hmms)
    results["hits"][0]["depth"] = 12.34  # measured since: shown beside the length; the others have none
    made = in_thread(lambda: make_nuvs(scientist, results=results))
    assembly = in_thread(lambda: keep_assembly(made["analysis"]))
    cookie = in_thread(lambda: session_cookie_for(scientist))
    url = f"/samples/{made['sample']}/analyses/{made['analysis']}"
    context, page, errors = open_page(browser, live_server_url, cookie, url)

    # The header: what NuVs found, at a glance.
    expect(page.locator("#analysis-title")).to_have_text("NuVs · Leaf 7")
    expect(page.locator("[data-fact=contigs]")).to_have_text("4")
    expect(page.locator("[data-fact=orfs]")).to_have_text("7")
    expect(page.locator("[data-fact=annotated_contigs]")).to_have_text("3")
    expect(page.locator("#results-section")).to_be_hidden()
    expect(page.locator("#analysis-exports")).to_be_hidden()

    # Best e-value first; the unannotated contig last. Each row: length, annotated ORFs, best e-value and hit.
    expect(page.locator("#contig-table tbody.contig-group")).to_have_count(4)
    assert contig_order(page) == ["1", "3", "0", "2"]
    first = page.locator("tbody.contig-group[data-contig='1'] .contig-row")
    expect(first.locator("[data-part=length]")).to_have_text("1,800 nt")
    expect(page.locator("tbody.contig-group[data-contig='0'] [data-part=length]")).to_have_text(
        "900 nt · 12.3× depth"  # noqa: RUF001 - the multiplication sign of depths
    )
    expect(first.locator("[data-part=orfs]")).to_have_text("2 of 3")
    expect(first.locator("[data-part=evalue]")).to_have_text("1.0e-30")
    expect(first.locator("[data-part=best]")).to_have_text("Papillomaviridae · L1")
    purged = page.locator("tbody.contig-group[data-contig='3'] .contig-row")
    expect(purged.locator("[data-part=best]")).to_have_text("HMM no longer installed")
    expect(page.locator("tbody.contig-group[data-contig='2'] [data-part=best]")).to_have_text("No HMM hit")
    expect(page.locator("#nuvs-count")).to_have_text("4 of 4 contigs shown, best HMM e-value first.")

    # Filters: only annotated contigs, then an e-value threshold; both kept in the address across a reload.
    page.get_by_label("Only contigs with HMM hits").check()
    expect(page.locator("#contig-table tbody.contig-group")).to_have_count(3)
    page.get_by_label("Best e-value at most").select_option("1e-5")
    expect(page.locator("#contig-table tbody.contig-group")).to_have_count(2)
    assert contig_order(page) == ["1", "3"]
    expect(page.locator("#nuvs-count")).to_have_text(
        "2 of 4 contigs shown, best HMM e-value first; 2 hidden by the filters."
    )
    assert query(page)["annotated"] == ["1"]
    assert query(page)["evalue"] == ["1e-5"]
    page.reload()
    expect(page.get_by_label("Only contigs with HMM hits")).to_be_checked()
    expect(page.get_by_label("Best e-value at most")).to_have_value("1e-5")
    expect(page.locator("#contig-table tbody.contig-group")).to_have_count(2)
    page.get_by_label("Best e-value at most").select_option("1e-50")
    expect(page.locator("#contig-table tbody.contig-group")).to_have_count(0)
    expect(page.locator("#nuvs-empty")).to_have_text("No contig passes the filters. Loosen them to see the others.")
    page.get_by_label("Best e-value at most").select_option("")
    page.get_by_label("Only contigs with HMM hits").uncheck()
    expect(page.locator("#contig-table tbody.contig-group")).to_have_count(4)

    # Expand the best contig: its ORFs on both strands, to scale, labelled with their best hits.
    page.get_by_role("button", name="Contig 1", exact=True).click()
    detail = page.locator("#contig-detail-1")
    expect(detail).to_be_visible()
    assert query(page)["open"] == ["1"]
    figure = detail.locator("svg.orf-map")
    expect(figure).to_have_attribute("data-length", "1800")
    expect(figure.locator("title").first).to_have_text(
        "ORF map of contig 1 (1,800 nt): 1 ORF on the plus strand, 2 on the minus strand"
    )
    plus = figure.locator(".orf-track[data-strand=plus] g.orf")
    minus = figure.locator(".orf-track[data-strand=minus] g.orf")
    expect(plus).to_have_count(1)
    expect(minus).to_have_count(2)
    expect(plus.locator(".orf-label")).to_have_text("Papillomaviridae · L1 · 1.0e-30")
    expect(figure.locator("g.orf[data-orf='1'] .orf-label")).to_have_text(
        "Baculoviridae · late expression factor 11 · 1.0e-8"
    )
    expect(figure.locator("g.orf[data-orf='2'] .orf-label")).to_have_text("ORF 2 · no HMM hit")
    # To scale: an ORF's drawn width over the contig's is its length over the contig's.
    widths = figure.evaluate(
        """(svg) => {
          const contig = svg.querySelector('.orf-contig').getBBox();
          const orf = svg.querySelector("g.orf[data-orf='0'] polygon").getBBox();
          return [contig.x, contig.width, orf.x, orf.width];
        }"""
    )
    contig_x, contig_width, orf_x, orf_width = widths
    assert abs((orf_x - contig_x) / contig_width - 100 / 1800) < 0.005, widths
    assert abs(orf_width / contig_width - 900 / 1800) < 0.005, widths
    # Plus-strand ORFs above the contig, minus-strand ones below.
    tops = figure.evaluate(
        """(svg) => ['plus', 'minus'].map((strand) =>
          svg.querySelector(`.orf-track[data-strand=${strand}] polygon`).getBBox().y)
          .concat([svg.querySelector('.orf-contig').getBBox().y])"""
    )
    assert tops[0] < tops[2] < tops[1], tops
    # The same ORFs as a table for screen readers.
    table = detail.locator("[data-part=orf-map-table]")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("tbody tr").first).to_contain_text("plus")
    expect(table.locator("tbody tr").first).to_contain_text("101")
    expect(table.locator("tbody tr").first).to_contain_text("Papillomaviridae · L1 · 1.0e-30")
    # The HMM hits of each ORF, best first, linking to the profile's page.
    hits = detail.locator("[data-part=orf-hits] tbody tr")
    expect(hits).to_have_count(4)
    expect(hits.nth(0).get_by_role("link", name="vFam_10")).to_have_attribute("href", f"/hmms/{hmms[10]}")
    expect(hits.nth(1)).to_contain_text("Baculoviridae")
    expect(detail.locator("[data-part=blast]")).to_contain_text("BLAST at NCBI")
    page.screenshot(path=str(SCREENSHOTS / "nuvs-result.png"), full_page=True)

    # A hit on a purged HMM reads as such.
    page.get_by_role("button", name="Contig 3", exact=True).click()
    expect(page.locator("#contig-detail-3 [data-part=orf-hits]")).to_contain_text("no longer installed")
    expect(page.locator("#contig-detail-3 .orf-label")).to_have_text("HMM no longer installed · 1.0e-12")
    assert query(page)["open"] == ["1,3"]

    # Downloads: the contig, all contigs and the ORF translations, as FASTA.
    for locator, count in [
        (page.locator("#contig-detail-1 [data-part=download-contig]"), 1),
        (page.locator("#nuvs-download-contigs"), 4),
        (page.locator("#nuvs-download-orfs"), 7),
    ]:
        href = locator.get_attribute("href")
        response = page.request.get(href)
        assert response.status == 200, (href, response.status)
        body = response.text()
        assert body.startswith(">"), (href, body[:200])
        assert body.count(">") == count, (href, body[:200])
    # The analysis files, listed with what they hold, and downloadable.
    files = page.locator("#nuvs-files li")
    expect(files).to_have_count(1)
    expect(files.first).to_contain_text("assembly.fa.gz")
    expect(files.first).to_contain_text("Contigs assembled by SPAdes")
    expect(page.locator("#nuvs-files-empty")).to_be_hidden()
    response = page.request.get(files.first.get_by_role("link", name="assembly.fa.gz").get_attribute("href") or "")
    assert response.status == 200
    assert response.body() == assembly
    contig = page.request.get(page.locator("#contig-detail-1 [data-part=download-contig]").get_attribute("href")).text()
    sequence = in_thread(lambda: _contig_sequence(made["analysis"], 1))
    assert "".join(contig.splitlines()[1:]) == sequence

    assert errors == []
    context.close()


def _contig_sequence(analysis_id: str, index: int) -> str:
    from analyses.models import Analysis

    return next(c["sequence"] for c in Analysis.objects.get(pk=analysis_id).results["hits"] if c["index"] == index)


def blast_worker(start_worker, fake: FakeNCBI, **env: str) -> None:
    """A worker of the default queue (where BLAST checks run) talking to the recorded NCBI, checking quickly."""
    start_worker(
        queues="default",
        concurrency=1,
        VIRTOOL_BLAST_URL=fake.url,
        VIRTOOL_BLAST_INTERVAL="0.5",
        VIRTOOL_BLAST_MAX_INTERVAL="1",
        **env,
    )


def test_blast_a_contig_followed_live_its_failure_retried(
    scientist,
    live_server_url: str,
    browser: Browser,
    start_worker,
    ncbi: FakeNCBI,  # noqa: F811
) -> None:
    from analyses.models import NuvsBlast

    # NCBI accepts the search, says it is running, then that it failed; the retry runs to a result.
    ncbi.script("SearchInfo", (200, "searchinfo_waiting.html"), (200, "searchinfo_failed.html"))
    blast_worker(start_worker, ncbi)
    hmms = in_thread(install_hmms)
    results = nuvs_results(hmms)
    results["hits"][0]["depth"] = 12.34  # measured since: shown beside the length; the others have none
    made = in_thread(lambda: make_nuvs(scientist, results=results))
    cookie = in_thread(lambda: session_cookie_for(scientist))
    context, page, errors = open_page(browser, live_server_url, cookie, f"/analyses/{made['analysis']}?open=1")
    page.add_init_script(RECORD_BLAST)
    page.reload()
    panel = page.locator("#contig-detail-1 [data-part=blast]")
    expect(panel).to_be_visible()
    panel.get_by_role("button", name="BLAST at NCBI").click()
    expect(page.locator("#toast")).to_have_text("Contig 1 sent to NCBI BLAST")

    # The failure arrives over the websocket, with NCBI's reason, and a retry.
    expect(panel.locator(".blast-error")).to_have_text(
        "BLAST failed: NCBI reports that the BLAST search 4VT8M1X0016 failed. Try again later."
    )
    seen = page.evaluate("window.__blast")
    assert ["1", "checking"] in seen, seen
    ncbi.script("SearchInfo", (200, "searchinfo_waiting.html"), (200, "searchinfo_ready.html"))
    panel.get_by_role("button", name="Retry BLAST").click()
    expect(panel.locator("[data-part=blast-hits]")).to_be_visible(timeout=30_000)
    stored = in_thread(lambda: NuvsBlast.objects.get(analysis_id=made["analysis"], sequence_index=1).result["hits"])
    rows = panel.locator("[data-part=blast-hits] tbody tr")
    expect(rows).to_have_count(len(stored))
    top = stored[0]
    expect(rows.first.get_by_role("link", name=top["accession"])).to_have_attribute(
        "href", f"https://www.ncbi.nlm.nih.gov/nuccore/{top['accession']}"
    )
    expect(rows.first).to_contain_text(top["name"])
    expect(panel.get_by_role("link", name="4VT8M1X0016").first).to_be_visible()
    seen = page.evaluate("window.__blast")
    states = [state for contig, state in seen if contig == "1"]
    # none → running (submitted or checking) → error → running → ready, each shown as it happened.
    assert states[0] == "none", states
    assert "error" in states, states
    assert states[-1] == "ready", states
    assert states.index("error") < len(states) - 1 - states[::-1].index("checking"), states
    page.screenshot(path=str(SCREENSHOTS / "nuvs-blast.png"), full_page=True)

    # A reload shows the stored result without asking NCBI again.
    asked = len(ncbi.requests)
    page.reload()
    expect(page.locator("#contig-detail-1 [data-part=blast-hits] tbody tr")).to_have_count(len(stored))
    assert len(ncbi.requests) == asked
    assert errors == []
    context.close()


def test_nuvs_with_no_contigs_says_so(scientist, live_server_url: str, browser: Browser) -> None:
    made = in_thread(lambda: make_nuvs(scientist, results={"hits": []}))
    cookie = in_thread(lambda: session_cookie_for(scientist))
    context, page, errors = open_page(browser, live_server_url, cookie, f"/analyses/{made['analysis']}")
    expect(page.locator("[data-fact=contigs]")).to_have_text("0")
    expect(page.locator("#nuvs-empty")).to_contain_text("NuVs assembled no contig")
    expect(page.locator("#contig-table")).to_be_hidden()
    assert errors == []
    context.close()


def test_start_form_offers_nuvs_disabled_until_hmms_are_installed(
    scientist, live_server_url: str, browser: Browser
) -> None:
    from analyses.models import Analysis

    made = in_thread(lambda: make_nuvs(scientist, results={"hits": []}))
    cookie = in_thread(lambda: session_cookie_for(scientist))
    context, page, errors = open_page(browser, live_server_url, cookie, f"/samples/{made['sample']}")

    # The sample page: both workflows offered by name; NuVs disabled with the reason and a link to the HMMs page.
    page.locator("#analyses-section").get_by_role("button", name="Start analysis").click()
    form = page.locator("#analysis-form")
    expect(form.get_by_label("PathoScope")).to_be_checked()
    expect(form.get_by_label("NuVs")).to_be_disabled()
    reason = form.locator("[data-reason=nuvs]")
    expect(reason).to_have_text("NuVs needs HMM profiles and none are installed. Install them on the HMMs page.")
    expect(reason.get_by_role("link", name="Install them on the HMMs page")).to_have_attribute("href", "/hmms")
    # The existing NuVs analysis is listed by its workflow's name.
    expect(page.locator("#analyses-list .analysis-item [data-part=link]")).to_have_text("NuVs")

    # The HMMs are installed while the form is open: NuVs becomes available, live.
    in_thread(install_hmms)
    expect(form.get_by_label("NuVs")).to_be_enabled()
    expect(reason).to_be_hidden()

    # The HMMs are purged again; a form that still believes them installed is refused by the server, which says why.
    in_thread(_purge_hmms)
    expect(form.get_by_label("NuVs")).to_be_disabled()
    page.route(
        "**/api/hmms/status",
        lambda route: route.fulfill(json={"id": "hmm", "installed": {"ready": True}, "updating": False}),
    )
    form.get_by_role("button", name="Cancel").click()
    page.locator("#analyses-section").get_by_role("button", name="Start analysis").click()
    expect(form.get_by_label("NuVs")).to_be_enabled()
    form.get_by_label("NuVs").check()
    form.get_by_role("button", name="Start").click()
    expect(form.locator(".form-error")).to_have_text(
        "NuVs needs HMM profiles and none are installed: install them on the HMMs page first"
    )
    expect(page.locator("#analyses-list .analysis-item")).to_have_count(1)
    page.unroute("**/api/hmms/status")

    # The samples list's "Analyze selected" says the same with no HMMs.
    page.goto("/samples")
    page.get_by_label("Select Leaf 7").check()
    page.get_by_role("button", name="Analyze selected").click()
    bulk = page.locator("#bulk-form")
    expect(bulk.get_by_label("NuVs")).to_be_disabled()
    expect(bulk.locator("[data-reason=nuvs]")).to_contain_text("NuVs needs HMM profiles and none are installed.")

    # Installed meanwhile, NuVs is offered there too, and starts on the selected sample.
    in_thread(install_hmms)
    expect(bulk.get_by_label("NuVs")).to_be_enabled()
    bulk.get_by_label("NuVs").check()
    bulk.get_by_role("button", name="Start analyses").click()
    expect(page.locator("#bulk-result")).to_contain_text("Started 1 analysis")
    workflows = in_thread(lambda: sorted(Analysis.objects.values_list("workflow", flat=True)))
    assert workflows == ["nuvs", "nuvs"]
    assert errors == []
    context.close()


def _purge_hmms() -> None:
    from hmm import services

    services.hmm_purge()


# --- The acceptance test --------------------------------------------------------------------------------------------


def prepare_rprsv(user) -> tuple[dict, dict]:
    """The 20-OTU reference (without Raspberry ringspot virus) with a built index, and the RpRSV sample, made
    through the API by the worker; the HMM release archive installed through the API by the worker too."""
    from tests.browser.test_analyses import SAMPLES, wait_for_jobs
    from tests.conftest import client_for
    from tests.hmm.conftest import hmm_upload
    from tests.references.conftest import EXPORT_20, make_reference_upload
    from tests.samples.test_api import make_upload

    client = client_for(user)
    archive = hmm_upload(user)
    response = client.post("/api/hmms/status/updates", {"upload_id": archive.pk}, format="json")
    assert response.status_code == 201, response.json()
    upload = make_reference_upload(user, source=EXPORT_20)
    reference = client.post("/api/refs", {"import_from": upload.pk, "name": "20 OTUs"}, format="json").json()
    wait_for_jobs()
    assert client.post(f"/api/refs/{reference['id']}/indexes").status_code == 201
    reads = [make_upload(user, SAMPLES / name) for name in ("rprsv_1.fq.gz", "rprsv_2.fq.gz")]
    response = client.post("/api/samples", {"name": "RpRSV", "files": [u.pk for u in reads]}, format="json")
    assert response.status_code == 201, response.json()
    wait_for_jobs()
    assert client.get("/api/hmms/status").json()["installed"]["ready"]
    return reference, response.json()


@pytest.mark.once
def test_acceptance_start_nuvs_on_the_sample_page_read_it_and_blast_a_contig(
    scientist,
    live_server_url: str,
    browser: Browser,
    start_worker,
    ncbi: FakeNCBI,  # noqa: F811
) -> None:
    from analyses.models import Analysis, NuvsBlast

    start_worker(queues="small,large", concurrency=2, VIRTOOL_PROC="2", VIRTOOL_LG_PROC="2")
    blast_worker(start_worker, ncbi)
    reference, sample = in_thread(lambda: prepare_rprsv(scientist))
    cookie = in_thread(lambda: session_cookie_for(scientist))
    context, page, errors = open_page(browser, live_server_url, cookie, f"/samples/{sample['id']}")

    # Start NuVs from the sample page: the HMMs are installed, so it is offered.
    page.locator("#analyses-section").get_by_role("button", name="Start analysis").click()
    form = page.locator("#analysis-form")
    expect(form.get_by_label("Reference")).to_have_value(reference["id"])
    expect(form.get_by_label("NuVs")).to_be_enabled()
    expect(form.locator("[data-reason=nuvs]")).to_be_hidden()
    form.get_by_label("NuVs").check()
    form.get_by_role("button", name="Start").click()
    expect(page.locator("#toast")).to_have_text("Analysis started")
    item = page.locator("#analyses-list .analysis-item")
    expect(item).to_have_count(1)
    expect(item.locator("[data-part=link]")).to_have_text("NuVs")
    assert in_thread(lambda: Analysis.objects.get().workflow) == "nuvs"

    # It runs on the worker (followed live), then its result opens from the list.
    expect(item).to_have_attribute("data-ready", "true", timeout=600_000)
    seen = page.evaluate("window.__progress")
    assert any(state == "running" for state, _ in seen), seen
    item.get_by_role("link", name="NuVs", exact=True).click()
    expect(page.locator("#analysis-title")).to_have_text("NuVs · RpRSV")
    contigs = in_thread(lambda: Analysis.objects.get().results["hits"])
    assert contigs, "NuVs assembled no contig from the RpRSV sample"
    expect(page.locator("[data-fact=contigs]")).to_have_text(str(len(contigs)))
    groups = page.locator("#contig-table tbody.contig-group")
    expect(groups).to_have_count(len(contigs))

    # The longest contig: its ORF map and hits.
    longest = max(contigs, key=lambda contig: len(contig["sequence"]))
    index = longest["index"]
    page.get_by_role("button", name=f"Contig {index}", exact=True).click()
    detail = page.locator(f"#contig-detail-{index}")
    expect(detail.locator("svg.orf-map")).to_have_attribute("data-length", str(len(longest["sequence"])))
    expect(detail.locator("svg.orf-map g.orf")).to_have_count(len(longest["orfs"]))
    expect(detail.locator("[data-part=orf-map-table] tbody tr")).to_have_count(len(longest["orfs"]))
    expect(detail.locator("[data-part=orf-hits] tbody tr").first).to_be_visible()

    # BLAST it at (the recorded) NCBI: submitted, checked, then the result table, all live.
    detail.get_by_role("button", name="BLAST at NCBI").click()
    panel = detail.locator("[data-part=blast]")
    expect(panel.locator("[data-part=blast-hits]")).to_be_visible(timeout=60_000)
    assert ncbi.kinds()[0] == "Put"
    assert "".join(ncbi.requests[0][1]["QUERY"].split()) == longest["sequence"]
    blast = in_thread(lambda: NuvsBlast.objects.get(sequence_index=index))
    assert blast.ready
    rows = panel.locator("[data-part=blast-hits] tbody tr")
    expect(rows).to_have_count(len(blast.result["hits"]))
    expect(rows.first).to_contain_text("Raspberry ringspot virus")
    page.screenshot(path=str(SCREENSHOTS / "nuvs-rprsv.png"), full_page=True)
    assert errors == []
    context.close()
