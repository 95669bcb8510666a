//! CPU time and peak memory from `/proc` (Linux): of the generator's own threads, and of a lab server.
//!
//! The generator checks itself: a thread that was busy nearly all the wall time could not have kept its send
//! schedule, and a run measured by a saturated generator measures the generator, not the server.

use std::time::Duration;

/// CPU time (user + system) consumed so far by the calling thread; `None` where /proc is not available.
pub fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    cpu_from_stat(&stat)
}

/// CPU time consumed so far by process `pid` (all its threads); `None` when it is gone or /proc is missing.
pub fn process_cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    cpu_from_stat(&stat)
}

/// Peak resident memory (VmHWM) of process `pid`, in bytes.
pub fn peak_rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// utime + stime from a `/proc/.../stat` line. Fields are counted after the `)` closing the command name,
/// which may itself contain spaces. Clock ticks are 100 per second on every Linux we target.
fn cpu_from_stat(stat: &str) -> Option<Duration> {
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After ")": state is field 3 of the man page, so utime (14) and stime (15) are at 11 and 12 here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_even_with_spaces_in_the_name() {
        let line = "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 0 0 0";
        assert_eq!(cpu_from_stat(line), Some(Duration::from_millis(3000)));
    }

    #[test]
    fn reads_this_thread_and_this_process() {
        assert!(thread_cpu_time().is_some());
        assert!(process_cpu_time(std::process::id()).is_some());
        assert!(peak_rss_bytes(std::process::id()).unwrap() > 1024 * 1024);
    }
}
