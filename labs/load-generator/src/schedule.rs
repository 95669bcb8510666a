//! When each request is due: the open model's schedule, built from phases.
//!
//! A run is a list of [`Phase`]s — typically a warm-up (not recorded), an optional linear ramp, and the steady
//! phase that the summary reports. Given the request's global index `i`, [`Schedule::due`] returns the offset from
//! the start at which it must be sent. The schedule is a pure function of `i`: no timer drifts, no queue to
//! fill, and any number of connections on any number of threads can share it without talking to each other.

use std::time::Duration;

/// How load is applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Open model: requests arrive on a fixed schedule, whatever the server does (wrk2, k6 arrival-rate).
    FixedRate {
        /// The phases, in order.
        phases: Vec<Phase>,
    },
    /// Closed model: each connection sends its next request as soon as the previous answer arrives (wrk, ab).
    Closed {
        /// Time before measuring starts (connections warm, caches filled).
        warmup: Duration,
        /// The measured time.
        duration: Duration,
    },
}

impl Mode {
    /// The usual open-model run: a warm-up at the full rate (not recorded), an optional ramp from a tenth of the
    /// rate (recorded in the throughput timeline only), then the steady phase the summary reports.
    pub fn fixed_rate(rate: f64, warmup: Duration, ramp: Duration, duration: Duration) -> Mode {
        let mut phases = Vec::new();
        if !warmup.is_zero() {
            phases.push(Phase {
                name: "warm-up",
                duration: warmup,
                from_rps: rate,
                to_rps: rate,
                steady: false,
            });
        }
        if !ramp.is_zero() {
            phases.push(Phase {
                name: "ramp",
                duration: ramp,
                from_rps: rate / 10.0,
                to_rps: rate,
                steady: false,
            });
        }
        phases.push(Phase {
            name: "steady",
            duration,
            from_rps: rate,
            to_rps: rate,
            steady: true,
        });
        Mode::FixedRate { phases }
    }
}

/// One phase of an open-model run: the rate moves linearly from `from_rps` to `to_rps` over `duration`.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// Shown in progress output.
    pub name: &'static str,
    /// How long the phase lasts.
    pub duration: Duration,
    /// Arrival rate at the start of the phase, requests per second.
    pub from_rps: f64,
    /// Arrival rate at the end of the phase.
    pub to_rps: f64,
    /// Whether this phase is the measured window that percentiles and the achieved rate describe.
    pub steady: bool,
}

impl Phase {
    /// How many requests arrive during the phase: the integral of the rate.
    fn count(&self) -> u64 {
        let t = self.duration.as_secs_f64();
        ((self.from_rps + self.to_rps) / 2.0 * t).round() as u64
    }

    /// Offset of the `j`-th arrival from the phase start: solves `a·t + (b−a)·t²/(2T) = j` for `t`.
    fn offset(&self, j: u64) -> f64 {
        let (a, b, t) = (self.from_rps, self.to_rps, self.duration.as_secs_f64());
        let j = j as f64;
        if (b - a).abs() < 1e-9 {
            return j / a;
        }
        let k = (b - a) / t; // how fast the rate changes, requests/s²
        (-a + (a * a + 2.0 * k * j).max(0.0).sqrt()) / k
    }
}

/// The due times of every request of an open-model run.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// (first global index, start offset in seconds, phase)
    phases: Vec<(u64, f64, Phase)>,
    total: u64,
}

impl Schedule {
    /// Lays the phases end to end.
    pub fn new(phases: &[Phase]) -> Schedule {
        let mut first = 0;
        let mut start = 0.0;
        let mut laid = Vec::with_capacity(phases.len());
        for phase in phases {
            laid.push((first, start, phase.clone()));
            first += phase.count();
            start += phase.duration.as_secs_f64();
        }
        Schedule {
            phases: laid,
            total: first,
        }
    }

    /// Number of requests in the whole run.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// When request `i` is due, from the start of the run, and whether it falls in the steady (measured) phase.
    pub fn due(&self, i: u64) -> (Duration, bool) {
        let (first, start, phase) = self
            .phases
            .iter()
            .rev()
            .find(|(first, _, _)| *first <= i)
            .expect("the first phase starts at index 0");
        let offset = start + phase.offset(i - first);
        (Duration::from_secs_f64(offset), phase.steady)
    }

    /// Where the steady window starts and how long it lasts.
    pub fn steady_window(&self) -> (Duration, Duration) {
        self.phases
            .iter()
            .find(|(_, _, p)| p.steady)
            .map(|(_, start, p)| (Duration::from_secs_f64(*start), p.duration))
            .unwrap_or_default()
    }

    /// Total length of all phases.
    pub fn length(&self) -> Duration {
        self.phases.iter().map(|(_, _, p)| p.duration).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn a_fixed_rate_spaces_requests_evenly() {
        let s = Schedule::new(&[Phase {
            name: "steady",
            duration: secs(2.0),
            from_rps: 1000.0,
            to_rps: 1000.0,
            steady: true,
        }]);
        assert_eq!(s.total(), 2000);
        assert_eq!(s.due(0), (secs(0.0), true));
        assert_eq!(s.due(500).0, secs(0.5));
        assert_eq!(s.due(1999).0, secs(1.999));
    }

    #[test]
    fn warm_up_comes_first_and_is_not_steady() {
        let Mode::FixedRate { phases } = Mode::fixed_rate(100.0, secs(1.0), Duration::ZERO, secs(5.0)) else {
            unreachable!()
        };
        let s = Schedule::new(&phases);
        assert_eq!(s.total(), 600);
        assert_eq!(s.due(99), (secs(0.99), false));
        assert_eq!(s.due(100), (secs(1.0), true));
        assert_eq!(s.steady_window(), (secs(1.0), secs(5.0)));
        assert_eq!(s.length(), secs(6.0));
    }

    #[test]
    fn a_ramp_speeds_up_linearly() {
        // From 0 to 100 req/s over 10 s: 500 requests, and the rate at time t is 10·t, so
        // N(t) = 5·t² and the 125th request is due at t = 5 s.
        let s = Schedule::new(&[Phase {
            name: "ramp",
            duration: secs(10.0),
            from_rps: 0.0,
            to_rps: 100.0,
            steady: false,
        }]);
        assert_eq!(s.total(), 500);
        assert!((s.due(125).0.as_secs_f64() - 5.0).abs() < 1e-9);
        // Gaps shrink as the rate grows.
        let gap = |i| s.due(i + 1).0 - s.due(i).0;
        assert!(gap(10) > gap(400));
    }
}
