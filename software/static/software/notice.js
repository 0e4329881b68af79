// The "new version available" notice administrators see on every page: rendered with the page, kept current by the
// `software` messages the release refresher's changes send to administrators. Release notes are shown as text.
import { $, live } from "../virtool/virtool.js";

function render(status) {
  const notice = $("#software-notice");
  if (!notice || !status) return;
  const release = status.release;
  notice.hidden = !(status.newer && release);
  if (notice.hidden) return;
  $("#software-release-name").textContent = release.name || release.tag_name || "";
  $("#software-installed").textContent = status.installed || "";
  // Only a web address is followed (the page of a release on GitHub).
  $("#software-release-link").href = /^https?:\/\//.test(release.html_url || "") ? release.html_url : "#";
  $("#software-release-notes").textContent = status.body || "";
}

live.on("software", ({ data }) => render(data));
