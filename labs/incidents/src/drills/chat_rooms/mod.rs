//! Drill `chat-rooms`: the code as shipped and the reference fix.

// The drill files name the world they run in `super::support`, in the lab as in the learner's crate.
use exercise_incidents::support;

pub mod broken;
pub mod fixed;
