// Subtractions: the list (search, pages) with live creation progress, and the create form, which takes a
// `subtraction` upload or uploads a FASTA file right there (raw body with progress) and then creates it.
import {
  $,
  api,
  attachToField,
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
  recentUploads,
  refreshTimes,
  renderPager,
  showNotice,
  timeAgo,
  toast,
} from "../virtool/virtool.js";
import { progressBar, setProgress, stepText } from "../jobs/jobs-common.js";

const PER_PAGE = 25;
const NUMBER = new Intl.NumberFormat("en-US");
const state = { find: "", page: 1, result: null, items: [], jobs: new Map(), account: null, uploads: [] };
// Subtractions being created, by job id: a failed creation removes the subtraction before its job reports the
// error, so the name must outlive the row.
const creating = new Map();
const table = $("#subtraction-table");
const tbody = $("tbody", table);

function showProblem(message) {
  showNotice($("#subtractions-error"), message);
}

/** A subtraction name from a FASTA file name: `vitis_vinifera.fa.gz` → `vitis vinifera`. */
export function suggestName(fileName) {
  return String(fileName || "")
    .replace(/\.gz$/i, "")
    .replace(/\.(fa|fasta|fna|fas|txt)$/i, "")
    .replace(/[_]+/g, " ")
    .trim();
}

// --- List ---------------------------------------------------------------------------------------------------------

function jobOf(item) {
  if (!item.job) return null;
  const seen = state.jobs.get(item.job.id);
  return seen ? { ...item.job, ...seen } : item.job;
}

function statusNode(item) {
  if (item.ready) return null;
  const job = jobOf(item) || { state: "waiting", progress: 0 };
  const bar = progressBar(`Creation of ${item.name}`);
  setProgress(bar, job, stepText(job));
  return h(
    "div",
    { class: "sample-status" },
    bar,
    h("span", { class: "job-step small muted", text: `${stepText(job)} · ${Math.round(job.progress || 0)}%` }),
  );
}

function row(item) {
  const linked = item.linked_samples || [];
  return h(
    "tr",
    { dataset: { id: item.id, ready: String(Boolean(item.ready)) } },
    h(
      "td",
      { class: "sample-name" },
      h("a", { href: `/subtractions/${encodeURIComponent(item.id)}`, dataset: { part: "link" }, text: item.name }),
      statusNode(item),
    ),
    h("td", { text: item.nickname || "—", class: item.nickname ? "" : "muted" }),
    h("td", { class: "num", text: item.ready && item.count !== null ? NUMBER.format(item.count) : "—" }),
    h(
      "td",
      {},
      linked.length
        ? linked.slice(0, 3).flatMap((sample, index) => [
            index ? ", " : "",
            h("a", { href: `/samples/${encodeURIComponent(sample.id)}`, text: sample.name }),
          ])
        : h("span", { class: "muted", text: "None" }),
      linked.length > 3 ? ` and ${linked.length - 3} more` : "",
    ),
    h("td", {}, timeAgo(item.created_at), item.user ? ` by ${item.user.handle}` : ""),
  );
}

function renderRows() {
  for (const item of state.items) if (!item.ready && item.job) creating.set(item.job.id, item);
  fill(tbody, state.items.map(row));
  table.removeAttribute("aria-busy");
  table.hidden = state.items.length === 0;
  const empty = $("#subtractions-empty");
  empty.hidden = state.items.length > 0;
  empty.textContent = state.find ? "No subtractions match the search." : "No subtractions yet.";
  const result = state.result;
  if (!result) return;
  const found = result.found_count;
  $("#subtractions-count").textContent = found ? `${found} subtraction${found === 1 ? "" : "s"}.` : "";
  renderPager($("#subtraction-pager"), result);
}

const load = listLoader({
  url() {
    const query = new URLSearchParams({ page: String(state.page), per_page: String(PER_PAGE) });
    if (state.find) query.set("find", state.find);
    return `/api/subtractions?${query}`;
  },
  onError: (error) => showProblem(error ? `Could not load the subtractions: ${error.message}` : ""),
  onLoad(result) {
    state.result = result;
    state.items = result.documents;
    renderRows();
  },
});

const reload = debounce(load, 300);

onSearch($("#subtractions-find"), (find) => {
  state.find = find;
  state.page = 1;
  load();
});

onPager($("#subtraction-pager"), (step) => {
  state.page = Math.max(1, state.page + step);
  load();
});

function showFailed(item, job) {
  const node = $("#subtractions-failed");
  const record = [...(job.status || [])].reverse().find((entry) => entry.error);
  const detail = record?.error?.details?.[0];
  fill(
    node,
    `Creating ${item.name} failed${detail ? `: ${detail}` : "."} `,
    h("a", { href: `/jobs/${encodeURIComponent(job.id)}`, text: "See the job" }),
  );
  node.hidden = false;
}

live.on("subtraction", ({ operation, data }) => {
  if (operation === "delete") {
    const ids = new Set((Array.isArray(data) ? data : [data]).map((item) => item?.id ?? item));
    state.items = state.items.filter((item) => !ids.has(item.id));
    renderRows();
    reload();
    return;
  }
  const index = state.items.findIndex((item) => item.id === data?.id);
  if (index >= 0) {
    state.items[index] = { ...state.items[index], ...data };
    renderRows();
  } else {
    reload();
  }
});

live.on("jobs", ({ data }) => {
  if (!data?.id) return;
  state.jobs.set(data.id, { state: data.state, progress: data.progress, step_name: data.step_name });
  const item = creating.get(data.id);
  if (!item) return;
  if (["error", "timeout", "terminated"].includes(data.state)) showFailed(item, data);
  if (state.items.some((entry) => entry.job?.id === data.id && !entry.ready)) renderRows();
});

live.onReconnect(load);

// --- Create form ----------------------------------------------------------------------------------------------------

const section = $("#create-section");
const form = $("#create-form");
const toggle = $("#create-toggle");
const nameInput = $("#subtraction-name");
const uploadSelect = $("#subtraction-upload");

function openForm(open) {
  section.hidden = !open;
  toggle.setAttribute("aria-expanded", String(open));
  if (open) {
    loadUploads();
    $("#create-title").focus();
  }
}

toggle.addEventListener("click", () => openForm(section.hidden));
$("#create-cancel").addEventListener("click", () => {
  openForm(false);
  toggle.focus();
});
nameInput.addEventListener("input", () => (nameInput.dataset.edited = "true"));

function suggest() {
  if (nameInput.dataset.edited) return;
  const upload = state.uploads.find((item) => String(item.id) === uploadSelect.value);
  nameInput.value = upload ? suggestName(upload.name) : "";
}

uploadSelect.addEventListener("change", suggest);

function renderUploads(selected = uploadSelect.value) {
  fill(
    uploadSelect,
    h("option", { value: "", text: state.uploads.length ? "Choose a file" : "No subtraction files uploaded" }),
    state.uploads.map((upload) => h("option", { value: String(upload.id), text: upload.name })),
  );
  if (state.uploads.some((upload) => String(upload.id) === String(selected))) uploadSelect.value = String(selected);
}

const recent = recentUploads();

async function loadUploads() {
  const merge = recent.ask();
  try {
    const result = await api("GET", "/api/uploads?type=subtraction&per_page=100");
    state.uploads = merge(
      (result.items || []).filter((upload) => !upload.removed && !upload.reserved && upload.ready !== false),
    );
  } catch (error) {
    $(".form-error", form).textContent = `Could not load the uploaded files: ${error.message}`;
    return;
  }
  renderUploads();
}

live.on(
  "uploads",
  debounce(() => {
    if (!section.hidden) loadUploads();
  }, 400),
);

function uploadFile(file) {
  const bar = progressBar(`Upload of ${file.name}`);
  const status = h("span", { class: "transfer-state", dataset: { state: "uploading" }, text: "Uploading" });
  const item = h(
    "li",
    { class: "transfer" },
    h("div", { class: "transfer-head" }, h("span", { class: "transfer-name", text: file.name }), status),
    bar,
  );
  fill($("#subtraction-transfers"), item);
  const setStatus = (key, text, jobState) => {
    status.dataset.state = key;
    status.textContent = text;
    bar.dataset.state = jobState;
  };
  const xhr = new XMLHttpRequest();
  xhr.open("POST", `/api/uploads?${new URLSearchParams({ name: file.name, type: "subtraction" })}`);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.setRequestHeader("Content-Type", "application/octet-stream");
  xhr.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable && event.total) setProgress(bar, { state: "running", progress: (event.loaded / event.total) * 100 });
  });
  xhr.upload.addEventListener("load", () => setStatus("processing", "Finishing", "running"));
  xhr.addEventListener("load", () => {
    let body = null;
    try {
      body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
    } catch {
      body = null;
    }
    if (xhr.status === 201 && body?.id) {
      setProgress(bar, { state: "complete", progress: 100 });
      setStatus("done", "Uploaded", "complete");
      recent.add(body);
      if (!state.uploads.some((upload) => upload.id === body.id)) state.uploads = [body, ...state.uploads];
      renderUploads(body.id);
      suggest();
    } else {
      setStatus("failed", "Failed", "error");
      item.append(h("p", { class: "transfer-error", text: describeError(xhr.status, body).message }));
    }
  });
  xhr.addEventListener("error", () => {
    setStatus("failed", "Failed", "error");
    item.append(h("p", { class: "transfer-error", text: "The connection was lost before the file was sent." }));
  });
  xhr.send(file);
}

$("#subtraction-file").addEventListener("change", (event) => {
  const file = event.currentTarget.files?.[0];
  event.currentTarget.value = "";
  if (!file) return;
  if (!may(state.account, "upload_file")) {
    toast("You do not have permission to upload files.", { error: true });
    return;
  }
  uploadFile(file);
});

onSubmit(form, async () => {
  const fields = {};
  const name = nameInput.value.trim();
  if (!uploadSelect.value) fields.upload_id = "Choose an uploaded FASTA file or upload one.";
  if (!name) fields.name = "A name is required.";
  if (Object.keys(fields).length) throw new FieldErrors(fields);
  let subtraction;
  try {
    subtraction = await api("POST", "/api/subtractions", {
      name,
      nickname: $("#subtraction-nickname").value.trim(),
      upload_id: Number(uploadSelect.value),
    });
  } catch (error) {
    attachToField(error, "upload_id", (message) => /upload|file/i.test(message));
    attachToField(error, "name", (message) => /name/i.test(message));
    throw error;
  }
  toast(`Creating ${subtraction.name}…`);
  form.reset();
  nameInput.dataset.edited = "";
  fill($("#subtraction-transfers"));
  openForm(false);
  if (!state.items.some((item) => item.id === subtraction.id)) {
    state.items = [subtraction, ...state.items];
    renderRows();
  }
  reload();
  toggle.focus();
});

// --- Start ----------------------------------------------------------------------------------------------------------

async function start() {
  try {
    state.account = await getAccount();
  } catch (error) {
    showProblem(`Could not load your account: ${error.message}`);
  }
  toggle.hidden = !may(state.account, "modify_subtraction");
  $("#subtraction-file").disabled = !may(state.account, "upload_file");
  await load();
}

setInterval(() => refreshTimes(tbody), 30_000);
start();
