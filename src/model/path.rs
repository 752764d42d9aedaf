//! Registry paths: hives by number or name, and where a key sits under `HKLM\SYSTEM`.
//!
//! Paths compare case-insensitively (ASCII), `HKLM` ≡ `HKEY_LOCAL_MACHINE`, empty segments
//! (a trailing or doubled `\`) are ignored. Nothing here rewrites a path: rules read it and
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
    /// The segments after the control set.
    pub rest: Vec<&'k [u8]>,
}

impl<'k> SystemLocation<'k> {
    /// Recognises `SYSTEM\CurrentControlSet\…` and `SYSTEM\ControlSetNNN\…` under HKLM.
    pub fn of(hive: Hive, key: &'k [u8]) -> Option<Self> {
        let mut segs = segments(key);
        let (control_set, control_set_span) = control_set_of(hive, &mut segs)?;
        Some(Self {
            control_set,
            control_set_span,
            rest: segs.map(|(_, s)| s).collect(),
        })
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
        self.rest
            .get(i)
            .is_some_and(|s| s.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// `Services\<name>\…`: the service name.
    pub fn service(&self) -> Option<&'k [u8]> {
        if self.rest_is(0, "Services") {
            self.rest.get(1).copied()
        } else {
            None
        }
    }

    /// The segments below `Services\<name>` (empty for the service key itself).
    pub fn service_subpath(&self) -> &[&'k [u8]] {
        if self.service().is_some() {
            &self.rest[2..]
        } else {
            &[]
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
    if digits.len() == 3 && digits.iter().all(u8::is_ascii_digit) {
        std::str::from_utf8(digits)
            .ok()?
            .parse()
            .ok()
            .map(ControlSet::Numbered)
    } else {
        None
    }
}

/// Equality of two key paths: case-insensitive, ignoring empty segments.
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
        assert_eq!(loc.service_subpath(), &[&b"Security"[..]]);

        let cur = SystemLocation::of(Hive::LocalMachine, b"\\SYSTEM\\CurrentControlSet").unwrap();
        assert_eq!(cur.control_set, ControlSet::Current);
        assert!(cur.rest.is_empty());
        assert_eq!(cur.service(), None);

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
        let spans = |key: &[u8]| segments(key).map(|(span, _)| span).collect::<Vec<_>>();
        assert_eq!(spans(b"a\\bc"), [0..1, 2..4]);
        assert_eq!(spans(b"\\\\a\\\\b\\"), [2..3, 5..6]);
        assert_eq!(spans(b""), []);
        assert_eq!(spans(b"\\\\"), []);
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
