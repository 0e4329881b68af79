// Home: a summary of the signed-in account that follows `users` events about this user.
import { $, fill, formatDate, getAccount, h, live, PERMISSIONS, roleLabel } from "../virtool/virtool.js";

const summary = $("#account-summary");
const permissions = $("#account-permissions");
const problem = $("#home-error");
let me = null;

function setValue(key, ...content) {
  fill($(`[data-key="${key}"]`, summary), ...content);
}

function render(account) {
  me = account;
  $("#home-handle").textContent = account.handle;
  setValue("handle", account.handle);
  setValue("role", h("span", { class: account.administrator_role ? "badge role" : "badge", text: roleLabel(account.administrator_role) }));
  setValue(
    "groups",
    account.groups.length
      ? h("ul", { class: "tags" }, account.groups.map((group) => h("li", { class: "badge", text: group.name })))
      : h("span", { class: "muted", text: "None" }),
  );
  setValue("primary_group", account.primary_group ? account.primary_group.name : h("span", { class: "muted", text: "None" }));
  setValue("last_password_change", formatDate(account.last_password_change));
  fill(
    permissions,
    Object.entries(PERMISSIONS).map(([name, label]) => {
      const granted = Boolean(account.permissions?.[name]);
      return h("li", { class: granted ? "granted" : "" }, label, h("span", { class: "visually-hidden", text: granted ? " (granted)" : " (not granted)" }));
    }),
  );
  summary.removeAttribute("aria-busy");
  permissions.removeAttribute("aria-busy");
  $("#getting-started").hidden = !account.administrator_role;
  $("#full-admin-note").hidden = account.administrator_role !== "full";
}

async function load() {
  try {
    render(await getAccount({ refresh: true }));
    problem.hidden = true;
  } catch (error) {
    problem.textContent = `Could not load your account: ${error.message}`;
    problem.hidden = false;
  }
}

// A `users` event carries the user document; the account adds email and settings, so read it again.
live.on("users", (message) => {
  if (!me) return;
  if (message.operation === "update" && message.data?.id === me.id) load();
});
// Renaming a group, or changing its permissions, changes what this page shows for its members.
live.on("groups", (message) => {
  if (!me || message.operation !== "update") return;
  if (me.groups.some((group) => group.id === message.data?.id)) load();
});
live.onReconnect(load);

load();
