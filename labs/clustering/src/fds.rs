//! Taking ownership of file descriptors the process did not open itself: the ones the primary placed at fixed
//! numbers before exec (the inherited listener at 3, the IPC socket at 4, the connection hand-off socket at 5) and
//! the connections that arrive over the hand-off socket (SCM_RIGHTS). The only `unsafe` in the lab, kept here.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// The inherited listening socket (`shared-listener`).
pub const LISTENER: RawFd = 3;
/// The worker's end of the IPC stream.
pub const IPC: RawFd = 4;
/// The worker's end of the connection hand-off datagram socket (`round-robin`).
pub const HANDOFF: RawFd = 5;

/// Owns `fd`.
///
/// Call it once per descriptor: for the fixed numbers above, at start-up (the primary put them there with
/// `command-fds`, and nothing else in this process knows them); for a received connection, on the number the
/// kernel just created for it.
#[allow(unsafe_code)]
pub fn adopt(fd: RawFd) -> OwnedFd {
    // SAFETY: `fd` is open (the primary mapped it before exec, or the kernel installed it with the message just
    // received) and has no other owner in this process, so exactly one OwnedFd closes it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}
