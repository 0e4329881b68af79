// One reference: OTUs (search, verification, add), history (diffs, revert), indexes (build with live progress),
// members and their rights, export links and settings; for a remote reference, its releases, what an update will
// change and the update's progress. Everything follows the websocket.
import {
  $,
  $$,
  ApiError,
  api,
  attachToField,
  debounce,
  FieldErrors,
  fill,
  getAccount,
  h,
  hasRole,
  live,
  onPager,
  onSubmit,
  renderPager,
  showNotice,
  timeAgo,
  toast,
} from "../virtool/virtool.js";
import { ACTIVE_STATES, FAILED_STATES, jobErrorText, progressBar, setProgress, stateBadge, stepText } from "../jobs/jobs-common.js";
import { HistoryList, RIGHTS, RIGHT_LABELS, confirmInline, dataTypeLabel, followHistory, referenceRights } from "./refs-common.js";

const root = $("#ref-root");
const refId = root.dataset.refId;
const refPath = `/api/refs/${encodeURIComponent(refId)}`;
const PER_PAGE = 25;

const state = {
  ref: null,
  account: null,
  rights: new Set(),
  tab: "otus",
  otus: { find: "", verified: "", page: 1, result: null },
  history: { unbuilt: false, page: 1, result: null },
  indexes: [],
  openFiles: new Set(), // ids of the indexes whose file lists are open
  jobs: new Map(),
  updates: null, // GET /updates: every install and update of a remote reference, newest first
  preview: null, // the release id whose preview is shown
};

function showError(message) {
  const node = $("#ref-error");
  node.textContent = message || "";
  node.hidden = !message;
}

function plural(count, word) {
  return `${Number(count || 0).toLocaleString()} ${word}${count === 1 ? "" : "s"}`;
}

// --- The reference ------------------------------------------------------------------------------------------

async function loadReference() {
  try {
    state.ref = await api("GET", refPath);
  } catch (error) {
    if (error.status === 404) {
      $("#ref-missing").hidden = false;
      $("#ref-body").hidden = true;
      return false;
    }
    showError(`Could not load the reference: ${error.message}`);
    return false;
  }
  state.rights = referenceRights(state.account, state.ref);
  renderReference();
  return true;
}

function renderReference() {
  const ref = state.ref;
  document.title = `${ref.name} · References · Virtool`;
  $("#ref-body").hidden = false;
  $("#ref-title").textContent = ref.name;
  $("#ref-facts").textContent = [
    dataTypeLabel(ref.data_type),
    ref.organism || null,
    plural(ref.otu_count, "OTU"),
    plural(ref.unbuilt_change_count, "unbuilt change"),
    ref.user?.handle ? `created by ${ref.user.handle}` : null,
    ref.cloned_from ? `cloned from ${ref.cloned_from.name || ref.cloned_from.id}` : null,
    ref.imported_from ? `imported from ${ref.imported_from.name}` : null,
  ]
    .filter(Boolean)
    .join(" · ");
  $("#ref-description").textContent = ref.description || "";
  const status = $("#ref-status");
  if (!ref.ready) fill(status, h("span", { class: "badge", text: ref.remotes_from ? "Installing…" : "Filling…" }));
  else if (ref.latest_build) fill(status, h("span", { class: "badge ok", text: `Latest index: version ${ref.latest_build.version}` }));
  else fill(status, h("span", { class: "badge", text: "No index built" }));
  const filling = $("#ref-filling");
  filling.hidden = ref.ready;
  if (!ref.ready) {
    const job = state.jobs.get(ref.job?.id) || ref.job;
    const what = ref.remotes_from ? `Release ${ref.release?.name || ""} is being installed` : "The reference is being filled";
    filling.textContent = `${what}${job ? ` (${Math.round(job.progress || 0)}%)` : ""}. Its OTUs appear when it is ready.`;
  }
  $("#export-unbuilt").href = `${refPath}/export?scope=unbuilt`;
  const built = $("#export-built");
  built.href = `${refPath}/export?scope=built`;
  $("#export-built-wrap").hidden = !ref.latest_build;
  $("#tab-otu-count").textContent = `(${ref.otu_count ?? 0})`;
  $("#tab-change-count").textContent = ref.unbuilt_change_count ? `(${ref.unbuilt_change_count} unbuilt)` : "";

  $("#show-add-otu").hidden = !state.rights.has("modify_otu");
  $("#build-index").hidden = !state.rights.has("build");
  $("#build-summary").textContent = ref.unbuilt_change_count
    ? `${plural(ref.unbuilt_change_count, "change")} not built into an index yet.`
    : "Every change is built into an index.";
  renderMembers();
  renderSettings();
  renderRemote();
  renderCallRules();
  historyList.render();
}

live.on("references", (message) => {
  if (message.operation === "delete") {
    if ([].concat(message.data).includes(refId)) {
      showError("This reference was deleted.");
      $("#ref-body").hidden = true;
    }
    return;
  }
  if (message.data.id !== refId) return;
  const wasReady = state.ref?.ready;
  const before = remoteSignature(state.ref);
  // List documents lack `contributors`; keep what the detail had.
  state.ref = { ...state.ref, ...message.data };
  state.rights = referenceRights(state.account, state.ref);
  renderReference();
  if (!wasReady && state.ref.ready) {
    loadOtus();
    loadHistory();
  }
  // An install or update started or finished: its entry in the updates list changed.
  if (state.ref.remotes_from && remoteSignature(state.ref) !== before) reloadUpdates();
});

// --- Tabs ---------------------------------------------------------------------------------------------------

const TABS = ["otus", "history", "indexes", "members", "settings"];

function showTab(tab) {
  state.tab = TABS.includes(tab) ? tab : "otus";
  for (const link of $$(".tabs a[data-tab]")) {
    if (link.dataset.tab === state.tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  for (const panel of $$("[data-panel]")) panel.hidden = panel.dataset.panel !== state.tab;
}

window.addEventListener("hashchange", () => showTab(window.location.hash.slice(1)));

// --- OTUs ---------------------------------------------------------------------------------------------------

async function loadOtus() {
  const query = new URLSearchParams({ page: String(state.otus.page), per_page: String(PER_PAGE) });
  if (state.otus.find) query.set("find", state.otus.find);
  if (state.otus.verified) query.set("verified", state.otus.verified);
  try {
    const result = await api("GET", `${refPath}/otus?${query}`);
    if (result.page_count && state.otus.page > result.page_count) {
      state.otus.page = result.page_count;
      return loadOtus();
    }
    state.otus.result = result;
    renderOtus();
  } catch (error) {
    showError(`Could not load the OTUs: ${error.message}`);
  }
}

const reloadOtus = debounce(loadOtus, 200);

function renderOtus() {
  const result = state.otus.result;
  const tbody = $("#otus-table tbody");
  fill(
    tbody,
    result.documents.map((otu) =>
      h(
        "tr",
        { dataset: { id: otu.id } },
        h("td", {}, h("a", { href: `/refs/${encodeURIComponent(refId)}/otus/${encodeURIComponent(otu.id)}`, text: otu.name })),
        h("td", { text: otu.abbreviation || "—" }),
        h("td", {}, otu.verified ? h("span", { class: "badge ok", text: "Verified" }) : h("span", { class: "badge off", text: "Unverified" })),
        h("td", { text: String(otu.version) }),
      ),
    ),
  );
  const filtered = state.otus.find || state.otus.verified;
  $("#otus-table").hidden = !result.documents.length;
  const empty = $("#otus-empty");
  empty.hidden = result.documents.length > 0;
  empty.textContent = filtered ? "No OTU matches." : "This reference has no OTUs yet.";
  $("#otus-count").textContent = filtered
    ? `${plural(result.found_count, "OTU")} of ${result.total_count} match`
    : `${plural(result.total_count, "OTU")}${result.modified_count ? `, ${result.modified_count} modified since the last build` : ""}`;
  renderPager($("#otus-pager"), result);
}

onPager($("#otus-pager"), (step) => {
  state.otus.page += step;
  loadOtus();
});

$("#otus-find").addEventListener(
  "input",
  debounce((event) => {
    state.otus.find = event.target.value.trim();
    state.otus.page = 1;
    loadOtus();
  }, 250),
);
$("#otus-verified").addEventListener("change", (event) => {
  state.otus.verified = event.target.value;
  state.otus.page = 1;
  loadOtus();
});

live.on("otus", (message) => {
  if (message.operation === "delete") {
    const ids = new Set([].concat(message.data));
    if (state.otus.result?.documents.some((otu) => ids.has(otu.id))) reloadOtus();
    return;
  }
  if (message.data.reference?.id === refId) reloadOtus();
});

const addForm = $("#add-otu-form");
const showAdd = $("#show-add-otu");

function toggleAdd(open) {
  addForm.hidden = !open;
  showAdd.setAttribute("aria-expanded", String(open));
  if (open) addForm.elements.name.focus();
  else showAdd.focus();
}

showAdd.addEventListener("click", () => toggleAdd(addForm.hidden));
$("#cancel-add-otu").addEventListener("click", () => toggleAdd(false));

onSubmit(addForm, async (form) => {
  const name = form.elements.name.value.trim();
  if (!name) throw new FieldErrors({ name: "A name is required." });
  const segments = form.elements.schema.value
    .split(",")
    .map((segment) => segment.trim())
    .filter(Boolean);
  const body = { name, abbreviation: form.elements.abbreviation.value.trim() };
  if (segments.length) body.schema = segments.map((segment) => ({ name: segment, molecule: null, required: true }));
  let otu;
  try {
    otu = await api("POST", `${refPath}/otus`, body);
  } catch (error) {
    attachToField(error, "abbreviation", (message) => /abbreviation/i.test(message));
    attachToField(error, "name", (message) => /name/i.test(message));
    throw error;
  }
  form.reset();
  toast(`Added ${otu.name}`);
  toggleAdd(false);
  loadOtus();
});

// --- History ------------------------------------------------------------------------------------------------

const historyList = new HistoryList($("#history-list"), {
  refId,
  canRevert: () => state.rights.has("modify_otu"),
  onReverted: () => loadHistory(),
});

async function loadHistory() {
  const query = new URLSearchParams({ page: String(state.history.page), per_page: String(PER_PAGE) });
  if (state.history.unbuilt) query.set("unbuilt", "true");
  try {
    const result = await api("GET", `${refPath}/history?${query}`);
    if (result.page_count && state.history.page > result.page_count) {
      state.history.page = result.page_count;
      return loadHistory();
    }
    state.history.result = result;
    historyList.set(result.documents);
    const empty = $("#history-empty");
    empty.hidden = result.documents.length > 0;
    empty.textContent = state.history.unbuilt ? "No unbuilt changes." : "No changes yet.";
    $("#history-count").textContent = plural(result.found_count, "change");
    renderPager($("#history-pager"), result);
  } catch (error) {
    showError(`Could not load the history: ${error.message}`);
  }
}

const reloadHistory = debounce(loadHistory, 200);

onPager($("#history-pager"), (step) => {
  state.history.page += step;
  loadHistory();
});

$("#history-unbuilt").addEventListener("change", (event) => {
  state.history.unbuilt = event.target.checked;
  state.history.page = 1;
  loadHistory();
});

followHistory({
  onInsert: (change) => change.reference?.id === refId && reloadHistory(),
  onUpdate: (change) => change.reference?.id === refId && reloadHistory(),
  // Delete events carry ids only: re-read the page when it shows any history at all.
  onDelete: () => historyList.changes.length && reloadHistory(),
});

// --- Indexes ------------------------------------------------------------------------------------------------

async function loadIndexes() {
  try {
    const result = await api("GET", `${refPath}/indexes?per_page=100`);
    state.indexes = result.documents;
    renderIndexes();
  } catch (error) {
    showError(`Could not load the indexes: ${error.message}`);
  }
}

function indexJob(index) {
  return state.jobs.get(index.job?.id) || index.job;
}

function indexState(index) {
  const job = indexJob(index);
  if (index.ready) return h("span", { class: "badge ok", text: "Ready" });
  if (job && ACTIVE_STATES.includes(job.state)) {
    const bar = progressBar(`Build of index ${index.version}`);
    setProgress(bar, job, stepText(job));
    return h("div", { class: "index-progress" }, bar, h("span", { class: "muted small", dataset: { part: "step" }, text: `${stepText(job)} · ${Math.round(job.progress || 0)}%` }));
  }
  if (job) return stateBadge(job.state);
  return h("span", { class: "badge", text: "Not ready" });
}

function renderIndexes() {
  const tbody = $("#indexes-table tbody");
  fill(
    tbody,
    state.indexes.map((index) => {
      const files = h("td", {}, index.ready ? h("button", { type: "button", class: "small", "aria-expanded": "false", text: "Files" }) : h("span", { class: "muted", text: "—" }));
      const row = h(
        "tr",
        { dataset: { id: index.id, version: String(index.version), ready: String(Boolean(index.ready)) } },
        h("td", {}, h("strong", { text: `Version ${index.version}` })),
        h("td", { dataset: { part: "changes" }, text: index.change_count === null || index.change_count === undefined ? "—" : String(index.change_count) }),
        h("td", { dataset: { part: "state" } }, indexState(index)),
        h("td", { text: index.user?.handle || "—" }),
        h("td", {}, timeAgo(index.created_at)),
        files,
      );
      $("button", files)?.addEventListener("click", (event) => toggleFiles(index, row, event.currentTarget));
      return row;
    }),
  );
  // Redraws (live updates, reloads after a build) keep the file lists the user opened.
  for (const index of state.indexes) {
    const row = $(`#indexes-table tbody tr[data-id="${CSS.escape(index.id)}"]`);
    const button = row && $("button", row);
    if (state.openFiles.has(index.id) && index.ready && button) showFiles(index, row, button);
  }
  $("#indexes-table").hidden = !state.indexes.length;
  $("#indexes-empty").hidden = state.indexes.length > 0;
}

function toggleFiles(index, row, button) {
  const next = row.nextElementSibling;
  if (next?.classList.contains("index-files")) {
    next.remove();
    state.openFiles.delete(index.id);
    button.setAttribute("aria-expanded", "false");
    return;
  }
  state.openFiles.add(index.id);
  showFiles(index, row, button);
}

async function showFiles(index, row, button) {
  button.setAttribute("aria-expanded", "true");
  const cell = h("td", { colspan: "6" }, h("span", { class: "muted small", text: "Loading…" }));
  row.after(h("tr", { class: "index-files" }, cell));
  try {
    const detail = await api("GET", `/api/indexes/${encodeURIComponent(index.id)}`);
    fill(
      cell,
      h("p", { class: "small muted", text: `${plural(detail.otus?.length || 0, "OTU")}; contributors: ${(detail.contributors || []).map((c) => `${c.handle} (${c.count})`).join(", ") || "—"}` }),
      h(
        "ul",
        { class: "index-file-list small" },
        (detail.files || []).map((file) => h("li", {}, h("a", { href: `/api${file.download_url}`, download: file.name, text: file.name }), ` ${Number(file.size).toLocaleString()} bytes`)),
      ),
    );
  } catch (error) {
    fill(cell, h("span", { class: "notice danger small", text: error.message }));
  }
}

live.on("indexes", (message) => {
  if (message.operation === "delete") {
    loadIndexes();
    return;
  }
  const index = message.data;
  if (index.reference?.id !== refId) return;
  const position = state.indexes.findIndex((item) => item.id === index.id);
  if (position >= 0) state.indexes[position] = index;
  else state.indexes.unshift(index);
  state.indexes.sort((a, b) => b.version - a.version);
  renderIndexes();
});

live.on("jobs", (message) => {
  if (message.operation === "delete") return;
  const job = message.data;
  const forIndex = state.indexes.some((index) => index.job?.id === job.id);
  const forRef = state.ref?.job?.id === job.id;
  if (!forIndex && !forRef) return;
  state.jobs.set(job.id, job);
  if (forIndex) renderIndexes();
  if (forRef) renderReference();
  // A finished job changed more than its progress: the index (ready, or its changes returned to unbuilt) or the
  // filled reference. Re-read them rather than wait for their own events.
  if (!ACTIVE_STATES.includes(job.state)) {
    reloadAfterJob();
  }
});

const reloadAfterJob = debounce(async () => {
  if (await loadReference()) await Promise.all([loadIndexes(), loadHistory(), loadOtus(), loadUpdates()]);
}, 100);

$("#build-index").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const problem = $("#build-problem");
  problem.hidden = true;
  button.disabled = true;
  try {
    const index = await api("POST", `${refPath}/indexes`);
    if (index.job) state.jobs.set(index.job.id, index.job);
    if (!state.indexes.some((item) => item.id === index.id)) state.indexes.unshift(index);
    renderIndexes();
    toast(`Building index ${index.version}`);
  } catch (error) {
    problem.textContent = error.status === 409 ? `Cannot build: ${error.message}` : error.message;
    problem.hidden = false;
  } finally {
    button.disabled = false;
  }
});

// --- Remote reference -------------------------------------------------------------------------------------------

const UPDATE_WORKFLOW = "update_remote_reference";

/** What, of a reference, changes the list of its installs and updates. */
function remoteSignature(ref) {
  return JSON.stringify([ref?.installed?.id ?? null, Boolean(ref?.updating), ref?.ready, ref?.job?.id ?? null]);
}

function releaseDate(value) {
  if (!value) return "an unknown date";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleDateString(undefined, { dateStyle: "medium" });
}

/** The handle of the user `id`, from what the page knows (the account, the members, the contributors). */
function handleOf(id) {
  if (id === undefined || id === null) return "—";
  const ref = state.ref || {};
  const known = [state.account, ref.user, ...(ref.users || []), ...(ref.contributors || []), ref.job?.user].find(
    (user) => user && user.id === id && user.handle,
  );
  return known ? known.handle : `user ${id}`;
}

/** The update job of the reference (running or ended), with its latest progress from the websocket, or null. */
function updateJob() {
  const ref = state.ref;
  const job = state.jobs.get(ref?.job?.id) || ref?.job;
  return job && job.workflow === UPDATE_WORKFLOW ? job : null;
}

function renderRemote() {
  const ref = state.ref;
  const section = $("#remote-section");
  section.hidden = !ref.remotes_from;
  if (!ref.remotes_from) return;
  const slug = ref.remotes_from.slug;
  const link = $("#remote-slug");
  link.href = `https://github.com/${slug}`;
  link.textContent = slug;

  const installed = ref.installed;
  fill(
    $("#remote-installed"),
    installed
      ? [h("strong", { text: installed.name }), `, published ${releaseDate(installed.published_at)}`]
      : h("span", { class: "muted", text: ref.ready ? "None" : "Being installed…" }),
  );

  const release = ref.release;
  const job = updateJob();
  const updating = Boolean(ref.updating);
  const newer = Boolean(ref.ready && release?.newer);
  const latest = $("#remote-latest");
  latest.dataset.state = !release ? "unknown" : newer ? "update" : "current";
  if (!release) fill(latest, h("span", { class: "muted", text: "Not known yet" }));
  else if (newer) {
    fill(latest, h("span", { class: "badge warn", text: "Update available" }), ` ${release.name}, published ${releaseDate(release.published_at)}`);
  } else if (!ref.ready) fill(latest, `${release.name}, published ${releaseDate(release.published_at)}`);
  else fill(latest, h("span", { class: "badge ok", text: "Up to date" }), ` ${release.name} is the latest release`);

  fill($("#remote-checked"), release?.retrieved_at ? ["Last checked ", timeAgo(release.retrieved_at), "."] : "Not checked yet.");
  $("#remote-check").hidden = !ref.ready;

  const errors = ref.remotes_from.errors || [];
  const errorBox = $("#remote-errors");
  fill(errorBox, errors.length ? [h("p", { text: "The last check of GitHub failed:" }), h("ul", {}, errors.map((text) => h("li", { text })))] : []);
  errorBox.hidden = !errors.length;

  // The notes of a release not installed yet: what the update brings. Markdown is shown as its text, never parsed.
  const notes = $("#remote-notes");
  notes.hidden = !(newer && release.body);
  if (!notes.hidden) {
    $("#remote-notes-title").textContent = `Release notes of ${release.name}`;
    $("#remote-notes-body").textContent = release.body;
  }

  const progress = $("#update-progress");
  progress.hidden = !updating;
  if (updating) {
    const target = (state.updates || []).find((entry) => !entry.ready)?.name || release?.name || "the latest release";
    const step = job ? stepText(job) : "Starting";
    $("#update-progress-text").textContent = `Updating to ${target}: ${step} · ${Math.round(job?.progress || 0)}%`;
    let bar = $("#update-progress-bar .job-progress");
    if (!bar) {
      bar = progressBar(`Update to ${target}`);
      fill($("#update-progress-bar"), bar);
    }
    setProgress(bar, { state: "running", ...(job || {}), progress: job?.progress ?? 0 }, step);
  }

  const failed = !updating && job && FAILED_STATES.includes(job.state);
  const failure = failed ? ref.task?.error || jobErrorText(state.jobs.get(job.id)) : "";
  showNotice(
    $("#update-failed"),
    failed ? `The last update did not finish${failure ? `: ${failure.replace(/\.$/, "")}` : ""}. Nothing was changed; the reference is as it was before it.` : "",
  );

  const review = $("#review-update");
  review.hidden = !newer || updating;
  review.textContent = newer ? `Review update to ${release.name}` : "Review update";
  $("#remote-actions").hidden = review.hidden;
  const preview = $("#update-preview");
  if (!preview.hidden && (updating || !newer || state.preview !== release?.id)) closePreview(false);
}

async function loadUpdates() {
  if (!state.ref?.remotes_from) return;
  try {
    state.updates = await api("GET", `${refPath}/updates`);
  } catch (error) {
    showError(`Could not load the updates: ${error.message}`);
    return;
  }
  renderUpdates();
  renderRemote();
}

const reloadUpdates = debounce(loadUpdates, 150);

function renderUpdates() {
  const entries = state.updates || [];
  const busy = Boolean(state.ref && (!state.ref.ready || state.ref.updating));
  fill(
    $("#updates-table tbody"),
    entries.map((entry) => {
      const badge = entry.ready
        ? h("span", { class: "badge ok", text: state.ref?.installed?.id === entry.id ? "Installed" : "Done" })
        : h("span", { class: "badge", text: busy ? "Installing…" : "Pending" });
      return h(
        "tr",
        { dataset: { release: entry.name, ready: String(Boolean(entry.ready)) } },
        h("th", { scope: "row" }, entry.html_url ? h("a", { href: entry.html_url, rel: "noopener noreferrer", target: "_blank", text: entry.name }) : entry.name),
        h("td", { text: releaseDate(entry.published_at) }),
        h("td", {}, timeAgo(entry.created_at)),
        h("td", { text: handleOf(entry.user?.id) }),
        h("td", { dataset: { part: "state" } }, badge),
      );
    }),
  );
  $("#updates-table").hidden = !entries.length;
  $("#updates-empty").hidden = entries.length > 0;
}

$("#remote-check").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  button.textContent = "Checking…";
  try {
    const release = await api("GET", `${refPath}/release`);
    state.ref = { ...state.ref, release };
    await loadReference(); // the check also wrote what went wrong into remotes_from.errors
    const now = state.ref.release;
    if (state.ref.remotes_from?.errors?.length) toast("Could not check GitHub for a new release", { error: true });
    else toast(now?.newer ? `${now.name} is available` : "The reference is up to date");
  } catch (error) {
    showNotice($("#remote-errors"), `Could not check for a new release: ${error.message}`);
  } finally {
    button.disabled = false;
    button.textContent = "Check now";
  }
});

function otuLink(otu) {
  return h("a", { href: `/refs/${encodeURIComponent(refId)}/otus/${encodeURIComponent(otu.id)}`, text: otu.name });
}

/** One group of the preview: a heading with its count and the OTUs, or nothing when the group is empty. */
function previewGroup(kind, title, otus, item, note = null) {
  if (!otus.length) return null;
  const id = `preview-${kind}-title`;
  return h(
    "div",
    { class: "preview-group", dataset: { kind } },
    h("h4", { id, text: `${title} (${otus.length})` }),
    note ? h("p", { class: "muted small", text: note }) : null,
    h("ul", { class: "preview-list", "aria-labelledby": id }, otus.map((otu) => h("li", { dataset: { name: otu.name } }, item(otu)))),
  );
}

function renderPreview(preview) {
  const edited = preview.updated.filter((otu) => otu.local_changes);
  const removedEdited = preview.removed.filter((otu) => otu.local_changes);
  const warning = edited.length || removedEdited.length
    ? h(
        "div",
        { class: "notice warning", id: "preview-warning" },
        h("p", {}, h("strong", { text: `${plural(edited.length + removedEdited.length, "OTU")} edited here will lose those edits.` })),
        h("p", {
          text: `The update replaces them with the release's version${removedEdited.length ? " (or removes them)" : ""}. The history keeps every edit: the update's change to each OTU can be reverted from the history while it is not built into an index.`,
        }),
      )
    : null;
  const localNote = (otu, text) => (otu.local_changes ? h("span", { class: "badge warn local-changes", text }) : null);
  const changed = preview.updated.length + preview.created.length + preview.removed.length;
  fill(
    $("#preview-body"),
    h(
      "p",
      { id: "preview-summary" },
      changed
        ? `Installing ${preview.release.name} changes ${plural(changed, "OTU")}; ${plural(preview.unchanged, "OTU")} stay as they are.`
        : `${preview.release.name} changes no OTU; installing it only records it as installed.`,
    ),
    warning,
    previewGroup("updated", "OTUs updated", preview.updated, (otu) => [otuLink(otu), " ", localNote(otu, "Local edits replaced")]),
    previewGroup("created", "OTUs added", preview.created, (otu) => otu.name),
    previewGroup("removed", "OTUs removed", preview.removed, (otu) => [otuLink(otu), " ", localNote(otu, "Local edits removed")]),
    previewGroup("kept", "Our own OTUs, kept", preview.kept, (otu) => otuLink(otu), "Made here and not in the release: the update leaves them as they are."),
    h("p", { class: "muted small", id: "preview-unchanged", text: `Unchanged: ${plural(preview.unchanged, "OTU")}.` }),
  );
}

function closePreview(focus = true) {
  $("#update-preview").hidden = true;
  $("#review-update").setAttribute("aria-expanded", "false");
  state.preview = null;
  if (focus && !$("#review-update").hidden) $("#review-update").focus();
}

$("#review-update").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const panel = $("#update-preview");
  if (!panel.hidden) {
    closePreview();
    return;
  }
  const release = state.ref.release;
  state.preview = release.id;
  panel.hidden = false;
  button.setAttribute("aria-expanded", "true");
  $("#preview-title").textContent = `What the update to ${release.name} will change`;
  $("#preview-status").textContent = `Downloading ${release.name} to compare it with the OTUs here…`;
  fill($("#preview-body"));
  showNotice($("#preview-problem"), "");
  $("#preview-actions").hidden = true;
  panel.setAttribute("aria-busy", "true");
  try {
    const preview = await api("GET", `${refPath}/updates/preview`);
    if (state.preview !== release.id) return;
    renderPreview(preview);
    $("#preview-status").textContent = "";
    const mayInstall = state.rights.has("modify");
    $("#preview-actions").hidden = false;
    $("#install-update").hidden = !mayInstall;
    if (!mayInstall) $("#preview-status").textContent = "Only members with the Modify right may install the update.";
  } catch (error) {
    if (state.preview !== release.id) return;
    $("#preview-status").textContent = "";
    showNotice($("#preview-problem"), `Could not prepare the preview: ${error.message}`);
    $("#preview-actions").hidden = false;
    $("#install-update").hidden = true;
  } finally {
    panel.removeAttribute("aria-busy");
  }
});

$("#close-preview").addEventListener("click", () => closePreview());

$("#install-update").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  showNotice($("#preview-problem"), "");
  button.disabled = true;
  try {
    const entry = await api("POST", `${refPath}/updates`);
    toast(`Updating to ${entry.name}`);
    closePreview(false);
    state.ref = { ...state.ref, updating: true };
    state.updates = [entry, ...(state.updates || []).filter((item) => item.id !== entry.id || item.ready)];
    renderUpdates();
    renderRemote();
    if (await loadReference()) await loadUpdates();
  } catch (error) {
    showNotice($("#preview-problem"), `Could not start the update: ${error.message}`);
  } finally {
    button.disabled = false;
  }
});

// --- Members ------------------------------------------------------------------------------------------------

// undefined: not loaded yet; null: this account may not list them (a numeric id is asked for instead).
const candidates = { user: undefined, group: undefined };

function memberProblem(message) {
  const node = $("#members-problem");
  node.textContent = message || "";
  node.hidden = !message;
}

function memberRow(kind, member) {
  const name = kind === "user" ? member.handle : member.name;
  const editable = state.rights.has("modify");
  const url = `${refPath}/${kind}s/${member.id}`;
  const boxes = RIGHTS.map((right) => {
    const input = h("input", {
      type: "checkbox",
      checked: Boolean(member[right]),
      disabled: !editable,
      "aria-label": `${RIGHT_LABELS[right]}: ${name}`,
      dataset: { right },
    });
    input.addEventListener("change", async () => {
      memberProblem("");
      input.disabled = true;
      try {
        await api("PATCH", url, { [right]: input.checked });
        member[right] = input.checked;
        toast(`${RIGHT_LABELS[right]} ${input.checked ? "granted to" : "taken from"} ${name}`);
        loadReference();
      } catch (error) {
        input.checked = !input.checked;
        memberProblem(`Could not change the rights of ${name}: ${error.message}`);
      } finally {
        input.disabled = !editable;
      }
    });
    return h("td", { class: "right-cell" }, input);
  });
  const remove = editable ? h("button", { type: "button", class: "small danger", text: "Remove", "aria-label": `Remove ${name}` }) : null;
  remove?.addEventListener("click", async () => {
    if (!(await confirmInline(remove, `Remove ${name} from the members?`, { confirm: "Remove", keep: "Keep" }))) return;
    memberProblem("");
    try {
      await api("DELETE", url);
      toast(`Removed ${name}`);
      if (await loadReference()) renderMembers(true);
    } catch (error) {
      memberProblem(`Could not remove ${name}: ${error.message}`);
    }
  });
  return h("tr", { dataset: { id: String(member.id), kind } }, h("th", { scope: "row", text: name }), boxes, h("td", {}, remove));
}

function renderMembers(force = false) {
  const ref = state.ref;
  const editable = state.rights.has("modify");
  for (const kind of ["user", "group"]) {
    const members = ref[`${kind}s`] || [];
    const table = $(`#${kind}s-table`);
    // Keep the rows while a box has the focus, so keyboard users do not lose their place on live updates.
    if (force || !table.contains(document.activeElement)) fill($("tbody", table), members.map((member) => memberRow(kind, member)));
    table.hidden = !members.length;
    $(`#${kind}s-empty`).hidden = members.length > 0;
    $(`#add-${kind}-form`).hidden = !editable;
    fillCandidates(kind);
  }
}

async function loadCandidates() {
  if (!state.rights.has("modify")) return;
  // Only user administrators may list users: others give a user's id (no request that is bound to be refused).
  candidates.user = null;
  if (hasRole(state.account?.administrator_role, "users")) {
    try {
      const result = await api("GET", "/api/users?per_page=100");
      candidates.user = result.documents.map((user) => ({ id: user.id, name: user.handle }));
    } catch {
      candidates.user = null;
    }
  }
  try {
    const groups = await api("GET", "/api/groups");
    candidates.group = groups.map((group) => ({ id: group.id, name: group.name }));
  } catch {
    candidates.group = null;
  }
  fillCandidates("user");
  fillCandidates("group");
}

function fillCandidates(kind) {
  if (candidates[kind] === undefined) return;
  const form = $(`#add-${kind}-form`);
  let field = form.elements[`${kind}_id`];
  const taken = new Set((state.ref?.[`${kind}s`] || []).map((member) => member.id));
  if (candidates[kind] === null) {
    if (field.tagName !== "INPUT") {
      const input = h("input", { type: "number", min: "1", id: field.id, name: field.name, placeholder: `${kind === "user" ? "User" : "Group"} id` });
      field.replaceWith(input);
    }
    return;
  }
  if (field.tagName !== "SELECT") {
    const select = h("select", { id: field.id, name: field.name });
    field.replaceWith(select);
    field = select;
  }
  const choices = candidates[kind].filter((item) => !taken.has(item.id));
  const current = field.value;
  fill(
    field,
    choices.length
      ? choices.map((item) => h("option", { value: String(item.id), text: item.name, selected: String(item.id) === current }))
      : h("option", { value: "", text: `No ${kind}s to add` }),
  );
}

for (const kind of ["user", "group"]) {
  onSubmit($(`#add-${kind}-form`), async (form) => {
    const raw = form.elements[`${kind}_id`].value;
    const id = Number.parseInt(raw, 10);
    if (!id) throw new FieldErrors({ [`${kind}_id`]: `Choose a ${kind} to add.` });
    const member = await api("POST", `${refPath}/${kind}s`, { [`${kind}_id`]: id, build: false, modify: false, modify_otu: true, remove: false });
    toast(`Added ${member.handle || member.name}`);
    if (form.elements[`${kind}_id`].tagName === "INPUT") form.reset();
    if (await loadReference()) renderMembers(true);
  });
}

// --- Settings -----------------------------------------------------------------------------------------------

function renderSettings() {
  const form = $("#settings-form");
  const editable = state.rights.has("modify");
  if (!form.contains(document.activeElement) && !form.dataset.dirty) {
    form.elements.name.value = state.ref.name;
    form.elements.description.value = state.ref.description || "";
    form.elements.organism.value = state.ref.organism || "";
  }
  for (const control of form.elements) control.disabled = !editable;
  $("#settings-actions").hidden = !editable;
  $("#delete-zone").hidden = !state.rights.has("remove");
}

$("#settings-form").addEventListener("input", (event) => {
  event.currentTarget.dataset.dirty = "true";
});

onSubmit($("#settings-form"), async (form) => {
  const name = form.elements.name.value.trim();
  if (!name) throw new FieldErrors({ name: "A name is required." });
  state.ref = {
    ...state.ref,
    ...(await api("PATCH", refPath, { name, description: form.elements.description.value, organism: form.elements.organism.value.trim() })),
  };
  delete form.dataset.dirty;
  renderReference();
  toast("Saved");
});

// --- Call rules and internal control -------------------------------------------------------------------------

const RULE_DEFAULTS = JSON.parse(document.getElementById("call-rule-defaults")?.textContent || "{}");
const RULES = ["min_reads", "min_coverage", "min_median_depth", "min_weight"];
// Coverage is a fraction in the API and a percentage on the form; six decimals keep 33.3 % from becoming 0.33299….
const toForm = (rule, value) => (rule === "min_coverage" ? Number((value * 100).toFixed(6)) : value);
const fromForm = (rule, value) => (rule === "min_coverage" ? Number((value / 100).toFixed(8)) : value);
const NUMBER = new Intl.NumberFormat("en-US");
const controlChoices = new Map(); // OTU name (lower case) → id, from the searches of the control field

/** The rules and control on the form; `force` replaces what is typed (after a reset), else a form being edited stays. */
function renderCallRules(force = false) {
  const form = $("#call-rules-form");
  const editable = state.rights.has("modify");
  if (force || (!form.contains(document.activeElement) && !form.dataset.dirty)) {
    const rules = state.ref.call_rules || RULE_DEFAULTS;
    for (const rule of RULES) form.elements[rule].value = String(toForm(rule, rules[rule]));
    const control = state.ref.internal_control;
    form.elements.internal_control.value = control ? control.name || control.id : "";
    if (control?.name) controlChoices.set(control.name.toLowerCase(), control.id);
  }
  for (const control of form.elements) control.disabled = !editable;
  $("#call-rules-actions").hidden = !editable;
  $("#call-rules-defaults").textContent =
    `Defaults: ${NUMBER.format(RULE_DEFAULTS.min_reads)} reads, ${toForm("min_coverage", RULE_DEFAULTS.min_coverage)} % coverage, ` +
    `median depth ${RULE_DEFAULTS.min_median_depth}, weight floor ${RULE_DEFAULTS.min_weight}.`;
}

$("#call-rules-form").addEventListener("input", (event) => {
  event.currentTarget.dataset.dirty = "true";
});

const searchControls = debounce(async (find) => {
  try {
    const result = await api("GET", `${refPath}/otus?${new URLSearchParams({ find, per_page: "25" })}`);
    for (const otu of result.documents) controlChoices.set(otu.name.toLowerCase(), otu.id);
    fill($("#internal-control-options"), result.documents.map((otu) => h("option", { value: otu.name })));
  } catch {
    // Suggestions only: the submit looks the name up again.
  }
}, 200);

$("#rule-internal-control").addEventListener("input", (event) => searchControls(event.currentTarget.value.trim()));

async function controlId(name) {
  if (!name) return null;
  const known = controlChoices.get(name.toLowerCase());
  if (known) return known;
  const result = await api("GET", `${refPath}/otus?${new URLSearchParams({ find: name, per_page: "100" })}`);
  const match = result.documents.find((otu) => otu.name.toLowerCase() === name.toLowerCase());
  if (!match) throw new FieldErrors({ internal_control: `No OTU of this reference is named “${name}”.` });
  return match.id;
}

function readRules(form) {
  const rules = {};
  const problems = {};
  const limits = { min_coverage: 100, min_weight: 1 };
  for (const rule of RULES) {
    const raw = form.elements[rule].value.trim();
    const value = Number(raw);
    if (raw === "" || !Number.isFinite(value) || value < 0) problems[rule] = "Give a number of zero or more.";
    else if (rule in limits && value > limits[rule]) problems[rule] = `Give a number from 0 to ${limits[rule]}.`;
    else if (rule === "min_reads" && !Number.isInteger(value)) problems[rule] = "Give a whole number of reads.";
    else rules[rule] = fromForm(rule, value);
  }
  if (Object.keys(problems).length) throw new FieldErrors(problems);
  return rules;
}

async function saveCallRules(body) {
  try {
    return await api("PATCH", refPath, body);
  } catch (error) {
    // Validation names `["call_rules", rule]`: show it on the rule's field.
    if (error instanceof ApiError && Array.isArray(error.body)) {
      const fields = {};
      for (const item of error.body) {
        const loc = (item.loc || []).filter((part) => typeof part === "string");
        fields[loc[loc.length - 1] || "call_rules"] = item.msg;
      }
      throw new FieldErrors(fields);
    }
    throw error;
  }
}

onSubmit($("#call-rules-form"), async (form) => {
  const call_rules = readRules(form);
  const internal_control = await controlId(form.elements.internal_control.value.trim());
  state.ref = { ...state.ref, ...(await saveCallRules({ call_rules, internal_control })) };
  delete form.dataset.dirty;
  renderReference();
  toast("Call rules applied");
});

$("#call-rules-reset").addEventListener("click", async () => {
  const form = $("#call-rules-form");
  try {
    state.ref = { ...state.ref, ...(await saveCallRules({ call_rules: null })) };
  } catch (error) {
    toast(error.message, { error: true });
    return;
  }
  delete form.dataset.dirty;
  renderReference();
  renderCallRules(true);
  toast("Call rules reset to the defaults");
});

$("#delete-ref").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const problem = $("#delete-problem");
  problem.hidden = true;
  const confirmed = await confirmInline(button, `Delete ${state.ref.name} with its ${plural(state.ref.otu_count, "OTU")}, history and indexes?`, {
    confirm: "Delete",
    keep: "Keep",
  });
  if (!confirmed) return;
  button.disabled = true;
  try {
    await api("DELETE", refPath);
    window.location.assign("/refs");
  } catch (error) {
    problem.textContent = error.message;
    problem.hidden = false;
    button.disabled = false;
  }
});

// --- Start --------------------------------------------------------------------------------------------------

live.onReconnect(() => {
  loadReference();
  loadOtus();
  loadHistory();
  loadIndexes();
  loadUpdates();
});

(async () => {
  showTab(window.location.hash.slice(1));
  try {
    state.account = await getAccount();
  } catch (error) {
    showError(`Could not load your account: ${error.message}`);
  }
  if (!(await loadReference())) return;
  await Promise.all([loadOtus(), loadHistory(), loadIndexes(), loadCandidates(), loadUpdates()]);
})();
