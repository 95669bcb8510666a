// Grades every case of a file written by tests/tests/quiz_grader_js.rs with the browser's grader
// (book/theme/quiz-grader.js) and compares with the Rust grader's verdicts recorded beside each case.
// Prints each disagreement; exits 1 if there is any.
"use strict";
const fs = require("fs");
const path = require("path");
const grader = require(path.join(__dirname, "../../book/theme/quiz-grader.js"));

const data = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
let disagreements = 0;
for (const c of data.cases) {
  const q = data.questions[c.id];
  const g = grader.grade(q, c.answer, data.rules);
  const same = Math.abs(g.score - c.score) < 1e-9 && g.passed === c.passed
    && JSON.stringify(g.found) === JSON.stringify(c.found) && JSON.stringify(g.missed) === JSON.stringify(c.missed);
  if (!same) {
    disagreements++;
    console.log(`${c.id}: rust ${c.score.toFixed(3)} ${c.passed} ${JSON.stringify(c.found)}; ` +
      `js ${g.score.toFixed(3)} ${g.passed} ${JSON.stringify(g.found)} — answer: ${JSON.stringify(c.answer)}`);
  }
}
console.log(`${data.cases.length - disagreements} of ${data.cases.length} cases agree`);
process.exit(disagreements === 0 ? 0 : 1);
