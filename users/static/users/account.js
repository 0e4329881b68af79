// Account: email, password, display settings and API keys.
import {
  $,
  $$,
  api,
  attachToField,
  fill,
  FieldErrors,
  formatDate,
  getAccount,
  h,
  live,
  onSubmit,
  PERMISSIONS,
  roleLabel,
  showFormErrors,
  syncChecks,
  toast,
} from "../virtool/virtool.js";

const problem = $("#account-error");
let account = null;
let keys = [];
let instance = null;
const openKeys = new Set();

/** Whether the user may give a key this permission: granted through a group, or a full administrator. */
function holds(name) {
  return Boolean(account?.permissions?.[name]) || account?.administrator_role === "full";
}

function showProblem(error) {
  problem.textContent = error ? `Something went wrong: ${error.message}` : "";
  problem.hidden = !error;
}

// --- Account -------------------------------------------------------------------------------------------------

function renderAccount() {
  $("#account-handle").textContent = account.handle;
  const role = $("#account-role");
  role.textContent = roleLabel(account.administrator_role);
  role.className = account.administrator_role ? "badge role" : "badge";
  $("#password-changed").textContent = formatDate(account.last_password_change);
  const email = $("#account-email");
  if (document.activeElement !== email) email.value = account.email || "";
  const form = $("#settings-form");
  for (const [name, value] of Object.entries(account.settings || {})) {
    const control = form.elements.namedItem(name);
    if (!control) continue;
    if (control.type === "checkbox") control.checked = Boolean(value);
    else control.value = value;
  }
  renderCreatePermissions();
  renderKeys();
}

async function loadAccount() {
  account = await getAccount({ refresh: true });
  renderAccount();
}

onSubmit($("#email-form"), async (form) => {
  account = { ...account, ...(await api("PATCH", "/api/account", { email: form.elements.email.value.trim() })) };
  renderAccount();
  toast("Email saved");
});

onSubmit($("#password-form"), async (form) => {
  const old_password = form.elements.old_password.value;
  const password = form.elements.password.value;
  const missing = {};
  if (!old_password) missing.old_password = "Enter your current password.";
  if (!password) missing.password = "Enter a new password.";
  else if (password !== form.elements.confirm.value) missing.confirm = "The passwords do not match.";
  if (Object.keys(missing).length) throw new FieldErrors(missing);
  try {
    account = { ...account, ...(await api("PATCH", "/api/account", { old_password, password })) };
  } catch (error) {
    attachToField(error, "old_password", (message) => message === "Invalid credentials");
    attachToField(error, "password", (message) => message.startsWith("Password"));
    throw error;
  }
  form.reset();
  renderAccount();
  toast("Password changed");
});

// --- Display settings: saved on change ------------------------------------------------------------------------

$("#settings-form").addEventListener("change", async (event) => {
  const control = event.target;
  const form = control.form;
  const value = control.type === "checkbox" ? control.checked : control.value;
  form.setAttribute("aria-busy", "true");
  try {
    const settings = await api("PATCH", "/api/account/settings", { [control.name]: value });
    account = { ...account, settings };
    toast("Display settings saved");
    showFormErrors(form, null);
  } catch (error) {
    showFormErrors(form, error);
    if (control.type === "checkbox") control.checked = !value;
    else control.value = account.settings[control.name];
  } finally {
    form.removeAttribute("aria-busy");
  }
});

// --- Instance API setting ---------------------------------------------------------------------------------------

function renderApiStatus() {
  const status = $("#api-status");
  if (!instance) return;
  if (instance.enable_api) {
    status.className = "notice";
    fill(status, "API access is enabled on this instance: keys authenticate requests to /api.");
    return;
  }
  status.className = "notice warning";
  const admin = account && account.administrator_role && ["full", "settings"].includes(account.administrator_role);
  fill(
    status,
    h("strong", { text: "API access is disabled on this instance. " }),
    "Keys can be created, but they will not authenticate requests until an administrator turns on ",
    h("em", { text: "Enable API" }),
    " in ",
    admin ? h("a", { href: "/administration/settings", text: "Administration › Settings" }) : "Administration › Settings",
    ".",
  );
}

// --- API keys -------------------------------------------------------------------------------------------------

function permissionItems(current = {}) {
  return Object.entries(PERMISSIONS).map(([name, label]) => ({
    value: name,
    label,
    checked: Boolean(current[name]) && holds(name),
    disabled: !holds(name),
    hint: holds(name) ? null : "You do not have this permission",
  }));
}

function permissionBoxes(current) {
  const holder = h("div", { class: "checks" });
  syncChecks(holder, "permission", permissionItems(current));
  return holder;
}

function readPermissions(root) {
  return Object.fromEntries($$("input[name=permission]", root).map((input) => [input.value, input.checked]));
}

function renderCreatePermissions() {
  const holder = $("#key-permissions");
  syncChecks(holder, "permission", permissionItems(readPermissions(holder)));
}

function renderKeys() {
  const list = $("#key-list");
  list.removeAttribute("aria-busy");
  if (!keys.length) {
    fill(list, h("p", { class: "empty", text: "You have no API keys." }));
    return;
  }
  fill(list, keys.map(renderKey));
}

function renderKey(key) {
  const granted = Object.entries(key.permissions || {}).filter(([, value]) => value).length;
  const form = h(
    "form",
    { novalidate: true },
    h("p", { class: "form-error", role: "alert" }),
    h("fieldset", { "data-field": "permissions" }, h("legend", { text: "Permissions" }), permissionBoxes(key.permissions)),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary", text: "Save permissions" }),
      h("button", {
        type: "button",
        class: "danger",
        text: "Delete key",
        onClick: async () => {
          if (!window.confirm(`Delete the API key "${key.name}"? Programs using it will stop working.`)) return;
          try {
            await api("DELETE", `/api/account/keys/${encodeURIComponent(key.id)}`);
            keys = keys.filter((item) => item.id !== key.id);
            openKeys.delete(key.id);
            renderKeys();
            toast(`Deleted key "${key.name}"`);
          } catch (error) {
            showFormErrors(form, error);
          }
        },
      }),
    ),
  );
  onSubmit(form, async () => {
    const updated = await api("PATCH", `/api/account/keys/${encodeURIComponent(key.id)}`, { permissions: readPermissions(form) });
    keys = keys.map((item) => (item.id === key.id ? updated : item));
    renderKeys();
    $(`details[data-id="${CSS.escape(key.id)}"] button[type=submit]`)?.focus();
    toast(`Saved permissions of "${key.name}"`);
  });
  const details = h(
    "details",
    { class: "key", open: openKeys.has(key.id), dataset: { id: key.id } },
    h(
      "summary",
      {},
      h("strong", { text: key.name }),
      h("code", { class: "muted small", text: key.id }),
      h("span", { class: "muted small", text: `created ${formatDate(key.created_at)}` }),
      h("span", { class: "badge", text: `${granted} permission${granted === 1 ? "" : "s"}` }),
    ),
    h("div", { class: "key-body" }, form),
  );
  details.addEventListener("toggle", () => (details.open ? openKeys.add(key.id) : openKeys.delete(key.id)));
  return details;
}

onSubmit($("#key-form"), async (form) => {
  const name = form.elements.name.value.trim();
  if (!name) throw new FieldErrors({ name: "Give the key a name." });
  const created = await api("POST", "/api/account/keys", { name, permissions: readPermissions($("#key-permissions")) });
  const { key: secret, ...document } = created;
  keys = [document, ...keys.filter((item) => item.id !== document.id)];
  renderKeys();
  form.reset();
  renderCreatePermissions();
  const box = $("#new-key");
  $("#new-key-value").value = secret;
  $("#copy-key").textContent = "Copy";
  box.hidden = false;
  box.focus();
});

$("#copy-key").addEventListener("click", async () => {
  const input = $("#new-key-value");
  const button = $("#copy-key");
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    // The clipboard API needs a secure context; selecting and copying works on plain http too.
    input.select();
    document.execCommand("copy");
  }
  button.textContent = "Copied";
  toast("Key copied to the clipboard");
});

$("#dismiss-key").addEventListener("click", () => {
  $("#new-key-value").value = "";
  $("#new-key").hidden = true;
  $("#key-name").focus();
});

// --- Loading and live updates ------------------------------------------------------------------------------------

async function load() {
  try {
    const [accountDocument, keyDocuments, settings] = await Promise.all([
      getAccount({ refresh: true }),
      api("GET", "/api/account/keys"),
      api("GET", "/api/settings"),
    ]);
    account = accountDocument;
    keys = [...keyDocuments].sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    instance = settings;
    const curl = $("#curl-example");
    curl.textContent = `curl -u ${account.handle}:KEY ${window.location.origin}/api/account`;
    $("#minimum-length").textContent = String(settings.minimum_password_length);
    renderAccount();
    renderApiStatus();
    showProblem(null);
  } catch (error) {
    showProblem(error);
  }
}

live.on("users", (message) => {
  if (account && message.operation === "update" && message.data?.id === account.id) {
    // Permissions may have changed: keys are re-read too, since the server narrows them to what the user holds.
    Promise.all([loadAccount(), api("GET", "/api/account/keys").then((documents) => (keys = documents))])
      .then(renderKeys)
      .catch(showProblem);
  }
});
live.on("settings", (message) => {
  if (message.operation === "update" && message.data) {
    instance = message.data;
    renderApiStatus();
    $("#minimum-length").textContent = String(instance.minimum_password_length);
  }
});
live.onReconnect(load);

load();
