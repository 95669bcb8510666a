//! When each request is due: the open model's schedule, built from phases.
//!
//! A run is a list of [`Phase`]s — typically a warm-up (not recorded), an optional linear ramp, and the steady
//! phase that the summary reports. Given the request's global index `i`, [`Schedule::due`] returns the offset from
//! the start at which it must be sent. The schedule is a pure function of `i`: no timer drifts, no queue to
//! fill, and any number of connections on any number of threads can share it without talking to each other.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// How arrivals are spaced within the rate.
///
/// Even spacing (wrk2, k6's constant-arrival-rate) is easy to reason about but kinder than real traffic: a job that
/// takes exactly as long as the gap between arrivals never delays the next one. Independent users arrive at random
/// (a Poisson process): sometimes three at once, sometimes none for a while, and queues form even below capacity.
/// A lesson about queueing behind slow work needs Poisson arrivals to be true to life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arrivals {
    /// Request `i` is due at exactly `i / rate`.
    #[default]
    Even,
    /// A Poisson process at the same average rate, from a fixed seed: every run — and every variant of a lab —
    /// sees the same random-looking arrival times, so comparisons stay like for like.
    Poisson {
        /// The seed of the arrival times.
        seed: u64,
    },
}

impl Arrivals {
    /// `even` or `poisson` (seed 1).
    pub fn parse(text: &str) -> Result<Arrivals, String> {
        match text {
            "even" => Ok(Arrivals::Even),
            "poisson" => Ok(Arrivals::Poisson { seed: 1 }),
            other => Err(format!("unknown arrivals {other:?}: use \"even\" or \"poisson\"")),
        }
    }

    /// The name `parse` reads.
    pub fn name(self) -> &'static str {
        match self {
            Arrivals::Even => "even",
            Arrivals::Poisson { .. } => "poisson",
        }
    }
}

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
    /// `j` may be fractional: that is how Poisson arrivals are placed on a ramp.
    fn offset(&self, j: f64) -> f64 {
        let (a, b, t) = (self.from_rps, self.to_rps, self.duration.as_secs_f64());
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
    /// With Poisson arrivals, every request's offset in seconds, drawn once (8 bytes a request).
    drawn: Option<Vec<f64>>,
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
            drawn: None,
        }
    }

    /// The same phases with the given spacing of arrivals.
    ///
    /// Poisson arrivals keep each phase's count of requests (so runs stay comparable) and place them as a Poisson
    /// process would: given how many arrive in an interval, their times are independent and uniform over it
    /// (uniform over the *count*, on a ramp, so a ramp still speeds up). Sorted, those are the due times.
    pub fn with_arrivals(phases: &[Phase], arrivals: Arrivals) -> Schedule {
        let mut schedule = Schedule::new(phases);
        if let Arrivals::Poisson { seed } = arrivals {
            let mut rng = SmallRng::seed_from_u64(seed);
            let mut drawn = Vec::with_capacity(schedule.total as usize);
            for (i, (_, start, phase)) in schedule.phases.iter().enumerate() {
                let count = schedule.count_of(i);
                let mut counts: Vec<f64> = (0..count).map(|_| rng.random::<f64>() * count as f64).collect();
                counts.sort_by(f64::total_cmp);
                drawn.extend(counts.into_iter().map(|j| start + phase.offset(j)));
            }
            schedule.drawn = Some(drawn);
        }
        schedule
    }

    /// Requests in the phase at position `i`.
    fn count_of(&self, i: usize) -> u64 {
        let first = self.phases[i].0;
        let next = self.phases.get(i + 1).map_or(self.total, |p| p.0);
        next - first
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
        let offset = match &self.drawn {
            Some(drawn) => drawn[i as usize],
            None => start + phase.offset((i - first) as f64),
        };
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
    fn poisson_arrivals_keep_the_count_and_the_phases_but_bunch_up() {
        let Mode::FixedRate { phases } = Mode::fixed_rate(100.0, secs(1.0), Duration::ZERO, secs(10.0)) else {
            unreachable!()
        };
        let even = Schedule::new(&phases);
        let poisson = Schedule::with_arrivals(&phases, Arrivals::Poisson { seed: 1 });
        assert_eq!(poisson.total(), even.total());
        let due: Vec<f64> = (0..poisson.total()).map(|i| poisson.due(i).0.as_secs_f64()).collect();
        assert!(due.windows(2).all(|w| w[0] <= w[1]), "due times are in order");
        // The warm-up's 100 stay in the first second, the steady 1000 in the next ten.
        assert!(due[..100].iter().all(|&t| t < 1.0) && due[100..].iter().all(|&t| (1.0..11.0).contains(&t)));
        assert!(!poisson.due(99).1 && poisson.due(100).1);
        // Gaps are exponential with mean 10 ms: about 1 - e^-0.5 = 39% of them are under 5 ms (none are, evenly),
        // and some exceed 30 ms (e^-3 = 5%).
        let gaps: Vec<f64> = due[100..].windows(2).map(|w| w[1] - w[0]).collect();
        let short = gaps.iter().filter(|&&g| g < 0.005).count() as f64 / gaps.len() as f64;
        let long = gaps.iter().filter(|&&g| g > 0.030).count() as f64 / gaps.len() as f64;
        assert!((0.30..0.48).contains(&short), "{short}");
        assert!((0.02..0.09).contains(&long), "{long}");
        // The same seed gives the same times: every variant of a lab sees the same arrivals.
        let again = Schedule::with_arrivals(&phases, Arrivals::Poisson { seed: 1 });
        assert_eq!(again.due(500), poisson.due(500));
        assert_eq!(Arrivals::parse("poisson"), Ok(Arrivals::Poisson { seed: 1 }));
        assert!(Arrivals::parse("bursty").unwrap_err().contains("even"));
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
