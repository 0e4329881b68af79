// The samples list's "Analyze selected", a page part (core/pages.py; registered in analyses/apps.py): one
// analysis started on every selected sample, each with its own default subtractions unless some are chosen for
// all. The list calls `selection(ids)` whenever its selection changes and offers `selection.clear()`.
import { $, api, debounce, fill, h, live, onSubmit, setText, toast } from "../virtool/virtool.js";
import { analysisUrl, loadStartOptions, renderStartOptions, startBody, startFields, startParts } from "./analyses-common.js";

/** Wire the selection's analysis form; returns the `selection(ids)` hook. */
export function setup({ selection }) {
  let selected = [];
  const bulkForm = $("#bulk-form");
  const bulkToggle = $("#bulk-toggle");
  fill($("#bulk-fields"), startFields("bulk"));
  const bulkParts = startParts("bulk", bulkForm);
  // By default every sample keeps its own default subtractions; unticked, the ones chosen here apply to all.
  const ownDefaults = h("input", { type: "checkbox", id: "bulk-own-defaults", checked: true });
  $("fieldset[data-field=subtractions]", bulkForm).before(
    h("label", { class: "check" }, ownDefaults, h("span", { text: "Each sample with its own default subtractions" })),
  );
  function syncOwnDefaults() {
    $("fieldset[data-field=subtractions]", bulkForm).disabled = ownDefaults.checked;
  }
  ownDefaults.addEventListener("change", syncOwnDefaults);
  syncOwnDefaults();

  async function openBulk(open) {
    bulkForm.hidden = !open;
    bulkToggle.setAttribute("aria-expanded", String(open));
    if (!open) return;
    bulkParts.select.focus();
    try {
      const options = await loadStartOptions();
      renderStartOptions({ ...bulkParts, options });
      $("#bulk-start").disabled = options.indexes.length === 0;
    } catch (error) {
      setText($(".form-error", bulkForm), `Could not load the references: ${error.message}`);
    }
  }

  async function refreshOptions() {
    if (bulkForm.hidden) return;
    try {
      renderStartOptions({ ...bulkParts, options: await loadStartOptions() });
    } catch {
      // The form keeps what it showed; the next change or opening reads them again.
    }
  }
  const reloadOptions = debounce(refreshOptions, 300);
  live.on("indexes", reloadOptions);
  live.on("subtraction", reloadOptions);
  live.on("status", ({ data }) => {
    if (data?.id === "hmm") reloadOptions();
  });

  bulkToggle.addEventListener("click", () => openBulk(bulkForm.hidden));
  $("#bulk-cancel").addEventListener("click", () => {
    openBulk(false);
    bulkToggle.focus();
  });

  onSubmit(bulkForm, async () => {
    const body = { ...startBody(bulkParts), sample_ids: selected };
    if (ownDefaults.checked) delete body.subtractions;
    const analyses = await api("POST", "/api/analyses", body);
    const started = `Started ${analyses.length} analys${analyses.length === 1 ? "is" : "es"}`;
    toast(started);
    const result = $("#bulk-result");
    fill(
      result,
      `${started}: `,
      analyses.flatMap((analysis, index) => [
        index ? ", " : "",
        h("a", { href: analysisUrl(analysis), text: analysis.sample?.name || analysis.id }),
      ]),
      ". Their progress shows on each result page.",
    );
    result.hidden = false;
    selection.clear(); // the list then calls selection([]), which closes the form
  });

  // Shown only once it works: the list's template renders the button hidden.
  bulkToggle.hidden = false;

  return {
    selection(ids) {
      selected = ids;
      if (!ids.length && !bulkForm.hidden) openBulk(false);
    },
  };
}
