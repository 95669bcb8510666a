//! Exercise: when to restart a crashed instance, and when to stop trying — PM2's `exp_backoff_restart_delay`.
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
//!
//! Implement [`Backoff`]: `new`, `on_crash` and `in_a_row`. The supervisor asks `on_crash(uptime)` each time an
//! instance of a slot exits on its own, with how long it had been up, and does what the [`Decision`] says.
//!
//! - the first crash of a streak waits `policy.base`; each next one `FACTOR` times the previous delay, at most
//!   [`MAX_DELAY`] (use `Duration::mul_f64`);
//! - a crash after at least [`RESET_AFTER`] of uptime starts a new streak (back to `base`, and the count to zero);
//! - with `max_restarts = Some(n)`, crash number n + 1 of a streak is [`Decision::Errored`]: n restarts are allowed;
//! - `in_a_row()` is the number of crashes in the current streak, the errored one included.
//!
//! The lab runs its crash loop with your policy with `--variant exercise`; `cargo xtask check process-manager` runs
//! the grader (on tokio's paused clock: a minute of crash loop in a millisecond) and then counts the restarts of the
//! same crash loop under your policy and under the reference, in the same run.
//! The tests alone: `cargo test -p exercise-process-manager --test exercise_restart_policy`.

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
    // TODO: the policy, the delay given for the last crash of the streak (if any), and the crashes in a row.
}

impl Backoff {
    /// A fresh history.
    pub fn new(policy: RestartPolicy) -> Backoff {
        // TODO: no crash yet.
        let _ = policy;
        todo!("keep the policy; no delay given yet; no crash in a row")
    }

    /// The instance crashed after being up for `uptime`: restart when, or give up?
    pub fn on_crash(&mut self, uptime: Duration) -> Decision {
        // TODO: reset after a healthy run, count the crash, give up past max_restarts, else grow the delay.
        let _ = uptime;
        todo!("the next delay, or Errored")
    }

    /// Crashes since the last healthy run.
    pub fn in_a_row(&self) -> u32 {
        todo!("the crashes in the current streak")
    }
}
