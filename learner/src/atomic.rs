//! Writing a file so that whoever reads it — or a crash, or Ctrl-C — finds the old contents or the new, never half:
//! the bytes go to a hidden temporary file in the same folder, are synced to disk, and the temporary file is renamed
//! over the old one (a rename within one file system is atomic). Progress files and class submissions both do this.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A step of the write that failed; the file at the path is untouched.
#[derive(Debug, thiserror::Error)]
#[error("{action} {}: {source}", .path.display())]
pub struct WriteError {
    /// What was being done.
    pub action: &'static str,
    /// To which path.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

/// Replaces `path` with `bytes` atomically. The folder must exist (the callers decide whether to create it).
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let write = || {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    if let Err(source) = write() {
        let _ = std::fs::remove_file(&temp);
        return Err(WriteError {
            action: "writing",
            path: temp,
            source,
        });
    }
    std::fs::rename(&temp, path).map_err(|source| {
        let _ = std::fs::remove_file(&temp);
        WriteError {
            action: "replacing",
            path: path.to_path_buf(),
            source,
        }
    })
}
