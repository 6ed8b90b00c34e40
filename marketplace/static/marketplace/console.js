// Client console: an upload progress bar for htmx forms marked data-upload-progress="#id".
(function () {
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest("form[data-upload-progress]");
    if (!form || !event.detail.lengthComputable) return;
    var bar = document.querySelector(form.dataset.uploadProgress);
    if (!bar) return;
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest && event.target.closest("form[data-upload-progress]");
    if (!form) return;
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; b.dataset.label = b.textContent; b.textContent = "Importing…"; });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest && event.target.closest("form[data-upload-progress]");
    if (!form) return;
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; if (b.dataset.label) b.textContent = b.dataset.label; });
    var bar = document.querySelector(form.dataset.uploadProgress);
    if (bar) bar.value = 100;
    if (event.detail.successful) form.reset();
  });
})();

// Live progress: one WebSocket per project page; each event re-reads the progress panel (htmx), which is
// re-rendered through the access-checked page. Reconnects with backoff; the panel also refreshes every 30 s.
(function () {
  var panel = document.getElementById("progress");
  if (!panel || !panel.dataset.liveUrl || !window.WebSocket) return;
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + panel.dataset.liveUrl;
  var delay = 1000;
  function connect() {
    var socket = new WebSocket(url);
    socket.onopen = function () { delay = 1000; document.body.dataset.progressLive = "true"; };
    var trailing = null;
    function refresh() {
      var current = document.getElementById("progress");
      if (current && window.htmx) window.htmx.trigger(current, "progress-changed");
    }
    socket.onmessage = function () {
      // The server sends at most one event per project every half second: re-read now, and once more a
      // second after the last event, so the answers it coalesced are on screen too.
      refresh();
      clearTimeout(trailing);
      trailing = setTimeout(refresh, 1000);
    };
    socket.onclose = function (event) {
      document.body.dataset.progressLive = "false";
      if (event.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
