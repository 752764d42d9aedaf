//! Names as the registry reads and compares them.
//!
//! A file's working text is bytes (see [`crate::source`]); what Windows installs is Unicode:
//! - an 8-bit file (a `.reg` without a byte-order mark, a script) is read in the ANSI code page,
//!   Windows-1252 on the reference configuration, byte by byte (regedit and the installer pass
//!   8-bit strings to the `…A` registry functions; a UTF-8 file is no exception: its `é` installs
//!   as `Ã©`, as Wine's regedit shows);
//! - a UTF-16 file's working text is its text in UTF-8, and so is a UTF-8 file with a BOM.
//!
//! Key and value names compare case-insensitively as the registry compares them: both sides
//! upper-cased character by character with [`upcase`], not ASCII folding. `Ü` and `ü` name the
//! same key; `ß` and `SS` do not.

use std::borrow::Cow;

use crate::source::Encoding;

/// How a file's working-text bytes read as Unicode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Charset {
    /// 8-bit text in the ANSI code page (Windows-1252).
    #[default]
    Ansi,
    /// UTF-8 (the working text of UTF-16 files, of UTF-8 files with a BOM and of a Windows
    /// Installer database's view).
    Utf8,
}

impl Charset {
    /// The charset of a file's working text.
    pub fn of(encoding: Encoding) -> Self {
        match encoding {
            Encoding::Ansi | Encoding::Utf8 => Charset::Ansi,
            Encoding::Utf8Bom | Encoding::Utf16Le | Encoding::Database => Charset::Utf8,
        }
    }

    /// Working-text bytes as the Unicode text Windows installs (see the module documentation).
    /// Borrowed when the bytes are ASCII (or valid UTF-8 of a Unicode file).
    pub fn decode<'b>(self, bytes: &'b [u8]) -> Cow<'b, str> {
        match self {
            Charset::Ansi if bytes.is_ascii() => {
                Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default())
            }
            Charset::Ansi => {
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(bytes)
                    .0
            }
            Charset::Utf8 => String::from_utf8_lossy(bytes),
        }
    }
}

/// The character the registry compares `c` as: its upper case when that is one character
/// whose lower case is `c` again, else `c` itself. Characters outside the Basic Multilingual
/// Plane are kept (the registry upper-cases UTF-16 code units one by one).
///
/// This is the simple one-to-one part of Unicode's case mapping, which is what Windows' (and
/// Wine's) upper-case table holds: `ü`→`Ü` and `ǆ`→`Ǆ`, but not `ß`→`SS` (two characters), nor
/// `ı`→`I`, `ſ`→`S`, `µ`→`Μ`, `ς`→`Σ` or the title-case `ǅ` (their upper case lower-cases to
/// another character). The Wine oracle test (`tests/wine_regedit_oracle.rs`) checks every pair
/// of Basic Multilingual Plane characters that Unicode's case mappings relate against Wine's
/// regedit.
pub fn upcase(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    if u32::from(c) > 0xFFFF {
        return c;
    }
    let mut upper = c.to_uppercase();
    let (Some(u), None) = (upper.next(), upper.next()) else {
        return simple_upper_of_special(c);
    };
    if u == c || u32::from(u) > 0xFFFF {
        return c;
    }
    let mut lower = u.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) if l == c => u,
        _ => c,
    }
}

/// The one-character upper case of the few characters whose full upper case is several
/// characters but whose simple mapping (Unicode's `UnicodeData.txt`, which Windows' and Wine's
/// tables follow) is one: the Greek vowels with ypogegrammeni map to their prosgegrammeni
/// capitals (`ᾳ`→`ᾼ`, `ᾀ`→`ᾈ`). Every other such character (`ß`, `ŉ`, `ﬀ`…) has no simple
/// upper case.
fn simple_upper_of_special(c: char) -> char {
    let shifted = |by: u32| char::from_u32(u32::from(c) + by).unwrap_or(c);
    match c {
        '\u{1F80}'..='\u{1F87}' | '\u{1F90}'..='\u{1F97}' | '\u{1FA0}'..='\u{1FA7}' => shifted(8),
        '\u{1FB3}' | '\u{1FC3}' | '\u{1FF3}' => shifted(9),
        _ => c,
    }
}

/// `name` upper-cased with [`upcase`]; borrowed when nothing changes.
pub fn fold(name: &str) -> Cow<'_, str> {
    if name
        .bytes()
        .all(|b| !b.is_ascii_lowercase() && b.is_ascii())
    {
        return Cow::Borrowed(name);
    }
    Cow::Owned(name.chars().map(upcase).collect())
}

/// Whether two names are the same for the registry.
pub fn same(a: &str, b: &str) -> bool {
    if a.len() == b.len() && a.eq_ignore_ascii_case(b) && a.is_ascii() {
        return true;
    }
    a.chars().map(upcase).eq(b.chars().map(upcase))
}

/// Whether two working-text names (both of files with charset `charset`) are the same for the
/// registry. ASCII names (nearly all) compare without decoding.
pub fn same_bytes(charset: Charset, a: &[u8], b: &[u8]) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    same(&charset.decode(a), &charset.decode(b))
}

/// The folded form of a working-text name: what two names must share to be the same.
pub fn folded(charset: Charset, bytes: &[u8]) -> Cow<'_, str> {
    match charset.decode(bytes) {
        Cow::Borrowed(s) => fold(s),
        Cow::Owned(s) => Cow::Owned(fold(&s).into_owned()),
    }
}

/// Feeds the folded form of a working-text name into a hash, a character at a time, without
/// allocating for ASCII names (which is nearly all of them).
pub fn hash_folded(charset: Charset, bytes: &[u8], mut feed: impl FnMut(u32)) {
    if bytes.is_ascii() {
        for &b in bytes {
            feed(u32::from(b.to_ascii_uppercase()));
        }
        return;
    }
    for c in charset.decode(bytes).chars() {
        feed(u32::from(upcase(c)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_case_mapping_is_one_to_one() {
        for (a, b) in [
            ('ü', 'Ü'),
            ('ä', 'Ä'),
            ('é', 'É'),
            ('ÿ', 'Ÿ'),
            ('ǆ', 'Ǆ'),
            ('я', 'Я'),
        ] {
            assert_eq!(upcase(a), b, "{a}");
            assert_eq!(upcase(b), b, "{b}");
        }
        // Not mapped: several characters, or a lower case that is another character.
        for c in ['ß', 'ı', 'ſ', 'µ', 'ς', 'ǅ', 'ﬀ', '\u{10428}'] {
            assert_eq!(upcase(c), c, "{c}");
        }
        // Full upper case several characters, simple upper case one.
        for (a, b) in [
            ('ᾀ', 'ᾈ'),
            ('ᾗ', 'ᾟ'),
            ('ᾧ', 'ᾯ'),
            ('ᾳ', 'ᾼ'),
            ('ῃ', 'ῌ'),
            ('ῳ', 'ῼ'),
        ] {
            assert_eq!(upcase(a), b, "{a}");
            assert_eq!(upcase(b), b, "{b}");
        }
        assert!(same("ÜberwachungsDienst", "überwachungsdienst"));
        assert!(!same("straße", "STRASSE"));
        assert!(!same("ǅ", "ǆ"));
    }

    #[test]
    fn eight_bit_names_read_in_the_ansi_code_page() {
        let (upper, lower) = (b"\xDCberwachung".as_slice(), b"\xFCberwachung".as_slice());
        assert!(same_bytes(Charset::Ansi, upper, lower));
        assert_eq!(Charset::Ansi.decode(b"\xC3\xA9"), "Ã©");
        assert_eq!(Charset::Utf8.decode("é".as_bytes()), "é");
        assert_eq!(folded(Charset::Ansi, lower), "ÜBERWACHUNG");
        let (mut a, mut b) = (Vec::new(), Vec::new());
        hash_folded(Charset::Ansi, upper, |c| a.push(c));
        hash_folded(Charset::Utf8, "überwachung".as_bytes(), |c| b.push(c));
        assert_eq!(a, b);
    }
}
