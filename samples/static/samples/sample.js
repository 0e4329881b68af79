// One sample: metadata and labels (editable with write access), rights (owner and administrators), default
// subtractions, deletion, read files and the quality report drawn as inline SVG charts (per-cycle quality box plot,
// base composition, per-read mean quality). Sections of other concerns come as page parts (core/pages.py).
import {
  $,
  $$,
  api,
  attachToField,
  debounce,
  FieldErrors,
  fill,
  getAccount,
  h,
  labelChip,
  live,
  onDelete,
  onSubmit,
  pageParts,
  showNotice,
  svg as s,
  timeAgo,
  toast,
} from "../virtool/virtool.js";
import { chartSvg, compact, pathData, plotArea, yAxisLine, yAxisTitle, yScale, yTickLabel } from "../virtool/charts.js";
import { progressBar, setProgress, stepText } from "../jobs/jobs-common.js";

const root = $("#sample-root");
const sampleId = root.dataset.sampleId;
const state = {
  sample: null,
  account: null,
  job: null,
  labels: null, // every label, for the checkboxes
  groups: null, // every group, for the rights form
  subtractions: null, // every subtraction (short form), for the default subtractions
  metaDirty: false,
  rightsDirty: false,
  defaultsDirty: false,
  gone: false,
  deleting: false,
};

const NUMBER = new Intl.NumberFormat("en-US");
// Sections other apps contribute (core/pages.py): each gets `render(sample, writable)` on every render.
const parts = pageParts({ sampleId });
const LIBRARY_LABELS = { normal: "Normal", srna: "sRNA", amplicon: "Amplicon", other: "Other" };

function showProblem(message) {
  showNotice($("#sample-error"), message);
}

// --- Quality charts (SVG; what they share with other charts is in charts.js) ----------------------------------

const W = 640;
const H = 300;
const M = { top: 34, right: 16, bottom: 42, left: 56 };
const AREA = plotArea(W, H, M);
const { width: PW, height: PH } = AREA;

/** Round numbers for an axis from 0 to `max`. */
function ticks(max, count = 5) {
  if (max <= 0) return [0];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((value) => value >= raw) || raw;
  const out = [];
  for (let value = 0; value <= max + step * 1e-9; value += step) out.push(Number(value.toFixed(6)));
  return out;
}

/**
 * A chart frame: title, axes with ticks and labels, and an optional legend.
 * `x(value)` and `y(value)` map data to pixels inside the plot; `xTicks`/`yTicks` are data values.
 */
function frame({ title, xLabel, yLabel, x, y, xTicks, yTicks, yFormat = String, xFormat = String, legend = [], name }) {
  const svg = chartSvg({
    width: W,
    height: H,
    className: "quality-chart",
    chart: name,
    titleId: `${name}-title`,
    title,
  });
  svg.append(s("text", { x: M.left, y: 18, class: "chart-title" }, title));
  const grid = s("g", { class: "chart-grid" });
  const axes = s("g", { class: "chart-axis" });
  for (const value of yTicks) {
    const py = y(value);
    grid.append(s("line", { x1: M.left, x2: M.left + PW, y1: py, y2: py }));
    axes.append(yTickLabel(AREA, py, yFormat(value)));
  }
  for (const value of xTicks) {
    const px = x(value);
    axes.append(s("line", { x1: px, x2: px, y1: M.top + PH, y2: M.top + PH + 4 }));
    axes.append(s("text", { x: px, y: M.top + PH + 16, "text-anchor": "middle" }, xFormat(value)));
  }
  axes.append(yAxisLine(AREA));
  axes.append(s("line", { x1: M.left, x2: M.left + PW, y1: M.top + PH, y2: M.top + PH }));
  axes.append(s("text", { x: M.left + PW / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, xLabel));
  axes.append(yAxisTitle(AREA, yLabel));
  const plot = s("g", { class: "chart-plot" });
  svg.append(grid, plot, axes);
  if (legend.length) {
    const group = s("g", { class: "chart-legend" });
    let lx = W - M.right;
    for (const item of [...legend].reverse()) {
      const width = 22 + item.label.length * 7;
      lx -= width;
      group.append(
        item.line
          ? s("line", { x1: lx, x2: lx + 14, y1: 14, y2: 14, stroke: item.color, "stroke-width": 2.5 })
          : s("rect", { x: lx, y: 8, width: 12, height: 12, fill: item.color, class: "legend-swatch" }),
        s("text", { x: lx + 18, y: 18 }, item.label),
      );
      lx -= 8;
    }
    svg.append(group);
  }
  return { svg, plot };
}

/**
 * FastQC's display groups of cycles (`BaseGroup.makeLinearBaseGroups`): every cycle up to 75; beyond, cycles 1–9
 * alone, then groups of 2, 5, 10, 20, 50, ... cycles, the smallest that keeps fewer than 75 groups. For display
 * only: the stored report keeps every cycle.
 */
export function cycleGroups(length) {
  if (length <= 75) return Array.from({ length }, (_, index) => [index + 1, index + 1]);
  let interval = 0;
  for (let multiplier = 1; !interval; multiplier *= 10) {
    for (const base of [2, 5, 10]) {
      const size = base * multiplier;
      const count = 9 + Math.floor((length - 9) / size) + ((length - 9) % size ? 1 : 0);
      if (count < 75) {
        interval = size;
        break;
      }
    }
  }
  const groups = [];
  let start = 1;
  while (start <= length) {
    let end = start + interval - 1;
    if (start < 10) end = start;
    if (start === 10 && interval > 10) end = interval - 1;
    groups.push([start, Math.min(end, length)]);
    if (start < 10) start += 1;
    else if (start === 10 && interval > 10) start = interval;
    else start += interval;
  }
  return groups;
}

/** Rows of per-cycle values averaged over FastQC's display groups, with each group's label ("10-14"). */
function grouped(rows) {
  return cycleGroups(rows.length).map(([start, end]) => {
    const members = rows.slice(start - 1, end);
    const values = members[0].map((_, column) => members.reduce((sum, row) => sum + row[column], 0) / members.length);
    return { label: start === end ? String(start) : `${start}-${end}`, values: values.map((v) => Number(v.toFixed(3))) };
  });
}

/** Tick positions (group indexes, 1-based) and their labels for about eight ticks across the groups. */
function groupTicks(groups) {
  const every = Math.max(1, Math.ceil(groups.length / 8));
  const out = [];
  for (let index = 0; index < groups.length; index += every) out.push(index + 1);
  return out;
}

/** Per-cycle quality: FastQC's box plot with green/orange/red bands, median ticks and the mean as a line. */
function qualityChart(rows) {
  const groups = grouped(rows);
  const bases = groups.map((group) => group.values);
  const n = bases.length;
  const top = Math.max(40, Math.ceil(Math.max(...bases.map((row) => row[5] ?? 0)) / 5) * 5);
  const step = PW / n;
  const x = (cycle) => M.left + (cycle - 0.5) * step;
  const y = yScale(AREA, top);
  const { svg, plot } = frame({
    name: "quality",
    title: "Quality per cycle",
    xLabel: rows.length > 75 ? "Cycle (position in read; grouped as FastQC shows long reads)" : "Cycle (position in read)",
    yLabel: "Phred quality",
    x,
    y,
    xTicks: groupTicks(groups),
    xFormat: (index) => groups[index - 1].label,
    yTicks: ticks(top, 4),
    legend: [
      { label: "Mean", color: "#1d4ed8", line: true },
      { label: "Median", color: "#b42318", line: true },
      { label: "25–75%", color: "#f2d675" },
    ],
  });
  const bands = s("g", { class: "quality-bands" });
  for (const [from, to, cls] of [
    [28, top, "band-good"],
    [20, 28, "band-fair"],
    [0, 20, "band-poor"],
  ]) {
    bands.append(s("rect", { x: M.left, width: PW, y: y(to), height: y(from) - y(to), class: cls }));
  }
  plot.append(bands);
  const boxWidth = Math.max(2, step * 0.7);
  bases.forEach(([, median, q25, q75, p10, p90], index) => {
    const cx = x(index + 1);
    const cycle = s("g", { class: "cycle" });
    cycle.append(s("line", { x1: cx, x2: cx, y1: y(p90), y2: y(p10), class: "whisker" }));
    for (const value of [p10, p90]) {
      cycle.append(s("line", { x1: cx - boxWidth / 4, x2: cx + boxWidth / 4, y1: y(value), y2: y(value), class: "whisker" }));
    }
    cycle.append(
      s(
        "rect",
        {
          x: cx - boxWidth / 2,
          width: boxWidth,
          y: y(q75),
          height: Math.max(1, y(q25) - y(q75)),
          class: "box",
        },
        s(
          "title",
          {},
          `${groups[index].label.includes("-") ? "Cycles" : "Cycle"} ${groups[index].label}: median ${median}, ` +
            `25–75% ${q25}–${q75}, 10–90% ${p10}–${p90}`,
        ),
      ),
    );
    cycle.append(s("line", { x1: cx - boxWidth / 2, x2: cx + boxWidth / 2, y1: y(median), y2: y(median), class: "median" }));
    plot.append(cycle);
  });
  const mean = pathData(bases.map((row, index) => [x(index + 1), y(row[0])]));
  plot.append(s("path", { d: mean, class: "mean-line" }));
  return svg;
}

const BASES = [
  ["G", "#111827"],
  ["A", "#15803d"],
  ["T", "#b42318"],
  ["C", "#1d4ed8"],
];

/** Per-cycle base composition: one line per base, 0–100% (long reads' cycles grouped as FastQC shows them). */
function compositionChart(rows) {
  const groups = grouped(rows);
  const composition = groups.map((group) => group.values);
  const n = composition.length;
  const x = (cycle) => M.left + ((cycle - 1) / Math.max(1, n - 1)) * PW;
  const y = yScale(AREA, 100);
  const { svg, plot } = frame({
    name: "composition",
    title: "Base composition per cycle",
    xLabel: rows.length > 75 ? "Cycle (position in read; grouped as FastQC shows long reads)" : "Cycle (position in read)",
    yLabel: "Bases (%)",
    x,
    y,
    xTicks: groupTicks(groups),
    xFormat: (index) => groups[index - 1].label,
    yTicks: [0, 25, 50, 75, 100],
    yFormat: (value) => `${value}%`,
    legend: BASES.map(([label, color]) => ({ label, color, line: true })),
  });
  BASES.forEach(([base, color], column) => {
    const d = pathData(composition.map((row, index) => [x(index + 1), y(row[column])]));
    plot.append(s("path", { d, stroke: color, class: "composition-line", "data-base": base }));
  });
  return svg;
}

/** How many reads have each mean quality (0–49). */
function distributionChart(sequences) {
  const n = sequences.length;
  const max = Math.max(1, ...sequences);
  const step = PW / n;
  const x = (value) => M.left + (value + 0.5) * step;
  const yTicks = ticks(max, 4);
  const top = yTicks[yTicks.length - 1] || max;
  const y = yScale(AREA, top, { clamp: false }); // the top tick may lie below the highest bar
  const { svg, plot } = frame({
    name: "distribution",
    title: "Reads by mean quality",
    xLabel: "Mean Phred quality of the read",
    yLabel: "Reads",
    x,
    y,
    xTicks: [0, 10, 20, 30, 40].filter((value) => value < n),
    yTicks,
    yFormat: compact,
  });
  sequences.forEach((count, quality) => {
    if (!count) return;
    const cls = quality >= 28 ? "bar good" : quality >= 20 ? "bar fair" : "bar poor";
    plot.append(
      s(
        "rect",
        { x: x(quality) - step * 0.4, width: step * 0.8, y: y(count), height: M.top + PH - y(count), class: cls },
        s("title", {}, `Quality ${quality}: ${NUMBER.format(count)} reads`),
      ),
    );
  });
  return svg;
}

/** FastQC's per-sequence GC content: reads by GC % (observed), with the theoretical normal curve beside it. */
function gcChart(observed, theoretical) {
  const max = Math.max(1, ...observed, ...(theoretical || []));
  const yTicks = ticks(max, 4);
  const top = yTicks[yTicks.length - 1] || max;
  const x = (percent) => M.left + (percent / 100) * PW;
  const y = yScale(AREA, top, { clamp: false });
  const legend = [{ label: "Observed", color: "#b42318", line: true }];
  if (theoretical) legend.push({ label: "Theoretical", color: "#1d4ed8", line: true });
  const { svg, plot } = frame({
    name: "gc",
    title: "GC content per read",
    xLabel: "Mean GC content of the read (%)",
    yLabel: "Reads",
    x,
    y,
    xTicks: [0, 20, 40, 60, 80, 100],
    yTicks,
    yFormat: compact,
    legend,
  });
  const line = (values, cls) => s("path", { d: pathData(values.map((v, i) => [x(i), y(v)])), class: cls });
  if (theoretical) plot.append(line(theoretical, "gc-theoretical"));
  plot.append(line(observed, "gc-observed"));
  const mode = observed.indexOf(Math.max(...observed));
  plot.append(s("title", {}, `Most reads at ${mode}% GC`));
  return svg;
}

function renderQuality(sample) {
  const quality = sample.quality;
  const charts = $("#quality-charts");
  $("#quality-empty").hidden = Boolean(quality);
  if (!quality) {
    fill(charts);
    return;
  }
  const figures = [];
  if (quality.bases?.length) figures.push(qualityChart(quality.bases));
  if (quality.composition?.length) figures.push(compositionChart(quality.composition));
  if (quality.sequences?.length) figures.push(distributionChart(quality.sequences));
  if (quality.gc_distribution?.length) figures.push(gcChart(quality.gc_distribution, quality.gc_theoretical));
  fill(
    charts,
    figures.map((svg) => h("figure", { class: "quality-figure" }, svg)),
  );
}

// --- Page -----------------------------------------------------------------------------------------------------

function lengthText(range) {
  if (!range) return "—";
  return range[0] === range[1] ? `${range[0]} bp` : `${range[0]}–${range[1]} bp`;
}

function fact(term, value) {
  return [h("dt", { text: term }), h("dd", {}, value)];
}

/** Write access as the API grants it: administrators, the owner, `all_write`, or `group_write` for members. */
function mayWrite(sample, account) {
  if (!account) return false;
  if (account.administrator_role) return true;
  if (sample.user?.id === account.id || sample.all_write) return true;
  return Boolean(sample.group_write && account.groups?.some((group) => group.id === sample.group?.id));
}

/** Only the owner and administrators may change who can read and write a sample. */
function mayChangeRights(sample, account) {
  return Boolean(account) && (Boolean(account.administrator_role) || sample.user?.id === account.id);
}

function renderStatus(sample) {
  const node = $("#sample-status");
  if (sample.is_legacy) {
    // An older Virtool's reads: the samples list offers its update (update_sample) and follows it.
    fill(
      node,
      h("span", {
        class: "badge legacy",
        dataset: { part: "legacy" },
        text: "Legacy",
        title: "Made by an older Virtool release: update it from the samples list before analysing it.",
      }),
    );
    return;
  }
  if (sample.ready) {
    fill(node, h("span", { class: "badge ok", text: "Ready" }));
    return;
  }
  const job = { progress: 0, state: "waiting", ...(sample.job || {}), ...(state.job || {}) };
  if (!$("[role=progressbar]", node)) {
    fill(node, progressBar(`Creation of ${sample.name}`), h("span", { class: "job-step small muted" }));
  }
  setProgress($("[role=progressbar]", node), job, stepText(job));
  $(".job-step", node).textContent = `${stepText(job)} · ${Math.round(job.progress || 0)}%`;
}

// --- Metadata and labels ----------------------------------------------------------------------------------------

const META_FIELDS = ["name", "host", "isolate", "locale", "notes"];
const metaForm = $("#meta-form");

/**
 * The labels part of the form: checkboxes for every label when the account may write the sample, else the
 * sample's chips. `selected` is the set of checked label ids.
 */
function renderLabels(selected) {
  const container = $("#meta-labels");
  const sample = state.sample;
  const writable = mayWrite(sample, state.account);
  container.classList.toggle("checks", writable);
  container.classList.toggle("label-list", !writable);
  if (!writable) {
    $("#meta-labels-empty").hidden = true;
    fill(
      container,
      sample.labels.length
        ? sample.labels.map((label) => labelChip(label))
        : h("span", { class: "muted", text: "None" }),
    );
    return;
  }
  // Until the label list arrives (or when it misses one), the sample's own labels are offered.
  const known = new Map((state.labels || []).map((label) => [label.id, label]));
  for (const label of sample.labels) if (!known.has(label.id)) known.set(label.id, label);
  const labels = [...known.values()].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base" }));
  const focused = container.contains(document.activeElement) ? document.activeElement.value : null;
  fill(
    container,
    labels.map((label) =>
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", name: "labels", value: String(label.id), checked: selected.has(label.id) }),
        labelChip(label),
      ),
    ),
  );
  if (focused !== null) $$("input", container).find((input) => input.value === focused)?.focus();
  $("#meta-labels-empty").hidden = labels.length > 0;
}

function checkedLabels() {
  return new Set($$("#meta-labels input:checked").map((input) => Number(input.value)));
}

function renderMeta(sample) {
  const writable = mayWrite(sample, state.account);
  if (!state.metaDirty) {
    for (const key of META_FIELDS) $(`#meta-${key}`).value = sample[key] || "";
    renderLabels(new Set(sample.labels.map((label) => label.id)));
  } else {
    renderLabels(checkedLabels());
  }
  for (const key of META_FIELDS) $(`#meta-${key}`).readOnly = !writable;
  $("#meta-actions").hidden = !writable;
  $("#sample-delete").hidden = !writable || state.gone;
}

// Someone else's change must not wipe what is being typed: once edited, the form keeps its values until saved.
for (const type of ["input", "change"]) metaForm.addEventListener(type, () => (state.metaDirty = true));

onSubmit(metaForm, async (form) => {
  const body = {};
  for (const key of META_FIELDS) body[key] = form.elements[key].value.trim();
  if (!body.name) throw new FieldErrors({ name: "A name is required." });
  body.labels = [...checkedLabels()];
  let sample;
  try {
    sample = await api("PATCH", `/api/samples/${encodeURIComponent(sampleId)}`, body);
  } catch (error) {
    throw attachToField(error, "name", (message) => /name/i.test(message));
  }
  state.metaDirty = false;
  render(sample);
  toast("Saved");
});

async function loadLabels() {
  try {
    state.labels = await api("GET", "/api/labels");
  } catch {
    return; // the sample's own labels stay on offer
  }
  if (state.sample) renderLabels(state.metaDirty ? checkedLabels() : new Set(state.sample.labels.map((l) => l.id)));
}

// --- Rights -------------------------------------------------------------------------------------------------------

const rightsForm = $("#rights-form");
const access = (read, write) => (write ? "write" : read ? "read" : "none");
const ACCESS_TEXT = { none: "no access", read: "read", write: "read and edit" };

function renderGroupOptions(sample) {
  const select = $("#rights-group");
  const groups = [...(state.groups || [])];
  if (sample.group && !groups.some((group) => group.id === sample.group.id)) groups.push(sample.group);
  const signature = JSON.stringify(groups.map((group) => [group.id, group.name]));
  if (select.dataset.signature === signature) return;
  const current = select.value;
  fill(
    select,
    h("option", { value: "", text: "None" }),
    groups.map((group) => h("option", { value: String(group.id), text: group.name })),
  );
  select.dataset.signature = signature;
  select.value = current;
}

function syncGroupAccess() {
  // Without a group there is nobody to grant group rights to.
  $("#rights-group-access").disabled = !$("#rights-group").value;
}

function renderRights(sample) {
  const editable = mayChangeRights(sample, state.account);
  rightsForm.hidden = !editable;
  $("#rights-summary").hidden = editable;
  fill(
    $("#rights-summary"),
    h("li", { text: `Owner: ${sample.user?.handle || "—"}` }),
    h("li", {
      text: sample.group
        ? `Group ${sample.group.name}: ${ACCESS_TEXT[access(sample.group_read, sample.group_write)]}`
        : "Group: none",
    }),
    h("li", { text: `Everyone: ${ACCESS_TEXT[access(sample.all_read, sample.all_write)]}` }),
  );
  if (!editable) return;
  $("#rights-owner").textContent =
    `Owned by ${sample.user?.handle || "nobody"}. The owner and administrators can always read, edit and delete it.`;
  renderGroupOptions(sample);
  if (!state.rightsDirty) {
    $("#rights-group").value = sample.group ? String(sample.group.id) : "";
    $("#rights-group-access").value = access(sample.group_read, sample.group_write);
    $("#rights-all-access").value = access(sample.all_read, sample.all_write);
  }
  syncGroupAccess();
}

async function loadGroups() {
  try {
    state.groups = await api("GET", "/api/groups");
  } catch {
    state.groups = null;
    return;
  }
  if (state.sample) renderRights(state.sample);
}

rightsForm.addEventListener("change", (event) => {
  state.rightsDirty = true;
  if (event.target.id === "rights-group") syncGroupAccess();
});

onSubmit(rightsForm, async (form) => {
  const group = form.elements.group.value;
  const groupAccess = form.elements.group_access.value;
  const allAccess = form.elements.all_access.value;
  const sample = await api("PATCH", `/api/samples/${encodeURIComponent(sampleId)}/rights`, {
    group: group ? Number(group) : null,
    group_read: groupAccess !== "none",
    group_write: groupAccess === "write",
    all_read: allAccess !== "none",
    all_write: allAccess === "write",
  });
  state.rightsDirty = false;
  render(sample);
  toast("Rights saved");
});

// --- Default subtractions ---------------------------------------------------------------------------------------

const defaultsForm = $("#subtractions-form");
const defaultsBox = $("#default-subtractions");

function renderDefaults() {
  const sample = state.sample;
  if (!sample || !state.subtractions) return;
  const writable = mayWrite(sample, state.account);
  const chosen = state.defaultsDirty
    ? new Set($$("input:checked", defaultsBox).map((input) => input.value))
    : new Set(sample.subtractions || []);
  const known = [...state.subtractions];
  for (const id of chosen) if (!known.some((item) => item.id === id)) known.push({ id, name: id, ready: true });
  const focused = defaultsBox.contains(document.activeElement) ? document.activeElement.value : null;
  fill(
    defaultsBox,
    known.map((subtraction) =>
      h(
        "label",
        { class: "check" },
        h("input", {
          type: "checkbox",
          name: "subtractions",
          value: subtraction.id,
          checked: chosen.has(subtraction.id),
          disabled: !writable,
        }),
        h(
          "span",
          {},
          h("a", { href: `/subtractions/${encodeURIComponent(subtraction.id)}`, text: subtraction.name }),
          subtraction.ready ? null : h("span", { class: "hint", text: "Being created" }),
        ),
      ),
    ),
  );
  if (focused) $$("input", defaultsBox).find((input) => input.value === focused)?.focus();
  $("#default-subtractions-empty").hidden = known.length > 0;
  $("#subtractions-actions").hidden = !writable || known.length === 0;
}

async function loadSubtractions() {
  try {
    state.subtractions = await api("GET", "/api/subtractions?short=true");
  } catch {
    return;
  }
  renderDefaults();
}

defaultsForm.addEventListener("change", () => (state.defaultsDirty = true));
onSubmit(defaultsForm, async () => {
  const subtractions = $$("input:checked", defaultsBox).map((input) => input.value);
  const sample = await api("PATCH", `/api/samples/${encodeURIComponent(sampleId)}`, { subtractions });
  state.defaultsDirty = false;
  render(sample);
  toast("Default subtractions saved");
});

// --- Deleting -----------------------------------------------------------------------------------------------------

onDelete($("#sample-delete"), {
  current: () => state.sample,
  question: (sample) => `Delete the sample "${sample.name}"? Its read files and analyses are removed too. This cannot be undone.`,
  path: `/api/samples/${encodeURIComponent(sampleId)}`,
  notice: $("#delete-error"),
  refusal(error, sample) {
    if (error.status !== 409) return error.message;
    const job = sample.job?.id;
    return [
      `${error.message.replace(/\.?$/, ".")} It can be deleted once its creation job has finished or been cancelled. `,
      job ? h("a", { href: `/jobs/${encodeURIComponent(job)}`, text: "View the job" }) : null,
    ];
  },
  onDeleted: () => (state.deleting = true),
  listUrl: "/samples",
});

// --- Rendering and loading ------------------------------------------------------------------------------------------

function render(sample) {
  state.sample = sample;
  document.title = `${sample.name} · Virtool`;
  $("#sample-title").textContent = sample.name;
  $("#sample-body").hidden = false;
  renderStatus(sample);
  renderMeta(sample);
  fill(
    $("#sample-facts"),
    fact("Library type", LIBRARY_LABELS[sample.library_type] || sample.library_type),
    fact("Created", [timeAgo(sample.created_at), sample.user ? ` by ${sample.user.handle}` : ""]),
    fact("Paired", sample.paired ? "Yes" : "No"),
  );
  const quality = sample.quality;
  fill(
    $("#quality-facts"),
    quality
      ? [
          ...fact("Read count", h("span", { "data-fact": "count", text: NUMBER.format(quality.count) })),
          ...fact("Encoding", quality.encoding || "—"),
          ...fact("GC content", `${Number(quality.gc).toFixed(1)}%`),
          ...fact("Length", lengthText(quality.length)),
        ]
      : fact("Quality", "Not computed yet"),
  );
  const legacyFiles = (sample.files || []).map((file) =>
    h(
      "li",
      { class: "reads-file", dataset: { legacyFile: file.name } },
      h("span", { text: file.name }),
      h("span", { class: "muted small", text: ` ${file.size == null ? "" : `${NUMBER.format(file.size)} bytes, `}in an older release's form` }),
    ),
  );
  fill(
    $("#reads-files"),
    ...legacyFiles,
    (sample.reads || []).map((file) =>
      h(
        "li",
        { class: "reads-file" },
        h("a", { href: file.download_url, download: "", text: file.name }),
        h("span", { class: "muted small", text: ` ${NUMBER.format(file.size)} bytes` }),
      ),
    ),
  );
  renderRights(sample);
  renderDefaults();
  renderQuality(sample);
  parts.call("render", sample, mayWrite(sample, state.account));
}

/** The sample is gone (deleted, or no longer readable): say so and offer nothing that would act on it. */
function showGone(message) {
  state.gone = true;
  showProblem(message);
  $("#sample-body").hidden = true;
  $("#sample-delete").hidden = true;
}

async function load() {
  let sample;
  try {
    sample = await api("GET", `/api/samples/${encodeURIComponent(sampleId)}`);
  } catch (error) {
    if (error.status === 404 && state.sample) showGone("This sample was deleted.");
    else if (error.status === 403 && state.sample) showGone("You may no longer read this sample.");
    else if ([403, 404].includes(error.status)) showGone("This sample does not exist or you may not read it.");
    else showProblem(error.message);
    return;
  }
  state.gone = false;
  showProblem("");
  const first = !state.sample;
  render(sample);
  if (first) loadSubtractions();
  if (first && mayChangeRights(sample, state.account)) loadGroups();
}

live.on("samples", ({ operation, data }) => {
  if (operation === "delete") {
    // A rights change tells a whole Channels group the sample went away, even members who can still read it
    // (its owner, say): ask the API, which says 403/404 when it is really gone.
    if (!state.deleting && (Array.isArray(data) ? data : [data]).includes(sampleId)) load();
    return;
  }
  if (data?.id === sampleId) load();
});

live.on("jobs", ({ data }) => {
  if (!state.sample || state.sample.ready || data?.id !== state.sample.job?.id) return;
  state.job = { progress: data.progress, state: data.state, step_name: data.step_name };
  renderStatus(state.sample);
});

live.on("labels", debounce(loadLabels, 200));
live.on("subtraction", debounce(loadSubtractions, 300));
live.on("groups", () => {
  if (state.groups) loadGroups();
});

live.onReconnect(() => {
  load();
  loadLabels();
  loadSubtractions();
});

async function start() {
  try {
    state.account = await getAccount();
  } catch {
    state.account = null;
  }
  await Promise.all([load(), loadLabels()]);
}

start();
