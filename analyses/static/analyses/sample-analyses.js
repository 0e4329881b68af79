// The sample page's Analyses section, a page part (core/pages.py; registered in analyses/apps.py): the list with
// live job progress, the start form (reference with a ready index, subtractions defaulting to the sample's) and
// deletion. The sample page calls `render(sample, writable)` on every render of the sample.
import { $, api, debounce, fill, h, live, onSubmit, refreshTimes, timeAgo, toast } from "../virtool/virtool.js";
import {
  analysisUrl,
  loadStartOptions,
  referenceText,
  renderStartOptions,
  startBody,
  startFields,
  startParts,
  subtractionsText,
  workflowLabel,
} from "./analyses-common.js";
import { FAILED_STATES, failedJobPanel, isActive, progressBar, setProgress, stepText } from "../jobs/jobs-common.js";

const BY_NEWEST = (a, b) => String(b.created_at).localeCompare(String(a.created_at)) || a.id.localeCompare(b.id);

/** Wire the Analyses section for the sample `sampleId`; returns the `render(sample, writable)` hook. */
export function setup({ sampleId }) {
  const state = {
    sample: null,
    writable: false,
    analyses: null,
    jobs: new Map(), // job id → the newest {state, progress, step_name} seen on the websocket
    deleting: new Set(),
    options: null,
  };
  const section = $("#analyses-section");
  const list = $("#analyses-list");
  const form = $("#analysis-form");
  const toggle = $("#analysis-toggle");
  fill($("#analysis-fields"), startFields("analysis"));
  const parts = startParts("analysis", form);
  const rows = new Map();

  // --- List ---------------------------------------------------------------------------------------------------

  function jobOf(analysis) {
    if (!analysis.job) return null;
    const seen = state.jobs.get(analysis.job.id);
    return seen ? { ...analysis.job, ...seen } : analysis.job;
  }

  function createRow(analysis) {
    const remove = h("button", {
      type: "button",
      class: "small danger",
      dataset: { part: "delete" },
      text: "Delete",
      "aria-label": `Delete analysis ${analysis.id}`,
      onClick: () => removeAnalysis(analysis.id, remove),
    });
    return h(
      "li",
      { class: "analysis-item", dataset: { id: analysis.id } },
      h(
        "div",
        { class: "analysis-main" },
        h(
          "div",
          { class: "analysis-name" },
          h("a", { href: analysisUrl(analysis), dataset: { part: "link" }, text: workflowLabel(analysis.workflow) }),
          h("span", { class: "analysis-ref", dataset: { part: "reference" } }),
        ),
        h("div", { class: "muted small", dataset: { part: "meta" } }),
      ),
      h("div", { class: "analysis-status", dataset: { part: "status" } }),
      remove,
    );
  }

  function renderStatus(row, analysis) {
    const status = $("[data-part=status]", row);
    row.dataset.ready = String(Boolean(analysis.ready));
    if (analysis.ready) {
      if (status.dataset.mode !== "ready") {
        status.dataset.mode = "ready";
        fill(status, h("span", { class: "badge ok", text: "Ready" }));
      }
      return;
    }
    const job = jobOf(analysis) || { state: "waiting", progress: 0 };
    if (FAILED_STATES.includes(job.state)) {
      // It stays listed with why it did not run, to be tried again (as it was started) or removed.
      const signature = `failed:${job.id}:${job.error || ""}`;
      if (status.dataset.mode !== signature) {
        status.dataset.mode = signature;
        const noun = `${workflowLabel(analysis.workflow)} analysis against ${referenceText(analysis)}`;
        fill(status, failedJobPanel({ job, noun, onRetry: () => retryAnalysis(analysis), onRemove: () => removeAnalysis(analysis) }));
      }
      return;
    }
    if (status.dataset.mode !== "running") {
      status.dataset.mode = "running";
      fill(
        status,
        progressBar(`Progress of analysis ${analysis.id}`),
        h("span", { class: "job-step small muted", dataset: { part: "step" } }),
      );
    }
    setProgress($("[role=progressbar]", status), job, stepText(job));
    const text = `${stepText(job)} · ${Math.round(job.progress || 0)}%`;
    const step = $("[data-part=step]", status);
    if (step.textContent !== text) step.textContent = text;
  }

  async function retryAnalysis(analysis) {
    try {
      upsert(await api("POST", `/api/analyses/${analysis.id}/retry`));
      toast("Analysis started again");
    } catch (error) {
      toast(`The analysis cannot be tried again: ${error.message}`, { error: true });
    }
  }

  async function removeAnalysis(analysis) {
    state.deleting.add(analysis.id);
    try {
      await api("DELETE", `/api/analyses/${analysis.id}`);
      state.analyses = state.analyses.filter((item) => item.id !== analysis.id);
      renderList();
    } catch (error) {
      state.deleting.delete(analysis.id);
      toast(`The analysis cannot be removed: ${error.message}`, { error: true });
    }
  }

  function updateRow(row, analysis) {
    $("[data-part=reference]", row).textContent = referenceText(analysis);
    const meta = $("[data-part=meta]", row);
    const created = meta.querySelector("time");
    if (!created || created.getAttribute("datetime") !== analysis.created_at) {
      fill(
        meta,
        `Subtractions: ${subtractionsText(analysis)} · `,
        analysis.user ? `${analysis.user.handle}, ` : "",
        timeAgo(analysis.created_at),
      );
    }
    renderStatus(row, analysis);
    const job = jobOf(analysis);
    const remove = $("[data-part=delete]", row);
    remove.hidden = !state.writable;
    // The API refuses to delete a running analysis (409): say so before anyone tries.
    const running = !analysis.ready && job && isActive(job.state);
    remove.title = running ? "A running analysis cannot be deleted" : "";
  }

  function renderList() {
    if (!state.analyses) return;
    const analyses = [...state.analyses].sort(BY_NEWEST);
    const wanted = new Set(analyses.map((analysis) => analysis.id));
    for (const [id, row] of rows) {
      if (!wanted.has(id)) {
        row.remove();
        rows.delete(id);
      }
    }
    analyses.forEach((analysis, index) => {
      let row = rows.get(analysis.id);
      if (!row) {
        row = createRow(analysis);
        rows.set(analysis.id, row);
      }
      updateRow(row, analysis);
      if (list.children[index] !== row) list.insertBefore(row, list.children[index] || null);
    });
    $("#analyses-empty").hidden = analyses.length > 0;
  }

  function upsert(analysis) {
    if (!state.analyses) return;
    const index = state.analyses.findIndex((item) => item.id === analysis.id);
    if (index >= 0) state.analyses[index] = { ...state.analyses[index], ...analysis };
    else state.analyses.push(analysis);
    renderList();
  }

  async function load() {
    try {
      const result = await api("GET", `/api/samples/${encodeURIComponent(sampleId)}/analyses?per_page=100`);
      state.analyses = result.documents;
    } catch (error) {
      if (![403, 404].includes(error.status)) toast(`Could not load the analyses: ${error.message}`, { error: true });
      return;
    }
    renderList();
  }

  function showFailed(message, jobId) {
    const node = $("#analyses-failed");
    fill(
      node,
      message,
      jobId ? [" ", h("a", { href: `/jobs/${encodeURIComponent(jobId)}`, text: "See the job" }), "."] : null,
    );
    node.hidden = !message;
  }

  async function removeAnalysis(id, button) {
    const analysis = state.analyses?.find((item) => item.id === id);
    if (!analysis) return;
    const what = `${workflowLabel(analysis.workflow)} analysis against ${referenceText(analysis)}`;
    if (!window.confirm(`Delete the ${what}? Its results are removed.`)) return;
    button.disabled = true;
    state.deleting.add(id);
    try {
      await api("DELETE", `/api/analyses/${encodeURIComponent(id)}`);
    } catch (error) {
      state.deleting.delete(id);
      button.disabled = false;
      toast(error.status === 409 ? `${error.message}: wait for it to finish.` : error.message, { error: true });
      return;
    }
    state.analyses = state.analyses.filter((item) => item.id !== id);
    renderList();
    toast("Analysis deleted");
  }

  // --- Start form ---------------------------------------------------------------------------------------------

  function openForm(open) {
    form.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) {
      delete parts.container.dataset.touched;
      loadOptions();
      parts.select.focus();
    }
  }

  async function loadOptions() {
    try {
      state.options = await loadStartOptions();
    } catch (error) {
      $(".form-error", form).textContent = `Could not load the references: ${error.message}`;
      return;
    }
    renderStartOptions({ ...parts, options: state.options, checked: state.sample?.subtractions || [] });
    $("#analysis-start").disabled = state.options.indexes.length === 0;
  }

  toggle.addEventListener("click", () => openForm(form.hidden));
  $("#analysis-cancel").addEventListener("click", () => {
    openForm(false);
    toggle.focus();
  });

  onSubmit(form, async () => {
    const analysis = await api("POST", `/api/samples/${encodeURIComponent(sampleId)}/analyses`, startBody(parts));
    openForm(false);
    showFailed("");
    upsert(analysis);
    toast("Analysis started");
    toggle.focus();
  });

  // --- Live -------------------------------------------------------------------------------------------------------

  live.on("analyses", ({ operation, data }) => {
    if (!state.analyses) return;
    if (operation === "delete") {
      const gone = new Set((Array.isArray(data) ? data : [data]).map((item) => item?.id ?? item));
      for (const analysis of state.analyses.filter((item) => gone.has(item.id))) {
        // Deleted by nobody on this page while running: the workflow failed or was cancelled, and was cleaned up.
        if (!state.deleting.has(analysis.id) && !analysis.ready) {
          const job = jobOf(analysis);
          const what = job?.state === "cancelled" ? "was cancelled" : "stopped";
          const name = `${workflowLabel(analysis.workflow)} analysis against ${referenceText(analysis)}`;
          showFailed(`The ${name} ${what} and was removed.`, analysis.job?.id);
        }
      }
      state.analyses = state.analyses.filter((item) => !gone.has(item.id));
      renderList();
      return;
    }
    if (data?.sample?.id !== sampleId) return;
    upsert(data);
  });

  live.on("jobs", ({ data }) => {
    if (!data?.id || !state.analyses) return;
    const analysis = state.analyses.find((item) => item.job?.id === data.id);
    if (!analysis) return;
    state.jobs.set(data.id, { state: data.state, progress: data.progress, step_name: data.step_name });
    const row = rows.get(analysis.id);
    if (row) updateRow(row, analysis);
  });

  const reloadOptions = debounce(() => {
    if (!form.hidden) loadOptions();
  }, 300);
  live.on("indexes", reloadOptions);
  live.on("references", reloadOptions);
  live.on("subtraction", reloadOptions);
  // The HMM status document: installing or purging profiles changes whether NuVs may start.
  live.on("status", ({ data }) => {
    if (data?.id === "hmm") reloadOptions();
  });
  live.onReconnect(load);
  setInterval(() => refreshTimes(list), 30_000);

  let started = false;
  return {
    render(sample, writable) {
      state.sample = sample;
      state.writable = writable;
      section.hidden = false;
      toggle.hidden = !writable || !sample.ready;
      $("#analysis-not-ready").hidden = sample.ready;
      if (!sample.ready && !form.hidden) openForm(false);
      if (!started) {
        started = true;
        load();
      } else {
        renderList();
      }
    },
  };
}
