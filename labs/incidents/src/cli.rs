//! The server's variants and how they are started: what `lab_kit::run` needs.
//!
//! Every variant runs one current-thread event loop, as one Node.js process does: the drills' faults (CPU work
//! per request, a blocking call, a lock queue) show the same way they do in the seed's Node.js services, and a
//! second core is left to the load generator.

use lab_kit::{App, LabServer, RuntimeFlavor};

use crate::server::{app, Variant};

/// The incident server has no flags of its own.
#[derive(clap::Args)]
pub struct Cli {}

impl LabServer for Cli {
    type Variant = Variant;
    type Error = std::io::Error;
    const ABOUT: &'static str = "Incident drills: the code as it shipped, the reference fix, or yours.";

    fn runtime(_: Variant) -> RuntimeFlavor {
        RuntimeFlavor::CurrentThread
    }

    async fn app(self, variant: Variant) -> Result<App, Self::Error> {
        // `app` runs on the runtime's own thread: the one the blocking-call counter must recognise.
        exercise_incidents::support::mark_event_loop();
        // The five services the account page calls (drill five-services), on their own thread.
        exercise_incidents::support::use_downstream(crate::downstream::start()?);
        Ok(app(variant).into())
    }
}
