//! The command-line flags every lab server accepts; a lab adds its own with `#[command(flatten)]`.

use clap::{Args, ValueEnum};

/// Flags shared by every lab server binary.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Which implementation to serve (the lab's lab.toml lists them).
    #[arg(long)]
    pub variant: String,
    /// TCP port to listen on; 0 lets the operating system pick a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to bind. Labs are loopback-only by default: load tests must never leave the machine.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
}

/// Which tokio runtime a server runs on: the Rust analogue of "one Node.js event loop" vs "a thread pool".
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuntimeFlavor {
    /// One thread runs every task: like a single Node.js process.
    CurrentThread,
    /// A work-stealing pool with one worker per core.
    MultiThread,
}
