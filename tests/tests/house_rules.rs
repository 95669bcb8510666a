//! The house rules of the workspace, as tests: which crate may depend on which, where versions are pinned, what
//! every lab package holds, and that the book, the quiz banks and the report agree. Each failure names the rule
//! and the fix, so whoever breaks one learns the rule from the message.

use std::collections::BTreeMap;
use std::path::PathBuf;

use workbench_tests::{book_files, root};

/// One workspace member as `cargo metadata` sees it.
struct Member {
    name: String,
    dir: PathBuf,
    manifest: PathBuf,
    /// (dependency name, kind: "normal" | "dev" | "build", is a path dependency)
    dependencies: Vec<(String, String, bool)>,
}

fn members() -> Vec<Member> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .current_dir(root())
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap());
            Member {
                name: p["name"].as_str().unwrap().to_string(),
                dir: manifest.parent().unwrap().to_path_buf(),
                manifest,
                dependencies: p["dependencies"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| {
                        (
                            d["name"].as_str().unwrap().to_string(),
                            d["kind"].as_str().unwrap_or("normal").to_string(),
                            d.get("path").is_some_and(|p| !p.is_null()),
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The workspace crates `member` may depend on (any kind), or `None` for "any".
fn allowed_workspace_dependencies(member: &str) -> Option<Vec<String>> {
    let only = |names: &[&str]| Some(names.iter().map(|n| n.to_string()).collect());
    match member {
        // The instrument is measured by everything else; it must not carry any lab's code.
        "lab-load-generator" | "lab-kit" | "quiz" => only(&[]),
        "lab-harness" => only(&["lab-load-generator"]),
        "book-tools" => only(&["lab-harness", "quiz"]),
        "learner" => only(&["lab-harness"]),
        "classroom" => only(&["lab-harness", "learner"]),
        "xtask" => only(&[
            "lab-harness",
            "quiz",
            "book-tools",
            "lab-load-generator",
            "learner",
            "classroom",
        ]),
        "workbench-tests" => None,
        exercise if exercise.starts_with("exercise-") => only(&[]),
        // A lab: lab-kit and its own exercise, nothing else of ours (the harness runs it as a process).
        lab => {
            let topic = lab.strip_prefix("lab-").unwrap_or(lab);
            Some(vec!["lab-kit".to_string(), format!("exercise-{topic}")])
        }
    }
}

#[test]
fn dependencies_point_one_way() {
    let members = members();
    let ours: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    let mut broken = Vec::new();
    for member in &members {
        let Some(allowed) = allowed_workspace_dependencies(&member.name) else {
            continue;
        };
        for (dep, kind, _) in &member.dependencies {
            if ours.contains(&dep.as_str()) && !allowed.contains(dep) {
                broken.push(format!(
                    "{} depends on {dep} ({kind}): house rule: {} may depend on {} of ours. Fix: remove the dependency from {} (labs are processes the harness starts; shared code belongs in lab-kit)",
                    member.name,
                    member.name,
                    if allowed.is_empty() { "nothing".to_string() } else { allowed.join(", ") },
                    member.manifest.display()
                ));
            }
        }
    }
    // The instrument stays free of server and CLI code.
    let generator = members.iter().find(|m| m.name == "lab-load-generator").unwrap();
    for (dep, kind, _) in &generator.dependencies {
        if ["axum", "clap", "lab-kit"].contains(&dep.as_str()) {
            broken.push(format!(
                "lab-load-generator depends on {dep} ({kind}): house rule: the instrument is a library with no server or CLI code. Fix: move that code to its lab (labs/load-generator/lab) or to xtask"
            ));
        }
    }
    assert!(broken.is_empty(), "\n{}", broken.join("\n"));
}

#[test]
fn every_version_is_pinned_once_in_the_workspace() {
    let mut broken = Vec::new();
    for member in members() {
        let text = std::fs::read_to_string(&member.manifest).unwrap();
        let manifest: toml::Table = toml::from_str(&text).unwrap();
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            let Some(deps) = manifest.get(section).and_then(|d| d.as_table()) else {
                continue;
            };
            for (name, spec) in deps {
                let inherited = spec
                    .as_table()
                    .and_then(|t| t.get("workspace"))
                    .and_then(|w| w.as_bool())
                    == Some(true);
                if !inherited {
                    broken.push(format!(
                        "{} [{section}] {name} = {spec}: house rule: every version is pinned once, in the root Cargo.toml's [workspace.dependencies]. Fix: write `{name}.workspace = true` here (features may be added beside it) and the version there",
                        member.manifest.display()
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "\n{}", broken.join("\n"));
}

/// `fn main() -> ExitCode {`, the call, `}`: with a `use` or two to spare.
const MAIN_RS_MOST_CODE_LINES: usize = 5;

#[test]
fn every_lab_is_a_member_with_a_server_app_a_one_call_main_and_a_readme() {
    let members = members();
    let labs = lab_harness::discover(root()).unwrap_or_else(|e| panic!("{e}"));
    let mut broken = Vec::new();
    for lab in &labs {
        let Some(package) = members.iter().find(|m| m.name == lab.package) else {
            broken.push(format!(
                "lab {}: its package {} is not a workspace member. Fix: add its folder to [workspace] members",
                lab.name, lab.package
            ));
            continue;
        };
        let server = package.dir.join("src/server.rs");
        match std::fs::read_to_string(&server) {
            Ok(text) if text.contains("pub fn app") => {}
            _ => broken.push(format!(
                "lab {}: {} has no `pub fn app`: house rule: every lab's routes are built by `pub fn app(…) -> Router` in src/server.rs, testable without a socket",
                lab.name,
                server.display()
            )),
        }
        if !lab.dir.join("README.md").is_file() {
            broken.push(format!("lab {}: no README.md in {}", lab.name, lab.dir.display()));
        }
        let main = package.dir.join("src/main.rs");
        let text = std::fs::read_to_string(&main).unwrap_or_default();
        let code_lines = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("//"))
            .count();
        if !text.contains("lab_kit::run::<") || code_lines > MAIN_RS_MOST_CODE_LINES {
            broken.push(format!(
                "lab {}: {} has {code_lines} lines of code{}: house rule: a lab's main.rs is one call, `lab_kit::run::<its Cli>()`. Fix: move flags and setup into src/cli.rs, implementing lab_kit::LabServer",
                lab.name,
                main.display(),
                if text.contains("lab_kit::run::<") { "" } else { " and no `lab_kit::run::<…>()`" },
            ));
        }
    }
    // And the other way: every package under labs/ that serves a lab has a lab.toml naming it — a lab's, or an
    // incident drill's (labs/incidents/drills/<name>/lab.toml, whose server also has its README).
    let drills = lab_harness::drill::discover_drills(root()).unwrap_or_else(|e| panic!("{e}"));
    for drill in &drills {
        if !drill.base.join("README.md").is_file() {
            broken.push(format!(
                "drill {}: no README.md in {}",
                drill.name,
                drill.base.display()
            ));
        }
    }
    for member in &members {
        let under_labs = member.dir.strip_prefix(root().join("labs")).is_ok();
        let infrastructure = ["lab-kit", "lab-harness", "lab-load-generator"].contains(&member.name.as_str());
        if under_labs
            && !infrastructure
            && !member.name.starts_with("exercise-")
            && !labs.iter().any(|l| l.package == member.name)
            && !drills.iter().any(|d| d.manifest.package == member.name)
        {
            broken.push(format!(
                "{} is under labs/ but no lab.toml names it: house rule: a lab is a package, a lab.toml, a README. Fix: add labs/<topic>/lab.toml with server = \"{}\"",
                member.name, member.name
            ));
        }
    }
    assert!(broken.is_empty(), "\n{}", broken.join("\n"));
}

/// Every run report committed for the book.
fn committed_reports() -> Vec<(PathBuf, lab_harness::RunReport)> {
    book_files("json")
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let report =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not a run report: {e}", path.display()));
            (path, report)
        })
        .collect()
}

#[test]
fn every_metric_a_manifest_may_name_resolves_in_a_real_report() {
    let reports = committed_reports();
    assert!(reports.len() >= 3, "found {} committed reports", reports.len());
    let resolves = |metric: &str| {
        reports.iter().any(|(_, r)| {
            r.variants
                .iter()
                .any(|v| lab_harness::lessons::metric_value(v, metric).is_some())
        })
    };
    let unresolved: Vec<&&str> = lab_harness::manifest::METRICS.iter().filter(|m| !resolves(m)).collect();
    assert!(
        unresolved.is_empty(),
        "house rule: every metric a lab.toml may name reads a value off a real report. These read nothing in any committed report: {unresolved:?}. Fix: name them in the report (labs/harness/src/report.rs) or remove them from METRICS"
    );
    // And every metric a lab's lessons and gates name today is in the vocabulary.
    for lab in lab_harness::discover(root()).unwrap() {
        let named = lab
            .lessons
            .iter()
            .map(|l| &l.metric)
            .chain(lab.exercises.iter().flat_map(|e| e.gate.iter().map(|g| &g.metric)));
        for metric in named {
            assert!(
                lab_harness::manifest::known_metric(metric),
                "lab {}: {metric} is not a metric the harness knows",
                lab.name
            );
        }
    }
}

/// Quiz topics whose lab (and so chapter) is still to come: their banks are answered in the terminal meanwhile.
const BANKS_AWAITING_A_CHAPTER: &[&str] = &[];

#[test]
fn every_quiz_bank_is_in_a_chapter_and_every_chapter_quiz_has_a_bank() {
    let banks: Vec<String> = std::fs::read_dir(root().join("quiz/banks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let placeholder = regex::Regex::new(r"\{\{#quiz ([a-z0-9-]+)\}\}").unwrap();
    let mut in_chapters: BTreeMap<String, PathBuf> = BTreeMap::new();
    for chapter in book_files("md") {
        let text = std::fs::read_to_string(&chapter).unwrap();
        for c in placeholder.captures_iter(&text) {
            in_chapters.insert(c[1].to_string(), chapter.clone());
        }
    }
    let mut broken = Vec::new();
    for (topic, chapter) in &in_chapters {
        if !banks.contains(topic) {
            broken.push(format!(
                "{} shows {{{{#quiz {topic}}}}} but quiz/banks/{topic}.toml does not exist",
                chapter.display()
            ));
        }
    }
    for bank in &banks {
        let awaiting = BANKS_AWAITING_A_CHAPTER.contains(&bank.as_str());
        match (in_chapters.contains_key(bank), awaiting) {
            (false, false) => broken.push(format!(
                "quiz/banks/{bank}.toml is in no chapter: house rule: every bank is answered in the book. Fix: add {{{{#quiz {bank}}}}} to its chapter"
            )),
            (true, true) => broken.push(format!(
                "quiz/banks/{bank}.toml has a chapter now: take it off BANKS_AWAITING_A_CHAPTER in {}",
                file!()
            )),
            _ => {}
        }
    }
    assert!(broken.is_empty(), "\n{}", broken.join("\n"));
}

#[test]
fn the_rules_themselves_catch_what_they_are_for() {
    // A lab depending on another lab, or on the harness, is refused; its own exercise and lab-kit are not.
    let caching = allowed_workspace_dependencies("lab-caching").unwrap();
    assert!(caching.contains(&"lab-kit".to_string()) && caching.contains(&"exercise-caching".to_string()));
    assert!(!caching.contains(&"lab-worker-pools".to_string()) && !caching.contains(&"lab-harness".to_string()));
    assert_eq!(allowed_workspace_dependencies("lab-load-generator"), Some(vec![]));
    assert_eq!(allowed_workspace_dependencies("quiz"), Some(vec![]));
}

#[test]
fn the_instructor_guides_example_lab_toml_is_a_valid_manifest() {
    let guide = root().join("book/src/instructor-guide.md");
    let text = std::fs::read_to_string(&guide).unwrap();
    let example = text
        .split("```toml\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .find(|block| block.contains("server = "))
        .expect("the instructor guide shows a lab.toml");
    if let Err(e) = lab_harness::Manifest::parse(example, std::path::Path::new("instructor-guide-example.toml")) {
        panic!(
            "house rule: examples in the guide are real. The lab.toml in {} does not parse: {e}",
            guide.display()
        );
    }
}
