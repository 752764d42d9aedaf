//! The `full` format: rustc-style diagnostics (annotate-snippets) with the source line(s), the
//! rule code, the service, the registry key and value, and the fix with its applicability.
//!
//! ```text
//! error[SVC001]: captured security descriptor for service `SYMEVENT`
//!   --> setup.ipf:14:3
//!    |
//! 14 |   Value Name=Security
//!    |   ^^^^^^^^^^^^^^^^^^^ service-security-descriptor
//!    |
//!    = note: service: SYMEVENT
//!    = note: key: HKLM\System\CurrentControlSet\Services\SYMEVENT\Security
//!    = note: value: Security
//!    = help: remove the captured security descriptor (safe fix)
//! ```
//!
//! A display-only fix (never applied) is shown as a `help:` section with its edits as removed
//! and added lines, for the user to make by hand. Text from the file (source lines, service,
//! key and value names) is sanitised: control characters are shown as symbols, never sent to
//! the terminal.

use std::borrow::Cow;
use std::io::{self, Write};

use annotate_snippets::{
    AnnotationKind, Group, Level, Patch, Renderer, Snippet, normalize_untrusted_str,
};

use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Applicability, Fix};
use crate::source::{SourceFile, to_display};
use crate::text::{LineIndex, TextRange};

/// How to render.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FullOptions {
    /// ANSI colours (only for a terminal).
    pub color: bool,
    /// `--unsafe-fixes` is on: unsafe fixes are applied, so their note drops the hint.
    pub unsafe_fixes: bool,
}

/// Writes every diagnostic of one file, each followed by a blank line, in order of position.
/// Builds the file's line index once.
pub fn render(
    out: &mut dyn Write,
    source: &SourceFile,
    diagnostics: &[Diagnostic],
    options: &FullOptions,
) -> io::Result<()> {
    if diagnostics.is_empty() {
        return Ok(());
    }
    let renderer = if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let index = source.line_index();
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by_key(|d| (d.range.start, d.range.end, d.code));
    for diagnostic in sorted {
        let text = render_one(&renderer, source, &index, diagnostic, options);
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n\n")?;
    }
    Ok(())
}

/// The help line for a fix: its title and applicability.
pub fn fix_help(fix: &Fix, unsafe_fixes: bool) -> String {
    let how = match fix.applicability {
        Applicability::Safe => "safe fix",
        Applicability::Unsafe if unsafe_fixes => "unsafe fix",
        Applicability::Unsafe => "unsafe fix, use --unsafe-fixes",
        Applicability::DisplayOnly => "display-only",
    };
    format!("{} ({how})", fix.title)
}

/// A value name as people read it: regedit shows the default value as `(Default)`.
pub fn value_label(name: &str) -> &str {
    if name.is_empty() { "(Default)" } else { name }
}

fn render_one(
    renderer: &Renderer,
    source: &SourceFile,
    index: &LineIndex,
    diagnostic: &Diagnostic,
    options: &FullOptions,
) -> String {
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let range = trim_terminator(source.text(), diagnostic.range);
    let excerpt = Excerpt::new(source, index, range.start, range.end);
    let span = excerpt.map(range.start)..excerpt.map(range.end);
    let snippet = Snippet::source(excerpt.text)
        .line_start(excerpt.first_line)
        .path(source.path.as_str())
        .annotation(AnnotationKind::Primary.span(span).label(diagnostic.name));

    let mut notes = Vec::new();
    if let Some(service) = &diagnostic.service {
        notes.push(Level::NOTE.message(format!("service: {}", untrusted(service))));
    }
    if !diagnostic.registry_key.is_empty() {
        notes.push(Level::NOTE.message(format!("key: {}", untrusted(&diagnostic.registry_key))));
    }
    if let Some(value) = &diagnostic.value_name {
        notes.push(Level::NOTE.message(format!("value: {}", untrusted(value_label(value)))));
    }
    // A display-only fix is never applied: show its edits as a suggestion to make by hand.
    let suggestion = diagnostic
        .fix
        .as_ref()
        .filter(|fix| fix.applicability == Applicability::DisplayOnly && !fix.edits.is_empty());
    if let Some(fix) = &diagnostic.fix {
        if suggestion.is_none() {
            notes.push(Level::HELP.message(untrusted(&fix_help(fix, options.unsafe_fixes))));
        }
    }

    // The title is sanitised by annotate-snippets, except for C1 controls.
    let title = level
        .primary_title(strip_c1(&diagnostic.message).into_owned())
        .id(diagnostic.code);
    let mut report = vec![Group::with_title(title).element(snippet).elements(notes)];
    if let Some(fix) = suggestion {
        report.push(suggestion_group(source, index, fix, options));
    }
    renderer.render(&report)
}

/// `help: TITLE (display-only)` with the edits shown as a patch of the source.
fn suggestion_group<'a>(
    source: &'a SourceFile,
    index: &LineIndex,
    fix: &Fix,
    options: &FullOptions,
) -> Group<'a> {
    let text = source.text();
    let clamp = |at: usize| at.min(text.len());
    let first = fix
        .edits
        .iter()
        .map(|e| clamp(e.range.start))
        .min()
        .unwrap_or(0);
    let last = fix
        .edits
        .iter()
        .map(|e| clamp(e.range.end))
        .max()
        .unwrap_or(0);
    let excerpt = Excerpt::new(source, index, first, last);
    let patches: Vec<Patch<'a>> = fix
        .edits
        .iter()
        .map(|edit| {
            let start = clamp(edit.range.start);
            let end = clamp(edit.range.end).max(start);
            let mut replacement = display_lines(&to_display(source.encoding, &edit.content));
            let (from, mut to) = (excerpt.map(start), excerpt.map(end));
            // A replaced line with its terminator: leave the shared line break out, so the
            // patch shows one changed line rather than a changed line and a removed one.
            if to > from && excerpt.text[..to].ends_with('\n') && replacement.ends_with('\n') {
                to -= 1;
                replacement.pop();
            }
            Patch::new(from..to, replacement)
        })
        .collect();
    let title = untrusted(&fix_help(fix, options.unsafe_fixes));
    Group::with_title(Level::HELP.secondary_title(title)).element(
        Snippet::source(excerpt.text)
            .line_start(excerpt.first_line)
            .path(source.path.as_str())
            .patches(patches),
    )
}

/// A range of whole lines ends after a terminator: point at the end of the last line instead.
fn trim_terminator(text: &[u8], range: TextRange) -> TextRange {
    let start = range.start.min(text.len());
    let mut end = range.end.clamp(start, text.len());
    if end > start && text[end - 1] == b'\n' {
        end -= 1;
    }
    if end > start && text[end - 1] == b'\r' {
        end -= 1;
    }
    TextRange::new(start, end)
}

/// Text from the file shown in a message element (which annotate-snippets does not sanitise).
fn untrusted(text: &str) -> String {
    normalize_untrusted_str(&strip_c1(text))
}

/// C1 control characters (which Windows-1252 decoding yields for 0x81, 0x8D, …) could drive a
/// terminal; show them as replacement characters.
fn strip_c1(text: &str) -> Cow<'_, str> {
    let is_c1 = |c: char| ('\u{80}'..='\u{9f}').contains(&c);
    if text.chars().any(is_c1) {
        Cow::Owned(
            text.chars()
                .map(|c| if is_c1(c) { '\u{fffd}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// Replacement text with every line ending as `\n`, as the excerpt's lines are joined.
fn display_lines(text: &str) -> String {
    strip_c1(&text.replace("\r\n", "\n").replace('\r', "\n")).into_owned()
}

/// The lines from the one holding `start` to the one holding `end`, as display text joined
/// with `\n`, and the way back from working-text offsets to offsets in that text.
struct Excerpt {
    text: String,
    first_line: usize,
    /// Per line: (start in the working text, end of its content, start in `text`,
    /// display length of its content).
    lines: Vec<(usize, usize, usize, usize)>,
    source_encoding: crate::source::Encoding,
    /// The working text's bytes of the excerpt's lines, for prefix lengths.
    raw: Vec<u8>,
    raw_start: usize,
}

impl Excerpt {
    fn new(source: &SourceFile, index: &LineIndex, start: usize, end: usize) -> Self {
        let text = source.text();
        let first_line = index.line_col(text, start).line;
        let last_line = index.line_col(text, end).line.max(first_line);
        let mut out = String::new();
        let mut lines = Vec::new();
        for line in first_line..=last_line {
            let Some(range) = index.line_range(text, line) else {
                break;
            };
            if line > first_line {
                out.push('\n');
            }
            let base = out.len();
            out.push_str(&strip_c1(&to_display(source.encoding, range.slice(text))));
            lines.push((range.start, range.end, base, out.len() - base));
        }
        let raw_start = lines.first().map_or(0, |l| l.0);
        let raw_end = lines.last().map_or(0, |l| l.1);
        Excerpt {
            text: out,
            first_line,
            lines,
            source_encoding: source.encoding,
            raw: text[raw_start..raw_end.max(raw_start)].to_vec(),
            raw_start,
        }
    }

    /// The offset in the excerpt's text of a working-text offset. Offsets inside a line
    /// terminator map to the end of the line's content; offsets outside the excerpt are clamped.
    fn map(&self, at: usize) -> usize {
        let k = self.lines.partition_point(|l| l.0 <= at).saturating_sub(1);
        let Some(&(line_start, content_end, base, len)) = self.lines.get(k) else {
            return 0;
        };
        if at <= line_start {
            return base;
        }
        if at >= content_end {
            return base + len;
        }
        let prefix = &self.raw[line_start - self.raw_start..at - self.raw_start];
        base + strip_c1(&to_display(self.source_encoding, prefix)).len()
    }
}
