// Administration › Groups: a list that follows `groups` events, a create form and an editor for one group.
import {
  $,
  api,
  attachToField,
  clearFormErrors,
  debounce,
  fill,
  FieldErrors,
  h,
  live,
  onSubmit,
  PERMISSIONS,
  showFormErrors,
  syncChecks,
  toast,
} from "../virtool/virtool.js";

const state = { groups: [], selected: null };

const problem = $("#section-error");
const list = $("#group-list");
const editor = $("#group-editor");

function showProblem(error) {
  problem.textContent = error ? `Something went wrong: ${error.message}` : "";
  problem.hidden = !error;
}

function sortGroups() {
  state.groups.sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base" }));
}

// --- The list ----------------------------------------------------------------------------------------------------

function renderList() {
  list.removeAttribute("aria-busy");
  if (!state.groups.length) {
    fill(list, h("li", { class: "empty", text: "No groups yet. Create the first one below." }));
    return;
  }
  fill(
    list,
    state.groups.map((group) =>
      h(
        "li",
        {},
        h("button", {
          type: "button",
          class: "item",
          "aria-controls": "group-editor",
          "aria-current": state.selected?.id === group.id ? "true" : null,
          dataset: { id: String(group.id) },
          text: group.name,
          onClick: () => select(group.id),
        }),
      ),
    ),
  );
}

async function loadGroups() {
  try {
    state.groups = await api("GET", "/api/groups");
    sortGroups();
    renderList();
    showProblem(null);
  } catch (error) {
    showProblem(error);
  }
}

// --- The editor ----------------------------------------------------------------------------------------------------

async function select(id, { focus = true } = {}) {
  let group;
  try {
    group = await api("GET", `/api/groups/${id}`);
  } catch (error) {
    toast(error.status === 404 ? "That group no longer exists." : error.message, { error: true });
    return;
  }
  const changed = state.selected?.id !== group.id;
  state.selected = group;
  history.replaceState(null, "", `#group-${id}`);
  if (changed) {
    clearFormErrors($("#group-name"));
    clearFormErrors($("#group-permissions"));
    $("#group-name-input").value = group.name;
  }
  renderEditor();
  renderList();
  if (focus) editor.focus();
}

function clearSelection(message) {
  state.selected = null;
  history.replaceState(null, "", window.location.pathname);
  renderEditor();
  renderList();
  if (message) toast(message);
}

function renderEditor() {
  const group = state.selected;
  $("#group-placeholder").hidden = Boolean(group);
  $("#group-body").hidden = !group;
  $("#group-editor-title").textContent = group ? group.name : "Select a group";
  if (!group) return;
  const name = $("#group-name-input");
  if (document.activeElement !== name) name.value = group.name;
  syncChecks(
    $("#group-permission-checks"),
    "permission",
    Object.entries(PERMISSIONS).map(([permission, label]) => ({
      value: permission,
      label,
      checked: Boolean(group.permissions?.[permission]),
    })),
  );
  fill(
    $("#group-members"),
    group.users?.length
      ? group.users.map((user) => h("li", { class: "badge", text: user.handle }))
      : h("li", { class: "muted", text: "No members. Add users to this group from the Users page." }),
  );
}

function applyGroup(group) {
  state.selected = group;
  state.groups = state.groups.map((item) => (item.id === group.id ? { id: group.id, name: group.name } : item));
  sortGroups();
  renderEditor();
  renderList();
}

onSubmit($("#group-name"), async (form) => {
  const name = form.elements.name.value.trim();
  if (!name) throw new FieldErrors({ name: "Enter a name." });
  try {
    applyGroup(await api("PATCH", `/api/groups/${state.selected.id}`, { name }));
  } catch (error) {
    throw attachToField(error, "name");
  }
  toast(`Renamed to ${name}`);
});

$("#group-permissions").addEventListener("change", async (event) => {
  const form = event.currentTarget;
  const control = event.target;
  if (control.name !== "permission" || !state.selected) return;
  const permission = control.value;
  form.setAttribute("aria-busy", "true");
  try {
    applyGroup(await api("PATCH", `/api/groups/${state.selected.id}`, { permissions: { [permission]: control.checked } }));
    clearFormErrors(form);
    toast(`${PERMISSIONS[permission]}: ${control.checked ? "granted" : "revoked"}`);
  } catch (error) {
    showFormErrors(form, error);
    renderEditor();
  } finally {
    form.removeAttribute("aria-busy");
  }
});

$("#group-delete").addEventListener("click", async () => {
  const group = state.selected;
  if (!group) return;
  const members = group.users?.length || 0;
  const warning = members ? ` Its ${members} member${members === 1 ? "" : "s"} will lose the permissions it grants.` : "";
  if (!window.confirm(`Delete the group "${group.name}"?${warning}`)) return;
  try {
    await api("DELETE", `/api/groups/${group.id}`);
  } catch (error) {
    showFormErrors($("#group-name"), error);
    return;
  }
  state.groups = state.groups.filter((item) => item.id !== group.id);
  clearSelection(`Deleted ${group.name}`);
  $("#new-group-name").focus();
});

// --- Creating groups -----------------------------------------------------------------------------------------------

onSubmit($("#create-group"), async (form) => {
  const name = form.elements.name.value.trim();
  if (!name) throw new FieldErrors({ name: "Enter a name." });
  let group;
  try {
    group = await api("POST", "/api/groups", { name });
  } catch (error) {
    throw attachToField(error, "name");
  }
  form.reset();
  if (!state.groups.some((item) => item.id === group.id)) state.groups.push({ id: group.id, name: group.name });
  sortGroups();
  toast(`Created ${group.name}`);
  await select(group.id);
});

// --- Live updates --------------------------------------------------------------------------------------------------

live.on("groups", ({ operation, data }) => {
  if (operation === "delete") {
    const gone = new Set(data);
    state.groups = state.groups.filter((group) => !gone.has(group.id));
    if (state.selected && gone.has(state.selected.id)) clearSelection("The group you were editing was deleted.");
    else renderList();
    return;
  }
  state.groups = [...state.groups.filter((group) => group.id !== data.id), { id: data.id, name: data.name }];
  sortGroups();
  if (state.selected?.id === data.id) applyGroup(data);
  else renderList();
});

// Membership changes arrive as `users` events; re-read the open group so that its member list stays right.
const refreshSelected = debounce(() => {
  if (state.selected) select(state.selected.id, { focus: false });
}, 300);
live.on("users", refreshSelected);

async function loadAll() {
  await loadGroups();
  const match = /^#group-(\d+)$/.exec(window.location.hash);
  const id = state.selected?.id ?? (match ? Number(match[1]) : null);
  if (id !== null) await select(id, { focus: false });
  else renderEditor();
}

// Links to `#group-<id>` on this page select that group.
window.addEventListener("hashchange", () => {
  const match = /^#group-(\d+)$/.exec(window.location.hash);
  if (match) select(Number(match[1]));
});

live.onReconnect(loadAll);
loadAll();
