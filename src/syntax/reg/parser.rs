//! The `.reg` parsers: one nom (`::complete`) parser per logical line over plain byte slices,
//! and an outer loop over physical lines that never fails once the header is found.
//!
//! Each function is named in `grammar/reg.ebnf`. Offsets are computed from how much of a
//! line a parser consumed (`Line::at`), so no location-tracking input type is needed. The
//! outer loop does all cross-line work (hex continuations, raw-newline strings) with a cursor
//! that only moves forward, except for giving back trailing blank/comment lines once, so the
//! whole parse is linear in the input.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while_m_n};
use nom::character::complete::{char, space0};
use nom::combinator::{eof, opt, recognize, rest, value};
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

use super::values::hex_value;
use super::{
    Blocks, Header, HexKind, KeyLine, Record, RecordKind, Records, RegFile, ValueData, ValueName,
    ValueRecord,
};
use crate::detect::{REG4_HEADER, REG5_HEADER, RegVersion};
use crate::syntax::SyntaxError;
use crate::text::TextRange;

/// Parsers carry no error detail: a line that does not match is junk or invalid data.
type PResult<'a, O> = IResult<&'a [u8], O, ()>;

fn fail<T>() -> Result<T, nom::Err<()>> {
    Err(nom::Err::Error(()))
}

fn is_hex_digit(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Number of leading spaces and tabs.
fn blank_len(s: &[u8]) -> usize {
    s.iter().take_while(|&&b| is_blank(b)).count()
}

/// One physical line of the working text.
#[derive(Clone, Copy, Debug)]
struct Line<'a> {
    /// The line without its terminator.
    content: TextRange,
    /// Offset just after the terminator.
    end: usize,
    bytes: &'a [u8],
}

impl Line<'_> {
    /// The offset of a suffix `rest` of this line's bytes.
    fn at(&self, rest: &[u8]) -> usize {
        self.content.end - rest.len().min(self.content.len())
    }

    fn full(&self) -> TextRange {
        TextRange::new(self.content.start, self.end)
    }
}

/// Walks physical lines up to `limit` (a line start); a line ends after `\r\n`, `\n` or a
/// lone `\r`.
#[derive(Clone, Debug)]
struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
    limit: usize,
}

impl<'a> Cursor<'a> {
    /// Whether the cursor stands at the end of a piece of the text, not of the text: a value
    /// that looks further would read on into the next piece.
    fn at_piece_end(&self) -> bool {
        self.pos >= self.limit && self.limit < self.text.len()
    }

    fn next_line(&mut self) -> Option<Line<'a>> {
        let text = self.text;
        let start = self.pos;
        let tail = text.get(start..self.limit).filter(|t| !t.is_empty())?;
        let (content_end, end) = match memchr::memchr2(b'\n', b'\r', tail) {
            Some(rel) => {
                let at = start + rel;
                if text[at] == b'\r' && text.get(at + 1) == Some(&b'\n') {
                    (at, at + 2)
                } else {
                    (at, at + 1)
                }
            }
            None => (self.limit, self.limit),
        };
        self.pos = end;
        Some(Line {
            content: TextRange::new(start, content_end),
            end,
            bytes: &text[start..content_end],
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Single-line parsers
// ---------------------------------------------------------------------------------------------

/// `comment = ";" , { any } ;`
fn comment(i: &[u8]) -> PResult<'_, &[u8]> {
    recognize(preceded(char(';'), rest)).parse(i)
}

/// `trailer = { blank } , [ comment ] ;` — all that may follow a header or value data.
fn trailer(i: &[u8]) -> PResult<'_, ()> {
    let (i, _) = space0(i)?;
    let (i, _) = opt(comment).parse(i)?;
    let (i, _) = eof(i)?;
    Ok((i, ()))
}

/// `header-line = { blank } , header-name , trailer ;` → the header name and version.
fn header_line(i: &[u8]) -> PResult<'_, (&[u8], RegVersion)> {
    let (i, _) = space0(i)?;
    let (after, version) = alt((
        value(RegVersion::Regedit5, tag(REG5_HEADER)),
        value(RegVersion::Regedit4, tag(REG4_HEADER)),
    ))
    .parse(i)?;
    let name = &i[..i.len() - after.len()];
    let (after, ()) = trailer(after)?;
    Ok((after, (name, version)))
}

/// The pieces of a key line, as sub-slices of the line.
struct KeyParts<'a> {
    delete: bool,
    name: &'a [u8],
    trailer: &'a [u8],
}

/// `key-line = { blank } , "[" , [ "-" ] , key-path , "]" , key-trailer ;` where the path runs
/// to the LAST `]` on the line and does not start with a blank.
fn key_line(i: &[u8]) -> PResult<'_, KeyParts<'_>> {
    let (i, _) = space0(i)?;
    let (i, _) = char('[')(i)?;
    // Regedit ignores `[ name]`: a blank right after `[` makes the line junk, and the values
    // after it stay with the previous key.
    if i.first().copied().is_some_and(is_blank) {
        return fail();
    }
    let (i, dash) = opt(char('-')).parse(i)?;
    let Some(close) = memchr::memrchr(b']', i) else {
        return fail();
    };
    let parts = KeyParts {
        delete: dash.is_some(),
        name: &i[..close],
        trailer: &i[close + 1..],
    };
    Ok((&i[i.len()..], parts))
}

/// Scans a quoted string whose opening `"` is `i[0]`: the length up to and including the
/// closing quote, and whether `\` escapes occur. `None` when the line ends first.
fn scan_quoted(i: &[u8]) -> Option<(usize, bool)> {
    let mut j = 1;
    let mut escaped = false;
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', i.get(j..)?)?;
        if i[k] == b'"' {
            return Some((k + 1, escaped));
        }
        escaped = true;
        j = k + 2;
    }
}

/// `quoted = '"' , { char - ( '"' | "\" ) | "\" , char } , '"' ;`
fn quoted(i: &[u8]) -> PResult<'_, (&[u8], bool)> {
    let (_, _) = char('"')(i)?;
    match scan_quoted(i) {
        Some((len, escaped)) => Ok((&i[len..], (&i[..len], escaped))),
        None => fail(),
    }
}

/// `value-name = "@" | quoted ;`
fn value_name(i: &[u8]) -> PResult<'_, (&[u8], bool)> {
    alt((tag(&b"@"[..]).map(|at| (at, false)), quoted)).parse(i)
}

/// `value-head = { blank } , value-name , { blank } , "=" , { blank } ;`
fn value_head(i: &[u8]) -> PResult<'_, (&[u8], bool)> {
    let (i, _) = space0(i)?;
    let (i, name) = value_name(i)?;
    let (i, _) = delimited(space0, char('='), space0).parse(i)?;
    Ok((i, name))
}

/// `delete-data = "-" ;`
fn delete_data(i: &[u8]) -> PResult<'_, &[u8]> {
    tag(&b"-"[..])(i)
}

/// `dword-data = "dword:" , { blank } , hex-digit , 7 * [ hex-digit ] ;` → (data, digits).
fn dword_data(i: &[u8]) -> PResult<'_, (&[u8], &[u8])> {
    let (j, _) = tag(&b"dword:"[..])(i)?;
    let (j, _) = space0(j)?;
    let (after, digits) = take_while_m_n(1, 8, is_hex_digit)(j)?;
    Ok((after, (&i[..i.len() - after.len()], digits)))
}

/// `hex-head = "hex" , [ "(" , hex-digit , 7 * [ hex-digit ] , ")" ] , ":" ;`
fn hex_head(i: &[u8]) -> PResult<'_, HexKind> {
    let (i, _) = tag(&b"hex"[..])(i)?;
    let (i, kind) = opt(delimited(
        char('('),
        take_while_m_n(1, 8, is_hex_digit),
        char(')'),
    ))
    .parse(i)?;
    let (i, _) = char(':')(i)?;
    let kind = match kind {
        None => HexKind::Binary,
        Some(digits) => HexKind::Typed(digits.iter().fold(0u32, |n, &d| {
            (n << 4) | u32::from(hex_value(d).unwrap_or(0))
        })),
    };
    Ok((i, kind))
}

/// How one line of hex bytes ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HexEnd {
    /// End of line or a `;` comment: the data is complete.
    Done,
    /// A `\` where a byte could start: the data continues on the next real line.
    Continue,
    /// Anything else: regedit drops the value.
    Bad,
}

/// The result of scanning one line's hex bytes.
#[derive(Clone, Copy, Debug)]
struct HexScan {
    end: HexEnd,
    count: usize,
    /// Bytes of the input that belong to the data (up to the last byte, comma or `\`).
    data_len: usize,
}

/// `hex-bytes = { blank } , [ hex-byte , { "," , { blank } , hex-byte } ] , [ "," ] ,
/// ( hex-end | continuation ) ;` for one physical line, following regedit: bytes of one or
/// two digits, no blank between a byte and its comma, a trailing comma is allowed, and `\`
/// where a byte could start continues the data on the next line (only blanks or a comment may
/// follow it). This is the hot loop of large exports, so it is written by hand over the bytes
/// with a fast path for regedit's own `xx,` runs.
fn hex_bytes(i: &[u8]) -> HexScan {
    let mut pos = 0;
    let mut count = 0;
    let mut data_len = 0;
    let end = loop {
        // Fast path: `xx,` as regedit writes it.
        while let Some(&[a, b, b',']) = i.get(pos..pos + 3) {
            if !(is_hex_digit(a) && is_hex_digit(b)) {
                break;
            }
            pos += 3;
            count += 1;
        }
        data_len = data_len.max(pos);
        pos += blank_len(&i[pos..]);
        let digits = i[pos..]
            .iter()
            .take(2)
            .take_while(|&&b| is_hex_digit(b))
            .count();
        if digits > 0 {
            count += 1;
            pos += digits;
            data_len = pos;
            if i.get(pos) == Some(&b',') {
                pos += 1;
                data_len = pos;
                continue;
            }
            pos += blank_len(&i[pos..]);
            break match i.get(pos) {
                None | Some(b';') => HexEnd::Done,
                Some(_) => HexEnd::Bad,
            };
        }
        break match i.get(pos) {
            None | Some(b';') => HexEnd::Done,
            Some(b'\\') if trailer(&i[pos + 1..]).is_ok() => {
                data_len = pos + 1;
                HexEnd::Continue
            }
            Some(_) => HexEnd::Bad,
        };
    };
    HexScan {
        end,
        count,
        data_len,
    }
}

/// What the data of a value line turned out to be, before any cross-line work.
enum LineData {
    Done(ValueData),
    /// Hex data ending in `\`: continuation lines follow.
    HexContinues {
        start: usize,
        kind: HexKind,
        bytes_start: usize,
        bytes_end: usize,
        count: usize,
    },
    /// A quoted string with no closing quote on this line, opening at `start`.
    OpenString {
        start: usize,
    },
}

/// `value-line = value-head , value-data , trailer ;` → the name and the data.
/// `None` when the line is not `name=` at all (junk).
fn value_line(line: &Line<'_>) -> Option<(ValueName, LineData)> {
    let (data, (name, escaped)) = value_head(line.bytes).ok()?;
    // The name is the first non-blank token of the line.
    let name_start = line.content.start + blank_len(line.bytes);
    let name = ValueName {
        range: TextRange::new(name_start, name_start + name.len()),
        escaped,
    };
    let start = line.at(data);
    let invalid = LineData::Done(ValueData::Invalid {
        range: TextRange::new(start, line.content.end),
    });
    let result = if let Ok((after, dash)) = delete_data(data) {
        match trailer(after) {
            Ok(_) => LineData::Done(ValueData::Delete {
                range: TextRange::new(start, start + dash.len()),
            }),
            Err(_) => invalid,
        }
    } else if data.first() == Some(&b'"') {
        match quoted(data) {
            Ok((after, (s, escaped))) => match trailer(after) {
                Ok(_) => LineData::Done(ValueData::String {
                    range: TextRange::new(start, start + s.len()),
                    escaped,
                }),
                Err(_) => invalid,
            },
            Err(_) => LineData::OpenString { start },
        }
    } else if let Ok((after, (whole, digits))) = dword_data(data) {
        match trailer(after) {
            Ok(_) => {
                let digits_start = line.at(after) - digits.len();
                LineData::Done(ValueData::Dword {
                    range: TextRange::new(start, start + whole.len()),
                    digits: TextRange::new(digits_start, digits_start + digits.len()),
                })
            }
            Err(_) => invalid,
        }
    } else if let Ok((bytes, kind)) = hex_head(data) {
        let bytes_start = line.at(bytes);
        let scan = hex_bytes(bytes);
        let bytes_end = bytes_start + scan.data_len;
        match scan.end {
            HexEnd::Done => LineData::Done(ValueData::Hex {
                range: TextRange::new(start, bytes_end),
                kind,
                bytes: TextRange::new(bytes_start, bytes_end),
                count: scan.count,
            }),
            HexEnd::Continue => LineData::HexContinues {
                start,
                kind,
                bytes_start,
                bytes_end,
                count: scan.count,
            },
            HexEnd::Bad => invalid,
        }
    } else {
        invalid
    };
    Some((name, result))
}

/// The position just after the first unescaped `"` of a line inside an open string.
fn find_closing_quote(bytes: &[u8]) -> Option<usize> {
    let mut j = 0;
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', bytes.get(j..)?)?;
        if bytes[k] == b'"' {
            return Some(k + 1);
        }
        j = k + 2;
    }
}

// ---------------------------------------------------------------------------------------------
// The outer loop
// ---------------------------------------------------------------------------------------------

/// Builds the tree. Fails only without a header on the first line.
///
/// A large text is parsed in pieces on the current rayon pool: the pieces start at key lines
/// in column 0, where the outer loop holds no state but whether the preamble is over (it is,
/// after a key line), so their trees join into the tree of the whole. A piece whose last value
/// would read on past its end (hex data continued with `\`, a string left open) cannot be
/// judged alone: then the whole text is parsed in one piece.
pub(super) fn parse_file(text: &[u8], _version: RegVersion) -> Result<RegFile, SyntaxError> {
    if u32::try_from(text.len()).is_err() {
        return Err(too_large());
    }
    let mut cursor = Cursor {
        text,
        pos: 0,
        limit: text.len(),
    };
    let Some(first) = cursor.next_line() else {
        return Err(SyntaxError::new(0, "empty file: expected a regedit header"));
    };
    let Ok((_, (name, version))) = header_line(first.bytes) else {
        return Err(SyntaxError::new(
            0,
            "expected `Windows Registry Editor Version 5.00` or `REGEDIT4` on the first line",
        ));
    };
    let name_start = first.at(&first.bytes[blank_len(first.bytes)..]);
    let header = Header {
        line: first.content,
        range: first.full(),
        name: TextRange::new(name_start, name_start + name.len()),
    };
    let parsed = split_points(text, first.end).and_then(|points| parse_pieces(text, &points));
    let Piece {
        records,
        mut blocks,
        preamble_end,
        ..
    } = match parsed {
        Some(piece) => piece,
        None => body(text, first.end, text.len())?,
    };
    blocks.close(records.len(), text.len());
    Ok(RegFile {
        version,
        header,
        preamble_end: preamble_end.unwrap_or(records.len()),
        records,
        blocks,
        len: text.len(),
    })
}

/// The tree of the lines from `from` to `to` (line starts; `to` the end of the text or the
/// start of a key line) and whether its last value would read on past `to`.
struct Piece {
    records: Records,
    blocks: Blocks,
    /// Where the first key line is, among the piece's records.
    preamble_end: Option<usize>,
    /// The last value looked past the piece's end (see [`Cursor::at_piece_end`]).
    crossed: bool,
}

/// Parses the lines from `from` to `to`. Fails only for offsets that do not fit a `u32`.
fn body(text: &[u8], from: usize, to: usize) -> Result<Piece, SyntaxError> {
    let mut cursor = Cursor {
        text,
        pos: from,
        limit: to,
    };
    // Capacities from the text's size: a regedit export averages 45-50 bytes per record and
    // four records per block; pages reserved beyond the real count are never touched.
    let len = to - from;
    let mut records = Records::with_capacity(len / 32 + 8);
    let mut blocks = Blocks::with_capacity(len / 128 + 8);
    let mut preamble_end = None;
    let mut crossed = false;

    while let Some(line) = cursor.next_line() {
        let lead = blank_len(line.bytes);
        let head = preamble_end.is_none();
        let kind = match line.bytes.get(lead) {
            None => RecordKind::Blank,
            Some(b';') => RecordKind::Comment,
            Some(b'[') => match key_line(line.bytes) {
                Ok((_, parts)) => {
                    preamble_end.get_or_insert(records.len());
                    if blocks
                        .push(&key_from_parts(&line, &parts), records.len())
                        .is_none()
                    {
                        return Err(too_large());
                    }
                    continue;
                }
                Err(_) => RecordKind::Junk,
            },
            Some(b'@' | b'"') => match value_line(&line) {
                Some((name, data)) => {
                    let (data, end) = finish_value(&mut cursor, &line, data, &mut crossed);
                    records.push(
                        Record {
                            range: TextRange::new(line.content.start, end),
                            line: line.content,
                            kind: RecordKind::Value(ValueRecord { name, data }),
                        },
                        head,
                    );
                    continue;
                }
                None => RecordKind::Junk,
            },
            Some(_) => RecordKind::Junk,
        };
        records.push(
            Record {
                range: line.full(),
                line: line.content,
                kind,
            },
            head,
        );
    }
    Ok(Piece {
        records,
        blocks,
        preamble_end,
        crossed,
    })
}

/// Where to cut a large text for the current pool's threads: starts of key lines in column 0
/// near equal shares of the text, `body` (after the header) first and the text's end last.
/// `None` when one piece is all there is.
fn split_points(text: &[u8], body: usize) -> Option<Vec<usize>> {
    let pieces = crate::pieces::count_for(text.len())?;
    let finder = memchr::memmem::Finder::new(b"\n[");
    let mut points = vec![body];
    for k in 1..pieces {
        let mut at = (text.len() / pieces * k).max(*points.last()?);
        // A line `[` that is not a key line (`[ name]`) would leave the preamble open.
        while let Some(found) = finder.find(&text[at..]) {
            let start = at + found + 1;
            let mut line = Cursor {
                text,
                pos: start,
                limit: text.len(),
            };
            if line.next_line().is_some_and(|l| key_line(l.bytes).is_ok()) {
                if start > *points.last()? {
                    points.push(start);
                }
                break;
            }
            at = start;
        }
    }
    points.push(text.len());
    (points.len() > 2).then_some(points)
}

/// Parses the pieces between consecutive `points` in parallel and joins them; `None` when a
/// piece's last value reads on past its end (the caller then parses in one piece).
fn parse_pieces(text: &[u8], points: &[usize]) -> Option<Piece> {
    use rayon::prelude::*;
    let pieces: Vec<Piece> = points
        .par_windows(2)
        .map(|w| body(text, w[0], w[1]).ok().filter(|p| !p.crossed))
        .collect::<Option<_>>()?;
    let mut pieces = pieces.into_iter();
    let mut whole = pieces.next()?;
    // Every later piece starts with a key line: the preamble ends in the first at the latest.
    whole.preamble_end.get_or_insert(whole.records.len());
    let mut records_before = whole.records.len();
    let mut records = Vec::new();
    let mut blocks = Vec::new();
    for piece in pieces {
        let count = piece.records.len();
        blocks.push((piece.blocks, records_before));
        records.push(piece.records);
        records_before += count;
    }
    whole.blocks.append(blocks);
    whole.records.append(records);
    Some(whole)
}

/// The error for a text whose offsets do not fit the tree's `u32`s.
fn too_large() -> SyntaxError {
    SyntaxError::new(
        0,
        "file too large: .reg files of 4 GiB or more (of text) are not supported",
    )
}

fn key_from_parts(line: &Line<'_>, parts: &KeyParts<'_>) -> KeyLine {
    let name_start = line.at(parts.trailer) - 1 - parts.name.len();
    let name = TextRange::new(name_start, name_start + parts.name.len());
    let (root, subkey) = match memchr::memchr(b'\\', parts.name) {
        Some(slash) => (
            TextRange::new(name.start, name.start + slash),
            TextRange::new(name.start + slash + 1, name.end),
        ),
        None => (name, TextRange::empty(name.end)),
    };
    KeyLine {
        line: line.content,
        range: line.full(),
        delete: parts.delete,
        name,
        root,
        subkey,
        trailer: TextRange::new(line.at(parts.trailer), line.content.end),
    }
}

/// Completes a value's data across physical lines when needed; returns the data and the end
/// offset of the record (after the terminator of its last line).
///
/// `crossed` is set when the value looked for a further line at the end of a piece of the
/// text (see [`Cursor::at_piece_end`]): parsed whole, the text could give it another end.
fn finish_value(
    cursor: &mut Cursor<'_>,
    line: &Line<'_>,
    data: LineData,
    crossed: &mut bool,
) -> (ValueData, usize) {
    match data {
        LineData::Done(data) => (data, line.end),
        LineData::OpenString { start } => {
            let mut look = cursor.clone();
            let mut closed = false;
            while let Some(next) = look.next_line() {
                let Some(close) = find_closing_quote(next.bytes) else {
                    continue;
                };
                if trailer(&next.bytes[close..]).is_ok() {
                    *cursor = look;
                    let range = TextRange::new(start, next.content.start + close);
                    return (ValueData::MultiLineString { range }, next.end);
                }
                closed = true;
                break;
            }
            *crossed |= !closed && look.at_piece_end();
            let range = TextRange::new(start, line.content.end);
            (ValueData::Invalid { range }, line.end)
        }
        LineData::HexContinues {
            start,
            kind,
            bytes_start,
            mut bytes_end,
            mut count,
        } => {
            let mut last_data_end = line.end;
            loop {
                let Some(next) = cursor.next_line() else {
                    *crossed |= cursor.at_piece_end();
                    // End of file inside a continuation: regedit keeps the value. Skipped
                    // blank/comment lines after the last data go back to the outer loop.
                    cursor.pos = last_data_end;
                    let data = ValueData::Hex {
                        range: TextRange::new(start, bytes_end),
                        kind,
                        bytes: TextRange::new(bytes_start, bytes_end),
                        count,
                    };
                    return (data, last_data_end);
                };
                let lead = blank_len(next.bytes);
                match next.bytes.get(lead) {
                    None | Some(b';') => continue,
                    Some(&b) if is_hex_digit(b) => {
                        let rest = &next.bytes[lead..];
                        let scan = hex_bytes(rest);
                        count += scan.count;
                        bytes_end = next.at(rest) + scan.data_len;
                        last_data_end = next.end;
                        match scan.end {
                            HexEnd::Continue => continue,
                            HexEnd::Done => {
                                let data = ValueData::Hex {
                                    range: TextRange::new(start, bytes_end),
                                    kind,
                                    bytes: TextRange::new(bytes_start, bytes_end),
                                    count,
                                };
                                return (data, next.end);
                            }
                            HexEnd::Bad => {
                                let range = TextRange::new(start, next.content.end);
                                return (ValueData::Invalid { range }, next.end);
                            }
                        }
                    }
                    Some(_) => {
                        let data = ValueData::Broken {
                            range: TextRange::new(start, bytes_end),
                            swallowed: next.full(),
                        };
                        return (data, next.end);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_bytes_follow_regedit() {
        let scan = hex_bytes(b"00,01, 2,ff ;x");
        assert_eq!((scan.end, scan.count, scan.data_len), (HexEnd::Done, 4, 11));
        // Like regedit, no blank may come between a byte and its comma.
        assert_eq!(hex_bytes(b"00 ,01").end, HexEnd::Bad);
        let scan = hex_bytes(b"00,\\ ; blah");
        assert_eq!(
            (scan.end, scan.count, scan.data_len),
            (HexEnd::Continue, 1, 4)
        );
        assert_eq!(hex_bytes(b"").end, HexEnd::Done);
        assert_eq!(hex_bytes(b"00,").end, HexEnd::Done);
        assert_eq!(hex_bytes(b"001").end, HexEnd::Bad);
        assert_eq!(hex_bytes(b"00\\").end, HexEnd::Bad);
        assert_eq!(hex_bytes(b"00,,01").end, HexEnd::Bad);
        assert_eq!(hex_bytes(b"zz").end, HexEnd::Bad);
    }

    /// The tree of `text` parsed sequentially, without the header: (records, blocks with the
    /// end closed, preamble end).
    fn whole(text: &[u8]) -> (Records, Blocks, usize) {
        let header = text.iter().position(|&b| b == b'\n').unwrap() + 1;
        let mut piece = body(text, header, text.len()).unwrap();
        assert!(!piece.crossed);
        piece.blocks.close(piece.records.len(), text.len());
        let preamble = piece.preamble_end.unwrap_or(piece.records.len());
        (piece.records, piece.blocks, preamble)
    }

    const BLOCKS: &[&str] = &[
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\r\n@=\"x\"\r\n\"n\"=dword:00000001\r\n\r\n",
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\S]\r\n\"Security\"=hex:01,02,\\\r\n  03,04\r\n; note\r\n\r\n",
        "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Gone]\r\n\r\n",
        "[HKEY_CURRENT_USER\\M]\r\n\"multi\"=\"line one\r\nline two\"\r\njunk here\r\n\"d\"=-\r\n",
        "[ not a key]\r\n\"v\"=\"kept with the block before\"\r\n",
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\B]\n\"crlf\"=hex(2):41,00,\\\n\n  00,00\n",
    ];

    #[test]
    fn pieces_cut_at_key_lines_join_into_the_tree_of_the_whole() {
        let mut text = String::from("Windows Registry Editor Version 5.00\r\n; preamble\r\n\r\n");
        for i in 0..40 {
            text.push_str(BLOCKS[i % BLOCKS.len()]);
        }
        let text = text.as_bytes();
        let expected = whole(text);
        let header = text.iter().position(|&b| b == b'\n').unwrap() + 1;
        // Every line start that `split_points` may choose: key lines in column 0.
        let starts: Vec<usize> = (header..text.len())
            .filter(|&i| text[i] == b'[' && text[i - 1] == b'\n')
            .filter(|&i| {
                let end = i + text[i..]
                    .iter()
                    .position(|&b| b == b'\r' || b == b'\n')
                    .unwrap();
                key_line(&text[i..end]).is_ok()
            })
            .collect();
        assert!(starts.len() > 30);
        let mut joined = 0;
        for (k, &a) in starts.iter().enumerate() {
            for &b in starts[k + 1..].iter().step_by(3) {
                for points in [vec![header, a, text.len()], vec![header, a, b, text.len()]] {
                    let Some(mut piece) = parse_pieces(text, &points) else {
                        continue;
                    };
                    joined += 1;
                    piece.blocks.close(piece.records.len(), text.len());
                    let preamble = piece.preamble_end.unwrap_or(piece.records.len());
                    assert!(
                        (piece.records, piece.blocks, preamble) == expected,
                        "{points:?}"
                    );
                }
            }
        }
        assert!(joined > 100, "{joined}");
    }

    #[test]
    fn a_value_that_reads_past_a_piece_is_parsed_whole() {
        // A continuation that swallows the next line, and a string closed lines later: cut
        // at the key line after them, the first piece would end them differently.
        for open in [
            "\"h\"=hex:01,\\\r\n",
            "\"h\"=hex:01,\\\r\n\r\n; c\r\n",
            "\"s\"=\"open\r\n",
        ] {
            let text = format!(
                "REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\A]\r\n{open}[HKEY_CURRENT_USER\\B]\r\n\"t\"=\"x\"\"\r\n"
            );
            let text = text.as_bytes();
            let cut = text.windows(3).rposition(|w| w == b"\n[H").unwrap() + 1;
            let header = 10;
            assert!(
                parse_pieces(text, &[header, cut, text.len()]).is_none(),
                "{open}"
            );
            let _ = whole(text);
        }
    }

    #[test]
    fn a_large_text_is_parsed_in_pieces_as_in_one() {
        let mut text = String::from("Windows Registry Editor Version 5.00\r\n\r\n");
        let mut i = 0;
        while text.len() < crate::pieces::SPLIT_FROM + 4096 {
            text.push_str(BLOCKS[i % BLOCKS.len()]);
            i += 1;
        }
        let text = text.as_bytes();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let points = pool.install(|| split_points(text, 40)).unwrap();
        assert!(points.len() > 3, "{points:?}");
        assert!(pool.install(|| parse_pieces(text, &points)).is_some());
        let file = pool
            .install(|| parse_file(text, RegVersion::Regedit5))
            .unwrap();
        let (records, blocks, preamble_end) = whole(text);
        assert!(file.records == records && file.blocks == blocks);
        assert_eq!(file.preamble_end, preamble_end);
    }

    #[test]
    fn quoted_strings_skip_escapes() {
        assert_eq!(scan_quoted(br#""a\"b" x"#), Some((6, true)));
        assert_eq!(scan_quoted(br#""ab"#), None);
        assert_eq!(scan_quoted(br#""ab\"#), None);
        assert_eq!(find_closing_quote(br#"x\"y" ;c"#), Some(5));
    }
}
