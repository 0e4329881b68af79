// Virtool browser shell: the API client, the live websocket, DOM helpers and the base-layout behaviour.
// Every page module imports this one; ES modules are evaluated once, so a tab has one socket.

// --- Constants shared by the pages ------------------------------------------------------------------------

export const PERMISSIONS = {
  cancel_job: "Cancel jobs",
  create_ref: "Create references",
  create_sample: "Create samples",
  modify_hmm: "Modify HMMs",
  modify_subtraction: "Modify subtractions",
  remove_file: "Remove files",
  remove_job: "Remove jobs",
  upload_file: "Upload files",
};

export const ROLES = {
  full: "Full",
  settings: "Settings",
  spaces: "Spaces",
  users: "Users",
  base: "Base",
};

const ROLE_RANK = { base: 1, users: 2, spaces: 3, settings: 4, full: 5 };

/** True when `role` includes `required` (each administrator role includes the ones below it). */
export function hasRole(role, required) {
  return Boolean(role) && (ROLE_RANK[role] || 0) >= (ROLE_RANK[required] || 0);
}

/** A readable label for an administrator role. */
export function roleLabel(role) {
  return role ? `${ROLES[role] || role} administrator` : "User";
}

// --- API ------------------------------------------------------------------------------------------------

/** A field name as people read it: `old_password` → "Old password". */
export function humanize(name) {
  const text = String(name).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Turn an error body into `{message, fields}`.
 * Virtool answers `{id, message}`, or for schema validation a bare array of `{in, loc, msg, type}`.
 */
export function describeError(status, body) {
  const fields = {};
  if (Array.isArray(body)) {
    const lines = [];
    for (const item of body) {
      const loc = Array.isArray(item?.loc) ? item.loc : [];
      const field = loc.find((part) => typeof part === "string" && part !== "__root__");
      const msg = String(item?.msg ?? "is invalid");
      if (field) {
        fields[field] = fields[field] ? `${fields[field]} ${msg}` : msg;
        lines.push(`${humanize(field)}: ${msg}`);
      } else {
        lines.push(msg);
      }
    }
    return { message: lines.join("\n") || "The request was not valid.", fields };
  }
  if (body && typeof body === "object" && typeof body.message === "string" && body.message) {
    return { message: body.message, fields };
  }
  if (status === 0) return { message: "Could not reach the server. Check the connection and try again.", fields };
  if (status >= 500) return { message: `The server failed to handle the request (${status}).`, fields };
  return { message: `The request failed (${status}).`, fields };
}

/** An API failure: `status`, the parsed `body`, a readable `message` and per-field `fields`. */
export class ApiError extends Error {
  constructor(status, body) {
    const { message, fields } = describeError(status, body);
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
    this.fields = fields;
  }
}

/**
 * Call the JSON API on this origin with the session cookie. Returns the parsed body (null for 204).
 * `path` may be given with or without the leading `/api`.
 */
export async function api(method, path, body) {
  const url = path.startsWith("/api") ? path : `/api${path.startsWith("/") ? "" : "/"}${path}`;
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, null);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// --- DOM helpers ----------------------------------------------------------------------------------------

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/**
 * Create an element. `props`: `class`, `text`, `dataset`, `on<Event>` handlers, DOM properties
 * (`value`, `checked`, `disabled`, ...) and otherwise attributes. Children are nodes or strings (as text).
 * Never parses HTML, so user data is always safe.
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2).toLowerCase(), value);
    else if (["value", "checked", "disabled", "selected", "hidden", "readOnly", "required"].includes(key)) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace the children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

let uid = 0;
/** A unique id for label/aria wiring. */
export function nextId(prefix = "vt") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled checkbox: `<label class="check"><input type=checkbox> text</label>`. */
export function checkbox({ name, label, checked = false, disabled = false, hint, onChange }) {
  const input = h("input", { type: "checkbox", name, checked, disabled, onChange });
  const hintNode = hint ? h("span", { class: "hint", text: hint }) : null;
  return h("label", { class: "check" }, input, h("span", {}, label, hintNode));
}

/**
 * Keep a set of checkboxes in `container` in step with `items` ([{value, label, checked, disabled, hint}]).
 * The boxes are only rebuilt when the items themselves change, so a focused box keeps its focus.
 */
export function syncChecks(container, name, items) {
  const signature = JSON.stringify(items.map((item) => [item.value, item.label, item.hint || ""]));
  if (container.dataset.signature !== signature) {
    const focused = container.contains(document.activeElement) ? document.activeElement.value : null;
    fill(
      container,
      items.map((item) => {
        const box = checkbox({ name, label: item.label, hint: item.hint });
        $("input", box).value = String(item.value);
        return box;
      }),
    );
    container.dataset.signature = signature;
    if (focused !== null) $$("input", container).find((input) => input.value === focused)?.focus();
  }
  const inputs = $$("input", container);
  items.forEach((item, index) => {
    inputs[index].checked = Boolean(item.checked);
    inputs[index].disabled = Boolean(item.disabled);
  });
}

/** A sample label as a chip: a dot of its colour and its name (the description as a tooltip). */
export function labelChip(label, extra = {}) {
  const color = /^#[0-9a-f]{6}$/i.test(label.color) ? label.color : "#a0aec0";
  return h(
    "span",
    { class: "label-chip", title: label.description || label.name, ...extra },
    h("span", { class: "label-dot", style: `background:${color}` }),
    label.name,
  );
}

/** Format an ISO date-time for people. */
export function formatDate(value) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

/** Call `fn` once things stop happening for `ms`. */
export function debounce(fn, ms = 250) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Set a node's text only when it differs (no needless mutations for live regions and focus). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** The `[data-part=name]` element inside `root` (rows and cards name their updatable pieces so). */
export function part(root, name) {
  return $(`[data-part="${name}"]`, root);
}

/** Show `message` (and `extra` nodes or text after it) in a notice element, hidden when there is no message. */
export function showNotice(node, message, ...extra) {
  fill(node, message ? [message, ...extra] : []);
  node.hidden = !message;
}

/** A byte count for people: "1.5 MB", "12 bytes" (decimal units). */
export function sizeText(bytes) {
  const value = Number(bytes) || 0;
  if (value >= 1e9) return `${(value / 1e9).toFixed(1)} GB`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)} MB`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} kB`;
  return `${value} bytes`;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element: attributes only (no properties or handlers); children are nodes or text. */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A same-origin path from a `next` parameter, or `fallback` (never an absolute or protocol-relative URL). */
export function safeNext(value, fallback = "/") {
  if (typeof value === "string" && value.startsWith("/") && !value.startsWith("//") && !value.startsWith("/\\")) {
    return value;
  }
  return fallback;
}

/**
 * A document page's delete button. A click clears `notice`, asks `question(doc)` for the document `current()`, and
 * DELETEs `path`. A refusal re-enables the button and shows `refusal(error, doc)` (text, or text and nodes in an
 * array) in `notice`; success calls `onDeleted()` and goes to `listUrl`, which toasts "Deleted <name>".
 */
export function onDelete(button, { current, question, path, notice, refusal, onDeleted, listUrl }) {
  button.addEventListener("click", async () => {
    const doc = current();
    if (!doc) return;
    showNotice(notice, "");
    if (!window.confirm(question(doc))) return;
    button.disabled = true;
    try {
      await api("DELETE", path);
    } catch (error) {
      button.disabled = false;
      showNotice(notice, ...[].concat(refusal(error, doc)));
      return;
    }
    onDeleted();
    toastAfterNavigation(`Deleted ${doc.name}`);
    window.location.assign(listUrl);
  });
}

// --- Relative times ---------------------------------------------------------------------------------------

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** "2 minutes ago", "just now", "in 3 hours". */
export function relativeTime(value, now = Date.now()) {
  const date = new Date(value);
  if (!value || Number.isNaN(date.getTime())) return "—";
  const seconds = Math.round((date.getTime() - now) / 1000);
  if (Math.abs(seconds) < 45) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size * 0.9 || unit === "minute") return RELATIVE.format(Math.round(seconds / size), unit);
  }
  return RELATIVE.format(seconds, "second");
}

/** The full local date and time. */
export function fullTime(value) {
  const date = new Date(value);
  if (!value || Number.isNaN(date.getTime())) return "";
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** A `<time>` showing a relative time with the full timestamp as its title; `refreshTimes` keeps it current. */
export function timeAgo(value) {
  if (!value) return h("span", { class: "muted", text: "—" });
  return h("time", { datetime: value, title: fullTime(value), dataset: { relative: "" }, text: relativeTime(value) });
}

/** Re-read every relative `<time>` under `root`. */
export function refreshTimes(root = document) {
  const now = Date.now();
  for (const node of $$("time[data-relative]", root)) {
    const text = relativeTime(node.getAttribute("datetime"), now);
    if (node.textContent !== text) node.textContent = text;
  }
}

// --- Paginated lists --------------------------------------------------------------------------------------

/** The `page` query parameter as a page number (1 when missing or not a number). */
export function pageParam(params) {
  return Math.max(1, Number.parseInt(params.get("page"), 10) || 1);
}

/** Put a list's state in the address bar (`query` is URLSearchParams) without adding a history entry. */
export function replaceQuery(query, { keepHash = false } = {}) {
  const search = query.toString();
  const hash = keepHash ? window.location.hash : "";
  history.replaceState(null, "", `${window.location.pathname}${search ? `?${search}` : ""}${hash}`);
}

/**
 * Show a `{page, page_count}` API result on a pager (core/templates/includes/pager.html): hidden for one page,
 * "Page n of m", and previous/next disabled at the ends. A null result hides it.
 */
export function renderPager(pager, result) {
  pager.hidden = !result || result.page_count <= 1;
  if (!result) return;
  setText(part(pager, "page"), `Page ${result.page} of ${Math.max(1, result.page_count)}`);
  $("[data-page=previous]", pager).disabled = result.page <= 1;
  $("[data-page=next]", pager).disabled = result.page >= result.page_count;
}

/** Call `move(1)` or `move(-1)` when the pager's next or previous button is pressed. */
export function onPager(pager, move) {
  pager.addEventListener("click", (event) => {
    const button = event.target.closest("[data-page]");
    if (!button || button.disabled) return;
    move(button.dataset.page === "next" ? 1 : -1);
  });
}

/** Call `search(text)` with the trimmed text of a search box once typing pauses for `ms`. */
export function onSearch(input, search, ms = 300) {
  input.addEventListener(
    "input",
    debounce((event) => search(event.target.value.trim()), ms),
  );
}

/**
 * "Showing 26–50 of 80 samples." for a page that does not hold everything found, "3 samples." when it does, and ""
 * when nothing was found. `shown` is how many items the page lists.
 */
export function pageSummary(result, shown, singular, plural = `${singular}s`) {
  const found = result.found_count;
  if (found <= 0) return "";
  const noun = found === 1 ? singular : plural;
  const first = (result.page - 1) * result.per_page + 1;
  const last = Math.min(found, first + shown - 1);
  return found > shown ? `Showing ${first}–${last} of ${found} ${noun}.` : `${found} ${noun}.`;
}

/**
 * Keep one row per item in `container`, in the items' order, reusing the rows in `rows` (a Map of id → row) so
 * that a focused control keeps its focus: `create(item)` makes a new row, `update(row, item)` runs for every item,
 * and the rows of items no longer listed are removed.
 */
export function syncRows(container, rows, items, create, update) {
  const wanted = new Set(items.map((item) => item.id));
  for (const [id, row] of rows) {
    if (!wanted.has(id)) {
      row.remove();
      rows.delete(id);
    }
  }
  items.forEach((item, index) => {
    let row = rows.get(item.id);
    if (!row) {
      row = create(item);
      rows.set(item.id, row);
    }
    update(row, item);
    if (container.children[index] !== row) container.insertBefore(row, container.children[index] || null);
  });
}

/**
 * Uploads this page has just sent, kept until a list of uploads asked for after them includes them. An answer to a
 * list asked for before an upload finished would otherwise drop it, and its selection, from the page.
 * `recent.add(upload)` when a file is in; `const merge = recent.ask()` before asking for the list, then
 * `merge(items)` gives the list with what finished meanwhile.
 */
export function recentUploads() {
  const recent = new Map();
  return {
    add(upload) {
      recent.set(upload.id, { upload, at: performance.now() });
    },
    ask() {
      const askedAt = performance.now();
      return (items) => {
        const listed = new Set(items.map((item) => item.id));
        const kept = [];
        for (const [id, { upload, at }] of recent) {
          if (!listed.has(id) && at > askedAt) kept.push(upload);
          else recent.delete(id); // listed, or gone since: from now on the server's list speaks for it
        }
        return [...kept, ...items];
      };
    },
  };
}

/**
 * The loading of a paginated list: `load()` GETs `url()`; only the latest request's answer counts. While it runs
 * `busy` (the table) has aria-busy. `onError(error)` gets a failure, and `onError(null)` a success first. An answer
 * with pages calls `clampPage(page_count)` first: when it returns true (the page asked for is past the last, as
 * items were removed, and it moved there) the list loads again. Otherwise `onLoad(result)`.
 */
export function listLoader({ url, busy = null, onError, onLoad, clampPage = null }) {
  let sequence = 0;
  async function load() {
    const current = ++sequence;
    busy?.setAttribute("aria-busy", "true");
    let result;
    try {
      result = await api("GET", url());
    } catch (error) {
      if (current === sequence) {
        onError(error);
        busy?.removeAttribute("aria-busy");
      }
      return;
    }
    if (current !== sequence) return; // a newer request (another search, filter or page) is on its way
    onError(null);
    if (clampPage && result.page_count && clampPage(result.page_count)) {
      load();
      return;
    }
    onLoad(result);
  }
  return load;
}

/** A `clampPage` for listLoader: moves `state.page` back to the last page and calls `moved()` (e.g. to update the address). */
export function clampPageOf(state, moved = () => {}) {
  return (count) => {
    if (state.page <= count) return false;
    state.page = count;
    moved();
    return true;
  };
}

// --- Status messages --------------------------------------------------------------------------------------

let toastTimer;
let toastRestoreHandled = false;
/** Announce a short status message (polite live region; errors stay longer). */
export function toast(message, { error = false } = {}) {
  const node = $("#toast");
  if (!node) return;
  // A page restored from the back/forward cache must not show the toast it had when it was left.
  if (!toastRestoreHandled) {
    toastRestoreHandled = true;
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) node.classList.remove("visible");
    });
  }
  node.classList.toggle("error", error);
  node.textContent = message;
  node.classList.add("visible");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => node.classList.remove("visible"), error ? 6000 : 2500);
}

const NEXT_TOAST = "virtool.toast";

/** Show `message` on the next page this tab opens (e.g. "Deleted S1" after leaving a deleted sample's page). */
export function toastAfterNavigation(message) {
  try {
    sessionStorage.setItem(NEXT_TOAST, JSON.stringify({ message, at: Date.now() }));
  } catch {
    // Storage may be disabled; the message is a courtesy.
  }
}

// A message for the next page is shown only if that page opens soon after: one left behind by a navigation that
// did not happen (an error, a closed tab) must not surface later on an unrelated page.
const NEXT_TOAST_MAX_AGE_MS = 10_000;

function showPendingToast() {
  let stored = null;
  try {
    stored = sessionStorage.getItem(NEXT_TOAST);
    sessionStorage.removeItem(NEXT_TOAST);
  } catch {
    return;
  }
  if (!stored) return;
  let pending = null;
  try {
    pending = JSON.parse(stored);
  } catch {
    return; // written by an older page: too old to trust
  }
  if (pending?.message && Date.now() - Number(pending.at) < NEXT_TOAST_MAX_AGE_MS) toast(pending.message);
}

// --- Form errors ------------------------------------------------------------------------------------------

/** Remove the messages `showFormErrors` added. */
export function clearFormErrors(form) {
  for (const node of $$(".field-error[data-generated]", form)) node.remove();
  for (const input of $$("[aria-invalid]", form)) {
    input.removeAttribute("aria-invalid");
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.startsWith("err-"));
    if (described.length) input.setAttribute("aria-describedby", described.join(" "));
    else input.removeAttribute("aria-describedby");
  }
  const general = $(".form-error", form);
  if (general) general.textContent = "";
}

function fieldControl(form, name) {
  const control = form.elements.namedItem(name);
  if (control instanceof RadioNodeList) return control[0] || null;
  return control || form.querySelector(`[data-field="${CSS.escape(name)}"]`);
}

/**
 * Show an error on a form: per-field messages next to their controls (`aria-invalid`, `aria-describedby`),
 * anything else in the form's `.form-error` (role=alert). `error` is an ApiError, an Error or a string;
 * `extraFields` adds client-side field messages.
 */
export function showFormErrors(form, error, extraFields = {}) {
  clearFormErrors(form);
  const fields = { ...(error?.fields || {}), ...extraFields };
  const unplaced = [];
  let first = null;
  for (const [name, message] of Object.entries(fields)) {
    const control = fieldControl(form, name);
    if (!control) {
      unplaced.push(`${humanize(name)}: ${message}`);
      continue;
    }
    const id = nextId("err");
    const note = h("p", { class: "field-error", id, dataset: { generated: "" }, text: message });
    const host = control.closest(".field, .check, fieldset") || control;
    host.append(note);
    control.setAttribute("aria-invalid", "true");
    const described = control.getAttribute("aria-describedby");
    control.setAttribute("aria-describedby", described ? `${described} ${id}` : id);
    first ||= control;
  }
  const general = $(".form-error", form);
  let text = "";
  if (unplaced.length) text = unplaced.join("\n");
  else if (!Object.keys(fields).length && error) text = typeof error === "string" ? error : error.message;
  if (general) general.textContent = text;
  else if (text) toast(text, { error: true });
  if (first) first.focus();
}

/**
 * Handle a form's submit: errors are cleared, the submit button is disabled while `handler(form)` runs,
 * and an ApiError is shown on the form.
 */
export function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    const buttons = $$("button[type=submit], button:not([type])", form);
    for (const button of buttons) button.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      await handler(form);
    } catch (error) {
      if (error instanceof FieldErrors) showFormErrors(form, null, error.fields);
      else if (error instanceof Error) showFormErrors(form, error);
      else throw error;
    } finally {
      for (const button of buttons) button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
}

/** Show an `{id, message}` error next to the control `name` (e.g. a password-length refusal). */
export function attachToField(error, name, test = () => true) {
  if (error instanceof ApiError && !Object.keys(error.fields).length && error.status === 400 && test(error.message)) {
    error.fields = { [name]: error.message };
  }
  return error;
}

/** Thrown from a submit handler to show client-side field messages, e.g. `{confirm: "Passwords do not match"}`. */
export class FieldErrors extends Error {
  constructor(fields) {
    super("Please correct the highlighted fields.");
    this.fields = fields;
  }
}

// --- Account ----------------------------------------------------------------------------------------------

let accountPromise = null;
/** The signed-in account, fetched once per page (pass `refresh` to read it again). */
export function getAccount({ refresh = false } = {}) {
  if (!accountPromise || refresh) {
    accountPromise = api("GET", "/api/account").catch((error) => {
      accountPromise = null;
      throw error;
    });
  }
  return accountPromise;
}

/** Whether the account holds `permission` (e.g. `create_sample`, `cancel_job`); full administrators hold them all. */
export function may(account, permission) {
  return Boolean(account) && (account.administrator_role === "full" || Boolean(account.permissions?.[permission]));
}

// --- Page parts -------------------------------------------------------------------------------------------

/**
 * The parts other apps contribute to this page (core/pages.py): the page's template lists their modules as JSON
 * in `#page-parts`. `pageParts(context)` imports them and calls each module's `setup(context)`, in their
 * registered order; `setup` returns the part's hooks, e.g. `{ render(sample, writable) {} }`.
 * `parts.call(hook, ...args)` calls that hook of every part. The latest arguments of each hook are kept and
 * handed to the parts as soon as they are set up, so a page calls its hooks whenever it likes (on every render)
 * and no part misses one, however late its module arrives. `parts.ready` resolves once every part is set up;
 * a part that fails to load or throws is reported as an uncaught error and the page goes on without it.
 */
export function pageParts(context = {}) {
  const node = document.getElementById("page-parts");
  const urls = node ? JSON.parse(node.textContent) : [];
  const parts = [];
  const latest = new Map();
  const run = (part, hook, args) => {
    try {
      part[hook]?.(...args);
    } catch (error) {
      reportError(error);
    }
  };
  const ready = Promise.allSettled(urls.map((url) => import(url))).then((loaded) => {
    for (const result of loaded) {
      if (result.status === "rejected") {
        reportError(result.reason);
        continue;
      }
      let part;
      try {
        part = result.value.setup(context) || {};
      } catch (error) {
        reportError(error);
        continue;
      }
      parts.push(part);
      for (const [hook, args] of latest) run(part, hook, args);
    }
  });
  return {
    ready,
    call(hook, ...args) {
      latest.set(hook, args);
      for (const part of parts) run(part, hook, args);
    },
  };
}

// --- Live updates -----------------------------------------------------------------------------------------

const MIN_DELAY = 500;
const MAX_DELAY = 10000;
const PING_EVERY = 25000;
const CLOSE_UNAUTHENTICATED = 4000;

/**
 * One websocket per tab at /ws. `live.on(interface, handler)` receives `{interface, operation, data}`;
 * `live.onStatus(handler)` receives "connecting" | "connected" | "reconnecting" | "closed";
 * `live.onReconnect(handler)` runs after a dropped socket is back, so pages can re-read what they missed.
 */
class Live {
  constructor() {
    this.handlers = new Map();
    this.statusHandlers = new Set();
    this.reconnectHandlers = new Set();
    this.socket = null;
    this.delay = MIN_DELAY;
    this.retryTimer = null;
    this.pingTimer = null;
    this.state = "idle";
    this.everConnected = false;
    this.stopped = false;
  }

  on(iface, handler) {
    if (!this.handlers.has(iface)) this.handlers.set(iface, new Set());
    this.handlers.get(iface).add(handler);
    return () => this.handlers.get(iface)?.delete(handler);
  }

  onStatus(handler) {
    this.statusHandlers.add(handler);
    handler(this.state);
    return () => this.statusHandlers.delete(handler);
  }

  onReconnect(handler) {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  start() {
    this.stopped = false;
    if (!this.socket && !this.retryTimer) this.connect();
  }

  /** Close for good (logout, leaving the page). */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    clearInterval(this.pingTimer);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close(1000);
      this.socket = null;
    }
    this.setState("closed");
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    for (const handler of this.statusHandlers) handler(state);
  }

  connect() {
    this.retryTimer = null;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    this.setState(this.everConnected ? "reconnecting" : "connecting");
    let socket;
    try {
      socket = new WebSocket(`${scheme}://${window.location.host}/ws`);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      const reconnected = this.everConnected;
      this.everConnected = true;
      this.delay = MIN_DELAY;
      this.setState("connected");
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ operation: "ping" }), PING_EVERY);
      if (reconnected) for (const handler of this.reconnectHandlers) handler();
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!message || message.interface === "ws") return;
      for (const key of [message.interface, "*"]) {
        for (const handler of this.handlers.get(key) || []) {
          try {
            handler(message);
          } catch (error) {
            console.error("live handler failed", error);
          }
        }
      }
    };
    socket.onclose = (event) => {
      clearInterval(this.pingTimer);
      if (this.socket === socket) this.socket = null;
      if (this.stopped) return;
      if (event.code === CLOSE_UNAUTHENTICATED) {
        this.stopped = true;
        this.setState("closed");
        const here = window.location.pathname + window.location.search;
        window.location.assign(`/login?next=${encodeURIComponent(here)}`);
        return;
      }
      this.scheduleReconnect();
    };
  }

  scheduleReconnect() {
    this.setState("reconnecting");
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, MAX_DELAY);
  }

  /** Try now instead of waiting for the backoff (the network came back, the tab became visible). */
  nudge() {
    if (this.stopped || this.socket || !this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.delay = MIN_DELAY;
    this.connect();
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}

export const live = new Live();

// --- Base layout --------------------------------------------------------------------------------------------

const LIVE_LABELS = {
  idle: "Offline",
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
  closed: "Offline",
};

function setupIndicator() {
  const indicator = $("#live-indicator");
  if (!indicator) return;
  const label = $(".live-label", indicator);
  live.onStatus((state) => {
    indicator.dataset.state = state;
    label.textContent = LIVE_LABELS[state] || state;
    indicator.title = state === "connected" ? "Receiving live updates" : "Live updates paused; reconnecting";
  });
}

/** Show (or hide) the instance-message banner for a `{message, color, active}` document or null. */
function showInstanceMessage(message) {
  const banner = $("#instance-message");
  if (!banner) return;
  if (message && message.active !== false && message.message) {
    banner.textContent = message.message;
    const colored = message.color && /^(#[0-9a-f]{3,8}|[a-z]{3,16})$/i.test(message.color) && message.color !== "grey";
    banner.style.borderLeft = colored ? `6px solid ${message.color}` : "";
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
}

/** Load the banner from `GET /api/instance_message`, then follow its live updates. */
export async function loadInstanceMessage() {
  try {
    showInstanceMessage(await api("GET", "/api/instance_message"));
  } catch {
    showInstanceMessage(null);
  }
}

function setupLogout() {
  for (const button of $$("[data-action=logout]")) {
    button.addEventListener("click", async () => {
      button.disabled = true;
      live.stop();
      try {
        await api("POST", "/api/account/logout");
      } catch {
        // Logging out of an expired session is still logging out.
      }
      window.location.assign("/login");
    });
  }
}

function init() {
  const authenticated = document.body.dataset.authenticated === "true";
  setupLogout();
  if (!authenticated) return;
  showPendingToast();
  setupIndicator();
  live.start();
  loadInstanceMessage();
  live.on("instance_message", (message) => showInstanceMessage(message.data));
  live.onReconnect(loadInstanceMessage);
  window.addEventListener("online", () => live.nudge());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") live.nudge();
  });
  // Closing the socket before the page goes stops the indicator flashing "reconnecting" on navigation.
  window.addEventListener("pagehide", () => live.stop());
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) live.start();
  });
}

init();
