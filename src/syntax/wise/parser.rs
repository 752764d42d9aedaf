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
    BlockRole, Document, Item, ItemKind, LONG_LINE, LongLine, NONE, OFFSET_BITS, Prefix, own_line,
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
    let n = i.iter().position(|&b| b != b' ').unwrap_or(i.len());
    Ok((&i[n..], &i[..n]))
}

/// `physical-line = line-content , ( eol | end-of-input ) ;` `eol = CR LF | LF ;`
/// Splits one line off the input: `(content, eol)`. A CR not followed by LF is content.
pub fn physical_line(i: &[u8]) -> Res<'_, (&[u8], &[u8])> {
    if i.is_empty() {
        return Err(nom::Err::Error(()));
    }
    let (content_end, end) = match memchr(b'\n', i) {
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
///
/// The common shapes take a fast path with the same result as [`classify`]: a property whose
/// key starts with a capital letter (the key is scanned for `=`, only the value is searched for
/// the line end), a plain `item: ` head, and a bare `end`. Everything else goes through
/// [`classify`].
pub fn line(i: &[u8]) -> Res<'_, Line> {
    let (body, spaces) = indent(i)?;
    let at = spaces.len();
    let done = |rest, kind, content_len: usize, eol: usize| {
        let line = Line {
            indent: at,
            kind,
            content_len,
            len: content_len + eol,
        };
        Ok((rest, line))
    };
    match body.first() {
        Some(b'A'..=b'Z') => {
            if let Some(k) = body.iter().position(|&b| b == b'=' || b == b'\n')
                && body[k] == b'='
            {
                let (rest, (value, eol)) =
                    physical_line(&body[k + 1..]).unwrap_or((&[], (&[], &[])));
                let kind = LineKind::Property { eq: at + k };
                return done(rest, kind, at + k + 1 + value.len(), eol.len());
            }
        }
        Some(b'i') => {
            if let Ok((after, _)) = tag::<_, _, ()>("item: ")(body) {
                let (rest, (name, eol)) = physical_line(after).unwrap_or((&[], (&[], &[])));
                let name_at = at + body.len() - after.len();
                let kind = LineKind::Head {
                    prefix: Prefix::None,
                    name: name_at,
                };
                return done(rest, kind, name_at + name.len(), eol.len());
            }
        }
        Some(b'e') => {
            if let Ok((after, _)) = tag::<_, _, ()>("end")(body) {
                let eol = match after {
                    [] => Some(0),
                    [b'\n', ..] => Some(1),
                    [b'\r', b'\n', ..] => Some(2),
                    _ => None,
                };
                if let Some(eol) = eol {
                    return done(&after[eol..], LineKind::End, at + 3, eol);
                }
            }
        }
        _ => {}
    }
    let (rest, (content, eol)) = physical_line(i)?;
    done(rest, classify(content, at), content.len(), eol.len())
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

/// Below this size a script is parsed in one piece.
const SPLIT_FROM: usize = 4 << 20;

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
    let mut tree = match split_points(text, body) {
        Some(points) => parse_pieces(text, &points).map_or_else(|| lines(text, body, true), Ok),
        None => lines(text, body, true),
    }?;
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
    let threads = rayon::current_num_threads().min(64);
    if text.len() < SPLIT_FROM || threads < 2 {
        return None;
    }
    let finder = memchr::memmem::Finder::new(b"\nitem: ");
    let mut points = vec![body];
    for k in 1..threads {
        let target = (text.len() / threads * k).max(*points.last()?);
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
fn parse_pieces(text: &[u8], points: &[usize]) -> Option<Tree> {
    use rayon::prelude::*;
    let pieces: Vec<Option<Tree>> = points
        .par_windows(2)
        .map(|w| lines(&text[..w[1]], w[0], false).ok())
        .collect();
    let pieces: Vec<Tree> = pieces.into_iter().collect::<Option<_>>()?;
    let mut pieces = pieces.into_iter();
    let mut tree = pieces.next()?;
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
    Some(tree)
}

/// The arrays of a parsed document (or piece of one).
pub(super) struct Tree {
    pub(super) items: Vec<Item>,
    pub(super) own_lines: Vec<u16>,
    pub(super) long_lines: Vec<LongLine>,
    pub(super) blanks: Vec<TextRange>,
}

impl Tree {
    /// Appends a piece parsed after this one (its indices count from 0).
    pub(super) fn append(&mut self, piece: Tree) {
        let base = self.items.len() as u32;
        let line_base = self.own_lines.len() as u32;
        self.items.extend(piece.items.into_iter().map(|mut item| {
            if item.parent != NONE {
                item.parent += base;
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
    let mut input = &text[from..];
    // Typical scripts have an item per 110-130 bytes and a line per 20-30.
    let mut items: Vec<Item> = Vec::with_capacity(input.len() / 100);
    let mut own_lines: Vec<u16> = Vec::with_capacity(input.len() / 24);
    let mut long_lines = Vec::new();
    let mut blanks = Vec::new();
    // The open items, innermost last, and the records of each one's own lines so far (an
    // item's records are moved to `own_lines` when it closes, so that they are contiguous even
    // if a property follows a child).
    let mut stack: Vec<u32> = Vec::new();
    let mut pending: Vec<Vec<u16>> = Vec::new();
    let mut region_state = regions.then(Regions::default);

    while let Ok((rest, l)) = line(input) {
        let start = text.len() - input.len();
        input = rest;
        let (spaces, open) = (l.indent, stack.len());
        // In range: the text is under 1 GiB (checked above).
        let start32 = start as u32;
        let (content_end32, end32) = (start32 + l.content_len as u32, start32 + l.len as u32);
        match l.kind {
            LineKind::Property { eq } => {
                let Some(own) = pending.get_mut(open.wrapping_sub(1)) else {
                    return Err(SyntaxError::new(
                        start + spaces,
                        "property outside any item: expected `item: <action>`",
                    ));
                };
                if spaces != 2 * open {
                    return Err(indent_error(text, &items, &stack, start, spaces, 2 * open));
                }
                let record = own_line(l.content_len, l.len - l.content_len, Some(eq - spaces));
                own.push(record);
                if record == LONG_LINE {
                    long_lines.push(long_line(start32, Some(start32 + eq as u32), &l));
                }
            }
            LineKind::Head { prefix, name } => {
                if spaces != 2 * open {
                    return Err(indent_error(text, &items, &stack, start, spaces, 2 * open));
                }
                let parent = stack.last().copied().unwrap_or(NONE);
                let parent_active = items.get(parent as usize).is_none_or(|p| p.active);
                let index = items.len() as u32;
                let name_range = start + name..start + l.content_len;
                items.push(Item {
                    head_start: start32,
                    name_end_eol: content_end32 | (end32 - content_end32) << OFFSET_BITS,
                    end_start: end32,
                    end_end: end32,
                    depth: open as u32,
                    block: 0,
                    parent,
                    subtree_end: index + 1,
                    first_line: 0,
                    kind: ItemKind::from_name(text.get(name_range).unwrap_or_default()),
                    prefix,
                    role: BlockRole::None,
                    active: parent_active && prefix != Prefix::Remarked,
                });
                stack.push(index);
                match pending.get_mut(open) {
                    Some(own) => own.clear(),
                    None => pending.push(Vec::new()),
                }
            }
            LineKind::End => {
                let Some(&top) = stack.last() else {
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
                    item.first_line = own_lines.len() as u32;
                }
                if let Some(own) = pending.get_mut(open - 1) {
                    own_lines.append(own);
                }
                if open == 1
                    && let Some(regions) = &mut region_state
                {
                    regions.close_top_level(&mut items, &own_lines, &long_lines, text, top);
                }
                stack.pop();
            }
            LineKind::Blank => {
                if let Some(own) = pending.get_mut(open.wrapping_sub(1)) {
                    let record = own_line(l.content_len, l.len - l.content_len, None);
                    own.push(record);
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

    if let Some(&top) = stack.last() {
        let (what, line) = describe(text, &items, top);
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
    stack: &[u32],
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
        Some(&top) => {
            let (what, line) = describe(text, items, top);
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
