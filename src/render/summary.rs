//! The summary line printed after a report (not with `--quiet`, nor for json/sarif/github).
//!
//! The CLI fills a [`CheckCounts`] or [`FixCounts`] as it processes files (the `add_*` helpers
//! do the tallying); the functions here only turn counts into sentences.

use crate::diagnostic::Diagnostic;
use crate::fix::Applicability;

/// Counts for `svcscrub check`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckCounts {
    /// Files read and checked (not counting the ones that could not be processed).
    pub files: usize,
    /// Files that could not be read, decoded or parsed.
    pub errors: usize,
    /// Findings reported (suppressed ones are not counted).
    pub findings: usize,
    /// Files with at least one finding.
    pub files_with_findings: usize,
    /// Findings that `svcscrub fix` would fix with the current settings.
    pub fixable: usize,
    /// Further findings that only `--unsafe-fixes` would fix (0 when unsafe fixes are enabled).
    pub unsafe_fixable: usize,
}

impl CheckCounts {
    /// Tallies one checked file's findings.
    pub fn add_file(&mut self, diagnostics: &[Diagnostic], unsafe_fixes: bool) {
        self.files += 1;
        if !diagnostics.is_empty() {
            self.files_with_findings += 1;
        }
        for diagnostic in diagnostics {
            self.findings += 1;
            match diagnostic.fix.as_ref().map(|f| f.applicability) {
                Some(Applicability::Safe) => self.fixable += 1,
                Some(Applicability::Unsafe) if unsafe_fixes => self.fixable += 1,
                Some(Applicability::Unsafe) => self.unsafe_fixable += 1,
                Some(Applicability::DisplayOnly) | None => {}
            }
        }
    }
}

/// Counts for `svcscrub fix` (and `fix --diff`, where nothing is written).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FixCounts {
    /// `--diff`: a dry run; the sentence says what would happen.
    pub dry_run: bool,
    /// Files read and processed.
    pub files: usize,
    /// Files that could not be read, decoded, parsed or written.
    pub errors: usize,
    /// Findings fixed (or, with `--diff`, that would be fixed).
    pub fixed: usize,
    /// Files changed (or that would change).
    pub files_fixed: usize,
    /// Findings left after fixing.
    pub remaining: usize,
    /// Of the remaining findings, those `--unsafe-fixes` would fix (0 when it was given).
    pub remaining_unsafe_fixable: usize,
}

impl FixCounts {
    /// Tallies one processed file: how many findings its fixes removed, and what is left.
    pub fn add_file(&mut self, fixed: usize, remaining: &[Diagnostic], unsafe_fixes: bool) {
        self.files += 1;
        self.fixed += fixed;
        if fixed > 0 {
            self.files_fixed += 1;
        }
        self.remaining += remaining.len();
        if !unsafe_fixes {
            self.remaining_unsafe_fixable += remaining
                .iter()
                .filter(|d| {
                    d.fix
                        .as_ref()
                        .is_some_and(|f| f.applicability == Applicability::Unsafe)
                })
                .count();
        }
    }
}

/// `1 finding`, `2 findings`.
fn count(n: usize, singular: &str, plural: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {plural}")
    }
}

fn files(n: usize) -> String {
    count(n, "file", "files")
}

fn findings(n: usize) -> String {
    count(n, "finding", "findings")
}

/// ` 1 file could not be processed.` (with a leading space), or nothing.
fn errors_sentence(errors: usize) -> String {
    match errors {
        0 => String::new(),
        1 => " 1 file could not be processed.".to_string(),
        n => format!(" {n} files could not be processed."),
    }
}

/// The line after `svcscrub check`'s report, e.g.
/// ``Found 12 findings in 3 files, 10 fixable with `svcscrub fix`, 2 more with `--unsafe-fixes`.``
/// or `All checks passed (4 files).`
pub fn check_summary(c: &CheckCounts) -> String {
    if c.files == 0 && c.errors > 0 {
        return errors_sentence(c.errors).trim_start().to_string();
    }
    let mut s = if c.findings == 0 {
        if c.errors == 0 {
            format!("All checks passed ({}).", files(c.files))
        } else {
            format!("No findings in {} checked.", files(c.files))
        }
    } else {
        let mut s = format!(
            "Found {} in {}",
            findings(c.findings),
            files(c.files_with_findings)
        );
        if c.fixable > 0 {
            s.push_str(&format!(", {} fixable with `svcscrub fix`", c.fixable));
            if c.unsafe_fixable > 0 {
                s.push_str(&format!(
                    ", {} more with `--unsafe-fixes`",
                    c.unsafe_fixable
                ));
            }
        } else if c.unsafe_fixable > 0 {
            s.push_str(&format!(
                ", {} fixable with `svcscrub fix --unsafe-fixes`",
                c.unsafe_fixable
            ));
        }
        s.push('.');
        s
    };
    s.push_str(&errors_sentence(c.errors));
    s
}

/// The line after `svcscrub fix` (or `fix --diff`), e.g.
/// ``Fixed 10 findings in 3 files; 2 remaining (2 fixable with `--unsafe-fixes`).``,
/// `Would fix 10 findings in 3 files.` or `All checks passed (4 files).`
pub fn fix_summary(c: &FixCounts) -> String {
    let remaining = || {
        let mut s = findings(c.remaining);
        s.push_str(match (c.dry_run, c.remaining) {
            (true, _) => " would remain",
            (false, 1) => " remains",
            (false, _) => " remain",
        });
        if c.remaining_unsafe_fixable > 0 {
            s.push_str(&format!(
                " ({} fixable with `--unsafe-fixes`)",
                c.remaining_unsafe_fixable
            ));
        }
        s
    };
    // Nothing processed (a file whose write was refused is not): the errors say it all.
    if c.files == 0 && c.errors > 0 {
        return errors_sentence(c.errors).trim_start().to_string();
    }
    let mut s = match (c.fixed, c.remaining) {
        (0, 0) if c.errors == 0 => format!("All checks passed ({}).", files(c.files)),
        (0, 0) => format!("No findings in {} processed.", files(c.files)),
        (0, _) => format!("Nothing to fix; {}.", remaining()),
        (fixed, left) => {
            let verb = if c.dry_run { "Would fix" } else { "Fixed" };
            let mut s = format!("{verb} {} in {}", findings(fixed), files(c.files_fixed));
            if left > 0 {
                s.push_str("; ");
                s.push_str(&remaining());
            }
            s.push('.');
            s
        }
    };
    s.push_str(&errors_sentence(c.errors));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(findings: usize, in_files: usize, fixable: usize, unsafe_fixable: usize) -> String {
        check_summary(&CheckCounts {
            files: 5,
            errors: 0,
            findings,
            files_with_findings: in_files,
            fixable,
            unsafe_fixable,
        })
    }

    #[test]
    fn check_variants() {
        assert_eq!(
            check(12, 3, 10, 2),
            "Found 12 findings in 3 files, 10 fixable with `svcscrub fix`, 2 more with `--unsafe-fixes`."
        );
        assert_eq!(
            check(1, 1, 1, 0),
            "Found 1 finding in 1 file, 1 fixable with `svcscrub fix`."
        );
        assert_eq!(check(2, 1, 0, 0), "Found 2 findings in 1 file.");
        assert_eq!(
            check(3, 2, 0, 3),
            "Found 3 findings in 2 files, 3 fixable with `svcscrub fix --unsafe-fixes`."
        );
        assert_eq!(
            check(4, 2, 1, 1),
            "Found 4 findings in 2 files, 1 fixable with `svcscrub fix`, 1 more with `--unsafe-fixes`."
        );
        assert_eq!(check(0, 0, 0, 0), "All checks passed (5 files).");
        assert_eq!(
            check_summary(&CheckCounts {
                files: 1,
                ..CheckCounts::default()
            }),
            "All checks passed (1 file)."
        );
    }

    #[test]
    fn check_with_errors() {
        assert_eq!(
            check_summary(&CheckCounts {
                files: 2,
                errors: 1,
                ..CheckCounts::default()
            }),
            "No findings in 2 files checked. 1 file could not be processed."
        );
        assert_eq!(
            check_summary(&CheckCounts {
                files: 2,
                errors: 3,
                findings: 1,
                files_with_findings: 1,
                ..CheckCounts::default()
            }),
            "Found 1 finding in 1 file. 3 files could not be processed."
        );
    }

    fn fix(
        dry_run: bool,
        fixed: usize,
        in_files: usize,
        remaining: usize,
        unsafe_left: usize,
    ) -> String {
        fix_summary(&FixCounts {
            dry_run,
            files: 4,
            errors: 0,
            fixed,
            files_fixed: in_files,
            remaining,
            remaining_unsafe_fixable: unsafe_left,
        })
    }

    #[test]
    fn fix_variants() {
        assert_eq!(fix(false, 10, 3, 0, 0), "Fixed 10 findings in 3 files.");
        assert_eq!(fix(false, 1, 1, 0, 0), "Fixed 1 finding in 1 file.");
        assert_eq!(
            fix(false, 10, 3, 2, 2),
            "Fixed 10 findings in 3 files; 2 findings remain (2 fixable with `--unsafe-fixes`)."
        );
        assert_eq!(
            fix(false, 10, 3, 1, 0),
            "Fixed 10 findings in 3 files; 1 finding remains."
        );
        assert_eq!(
            fix(false, 0, 0, 2, 1),
            "Nothing to fix; 2 findings remain (1 fixable with `--unsafe-fixes`)."
        );
        assert_eq!(fix(false, 0, 0, 0, 0), "All checks passed (4 files).");
    }

    #[test]
    fn dry_run_variants() {
        assert_eq!(fix(true, 3, 2, 0, 0), "Would fix 3 findings in 2 files.");
        assert_eq!(fix(true, 1, 1, 0, 0), "Would fix 1 finding in 1 file.");
        assert_eq!(
            fix(true, 3, 2, 1, 1),
            "Would fix 3 findings in 2 files; 1 finding would remain (1 fixable with `--unsafe-fixes`)."
        );
        assert_eq!(
            fix(true, 0, 0, 2, 0),
            "Nothing to fix; 2 findings would remain."
        );
        assert_eq!(fix(true, 0, 0, 0, 0), "All checks passed (4 files).");
    }

    #[test]
    fn fix_with_errors() {
        assert_eq!(
            fix_summary(&FixCounts {
                files: 3,
                errors: 1,
                ..FixCounts::default()
            }),
            "No findings in 3 files processed. 1 file could not be processed."
        );
        assert_eq!(
            fix_summary(&FixCounts {
                files: 3,
                errors: 2,
                fixed: 1,
                files_fixed: 1,
                ..FixCounts::default()
            }),
            "Fixed 1 finding in 1 file. 2 files could not be processed."
        );
    }

    fn finding(fix: Option<Applicability>) -> Diagnostic {
        Diagnostic {
            code: "SVC001",
            name: "service-security-descriptor",
            severity: crate::diagnostic::Severity::Error,
            message: String::new(),
            range: crate::text::TextRange::empty(0),
            service: None,
            registry_key: String::new(),
            value_name: None,
            fix: fix.map(|applicability| {
                Box::new(crate::fix::Fix {
                    applicability,
                    title: "".into(),
                    edits: Vec::new(),
                })
            }),
        }
    }

    #[test]
    fn tallies() {
        let file = [
            finding(Some(Applicability::Safe)),
            finding(Some(Applicability::Unsafe)),
            finding(Some(Applicability::DisplayOnly)),
            finding(None),
        ];
        let mut c = CheckCounts::default();
        c.add_file(&file, false);
        c.add_file(&[], false);
        assert_eq!(
            c,
            CheckCounts {
                files: 2,
                errors: 0,
                findings: 4,
                files_with_findings: 1,
                fixable: 1,
                unsafe_fixable: 1,
            }
        );
        let mut c = CheckCounts::default();
        c.add_file(&file, true);
        assert_eq!((c.fixable, c.unsafe_fixable), (2, 0));

        let mut f = FixCounts::default();
        f.add_file(3, &file[1..], false);
        f.add_file(0, &[], false);
        assert_eq!(
            f,
            FixCounts {
                dry_run: false,
                files: 2,
                errors: 0,
                fixed: 3,
                files_fixed: 1,
                remaining: 3,
                remaining_unsafe_fixable: 1,
            }
        );
        assert_eq!(
            fix_summary(&f),
            "Fixed 3 findings in 1 file; 3 findings remain (1 fixable with `--unsafe-fixes`)."
        );
    }
}
