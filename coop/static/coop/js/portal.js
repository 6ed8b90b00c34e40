// Live notifications: one WebSocket per page, reconnecting with backoff.
(function () {
  "use strict";
  const body = document.body;
  if (body.dataset.authenticated !== "true") return;
  const region = document.getElementById("toasts");
  const badge = document.getElementById("notification-count");
  let delay = 1000;

  function toast(event) {
    if (!region) return;
    const el = document.createElement("div");
    el.className = "toast";
    el.setAttribute("role", "status");
    const title = document.createElement("strong");
    title.textContent = event.title || "Notification";
    el.appendChild(title);
    if (event.body) {
      const p = document.createElement("div");
      p.textContent = event.body;
      el.appendChild(p);
    }
    if (event.url) {
      const a = document.createElement("a");
      a.href = event.url;
      a.textContent = "Open";
      el.appendChild(a);
    }
    region.appendChild(el);
    setTimeout(() => el.remove(), 8000);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/notifications/`);
    socket.addEventListener("open", () => { delay = 1000; body.dataset.live = "true"; });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.kind === "notification") {
        if (badge) {
          const n = (parseInt(badge.textContent, 10) || 0) + 1;
          badge.textContent = String(n);
          badge.classList.remove("zero");
        }
        toast(event);
      }
      document.dispatchEvent(new CustomEvent("coop:event", { detail: event }));
    });
    socket.addEventListener("close", () => {
      body.dataset.live = "false";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }
  connect();
})();
