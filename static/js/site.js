// The site's only script (no inline script: the Content Security Policy allows none).
// The language select switches as soon as a language is chosen; without script, its button does.
document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("language");
  if (select) select.addEventListener("change", () => select.form.submit());
});
