// Jobs: what the job pages share and other pages use for their jobs (states, labels, the progress bar, durations).
import { h } from "../virtool/virtool.js";

export const STATE_LABELS = {
  waiting: "Waiting",
  preparing: "Preparing",
  running: "Running",
  complete: "Complete",
  cancelled: "Cancelled",
  error: "Error",
  terminated: "Terminated",
  timeout: "Timed out",
};

export const ACTIVE_STATES = ["waiting", "preparing", "running"];
export const FAILED_STATES = ["error", "terminated", "timeout", "cancelled"];
export const ERROR_STATES = ["error", "terminated", "timeout"];

/** Whether a job in `state` is still waiting or running. */
export const isActive = (state) => ACTIVE_STATES.includes(state);

// The display names of the registered workflows, which the jobs pages render (`workflow-labels`): the engine
// knows no workflow by name, each one names itself when it registers.
let workflowLabels = null;

/** A workflow name as people read it: its display name, else its words (`create_sample` → "Create sample"). */
export function workflowLabel(name) {
  if (workflowLabels === null) {
    const data = document.getElementById("workflow-labels");
    workflowLabels = data ? JSON.parse(data.textContent) : {};
  }
  if (workflowLabels[name]) return workflowLabels[name];
  const text = String(name || "job").replace(/[_-]+/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The label of a state (unknown states are shown as they are). */
export const stateLabel = (state) => STATE_LABELS[state] || String(state);

/** A badge for a job state. */
export function stateBadge(state, extra = {}) {
  return h("span", { class: `badge job-state state-${state}`, dataset: { state }, text: stateLabel(state), ...extra });
}

// --- Progress --------------------------------------------------------------------------------------------------

/**
 * A progress bar (`role=progressbar` with aria-valuenow) that `setProgress` moves in place.
 * `label` names it for assistive technology, e.g. "Progress of Create sample".
 */
export function progressBar(label) {
  const fill = h("span", { class: "job-progress-fill" });
  return h(
    "div",
    {
      class: "job-progress",
      role: "progressbar",
      "aria-label": label,
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": "0",
    },
    fill,
  );
}

/** Move a bar made by `progressBar` to the job's progress and colour it for its state. */
export function setProgress(bar, job, stepText = "") {
  const value = Math.max(0, Math.min(100, Math.round(Number(job.progress) || 0)));
  if (bar.getAttribute("aria-valuenow") !== String(value)) bar.setAttribute("aria-valuenow", String(value));
  const text = stepText ? `${value}% · ${stepText}` : `${value}%`;
  if (bar.getAttribute("aria-valuetext") !== text) bar.setAttribute("aria-valuetext", text);
  bar.dataset.state = job.state;
  bar.firstElementChild.style.width = `${value}%`;
}

/** What the job is doing now, in a few words. */
export function stepText(job) {
  if (job.cancel_requested && isActive(job.state)) return "Cancelling…";
  if (job.state === "waiting") return "Waiting for a worker";
  if (job.state === "preparing") return job.step_name || "Preparing to run";
  if (job.state === "complete") return "Finished";
  if (job.state === "cancelled") return job.step_name ? `Cancelled during ${job.step_name}` : "Cancelled";
  if (ERROR_STATES.includes(job.state)) return job.step_name ? `Stopped during ${job.step_name}` : "Stopped";
  return job.step_name || "Running";
}

/** Why a job stopped, in the sentences its runner wrote for people (the latest error of its status), or "". */
export function jobErrorText(job) {
  if (job?.state === "cancelled") return "it was cancelled";
  const record = [...(job?.status || [])].reverse().find((item) => item.error);
  const details = record?.error?.details || [];
  return details.length ? details.map(String).join(" ") : record?.error?.type || "";
}

// --- Durations ----------------------------------------------------------------------------------------------------

/** "1 h 4 min", "35 s": the time between two timestamps (or until now). */
export function duration(from, to) {
  const start = new Date(from).getTime();
  const end = to ? new Date(to).getTime() : Date.now();
  if (!from || Number.isNaN(start) || Number.isNaN(end)) return "";
  let seconds = Math.max(0, Math.round((end - start) / 1000));
  const days = Math.floor(seconds / 86400);
  seconds -= days * 86400;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  if (days) return `${days} d ${hours} h`;
  if (hours) return `${hours} h ${minutes} min`;
  if (minutes) return `${minutes} min ${seconds} s`;
  return `${seconds} s`;
}

// --- Failed work shown in place -------------------------------------------------------------------------------

/**
 * What a list row shows for work whose job ended without doing it (a sample not created, an analysis not run): the
 * state as a badge, the job's words (`job.error`, from the nested job summary), and "Try again" / "Remove" buttons.
 * `onRetry` and `onRemove` return promises; the buttons are disabled while one runs.
 */
export function failedJobPanel({ job, noun, onRetry, onRemove }) {
  const cancelled = job?.state === "cancelled";
  const message = job?.error || (cancelled ? "The job was cancelled." : "The job failed.");
  const busy = (button, action) => async () => {
    for (const other of panel.querySelectorAll("button")) other.disabled = true;
    try {
      await action();
    } finally {
      for (const other of panel.querySelectorAll("button")) other.disabled = false;
    }
  };
  const retry = h("button", { type: "button", class: "small", text: "Try again" });
  const remove = h("button", { type: "button", class: "small danger", text: "Remove" });
  retry.addEventListener("click", busy(retry, onRetry));
  remove.addEventListener("click", busy(remove, onRemove));
  retry.setAttribute("aria-label", `Try again: ${noun}`);
  remove.setAttribute("aria-label", `Remove ${noun}`);
  const panel = h(
    "div",
    { class: "failed-job", dataset: { part: "failed" } },
    h("span", { class: "badge off", text: cancelled ? "Cancelled" : "Failed" }),
    h("span", { class: "failed-message small", dataset: { part: "failure" }, text: message }),
    h("span", { class: "failed-actions" }, retry, remove),
  );
  return panel;
}

// --- What a job works on ------------------------------------------------------------------------------------------

const SUBJECT_KINDS = { sample: "Sample", analysis: "Analysis", reference: "Reference", subtraction: "Subtraction" };

/** A job's subjects (`job.subjects`: `[{kind, name, url}]`) as "Sample RpRSV · Reference Plant Viruses" links. */
export function subjectLinks(subjects) {
  const out = [];
  for (const subject of subjects || []) {
    if (out.length) out.push(" · ");
    const kind = SUBJECT_KINDS[subject.kind] || subject.kind;
    out.push(
      h(
        "span",
        { class: "job-subject", dataset: { kind: subject.kind } },
        `${kind} `,
        subject.url ? h("a", { href: subject.url, text: subject.name }) : h("span", { text: subject.name }),
      ),
    );
  }
  return out;
}
