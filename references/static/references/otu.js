// One OTU: name, abbreviation and schema; isolates (default, rename, add, remove); the sequences of an isolate
// with their segments (add, edit, remove); FASTA downloads; and the OTU's own history with revert.
import { $, FieldErrors, api, attachToField, clearFormErrors, debounce, fill, getAccount, h, live, onSubmit, showFormErrors, toast } from "../virtool/virtool.js";
import { HistoryList, confirmInline, followHistory, referenceRights } from "./refs-common.js";

const MOLECULES = ["ssRNA+", "ssRNA-", "ssRNA", "dsRNA", "ssDNA", "dsDNA"];

const root = $("#otu-root");
const refId = root.dataset.refId;
const otuId = root.dataset.otuId;
const otuPath = `/api/otus/${encodeURIComponent(otuId)}`;

const state = {
  otu: null,
  ref: null,
  account: null,
  rights: new Set(),
  isolateId: new URLSearchParams(window.location.search).get("isolate"),
  // The sequence being edited ("new" for the add form), kept across live re-renders.
  editing: null,
  removed: false,
};

function showError(message) {
  const node = $("#otu-error");
  node.textContent = message || "";
  node.hidden = !message;
}

const canEdit = () => state.rights.has("modify_otu") && !state.removed;

/** "Isolate HarVA-57": Virtool's isolate name (its capitalised source type and its name, or "Unnamed Isolate"). */
function isolateName(isolate) {
  if (!isolate.source_type || !isolate.source_name) return "Unnamed Isolate";
  return `${isolate.source_type.charAt(0).toUpperCase()}${isolate.source_type.slice(1)} ${isolate.source_name}`;
}

function plural(count, word) {
  return `${count.toLocaleString()} ${word}${count === 1 ? "" : "s"}`;
}

/** Put an `{id, message}` refusal next to the field it is about. */
function placeError(error, rules) {
  for (const [field, pattern] of rules) attachToField(error, field, (message) => pattern.test(message));
  return error;
}

// --- Loading ------------------------------------------------------------------------------------------------

async function loadOtu() {
  try {
    state.otu = await api("GET", otuPath);
  } catch (error) {
    if (error.status === 404) {
      if (state.otu) {
        state.removed = true;
        $("#otu-removed").textContent = "This OTU was removed. Its history below can bring it back.";
        $("#otu-removed").hidden = false;
        render();
      } else {
        $("#otu-missing").hidden = false;
      }
      return false;
    }
    showError(`Could not load the OTU: ${error.message}`);
    return false;
  }
  state.removed = false;
  $("#otu-removed").hidden = true;
  render();
  return true;
}

async function loadReference() {
  try {
    state.ref = await api("GET", `/api/refs/${encodeURIComponent(refId)}`);
    state.rights = referenceRights(state.account, state.ref);
    const link = $("#ref-link");
    link.textContent = `← ${state.ref.name}`;
  } catch (error) {
    showError(`Could not load the reference: ${error.message}`);
  }
}

// --- Rendering ----------------------------------------------------------------------------------------------

function render() {
  const otu = state.otu;
  $("#otu-body").hidden = false;
  document.title = `${otu.name} · OTU · Virtool`;
  $("#otu-title").textContent = otu.name;
  $("#otu-abbreviation").textContent = otu.abbreviation ? `(${otu.abbreviation})` : "";
  const sequenceCount = otu.isolates.reduce((sum, isolate) => sum + isolate.sequences.length, 0);
  fill(
    $("#otu-facts"),
    otu.verified ? h("span", { class: "badge ok", id: "otu-verified", text: "Verified" }) : h("span", { class: "badge off", id: "otu-verified", text: "Unverified" }),
    ` Version ${otu.version} · ${plural(otu.isolates.length, "isolate")} · ${plural(sequenceCount, "sequence")}`,
  );
  $("#otu-fasta").href = `/api/otus/${encodeURIComponent(otu.id)}.fa`;
  $("#otu-delete").hidden = !canEdit();
  renderIssues();
  renderGeneral();
  renderIsolates();
  renderIsolate();
  otuHistory.render();
}

function renderIssues() {
  const issues = state.otu.issues;
  const box = $("#otu-issues");
  if (!issues) {
    box.hidden = true;
    return;
  }
  const isolateNames = new Map(state.otu.isolates.map((isolate) => [isolate.id, isolateName(isolate)]));
  const lines = [];
  if (issues.empty_otu) lines.push("It has no isolates.");
  for (const id of issues.empty_isolate || []) lines.push(`${isolateNames.get(id) || id} has no sequences.`);
  for (const id of issues.empty_sequence || []) lines.push(`Sequence ${id} is empty.`);
  if (issues.isolate_inconsistency) lines.push("Its isolates have different numbers of sequences.");
  fill($("#otu-issues-list"), lines.map((text) => h("li", { text })));
  box.hidden = !lines.length;
}

// General: name, abbreviation, schema.

const otuForm = $("#otu-form");

function segmentRow(segment) {
  const row = h(
    "tr",
    { class: "segment-row" },
    h("td", {}, h("input", { type: "text", name: "segment_name", value: segment.name || "", "aria-label": "Segment name", maxlength: "100" })),
    h(
      "td",
      {},
      h(
        "select",
        { name: "segment_molecule", "aria-label": `Molecule of ${segment.name || "the segment"}` },
        h("option", { value: "", text: "Unknown" }),
        MOLECULES.map((molecule) => h("option", { value: molecule, text: molecule, selected: segment.molecule === molecule })),
      ),
    ),
    h("td", {}, h("input", { type: "checkbox", name: "segment_required", checked: segment.required !== false, "aria-label": `${segment.name || "Segment"} is required` })),
    h("td", {}, h("button", { type: "button", class: "small", text: "Remove", "aria-label": `Remove segment ${segment.name || ""}`.trim(), onClick: () => {
      row.remove();
      otuForm.dataset.dirty = "true";
      $("#schema-empty").hidden = $("#schema-table tbody").children.length > 0;
    } })),
  );
  return row;
}

function renderGeneral() {
  if (otuForm.dataset.dirty || otuForm.contains(document.activeElement)) {
    setGeneralEditable();
    return;
  }
  otuForm.elements.name.value = state.otu.name;
  otuForm.elements.abbreviation.value = state.otu.abbreviation || "";
  fill($("#schema-table tbody"), (state.otu.schema || []).map(segmentRow));
  $("#schema-empty").hidden = (state.otu.schema || []).length > 0;
  setGeneralEditable();
}

function setGeneralEditable() {
  const editable = canEdit();
  for (const control of otuForm.elements) control.disabled = !editable;
  $("#otu-form-actions").hidden = !editable;
  $("#add-segment").hidden = !editable;
}

otuForm.addEventListener("input", () => {
  otuForm.dataset.dirty = "true";
});
$("#add-segment").addEventListener("click", () => {
  const row = segmentRow({ name: "", molecule: null, required: true });
  $("#schema-table tbody").append(row);
  $("#schema-empty").hidden = true;
  otuForm.dataset.dirty = "true";
  $("input", row).focus();
});

function readSchema() {
  return [...$("#schema-table tbody").children].map((row) => ({
    name: row.querySelector("[name=segment_name]").value.trim(),
    molecule: row.querySelector("[name=segment_molecule]").value || null,
    required: row.querySelector("[name=segment_required]").checked,
  }));
}

onSubmit(otuForm, async (form) => {
  const name = form.elements.name.value.trim();
  if (!name) throw new FieldErrors({ name: "A name is required." });
  const schema = readSchema();
  if (schema.some((segment) => !segment.name)) throw new FieldErrors({ schema: "Every segment needs a name." });
  const names = schema.map((segment) => segment.name);
  if (new Set(names).size !== names.length) throw new FieldErrors({ schema: "Segment names must be unique." });
  const body = {};
  if (name !== state.otu.name) body.name = name;
  const abbreviation = form.elements.abbreviation.value.trim();
  if (abbreviation !== (state.otu.abbreviation || "")) body.abbreviation = abbreviation;
  if (JSON.stringify(schema) !== JSON.stringify((state.otu.schema || []).map((s) => ({ name: s.name, molecule: s.molecule ?? null, required: s.required !== false })))) {
    body.schema = schema;
  }
  if (!Object.keys(body).length) {
    delete form.dataset.dirty;
    toast("Nothing to save");
    return;
  }
  try {
    state.otu = await api("PATCH", otuPath, body);
  } catch (error) {
    throw placeError(error, [
      ["name", /name/i],
      ["abbreviation", /abbreviation/i],
      ["schema", /segment|schema/i],
    ]);
  }
  delete form.dataset.dirty;
  render();
  toast("Saved");
  loadHistory();
});

// Isolates.

function selectedIsolate() {
  const isolates = state.otu?.isolates || [];
  return isolates.find((isolate) => isolate.id === state.isolateId) || isolates.find((isolate) => isolate.default) || isolates[0] || null;
}

function selectIsolate(id) {
  state.isolateId = id;
  state.editing = null;
  const query = new URLSearchParams(window.location.search);
  query.set("isolate", id);
  window.history.replaceState(null, "", `${window.location.pathname}?${query}`);
  renderIsolates();
  renderIsolate();
}

function renderIsolates() {
  const current = selectedIsolate();
  const list = $("#isolate-list");
  fill(
    list,
    state.otu.isolates.map((isolate) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "item isolate-item",
            "aria-current": isolate.id === current?.id ? "true" : "false",
            dataset: { id: isolate.id },
            onClick: () => selectIsolate(isolate.id),
          },
          h("span", { class: "isolate-name", text: isolateName(isolate) }),
          isolate.default ? h("span", { class: "badge ok", text: "Default" }) : null,
          h("span", { class: "muted small", text: plural(isolate.sequences.length, "sequence") }),
        ),
      ),
    ),
  );
  $("#isolates-empty").hidden = state.otu.isolates.length > 0;
  $("#show-add-isolate").hidden = !canEdit();
}

const addIsolateForm = $("#add-isolate-form");
$("#show-add-isolate").addEventListener("click", (event) => {
  addIsolateForm.hidden = !addIsolateForm.hidden;
  event.currentTarget.setAttribute("aria-expanded", String(!addIsolateForm.hidden));
  if (!addIsolateForm.hidden) addIsolateForm.elements.source_type.focus();
});
$("[data-action=cancel]", addIsolateForm).addEventListener("click", () => {
  addIsolateForm.hidden = true;
  $("#show-add-isolate").setAttribute("aria-expanded", "false");
});

onSubmit(addIsolateForm, async (form) => {
  const body = {
    source_type: form.elements.source_type.value.trim(),
    source_name: form.elements.source_name.value.trim(),
    default: form.elements.default.checked,
  };
  let isolate;
  try {
    isolate = await api("POST", `${otuPath}/isolates`, body);
  } catch (error) {
    throw placeError(error, [["source_type", /source type/i]]);
  }
  form.reset();
  form.hidden = true;
  $("#show-add-isolate").setAttribute("aria-expanded", "false");
  toast(`Added ${isolateName(isolate)}`);
  state.isolateId = isolate.id;
  await loadOtu();
  loadHistory();
});

const isolateForm = $("#isolate-form");

function isolateProblem(message) {
  $("#isolate-problem").textContent = message || "";
  $("#isolate-problem").hidden = !message;
}

function renderIsolate() {
  const isolate = selectedIsolate();
  const panel = $("#isolate-panel");
  panel.hidden = !isolate;
  if (!isolate) return;
  panel.dataset.isolateId = isolate.id;
  $("#isolate-title").textContent = isolateName(isolate);
  $("#isolate-fasta").href = `${otuPath}/isolates/${encodeURIComponent(isolate.id)}.fa`;
  const editable = canEdit();
  $("#isolate-default").hidden = !editable || isolate.default;
  $("#isolate-rename").hidden = !editable;
  $("#isolate-remove").hidden = !editable;
  $("#show-add-sequence").hidden = !editable;
  if (!isolateForm.contains(document.activeElement)) {
    isolateForm.elements.source_type.value = isolate.source_type || "";
    isolateForm.elements.source_name.value = isolate.source_name || "";
  }
  renderSequences(isolate);
}

$("#isolate-default").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const isolate = selectedIsolate();
  isolateProblem("");
  button.disabled = true;
  try {
    await api("PUT", `${otuPath}/isolates/${encodeURIComponent(isolate.id)}/default`);
    toast(`${isolateName(isolate)} is the default isolate`);
    await loadOtu();
    loadHistory();
  } catch (error) {
    isolateProblem(error.message);
  } finally {
    button.disabled = false;
  }
});

$("#isolate-rename").addEventListener("click", (event) => {
  isolateForm.hidden = !isolateForm.hidden;
  event.currentTarget.setAttribute("aria-expanded", String(!isolateForm.hidden));
  if (!isolateForm.hidden) isolateForm.elements.source_type.focus();
});
$("[data-action=cancel]", isolateForm).addEventListener("click", () => {
  isolateForm.hidden = true;
  $("#isolate-rename").setAttribute("aria-expanded", "false");
});

onSubmit(isolateForm, async (form) => {
  const isolate = selectedIsolate();
  const body = {};
  const sourceType = form.elements.source_type.value.trim();
  const sourceName = form.elements.source_name.value.trim();
  if (sourceType !== (isolate.source_type || "")) body.source_type = sourceType;
  if (sourceName !== (isolate.source_name || "")) body.source_name = sourceName;
  if (!Object.keys(body).length) {
    form.hidden = true;
    return;
  }
  try {
    await api("PATCH", `${otuPath}/isolates/${encodeURIComponent(isolate.id)}`, body);
  } catch (error) {
    throw placeError(error, [["source_type", /source type/i]]);
  }
  form.hidden = true;
  $("#isolate-rename").setAttribute("aria-expanded", "false");
  toast("Isolate renamed");
  await loadOtu();
  loadHistory();
});

$("#isolate-remove").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const isolate = selectedIsolate();
  isolateProblem("");
  const message = `Remove ${isolateName(isolate)} and its ${plural(isolate.sequences.length, "sequence")}?`;
  if (!(await confirmInline(button, message, { confirm: "Remove", keep: "Keep" }))) return;
  try {
    await api("DELETE", `${otuPath}/isolates/${encodeURIComponent(isolate.id)}`);
    toast(`Removed ${isolateName(isolate)}`);
    state.isolateId = null;
    await loadOtu();
    loadHistory();
  } catch (error) {
    isolateProblem(error.message);
  }
});

// Sequences.

function segmentOptions(current) {
  const names = (state.otu.schema || []).map((segment) => segment.name);
  if (current && !names.includes(current)) names.push(current);
  return [h("option", { value: "", text: "None" }), ...names.map((name) => h("option", { value: name, text: name, selected: name === current }))];
}

function sequenceForm(isolate, sequence) {
  const editing = Boolean(sequence);
  const prefix = editing ? `seq-${sequence.id}` : "seq-new";
  const field = (name, label, input) => h("div", { class: "field" }, h("label", { for: `${prefix}-${name}`, text: label }), input);
  const form = h(
    "form",
    { class: "sub-form sequence-form", novalidate: true, dataset: { sequenceId: sequence?.id || "new" } },
    h("h4", { text: editing ? `Edit ${sequence.accession}` : "New sequence" }),
    h("p", { class: "form-error", role: "alert" }),
    h(
      "div",
      { class: "sequence-fields" },
      h(
        "div",
        { class: "field" },
        h("label", { for: `${prefix}-accession`, text: "Accession" }),
        h("input", { type: "text", id: `${prefix}-accession`, name: "accession", value: sequence?.accession || "", maxlength: "100" }),
        h(
          "div",
          { class: "genbank-fill" },
          h("button", { type: "button", class: "small", dataset: { action: "genbank" }, text: "Fill from GenBank" }),
          h("span", { class: "hint", role: "status", dataset: { part: "genbank-status" } }),
        ),
      ),
      field("segment", "Segment", h("select", { id: `${prefix}-segment`, name: "segment" }, segmentOptions(sequence?.segment || ""))),
      field("host", "Host", h("input", { type: "text", id: `${prefix}-host`, name: "host", value: sequence?.host || "" })),
    ),
    field("definition", "Definition", h("input", { type: "text", id: `${prefix}-definition`, name: "definition", value: sequence?.definition || "" })),
    field("sequence", "Sequence", h("textarea", { id: `${prefix}-sequence`, name: "sequence", rows: "6", class: "sequence-text", spellcheck: "false", value: sequence?.sequence || "" })),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary", text: editing ? "Save sequence" : "Add sequence" }),
      h("button", { type: "button", text: "Cancel", onClick: () => {
        state.editing = null;
        renderIsolate();
      } }),
    ),
  );
  $("[data-action=genbank]", form).addEventListener("click", (event) => fillFromGenBank(form, event.currentTarget));
  // The textarea's value is set as a property; keep the typed value on live re-renders.
  onSubmit(form, async () => {
    const values = {
      accession: form.elements.accession.value.trim(),
      definition: form.elements.definition.value.trim(),
      host: form.elements.host.value.trim(),
      segment: form.elements.segment.value || null,
      sequence: form.elements.sequence.value.replace(/\s+/g, "").toUpperCase(),
    };
    const missing = {};
    if (!values.accession) missing.accession = "An accession is required.";
    if (!values.definition) missing.definition = "A definition is required.";
    if (!values.sequence) missing.sequence = "A sequence is required.";
    else if (!/^[ACGTURYSWKMBDHVN]+$/.test(values.sequence)) {
      const bad = [...new Set(values.sequence.replace(/[ACGTURYSWKMBDHVN]/g, ""))].join("");
      missing.sequence = `Only IUPAC nucleotide letters (ACGTURYSWKMBDHVN) are allowed; found ${bad}.`;
    }
    if (Object.keys(missing).length) throw new FieldErrors(missing);
    const base = `${otuPath}/isolates/${encodeURIComponent(isolate.id)}/sequences`;
    try {
      if (editing) {
        const body = {};
        for (const [key, value] of Object.entries(values)) {
          if ((value ?? "") !== (sequence[key] ?? "")) body[key] = value;
        }
        if (!Object.keys(body).length) {
          state.editing = null;
          renderIsolate();
          return;
        }
        await api("PATCH", `${base}/${encodeURIComponent(sequence.id)}`, body);
        toast(`Saved ${values.accession}`);
      } else {
        await api("POST", base, values);
        toast(`Added ${values.accession}`);
      }
    } catch (error) {
      throw placeError(error, [
        ["sequence", /sequence|nucleotide/i],
        ["segment", /segment/i],
        ["accession", /accession/i],
      ]);
    }
    state.editing = null;
    await loadOtu();
    loadHistory();
  });
  return form;
}

/** Fill definition, host and sequence from NCBI's record of the accession typed (GET /api/genbank/{accession}). */
async function fillFromGenBank(form, button) {
  const accession = form.elements.accession.value.trim();
  const status = $("[data-part=genbank-status]", form);
  clearFormErrors(form);
  status.textContent = "";
  if (!accession) {
    showFormErrors(form, null, { accession: "Enter an accession to fill from GenBank." });
    return;
  }
  button.disabled = true;
  form.setAttribute("aria-busy", "true");
  status.textContent = `Fetching ${accession} from GenBank…`;
  try {
    const record = await api("GET", `/genbank/${encodeURIComponent(accession)}`);
    form.elements.definition.value = record.definition;
    form.elements.host.value = record.host;
    form.elements.sequence.value = record.sequence;
    status.textContent = `Filled from GenBank ${record.accession} (${record.sequence.length.toLocaleString()} nt).`;
  } catch (error) {
    status.textContent = "";
    showFormErrors(form, null, { accession: error.message });
  } finally {
    button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

function sequenceItem(isolate, sequence) {
  const editable = canEdit();
  const length = sequence.sequence.length;
  const remove = editable ? h("button", { type: "button", class: "small danger", text: "Remove", "aria-label": `Remove ${sequence.accession}` }) : null;
  const item = h(
    "li",
    { class: "sequence-item", dataset: { id: sequence.id } },
    h(
      "div",
      { class: "sequence-head" },
      h("strong", { class: "sequence-accession", text: sequence.accession }),
      h("span", { class: "badge sequence-segment", dataset: { part: "segment" }, text: sequence.segment ? `Segment ${sequence.segment}` : "No segment" }),
      h("span", { class: "muted small", text: `${length.toLocaleString()} nt` }),
      h(
        "div",
        { class: "sequence-actions" },
        h("a", { class: "button small", href: `${otuPath}/isolates/${encodeURIComponent(isolate.id)}/sequences/${encodeURIComponent(sequence.id)}.fa`, download: "", text: "FASTA", "aria-label": `FASTA of ${sequence.accession}` }),
        editable
          ? h("button", { type: "button", class: "small", text: "Edit", "aria-label": `Edit ${sequence.accession}`, onClick: () => {
              state.editing = sequence.id;
              renderIsolate();
              $(`form[data-sequence-id="${CSS.escape(sequence.id)}"] input`)?.focus();
            } })
          : null,
        remove,
      ),
    ),
    h("p", { class: "sequence-definition", dataset: { part: "definition" }, text: sequence.definition }),
    sequence.host ? h("p", { class: "muted small", text: `Host: ${sequence.host}` }) : null,
    h("code", { class: "sequence-preview", dataset: { part: "sequence" }, title: `${length} nucleotides`, text: length > 90 ? `${sequence.sequence.slice(0, 90)}…` : sequence.sequence }),
  );
  remove?.addEventListener("click", async () => {
    if (!(await confirmInline(remove, `Remove sequence ${sequence.accession}?`, { confirm: "Remove", keep: "Keep" }))) return;
    try {
      await api("DELETE", `${otuPath}/isolates/${encodeURIComponent(isolate.id)}/sequences/${encodeURIComponent(sequence.id)}`);
      toast(`Removed ${sequence.accession}`);
      await loadOtu();
      loadHistory();
    } catch (error) {
      isolateProblem(error.message);
    }
  });
  return item;
}

function renderSequences(isolate) {
  const list = $("#sequence-list");
  const host = $("#sequence-form-host");
  // A form being filled in is kept as it is; only the rest is redrawn.
  const active = document.activeElement?.closest?.(".sequence-form");
  if (active && active.dataset.sequenceId === state.editing) return;
  fill(
    list,
    isolate.sequences.map((sequence) => (state.editing === sequence.id ? h("li", { class: "sequence-item editing" }, sequenceForm(isolate, sequence)) : sequenceItem(isolate, sequence))),
  );
  fill(host, state.editing === "new" ? sequenceForm(isolate, null) : null);
  $("#sequences-empty").hidden = isolate.sequences.length > 0;
  $("#show-add-sequence").setAttribute("aria-expanded", String(state.editing === "new"));
}

$("#show-add-sequence").addEventListener("click", () => {
  state.editing = state.editing === "new" ? null : "new";
  renderIsolate();
  if (state.editing === "new") $("#sequence-form-host input")?.focus();
});

// Remove the OTU.

$("#otu-delete").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  if (!(await confirmInline(button, `Remove ${state.otu.name}? The removal is kept in the history and can be reverted.`, { confirm: "Remove", keep: "Keep" }))) return;
  try {
    await api("DELETE", otuPath);
    window.location.assign(`/refs/${encodeURIComponent(refId)}#otus`);
  } catch (error) {
    showError(error.message);
  }
});

// --- History ------------------------------------------------------------------------------------------------

const otuHistory = new HistoryList($("#otu-history"), {
  refId,
  showOtu: false,
  canRevert: () => state.rights.has("modify_otu"),
  onReverted: async () => {
    await loadOtu();
    loadHistory();
  },
});

async function loadHistory() {
  try {
    const changes = await api("GET", `${otuPath}/history`);
    otuHistory.set(changes);
    $("#otu-history-empty").hidden = changes.length > 0;
  } catch (error) {
    if (error.status === 404) {
      otuHistory.set([]);
      $("#otu-history-empty").hidden = false;
      return;
    }
    showError(`Could not load the history: ${error.message}`);
  }
}

const reloadHistory = debounce(loadHistory, 150);
const reloadOtu = debounce(loadOtu, 150);

followHistory({
  onInsert: (change) => change.otu?.id === otuId && reloadHistory(),
  onUpdate: (change) => change.otu?.id === otuId && reloadHistory(),
  onDelete: () => otuHistory.changes.length && reloadHistory(),
});

live.on("otus", (message) => {
  if (message.operation === "delete") {
    if ([].concat(message.data).includes(otuId)) reloadOtu();
    return;
  }
  if (message.data.id === otuId && message.data.version !== state.otu?.version) reloadOtu();
  else if (message.data.id === otuId && state.removed) reloadOtu();
});

live.on("references", (message) => {
  if (message.operation !== "delete" && message.data.id === refId) {
    state.ref = { ...state.ref, ...message.data };
    const before = [...state.rights].join();
    state.rights = referenceRights(state.account, state.ref);
    if (before !== [...state.rights].join() && state.otu) render();
  }
});

live.onReconnect(() => {
  loadOtu();
  loadHistory();
});

// --- Start --------------------------------------------------------------------------------------------------

(async () => {
  try {
    state.account = await getAccount();
  } catch (error) {
    showError(`Could not load your account: ${error.message}`);
  }
  await loadReference();
  if (await loadOtu()) await loadHistory();
})();
