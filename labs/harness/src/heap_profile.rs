//! `--heap-profile`: where a variant's heap went, by allocation site — the evidence a memory incident needs beside
//! RSS and its slope. The server is built apart with lab-kit's `heap-profile` feature (dhat as its allocator, in
//! `target/heap-profile`, so the measured build is untouched), records every allocation's backtrace, and writes a
//! DHAT profile when it stops. The report keeps the sites that held the most at the heap's peak; the profile is
//! written beside it as `<report>-<variant>.dhat.json`, which DHAT's viewer (`dh_view.html`, from Valgrind) opens.
//!
//! Recording a backtrace per allocation costs microseconds and memory: latency, CPU and RSS in a heap-profiled run
//! are the profiler's as much as the service's (the report says so). Node.js's equivalent is a heap snapshot, or
//! `--heap-prof` (sampled); Rust's others are jemalloc's profiler and heaptrack.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The lab-kit feature a heap-profiling build turns on.
pub const FEATURE: &str = "lab-kit/heap-profile";

/// Where the heap-profiling builds go, under the target folder: apart from the measured release build, so neither
/// rebuilds the other.
pub const TARGET_SUBDIR: &str = "heap-profile";

/// The environment variable the server reads for the profile's path (lab-kit's `heap::profile::PROFILE_ENV`).
pub const PROFILE_ENV: &str = "WORKBENCH_HEAP_PROFILE";

/// Said under the table of every heap-profiled run.
pub const NOTE: &str = "heap-profiled build (dhat): every allocation records its backtrace, so this run's latency, \
     CPU and RSS are the profiler's as much as the service's — read the sites, not the timings";

/// How many sites the report keeps.
const TOP: usize = 8;

/// One allocation site: what it held when the heap was at its peak.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeapSite {
    /// Bytes it held at the heap's peak.
    pub bytes_at_peak: u64,
    /// Blocks it held then.
    pub blocks_at_peak: u64,
    /// Bytes it allocated over the whole run.
    pub bytes_total: u64,
    /// Where to look: the first frames in the workspace's own code, innermost first (`load (exercise/src/support.rs:
    /// 119:20) ← start (drills/memory_leak/broken.rs:25:32)`), or the innermost frame when none is.
    pub location: String,
    /// The frames from the allocation outwards (the first few).
    pub stack: Vec<String>,
}

/// What the report keeps of a variant's heap profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeapProfile {
    /// The heap at its peak, all sites.
    pub peak_bytes: u64,
    /// The sites that held the most then, largest first.
    pub top: Vec<HeapSite>,
    /// The DHAT file's name, beside the report (set when the report is written).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file: String,
    /// The profile itself, written to `file` with the report.
    #[serde(default, skip_serializing)]
    pub json: String,
}

/// The raw DHAT file (format version 2): program points and the frame table.
#[derive(Deserialize)]
struct Dhat {
    #[serde(rename = "dhatFileVersion")]
    version: u32,
    pps: Vec<ProgramPoint>,
    ftbl: Vec<String>,
}

#[derive(Deserialize)]
struct ProgramPoint {
    /// Total bytes allocated here.
    tb: u64,
    /// Bytes live here at the global peak (t-gmax), and blocks.
    gb: u64,
    gbk: u64,
    /// Frame indices into `ftbl`, the allocation first.
    fs: Vec<usize>,
}

/// Reads a DHAT profile written by a server built from the workspace at `root`.
pub fn read(path: &Path, root: &Path) -> Result<HeapProfile, String> {
    let json = std::fs::read_to_string(path).map_err(|e| format!("no heap profile at {}: {e}", path.display()))?;
    let mut profile = summarise(&json, &workspace_sources(root))?;
    profile.json = json;
    Ok(profile)
}

/// Every `.rs` file of the workspace, as `/`-joined paths relative to `root` (the build folder left out).
fn workspace_sources(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "target" || name.to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                if let Ok(relative) = path.strip_prefix(root) {
                    found.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
    }
    found
}

/// The sites that held the most at the heap's peak; `ours` lists the workspace's source files (a frame in one of
/// them is where to look).
pub fn summarise(json: &str, ours: &[String]) -> Result<HeapProfile, String> {
    let dhat: Dhat = serde_json::from_str(json).map_err(|e| format!("not a DHAT profile: {e}"))?;
    if dhat.version != 2 {
        return Err(format!("DHAT file version {} (this reads version 2)", dhat.version));
    }
    let peak_bytes = dhat.pps.iter().map(|p| p.gb).sum();
    // Program points that end in the same frames of ours are one site to a reader (dhat tells apart every path
    // through the runtime above them): added up.
    let mut sites: Vec<HeapSite> = Vec::new();
    for point in dhat.pps.iter().filter(|p| p.gb > 0) {
        let stack: Vec<String> = point
            .fs
            .iter()
            .filter_map(|&i| dhat.ftbl.get(i))
            .map(|frame| function_of(frame))
            .filter(|f| f != "[root]")
            .collect();
        let location = location(&stack, ours);
        match sites.iter_mut().find(|s| s.location == location) {
            Some(site) => {
                site.bytes_at_peak += point.gb;
                site.blocks_at_peak += point.gbk;
                site.bytes_total += point.tb;
            }
            None => sites.push(HeapSite {
                bytes_at_peak: point.gb,
                blocks_at_peak: point.gbk,
                bytes_total: point.tb,
                location,
                stack: stack.into_iter().take(12).collect(),
            }),
        }
    }
    sites.sort_by_key(|s| std::cmp::Reverse(s.bytes_at_peak));
    sites.truncate(TOP);
    let top = sites;
    Ok(HeapProfile {
        peak_bytes,
        top,
        file: String::new(),
        json: String::new(),
    })
}

/// `0x55d…: alloc::raw_vec::finish_grow (src/raw_vec.rs:459:9)` → `alloc::raw_vec::finish_grow (src/raw_vec.rs:459:9)`.
fn function_of(frame: &str) -> String {
    match frame.split_once(": ") {
        Some((address, rest)) if address.starts_with("0x") => rest.to_string(),
        _ => frame.to_string(),
    }
}

/// Where to look: up to three frames in the workspace's own files, innermost first, joined by `←`; the innermost
/// frame when none is. dhat names a frame `function (path:line:col)` with the path cut to its last three parts
/// (`exercise/src/support.rs`, `drills/memory_leak/broken.rs`, and a dependency's `proto/h1/io.rs` alike), so a frame
/// is ours when a file of the workspace ends with its path.
fn location(stack: &[String], ours: &[String]) -> String {
    let mine: Vec<&str> = stack
        .iter()
        .map(String::as_str)
        .filter(|f| is_ours(f, ours))
        .take(3)
        .collect();
    if mine.is_empty() {
        stack.first().cloned().unwrap_or_else(|| "(no frames)".into())
    } else {
        mine.join(" ← ")
    }
}

fn is_ours(frame: &str, ours: &[String]) -> bool {
    let Some(path) = frame
        .rsplit_once(" (")
        .and_then(|(_, p)| p.trim_end_matches(')').split(':').next())
    else {
        return false;
    };
    !path.is_empty()
        && ours
            .iter()
            .any(|file| file == path || file.ends_with(&format!("/{path}")))
}

impl HeapProfile {
    /// The top sites for people: `23.2 MiB (46.3%) in 2973 blocks — load (exercise/src/support.rs:119:20) ← …`.
    pub fn lines(&self, how_many: usize) -> Vec<String> {
        let mib = |b: u64| b as f64 / 1048576.0;
        let mut lines = vec![format!(
            "heap at its peak: {:.1} MiB; the allocation sites that held the most then:",
            mib(self.peak_bytes)
        )];
        for site in self.top.iter().take(how_many) {
            lines.push(format!(
                "  {:>8.1} MiB ({:>4.1}%) in {} blocks — {}",
                mib(site.bytes_at_peak),
                100.0 * site.bytes_at_peak as f64 / self.peak_bytes.max(1) as f64,
                site.blocks_at_peak,
                site.location
            ));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile as dhat writes it, cut to two sites.
    const PROFILE: &str = r#"{
      "dhatFileVersion": 2, "mode": "rust-heap", "verb": "Allocated", "bklt": true, "bkacc": false,
      "tu": "µs", "Mtu": "s", "tuth": 10, "cmd": "lab-incidents", "pid": 1, "tg": 10, "te": 20,
      "pps": [
        { "tb": 4096, "tbk": 4, "tl": 10, "mb": 2048, "mbk": 2, "gb": 1024, "gbk": 1, "eb": 0, "ebk": 0, "fs": [1, 2, 4] },
        { "tb": 9000000, "tbk": 1000, "tl": 10, "mb": 8000000, "mbk": 900, "gb": 7000000, "gbk": 800, "eb": 0, "ebk": 0, "fs": [1, 3, 5, 6] }
      ],
      "ftbl": [
        "[root]",
        "0x5581: alloc (dhat-0.3.3/src/lib.rs:1176:9)",
        "0x5582: new (tokio-1.48.0/src/runtime/task/core.rs:1:1)",
        "0x5583: with_capacity_in<u8, alloc::alloc::Global> (src/raw_vec/mod.rs:177:20)",
        "0x5584: login (incidents/src/server.rs:230:5)",
        "0x5585: load (exercise/src/support.rs:119:20)",
        "0x5586: start (drills/memory_leak/broken.rs:25:32)"
      ]
    }"#;

    #[test]
    fn the_sites_that_held_most_at_the_peak_come_first_named_by_the_lab_s_own_frame() {
        let ours: Vec<String> = [
            "labs/incidents/exercise/src/support.rs",
            "labs/incidents/src/drills/memory_leak/broken.rs",
            "labs/incidents/src/server.rs",
        ]
        .map(String::from)
        .to_vec();
        let profile = summarise(PROFILE, &ours).unwrap();
        assert_eq!(profile.peak_bytes, 7_001_024);
        assert_eq!(profile.top.len(), 2);
        let top = &profile.top[0];
        assert_eq!(
            (top.bytes_at_peak, top.blocks_at_peak, top.bytes_total),
            (7_000_000, 800, 9_000_000)
        );
        assert_eq!(
            top.location,
            "load (exercise/src/support.rs:119:20) ← start (drills/memory_leak/broken.rs:25:32)"
        );
        assert_eq!(top.stack[0], "alloc (dhat-0.3.3/src/lib.rs:1176:9)");
        assert_eq!(profile.top[1].location, "login (incidents/src/server.rs:230:5)");
        // The runtime's frames and the standard library's are not where to look.
        assert!(!is_ours("new (tokio-1.48.0/src/runtime/task/core.rs:1:1)", &ours));
        assert!(!is_ours("allocate (alloc/src/alloc.rs:429:14)", &ours));
        assert!(
            !is_ours("poll_read<hyper::…> (proto/h1/io.rs:538:34)", &ours),
            "a dependency's file"
        );
        let lines = profile.lines(5);
        assert!(
            lines[1].contains("6.7 MiB") && lines[1].contains("100.0%") && lines[1].contains("support.rs:119"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_dhat_profile_is_refused_saying_why() {
        assert!(summarise("{}", &[]).unwrap_err().contains("not a DHAT profile"));
        let v1 = PROFILE.replace("\"dhatFileVersion\": 2", "\"dhatFileVersion\": 1");
        assert!(summarise(&v1, &[]).unwrap_err().contains("version 1"));
        assert!(read(Path::new("/no/such/file.json"), Path::new("."))
            .unwrap_err()
            .contains("no heap profile"));
    }
}
