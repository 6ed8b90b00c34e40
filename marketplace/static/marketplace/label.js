// Keyboard-first labeling screen: loads tasks through the worker API without page reloads,
// keeps the lease alive with heartbeats while the member is actually there, shows the lease
// timer and the task's pay, and submits idempotently.
//
// Keys: Enter submits only from the answer field, the task area itself or the Submit button;
// Enter or Space on any other focused button activates that button (a choice selects it,
// Skip skips), never a half-typed answer. Esc skips. Ctrl+Enter submits from the reason box.
(function () {
  "use strict";
  const root = document.getElementById("labeler");
  if (!root) return;
  const projectId = Number(root.dataset.project);
  const area = document.getElementById("task-area");
  const statusLine = document.getElementById("status-line");
  const timer = document.getElementById("lease-timer");
  const doneCount = document.getElementById("done-count");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  let current = null; // {assignment, task, key, choice}
  let activeSince = 0; // active seconds not yet reported
  let lastInput = Date.now();
  // A lease is renewed only if the member touched the page recently: an idle tab lets its task go.
  const IDLE_MS = 120000;
  const payLine = document.getElementById("task-pay");
  const confirmation = document.getElementById("submit-confirmation");
  let done = 0;
  let busy = false;

  async function api(path, body, extraHeaders) {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: Object.assign({ "Content-Type": "application/json", "X-CSRFToken": csrf }, extraHeaders || {}),
      body: JSON.stringify(body || {}),
    });
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (e) { data = null; }
    }
    return { response, data };
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function say(message, isError) {
    statusLine.textContent = message;
    statusLine.className = isError ? "alert error" : "muted";
  }

  function zoomable(src, alt, testid) {
    // The image scales in steps (1×–4×) with the buttons; it scrolls inside its frame when larger.
    const figure = el("figure", { class: "zoomable" });
    const frame = el("div", { class: "zoom-frame" });
    const img = el("img", { src: src, alt: alt, "data-testid": testid || "task-image" });
    frame.appendChild(img);
    figure.appendChild(frame);
    let scale = 1;
    const readout = el("span", { class: "muted", "data-testid": "zoom-level", "aria-live": "polite" }, "100%");
    function zoom(factor) {
      scale = Math.min(4, Math.max(1, scale * factor));
      img.style.width = `${scale * 100}%`;
      readout.textContent = `${Math.round(scale * 100)}%`;
    }
    const controls = el("div", { class: "actions zoom-controls" });
    const out = el("button", { type: "button", class: "secondary small", "aria-label": "Zoom out", "data-testid": "zoom-out" }, "−");
    const into = el("button", { type: "button", class: "secondary small", "aria-label": "Zoom in", "data-testid": "zoom-in" }, "+");
    out.addEventListener("click", () => zoom(1 / 1.5));
    into.addEventListener("click", () => zoom(1.5));
    controls.append(out, readout, into);
    figure.appendChild(controls);
    return figure;
  }

  function renderOcr(task) {
    area.appendChild(zoomable(task.data.image_url, "Text to transcribe"));
    area.appendChild(el("label", { for: "answer-text" }, "Type exactly what you see"));
    const input = el("input", { type: "text", id: "answer-text", autocomplete: "off", spellcheck: "false", "data-testid": "answer-input" });
    if (task.data.prefill) input.value = task.data.prefill;
    area.appendChild(input);
    input.focus();
  }

  function renderClassification(task) {
    if (task.data.text) area.appendChild(el("blockquote", {}, task.data.text));
    if (task.data.image_url) area.appendChild(zoomable(task.data.image_url, "Item to classify"));
    const group = el("div", { role: "radiogroup", "aria-label": "Choices", class: "actions" });
    task.choices.forEach((choice, i) => {
      const button = el("button", { type: "button", class: "secondary", "data-choice": choice, "aria-pressed": "false" }, `${i + 1}. ${choice}`);
      button.addEventListener("click", () => choose(choice));
      group.appendChild(button);
    });
    area.appendChild(group);
  }

  function renderPairwise(task) {
    area.appendChild(el("h2", {}, "Prompt"));
    area.appendChild(el("blockquote", {}, task.data.prompt));
    const grid = el("div", { class: "grid" });
    [["a", "Response A", task.data.response_a], ["b", "Response B", task.data.response_b]].forEach(([key, title, text]) => {
      const card = el("div", { class: "card" });
      card.appendChild(el("h3", {}, title));
      card.appendChild(el("p", { style: "white-space:pre-wrap" }, text));
      grid.appendChild(card);
    });
    area.appendChild(grid);
    const group = el("div", { role: "radiogroup", "aria-label": "Which response is better", class: "actions", style: "margin-top:1rem" });
    [["a", "A is better"], ["b", "B is better"], ["tie", "Tie"]].forEach(([value, text]) => {
      const button = el("button", { type: "button", class: "secondary", "data-choice": value, "aria-pressed": "false" }, text);
      button.addEventListener("click", () => choose(value));
      group.appendChild(button);
    });
    area.appendChild(group);
    area.appendChild(el("label", { for: "answer-reason" }, "Why? (optional)"));
    area.appendChild(el("textarea", { id: "answer-reason", rows: "2" }));
  }

  function choose(value) {
    if (!current) return;
    current.choice = value;
    area.querySelectorAll("[data-choice]").forEach((b) => {
      const on = b.dataset.choice === value;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.className = on ? "" : "secondary";
    });
  }

  function render(payload) {
    area.replaceChildren();
    area.dataset.taskId = String(payload.task.id);
    current = { assignment: payload.assignment, task: payload.task, project: payload.project, key: crypto.randomUUID(), choice: null, prefill: payload.task.data.prefill || "" };
    if (payLine && payload.project) payLine.textContent = `${payload.project.pay_per_task} per task`;
    const type = payload.task.type;
    if (type === "ocr") renderOcr(payload.task);
    else if (type === "classification") renderClassification(payload.task);
    else renderPairwise(payload.task);
    if (type !== "ocr") area.focus(); // Enter from the task area submits; digits and letters choose
    const submit = el("button", { type: "button", "data-testid": "submit", "data-action": "submit", style: "margin-top:1rem" }, "Submit (Enter)");
    submit.addEventListener("click", submitAnswer);
    const skip = el("button", { type: "button", class: "secondary", "data-testid": "skip", style: "margin:1rem 0 0 .5rem" }, "Skip (Esc)");
    skip.addEventListener("click", skipTask);
    area.appendChild(submit);
    area.appendChild(skip);
    say("");
  }

  async function next() {
    busy = true;
    const { response, data } = await api("/api/v1/work/next/", { project: projectId });
    busy = false;
    if (response.status === 204) {
      current = null;
      area.replaceChildren(el("p", { "data-testid": "no-work" }, "No more tasks for you in this project right now. Thank you!"));
      say(`(${response.headers.get("X-Coop-Reason") || "no work"})`);
      return;
    }
    if (!response.ok) { say(data && data.error ? data.error.message : "Could not load a task.", true); return; }
    render(data);
  }

  function answerPayload() {
    const type = current.task.type;
    if (type === "ocr") return { text: document.getElementById("answer-text").value };
    if (type === "classification") return { choice: current.choice };
    return { preferred: current.choice, reason: document.getElementById("answer-reason").value };
  }

  async function submitAnswer() {
    if (!current || busy) return;
    busy = true;
    const body = { answer: answerPayload(), active_seconds: activeSince };
    if (current.prefill) body.prefilled = current.prefill;
    let result;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        result = await api(`/api/v1/work/assignments/${current.assignment.id}/submit/`, body, { "Idempotency-Key": current.key });
        break;
      } catch (e) { await new Promise((r) => setTimeout(r, 500 * (attempt + 1))); } // same key: a retry never answers twice
    }
    busy = false;
    if (!result) { say("Network problem; your answer was not lost — press Enter to retry.", true); return; }
    if (!result.response.ok) { say(result.data && result.data.error ? result.data.error.message : "Could not submit.", true); return; }
    activeSince = 0;
    done += 1;
    doneCount.textContent = String(done);
    confirm(result.data);
    next();
  }

  function confirm(answer) {
    // Visible after every submit, so a member always knows the last answer was saved.
    if (!confirmation) return;
    const pay = current && current.project ? ` · ${current.project.pay_per_task} once accepted` : "";
    confirmation.textContent = `Saved: answer #${answer && answer.id ? answer.id : done} submitted${pay}.`;
    confirmation.hidden = false;
  }

  async function skipTask() {
    if (!current || busy) return;
    busy = true;
    await api(`/api/v1/work/assignments/${current.assignment.id}/release/`);
    busy = false;
    activeSince = 0;
    next();
  }

  function present() {
    return document.visibilityState === "visible" && Date.now() - lastInput < IDLE_MS;
  }

  async function heartbeat() {
    if (!current || !present()) return; // an idle or hidden tab does not hold its task
    const seconds = activeSince;
    const { response, data } = await api(`/api/v1/work/assignments/${current.assignment.id}/heartbeat/`, { active_seconds: seconds });
    if (response.ok) { activeSince = Math.max(0, activeSince - seconds); current.assignment.expires_at = data.expires_at; }
  }

  function tick() {
    if (document.visibilityState === "visible" && Date.now() - lastInput < 60000 && current) activeSince += 1;
    if (current) {
      const left = Math.max(0, Math.round((new Date(current.assignment.expires_at) - Date.now()) / 1000));
      timer.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    }
  }

  function isTextField(node) {
    return node.tagName === "TEXTAREA" || (node.tagName === "INPUT" && !["button", "submit", "checkbox", "radio"].includes(node.type));
  }

  function enterSubmits(target) {
    // The answer field, the task area and the page itself submit; any other control keeps its own meaning.
    if (target === document.body || target === area || target === root) return true;
    if (target.id === "answer-text") return true;
    return false;
  }

  document.addEventListener("keydown", (event) => {
    lastInput = Date.now();
    if (!current || event.isComposing) return;
    const target = event.target;
    if (event.key === "Enter") {
      if (target.tagName === "TEXTAREA") {
        if (event.ctrlKey || event.metaKey) { event.preventDefault(); submitAnswer(); }
        return; // a newline in the reason box
      }
      if (enterSubmits(target)) { event.preventDefault(); submitAnswer(); }
      return; // a focused button, link or summary: the browser activates it (Submit submits, Skip skips)
    }
    if (event.key === "Escape") { event.preventDefault(); skipTask(); return; }
    if (isTextField(target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const type = current.task.type;
    if (type === "classification" && /^[1-9]$/.test(event.key)) {
      const choice = current.task.choices[Number(event.key) - 1];
      if (choice !== undefined) choose(choice);
    } else if (type === "pairwise") {
      const map = { a: "a", b: "b", t: "tie" };
      if (map[event.key.toLowerCase()]) choose(map[event.key.toLowerCase()]);
    }
  });
  ["mousemove", "pointerdown", "input", "wheel", "touchstart"].forEach((name) => document.addEventListener(name, () => { lastInput = Date.now(); }, { passive: true }));
  setInterval(tick, 1000);
  setInterval(heartbeat, 15000);
  next();
})();
