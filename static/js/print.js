// The printable statement opens the print dialog once loaded (not under automation).
window.addEventListener("load", () => { if (!navigator.webdriver) window.print(); });
