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
