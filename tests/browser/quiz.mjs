// Opens the built book's caching chapter in headless Chromium, answers a quiz question, and checks the feedback;
// then reloads the page and checks the answer was kept (localStorage). Takes a screenshot of the answered
// question. Usage: node quiz.mjs BUILT_BOOK_DIR SCREENSHOT.png — prints a JSON summary, exits 1 on failure.
import { chromium } from "playwright-core";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const [built, screenshot] = process.argv.slice(2);

// Served over HTTP on loopback, as a reader gets it (mdBook's search fetches its index, which file:// forbids).
const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json",
  ".svg": "image/svg+xml", ".png": "image/png", ".woff2": "font/woff2" };
const server = http.createServer((req, res) => {
  let file = path.join(built, decodeURIComponent(new URL(req.url, "http://x").pathname));
  if (!file.startsWith(path.resolve(built))) { res.writeHead(403).end(); return; }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, "index.html");
  fs.readFile(file, (err, body) => {
    if (err) { res.writeHead(404).end(); return; }
    res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" }).end(body);
  });
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const base = `http://127.0.0.1:${server.address().port}/`;
const url = base + "caching/index.html";
// The flags a sandboxed, offline machine needs (no background network, no sandbox as root).
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const fail = async (message) => {
  console.log(JSON.stringify({ ok: false, message }));
  await browser.close();
server.close();
  server.close();
  process.exit(1);
};
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("requestfailed", (r) => errors.push("request failed: " + r.url()));
  page.on("response", (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
  await page.goto(url);
  const questions = await page.locator("section.wb-question").count();
  if (questions < 10) await fail(`expected the caching quiz, found ${questions} questions`);

  // A numeric question: caching-4, mean latency at a 90% hit ratio is 2.2 ms.
  const card = page.locator('section.wb-question[data-id="caching-4"]');
  await card.locator("input.wb-number").fill("2.2");
  await card.locator("button.wb-check").click();
  const right = await card.locator(".wb-feedback").innerText();
  if (!right.includes("✓ Right")) await fail(`a right answer got: ${right}`);

  // A text question, answered with a bare list of terms: capped, with the reason.
  const text = page.locator('section.wb-question[data-id="caching-1"]');
  await text.locator("textarea").fill("TTL, write-through, tags, stampede");
  await text.locator("button.wb-check").click();
  const listed = await text.locator(".wb-feedback").innerText();
  if (!listed.includes("✗ Not yet") || !listed.includes("list of terms")) await fail(`a list of terms got: ${listed}`);
  await text.screenshot({ path: screenshot });

  // The answers survive a reload.
  await page.reload();
  const kept = await page.locator('section.wb-question[data-id="caching-4"] input.wb-number').inputValue();
  if (kept !== "2.2") await fail(`after a reload the answer was ${JSON.stringify(kept)}`);

  // Search: the index loads and finds the chapter that teaches single-flight.
  await page.locator("#mdbook-search-toggle").click();
  await page.locator("#mdbook-searchbar").pressSequentially("stampede");
  await page.waitForSelector("#mdbook-searchresults li", { timeout: 10000 });
  const hits = await page.locator("#mdbook-searchresults li").count();
  if (hits < 1) await fail("search found nothing for single-flight");

  if (errors.length) await fail(`script errors: ${errors.join("; ")}`);
  console.log(JSON.stringify({ ok: true, questions, search_hits: hits, right, listed }));
} catch (e) {
  await fail(String(e));
}
await browser.close();
server.close();
