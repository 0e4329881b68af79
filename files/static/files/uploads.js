// Uploads: send files (drag and drop or a file picker) with a progress bar per file and one over all of them, and
// the live list of uploads. Files go up resumably (tus, ./resumable.js), at most two at a time: a dropped
// connection or an ended session pauses a file, which then continues from the last chunk the server received.
import {
  $,
  api,
  clampPageOf,
  debounce,
  describeError,
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
import { resumableUpload } from "./resumable.js";

const MAX_CONCURRENT = 2;
const PER_PAGE = 25;
const SPEED_WINDOW_MS = 3000;

const TYPE_LABELS = { reads: "Reads", reference: "Reference", subtraction: "Subtraction", hmm: "HMM" };

/**
 * The upload type a file name suggests: references are `.json.gz`, subtractions FASTA, HMMs `.hmm` or a release
 * archive (`vthmm.tar.gz`: the only tar archive Virtool takes).
 */
export function guessType(name) {
  const lower = String(name).toLowerCase();
  if (lower.endsWith(".json.gz")) return "reference";
  if (/\.(fa|fasta)(\.gz)?$/.test(lower)) return "subtraction";
  if (lower.endsWith(".hmm") || /\.(tar\.gz|tgz|tar)$/.test(lower)) return "hmm";
  return "reads";
}

const SIZE_UNITS = ["bytes", "kB", "MB", "GB", "TB"];

/** "1.2 MB", "532 bytes" (decimal units, as disks and networks count). */
export function humanSize(bytes) {
  let value = Number(bytes) || 0;
  let unit = 0;
  while (value >= 1000 && unit < SIZE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${value} ${value === 1 ? "byte" : "bytes"}`;
  return `${value >= 100 ? Math.round(value) : value.toFixed(1)} ${SIZE_UNITS[unit]}`;
}

function humanDuration(seconds) {
  if (!Number.isFinite(seconds)) return "";
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function announce(message) {
  setText($("#transfer-status"), message);
}

// --- Permissions ------------------------------------------------------------------------------------------------

const state = {
  account: null,
  canUpload: false,
  canRemove: false,
};

function applyAccount(account) {
  state.account = account;
  state.canUpload = may(account, "upload_file");
  state.canRemove = may(account, "remove_file");
  const zone = $("#drop-zone");
  zone.dataset.disabled = String(!state.canUpload);
  $("#choose-files").disabled = !state.canUpload;
  $("#file-input").disabled = !state.canUpload;
  $("#upload-type").disabled = !state.canUpload;
  $("#upload-denied").hidden = state.canUpload;
  if (state.canUpload) zone.removeAttribute("aria-disabled");
  else zone.setAttribute("aria-disabled", "true");
  renderList();
}

async function loadAccount(refresh = false) {
  try {
    applyAccount(await getAccount({ refresh }));
  } catch (error) {
    showProblem(`Could not load your account: ${error.message}`);
  }
}

// --- Transfers: the files this page is sending ------------------------------------------------------------------

const transfers = [];
let transferSeq = 0;

const STATE_TEXT = {
  queued: "Waiting",
  uploading: "Uploading",
  processing: "Finishing",
  paused: "Paused",
  done: "Uploaded",
  failed: "Failed",
  cancelled: "Cancelled",
};
const FINISHED = new Set(["done", "failed", "cancelled"]);

function chosenType(file) {
  const choice = $("#upload-type").value;
  return choice === "auto" ? guessType(file.name) : choice;
}

/** Queue files for upload (from a drop or the picker). */
function addFiles(fileList) {
  if (!state.canUpload) {
    toast("You do not have permission to upload files.", { error: true });
    return;
  }
  const files = Array.from(fileList || []);
  if (!files.length) return;
  for (const file of files) {
    transferSeq += 1;
    const transfer = {
      id: transferSeq,
      file,
      name: file.name,
      type: chosenType(file),
      state: "queued",
      loaded: 0,
      total: file.size,
      samples: [],
      startedAt: 0,
      finishedAt: 0,
      error: "",
      upload: null,
      pause: "",
      row: null,
    };
    transfer.row = createTransferRow(transfer);
    transfers.push(transfer);
    $("#transfers").append(transfer.row);
    updateTransferRow(transfer);
  }
  $("#transfers-section").hidden = false;
  announce(`${files.length} file${files.length === 1 ? "" : "s"} added to the uploads.`);
  pump();
}

function pump() {
  let active = transfers.filter((t) => ["uploading", "processing", "paused"].includes(t.state)).length;
  for (const transfer of transfers) {
    if (active >= MAX_CONCURRENT) break;
    if (transfer.state !== "queued") continue;
    start(transfer);
    active += 1;
  }
  renderTransferSummary();
}

function start(transfer) {
  transfer.state = "uploading";
  transfer.startedAt = performance.now();
  transfer.samples = [[transfer.startedAt, 0]];
  transfer.pause = "";
  // Resumable (tus): the file goes up in chunks, and a dropped connection or an ended session only pauses it.
  transfer.upload = resumableUpload(transfer.file, transfer.type, {
    onProgress(sent, total) {
      if (!["uploading", "paused"].includes(transfer.state)) return;
      if (transfer.state === "paused") {
        transfer.state = "uploading";
        transfer.error = "";
      }
      transfer.loaded = sent;
      if (total) transfer.total = total;
      const now = performance.now();
      transfer.samples.push([now, sent]);
      while (transfer.samples.length > 2 && now - transfer.samples[0][0] > SPEED_WINDOW_MS) transfer.samples.shift();
      // Every byte is sent; the server still checks, hashes and stores the file before it answers.
      if (sent >= total) transfer.state = "processing";
      updateTransferRow(transfer);
    },
    onPause(reason, message) {
      if (FINISHED.has(transfer.state)) return;
      transfer.state = "paused";
      transfer.pause = reason;
      transfer.error = message;
      announce(`${transfer.name} paused: ${message}`);
      updateTransferRow(transfer);
    },
    onResume() {
      if (transfer.state !== "paused") return;
      transfer.state = "uploading";
      transfer.pause = "";
      transfer.error = "";
      transfer.samples = [[performance.now(), transfer.loaded]];
      updateTransferRow(transfer);
    },
    onSuccess(document) {
      if (FINISHED.has(transfer.state)) return;
      transfer.finishedAt = performance.now();
      transfer.state = "done";
      transfer.loaded = transfer.total;
      transfer.error = "";
      transfer.document = document;
      upsert(document);
      announce(`${transfer.name} uploaded.`);
      finish(transfer);
    },
    onError(status, message, body) {
      if (FINISHED.has(transfer.state)) return;
      transfer.finishedAt = performance.now();
      fail(transfer, message ? message : errorMessage(status, body));
      finish(transfer);
    },
  });
  updateTransferRow(transfer);
}

/** A transfer ended (uploaded, refused or cancelled): free its slot for the next one. */
function finish(transfer) {
  transfer.upload?.done();
  transfer.upload = null;
  transfer.file = null; // let the browser forget the file
  updateTransferRow(transfer);
  pump();
}

function errorMessage(status, body) {
  if (status === 413) return "The file is larger than this server accepts.";
  if (status === 403 && !(body && body.message)) return "You do not have permission to upload files.";
  return describeError(status, body).message;
}

function fail(transfer, message) {
  transfer.state = "failed";
  transfer.error = message;
  announce(`${transfer.name} failed: ${message}`);
}

function cancel(transfer) {
  if (FINISHED.has(transfer.state)) return;
  transfer.state = "cancelled";
  transfer.error = "";
  // Ends the upload on the server as well (tus termination): nothing of it is kept.
  transfer.upload?.abort();
  announce(`${transfer.name} cancelled.`);
  finish(transfer);
}

function dismiss(transfer) {
  const index = transfers.indexOf(transfer);
  if (index >= 0) transfers.splice(index, 1);
  const row = transfer.row;
  const next = row.nextElementSibling || row.previousElementSibling;
  row.remove();
  // Keep keyboard focus in the list instead of dropping it to the page.
  (next ? $("button", next) : $("#choose-files"))?.focus();
  renderTransferSummary();
}

/** Bytes per second over the last few seconds (0 when nothing moved lately, NaN until there is enough to tell). */
function speedOf(transfer) {
  const now = performance.now();
  const recent = transfer.samples.filter(([time]) => now - time <= SPEED_WINDOW_MS);
  const last = transfer.samples[transfer.samples.length - 1];
  if (!last) return NaN;
  if (now - last[0] > SPEED_WINDOW_MS) return 0;
  const first = recent[0];
  if (now - transfer.startedAt < 300 || last[0] - first[0] < 200) return NaN;
  return ((last[1] - first[1]) * 1000) / (last[0] - first[0]);
}

function percentOf(transfer) {
  if (transfer.state === "done") return 100;
  if (!transfer.total) return transfer.state === "processing" ? 100 : 0;
  return Math.max(0, Math.min(100, Math.floor((transfer.loaded / transfer.total) * 100)));
}

function detailText(transfer) {
  const percent = percentOf(transfer);
  switch (transfer.state) {
    case "queued":
      return "Waiting for another upload to finish";
    case "uploading": {
      const speed = speedOf(transfer);
      const parts = [`${percent}%`, `${humanSize(transfer.loaded)} of ${humanSize(transfer.total)}`];
      if (speed === 0) parts.push("stalled");
      else if (Number.isFinite(speed)) {
        parts.push(`${humanSize(speed)}/s`);
        parts.push(`${humanDuration((transfer.total - transfer.loaded) / speed)} left`);
      }
      return parts.join(" · ");
    }
    case "processing":
      return "100% · Sent; the server is storing the file…";
    case "paused":
      return `Paused at ${percent}% · ${humanSize(transfer.loaded)} of ${humanSize(transfer.total)} sent`;
    case "done": {
      const seconds = (transfer.finishedAt - transfer.startedAt) / 1000;
      const rate = seconds > 0 ? ` at ${humanSize(transfer.total / seconds)}/s` : "";
      return `100% · ${humanSize(transfer.total)} in ${humanDuration(seconds)}${rate}`;
    }
    case "cancelled":
      return transfer.loaded ? `Stopped at ${percent}%; nothing was stored` : "Not sent";
    case "failed":
      return "Nothing was stored";
    default:
      return "";
  }
}

function createTransferRow(transfer) {
  const titleId = `transfer-${transfer.id}-name`;
  return h(
    "li",
    { class: "transfer", dataset: { id: String(transfer.id) }, "aria-labelledby": titleId },
    h(
      "div",
      { class: "transfer-head" },
      h("span", { class: "transfer-name", id: titleId, title: transfer.name, text: transfer.name }),
      h("span", { class: "badge", text: TYPE_LABELS[transfer.type] || transfer.type }),
      h("span", { class: "transfer-size muted small", text: humanSize(transfer.total) }),
      h("span", { class: "badge transfer-state", dataset: { part: "state" } }),
    ),
    h(
      "div",
      {
        class: "upload-bar",
        role: "progressbar",
        "aria-label": `Upload of ${transfer.name}`,
        "aria-valuemin": "0",
        "aria-valuemax": "100",
        "aria-valuenow": "0",
      },
      h("span", { class: "upload-bar-fill" }),
    ),
    h("p", { class: "transfer-error", dataset: { part: "error" }, hidden: true }),
    h(
      "div",
      { class: "transfer-foot" },
      h("span", { class: "transfer-detail muted small", dataset: { part: "detail" } }),
      h("button", {
        type: "button",
        class: "small primary",
        dataset: { part: "resume" },
        hidden: true,
        text: "Resume",
        "aria-label": `Resume upload of ${transfer.name}`,
        onClick: () => transfer.upload?.resume(),
      }),
      h("button", {
        type: "button",
        class: "small",
        dataset: { part: "action" },
        onClick: () => (FINISHED.has(transfer.state) ? dismiss(transfer) : cancel(transfer)),
      }),
    ),
  );
}

function updateTransferRow(transfer) {
  const row = transfer.row;
  row.dataset.state = transfer.state;
  const badge = $("[data-part=state]", row);
  setText(badge, STATE_TEXT[transfer.state]);
  badge.dataset.state = transfer.state;
  const percent = percentOf(transfer);
  const bar = $("[role=progressbar]", row);
  if (bar.getAttribute("aria-valuenow") !== String(percent)) bar.setAttribute("aria-valuenow", String(percent));
  bar.setAttribute("aria-valuetext", `${percent}% · ${STATE_TEXT[transfer.state]}`);
  bar.dataset.state = transfer.state;
  bar.firstElementChild.style.width = `${percent}%`;
  setText($("[data-part=detail]", row), detailText(transfer));
  const action = $("[data-part=action]", row);
  const finished = FINISHED.has(transfer.state);
  setText(action, finished ? "Dismiss" : "Cancel");
  action.setAttribute("aria-label", `${finished ? "Dismiss" : "Cancel upload of"} ${transfer.name}`);
  action.classList.toggle("danger", !finished);
  const error = $("[data-part=error]", row);
  setText(error, transfer.error);
  error.hidden = !transfer.error;
  error.classList.toggle("notice", transfer.state === "paused");
  $("[data-part=resume]", row).hidden = !(transfer.state === "paused" && transfer.pause === "signed-out");
  renderOverall();
  if (finished) renderTransferSummary();
}

/** The bar over all of this page's uploads: bytes sent of all files added, and how many are done. */
function renderOverall() {
  const counted = transfers.filter((t) => t.state !== "cancelled");
  const total = counted.reduce((sum, t) => sum + (t.total || 0), 0);
  const sent = counted.reduce((sum, t) => sum + (t.state === "done" ? t.total || 0 : t.loaded || 0), 0);
  const done = counted.filter((t) => t.state === "done").length;
  const failed = counted.filter((t) => t.state === "failed").length;
  const percent = total ? Math.min(100, Math.floor((sent / total) * 100)) : counted.length && done === counted.length ? 100 : 0;
  const bar = $("#transfers-overall");
  bar.setAttribute("aria-valuenow", String(percent));
  bar.firstElementChild.style.width = `${percent}%`;
  const paused = counted.filter((t) => t.state === "paused").length;
  const parts = [`${done} of ${counted.length} file${counted.length === 1 ? "" : "s"} uploaded`, `${humanSize(sent)} of ${humanSize(total)}`];
  if (paused) parts.push(`${paused} paused`);
  if (failed) parts.push(`${failed} failed`);
  bar.setAttribute("aria-valuetext", `${percent}% · ${parts.join(" · ")}`);
  bar.dataset.state = paused ? "paused" : done + failed === counted.length ? "done" : "uploading";
  setText($("#transfers-overall-text"), `${percent}% · ${parts.join(" · ")}`);
}

function renderTransferSummary() {
  const finished = transfers.filter((t) => FINISHED.has(t.state)).length;
  $("#transfers-clear").hidden = finished === 0;
  $("#transfers-section").hidden = transfers.length === 0;
  if (transfers.length) renderOverall();
}

$("#transfers-clear").addEventListener("click", () => {
  for (const transfer of transfers.filter((t) => FINISHED.has(t.state))) {
    transfers.splice(transfers.indexOf(transfer), 1);
    transfer.row.remove();
  }
  renderTransferSummary();
  $("#choose-files").focus();
});

// Leaving the page would abort the uploads in flight.
window.addEventListener("beforeunload", (event) => {
  if (transfers.some((t) => !FINISHED.has(t.state))) {
    event.preventDefault();
    event.returnValue = "";
  }
});

// --- Drop zone and file picker ---------------------------------------------------------------------------------

const zone = $("#drop-zone");
const input = $("#file-input");
let dragDepth = 0;

$("#choose-files").addEventListener("click", () => input.click());
input.addEventListener("change", () => {
  addFiles(input.files);
  input.value = ""; // choosing the same file again is a new upload
});

function hasFiles(event) {
  return Array.from(event.dataTransfer?.types || []).includes("Files");
}

zone.addEventListener("dragenter", (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  dragDepth += 1;
  zone.classList.add("dragging");
});
zone.addEventListener("dragover", (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = state.canUpload ? "copy" : "none";
});
zone.addEventListener("dragleave", () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) zone.classList.remove("dragging");
});
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  dragDepth = 0;
  zone.classList.remove("dragging");
  const transfer = event.dataTransfer;
  if (!transfer) return;
  // Folders arrive as entries without content: leave them out and say so.
  const items = Array.from(transfer.items || []);
  const folders = new Set();
  items.forEach((item, index) => {
    const entry = typeof item.webkitGetAsEntry === "function" ? item.webkitGetAsEntry() : null;
    if (entry?.isDirectory) folders.add(index);
  });
  const files = Array.from(transfer.files || []).filter((_, index) => !folders.has(index));
  if (folders.size) toast("Folders cannot be uploaded: drop the files inside them.", { error: true });
  addFiles(files);
});

// A file dropped next to the zone must not make the browser leave the page to open it.
for (const type of ["dragover", "drop"]) {
  window.addEventListener(type, (event) => {
    if (hasFiles(event) && !zone.contains(event.target)) {
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = "none";
    }
  });
}

// --- The list of uploads --------------------------------------------------------------------------------------

const params = new URLSearchParams(window.location.search);
const list = {
  type: TYPE_LABELS[params.get("type")] ? params.get("type") : "",
  mine: params.get("mine") === "1",
  page: pageParam(params),
  result: null,
  items: [],
};

const table = $("#upload-table");
const tbody = $("tbody", table);
const rows = new Map();

function showProblem(message) {
  showNotice($("#uploads-error"), message);
}

function syncUrl() {
  const query = new URLSearchParams();
  if (list.type) query.set("type", list.type);
  if (list.mine) query.set("mine", "1");
  if (list.page > 1) query.set("page", String(list.page));
  replaceQuery(query);
}

function matches(upload) {
  if (upload.removed || upload.reserved) return false;
  if (list.type && upload.type !== list.type) return false;
  return !list.mine || (state.account && upload.user?.id === state.account.id);
}

function createUploadRow(upload) {
  return h(
    "tr",
    { dataset: { id: String(upload.id) } },
    h(
      "td",
      { class: "upload-name", dataset: { label: "Name" } },
      h("a", { dataset: { part: "link" }, download: "" }),
    ),
    h("td", { dataset: { label: "Type" } }, h("span", { class: "badge", dataset: { part: "type" } })),
    h("td", { class: "upload-size", dataset: { label: "Size" } }, h("span", { dataset: { part: "size" } })),
    h("td", { dataset: { label: "Uploaded by" } }, h("span", { dataset: { part: "user" } })),
    h("td", { dataset: { label: "Uploaded" } }, h("span", { dataset: { part: "age" } })),
    h("td", { class: "upload-actions", dataset: { label: "" } }, h("span", { dataset: { part: "actions" } })),
  );
}

function updateUploadRow(row, upload) {
  const link = part(row, "link");
  setText(link, upload.name);
  link.href = `/api/uploads/${encodeURIComponent(upload.id)}`;
  link.setAttribute("aria-label", `Download ${upload.name}`);
  setText(part(row, "type"), TYPE_LABELS[upload.type] || upload.type);
  const size = part(row, "size");
  setText(size, humanSize(upload.size));
  size.title = `${Number(upload.size).toLocaleString()} bytes`;
  const user = part(row, "user");
  const handle = upload.user?.handle || "";
  if (user.dataset.handle !== handle || !user.firstChild) {
    user.dataset.handle = handle;
    fill(user, handle || h("span", { class: "muted", text: "—" }));
  }
  const when = upload.uploaded_at || upload.created_at;
  const age = part(row, "age");
  if (age.firstElementChild?.getAttribute("datetime") !== when) fill(age, timeAgo(when));
  const actions = part(row, "actions");
  const wanted = state.canRemove ? "remove" : "";
  if (actions.dataset.mode !== wanted) {
    actions.dataset.mode = wanted;
    fill(
      actions,
      state.canRemove
        ? h("button", {
            type: "button",
            class: "small danger",
            text: "Delete",
            "aria-label": `Delete ${upload.name}`,
            onClick: (event) => remove(event.currentTarget, Number(row.dataset.id)),
          })
        : null,
    );
  } else if (state.canRemove) {
    $("button", actions).setAttribute("aria-label", `Delete ${upload.name}`);
  }
}

function renderList() {
  if (!list.result) return;
  syncRows(tbody, rows, list.items, createUploadRow, updateUploadRow);
  table.removeAttribute("aria-busy");
  table.hidden = list.items.length === 0;
  const empty = $("#uploads-empty");
  empty.hidden = list.items.length > 0;
  if (!list.items.length) {
    const what = list.type ? `${TYPE_LABELS[list.type].toLowerCase()} uploads` : "uploads";
    empty.textContent =
      !list.type && !list.mine
        ? "No files uploaded yet. Uploaded files appear here until they are used or removed."
        : `No ${what}${list.mine ? " of yours" : ""}.`;
  }
  setText($("#uploads-count"), pageSummary(list.result, list.items.length, "file"));
  renderPager($("#upload-pager"), list.result);
}

const load = listLoader({
  url() {
    const query = new URLSearchParams({ page: String(list.page), per_page: String(PER_PAGE) });
    if (list.type) query.set("type", list.type);
    if (list.mine && state.account) query.set("user", String(state.account.id));
    return `/api/uploads?${query}`;
  },
  busy: table,
  onError: (error) => showProblem(error ? `Could not load the uploads: ${error.message}` : ""),
  clampPage: clampPageOf(list, syncUrl),
  onLoad(result) {
    list.result = result;
    list.items = result.items;
    renderList();
  },
});

const reload = debounce(load, 600);

/** Put a document (from an event or our own upload) in the list, if it belongs on this page. */
function upsert(upload) {
  if (!list.result || !upload?.id) return;
  const index = list.items.findIndex((item) => item.id === upload.id);
  if (index >= 0) {
    if (upload.removed || upload.reserved) {
      forget([upload.id]);
      return;
    }
    list.items[index] = upload;
    renderList();
    return;
  }
  if (!matches(upload)) return;
  if (list.page !== 1) {
    reload(); // the counts and this page's neighbours change
    return;
  }
  const perPage = list.result.per_page || PER_PAGE;
  list.items = [upload, ...list.items]
    .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)) || b.id - a.id)
    .slice(0, perPage);
  list.result.found_count += 1;
  list.result.total_count += 1;
  list.result.page_count = Math.ceil(list.result.found_count / perPage);
  renderList();
}

function forget(ids) {
  const gone = new Set(ids.map(Number));
  const before = list.items.length;
  list.items = list.items.filter((item) => !gone.has(item.id));
  if (list.items.length !== before) {
    list.result.found_count -= before - list.items.length;
    list.result.page_count = Math.ceil(list.result.found_count / (list.result.per_page || PER_PAGE));
    renderList();
    reload(); // refill the page from the server
  }
}

async function remove(button, id) {
  const upload = list.items.find((item) => item.id === id);
  const name = upload?.name || `upload ${id}`;
  if (!window.confirm(`Delete ${name}? The file is removed from the server for everyone.`)) return;
  button.disabled = true;
  try {
    await api("DELETE", `/api/uploads/${encodeURIComponent(id)}`);
    toast(`Deleted ${name}`);
    const row = rows.get(id);
    const neighbour = row?.nextElementSibling || row?.previousElementSibling;
    const focused = document.activeElement;
    const hadFocus = !focused || focused === document.body || Boolean(row?.contains(focused));
    forget([id]);
    // The button that had focus is gone: move focus to the next row's, or to the list's heading.
    if (hadFocus) {
      const next = neighbour ? $("button", neighbour) : null;
      if (next) next.focus();
      else $("#uploads-title").focus();
    }
  } catch (error) {
    button.disabled = false;
    let message = error.message;
    if (error.status === 409) message = `${name} is being used by a sample that is being created; it cannot be deleted now.`;
    else if (error.status === 403) message = "You are not allowed to delete uploads.";
    else if (error.status === 404) {
      forget([id]);
      message = `${name} was already deleted.`;
    }
    toast(message, { error: true });
  }
}

$("#uploads-filter-type").addEventListener("change", (event) => {
  list.type = event.currentTarget.value;
  list.page = 1;
  syncUrl();
  load();
});

$("#uploads-mine").addEventListener("change", (event) => {
  list.mine = event.currentTarget.checked;
  list.page = 1;
  syncUrl();
  load();
});

onPager($("#upload-pager"), (step) => {
  if (!list.result) return;
  list.page = Math.max(1, list.page + step);
  syncUrl();
  load().then(() => $("#uploads-title").scrollIntoView({ block: "nearest" }));
});

// --- Live updates ---------------------------------------------------------------------------------------------

live.on("uploads", ({ operation, data }) => {
  if (operation === "delete") {
    forget(Array.isArray(data) ? data : [data]);
    return;
  }
  upsert(data);
});

// Permissions come from groups: follow changes to this user and to its groups.
live.on("users", ({ operation, data }) => {
  if (state.account && operation === "update" && data?.id === state.account.id) loadAccount(true);
});
live.on("groups", ({ operation, data }) => {
  if (state.account && operation === "update" && state.account.groups?.some((group) => group.id === data?.id)) {
    loadAccount(true);
  }
});

live.onReconnect(() => load());

async function startPage() {
  $("#uploads-filter-type").value = list.type;
  $("#uploads-mine").checked = list.mine;
  await loadAccount();
  await load();
}

setInterval(() => {
  refreshTimes(tbody);
  // Speeds fall to nothing when a stalled upload sends no progress events: keep the text honest.
  for (const transfer of transfers) if (["uploading", "paused"].includes(transfer.state)) updateTransferRow(transfer);
}, 1000);
startPage();
