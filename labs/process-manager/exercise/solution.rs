//! When to restart a crashed instance, and when to stop trying: PM2's `exp_backoff_restart_delay`.
//!
//! A process that crashes at start-up and is restarted at once crashes again at once: a *crash loop* that burns
//! the CPU on fork, exec and start-up, and floods the logs, while serving nothing. PM2's answer, written down here
//! exactly as its documentation gives it:
//!
//! - the first restart waits the base delay (100 ms by default), each further one 1.5x the one before, never more
//!   than 15 s;
//! - an instance that stayed up 30 s was healthy: its next crash starts again from the base delay;
//! - after `max_restarts` crashes in a row (none of them after 30 s up) the app is "errored": left stopped, for a
//!   person to look at. Restarting forever hides the problem; stopping at once turns a blip into an outage.
//!
//! A base delay of zero is the naive policy: restart at once, every time (the crash-loop lesson's baseline).

use std::time::Duration;

/// PM2's growth factor per crash.
pub const FACTOR: f64 = 1.5;
/// PM2's cap on one delay.
pub const MAX_DELAY: Duration = Duration::from_secs(15);
/// Up this long, an instance counts as healthy: the backoff starts over.
pub const RESET_AFTER: Duration = Duration::from_secs(30);

/// The policy, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// The first delay; zero restarts at once, always.
    pub base: Duration,
    /// Crashes in a row before giving up; `None` never gives up.
    pub max_restarts: Option<u32>,
}

/// What to do after a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start it again after this long.
    RestartAfter(Duration),
    /// Give up: the app is errored.
    Errored,
}

impl RestartPolicy {
    /// PM2's policy with this base delay (`exp_backoff_restart_delay`) and limit.
    pub fn pm2(base: Duration, max_restarts: Option<u32>) -> RestartPolicy {
        RestartPolicy { base, max_restarts }
    }
}

/// One instance slot's crash history under a policy.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RestartPolicy,
    /// The delay given for the last crash, if the streak is still running.
    last: Option<Duration>,
    /// Crashes since the last healthy run.
    in_a_row: u32,
}

impl Backoff {
    /// A fresh history.
    pub fn new(policy: RestartPolicy) -> Backoff {
        Backoff {
            policy,
            last: None,
            in_a_row: 0,
        }
    }

    // ANCHOR: on_crash
    /// The instance crashed after being up for `uptime`: restart when, or give up?
    pub fn on_crash(&mut self, uptime: Duration) -> Decision {
        if uptime >= RESET_AFTER {
            // It was healthy for a while: this is a new problem, not the same loop.
            self.last = None;
            self.in_a_row = 0;
        }
        self.in_a_row += 1;
        if self.policy.max_restarts.is_some_and(|max| self.in_a_row > max) {
            return Decision::Errored;
        }
        let delay = match self.last {
            None => self.policy.base,
            Some(last) => last.mul_f64(FACTOR).min(MAX_DELAY),
        };
        self.last = Some(delay);
        Decision::RestartAfter(delay)
    }
    // ANCHOR_END: on_crash

    /// Crashes since the last healthy run.
    pub fn in_a_row(&self) -> u32 {
        self.in_a_row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn delays_grow_by_half_and_stop_at_fifteen_seconds() {
        let mut b = Backoff::new(RestartPolicy::pm2(ms(100), None));
        let delays: Vec<Duration> = (0..14)
            .map(|_| match b.on_crash(ms(10)) {
                Decision::RestartAfter(d) => d,
                Decision::Errored => panic!("no limit"),
            })
            .collect();
        assert_eq!(
            &delays[..4],
            &[ms(100), ms(150), ms(225), Duration::from_micros(337_500)]
        );
        assert_eq!(delays[13], MAX_DELAY, "{delays:?}");
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn thirty_seconds_up_starts_over_and_the_limit_counts_a_streak() {
        let mut b = Backoff::new(RestartPolicy::pm2(ms(100), Some(2)));
        assert_eq!(b.on_crash(ms(5)), Decision::RestartAfter(ms(100)));
        assert_eq!(b.on_crash(ms(5)), Decision::RestartAfter(ms(150)));
        // Healthy for 30 s: the third crash is the first of a new streak.
        assert_eq!(b.on_crash(RESET_AFTER), Decision::RestartAfter(ms(100)));
        assert_eq!(b.on_crash(ms(5)), Decision::RestartAfter(ms(150)));
        assert_eq!(b.on_crash(ms(5)), Decision::Errored);
    }

    #[test]
    fn a_zero_base_restarts_at_once_forever() {
        let mut b = Backoff::new(RestartPolicy::pm2(Duration::ZERO, None));
        assert!((0..1000).all(|_| b.on_crash(ms(1)) == Decision::RestartAfter(Duration::ZERO)));
    }
}
