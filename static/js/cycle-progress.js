// The cycle change form: while a close runs, its state and progress update every second.
(function () {
  const box = document.getElementById("close-progress");
  const state = document.getElementById("cycle-state");
  if (!box || !state || state.dataset.state !== "closing") return;
  const tick = () => fetch(box.dataset.url).then(r => r.json()).then(d => {
    state.textContent = d.state_label; state.dataset.state = d.state;
    document.getElementById("cycle-progress").textContent = d.done + " / " + d.total;
    if (d.state === "closing") setTimeout(tick, 1000);
  });
  setTimeout(tick, 1000);
})();
