// One profile HMM: its cluster, names, size and entropy, the families and genera of its sequences with counts, and
// the sequences themselves (accessions open at NCBI). Follows live changes: a purge or reinstall says so.
import { $, api, fill, h, live, showNotice } from "../virtool/virtool.js";

const root = $("#hmm-root");
const hmmId = root.dataset.hmmId;
const NUMBER = new Intl.NumberFormat("en-US");
// Virtool's client draws mean entropy against this ceiling (log2 of 20 amino acids).
const MAX_ENTROPY = Math.log2(20);

function showProblem(message) {
  showNotice($("#hmm-error"), message);
}

function fact(term, ...value) {
  return [h("dt", { text: term }), h("dd", {}, ...value)];
}

function entropyMeter(value) {
  const share = Math.min(100, Math.max(0, (Number(value) / MAX_ENTROPY) * 100));
  return h(
    "span",
    { class: "hmm-entropy" },
    h("span", { class: "coverage-meter", "aria-hidden": "true" }, h("span", { style: `width:${share.toFixed(1)}%` })),
    h("span", { dataset: { fact: "mean_entropy" }, text: String(value) }),
  );
}

/** Rows of `{name: count}`, most sequences first; Virtool's "None" reads as unassigned. */
function countRows(counts) {
  const entries = Object.entries(counts || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (!entries.length) return [h("tr", {}, h("td", { colspan: "2", class: "muted", text: "None recorded" }))];
  return entries.map(([name, count]) =>
    h(
      "tr",
      {},
      h("td", name === "None" ? { class: "muted", text: "Unassigned" } : { text: name }),
      h("td", { class: "num", text: NUMBER.format(count) }),
    ),
  );
}

function render(hmm) {
  const title = hmm.names?.[0] || `vFam_${hmm.cluster}`;
  document.title = `${title} · Virtool`;
  $("#hmm-body").hidden = false;
  $("#hmm-title").textContent = title;
  $("#hmm-profile").textContent = `Profile vFam_${hmm.cluster}`;
  fill(
    $("#hmm-facts"),
    fact("Cluster", h("span", { dataset: { fact: "cluster" }, text: String(hmm.cluster) })),
    fact(
      "Names",
      h(
        "span",
        { class: "label-chips", dataset: { fact: "names" } },
        (hmm.names || []).map((name) => h("span", { class: "badge", text: name })),
      ),
    ),
    fact("Sequences", h("span", { dataset: { fact: "count" }, text: NUMBER.format(hmm.count) })),
    fact("Length", h("span", { dataset: { fact: "length" }, text: `${NUMBER.format(hmm.length)} positions` })),
    fact("Mean entropy", entropyMeter(hmm.mean_entropy)),
    fact("Total entropy", h("span", { dataset: { fact: "total_entropy" }, text: String(hmm.total_entropy) })),
  );
  fill($("tbody", $("#hmm-families")), countRows(hmm.families));
  fill($("tbody", $("#hmm-genera")), countRows(hmm.genera));
  const entries = hmm.entries || [];
  $("#entries-count").textContent = NUMBER.format(entries.length);
  fill(
    $("tbody", $("#hmm-entries")),
    entries.map((entry) =>
      h(
        "tr",
        {},
        h(
          "td",
          { class: "accession" },
          h("a", {
            href: `https://www.ncbi.nlm.nih.gov/protein/${encodeURIComponent(entry.accession)}`,
            rel: "noopener noreferrer",
            target: "_blank",
            text: entry.accession,
          }),
        ),
        h("td", { text: entry.name || "—" }),
        h("td", { text: entry.organism || "—" }),
        h("td", { class: "num", text: entry.gi || "—" }),
      ),
    ),
  );
}

async function load() {
  try {
    render(await api("GET", `/api/hmms/${encodeURIComponent(hmmId)}`));
    showProblem("");
  } catch (error) {
    $("#hmm-body").hidden = true;
    showProblem(
      error.status === 404
        ? "This HMM is not installed: the HMMs may have been purged or replaced by another release."
        : `Could not load the HMM: ${error.message}`,
    );
  }
}

live.on("hmm", ({ operation, data }) => {
  const ids = operation === "delete" ? data : [data?.id];
  if (!Array.isArray(ids) || !ids.includes(hmmId)) return;
  if (operation === "delete") {
    $("#hmm-body").hidden = true;
    showProblem("This HMM was removed: the HMMs were purged or replaced by another release.");
  } else {
    load();
  }
});
live.onReconnect(load);

load();
