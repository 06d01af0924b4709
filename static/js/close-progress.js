// The cycle's change page: while a close runs on the workers, show its progress live.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("close-progress");
  const state = document.getElementById("cycle-state");
  if (!box || !state || state.dataset.state !== "closing") return;
  const done = document.getElementById("cycle-progress");
  const bar = document.getElementById("cycle-progress-bar");
  const tick = () =>
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then((r) => r.json())
      .then((d) => {
        state.textContent = d.state_label;
        state.dataset.state = d.state;
        if (done) done.textContent = d.done + " / " + d.total;
        if (bar) {
          bar.max = d.total || 1;
          bar.value = d.done;
        }
        if (d.state === "closing") setTimeout(tick, 1000);
        else window.location.reload();
      });
  setTimeout(tick, 1000);
});
