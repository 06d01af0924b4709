// Site-wide behaviour, kept out of the templates (no inline scripts: the Content-Security-Policy allows none).
document.addEventListener("DOMContentLoaded", () => {
  // The language menu switches as soon as a language is chosen (a button does it without scripts).
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  // A printable page opens the print dialog (not in automated browsers).
  if (document.body.dataset.autoprint !== undefined && !navigator.webdriver) window.print();
});
