// Live training curves: draws loss (per logged step) and validation accuracy (per epoch) as SVG,
// starting from the points rendered into the page and adding the ones the run's WebSocket pushes.
(function () {
  "use strict";
  const root = document.getElementById("run");
  if (!root) return;
  const runId = root.dataset.run;
  const curve = JSON.parse(document.getElementById("run-curve").textContent);
  const steps = curve.steps.slice();
  const epochs = curve.epochs.slice();
  const NS = "http://www.w3.org/2000/svg";
  const W = 400, H = 200, PAD = 30;

  function node(tag, attrs, text) {
    const el = document.createElementNS(NS, tag);
    Object.entries(attrs).forEach(([k, v]) => el.setAttribute(k, v));
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function draw(svg, series, xKey, yMax) {
    svg.replaceChildren();
    svg.appendChild(node("line", { x1: PAD, y1: H - PAD, x2: W - 5, y2: H - PAD, stroke: "#999" }));
    svg.appendChild(node("line", { x1: PAD, y1: 5, x2: PAD, y2: H - PAD, stroke: "#999" }));
    const all = series.flatMap((s) => s.points);
    if (!all.length) { svg.appendChild(node("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#777" }, "waiting for data…")); return; }
    const xs = all.map((p) => p[xKey]);
    const xMin = Math.min(...xs), xMax = Math.max(...xs, xMin + 1);
    const top = yMax !== undefined ? yMax : Math.max(...all.flatMap((p) => series.map((s) => p[s.key]).filter((v) => v !== null && v !== undefined)), 1e-6);
    const sx = (x) => PAD + (x - xMin) / (xMax - xMin) * (W - PAD - 5);
    const sy = (y) => H - PAD - (y / top) * (H - PAD - 5);
    svg.appendChild(node("text", { x: 2, y: 12, "font-size": 10, fill: "#555" }, top.toFixed(top < 10 ? 2 : 0)));
    svg.appendChild(node("text", { x: 2, y: H - PAD, "font-size": 10, fill: "#555" }, "0"));
    svg.appendChild(node("text", { x: W - 5, y: H - 8, "font-size": 10, fill: "#555", "text-anchor": "end" }, `${xKey} ${xMax}`));
    series.forEach((s) => {
      const pts = s.points.filter((p) => p[s.key] !== null && p[s.key] !== undefined).map((p) => `${sx(p[xKey]).toFixed(1)},${sy(p[s.key]).toFixed(1)}`);
      if (pts.length) svg.appendChild(node("polyline", { points: pts.join(" "), fill: "none", stroke: s.color, "stroke-width": 2 }));
    });
  }

  function render() {
    const lossPoints = steps.length ? steps : epochs;
    draw(document.getElementById("loss-chart"), [{ key: "loss", color: "#2457a6", points: lossPoints }], "step");
    draw(document.getElementById("acc-chart"), [
      { key: "val_seq_acc", color: "#2a7d4f", points: epochs },
      { key: "val_char_acc", color: "#b86e00", points: epochs },
    ], "epoch", 1);
  }

  function onEvent(event) {
    if (event.kind === "progress") {
      const list = event.event === "epoch" ? epochs : steps;
      // A resumed run replays from its checkpoint: forget points at or after the replayed step.
      while (list.length && list[list.length - 1].step >= event.step) list.pop();
      list.push(event);
      const text = `Epoch ${event.epoch}/${event.epochs}, step ${event.step}/${event.total_steps}, loss ${Number(event.loss).toFixed(4)}` +
        (event.images_per_s ? `, ${Number(event.images_per_s).toFixed(1)} images/s` : "");
      document.getElementById("run-progress").textContent = text;
      render();
    } else if (event.kind === "status") {
      const status = document.getElementById("run-status");
      status.textContent = event.status;
      status.className = `status ${event.status}`;
      document.getElementById("run-reason").textContent = event.reason || "";
      if (event.device) document.getElementById("run-device").textContent = event.device;
      if (["succeeded", "failed", "cancelled"].includes(event.status)) setTimeout(() => location.reload(), 1500);
    }
  }

  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/mlops/runs/${runId}/`);
    socket.addEventListener("open", () => { delay = 1000; root.dataset.live = "true"; });
    socket.addEventListener("message", (message) => onEvent(JSON.parse(message.data)));
    socket.addEventListener("close", () => { root.dataset.live = "false"; setTimeout(connect, delay); delay = Math.min(delay * 2, 30000); });
  }
  render();
  connect();
})();
