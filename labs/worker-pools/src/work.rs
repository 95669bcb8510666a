//! The CPU work: iterated SHA-256, the shape of a password key-derivation function (PBKDF2 runs a hash thousands of
//! times on purpose, so that guessing is slow). Real work with a cost set by `rounds` — never a sleep: a sleeping
//! thread leaves the CPU free, and the point of this lab is what happens when it is not.

use sha2::{Digest, Sha256};

/// Rounds for one `/hash` request unless the request says otherwise: about 20 ms of one core on the 2-core
/// machine this lab was written on (~90 ns a round).
pub const DEFAULT_ROUNDS: u32 = 200_000;
/// The most a request may ask for (a 400 beyond it: one request must not be able to buy minutes of CPU).
pub const MAX_ROUNDS: u32 = 2_000_000;

/// Hashes `seed`, then the hash, `rounds` times; returns the last digest as hex.
pub fn hash_rounds(seed: &[u8], rounds: u32) -> String {
    let mut digest: [u8; 32] = Sha256::digest(seed).into();
    for _ in 1..rounds {
        digest = Sha256::digest(digest).into();
    }
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_round_is_plain_sha256_and_more_rounds_chain() {
        assert_eq!(
            hash_rounds(b"abc", 1),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let twice: [u8; 32] = Sha256::digest(Sha256::digest(b"abc")).into();
        assert_eq!(
            hash_rounds(b"abc", 2),
            twice.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
    }
}
