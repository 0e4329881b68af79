// Analyses overview: every readable analysis with its sample, workflow, reference and index, subtractions, state
// (running ones follow their job live; failed ones say why and offer "Try again" and "Remove"), who started it,
// when, how long it ran and its headline result; filtered, sorted and paged, with the state kept in the address.
import {
  $,
  api,
  clampPageOf,
  debounce,
  fill,
  h,
  listLoader,
  live,
  onPager,
  onSearch,
  pageParam,
  pageSummary,
  part,
  renderPager,
  replaceQuery,
  setText,
  showNotice,
  syncRows,
  timeAgo,
  toast,
} from "../virtool/virtool.js";
import { duration, progressBar, setProgress, stepText } from "../jobs/jobs-common.js";

const PER_PAGE = 25;
const EPOCH = new Date(0).toISOString();
const SORTS = ["-created_at", "created_at", "sample", "-sample", "-duration", "duration"];
const STATES = ["ready", "running", "failed"];
const WORKFLOWS = JSON.parse($("#overview-workflows").textContent);

const params = new URLSearchParams(window.location.search);
const state = {
  sample: params.get("sample") || "",
  user: params.get("user") || "",
  workflow: WORKFLOWS[params.get("workflow")] ? params.get("workflow") : "",
  state: STATES.includes(params.get("state")) ? params.get("state") : "",
  reference: params.get("reference") || "",
  sort: SORTS.includes(params.get("sort")) ? params.get("sort") : "-created_at",
  page: pageParam(params),
  result: null,
  analyses: [],
  // Jobs seen on the websocket, by id: their progress arrives before the analysis changes.
  jobs: new Map(),
};

const table = $("#overview-table");
const tbody = $("tbody", table);
const rows = new Map();

const filtered = () => Boolean(state.sample || state.user || state.workflow || state.state || state.reference);

function syncUrl() {
  const query = new URLSearchParams();
  for (const key of ["sample", "workflow", "state", "reference", "user"]) if (state[key]) query.set(key, state[key]);
  if (state.sort !== "-created_at") query.set("sort", state.sort);
  if (state.page > 1) query.set("page", String(state.page));
  replaceQuery(query);
}

// --- Cells ------------------------------------------------------------------------------------------------------

export function headlineText(analysis) {
  const headline = analysis.headline;
  if (!headline) return "";
  if (analysis.workflow === "nuvs") {
    const count = headline.hmm_contigs ?? 0;
    return `${count} contig${count === 1 ? "" : "s"} with HMM hits (of ${headline.contigs ?? 0})`;
  }
  return headline.detected?.length ? headline.detected.join(", ") : "Nothing detected";
}

function renderHeadline(cell, analysis) {
  const headline = analysis.headline;
  const signature = JSON.stringify([analysis.state, headline]);
  if (cell.dataset.signature === signature) return;
  cell.dataset.signature = signature;
  if (analysis.state !== "ready" || !headline) {
    fill(cell, h("span", { class: "muted", text: "—" }));
    return;
  }
  if (analysis.workflow === "nuvs") {
    fill(cell, h("span", { dataset: { part: "hmm" }, text: headlineText(analysis) }));
    return;
  }
  const children = [];
  if (headline.detected.length === 0) children.push(h("span", { class: "muted", text: "Nothing detected" }));
  for (const name of headline.detected) {
    children.push(h("span", { class: "badge call-detected", dataset: { call: "detected" }, text: name }));
  }
  for (const name of headline.indeterminate) {
    children.push(
      h("span", {
        class: "badge call-indeterminate",
        dataset: { call: "indeterminate" },
        title: "Indeterminate: evidence above the noise floor that misses a call rule",
        text: `${name}?`,
      }),
    );
  }
  if (headline.control && !headline.control.detected) {
    children.push(
      h("span", {
        class: "badge call-indeterminate",
        dataset: { call: "control" },
        text: `Control ${headline.control.name || ""} not detected`.replace("  ", " "),
      }),
    );
  }
  fill(cell, h("div", { class: "label-list overview-calls" }, ...children));
}

function jobOf(analysis) {
  if (!analysis.job) return null;
  const seen = state.jobs.get(analysis.job.id);
  return seen ? { ...analysis.job, ...seen } : analysis.job;
}

async function retry(analysis, button) {
  button.disabled = true;
  try {
    await api("POST", `/api/analyses/${encodeURIComponent(analysis.id)}/retry`);
    toast(`Trying the analysis of ${analysis.sample.name} again`);
    load();
  } catch (error) {
    toast(`Could not try again: ${error.message}`, { error: true });
    button.disabled = false;
  }
}

async function remove(analysis, button) {
  if (!window.confirm(`Remove the failed analysis of ${analysis.sample.name}?`)) return;
  button.disabled = true;
  try {
    await api("DELETE", `/api/analyses/${encodeURIComponent(analysis.id)}`);
    toast(`Analysis of ${analysis.sample.name} removed`);
    load();
  } catch (error) {
    toast(`Could not remove it: ${error.message}`, { error: true });
    button.disabled = false;
  }
}

function renderState(cell, analysis) {
  const job = jobOf(analysis);
  const mode = analysis.state;
  if (mode === "running") {
    if (cell.dataset.mode !== "running") {
      cell.dataset.mode = "running";
      fill(
        cell,
        progressBar(`Progress of the analysis of ${analysis.sample.name}`),
        h("span", { class: "job-step small muted", dataset: { part: "step" } }),
      );
    }
    const current = job || { progress: 0, state: "waiting" };
    const step = stepText(current);
    setProgress($("[role=progressbar]", cell), current, step);
    setText(part(cell, "step"), `${step} · ${Math.round(current.progress || 0)}%`);
    return;
  }
  const signature = JSON.stringify([mode, job?.error || "", job?.state || ""]);
  if (cell.dataset.mode === mode && cell.dataset.signature === signature) return;
  cell.dataset.mode = mode;
  cell.dataset.signature = signature;
  if (mode === "ready") {
    fill(cell, h("span", { class: "badge ok", text: "Ready" }));
    return;
  }
  const reason = job?.error || (job ? "The job ended without finishing its work." : "Its job is gone.");
  fill(
    cell,
    h("span", { class: "badge job-state state-error", text: "Failed" }),
    h("p", { class: "small overview-error", dataset: { part: "error" }, text: reason }),
    h(
      "div",
      { class: "actions" },
      h("button", {
        type: "button",
        class: "small",
        text: "Try again",
        onClick: (event) => retry(analysis, event.currentTarget),
      }),
      h("button", {
        type: "button",
        class: "small danger",
        text: "Remove",
        onClick: (event) => remove(analysis, event.currentTarget),
      }),
    ),
  );
}

function createRow(analysis) {
  const cell = (label, name) => h("td", { dataset: { label } }, h("div", { dataset: { part: name } }));
  return h(
    "tr",
    { dataset: { id: analysis.id } },
    h(
      "td",
      { dataset: { label: "Sample" } },
      h("a", { dataset: { part: "sample" } }),
      h("div", {}, h("a", { class: "small", dataset: { part: "result-link" }, text: "Open analysis" })),
    ),
    cell("Workflow", "workflow"),
    cell("Reference", "reference"),
    cell("Subtractions", "subtractions"),
    cell("State", "state"),
    cell("Result", "headline"),
    cell("Started by", "user"),
    cell("Created", "created"),
    cell("Ran for", "duration"),
  );
}

function updateRow(row, analysis) {
  row.dataset.state = analysis.state;
  const sample = part(row, "sample");
  sample.href = `/samples/${encodeURIComponent(analysis.sample.id)}`;
  setText(sample, analysis.sample.name);
  part(row, "result-link").href =
    `/samples/${encodeURIComponent(analysis.sample.id)}/analyses/${encodeURIComponent(analysis.id)}`;
  setText(part(row, "workflow"), WORKFLOWS[analysis.workflow] || analysis.workflow);
  const version = analysis.index?.version;
  setText(part(row, "reference"), `${analysis.reference.name}${version == null ? "" : ` · index ${version}`}`);
  const subtractions = analysis.subtractions.map((item) => item.name).join(", ");
  setText(part(row, "subtractions"), subtractions || "None");
  part(row, "subtractions").classList.toggle("muted", !subtractions);
  renderState(part(row, "state"), analysis);
  renderHeadline(part(row, "headline"), analysis);
  setText(part(row, "user"), analysis.user?.handle || analysis.job?.user?.handle || "—");
  const created = part(row, "created");
  if (created.firstElementChild?.getAttribute("datetime") !== analysis.created_at) {
    fill(created, timeAgo(analysis.created_at));
  }
  const ran = analysis.duration == null ? "" : duration(EPOCH, new Date(analysis.duration * 1000).toISOString());
  setText(part(row, "duration"), ran || "—");
}

function renderRows() {
  syncRows(tbody, rows, state.analyses, createRow, updateRow);
  table.removeAttribute("aria-busy");
  table.hidden = state.analyses.length === 0;
  const empty = $("#overview-empty");
  empty.hidden = state.analyses.length > 0;
  empty.textContent = filtered() ? "No analyses match the filters." : "No analyses yet. Start one from a sample.";
  const result = state.result;
  if (!result) return;
  let text = pageSummary(result, state.analyses.length, "analysis", "analyses");
  if (text && filtered() && result.total_count !== result.found_count) text += ` ${result.total_count} in all.`;
  setText($("#overview-count"), text);
  renderPager($("#overview-pager"), result);
}

// --- Loading ------------------------------------------------------------------------------------------------------

const load = listLoader({
  url() {
    const query = new URLSearchParams({ page: String(state.page), per_page: String(PER_PAGE), sort: state.sort });
    for (const key of ["sample", "workflow", "state", "reference", "user"]) if (state[key]) query.set(key, state[key]);
    return `/api/analyses/overview?${query}`;
  },
  busy: table,
  onError: (error) => showNotice($("#overview-error"), error ? `Could not load the analyses: ${error.message}` : ""),
  clampPage: clampPageOf(state, syncUrl),
  onLoad(result) {
    state.result = result;
    state.analyses = result.documents;
    renderRows();
  },
});

const reload = debounce(load, 400);

async function loadReferences() {
  const select = $("#overview-reference");
  try {
    const result = await api("GET", "/api/refs?per_page=100");
    const options = (result.documents || []).map((ref) => h("option", { value: ref.id, text: ref.name }));
    fill(select, h("option", { value: "", text: "Any" }), ...options);
  } catch {
    // The filter keeps "Any" only; the list still loads.
  }
  select.value = state.reference;
  if (select.value !== state.reference) {
    // A reference given in the address but not listed (removed): keep filtering by it, named by its id.
    select.append(h("option", { value: state.reference, text: state.reference }));
    select.value = state.reference;
  }
}

function changed(key, value) {
  state[key] = value;
  state.page = 1;
  syncUrl();
  load();
}

$("#overview-sample").value = state.sample;
$("#overview-user").value = state.user;
$("#overview-workflow").value = state.workflow;
$("#overview-state").value = state.state;
$("#overview-sort").value = state.sort;
onSearch($("#overview-sample"), (value) => changed("sample", value));
onSearch($("#overview-user"), (value) => changed("user", value));
for (const key of ["workflow", "state", "reference", "sort"]) {
  $(`#overview-${key}`).addEventListener("change", (event) => changed(key, event.currentTarget.value));
}
$("#overview-filters").addEventListener("submit", (event) => event.preventDefault());

onPager($("#overview-pager"), (step) => {
  if (!state.result) return;
  state.page = Math.max(1, state.page + step);
  syncUrl();
  load().then(() => $("#overview-title").focus());
});

// --- Live updates ---------------------------------------------------------------------------------------------

live.on("analyses", ({ operation, data }) => {
  if (!state.result) return;
  const ids = operation === "delete" ? (Array.isArray(data) ? data : [data]) : [data?.id];
  const listed = ids.some((id) => rows.has(id));
  // A new analysis, or one that changed: its place in the filtered, sorted list is the server's to say.
  if (listed || operation === "insert" || operation === "create") reload();
});

live.on("jobs", ({ data }) => {
  if (!data?.id) return;
  state.jobs.set(data.id, data);
  const analysis = state.analyses.find((item) => item.job?.id === data.id);
  if (!analysis) return;
  if (analysis.state === "running" && !["waiting", "preparing", "running"].includes(data.state)) reload();
  updateRow(rows.get(analysis.id), analysis);
});

live.onReconnect(() => load());

loadReferences();
load();
