//! `exercise-incidents`: the code of the incident drills as it shipped to production — each module works, passes its
//! tests, and misses its latency objective under load. Run `cargo xtask incident start <drill>` to see the symptom,
//! `cargo xtask incident evidence <drill>` to read what an on-call engineer would read, then fix the module named
//! below and prove the fix with `cargo xtask incident check <drill>`.
//!
//! | module | drill |
//! |---|---|
//! | [`regex_per_request`] | sign-up validation got slow after a release |
//! | [`lock_across_await`] | quotes stop scaling: more traffic, the same throughput |
//! | [`blocking_in_async`] | the currency converter stalls every request, yet the CPU is idle |
//! | [`memory_leak`] | memory climbs at a steady slope until the process is killed |
//! | [`csv_upload`] | the order page freezes whenever someone uploads a CSV |
//! | [`five_services`] | the account page is as slow as its slowest service, and fails when any one does |
//! | [`db_degradation`] | the order history got slower month by month, with no change to the code |
//! | [`flash_sale`] | the sale's product page crawls and the catalogue database is swamped |
//! | [`canary`] | a new build fails some checkouts, and keeps failing them all weekend |
//! | [`chat_rooms`] | the chat service is killed for memory at ten thousand connections |
//!
//! [`support`] is the world around the drills (the pricing service, the vendor SDK, the regex compiler with its
//! counter): it is not where the faults are, and the graders count through it.

pub mod support;

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
