//! Every connection a server holds is a file descriptor, and a shell's default soft limit is often 1,024: a lab
//! server holding 10,000 WebSockets would refuse the 1,021st with "too many open files". So a lab server raises its
//! soft limit to the hard limit at start (what Go's runtime and many servers do), the way the load generator raises
//! its own. Past the hard limit only root can go; `/metrics` reports the limit in force
//! (`process_max_fds`), and worker processes inherit it.

/// Raises this process's soft RLIMIT_NOFILE to its hard limit; returns the soft limit in force afterwards.
#[allow(unsafe_code)]
pub fn raise_fd_limit() -> std::io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if limit.rlim_cur >= limit.rlim_max {
        return Ok(limit.rlim_cur);
    }
    let raised = libc::rlimit {
        rlim_cur: limit.rlim_max,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: setrlimit reads the struct we pass; a soft limit up to the hard limit needs no privilege.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(raised.rlim_cur)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_soft_limit_ends_at_the_hard_limit() {
        let soft = super::raise_fd_limit().unwrap();
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        #[allow(unsafe_code)]
        // SAFETY: as above.
        unsafe {
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        }
        assert_eq!((soft, limit.rlim_cur), (limit.rlim_max, limit.rlim_max));
    }
}
