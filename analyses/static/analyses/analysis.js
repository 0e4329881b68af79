// One analysis: the header (sample, reference and index, subtractions, read counts), live progress while it runs,
// then the result of its workflow. PathoScope's here: the detected OTUs sorted by weight, expandable to isolates
// and sequences, with coverage charts drawn as inline SVG (the sequences of an isolate side by side, so
// multi-segment viruses read as one genome), each OTU's call (detected, not detected, indeterminate) with its reasons
// and the internal control's state, filters for weak hits and the CSV/XLSX exports. NuVs's in nuvs.js.
import { $, api, debounce, fill, h, live, showNotice, svg as s, timeAgo, toast } from "../virtool/virtool.js";
import { chartSvg, compact, pathData, plotArea, yAxisLine, yAxisTitle, yScale, yTickLabel } from "../virtool/charts.js";
import { NUMBER, percent, referenceText, shareText, weightText, workflowLabel } from "./analyses-common.js";
import { createNuvs } from "./nuvs.js";
import { isActive, progressBar, setProgress, stepText } from "../jobs/jobs-common.js";

const root = $("#analysis-root");
const analysisId = root.dataset.analysisId;
const state = { analysis: null, job: null, expanded: new Set(), touched: false, gone: false };
const nuvs = createNuvs();
const isNuvs = (analysis) => analysis?.workflow === "nuvs";

// What each figure means, in one sentence (analyses.constants.PATHOSCOPE_HELP): column titles and the legend.
const HELP = JSON.parse(document.getElementById("pathoscope-help")?.textContent || "{}");

// Weak hits: what the filters hide (Virtool's client hides the same by default).
const MIN_WEIGHT = 0.001;
const MIN_COVERAGE = 0.2;

function showProblem(message, ...extra) {
  showNotice($("#analysis-error"), message, ...extra);
}

// --- Coverage charts ---------------------------------------------------------------------------------------------

const W = 900;
const H = 190;
const M = { top: 26, right: 12, bottom: 30, left: 52 };
const GAP = 18;
const AREA = plotArea(W, H, M);

/**
 * The coverage of an isolate's sequences side by side, each as wide as its length, on one depth axis.
 * `align` is `[[position, depth], ...]` change points: stepping from one to the next redraws the depth profile.
 */
function coverageChart(isolate, otuName) {
  const sequences = isolate.sequences;
  const total = sequences.reduce((sum, sequence) => sum + Math.max(1, sequence.length), 0);
  const available = AREA.width - GAP * Math.max(0, sequences.length - 1);
  const top = Math.max(1, ...sequences.flatMap((sequence) => (sequence.align || []).map((point) => point[1])));
  const plotHeight = AREA.height;
  const y = yScale(AREA, top);
  const title = `Coverage of ${otuName}, ${isolate.name}: depth along ${sequences.length === 1 ? "the sequence" : "each segment"}`;
  const id = `chart-${isolate.id || "x"}-${Math.random().toString(36).slice(2, 8)}`;
  const svg = chartSvg({
    width: W,
    height: H,
    className: "coverage-chart",
    chart: "coverage",
    titleId: id,
    title,
    attrs: { "data-isolate": isolate.id || "" },
  });
  const axis = s("g", { class: "chart-axis" });
  for (const value of [0, top]) {
    axis.append(yTickLabel(AREA, y(value), compact(value)));
    axis.append(s("line", { x1: M.left - 3, x2: M.left, y1: y(value), y2: y(value) }));
  }
  axis.append(yAxisLine(AREA));
  axis.append(yAxisTitle(AREA, "Depth"));
  svg.append(axis);
  let left = M.left;
  for (const sequence of sequences) {
    const length = Math.max(1, sequence.length);
    const width = (available * length) / total;
    const x = (position) => left + (Math.min(position, length) / length) * width;
    const group = s("g", { class: "coverage-segment", "data-accession": sequence.accession });
    group.append(s("rect", { x: left, y: M.top, width, height: plotHeight, class: "coverage-bg" }));
    const points = sequence.align || [];
    if (points.length) {
      // Up from the baseline, along the depth profile to the end of the last step, and back down.
      const last = points[points.length - 1][0] + 1;
      const d = pathData([
        [x(points[0][0]), y(0)],
        ...points.map(([position, depth]) => [x(position), y(depth)]),
        [x(last), y(points[points.length - 1][1])],
        [x(last), y(0)],
      ]);
      group.append(
        s(
          "path",
          { d: `${d}Z`, class: "coverage-area" },
          s(
            "title",
            {},
            `${sequence.accession}: median depth ${sequence.median_depth}, ${percent(sequence.coverage)} covered`,
          ),
        ),
      );
    }
    const label = sequence.segment ? `${sequence.segment} · ${sequence.accession}` : sequence.accession;
    group.append(s("text", { x: left + 2, y: M.top - 8, class: "segment-label" }, label));
    group.append(s("line", { x1: left, x2: left + width, y1: y(0), y2: y(0), class: "baseline" }));
    group.append(s("text", { x: left, y: H - 10, class: "tick" }, "1"));
    group.append(s("text", { x: left + width, y: H - 10, "text-anchor": "end", class: "tick" }, `${NUMBER.format(length)} bp`));
    svg.append(group);
    left += width + GAP;
  }
  return svg;
}

// --- Results table -------------------------------------------------------------------------------------------------

function coverageCell(value) {
  const bar = h("span", { class: "coverage-meter", "aria-hidden": "true" }, h("span", { style: `width:${Math.round(Math.min(1, value) * 100)}%` }));
  return [bar, h("span", { class: "coverage-value", text: percent(value) })];
}

function sequenceRow(sequence) {
  return h(
    "tr",
    { dataset: { accession: sequence.accession } },
    h(
      "td",
      {},
      h("span", { class: "accession", text: sequence.accession }),
      sequence.segment ? h("span", { class: "badge", text: sequence.segment }) : null,
      h("div", { class: "muted small", text: sequence.definition }),
    ),
    h("td", { class: "num", text: `${NUMBER.format(sequence.length)} bp` }),
    h("td", { class: "num", text: weightText(sequence.pi) }),
    h("td", { class: "num", text: percent(sequence.best) }),
    h("td", { class: "num", text: NUMBER.format(sequence.reads) }),
    h("td", { class: "num", text: NUMBER.format(sequence.median_depth) }),
    h("td", { class: "coverage-col" }, coverageCell(sequence.coverage)),
  );
}

/**
 * The sequences of an isolate in genome order: by the OTU's segment schema when it has one, then by segment name,
 * then by accession (RefSeq numbers segments in order, e.g. NC_005266 is RpRSV RNA1 and NC_005267 RNA2).
 */
function genomeOrder(otu, sequences) {
  const schema = (otu.schema || []).map((segment) => (typeof segment === "string" ? segment : segment?.name));
  const rank = (sequence) => {
    const index = sequence.segment ? schema.indexOf(sequence.segment) : -1;
    return index < 0 ? schema.length : index;
  };
  const natural = (a, b) => String(a || "").localeCompare(String(b || ""), undefined, { numeric: true });
  return [...sequences].sort(
    (a, b) => rank(a) - rank(b) || natural(a.segment, b.segment) || natural(a.accession, b.accession),
  );
}

function isolateBlock(source, otu, index) {
  const isolate = { ...source, sequences: genomeOrder(otu, source.sequences) };
  const table = h(
    "table",
    { class: "sequence-table" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        [
          ["Sequence"],
          ["Length"],
          ["Weight", HELP.weight],
          ["Best hit", HELP.best],
          ["Reads", HELP.reads],
          ["Median depth", HELP.depth],
          ["Coverage", HELP.coverage],
        ].map(([text, title], column) =>
          h("th", { scope: "col", class: column === 0 ? "" : column === 6 ? "coverage-col" : "num", title, text }),
        ),
      ),
    ),
    h("tbody", {}, isolate.sequences.map(sequenceRow)),
  );
  const summary = [
    h("span", { class: "isolate-name", text: isolate.name }),
    isolate.default ? h("span", { class: "badge", text: "Default" }) : null,
    index === 0 ? h("span", { class: "badge ok", text: "Best isolate" }) : null,
    h(
      "span",
      { class: "muted small" },
      ` Weight ${weightText(isolate.pi)} · best hit ${percent(isolate.best)} · median depth ${NUMBER.format(isolate.depth)}` +
        ` · coverage ${percent(isolate.coverage)} · ${NUMBER.format(Math.round(isolate.reads))} reads`,
    ),
  ];
  const details = h(
    "details",
    { class: "isolate-block", open: index === 0, dataset: { isolate: isolate.id || "" } },
    h("summary", {}, summary),
    h("figure", { class: "coverage-figure" }, coverageChart(isolate, otu.name)),
    h("div", { class: "table-wrap" }, table),
  );
  if (index === 0) details.open = true;
  return details;
}

// --- Calls ---------------------------------------------------------------------------------------------------------

const CALL_LABELS = { detected: "Detected", "not detected": "Not detected", indeterminate: "Indeterminate" };

/** The call of an OTU as a badge; its reasons are the badge's title. */
function callBadge(call) {
  const result = call?.result || "indeterminate";
  return h("span", {
    class: `badge call call-${result.replace(" ", "-")}`,
    dataset: { call: result },
    title: (call?.reasons || []).join("; "),
    text: CALL_LABELS[result] || result,
  });
}

/** The call's cell: the badge, and what was missed for a call other than detected. */
function callCell(call) {
  const missed = call && call.result !== "detected" ? call.reasons || [] : [];
  return [callBadge(call), missed.length ? h("span", { class: "call-reasons small", text: missed.join("; ") }) : null];
}

function callDetail(call) {
  return h(
    "div",
    { class: "call-detail" },
    h("span", { class: "call-detail-label", text: "Call: " }),
    callBadge(call),
    h(
      "ul",
      { class: "call-reason-list small" },
      (call?.reasons || []).map((reason) => h("li", { text: reason })),
    ),
  );
}

/** "5,012 reads (25.1% of the sample's 20,000 reads)". */
function readsText(reads, results) {
  const count = `${NUMBER.format(Math.round(reads))} read${Math.round(reads) === 1 ? "" : "s"}`;
  const whole = results?.sample_read_count;
  return whole ? `${count} (${shareText(reads, whole)} of the sample's ${NUMBER.format(whole)} reads)` : count;
}

function rulesText(rules) {
  if (!rules) return "";
  return (
    `at least ${NUMBER.format(rules.min_reads)} reads, weight at least ${rules.min_weight}, ` +
    `median depth at least ${NUMBER.format(rules.min_median_depth)} and at least ${percent(rules.min_coverage)} ` +
    "of each required segment covered"
  );
}

function renderCalls(analysis) {
  const results = analysis.results;
  const refId = analysis.reference?.id;
  fill(
    $("#results-rules"),
    `Calls by ${refId ? "the rules of the reference" : "the default rules (the reference is gone)"}: ${rulesText(results.call_rules)}. `,
    refId ? h("a", { href: `/refs/${encodeURIComponent(refId)}#settings`, text: "See or change the rules" }) : null,
  );
  const notice = $("#results-control");
  const control = results.internal_control;
  notice.hidden = !control;
  if (!control) return;
  const name = control.name || control.id;
  notice.className = `notice ${control.detected ? "" : "warning"}`.trim();
  notice.dataset.detected = String(control.detected);
  if (control.detected) fill(notice, `Internal control ${name}: detected.`);
  else
    fill(
      notice,
      h("strong", { text: `Internal control ${name}: not detected` }),
      ` (${(control.call?.reasons || []).join("; ")}). Every negative call is indeterminate: the sample may have failed.`,
    );
}

function otuDetail(otu, analysis) {
  const refId = analysis.reference?.id;
  return h(
    "div",
    { class: "otu-detail-body" },
    callDetail(otu.call),
    h(
      "p",
      { class: "muted small" },
      `${readsText(otu.reads, analysis.results)} · version ${otu.version ?? "—"} · maximum depth ${NUMBER.format(otu.max_depth)}`,
      refId && otu.id
        ? [" · ", h("a", { href: `/refs/${encodeURIComponent(refId)}/otus/${encodeURIComponent(otu.id)}`, text: "OTU page" })]
        : null,
    ),
    evidenceLinks(otu, analysis),
    otu.isolates.map((isolate, index) => isolateBlock(isolate, otu, index)),
  );
}

/** The downloads of what backs an OTU's hit: the reads the EM assigned to it and its best isolate's consensus
 * (analyses made before these were kept have none). */
function evidenceLinks(otu, analysis) {
  const evidence = analysis.results?.evidence;
  const kept = otu.id ? evidence?.otus?.[otu.id] : null;
  if (!kept) return null;
  const base = `/api/analyses/${encodeURIComponent(analysis.id)}/otus/${encodeURIComponent(otu.id)}`;
  return h(
    "p",
    { class: "small otu-evidence", dataset: { part: "evidence" } },
    "Evidence: ",
    h("a", {
      href: `${base}/reads.fq.gz`,
      download: "",
      dataset: { download: "reads" },
      title: "The reads whose best hit after the EM is one of this OTU's sequences, as sequenced (gzip FASTQ)",
      text: `assigned reads (${NUMBER.format(kept.reads)}, FASTQ)`,
    }),
    " · ",
    h("a", {
      href: `${base}/consensus.fa`,
      download: "",
      dataset: { download: "consensus" },
      title: `Consensus of each segment of the best isolate from those reads; positions covered by fewer than ${evidence.min_depth} reads are N`,
      text: "consensus of the best isolate (FASTA)",
    }),
  );
}

function otuGroup(otu, index, analysis) {
  const key = otu.id || `#${index}`;
  const detailId = `otu-detail-${index}`;
  const expanded = state.expanded.has(key);
  const detailCell = h("td", { colspan: "7" });
  const detail = h("tr", { class: "otu-detail", id: detailId, hidden: !expanded }, detailCell);
  if (expanded) fill(detailCell, otuDetail(otu, analysis));
  const toggle = h(
    "button",
    {
      type: "button",
      class: "otu-toggle link-button",
      "aria-expanded": String(expanded),
      "aria-controls": detailId,
      onClick: () => {
        const open = detail.hidden;
        detail.hidden = !open;
        toggle.setAttribute("aria-expanded", String(open));
        if (open) {
          state.expanded.add(key);
          if (!detailCell.firstChild) fill(detailCell, otuDetail(otu, analysis));
        } else {
          state.expanded.delete(key);
        }
      },
    },
    h("span", { class: "otu-caret", "aria-hidden": "true" }),
    h("span", { class: "otu-name", text: otu.name }),
  );
  return h(
    "tbody",
    { class: "otu-group", dataset: { otu: otu.id || "", name: otu.name } },
    h(
      "tr",
      { class: "otu-row" },
      h("th", { scope: "row" }, toggle, otu.abbreviation ? h("span", { class: "badge", text: otu.abbreviation }) : null),
      h("td", { class: "call-col", dataset: { part: "call" } }, callCell(otu.call)),
      h("td", { class: "num", dataset: { part: "weight" }, text: weightText(otu.pi) }),
      h("td", { class: "num", dataset: { part: "best" }, text: percent(otu.best) }),
      h(
        "td",
        { class: "num", dataset: { part: "reads" } },
        NUMBER.format(Math.round(otu.reads)),
        analysis.results?.sample_read_count
          ? h("div", { class: "muted small", text: shareText(otu.reads, analysis.results.sample_read_count) })
          : null,
      ),
      h("td", { class: "num", dataset: { part: "depth" }, text: NUMBER.format(otu.depth) }),
      h("td", { class: "coverage-col", dataset: { part: "coverage" } }, coverageCell(otu.coverage)),
    ),
    detail,
  );
}

function isWeak(otu) {
  return ($("#filter-weight").checked && otu.pi < MIN_WEIGHT) || ($("#filter-coverage").checked && otu.coverage < MIN_COVERAGE);
}

function renderResults() {
  const analysis = state.analysis;
  const results = analysis?.results;
  const section = $("#results-section");
  section.hidden = !analysis?.ready || !results || isNuvs(analysis);
  if (section.hidden) return;
  renderCalls(analysis);
  const table = $("#otu-table");
  for (const body of [...table.tBodies]) body.remove();
  const hits = results.hits || [];
  const shown = hits.filter((otu) => !isWeak(otu));
  // The first OTU is open when nothing has been opened yet: the top hit and its chart are the answer people want.
  if (!state.touched && shown.length) state.expanded.add(shown[0].id || "#0");
  shown.forEach((otu) => table.append(otuGroup(otu, hits.indexOf(otu), analysis)));
  table.hidden = shown.length === 0;
  const empty = $("#results-empty");
  empty.hidden = shown.length > 0;
  empty.textContent = hits.length
    ? "Every detected OTU is a weak hit. Switch the filters off to see them."
    : "No known virus was detected in this sample.";
  const hidden = hits.length - shown.length;
  const noun = (count) => `OTU${count === 1 ? "" : "s"}`;
  $("#results-count").textContent = hits.length
    ? `${shown.length} of ${hits.length} detected ${noun(hits.length)} shown` +
      (hidden ? `; ${hidden} weak ${hidden === 1 ? "hit" : "hits"} hidden by the filters.` : ".")
    : "";
}

for (const id of ["#filter-weight", "#filter-coverage"]) {
  $(id).addEventListener("change", () => {
    state.touched = true;
    renderResults();
  });
}
$("#otu-table").addEventListener("click", (event) => {
  if (event.target.closest(".otu-toggle")) state.touched = true;
});

// --- Header and progress --------------------------------------------------------------------------------------------

function fact(term, ...value) {
  return [h("dt", { text: term }), h("dd", {}, ...value)];
}

function renderProgress() {
  const analysis = state.analysis;
  const box = $("#analysis-progress");
  box.hidden = analysis.ready;
  if (analysis.ready) return;
  const job = { state: "waiting", progress: 0, ...(analysis.job || {}), ...(state.job || {}) };
  let bar = $("[role=progressbar]", box);
  if (!bar) {
    bar = progressBar("Progress of the analysis");
    box.prepend(bar);
  }
  setProgress(bar, job, stepText(job));
  const link = analysis.job?.id ? h("a", { href: `/jobs/${encodeURIComponent(analysis.job.id)}`, text: "job" }) : "job";
  fill($("#analysis-step"), `${stepText(job)} · ${Math.round(job.progress || 0)}% · see the `, link);
}

function render(analysis) {
  state.analysis = analysis;
  const sample = analysis.sample || {};
  document.title = `Analysis of ${sample.name || "a sample"} · Virtool`;
  $("#analysis-body").hidden = false;
  $("#analysis-title").textContent = `${workflowLabel(analysis.workflow)} · ${sample.name || "sample"}`;
  const back = $("#analysis-back");
  back.href = `/samples/${encodeURIComponent(sample.id)}`;
  back.textContent = `← ${sample.name}`;
  $("#analysis-subtitle").textContent = `Analysis ${analysis.id} against ${referenceText(analysis)}`;
  const results = analysis.results;
  const refLink = analysis.reference?.id
    ? h("a", { href: `/refs/${encodeURIComponent(analysis.reference.id)}`, text: analysis.reference.name })
    : h("span", { class: "muted", text: "Deleted reference" });
  fill(
    $("#analysis-facts"),
    fact("Sample", h("a", { href: `/samples/${encodeURIComponent(sample.id)}`, text: sample.name })),
    fact("Reference", refLink, ` · index ${analysis.index?.version ?? "—"}`),
    fact(
      "Subtractions",
      analysis.subtractions?.length
        ? analysis.subtractions.flatMap((item, index) => [
            index ? ", " : "",
            h("a", { href: `/subtractions/${encodeURIComponent(item.id)}`, text: item.name }),
          ])
        : h("span", { class: "muted", text: "None" }),
    ),
    ...(isNuvs(analysis) ? nuvsFacts(analysis) : pathoscopeFacts(results)).flat(),
    fact("Started", timeAgo(analysis.created_at), analysis.user ? ` by ${analysis.user.handle}` : ""),
    fact("Status", analysis.ready ? h("span", { class: "badge ok", text: "Ready" }) : h("span", { class: "badge", text: "Running" })),
  );
  const exports = $("#analysis-exports");
  exports.hidden = !analysis.ready || isNuvs(analysis);
  $("#export-csv").href = `/api/analyses/documents/${encodeURIComponent(analysis.id)}.csv`;
  $("#export-xlsx").href = `/api/analyses/documents/${encodeURIComponent(analysis.id)}.xlsx`;
  renderProgress();
  if (isNuvs(analysis)) nuvs.render(analysis);
  else renderResults();
}

function pathoscopeFacts(results) {
  return [
    fact("Mapped reads", h("span", { dataset: { fact: "read_count" }, text: results ? NUMBER.format(results.read_count) : "—" })),
    fact(
      "Subtracted reads",
      h("span", { dataset: { fact: "subtracted_count" }, text: results ? NUMBER.format(results.subtracted_count) : "—" }),
    ),
  ];
}

function nuvsFacts(analysis) {
  const counts = nuvs.facts(analysis);
  const value = (name, number) => h("span", { dataset: { fact: name }, text: counts ? NUMBER.format(number) : "—" });
  return [
    fact("Contigs", value("contigs", counts?.contigs)),
    fact("ORFs", value("orfs", counts?.orfs), counts ? ` · ${NUMBER.format(counts.annotatedOrfs)} with HMM hits` : ""),
    fact("Annotated contigs", value("annotated_contigs", counts?.annotatedContigs)),
  ];
}

async function load() {
  let analysis;
  try {
    analysis = await api("GET", `/api/analyses/${encodeURIComponent(analysisId)}`);
  } catch (error) {
    if ([403, 404].includes(error.status)) gone(state.analysis ? "This analysis was removed." : "This analysis does not exist or you may not read it.");
    else showProblem(`Could not load the analysis: ${error.message}`);
    return;
  }
  showProblem("");
  const becameReady = state.analysis && !state.analysis.ready && analysis.ready;
  render(analysis);
  if (becameReady) toast("The results are ready");
}

function gone(message) {
  state.gone = true;
  const job = state.analysis?.job?.id;
  const failed = state.analysis && !state.analysis.ready;
  showProblem(
    failed ? "The analysis stopped before it finished and was removed. " : message,
    failed && job ? h("a", { href: `/jobs/${encodeURIComponent(job)}`, text: "See what happened in its job." }) : "",
  );
  $("#analysis-body").hidden = true;
}

live.on("analyses", ({ operation, data }) => {
  if (state.gone) return;
  if (operation === "delete") {
    const ids = (Array.isArray(data) ? data : [data]).map((item) => item?.id ?? item);
    if (ids.includes(analysisId)) load();
    return;
  }
  if (data?.id !== analysisId) return;
  // A NuVs result changes after it is ready (a contig's BLAST): its update says so, the formatted result says how.
  if (!state.analysis || data.ready !== state.analysis.ready || (isNuvs(state.analysis) && data.ready)) reload();
  else render({ ...state.analysis, ...data, results: state.analysis.results });
});

live.on("jobs", ({ data }) => {
  const analysis = state.analysis;
  if (!analysis || analysis.ready || !data?.id || data.id !== analysis.job?.id) return;
  state.job = { state: data.state, progress: data.progress, step_name: data.step_name };
  renderProgress();
  // The results are written before the job reports completion; reading them again covers a missed message.
  if (!isActive(data.state)) load();
});

// Several messages in a row (a BLAST checked, then ready) need one read.
const reload = debounce(load, 150);

live.onReconnect(load);

load();
