//! Instance logs: each instance's stdout and stderr appended to its own files, rotated by size, and read back by
//! `workbench-pm logs`.
//!
//! PM2 writes `~/.pm2/logs/<app>-out-<id>.log` and leaves rotation to a separate module (pm2-logrotate); without
//! it a chatty app fills the disk. Here rotation is built in: when a file would pass `log_max_size`, it becomes
//! `.1` (the older ones shift to `.2`, … up to `log_retain`, the oldest dropped) and a new file starts. A line is
//! never split across two files.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// Which stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// stdout.
    Out,
    /// stderr.
    Err,
}

/// The log file of one instance's stream: `<dir>/<app>-<id>-out.log`.
pub fn log_path(dir: &Path, app: &str, id: usize, stream: Stream) -> PathBuf {
    let kind = match stream {
        Stream::Out => "out",
        Stream::Err => "err",
    };
    dir.join(format!("{app}-{id}-{kind}.log"))
}

/// An append-only log file that rotates by size.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    file: File,
    size: u64,
    max_size: u64,
    retain: usize,
    /// Rotations so far.
    pub rotations: u64,
}

impl RotatingFile {
    /// Opens (appending to) `path`.
    pub fn open(path: PathBuf, max_size: u64, retain: usize) -> std::io::Result<RotatingFile> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path,
            file,
            size,
            max_size,
            retain,
            rotations: 0,
        })
    }

    /// Appends one line (a newline is added), rotating first if it would not fit.
    pub fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        let len = line.len() as u64 + 1;
        if self.size > 0 && self.size + len > self.max_size {
            self.rotate()?;
        }
        self.file.write_all(line)?;
        self.file.write_all(b"\n")?;
        self.size += len;
        Ok(())
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let numbered = |n: usize| PathBuf::from(format!("{}.{n}", self.path.display()));
        if self.retain == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            // .2 → .3, .1 → .2, … then the live file → .1; whatever was at .retain is replaced.
            for n in (1..self.retain).rev() {
                if numbered(n).exists() {
                    std::fs::rename(numbered(n), numbered(n + 1))?;
                }
            }
            std::fs::rename(&self.path, numbered(1))?;
        }
        self.file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.size = 0;
        self.rotations += 1;
        Ok(())
    }
}

/// The last `n` lines of a log, reaching into the rotated `.1` file when the live one has fewer.
pub fn last_lines(path: &Path, n: usize) -> Vec<String> {
    let read = |p: &Path| -> Vec<String> {
        File::open(p)
            .map(|f| BufReader::new(f).lines().map_while(Result::ok).collect())
            .unwrap_or_default()
    };
    let mut lines = read(path);
    if lines.len() < n {
        let mut older = read(&PathBuf::from(format!("{}.1", path.display())));
        older.append(&mut lines);
        lines = older;
    }
    let skip = lines.len().saturating_sub(n);
    lines.split_off(skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_whole_lines_and_the_newest_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = log_path(dir.path(), "web", 0, Stream::Out);
        let mut log = RotatingFile::open(path.clone(), 100, 2).unwrap();
        for i in 0..50 {
            log.write_line(format!("line {i:03} of the log").as_bytes()).unwrap();
            // 20 bytes with its newline
        }
        // 5 lines a file: 10 files' worth, the live one and two rotated kept.
        assert_eq!(log.rotations, 9);
        let sizes: Vec<u64> = ["", ".1", ".2"]
            .iter()
            .map(|s| std::fs::metadata(format!("{}{s}", path.display())).unwrap().len())
            .collect();
        assert_eq!(sizes, [100, 100, 100]);
        assert!(!Path::new(&format!("{}.3", path.display())).exists());
        // The last 7 lines: 5 from the live file, 2 from .1, in order.
        let last = last_lines(&path, 7);
        assert_eq!(last.first().unwrap(), "line 043 of the log");
        assert_eq!(last.last().unwrap(), "line 049 of the log");
        assert_eq!(last.len(), 7);
    }
}
