// Resumable uploads in the browser: the tus protocol (/api/uploads/tus) through tus-js-client, vendored unchanged
// (vendor/tus-js-client-4.3.1/README.md). A file goes up in chunks; a dropped connection is retried from the
// server's offset (HEAD) with growing pauses, and keeps being retried while the page is open (at once when the
// browser says it is back online). A session that ended pauses the upload until the user has signed in again
// (in another tab) and presses Resume: the upload belongs to the user, so the new session continues it. The
// upload's URL is also kept in the browser (localStorage), so adding the same file again after a reload continues it.
import "./vendor/tus-js-client-4.3.1/tus.min.js";

const tus = window.tus;

export const CHUNK_SIZE = 4 * 1024 * 1024;
// tus-js-client's own retries of one request (ms), then ours: every RETRY_MS while the page is open.
const RETRY_DELAYS = [0, 1000, 3000, 5000];
const RETRY_MS = 5000;

function problemOf(error) {
  const response = error?.originalResponse;
  const status = response ? response.getStatus() : 0;
  let body = null;
  try {
    body = response ? JSON.parse(response.getBody() || "null") : null;
  } catch {
    body = null;
  }
  return { status, message: body?.message || "", body };
}

/** Whether an error may pass by itself (the network, the server restarting, another request holding the upload). */
function transient(status) {
  return status === 0 || status === 408 || status === 409 || status === 423 || status === 429 || status >= 500;
}

/**
 * Send `file` as a resumable upload of `type`. Callbacks: `onProgress(sent, total)`, `onPause(reason, message)`
 * (reason "network" or "signed-out": it resumes by itself, or on `resume()`), `onSuccess(document)` with the
 * upload's document, `onError(status, message, body)` for a refusal (nothing is kept of a refused upload).
 * Returns `{ abort(), resume() }`; `abort()` ends the upload on the server too (tus termination).
 */
export function resumableUpload(file, type, { onProgress, onPause, onResume, onSuccess, onError } = {}) {
  let stopped = false;
  let timer = 0;
  let running = false;

  const upload = new tus.Upload(file, {
    endpoint: "/api/uploads/tus",
    chunkSize: CHUNK_SIZE,
    retryDelays: RETRY_DELAYS,
    metadata: { name: file.name, type },
    // The browser remembers the upload's URL by file (name, type, size, date) until it is complete.
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: true,
    onProgress(sent, total) {
      onProgress?.(sent, total);
    },
    onShouldRetry(error) {
      return transient(problemOf(error).status);
    },
    async onSuccess() {
      running = false;
      try {
        const response = await fetch(upload.url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        const document = await response.json();
        if (!response.ok) throw new Error(document?.message || `${response.status}`);
        onSuccess?.(document);
      } catch (error) {
        onError?.(0, `The file was sent, but its upload could not be read back: ${error.message}`, null);
      }
    },
    onError(error) {
      running = false;
      if (stopped) return;
      const { status, message, body } = problemOf(error);
      if (status === 401) {
        onPause?.("signed-out", "Your session has ended. Sign in again (in another tab), then press Resume: the upload continues where it stopped.");
        return;
      }
      if (transient(status)) {
        onPause?.("network", "The connection was lost; the upload continues where it stopped as soon as the server can be reached.");
        timer = window.setTimeout(start, RETRY_MS);
        return;
      }
      onError?.(status, message || (status === 413 ? "The file is larger than this server accepts." : error.message), body);
    },
  });

  function start() {
    window.clearTimeout(timer);
    if (stopped || running) return;
    running = true;
    onResume?.();
    upload.start();
  }

  const online = () => {
    if (!running && !stopped) start();
  };
  window.addEventListener("online", online);

  upload
    .findPreviousUploads()
    .then((previous) => {
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
    })
    .catch(() => {})
    .finally(start);

  return {
    abort() {
      stopped = true;
      window.clearTimeout(timer);
      window.removeEventListener("online", online);
      return upload.abort(true).catch(() => {});
    },
    resume: start,
    done() {
      window.removeEventListener("online", online);
    },
  };
}
