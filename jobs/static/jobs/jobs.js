// Jobs: a filtered, paginated list that follows `jobs` events (new jobs, progress, removals) without reloading.
import {
  $,
  $$,
  api,
  clampPageOf,
  debounce,
  fill,
  getAccount,
  h,
  listLoader,
  live,
  may,
  onPager,
  pageParam,
  pageSummary,
  part,
  refreshTimes,
  renderPager,
  replaceQuery,
  setText,
  showNotice,
  syncRows,
  timeAgo,
  toast,
} from "../virtool/virtool.js";
import {
  ACTIVE_STATES,
  FAILED_STATES,
  STATE_LABELS,
  progressBar,
  setProgress,
  stateBadge,
  stepText,
  subjectLinks,
  workflowLabel,
} from "./jobs-common.js";

const PER_PAGE = 25;
const FILTERS = {
  all: { states: [], label: "" },
  active: { states: ACTIVE_STATES, label: "active" },
  complete: { states: ["complete"], label: "complete" },
  failed: { states: FAILED_STATES, label: "failed" },
};
const CLEAR_LABELS = {
  complete: "complete",
  failed: "failed (errors, terminations, time-outs and cancellations)",
  finished: "finished",
};

const params = new URLSearchParams(window.location.search);
const state = {
  filter: FILTERS[params.get("filter")] ? params.get("filter") : "all",
  mine: params.get("mine") === "1",
  page: pageParam(params),
  account: null,
  result: null,
  jobs: [],
  counts: null,
  // The last state seen of every job, listed or not, so progress messages do not re-read the counts.
  known: new Map(),
};

const problem = $("#jobs-error");
const table = $("#job-table");
const tbody = $("tbody", table);
const rows = new Map();

function showProblem(error) {
  showNotice(problem, error ? `Could not load the jobs: ${error.message}` : "");
}

function matches(job) {
  const states = FILTERS[state.filter].states;
  if (states.length && !states.includes(job.state)) return false;
  return !state.mine || (state.account && job.user?.id === state.account.id);
}

function syncUrl() {
  const query = new URLSearchParams();
  if (state.filter !== "all") query.set("filter", state.filter);
  if (state.mine) query.set("mine", "1");
  if (state.page > 1) query.set("page", String(state.page));
  replaceQuery(query);
}

// --- Rows --------------------------------------------------------------------------------------------------------

function createRow(job) {
  const label = workflowLabel(job.workflow);
  // Each cell holds one element, so that narrow screens can lay a row out as a labelled card.
  return h(
    "tr",
    { dataset: { id: job.id } },
    h(
      "td",
      { class: "job-name", dataset: { label: "Job" } },
      h(
        "div",
        {},
        h("a", { href: `/jobs/${encodeURIComponent(job.id)}`, dataset: { part: "link" } }),
        h("span", { class: "job-id", dataset: { part: "id" } }),
        h("div", { class: "job-subjects small", dataset: { part: "subjects" } }),
      ),
    ),
    h("td", { dataset: { label: "State" } }, h("div", { dataset: { part: "state" } })),
    h(
      "td",
      { class: "job-progress-cell", dataset: { label: "Progress" } },
      h("div", {}, progressBar(`Progress of ${label} ${job.id}`), h("span", { class: "job-step", dataset: { part: "step" } })),
    ),
    h("td", { dataset: { label: "User" } }, h("div", { dataset: { part: "user" } })),
    h("td", { dataset: { label: "Created" } }, h("div", { dataset: { part: "created" } })),
  );
}

function updateRow(row, job) {
  setText(part(row, "link"), workflowLabel(job.workflow));
  setText(part(row, "id"), job.id);
  const subjects = part(row, "subjects");
  // Websocket messages carry the subjects too (a renamed sample shows its new name on the next message).
  if (job.subjects && subjects.dataset.signature !== JSON.stringify(job.subjects)) {
    subjects.dataset.signature = JSON.stringify(job.subjects);
    fill(subjects, ...subjectLinks(job.subjects));
  }
  const stateCell = part(row, "state");
  if (stateCell.firstElementChild?.dataset.state !== job.state) fill(stateCell, stateBadge(job.state));
  const step = stepText(job);
  setProgress($("[role=progressbar]", row), job, step);
  setText(part(row, "step"), `${step} · ${Math.round(job.progress || 0)}%`);
  const userCell = part(row, "user");
  const handle = job.user?.handle || "";
  if (userCell.dataset.handle !== handle || !userCell.firstChild) {
    userCell.dataset.handle = handle;
    fill(userCell, handle ? handle : h("span", { class: "muted", text: "—" }));
  }
  const created = part(row, "created");
  if (created.firstElementChild?.getAttribute("datetime") !== job.created_at) fill(created, timeAgo(job.created_at));
}

/** Put the rows in `state.jobs` order, reusing the existing ones (a focused link keeps its focus). */
function renderRows() {
  syncRows(tbody, rows, state.jobs, createRow, updateRow);
  table.removeAttribute("aria-busy");
  const empty = $("#jobs-empty");
  empty.hidden = state.jobs.length > 0;
  table.hidden = state.jobs.length === 0;
  if (!state.jobs.length) {
    const what = FILTERS[state.filter].label;
    const whose = state.mine ? " of yours" : "";
    empty.textContent =
      state.filter === "all" && !state.mine
        ? "No jobs yet. Jobs appear here when samples are created, indexes built or analyses started."
        : `No ${what ? `${what} ` : ""}jobs${whose}.`;
  }
  renderSummary();
}

function renderSummary() {
  const result = state.result;
  if (!result) return;
  const what = FILTERS[state.filter].label ? `${FILTERS[state.filter].label} ` : "";
  setText($("#jobs-count"), pageSummary(result, state.jobs.length, `${what}job`));
  renderPager($("#job-pager"), result);
}

// --- Counts and filters ----------------------------------------------------------------------------------------

function renderCounts() {
  const counts = state.counts || {};
  const byState = Object.fromEntries(
    Object.keys(STATE_LABELS).map((name) => [name, Object.values(counts[name] || {}).reduce((sum, n) => sum + n, 0)]),
  );
  const sum = (states) => states.reduce((total, name) => total + (byState[name] || 0), 0);
  const totals = {
    all: sum(Object.keys(STATE_LABELS)),
    active: sum(ACTIVE_STATES),
    complete: sum(["complete"]),
    failed: sum(FAILED_STATES),
  };
  for (const [name, total] of Object.entries(totals)) {
    const node = $(`[data-count="${name}"]`);
    setText(node, String(total));
  }
  fill(
    $("#job-state-counts"),
    Object.keys(STATE_LABELS)
      .filter((name) => byState[name])
      .map((name) =>
        h(
          "li",
          { title: workflowBreakdown(counts[name]) },
          stateBadge(name),
          h("span", { class: "job-state-count", text: String(byState[name]) }),
        ),
      ),
  );
}

function workflowBreakdown(byWorkflow = {}) {
  return Object.entries(byWorkflow)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([workflow, count]) => `${workflowLabel(workflow)}: ${count}`)
    .join("\n");
}

function renderFilters() {
  for (const button of $$("[data-filter]")) button.setAttribute("aria-pressed", String(button.dataset.filter === state.filter));
  $("#jobs-mine").checked = state.mine;
}

// --- Loading ------------------------------------------------------------------------------------------------------

const load = listLoader({
  url() {
    // Reference imports and clones, HMM installs: Virtool calls them tasks, this page shows them with the jobs.
    const query = new URLSearchParams({ page: String(state.page), per_page: String(PER_PAGE), include_tasks: "true" });
    for (const name of FILTERS[state.filter].states) query.append("state", name);
    if (state.mine && state.account) query.append("user", String(state.account.id));
    return `/api/jobs?${query}`;
  },
  busy: table,
  onError: showProblem,
  clampPage: clampPageOf(state, syncUrl),
  onLoad(result) {
    state.result = result;
    state.jobs = result.documents;
    state.counts = result.counts || state.counts;
    for (const job of state.jobs) state.known.set(job.id, job.state);
    renderCounts();
    renderRows();
  },
});

const reload = debounce(load, 600);

const refreshCounts = debounce(async () => {
  try {
    state.counts = await api("GET", "/api/jobs/counts?include_tasks=true");
    renderCounts();
  } catch {
    // The next list load brings them.
  }
}, 800);

// --- Controls -----------------------------------------------------------------------------------------------------

for (const button of $$("[data-filter]")) {
  button.addEventListener("click", () => {
    if (state.filter === button.dataset.filter) return;
    state.filter = button.dataset.filter;
    state.page = 1;
    renderFilters();
    syncUrl();
    load();
  });
}

$("#jobs-mine").addEventListener("change", (event) => {
  state.mine = event.currentTarget.checked;
  state.page = 1;
  syncUrl();
  load();
});

onPager($("#job-pager"), (step) => {
  if (!state.result) return;
  state.page = Math.max(1, state.page + step);
  syncUrl();
  load().then(() => $("#jobs-title").scrollIntoView({ block: "nearest" }));
});

for (const button of $$("[data-clear]")) {
  button.addEventListener("click", async () => {
    const which = button.dataset.clear;
    if (!window.confirm(`Remove every ${CLEAR_LABELS[which]} job? This removes them for all users and cannot be undone.`)) return;
    button.disabled = true;
    try {
      const { removed } = await api("DELETE", `/api/jobs?filter=${encodeURIComponent(which)}`);
      const count = removed.length;
      toast(count ? `Removed ${count} job${count === 1 ? "" : "s"}` : "There were no such jobs to remove");
      await load();
    } catch (error) {
      toast(error.status === 403 ? "You are not allowed to remove jobs." : error.message, { error: true });
    } finally {
      button.disabled = false;
    }
  });
}

// --- Live updates -------------------------------------------------------------------------------------------------

function minimal(job) {
  const { id, workflow, state: jobState, stage, step_name, progress, created_at, user, ping, cancel_requested } = job;
  return { id, workflow, state: jobState, stage, step_name, progress, created_at, user, ping, cancel_requested };
}

live.on("jobs", ({ operation, data }) => {
  if (!state.result) return;
  if (operation === "delete") {
    const gone = new Set(Array.isArray(data) ? data : [data]);
    for (const id of gone) state.known.delete(id);
    const before = state.jobs.length;
    state.jobs = state.jobs.filter((job) => !gone.has(job.id));
    if (state.jobs.length !== before) {
      state.result.found_count -= before - state.jobs.length;
      renderRows();
    }
    reload(); // refill the page and the counts
    return;
  }
  if (!data?.id) return;
  const job = minimal(data);
  const previous = state.known.get(job.id);
  state.known.set(job.id, job.state);
  const index = state.jobs.findIndex((item) => item.id === job.id);
  if (index >= 0) {
    // Listed: move its bar and step in place, even if it no longer matches the filter (it stays until reload).
    state.jobs[index] = job;
    updateRow(rows.get(job.id), job);
    if (previous !== job.state) refreshCounts();
    return;
  }
  if (previous === job.state) return; // progress of a job on another page
  refreshCounts();
  if (!matches(job)) return;
  if (operation === "insert" && state.page === 1) {
    state.jobs = [job, ...state.jobs].slice(0, state.result.per_page || PER_PAGE);
    state.result.found_count += 1;
    state.result.page_count = Math.ceil(state.result.found_count / (state.result.per_page || PER_PAGE));
    renderRows();
  } else if (operation !== "insert") {
    reload(); // a job entered this filter (e.g. it completed): the server knows where it belongs
  }
});

live.onReconnect(() => {
  load();
});

async function start() {
  renderFilters();
  try {
    state.account = await getAccount();
  } catch (error) {
    showProblem(error);
  }
  $("#jobs-clear").hidden = !may(state.account, "remove_job");
  await load();
}

setInterval(() => refreshTimes(tbody), 30_000);
start();
