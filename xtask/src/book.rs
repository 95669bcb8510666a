//! `cargo xtask book [--serve] [--open]`: build the guide with mdBook as a library (nothing to install), check its
//! internal links, and optionally serve it with live reload.

use std::process::ExitCode;

use clap::Args;

/// Arguments of `cargo xtask book`.
#[derive(Args)]
pub struct BookArgs {
    /// Serve the book on http://127.0.0.1:PORT/, rebuilding and reloading the page when a source changes.
    #[arg(long)]
    serve: bool,
    /// Port for --serve.
    #[arg(long, default_value_t = 3000, requires = "serve")]
    port: u16,
    /// Open the book in a browser.
    #[arg(long)]
    open: bool,
}

pub fn run(args: BookArgs) -> anyhow::Result<ExitCode> {
    let root = crate::root();
    if args.serve {
        book_tools::serve::serve(&root, args.port, |url| {
            println!("serving the book at {url} (Ctrl-C to stop); it rebuilds when a source changes");
            if args.open {
                crate::lab::open_in_browser(std::path::Path::new(url));
            }
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let built = book_tools::build(&root)?;
    let broken = book_tools::links::broken(&built)?;
    if !broken.is_empty() {
        eprintln!("{} broken internal links:", broken.len());
        for link in &broken {
            eprintln!("  {link}");
        }
        return Ok(ExitCode::FAILURE);
    }
    let index = built.join("index.html");
    println!("built {}", index.display());
    if args.open {
        crate::lab::open_in_browser(&index);
    }
    Ok(ExitCode::SUCCESS)
}
