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

// Navigation: the phone menu button, and one open group at a time (Escape or a click elsewhere closes it).
(function () {
  "use strict";
  const toggle = document.querySelector(".menu-toggle");
  const nav = document.getElementById("main-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  const groups = Array.from(document.querySelectorAll("header.site .nav-group details"));
  groups.forEach((group) => group.addEventListener("toggle", () => {
    if (group.open) groups.filter((other) => other !== group).forEach((other) => { other.open = false; });
  }));
  document.addEventListener("click", (event) => {
    if (!event.target.closest(".nav-group")) groups.forEach((group) => { group.open = false; });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") groups.forEach((group) => { group.open = false; });
  });
})();
