//! The README's rules table is generated from the rule table; this keeps them in sync.

const START: &str = "<!-- rules-table:start -->\n";
const END: &str = "<!-- rules-table:end -->";

#[test]
fn readme_rules_table_matches_the_rules() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).expect("README.md is readable");
    let start = readme
        .find(START)
        .expect("README has the rules-table start marker")
        + START.len();
    let end = readme
        .find(END)
        .expect("README has the rules-table end marker");
    let expected = svcscrub::rules::markdown_table();
    if readme[start..end] != expected {
        if std::env::var_os("SVCSCRUB_BLESS").is_some() {
            let updated = format!("{}{}{}", &readme[..start], expected, &readme[end..]);
            std::fs::write(path, updated).expect("README.md is writable");
            return;
        }
        panic!(
            "README rules table is out of date; run `SVCSCRUB_BLESS=1 cargo test --test readme`.\nExpected:\n{expected}"
        );
    }
}

#[test]
fn readme_run_output_is_what_the_tool_prints() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let section = &readme[readme.find("## Set up and run").expect("set-up section")..];
    let block = |fence: &str| -> String {
        let start = section.find(fence).expect("fenced block") + fence.len();
        let end = start + section[start..].find("```").expect("closing fence");
        section[start..end].to_string()
    };
    let diff = block("```diff\n");
    let summary = block("```text\n");
    let out = assert_cmd::cargo::cargo_bin_cmd!("svcscrub")
        .current_dir(root)
        .args(["fix", "--diff", "--no-config", "examples/norton-antivirus"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    let excerpt = diff.trim_end().trim_end_matches("...").trim_end();
    assert!(
        stdout.contains(excerpt),
        "the README's diff excerpt is not in the output"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().last(), Some(summary.trim_end()));
    assert_eq!(out.status.code(), Some(1));
}
