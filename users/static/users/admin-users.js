// Administration › Users: a searchable list that follows `users` events, a create form and a per-user editor.
import {
  $,
  $$,
  api,
  attachToField,
  clearFormErrors,
  debounce,
  fill,
  FieldErrors,
  formatDate,
  getAccount,
  h,
  live,
  onPager,
  onSearch,
  onSubmit,
  renderPager,
  roleLabel,
  showFormErrors,
  syncChecks,
  toast,
} from "../virtool/virtool.js";

const state = {
  me: null,
  users: [],
  find: "",
  page: 1,
  pageCount: 0,
  groups: [],
  roles: [],
  selected: null,
};

const problem = $("#section-error");
const table = $("#user-table");
const tbody = $("tbody", table);
const editor = $("#user-editor");

function showProblem(error) {
  if (error?.status === 403) problem.textContent = "Your administrator role does not include managing users.";
  else problem.textContent = error ? `Something went wrong: ${error.message}` : "";
  problem.hidden = !error;
}

// --- The list ----------------------------------------------------------------------------------------------------

let listRequest = 0;
async function loadUsers() {
  const request = ++listRequest;
  const params = new URLSearchParams({ find: state.find, page: String(state.page) });
  try {
    const result = await api("GET", `/api/users?${params}`);
    if (request !== listRequest) return; // a newer search answered first
    if (result.page_count && state.page > result.page_count) {
      state.page = result.page_count;
      await loadUsers();
      return;
    }
    state.users = result.documents;
    state.pageCount = result.page_count;
    const count = $("#user-count");
    count.textContent = state.find
      ? `${result.found_count} of ${result.total_count} users match "${state.find}".`
      : `${result.total_count} user${result.total_count === 1 ? "" : "s"}.`;
    renderPager($("#user-pager"), result);
    renderRows();
    showProblem(null);
  } catch (error) {
    if (request === listRequest) showProblem(error);
  } finally {
    if (request === listRequest) table.removeAttribute("aria-busy");
  }
}

const reloadSoon = debounce(loadUsers, 200);

function renderRows() {
  if (!state.users.length) {
    fill(tbody, h("tr", {}, h("td", { colspan: 4, class: "empty", text: state.find ? "No users match." : "No users yet." })));
    return;
  }
  fill(tbody, state.users.map(renderRow));
}

function renderRow(user) {
  const selected = state.selected?.id === user.id;
  return h(
    "tr",
    { class: selected ? "selected" : "", dataset: { id: String(user.id) } },
    h(
      "td",
      {},
      h("button", {
        type: "button",
        class: "link-button",
        "aria-controls": "user-editor",
        "aria-current": selected ? "true" : null,
        text: user.handle,
        onClick: () => select(user.id),
      }),
    ),
    h("td", {}, h("span", { class: user.administrator_role ? "badge role" : "badge", text: roleLabel(user.administrator_role) })),
    h(
      "td",
      {},
      h("span", { class: user.active ? "badge ok" : "badge off", text: user.active ? "Active" : "Inactive" }),
      user.force_reset ? [" ", h("span", { class: "badge", text: "Must reset password" })] : null,
    ),
    h(
      "td",
      {},
      user.groups.length
        ? h("ul", { class: "tags" }, user.groups.map((group) => h("li", { class: "badge", text: group.name })))
        : h("span", { class: "muted", text: "—" }),
    ),
  );
}

$("#user-search").addEventListener("submit", (event) => event.preventDefault());
onSearch(
  $("#user-find"),
  (find) => {
    state.find = find;
    state.page = 1;
    loadUsers();
  },
  250,
);
onPager($("#user-pager"), (step) => {
  state.page = Math.max(1, state.page + step);
  loadUsers();
});

// --- The editor ----------------------------------------------------------------------------------------------------

async function select(id, { focus = true } = {}) {
  try {
    state.selected = await api("GET", `/api/users/${id}`);
  } catch (error) {
    toast(error.status === 404 ? "That user no longer exists." : error.message, { error: true });
    return;
  }
  history.replaceState(null, "", `#user-${id}`);
  for (const form of $$("form", editor)) clearFormErrors(form);
  $("#user-password").reset();
  renderEditor();
  renderRows();
  editor.hidden = false;
  if (focus) editor.focus();
}

function closeEditor() {
  state.selected = null;
  editor.hidden = true;
  history.replaceState(null, "", window.location.pathname);
  renderRows();
}

function renderEditor() {
  const user = state.selected;
  if (!user) return;
  const self = user.id === state.me?.id;
  const fullAdmin = state.me?.administrator_role === "full";
  $("#editor-handle").textContent = user.handle;
  $("#editor-meta").textContent = `${roleLabel(user.administrator_role)} · password changed ${formatDate(user.last_password_change)}`;
  $("#editor-self").hidden = !self;

  const flags = $("#user-flags");
  flags.elements.active.checked = user.active;
  flags.elements.active.disabled = self;
  flags.elements.force_reset.checked = user.force_reset;

  const role = $("#user-role");
  fill(
    role,
    h("option", { value: "", text: "None (ordinary user)" }),
    state.roles.map((item) => h("option", { value: item.id, text: item.name })),
  );
  role.value = user.administrator_role || "";
  role.disabled = !fullAdmin || self;
  const description = state.roles.find((item) => item.id === user.administrator_role)?.description;
  $("#role-hint").textContent = !fullAdmin
    ? "Only full administrators can change roles."
    : description || "Administrator roles give access to the Administration pages.";

  const memberOf = new Set(user.groups.map((group) => group.id));
  const checks = $("#user-group-checks");
  if (state.groups.length) {
    syncChecks(
      checks,
      "group",
      state.groups.map((group) => ({ value: group.id, label: group.name, checked: memberOf.has(group.id) })),
    );
  } else {
    delete checks.dataset.signature;
    fill(checks, h("p", { class: "muted small" }, "No groups yet. ", h("a", { href: "/administration/groups", text: "Create one" }), "."));
  }
  const primary = $("#primary-group");
  fill(
    primary,
    h("option", { value: "", text: "None" }),
    user.groups.map((group) => h("option", { value: String(group.id), text: group.name })),
  );
  primary.value = user.primary_group ? String(user.primary_group.id) : "";
  primary.disabled = !user.groups.length;
}

function applyUser(user) {
  state.selected = user;
  const index = state.users.findIndex((item) => item.id === user.id);
  if (index >= 0) state.users[index] = user;
  renderEditor();
  renderRows();
}

async function patchSelected(form, body, done) {
  const id = state.selected.id;
  try {
    applyUser(await api("PATCH", `/api/users/${id}`, body));
    clearFormErrors(form);
    toast(done);
  } catch (error) {
    showFormErrors(form, error);
    renderEditor(); // put the controls back to what the server has
  }
}

$("#user-flags").addEventListener("change", async (event) => {
  const form = event.currentTarget;
  const control = event.target;
  const handle = state.selected.handle;
  if (control.name === "active") {
    await patchSelected(form, { active: control.checked }, `${handle} is now ${control.checked ? "active" : "inactive"}`);
  } else if (control.name === "force_reset") {
    await patchSelected(form, { force_reset: control.checked }, control.checked ? `${handle} must reset their password` : "Saved");
  } else if (control.name === "role") {
    const id = state.selected.id;
    try {
      applyUser(await api("PUT", `/api/admin/users/${id}/role`, { role: control.value || null }));
      clearFormErrors(form);
      toast(`${handle}: ${roleLabel(control.value || null)}`);
    } catch (error) {
      showFormErrors(form, error);
      renderEditor();
    }
  }
});

$("#user-groups").addEventListener("change", async (event) => {
  const form = event.currentTarget;
  const control = event.target;
  if (control.name === "group") {
    const ids = $$("input[name=group]", form)
      .filter((input) => input.checked)
      .map((input) => Number(input.value));
    await patchSelected(form, { groups: ids }, "Groups saved");
  } else if (control.name === "primary_group") {
    await patchSelected(form, { primary_group: control.value ? Number(control.value) : null }, "Primary group saved");
  }
});

onSubmit($("#user-password"), async (form) => {
  const password = form.elements.password.value;
  if (!password) throw new FieldErrors({ password: "Enter the new password." });
  try {
    applyUser(await api("PATCH", `/api/users/${state.selected.id}`, { password }));
  } catch (error) {
    throw attachToField(error, "password", (message) => message.startsWith("Password"));
  }
  form.reset();
  toast(`Password of ${state.selected.handle} changed`);
});

$("#editor-close").addEventListener("click", closeEditor);

// --- Creating users ------------------------------------------------------------------------------------------------

onSubmit($("#create-user"), async (form) => {
  const handle = form.elements.handle.value.trim();
  const password = form.elements.password.value;
  const missing = {};
  if (!handle) missing.handle = "Enter a username.";
  if (!password) missing.password = "Enter a password.";
  if (Object.keys(missing).length) throw new FieldErrors(missing);
  let user;
  try {
    user = await api("POST", "/api/users", { handle, password, force_reset: form.elements.force_reset.checked });
  } catch (error) {
    attachToField(error, "handle", (message) => message.includes("User already exists") || message.startsWith("Reserved"));
    throw attachToField(error, "password", (message) => message.startsWith("Password"));
  }
  form.reset();
  toast(`Created ${user.handle}`);
  await loadUsers();
  await select(user.id);
});

// --- Live updates --------------------------------------------------------------------------------------------------

live.on("users", ({ operation, data }) => {
  if (operation === "delete") {
    const gone = new Set(data);
    state.users = state.users.filter((user) => !gone.has(user.id));
    if (state.selected && gone.has(state.selected.id)) closeEditor();
    renderRows();
    reloadSoon();
    return;
  }
  if (operation === "insert") {
    reloadSoon();
    return;
  }
  if (state.me && data.id === state.me.id) state.me = { ...state.me, administrator_role: data.administrator_role };
  const listed = state.users.some((user) => user.id === data.id);
  if (state.selected?.id === data.id) {
    applyUser(data);
  } else if (listed) {
    state.users = state.users.map((user) => (user.id === data.id ? data : user));
    renderRows();
  }
});

live.on("groups", ({ operation, data }) => {
  if (operation === "delete") {
    const gone = new Set(data);
    state.groups = state.groups.filter((group) => !gone.has(group.id));
  } else {
    const group = { id: data.id, name: data.name };
    state.groups = [...state.groups.filter((item) => item.id !== group.id), group].sort((a, b) => a.name.localeCompare(b.name));
    if (operation === "update") reloadSoon(); // the list shows group names
  }
  renderEditor();
});

async function loadAll() {
  try {
    const [me, groups, roles] = await Promise.all([
      getAccount({ refresh: true }),
      api("GET", "/api/groups"),
      api("GET", "/api/admin/roles"),
    ]);
    state.me = me;
    state.groups = groups;
    state.roles = roles;
  } catch (error) {
    showProblem(error);
    return;
  }
  await loadUsers();
  if (state.selected) {
    await select(state.selected.id, { focus: false });
  } else {
    const match = /^#user-(\d+)$/.exec(window.location.hash);
    if (match) await select(Number(match[1]));
  }
}

// Links to `#user-<id>` on this page select that user.
window.addEventListener("hashchange", () => {
  const match = /^#user-(\d+)$/.exec(window.location.hash);
  if (match) select(Number(match[1]));
});

live.onReconnect(loadAll);
loadAll();
