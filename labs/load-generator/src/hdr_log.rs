//! HdrHistogram interval logs: one compressed histogram per second (per named request), the format
//! HdrHistogram's own tools (HistogramLogAnalyzer, `hdr-plot`) read.
//!
//! Why a log and not just percentiles: percentiles cannot be combined. When three machines each ran a third of
//! the load, the p99 of the whole is *not* the average of their p99s. Histograms, however, add exactly:
//! [`merge`] reads several logs, adds every interval histogram per tag, and the percentiles of the sum are the
//! true percentiles of all requests.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::Engine;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use crate::recorder::new_histogram;
use crate::report::LoadReport;

/// Writes the report's per-second histograms as an interval log. Latencies are in microseconds; the log's
/// max-value divisor makes tools show milliseconds.
pub fn write(report: &LoadReport, path: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut buf = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    {
        let mut writer = IntervalLogWriterBuilder::new()
            .add_comment("written by the Backend Performance Workbench load generator; values in microseconds")
            .with_start_time(SystemTime::now())
            .with_max_value_divisor(1000.0)
            .begin_log_with(&mut buf, &mut serializer)
            .map_err(|e| anyhow::anyhow!("starting the log: {e:?}"))?;
        let tagged = report
            .intervals
            .iter()
            .map(|(_, name, _)| name)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
            > 1;
        for (second, name, h) in &report.intervals {
            let tag_text = tag_safe(name);
            let tag = if tagged { Tag::new(&tag_text) } else { None };
            writer
                .write_histogram(h, Duration::from_secs(*second), Duration::from_secs(1), tag)
                .map_err(|e| anyhow::anyhow!("writing an interval: {e:?}"))?;
        }
    }
    std::fs::write(path, buf).with_context(|| format!("writing {}", path.display()))
}

/// Tags may not hold spaces, commas or colons.
fn tag_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_whitespace() || c == ',' || c == ':' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Reads interval logs and adds every histogram per tag (untagged intervals under `""`).
pub fn merge(paths: &[impl AsRef<Path>]) -> anyhow::Result<BTreeMap<String, Histogram<u64>>> {
    use anyhow::Context;
    let mut totals: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
    let mut deserializer = Deserializer::new();
    for path in paths {
        let path = path.as_ref();
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let mut intervals = 0;
        for (n, entry) in IntervalLogIterator::new(&bytes).enumerate() {
            let entry = entry
                .map_err(|e| anyhow::anyhow!("{}: entry {}: not an interval log ({e:?})", path.display(), n + 1))?;
            if let LogEntry::Interval(interval) = entry {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(interval.encoded_histogram())
                    .with_context(|| format!("{}: interval {} is not base64", path.display(), intervals + 1))?;
                let h: Histogram<u64> = deserializer
                    .deserialize(&mut raw.as_slice())
                    .map_err(|e| anyhow::anyhow!("{}: interval {}: {e:?}", path.display(), intervals + 1))?;
                let tag = interval.tag().map(|t| t.as_str().to_string()).unwrap_or_default();
                totals
                    .entry(tag)
                    .or_insert_with(new_histogram)
                    .add(&h)
                    .context("histogram ranges differ")?;
                intervals += 1;
            }
        }
        if intervals == 0 {
            anyhow::bail!("{}: no interval histogram in this file", path.display());
        }
    }
    Ok(totals)
}
