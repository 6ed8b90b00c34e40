// Live results on a proposal page: a socket per proposal; each event re-fetches the results fragment.
(function () {
  "use strict";
  const script = document.currentScript;
  const proposal = script && script.dataset.proposal;
  const resultsUrl = script && script.dataset.resultsUrl;
  if (!proposal || !resultsUrl) return;
  let delay = 1000;

  async function refresh() {
    const response = await fetch(resultsUrl, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" });
    if (!response.ok) return;
    const holder = document.getElementById("results");
    if (holder) holder.outerHTML = await response.text();
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/governance/proposals/${proposal}/`);
    socket.addEventListener("open", () => { delay = 1000; });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.kind === "closed") { location.reload(); return; }
      if (event.kind === "tally" || event.kind === "turnout") refresh();
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401 || event.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();
})();
