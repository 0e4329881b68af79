// A NuVs result, as a virologist reads it: the contigs assembled from the reads that neither the reference nor the
// subtractions explain, best HMM e-value first, with their length, ORFs and best hit; filters for contigs with HMM
// hits and an e-value threshold (kept in the address); a contig opens to a to-scale map of its ORFs on both strands
// (with the same ORFs as a table for screen readers), the HMM hits of each ORF, its BLAST at NCBI followed live, and
// FASTA downloads. The analysis page (analysis.js) hands over the analysis whenever it reads it.
import { $, api, fill, h, nextId, refreshTimes, replaceQuery, sizeText, svg as s, timeAgo, toast } from "../virtool/virtool.js";
import { NUMBER } from "./analyses-common.js";

// E-value thresholds people pick from (HMMER reports hits up to 10).
export const THRESHOLDS = ["1", "0.01", "1e-5", "1e-10", "1e-20", "1e-50"];
const NCBI_NUCCORE = "https://www.ncbi.nlm.nih.gov/nuccore/";
const NCBI_BLAST = "https://blast.ncbi.nlm.nih.gov/Blast.cgi?CMD=Web&PAGE_TYPE=BlastFormatting&OLD_BLAST=false&GET_RID_INFO=on&RID=";

// --- Reading the results -------------------------------------------------------------------------------------------

/** "1.2e-30", "0.0042", "3.1": an e-value as people compare them. */
export function evalueText(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "—";
  const number = Number(value);
  if (number === 0) return "0";
  if (number < 0.001) return number.toExponential(1);
  return String(Number(number.toPrecision(2)));
}

/** The names of a `{name: count}` map (most first) or a list, without duplicates. */
function namesOf(value) {
  if (!value) return [];
  if (Array.isArray(value)) return [...new Set(value.filter(Boolean).map(String))];
  return Object.entries(value)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name]) => name);
}

/** An HMM hit as people read it: its best family and name, or that its profile is no longer installed. */
export function hitLabel(hit) {
  const family = namesOf(hit.families)[0] || "";
  const name = namesOf(hit.names)[0] || "";
  if (!family && !name) {
    return hit.cluster !== undefined && hit.cluster !== null ? `vFam_${hit.cluster}` : "HMM no longer installed";
  }
  return [family, name].filter(Boolean).join(" · ");
}

/** The best (lowest full e-value) HMM hit of an ORF, or null. */
export function bestOrfHit(orf) {
  let best = null;
  for (const hit of orf.hits || []) if (!best || hit.full_e < best.full_e) best = hit;
  return best;
}

/** The best HMM hit of a contig over its ORFs, `{hit, orf}`, or null when no ORF has one. */
export function bestContigHit(contig) {
  let best = null;
  for (const orf of contig.orfs || []) {
    const hit = bestOrfHit(orf);
    if (hit && (!best || hit.full_e < best.hit.full_e)) best = { hit, orf };
  }
  return best;
}

/** A contig's mean depth beside its length (analyses made before depths were measured have none). */
export function contigDepth(contig) {
  if (typeof contig.depth !== "number") return null;
  return h("span", {
    class: "contig-depth muted",
    dataset: { part: "depth" },
    title: "Mean depth: the reads given to the assembler, mapped back to the contig, per position on average",
    text: ` · ${contig.depth.toLocaleString("en", { maximumFractionDigits: 1 })}× depth`,
  });
}

/** How many of a contig's ORFs have an HMM hit (the server's `annotatedOrfCount`, else counted). */
export function annotatedCount(contig) {
  if (Number.isInteger(contig.annotatedOrfCount)) return contig.annotatedOrfCount;
  return (contig.orfs || []).filter((orf) => (orf.hits || []).length).length;
}

/** The contigs best e-value first; contigs without a hit after them, longest first; then by index. */
export function sortContigs(contigs) {
  const keyed = contigs.map((contig) => ({ contig, e: bestContigHit(contig)?.hit.full_e ?? null }));
  const order = (a, b) => {
    if (a.e !== null && b.e !== null && a.e !== b.e) return a.e - b.e;
    if ((a.e === null) !== (b.e === null)) return a.e === null ? 1 : -1;
    if (a.e === null) return b.contig.sequence.length - a.contig.sequence.length || a.contig.index - b.contig.index;
    return a.contig.index - b.contig.index;
  };
  return keyed.sort(order).map((item) => item.contig);
}

/** Whether a contig passes the filters `{annotated, evalue}` (evalue: a number, or null for any). */
export function passes(contig, filters) {
  const best = bestContigHit(contig);
  if (filters.annotated && !best) return false;
  if (filters.evalue !== null && (!best || best.hit.full_e > filters.evalue)) return false;
  return true;
}

/** Facts of the whole result: contigs, ORFs, annotated contigs and ORFs. */
export function summary(contigs) {
  const orfs = contigs.reduce((sum, contig) => sum + (contig.orfs || []).length, 0);
  const annotatedOrfs = contigs.reduce((sum, contig) => sum + annotatedCount(contig), 0);
  const annotatedContigs = contigs.filter((contig) => annotatedCount(contig) > 0).length;
  return { contigs: contigs.length, orfs, annotatedOrfs, annotatedContigs };
}

// --- Downloads ------------------------------------------------------------------------------------------------------

const enc = encodeURIComponent;

/** Where the FASTA downloads of an analysis are (analyses/api: `GET /api/analyses/{id}/...`). */
export const downloads = {
  contigs: (id) => `/api/analyses/${enc(id)}/sequences.fa`,
  contig: (id, index) => `/api/analyses/${enc(id)}/sequences/${enc(index)}.fa`,
  orfs: (id) => `/api/analyses/${enc(id)}/orfs.fa`,
  file: (id, fileId) => `/api/analyses/${enc(id)}/files/${enc(fileId)}`,
};

// --- The ORF map ----------------------------------------------------------------------------------------------------

const MAP_W = 900;
const MAP_LEFT = 78;
const MAP_RIGHT = 16;
const LANE = 30;
const ARROW = 14;
const AXIS = 34;
const CHAR = 6.3; // width of a character of the 11px labels, near enough for packing

/** A readable step for an axis over `length` nucleotides (1, 2 or 5 times a power of ten, 4 to 10 ticks). */
function tickStep(length) {
  const raw = length / 6;
  const power = 10 ** Math.floor(Math.log10(Math.max(1, raw)));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => length / step <= 10) || power * 10;
}

/** An ORF's span on its contig, clamped to it (a minus-strand ORF without a stop may start a few bases before 0). */
function span(orf, length) {
  const [start, end] = orf.pos || [0, 0];
  return [Math.max(0, Math.min(start, end)), Math.min(length, Math.max(start, end))];
}

/** What an ORF's label says: its best hit (family · name · e-value), or that it has none. */
function orfLabel(orf) {
  const best = bestOrfHit(orf);
  return best ? `${hitLabel(best)} · ${evalueText(best.full_e)}` : `ORF ${orf.index} · no HMM hit`;
}

/** Lay the ORFs of one strand out in lanes so that neither their arrows nor their labels overlap. */
function lanes(orfs, x) {
  const ends = [];
  return orfs
    .map((orf) => ({ orf, label: orfLabel(orf) }))
    .sort((a, b) => a.orf.span[0] - b.orf.span[0])
    .map((item) => {
      const width = item.label.length * CHAR;
      // A label starts where its ORF does, unless that would run it off the map's right edge.
      const labelX = Math.max(0, Math.min(x(item.orf.span[0]), MAP_W - MAP_RIGHT - width));
      const left = Math.min(x(item.orf.span[0]), labelX);
      const right = Math.max(x(item.orf.span[1]), labelX + width) + 6;
      let lane = ends.findIndex((end) => end < left);
      if (lane < 0) lane = ends.push(right) - 1;
      else ends[lane] = right;
      return { ...item, lane, labelX };
    });
}

function arrow(x1, x2, y, strand) {
  const head = Math.min(8, Math.max(2, (x2 - x1) / 3));
  const top = y;
  const bottom = y + ARROW;
  const mid = y + ARROW / 2;
  const points =
    strand > 0
      ? [[x1, top], [x2 - head, top], [x2, mid], [x2 - head, bottom], [x1, bottom]]
      : [[x1 + head, top], [x2, top], [x2, bottom], [x1 + head, bottom], [x1, mid]];
  return points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ");
}

/** The ORFs of a contig on both strands, drawn to scale as arrows labelled with their best HMM hit. */
export function orfMap(contig, titleId) {
  const length = Math.max(1, contig.sequence.length);
  const width = MAP_W - MAP_LEFT - MAP_RIGHT;
  const x = (position) => MAP_LEFT + (position / length) * width;
  const orfs = (contig.orfs || []).map((orf) => ({ ...orf, span: span(orf, length) }));
  const plus = lanes(orfs.filter((orf) => orf.strand > 0), x);
  const minus = lanes(orfs.filter((orf) => orf.strand < 0), x);
  const plusLanes = Math.max(1, ...plus.map((item) => item.lane + 1));
  const minusLanes = Math.max(1, ...minus.map((item) => item.lane + 1));
  const axisY = 8 + plusLanes * LANE + 6;
  const height = axisY + AXIS + minusLanes * LANE + 8;
  const title =
    `ORF map of contig ${contig.index} (${NUMBER.format(length)} nt): ${plus.length} ORF${plus.length === 1 ? "" : "s"} ` +
    `on the plus strand, ${minus.length} on the minus strand`;
  const node = s("svg", {
    viewBox: `0 0 ${MAP_W} ${height}`,
    class: "orf-map",
    role: "img",
    "aria-labelledby": titleId,
    "data-chart": "orfs",
    "data-length": length,
  });
  node.append(s("title", { id: titleId }, title));
  // The contig as a line with a scale in nucleotides.
  const axis = s("g", { class: "orf-axis" });
  axis.append(s("rect", { x: MAP_LEFT, y: axisY + 4, width, height: 6, class: "orf-contig" }));
  const step = tickStep(length);
  // Ticks up to the end, where the length is written instead of a tick too close to it.
  for (let tick = 0; tick <= length; tick += step) {
    if (tick > 0 && x(length) - x(tick) < 48) break;
    const px = x(tick);
    axis.append(s("line", { x1: px, x2: px, y1: axisY + 10, y2: axisY + 15 }));
    axis.append(s("text", { x: px, y: axisY + 27, "text-anchor": tick === 0 ? "start" : "middle" }, NUMBER.format(tick)));
  }
  axis.append(s("text", { x: MAP_LEFT + width, y: axisY + 27, "text-anchor": "end", class: "orf-length" }, `${NUMBER.format(length)} nt`));
  node.append(axis);
  const tracks = [
    { strand: "plus", sign: 1, items: plus, top: 8, name: "+ strand" },
    { strand: "minus", sign: -1, items: minus, top: axisY + AXIS, name: "− strand" },
  ];
  for (const track of tracks) {
    const group = s("g", { class: "orf-track", "data-strand": track.strand });
    const rows = track.sign > 0 ? plusLanes : minusLanes;
    group.append(s("text", { x: 4, y: track.top + (rows * LANE) / 2 + 4, class: "orf-track-name" }, track.name));
    for (const item of track.items) {
      // Plus-strand lanes stack upwards from the contig, minus-strand lanes downwards, as genome browsers draw them.
      const lane = track.sign > 0 ? rows - 1 - item.lane : item.lane;
      const y = track.top + lane * LANE + 13;
      const best = bestOrfHit(item.orf);
      const [start, end] = item.orf.span;
      const mark = s(
        "g",
        {
          class: `orf ${best ? "annotated" : "unannotated"}`,
          "data-orf": item.orf.index,
          "data-strand": track.strand,
          "data-start": start,
          "data-end": end,
        },
        s(
          "title",
          {},
          `ORF ${item.orf.index}, ${track.name}, frame ${item.orf.frame}, ${NUMBER.format(start + 1)}–${NUMBER.format(end)} ` +
            `(${NUMBER.format((item.orf.pro || "").length)} aa): ${item.label}`,
        ),
        s("polygon", { points: arrow(x(start), Math.max(x(end), x(start) + 2), y, track.sign) }),
        s("text", { x: item.labelX, y: y - 3, class: "orf-label" }, item.label),
      );
      group.append(mark);
    }
    node.append(group);
  }
  return node;
}

/** The ORFs of the map as a table, for screen readers (the map says the same in pictures). */
function orfMapTable(contig, captionId) {
  const length = contig.sequence.length;
  return h(
    "table",
    { class: "visually-hidden", "aria-labelledby": captionId, dataset: { part: "orf-map-table" } },
    h("thead", {}, h("tr", {}, ["ORF", "Strand", "Frame", "From", "To", "Length", "Best HMM hit"].map((text) => h("th", { scope: "col", text })))),
    h(
      "tbody",
      {},
      (contig.orfs || []).map((orf) => {
        const [start, end] = span(orf, length);
        return h(
          "tr",
          {},
          h("th", { scope: "row", text: `ORF ${orf.index}` }),
          h("td", { text: orf.strand > 0 ? "plus" : "minus" }),
          h("td", { text: String(orf.frame) }),
          h("td", { text: NUMBER.format(start + 1) }),
          h("td", { text: NUMBER.format(end) }),
          h("td", { text: `${NUMBER.format((orf.pro || "").length)} aa` }),
          h("td", { text: orfLabel(orf) }),
        );
      }),
    ),
  );
}

// --- A contig's details ---------------------------------------------------------------------------------------------

function orfHitsTable(contig) {
  const rows = [];
  for (const orf of contig.orfs || []) {
    const hits = [...(orf.hits || [])].sort((a, b) => a.full_e - b.full_e);
    const [start, end] = span(orf, contig.sequence.length);
    const where =
      `${orf.strand > 0 ? "plus" : "minus"} strand, frame ${orf.frame} · ` +
      `${NUMBER.format(start + 1)}–${NUMBER.format(end)} · ${NUMBER.format((orf.pro || "").length)} aa`;
    if (!hits.length) {
      rows.push(
        h(
          "tr",
          { class: "orf-nohit", dataset: { orf: orf.index } },
          h("th", { scope: "row" }, `ORF ${orf.index}`, h("div", { class: "muted small", text: where })),
          h("td", { colspan: "5", class: "muted", text: "No HMM hit" }),
        ),
      );
      continue;
    }
    hits.forEach((hit, index) => {
      const family = namesOf(hit.families);
      const names = namesOf(hit.names);
      const profile =
        hit.cluster !== undefined && hit.cluster !== null
          ? h("a", { href: `/hmms/${encodeURIComponent(hit.hit)}`, text: `vFam_${hit.cluster}` })
          : h("span", { class: "muted", text: "no longer installed", title: `HMM ${hit.hit}` });
      rows.push(
        h(
          "tr",
          { dataset: { orf: orf.index, hit: hit.hit } },
          index === 0
            ? h("th", { scope: "row", rowspan: String(hits.length) }, `ORF ${orf.index}`, h("div", { class: "muted small", text: where }))
            : null,
          h("td", {}, profile),
          h("td", { text: family.join(", ") || "—" }),
          h("td", { text: names.join(", ") || "—" }),
          h("td", { class: "num", text: evalueText(hit.full_e) }),
          h("td", { class: "num", text: hit.full_score === undefined ? "—" : String(hit.full_score) }),
        ),
      );
    });
  }
  return h(
    "table",
    { class: "orf-hits", dataset: { part: "orf-hits" } },
    h("caption", { class: "visually-hidden", text: `HMM hits of the ORFs of contig ${contig.index}` }),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["ORF", "HMM", "Families", "Names", "E-value", "Score"].map((text, column) =>
          h("th", { scope: "col", class: column >= 4 ? "num" : "", text }),
        ),
      ),
    ),
    h("tbody", {}, rows),
  );
}

function blastHitsTable(hits) {
  return h(
    "table",
    { class: "blast-hits", dataset: { part: "blast-hits" } },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Accession", "Name", "E-value", "Score", "Identity"].map((text, column) =>
          h("th", { scope: "col", class: column >= 2 ? "num" : "", text }),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      hits.map((hit) => {
        const identity =
          hit.align_len && hit.identity !== undefined
            ? `${NUMBER.format(hit.identity)}/${NUMBER.format(hit.align_len)} (${((100 * hit.identity) / hit.align_len).toFixed(1)}%)`
            : hit.identity ?? "—";
        return h(
          "tr",
          { dataset: { accession: hit.accession } },
          h(
            "td",
            {},
            h("a", {
              href: `${NCBI_NUCCORE}${encodeURIComponent(hit.accession)}`,
              target: "_blank",
              rel: "noopener noreferrer",
              class: "accession",
              text: hit.accession,
            }),
          ),
          h("td", {}, hit.name || hit.title || "—", hit.title && hit.name && hit.title !== hit.name ? h("div", { class: "muted small", text: hit.title }) : null),
          h("td", { class: "num", text: evalueText(hit.evalue) }),
          h("td", { class: "num", text: hit.score === undefined ? "—" : String(hit.score) }),
          h("td", { class: "num", text: String(identity) }),
        );
      }),
    ),
  );
}

// --- The page part --------------------------------------------------------------------------------------------------

/** The NuVs part of the analysis page; `render(analysis)` whenever the analysis is read. */
export function createNuvs() {
  const section = $("#nuvs-section");
  const table = $("#contig-table");
  const count = $("#nuvs-count");
  const empty = $("#nuvs-empty");
  const annotatedBox = $("#nuvs-filter-annotated");
  const evalueSelect = $("#nuvs-filter-evalue");
  const query = new URLSearchParams(window.location.search);
  const state = {
    analysis: null,
    contigs: [],
    signature: "",
    expanded: new Set((query.get("open") || "").split(",").filter((value) => /^\d+$/.test(value)).map(Number)),
    blasts: new Map(), // contig index → the BLAST document shown
    starting: new Set(),
  };
  fill(
    evalueSelect,
    h("option", { value: "", text: "any" }),
    THRESHOLDS.map((value) => h("option", { value, text: value })),
  );
  annotatedBox.checked = query.get("annotated") === "1";
  if (THRESHOLDS.includes(query.get("evalue"))) evalueSelect.value = query.get("evalue");

  function filters() {
    return { annotated: annotatedBox.checked, evalue: evalueSelect.value ? Number(evalueSelect.value) : null };
  }

  /** Keep the filters and the open contigs in the address, so a reload or a shared link shows the same. */
  function remember() {
    const params = new URLSearchParams(window.location.search);
    const set = (key, value) => (value ? params.set(key, value) : params.delete(key));
    set("annotated", annotatedBox.checked ? "1" : "");
    set("evalue", evalueSelect.value);
    set("open", [...state.expanded].sort((a, b) => a - b).join(","));
    replaceQuery(params);
  }

  // --- BLAST --------------------------------------------------------------------------------------------------

  async function startBlast(contig, button) {
    button.disabled = true;
    state.starting.add(contig.index);
    try {
      const blast = await api("PUT", `/api/analyses/${enc(state.analysis.id)}/${enc(contig.index)}/blast`);
      contig.blast = blast;
      toast(`Contig ${contig.index} sent to NCBI BLAST`);
    } catch (error) {
      toast(`Could not start the BLAST: ${error.message}`, { error: true });
    } finally {
      state.starting.delete(contig.index);
      button.disabled = false;
      state.blasts.delete(contig.index);
      renderBlast(contig);
    }
  }

  function blastButton(contig, text) {
    const button = h("button", {
      type: "button",
      class: "small",
      dataset: { part: "blast-start" },
      text,
      disabled: state.starting.has(contig.index),
      onClick: () => startBlast(contig, button),
    });
    return button;
  }

  function blastStatus(contig) {
    const blast = contig.blast;
    if (!blast) {
      return [
        h("p", { class: "muted small", text: "Search NCBI's nucleotide collection for sequences like this contig." }),
        blastButton(contig, "BLAST at NCBI"),
      ];
    }
    const rid = blast.rid
      ? h("a", { href: `${NCBI_BLAST}${encodeURIComponent(blast.rid)}`, target: "_blank", rel: "noopener noreferrer", text: blast.rid })
      : null;
    if (blast.error) {
      return [
        h("p", { class: "blast-error", dataset: { state: "error" }, role: "alert" }, `BLAST failed: ${blast.error}`),
        blastButton(contig, "Retry BLAST"),
      ];
    }
    if (!blast.ready) {
      const checked = blast.last_checked_at
        ? [", last checked ", timeAgo(blast.last_checked_at), blast.interval ? ` (checked every ${blast.interval} s)` : ""]
        : [];
      const text = blast.rid
        ? ["Waiting for NCBI: request ", rid, ...checked, ". The result shows here when it is ready."]
        : ["Submitted to NCBI; waiting for its request id…"];
      return [h("p", { class: "blast-running", dataset: { state: blast.rid ? "checking" : "submitted" } }, h("span", { class: "spinner", "aria-hidden": "true" }), ...text)];
    }
    const hits = blast.result?.hits || [];
    return [
      h(
        "p",
        { class: "muted small", dataset: { state: "ready" } },
        hits.length ? `${hits.length} match${hits.length === 1 ? "" : "es"} at NCBI` : "No match at NCBI",
        rid ? [" (request ", rid, ")"] : null,
        ". ",
        blastButton(contig, "BLAST again"),
      ),
      hits.length ? h("div", { class: "table-wrap" }, blastHitsTable(hits)) : null,
    ];
  }

  function renderBlast(contig) {
    const node = $(`[data-contig="${contig.index}"] [data-part=blast]`, table);
    if (!node) return;
    const key = JSON.stringify(contig.blast ?? null) + String(state.starting.has(contig.index));
    if (state.blasts.get(contig.index) === key) return;
    state.blasts.set(contig.index, key);
    const focused = node.contains(document.activeElement);
    fill(node, blastStatus(contig));
    node.dataset.state = !contig.blast ? "none" : contig.blast.error ? "error" : contig.blast.ready ? "ready" : "running";
    if (focused) $("button", node)?.focus();
  }

  // --- Contigs ------------------------------------------------------------------------------------------------

  function detail(contig) {
    const id = state.analysis.id;
    const titleId = nextId("orf-map");
    const captionId = nextId("orf-caption");
    return h(
      "div",
      { class: "contig-detail-body" },
      h(
        "p",
        { class: "contig-actions" },
        h("a", { class: "button small", href: downloads.contig(id, contig.index), download: "", dataset: { part: "download-contig" } }, `Contig ${contig.index} FASTA`),
      ),
      h(
        "figure",
        { class: "orf-figure" },
        orfMap(contig, titleId),
        h("figcaption", { id: captionId, class: "muted small" }, `ORFs of contig ${contig.index} on the plus and minus strands, to scale; each labelled with its best HMM hit.`),
        orfMapTable(contig, captionId),
      ),
      h("h4", { text: "HMM hits" }),
      (contig.orfs || []).length
        ? h("div", { class: "table-wrap" }, orfHitsTable(contig))
        : h("p", { class: "muted", text: "This contig has no ORF." }),
      h("h4", { text: "BLAST" }),
      h("div", { class: "blast", dataset: { part: "blast" }, "aria-live": "polite" }),
    );
  }

  function contigGroup(contig) {
    const detailId = `contig-detail-${contig.index}`;
    const expanded = state.expanded.has(contig.index);
    const cell = h("td", { colspan: "5" });
    const detailRow = h("tr", { class: "contig-detail", id: detailId, hidden: !expanded }, cell);
    const best = bestContigHit(contig);
    const annotated = annotatedCount(contig);
    const orfs = (contig.orfs || []).length;
    const open = (wanted) => {
      detailRow.hidden = !wanted;
      toggle.setAttribute("aria-expanded", String(wanted));
      if (wanted) {
        state.expanded.add(contig.index);
        if (!cell.firstChild) fill(cell, detail(contig));
        state.blasts.delete(contig.index);
        renderBlast(contig);
      } else {
        state.expanded.delete(contig.index);
      }
      remember();
    };
    const toggle = h(
      "button",
      {
        type: "button",
        class: "otu-toggle link-button",
        "aria-expanded": String(expanded),
        "aria-controls": detailId,
        onClick: () => open(detailRow.hidden),
      },
      h("span", { class: "otu-caret", "aria-hidden": "true" }),
      h("span", { class: "contig-name", text: `Contig ${contig.index}` }),
    );
    const group = h(
      "tbody",
      { class: "contig-group", dataset: { contig: contig.index, annotated: String(annotated > 0) } },
      h(
        "tr",
        { class: "contig-row" },
        h("th", { scope: "row" }, toggle),
        h("td", { class: "num", dataset: { part: "length" } }, `${NUMBER.format(contig.sequence.length)} nt`, contigDepth(contig)),
        h("td", { class: "num", dataset: { part: "orfs" }, text: `${annotated} of ${orfs}` }),
        h("td", { class: "num", dataset: { part: "evalue" }, text: best ? evalueText(best.hit.full_e) : "—" }),
        h(
          "td",
          { dataset: { part: "best" } },
          best ? hitLabel(best.hit) : h("span", { class: "muted", text: "No HMM hit" }),
        ),
      ),
      detailRow,
    );
    if (expanded) {
      fill(cell, detail(contig));
    }
    return group;
  }

  function renderList() {
    const contigs = state.contigs;
    for (const body of [...table.tBodies]) body.remove();
    state.blasts.clear();
    const shown = contigs.filter((contig) => passes(contig, filters()));
    for (const contig of shown) {
      table.append(contigGroup(contig));
      if (state.expanded.has(contig.index)) renderBlast(contig);
    }
    table.hidden = shown.length === 0;
    empty.hidden = shown.length > 0;
    empty.textContent = contigs.length
      ? "No contig passes the filters. Loosen them to see the others."
      : "NuVs assembled no contig holding an open reading frame from the reads left after removing the " +
        "reference's viruses and the subtractions: nothing new was found in this sample.";
    const hidden = contigs.length - shown.length;
    count.textContent = contigs.length
      ? `${shown.length} of ${contigs.length} contig${contigs.length === 1 ? "" : "s"} shown, best HMM e-value first` +
        (hidden ? `; ${hidden} hidden by the filters.` : ".")
      : "";
  }

  annotatedBox.addEventListener("change", () => {
    remember();
    renderList();
  });
  evalueSelect.addEventListener("change", () => {
    remember();
    renderList();
  });
  setInterval(() => refreshTimes(table), 30_000);

  function renderDownloads(analysis) {
    const id = analysis.id;
    $("#nuvs-download-contigs").href = downloads.contigs(id);
    $("#nuvs-download-orfs").href = downloads.orfs(id);
    const files = analysis.files || [];
    const list = $("#nuvs-files");
    fill(
      list,
      files.map((file) =>
        h(
          "li",
          { dataset: { file: file.id } },
          h("a", { href: downloads.file(id, file.id), download: "", text: file.name }),
          h("span", { class: "muted small", text: ` ${file.format || ""}${file.size ? ` · ${sizeText(file.size)}` : ""}` }),
          file.description ? h("div", { class: "muted small", text: file.description }) : null,
        ),
      ),
    );
    $("#nuvs-files-empty").hidden = files.length > 0;
  }

  return {
    /** Show `analysis` (ready or not): rebuilds the list when the contigs change, else only what did. */
    render(analysis) {
      state.analysis = analysis;
      const results = analysis.ready ? analysis.results : null;
      section.hidden = !results;
      $("#nuvs-downloads").hidden = !results;
      if (!results) return;
      const contigs = results.hits || [];
      const signature = JSON.stringify(contigs.map((contig) => [contig.index, contig.sequence.length, (contig.orfs || []).length]));
      const byIndex = new Map(contigs.map((contig) => [contig.index, contig]));
      renderDownloads(analysis);
      if (signature !== state.signature) {
        state.signature = signature;
        state.contigs = sortContigs(contigs);
        renderList();
        return;
      }
      // The same contigs: only their BLAST can have changed.
      for (const contig of state.contigs) {
        const fresh = byIndex.get(contig.index);
        if (!fresh) continue;
        contig.blast = fresh.blast;
        if (state.expanded.has(contig.index)) renderBlast(contig);
      }
    },
    /** The header facts of a NuVs result. */
    facts(analysis) {
      const contigs = analysis.ready ? analysis.results?.hits || [] : null;
      return contigs ? summary(contigs) : null;
    },
  };
}
