//! `cargo xtask book` end to end: the guide builds with mdBook as a library, every internal link resolves, the
//! quizzes and result tables are in the pages, and search has an index.

use workbench_tests::root;

#[test]
fn the_book_builds_with_quizzes_results_search_and_no_broken_link() {
    let built = book_tools::build(root()).unwrap_or_else(|e| panic!("{e:#}"));
    let broken = book_tools::links::broken(&built).unwrap();
    assert!(broken.is_empty(), "broken internal links: {broken:#?}");

    let page = |p: &str| std::fs::read_to_string(built.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    for chapter in [
        "introduction.html",
        "measuring/index.html",
        "caching/index.html",
        "worker-pools/index.html",
        "query-batching/index.html",
        "scenarios.html",
        "node-to-rust.html",
        "instructor-guide.html",
        "glossary.html",
    ] {
        assert!(
            !page(chapter).contains("{{#"),
            "{chapter}: a placeholder was left unrendered"
        );
    }
    let caching = page("caching/index.html");
    assert!(caching.contains(r#"<div class="wb-quiz" data-bank="wb-bank-caching">"#));
    assert!(caching.contains(r#"id="wb-bank-caching""#) && caching.contains("caching-1"));
    // mdBook names assets by content hash: theme/quiz-grader-1a2b3c4d.js.
    assert!(
        caching.contains("theme/quiz-grader-") && caching.contains("theme/quiz-"),
        "the quiz scripts are not on the page"
    );
    // The results table, rendered from the committed JSON, and code included from the lab's sources.
    let batching = page("query-batching/index.html");
    assert!(batching.contains("<td>n-plus-one</td>"), "no results table");
    assert!(
        batching.contains("Intel(R) Xeon(R) Processor"),
        "the machine is not named"
    );
    assert!(
        batching.contains("db.orders_after(after, size)"),
        "the included code is missing"
    );
    assert!(
        batching.contains("aria-label=\"latency percentile spectrum\""),
        "no latency chart"
    );
    let search_index = std::fs::read_dir(&built)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().starts_with("searchindex"));
    assert!(search_index, "no search index was built");
}
