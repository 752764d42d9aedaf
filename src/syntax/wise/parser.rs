//! Line-level parsers (nom, `::complete`, on byte slices) and the driver that builds the tree.
//!
//! The format is line oriented: every physical line is classified on its own by [`line`], and
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

use super::{Document, Item, ItemKind, NONE, Prefix, Property};
use crate::detect::ScriptKind;
use crate::syntax::SyntaxError;
use crate::text::TextRange;

type Res<'a, O> = IResult<&'a [u8], O, ()>;

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `indent = { " " } ;` Tabs are not indentation.
pub fn indent(i: &[u8]) -> Res<'_, &[u8]> {
    take_while(|b| b == b' ')(i)
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

/// What one line's content (without terminator) is, with offsets relative to its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Blank,
    Head {
        prefix: Prefix,
        /// Where `item: ` starts (after the prefix).
        keyword: usize,
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

/// `line-content = indent , ( item-head | end-keyword | property | blank-content ) ;`
/// Returns the indentation width and the kind; anything else is [`LineKind::Garbage`].
pub fn line(content: &[u8]) -> (usize, LineKind) {
    let (body, spaces) = indent(content).unwrap_or((content, &content[..0]));
    let at = spaces.len();
    let offset = |sub: &[u8]| at + body.len() - sub.len();
    let kind = if let Ok((_, (prefix, name))) = item_head(body) {
        let name_at = content.len() - name.len();
        LineKind::Head {
            prefix,
            keyword: name_at - "item: ".len(),
            name: name_at,
        }
    } else if end_keyword(body).is_ok() {
        LineKind::End
    } else if let Ok((_, (key, _))) = property(body) {
        LineKind::Property {
            eq: offset(&body[key.len()..]),
        }
    } else if blank_content(body).is_ok() {
        LineKind::Blank
    } else {
        LineKind::Garbage
    };
    (at, kind)
}

/// Physical lines: `(start, content_end, end)`; a line ends after `\n` (its content before an
/// optional `\r`), or at the end of the text.
struct Lines<'t> {
    text: &'t [u8],
    newlines: memchr::Memchr<'t>,
    pos: usize,
}

impl<'t> Lines<'t> {
    fn new(text: &'t [u8]) -> Self {
        Self {
            text,
            newlines: memchr::memchr_iter(b'\n', text),
            pos: 0,
        }
    }
}

impl Iterator for Lines<'_> {
    type Item = (usize, usize, usize);

    fn next(&mut self) -> Option<(usize, usize, usize)> {
        let start = self.pos;
        match self.newlines.next() {
            Some(nl) => {
                self.pos = nl + 1;
                let content_end = if nl > start && self.text.get(nl - 1) == Some(&b'\r') {
                    nl - 1
                } else {
                    nl
                };
                Some((start, content_end, nl + 1))
            }
            None if start < self.text.len() => {
                self.pos = self.text.len();
                Some((start, self.text.len(), self.text.len()))
            }
            None => None,
        }
    }
}

/// `document = header-line , { line } ;` with the nesting rules checked on an explicit stack.
pub fn document(text: &[u8], kind: ScriptKind) -> Result<Document, SyntaxError> {
    let mut lines = Lines::new(text);
    let header_line = match lines.next() {
        Some((start, content_end, end)) if header(&text[start..content_end]).is_ok() => {
            TextRange::new(start, end)
        }
        _ => {
            return Err(SyntaxError::new(
                0,
                "expected the header `Document Type: WSE` or `Document Type: IPF` on the first line",
            ));
        }
    };
    // Typical scripts have a line per 25 bytes and an item per 100.
    let mut items: Vec<Item> = Vec::with_capacity(text.len() / 128);
    let mut props: Vec<Property> = Vec::with_capacity(text.len() / 32);
    let mut blanks = Vec::new();
    let mut stack: Vec<u32> = Vec::new();

    for (start, content_end, end) in lines {
        let content = &text[start..content_end];
        let (spaces, kind) = line(content);
        let open = stack.len();
        match kind {
            LineKind::Blank => blanks.push(TextRange::new(start, end)),
            LineKind::Garbage => {
                return Err(SyntaxError::new(
                    start + spaces,
                    "unrecognised line: expected `item: <action>`, `end` or a `key=value` property",
                ));
            }
            LineKind::Head {
                prefix,
                keyword,
                name,
            } => {
                if spaces != 2 * open {
                    return Err(indent_error(text, &items, &stack, start, spaces, 2 * open));
                }
                let parent = stack.last().copied().unwrap_or(NONE);
                let parent_active = items.get(parent as usize).is_none_or(|p| p.active);
                let name_range = TextRange::new(start + name, content_end);
                let index = items.len() as u32;
                items.push(Item {
                    range: TextRange::new(start, end),
                    head: TextRange::new(start, end),
                    prefix,
                    prefix_range: TextRange::new(start + spaces, start + keyword),
                    name: name_range,
                    end_line: TextRange::empty(end),
                    depth: open as u32,
                    kind: ItemKind::from_name(&content[name..]),
                    active: parent_active && prefix != Prefix::Remarked,
                    block: 0,
                    role: super::BlockRole::None,
                    parent,
                    subtree_end: index + 1,
                    first_prop: NONE,
                    last_prop: NONE,
                    prop_count: 0,
                });
                stack.push(index);
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
                    item.end_line = TextRange::new(start, end);
                    item.range = TextRange::new(item.head.start, end);
                    item.subtree_end = subtree_end;
                }
                stack.pop();
            }
            LineKind::Property { eq } => {
                let Some(&owner) = stack.last() else {
                    return Err(SyntaxError::new(
                        start + spaces,
                        "property outside any item: expected `item: <action>`",
                    ));
                };
                if spaces != 2 * open {
                    return Err(indent_error(text, &items, &stack, start, spaces, 2 * open));
                }
                let index = props.len() as u32;
                props.push(Property {
                    line: TextRange::new(start, end),
                    key: TextRange::new(start + spaces, start + eq),
                    value: TextRange::new(start + eq + 1, content_end),
                    owner,
                    next: NONE,
                });
                if let Some(item) = items.get_mut(owner as usize) {
                    match props.get_mut(item.last_prop as usize) {
                        Some(last) => last.next = index,
                        None => item.first_prop = index,
                    }
                    item.last_prop = index;
                    item.prop_count += 1;
                }
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
    Ok(Document {
        kind,
        header: header_line,
        items,
        props,
        blanks,
        len: text.len(),
    })
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
            let name = String::from_utf8_lossy(text.get(item.name.as_range()).unwrap_or_default());
            let before = text.get(..item.head.start).unwrap_or_default();
            (
                format!("`item: {name}`"),
                memchr::memchr_iter(b'\n', before).count() + 1,
            )
        }
        None => ("an item".to_owned(), 0),
    }
}
