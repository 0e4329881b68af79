// One sample: metadata (editable when the account may write it), labels, rights, read files and the quality
// report drawn as inline SVG charts (per-cycle quality box plot, base composition, per-read mean quality).
import { $, api, attachToField, fill, getAccount, h, live, onSubmit, toast } from "../virtool.js";
import { progressBar, setProgress, stepText, timeAgo } from "./jobs-common.js";

const root = $("#sample-root");
const sampleId = root.dataset.sampleId;
const state = { sample: null, account: null, job: null };

const NUMBER = new Intl.NumberFormat("en-US");
const LIBRARY_LABELS = { normal: "Normal", srna: "sRNA", amplicon: "Amplicon", other: "Other" };

/** A coloured label chip (as on the list page). */
function labelChip(label) {
  const color = /^#[0-9a-f]{6}$/i.test(label.color) ? label.color : "#a0aec0";
  return h(
    "span",
    { class: "label-chip", title: label.description || label.name },
    h("span", { class: "label-dot", style: `background:${color}` }),
    label.name,
  );
}

function showProblem(message) {
  const node = $("#sample-error");
  node.textContent = message || "";
  node.hidden = !message;
}

// --- SVG ------------------------------------------------------------------------------------------------------

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element (attributes only; children are nodes or text). */
function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const W = 640;
const H = 300;
const M = { top: 34, right: 16, bottom: 42, left: 56 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

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

function compact(value) {
  if (value >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return String(value);
}

/**
 * A chart frame: title, axes with ticks and labels, and an optional legend.
 * `x(value)` and `y(value)` map data to pixels inside the plot; `xTicks`/`yTicks` are data values.
 */
function frame({ title, xLabel, yLabel, x, y, xTicks, yTicks, yFormat = String, legend = [], name }) {
  const svg = s("svg", {
    viewBox: `0 0 ${W} ${H}`,
    class: "quality-chart",
    role: "img",
    "aria-labelledby": `${name}-title`,
    "data-chart": name,
  });
  svg.append(s("title", { id: `${name}-title` }, title));
  svg.append(s("text", { x: M.left, y: 18, class: "chart-title" }, title));
  const grid = s("g", { class: "chart-grid" });
  const axes = s("g", { class: "chart-axis" });
  for (const value of yTicks) {
    const py = y(value);
    grid.append(s("line", { x1: M.left, x2: M.left + PW, y1: py, y2: py }));
    axes.append(s("text", { x: M.left - 6, y: py + 4, "text-anchor": "end" }, yFormat(value)));
  }
  for (const value of xTicks) {
    const px = x(value);
    axes.append(s("line", { x1: px, x2: px, y1: M.top + PH, y2: M.top + PH + 4 }));
    axes.append(s("text", { x: px, y: M.top + PH + 16, "text-anchor": "middle" }, String(value)));
  }
  axes.append(s("line", { x1: M.left, x2: M.left, y1: M.top, y2: M.top + PH }));
  axes.append(s("line", { x1: M.left, x2: M.left + PW, y1: M.top + PH, y2: M.top + PH }));
  axes.append(s("text", { x: M.left + PW / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, xLabel));
  axes.append(
    s(
      "text",
      { x: -(M.top + PH / 2), y: 14, transform: "rotate(-90)", "text-anchor": "middle", class: "axis-label" },
      yLabel,
    ),
  );
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

/** Per-cycle quality: FastQC's box plot with green/orange/red bands, median ticks and the mean as a line. */
function qualityChart(bases) {
  const n = bases.length;
  const top = Math.max(40, Math.ceil(Math.max(...bases.map((row) => row[5] ?? 0)) / 5) * 5);
  const step = PW / n;
  const x = (cycle) => M.left + (cycle - 0.5) * step;
  const y = (value) => M.top + PH - (Math.max(0, Math.min(top, value)) / top) * PH;
  const cycleTicks = ticks(n, 8).filter((value) => value >= 1);
  const { svg, plot } = frame({
    name: "quality",
    title: "Quality per cycle",
    xLabel: "Cycle (position in read)",
    yLabel: "Phred quality",
    x,
    y,
    xTicks: [1, ...cycleTicks.filter((value) => value > 1)],
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
        s("title", {}, `Cycle ${index + 1}: median ${median}, 25–75% ${q25}–${q75}, 10–90% ${p10}–${p90}`),
      ),
    );
    cycle.append(s("line", { x1: cx - boxWidth / 2, x2: cx + boxWidth / 2, y1: y(median), y2: y(median), class: "median" }));
    plot.append(cycle);
  });
  const mean = bases.map((row, index) => `${index ? "L" : "M"}${x(index + 1).toFixed(1)},${y(row[0]).toFixed(1)}`);
  plot.append(s("path", { d: mean.join(""), class: "mean-line" }));
  return svg;
}

const BASES = [
  ["G", "#111827"],
  ["A", "#15803d"],
  ["T", "#b42318"],
  ["C", "#1d4ed8"],
];

/** Per-cycle base composition: one line per base, 0–100%. */
function compositionChart(composition) {
  const n = composition.length;
  const x = (cycle) => M.left + ((cycle - 1) / Math.max(1, n - 1)) * PW;
  const y = (value) => M.top + PH - (Math.max(0, Math.min(100, value)) / 100) * PH;
  const { svg, plot } = frame({
    name: "composition",
    title: "Base composition per cycle",
    xLabel: "Cycle (position in read)",
    yLabel: "Bases (%)",
    x,
    y,
    xTicks: [1, ...ticks(n, 8).filter((value) => value > 1)],
    yTicks: [0, 25, 50, 75, 100],
    yFormat: (value) => `${value}%`,
    legend: BASES.map(([label, color]) => ({ label, color, line: true })),
  });
  BASES.forEach(([base, color], column) => {
    const d = composition.map((row, index) => `${index ? "L" : "M"}${x(index + 1).toFixed(1)},${y(row[column]).toFixed(1)}`);
    plot.append(s("path", { d: d.join(""), stroke: color, class: "composition-line", "data-base": base }));
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
  const y = (value) => M.top + PH - (value / top) * PH;
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

function mayWrite(sample, account) {
  if (!account) return false;
  if (account.administrator_role) return true;
  if (sample.user?.id === account.id || sample.all_write) return true;
  return Boolean(sample.group_write && account.groups?.some((group) => group.id === sample.group?.id));
}

function renderStatus(sample) {
  const node = $("#sample-status");
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

function render(sample, { form = true } = {}) {
  state.sample = sample;
  document.title = `${sample.name} · Virtool`;
  $("#sample-title").textContent = sample.name;
  $("#sample-body").hidden = false;
  renderStatus(sample);
  const writable = mayWrite(sample, state.account);
  if (form) {
    for (const key of ["name", "host", "isolate", "locale", "notes"]) {
      const input = $(`#meta-${key}`);
      input.value = sample[key] || "";
      input.readOnly = !writable;
    }
  }
  $("#meta-actions").hidden = !writable;
  fill(
    $("#sample-facts"),
    fact("Library type", LIBRARY_LABELS[sample.library_type] || sample.library_type),
    fact("Labels", sample.labels.length ? h("span", { class: "label-list" }, sample.labels.map((label) => labelChip(label))) : "None"),
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
  fill(
    $("#reads-files"),
    (sample.reads || []).map((file) =>
      h(
        "li",
        { class: "reads-file" },
        h("a", { href: file.download_url, download: "", text: file.name }),
        h("span", { class: "muted small", text: ` ${NUMBER.format(file.size)} bytes` }),
      ),
    ),
  );
  const who = sample.group ? `group ${sample.group.name}` : "no group";
  const right = (read, write) => (write ? "read and write" : read ? "read" : "no access");
  fill(
    $("#rights-summary"),
    h("li", { text: `Owner: ${sample.user?.handle || "—"}` }),
    h("li", { text: `Group (${who}): ${right(sample.group_read, sample.group_write)}` }),
    h("li", { text: `Everyone: ${right(sample.all_read, sample.all_write)}` }),
  );
  renderQuality(sample);
}

async function load() {
  try {
    const editing = $("#meta-form").contains(document.activeElement);
    render(await api("GET", `/api/samples/${encodeURIComponent(sampleId)}`), { form: !editing || !state.sample });
    showProblem("");
  } catch (error) {
    showProblem(error.status === 404 ? "This sample does not exist or you may not read it." : error.message);
  }
}

onSubmit($("#meta-form"), async (form) => {
  const body = {};
  for (const key of ["name", "host", "isolate", "locale", "notes"]) body[key] = form.elements[key].value.trim();
  try {
    render(await api("PATCH", `/api/samples/${encodeURIComponent(sampleId)}`, body));
  } catch (error) {
    throw attachToField(error, "name", (message) => /name/i.test(message));
  }
  toast("Saved");
});

live.on("samples", ({ operation, data }) => {
  if (operation === "delete") {
    if ((Array.isArray(data) ? data : [data]).includes(sampleId)) showProblem("This sample was removed.");
    return;
  }
  if (data?.id === sampleId) load();
});

live.on("jobs", ({ data }) => {
  if (!state.sample || state.sample.ready || data?.id !== state.sample.job?.id) return;
  state.job = { progress: data.progress, state: data.state, step_name: data.step_name };
  renderStatus(state.sample);
});

live.onReconnect(() => load());

async function start() {
  try {
    state.account = await getAccount();
  } catch {
    state.account = null;
  }
  await load();
}

start();
