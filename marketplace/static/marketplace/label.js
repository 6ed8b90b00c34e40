// Keyboard-first labeling screen: loads tasks through the worker API without page reloads,
// keeps the lease alive with heartbeats while the member is actually there, shows the lease
// timer and the task's pay, and submits idempotently.
//
// Keys: Enter submits only from the answer field, the task area itself or the Submit button;
// Enter or Space on any other focused button activates that button (a choice selects it,
// Skip skips), never a half-typed answer. Esc skips. Ctrl+Enter submits from a text box.
// Per type: classification 1–9 choose; multi-label 1–9 toggle; pairwise A/B/T; ranking 1–9
// place a response next, ↑/↓ move the selected one, Backspace takes the last back, = ties it
// with the one above (where allowed); rubric 1–9 rate the current dimension, ↑/↓ change it.
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

  function renderPrompt(prompt) {
    // A prompt is a text or a conversation (a list of {role, content} turns), shown as a chat.
    area.appendChild(el("h2", {}, "Prompt"));
    if (!Array.isArray(prompt)) { area.appendChild(el("blockquote", { style: "white-space:pre-wrap" }, prompt)); return; }
    const chat = el("div", { class: "conversation", "data-testid": "conversation" });
    prompt.forEach((turn) => {
      const bubble = el("div", { class: `turn ${turn.role}` });
      bubble.appendChild(el("strong", {}, turn.role === "assistant" ? "Assistant" : turn.role === "system" ? "System" : "User"));
      bubble.appendChild(el("p", { style: "white-space:pre-wrap;margin:.25rem 0 0" }, turn.content));
      chat.appendChild(bubble);
    });
    area.appendChild(chat);
  }

  function renderMultilabel(task) {
    if (task.data.text) area.appendChild(el("blockquote", {}, task.data.text));
    if (task.data.image_url) area.appendChild(zoomable(task.data.image_url, "Item to label"));
    current.chosen = new Set();
    const group = el("div", { role: "group", "aria-label": "Labels (choose any)", class: "actions" });
    task.choices.forEach((choice, i) => {
      const button = el("button", { type: "button", class: "secondary", "data-toggle": choice, "aria-pressed": "false" }, `${i + 1}. ${choice}`);
      button.addEventListener("click", () => toggle(choice));
      group.appendChild(button);
    });
    area.appendChild(group);
  }

  function toggle(choice) {
    if (current.chosen.has(choice)) current.chosen.delete(choice); else current.chosen.add(choice);
    area.querySelectorAll("[data-toggle]").forEach((b) => {
      const on = current.chosen.has(b.dataset.toggle);
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.className = on ? "" : "secondary";
    });
  }

  function renderRanking(task) {
    renderPrompt(task.data.prompt);
    current.order = []; // response indexes, best first
    current.tied = new Set(); // positions tied with the one above
    current.selected = null;
    const grid = el("div", { class: "grid" });
    task.data.responses.forEach((text, i) => {
      const card = el("div", { class: "card", "data-response": String(i) });
      card.appendChild(el("h3", {}, `Response ${i + 1}`));
      card.appendChild(el("p", { style: "white-space:pre-wrap" }, text));
      const place = el("button", { type: "button", class: "secondary small", "data-place": String(i) }, `Place next (${i + 1})`);
      place.addEventListener("click", () => placeNext(i));
      card.appendChild(place);
      grid.appendChild(card);
    });
    area.appendChild(grid);
    area.appendChild(el("h3", {}, "Your ranking, best first"));
    area.appendChild(el("ol", { id: "ranking", "data-testid": "ranking", "aria-live": "polite" }));
  }

  function placeNext(i) {
    if (current.order.includes(i)) { current.selected = current.order.indexOf(i); drawRanking(); return; }
    current.order.push(i);
    current.selected = current.order.length - 1;
    drawRanking();
  }

  function move(delta) {
    const at = current.selected;
    if (at === null || at + delta < 0 || at + delta >= current.order.length) return;
    const order = current.order;
    [order[at], order[at + delta]] = [order[at + delta], order[at]];
    current.selected = at + delta;
    drawRanking();
  }

  function drawRanking() {
    const list = document.getElementById("ranking");
    list.replaceChildren();
    current.order.forEach((i, position) => {
      const tied = current.tied.has(position);
      const item = el("li", { "data-item": String(i), class: position === current.selected ? "selected" : "" });
      item.appendChild(el("span", {}, `${tied ? "= " : ""}Response ${i + 1}`));
      const up = el("button", { type: "button", class: "secondary small", "aria-label": `Move response ${i + 1} up` }, "↑");
      const down = el("button", { type: "button", class: "secondary small", "aria-label": `Move response ${i + 1} down` }, "↓");
      up.addEventListener("click", () => { current.selected = position; move(-1); });
      down.addEventListener("click", () => { current.selected = position; move(1); });
      item.append(" ", up, down);
      if (position > 0 && (current.task.config || {}).allow_ties) {
        const tie = el("button", { type: "button", class: "secondary small", "aria-pressed": tied ? "true" : "false" }, "tie with above");
        tie.addEventListener("click", () => { if (tied) current.tied.delete(position); else current.tied.add(position); drawRanking(); });
        item.append(" ", tie);
      }
      list.appendChild(item);
    });
    area.querySelectorAll("[data-place]").forEach((b) => { b.disabled = current.order.includes(Number(b.dataset.place)); });
  }

  function rankingGroups() {
    const groups = [];
    current.order.forEach((i, position) => {
      if (position > 0 && current.tied.has(position)) groups[groups.length - 1].push(i); else groups.push([i]);
    });
    return groups;
  }

  function renderRubric(task) {
    renderPrompt(task.data.prompt);
    area.appendChild(el("h3", {}, "Response"));
    area.appendChild(el("blockquote", { style: "white-space:pre-wrap" }, task.data.response));
    current.scores = {};
    current.dimension = 0;
    (task.config.dimensions || []).forEach((dim, d) => {
      const box = el("fieldset", { class: "card", "data-dimension": dim.key });
      box.appendChild(el("legend", {}, dim.label));
      const group = el("div", { role: "radiogroup", "aria-label": dim.label, class: "actions" });
      dim.scale.forEach((point, p) => {
        const button = el("button", { type: "button", class: "secondary small", "data-score": String(p), "aria-pressed": "false" }, `${p + 1}. ${point}`);
        button.addEventListener("click", () => { current.dimension = d; rate(p); });
        group.appendChild(button);
      });
      box.appendChild(group);
      if (dim.rationale !== "none") {
        const id = `rationale-${dim.key}`;
        box.appendChild(el("label", { for: id }, dim.rationale === "required" ? "Why? (required)" : "Why? (optional)"));
        box.appendChild(el("textarea", { id: id, rows: "2", "data-rationale": dim.key }));
      }
      area.appendChild(box);
    });
    markDimension();
  }

  function rate(point) {
    const dims = current.task.config.dimensions;
    const dim = dims[current.dimension];
    current.scores[dim.key] = point;
    area.querySelectorAll(`[data-dimension="${dim.key}"] [data-score]`).forEach((b) => {
      const on = Number(b.dataset.score) === point;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.className = on ? "small" : "secondary small";
    });
    if (current.dimension < dims.length - 1) current.dimension += 1;
    markDimension();
  }

  function markDimension() {
    area.querySelectorAll("[data-dimension]").forEach((box, d) => { box.classList.toggle("current", d === current.dimension); });
  }

  function renderRewrite(task) {
    renderPrompt(task.data.prompt);
    area.appendChild(el("h3", {}, "The response to improve"));
    area.appendChild(el("blockquote", { style: "white-space:pre-wrap" }, task.data.response));
    area.appendChild(el("label", { for: "answer-rewrite" }, "Your better response (Ctrl+Enter submits)"));
    const box = el("textarea", { id: "answer-rewrite", rows: "8", "data-testid": "answer-rewrite" });
    box.value = task.data.response;
    area.appendChild(box);
    box.focus();
  }

  function renderPairwise(task) {
    renderPrompt(task.data.prompt);
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
    const renderers = { ocr: renderOcr, classification: renderClassification, pairwise: renderPairwise, multilabel: renderMultilabel,
      ranking: renderRanking, rubric: renderRubric, rewrite: renderRewrite };
    (renderers[type] || renderPairwise)(payload.task);
    if (type !== "ocr" && type !== "rewrite") area.focus(); // Enter from the task area submits; digits and letters choose
    const submit = el("button", { type: "button", "data-testid": "submit", "data-action": "submit", style: "margin-top:1rem" }, "Submit (Enter)");
    submit.addEventListener("click", submitAnswer);
    const skip = el("button", { type: "button", class: "secondary", "data-testid": "skip", style: "margin:1rem 0 0 .5rem" }, "Skip (Esc)");
    skip.addEventListener("click", skipTask);
    area.appendChild(submit);
    area.appendChild(skip);
    say("");
  }

  // Prefetch: the next lease is fetched while the member works on this one, so a submit never waits for a task.
  // The server hands back the leases the member holds first; the queued one is renewed with the current one.
  let ahead = null;

  function following(leases) {
    return (leases || []).find((lease) => !current || lease.assignment.id !== current.assignment.id) || null;
  }

  async function topUp() {
    const { response, data } = await api("/api/v1/work/next/", { project: projectId, count: 2 });
    if (response.status === 200 && data && data.leases && current) ahead = following(data.leases);
  }

  async function next() {
    if (ahead) {
      const payload = ahead;
      ahead = null;
      render(payload);
      topUp();
      return;
    }
    busy = true;
    const { response, data } = await api("/api/v1/work/next/", { project: projectId, count: 2 });
    busy = false;
    if (response.status === 204) {
      current = null;
      area.replaceChildren(el("p", { "data-testid": "no-work" }, "No more tasks for you in this project right now. Thank you!"));
      say(`(${response.headers.get("X-Coop-Reason") || "no work"})`);
      return;
    }
    if (!response.ok) { say(data && data.error ? data.error.message : "Could not load a task.", true); return; }
    const leases = data.leases || [data];
    render(leases[0]);
    ahead = following(leases);
  }

  function answerPayload() {
    const type = current.task.type;
    if (type === "ocr") return { text: document.getElementById("answer-text").value };
    if (type === "classification") return { choice: current.choice };
    if (type === "multilabel") return { choices: Array.from(current.chosen) };
    if (type === "ranking") return { order: rankingGroups() };
    if (type === "rewrite") return { text: document.getElementById("answer-rewrite").value };
    if (type === "rubric") {
      const rationales = {};
      area.querySelectorAll("[data-rationale]").forEach((box) => { if (box.value.trim()) rationales[box.dataset.rationale] = box.value; });
      return { scores: current.scores, rationales: rationales };
    }
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
    if (ahead) api(`/api/v1/work/assignments/${ahead.assignment.id}/heartbeat/`, { active_seconds: 0 }); // keep the queued one
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
    const digit = /^[1-9]$/.test(event.key) ? Number(event.key) - 1 : null;
    if (type === "classification" && digit !== null) {
      const choice = current.task.choices[digit];
      if (choice !== undefined) choose(choice);
    } else if (type === "multilabel" && digit !== null) {
      const choice = current.task.choices[digit];
      if (choice !== undefined) toggle(choice);
    } else if (type === "ranking") {
      if (digit !== null && digit < current.task.data.responses.length) placeNext(digit);
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "Backspace" && current.order.length) {
        event.preventDefault();
        current.tied.delete(current.order.length - 1);
        current.order.pop();
        current.selected = current.order.length ? current.order.length - 1 : null;
        drawRanking();
      } else if (event.key === "=" && (current.task.config || {}).allow_ties && current.selected > 0) {
        if (current.tied.has(current.selected)) current.tied.delete(current.selected); else current.tied.add(current.selected);
        drawRanking();
      }
    } else if (type === "rubric") {
      const dims = current.task.config.dimensions || [];
      if (digit !== null && digit < dims[current.dimension].scale.length) rate(digit);
      else if (event.key === "ArrowUp" && current.dimension > 0) { event.preventDefault(); current.dimension -= 1; markDimension(); }
      else if (event.key === "ArrowDown" && current.dimension < dims.length - 1) { event.preventDefault(); current.dimension += 1; markDimension(); }
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
