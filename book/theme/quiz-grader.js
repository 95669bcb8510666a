// The quiz grader, in the browser: a line-by-line mirror of quiz/src/grade.rs (the Rust grader that
// `cargo xtask quiz` uses). The word lists are not copied here: they come with the page, from the Rust constants
// (quiz::web::rules_json). The workspace test `quiz_grader_js` grades every calibration vector and every model
// answer with both graders under node and requires the same scores.
(function (root) {
  "use strict";

  // Words as grade.rs splits them: runs of letters, digits, apostrophes and hyphens, lower-cased.
  function words(text) {
    return text.split(/[^\p{L}\p{N}'-]+/u).filter(Boolean).map(function (w) { return w.toLowerCase(); });
  }

  // A negation among the last `window` words of the match's clause.
  function negated(text, start, rules) {
    var before = text.slice(0, start);
    var clauseStart = Math.max(
      before.lastIndexOf("."), before.lastIndexOf(";"), before.lastIndexOf("!"),
      before.lastIndexOf("?"), before.lastIndexOf(":")) + 1;
    var recent = words(before.slice(clauseStart));
    return recent.slice(-rules.negation_window).some(function (w) { return rules.negations.indexOf(w) >= 0; });
  }

  // A dismissal ("… doesn't matter") among the next `dismissal_window` words of the match's clause.
  function dismissed(text, end, rules) {
    var after = text.slice(end);
    var stops = [".", ";", "!", "?"].map(function (c) { var i = after.indexOf(c); return i < 0 ? after.length : i; });
    var next = words(after.slice(0, Math.min.apply(null, stops))).slice(0, rules.dismissal_window);
    var tail = " " + next.join(" ") + " ";
    return rules.dismissals.some(function (d) { return tail.indexOf(" " + d + " ") >= 0; });
  }

  // Rust regex syntax and JavaScript's agree on what the banks use; the `u` flag makes \w and \b see letters
  // beyond ASCII, as Rust's do.
  function compile(pattern) {
    try { return new RegExp(pattern, "giu"); } catch (e) { return new RegExp(pattern, "gi"); }
  }

  function matched(concept, text, rules) {
    var anyNegated = false;
    for (var i = 0; i < concept.any.length; i++) {
      var re = compile(concept.any[i]);
      var m;
      while ((m = re.exec(text)) !== null) {
        if (negated(text, m.index, rules) || dismissed(text, m.index + m[0].length, rules)) { anyNegated = true; } else { return [true, false]; }
        if (m[0].length === 0) { re.lastIndex++; }
      }
    }
    return [false, anyNegated];
  }

  function bareList(text, rules) {
    var all = words(text);
    if (all.length === 0) { return false; }
    var noFunctionWords = !all.some(function (w) { return rules.function_words.indexOf(w) >= 0; });
    var items = text.split(/[,;\n]/).map(function (s) { return s.trim(); }).filter(Boolean);
    var shortItems = items.length >= 3 && items.every(function (i) { return words(i).length <= rules.list_item_words; });
    return noFunctionWords || shortItems;
  }

  function gradeText(q, raw, rules) {
    var text = raw.trim().split(/\s+/).filter(Boolean).join(" ");
    var total = q.rubric.filter(function (c) { return !c.misconception; })
      .reduce(function (s, c) { return s + c.weight; }, 0);
    var earned = 0;
    var g = { score: 0, passed: false, found: [], missed: [], notes: [] };
    q.rubric.forEach(function (c) {
      var r = matched(c, text, rules), hit = r[0], onlyNegated = r[1];
      if (!c.misconception && hit) { earned += c.weight; g.found.push(c.concept); }
      else if (!c.misconception) {
        g.missed.push(c.concept);
        if (onlyNegated) { g.notes.push("\"" + c.concept + "\" is mentioned only to be negated or dismissed, so it does not count"); }
      } else if (hit) { earned -= c.weight; g.notes.push("misconception: " + c.concept); }
    });
    var score = Math.min(1, Math.max(0, earned / total));
    if (bareList(text, rules)) {
      var cap = Math.min(0.5, Math.max(0, q.pass_score - 0.01));
      if (score > cap) {
        score = cap;
        g.notes.push("a list of terms is not an answer: say what you would do and why, in sentences");
      }
    }
    g.score = score;
    g.passed = score >= q.pass_score;
    return g;
  }

  function exact(right, wrongNote) {
    return { score: right ? 1 : 0, passed: right, found: [], missed: right ? [] : [wrongNote], notes: [] };
  }

  function sameList(a, b) {
    return a.length === b.length && a.every(function (x, i) { return x === b[i]; });
  }

  // Grades one answer: a choice index (single), a list of indices (multi, order), a number (numeric) or text.
  function grade(q, answer, rules) {
    switch (q.kind) {
      case "single":
        return exact(answer === q.answer, "not the right choice");
      case "multi": {
        var given = Array.from(new Set(answer)).sort(function (a, b) { return a - b; });
        var hits = given.filter(function (i) { return q.answer.indexOf(i) >= 0; }).length;
        var wrong = given.length - hits;
        var g = exact(sameList(given, q.answer), "not exactly the right set");
        g.score = Math.min(1, Math.max(0, (hits - wrong) / q.answer.length));
        q.answer.forEach(function (i) { if (given.indexOf(i) < 0) { g.missed.push("missed: " + q.choices[i]); } });
        return g;
      }
      case "numeric":
        return exact(Math.abs(answer - q.answer) <= q.tolerance + 1e-9,
          "expected " + q.answer + (q.unit || "") + " (± " + q.tolerance + ")");
      case "order":
        return exact(sameList(answer, q.answer), "not in the right order");
      default:
        return gradeText(q, String(answer), rules);
    }
  }

  var api = { grade: grade, words: words };
  if (typeof module !== "undefined" && module.exports) { module.exports = api; } else { root.WorkbenchQuizGrader = api; }
})(this);
