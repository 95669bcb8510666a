//! The capacity search as a page: the steps' table and a chart of latency against offered rate, with the
//! objective and the answer drawn in — the latency curve a capacity number sits on.

use std::fmt::Write;

use super::{rate, Capacity, Verdict};
use crate::report::human_us;
use crate::threshold::Threshold;

const W: f64 = 760.0;
const H: f64 = 380.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 50.0;

impl Capacity {
    /// A self-contained HTML page (no scripts, no external files): the answer, the chart, the steps.
    pub fn html(&self) -> String {
        let mut page = String::from(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>capacity search</title><style>\
             body{font-family:system-ui,sans-serif;margin:2em;max-width:64em}table{border-collapse:collapse}\
             td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}th{background:#f4f4f4}\
             .met{color:#1a7f37}.missed{color:#c0392b}.limit{color:#777}svg{background:#fafafa;border:1px solid #ddd}\
             text{font-size:12px}</style></head><body>",
        );
        let _ = write!(
            page,
            "<h1>Capacity at {}</h1><p><strong>{}</strong></p><p>{}</p>",
            escape(&self.objective.join(" and ")),
            escape(&self.answer()),
            escape(&self.ended)
        );
        page.push_str(&self.chart());
        page.push_str(
            "<table><tr><th>target req/s</th><th>step</th><th>achieved</th><th>p50</th><th>p95</th><th>p99</th>\
             <th>errors</th><th>dropped</th><th>send lag p99</th><th>verdict</th></tr>",
        );
        for s in &self.steps {
            let (class, verdict) = match &s.verdict {
                Verdict::Met => ("met", "✓ met".to_string()),
                Verdict::Missed(why) => ("missed", format!("✗ {}", why.join("; "))),
                Verdict::GeneratorLimit(why) => ("limit", format!("⚠ generator limit: {}", why.join("; "))),
            };
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td class=\"{class}\" style=\"text-align:left\">{}</td></tr>",
                rate(s.target_rps),
                if s.confirmation { "confirm" } else { "" },
                rate(s.achieved_rps),
                human_us(s.p50_us),
                human_us(s.p95_us),
                human_us(s.p99_us),
                s.errors,
                s.dropped,
                human_us(s.send_lag_p99_us),
                escape(&verdict)
            );
        }
        page.push_str("</table></body></html>\n");
        page
    }

    /// p50, p95 and p99 against the offered rate (both axes logarithmic), each step's p99 coloured by its
    /// verdict, the objective as a dashed line and the capacity as a vertical one.
    fn chart(&self) -> String {
        let mut steps: Vec<_> = self.steps.iter().filter(|s| !s.confirmation).collect();
        steps.sort_by(|a, b| a.target_rps.total_cmp(&b.target_rps));
        if steps.is_empty() {
            return String::new();
        }
        let objective_us = self
            .objective
            .iter()
            .filter_map(|o| o.parse::<Threshold>().ok()?.latency_limit_us())
            .reduce(f64::min);
        let (x_lo, x_hi) = (steps[0].target_rps * 0.8, steps[steps.len() - 1].target_rps * 1.25);
        let values = steps.iter().flat_map(|s| [s.p50_us, s.p99_us]).map(|v| v.max(1) as f64);
        let (mut y_lo, mut y_hi) = values.fold((f64::MAX, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if let Some(o) = objective_us {
            (y_lo, y_hi) = (y_lo.min(o), y_hi.max(o));
        }
        let (y_lo, y_hi) = (y_lo / 2.0, y_hi * 2.0);
        let x = |r: f64| LEFT + (r / x_lo).ln() / (x_hi / x_lo).ln() * (W - LEFT - RIGHT);
        let y = |us: f64| H - BOTTOM - (us.max(1.0) / y_lo).ln() / (y_hi / y_lo).ln() * (H - TOP - BOTTOM);
        let mut svg = format!(
            "<svg width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" \
             aria-label=\"latency against offered rate\">"
        );
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#333\"/>\
             <line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{b}\" stroke=\"#333\"/>\
             <text x=\"{cx}\" y=\"{ly}\" text-anchor=\"middle\">offered rate (req/s, log scale)</text>\
             <text x=\"14\" y=\"{cy}\" transform=\"rotate(-90 14 {cy})\" text-anchor=\"middle\">latency from due time (log)</text>",
            b = H - BOTTOM,
            r = W - RIGHT,
            cx = (LEFT + W - RIGHT) / 2.0,
            ly = H - 12.0,
            cy = (TOP + H - BOTTOM) / 2.0,
        );
        for s in &steps {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x(s.target_rps),
                H - BOTTOM + 16.0,
                rate(s.target_rps)
            );
        }
        let mut tick = 1.0;
        while tick < y_hi {
            if tick >= y_lo {
                let _ = write!(
                    svg,
                    "<line x1=\"{LEFT}\" y1=\"{yy:.1}\" x2=\"{r}\" y2=\"{yy:.1}\" stroke=\"#e4e4e4\"/>\
                     <text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\">{}</text>",
                    human_us(tick as u64),
                    yy = y(tick),
                    r = W - RIGHT,
                    tx = LEFT - 6.0,
                    ty = y(tick) + 4.0,
                );
            }
            tick *= 10.0;
        }
        if let Some(o) = objective_us {
            let _ = write!(
                svg,
                "<line x1=\"{LEFT}\" y1=\"{yy:.1}\" x2=\"{r}\" y2=\"{yy:.1}\" stroke=\"#c0392b\" stroke-dasharray=\"6 4\"/>\
                 <text x=\"{tx}\" y=\"{ty:.1}\" fill=\"#c0392b\">objective {}</text>",
                human_us(o as u64),
                yy = y(o),
                r = W - RIGHT,
                tx = W - RIGHT + 6.0,
                ty = y(o) + 4.0,
            );
        }
        if let Some(c) = self.capacity_rps {
            let _ = write!(
                svg,
                "<line x1=\"{xx:.1}\" y1=\"{TOP}\" x2=\"{xx:.1}\" y2=\"{b}\" stroke=\"#1a7f37\" stroke-dasharray=\"2 3\"/>\
                 <text x=\"{xx:.1}\" y=\"{ty}\" fill=\"#1a7f37\" text-anchor=\"middle\">{}{} req/s</text>",
                if self.at_least { "≥ " } else { "" },
                rate(c),
                xx = x(c),
                b = H - BOTTOM,
                ty = TOP - 6.0 + 12.0,
            );
        }
        type Series = (&'static str, &'static str, fn(&super::Step) -> u64);
        let series: [Series; 3] = [
            ("p50", "#7fa7d9", |s| s.p50_us),
            ("p95", "#3b6fb6", |s| s.p95_us),
            ("p99", "#1b3f7a", |s| s.p99_us),
        ];
        for (i, (name, colour, value)) in series.iter().enumerate() {
            let points: Vec<String> = steps
                .iter()
                .map(|s| format!("{:.1},{:.1}", x(s.target_rps), y(value(s) as f64)))
                .collect();
            let _ = write!(
                svg,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\
                 <text x=\"{lx}\" y=\"{ly}\" fill=\"{colour}\">{name}</text>",
                points.join(" "),
                lx = W - RIGHT + 6.0,
                ly = TOP + 40.0 + 16.0 * i as f64,
            );
        }
        for s in &steps {
            let colour = match s.verdict {
                Verdict::Met => "#1a7f37",
                Verdict::Missed(_) => "#c0392b",
                Verdict::GeneratorLimit(_) => "#999",
            };
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{colour}\"><title>{} req/s: p99 {}</title></circle>",
                x(s.target_rps),
                y(s.p99_us as f64),
                rate(s.target_rps),
                human_us(s.p99_us)
            );
        }
        svg.push_str("</svg>");
        svg
    }

    /// The answer in a sentence, as under the terminal table.
    fn answer(&self) -> String {
        match self.capacity_rps {
            Some(r) if self.at_least => format!("capacity: at least {} req/s", rate(r)),
            Some(r) => format!(
                "capacity: {} req/s{}",
                rate(r),
                if self.confirmed {
                    ", confirmed by a longer run"
                } else {
                    ""
                }
            ),
            None => "no rate met the objective".into(),
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::super::Step;
    use super::*;

    fn step(target_rps: f64, p99_us: u64, verdict: Verdict) -> Step {
        Step {
            target_rps,
            confirmation: false,
            achieved_rps: target_rps,
            p50_us: p99_us / 4,
            p95_us: p99_us / 2,
            p99_us,
            errors: 0,
            dropped: 0,
            send_lag_p99_us: 200,
            verdict,
        }
    }

    #[test]
    fn the_page_draws_every_step_the_objective_and_the_answer() {
        let capacity = Capacity {
            objective: vec!["p99<50ms".into()],
            steps: vec![
                step(100.0, 2_000, Verdict::Met),
                step(200.0, 3_000, Verdict::Met),
                step(
                    400.0,
                    900_000,
                    Verdict::Missed(vec!["p99<50ms violated: measured 900ms".into()]),
                ),
                Step {
                    confirmation: true,
                    ..step(200.0, 3_100, Verdict::Met)
                },
            ],
            capacity_rps: Some(200.0),
            at_least: false,
            confirmed: true,
            ended: "bisected to 5%".into(),
        };
        let page = capacity.html();
        assert!(page.starts_with("<!doctype html>") && page.ends_with("</html>\n"));
        assert_eq!(
            page.matches("<circle").count(),
            3,
            "one point per step, the confirmation in the table only"
        );
        assert_eq!(page.matches("<polyline").count(), 3, "p50, p95, p99");
        assert!(page.contains("objective 50.00ms"), "the objective line");
        assert!(page.contains(">200 req/s</text>"), "the capacity line");
        assert!(page.contains("capacity: 200 req/s, confirmed by a longer run"));
        assert_eq!(page.matches("<tr>").count(), 5, "a header and four steps");
        assert!(page.contains("p99&lt;50ms violated"), "text is escaped");
    }
}
