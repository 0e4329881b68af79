// Samples: search, label filter, sort and pages; samples being created follow their job live; the create form
// picks uploaded reads or uploads dropped FASTQ files first (raw bodies with progress) and then creates the sample;
// ready samples can be selected (across pages and searches) for the actions other apps contribute; legacy samples
// (imported from an older Virtool) are marked, with an Update button and their update_sample job's live progress.
import {
  $,
  $$,
  api,
  attachToField,
  clampPageOf,
  debounce,
  describeError,
  FieldErrors,
  fill,
  getAccount,
  h,
  labelChip,
  listLoader,
  live,
  may,
  onPager,
  onSearch,
  onSubmit,
  pageParam,
  pageParts,
  pageSummary,
  part,
  recentUploads,
  refreshTimes,
  renderPager,
  replaceQuery,
  setText,
  showNotice,
  sizeText,
  syncRows,
  timeAgo,
  toast,
} from "../virtool/virtool.js";
import { resumableUpload } from "../files/resumable.js";
import { FAILED_STATES, failedJobPanel, isActive, progressBar, setProgress, stepText } from "../jobs/jobs-common.js";

const PER_PAGE = 25;
const SORTS = ["-created_at", "created_at", "name", "-name"];
export const LIBRARY_LABELS = { normal: "Normal", srna: "sRNA", amplicon: "Amplicon", other: "Other" };

/** A sample name from a reads file name: `plate3_S1_L001_R1_001.fastq.gz` → `plate3_S1_L001`. */
export function suggestName(fileName) {
  let name = String(fileName || "").replace(/\.(gz|bz2)$/i, "");
  name = name.replace(/\.(fq|fastq|txt)$/i, "");
  name = name.replace(/([._-]R?[12])([._-]0*1)?$/i, "");
  return name;
}

// --- State ----------------------------------------------------------------------------------------------------

const params = new URLSearchParams(window.location.search);
const state = {
  find: params.get("find") || "",
  labels: new Set(params.getAll("label").map(Number).filter(Boolean)),
  sort: SORTS.includes(params.get("sort")) ? params.get("sort") : "-created_at",
  page: pageParam(params),
  account: null,
  result: null,
  samples: [],
  allLabels: [],
  // Jobs seen on the websocket, by id: their progress may arrive before the sample document does.
  jobs: new Map(),
  // Samples that became ready while this page was open.
  readied: new Set(),
  // Legacy samples whose update finished while this page was open.
  updated: new Set(),
  // Selected samples, for the selection's actions: id → name (kept across pages and searches).
  selected: new Map(),
};

const table = $("#sample-table");
const tbody = $("tbody", table);
const rows = new Map();
// What can be done with the selected samples comes from other apps, as page parts (core/pages.py): each gets the
// hook `selection(ids)` whenever the selection changes, and may clear it once done.
const parts = pageParts({ selection: { clear: clearSelection } });

function showProblem(message) {
  showNotice($("#samples-error"), message);
}

function syncUrl() {
  const query = new URLSearchParams();
  if (state.find) query.set("find", state.find);
  for (const id of state.labels) query.append("label", String(id));
  if (state.sort !== "-created_at") query.set("sort", state.sort);
  if (state.page > 1) query.set("page", String(state.page));
  replaceQuery(query);
}

// --- Rows -----------------------------------------------------------------------------------------------------

function createRow(sample) {
  return h(
    "tr",
    { dataset: { id: sample.id } },
    h(
      "td",
      { class: "sample-select-col" },
      h("input", {
        type: "checkbox",
        dataset: { part: "select" },
        "aria-label": `Select ${sample.name}`,
        onChange: (event) => {
          const current = state.samples.find((item) => item.id === sample.id) || sample;
          if (event.currentTarget.checked) state.selected.set(sample.id, current.name);
          else state.selected.delete(sample.id);
          renderSelection();
        },
      }),
    ),
    h(
      "td",
      { class: "sample-name", dataset: { label: "Name" } },
      h(
        "div",
        {},
        h("a", { href: `/samples/${encodeURIComponent(sample.id)}`, dataset: { part: "link" } }),
        h("div", { class: "sample-status", dataset: { part: "status" } }),
      ),
    ),
    h("td", { dataset: { label: "Host" } }, h("span", { dataset: { part: "host" } })),
    h("td", { dataset: { label: "Library" } }, h("span", { class: "badge", dataset: { part: "library" } })),
    h("td", { dataset: { label: "Labels" } }, h("div", { class: "label-list", dataset: { part: "labels" } })),
    h("td", { dataset: { label: "Latest calls" } }, h("div", { class: "label-list", dataset: { part: "calls" } })),
    h("td", { dataset: { label: "User" } }, h("span", { dataset: { part: "user" } })),
    h("td", { dataset: { label: "Created" } }, h("span", { dataset: { part: "created" } })),
  );
}

function jobOf(sample) {
  if (!sample.job) return null;
  const seen = state.jobs.get(sample.job.id);
  return seen ? { ...sample.job, ...seen } : sample.job;
}

const LEGACY_TITLE =
  "Made by an older Virtool release: its reads are not in today's form (uncompressed, old file names, " +
  "no or an old quality report, or the 2019 small-RNA flag). Update it before analysing it.";

/** A legacy sample's mark: the badge, then its update job's progress, its failure, or the Update button. */
function renderLegacy(status, sample) {
  const job = jobOf(sample);
  const updateJob = job && job.workflow === "update_sample" ? job : null;
  const badge = () => h("span", { class: "badge legacy", dataset: { part: "legacy" }, title: LEGACY_TITLE, text: "Legacy" });
  if (updateJob && isActive(updateJob.state)) {
    if (status.dataset.mode !== `updating:${updateJob.id}`) {
      status.dataset.mode = `updating:${updateJob.id}`;
      fill(
        status,
        badge(),
        progressBar(`Update of ${sample.name}`),
        h("span", { class: "job-step small muted", dataset: { part: "step" } }),
      );
    }
    const step = stepText(updateJob);
    setProgress($("[role=progressbar]", status), updateJob, step);
    setText(part(status, "step"), `Updating: ${step} · ${Math.round(updateJob.progress || 0)}%`);
    return;
  }
  const failed = updateJob && FAILED_STATES.includes(updateJob.state);
  const signature = failed ? `legacy-failed:${updateJob.id}:${updateJob.error || ""}` : "legacy";
  if (status.dataset.mode === signature) return;
  status.dataset.mode = signature;
  const button = h("button", {
    type: "button",
    class: "small",
    dataset: { part: "update" },
    text: failed ? "Update again" : "Update",
    "aria-label": `Update ${sample.name} to today's form`,
    title: "Compress and rename its reads, compute its quality again and set its library type; its analyses stay.",
  });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await startUpdate(sample);
    } finally {
      button.disabled = false;
    }
  });
  const failure = failed
    ? h("span", {
        class: "failed-message small",
        dataset: { part: "failure" },
        text: `The update failed, nothing was changed: ${updateJob.error || "the job ended early."}`,
      })
    : null;
  fill(status, h("div", { class: "legacy-mark" }, badge(), button), failure);
}

function renderStatus(row, sample) {
  const status = part(row, "status");
  row.dataset.ready = String(Boolean(sample.ready));
  row.dataset.legacy = String(Boolean(sample.is_legacy));
  if (sample.is_legacy) {
    renderLegacy(status, sample);
    return;
  }
  if (sample.ready) {
    if (state.updated.has(sample.id)) {
      if (status.dataset.mode !== "updated") {
        status.dataset.mode = "updated";
        fill(status, h("span", { class: "badge ok", dataset: { part: "updated" }, text: "Updated" }));
      }
    } else if (state.readied.has(sample.id)) {
      if (status.dataset.mode !== "ready") {
        status.dataset.mode = "ready";
        fill(status, h("span", { class: "badge ok", text: "Ready" }));
      }
    } else if (status.dataset.mode !== "") {
      status.dataset.mode = "";
      fill(status);
    }
    return;
  }
  const job = jobOf(sample) || { progress: 0, state: "waiting" };
  if (FAILED_STATES.includes(job.state)) {
    // Creation failed: the sample stays, with why, until it is tried again or removed (its uploads stay its own).
    const signature = `failed:${job.id}:${job.error || ""}`;
    if (status.dataset.mode !== signature) {
      status.dataset.mode = signature;
      fill(status, failedJobPanel({ job, noun: sample.name, onRetry: () => retry(sample), onRemove: () => remove(sample) }));
    }
    return;
  }
  if (status.dataset.mode !== "creating") {
    status.dataset.mode = "creating";
    fill(
      status,
      progressBar(`Creation of ${sample.name}`),
      h("span", { class: "job-step small muted", dataset: { part: "step" } }),
    );
  }
  const step = stepText(job);
  setProgress($("[role=progressbar]", status), job, step);
  setText(part(status, "step"), `${step} · ${Math.round(job.progress || 0)}%`);
}

/** The OTUs called detected (and, marked, indeterminate) in the sample's newest ready PathoScope analysis. */
function renderCalls(cell, sample) {
  const calls = sample.latest_calls;
  const signature = JSON.stringify(calls || null);
  if (cell.dataset.signature === signature) return;
  cell.dataset.signature = signature;
  if (!calls) {
    fill(cell, h("span", { class: "muted", text: "—" }));
    return;
  }
  const href = `/samples/${encodeURIComponent(sample.id)}/analyses/${encodeURIComponent(calls.analysis_id)}`;
  const tags = [
    ...calls.detected.map((name) => h("a", { class: "badge ok call-detected", href, dataset: { call: "detected" }, text: name })),
    ...calls.indeterminate.map((name) =>
      h("a", {
        class: "badge call-indeterminate",
        href,
        dataset: { call: "indeterminate" },
        title: "Indeterminate: evidence that misses a call rule",
        text: `${name}?`,
      }),
    ),
  ];
  fill(cell, ...(tags.length ? tags : [h("a", { class: "muted small", href, text: "Nothing detected" })]));
}

async function retry(sample) {
  try {
    const updated = await api("POST", `/api/samples/${sample.id}/retry`);
    const index = state.samples.findIndex((item) => item.id === sample.id);
    if (index >= 0) {
      state.samples[index] = updated;
      updateRow(rows.get(sample.id), updated);
    }
    toast(`Creating ${sample.name} again`);
  } catch (error) {
    toast(`${sample.name} cannot be tried again: ${error.message}`, { error: true });
  }
}

async function startUpdate(sample) {
  try {
    const updated = await api("PUT", `/api/samples/${sample.id}/update_job`);
    const index = state.samples.findIndex((item) => item.id === sample.id);
    if (index >= 0) {
      state.samples[index] = { ...state.samples[index], ...updated };
      updateRow(rows.get(sample.id), state.samples[index]);
    }
    toast(`Updating ${sample.name}`);
  } catch (error) {
    toast(`${sample.name} cannot be updated: ${error.message}`, { error: true });
  }
}

async function remove(sample) {
  if (!window.confirm(`Remove ${sample.name}? Its uploads become free for another sample.`)) return;
  try {
    await api("DELETE", `/api/samples/${sample.id}`);
    toast(`Removed ${sample.name}`);
    reload();
  } catch (error) {
    toast(`${sample.name} cannot be removed: ${error.message}`, { error: true });
  }
}

function updateRow(row, sample) {
  setText(part(row, "link"), sample.name);
  const host = part(row, "host");
  setText(host, sample.host || "—");
  host.classList.toggle("muted", !sample.host);
  setText(part(row, "library"), LIBRARY_LABELS[sample.library_type] || sample.library_type);
  const labels = part(row, "labels");
  const signature = JSON.stringify(sample.labels.map((label) => [label.id, label.name, label.color]));
  if (labels.dataset.signature !== signature) {
    labels.dataset.signature = signature;
    fill(labels, sample.labels.map((label) => labelChip(label)));
  }
  renderCalls(part(row, "calls"), sample);
  setText(part(row, "user"), sample.user?.handle || "—");
  const select = part(row, "select");
  select.checked = state.selected.has(sample.id);
  // Only ready samples in today's form can be selected: the selection's actions refuse the others (409).
  const selectable = sample.ready && !sample.is_legacy;
  select.disabled = !selectable && !select.checked;
  select.title = selectable ? "" : sample.is_legacy ? "A legacy sample: update it first" : "Not ready yet";
  select.setAttribute("aria-label", `Select ${sample.name}`);
  const created = part(row, "created");
  if (created.firstElementChild?.getAttribute("datetime") !== sample.created_at) fill(created, timeAgo(sample.created_at));
  renderStatus(row, sample);
}

function renderRows() {
  syncRows(tbody, rows, state.samples, createRow, updateRow);
  table.removeAttribute("aria-busy");
  table.hidden = state.samples.length === 0;
  renderSelection();
  const empty = $("#samples-empty");
  empty.hidden = state.samples.length > 0;
  const filtered = state.find || state.labels.size;
  empty.textContent = filtered ? "No samples match the search." : "No samples yet. Create one from uploaded reads.";
  const result = state.result;
  if (!result) return;
  let text = pageSummary(result, state.samples.length, "sample");
  if (text && filtered && result.total_count !== result.found_count) text += ` ${result.total_count} in all.`;
  setText($("#samples-count"), text);
  renderPager($("#sample-pager"), result);
}

// --- Label filter ---------------------------------------------------------------------------------------------

function renderLabelFilter() {
  const container = $("#label-filter");
  container.hidden = state.allLabels.length === 0;
  // Counts change whenever samples gain or lose labels: a rebuilt filter must not take the focus away.
  const focused = container.contains(document.activeElement) ? document.activeElement.dataset.label : null;
  fill(
    container,
    state.allLabels.map((label) =>
      h(
        "button",
        {
          type: "button",
          class: "small label-filter",
          "aria-pressed": String(state.labels.has(label.id)),
          dataset: { label: String(label.id) },
          onClick: () => {
            if (state.labels.has(label.id)) state.labels.delete(label.id);
            else state.labels.add(label.id);
            state.page = 1;
            renderLabelFilter();
            syncUrl();
            load();
          },
        },
        labelChip(label),
        h("span", { class: "count", text: String(label.count ?? "") }),
      ),
    ),
  );
  if (focused) $(`[data-label="${focused}"]`, container)?.focus();
}

const labelLooks = (labels) => JSON.stringify(labels.map((label) => [label.id, label.name, label.color]));

let labelsLoaded = false;
async function loadLabels() {
  const before = labelsLoaded ? labelLooks(state.allLabels) : null;
  try {
    state.allLabels = await api("GET", "/api/labels");
  } catch {
    if (!labelsLoaded) {
      renderLabelFilter();
      renderCreateLabels();
    }
    return; // a failed refresh keeps the labels already shown
  }
  labelsLoaded = true;
  // A deleted label can no longer filter; a renamed or recoloured one must be redrawn in the rows.
  const known = new Set(state.allLabels.map((label) => label.id));
  const dropped = [...state.labels].filter((id) => !known.has(id));
  for (const id of dropped) state.labels.delete(id);
  if (dropped.length) syncUrl();
  renderLabelFilter();
  renderCreateLabels();
  if (state.result && (dropped.length || (before !== null && labelLooks(state.allLabels) !== before))) reload();
}

// --- Loading --------------------------------------------------------------------------------------------------

const load = listLoader({
  url() {
    const query = new URLSearchParams({ page: String(state.page), per_page: String(PER_PAGE), sort: state.sort });
    if (state.find) query.set("find", state.find);
    for (const id of state.labels) query.append("label", String(id));
    return `/api/samples?${query}`;
  },
  busy: table,
  onError: (error) => showProblem(error ? `Could not load the samples: ${error.message}` : ""),
  clampPage: clampPageOf(state, syncUrl),
  onLoad(result) {
    // A reload (after another change) may bring a sample already ready before its own update arrives: the
    // transition is marked here as it would be there, so the row still says "Ready".
    const known = new Map(state.samples.map((sample) => [sample.id, sample]));
    for (const sample of result.documents) {
      const before = known.get(sample.id);
      if (before && sample.ready && !before.ready) state.readied.add(sample.id);
      if (before && sample.is_legacy === false && before.is_legacy) state.updated.add(sample.id);
    }
    state.result = result;
    state.samples = result.documents;
    renderRows();
  },
});

const reload = debounce(load, 500);

onSearch($("#samples-find"), (find) => {
  state.find = find;
  state.page = 1;
  syncUrl();
  load();
});

$("#samples-sort").addEventListener("change", (event) => {
  state.sort = event.currentTarget.value;
  state.page = 1;
  syncUrl();
  load();
});

onPager($("#sample-pager"), (step) => {
  if (!state.result) return;
  state.page = Math.max(1, state.page + step);
  syncUrl();
  load().then(() => $("#samples-title").focus());
});

// --- Live updates ---------------------------------------------------------------------------------------------

live.on("samples", ({ operation, data }) => {
  if (!state.result) return;
  if (operation === "delete") {
    const gone = new Set(Array.isArray(data) ? data : [data]);
    const before = state.samples.length;
    state.samples = state.samples.filter((sample) => !gone.has(sample.id));
    if (state.samples.length !== before) {
      state.result.found_count -= before - state.samples.length;
      renderRows();
      reload();
    }
    return;
  }
  if (!data?.id) return;
  const index = state.samples.findIndex((sample) => sample.id === data.id);
  if (index >= 0) {
    if (data.ready && !state.samples[index].ready) state.readied.add(data.id);
    if (data.is_legacy === false && state.samples[index].is_legacy) state.updated.add(data.id);
    state.samples[index] = { ...state.samples[index], ...data };
    updateRow(rows.get(data.id), state.samples[index]);
    return;
  }
  if (operation === "insert") reload();
});

live.on("jobs", ({ data }) => {
  if (!data?.id) return;
  const { progress, state: jobState, step_name, cancel_requested } = data;
  const seen = { progress, state: jobState, step_name, cancel_requested };
  // A failed job's words come with its status records; the sample's own update may have been sent before them.
  const failure = [...(data.status || [])].reverse().find((record) => record.error)?.error;
  if (FAILED_STATES.includes(jobState) && failure?.details?.length) seen.error = failure.details.join(" ");
  state.jobs.set(data.id, seen);
  for (const sample of state.samples) {
    if (sample.job?.id === data.id && (!sample.ready || sample.is_legacy)) updateRow(rows.get(sample.id), sample);
  }
});

live.on("labels", () => loadLabels());
live.onReconnect(() => {
  load();
  loadLabels();
});

// --- Create form ----------------------------------------------------------------------------------------------

const form = $("#create-form");
const section = $("#create-section");
const toggle = $("#create-toggle");
const nameInput = $("#sample-name");
const create = { uploads: [], selected: [], transfers: [], canUpload: false };

function openForm(open) {
  section.hidden = !open;
  toggle.setAttribute("aria-expanded", String(open));
  if (open) {
    loadUploads();
    loadGroups();
    $("#create-title").focus();
  }
}

toggle.addEventListener("click", () => openForm(section.hidden));
$("#create-cancel").addEventListener("click", () => {
  openForm(false);
  toggle.focus();
});

nameInput.addEventListener("input", () => {
  nameInput.dataset.edited = "true"; // once typed in (even cleared), the name is the user's
});

function suggest() {
  if (nameInput.dataset.edited) return;
  const first = create.uploads.find((upload) => upload.id === create.selected[0]);
  nameInput.value = first ? suggestName(first.name) : "";
}

function renderReadsChoices() {
  const container = $("#reads-choices");
  const full = create.selected.length >= 2;
  fill(
    container,
    create.uploads.map((upload) => {
      const checked = create.selected.includes(upload.id);
      return h(
        "label",
        { class: "check" },
        h("input", {
          type: "checkbox",
          name: "files",
          value: String(upload.id),
          checked,
          disabled: full && !checked,
          onChange: (event) => {
            if (event.currentTarget.checked) create.selected = [...create.selected, upload.id].slice(-2);
            else create.selected = create.selected.filter((id) => id !== upload.id);
            renderReadsChoices();
            suggest();
            $(`input[value="${upload.id}"]`, container)?.focus();
          },
        }),
        h("span", {}, upload.name, h("span", { class: "hint", text: sizeText(upload.size) })),
      );
    }),
  );
  $("#reads-empty").hidden = create.uploads.length > 0;
}

const recent = recentUploads();

async function loadUploads() {
  const merge = recent.ask();
  try {
    const result = await api("GET", "/api/uploads?type=reads&per_page=100");
    create.uploads = merge((result.items || []).filter((upload) => !upload.removed && !upload.reserved));
  } catch (error) {
    showFormProblem(`Could not load the uploaded reads: ${error.message}`);
    return;
  }
  const known = new Set(create.uploads.map((upload) => upload.id));
  create.selected = create.selected.filter((id) => known.has(id));
  renderReadsChoices();
  suggest();
}

const reloadUploads = debounce(() => {
  if (!section.hidden) loadUploads();
}, 400);
live.on("uploads", reloadUploads);

async function loadGroups() {
  const select = $("#sample-group");
  try {
    const groups = await api("GET", "/api/groups");
    const current = select.value;
    fill(
      select,
      h("option", { value: "", text: "None" }),
      groups.map((group) => h("option", { value: String(group.id), text: group.name })),
    );
    select.value = current;
  } catch {
    // The group stays "None".
  }
}

function renderCreateLabels() {
  const container = $("#create-labels");
  const checked = new Set($$("input:checked", container).map((input) => Number(input.value)));
  fill(
    container,
    state.allLabels.map((label) =>
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", name: "labels", value: String(label.id), checked: checked.has(label.id) }),
        labelChip(label),
      ),
    ),
  );
  $("#create-labels-empty").hidden = state.allLabels.length > 0;
}

function showFormProblem(message) {
  setText($(".form-error", form), message);
}

// Uploading dropped or chosen files: resumable uploads (tus) with a progress bar each.

function addFiles(fileList) {
  const files = Array.from(fileList || []);
  if (!files.length) return;
  if (!create.canUpload) {
    toast("You do not have permission to upload files.", { error: true });
    return;
  }
  if (files.length > 2) toast("A sample takes one or two read files: only the first two are used.", { error: true });
  for (const file of files.slice(0, 2)) uploadFile(file);
}

function uploadFile(file) {
  const bar = h(
    "div",
    {
      class: "job-progress",
      role: "progressbar",
      "aria-label": `Upload of ${file.name}`,
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": "0",
    },
    h("span", { class: "job-progress-fill" }),
  );
  const status = h("span", { class: "transfer-state", dataset: { state: "uploading" }, text: "Uploading" });
  const row = h(
    "li",
    { class: "transfer" },
    h("div", { class: "transfer-head" }, h("span", { class: "transfer-name", text: file.name }), status),
    bar,
  );
  $("#sample-transfers").append(row);
  const setBar = (percent) => {
    bar.setAttribute("aria-valuenow", String(percent));
    bar.firstElementChild.style.width = `${percent}%`;
  };
  const setStatus = (key, text) => {
    status.dataset.state = key;
    status.textContent = text;
    bar.dataset.state = key === "failed" ? "error" : key === "done" ? "complete" : "running";
  };
  const note = h("p", { class: "transfer-error", hidden: true });
  row.append(note);
  const say = (text, warning = false) => {
    note.textContent = text;
    note.hidden = !text;
    note.classList.toggle("notice", warning);
  };
  // Resumable (tus): a dropped connection or an ended session pauses the upload, which then continues.
  const resume = h("button", { type: "button", class: "small primary", text: "Resume", hidden: true });
  row.append(resume);
  const upload = resumableUpload(file, "reads", {
    onProgress(sent, total) {
      if (status.dataset.state === "paused") {
        setStatus("uploading", "Uploading");
        say("");
      }
      if (total) setBar(Math.round((sent / total) * 100));
      if (sent >= total) setStatus("processing", "Finishing");
    },
    onPause(reason, message) {
      setStatus("paused", "Paused");
      say(message, true);
      resume.hidden = reason !== "signed-out";
    },
    onResume() {
      resume.hidden = true;
    },
    onSuccess(body) {
      upload.done();
      setBar(100);
      setStatus("done", "Uploaded");
      say("");
      recent.add(body);
      if (!create.uploads.some((item) => item.id === body.id)) create.uploads = [body, ...create.uploads];
      if (create.selected.length < 2) create.selected = [...create.selected, body.id];
      renderReadsChoices();
      suggest();
    },
    onError(code, message, body) {
      upload.done();
      setStatus("failed", "Failed");
      say(message || describeError(code, body).message);
    },
  });
  resume.addEventListener("click", () => upload.resume());
}

const zone = $("#drop-zone");
const fileInput = $("#file-input");
$("#choose-files").addEventListener("click", () => fileInput.click());
fileInput.addEventListener("change", () => {
  addFiles(fileInput.files);
  fileInput.value = "";
});
const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
let dragDepth = 0;
zone.addEventListener("dragenter", (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  dragDepth += 1;
  zone.classList.add("dragging");
});
zone.addEventListener("dragover", (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "copy";
});
zone.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) zone.classList.remove("dragging");
});
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  dragDepth = 0;
  zone.classList.remove("dragging");
  addFiles(event.dataTransfer?.files);
});
for (const type of ["dragover", "drop"]) {
  window.addEventListener(type, (event) => {
    if (hasFiles(event) && !zone.contains(event.target)) event.preventDefault();
  });
}

onSubmit(form, async () => {
  const fields = {};
  const name = nameInput.value.trim();
  if (!name) fields.name = "A name is required.";
  if (!create.selected.length) fields.files = "Choose one or two read files.";
  if (Object.keys(fields).length) throw new FieldErrors(fields);
  const group = $("#sample-group").value;
  const body = {
    name,
    host: $("#sample-host").value.trim(),
    isolate: $("#sample-isolate").value.trim(),
    locale: $("#sample-locale").value.trim(),
    notes: $("#sample-notes").value,
    library_type: $("#sample-library").value,
    labels: $$("#create-labels input:checked").map((input) => Number(input.value)),
    group: group ? Number(group) : null,
    files: create.selected,
  };
  let sample;
  try {
    sample = await api("POST", "/api/samples", body);
  } catch (error) {
    attachToField(error, "name", (message) => /name/i.test(message));
    attachToField(error, "files", (message) => /upload|file|read/i.test(message));
    throw error;
  }
  toast(`Creating ${sample.name}…`);
  form.reset();
  nameInput.dataset.edited = "";
  create.selected = [];
  fill($("#sample-transfers"));
  openForm(false);
  if (!state.samples.some((item) => item.id === sample.id)) {
    state.samples = [sample, ...state.samples].slice(0, PER_PAGE);
    if (state.result) state.result.found_count += 1;
    renderRows();
  }
  reload();
  toggle.focus();
});

// --- Selection ------------------------------------------------------------------------------------------------

function renderSelection() {
  const count = state.selected.size;
  $("#selection-bar").hidden = count === 0;
  const names = [...state.selected.values()];
  const listed = names.slice(0, 3).join(", ") + (names.length > 3 ? ` and ${names.length - 3} more` : "");
  setText($("#selection-count"), count ? `${count} sample${count === 1 ? "" : "s"} selected: ${listed}` : "");
  const ready = state.samples.filter((sample) => sample.ready && !sample.is_legacy);
  const pageBox = $("#select-page");
  const chosen = ready.filter((sample) => state.selected.has(sample.id)).length;
  pageBox.checked = ready.length > 0 && chosen === ready.length;
  pageBox.indeterminate = chosen > 0 && chosen < ready.length;
  pageBox.disabled = ready.length === 0;
  parts.call("selection", [...state.selected.keys()]);
}

$("#select-page").addEventListener("change", (event) => {
  const ready = state.samples.filter((sample) => sample.ready && !sample.is_legacy);
  for (const sample of ready) {
    if (event.currentTarget.checked) state.selected.set(sample.id, sample.name);
    else state.selected.delete(sample.id);
  }
  for (const sample of state.samples) {
    const row = rows.get(sample.id);
    if (row) part(row, "select").checked = state.selected.has(sample.id);
  }
  renderSelection();
});

function clearSelection() {
  state.selected.clear();
  for (const row of rows.values()) part(row, "select").checked = false;
  renderSelection();
}

$("#selection-clear").addEventListener("click", clearSelection);

// --- Start ----------------------------------------------------------------------------------------------------

async function start() {
  $("#samples-find").value = state.find;
  $("#samples-sort").value = state.sort;
  try {
    state.account = await getAccount();
  } catch (error) {
    showProblem(`Could not load your account: ${error.message}`);
  }
  toggle.hidden = !may(state.account, "create_sample");
  create.canUpload = may(state.account, "upload_file");
  $("#choose-files").disabled = !create.canUpload;
  await Promise.all([load(), loadLabels()]);
  if (params.get("create") === "1" && !toggle.hidden) openForm(true);
}

setInterval(() => refreshTimes(tbody), 30_000);
start();
