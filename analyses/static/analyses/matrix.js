// The cross-sample matrix page (/analyses/matrix): samples × OTUs as a heatmap of calls, from
// GET /api/analyses/matrix. The query string holds the choice (ids, sample_ids, label, ref_id, all, sort), so a
// link (the samples list's "Compare selected") or a reload shows the same matrix; sorting and the label filter are
// done by the server, and the CSV/XLSX links carry the same query.
import { $, api, fill, h, labelChip, replaceQuery, setText } from "../virtool/virtool.js";

const HELP = JSON.parse($("#pathoscope-help").textContent);
const KEYS = ["ids", "sample_ids", "label", "ref_id", "all", "sort"];
const state = { query: new URLSearchParams(), matrix: null, shade: "reads" };

function readQuery() {
  const here = new URLSearchParams(window.location.search);
  const query = new URLSearchParams();
  for (const key of KEYS) if (here.get(key)) query.set(key, here.get(key));
  state.query = query;
}

function chosen() {
  return ["ids", "sample_ids", "label"].some((key) => state.query.get(key));
}

function compact(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return String(value);
}

function weightText(weight) {
  if (!weight) return "0";
  if (Math.abs(weight) < 0.001) return weight.toExponential(2).replace(/\.?0+e/, "e");
  return String(Number(weight.toPrecision(4)));
}

const percent = (fraction) => `${Number((fraction * 100).toFixed(1))} %`;
const callClass = (call) => `call-${call.replace(" ", "-")}`;

// --- Choosing ------------------------------------------------------------------------------------------------

async function loadChoices() {
  const [labels, refs] = await Promise.all([
    api("GET", "/api/labels").catch(() => []),
    api("GET", "/api/refs?per_page=100").catch(() => ({ documents: [] })),
  ]);
  const labelSelect = $("#matrix-label");
  for (const label of labels) labelSelect.append(h("option", { value: String(label.id), text: label.name }));
  const refSelect = $("#matrix-ref");
  for (const ref of refs.documents || []) refSelect.append(h("option", { value: ref.id, text: ref.name }));
  labelSelect.value = state.query.get("label") || "";
  refSelect.value = state.query.get("ref_id") || "";
  $("#matrix-all").checked = state.query.get("all") === "true";
}

function describeSelection() {
  const ids = state.query.get("sample_ids") || state.query.get("ids");
  const node = $("#matrix-selection");
  if (!ids) {
    setText(node, chosen() ? "" : "Choose a label, or select samples on the samples list and press Compare selected.");
    return;
  }
  const count = ids.split(",").filter(Boolean).length;
  const what = state.query.get("sample_ids")
    ? `${count} selected sample${count === 1 ? "" : "s"}`
    : `${count} chosen analys${count === 1 ? "is" : "es"}`;
  fill(
    node,
    `${what} `,
    state.query.get("label") ? "(filtered by the label) " : "",
    h("a", { href: "/samples", text: "Change the selection" }),
  );
}

$("#matrix-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const query = new URLSearchParams();
  for (const key of ["ids", "sample_ids"]) if (state.query.get(key)) query.set(key, state.query.get(key));
  if ($("#matrix-label").value) query.set("label", $("#matrix-label").value);
  if ($("#matrix-ref").value) query.set("ref_id", $("#matrix-ref").value);
  if ($("#matrix-all").checked) query.set("all", "true");
  state.query = query;
  replaceQuery(query);
  load();
});

$("#matrix-shade").addEventListener("change", (event) => {
  state.shade = event.target.value;
  if (state.matrix) render(state.matrix);
});

// --- Showing -------------------------------------------------------------------------------------------------

function sortBy(key) {
  const current = state.query.get("sort") || "sample";
  const next = key === "sample" ? (current === "sample" ? "-sample" : "sample") : current === `-${key}` ? key : `-${key}`;
  state.query.set("sort", next);
  replaceQuery(state.query);
  load();
}

function ariaSort(key) {
  const current = state.query.get("sort") || "sample";
  if (current === key) return "ascending";
  if (current === `-${key}`) return "descending";
  return "none";
}

function header(matrix) {
  const sample = h(
    "th",
    { scope: "col", class: "matrix-corner", "aria-sort": ariaSort("sample") },
    h("button", { type: "button", class: "matrix-sort", dataset: { sort: "sample" }, text: "Sample" }),
  );
  const columns = matrix.otus.map((otu) =>
    h(
      "th",
      { scope: "col", class: "matrix-otu", "aria-sort": ariaSort(otu.id), dataset: { otu: otu.id } },
      h(
        "button",
        {
          type: "button",
          class: "matrix-sort",
          dataset: { sort: otu.id },
          title: `${otu.name}: detected in ${otu.detected} of ${matrix.samples.length}, found in ${otu.found}`,
        },
        h("span", { text: otu.abbreviation || otu.name }),
      ),
    ),
  );
  fill($("#matrix-table thead tr"), sample, ...columns);
}

function shadeOf(cell, maxReads) {
  if (state.shade === "coverage") return cell.coverage;
  return maxReads > 0 ? Math.log1p(cell.reads) / Math.log1p(maxReads) : 0;
}

function render(matrix) {
  state.matrix = matrix;
  header(matrix);
  let maxReads = 0;
  for (const row of matrix.samples) for (const cell of row.cells) if (cell.reads > maxReads) maxReads = cell.reads;
  const rows = matrix.samples.map((row, r) => {
    const tr = h(
      "tr",
      { dataset: { sample: row.sample_id } },
      h(
        "th",
        { scope: "row", class: "matrix-sample" },
        h("a", { href: `/samples/${row.sample_id}/analyses/${row.analysis_id}`, text: row.sample_name }),
        ...row.labels.map((label) => labelChip(label, { class: "label-chip small" })),
      ),
    );
    row.cells.forEach((cell, c) => {
      const zero = cell.reads === 0 && cell.coverage === 0;
      const shade = zero ? 0 : Math.max(0.12, shadeOf(cell, maxReads));
      const otu = matrix.otus[c];
      tr.append(
        h("td", {
          class: `matrix-cell ${zero ? "matrix-zero " : ""}${callClass(cell.call)}${shade > 0.6 ? " dark" : ""}`,
          style: `--shade:${shade.toFixed(3)}`,
          tabindex: "0",
          dataset: { r: String(r), c: String(c), call: cell.call },
          "aria-label": `${row.sample_name}, ${otu.name}: ${cell.call}, ${cell.reads} reads`,
          text: compact(cell.reads),
        }),
      );
    });
    return tr;
  });
  fill($("#matrix-table tbody"), ...rows);
  const detected = matrix.samples.reduce((n, row) => n + row.cells.filter((c) => c.call === "detected").length, 0);
  setText(
    $("#matrix-summary"),
    `${matrix.samples.length} sample${matrix.samples.length === 1 ? "" : "s"} × ${matrix.otus.length} OTU${
      matrix.otus.length === 1 ? "" : "s"
    }${matrix.reference ? ` of ${matrix.reference.name}` : ""}: ${detected} detected.` +
      (matrix.internal_control ? ` Internal control: ${matrix.internal_control.name}.` : ""),
  );
  const missing = $("#matrix-missing");
  missing.hidden = !matrix.missing.length;
  setText(
    missing,
    matrix.missing.length
      ? `Without a ready PathoScope analysis${state.query.get("ref_id") ? " of this reference" : ""}: ${matrix.missing
          .map((s) => s.name)
          .join(", ")}.`
      : "",
  );
  $("#matrix-section").hidden = false;
}

function tipFor(td) {
  const matrix = state.matrix;
  const row = matrix.samples[Number(td.dataset.r)];
  const cell = row.cells[Number(td.dataset.c)];
  const otu = matrix.otus[Number(td.dataset.c)];
  const tip = $("#matrix-tip");
  const reasons = cell.reasons || (cell.call === "indeterminate" ? ["internal control not detected", "no reads"] : ["no reads"]);
  fill(
    tip,
    h("strong", { text: `${otu.name} in ${row.sample_name}` }),
    h("span", { class: `badge ${callClass(cell.call)}`, text: cell.call }),
    h(
      "dl",
      {},
      ...[
        ["Reads", cell.reads.toLocaleString(), HELP.reads],
        ["Coverage", percent(cell.coverage), HELP.coverage],
        ["Median depth", String(cell.depth), HELP.depth],
        ["Weight", weightText(cell.weight), HELP.weight],
      ].flatMap(([term, value, help]) => [h("dt", { title: help, text: term }), h("dd", { text: value })]),
    ),
    h("p", { class: "small", text: reasons.join("; ") }),
  );
  tip.hidden = false;
  const box = td.getBoundingClientRect();
  const wrap = $("#matrix-section").getBoundingClientRect();
  tip.style.left = `${Math.max(0, box.right - wrap.left + 6)}px`;
  tip.style.top = `${box.bottom - wrap.top + 6}px`;
}

const body = $("#matrix-table tbody");
for (const type of ["mouseover", "focusin"]) {
  body.addEventListener(type, (event) => {
    const td = event.target.closest?.("td.matrix-cell");
    if (td) tipFor(td);
  });
}
body.addEventListener("mouseleave", () => {
  if (!body.contains(document.activeElement)) $("#matrix-tip").hidden = true;
});
body.addEventListener("focusout", () => {
  $("#matrix-tip").hidden = true;
});
$("#matrix-table thead").addEventListener("click", (event) => {
  const button = event.target.closest("button.matrix-sort");
  if (button) sortBy(button.dataset.sort);
});

async function load() {
  describeSelection();
  const error = $("#matrix-error");
  error.hidden = true;
  if (!chosen()) {
    $("#matrix-section").hidden = true;
    $("#matrix-exports").hidden = true;
    return;
  }
  const search = state.query.toString();
  $("#matrix-csv").href = `/api/analyses/matrix.csv?${search}`;
  $("#matrix-xlsx").href = `/api/analyses/matrix.xlsx?${search}`;
  try {
    render(await api("GET", `/api/analyses/matrix?${search}`));
    $("#matrix-exports").hidden = false;
  } catch (failure) {
    $("#matrix-section").hidden = true;
    $("#matrix-exports").hidden = true;
    setText(error, failure.message);
    error.hidden = false;
  }
}

readQuery();
loadChoices().finally(load);
