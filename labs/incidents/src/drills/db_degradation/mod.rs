//! Drill `db-degradation`: the code as it shipped and the reference fix.

pub mod broken;
pub mod fixed;
