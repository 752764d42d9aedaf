//! Registry paths: hives by number or name, and where a key sits under `HKLM\SYSTEM`.
//!
//! Paths compare case-insensitively (as the registry does: [`same_key`]; the names this module
//! recognises are ASCII), `HKLM` ≡ `HKEY_LOCAL_MACHINE`, empty segments (a trailing or
//! doubled `\`) are ignored. Nothing here rewrites a path: rules read it and
//! fixes replace exact byte ranges.

use std::fmt;
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hive {
    ClassesRoot,
    CurrentUser,
    LocalMachine,
    Users,
    CurrentConfig,
    PerformanceData,
    DynData,
    /// A script `Root` hive number or `.reg` root name that is not a known hive.
    Unknown,
}

impl Hive {
    /// From a script's `Root` byte (`Root & 0x1F`; 0 HKCR, 1 HKCU, 2 HKLM, 3 HKU).
    pub fn from_root(root: u32) -> Hive {
        match root & 0x1F {
            0 => Hive::ClassesRoot,
            1 => Hive::CurrentUser,
            2 => Hive::LocalMachine,
            3 => Hive::Users,
            _ => Hive::Unknown,
        }
    }

    /// From a `.reg` root name, full or abbreviated, case-insensitive.
    pub fn from_name(name: &[u8]) -> Hive {
        const NAMES: &[(&[u8], &[u8], Hive)] = &[
            (b"HKEY_LOCAL_MACHINE", b"HKLM", Hive::LocalMachine),
            (b"HKEY_CURRENT_USER", b"HKCU", Hive::CurrentUser),
            (b"HKEY_CLASSES_ROOT", b"HKCR", Hive::ClassesRoot),
            (b"HKEY_USERS", b"HKU", Hive::Users),
            (b"HKEY_CURRENT_CONFIG", b"HKCC", Hive::CurrentConfig),
            (b"HKEY_PERFORMANCE_DATA", b"HKPD", Hive::PerformanceData),
            (b"HKEY_DYN_DATA", b"HKDD", Hive::DynData),
        ];
        NAMES
            .iter()
            .find(|(long, short, _)| {
                name.eq_ignore_ascii_case(long) || name.eq_ignore_ascii_case(short)
            })
            .map_or(Hive::Unknown, |&(_, _, hive)| hive)
    }

    /// The name regedit exports (`HKEY_LOCAL_MACHINE`).
    pub fn long_name(self) -> &'static str {
        match self {
            Hive::ClassesRoot => "HKEY_CLASSES_ROOT",
            Hive::CurrentUser => "HKEY_CURRENT_USER",
            Hive::LocalMachine => "HKEY_LOCAL_MACHINE",
            Hive::Users => "HKEY_USERS",
            Hive::CurrentConfig => "HKEY_CURRENT_CONFIG",
            Hive::PerformanceData => "HKEY_PERFORMANCE_DATA",
            Hive::DynData => "HKEY_DYN_DATA",
            Hive::Unknown => "(unknown hive)",
        }
    }

    pub fn short_name(self) -> &'static str {
        match self {
            Hive::ClassesRoot => "HKCR",
            Hive::CurrentUser => "HKCU",
            Hive::LocalMachine => "HKLM",
            Hive::Users => "HKU",
            Hive::CurrentConfig => "HKCC",
            Hive::PerformanceData => "HKPD",
            Hive::DynData => "HKDD",
            Hive::Unknown => "(unknown hive)",
        }
    }
}

impl fmt::Display for Hive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

/// Which control set a `SYSTEM\…` path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ControlSet {
    Current,
    /// `ControlSetNNN` (the number as written, e.g. 1 for `ControlSet001`).
    Numbered(u16),
}

/// The control set `CurrentControlSet` links to in the reference configuration (on the capture
/// machine, and in the Wine prefix the oracle tests prepare).
pub const REFERENCE_SET: u16 = 1;

impl ControlSet {
    /// The current control set of the reference configuration: `CurrentControlSet` itself or
    /// the set it links to.
    pub fn is_reference(self) -> bool {
        match self {
            ControlSet::Current => true,
            ControlSet::Numbered(n) => n == REFERENCE_SET,
        }
    }
}

/// The non-empty `\`-separated segments of a key path, with their byte spans.
pub fn segments(key: &[u8]) -> impl Iterator<Item = (Range<usize>, &[u8])> {
    // A plain scan: segments are a few bytes long, shorter than a `memchr` call's set-up.
    let mut start = 0;
    std::iter::from_fn(move || {
        while start < key.len() && key[start] == b'\\' {
            start += 1;
        }
        if start >= key.len() {
            return None;
        }
        let end = key[start..]
            .iter()
            .position(|&b| b == b'\\')
            .map_or(key.len(), |p| start + p);
        let span = start..end;
        start = end;
        Some((span.clone(), &key[span]))
    })
}

/// A key under `HKLM\SYSTEM\<control set>\…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemLocation<'k> {
    pub control_set: ControlSet,
    /// The span of the control-set segment inside the key text.
    pub control_set_span: Range<usize>,
    /// The key text after the control-set segment.
    after: &'k [u8],
    /// The first segments after the control set (empty past the last), which is all the rules
    /// look at: kept inline, as a capture has tens of thousands of these keys and a list of
    /// segments per key was an allocation each.
    head: [&'k [u8]; HEAD],
    /// The text after the segments in `head`, when there are more.
    tail: &'k [u8],
    /// How many segments follow the control set.
    count: usize,
    /// `Services\<name>\…`: the name (every rule asks, most of them for every write).
    service: Option<&'k [u8]>,
}

/// Segments after the control set that a [`SystemLocation`] keeps inline.
const HEAD: usize = 4;

impl<'k> SystemLocation<'k> {
    /// Recognises `SYSTEM\CurrentControlSet\…` and `SYSTEM\ControlSetNNN\…` under HKLM.
    pub fn of(hive: Hive, key: &'k [u8]) -> Option<Self> {
        let (control_set, control_set_span) = control_set_of(hive, &mut segments(key))?;
        let after = key.get(control_set_span.end..).unwrap_or_default();
        let mut head: [&'k [u8]; HEAD] = [&[]; HEAD];
        let (mut tail, mut count): (&'k [u8], usize) = (&[], 0);
        for (span, segment) in segments(after) {
            if count < HEAD {
                head[count] = segment;
                if count == HEAD - 1 {
                    tail = after.get(span.end..).unwrap_or_default();
                }
            }
            count += 1;
        }
        let service = (count >= 2 && head[0].eq_ignore_ascii_case(b"Services")).then_some(head[1]);
        Some(Self {
            control_set,
            control_set_span,
            after,
            head,
            tail,
            count,
            service,
        })
    }

    /// The key text after the control-set segment (its segments are [`SystemLocation::rest`]).
    pub fn rest_text(&self) -> &'k [u8] {
        self.after
    }

    /// The segments after the control set.
    pub fn rest(&self) -> impl Iterator<Item = &'k [u8]> + use<'k> {
        let head = self.head;
        let inline = self.count.min(HEAD);
        head.into_iter()
            .take(inline)
            .chain(segments(self.tail).map(|(_, s)| s))
    }

    /// How many segments follow the control set.
    pub fn rest_len(&self) -> usize {
        self.count
    }

    /// Segment `i` after the control set.
    pub fn rest_segment(&self, i: usize) -> Option<&'k [u8]> {
        if i >= self.count {
            None
        } else if i < HEAD {
            Some(self.head[i])
        } else {
            self.rest().nth(i)
        }
    }

    /// Whether [`SystemLocation::of`] recognises the key, without collecting its segments
    /// (for deciding cheaply whether a write matters at all).
    pub fn holds(hive: Hive, key: &[u8]) -> bool {
        // Most keys fail on their first letters (`SOFTWARE\…`): look at those before
        // splitting the path.
        let start = key.iter().position(|&b| b != b'\\').unwrap_or(key.len());
        let head = key.get(start..start + 7).unwrap_or_default();
        head.len() == 7
            && head[..6].eq_ignore_ascii_case(b"SYSTEM")
            && head[6] == b'\\'
            && control_set_of(hive, &mut segments(key)).is_some()
    }

    /// Segment `i` after the control set equals `name` (case-insensitive).
    pub fn rest_is(&self, i: usize, name: &str) -> bool {
        self.rest_segment(i)
            .is_some_and(|s| s.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// `Services\<name>\…`: the service name.
    pub fn service(&self) -> Option<&'k [u8]> {
        self.service
    }

    /// How many segments follow `Services\<name>` (0 for the service key itself, and for a key
    /// that is not a service's).
    pub fn service_depth(&self) -> usize {
        if self.service.is_some() {
            self.count.saturating_sub(2)
        } else {
            0
        }
    }
}

/// `HKLM` and the segments `SYSTEM`, control set: the control set and its span.
fn control_set_of<'k>(
    hive: Hive,
    segs: &mut impl Iterator<Item = (Range<usize>, &'k [u8])>,
) -> Option<(ControlSet, Range<usize>)> {
    if hive != Hive::LocalMachine {
        return None;
    }
    let (_, system) = segs.next()?;
    if !system.eq_ignore_ascii_case(b"SYSTEM") {
        return None;
    }
    let (span, set) = segs.next()?;
    Some((parse_control_set(set)?, span))
}

fn parse_control_set(seg: &[u8]) -> Option<ControlSet> {
    if seg.eq_ignore_ascii_case(b"CurrentControlSet") {
        return Some(ControlSet::Current);
    }
    let digits = seg
        .get(..10)
        .filter(|p| p.eq_ignore_ascii_case(b"ControlSet"))
        .map(|_| &seg[10..])?;
    match digits {
        &[a, b, c] if digits.iter().all(u8::is_ascii_digit) => Some(ControlSet::Numbered(
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'),
        )),
        _ => None,
    }
}

/// Equality of two key paths of a file with charset `charset`, as the registry compares them
/// (see [`super::name`]), ignoring empty segments.
pub fn same_key(charset: super::Charset, a: &[u8], b: &[u8]) -> bool {
    if a.eq_ignore_ascii_case(b) && a.is_ascii() {
        return true;
    }
    let mut x = segments(a).map(|(_, s)| s);
    let mut y = segments(b).map(|(_, s)| s);
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if super::name::same_bytes(charset, p, q) => {}
            _ => return false,
        }
    }
}

/// Equality of two key paths: ASCII case-insensitive, ignoring empty segments.
pub fn keys_equal(a: &[u8], b: &[u8]) -> bool {
    // The same spelling but for case is the usual case.
    if a.eq_ignore_ascii_case(b) {
        return true;
    }
    let mut x = segments(a).map(|(_, s)| s);
    let mut y = segments(b).map(|(_, s)| s);
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p.eq_ignore_ascii_case(q) => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hives_by_number_and_name() {
        assert_eq!(Hive::from_root(2), Hive::LocalMachine);
        assert_eq!(Hive::from_root(130), Hive::LocalMachine);
        assert_eq!(Hive::from_root(194), Hive::LocalMachine);
        assert_eq!(Hive::from_root(0), Hive::ClassesRoot);
        assert_eq!(Hive::from_name(b"hkey_local_machine"), Hive::LocalMachine);
        assert_eq!(Hive::from_name(b"HKLM"), Hive::LocalMachine);
        assert_eq!(Hive::from_name(b"HKEY_FOO"), Hive::Unknown);
    }

    #[test]
    fn system_locations() {
        let loc = SystemLocation::of(
            Hive::LocalMachine,
            b"System\\ControlSet001\\services\\Foo\\Security\\",
        )
        .unwrap();
        assert_eq!(loc.control_set, ControlSet::Numbered(1));
        assert_eq!(loc.control_set_span, 7..20);
        assert_eq!(loc.service(), Some(&b"Foo"[..]));
        assert_eq!(loc.rest_segment(2), Some(&b"Security"[..]));
        assert_eq!(loc.rest_segment(0), Some(&b"services"[..]));
        assert_eq!(loc.rest().count(), 3);
        assert_eq!(loc.service_depth(), 1);
        let deep = b"SYSTEM\\CurrentControlSet\\Enum\\\\Root\\LEGACY_X\\0000\\Control\\x\\";
        let deep = SystemLocation::of(Hive::LocalMachine, deep).unwrap();
        let names: Vec<&[u8]> = deep.rest().collect();
        assert_eq!(
            names,
            [
                &b"Enum"[..],
                b"Root",
                b"LEGACY_X",
                b"0000",
                b"Control",
                b"x"
            ]
        );
        assert_eq!(deep.rest_len(), 6);
        assert_eq!(deep.rest_segment(5), Some(&b"x"[..]));
        assert_eq!(deep.rest_segment(6), None);

        let cur = SystemLocation::of(Hive::LocalMachine, b"\\SYSTEM\\CurrentControlSet").unwrap();
        assert_eq!(cur.control_set, ControlSet::Current);
        assert_eq!(cur.rest().next(), None);
        assert_eq!(cur.service(), None);
        assert_eq!(cur.service_depth(), 0);
        let other =
            SystemLocation::of(Hive::LocalMachine, b"SYSTEM\\ControlSet001\\Enum\\Root").unwrap();
        assert_eq!(other.service_depth(), 0);

        assert!(SystemLocation::of(Hive::CurrentUser, b"SYSTEM\\CurrentControlSet").is_none());
        assert!(SystemLocation::of(Hive::LocalMachine, b"SYSTEM\\ControlSet1\\x").is_none());
        assert!(SystemLocation::of(Hive::LocalMachine, b"SOFTWARE\\CurrentControlSet").is_none());
        for (hive, key) in [
            (Hive::LocalMachine, &b"\\system\\controlset002"[..]),
            (Hive::LocalMachine, b"SYSTEM\\ControlSet1\\x"),
            (Hive::LocalMachine, b"SYSTEM"),
            (Hive::LocalMachine, b"SYSTEMS\\CurrentControlSet"),
            (Hive::LocalMachine, b"SYSTEM\\\\CurrentControlSet\\"),
            (Hive::LocalMachine, b"SYSTEM\\"),
            (Hive::CurrentUser, b"SYSTEM\\CurrentControlSet"),
        ] {
            assert_eq!(
                SystemLocation::holds(hive, key),
                SystemLocation::of(hive, key).is_some()
            );
        }
    }

    #[test]
    fn segments_skip_empty_ones() {
        let spans = |key: &[u8]| {
            segments(key)
                .map(|(span, _)| span)
                .collect::<Vec<std::ops::Range<usize>>>()
        };
        let none: [std::ops::Range<usize>; 0] = [];
        assert_eq!(spans(b"a\\bc"), [0..1, 2..4]);
        assert_eq!(spans(b"\\\\a\\\\b\\"), [2..3, 5..6]);
        assert_eq!(spans(b""), none);
        assert_eq!(spans(b"\\\\"), none);
        assert_eq!(spans(b"abc"), vec![(0..3)]);
    }

    #[test]
    fn key_equality_ignores_case_and_empty_segments() {
        assert!(keys_equal(b"A\\b\\", b"a\\B"));
        assert!(keys_equal(b"A\\\\b", b"a\\b"));
        assert!(!keys_equal(b"A\\b", b"A\\bc"));
        assert!(!keys_equal(b"A", b"A\\b"));
    }
}
