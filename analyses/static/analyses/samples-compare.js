// The samples list's "Compare selected", a page part (core/pages.py; registered in analyses/apps.py): a link to
// the cross-sample matrix of the selected samples (their latest PathoScope analyses).
import { $ } from "../virtool/virtool.js";

/** Keep the link on the selection; returns the `selection(ids)` hook. */
export function setup() {
  const link = $("#compare-selected");
  const update = (ids) => {
    link.href = ids.length ? `/analyses/matrix?sample_ids=${ids.map(encodeURIComponent).join(",")}` : "/analyses/matrix";
    link.hidden = ids.length === 0;
  };
  update([]);
  return { selection: update };
}
