//! The command-line flags every lab server accepts; a lab adds its own with `#[command(flatten)]`.

use clap::{Args, ValueEnum};

use crate::ServeError;

impl ServerArgs {
    /// `--variant` as the lab's own enum of variants; the error names every variant the lab knows.
    pub fn variant_as<V: ValueEnum>(&self) -> Result<V, ServeError> {
        V::from_str(&self.variant, false).map_err(|_| {
            let known: Vec<String> = V::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value())
                .map(|p| p.get_name().to_string())
                .collect();
            ServeError::UnknownVariant {
                given: self.variant.clone(),
                known: known.join(", "),
            }
        })
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    enum Demo {
        Naive,
        SingleFlight,
    }

    fn args(variant: &str) -> ServerArgs {
        ServerArgs {
            variant: variant.into(),
            port: 0,
            host: [127, 0, 0, 1].into(),
        }
    }

    #[test]
    fn the_variant_parses_into_the_labs_enum_or_names_the_known_ones() {
        assert_eq!(args("single-flight").variant_as::<Demo>().unwrap(), Demo::SingleFlight);
        let e = args("fast").variant_as::<Demo>().unwrap_err().to_string();
        assert_eq!(e, "unknown variant \"fast\"; known: naive, single-flight");
    }
}
