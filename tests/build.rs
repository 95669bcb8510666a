//! Builds the exercise mutants: for every `labs/<lab>/exercise/mutants.toml`, the reference `solution.rs` with each
//! mistake applied, as modules of `$OUT_DIR/mutants_<lab>.rs`, each graded by the exercise's own grader (the test
//! targets `mutants_<lab>`, run by `tests/tests/exercises.rs`, which expects every mutant to fail).
//!
//! A `find` that does not occur exactly once in the reference stops the build with the file and the mutant named:
//! a mutant that silently applies to nothing would prove nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(serde::Deserialize)]
struct Mutants {
    mutant: Vec<Mutant>,
}

#[derive(serde::Deserialize)]
struct Mutant {
    name: String,
    mistake: String,
    find: String,
    replace: String,
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_path_buf();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo::rerun-if-changed={}", root.join("labs").display());
    let mut labs: Vec<PathBuf> = std::fs::read_dir(root.join("labs"))
        .expect("list labs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("exercise/mutants.toml").is_file())
        .collect();
    labs.sort();
    for lab in labs {
        let name = lab.file_name().unwrap().to_string_lossy().replace('-', "_");
        let list = lab.join("exercise/mutants.toml");
        let reference = lab.join("exercise/solution.rs");
        println!("cargo::rerun-if-changed={}", list.display());
        println!("cargo::rerun-if-changed={}", reference.display());
        let mutants: Mutants = toml::from_str(&std::fs::read_to_string(&list).expect("read mutants.toml"))
            .unwrap_or_else(|e| panic!("{}: {e}", list.display()));
        let source = std::fs::read_to_string(&reference).expect("read solution.rs");
        let mut generated = String::new();
        for m in &mutants.mutant {
            let found = source.matches(&m.find).count();
            assert!(
                found == 1,
                "{}: mutant {:?}: `find` occurs {found} times in {} (it must occur exactly once)",
                list.display(),
                m.name,
                reference.display()
            );
            let mutated = source.replacen(&m.find, &m.replace, 1);
            writeln!(
                generated,
                "/// Mutant: {}.\n#[allow(unused, clippy::all)]\npub mod mutant_{} {{\n{mutated}\n}}\n\nmod graded_{} {{\n    crate::grade!(crate::mutant_{});\n}}\n",
                m.mistake, m.name, m.name, m.name
            )
            .unwrap();
        }
        std::fs::write(out.join(format!("mutants_{name}.rs")), generated).expect("write the mutants");
    }
}
