// First-user setup: create the instance's full administrator, which also logs in.
import { $, api, attachToField, FieldErrors, onSubmit } from "../virtool/virtool.js";

const form = $("#setup-form");

onSubmit(form, async () => {
  const handle = form.elements.handle.value.trim();
  const password = form.elements.password.value;
  const missing = {};
  if (!handle) missing.handle = "Enter a username.";
  if (!password) missing.password = "Enter a password.";
  else if (password !== form.elements.confirm.value) missing.confirm = "The passwords do not match.";
  if (Object.keys(missing).length) throw new FieldErrors(missing);
  try {
    await api("PUT", "/api/users/first", { handle, password });
  } catch (error) {
    attachToField(error, "password", (message) => message.startsWith("Password"));
    if (error.status === 409) {
      error.message = "This instance already has a user. Log in instead.";
      setTimeout(() => window.location.assign("/login"), 1500);
    }
    throw error;
  }
  window.location.assign("/");
});
