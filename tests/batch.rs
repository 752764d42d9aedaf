//! Batch runs: output does not depend on the number of jobs.

#[path = "../examples/gen/generate.rs"]
mod generate;

use assert_cmd::cargo::cargo_bin_cmd;

fn run(dir: &std::path::Path, args: &[&str]) -> (Vec<u8>, Vec<u8>, Option<i32>) {
    let out = cargo_bin_cmd!("svcscrub")
        .current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("runs");
    (out.stdout, out.stderr, out.status.code())
}

#[test]
fn one_and_four_jobs_give_identical_output_on_200_packages() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..200u64 {
        let dir = tmp.path().join(format!("pkg{i:03}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("setup.ipf"), generate::script(6_000, i + 1)).unwrap();
        if i % 3 == 0 {
            std::fs::write(dir.join("capture.reg"), generate::reg_export(4_000, i + 7)).unwrap();
        }
    }
    for args in [
        &["check", "--format", "concise", "."][..],
        &["check", "--format", "json", "."],
        &["check", "--format", "sarif", "."],
        &["check", "--format", "github", "."],
        &["fix", "--diff", "."],
    ] {
        let one = run(tmp.path(), &[args, &["-j1"]].concat());
        let four = run(tmp.path(), &[args, &["-j4"]].concat());
        assert_eq!(one.2, Some(1), "{args:?}: findings expected");
        assert!(one.0.len() > 10_000, "{args:?}: output is substantial");
        assert!(
            one.0 == four.0,
            "{args:?}: stdout differs between -j1 and -j4"
        );
        assert!(
            one.1 == four.1,
            "{args:?}: stderr differs between -j1 and -j4"
        );
        assert_eq!(one.2, four.2);
    }
}
