// Labels: create, edit and delete the labels that sort samples. The list follows `labels` events, which also
// arrive when samples gain or lose a label, so each label's sample count stays current.
import { $, api, attachToField, FieldErrors, fill, h, labelChip, live, nextId, onSubmit, showNotice, toast } from "../virtool/virtool.js";

const COLOR = /^#[0-9a-f]{6}$/i;
const state = { labels: [], editing: null, loaded: false };
const list = $("#label-list");
const items = new Map();

function showProblem(message) {
  showNotice($("#labels-error"), message);
}

function sortLabels() {
  state.labels.sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base" }));
}

function upsert(label) {
  state.labels = [...state.labels.filter((item) => item.id !== label.id), label];
  sortLabels();
}

function countText(count) {
  if (!count) return "No samples";
  return `${count} sample${count === 1 ? "" : "s"}`;
}

/** Keep a colour text field and its picker in step (the text field is what is sent). */
function bindColor(text, picker) {
  const fromText = () => {
    const value = text.value.trim();
    if (COLOR.test(value)) picker.value = value.toLowerCase();
  };
  text.addEventListener("input", fromText);
  picker.addEventListener("input", () => {
    text.value = picker.value.toUpperCase();
    text.dispatchEvent(new Event("input", { bubbles: true }));
  });
  fromText();
  return fromText;
}

function readForm(form) {
  return {
    name: form.elements.name.value.trim(),
    color: form.elements.color.value.trim(),
    description: form.elements.description.value.trim(),
  };
}

/** The name-and-colour errors the API answers with `{id, message}` go next to the name. */
function placeError(error) {
  return attachToField(error, "name", (message) => /name/i.test(message));
}

// --- The list ------------------------------------------------------------------------------------------------------

function labelView(label) {
  return [
    h(
      "div",
      { class: "label-item-main" },
      labelChip(label, { dataset: { part: "chip" } }),
      h("p", {
        class: `small label-description${label.description ? "" : " muted"}`,
        text: label.description || "No description",
      }),
    ),
    h("a", {
      class: "label-count small",
      href: `/samples?label=${encodeURIComponent(label.id)}`,
      title: `Samples labelled ${label.name}`,
      dataset: { part: "count" },
      text: countText(label.count),
    }),
    h(
      "div",
      { class: "label-actions" },
      h("button", {
        type: "button",
        class: "small",
        "aria-label": `Edit ${label.name}`,
        dataset: { action: "edit" },
        text: "Edit",
        onClick: () => startEdit(label.id),
      }),
      h("button", {
        type: "button",
        class: "small danger",
        "aria-label": `Delete ${label.name}`,
        dataset: { action: "delete" },
        text: "Delete",
        onClick: () => remove(label.id),
      }),
    ),
  ];
}

function editForm(label) {
  const id = nextId("label");
  const name = h("input", { id: `${id}-name`, name: "name", type: "text", maxlength: "100", autocomplete: "off" });
  name.value = label.name;
  const color = h("input", {
    id: `${id}-color`,
    name: "color",
    type: "text",
    maxlength: "7",
    autocomplete: "off",
    spellcheck: "false",
  });
  color.value = label.color;
  const picker = h("input", { type: "color", "aria-label": "Pick the colour", dataset: { picker: "" } });
  const description = h("textarea", { id: `${id}-description`, name: "description", rows: "2" });
  description.value = label.description || "";
  const form = h(
    "form",
    { class: "label-edit", novalidate: true, "aria-label": `Edit ${label.name}` },
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "field" }, h("label", { for: name.id, text: "Name" }), name),
    h(
      "div",
      { class: "field" },
      h("label", { for: color.id, text: "Colour" }),
      h("div", { class: "color-field" }, color, picker),
    ),
    h("div", { class: "field" }, h("label", { for: description.id, text: "Description" }), description),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary", text: "Save" }),
      h("button", { type: "button", text: "Cancel", onClick: () => stopEdit(label.id) }),
    ),
  );
  bindColor(color, picker);
  onSubmit(form, async () => {
    const body = readForm(form);
    if (!body.name) throw new FieldErrors({ name: "Enter a name." });
    let saved;
    try {
      saved = await api("PATCH", `/api/labels/${label.id}`, body);
    } catch (error) {
      throw placeError(error);
    }
    upsert(saved);
    stopEdit(saved.id);
    toast(`Saved ${saved.name}`);
  });
  return form;
}

function render() {
  list.removeAttribute("aria-busy");
  if (!state.labels.length) {
    items.clear();
    fill(list, h("li", { class: "empty", text: "No labels yet. Create the first one." }));
    return;
  }
  $(".empty", list)?.remove();
  const wanted = new Set(state.labels.map((label) => label.id));
  for (const [id, item] of items) {
    if (!wanted.has(id)) {
      item.remove();
      items.delete(id);
    }
  }
  state.labels.forEach((label, index) => {
    let item = items.get(label.id);
    if (!item) {
      item = h("li", { class: "label-item", dataset: { id: String(label.id) } });
      items.set(label.id, item);
    }
    if (state.editing === label.id) {
      // The open form keeps what is being typed; only the count moves on.
      if (item.dataset.mode !== "edit") {
        item.dataset.mode = "edit";
        fill(item, editForm(label));
      }
    } else {
      const looks = JSON.stringify([label.name, label.color, label.description, label.count]);
      if (item.dataset.mode !== "view" || item.dataset.looks !== looks) {
        const action = item.contains(document.activeElement) ? document.activeElement.dataset.action : null;
        item.dataset.mode = "view";
        item.dataset.looks = looks;
        fill(item, labelView(label));
        if (action) $(`[data-action="${action}"]`, item)?.focus();
      }
    }
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null);
  });
}

function startEdit(id) {
  state.editing = id; // another open form closes without saving
  render();
  $("input[name=name]", items.get(id))?.focus();
}

function stopEdit(id) {
  if (state.editing !== id) return;
  state.editing = null;
  render();
  $("[data-action=edit]", items.get(id))?.focus();
}

async function remove(id) {
  const label = state.labels.find((item) => item.id === id);
  if (!label) return;
  const count = label.count || 0;
  const warning =
    count === 1 ? " It is taken off the sample that carries it." : count ? ` It is taken off the ${count} samples that carry it.` : "";
  if (!window.confirm(`Delete the label "${label.name}"?${warning}`)) return;
  try {
    await api("DELETE", `/api/labels/${id}`);
  } catch (error) {
    showProblem(error.status === 404 ? `${label.name} was already deleted.` : error.message);
    return;
  }
  showProblem("");
  state.labels = state.labels.filter((item) => item.id !== id);
  if (state.editing === id) state.editing = null;
  render();
  toast(`Deleted ${label.name}`);
  $("#new-label-name").focus();
}

// --- Creating -------------------------------------------------------------------------------------------------------

const createForm = $("#create-label");
const syncCreatePicker = bindColor(createForm.elements.color, $("[data-picker]", createForm));

onSubmit(createForm, async (form) => {
  const body = readForm(form);
  if (!body.name) throw new FieldErrors({ name: "Enter a name." });
  let label;
  try {
    label = await api("POST", "/api/labels", body);
  } catch (error) {
    throw placeError(error);
  }
  form.reset();
  syncCreatePicker();
  upsert(label);
  render();
  toast(`Created ${label.name}`);
  form.elements.name.focus();
});

// --- Loading and live updates ---------------------------------------------------------------------------------------

async function load() {
  try {
    state.labels = await api("GET", "/api/labels");
  } catch (error) {
    showProblem(`Could not load the labels: ${error.message}`);
    return;
  }
  state.loaded = true;
  showProblem("");
  sortLabels();
  if (state.editing !== null && !state.labels.some((label) => label.id === state.editing)) state.editing = null;
  render();
}

live.on("labels", ({ operation, data }) => {
  if (!state.loaded) return;
  if (operation === "delete") {
    const gone = new Set(Array.isArray(data) ? data : [data]);
    state.labels = state.labels.filter((label) => !gone.has(label.id));
    if (gone.has(state.editing)) {
      state.editing = null;
      toast("The label you were editing was deleted.", { error: true });
    }
    render();
    return;
  }
  if (data?.id === undefined) return;
  upsert(data);
  render();
});

live.onReconnect(load);

load();
