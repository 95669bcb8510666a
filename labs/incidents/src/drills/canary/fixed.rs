//! The checkout's rollout, fixed: the canary is watched, and rolled back automatically as soon as its error rate
//! is clearly worse than the stable build's.
//!
//! A canary only limits the damage if someone acts on what it shows. Sending a tenth of the traffic to a build that
//! fails three checkouts in ten makes 3% of all checkouts fail — for as long as the rollout runs, which on a Friday
//! evening is until Monday. The fix is the loop every progressive-delivery tool closes (Argo Rollouts' analysis,
//! Flagger, Spinnaker's Kayenta, a PM2 deploy script checking its health endpoint): count the canary's outcomes,
//! and once there are enough to judge ([`MIN_CANARY_REQUESTS`]) and its error rate is over the budget
//! ([`MAX_CANARY_ERROR_RATE`]), send everything back to the stable build and keep it there until a person looks.
//! The price is the errors served while the evidence gathered: the smaller the sample needed, the fewer — and the
//! likelier a false alarm from a few unlucky requests.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::support::{canary_checkout, stable_checkout, CheckoutError, Receipt};

/// Checkouts in a hundred the canary serves.
pub const CANARY_PERCENT: u64 = 10;

/// Canary checkouts to see before judging it.
pub const MIN_CANARY_REQUESTS: u64 = 20;

/// The canary's error rate that rolls it back (the stable build's is zero).
pub const MAX_CANARY_ERROR_RATE: f64 = 0.05;

// ANCHOR: fix
/// The rollout: which build serves each checkout, and whether the canary is still in. One per process.
#[derive(Debug, Default)]
pub struct Rollout {
    served: AtomicU64,
    canary_requests: AtomicU64,
    canary_errors: AtomicU64,
    rolled_back: AtomicBool,
}

impl Rollout {
    /// A rollout with the canary at [`CANARY_PERCENT`].
    pub fn new() -> Rollout {
        Rollout::default()
    }

    /// Checks `cart` out with the build whose turn it is — the stable one for everything once the canary is back.
    pub async fn checkout(&self, cart: u32) -> Result<Receipt, CheckoutError> {
        let n = self.served.fetch_add(1, Ordering::Relaxed);
        if n % 100 >= CANARY_PERCENT || self.rolled_back.load(Ordering::Acquire) {
            return stable_checkout(cart).await;
        }
        let result = canary_checkout(cart).await;
        let requests = self.canary_requests.fetch_add(1, Ordering::AcqRel) + 1;
        let errors = self.canary_errors.load(Ordering::Acquire) + u64::from(result.is_err());
        if result.is_err() {
            self.canary_errors.fetch_add(1, Ordering::AcqRel);
        }
        if requests >= MIN_CANARY_REQUESTS && errors as f64 / requests as f64 > MAX_CANARY_ERROR_RATE {
            self.rolled_back.store(true, Ordering::Release);
        }
        result
    }
}
// ANCHOR_END: fix
