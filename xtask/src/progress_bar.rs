//! The progress bar on stderr while a lab runs (indicatif hides it when stderr is not a terminal, so logs and
//! `--json` pipes stay clean; a plain line per variant is printed either way).

use indicatif::{ProgressBar, ProgressStyle};
use lab_harness::run::Event;

/// Turns harness events into a progress display.
pub struct RunProgress {
    bar: Option<ProgressBar>,
}

impl RunProgress {
    /// A display with no bar yet.
    pub fn new() -> Self {
        RunProgress { bar: None }
    }

    /// Handles one event.
    pub fn on(&mut self, event: Event) {
        match event {
            Event::Building(server) => eprintln!("building {server} (release)…"),
            Event::Starting(variant) => {
                eprintln!("▶ {variant}");
                let bar = ProgressBar::new(1000);
                bar.set_style(
                    ProgressStyle::with_template("  {bar:40} {msg}")
                        .expect("static template")
                        .progress_chars("█▉ "),
                );
                self.bar = Some(bar);
            }
            Event::Loading {
                elapsed,
                length,
                completed,
                ..
            } => {
                if let Some(bar) = &self.bar {
                    let fraction = elapsed.as_secs_f64() / length.as_secs_f64().max(1e-9);
                    bar.set_position((fraction.min(1.0) * 1000.0) as u64);
                    bar.set_message(format!(
                        "{:.1}s / {:.1}s · {completed} requests",
                        elapsed.as_secs_f64(),
                        length.as_secs_f64()
                    ));
                }
            }
            Event::Finished(_) => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
            }
        }
    }
}
