//! The restart policy a slot follows: the reference (`exercise/solution.rs`, mounted as `restart_policy`) or the
//! learner's (`exercise-process-manager`), behind one trait. The two crates have the same API but their own types,
//! so one macro implements the trait for both.

use std::time::Duration;

use crate::restart_policy::{self, Decision, RestartPolicy};

/// Whose restart policy the slots follow: the reference, or the learner's (the exercise variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PolicyCode {
    /// `exercise/solution.rs`.
    #[default]
    Reference,
    /// `exercise/src/lib.rs`, the learner's.
    Learner,
}

/// A slot's crash history: the reference's [`restart_policy::Backoff`] or the learner's, behind one trait (the two
/// crates have the same API but their own types).
pub(super) trait CrashHistory: Send {
    fn on_crash(&mut self, uptime: Duration) -> Decision;
    fn in_a_row(&self) -> u32;
}

macro_rules! crash_history {
    ($($module:ident)::+) => {
        impl CrashHistory for $($module)::+::Backoff {
            fn on_crash(&mut self, uptime: Duration) -> Decision {
                match $($module)::+::Backoff::on_crash(self, uptime) {
                    $($module)::+::Decision::RestartAfter(delay) => Decision::RestartAfter(delay),
                    $($module)::+::Decision::Errored => Decision::Errored,
                }
            }

            fn in_a_row(&self) -> u32 {
                $($module)::+::Backoff::in_a_row(self)
            }
        }
    };
}
crash_history!(crate::restart_policy);
crash_history!(exercise_process_manager);

pub(super) type Backoff = Box<dyn CrashHistory>;

pub(super) fn backoff(code: PolicyCode, policy: RestartPolicy) -> Backoff {
    match code {
        PolicyCode::Reference => Box::new(restart_policy::Backoff::new(policy)),
        PolicyCode::Learner => Box::new(exercise_process_manager::Backoff::new(
            exercise_process_manager::RestartPolicy {
                base: policy.base,
                max_restarts: policy.max_restarts,
            },
        )),
    }
}
