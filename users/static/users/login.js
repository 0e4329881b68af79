// Login: start a session, or continue to the forced password reset.
import { $, api, FieldErrors, onSubmit, safeNext } from "../virtool/virtool.js";

const RESET_CODE_KEY = "virtool.reset_code";
const RESET_NEXT_KEY = "virtool.reset_next";

const form = $("#login-form");
const next = safeNext(new URLSearchParams(window.location.search).get("next"));

onSubmit(form, async () => {
  const handle = form.elements.handle.value.trim();
  const password = form.elements.password.value;
  const missing = {};
  if (!handle) missing.handle = "Enter your username.";
  if (!password) missing.password = "Enter your password.";
  if (Object.keys(missing).length) throw new FieldErrors(missing);
  const result = await api("POST", "/api/account/login", {
    handle,
    password,
    remember: form.elements.remember.checked,
  });
  if (result && result.reset) {
    sessionStorage.setItem(RESET_CODE_KEY, result.reset_code);
    sessionStorage.setItem(RESET_NEXT_KEY, next);
    window.location.assign("/reset");
    return;
  }
  window.location.assign(next);
});
