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

/// CPU time of a multi-process server: process `pid`, the children it has reaped (cutime + cstime: workers that
/// died and were replaced) and every live descendant (workers, their children). `None` when `pid` is gone.
pub fn tree_cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut total = cpu_from_stat(&stat)? + reaped_children_cpu(&stat).unwrap_or_default();
    for child in descendants(pid) {
        total += process_cpu_time(child).unwrap_or_default();
    }
    Some(total)
}

/// Peak resident memory of a multi-process server: the sum of each live process's own peak (VmHWM) over `pid`
/// and its descendants. The processes need not have peaked at the same moment, so this bounds the tree's peak
/// from above; for one process it is exact.
pub fn tree_peak_rss_bytes(pid: u32) -> Option<u64> {
    let own = peak_rss_bytes(pid)?;
    Some(own + descendants(pid).into_iter().filter_map(peak_rss_bytes).sum::<u64>())
}

/// Every live descendant of `pid`, from the parent pids in `/proc/*/stat`.
pub fn descendants(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            Some((p, parent_from_stat(&stat)?))
        })
        .collect();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(parents.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    found.remove(0);
    found
}

/// The fields after the `)` that closes the command name (which may itself contain spaces and parentheses).
fn fields_after_name(stat: &str) -> Option<Vec<&str>> {
    Some(stat.get(stat.rfind(')')? + 2..)?.split_whitespace().collect())
}

fn parent_from_stat(stat: &str) -> Option<u32> {
    // After ")": state (field 3 of proc(5)), then ppid (field 4).
    fields_after_name(stat)?.get(1)?.parse().ok()
}

/// cutime + cstime: CPU of the children this process has waited for.
fn reaped_children_cpu(stat: &str) -> Option<Duration> {
    let fields = fields_after_name(stat)?;
    let cutime: u64 = fields.get(13)?.parse().ok()?;
    let cstime: u64 = fields.get(14)?.parse().ok()?;
    Some(Duration::from_millis((cutime + cstime) * 10))
}

/// utime + stime from a `/proc/.../stat` line. Fields are counted after the `)` closing the command name,
/// which may itself contain spaces. Clock ticks are 100 per second on every Linux we target.
fn cpu_from_stat(stat: &str) -> Option<Duration> {
    let fields = fields_after_name(stat)?;
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
        assert_eq!(parent_from_stat(line), Some(1));
        assert_eq!(reaped_children_cpu(line), Some(Duration::ZERO));
        let with_children = "42 (w) S 7 42 42 0 -1 4194560 100 0 0 0 250 50 30 20 20 0 1 0 0 0 0";
        assert_eq!(reaped_children_cpu(with_children), Some(Duration::from_millis(500)));
    }

    #[test]
    fn a_child_is_a_descendant_and_its_memory_counts() {
        let mut child = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        let found = descendants(std::process::id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(&child.id()), "{found:?}");
        assert!(tree_cpu_time(std::process::id()).is_some());
    }

    #[test]
    fn reads_this_thread_and_this_process() {
        assert!(thread_cpu_time().is_some());
        assert!(process_cpu_time(std::process::id()).is_some());
        assert!(peak_rss_bytes(std::process::id()).unwrap() > 1024 * 1024);
    }
}
