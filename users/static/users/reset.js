// Forced password reset: the code from the login answer is kept in sessionStorage until it is used.
import { $, api, attachToField, FieldErrors, onSubmit, safeNext } from "../virtool/virtool.js";

const RESET_CODE_KEY = "virtool.reset_code";
const RESET_NEXT_KEY = "virtool.reset_next";

const form = $("#reset-form");
const code = sessionStorage.getItem(RESET_CODE_KEY);

if (!code) {
  $("#reset-missing").hidden = false;
  form.hidden = true;
}

onSubmit(form, async () => {
  const password = form.elements.password.value;
  if (!password) throw new FieldErrors({ password: "Enter a new password." });
  if (password !== form.elements.confirm.value) throw new FieldErrors({ confirm: "The passwords do not match." });
  try {
    await api("POST", "/api/account/reset", { password, reset_code: code });
  } catch (error) {
    attachToField(error, "password", (message) => message.startsWith("Password"));
    if (error.body?.message === "Invalid reset code") {
      error.message = "This reset link has expired. Log in again to get a new one.";
      sessionStorage.removeItem(RESET_CODE_KEY);
    }
    throw error;
  }
  const next = safeNext(sessionStorage.getItem(RESET_NEXT_KEY));
  sessionStorage.removeItem(RESET_CODE_KEY);
  sessionStorage.removeItem(RESET_NEXT_KEY);
  window.location.assign(next);
});
