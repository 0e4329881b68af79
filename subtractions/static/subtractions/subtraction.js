// One subtraction: its count and nucleotide composition, files to download, linked samples, live creation
// progress, editing the name and nickname, and deletion (refused with the API's message while samples use it).
import {
  $,
  api,
  attachToField,
  debounce,
  FieldErrors,
  fill,
  getAccount,
  h,
  live,
  may,
  onDelete,
  onSubmit,
  showNotice,
  sizeText,
  timeAgo,
  toast,
} from "../virtool/virtool.js";
import { progressBar, setProgress, stepText } from "../jobs/jobs-common.js";

const root = $("#subtraction-root");
const subtractionId = root.dataset.subtractionId;
const NUMBER = new Intl.NumberFormat("en-US");
const state = { subtraction: null, account: null, job: null, dirty: false, deleting: false, gone: false };

function showProblem(message) {
  showNotice($("#subtraction-error"), message);
}

function fact(term, ...value) {
  return [h("dt", { text: term }), h("dd", {}, ...value)];
}

function renderStatus(subtraction) {
  const node = $("#subtraction-status");
  if (subtraction.ready) {
    fill(node, h("span", { class: "badge ok", text: "Ready" }));
    return;
  }
  const job = { state: "waiting", progress: 0, ...(subtraction.job || {}), ...(state.job || {}) };
  if (!$("[role=progressbar]", node)) {
    fill(node, progressBar(`Creation of ${subtraction.name}`), h("span", { class: "job-step small muted" }));
  }
  setProgress($("[role=progressbar]", node), job, stepText(job));
  $(".job-step", node).textContent = `${stepText(job)} · ${Math.round(job.progress || 0)}%`;
}

function render(subtraction) {
  state.subtraction = subtraction;
  const writable = may(state.account, "modify_subtraction");
  document.title = `${subtraction.name} · Virtool`;
  $("#subtraction-body").hidden = false;
  $("#subtraction-title").textContent = subtraction.name;
  $("#subtraction-nickname").textContent = subtraction.nickname || "";
  renderStatus(subtraction);
  fill(
    $("#subtraction-facts"),
    fact("Sequences", h("span", { dataset: { fact: "count" }, text: subtraction.count === null ? "—" : NUMBER.format(subtraction.count) })),
    fact("Created", timeAgo(subtraction.created_at), subtraction.user ? ` by ${subtraction.user.handle}` : ""),
    subtraction.job ? fact("Job", h("a", { href: `/jobs/${encodeURIComponent(subtraction.job.id)}`, text: "Creation job" })) : [],
  );
  const gc = subtraction.gc;
  $("#gc-empty").hidden = Boolean(gc);
  fill(
    $("#gc-bars"),
    gc
      ? ["a", "c", "g", "t", "n"].flatMap((base) => [
          h("span", { class: "accession", text: base.toUpperCase() }),
          h("span", { class: "coverage-meter", "aria-hidden": "true" }, h("span", { style: `width:${Math.round((gc[base] || 0) * 100)}%` })),
          h("span", { class: "num", dataset: { gc: base }, text: `${((gc[base] || 0) * 100).toFixed(1)}%` }),
        ])
      : [],
  );
  if (gc) {
    const content = ((gc.g || 0) + (gc.c || 0)) * 100;
    $("#gc-bars").append(h("span", {}), h("strong", { text: "GC content" }), h("strong", { dataset: { gc: "gc" }, text: `${content.toFixed(1)}%` }));
  }
  const files = subtraction.files || [];
  $("#files-empty").hidden = files.length > 0;
  fill(
    $("#subtraction-files"),
    files.map((file) =>
      h(
        "li",
        { class: "reads-file" },
        h("a", { href: `/api${file.download_url}`, download: "", text: file.name }),
        h("span", { class: "muted small", text: ` ${sizeText(file.size)}` }),
      ),
    ),
  );
  const linked = subtraction.linked_samples || [];
  $("#linked-empty").hidden = linked.length > 0;
  fill(
    $("#linked-samples"),
    linked.map((sample) => h("li", {}, h("a", { href: `/samples/${encodeURIComponent(sample.id)}`, text: sample.name }))),
  );
  $("#edit-form").hidden = !writable;
  if (!state.dirty) {
    $("#edit-name").value = subtraction.name;
    $("#edit-nickname").value = subtraction.nickname || "";
  }
  $("#subtraction-delete").hidden = !writable || state.gone;
}

$("#edit-form").addEventListener("input", () => (state.dirty = true));

onSubmit($("#edit-form"), async (form) => {
  const name = form.elements.name.value.trim();
  if (!name) throw new FieldErrors({ name: "A name is required." });
  let subtraction;
  try {
    subtraction = await api("PATCH", `/api/subtractions/${encodeURIComponent(subtractionId)}`, {
      name,
      nickname: form.elements.nickname.value.trim(),
    });
  } catch (error) {
    throw attachToField(error, "name", (message) => /name/i.test(message));
  }
  state.dirty = false;
  render(subtraction);
  toast("Saved");
});

onDelete($("#subtraction-delete"), {
  current: () => state.subtraction,
  question: (subtraction) => `Delete the subtraction "${subtraction.name}" and its files? This cannot be undone.`,
  path: `/api/subtractions/${encodeURIComponent(subtractionId)}`,
  notice: $("#delete-error"),
  refusal(error, subtraction) {
    const hint = error.status === 409 && (subtraction.linked_samples || []).length
      ? " Remove it from the linked samples' default subtractions first."
      : "";
    return `${error.message.replace(/\.?$/, ".")}${hint}`;
  },
  onDeleted: () => (state.deleting = true),
  listUrl: "/subtractions",
});

async function load() {
  let subtraction;
  try {
    subtraction = await api("GET", `/api/subtractions/${encodeURIComponent(subtractionId)}`);
  } catch (error) {
    if (error.status === 404) {
      state.gone = true;
      showProblem(state.subtraction ? "This subtraction was deleted." : "This subtraction does not exist.");
      $("#subtraction-body").hidden = true;
    } else {
      showProblem(error.message);
    }
    return;
  }
  showProblem("");
  render(subtraction);
}

live.on("subtraction", ({ operation, data }) => {
  if (state.deleting) return;
  const ids = operation === "delete" ? (Array.isArray(data) ? data : [data]).map((item) => item?.id ?? item) : [data?.id];
  if (ids.includes(subtractionId)) load();
});

// Linking or unlinking a sample changes the sample, not the subtraction.
live.on(
  "samples",
  debounce(() => {
    if (state.subtraction && !state.deleting) load();
  }, 300),
);

live.on("jobs", ({ data }) => {
  const subtraction = state.subtraction;
  if (!subtraction || subtraction.ready || data?.id !== subtraction.job?.id) return;
  state.job = { state: data.state, progress: data.progress, step_name: data.step_name };
  renderStatus(subtraction);
  if (["error", "timeout", "terminated", "cancelled"].includes(data.state)) {
    showProblem(`Creating this subtraction stopped (${data.state}); it is removed. See its job for the reason.`);
  }
});

live.onReconnect(load);

async function start() {
  try {
    state.account = await getAccount();
  } catch {
    state.account = null;
  }
  await load();
}

start();
