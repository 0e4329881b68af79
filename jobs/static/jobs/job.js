// One job: progress, details, the status timeline and what went wrong; cancel and remove; follows `jobs` events.
import {
  $,
  api,
  fill,
  fullTime,
  getAccount,
  h,
  live,
  may,
  refreshTimes,
  setText,
  showNotice,
  timeAgo,
  toast,
} from "../virtool/virtool.js";
import {
  ERROR_STATES,
  duration,
  isActive,
  progressBar,
  setProgress,
  stateBadge,
  stateLabel,
  stepText,
  workflowLabel,
} from "./jobs-common.js";

const root = $("#job-page");
const jobId = root.dataset.jobId;
const body = $("#job-body");
const problem = $("#job-problem");
const cancelButton = $("#job-cancel");
const removeButton = $("#job-remove");

const state = { job: null, account: null, cancelling: false, removed: false, announced: null };

const bar = progressBar("Job progress");
bar.classList.add("large");
$("#job-progress-host").append(bar);

function showProblem(message) {
  showNotice(problem, message);
}

function detail(key, ...content) {
  const node = $(`[data-key="${key}"]`, $("#job-details"));
  fill(node, ...(content.length ? content : [h("span", { class: "muted", text: "—" })]));
}

function lastRecord(job) {
  return job.status?.length ? job.status[job.status.length - 1] : {};
}

// --- Rendering ------------------------------------------------------------------------------------------------------

function render() {
  const job = state.job;
  if (!job) return;
  const label = workflowLabel(job.workflow);
  const active = isActive(job.state) && !state.removed;
  body.removeAttribute("aria-busy");
  document.title = `${label} · Jobs · Virtool`;
  setText($("#job-title"), label);
  const badgeHost = $("#job-state");
  if (badgeHost.firstElementChild?.dataset.state !== job.state) fill(badgeHost, stateBadge(job.state, { id: "job-state-badge" }));

  // Progress and the current step.
  const step = stepText(job);
  bar.setAttribute("aria-label", `Progress of ${label}`);
  setProgress(bar, job, step);
  setText($("#job-percent"), `${Math.round(job.progress || 0)}%`);
  setText($("#job-step"), step);
  const last = lastRecord(job);
  setText($("#job-step-description"), active && job.state === "running" && last.step_description ? last.step_description : "");
  announce(job, step);

  // Actions: cancel while active (cancel_job), remove once finished (remove_job).
  const cancelling = active && (state.cancelling || job.cancel_requested);
  $("#job-cancelling").hidden = !cancelling;
  cancelButton.hidden = !active || !may(state.account, "cancel_job");
  cancelButton.disabled = cancelling;
  setText(cancelButton, cancelling ? "Cancelling…" : "Cancel job");
  removeButton.hidden = active || state.removed || !may(state.account, "remove_job");
  $("#job-removed").hidden = !state.removed;

  renderError(job);
  renderDetails(job);
  renderTimeline(job);
}

/** Tell screen-reader users about state and step changes (not about every percent). */
function announce(job, step) {
  const key = `${job.state}|${step}`;
  if (state.announced === null) {
    state.announced = key; // the page was just opened: nothing has changed yet
    return;
  }
  if (state.announced === key) return;
  const [previousState] = state.announced.split("|");
  state.announced = key;
  const label = stateLabel(job.state);
  setText($("#job-announce"), previousState === job.state || step.startsWith(label) ? step : `${label}. ${step}`);
}

function renderError(job) {
  const panel = $("#job-error");
  const record = [...(job.status || [])].reverse().find((item) => item.error);
  const failed = ERROR_STATES.includes(job.state);
  panel.hidden = !failed;
  if (!failed) return;
  const error = record?.error || null;
  const details = (error?.details || []).map(String);
  setText(
    $("#job-error-summary"),
    details[0] || (job.state === "timeout" ? "The job ran longer than its time limit." : "The job stopped without a message."),
  );
  let rest = details.slice(1);
  let caption = "Further messages:";
  if (rest.length && rest[0].trim().endsWith(":")) {
    caption = rest[0];
    rest = rest.slice(1);
  }
  $("#job-error-messages").hidden = rest.length === 0;
  setText($("#job-error-caption"), caption);
  setText($("#job-error-log"), rest.join("\n"));
  const traceback = (error?.traceback || []).map(String);
  $("#job-traceback").hidden = traceback.length === 0;
  setText($("#job-error-type"), error?.type ? `(${error.type})` : "");
  setText($("#job-traceback-text"), traceback.every((line) => line.endsWith("\n")) ? traceback.join("") : traceback.join("\n"));
}

function when(value) {
  if (!value) return [];
  return [timeAgo(value), h("span", { class: "muted small", text: ` · ${fullTime(value)}` })];
}

function renderDetails(job) {
  detail("workflow", workflowLabel(job.workflow), h("span", { class: "muted small", text: ` (${job.workflow})` }));
  detail("user", ...(job.user ? [job.user.handle] : []));
  detail("size", ...(job.size ? [job.size === "large" ? "Large" : "Small"] : []));
  const reservation = [];
  if (job.proc) reservation.push(`${job.proc} core${job.proc === 1 ? "" : "s"}`);
  if (job.mem) reservation.push(`${job.mem} GB memory`);
  detail("reservation", ...(reservation.length ? [reservation.join(", ")] : []));
  detail("created_at", ...when(job.created_at));
  detail("started_at", ...when(job.started_at));
  detail("finished_at", ...when(job.finished_at));
  renderDuration(job);
  const pinged = job.ping?.pinged_at;
  detail("ping", ...(pinged && isActive(job.state) ? [timeAgo(pinged)] : pinged ? when(pinged) : []));

  const args = Object.entries(job.args || {});
  const named = new Map((job.subjects || []).map((subject) => [subject.arg, subject]));
  const signature = JSON.stringify([args, job.subjects || []]);
  const host = $("#job-args");
  if (host.dataset.signature === signature) return;
  host.dataset.signature = signature;
  fill(
    host,
    args.length
      ? args.flatMap(([key, value]) => {
          // An id of an object the job works on reads as its name, linked to its page; the id stays beside it.
          const subject = named.get(key);
          const raw = h("code", { text: typeof value === "string" ? value : JSON.stringify(value) });
          return [
            h("dt", { text: key }),
            subject
              ? h(
                  "dd",
                  { dataset: { subject: subject.kind } },
                  subject.url ? h("a", { href: subject.url, text: subject.name }) : subject.name,
                  " ",
                  h("span", { class: "muted small" }, "(", raw, ")"),
                )
              : h("dd", {}, raw),
          ];
        })
      : [h("dd", { class: "muted", text: "None" })],
  );
}

function renderDuration(job) {
  const text = job.started_at ? duration(job.started_at, job.finished_at) : "";
  detail("duration", ...(text ? [text + (job.finished_at ? "" : " so far")] : []));
}

/** The time of a status record; records from another day also show their date. */
function recordTime(value) {
  const date = new Date(value);
  if (!value || Number.isNaN(date.getTime())) return h("span", { class: "muted", text: "—" });
  const today = date.toDateString() === new Date().toDateString();
  return h(
    "time",
    { datetime: value, title: fullTime(value) },
    today ? null : h("span", { class: "job-timeline-date", text: date.toLocaleDateString(undefined, { dateStyle: "medium" }) }),
    date.toLocaleTimeString(),
  );
}

function renderTimeline(job) {
  const records = job.status || [];
  const signature = JSON.stringify(records.map((record) => [record.state, record.step_name, record.timestamp, record.progress]));
  const list = $("#job-timeline");
  if (list.dataset.signature === signature) return;
  list.dataset.signature = signature;
  fill(
    list,
    records.length
      ? records.map((record, index) =>
          h(
            "li",
            { class: index === records.length - 1 ? "current" : "" },
            recordTime(record.timestamp),
            h(
              "div",
              { class: "job-timeline-body" },
              h(
                "div",
                { class: "job-timeline-head" },
                stateBadge(record.state),
                record.step_name ? h("strong", { text: record.step_name }) : null,
                h("span", { class: "muted small", text: `${Math.round(record.progress || 0)}%` }),
              ),
              record.step_description ? h("p", { class: "muted small", text: record.step_description }) : null,
              record.error?.details?.length
                ? h("p", { class: "job-timeline-error small", text: String(record.error.details[0]) })
                : null,
            ),
          ),
        )
      : h("li", { class: "empty", text: "No status recorded yet." }),
  );
}

function showMissing() {
  body.hidden = true;
  body.removeAttribute("aria-busy");
  $("#job-missing").hidden = false;
  document.title = "Job not found · Virtool";
}

// --- Loading and live updates ---------------------------------------------------------------------------------------

/** Take a job document unless it is older than the one shown (a late message after a fresh read). */
function apply(job) {
  if (state.job && (job.status?.length || 0) < (state.job.status?.length || 0)) return;
  state.job = job;
  if (!isActive(job.state)) state.cancelling = false;
  render();
}

async function load() {
  try {
    apply(await api("GET", `/api/jobs/${encodeURIComponent(jobId)}`));
    showProblem(null);
  } catch (error) {
    if (error.status === 404) {
      if (state.job) {
        state.removed = true;
        render();
      } else showMissing();
    } else showProblem(`Could not load the job: ${error.message}`);
  }
}

live.on("jobs", ({ operation, data }) => {
  if (operation === "delete") {
    const ids = Array.isArray(data) ? data : [data];
    if (ids.includes(jobId) && state.job) {
      state.removed = true;
      render();
    }
    return;
  }
  if (data?.id === jobId) apply(data);
});
live.onReconnect(load);

// --- Actions ----------------------------------------------------------------------------------------------------------

cancelButton.addEventListener("click", async () => {
  if (!state.job) return;
  if (!window.confirm("Cancel this job? It stops within a few seconds and its partial results are removed.")) return;
  state.cancelling = true;
  render();
  try {
    apply(await api("PUT", `/api/jobs/${encodeURIComponent(jobId)}/cancel`));
  } catch (error) {
    state.cancelling = false;
    if (error.status === 409) toast("The job has already finished.");
    else if (error.status === 403) toast("You are not allowed to cancel jobs.", { error: true });
    else toast(`Could not cancel the job: ${error.message}`, { error: true });
    await load();
    render();
  }
});

removeButton.addEventListener("click", async () => {
  if (!state.job || !window.confirm("Remove this job's record? This cannot be undone.")) return;
  removeButton.disabled = true;
  try {
    await api("DELETE", `/api/jobs/${encodeURIComponent(jobId)}`);
    window.location.assign("/jobs");
  } catch (error) {
    removeButton.disabled = false;
    if (error.status === 409) toast("The job is still running; cancel it first.", { error: true });
    else if (error.status === 403) toast("You are not allowed to remove jobs.", { error: true });
    else toast(`Could not remove the job: ${error.message}`, { error: true });
  }
});

// Relative times and the run time of an active job move on their own.
setInterval(() => {
  refreshTimes(root);
  if (state.job && isActive(state.job.state) && !state.removed) renderDuration(state.job);
}, 1000);

async function start() {
  try {
    state.account = await getAccount();
  } catch {
    state.account = null; // the buttons stay hidden; the job can still be read
  }
  await load();
}

start();
