//! The HTML report: one self-contained file (no scripts, no network) that can be mailed, attached to a ticket or
//! opened on a projector. Its SVG charts:
//!
//! - the **latency percentile spectrum**: latency (log axis) against percentile, spread so that 90, 99, 99.9 and
//!   99.99 are equally far apart — the tail is where the lessons are, and a linear axis would squash it;
//! - **throughput over time**: responses per second, warm-up included, which shows stalls and warm-up effects;
//! - and, when the run sampled the server's `/metrics`, one chart per sampled series (memory, lag, a rate).

use std::fmt::Write;

use lab_load_generator::report::human_us;

use super::RunReport;

const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];
const W: f64 = 760.0;
const H: f64 = 340.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 45.0;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Renders the whole report page.
pub fn render(report: &RunReport) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{lab} — {started}</title><style>\
         body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}}\
         table{{border-collapse:collapse;font-size:14px}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}\
         th:first-child,td:first-child{{text-align:left}}.ok{{color:#1a7f37}}.bad{{color:#c62828}}\
         svg{{background:#fafafa;border:1px solid #ddd}}text{{font-size:12px}}</style></head><body>\
         <h1>{lab}: {title}</h1><p>Profile <b>{profile}</b>, started {started} on {cpus} CPUs ({model}, {os}).</p>",
        lab = esc(&report.lab),
        title = esc(&report.title),
        profile = esc(&report.profile),
        started = esc(&report.started_at),
        cpus = report.machine.cpus,
        model = esc(&report.machine.cpu_model),
        os = esc(&report.machine.os),
    );
    page.push_str("<h2>Lessons</h2><ul>");
    for v in &report.lessons {
        let class = if v.holds { "ok" } else { "bad" };
        let _ = write!(page, "<li class=\"{class}\">{}</li>", esc(&v.line()));
    }
    page.push_str("</ul><h2>Results</h2><table><tr><th>variant</th><th>mode</th><th>req/s</th><th>target</th><th>errors</th><th>p50</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th><th>server CPU</th><th>peak RSS</th></tr>");
    for v in &report.variants {
        let l = &v.load;
        let _ = write!(
            page,
            "<tr><td>{}{}</td><td>{}</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}s</td><td>{:.1} MiB</td></tr>",
            esc(&v.name),
            if l.generator.valid { "" } else { " ⚠ invalid" },
            esc(&l.load.mode),
            l.achieved_rps,
            l.load.target_rps.map_or("–".into(), |t| format!("{t:.0}")),
            l.errors,
            human_us(l.latency_us.p50),
            l.latency_us.p95.map_or("–".into(), human_us),
            human_us(l.latency_us.p99),
            human_us(l.latency_us.p999),
            human_us(l.latency_us.max),
            v.server.cpu_seconds,
            v.server.rss_peak_bytes as f64 / 1048576.0,
        );
    }
    page.push_str("</table>");
    for s in &report.skipped {
        let _ = write!(page, "<p>{} skipped: {}</p>", esc(&s.variant), esc(&s.reason));
    }
    let prometheus = report.prometheus_lines();
    if !prometheus.is_empty() {
        page.push_str("<h2>What Prometheus saw</h2><ul>");
        for line in prometheus {
            let _ = write!(page, "<li>{}</li>", esc(&line));
        }
        page.push_str("</ul><p>Prometheus answers from the server's bucket counts, interpolating inside a bucket; the generator times every request from its intended send. See the metrics chapter for why they differ.</p>");
    }
    page.push_str("<h2>Latency by percentile</h2>");
    page.push_str(&spectrum(report));
    page.push_str("<h2>Throughput over time</h2>");
    page.push_str(&throughput(report));
    let names: std::collections::BTreeSet<&String> = report
        .variants
        .iter()
        .filter_map(|v| v.timeline.as_ref())
        .flat_map(|t| t.series.keys())
        .collect();
    if !names.is_empty() {
        page.push_str("<h2>Sampled from /metrics</h2>");
    }
    for name in names {
        page.push_str(&timeline(report, name));
    }
    page.push_str("</body></html>\n");
    page
}

/// x position of a percentile: log10(1 / (1 − q)), so 90 → 1, 99 → 2, 99.9 → 3; 100 (the max) is drawn at 6.
fn percentile_x(q: f64) -> f64 {
    if q >= 100.0 {
        6.0
    } else {
        (1.0 / (1.0 - q / 100.0)).log10().min(6.0)
    }
}

/// The latency percentile spectrum of every variant, as one SVG (log latency axis; the tail spread out to the
/// right). Used by the HTML report and by the book's results tables.
pub fn spectrum(report: &RunReport) -> String {
    let all: Vec<u64> = report
        .variants
        .iter()
        .flat_map(|v| v.load.latency_spectrum.iter().map(|p| p.1.max(1)))
        .collect();
    if all.is_empty() {
        return "<p>No latency recorded.</p>".into();
    }
    let lo = (*all.iter().min().unwrap() as f64).log10().floor();
    let hi = ((*all.iter().max().unwrap() as f64).log10().ceil()).max(lo + 1.0);
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let x = |q: f64| LEFT + percentile_x(q) / 6.0 * pw;
    let y = |us: u64| TOP + ph - ((us.max(1) as f64).log10() - lo) / (hi - lo) * ph;
    let mut svg = format!("<svg width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"latency percentile spectrum\">");
    for (q, label) in [
        (0.0, "0"),
        (90.0, "90"),
        (99.0, "99"),
        (99.9, "99.9"),
        (99.99, "99.99"),
        (99.999, "99.999"),
        (100.0, "max"),
    ] {
        let _ = write!(
            svg,
            "<line x1=\"{0:.1}\" y1=\"{TOP}\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#e0e0e0\"/><text x=\"{0:.1}\" y=\"{2:.1}\" text-anchor=\"middle\">{label}</text>",
            x(q),
            TOP + ph,
            TOP + ph + 16.0
        );
    }
    let mut decade = lo;
    while decade <= hi {
        let us = 10f64.powf(decade) as u64;
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#e0e0e0\"/><text x=\"{2:.1}\" y=\"{3:.1}\" text-anchor=\"end\">{4}</text>",
            y(us),
            LEFT + pw,
            LEFT - 6.0,
            y(us) + 4.0,
            human_us(us)
        );
        decade += 1.0;
    }
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">percentile</text>",
        LEFT + pw / 2.0,
        H - 6.0
    );
    for (i, v) in report.variants.iter().enumerate() {
        let points = v.load.latency_spectrum.iter().map(|(q, us)| (x(*q), y(*us)));
        series(&mut svg, i, &v.name, points);
    }
    svg.push_str("</svg>");
    svg
}

/// Responses per second of every variant over the run, as one SVG. Used by the HTML report and the book.
pub fn throughput(report: &RunReport) -> String {
    let seconds = report
        .variants
        .iter()
        .map(|v| v.load.throughput_per_s.len())
        .max()
        .unwrap_or(0);
    let peak = report
        .variants
        .iter()
        .flat_map(|v| v.load.throughput_per_s.iter().copied())
        .max()
        .unwrap_or(0);
    if seconds == 0 || peak == 0 {
        return "<p>No throughput recorded.</p>".into();
    }
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let top = nice_ceiling(peak as f64 * 1.05);
    let x = |s: f64| LEFT + s / (seconds.max(2) - 1) as f64 * pw;
    let y = |r: f64| TOP + ph - r / top * ph;
    let mut svg = format!(
        "<svg width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"throughput over time\">"
    );
    grid(&mut svg, top, &y, |r| format!("{r:.0}/s"));
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">seconds since start (warm-up included)</text>",
        LEFT + pw / 2.0,
        H - 6.0
    );
    for (i, v) in report.variants.iter().enumerate() {
        let points = v
            .load
            .throughput_per_s
            .iter()
            .enumerate()
            .map(|(s, r)| (x(s as f64), y(*r as f64)));
        series(&mut svg, i, &v.name, points);
    }
    svg.push_str("</svg>");
    svg
}

/// One sampled series (`[sampling]` or `--sample`) of every variant that has it, over the run, as one SVG with
/// its query as the title.
pub fn timeline(report: &RunReport, name: &str) -> String {
    let runs: Vec<(usize, &str, &crate::sampling::Series)> = report
        .variants
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((i, v.name.as_str(), v.timeline.as_ref()?.series.get(name)?)))
        .collect();
    let Some((_, _, first)) = runs.first() else {
        return String::new();
    };
    let points = runs.iter().flat_map(|(_, _, s)| s.points.iter());
    let (end, peak) = points.fold((0f64, 0f64), |(t, v), p| (t.max(p[0]), v.max(p[1])));
    let mut svg = format!(
        "<h3>{} <small><code>{}</code></small></h3>",
        esc(name),
        esc(&first.query)
    );
    if peak <= 0.0 && end <= 0.0 {
        svg.push_str("<p>No points.</p>");
        return svg;
    }
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let top = if peak > 0.0 { nice_ceiling(peak * 1.05) } else { 1.0 };
    let x = |t: f64| LEFT + t / end.max(1.0) * pw;
    let y = |v: f64| TOP + ph - v / top * ph;
    let _ = write!(
        svg,
        "<svg width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{} over time\">",
        esc(name)
    );
    grid(&mut svg, top, &y, |v| esc(&first.human(v)));
    let _ = write!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">seconds since the load began</text>",
        LEFT + pw / 2.0,
        H - 6.0
    );
    for (i, variant, s) in runs {
        series(&mut svg, i, variant, s.points.iter().map(|p| (x(p[0]), y(p[1]))));
    }
    svg.push_str("</svg>");
    svg
}

/// Five horizontal grid lines from 0 to `top`, each labelled at the left with `label(value)`.
fn grid(svg: &mut String, top: f64, y: &dyn Fn(f64) -> f64, label: impl Fn(f64) -> String) {
    for k in 0..=4 {
        let v = top * k as f64 / 4.0;
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" stroke=\"#e0e0e0\"/><text x=\"{2:.1}\" y=\"{3:.1}\" text-anchor=\"end\">{4}</text>",
            y(v),
            W - RIGHT,
            LEFT - 6.0,
            y(v) + 4.0,
            label(v)
        );
    }
}

/// The smallest 1, 2, 2.5 or 5 × 10^k at or above `x` (fractions included: a lag of 0.004 s): round numbers for
/// an axis; 1 for nothing positive.
fn nice_ceiling(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|v| *v >= x)
        .unwrap_or(10.0 * magnitude)
}

/// One variant's line, in its colour, with its legend entry.
fn series(svg: &mut String, i: usize, name: &str, points: impl Iterator<Item = (f64, f64)>) {
    let colour = COLOURS[i % COLOURS.len()];
    let points: Vec<String> = points.map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let _ = write!(
        svg,
        "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
        points.join(" ")
    );
    legend(svg, i, colour, name);
}

fn legend(svg: &mut String, i: usize, colour: &str, name: &str) {
    let ly = TOP + 10.0 + i as f64 * 18.0;
    let lx = W - RIGHT + 12.0;
    let _ = write!(
        svg,
        "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"12\" height=\"4\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
        ly - 4.0,
        lx + 18.0,
        ly + 2.0,
        esc(name)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_spread_by_nines() {
        assert_eq!(percentile_x(0.0), 0.0);
        assert!((percentile_x(90.0) - 1.0).abs() < 1e-9);
        assert!((percentile_x(99.9) - 3.0).abs() < 1e-9);
        assert_eq!(percentile_x(100.0), 6.0);
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_ceiling(29_746.0), 50_000.0);
        assert_eq!(nice_ceiling(2_100.0), 2_500.0);
        assert_eq!(nice_ceiling(100.0), 100.0);
        assert_eq!(nice_ceiling(0.0042), 0.005);
        assert_eq!(nice_ceiling(0.0), 1.0);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
