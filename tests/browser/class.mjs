// Opens the instructor's class dashboard (one self-contained HTML file) in headless Chromium, counts what it shows —
// learners' rows, questions, leaderboard rows, lesson rows and the dots of their plots — and saves a screenshot of
// the whole page. Usage: node class.mjs DASHBOARD.html SCREENSHOT.png — prints a JSON summary, exits 1 on failure.
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

const [dashboard, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(pathToFileURL(dashboard).href);
  const rows = (selector) => page.locator(`${selector} tr`).count();
  const summary = {
    ok: true,
    title: await page.title(),
    learner_rows: (await rows("#learners")) - 1,
    learner_names: await page.locator("#learners tr td:first-child").allTextContents(),
    question_rows: (await rows("#questions")) - 1,
    leaderboard_rows: (await page.locator("#leaderboards table.leaderboard tr").count()) -
      (await page.locator("#leaderboards table.leaderboard").count()),
    lesson_rows: (await rows("#lessons")) - 1,
    plots: await page.locator("#lessons svg.dot-plot").count(),
    dots: await page.locator("#lessons svg.dot-plot circle").count(),
    // The plots are drawn, not only present: each has a size the browser laid out.
    plot_width: (await page.locator("#lessons svg.dot-plot").first().boundingBox())?.width ?? 0,
    warnings: await page.locator(".warn").allTextContents(),
    errors,
  };
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify(summary));
} catch (e) {
  console.log(JSON.stringify({ ok: false, message: String(e) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
