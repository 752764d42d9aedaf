//! Lossless WiX source syntax (`.wxs`, `.wxi`; grammar notes in `grammar/wix.md`).
//!
//! XML is read by `roxmltree` (well-formedness, namespaces, comments, CDATA), never rebuilt: the
//! tree is a flat preorder list of [`Element`]s whose every part is a byte range of the working
//! text, plus the comments and processing instructions between them. Printing is the text itself;
//! an edit ([`WixDocument::removal`], [`WixDocument::attribute_rewrite`]) replaces one exact range
//! and leaves every other byte alone.
//!
//! Never expanded: a document type declaration (`<!DOCTYPE`, which could declare entities or
//! name an external subset) is refused, so there are no entity bombs and no fetches; only the five
//! predefined entities and character references are read. Preprocessor variables (`$(var.X)`)
//! and installer properties (`[INSTALLDIR]`) are ordinary text: opaque, kept as written.
//!
//! An 8-bit text that is not UTF-8 (a source saved in the ANSI code page) is parsed through a
//! copy whose non-ASCII bytes are replaced by `x`: one byte for one byte, so every offset is the
//! same, and values are read from the real bytes ([`WixDocument::value`]).

mod views;

use std::borrow::Cow;

use super::SyntaxError;
use crate::detect::WixSchema;
use crate::text::TextRange;

pub use views::{KeyCreation, RegistryElement, RegistryOperation, ServiceInstall, WixRoot};

/// WiX's utility extension, v3 and v4 (`util:ServiceConfig`, `util:EventSource`).
pub const UTIL_V3_NAMESPACE: &str = "http://schemas.microsoft.com/wix/UtilExtension";
pub const UTIL_V4_NAMESPACE: &str = "http://wixtoolset.org/schemas/v4/wxs/util";

/// "No element" in parent links.
pub const NONE: u32 = u32::MAX;

/// A parsed WiX source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WixDocument {
    pub schema: WixSchema,
    /// Every element in document (pre)order; the root is `elements[0]`.
    pub elements: Vec<Element>,
    /// The attributes of all elements (namespace declarations included), each element's in
    /// tag order at [`Element::attributes`].
    pub attributes: Vec<Attribute>,
    /// Comments and processing instructions (preprocessor directives), in document order.
    pub misc: Vec<Misc>,
    /// The text is 8-bit and not UTF-8: values are decoded as such.
    pub eight_bit: bool,
    /// Length of the parsed text.
    pub len: usize,
}

/// One element: its ranges, what it is, and where it sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    pub kind: ElementKind,
    /// The qualified name in the start tag (`util:ServiceConfig`).
    pub name: TextRange,
    /// From `<` to the end of the end tag (or of `/>`).
    pub range: TextRange,
    /// From `<` to the start tag's `>`.
    pub start_tag: TextRange,
    /// Between the start and end tags; empty at `start_tag.end` for `<x/>`.
    pub content: TextRange,
    /// Indices into [`WixDocument::attributes`].
    pub attributes: std::ops::Range<u32>,
    pub parent: u32,
    /// One past the index of the element's last descendant (its subtree is `index..end`).
    pub end: u32,
    /// Inside a `<?if?>`/`<?ifdef?>`/`<?ifndef?>` region: the element may not be built.
    pub conditional: bool,
    /// Inside a `<?foreach?>` region: the element is built once per item, with other values.
    pub repeated: bool,
}

/// The elements the lowering and the fixes read, in WiX's namespace (or the WiX utility
/// extension's, for `UtilServiceConfig` and `UtilEventSource`). Everything else is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElementKind {
    Wix,
    Include,
    Product,
    Package,
    Module,
    Fragment,
    Component,
    /// A `Component`'s (or `Feature`'s) install condition, in WiX v3.
    Condition,
    RegistryKey,
    RegistryValue,
    MultiStringValue,
    RemoveRegistryKey,
    RemoveRegistryValue,
    ServiceInstall,
    ServiceConfig,
    ServiceControl,
    ServiceDependency,
    File,
    UtilServiceConfig,
    UtilEventSource,
    /// Any other element, WiX's or not.
    Other,
}

impl ElementKind {
    fn of_wix(local: &str) -> Self {
        use ElementKind::*;
        match local {
            "Wix" => Wix,
            "Include" => Include,
            "Product" => Product,
            "Package" => Package,
            "Module" => Module,
            "Fragment" => Fragment,
            "Component" => Component,
            "Condition" => Condition,
            "RegistryKey" => RegistryKey,
            "RegistryValue" => RegistryValue,
            "MultiStringValue" => MultiStringValue,
            "RemoveRegistryKey" => RemoveRegistryKey,
            "RemoveRegistryValue" => RemoveRegistryValue,
            "ServiceInstall" => ServiceInstall,
            "ServiceConfig" => ServiceConfig,
            "ServiceControl" => ServiceControl,
            "ServiceDependency" => ServiceDependency,
            "File" => File,
            _ => Other,
        }
    }

    fn of_util(local: &str) -> Self {
        match local {
            "ServiceConfig" => ElementKind::UtilServiceConfig,
            "EventSource" => ElementKind::UtilEventSource,
            _ => ElementKind::Other,
        }
    }
}

/// `name="value"` in a start tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// The qualified name.
    pub name: TextRange,
    /// The value between the quotes, as written (not unescaped).
    pub value: TextRange,
    /// `"` or `'`.
    pub quote: u8,
    /// From the name to the closing quote.
    pub range: TextRange,
}

/// A comment or a processing instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Misc {
    pub kind: MiscKind,
    /// The whole `<!--…-->` or `<?…?>`.
    pub range: TextRange,
    /// A comment's text, or a processing instruction's target (`if`, `include`, …).
    pub name: TextRange,
    /// A processing instruction's data after its target (empty for comments).
    pub data: TextRange,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MiscKind {
    Comment,
    ProcessingInstruction,
}

/// Parses a WiX source whose schema [`crate::detect::detect`] has decided.
pub fn parse(text: &[u8], schema: WixSchema) -> Result<WixDocument, SyntaxError> {
    let eight_bit = std::str::from_utf8(text).is_err();
    let placeholder;
    let xml: &str = match std::str::from_utf8(text) {
        Ok(xml) => xml,
        Err(_) => {
            // One ASCII byte per 8-bit byte: the same offsets (see the module docs).
            placeholder = text
                .iter()
                .map(|&b| if b.is_ascii() { b as char } else { 'x' })
                .collect::<String>();
            &placeholder
        }
    };
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    let tree =
        roxmltree::Document::parse_with_options(xml, options).map_err(|e| xml_error(xml, &e))?;
    let wix_namespace = match schema {
        WixSchema::V3 => Some(crate::detect::WIX_V3_NAMESPACE),
        WixSchema::V4 => Some(crate::detect::WIX_V4_NAMESPACE),
        WixSchema::Unqualified => None,
    };
    let mut doc = WixDocument {
        schema,
        elements: Vec::new(),
        attributes: Vec::new(),
        misc: Vec::new(),
        eight_bit,
        len: text.len(),
    };
    // Open preprocessor regions, in document order: (`if` depth, `foreach` depth).
    let mut regions = (0usize, 0usize);
    let mut parents: Vec<(roxmltree::NodeId, u32)> = Vec::new();
    for node in tree.root().descendants() {
        let range = TextRange::from(node.range());
        match node.node_type() {
            roxmltree::NodeType::Element => {
                let start_tag = start_tag(text, range.start)
                    .ok_or_else(|| SyntaxError::new(range.start, "malformed start tag"))?;
                let name = TextRange::new(range.start + 1, start_tag.name_end);
                let content = if start_tag.empty {
                    TextRange::empty(start_tag.end)
                } else {
                    // `</name` + blanks + `>` ends the element.
                    let end_tag = text[..range.end]
                        .iter()
                        .rposition(|&b| b == b'<')
                        .filter(|&at| at >= start_tag.end)
                        .ok_or_else(|| SyntaxError::new(range.start, "element without end tag"))?;
                    TextRange::new(start_tag.end, end_tag)
                };
                let tag = node.tag_name();
                let kind = match tag.namespace() {
                    ns if ns == wix_namespace => ElementKind::of_wix(tag.name()),
                    Some(UTIL_V3_NAMESPACE | UTIL_V4_NAMESPACE) => ElementKind::of_util(tag.name()),
                    _ => ElementKind::Other,
                };
                let parent = node
                    .parent()
                    .and_then(|p| parents.iter().rev().find(|(id, _)| *id == p.id()))
                    .map_or(NONE, |&(_, index)| index);
                let first = doc.attributes.len() as u32;
                doc.attributes.extend(start_tag.attributes);
                let index = doc.elements.len() as u32;
                doc.elements.push(Element {
                    kind,
                    name,
                    range,
                    start_tag: TextRange::new(range.start, start_tag.end),
                    content,
                    attributes: first..doc.attributes.len() as u32,
                    parent,
                    end: index + 1,
                    conditional: regions.0 > 0,
                    repeated: regions.1 > 0,
                });
                // Only the open ancestors stay on the stack.
                while parents
                    .last()
                    .is_some_and(|(id, _)| Some(*id) != node.parent().map(|p| p.id()))
                {
                    parents.pop();
                }
                parents.push((node.id(), index));
            }
            roxmltree::NodeType::Comment => {
                let name = TextRange::new(range.start + 4, range.end.saturating_sub(3));
                doc.misc.push(Misc {
                    kind: MiscKind::Comment,
                    range,
                    name,
                    data: TextRange::empty(name.end),
                });
            }
            roxmltree::NodeType::PI => {
                let inner = TextRange::new(range.start + 2, range.end.saturating_sub(2));
                let target_len = text[inner.as_range()]
                    .iter()
                    .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                    .unwrap_or(inner.len());
                let target = TextRange::new(inner.start, inner.start + target_len);
                let data_start = inner.start
                    + target_len
                    + text[inner.start + target_len..inner.end]
                        .iter()
                        .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                        .count();
                match &text[target.as_range()] {
                    b"if" | b"ifdef" | b"ifndef" => regions.0 += 1,
                    b"endif" => regions.0 = regions.0.saturating_sub(1),
                    b"foreach" => regions.1 += 1,
                    b"endforeach" => regions.1 = regions.1.saturating_sub(1),
                    _ => {}
                }
                doc.misc.push(Misc {
                    kind: MiscKind::ProcessingInstruction,
                    range,
                    name: target,
                    data: TextRange::new(data_start.min(inner.end), inner.end),
                });
            }
            roxmltree::NodeType::Root | roxmltree::NodeType::Text => {}
        }
    }
    // Subtree ends: each element's end is its last descendant's index + 1.
    for index in (0..doc.elements.len()).rev() {
        let (end, parent) = (doc.elements[index].end, doc.elements[index].parent);
        if let Some(parent) = doc.elements.get_mut(parent as usize) {
            parent.end = parent.end.max(end);
        }
    }
    Ok(doc)
}

/// A `roxmltree` error at the byte offset of its row and column (columns count characters).
fn xml_error(xml: &str, error: &roxmltree::Error) -> SyntaxError {
    let pos = error.pos();
    let line_start = if pos.row <= 1 {
        Some(0)
    } else {
        let mut rows = 1;
        xml.bytes().enumerate().find_map(|(i, b)| {
            // Line breaks as XML counts them: `\n`, and a `\r` not followed by `\n`.
            let breaks = b == b'\n' || (b == b'\r' && xml.as_bytes().get(i + 1) != Some(&b'\n'));
            if breaks {
                rows += 1;
                (rows == pos.row).then_some(i + 1)
            } else {
                None
            }
        })
    };
    let offset = line_start.map_or(xml.len(), |start| {
        xml[start..]
            .char_indices()
            .nth(pos.col.saturating_sub(1) as usize)
            .map_or(xml.len(), |(i, _)| start + i)
    });
    let message = match error {
        roxmltree::Error::DtdDetected => "a document type declaration (`<!DOCTYPE`): DTDs and entity declarations are refused, entities are never expanded".to_string(),
        roxmltree::Error::UnclosedRootNode => {
            // Reported at the document's start; what is missing is at its end.
            return SyntaxError::new(
                xml.len(),
                "malformed XML: unexpected end of file, an element is never closed",
            );
        }
        roxmltree::Error::UnknownEntityReference(name, _) => {
            format!("unknown entity `&{name};` (only the five predefined XML entities are read)")
        }
        other => {
            // roxmltree ends its messages with "at ROW:COL", which the caller prints itself.
            let text = other.to_string();
            let cut = text.rfind(" at ").unwrap_or(text.len());
            format!("malformed XML: {}", &text[..cut])
        }
    };
    SyntaxError::new(offset, message)
}

/// A start tag read from its `<`: where its name ends, its attributes and its end.
struct StartTag {
    name_end: usize,
    attributes: Vec<Attribute>,
    /// After the `>`.
    end: usize,
    /// `/>`.
    empty: bool,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn skip_space(text: &[u8], mut at: usize) -> usize {
    while text.get(at).is_some_and(|&b| is_space(b)) {
        at += 1;
    }
    at
}

/// Reads the start tag at `lt` of a text `roxmltree` accepted, namespace declarations
/// included (which `roxmltree` does not list as attributes).
fn start_tag(text: &[u8], lt: usize) -> Option<StartTag> {
    let name_len = text
        .get(lt + 1..)?
        .iter()
        .position(|&b| is_space(b) || b == b'>' || b == b'/')?;
    let name_end = lt + 1 + name_len;
    let mut attributes = Vec::new();
    let mut at = name_end;
    loop {
        at = skip_space(text, at);
        match text.get(at)? {
            b'>' => {
                return Some(StartTag {
                    name_end,
                    attributes,
                    end: at + 1,
                    empty: false,
                });
            }
            b'/' => {
                return (text.get(at + 1) == Some(&b'>')).then_some(StartTag {
                    name_end,
                    attributes,
                    end: at + 2,
                    empty: true,
                });
            }
            _ => {
                let start = at;
                let len = text[at..].iter().position(|&b| is_space(b) || b == b'=')?;
                let name = TextRange::new(start, start + len);
                let eq = skip_space(text, name.end);
                (text.get(eq) == Some(&b'=')).then_some(())?;
                let open = skip_space(text, eq + 1);
                let quote = *text.get(open).filter(|&&q| q == b'"' || q == b'\'')?;
                let close = open + 1 + memchr::memchr(quote, &text[open + 1..])?;
                attributes.push(Attribute {
                    name,
                    value: TextRange::new(open + 1, close),
                    quote,
                    range: TextRange::new(start, close + 1),
                });
                at = close + 1;
            }
        }
    }
}

impl WixDocument {
    pub fn element(&self, index: u32) -> Option<&Element> {
        self.elements.get(index as usize)
    }

    /// The element's attributes, in tag order.
    pub fn attributes_of(&self, element: &Element) -> &[Attribute] {
        let range = element.attributes.start as usize..element.attributes.end as usize;
        self.attributes.get(range).unwrap_or_default()
    }

    /// The attribute named `name` (unqualified, exact case, as WiX's are) of an element.
    pub fn attribute<'d>(
        &'d self,
        text: &[u8],
        element: &Element,
        name: &str,
    ) -> Option<&'d Attribute> {
        self.attributes_of(element)
            .iter()
            .find(|a| text.get(a.name.as_range()) == Some(name.as_bytes()))
    }

    /// The unescaped value of `name` on an element, if it has it.
    pub fn attribute_value<'t>(
        &self,
        text: &'t [u8],
        element: &Element,
        name: &str,
    ) -> Option<Cow<'t, [u8]>> {
        self.attribute(text, element, name)
            .map(|a| self.value(text, a))
    }

    /// An attribute's value as XML reads it: references replaced, blanks normalized (a tab or
    /// line break written as such is a space; written as a character reference it stays).
    /// Borrowed when nothing needs replacing, as almost every WiX value.
    pub fn value<'t>(&self, text: &'t [u8], attribute: &Attribute) -> Cow<'t, [u8]> {
        let raw = text.get(attribute.value.as_range()).unwrap_or_default();
        unescape(raw, true, self.eight_bit)
    }

    /// The text content of an element (`MultiStringValue`'s in WiX v3): character data and
    /// CDATA sections, references replaced; comments and processing instructions left out.
    pub fn text_content<'t>(&self, text: &'t [u8], element: &Element) -> Cow<'t, [u8]> {
        let raw = text.get(element.content.as_range()).unwrap_or_default();
        if memchr::memchr(b'<', raw).is_none() {
            return unescape(raw, false, self.eight_bit);
        }
        let mut out = Vec::new();
        let mut rest = raw;
        while !rest.is_empty() {
            let Some(lt) = memchr::memchr(b'<', rest) else {
                out.extend_from_slice(&unescape(rest, false, self.eight_bit));
                break;
            };
            out.extend_from_slice(&unescape(&rest[..lt], false, self.eight_bit));
            rest = &rest[lt..];
            let (skip, keep) = if rest.starts_with(b"<![CDATA[") {
                let end = memchr::memmem::find(rest, b"]]>").unwrap_or(rest.len());
                (end + 3, &rest[9..end])
            } else {
                let close: &[u8] = if rest.starts_with(b"<!--") {
                    b"-->"
                } else {
                    b">"
                };
                let end = memchr::memmem::find(rest, close).unwrap_or(rest.len());
                (end + close.len(), &b""[..])
            };
            out.extend_from_slice(keep);
            rest = rest.get(skip..).unwrap_or_default();
        }
        Cow::Owned(out)
    }

    /// The children of an element, in order.
    pub fn children(&self, index: u32) -> impl Iterator<Item = (u32, &Element)> + '_ {
        let end = self.element(index).map_or(index, |e| e.end);
        let mut at = index + 1;
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let child = self.element(at)?;
            let found = at;
            at = child.end;
            Some((found, child))
        })
    }

    /// The ancestors of an element, nearest first.
    pub fn ancestors(&self, index: u32) -> impl Iterator<Item = (u32, &Element)> + '_ {
        let mut at = self.element(index).map_or(NONE, |e| e.parent);
        std::iter::from_fn(move || {
            let element = self.element(at)?;
            let found = at;
            at = element.parent;
            Some((found, element))
        })
    }

    /// The nearest `Component` holding an element.
    pub fn component_of(&self, index: u32) -> Option<u32> {
        self.ancestors(index)
            .find(|(_, e)| e.kind == ElementKind::Component)
            .map(|(i, _)| i)
    }

    /// Whether the tree accounts for every byte of `text`: the start and end tags, comments and
    /// processing instructions are in order and do not overlap, and every byte between them
    /// is character data (CDATA sections and the XML declaration included), so printing the
    /// pieces in order gives back the text.
    pub fn is_lossless(&self, text: &[u8]) -> bool {
        let mut pieces: Vec<TextRange> = Vec::with_capacity(self.elements.len() * 2);
        for e in &self.elements {
            pieces.push(e.start_tag);
            if e.range.end > e.start_tag.end {
                pieces.push(TextRange::new(e.content.end, e.range.end));
            }
        }
        pieces.extend(self.misc.iter().map(|m| m.range));
        pieces.sort_by_key(|r| (r.start, r.end));
        let mut at = 0;
        for piece in pieces.iter().copied().chain([TextRange::empty(text.len())]) {
            if piece.start < at || piece.end > text.len() || self.len != text.len() {
                return false;
            }
            if !is_character_data(&text[at..piece.start]) {
                return false;
            }
            at = piece.end;
        }
        true
    }

    /// The edit that removes an element: with its whole line (indentation and line ending)
    /// when nothing else stands on that line, else exactly the element.
    pub fn removal(&self, text: &[u8], element: &Element) -> crate::fix::Edit {
        crate::fix::Edit::delete(line_of(text, element.range))
    }

    /// The edit that gives an attribute a new value (`value` as XML should read it): escaped
    /// for its quotes, so it reads back as `value`.
    pub fn attribute_rewrite(&self, attribute: &Attribute, value: &[u8]) -> crate::fix::Edit {
        crate::fix::Edit::replace(attribute.value, escape(value, attribute.quote))
    }
}

/// Text between markup: no `<` except in CDATA sections and the XML declaration.
fn is_character_data(mut gap: &[u8]) -> bool {
    while let Some(lt) = memchr::memchr(b'<', gap) {
        let rest = &gap[lt..];
        let (open, close): (&[u8], &[u8]) = if rest.starts_with(b"<![CDATA[") {
            (b"<![CDATA[", b"]]>")
        } else if rest.starts_with(b"<?xml") {
            (b"<?xml", b"?>")
        } else {
            return false;
        };
        match memchr::memmem::find(&rest[open.len()..], close) {
            Some(end) => gap = &rest[open.len() + end + close.len()..],
            None => return false,
        }
    }
    true
}

/// `range` grown to its whole line(s) when only blanks stand beside it on them.
pub fn line_of(text: &[u8], range: TextRange) -> TextRange {
    let before = text[..range.start]
        .iter()
        .rev()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let start = range.start - before;
    if start != 0 && !matches!(text[start - 1], b'\n' | b'\r') {
        return range;
    }
    let after = text[range.end..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let end = range.end + after;
    let terminator = match &text[end..] {
        [b'\r', b'\n', ..] => 2,
        [b'\n' | b'\r', ..] => 1,
        [] => 0,
        _ => return range,
    };
    TextRange::new(start, end + terminator)
}

/// XML's reading of attribute (`attribute`) or character data: the predefined entities and
/// character references replaced, and in attributes literal blanks normalized to spaces
/// (`\r\n` counting once). `eight_bit`: a referenced non-ASCII character is written in the
/// Windows-1252 code page (the working text's), or as `?` when it has none there.
pub fn unescape(raw: &[u8], attribute: bool, eight_bit: bool) -> Cow<'_, [u8]> {
    let special = |b: &u8| *b == b'&' || (attribute && matches!(b, b'\t' | b'\r' | b'\n'));
    if !raw.iter().any(special) {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'&' => {
                let Some(semi) = memchr::memchr(b';', &raw[i..]) else {
                    out.push(b'&');
                    i += 1;
                    continue;
                };
                let name = &raw[i + 1..i + semi];
                let c = match name {
                    b"lt" => Some('<'),
                    b"gt" => Some('>'),
                    b"amp" => Some('&'),
                    b"quot" => Some('"'),
                    b"apos" => Some('\''),
                    [b'#', b'x', hex @ ..] => std::str::from_utf8(hex)
                        .ok()
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32),
                    [b'#', dec @ ..] => std::str::from_utf8(dec)
                        .ok()
                        .and_then(|d| d.parse().ok())
                        .and_then(char::from_u32),
                    _ => None,
                };
                match c {
                    Some(c) if eight_bit && !c.is_ascii() => {
                        let mut buf = [0u8; 4];
                        let (bytes, _, unmappable) =
                            encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buf));
                        out.extend_from_slice(if unmappable { b"?" } else { &bytes });
                    }
                    Some(c) => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    None => out.extend_from_slice(&raw[i..=i + semi]),
                }
                i += semi + 1;
            }
            b'\r' if attribute => {
                out.push(b' ');
                i += if raw.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
            }
            b'\t' | b'\n' if attribute => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// `value` written inside an attribute quoted with `quote`, so that it reads back as `value`.
pub fn escape(value: &[u8], quote: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'"' if quote == b'"' => out.extend_from_slice(b"&quot;"),
            b'\'' if quote == b'\'' => out.extend_from_slice(b"&apos;"),
            b'\t' => out.extend_from_slice(b"&#9;"),
            b'\n' => out.extend_from_slice(b"&#10;"),
            b'\r' => out.extend_from_slice(b"&#13;"),
            b => out.push(b),
        }
    }
    out
}

#[cfg(test)]
mod tests;
