// Analyses: what the sample page, the samples list and the analysis page share (the start form's options and
// controls, how an analysis and its workflow are named, numbers as people read them).
import { $, $$, api, fill, h, humanize } from "../virtool/virtool.js";

// --- Workflows ----------------------------------------------------------------------------------------------------

// What each workflow does, for the start forms (the server lists which workflows exist: `#analysis-workflows`).
const DESCRIPTIONS = {
  pathoscope_bowtie:
    "Detects known viruses: maps the reads to the reference's newest ready index and reports the viruses found, " +
    "after removing reads the subtractions explain better.",
  nuvs:
    "Discovers novel viruses: assembles the reads that match neither the reference nor the subtractions into " +
    "contigs and searches their open reading frames against the installed HMM profiles.",
};

// Names as people read them, for pages that carry no `#analysis-workflows` (the server's display names win).
const LABELS = { pathoscope_bowtie: "PathoScope", pathoscope: "PathoScope", nuvs: "NuVs" };

/** `[{name, label}]`: the workflows an analysis can be started with, from the page (see analyses_tags). */
export function analysisWorkflows() {
  const node = document.getElementById("analysis-workflows");
  if (node) {
    try {
      const list = JSON.parse(node.textContent);
      if (Array.isArray(list) && list.length) return list;
    } catch {
      // fall through to the default
    }
  }
  return [{ name: "pathoscope_bowtie", label: LABELS.pathoscope_bowtie }];
}

/** "PathoScope", "NuVs": a workflow's name as people read it. */
export function workflowLabel(name) {
  const known = analysisWorkflows().find((item) => item.name === name);
  return known?.label || LABELS[name] || humanize(name || "analysis");
}

/** Why NuVs cannot start right now (null when it can), from the HMM status document (`GET /api/hmms/status`). */
export function nuvsBlocked(hmms) {
  if (!hmms || hmms.installed?.ready) return null;
  return hmms.updating
    ? "NuVs needs HMM profiles: they are being installed, and NuVs can start once they are."
    : "NuVs needs HMM profiles and none are installed.";
}

/** "97.3%", "0.42%", "0.0031%": a proportion as a percentage with enough digits to tell small ones apart. */
export function percent(value) {
  const number = Number(value) || 0;
  if (number === 0) return "0%";
  const pct = number * 100;
  if (pct >= 10) return `${pct.toFixed(1)}%`;
  if (pct >= 0.1) return `${pct.toFixed(2)}%`;
  return `${Number(pct.toPrecision(2))}%`;
}

/**
 * A weight (PathoScope's pi, 0 to 1) as people read it: a percentage from 0.1 % up ("98.1%", "0.42%"), and below
 * that the fraction in scientific notation ("3.2e-7"), as the calls' reasons and the weight floor are written, rather
 * than a row of zeros.
 */
export function weightText(value) {
  const number = Number(value) || 0;
  if (number === 0) return "0";
  if (number >= 0.001) return percent(number);
  const [mantissa, exponent] = number.toExponential(2).split("e");
  return `${Number(mantissa)}e${Number(exponent)}`;
}

/** "25.1%", "0.05%": a part of a whole as a percentage (an empty string when the whole is unknown). */
export function shareText(part, whole) {
  return whole ? percent((Number(part) || 0) / whole) : "";
}

export const NUMBER = new Intl.NumberFormat("en-US");

/** "Demo plant viruses · index 3". */
export function referenceText(analysis) {
  const name = analysis.reference?.name || "Deleted reference";
  const version = analysis.index?.version;
  return version === null || version === undefined ? name : `${name} · index ${version}`;
}

/** The URL of an analysis result page. */
export function analysisUrl(analysis) {
  const sample = analysis.sample?.id;
  return sample
    ? `/samples/${encodeURIComponent(sample)}/analyses/${encodeURIComponent(analysis.id)}`
    : `/analyses/${encodeURIComponent(analysis.id)}`;
}

/**
 * What an analysis can be started with: the newest ready index of each reference, the ready subtractions and
 * the HMM status (NuVs needs profiles). `{indexes: [{id, version, reference: {id, name}}], subtractions:
 * [{id, name}], hmms: {installed, updating, ...} | null}`; `hmms` is null when it could not be read (the server
 * then decides, and says why if it refuses).
 */
export async function loadStartOptions() {
  const [indexes, subtractions, hmms] = await Promise.all([
    api("GET", "/api/indexes?ready=true"),
    api("GET", "/api/subtractions?short=true"),
    api("GET", "/api/hmms/status").catch(() => null),
  ]);
  const byName = (a, b) => a.localeCompare(b, undefined, { sensitivity: "base" });
  return {
    indexes: [...indexes].sort((a, b) => byName(a.reference.name, b.reference.name)),
    subtractions: subtractions.filter((item) => item.ready).sort((a, b) => byName(a.name, b.name)),
    hmms,
  };
}

/**
 * Offer each workflow of a start form's `workflows` fieldset: NuVs is disabled, with the reason and a link to the
 * HMMs page, while no HMM profiles are installed (a chosen NuVs falls back to the first workflow).
 */
export function renderWorkflows(workflows, hmms) {
  const blocked = nuvsBlocked(hmms);
  for (const input of $$("input[name=workflow]", workflows)) {
    const disabled = input.value === "nuvs" && Boolean(blocked);
    input.disabled = disabled;
    const reason = $(`[data-reason="${input.value}"]`, workflows);
    if (reason) {
      fill(
        reason,
        disabled ? [blocked, " ", h("a", { href: "/hmms", text: "Install them on the HMMs page" }), "."] : [],
      );
      reason.hidden = !disabled;
    }
    input.closest(".workflow-choice")?.classList.toggle("disabled", disabled);
    if (disabled && input.checked) {
      input.checked = false;
      const first = $$("input[name=workflow]", workflows).find((item) => !item.disabled);
      if (first) first.checked = true;
    }
  }
}

/**
 * Fill a start form's workflows, reference `<select>` and subtraction checkboxes from `options` (see
 * `loadStartOptions`).
 * The chosen reference is kept; the subtraction boxes are checked from `checked` (ids) unless the user already
 * changed them (`container.dataset.touched`).
 */
export function renderStartOptions({ workflows, select, container, empty, options, checked = [] }) {
  if (workflows) renderWorkflows(workflows, options.hmms);
  const current = select.value;
  fill(
    select,
    options.indexes.length
      ? options.indexes.map((index) =>
          h("option", { value: index.reference.id, text: `${index.reference.name} (index ${index.version})` }),
        )
      : h("option", { value: "", text: "No reference has a ready index" }),
  );
  if (options.indexes.some((index) => index.reference.id === current)) select.value = current;
  select.disabled = options.indexes.length === 0;
  const keep = container.dataset.touched ? new Set($$("input:checked", container).map((input) => input.value)) : null;
  const wanted = keep || new Set(checked.map(String));
  fill(
    container,
    options.subtractions.map((subtraction) =>
      h(
        "label",
        { class: "check" },
        h("input", {
          type: "checkbox",
          name: "subtractions",
          value: subtraction.id,
          checked: wanted.has(subtraction.id),
        }),
        h("span", { text: subtraction.name }),
      ),
    ),
  );
  if (!container.dataset.wired) {
    container.dataset.wired = "true";
    container.addEventListener("change", () => (container.dataset.touched = "true"));
  }
  if (empty) empty.hidden = options.subtractions.length > 0;
}

/** The body of a start request from a start form's controls (see `startParts`). */
export function startBody({ workflows, select, container }) {
  return {
    workflow: $("input[name=workflow]:checked", workflows)?.value || analysisWorkflows()[0].name,
    ref_id: select.value,
    subtractions: $$("input:checked", container).map((input) => input.value),
  };
}

/** A one-line summary of an analysis's subtractions. */
export function subtractionsText(analysis) {
  const names = (analysis.subtractions || []).map((item) => item.name);
  return names.length ? names.join(", ") : "None";
}

/** The start form's workflow choice: one radio a workflow, with what it does and why it may not start. */
function workflowFields(prefix) {
  const workflows = analysisWorkflows();
  return h(
    "fieldset",
    { class: "analysis-workflows", id: `${prefix}-workflows`, "data-field": "workflow" },
    h("legend", { text: "Workflow" }),
    workflows.map((workflow, index) => {
      const id = `${prefix}-workflow-${workflow.name}`;
      const describedBy = `${id}-description ${id}-reason`;
      return h(
        "div",
        { class: "workflow-choice", dataset: { workflow: workflow.name } },
        h("input", {
          type: "radio",
          name: "workflow",
          id,
          value: workflow.name,
          checked: index === 0,
          "aria-describedby": describedBy,
        }),
        h(
          "div",
          {},
          h("label", { for: id, class: "workflow-label", text: workflow.label }),
          DESCRIPTIONS[workflow.name]
            ? h("p", { class: "muted small", id: `${id}-description`, text: DESCRIPTIONS[workflow.name] })
            : null,
          h("p", { class: "workflow-reason small", id: `${id}-reason`, dataset: { reason: workflow.name }, hidden: true }),
        ),
      );
    }),
  );
}

/** The start form's markup (shared by the sample page and the samples list). */
export function startFields(prefix) {
  return [
    workflowFields(prefix),
    h(
      "div",
      { class: "field" },
      h("label", { for: `${prefix}-ref`, text: "Reference" }),
      h("select", { id: `${prefix}-ref`, name: "ref_id" }),
    ),
    h(
      "fieldset",
      { "data-field": "subtractions", class: "analysis-subtractions" },
      h("legend", { text: "Subtractions" }),
      h("div", { id: `${prefix}-subtractions`, class: "checks" }),
      h(
        "p",
        { id: `${prefix}-subtractions-empty`, class: "muted small", hidden: true },
        "No ready subtractions. ",
        h("a", { href: "/subtractions", text: "Create one" }),
        " to remove host reads.",
      ),
    ),
  ];
}

/** The parts of a start form built with `startFields`. */
export function startParts(prefix, root = document) {
  return {
    workflows: $(`#${prefix}-workflows`, root),
    select: $(`#${prefix}-ref`, root),
    container: $(`#${prefix}-subtractions`, root),
    empty: $(`#${prefix}-subtractions-empty`, root),
  };
}
