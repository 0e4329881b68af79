// Analyses: what the sample page, the samples list and the analysis page share (the start form's options and
// controls, how an analysis is named, numbers as people read them).
import { $, $$, api, fill, h } from "../virtool/virtool.js";

/** "97.3%", "0.42%", "0.0031%": a proportion as a percentage with enough digits to tell small ones apart. */
export function percent(value) {
  const number = Number(value) || 0;
  if (number === 0) return "0%";
  const pct = number * 100;
  if (pct >= 10) return `${pct.toFixed(1)}%`;
  if (pct >= 0.1) return `${pct.toFixed(2)}%`;
  return `${Number(pct.toPrecision(2))}%`;
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
 * What an analysis can be started with: the newest ready index of each reference and the ready subtractions.
 * `{indexes: [{id, version, reference: {id, name}}], subtractions: [{id, name}]}`.
 */
export async function loadStartOptions() {
  const [indexes, subtractions] = await Promise.all([
    api("GET", "/api/indexes?ready=true"),
    api("GET", "/api/subtractions?short=true"),
  ]);
  const byName = (a, b) => a.localeCompare(b, undefined, { sensitivity: "base" });
  return {
    indexes: [...indexes].sort((a, b) => byName(a.reference.name, b.reference.name)),
    subtractions: subtractions.filter((item) => item.ready).sort((a, b) => byName(a.name, b.name)),
  };
}

/**
 * Fill a start form's reference `<select>` and subtraction checkboxes from `options` (see `loadStartOptions`).
 * The chosen reference is kept; the subtraction boxes are checked from `checked` (ids) unless the user already
 * changed them (`container.dataset.touched`).
 */
export function renderStartOptions({ select, container, empty, options, checked = [] }) {
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

/** The body of a start request from a start form's controls. */
export function startBody(select, container) {
  return {
    workflow: "pathoscope_bowtie",
    ref_id: select.value,
    subtractions: $$("input:checked", container).map((input) => input.value),
  };
}

/** A one-line summary of an analysis's subtractions. */
export function subtractionsText(analysis) {
  const names = (analysis.subtractions || []).map((item) => item.name);
  return names.length ? names.join(", ") : "None";
}

/** The start form's markup (shared by the sample page and the samples list). */
export function startFields(prefix) {
  return [
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
    select: $(`#${prefix}-ref`, root),
    container: $(`#${prefix}-subtractions`, root),
    empty: $(`#${prefix}-subtractions-empty`, root),
  };
}
