//! Repository-wide checks, in the style of rust-analyzer's tidy tests: conventions that are easy to state and easy
//! to forget, checked on every `cargo test`.

use std::path::{Path, PathBuf};

use workbench_tests::root;

fn files_with_extension(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                files_with_extension(&path, ext, out);
            }
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_by_saying_what_it_is() {
    let mut files = Vec::new();
    files_with_extension(root(), "rs", &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap().starts_with("//!"))
        .map(|f| f.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading //! doc comment: {missing:?}"
    );
}

#[test]
fn every_lab_has_a_valid_manifest_and_a_readme() {
    let labs = lab_harness::discover(root()).unwrap_or_else(|e| panic!("{e}"));
    for name in ["baseline", "load-generator", "caching"] {
        assert!(labs.iter().any(|l| l.name == name), "lab {name} is missing");
    }
    for lab in &labs {
        let readme = lab.dir.join("README.md");
        let text = std::fs::read_to_string(&readme).unwrap_or_else(|_| panic!("{} has no README.md", lab.name));
        assert!(
            text.contains(&format!("cargo xtask lab {}", lab.name)),
            "{} README does not show how to run it",
            lab.name
        );
        assert!(!lab.lessons.is_empty(), "{} checks no lesson", lab.name);
    }
}

#[test]
fn the_readme_gives_the_two_set_up_commands() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains("cargo xtask lab caching") || readme.contains("cargo xtask lab baseline"),
        "main job missing"
    );
    assert!(readme.contains("cargo test --workspace"), "test command missing");
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.contains("cargo test --workspace"),
        ".ci/run must run the README's test command"
    );
}

#[test]
fn a_broken_lab_manifest_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let lab = dir.path().join("labs/broken");
    std::fs::create_dir_all(&lab).unwrap();
    std::fs::write(
        lab.join("lab.toml"),
        "name = \"broken\"\ntitle = \"t\"\nserver = \"s\"\nbaseline = \"a\"\nvariants = [ { name = \"a\" } ]\n\n[profile.quick]\nmode = \"fixed-rate\"\nduration = \"1s\"\nconnections = 1\npath = \"/\"\n",
    )
    .unwrap();
    let error = lab_harness::discover(dir.path()).unwrap_err().to_string();
    let expected = format!(
        "{}:7: profile \"quick\": mode \"fixed-rate\" needs a rate",
        lab.join("lab.toml").display()
    );
    assert_eq!(error, expected);
}
