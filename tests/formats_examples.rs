//! Every output format on the bundled example packages, as reviewed snapshots, through the
//! real command line.

mod common;

use assert_cmd::cargo::cargo_bin_cmd;

fn output(format: &str, package: &str) -> String {
    let out = cargo_bin_cmd!("svcscrub")
        .current_dir(common::manifest_dir())
        .args(["check", "--no-config", "--format", format])
        .arg(format!("examples/{package}"))
        .env_remove("NO_COLOR")
        .output()
        .expect("runs");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    // Human-facing paths (in messages) take the platform's form.
    let text = common::with_slashes(&text, &format!("examples/{package}"));
    // SARIF records the checkout's absolute location; it differs between machines.
    let root = common::manifest_dir().canonicalize().expect("the checkout");
    let root = svcscrub::paths::slashed(&root);
    let uri = if root.starts_with('/') {
        format!("file://{root}/")
    } else {
        format!("file:///{root}/")
    };
    text.replace(&uri, "file:///[checkout]/")
}

macro_rules! formats {
    ($($test:ident: $format:literal on $package:literal;)*) => {$(
        #[test]
        fn $test() {
            insta::assert_snapshot!(output($format, $package));
        }
    )*};
}

formats! {
    full_conversion: "full" on "service-conversion";
    concise_norton: "concise" on "norton-antivirus";
    concise_sms: "concise" on "sms-remote-control";
    concise_clean: "concise" on "clean-service";
    json_conversion: "json" on "service-conversion";
    sarif_conversion: "sarif" on "service-conversion";
    github_include: "github" on "include-driver";
    concise_wix: "concise" on "wix-service";
}

#[test]
fn sarif_results_name_known_rules_and_relative_uris() {
    let sarif: serde_json::Value =
        serde_json::from_str(&output("sarif", "norton-antivirus")).unwrap();
    let run = &sarif["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        assert!(rules.contains(&result["ruleId"].as_str().unwrap()));
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("examples/norton-antivirus/"), "{uri}");
    }
}
