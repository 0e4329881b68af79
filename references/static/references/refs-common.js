// References: what the reference list, the reference page and the OTU page share — rights, readable diffs,
// the history list with "show diff" and revert, and an inline confirmation.
import { $, api, fill, h, humanize, live, timeAgo, toast } from "../virtool/virtool.js";

export const RIGHTS = ["build", "modify", "modify_otu", "remove"];
export const RIGHT_LABELS = { build: "Build", modify: "Modify", modify_otu: "Modify OTUs", remove: "Remove" };

/** "Genome" / "Barcode". */
export function dataTypeLabel(value) {
  return value === "barcode" ? "Barcode" : "Genome";
}

/** The rights `account` holds on `reference`: all for administrators, else the union of its user and group rows. */
export function referenceRights(account, reference) {
  if (!account || !reference) return new Set();
  if (account.administrator_role) return new Set(RIGHTS);
  const groupIds = new Set((account.groups || []).map((group) => group.id));
  const rows = [
    ...(reference.users || []).filter((member) => member.id === account.id),
    ...(reference.groups || []).filter((member) => groupIds.has(member.id)),
  ];
  return new Set(RIGHTS.filter((right) => rows.some((row) => row[right])));
}

/** Lines for the `errors` of a refused reference file: "OTU Tobacco mosaic virus › sequence s1: too short". */
export function importProblems(errors) {
  return errors.map((item) => {
    const loc = Array.isArray(item.loc) ? item.loc.filter((part) => part !== "__root__").map(String) : [];
    return loc.length ? `${loc.join(" › ")}: ${item.msg}` : String(item.msg);
  });
}

/** Ask in place (no modal): shows `message` with a confirm and a keep button after `anchor`; resolves true or false. */
export function confirmInline(anchor, message, { confirm = "Yes", keep = "Cancel" } = {}) {
  anchor.parentElement.querySelector(":scope > .inline-confirm")?.remove();
  return new Promise((resolve) => {
    const done = (answer) => {
      box.remove();
      anchor.focus();
      resolve(answer);
    };
    const yes = h("button", { type: "button", class: "danger small", text: confirm, onClick: () => done(true) });
    const no = h("button", { type: "button", class: "small", text: keep, onClick: () => done(false) });
    const box = h("div", { class: "inline-confirm", role: "alertdialog", "aria-label": message }, h("p", { text: message }), h("div", { class: "actions" }, yes, no));
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") done(false);
    });
    anchor.after(box);
    yes.focus();
  });
}

// --- Diffs -----------------------------------------------------------------------------------------------------

const CONTAINERS = { isolates: "Isolate", sequences: "Sequence", schema: "Segment", targets: "Target" };

/** A dictdiffer path ("name", "isolates.0.source_name" or ["isolates", 0, "sequences", 1]) as a list. */
function pathParts(path) {
  if (Array.isArray(path)) return path;
  if (path === "" || path === null || path === undefined) return [];
  return String(path).split(".").map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

/** A path people read: ["isolates", 0, "sequences", 1, "sequence"] → "Isolate 1 › Sequence 2 › Sequence". */
export function readablePath(parts) {
  const out = [];
  for (let i = 0; i < parts.length; i += 1) {
    const part = parts[i];
    const next = parts[i + 1];
    if (typeof part === "string" && CONTAINERS[part] && typeof next === "number") {
      out.push(`${CONTAINERS[part]} ${next + 1}`);
      i += 1;
    } else if (typeof part === "number") {
      out.push(`#${part + 1}`);
    } else if (part === "_id") {
      out.push("Id");
    } else {
      out.push(humanize(part));
    }
  }
  return out.join(" › ") || "OTU";
}

function isSequenceDoc(value) {
  return value && typeof value === "object" && "accession" in value && "sequence" in value;
}

function isIsolateDoc(value) {
  return value && typeof value === "object" && "source_type" in value && "sequences" in value;
}

function isolateLabel(isolate) {
  if (!isolate.source_type || !isolate.source_name) return "Unnamed Isolate";
  return `${isolate.source_type.charAt(0).toUpperCase()}${isolate.source_type.slice(1)} ${isolate.source_name}`;
}

/** A value of a diff as a node: sequences, isolates and long strings are summarised, the rest shown as text. */
export function valueNode(value) {
  if (value === undefined) return h("span", { class: "muted", text: "—" });
  if (value === null) return h("span", { class: "muted", text: "none" });
  if (isSequenceDoc(value)) {
    return h(
      "span",
      { class: "diff-doc" },
      `Sequence ${value.accession}`,
      value.segment ? ` (segment ${value.segment})` : "",
      h("span", { class: "muted small", text: ` ${value.definition} · ${String(value.sequence).length.toLocaleString()} nt` }),
    );
  }
  if (isIsolateDoc(value)) {
    const count = value.sequences.length;
    return h(
      "span",
      { class: "diff-doc" },
      isolateLabel(value),
      value.default ? " (default)" : "",
      h("span", { class: "muted small", text: ` ${count} sequence${count === 1 ? "" : "s"}${count ? `: ${value.sequences.map((s) => s.accession).join(", ")}` : ""}` }),
    );
  }
  if (typeof value === "object") {
    const text = JSON.stringify(value);
    return h("code", { class: "diff-json", text: text.length > 300 ? `${text.slice(0, 300)}…` : text });
  }
  const text = String(value);
  if (text.length > 120) {
    return h("span", { class: "diff-long" }, h("code", { text: `${text.slice(0, 60)}…${text.slice(-20)}` }), h("span", { class: "muted small", text: ` (${text.length.toLocaleString()} characters)` }));
  }
  if (text === "") return h("span", { class: "muted", text: "(empty)" });
  return h("span", { text });
}

/** Two long strings side by side: the shared start and end are cut to a little context, the difference marked. */
function stringChange(before, after) {
  const a = String(before);
  const b = String(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end += 1;
  const CONTEXT = 12;
  const MAX = 80;
  const side = (text) => {
    const head = text.slice(Math.max(0, start - CONTEXT), start);
    let middle = text.slice(start, text.length - end);
    const tail = text.slice(text.length - end, text.length - end + CONTEXT);
    if (middle.length > MAX) middle = `${middle.slice(0, MAX / 2)}…${middle.slice(-MAX / 2)}`;
    return h(
      "code",
      { class: "diff-string" },
      start > CONTEXT ? "…" : "",
      head,
      h("mark", { text: middle }),
      tail,
      end > CONTEXT ? "…" : "",
    );
  };
  const note = (text) => h("span", { class: "muted small", text: ` ${text.length.toLocaleString()} characters; differs from position ${(start + 1).toLocaleString()}` });
  return [h("span", {}, side(a), note(a)), h("span", {}, side(b), note(b))];
}

/** Rows `{kind, path, before, after}` for a dictdiffer list. */
export function diffRows(diff) {
  const rows = [];
  for (const entry of diff) {
    const [kind, path, payload] = entry;
    const parts = pathParts(path);
    if (kind === "change") {
      rows.push({ kind, path: parts, before: payload[0], after: payload[1] });
    } else if (kind === "add" || kind === "remove") {
      for (const [key, value] of payload) {
        const row = { kind, path: [...parts, key] };
        if (kind === "add") row.after = value;
        else row.before = value;
        rows.push(row);
      }
    }
  }
  return rows;
}

const KIND_LABELS = { change: "Changed", add: "Added", remove: "Removed" };

/** A table of a dictdiffer list: field path, before, after. */
export function diffTable(diff) {
  const rows = diffRows(diff);
  if (!rows.length) return h("p", { class: "muted small", text: "Nothing changed." });
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "diff-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Field" }), h("th", { scope: "col", text: "Before" }), h("th", { scope: "col", text: "After" }))),
      h(
        "tbody",
        {},
        rows.map((row) => {
          let before = valueNode(row.before);
          let after = valueNode(row.after);
          if (row.kind === "change" && typeof row.before === "string" && typeof row.after === "string" && Math.max(row.before.length, row.after.length) > 120) {
            [before, after] = stringChange(row.before, row.after);
          }
          return h(
            "tr",
            { class: `diff-${row.kind}`, dataset: { kind: row.kind, path: row.path.join(".") } },
            h("th", { scope: "row" }, h("span", { class: `badge diff-kind diff-kind-${row.kind}`, text: KIND_LABELS[row.kind] }), " ", readablePath(row.path)),
            h("td", { dataset: { side: "before" } }, before),
            h("td", { dataset: { side: "after" } }, after),
          );
        }),
      ),
    ),
  );
}

/** A whole OTU (the diff of a create or a remove): its names, schema, isolates and sequences. */
export function otuSummary(otu, heading) {
  const isolates = otu.isolates || [];
  return h(
    "div",
    { class: "diff-otu" },
    h("p", { class: "small" }, h("strong", { text: heading }), ` ${otu.name}`, otu.abbreviation ? ` (${otu.abbreviation})` : "", ` · version ${otu.version ?? 0}`),
    otu.schema?.length ? h("p", { class: "small muted", text: `Schema: ${otu.schema.map((segment) => segment.name).join(", ")}` }) : null,
    isolates.length
      ? h(
          "ul",
          { class: "diff-isolates small" },
          isolates.map((isolate) =>
            h(
              "li",
              {},
              valueNode(isolate),
              isolate.sequences?.length ? h("ul", {}, isolate.sequences.map((sequence) => h("li", {}, valueNode(sequence)))) : null,
            ),
          ),
        )
      : h("p", { class: "muted small", text: "No isolates." }),
  );
}

/** A node for a change's `diff`: a table for edits, a summary of the OTU for create and remove. */
export function diffNode(change) {
  const diff = change.diff;
  if (Array.isArray(diff)) return diffTable(diff);
  if (diff && typeof diff === "object") {
    return otuSummary(diff, change.method_name === "remove" ? "Removed OTU" : "Created OTU");
  }
  return h("p", { class: "muted small", text: "This change has no recorded difference." });
}

// --- History list ----------------------------------------------------------------------------------------------

const METHOD_LABELS = {
  create: "Created",
  remove: "Removed",
  edit: "Edited",
  add_isolate: "Added isolate",
  edit_isolate: "Edited isolate",
  remove_isolate: "Removed isolate",
  set_as_default: "Default isolate",
  create_sequence: "Added sequence",
  edit_sequence: "Edited sequence",
  remove_sequence: "Removed sequence",
  import: "Imported",
  clone: "Cloned",
  remote: "Remote",
  update: "Updated",
};

/** True when a change has not been built into an index (and may be reverted). */
export function isUnbuilt(change) {
  return !change.index || change.index.id === "unbuilt" || change.index.version === "unbuilt";
}

/**
 * A list of history changes in `container`, newest first: each with "Show diff" (GET /api/history/{id})
 * and, when unbuilt and `canRevert()`, a Revert button (DELETE /api/history/{id}, 409 messages shown in place).
 * `showOtu` links each change to its OTU page.
 */
export class HistoryList {
  constructor(container, { refId, showOtu = true, canRevert = () => true, onReverted = () => {} }) {
    this.container = container;
    this.refId = refId;
    this.showOtu = showOtu;
    this.canRevert = canRevert;
    this.onReverted = onReverted;
    this.changes = [];
    this.items = new Map();
    this.open = new Set();
  }

  set(changes) {
    this.changes = changes;
    this.render();
  }

  render() {
    const wanted = new Set(this.changes.map((change) => change.id));
    for (const [id, item] of this.items) {
      if (!wanted.has(id)) {
        item.remove();
        this.items.delete(id);
      }
    }
    this.changes.forEach((change, index) => {
      let item = this.items.get(change.id);
      const signature = JSON.stringify([change.index, change.otu, change.description, this.canRevert()]);
      if (!item || item.dataset.signature !== signature) {
        const fresh = this.item(change);
        fresh.dataset.signature = signature;
        if (item) item.replaceWith(fresh);
        item = fresh;
        this.items.set(change.id, item);
        if (this.open.has(change.id)) this.showDiff(change, item);
      }
      if (this.container.children[index] !== item) this.container.insertBefore(item, this.container.children[index] || null);
    });
  }

  item(change) {
    const unbuilt = isUnbuilt(change);
    const diffButton = h("button", { type: "button", class: "small", "aria-expanded": "false", text: "Show diff" });
    const diffHost = h("div", { class: "change-diff", hidden: true });
    const problem = h("p", { class: "notice danger small change-problem", role: "alert", hidden: true });
    const revert =
      unbuilt && this.canRevert() ? h("button", { type: "button", class: "small danger", text: "Revert", "aria-describedby": undefined }) : null;
    const otuLink =
      this.showOtu && change.otu
        ? change.otu.version === "removed" || !this.refId
          ? h("strong", { text: change.otu.name })
          : h("a", { href: `/refs/${encodeURIComponent(this.refId)}/otus/${encodeURIComponent(change.otu.id)}`, text: change.otu.name })
        : null;
    const item = h(
      "li",
      { class: "change", dataset: { id: change.id, method: change.method_name, built: String(!unbuilt) } },
      h(
        "div",
        { class: "change-head" },
        h("span", { class: "badge change-method", text: METHOD_LABELS[change.method_name] || humanize(change.method_name || "change") }),
        h("div", { class: "change-text" }, otuLink, otuLink ? " · " : "", h("span", { class: "change-description", text: change.description || "" })),
        h(
          "div",
          { class: "change-meta muted small" },
          `Version ${change.otu?.version ?? "?"}`,
          " · ",
          change.user?.handle || "system",
          " · ",
          timeAgo(change.created_at),
          " · ",
          unbuilt ? h("span", { class: "badge", text: "Unbuilt" }) : h("span", { class: "badge ok change-index", text: `Built in index ${change.index.version}` }),
        ),
        h("div", { class: "change-actions" }, diffButton, revert),
      ),
      problem,
      diffHost,
    );
    diffButton.addEventListener("click", () => {
      if (this.open.has(change.id)) {
        this.open.delete(change.id);
        diffHost.hidden = true;
        diffButton.setAttribute("aria-expanded", "false");
        diffButton.textContent = "Show diff";
      } else {
        this.open.add(change.id);
        this.showDiff(change, item);
      }
    });
    revert?.addEventListener("click", () => this.revert(change, item, revert));
    return item;
  }

  async showDiff(change, item) {
    const host = $(".change-diff", item);
    const button = $(".change-actions button", item);
    host.hidden = false;
    button.setAttribute("aria-expanded", "true");
    button.textContent = "Hide diff";
    fill(host, h("p", { class: "muted small", text: "Loading the difference…" }));
    try {
      const full = await api("GET", `/api/history/${encodeURIComponent(change.id)}`);
      fill(host, diffNode(full));
    } catch (error) {
      fill(host, h("p", { class: "notice danger small", role: "alert", text: `Could not load the difference: ${error.message}` }));
    }
  }

  async revert(change, item, button) {
    const problem = $(".change-problem", item);
    problem.hidden = true;
    const later = this.changes.filter((other) => other.otu?.id === change.otu?.id && other.id !== change.id && versionOf(other) > versionOf(change)).length;
    const message = later
      ? `Revert this change and the ${later} later change${later === 1 ? "" : "s"} of ${change.otu?.name || "this OTU"}?`
      : `Revert this change of ${change.otu?.name || "this OTU"}?`;
    if (!(await confirmInline(button, message, { confirm: "Revert", keep: "Keep" }))) return;
    button.disabled = true;
    try {
      await api("DELETE", `/api/history/${encodeURIComponent(change.id)}`);
      toast(`Reverted ${change.description || "the change"}`);
      this.onReverted(change);
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
      button.disabled = false;
    }
  }
}

function versionOf(change) {
  const version = change.otu?.version;
  return typeof version === "number" ? version : Number.POSITIVE_INFINITY;
}

/** Follow `history` events: `onInsert(change)`, `onUpdate(change)`, `onDelete(ids)`. */
export function followHistory({ onInsert, onUpdate, onDelete }) {
  return live.on("history", (message) => {
    if (message.operation === "delete") onDelete(new Set([].concat(message.data)));
    else if (message.operation === "insert") onInsert(message.data);
    else onUpdate(message.data);
  });
}
