//! The instructor's dashboard as one self-contained HTML page: inline CSS and SVG, no script (except the reload
//! poll when `--watch` serves it), so it can be mailed, committed, or opened from a USB stick after the session.
//!
//! Tables carry ids (`learners`, `questions`, `leaderboards`, `lessons`) and each lesson's chart is an
//! `svg.dot-plot` with one `circle` per machine: the browser test counts them.

use std::fmt::Write;

use lab_harness::lessons::round;
use lab_harness::report::html::esc;

use crate::summary::{LessonSpread, Summary};

/// The script `--watch` adds: asks the server for the folder's generation once a second and reloads when it
/// changed (the book's `--serve` does the same for chapters).
pub const RELOAD_SCRIPT: &str = "<script>(function(){var seen=null;setInterval(function(){fetch('/__generation',{cache:'no-store'}).then(function(r){return r.text();}).then(function(g){if(seen!==null&&g!==seen){location.reload();}seen=g;}).catch(function(){});},1000);})();</script>";

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}\
table{border-collapse:collapse;font-size:14px;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}\
td.n{text-align:right;white-space:nowrap}.ok{color:#1a7f37}.bad{color:#c62828}.muted{color:#777}\
.bar{display:inline-block;height:10px;background:#1a7f37;vertical-align:middle}.bar.rest{background:#e57373}\
svg{background:#fafafa;border:1px solid #ddd}svg text{font-size:12px}.warn{background:#fff4e5;border-left:4px solid #f0a000;padding:.5em 1em}\
h3{margin-bottom:.2em}";

/// Renders the page; `live` adds the reload script.
pub fn render(summary: &Summary, live: bool) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Class — {folder}</title><style>{STYLE}</style></head><body>\
         <h1>Class dashboard</h1><p>{n} submissions in <code>{folder}</code>, read {at}{live}.</p>",
        folder = esc(&summary.folder),
        n = summary.learners.len(),
        at = esc(&summary.generated_at),
        live = if live { " — refreshes as submissions arrive" } else { "" },
    );
    for skipped in &summary.skipped {
        let _ = write!(page, "<p class=\"warn\">skipped {}</p>", esc(&skipped.to_string()));
    }
    for warning in &summary.warnings {
        let _ = write!(page, "<p class=\"warn\">{}</p>", esc(warning));
    }
    learners(&mut page, summary);
    questions(&mut page, summary);
    leaderboards(&mut page, summary);
    lessons(&mut page, summary);
    if live {
        page.push_str(RELOAD_SCRIPT);
    }
    page.push_str("</body></html>\n");
    page
}

fn learners(page: &mut String, summary: &Summary) {
    page.push_str(
        "<h2>Learners</h2><table id=\"learners\"><tr><th>name</th><th>exercises solved</th><th>quiz passed</th>\
         <th>drills fixed</th><th>labs run</th><th>machine</th><th>submitted</th></tr>",
    );
    for l in &summary.learners {
        let _ = write!(
            page,
            "<tr><td>{}</td><td class=\"n\">{} / {}</td><td class=\"n\">{} / {}</td><td class=\"n\">{} / {}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&l.name),
            l.exercises_solved,
            l.exercises_total,
            l.quiz_passed,
            l.quiz_answered,
            l.drills_fixed,
            l.drills_total,
            l.labs_run,
            esc(&l.machine),
            esc(&l.submitted_at)
        );
    }
    page.push_str("</table>");
}

fn questions(page: &mut String, summary: &Summary) {
    if summary.questions.is_empty() {
        page.push_str("<h2>Questions</h2><p class=\"muted\">No quiz answers submitted yet.</p>");
        return;
    }
    page.push_str(
        "<h2>Questions, weakest first</h2><p>What to re-teach after the break: the share that passed, and what the \
         answers most often missed.</p><table id=\"questions\"><tr><th>question</th><th>passed</th>\
         <th>most often missed</th><th>misconceptions stated</th></tr>",
    );
    for q in &summary.questions {
        let share = q.share_passed();
        let width = 80.0;
        let list = |counts: &[crate::summary::Count]| {
            counts
                .iter()
                .take(3)
                .map(|c| format!("{} ({})", esc(&c.what), c.learners))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let failed = if q.failed_answers.is_empty() {
            String::new()
        } else {
            let items: Vec<String> = q
                .failed_answers
                .iter()
                .map(|a| format!("<li><b>{}</b>: {}</li>", esc(&a.learner), esc(&a.answer)))
                .collect();
            format!(
                "<details><summary>{} answers that did not pass</summary><ul>{}</ul></details>",
                q.failed_answers.len(),
                items.concat()
            )
        };
        let _ = write!(
            page,
            "<tr><td><b>{}</b> <span class=\"muted\">{}</span><br>{}{failed}</td><td class=\"n\">{}/{} \
             <span class=\"bar\" style=\"width:{:.0}px\"></span><span class=\"bar rest\" style=\"width:{:.0}px\"></span></td><td>{}</td><td>{}</td></tr>",
            esc(&q.id),
            esc(&q.topic),
            esc(&q.prompt),
            q.passed,
            q.answered,
            share * width,
            (1.0 - share) * width,
            list(&q.missed),
            list(&q.misconceptions),
        );
    }
    page.push_str("</table>");
}

fn leaderboards(page: &mut String, summary: &Summary) {
    page.push_str(
        "<h2>Exercise leaderboards</h2><p>Ranked by the performance gate: the learner's variant divided by the \
         reference, both measured in <em>one run on the learner's own machine</em>. A same-run ratio cancels most of \
         what differs between laptops, which is why these rows can be compared; absolute latencies could not.</p>\
         <div id=\"leaderboards\">",
    );
    for board in &summary.exercises {
        let _ = write!(
            page,
            "<h3>{}</h3><p class=\"muted\">{} relative to {} — the gate allows at most {}×; lower is faster.</p>\
             <table class=\"leaderboard\"><tr><th>#</th><th>learner</th><th>ratio</th><th>gate</th><th>machine</th></tr>",
            esc(&board.exercise),
            esc(&board.metric),
            esc(&board.relative_to),
            round(board.at_most)
        );
        for (i, e) in board.entries.iter().enumerate() {
            let (class, verdict) = match (e.solved, e.passed) {
                (true, _) => ("ok", "solved"),
                (false, true) => ("ok", "passed"),
                (false, false) => ("bad", "not yet"),
            };
            let _ = write!(
                page,
                "<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}×</td><td class=\"{class}\">{verdict}</td><td>{}</td></tr>",
                i + 1,
                esc(&e.learner),
                round(e.ratio),
                esc(&e.machine)
            );
        }
        page.push_str("</table>");
        if !board.not_measured.is_empty() {
            let names: Vec<String> = board.not_measured.iter().map(|n| esc(n)).collect();
            let _ = write!(
                page,
                "<p class=\"muted\">Tests not yet passing (no gate measured): {}</p>",
                names.join(", ")
            );
        }
    }
    if summary.exercises.is_empty() {
        page.push_str("<p class=\"muted\">No exercise checked yet.</p>");
    }
    page.push_str("</div>");
}

fn lessons(page: &mut String, summary: &Summary) {
    page.push_str(
        "<h2>Lessons across the room's machines</h2><p>Each dot is one learner's newest complete run of the lab: \
         the ratio the lesson measured on that machine (log scale); the dashed line is what the lesson needs. A \
         machine that disagrees is worth a minute: fewer cores, a laptop on battery, a run whose load generator \
         could not keep its schedule.</p><table id=\"lessons\"><tr><th>lab</th><th>lesson</th><th>held</th>\
         <th>each machine's ratio</th></tr>",
    );
    for spread in &summary.lessons {
        let (held, judged) = spread.held_of_judged();
        let class = if judged > 0 && held == judged { "ok" } else { "bad" };
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td class=\"n {class}\">{held} of {judged}</td><td>{}</td></tr>",
            esc(&spread.lab),
            esc(&spread.claim),
            dot_plot(spread)
        );
    }
    page.push_str("</table>");
    if summary.lessons.is_empty() {
        page.push_str("<p class=\"muted\">No lab runs submitted yet.</p>");
    }
}

/// One row per machine, the ratio on a log axis, the lesson's threshold dashed.
pub fn dot_plot(spread: &LessonSpread) -> String {
    let (left, right, row, top) = (170.0, 440.0, 20.0, 20.0);
    let ratios: Vec<f64> = spread
        .observations
        .iter()
        .filter_map(|o| o.observed_ratio)
        .filter(|r| *r > 0.0)
        .chain(std::iter::once(spread.expected_ratio.max(1e-3)))
        .collect();
    let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min).min(1.0) / 1.5;
    let hi = ratios.iter().copied().fold(0.0, f64::max) * 1.5;
    let x = |r: f64| left + (r.max(lo).log10() - lo.log10()) / (hi.log10() - lo.log10()) * (right - left);
    let height = top + row * spread.observations.len() as f64 + 22.0;
    let mut svg = format!(
        "<svg class=\"dot-plot\" width=\"460\" height=\"{height:.0}\" viewBox=\"0 0 460 {height:.0}\" role=\"img\" aria-label=\"{}\">",
        esc(&spread.claim)
    );
    // Decades on the axis.
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi {
        if decade >= lo {
            let _ = write!(
                svg,
                "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{top}\" y2=\"{1:.0}\" stroke=\"#e0e0e0\"/><text x=\"{0:.1}\" y=\"{2:.0}\" text-anchor=\"middle\">{3}×</text>",
                x(decade),
                height - 20.0,
                height - 6.0,
                round(decade)
            );
        }
        decade *= 10.0;
    }
    let _ = write!(
        svg,
        "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"8\" y2=\"{1:.0}\" stroke=\"#555\" stroke-dasharray=\"4 3\"/><text x=\"{0:.1}\" y=\"14\" text-anchor=\"middle\">needs {2}×</text>",
        x(spread.expected_ratio.max(lo)),
        height - 20.0,
        round(spread.expected_ratio)
    );
    for (i, o) in spread.observations.iter().enumerate() {
        let y = top + row * i as f64 + row / 2.0;
        let _ = write!(
            svg,
            "<text x=\"6\" y=\"{:.0}\">{} · {} cores</text>",
            y + 4.0,
            esc(&truncate(&o.learner, 18)),
            o.cpus
        );
        match o.observed_ratio {
            Some(r) => {
                let colour = if o.holds { "#1a7f37" } else { "#c62828" };
                let _ = write!(
                    svg,
                    "<circle cx=\"{:.1}\" cy=\"{y:.0}\" r=\"6\" fill=\"{colour}\"><title>{}: {}× on {} ({} profile)</title></circle>",
                    x(r),
                    esc(&o.learner),
                    round(r),
                    esc(&o.machine),
                    esc(&o.profile)
                );
            }
            None => {
                let _ = write!(
                    svg,
                    "<circle cx=\"{left}\" cy=\"{y:.0}\" r=\"6\" fill=\"none\" stroke=\"#c62828\"><title>not judged: {}</title></circle><text x=\"{:.0}\" y=\"{:.0}\" class=\"muted\">not judged</text>",
                    esc(o.note.as_deref().unwrap_or("no data")),
                    left + 12.0,
                    y + 4.0
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

fn truncate(s: &str, chars: usize) -> String {
    if s.chars().count() <= chars {
        s.to_string()
    } else {
        s.chars().take(chars - 1).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{Catalogue, Observation};

    #[test]
    fn the_page_has_every_table_and_one_dot_per_machine() {
        let room = crate::summary::tests::room();
        let mut summary = Summary::of(&room, &Catalogue::default());
        summary.lessons.push(LessonSpread {
            lab: "caching".into(),
            claim: "single-flight <cuts> queries".into(),
            expected_ratio: 50.0,
            observations: ["Ada", "Ben", "Cy"]
                .iter()
                .zip([Some(812.0), Some(12.0), None])
                .map(|(name, ratio)| Observation {
                    learner: name.to_string(),
                    machine: "2 cores".into(),
                    cpus: 2,
                    profile: "quick".into(),
                    observed_ratio: ratio,
                    holds: ratio.is_some_and(|r| r >= 50.0),
                    note: None,
                })
                .collect(),
        });
        let page = render(&summary, false);
        for id in ["learners", "questions", "leaderboards", "lessons"] {
            assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert_eq!(page.matches("<circle").count(), 3);
        assert!(page.contains("single-flight &lt;cuts&gt; queries"), "escaped");
        assert!(!page.contains("<script"), "static unless served");
        assert!(render(&summary, true).contains("/__generation"));
    }
}
