//! Line-level parsers (nom, `::complete`, on byte slices) and the driver that builds the tree.
//!
//! The format is line oriented: every physical line is classified on its own by [`line()`], and
//! nesting comes only from indentation, which the driver checks against an explicit stack of
//! open items. So parsing is one linear pass, allocates only the output arrays, and a deeply
//! nested file cannot overflow the call stack. Errors use `()`: building one costs nothing,
//! and the driver words the message itself with what it expected.

use memchr::memchr;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while};
use nom::combinator::{eof, opt, rest, value};
use nom::sequence::preceded;
use nom::{IResult, Parser};

use super::views::Regions;
use super::{
    Document, Item, ItemKind, LONG_LINE, LongLine, NONE, OFFSET_BITS, Packed, Prefix, own_line,
};
use crate::detect::ScriptKind;
use crate::syntax::SyntaxError;
use crate::text::TextRange;

type Res<'a, O> = IResult<&'a [u8], O, ()>;

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `indent = { " " } ;` Tabs are not indentation.
pub fn indent(i: &[u8]) -> Res<'_, &[u8]> {
    let (indentation, rest) = i.split_at_checked(spaces(i)).unwrap_or((i, &[]));
    Ok((rest, indentation))
}

/// `physical-line = line-content , ( eol | end-of-input ) ;` `eol = CR LF | LF ;`
/// Splits one line off the input: `(content, eol)`. A CR not followed by LF is content.
pub fn physical_line(i: &[u8]) -> Res<'_, (&[u8], &[u8])> {
    if i.is_empty() {
        return Err(nom::Err::Error(()));
    }
    let (content_end, end) = match find_lf(i) {
        Some(nl) if nl > 0 && i[nl - 1] == b'\r' => (nl - 1, nl + 1),
        Some(nl) => (nl, nl + 1),
        None => (i.len(), i.len()),
    };
    Ok((&i[end..], (&i[..content_end], &i[content_end..end])))
}

/// `header = "Document Type: " , doc-kind ;` (the kind itself was checked by `detect`).
pub fn header(i: &[u8]) -> Res<'_, &[u8]> {
    preceded(tag("Document Type: "), rest).parse(i)
}

/// `prefix = "remarked " | "breakpoint " ;`
pub fn prefix(i: &[u8]) -> Res<'_, Prefix> {
    alt((
        value(Prefix::Remarked, tag("remarked ")),
        value(Prefix::Breakpoint, tag("breakpoint ")),
    ))
    .parse(i)
}

/// `item-head = [ prefix ] , "item: " , action-name ;` Returns the prefix and the name.
pub fn item_head(i: &[u8]) -> Res<'_, (Prefix, &[u8])> {
    (opt(prefix), preceded(tag("item: "), rest))
        .map(|(p, name)| (p.unwrap_or(Prefix::None), name))
        .parse(i)
}

/// `end-keyword = "end" , { blank } ;` (the whole rest of the line).
pub fn end_keyword(i: &[u8]) -> Res<'_, ()> {
    (tag("end"), take_while(is_blank), eof).map(|_| ()).parse(i)
}

/// `property = key , "=" , value ;` The key runs to the FIRST `=`; the value is the verbatim
/// rest of the line (spaces, tabs, further `=`, or nothing).
pub fn property(i: &[u8]) -> Res<'_, (&[u8], &[u8])> {
    match memchr(b'=', i) {
        Some(eq) => Ok((&i[i.len()..], (&i[..eq], &i[eq + 1..]))),
        None => Err(nom::Err::Error(())),
    }
}

/// `blank-content = { blank } ;` (the whole rest of the line).
pub fn blank_content(i: &[u8]) -> Res<'_, ()> {
    (take_while(is_blank), eof).map(|_| ()).parse(i)
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
const LFS: u64 = u64::from_ne_bytes([b'\n'; 8]);
const EQS: u64 = u64::from_ne_bytes([b'='; 8]);
const SPACES: u64 = u64::from_ne_bytes([b' '; 8]);

/// The high bit of each zero byte of `w` (and maybe of bytes after the first zero byte, so
/// only the lowest bit set is exact).
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

fn word(chunk: &[u8]) -> u64 {
    u64::from_le_bytes(chunk.try_into().unwrap_or_default())
}

/// Byte index of the lowest match in a mask from [`zero_bytes`].
fn first(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// The first line feed in `s`. Lines are short, so eight bytes at a time beats `memchr`'s
/// set-up cost on them; a long line goes to `memchr` after 64 bytes.
pub(crate) fn find_lf(s: &[u8]) -> Option<usize> {
    const SHORT: usize = 64;
    let mut words = s.get(..SHORT).unwrap_or(s).chunks_exact(8);
    let mut at = 0;
    for chunk in words.by_ref() {
        let lf = zero_bytes(word(chunk) ^ LFS);
        if lf != 0 {
            return Some(at + first(lf));
        }
        at += 8;
    }
    if let Some(k) = words.remainder().iter().position(|&b| b == b'\n') {
        return Some(at + k);
    }
    memchr(b'\n', s.get(at..)?).map(|k| at + k)
}

/// The first `=` before the first line feed (the key's end, if the line is a property), and
/// the first line feed, in `s`: one pass, eight bytes at a time.
#[inline(always)]
pub(crate) fn scan_line(s: &[u8]) -> (Option<usize>, Option<usize>) {
    let mut words = s.chunks_exact(8);
    let mut at = 0;
    for chunk in words.by_ref() {
        let w = word(chunk);
        let (lf, eq) = (zero_bytes(w ^ LFS), zero_bytes(w ^ EQS));
        if lf | eq != 0 {
            // Only the lowest bit of each mask is exact, which is all this compares.
            if lf.trailing_zeros() < eq.trailing_zeros() {
                return (None, Some(at + first(lf)));
            }
            let eq = at + first(eq);
            let nl = if lf != 0 {
                Some(at + first(lf))
            } else {
                s.get(at + 8..).and_then(find_lf).map(|k| at + 8 + k)
            };
            return (Some(eq), nl);
        }
        at += 8;
    }
    let tail = words.remainder();
    match tail.iter().position(|&b| b == b'\n' || b == b'=') {
        Some(k) if tail.get(k) == Some(&b'=') => {
            let nl = tail.get(k + 1..).and_then(find_lf).map(|n| at + k + 1 + n);
            (Some(at + k), nl)
        }
        other => (None, other.map(|k| at + k)),
    }
}

/// What one line is, with offsets relative to its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Blank,
    Head {
        prefix: Prefix,
        /// Where the action name starts.
        name: usize,
    },
    End,
    Property {
        /// Offset of the first `=`.
        eq: usize,
    },
    Garbage,
}

/// One physical line, classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    /// Indentation width in spaces.
    pub indent: usize,
    pub kind: LineKind,
    /// Length without the terminator.
    pub content_len: usize,
    /// Length with the terminator.
    pub len: usize,
}

/// `line = indent , ( item-head | end-keyword | property | blank-content ) , ( eol | end-of-input ) ;`
/// Anything else is [`LineKind::Garbage`]. Fails only on empty input.
#[inline]
pub fn line(i: &[u8]) -> Res<'_, Line> {
    if i.is_empty() {
        return Err(nom::Err::Error(()));
    }
    let (eq, nl) = scan_line(i);
    let l = shape(i, eq, nl);
    Ok((i.get(l.len..).unwrap_or_default(), l))
}

/// [`line`] for the line at the start of `i` (not empty), given its first `=` before the line
/// feed and its line feed as [`scan_line`] finds them. The common shapes are recognised here
/// with the same result as [`classify`]: a property whose key starts with a capital letter, a
/// plain `item: ` head, and a bare `end`. Everything else goes through [`classify`].
#[inline(always)]
fn shape(i: &[u8], eq: Option<usize>, nl: Option<usize>) -> Line {
    let (content_len, len) = match nl {
        Some(nl) if nl > 0 && i.get(nl - 1) == Some(&b'\r') => (nl - 1, nl + 1),
        Some(nl) => (nl, nl + 1),
        None => (i.len(), i.len()),
    };
    // The first byte that is not a space; it is at most the content's end, where a terminator
    // or the end of the input stands.
    let at = spaces(i).min(content_len);
    let content = i.get(..content_len).unwrap_or_default();
    let body = content.get(at..).unwrap_or_default();
    let kind = match (body.first(), eq) {
        (Some(b'A'..=b'Z'), Some(eq)) => LineKind::Property { eq },
        (Some(b'i'), _) if body.starts_with(b"item: ") => LineKind::Head {
            prefix: Prefix::None,
            name: at + 6,
        },
        (Some(b'e'), _) if body == b"end" => LineKind::End,
        _ => classify(content, at),
    };
    Line {
        indent: at,
        kind,
        content_len,
        len,
    }
}

/// The number of spaces `i` starts with, eight bytes at a time: the first other byte is the
/// lowest non-zero byte of `word ^ SPACES`.
#[inline(always)]
fn spaces(i: &[u8]) -> usize {
    let mut words = i.chunks_exact(8);
    let mut at = 0;
    for chunk in words.by_ref() {
        let x = word(chunk) ^ SPACES;
        if x != 0 {
            return at + first(x);
        }
        at += 8;
    }
    let tail = words.remainder();
    at + tail.iter().position(|&b| b != b' ').unwrap_or(tail.len())
}

/// The kind of a line's content (without terminator) indented by `at` spaces.
pub fn classify(content: &[u8], at: usize) -> LineKind {
    let body = content.get(at..).unwrap_or_default();
    let kind = match body.first() {
        Some(b'i' | b'r' | b'b') => {
            item_head(body)
                .ok()
                .map(|(_, (prefix, name))| LineKind::Head {
                    prefix,
                    name: content.len() - name.len(),
                })
        }
        Some(b'e') => end_keyword(body).ok().map(|_| LineKind::End),
        _ => None,
    };
    kind.unwrap_or_else(|| {
        if let Ok((_, (key, _))) = property(body) {
            LineKind::Property { eq: at + key.len() }
        } else if blank_content(body).is_ok() {
            LineKind::Blank
        } else {
            LineKind::Garbage
        }
    })
}

/// Why a script with a lone CR is refused: whether the installer reads it as a line break
/// (as a CR-only file means it) or as a byte of the value is not known, so the tool does not
/// guess.
pub const LONE_CR: &str = "lone CR (a carriage return without a line feed): script lines end with CR LF or LF; convert the line endings";

/// The first CR in `range` of `text` not followed by LF.
pub(crate) fn find_lone_cr(text: &[u8], range: std::ops::Range<usize>) -> Option<usize> {
    if !has_lone_cr(text, range.clone()) {
        return None;
    }
    // Only a refused script gets here: the CR of every CR LF is a hit of this search.
    let start = range.start;
    memchr::memchr_iter(b'\r', &text[range])
        .map(|at| start + at)
        .find(|&at| text.get(at + 1) != Some(&b'\n'))
}

/// Whether `range` of `text` holds a CR not followed by LF: one branch-free pass over each
/// byte and the next, 64 KiB at a time, which the compiler vectorizes (2 ms for a 60 MB CRLF
/// script, where a search for each CR takes 26 ms: it stops at every line end).
fn has_lone_cr(text: &[u8], range: std::ops::Range<usize>) -> bool {
    const CHUNK: usize = 64 << 10;
    let mut at = range.start;
    while at < range.end {
        let stop = (at + CHUNK).min(range.end);
        let here = &text[at..stop];
        let next = text
            .get(at + 1..(stop + 1).min(text.len()))
            .unwrap_or_default();
        let found = here.iter().zip(next).fold(false, |found, (&a, &b)| {
            found | ((a == b'\r') & (b != b'\n'))
        });
        // The text's last byte has no next byte to pair with.
        if found || (stop == text.len() && here.last() == Some(&b'\r')) {
            return true;
        }
        at = stop;
    }
    false
}

/// `document = header-line , { line } ;` with the nesting rules checked on an explicit stack.
///
/// A large script is parsed in pieces on the current rayon pool, one per thread: the pieces
/// start at lines `item: …` in column 0, which in a well-formed script are exactly top-level
/// items, so every piece starts and (if it parses) ends with no item open and the pieces'
/// trees concatenate into the tree of the whole, and the control-flow regions are assigned
/// afterwards in one pass over the top-level items. If any piece fails or leaves an item
/// open, the whole text is parsed again in one piece, so errors are exactly those of a
/// sequential parse.
pub fn document(text: &[u8], kind: ScriptKind) -> Result<Document, SyntaxError> {
    // Offsets are stored in 30 bits (an item packs its head's terminator length above them).
    if text.len() >= 1 << OFFSET_BITS {
        return Err(SyntaxError::new(0, "script larger than 1 GiB"));
    }
    let body = match physical_line(text) {
        Ok((rest, (content, _))) if header(content).is_ok() => text.len() - rest.len(),
        _ => {
            return Err(SyntaxError::new(
                0,
                "expected the header `Document Type: WSE` or `Document Type: IPF` on the first line",
            ));
        }
    };
    let header_line = TextRange::new(0, body);
    // A large script is searched for a lone CR piece by piece, on the pool, with its parse.
    let lone_cr = |range: std::ops::Range<usize>| -> Result<(), SyntaxError> {
        match find_lone_cr(text, range) {
            Some(at) => Err(SyntaxError::new(at, LONE_CR)),
            None => Ok(()),
        }
    };
    let mut tree = match split_points(text, body) {
        Some(points) => {
            lone_cr(0..body)?;
            match parse_pieces(text, &points) {
                Ok(tree) => tree,
                Err(Some(at)) => return Err(SyntaxError::new(at, LONE_CR)),
                Err(None) => lines(text, body, true)?,
            }
        }
        None => {
            lone_cr(0..text.len())?;
            lines(text, body, true)?
        }
    };
    // The arrays were sized from estimates; give back the rest (for a large array this remaps
    // pages, it does not copy).
    tree.items.shrink_to_fit();
    tree.own_lines.shrink_to_fit();
    tree.long_lines.shrink_to_fit();
    tree.blanks.shrink_to_fit();
    Ok(Document {
        kind,
        header: header_line,
        items: tree.items,
        own_lines: tree.own_lines,
        long_lines: tree.long_lines,
        blanks: tree.blanks,
        len: text.len(),
    })
}

/// Where to cut a large script for the current pool's threads: starts of lines `item: ` in
/// column 0 near equal shares of the text, `body` (after the header) first and the text's end
/// last. `None` when one piece is all there is.
fn split_points(text: &[u8], body: usize) -> Option<Vec<usize>> {
    // Nested `Edit Registry` items cost more per byte than flat ones: a few pieces per thread.
    let pieces = crate::pieces::count_for(text.len())?;
    let finder = memchr::memmem::Finder::new(b"\nitem: ");
    let mut points = vec![body];
    for k in 1..pieces {
        let target = (text.len() / pieces * k).max(*points.last()?);
        match finder.find(&text[target..]) {
            Some(at) if target + at + 1 > *points.last()? => points.push(target + at + 1),
            _ => {}
        }
    }
    points.push(text.len());
    (points.len() > 2).then_some(points)
}

/// Parses the pieces between consecutive `points` in parallel and joins them; `None` when a
/// piece fails or ends inside an item (the caller then parses sequentially).
fn parse_pieces(text: &[u8], points: &[usize]) -> Result<Tree, Option<usize>> {
    use rayon::prelude::*;
    let pieces: Vec<(Option<Tree>, Option<usize>)> = points
        .par_windows(2)
        .map(|w| match find_lone_cr(text, w[0]..w[1]) {
            Some(at) => (None, Some(at)),
            None => (lines(&text[..w[1]], w[0], false).ok(), None),
        })
        .collect();
    if let Some(at) = pieces.iter().find_map(|(_, at)| *at) {
        return Err(Some(at));
    }
    let pieces: Vec<Tree> = pieces
        .into_iter()
        .map(|(tree, _)| tree)
        .collect::<Option<_>>()
        .ok_or(None)?;
    let mut pieces = pieces.into_iter();
    let mut tree = pieces.next().ok_or(None)?;
    // Grow the first piece's arrays once to the total (in place where the allocator can):
    // joining then holds the whole and the pieces not yet appended, never a doubled array.
    let rest = pieces.as_slice();
    tree.items
        .reserve_exact(rest.iter().map(|p| p.items.len()).sum());
    tree.own_lines
        .reserve_exact(rest.iter().map(|p| p.own_lines.len()).sum());
    for piece in pieces {
        tree.append(piece);
    }
    let mut regions = Regions::default();
    let mut top = 0u32;
    while let Some(item) = tree.items.get(top as usize) {
        let next = item.subtree_end;
        regions.close_top_level(
            &mut tree.items,
            &tree.own_lines,
            &tree.long_lines,
            text,
            top,
        );
        top = next;
    }
    Ok(tree)
}

/// The arrays of a parsed document (or piece of one).
pub(super) struct Tree {
    pub(super) items: Vec<Item>,
    pub(super) own_lines: Vec<u16>,
    pub(super) long_lines: Vec<LongLine>,
    pub(super) blanks: Vec<TextRange>,
}

impl Tree {
    /// Appends a piece parsed after this one (its indices count from 0). The items are
    /// renumbered and copied on the pool, in place at the end of `items`.
    pub(super) fn append(&mut self, piece: Tree) {
        use rayon::prelude::*;
        let base = self.items.len() as u32;
        let line_base = self.own_lines.len() as u32;
        self.items.par_extend(piece.items.par_iter().map(|item| {
            let mut item = item.clone();
            if item.depth() > 0 {
                item.link += base;
            }
            item.subtree_end += base;
            item.first_line += line_base;
            item
        }));
        self.own_lines.extend(piece.own_lines);
        self.long_lines.extend(piece.long_lines);
        self.blanks.extend(piece.blanks);
    }
}

/// Parses the lines of `text[from..]` (`from` at a line start). `regions`: assign the
/// control-flow regions while parsing (a piece of a split parse leaves them to the caller).
/// A piece must end with no item open.
pub(super) fn lines(text: &[u8], from: usize, regions: bool) -> Result<Tree, SyntaxError> {
    // Typical scripts have an item per 110-130 bytes and a line per 20-30.
    let size = text.len().saturating_sub(from);
    let mut items: Vec<Item> = Vec::with_capacity(size / 100);
    let mut own_lines: Vec<u16> = Vec::with_capacity(size / 24);
    let mut long_lines = Vec::new();
    let mut blanks = Vec::new();
    // The open items, innermost last.
    let mut stack: Vec<Open> = Vec::new();
    // Records of the open items that are not at the end of `own_lines` (see `Open`), by depth.
    let mut spilled: Vec<Vec<u16>> = Vec::new();
    let mut region_state = regions.then(Regions::default);

    let mut pos = from;
    while let Some(i) = text.get(pos..) {
        let Ok((_, l)) = line(i) else { break };
        let start = pos;
        pos += l.len;
        let (spaces, open) = (l.indent, stack.len());
        // In range: the text is under 1 GiB (checked above).
        let start32 = start as u32;
        let (content_end32, end32) = (start32 + l.content_len as u32, start32 + l.len as u32);
        match l.kind {
            LineKind::Property { eq } => {
                if open == 0 {
                    return Err(SyntaxError::new(
                        start + spaces,
                        "property outside any item: expected `item: <action>`",
                    ));
                }
                if spaces != 2 * open {
                    return Err(indent_error(text, &items, &stack, start, spaces, 2 * open));
                }
                let record = own_line(l.content_len, l.len - l.content_len, Some(eq - spaces));
                if let Some(top) = stack.last_mut() {
                    top.push(record, &mut own_lines, &mut spilled, &items, open);
                }
                if record == LONG_LINE {
                    long_lines.push(long_line(start32, Some(start32 + eq as u32), &l));
                }
            }
            LineKind::Head { prefix, name } => {
                if spaces != 2 * open {
                    return Err(indent_error(text, &items, &stack, start, spaces, 2 * open));
                }
                let parent = stack.last().map_or(NONE, |o| o.index);
                let parent_active = items.get(parent as usize).is_none_or(|p| p.active());
                let index = items.len() as u32;
                let name_range = start + name..start + l.content_len;
                let active = parent_active && prefix != Prefix::Remarked;
                let kind = ItemKind::from_name(text.get(name_range).unwrap_or_default());
                items.push(Item {
                    head_start: start32,
                    name_end_eol: content_end32 | (end32 - content_end32) << OFFSET_BITS,
                    end_start: end32,
                    end_end: end32,
                    // A top-level item's region is assigned when it closes.
                    link: if parent == NONE { 0 } else { parent },
                    subtree_end: index + 1,
                    first_line: own_lines.len() as u32,
                    packed: Packed::new(open as u32, kind, prefix, active),
                });
                stack.push(Open {
                    index,
                    run_end: own_lines.len() as u32,
                });
            }
            LineKind::End => {
                let Some(&Open {
                    index: top,
                    run_end,
                }) = stack.last()
                else {
                    return Err(SyntaxError::new(
                        start + spaces,
                        "`end` with no open item: expected `item: <action>` or the end of the file",
                    ));
                };
                if spaces != 2 * (open - 1) {
                    return Err(indent_error(
                        text,
                        &items,
                        &stack,
                        start,
                        spaces,
                        2 * (open - 1),
                    ));
                }
                let subtree_end = items.len() as u32;
                if let Some(item) = items.get_mut(top as usize) {
                    item.end_start = start32;
                    item.end_end = end32;
                    item.subtree_end = subtree_end;
                    if run_end == SPILLED
                        && let Some(own) = spilled.get_mut(open - 1)
                    {
                        item.first_line = own_lines.len() as u32;
                        own_lines.append(own);
                    }
                }
                if open == 1
                    && let Some(regions) = &mut region_state
                {
                    regions.close_top_level(&mut items, &own_lines, &long_lines, text, top);
                }
                stack.pop();
            }
            LineKind::Blank => {
                if let Some(top) = stack.last_mut() {
                    let record = own_line(l.content_len, l.len - l.content_len, None);
                    top.push(record, &mut own_lines, &mut spilled, &items, open);
                    if record == LONG_LINE {
                        long_lines.push(long_line(start32, None, &l));
                    }
                }
                blanks.push(TextRange::new(start, start + l.len));
            }
            LineKind::Garbage => {
                return Err(SyntaxError::new(
                    start + spaces,
                    "unrecognised line: expected `item: <action>`, `end` or a `key=value` property",
                ));
            }
        }
    }

    if let Some(top) = stack.last() {
        let (what, line) = describe(text, &items, top.index);
        return Err(SyntaxError::new(
            text.len(),
            format!(
                "unexpected end of file: expected `end` (indented {} spaces) to close {what} from line {line}",
                2 * (stack.len() - 1)
            ),
        ));
    }
    Ok(Tree {
        items,
        own_lines,
        long_lines,
        blanks,
    })
}

/// An item waiting for its `end`. Its own lines' records go straight to the end of
/// `own_lines` while nothing else has been written there since its head or its last record;
/// once a child has written records, the item's run is copied aside (`spilled`, by depth) and
/// moved back when the item closes, so that every item's records are contiguous. The editor
/// writes properties before children, so copying aside is rare.
struct Open {
    index: u32,
    /// Where this item's run in `own_lines` ends, or [`SPILLED`].
    run_end: u32,
}

const SPILLED: u32 = NONE;

impl Open {
    /// Adds the record of one of this item's own lines; `depth` is its depth plus one.
    #[inline(always)]
    fn push(
        &mut self,
        record: u16,
        own_lines: &mut Vec<u16>,
        spilled: &mut Vec<Vec<u16>>,
        items: &[Item],
        depth: usize,
    ) {
        if self.run_end as usize == own_lines.len() {
            own_lines.push(record);
            self.run_end += 1;
        } else {
            self.push_aside(record, own_lines, spilled, items, depth);
        }
    }

    #[cold]
    #[inline(never)]
    fn push_aside(
        &mut self,
        record: u16,
        own_lines: &[u16],
        spilled: &mut Vec<Vec<u16>>,
        items: &[Item],
        depth: usize,
    ) {
        if spilled.len() < depth {
            spilled.resize_with(depth, Vec::new);
        }
        let Some(aside) = spilled.get_mut(depth - 1) else {
            return;
        };
        if self.run_end != SPILLED {
            let first = items.get(self.index as usize).map_or(0, |i| i.first_line);
            let run = own_lines.get(first as usize..self.run_end as usize);
            aside.clear();
            aside.extend_from_slice(run.unwrap_or_default());
            self.run_end = SPILLED;
        }
        aside.push(record);
    }
}

/// The [`LongLine`] entry of line `l` at `start` (`eq`: its `=`, `None` for a blank line).
fn long_line(start: u32, eq: Option<u32>, l: &Line) -> LongLine {
    LongLine {
        start,
        eq: eq.unwrap_or(NONE),
        content_end: start + l.content_len as u32,
        eol_len: (l.len - l.content_len) as u32,
    }
}

/// An indentation that fits no open item, with the width that would have fitted.
fn indent_error(
    text: &[u8],
    items: &[Item],
    stack: &[Open],
    line_start: usize,
    spaces: usize,
    expected: usize,
) -> SyntaxError {
    let odd = if spaces % 2 == 1 {
        " (items nest by 2 spaces)"
    } else {
        ""
    };
    let context = match stack.last() {
        Some(top) => {
            let (what, line) = describe(text, items, top.index);
            format!(" inside {what} from line {line}")
        }
        None => " at the top level".to_owned(),
    };
    SyntaxError::new(
        line_start,
        format!(
            "indentation of {spaces} spaces matches no open item{odd}: expected {expected} spaces{context}"
        ),
    )
}

/// `` `item: Name` `` and the 1-based line of its head, for messages (error path only).
fn describe(text: &[u8], items: &[Item], index: u32) -> (String, usize) {
    match items.get(index as usize) {
        Some(item) => {
            let name =
                String::from_utf8_lossy(text.get(item.name().as_range()).unwrap_or_default());
            let before = text.get(..item.head().start).unwrap_or_default();
            (
                format!("`item: {name}`"),
                memchr::memchr_iter(b'\n', before).count() + 1,
            )
        }
        None => ("an item".to_owned(), 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `line` without the word-at-a-time scans and fast paths.
    fn reference(i: &[u8]) -> Option<(usize, Line)> {
        let at = i.iter().position(|&b| b != b' ').unwrap_or(i.len());
        let (rest, (content, eol)) = physical_line(i).ok()?;
        let at = at.min(content.len());
        let line = Line {
            indent: at,
            kind: classify(content, at),
            content_len: content.len(),
            len: content.len() + eol.len(),
        };
        Some((i.len() - rest.len(), line))
    }

    #[test]
    fn word_scans_agree_with_the_byte_by_byte_reading() {
        let contents: &[&[u8]] = &[
            b"",
            b"K=v",
            b"Key",
            b"Key=",
            b"=",
            b"A\r=b",
            b"item: Key",
            b"item:",
            b"end",
            b"end \t",
            b"endx",
            b"remarked item: X",
            b"breakpoint item: Y",
            b"\t",
            b"x=y=z",
            b"Long Key Name Here=value with = and \r inside",
            b"item: \r",
            b"E=\x0b\x01",
        ];
        let eols: &[&[u8]] = &[b"", b"\n", b"\r\n", b"\r", b"\n\x0b", b"\n="];
        let nexts: &[&[u8]] = &[b"", b"  K=v\n", b"=\n", b"\n", b"12345678901234567890=\n"];
        for indent in 0..11 {
            for content in contents {
                for eol in eols {
                    for next in nexts {
                        let mut text = vec![b' '; indent];
                        text.extend_from_slice(content);
                        text.extend_from_slice(eol);
                        text.extend_from_slice(next);
                        let got = line(&text)
                            .ok()
                            .map(|(rest, l)| (text.len() - rest.len(), l));
                        assert_eq!(
                            got,
                            reference(&text),
                            "{:?}",
                            String::from_utf8_lossy(&text)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn word_scans_find_the_first_match_at_every_offset() {
        for len in 0..40 {
            for at in 0..len {
                for (byte, other) in [(b'\n', b'='), (b'=', b'\n')] {
                    // A 0x01 or 0x0b right after the match would fool a borrow-based mask
                    // into a second match.
                    let mut s = vec![b'a'; len];
                    s[at] = byte;
                    if at + 1 < len {
                        s[at + 1] = byte ^ 1;
                    }
                    if at + 2 < len {
                        s[at + 2] = other;
                    }
                    let lf = s.iter().position(|&b| b == b'\n');
                    let eq = s
                        .iter()
                        .position(|&b| b == b'=')
                        .filter(|&e| lf.is_none_or(|l| e < l));
                    assert_eq!(scan_line(&s), (eq, lf), "{s:?}");
                    assert_eq!(find_lf(&s), lf, "{s:?}");
                }
            }
        }
    }

    /// The vectorized search agrees with a byte-by-byte one: a lone CR, a CR LF and a CR at
    /// the end, each on both sides of and right at a 64 KiB chunk boundary, in sub-ranges too.
    #[test]
    fn lone_cr_search_agrees_with_a_naive_one() {
        let naive = |text: &[u8], range: std::ops::Range<usize>| {
            range
                .clone()
                .find(|&i| text[i] == b'\r' && text.get(i + 1) != Some(&b'\n'))
        };
        let chunk = 64 << 10;
        for at in [0, 1, chunk - 2, chunk - 1, chunk, chunk + 1, 2 * chunk - 1] {
            for pattern in [&b"\r\n"[..], b"\r", b"\rx", b"\n\r"] {
                let mut text = vec![b'a'; 2 * chunk + 5];
                text[at..at + pattern.len()].copy_from_slice(pattern);
                for range in [
                    0..text.len(),
                    at..text.len(),
                    0..at + 1,
                    0..(at + 1).max(chunk),
                ] {
                    assert_eq!(
                        find_lone_cr(&text, range.clone()),
                        naive(&text, range.clone()),
                        "{at} {pattern:?} {range:?}"
                    );
                }
                text.truncate(at + pattern.len());
                let all = 0..text.len();
                assert_eq!(
                    find_lone_cr(&text, all.clone()),
                    naive(&text, all),
                    "{at} {pattern:?}"
                );
            }
        }
    }
}
