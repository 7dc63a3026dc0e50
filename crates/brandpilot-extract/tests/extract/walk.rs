//! walk(): recursion, hidden entries, ordering, symlink loops, missing paths.

use brandpilot_extract::{ExtractError, walk};

#[test]
fn walks_directories_sorted_skipping_hidden_and_surviving_link_loops() {
    let root = tempfile::tempdir().expect("temp dir");
    let base = root.path();
    for (path, contents) in [
        ("b/notes.md", "# b"),
        ("a/deeper/deep.txt", "deep"),
        ("a/first.csv", "x\n1"),
        ("a/.secret.txt", "hidden"),
        (".git/config", "hidden dir"),
        ("top.txt", "top"),
    ] {
        let path = base.join(path);
        std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write");
    }
    std::os::unix::fs::symlink(base, base.join("a/deeper/loop")).expect("symlink");
    std::os::unix::fs::symlink(base.join("gone"), base.join("dangling")).expect("symlink");

    let explicit_hidden = base.join("a/.secret.txt");
    let files = walk(&[base.to_path_buf(), explicit_hidden.clone()]).expect("walk");
    let mut expected = vec![
        base.join("a/deeper/deep.txt"),
        base.join("a/first.csv"),
        base.join("b/notes.md"),
        base.join("top.txt"),
        explicit_hidden,
    ];
    expected.sort();
    assert_eq!(files, expected);
    assert_eq!(
        walk(&[base.to_path_buf()]).expect("walk again").len(),
        4,
        "deterministic"
    );
}

#[test]
fn missing_path_is_an_io_error_naming_it() {
    let error = walk(&["/nonexistent/brandpilot-input".into()]).expect_err("missing");
    assert!(matches!(error, ExtractError::Io { .. }), "got {error:?}");
    assert!(error.to_string().contains("brandpilot-input"));
}
