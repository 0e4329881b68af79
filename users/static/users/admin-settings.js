// Administration › Settings: every instance setting in one form, saved with PATCH; follows `settings` events.
import {
  $,
  $$,
  api,
  FieldErrors,
  getAccount,
  h,
  hasRole,
  live,
  loadInstanceMessage,
  onSubmit,
  toast,
} from "../virtool/virtool.js";

const form = $("#settings-form");
const messageForm = $("#message-form");
const problem = $("#section-error");
const dirtyNote = $("#settings-dirty");

let saved = null;
const dirty = new Set();

// Nothing can be edited until the current values are in (typing early would be overwritten by them).
for (const control of [...$$("input, select, textarea, button", form), ...$$("input, textarea, button", messageForm)]) {
  control.disabled = true;
}

const KEYS = [
  "default_source_types",
  "enable_api",
  "enable_sentry",
  "hmm_slug",
  "minimum_password_length",
  "sample_all_read",
  "sample_all_write",
  "sample_group",
  "sample_group_read",
  "sample_group_write",
  "sample_unique_names",
];

function showProblem(error) {
  problem.textContent = error ? `Something went wrong: ${error.message}` : "";
  problem.hidden = !error;
}

/** The form's value of one setting, in the API's type. */
function read(name) {
  const control = form.elements.namedItem(name);
  if (control.type === "checkbox") return control.checked;
  if (name === "default_source_types") {
    return control.value
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean);
  }
  if (name === "minimum_password_length") return control.value === "" ? NaN : Number(control.value);
  if (name === "sample_group") return control.value || null;
  return control.value;
}

function write(name, value) {
  const control = form.elements.namedItem(name);
  if (control.type === "checkbox") control.checked = Boolean(value);
  else if (name === "default_source_types") control.value = (value || []).join(", ");
  else if (name === "sample_group") {
    // `null` (never chosen) is shown as its own option so that saving does not silently pick one.
    let unset = $("option[value='']", control);
    if (value === null && !unset) {
      unset = h("option", { value: "", text: "Not set" });
      control.prepend(unset);
    }
    control.value = value ?? "";
  } else control.value = value ?? "";
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function updateDirty(name) {
  if (same(read(name), saved[name])) dirty.delete(name);
  else dirty.add(name);
  dirtyNote.textContent = dirty.size ? `${dirty.size} unsaved change${dirty.size === 1 ? "" : "s"}` : "";
}

function render({ keepDirty = true } = {}) {
  for (const name of KEYS) {
    if (keepDirty && dirty.has(name)) continue;
    write(name, saved[name]);
  }
  for (const name of KEYS) updateDirty(name);
  form.removeAttribute("aria-busy");
}

form.addEventListener("input", (event) => {
  if (saved && KEYS.includes(event.target.name)) updateDirty(event.target.name);
});
form.addEventListener("change", (event) => {
  if (saved && KEYS.includes(event.target.name)) updateDirty(event.target.name);
});
form.addEventListener("reset", (event) => {
  event.preventDefault();
  dirty.clear();
  render({ keepDirty: false });
});

onSubmit(form, async () => {
  const body = {};
  for (const name of KEYS) if (!same(read(name), saved[name])) body[name] = read(name);
  if ("minimum_password_length" in body && !Number.isInteger(body.minimum_password_length)) {
    throw new FieldErrors({ minimum_password_length: "Enter a whole number." });
  }
  if (!Object.keys(body).length) {
    toast("Nothing to save");
    return;
  }
  saved = await api("PATCH", "/api/settings", body);
  dirty.clear();
  render({ keepDirty: false });
  toast("Settings saved");
});

live.on("settings", ({ operation, data }) => {
  if (operation !== "update" || !data) return;
  const conflicts = [...dirty].filter((name) => !same(data[name], saved?.[name]));
  saved = data;
  render();
  if (conflicts.length) toast("Another administrator changed settings you are editing; your unsaved values are kept.");
});

// --- Instance message ------------------------------------------------------------------------------------------

onSubmit(messageForm, async () => {
  const result = await api("PATCH", "/api/instance_message", {
    message: messageForm.elements.message.value.trim(),
    active: messageForm.elements.active.checked,
  });
  messageForm.elements.message.value = result.message || "";
  messageForm.elements.active.checked = Boolean(result.active);
  loadInstanceMessage();
  toast(result.active ? "Instance message shown" : "Instance message hidden");
});

// --- Loading -----------------------------------------------------------------------------------------------------

async function load() {
  try {
    const [me, settings, message] = await Promise.all([
      getAccount({ refresh: true }),
      api("GET", "/api/settings"),
      api("GET", "/api/instance_message"),
    ]);
    saved = settings;
    render();
    if (message) {
      messageForm.elements.message.value = message.message || "";
      messageForm.elements.active.checked = Boolean(message.active);
    }
    const editable = hasRole(me.administrator_role, "settings");
    $("#settings-readonly").hidden = editable;
    for (const control of [...$$("input, select, textarea, button", form), ...$$("input, textarea, button", messageForm)]) {
      control.disabled = !editable;
    }
    showProblem(null);
  } catch (error) {
    showProblem(error);
  }
}

live.onReconnect(load);
load();
