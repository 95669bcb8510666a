//! `cargo xtask list`: the labs, from their manifests.

use std::process::ExitCode;

/// Prints one row per lab.
pub fn run() -> anyhow::Result<ExitCode> {
    let labs = lab_harness::discover(&crate::root())?;
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["lab", "what it teaches", "variants", "lessons", "profiles"]);
    for lab in &labs {
        let variants: Vec<&str> = lab.variants.iter().map(|v| v.name.as_str()).collect();
        let profiles: Vec<&str> = lab.profiles.keys().map(String::as_str).collect();
        table.add_row([
            lab.name.clone(),
            lab.title.clone(),
            variants.join(", "),
            lab.lessons.len().to_string(),
            profiles.join(", "),
        ]);
    }
    println!("{table}");
    println!("Run one with `cargo xtask lab <lab>` (add --full for the long profile).");
    Ok(ExitCode::SUCCESS)
}
