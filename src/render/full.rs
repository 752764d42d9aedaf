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
//! A finding in a database, which has no lines, names its table, row and column instead of a
//! source line (`--> pkg.msi: Registry/reg1A2B/Value`).
//!
//! A display-only fix (never applied) is shown as a `help:` section with its edits as removed
//! and added lines, for the user to make by hand. Text from the file (source lines, service,
//! key and value names) is sanitised: control characters are shown as symbols, never sent to
//! the terminal.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use annotate_snippets::{
    AnnotationKind, Group, Level, Origin, Patch, Renderer, Snippet, normalize_untrusted_str,
};

use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::{Applicability, Fix};
use crate::pieces::REPORT_CHUNK;
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
    for chunk in render_chunks(source, diagnostics, options) {
        out.write_all(chunk.as_bytes())?;
    }
    Ok(())
}

/// What [`render`] writes, in pieces that concatenate to it: a file with thousands of
/// findings renders in chunks on the pool, and a caller that holds the report before writing
/// it keeps the chunks rather than copying them into one buffer.
pub fn render_chunks(
    source: &SourceFile,
    diagnostics: &[Diagnostic],
    options: &FullOptions,
) -> Vec<String> {
    if diagnostics.is_empty() {
        return Vec::new();
    }
    let renderer = if options.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let index = source.line_index();
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by_key(|d| (d.range.start, d.range.end, d.code));
    let render_chunk = |chunk: &[&Diagnostic]| {
        let mut text = String::new();
        for diagnostic in chunk {
            text.push_str(&render_one(&renderer, source, index, diagnostic, options));
            text.push_str("\n\n");
        }
        text
    };
    if sorted.len() >= 2 * REPORT_CHUNK {
        use rayon::prelude::*;
        sorted.par_chunks(REPORT_CHUNK).map(render_chunk).collect()
    } else {
        vec![render_chunk(&sorted)]
    }
}

/// The help line for a fix: its title and applicability.
pub fn fix_help(fix: &Fix, unsafe_fixes: bool) -> String {
    let how = match fix.applicability {
        Applicability::Safe => "safe fix",
        Applicability::Unsafe if unsafe_fixes => "unsafe fix",
        Applicability::Unsafe => "unsafe fix, use --unsafe-fixes",
        Applicability::DisplayOnly => "display-only",
    };
    [&fix.title, " (", how, ")"].concat()
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
    render_diagnostic(renderer, source, index, diagnostic, options, true)
}

/// Renders one diagnostic; `fast` allows [`render_simple`] for the common shape.
fn render_diagnostic(
    renderer: &Renderer,
    source: &SourceFile,
    index: &LineIndex,
    diagnostic: &Diagnostic,
    options: &FullOptions,
    fast: bool,
) -> String {
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let range = trim_terminator(source.text(), diagnostic.range);

    // (is a help, text) of each note line, sanitised.
    let mut notes: Vec<(bool, String)> = Vec::new();
    if let Some(service) = &diagnostic.service {
        notes.push((false, ["service: ", &untrusted(service)].concat()));
    }
    if !diagnostic.registry_key.is_empty() {
        notes.push((
            false,
            ["key: ", &untrusted(&diagnostic.registry_key)].concat(),
        ));
    }
    if let Some(value) = &diagnostic.value_name {
        notes.push((false, ["value: ", &untrusted(value_label(value))].concat()));
    }
    // A display-only fix is never applied: show its edits as a suggestion to make by hand.
    let suggestion = diagnostic
        .fix
        .as_ref()
        .filter(|fix| fix.applicability == Applicability::DisplayOnly && !fix.edits.is_empty());
    if let Some(fix) = &diagnostic.fix {
        if suggestion.is_none() {
            notes.push((
                true,
                untrusted(&fix_help(fix, options.unsafe_fixes)).into_owned(),
            ));
        }
    }

    if let Some(row) = source.row_of(diagnostic.range) {
        // A database has no lines to show: the origin names its table, row and column.
        let notes: Vec<_> = notes
            .into_iter()
            .map(|(help, text)| {
                if help {
                    Level::HELP.message(text)
                } else {
                    Level::NOTE.message(text)
                }
            })
            .collect();
        let title = level
            .primary_title(strip_c1(&diagnostic.message).into_owned())
            .id(diagnostic.code);
        let origin = Origin::path(format!("{}: {row}", source.path));
        return renderer.render(&[Group::with_title(title).element(origin).elements(notes)]);
    }

    if fast && !options.color && suggestion.is_none() {
        if let Some(text) = render_simple(source, index, diagnostic, range, &notes) {
            return text;
        }
    }

    let excerpt = Excerpt::new(source, index, range.start, range.end);
    let span = excerpt.map(range.start)..excerpt.map(range.end);
    let snippet = Snippet::source(excerpt.text)
        .line_start(excerpt.first_line)
        .path(source.path.as_str())
        .annotation(AnnotationKind::Primary.span(span).label(diagnostic.name));
    let notes: Vec<_> = notes
        .into_iter()
        .map(|(help, text)| {
            if help {
                Level::HELP.message(text)
            } else {
                Level::NOTE.message(text)
            }
        })
        .collect();

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

/// Appends `n` spaces or carets, up to 64 at a time.
fn repeat(out: &mut String, c: u8, n: usize) {
    const SPACES: &str = "                                                                ";
    const CARETS: &str = "^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^";
    let run = if c == b'^' { CARETS } else { SPACES };
    let mut left = n;
    while left > 0 {
        let take = left.min(run.len());
        out.push_str(&run[..take]);
        left -= take;
    }
}

/// Printable ASCII (`' '..='~'`): text that annotate-snippets shows unchanged, one column per
/// byte, whatever the file's encoding.
fn is_plain(text: &[u8]) -> bool {
    text.iter().all(|&b| (b' '..=b'~').contains(&b))
}

/// The common shape written directly, byte for byte what annotate-snippets writes for it (a
/// test renders thousands of cases both ways): no colour, a non-empty span inside one line,
/// and plain text everywhere (line, message, path, label, notes), a line short enough not to
/// be cut to the terminal width and with little indentation. annotate-snippets lays out any
/// report on a grid of styled characters, which costs about 200 000 instructions per
/// diagnostic; this costs a few hundred. `None` for anything else.
fn render_simple(
    source: &SourceFile,
    index: &LineIndex,
    diagnostic: &Diagnostic,
    range: TextRange,
    notes: &[(bool, String)],
) -> Option<String> {
    /// annotate-snippets' default terminal width, and leading blanks it never trims.
    const WIDTH: usize = annotate_snippets::renderer::DEFAULT_TERM_WIDTH;
    const MAX_INDENT: usize = 20;
    let text = source.text();
    if range.is_empty() {
        return None;
    }
    let (at, line) = index.line_at(text, range.start);
    let code = line.slice(text);
    let indent = code.iter().take_while(|&&b| b == b' ').count();
    let number = at.line.to_string();
    if range.end > line.end
        || indent > MAX_INDENT
        || indent == code.len()
        || code.len() + number.len() + 3 > WIDTH
        || !is_plain(code)
        || !is_plain(diagnostic.message.as_bytes())
        || !is_plain(source.path.as_bytes())
        || !is_plain(diagnostic.name.as_bytes())
        || !notes.iter().all(|(_, n)| is_plain(n.as_bytes()))
    {
        return None;
    }
    let column = range.start - line.start;
    let level = match diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let notes_len: usize = notes.iter().map(|(_, n)| n.len() + 16).sum();
    let mut out = String::with_capacity(
        128 + diagnostic.message.len() + source.path.len() + 2 * code.len() + notes_len,
    );
    let pad = |out: &mut String, n: usize| repeat(out, b' ', n);
    // `level[code]: message`, then `--> path:line:column` under the gutter.
    for part in [
        level,
        "[",
        diagnostic.code,
        "]: ",
        &diagnostic.message,
        "\n",
    ] {
        out.push_str(part);
    }
    pad(&mut out, number.len());
    for part in ["--> ", &source.path, ":", &number, ":"] {
        out.push_str(part);
    }
    let _ = write!(out, "{}", column + 1);
    out.push('\n');
    pad(&mut out, number.len());
    out.push_str(" |\n");
    out.push_str(&number);
    out.push_str(" | ");
    // Plain ASCII: the bytes are the text.
    out.push_str(std::str::from_utf8(code).ok()?);
    out.push('\n');
    pad(&mut out, number.len());
    out.push_str(" | ");
    pad(&mut out, column);
    repeat(&mut out, b'^', range.len());
    out.push(' ');
    out.push_str(diagnostic.name);
    if !notes.is_empty() {
        out.push('\n');
        pad(&mut out, number.len());
        out.push_str(" |");
        for (help, note) in notes {
            out.push('\n');
            pad(&mut out, number.len());
            out.push_str(if *help { " = help: " } else { " = note: " });
            out.push_str(note);
        }
    }
    Some(out)
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
    let title = untrusted(&fix_help(fix, options.unsafe_fixes)).into_owned();
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
fn untrusted(text: &str) -> Cow<'_, str> {
    if is_plain(text.as_bytes()) {
        // Nothing to replace (the common case; the replacement looks up every character).
        return Cow::Borrowed(text);
    }
    Cow::Owned(normalize_untrusted_str(&strip_c1(text)))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift).
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// The direct rendering of the common shape equals annotate-snippets' rendering: lines of
    /// every width around the terminal-width cut, indentation around the trimming threshold,
    /// line numbers of 1 to 5 digits, spans anywhere in the line, trailing blanks, long
    /// messages, zero to four notes; and shapes it must refuse (tabs, 8-bit and control
    /// bytes, empty spans, spans over two lines) fall back to annotate-snippets.
    #[test]
    fn direct_rendering_matches_annotate_snippets() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let alphabet: &[u8] = b"abcXYZ019 =\\_-.{}%\"'";
        let renderer = Renderer::plain();
        let options = FullOptions::default();
        let (mut fast, mut cases) = (0, 0);
        for round in 0..3000 {
            // A file whose interesting line is number `line` (1-based).
            let line = [1, 2, 9, 10, 11, 99, 100, 999, 1000, 12345][rng.below(10)];
            let indent = rng.below(32);
            // Often near the terminal-width cut (140 columns with the gutter).
            let body = if rng.below(3) == 0 {
                100 + rng.below(40)
            } else {
                rng.below(60)
            };
            let mut content: Vec<u8> = std::iter::repeat_n(b' ', indent)
                .chain((0..body).map(|_| alphabet[rng.below(alphabet.len())]))
                .collect();
            match rng.below(12) {
                0 => content.push(b'\t'),
                1 => content.push(0xE9),
                2 => content.push(0x07),
                3 => content.extend_from_slice(b"   "),
                _ => {}
            }
            let eol: &[u8] = if round % 2 == 0 { b"\r\n" } else { b"\n" };
            let mut text = Vec::new();
            for _ in 1..line {
                text.extend_from_slice(b"x=1");
                text.extend_from_slice(eol);
            }
            let line_start = text.len();
            text.extend_from_slice(&content);
            text.extend_from_slice(eol);
            text.extend_from_slice(b"next=line");
            text.extend_from_slice(eol);
            let start = line_start + rng.below(content.len() + 1);
            let end = match rng.below(10) {
                // Through the terminator, or into the next line.
                0 => line_start + content.len() + eol.len(),
                1 => line_start + content.len() + eol.len() + 4,
                2 => start,
                _ => start + rng.below(line_start + content.len() - start + 1),
            };
            let message_len = rng.below(200);
            let message: String = (0..message_len)
                .map(|_| alphabet[rng.below(alphabet.len())] as char)
                .collect();
            let encoding = rng.below(3);
            let raw = match encoding {
                0 => text.clone(),
                1 => [b"\xEF\xBB\xBF".as_slice(), &text].concat(),
                _ => {
                    let mut raw = b"\xFF\xFE".to_vec();
                    let utf8 = String::from_utf8_lossy(&text).into_owned();
                    raw.extend(utf8.encode_utf16().flat_map(u16::to_le_bytes));
                    raw
                }
            };
            let source = SourceFile::new("dir/file.wse", raw).unwrap();
            let notes = rng.below(5);
            let diagnostic = Diagnostic {
                code: "SVC010",
                name: ["redundant-service-value", "control-set-copy", "x"][rng.below(3)],
                severity: if rng.below(2) == 0 {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                message,
                range: TextRange::new(start, end.max(start)),
                service: (notes > 0).then(|| "Svc1".to_string()),
                registry_key: if notes > 1 {
                    "HKLM\\SYSTEM\\CurrentControlSet\\Services\\Svc1".to_string()
                } else {
                    String::new()
                },
                value_name: (notes > 2).then(|| ["Type", ""][rng.below(2)].to_string()),
                fix: (notes > 3).then(|| {
                    Box::new(Fix {
                        applicability: Applicability::Safe,
                        title: "remove the write".into(),
                        edits: vec![],
                    })
                }),
            };
            let index = source.line_index();
            let slow = render_diagnostic(&renderer, &source, index, &diagnostic, &options, false);
            let direct = render_diagnostic(&renderer, &source, index, &diagnostic, &options, true);
            assert_eq!(direct, slow, "case {round}: {diagnostic:?}");
            let range = trim_terminator(source.text(), diagnostic.range);
            let mut sanitized = Vec::new();
            if diagnostic.service.is_some() {
                sanitized.push((false, "n".to_string()));
            }
            cases += 1;
            fast += usize::from(
                render_simple(&source, index, &diagnostic, range, &sanitized).is_some(),
            );
        }
        // Most cases take the direct path, so the comparison means something.
        assert!(fast * 4 > cases, "{fast} of {cases} rendered directly");
    }

    /// A report long enough to render in chunks on the pool comes out in the same order, byte
    /// for byte, as one diagnostic after another; unsorted input is sorted first.
    #[test]
    fn chunked_report_equals_sequential_rendering() {
        let count = 2 * REPORT_CHUNK + 37;
        let mut text = Vec::new();
        let mut diagnostics = Vec::new();
        for i in 0..count {
            let start = text.len();
            text.extend_from_slice(format!("  Value Name=Security{i}\r\n").as_bytes());
            diagnostics.push(Diagnostic {
                code: "SVC001",
                name: "service-security-descriptor",
                severity: Severity::Error,
                message: format!("finding {i}"),
                range: TextRange::new(start + 2, text.len() - 2),
                service: Some(format!("Svc{i}")),
                registry_key: String::new(),
                value_name: None,
                fix: None,
            });
        }
        diagnostics.reverse();
        let source = SourceFile::new("many.ipf", text).unwrap();
        let options = FullOptions::default();
        let mut chunked = Vec::new();
        render(&mut chunked, &source, &diagnostics, &options).unwrap();

        let index = source.line_index();
        let mut sequential = String::new();
        for diagnostic in diagnostics.iter().rev() {
            let one = render_one(&Renderer::plain(), &source, index, diagnostic, &options);
            sequential.push_str(&one);
            sequential.push_str("\n\n");
        }
        assert_eq!(String::from_utf8(chunked).unwrap(), sequential);
        assert!(sequential.contains(&format!("finding {}", count - 1)));
    }
}
