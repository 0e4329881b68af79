// HMMs: what is installed (or that nothing is, and why NuVs needs it), the latest release of the HMM repository
// (whether it is newer, the last check's errors; installed or updated with one button), installing a release
// archive (drop or choose it: uploaded with progress, then installed by the install_hmms job, followed live), the
// searchable list of profiles, and purge. The status document comes with every page of the list and live as
// `status` messages.
import {
  $,
  api,
  debounce,
  describeError,
  fill,
  formatDate,
  getAccount,
  h,
  listLoader,
  live,
  may,
  onPager,
  onSearch,
  onSubmit,
  pageSummary,
  recentUploads,
  renderPager,
  showNotice,
  timeAgo,
  toast,
  FieldErrors,
} from "../virtool/virtool.js";
import { isActive, progressBar, setProgress, stepText } from "../jobs/jobs-common.js";

const PER_PAGE = 25;
const NUMBER = new Intl.NumberFormat("en-US");
const SOURCES = { upload: "Uploaded archive", archive: "Release archive", folder: "Folder", release: "Official release" };
const state = {
  account: null,
  status: null,
  result: null,
  find: "",
  page: 1,
  uploads: [],
  // The id of the install task last seen complete (undefined before the first status), to reload the list once.
  completed: undefined,
  // Replacing installed HMMs is opened on demand; with nothing installed the install section is always there.
  installOpen: false,
  // The upload row of the archive this page sent, by install task id, to show how its install ends.
  transfers: new Map(),
};
const table = $("#hmm-table");
const tbody = $("tbody", table);

function showProblem(message) {
  showNotice($("#hmms-error"), message);
}

/** The install task as the job helpers read a job: state, progress and the current step's name. */
function taskJob(task) {
  return { state: task.state, progress: task.progress, step_name: task.step_name };
}

/** A family count list, "Papillomaviridae (102)", without Virtool's "None" placeholder. */
export function familyText(families, limit = 3) {
  const names = Object.entries(families || {})
    .filter(([name]) => name !== "None")
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = names.slice(0, limit).map(([name]) => name);
  return names.length > limit ? `${shown.join(", ")} and ${names.length - limit} more` : shown.join(", ");
}

// --- Status -------------------------------------------------------------------------------------------------------

function fact(term, ...value) {
  return [h("dt", { text: term }), h("dd", {}, ...value)];
}

function renderInstalled(installed) {
  const node = $("#status-installed");
  node.hidden = !installed;
  if (!installed) return;
  fill(
    node,
    fact("Installed", h("span", { dataset: { fact: "name" }, text: installed.name || "HMM data" })),
    fact("Profiles", h("span", { dataset: { fact: "count" }, text: NUMBER.format(installed.count || 0) })),
    installed.source ? fact("From", SOURCES[installed.source] || installed.source) : [],
    fact("When", timeAgo(installed.created_at), installed.user ? ` by ${installed.user.handle}` : ""),
  );
}

function renderProgress(task) {
  const node = $("#install-progress");
  const running = Boolean(task) && isActive(task.state);
  node.hidden = !running;
  if (!running) return;
  const holder = $("#install-progress-bar");
  if (!$("[role=progressbar]", holder)) fill(holder, progressBar("Installation of the HMMs"));
  const job = taskJob(task);
  setProgress($("[role=progressbar]", holder), job, stepText(job));
  fill(
    $("#install-step"),
    `${stepText(job)} · ${Math.round(task.progress || 0)}% `,
    h("a", { href: `/jobs/${encodeURIComponent(task.job_id)}`, text: "See the job" }),
  );
}

// The release check's own errors (hmm.services.hmm_release_refresh words them so); the others are installs'.
const RELEASE_ERROR = "Could not check for a new HMM release";
const isReleaseError = (error) => String(error).startsWith(RELEASE_ERROR);

function renderRelease(status, installing, modify) {
  const { release, installed } = status;
  const errors = (status.errors || []).filter(isReleaseError);
  $("#release-panel").hidden = !release && !errors.length && !modify;
  $("#release-facts").hidden = !release;
  $("#release-none").hidden = Boolean(release);
  const notice = $("#release-errors");
  notice.hidden = !errors.length;
  fill(notice, errors.map((error) => h("p", { text: error })));
  const button = $("#release-install");
  button.hidden = !release || !release.newer || !modify || installing;
  $("#release-check").hidden = !modify || installing;
  if (!release) {
    $("#release-state").textContent = "";
    return;
  }
  const link = $("#release-name");
  link.textContent = release.name;
  link.href = /^https?:\/\//.test(release.html_url || "") ? release.html_url : "#";
  $("#release-published").textContent = formatDate(release.published_at);
  fill($("#release-checked"), timeAgo(release.retrieved_at));
  const summary = $("#release-state");
  summary.dataset.newer = String(Boolean(release.newer));
  if (!release.newer) summary.textContent = "The installed HMMs are this release: they are up to date.";
  else if (!installed) summary.textContent = "Not installed yet.";
  else if (installed.source === "release") summary.textContent = `Newer than the installed release (${installed.name}).`;
  else summary.textContent = "Newer than the installed HMMs, which did not come from a release.";
  button.textContent = installed ? `Update to ${release.name}` : `Install ${release.name}`;
}

$("#release-install").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    state.status = await api("POST", "/api/hmms/status/updates", {});
    renderStatus();
    toast(`Installing ${state.status.release?.name || "the release"}…`);
  } catch (error) {
    showProblem(`Could not install the release: ${error.message}`);
  } finally {
    button.disabled = false;
  }
});

$("#release-check").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true;
  try {
    // The check's outcome (the release, or why it failed) arrives in the status, live and on reload.
    await api("GET", "/api/hmms/status/release");
    state.status = await api("GET", "/api/hmms/status");
    renderStatus();
  } catch (error) {
    showProblem(`Could not check for a new release: ${error.message}`);
  } finally {
    button.disabled = false;
  }
});

function renderFailure(errors, installed) {
  const node = $("#install-failed");
  node.hidden = !errors.length;
  if (!errors.length) return;
  fill(
    node,
    errors.map((error) => h("p", { text: error })),
    h(
      "p",
      {},
      installed ? "The HMMs installed before are unchanged. " : "",
      h("a", { href: "/jobs", text: "See the jobs" }),
    ),
  );
}

function renderStatus() {
  const status = state.status;
  if (!status) return;
  const { installed, task } = status;
  const installing = Boolean(task) && isActive(task.state);
  const modify = may(state.account, "modify_hmm");
  $("#status-panel").removeAttribute("aria-busy");
  $("#status-none").hidden = Boolean(installed) || installing;
  renderInstalled(installed);
  renderProgress(task);
  renderFailure((status.errors || []).filter((error) => !isReleaseError(error)), installed);
  renderRelease(status, installing, modify);
  $("#install-denied").hidden = modify || Boolean(installed);
  const section = $("#install-section");
  const wasHidden = section.hidden;
  section.hidden = !modify || installing || (Boolean(installed) && !state.installOpen);
  const toggle = $("#install-toggle");
  toggle.hidden = !modify || installing || !installed;
  toggle.setAttribute("aria-expanded", String(!section.hidden));
  toggle.textContent = section.hidden ? "Install another release" : "Close";
  $("#install-title").textContent = installed ? "Install another release" : "Install from a release archive";
  $("#hmm-purge").hidden = !modify || !installed || installing;
  if (wasHidden && !section.hidden) loadUploads();
  followTransfer(task);
  // The list follows an install that just finished (its annotations arrive as `hmm` messages too).
  const completed = task?.complete ? task.id : null;
  if (completed && state.completed !== undefined && completed !== state.completed) load();
  state.completed = completed;
}

/** The archive this page uploaded: its row says when its install is done, or why it failed. */
function followTransfer(task) {
  const transfer = task && state.transfers.get(task.id);
  if (!transfer || isActive(task.state)) return;
  state.transfers.delete(task.id);
  if (task.complete && !task.error) transfer.set("done", "Installed", "complete");
  else transfer.fail(task.error || "The install did not finish.");
  if (task.complete) state.installOpen = false;
}

$("#install-toggle").addEventListener("click", () => {
  state.installOpen = $("#install-section").hidden;
  renderStatus();
  if (state.installOpen) $("#install-title").focus();
});

// --- List -----------------------------------------------------------------------------------------------------------

function row(hmm) {
  const families = familyText(hmm.families);
  return h(
    "tr",
    { dataset: { id: hmm.id, cluster: String(hmm.cluster) } },
    h("td", { class: "num" }, h("a", { href: `/hmms/${encodeURIComponent(hmm.id)}`, text: String(hmm.cluster) })),
    h(
      "td",
      { class: "hmm-names" },
      h("a", { href: `/hmms/${encodeURIComponent(hmm.id)}`, dataset: { part: "name" }, text: hmm.names?.[0] || `vFam_${hmm.cluster}` }),
      hmm.names?.length > 1 ? h("span", { class: "muted small", text: ` ${hmm.names.slice(1).join(" · ")}` }) : "",
    ),
    h("td", { text: families || "—", class: families ? "" : "muted" }),
  );
}

function renderList() {
  const result = state.result;
  if (!result) return;
  const panel = $("#list-panel");
  panel.hidden = result.total_count === 0;
  fill(tbody, result.documents.map(row));
  table.removeAttribute("aria-busy");
  table.hidden = result.documents.length === 0;
  const empty = $("#hmms-empty");
  empty.hidden = result.documents.length > 0;
  empty.textContent = state.find ? "No profiles match the search." : "No profiles are installed.";
  $("#hmms-count").textContent = pageSummary(result, result.documents.length, "profile");
  renderPager($("#hmm-pager"), result);
}

const load = listLoader({
  url() {
    const query = new URLSearchParams({ page: String(state.page), per_page: String(PER_PAGE) });
    if (state.find) query.set("find", state.find);
    return `/api/hmms?${query}`;
  },
  busy: table,
  onError: (error) => showProblem(error ? `Could not load the HMMs: ${error.message}` : ""),
  clampPage: (count) => {
    if (state.page <= count) return false;
    state.page = count;
    return true;
  },
  onLoad(result) {
    state.result = result;
    state.status = result.status;
    renderStatus();
    renderList();
  },
});

const reload = debounce(load, 400);

onSearch($("#hmms-find"), (find) => {
  state.find = find;
  state.page = 1;
  load();
});

onPager($("#hmm-pager"), (step) => {
  state.page = Math.max(1, state.page + step);
  load();
});

live.on("status", ({ data }) => {
  if (!data || data.id !== "hmm") return;
  state.status = data;
  renderStatus();
});
live.on("hmm", reload);
// How an install ended, failures included (the status then shows the data in use, not the failed task). Virtool's
// task is complete once it has finished, with `error` when it failed.
live.on("tasks", ({ data }) => {
  if (data?.type === "install_hmms" && data.complete) followTransfer(data);
});
live.onReconnect(load);

// --- Install --------------------------------------------------------------------------------------------------------

const recent = recentUploads();
const uploadSelect = $("#install-upload");

function renderUploads(selected = uploadSelect.value) {
  fill(
    uploadSelect,
    h("option", { value: "", text: state.uploads.length ? "Choose a file" : "No HMM files uploaded" }),
    state.uploads.map((upload) => h("option", { value: String(upload.id), text: upload.name })),
  );
  if (state.uploads.some((upload) => String(upload.id) === String(selected))) uploadSelect.value = String(selected);
}

async function loadUploads() {
  const merge = recent.ask();
  try {
    const result = await api("GET", "/api/uploads?type=hmm&per_page=100");
    state.uploads = merge((result.items || []).filter((upload) => !upload.removed && !upload.reserved && upload.ready !== false));
  } catch (error) {
    $(".form-error", $("#install-form")).textContent = `Could not load the uploaded files: ${error.message}`;
    return;
  }
  renderUploads();
}

live.on(
  "uploads",
  debounce(() => {
    if (!$("#install-section").hidden) loadUploads();
  }, 400),
);

/** Start the install of an uploaded archive; the status answer shows its progress at once. */
async function install(uploadId) {
  const status = await api("POST", "/api/hmms/status/updates", { upload_id: Number(uploadId) });
  state.status = status;
  renderStatus();
  toast("Installing the HMMs…");
  return status;
}

function transferItem(file) {
  const bar = progressBar(`Upload of ${file.name}`);
  const status = h("span", { class: "transfer-state", dataset: { state: "uploading" }, text: "Uploading" });
  const item = h(
    "li",
    { class: "transfer" },
    h("div", { class: "transfer-head" }, h("span", { class: "transfer-name", text: file.name }), status),
    bar,
  );
  const set = (key, text, jobState) => {
    status.dataset.state = key;
    status.textContent = text;
    bar.dataset.state = jobState;
  };
  const fail = (message) => {
    set("failed", "Failed", "error");
    item.append(h("p", { class: "transfer-error", text: message }));
  };
  return { item, bar, set, fail };
}

function uploadAndInstall(file) {
  const transfer = transferItem(file);
  fill($("#archive-transfers"), transfer.item);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", `/api/uploads?${new URLSearchParams({ name: file.name, type: "hmm" })}`);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.setRequestHeader("Content-Type", "application/octet-stream");
  xhr.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable && event.total) {
      setProgress(transfer.bar, { state: "running", progress: (event.loaded / event.total) * 100 });
    }
  });
  xhr.upload.addEventListener("load", () => transfer.set("processing", "Finishing", "running"));
  xhr.addEventListener("load", async () => {
    let body = null;
    try {
      body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
    } catch {
      body = null;
    }
    if (xhr.status !== 201 || !body?.id) {
      transfer.fail(describeError(xhr.status, body).message);
      return;
    }
    setProgress(transfer.bar, { state: "complete", progress: 100 });
    transfer.set("done", "Uploaded", "complete");
    recent.add(body);
    try {
      transfer.set("done", "Installing", "complete");
      const status = await install(body.id);
      if (status.task) state.transfers.set(status.task.id, transfer);
      followTransfer(state.status?.task);
    } catch (error) {
      // The archive was uploaded but cannot be installed: say why; it stays among the uploads.
      transfer.fail(error.message);
    }
  });
  xhr.addEventListener("error", () => transfer.fail("The connection was lost before the file was sent."));
  xhr.send(file);
}

function takeFiles(files) {
  const list = Array.from(files || []);
  if (!list.length) return;
  if (list.length > 1) toast("Drop one release archive at a time.", { error: true });
  if (!may(state.account, "upload_file")) {
    toast("You do not have permission to upload files.", { error: true });
    return;
  }
  uploadAndInstall(list[0]);
}

const zone = $("#drop-zone");
const input = $("#archive-input");
let dragDepth = 0;

$("#choose-archive").addEventListener("click", () => input.click());
input.addEventListener("change", () => {
  takeFiles(input.files);
  input.value = "";
});

const hasFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");

zone.addEventListener("dragenter", (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  dragDepth += 1;
  zone.classList.add("dragging");
});
zone.addEventListener("dragover", (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = zone.dataset.disabled === "true" ? "none" : "copy";
});
zone.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) zone.classList.remove("dragging");
});
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  dragDepth = 0;
  zone.classList.remove("dragging");
  if (zone.dataset.disabled !== "true") takeFiles(event.dataTransfer?.files);
});
// A file dropped next to the zone must not make the browser leave the page to open it.
for (const type of ["dragover", "drop"]) {
  window.addEventListener(type, (event) => {
    if (hasFiles(event) && !zone.contains(event.target)) event.preventDefault();
  });
}

onSubmit($("#install-form"), async () => {
  if (!uploadSelect.value) throw new FieldErrors({ upload_id: "Choose an uploaded archive, or drop one above." });
  await install(uploadSelect.value);
  uploadSelect.value = "";
});

// --- Purge ----------------------------------------------------------------------------------------------------------

$("#hmm-purge").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  showNotice($("#purge-error"), "");
  const question =
    "Purge the installed HMMs? Their profiles and annotations are removed; NuVs analyses cannot start until HMMs " +
    "are installed again.";
  if (!window.confirm(question)) return;
  button.disabled = true;
  try {
    await api("DELETE", "/api/hmms");
  } catch (error) {
    showNotice($("#purge-error"), `Could not purge the HMMs: ${error.message}`);
    return;
  } finally {
    button.disabled = false;
  }
  toast("HMMs purged");
  state.page = 1;
  load();
});

// --- Start ----------------------------------------------------------------------------------------------------------

async function start() {
  try {
    state.account = await getAccount();
  } catch (error) {
    showProblem(`Could not load your account: ${error.message}`);
  }
  const uploading = may(state.account, "upload_file");
  zone.dataset.disabled = String(!uploading);
  $("#choose-archive").disabled = !uploading;
  input.disabled = !uploading;
  if (!uploading) {
    $("#drop-zone-help").textContent =
      "Uploading needs the “Upload files” permission; you can still install an archive someone else uploaded.";
  }
  await load();
}

start();
