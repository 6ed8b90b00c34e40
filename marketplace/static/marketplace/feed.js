// Live task feed: a project published, paused or completed refreshes the list.
(function () {
  "use strict";
  let delay = 1000;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/marketplace/feed/`);
    socket.addEventListener("open", () => { delay = 1000; document.body.dataset.feedLive = "true"; });
    socket.addEventListener("message", () => document.body.dispatchEvent(new CustomEvent("coop:feed")));
    socket.addEventListener("close", () => { setTimeout(connect, delay); delay = Math.min(delay * 2, 30000); });
  }
  connect();
})();
