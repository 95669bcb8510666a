// The in-page quiz: turns each <div class="wb-quiz"> that the book's quiz preprocessor wrote into questions you can
// answer, graded right away by quiz-grader.js (the JavaScript mirror of the workbench's Rust grader). Answers are
// kept in localStorage under "wb-quiz:<question id>", so a reload keeps them; nothing leaves the browser.
(function () {
  "use strict";

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { e.textContent = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { e.appendChild(c); });
    return e;
  }

  function saved(id) {
    try { return JSON.parse(localStorage.getItem("wb-quiz:" + id)); } catch (e) { return null; }
  }

  function save(id, answer) {
    try { localStorage.setItem("wb-quiz:" + id, JSON.stringify(answer)); } catch (e) { /* private mode: fine */ }
  }

  // The input for one question, and a function reading the answer from it (null when unanswered).
  function input(q, previous) {
    var box = el("div", { "class": "wb-input" });
    var name = "wb-" + q.id;
    if (q.kind === "single" || q.kind === "multi") {
      q.choices.forEach(function (choice, i) {
        var attrs = { type: q.kind === "single" ? "radio" : "checkbox", name: name, value: String(i) };
        var box1 = el("input", attrs);
        if (previous !== null && (q.kind === "single" ? previous === i : previous.indexOf(i) >= 0)) { box1.checked = true; }
        box.appendChild(el("label", { "class": "wb-choice" }, [box1, document.createTextNode(" " + choice)]));
      });
      return [box, function () {
        var picked = Array.prototype.slice.call(box.querySelectorAll("input:checked")).map(function (c) { return Number(c.value); });
        if (q.kind === "single") { return picked.length ? picked[0] : null; }
        return picked;
      }];
    }
    if (q.kind === "numeric") {
      var n = el("input", { type: "number", step: "any", "class": "wb-number", "aria-label": "your answer" });
      if (previous !== null) { n.value = previous; }
      box.appendChild(n);
      if (q.unit) { box.appendChild(document.createTextNode(" " + q.unit)); }
      return [box, function () { return n.value === "" ? null : Number(n.value); }];
    }
    if (q.kind === "order") {
      var order = previous || q.items.map(function (_, i) { return i; });
      var list = el("ol", { "class": "wb-order" });
      function draw() {
        list.innerHTML = "";
        order.forEach(function (item, pos) {
          var up = el("button", { type: "button", "aria-label": "move up", text: "↑" });
          var down = el("button", { type: "button", "aria-label": "move down", text: "↓" });
          up.disabled = pos === 0;
          down.disabled = pos === order.length - 1;
          up.onclick = function () { order.splice(pos - 1, 0, order.splice(pos, 1)[0]); draw(); };
          down.onclick = function () { order.splice(pos + 1, 0, order.splice(pos, 1)[0]); draw(); };
          list.appendChild(el("li", {}, [document.createTextNode(q.items[item] + " "), up, down]));
        });
      }
      draw();
      box.appendChild(list);
      return [box, function () { return order.slice(); }];
    }
    var t = el("textarea", { rows: "6", "class": "wb-text", "aria-label": "your answer" });
    if (previous !== null) { t.value = previous; }
    box.appendChild(t);
    return [box, function () { return t.value.trim() === "" ? null : t.value; }];
  }

  function feedback(q, g) {
    var out = el("div", { "class": "wb-feedback " + (g.passed ? "wb-pass" : "wb-fail"), role: "status" });
    var verdict = (g.passed ? "✓ Right" : "✗ Not yet") + (q.kind === "text" || q.kind === "multi"
      ? " — score " + Math.round(g.score * 100) + "%" : "");
    out.appendChild(el("p", { "class": "wb-verdict", text: verdict }));
    if (g.found.length) { out.appendChild(el("p", { text: "Found: " + g.found.join("; ") })); }
    if (g.missed.length) { out.appendChild(el("p", { text: "Missed: " + g.missed.join("; ") })); }
    g.notes.forEach(function (n) { out.appendChild(el("p", { "class": "wb-note", text: n })); });
    out.appendChild(el("p", { "class": "wb-model", text: "Model answer: " + q.model_answer }));
    out.appendChild(el("p", { "class": "wb-explanation", text: q.explanation }));
    return out;
  }

  function render(root, bank, rules) {
    bank.questions.forEach(function (q) {
      var previous = saved(q.id);
      var card = el("section", { "class": "wb-question", "data-id": q.id });
      card.appendChild(el("p", { "class": "wb-prompt" }, [
        el("span", { "class": "wb-id", text: q.id }), document.createTextNode(" " + q.prompt)]));
      var made = input(q, previous);
      card.appendChild(made[0]);
      var check = el("button", { type: "button", "class": "wb-check", text: "Check" });
      var slot = el("div", { "class": "wb-slot" });
      check.onclick = function () {
        var answer = made[1]();
        slot.innerHTML = "";
        if (answer === null) {
          slot.appendChild(el("p", { "class": "wb-note", text: "Answer first, then check." }));
          return;
        }
        save(q.id, answer);
        slot.appendChild(feedback(q, WorkbenchQuizGrader.grade(q, answer, rules)));
      };
      card.appendChild(check);
      card.appendChild(slot);
      root.appendChild(card);
    });
  }

  function start() {
    document.querySelectorAll("div.wb-quiz").forEach(function (root) {
      var data = document.getElementById(root.getAttribute("data-bank"));
      if (!data) { return; }
      var payload = JSON.parse(data.textContent);
      render(root, payload.bank, payload.rules);
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
