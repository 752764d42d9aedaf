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
