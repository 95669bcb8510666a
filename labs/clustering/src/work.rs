//! The CPU-bound route's work: iterated SHA-256, real work whose cost is set by `rounds` (never a sleep, which
//! would leave the core free). Measured at ~48 ns a round on the 2-core machine the lab was written on (11,000
//! rounds: 0.53 ms of server CPU per request), so the default 22,000 rounds is ~1 ms of one core: the seed's
//! "CPU-intensive request" at a size where one event loop saturates near 1,000 requests a second.

use sha2::{Digest, Sha256};

/// Rounds per `/work` request.
pub const DEFAULT_ROUNDS: u32 = 22_000;

/// Hashes `seed`, then the hash, `rounds` times; returns the first bytes of the last digest as hex.
pub fn hash_rounds(seed: &[u8], rounds: u32) -> String {
    let mut digest: [u8; 32] = Sha256::digest(seed).into();
    for _ in 1..rounds {
        digest = Sha256::digest(digest).into();
    }
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}
