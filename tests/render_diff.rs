//! The unified diff applies with the real `patch -p1` and `git apply` and reproduces the fixed
//! text byte for byte.

use std::path::Path;
use std::process::Command;

use proptest::collection::vec;
use proptest::prelude::*;
use svcscrub::fix::Edit;
use svcscrub::fix::changes::{ChangeMap, Span};
use svcscrub::render::diff::{
    spans_between, unified_diff, unified_diff_colored, write_fixed_diff, write_fixed_source_diff,
    write_source_diff,
};
use svcscrub::source::{Encoding, SourceFile};
use svcscrub::text::TextRange;

const PATH: &str = "pkg/setup.ipf";

/// Applies passes of edits, returning the final text and the spans.
fn run_passes(original: &[u8], passes: &[Vec<Edit>]) -> (Vec<u8>, Vec<Span>) {
    let mut map = ChangeMap::new();
    let mut text = original.to_vec();
    for edits in passes {
        text = map.apply_pass(&text, edits).expect("valid edits");
    }
    (text, map.into_spans())
}

fn tool_available(name: &str) -> bool {
    Command::new(name).arg("--version").output().is_ok()
}

/// Applies `diff` to a copy of `old` at `PATH` with `patch -p1` (no fuzz) and with `git apply`,
/// and checks both produce `new` exactly.
fn assert_applies(old: &[u8], new: &[u8], diff: &[u8]) {
    assert_applies_at(PATH, old, new, diff);
}

fn assert_applies_at(path: &str, old: &[u8], new: &[u8], diff: &[u8]) {
    for tool in ["patch", "git"] {
        if !tool_available(tool) {
            eprintln!("{tool} not available; skipped");
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, old).unwrap();
        let diff_file = dir.path().join("fix.diff");
        std::fs::write(&diff_file, diff).unwrap();
        let output = if tool == "patch" {
            Command::new("patch")
                .args([
                    "-p1",
                    "--batch",
                    "--fuzz=0",
                    "--no-backup-if-mismatch",
                    "-i",
                ])
                .arg(&diff_file)
                .current_dir(dir.path())
                .output()
                .unwrap()
        } else {
            Command::new("git")
                .args(["apply", "-p1", "--whitespace=nowarn"])
                .arg(&diff_file)
                .current_dir(dir.path())
                .output()
                .unwrap()
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{tool} failed:\n{stdout}{stderr}\n--- diff ---\n{}",
            String::from_utf8_lossy(diff)
        );
        assert!(
            !stdout.contains("offset") && !stdout.contains("fuzz"),
            "{tool} had to search: {stdout}"
        );
        let got = std::fs::read(&file).unwrap();
        assert_eq!(
            got,
            new,
            "{tool} result differs\n--- diff ---\n{}",
            String::from_utf8_lossy(diff)
        );
        let leftovers: Vec<_> = std::fs::read_dir(file.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != Path::new(path).file_name().unwrap())
            .collect();
        assert!(leftovers.is_empty(), "{tool} left {leftovers:?}");
    }
}

/// Diff after the passes, checked with the real tools; returns the diff as text (lossy).
fn diff_and_apply(old: &[u8], passes: &[Vec<Edit>]) -> String {
    let (new, spans) = run_passes(old, passes);
    let diff = unified_diff(PATH, old, &new, &spans);
    assert_applies(old, &new, &diff);
    // The same diff from the fixed text and the spans' original bytes.
    assert_fixed_diff_is_exact(old, &new, &spans).unwrap();
    String::from_utf8_lossy(&diff).into_owned()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn r(start: usize, end: usize) -> TextRange {
    TextRange::new(start, end)
}

/// Byte range of the first occurrence of `needle`.
fn find(text: &[u8], needle: &[u8]) -> TextRange {
    let at = text
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present");
    r(at, at + needle.len())
}

#[test]
fn lf_file_one_changed_line() {
    let old = b"one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n";
    let diff = diff_and_apply(old, &[vec![Edit::replace(find(old, b"five"), "5")]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -2,7 +2,7 @@\n two\n three\n four\n-five\n+5\n six\n seven\n eight\n"
    );
}

#[test]
fn crlf_file_deleted_line_keeps_crlf() {
    let old = b"item: Edit Registry\r\n  Key=A\r\n  Key=B\r\n  Key=C\r\nend\r\n";
    let diff = diff_and_apply(old, &[vec![Edit::delete(find(old, b"  Key=B\r\n"))]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,5 +1,4 @@\n item: Edit Registry\r\n   Key=A\r\n-  Key=B\r\n   Key=C\r\n end\r\n"
    );
}

#[test]
fn mixed_line_endings() {
    let old = b"a\r\nb\nc\r\nd\ne\r\n";
    let diff = diff_and_apply(
        old,
        &[vec![
            Edit::replace(find(old, b"b"), "B"),
            Edit::insert(find(old, b"d").start, "new\r\n"),
        ]],
    );
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,5 +1,6 @@\n a\r\n-b\n+B\n c\r\n+new\r\n d\n e\r\n"
    );
}

#[test]
fn last_line_without_newline_changed() {
    let old = b"a\nb\nc";
    let diff = diff_and_apply(old, &[vec![Edit::replace(r(4, 5), "C")]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,3 +1,3 @@\n a\n b\n-c\n\\ No newline at end of file\n+C\n\\ No newline at end of file\n"
    );
}

#[test]
fn append_after_last_line_without_newline() {
    let old = b"a\nb";
    let diff = diff_and_apply(old, &[vec![Edit::insert(3, "\nc\n")]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n"
    );
}

#[test]
fn final_newline_removed() {
    let old = b"a\r\nb\r\n";
    let diff = diff_and_apply(old, &[vec![Edit::delete(r(4, 6))]]);
    assert_eq!(
        diff,
        "# line ending differs: line 2 (CRLF -> no newline)\n--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+b\n\\ No newline at end of file\n"
    );
}

#[test]
fn first_line_changed() {
    let old = b"first\n2\n3\n4\n5\n6\n";
    let diff = diff_and_apply(old, &[vec![Edit::replace(r(0, 5), "FIRST")]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,4 +1,4 @@\n-first\n+FIRST\n 2\n 3\n 4\n"
    );
}

#[test]
fn last_line_changed() {
    let old = b"1\n2\n3\n4\n5\nlast\n";
    let diff = diff_and_apply(old, &[vec![Edit::replace(find(old, b"last"), "LAST")]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -3,4 +3,4 @@\n 3\n 4\n 5\n-last\n+LAST\n"
    );
}

/// Six unchanged lines between two changes: their contexts touch, so one hunk.
#[test]
fn insertions_at_start_middle_and_end() {
    let old = b"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
    let diff = diff_and_apply(
        old,
        &[vec![
            Edit::insert(0, "top\n"),
            Edit::insert(find(old, b"7\n").start, "mid\n"),
            Edit::insert(old.len(), "end\n"),
        ]],
    );
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,12 +1,15 @@\n+top\n 1\n 2\n 3\n 4\n 5\n 6\n+mid\n 7\n 8\n 9\n 10\n 11\n 12\n+end\n"
    );
}

#[test]
fn deletions_of_first_and_last_lines_and_everything() {
    let old = b"a\nb\nc\n";
    let diff = diff_and_apply(old, &[vec![Edit::delete(r(0, 2)), Edit::delete(r(4, 6))]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,3 +1 @@\n-a\n b\n-c\n"
    );
    let diff = diff_and_apply(old, &[vec![Edit::delete(r(0, 6))]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,3 +0,0 @@\n-a\n-b\n-c\n"
    );
}

#[test]
fn empty_original() {
    let diff = diff_and_apply(b"", &[vec![Edit::insert(0, "x\r\n")]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -0,0 +1 @@\n+x\r\n"
    );
}

fn numbered(n: usize, eol: &str) -> Vec<u8> {
    (1..=n)
        .map(|i| format!("line {i}{eol}"))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn distant_changes_make_separate_hunks() {
    let old = numbered(30, "\r\n");
    let diff = diff_and_apply(
        &old,
        &[vec![
            Edit::replace(find(&old, b"line 5\r"), "line five\r"),
            Edit::replace(find(&old, b"line 25\r"), "line twenty-five\r"),
        ]],
    );
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n\
         @@ -2,7 +2,7 @@\n line 2\r\n line 3\r\n line 4\r\n-line 5\r\n+line five\r\n line 6\r\n line 7\r\n line 8\r\n\
         @@ -22,7 +22,7 @@\n line 22\r\n line 23\r\n line 24\r\n-line 25\r\n+line twenty-five\r\n line 26\r\n line 27\r\n line 28\r\n"
    );
}

#[test]
fn hunks_merge_when_context_touches() {
    let old = numbered(30, "\n");
    // Lines 5 and 12: six unchanged lines between them, the two contexts touch → one hunk.
    let diff = diff_and_apply(
        &old,
        &[vec![
            Edit::replace(find(&old, b"line 5\n"), "five\n"),
            Edit::replace(find(&old, b"line 12\n"), "twelve\n"),
        ]],
    );
    assert_eq!(diff.matches("@@ -").count(), 1, "{diff}");
    assert!(diff.contains("@@ -2,14 +2,14 @@\n"), "{diff}");
    // Lines 5 and 13: seven lines between them → two hunks.
    let diff = diff_and_apply(
        &old,
        &[vec![
            Edit::replace(find(&old, b"line 5\n"), "five\n"),
            Edit::replace(find(&old, b"line 13\n"), "thirteen\n"),
        ]],
    );
    assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
}

#[test]
fn cp1252_bytes_pass_through() {
    let old = b"Text=Caf\xE9\xA0noir\r\nKey=A\r\nName=R\xE9sum\xE9\r\nEnd\r\n";
    let (new, spans) = run_passes(old, &[vec![Edit::delete(find(old, b"Key=A\r\n"))]]);
    let diff = unified_diff(PATH, old, &new, &spans);
    assert_applies(old, &new, &diff);
    let expected: &[u8] = b"--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,4 +1,3 @@\n Text=Caf\xE9\xA0noir\r\n-Key=A\r\n Name=R\xE9sum\xE9\r\n End\r\n";
    assert_eq!(diff, expected);
    // A changed line with 8-bit bytes.
    let (new, spans) = run_passes(
        old,
        &[vec![Edit::replace(find(old, b"noir"), b"\xE9t\xE9")]],
    );
    let diff = unified_diff(PATH, old, &new, &spans);
    assert!(contains(&diff, b"\n+Text=Caf\xE9\xA0\xE9t\xE9\r\n"));
    assert_applies(old, &new, &diff);
}

#[test]
fn line_ending_only_change_is_announced() {
    let old = b"a\r\nb\r\nc\r\nd\n";
    let new = b"a\nb\nc\r\nd\r\n";
    let diff = unified_diff(PATH, old, new, &spans_between(old, new));
    assert_applies(old, new, &diff);
    assert_eq!(
        String::from_utf8_lossy(&diff),
        "# line endings differ: lines 1-2 (CRLF -> LF), 4 (LF -> CRLF)\n--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,4 +1,4 @@\n-a\r\n-b\r\n+a\n+b\n c\r\n-d\n+d\r\n"
    );
}

#[test]
fn lone_carriage_returns_stay_inside_lines() {
    let old = b"a\rb\nc\rd\n";
    let diff = diff_and_apply(old, &[vec![Edit::replace(r(6, 7), "D")]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,2 +1,2 @@\n a\rb\n-c\rd\n+c\rD\n"
    );
}

#[test]
fn several_passes_compose() {
    let old = b"[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Foo]\r\n\"Type\"=dword:00000001\r\n\"Start\"=dword:00000002\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Foo]\r\n\"A\"=\"b\"\r\n";
    let pass1 = vec![Edit::replace(
        find(old, b"ControlSet001"),
        "CurrentControlSet",
    )];
    let t1 = svcscrub::fix::apply_edits(old, &pass1).unwrap();
    let pass2 = vec![Edit::delete(find(&t1, b"\"Type\"=dword:00000001\r\n"))];
    let diff = diff_and_apply(old, &[pass1, pass2]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,5 +1,4 @@\n-[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Foo]\r\n-\"Type\"=dword:00000001\r\n+[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Foo]\r\n \"Start\"=dword:00000002\r\n \r\n [HKEY_LOCAL_MACHINE\\SOFTWARE\\Foo]\r\n"
    );
}

#[test]
fn no_change_is_empty_output() {
    let old = b"a\nb\n";
    assert!(unified_diff(PATH, old, old, &[]).is_empty());
    // An edit that rewrote bytes with the same bytes.
    let (new, spans) = run_passes(old, &[vec![Edit::replace(r(0, 1), "a")]]);
    assert_eq!(new, old);
    assert!(!spans.is_empty());
    assert!(unified_diff(PATH, old, &new, &spans).is_empty());
}

#[test]
fn path_with_space_gets_a_tab_like_git() {
    let old = b"a\n";
    let new = b"b\n";
    let path = "my pkg/setup file.ipf";
    let diff = unified_diff(path, old, new, &spans_between(old, new));
    assert_eq!(
        String::from_utf8_lossy(&diff),
        "--- a/my pkg/setup file.ipf\t\n+++ b/my pkg/setup file.ipf\t\n@@ -1 +1 @@\n-a\n+b\n"
    );
    assert_applies_at(path, old, new, &diff);
}

#[test]
fn untrusted_spans_fall_back_to_an_exact_diff() {
    let old = b"a\nb\nc\n";
    let new = b"a\nB\nc\n";
    let bogus = [Span {
        old: r(0, 1),
        new: r(5, 9),
    }];
    let diff = unified_diff(PATH, old, new, &bogus);
    assert_applies(old, new, &diff);
    // Well-formed spans that miss a difference.
    let incomplete = [Span {
        old: r(0, 1),
        new: r(0, 1),
    }];
    let diff = unified_diff(PATH, old, new, &incomplete);
    assert_eq!(
        String::from_utf8_lossy(&diff),
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
    );
}

#[test]
fn colored_variant() {
    let old = b"a\r\nb\r\n";
    let new = b"a\r\nc\r\n";
    let diff = unified_diff_colored(PATH, old, new, &spans_between(old, new));
    assert_eq!(
        String::from_utf8_lossy(&diff),
        "\x1b[1m--- a/pkg/setup.ipf\x1b[0m\n\x1b[1m+++ b/pkg/setup.ipf\x1b[0m\n\x1b[36m@@ -1,2 +1,2 @@\x1b[0m\n a\r\n\x1b[31m-b\x1b[0m\r\n\x1b[32m+c\x1b[0m\r\n"
    );
}

#[test]
fn source_diff_keeps_the_utf8_bom_and_decodes_utf16() {
    // UTF-8 with BOM: the diff carries the BOM so it applies to the file.
    let raw = b"\xEF\xBB\xBFfirst\r\nsecond\r\n".to_vec();
    let source = SourceFile::new(PATH, raw.clone()).unwrap();
    let (new_text, spans) = run_passes(source.text(), &[vec![Edit::replace(r(0, 5), "1st")]]);
    let mut out = Vec::new();
    assert!(write_source_diff(&mut out, &source.path, &source, &new_text, &spans, false).unwrap());
    assert!(contains(
        &out,
        b"\n-\xEF\xBB\xBFfirst\r\n+\xEF\xBB\xBF1st\r\n"
    ));
    assert_applies(&raw, &source.encode(&new_text), &out);

    // UTF-16: the diff is the decoded text.
    let mut wide = vec![0xFF, 0xFE];
    wide.extend(
        "Windows Registry Editor Version 5.00\r\n\r\n\"Café\"=\"1\"\r\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    let source = SourceFile::new("x.reg", wide).unwrap();
    let at = find(source.text(), "\"1\"".as_bytes());
    let (new_text, spans) = run_passes(source.text(), &[vec![Edit::replace(at, "\"2\"")]]);
    let mut out = Vec::new();
    write_source_diff(&mut out, &source.path, &source, &new_text, &spans, false).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "--- a/x.reg\n+++ b/x.reg\n@@ -1,3 +1,3 @@\n Windows Registry Editor Version 5.00\r\n \r\n-\"Café\"=\"1\"\r\n+\"Café\"=\"2\"\r\n"
    );
}

#[test]
fn large_file_with_few_changes_is_fast_and_small() {
    let old = numbered(300_000, "\r\n");
    let first = find(&old, b"line 10\r\n");
    let last = find(&old, b"line 299990\r\n");
    let (new, spans) = run_passes(&old, &[vec![Edit::delete(first), Edit::delete(last)]]);
    let started = std::time::Instant::now();
    let diff = unified_diff(PATH, &old, &new, &spans);
    let elapsed = started.elapsed();
    assert_eq!(String::from_utf8_lossy(&diff).matches("@@ -").count(), 2);
    assert!(diff.len() < 400, "{}", diff.len());
    // Generous bound: a quadratic diff over 300 000 lines would take minutes.
    assert!(elapsed.as_secs() < 5, "took {elapsed:?}");
}

/// A strict in-process `patch`: hunks must match exactly at their stated lines.
fn apply_strict(old: &[u8], diff: &[u8]) -> Result<Vec<u8>, String> {
    let lines: Vec<&[u8]> = diff.split_inclusive(|&b| b == b'\n').collect();
    let old_lines: Vec<&[u8]> = old.split_inclusive(|&b| b == b'\n').collect();
    let mut out: Vec<u8> = Vec::new();
    let mut next_old = 0usize; // 0-based
    let mut i = lines
        .iter()
        .position(|l| l.starts_with(b"@@ "))
        .ok_or("no hunk")?;
    while i < lines.len() {
        let header = std::str::from_utf8(lines[i]).map_err(|e| e.to_string())?;
        let parts: Vec<&str> = header.split(' ').collect();
        let parse = |s: &str| -> (usize, usize) {
            let s = &s[1..];
            match s.split_once(',') {
                Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
                None => (s.parse().unwrap(), 1),
            }
        };
        let (old_start, old_len) = parse(parts[1]);
        let (_, new_len) = parse(parts[2]);
        let first = if old_len == 0 {
            old_start
        } else {
            old_start - 1
        };
        if first < next_old {
            return Err("hunks out of order".into());
        }
        for l in &old_lines[next_old..first] {
            out.extend_from_slice(l);
        }
        next_old = first;
        i += 1;
        let (mut seen_old, mut seen_new) = (0, 0);
        while i < lines.len() && !lines[i].starts_with(b"@@ ") {
            let line = lines[i];
            let body = &line[1..];
            match line[0] {
                b' ' | b'-' => {
                    let have = old_lines.get(next_old).ok_or("past end")?;
                    let want_no_nl = lines.get(i + 1).is_some_and(|n| n.starts_with(b"\\"));
                    let expect: Vec<u8> = if want_no_nl {
                        body[..body.len() - 1].to_vec()
                    } else {
                        body.to_vec()
                    };
                    if **have != expect[..] {
                        return Err(format!("mismatch at old line {}", next_old + 1));
                    }
                    if line[0] == b' ' {
                        out.extend_from_slice(&expect);
                        seen_new += 1;
                    }
                    next_old += 1;
                    seen_old += 1;
                }
                b'+' => {
                    let no_nl = lines.get(i + 1).is_some_and(|n| n.starts_with(b"\\"));
                    out.extend_from_slice(if no_nl { &body[..body.len() - 1] } else { body });
                    seen_new += 1;
                }
                b'\\' => {}
                _ => return Err("bad line".into()),
            }
            i += 1;
        }
        if seen_old != old_len || seen_new != new_len {
            return Err(format!(
                "counts {seen_old}/{seen_new} vs {old_len}/{new_len}"
            ));
        }
    }
    for l in &old_lines[next_old..] {
        out.extend_from_slice(l);
    }
    Ok(out)
}

fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => Just(b'a'),
        2 => Just(b'b'),
        4 => Just(b'\n'),
        2 => Just(b'\r'),
        1 => Just(0xE9),
    ]
}

type EditSpec = (u16, usize, Vec<u8>);

fn materialize(text: &[u8], specs: &[EditSpec]) -> Vec<Edit> {
    let mut specs: Vec<(usize, usize, &Vec<u8>)> = specs
        .iter()
        .map(|(seed, del, ins)| (*seed as usize % (text.len() + 1), *del, ins))
        .collect();
    specs.sort_by_key(|s| s.0);
    let mut edits = Vec::new();
    let (mut cursor, mut last_insert) = (0, None);
    for (pos, del, ins) in specs {
        let start = pos.max(cursor);
        let end = (start + del).min(text.len());
        if start > text.len() || (start == end && last_insert == Some(start)) {
            continue;
        }
        if start == end {
            last_insert = Some(start);
        }
        edits.push(Edit::replace(TextRange::new(start, end), ins.clone()));
        cursor = end;
    }
    edits
}

fn passes_strategy() -> impl Strategy<Value = (Vec<u8>, Vec<Vec<EditSpec>>)> {
    (
        vec(byte(), 0..120),
        vec(
            vec((any::<u16>(), 0usize..8, vec(byte(), 0..8)), 0..5),
            1..4,
        ),
    )
}

fn random_case(text: &[u8], passes: &[Vec<EditSpec>]) -> (Vec<u8>, Vec<u8>) {
    let (current, spans) = random_spans(text, passes);
    let diff = unified_diff(PATH, text, &current, &spans);
    (current, diff)
}

/// The text after the passes, and the spans.
fn random_spans(text: &[u8], passes: &[Vec<EditSpec>]) -> (Vec<u8>, Vec<Span>) {
    let mut map = ChangeMap::new();
    let mut current = text.to_vec();
    for specs in passes {
        let edits = materialize(&current, specs);
        current = map.apply_pass(&current, &edits).unwrap();
    }
    (current, map.into_spans())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Every diff applies exactly at its stated lines and gives the final text; no change
    /// gives no diff.
    #[test]
    fn random_edits_diff_applies_strictly((text, passes) in passes_strategy()) {
        let (new, diff) = random_case(&text, &passes);
        if new == text {
            prop_assert!(diff.is_empty());
        } else {
            prop_assert!(!diff.is_empty());
            let applied = apply_strict(&text, &diff);
            prop_assert_eq!(applied, Ok(new), "diff:\n{}", String::from_utf8_lossy(&diff));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The same with the real tools (fewer cases: each spawns two processes).
    #[test]
    fn random_edits_diff_applies_with_patch_and_git((text, passes) in passes_strategy()) {
        let (new, diff) = random_case(&text, &passes);
        if new != text {
            assert_applies(&text, &new, &diff);
        }
    }
}

/// Two edits in one pass that leave the text as it was (a line break inserted before a run
/// of them, one deleted after it): found by `random_edits_diff_applies_strictly`.
#[test]
fn edits_that_cancel_out_give_no_diff() {
    let mut text = b"aaa\n\n\n".to_vec();
    text.extend(std::iter::repeat_n(b'a', 51));
    let passes: Vec<Vec<EditSpec>> = vec![vec![(45709, 1, vec![]), (21985, 0, vec![10])]];
    let (new, diff) = random_case(&text, &passes);
    assert_eq!(new, text);
    assert!(diff.is_empty(), "{}", String::from_utf8_lossy(&diff));
}

/// The spans' original bytes, concatenated in span order: what is kept of the original once a
/// file is fixed.
fn old_bytes_of(original: &[u8], spans: &[Span]) -> Vec<u8> {
    spans
        .iter()
        .flat_map(|span| &original[span.old.as_range()])
        .copied()
        .collect()
}

/// [`write_fixed_diff`] into a buffer: whether it wrote, and what.
fn fixed_diff(original: &[u8], new: &[u8], spans: &[Span], color: bool) -> (bool, Vec<u8>) {
    let mut out = Vec::new();
    let old_bytes = old_bytes_of(original, spans);
    let written = write_fixed_diff(&mut out, PATH, new, spans, &old_bytes, color).unwrap();
    (written, out)
}

#[test]
fn fixed_diff_last_line_gains_or_loses_its_newline() {
    let old = b"1\n2\n3\n4\n5\nlast";
    // A newline added at the end, and the last line removed with the newline before it.
    let diff = diff_and_apply(old, &[vec![Edit::insert(old.len(), "\n")]]);
    assert_eq!(
        diff,
        "# line ending differs: line 6 (no newline -> LF)\n--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -3,4 +3,4 @@\n 3\n 4\n 5\n-last\n\\ No newline at end of file\n+last\n"
    );
    let diff = diff_and_apply(old, &[vec![Edit::delete(find(old, b"\nlast"))]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -2,5 +2,4 @@\n 2\n 3\n 4\n-5\n-last\n\\ No newline at end of file\n+5\n\\ No newline at end of file\n"
    );
}

#[test]
fn fixed_diff_everything_deleted() {
    let old = b"a\r\nb\nc";
    let diff = diff_and_apply(old, &[vec![Edit::delete(r(0, old.len()))]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,3 +0,0 @@\n-a\r\n-b\n-c\n\\ No newline at end of file\n"
    );
    // In two passes, the second deleting what the first left.
    let diff = diff_and_apply(
        old,
        &[vec![Edit::delete(r(1, 5))], vec![Edit::delete(r(0, 2))]],
    );
    assert!(diff.ends_with("@@ -1,3 +0,0 @@\n-a\r\n-b\n-c\n\\ No newline at end of file\n"));
}

#[test]
fn fixed_diff_line_ending_only_change() {
    let old = b"a\r\nb\r\nc\r\nd\r\n";
    let diff = diff_and_apply(
        old,
        &[vec![
            Edit::replace(r(1, 3), "\n"),
            Edit::replace(r(4, 6), "\n"),
        ]],
    );
    assert_eq!(
        diff,
        "# line endings differ: lines 1-2 (CRLF -> LF)\n--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,4 +1,4 @@\n-a\r\n-b\r\n+a\n+b\n c\r\n d\r\n"
    );
}

/// Spans next to a line break, on either side of it: whether a span ends a line is decided by
/// its original bytes, or the fixed text's byte before it when it had none.
#[test]
fn fixed_diff_spans_touching_a_line_boundary_from_both_sides() {
    let old = b"a\nb\nc\nd\ne\n";
    // One span ends just before the `\n` ending line 2, the next starts just after it.
    let diff = diff_and_apply(
        old,
        &[vec![
            Edit::replace(find(old, b"b"), "B"),
            Edit::replace(find(old, b"c"), "C"),
        ]],
    );
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,5 +1,5 @@\n a\n-b\n-c\n+B\n+C\n d\n e\n"
    );
    // Its original ends a line, the fixed text does not (the `\n` was removed).
    let diff = diff_and_apply(old, &[vec![Edit::replace(find(old, b"b\n"), "b ")]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,5 +1,4 @@\n a\n-b\n-c\n+b c\n d\n e\n"
    );
    // Its fixed text ends a line, the original does not.
    let diff = diff_and_apply(old, &[vec![Edit::replace(find(old, b"c"), "c\nc2\n")]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,5 +1,7 @@\n a\n b\n c\n+c2\n+\n d\n e\n"
    );
    // Insertions right after a `\n` (no original bytes): of a part of a line, and of whole lines.
    let diff = diff_and_apply(old, &[vec![Edit::insert(find(old, b"c").start, "x")]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,5 +1,5 @@\n a\n b\n-c\n+xc\n d\n e\n"
    );
    let diff = diff_and_apply(old, &[vec![Edit::insert(find(old, b"c").start, "x\n")]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,5 +1,6 @@\n a\n b\n+x\n c\n d\n e\n"
    );
    // A deletion whose original bytes end with `\n`, in the middle of a line of the fixed text.
    let diff = diff_and_apply(old, &[vec![Edit::delete(r(1, 4))]]);
    assert_eq!(
        diff,
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,5 +1,3 @@\n-a\n-b\n-c\n+ac\n d\n e\n"
    );
}

/// Spans that touch, which no `ChangeMap` gives but the diff takes: an insertion with no
/// original bytes right after a span whose original ends a line.
#[test]
fn fixed_diff_of_touching_spans() {
    let old = b"a\nb\nc\n";
    let new = b"a\nB\nxc\n";
    let spans = [
        Span {
            old: r(2, 4),
            new: r(2, 4),
        },
        Span {
            old: r(4, 4),
            new: r(4, 5),
        },
    ];
    let expected = unified_diff(PATH, old, new, &spans);
    assert_eq!(
        String::from_utf8_lossy(&expected),
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,3 +1,3 @@\n a\n-b\n-c\n+B\n+xc\n"
    );
    assert_eq!(fixed_diff(old, new, &spans, false), (true, expected));

    // An insertion touching a span whose original ends a line ends a line too: its region
    // stops there and is diffed apart from the next one (diffed together, `z` and `w` would
    // be kept and `G` moved).
    let old = b"x\nG\nz\nw\n";
    let new = b"y\nz\nw\nG\n";
    let spans = [
        Span {
            old: r(0, 2),
            new: r(0, 2),
        },
        Span {
            old: r(2, 2),
            new: r(2, 6),
        },
        Span {
            old: r(4, 8),
            new: r(8, 8),
        },
    ];
    let (written, diff) = fixed_diff(old, new, &spans, false);
    assert!(written);
    assert_eq!(
        String::from_utf8_lossy(&diff),
        "--- a/pkg/setup.ipf\n+++ b/pkg/setup.ipf\n@@ -1,4 +1,4 @@\n-x\n+y\n+z\n+w\n G\n-z\n-w\n"
    );
    assert_eq!(diff, unified_diff(PATH, old, new, &spans));
    assert_applies(old, new, &diff);
}

#[test]
fn fixed_diff_without_a_difference_writes_nothing() {
    let old = b"a\nb\nc\n";
    // Bytes replaced by the same bytes.
    let (new, spans) = run_passes(old, &[vec![Edit::replace(r(2, 3), "b")]]);
    assert_eq!(new, old);
    assert!(!spans.is_empty());
    assert_eq!(fixed_diff(old, &new, &spans, false), (false, Vec::new()));
    assert_eq!(fixed_diff(old, &new, &spans, true), (false, Vec::new()));
    // Passes that cancel out: a line deleted at the start, the same line added at the end.
    let old = b"a\na\n";
    let (new, spans) = run_passes(old, &[vec![Edit::delete(r(0, 2)), Edit::insert(4, "a\n")]]);
    assert_eq!(new, old);
    assert_eq!(spans.len(), 2);
    assert_eq!(fixed_diff(old, &new, &spans, false), (false, Vec::new()));
    assert_eq!(fixed_diff(old, old, &[], false), (false, Vec::new()));
}

#[test]
fn fixed_diff_refuses_spans_that_do_not_add_up() {
    let old = b"a\nb\n";
    let (new, spans) = run_passes(old, &[vec![Edit::replace(r(2, 3), "B")]]);
    let mut out = Vec::new();
    let short = write_fixed_diff(&mut out, PATH, &new, &spans, b"", false);
    assert_eq!(short.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
    assert!(out.is_empty());
}

/// The fixed file's diff is the source diff: for UTF-8 with a BOM the file's bytes (the BOM on
/// both sides), for UTF-16 the decoded text, for 8-bit files the bytes as they are; whether the
/// fixed file keeps its bytes (read from disk) or only its text (as the fixes leave it).
#[test]
fn fixed_source_diff_is_the_source_diff() {
    let originals = [
        SourceFile::new(PATH, b"\xEF\xBB\xBFfirst\r\nsecond\r\n".to_vec()).unwrap(),
        SourceFile::from_text(
            PATH,
            Encoding::Utf16Le,
            "REGEDIT4\r\n\"Café\"=\"1\"\r\n".into(),
        ),
        SourceFile::new(PATH, b"Name=R\xE9sum\xE9\r\nKey=A\r\n".to_vec()).unwrap(),
    ];
    for original in &originals {
        let text = original.text();
        let end = text.len();
        for edit in [
            Edit::replace(r(0, 5), "1st"),
            Edit::delete(r(end - 2, end)),
            Edit::insert(end, "x"),
        ] {
            let (new_text, spans) = run_passes(text, &[vec![edit]]);
            let old_bytes = old_bytes_of(text, &spans);
            for color in [false, true] {
                let mut expected = Vec::new();
                write_source_diff(
                    &mut expected,
                    &original.path,
                    original,
                    &new_text,
                    &spans,
                    color,
                )
                .unwrap();
                assert!(!expected.is_empty());
                let fixed_files = [
                    SourceFile::new(PATH, original.encode(&new_text)).unwrap(),
                    SourceFile::from_text(PATH, original.encoding, new_text.clone()),
                ];
                for fixed in &fixed_files {
                    assert_eq!(fixed.encoding, original.encoding);
                    let mut out = Vec::new();
                    assert!(
                        write_fixed_source_diff(
                            &mut out,
                            &fixed.path,
                            fixed,
                            &spans,
                            &old_bytes,
                            color
                        )
                        .unwrap()
                    );
                    assert_eq!(
                        String::from_utf8_lossy(&out),
                        String::from_utf8_lossy(&expected)
                    );
                    if original.encoding == Encoding::Utf8Bom && !color && spans[0].old.start == 0 {
                        assert!(contains(
                            &out,
                            b"\n-\xEF\xBB\xBFfirst\r\n+\xEF\xBB\xBF1st\r\n"
                        ));
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The diff from the fixed text and the spans' original bytes is the diff from both texts,
    /// byte for byte, in colour or not; it applies strictly, and is empty when nothing changed.
    #[test]
    fn random_edits_fixed_diff_equals_unified_diff((text, passes) in passes_strategy()) {
        let (new, spans) = random_spans(&text, &passes);
        assert_fixed_diff_is_exact(&text, &new, &spans)?;
    }

    /// The same with every span cut in two touching parts (either possibly empty): spans no
    /// `ChangeMap` gives, but that fit the texts.
    #[test]
    fn touching_spans_fixed_diff_equals_unified_diff(
        (text, passes) in passes_strategy(),
        cuts in vec(any::<(u8, u8)>(), 1..8),
    ) {
        let (new, spans) = random_spans(&text, &passes);
        let cut: Vec<Span> = spans
            .iter()
            .zip(cuts.iter().cycle())
            .flat_map(|(span, &(a, b))| {
                let old_cut = span.old.start + usize::from(a) % (span.old.len() + 1);
                let new_cut = span.new.start + usize::from(b) % (span.new.len() + 1);
                [
                    Span { old: r(span.old.start, old_cut), new: r(span.new.start, new_cut) },
                    Span { old: r(old_cut, span.old.end), new: r(new_cut, span.new.end) },
                ]
            })
            .collect();
        assert_fixed_diff_is_exact(&text, &new, &cut)?;
    }
}

/// [`write_fixed_diff`] writes what [`unified_diff`] and [`unified_diff_colored`] give, says
/// whether it wrote, and (when the texts differ) its diff applies strictly.
fn assert_fixed_diff_is_exact(
    original: &[u8],
    new: &[u8],
    spans: &[Span],
) -> Result<(), TestCaseError> {
    let (written, diff) = fixed_diff(original, new, spans, false);
    let expected = unified_diff(PATH, original, new, spans);
    prop_assert_eq!(
        String::from_utf8_lossy(&diff),
        String::from_utf8_lossy(&expected)
    );
    prop_assert_eq!(written, new != original);
    let (written, colored) = fixed_diff(original, new, spans, true);
    prop_assert_eq!(colored, unified_diff_colored(PATH, original, new, spans));
    prop_assert_eq!(written, new != original);
    if new != original {
        prop_assert_eq!(apply_strict(original, &diff), Ok(new.to_vec()));
    }
    Ok(())
}
