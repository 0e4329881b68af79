// References: the live list (search, pages, import and install progress), the create form (empty, import a file,
// clone) and the installation of the official reference from its GitHub release.
import {
  $,
  $$,
  api,
  ApiError,
  clampPageOf,
  debounce,
  describeError,
  FieldErrors,
  fill,
  getAccount,
  h,
  listLoader,
  live,
  may,
  onPager,
  onSearch,
  onSubmit,
  pageParam,
  renderPager,
  replaceQuery,
  showNotice,
  timeAgo,
  toast,
} from "../virtool/virtool.js";
import { FAILED_STATES, jobErrorText, progressBar, setProgress } from "../jobs/jobs-common.js";
import { dataTypeLabel, importProblems } from "./refs-common.js";

const PER_PAGE = 25;
const FILL_WORKFLOWS = new Set(["import_reference", "clone_reference", "remote_reference"]);
const OFFICIAL_SLUG = "virtool/ref-plant-viruses";
const params = new URLSearchParams(window.location.search);
const state = {
  find: params.get("find") || "",
  page: pageParam(params),
  result: null,
  references: [],
  jobs: new Map(),
  account: null,
  upload: null,
  officialJob: null, // the install this page started: its failure is told in the official box
};

const list = $("#refs-list");
const problem = $("#refs-error");

function showProblem(message) {
  showNotice(problem, message);
}

function syncUrl() {
  const query = new URLSearchParams();
  if (state.find) query.set("find", state.find);
  if (state.page > 1) query.set("page", String(state.page));
  replaceQuery(query, { keepHash: true });
}

// --- The list ------------------------------------------------------------------------------------------------

function plural(count, word) {
  return `${count.toLocaleString()} ${word}${count === 1 ? "" : "s"}`;
}

function jobProgress(reference, job) {
  const bar = progressBar(`Progress of ${reference.name}`);
  setProgress(bar, { ...job, progress: job.progress ?? 0 }, job.step_name || "");
  return [bar, h("span", { class: "muted small", dataset: { part: "progress" }, text: `${Math.round(job.progress || 0)}%` })];
}

function referenceItem(reference) {
  const job = state.jobs.get(reference.job?.id) || reference.job;
  const remote = Boolean(reference.remotes_from);
  const status = [];
  if (!reference.ready) {
    const failed = job && FAILED_STATES.includes(job.state);
    const [failedText, busyText] = remote ? ["Install failed", "Installing…"] : ["Import failed", "Filling…"];
    status.push(h("span", { class: `badge ${failed ? "off" : ""}`, text: failed ? failedText : busyText }));
    if (job) status.push(...jobProgress(reference, job));
  } else if (reference.updating) {
    status.push(h("span", { class: "badge", text: "Updating…" }));
    if (job) status.push(...jobProgress(reference, job));
  } else if (reference.latest_build) {
    status.push(h("span", { class: "badge ok", text: `Index ${reference.latest_build.version}` }));
  } else {
    status.push(h("span", { class: "badge", text: "No index built" }));
  }
  if (reference.ready && !reference.updating && reference.release?.newer) {
    status.push(h("span", { class: "badge warn", text: "Update available" }));
  }
  const facts = [
    dataTypeLabel(reference.data_type),
    reference.organism || null,
    plural(reference.otu_count || 0, "OTU"),
    reference.unbuilt_change_count ? plural(reference.unbuilt_change_count, "unbuilt change") : null,
    remote && reference.installed ? `release ${reference.installed.name}` : null,
  ].filter(Boolean);
  return h(
    "li",
    { class: "ref-item", dataset: { id: reference.id, ready: String(Boolean(reference.ready)) } },
    h(
      "div",
      { class: "ref-item-main" },
      h("a", { href: `/refs/${encodeURIComponent(reference.id)}`, class: "ref-name", text: reference.name }),
      h("span", { class: "muted small", text: facts.join(" · ") }),
      reference.description ? h("p", { class: "small ref-description", text: reference.description }) : null,
    ),
    h("div", { class: "ref-item-status" }, status),
    h("div", { class: "ref-item-meta muted small" }, reference.user?.handle ? `${reference.user.handle}, ` : "", timeAgo(reference.created_at)),
  );
}

function render() {
  fill(list, state.references.map(referenceItem));
  list.removeAttribute("aria-busy");
  const empty = $("#refs-empty");
  empty.hidden = state.references.length > 0;
  if (!state.references.length) {
    empty.textContent = state.find ? `No reference matches “${state.find}”.` : "No references yet. Create one, import a file or clone a reference.";
  }
  const result = state.result;
  if (result) {
    $("#refs-count").textContent = state.find
      ? `${plural(result.found_count, "reference")} of ${result.total_count} match`
      : plural(result.total_count, "reference");
    renderPager($("#refs-pager"), result);
  }
  renderOfficial();
}

const load = listLoader({
  url() {
    const query = new URLSearchParams({ page: String(state.page), per_page: String(PER_PAGE) });
    if (state.find) query.set("find", state.find);
    return `/api/refs?${query}`;
  },
  onError: (error) => showProblem(error ? `Could not load the references: ${error.message}` : ""),
  clampPage: clampPageOf(state),
  onLoad(result) {
    state.result = result;
    state.references = result.documents;
    render();
    fillCloneChoices();
  },
});

const reload = debounce(load, 200);

live.on("references", (message) => {
  if (message.operation === "delete") {
    const ids = new Set([].concat(message.data));
    if (state.references.some((reference) => ids.has(reference.id))) reload();
    return;
  }
  const reference = message.data;
  const index = state.references.findIndex((item) => item.id === reference.id);
  if (index >= 0) {
    state.references[index] = reference;
    render();
  } else {
    reload();
  }
});

live.on("jobs", (message) => {
  if (message.operation === "delete") return;
  const job = message.data;
  const finished = !["waiting", "preparing", "running"].includes(job.state);
  if (job.id === state.officialJob && FAILED_STATES.includes(job.state)) officialFailed(job);
  if (!state.references.some((reference) => reference.job?.id === job.id)) {
    // A fill job that ended before this page heard of its reference (its POST answer still on the way).
    if (finished && FILL_WORKFLOWS.has(job.workflow)) reload();
    return;
  }
  state.jobs.set(job.id, job);
  render();
  if (finished) reload();
});
live.onReconnect(load);

$("#refs-find").value = state.find;
onSearch(
  $("#refs-find"),
  (find) => {
    state.find = find;
    state.page = 1;
    syncUrl();
    load();
  },
  250,
);
onPager($("#refs-pager"), (step) => {
  state.page = Math.max(1, state.page + step);
  syncUrl();
  load();
});

// --- Create ------------------------------------------------------------------------------------------------

const section = $("#create-section");
const showCreate = $("#show-create");

function setMode(mode) {
  for (const link of $$(".tabs a[data-mode]", section)) {
    if (link.dataset.mode === mode) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  for (const form of $$("form[data-mode]", section)) form.hidden = form.dataset.mode !== mode;
}

function openCreate(mode = "empty") {
  section.hidden = false;
  showCreate.setAttribute("aria-expanded", "true");
  setMode(mode);
  $(`form[data-mode="${mode}"] input:not([type=hidden]), form[data-mode="${mode}"] select`, section)?.focus();
}

function closeCreate() {
  section.hidden = true;
  showCreate.setAttribute("aria-expanded", "false");
  showCreate.focus();
}

showCreate.addEventListener("click", () => (section.hidden ? openCreate() : closeCreate()));
for (const link of $$(".tabs a[data-mode]", section)) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    setMode(link.dataset.mode);
  });
}
for (const button of $$("[data-action=cancel-create]", section)) button.addEventListener("click", closeCreate);

function afterCreate(reference, what, { close = true } = {}) {
  toast(`${what} ${reference.name}`);
  if (!state.references.some((item) => item.id === reference.id)) {
    state.references.unshift(reference);
    if (reference.job) state.jobs.set(reference.job.id, reference.job);
    // The counter counts it too until the list is read again (it read "0 references" beside the new one).
    if (state.result) {
      state.result = { ...state.result, total_count: state.result.total_count + 1, found_count: state.result.found_count + 1 };
    }
    render();
  }
  if (close) closeCreate();
  reload();
}

onSubmit($("#create-empty-form"), async (form) => {
  const name = form.elements.name.value.trim();
  if (!name) throw new FieldErrors({ name: "A name is required." });
  const reference = await api("POST", "/api/refs", {
    name,
    description: form.elements.description.value.trim(),
    data_type: form.elements.data_type.value,
    organism: form.elements.organism.value.trim(),
  });
  form.reset();
  afterCreate(reference, "Created");
});

// Import: the file is uploaded as a `reference` upload when chosen, then imported from the upload on submit.

const importForm = $("#create-import-form");
const transfer = $("#import-transfer");
const transferBar = $("[role=progressbar]", transfer);

function setTransfer(percent, text, barState) {
  transfer.hidden = false;
  transferBar.setAttribute("aria-valuenow", String(Math.round(percent)));
  transferBar.dataset.state = barState;
  $(".upload-bar-fill", transferBar).style.width = `${percent}%`;
  $("#import-transfer-text").textContent = text;
}

function showImportProblems(error) {
  const box = $("#import-problems");
  const errors = error?.body?.errors;
  if (!Array.isArray(errors) || !errors.length) {
    box.hidden = true;
    return false;
  }
  $("#import-problems-title").textContent = error.message;
  fill($("#import-problems-list"), importProblems(errors).map((text) => h("li", { text })));
  box.hidden = false;
  return true;
}

function uploadFile(file) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const query = new URLSearchParams({ name: file.name, type: "reference" });
    xhr.open("POST", `/api/uploads?${query}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total) {
        setTransfer((event.loaded / event.total) * 100, `Uploading ${file.name}…`, "uploading");
      }
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = xhr.responseText;
      }
      if (xhr.status === 201 && body) resolve(body);
      else reject(new ApiError(xhr.status, body));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, null)));
    xhr.send(file);
  });
}

$("#import-file").addEventListener("change", async (event) => {
  const file = event.target.files?.[0];
  state.upload = null;
  $("#import-problems").hidden = true;
  if (!file) return;
  const nameInput = importForm.elements.name;
  if (!nameInput.value.trim()) nameInput.value = file.name.replace(/\.(json\.gz|json|fa|fasta|fna|txt)(\.gz)?$/i, "");
  setTransfer(0, `Uploading ${file.name}…`, "uploading");
  const pending = uploadFile(file);
  state.upload = pending;
  try {
    const upload = await pending;
    if (state.upload !== pending) return;
    state.upload = upload;
    setTransfer(100, `${file.name} uploaded. Import it to create the reference.`, "done");
  } catch (error) {
    if (state.upload !== pending) return;
    state.upload = null;
    setTransfer(100, `Could not upload ${file.name}: ${describeError(error.status, error.body).message}`, "failed");
  }
});

onSubmit(importForm, async (form) => {
  $("#import-problems").hidden = true;
  let upload = state.upload;
  if (upload instanceof Promise) upload = await upload.catch(() => null);
  if (!upload) throw new FieldErrors({ file: "Choose a reference file to import." });
  const body = { import_from: upload.name_on_disk || String(upload.id) };
  const name = form.elements.name.value.trim();
  if (name) body.name = name;
  let reference;
  try {
    reference = await api("POST", "/api/refs", body);
  } catch (error) {
    if (showImportProblems(error)) return;
    throw error;
  }
  form.reset();
  state.upload = null;
  transfer.hidden = true;
  afterCreate(reference, "Importing");
});

// Clone

function fillCloneChoices() {
  const select = $("#clone-source");
  const current = select.value;
  const choices = state.references.filter((reference) => reference.ready);
  fill(
    select,
    choices.length
      ? choices.map((reference) => h("option", { value: reference.id, text: reference.name, selected: reference.id === current }))
      : h("option", { value: "", text: "No reference to clone yet" }),
  );
}

$("#clone-source").addEventListener("change", (event) => {
  const source = state.references.find((reference) => reference.id === event.target.value);
  const name = $("#clone-name");
  if (source && (!name.value || name.dataset.auto === "true")) {
    name.value = `Clone of ${source.name}`;
    name.dataset.auto = "true";
  }
});
$("#clone-name").addEventListener("input", (event) => {
  event.target.dataset.auto = "false";
});

onSubmit($("#create-clone-form"), async (form) => {
  const source = form.elements.clone_from.value;
  if (!source) throw new FieldErrors({ clone_from: "Choose a reference to clone." });
  const chosen = state.references.find((reference) => reference.id === source);
  const name = form.elements.name.value.trim() || `Clone of ${chosen?.name || source}`;
  const reference = await api("POST", "/api/refs", { clone_from: source, name });
  form.reset();
  afterCreate(reference, "Cloning into");
});

// --- The official reference --------------------------------------------------------------------------------------

const official = $("#official-section");
const officialProblem = $("#official-problem");
const installOfficial = $("#install-official");

/** The box shows while the official reference is not installed (nor being installed) to those who may create one. */
function renderOfficial() {
  official.hidden = !(state.result && state.result.official_installed === false && may(state.account, "create_ref"));
}

function officialFailed(job) {
  state.officialJob = null;
  const reason = jobErrorText(job);
  const why = reason ? `: ${reason.replace(/\.$/, "")}.` : ".";
  showNotice(officialProblem, `The installation of the official reference failed${why} Nothing was kept; you may try again.`);
}

installOfficial.addEventListener("click", async () => {
  showNotice(officialProblem, "");
  installOfficial.disabled = true;
  installOfficial.setAttribute("aria-busy", "true");
  try {
    const reference = await api("POST", "/api/refs", { remote_from: OFFICIAL_SLUG });
    state.officialJob = reference.job?.id ?? null;
    if (state.result) state.result.official_installed = true;
    afterCreate(reference, `Installing ${reference.release?.name || "the latest release"} of`, { close: false });
  } catch (error) {
    if (error.status === 409) {
      showNotice(officialProblem, `${error.message}. It is in the list below.`);
      reload();
    } else if (error.status === 502) {
      showNotice(officialProblem, `GitHub could not be reached, so nothing was installed: ${error.message}. Try again in a moment; if it keeps failing, check this server's internet connection or proxy setting.`);
    } else {
      showNotice(officialProblem, `Could not install the official reference: ${error.message}`);
    }
  } finally {
    installOfficial.disabled = false;
    installOfficial.removeAttribute("aria-busy");
  }
});

// --- Start -------------------------------------------------------------------------------------------------

(async () => {
  try {
    state.account = await getAccount();
    $("#refs-actions").hidden = !may(state.account, "create_ref");
    renderOfficial();
  } catch (error) {
    showProblem(`Could not load your account: ${error.message}`);
  }
  await load();
  const hash = window.location.hash.slice(1);
  if (["empty", "import", "clone"].includes(hash) && may(state.account, "create_ref")) openCreate(hash);
})();
