//! Install-time references in templates: a format whose strings the installer expands
//! ([`super::FileModel::templates`]) writes a variable's value as `%NAME%` and a literal `%` as
//! `%%`. A `%` that opens no reference (`100%`, `%1`) stands for itself.

/// A `%NAME%` reference in a text: `range` covers both `%` signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub range: std::ops::Range<usize>,
}

impl Reference {
    /// The name between the `%` signs.
    pub fn name<'v>(&self, value: &'v [u8]) -> &'v [u8] {
        value
            .get(self.range.start + 1..self.range.end - 1)
            .unwrap_or_default()
    }
}

/// The `%NAME%` references of a text, left to right, as the installer pairs the signs: `%%`
/// is an escaped `%`; a `%` opens a reference that the next `%` closes when the text between
/// is a name (letters, digits, `_`, and the parentheses of `%ProgramFiles(x86)%`); otherwise
/// the `%` stands alone and the scan goes on after it.
pub fn references(value: &[u8]) -> References<'_> {
    References { value, at: 0 }
}

/// See [`references`].
pub struct References<'v> {
    value: &'v [u8],
    at: usize,
}

impl Iterator for References<'_> {
    type Item = Reference;

    fn next(&mut self) -> Option<Reference> {
        let value = self.value;
        while let Some(p) = find_percent(value.get(self.at..)?) {
            let open = self.at + p;
            if value.get(open + 1) == Some(&b'%') {
                self.at = open + 2;
                continue;
            }
            let Some(len) = find_percent(&value[open + 1..]) else {
                self.at = value.len();
                return None;
            };
            let close = open + 1 + len;
            let name = &value[open + 1..close];
            if !name.is_empty() && name.iter().all(|&b| is_name_byte(b)) {
                self.at = close + 1;
                return Some(Reference {
                    range: open..close + 1,
                });
            }
            self.at = open + 1;
        }
        self.at = value.len();
        None
    }
}

/// The first `%` of `text`. Values are short, shorter than a `memchr` call's set-up pays for.
fn find_percent(text: &[u8]) -> Option<usize> {
    if text.len() < 64 {
        text.iter().position(|&b| b == b'%')
    } else {
        memchr::memchr(b'%', text)
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'(' | b')')
}

/// One piece of an expanded template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece<'t> {
    /// Text installed as it is (`%%` already made one `%`).
    Literal(std::borrow::Cow<'t, [u8]>),
    /// A reference to the named variable.
    Reference(&'t [u8]),
}

/// A template cut into literal text and references, in order; adjacent literals are joined.
pub fn pieces(template: &[u8]) -> Vec<Piece<'_>> {
    let mut out: Vec<Piece<'_>> = Vec::new();
    let mut literal: Vec<u8> = Vec::new();
    let mut at = 0;
    let flush = |literal: &mut Vec<u8>, out: &mut Vec<Piece<'_>>| {
        if !literal.is_empty() {
            out.push(Piece::Literal(std::borrow::Cow::Owned(std::mem::take(
                literal,
            ))));
        }
    };
    for r in references(template) {
        unescape_into(&template[at..r.range.start], &mut literal);
        flush(&mut literal, &mut out);
        out.push(Piece::Reference(r.name(template)));
        at = r.range.end;
    }
    unescape_into(&template[at..], &mut literal);
    flush(&mut literal, &mut out);
    out
}

/// Text between references: every `%%` is one `%`.
fn unescape_into(text: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < text.len() {
        out.push(text[i]);
        i += if text[i] == b'%' && text.get(i + 1) == Some(&b'%') {
            2
        } else {
            1
        };
    }
}

/// The template with every reference replaced by `constant(name)` and `%%` made `%`; `None`
/// when a reference has no constant value.
pub fn substitute(template: &[u8], constant: &dyn Fn(&[u8]) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(template.len());
    for piece in pieces(template) {
        match piece {
            Piece::Literal(text) => out.extend_from_slice(&text),
            Piece::Reference(name) => out.extend_from_slice(&constant(name)?),
        }
    }
    Some(out)
}

/// Every `%` of `value` doubled: the installer then writes `value` literally.
pub fn escape_percent(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 4);
    for &b in value {
        if b == b'%' {
            out.push(b'%');
        }
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(value: &str) -> Vec<String> {
        let v = value.as_bytes();
        references(v)
            .map(|r| String::from_utf8_lossy(r.name(v)).into_owned())
            .collect()
    }

    #[test]
    fn references_pair_percent_signs_like_the_installer() {
        assert_eq!(names("%SystemRoot%\\System32\\x.dll"), ["SystemRoot"]);
        assert_eq!(names("%%SystemRoot%%\\x"), Vec::<String>::new());
        assert_eq!(names("%MAINDIR%\\%SUB%"), ["MAINDIR", "SUB"]);
        assert_eq!(names("100% %WIN%"), ["WIN"]);
        assert_eq!(names("%%1"), Vec::<String>::new());
        assert_eq!(names("\"%1\" %2"), Vec::<String>::new());
        assert_eq!(names("%ProgramFiles(x86)%\\a"), ["ProgramFiles(x86)"]);
        assert_eq!(names("%"), Vec::<String>::new());
        assert_eq!(names("%%%A%"), ["A"]);
    }

    #[test]
    fn substitution_puts_constants_in_and_unescapes() {
        let constant = |name: &[u8]| (name == b"SVC").then(|| b"Wsp".to_vec());
        assert_eq!(
            substitute(b"Services\\%SVC%", &constant).as_deref(),
            Some(&b"Services\\Wsp"[..])
        );
        assert_eq!(
            substitute(b"100%% %1", &constant).as_deref(),
            Some(&b"100% %1"[..])
        );
        assert_eq!(substitute(b"%OTHER%\\x", &constant), None);
        assert_eq!(
            pieces(b"a%%b%X%c"),
            vec![
                Piece::Literal(b"a%b".to_vec().into()),
                Piece::Reference(b"X"),
                Piece::Literal(b"c".to_vec().into())
            ]
        );
    }

    #[test]
    fn escaping_doubles_every_percent() {
        assert_eq!(escape_percent(b"a%b%%c"), b"a%%b%%%%c");
    }
}
