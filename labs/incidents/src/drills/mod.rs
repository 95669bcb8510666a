//! Each drill in two versions, mounted here: `broken` (the code as it shipped, the same text as the learner's
//! starting file in `labs/incidents/exercise/src`, checked by a test) and `fixed` (the reference fix, with the lesson in
//! its `//!`). The learner's version is the `exercise-incidents` crate itself.

pub mod blocking_in_async;
pub mod canary;
pub mod chat_rooms;
pub mod csv_upload;
pub mod db_degradation;
pub mod five_services;
pub mod flash_sale;
pub mod lock_across_await;
pub mod memory_leak;
pub mod regex_per_request;
