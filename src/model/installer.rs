//! What Windows Installer does at install time, shared by the two formats that compile to it
//! (WiX sources and the databases themselves).
//!
//! **Order.** The installer runs the actions of the `InstallExecuteSequence` table in the order
//! of their numbers: `RemoveRegistryValues` (the `RemoveRegistry` table's deletions, 2600 in
//! the standard sequence) before `WriteRegistryValues` (the `Registry` table, 5000), before
//! `InstallServices` (the `ServiceInstall` table, 5800). So every registry write of a package
//! comes before its service installs, which overwrite the values they set. Rows of one table are
//! processed in table order. An action's condition is not evaluated (the standard sequence
//! conditions `InstallServices` on `VersionNT`, which every supported Windows meets).
//!
//! **Conditions.** A component's condition (`Component.Condition`, WiX's `<Condition>` or
//! `Condition=`) decides at install time whether its rows run: each conditional component is a
//! region of its own ([`super::Operation::block`]).
//!
//! **Roots.** `HKMU` (`Root` −1) is `HKLM` in a per-machine install, which is what a repackaged
//! capture is.
//!
//! **Formatted text.** Keys, names and values are *formatted*: `[PROPERTY]`, `[#File]`,
//! `[%ENV]` and the like are expanded at install time. Such text is opaque: kept as written,
//! and a key or name holding one could be any key or name. So could a WiX preprocessor
//! variable (`$(var.X)`), localization string (`!(loc.X)`) or a template placeholder
//! (`{{ … }}`) of a source that is generated before it is compiled.
//!
//! **Values** (`Registry.Value`, as WiX compiles `RegistryValue` into it; Wine's `parse_value`
//! reads them the same way): `#x` hex digits are `REG_BINARY` (an odd count gets a leading 0),
//! `#%` is `REG_EXPAND_SZ`, `##` a `REG_SZ` starting with `#`, any other `#` a decimal
//! `REG_DWORD` (a leading `-` negates it, the first non-digit ends it); text holding `[~]` is a
//! `REG_MULTI_SZ` of the strings between them (one at the start appends to the existing list,
//! one at the end prepends: read here as setting the list), other text a `REG_SZ`, and no value
//! at all an empty `REG_SZ`.

use std::borrow::Cow;

use super::{Data, Hive, ServiceValue};

/// Standard sequence numbers of the actions the model follows.
pub const REMOVE_REGISTRY_VALUES: u32 = 2600;
pub const WRITE_REGISTRY_VALUES: u32 = 5000;
pub const INSTALL_SERVICES: u32 = 5800;

/// The position of row or element `index` of an action numbered `action` in a file's order
/// of operations ([`super::Operation::seq`]).
pub fn seq(action: u32, index: u32) -> u64 {
    (u64::from(action) << 32) | u64::from(index)
}

/// Bits of [`super::Origin::container`] that hold the row or element; the bits above say which
/// of the two registry actions it belongs to (0 for the one that runs first), so that
/// operations in order of position are also in order of origin.
pub const INDEX_BITS: u32 = 30;

/// The origin container of row or element `index` of the registry action that runs `rank`th.
pub fn container(rank: u32, index: u32) -> u32 {
    (rank << INDEX_BITS) | (index & ((1 << INDEX_BITS) - 1))
}

/// The (rank, index) of an origin container (see [`container`]).
pub fn split_container(container: u32) -> (u32, u32) {
    (container >> INDEX_BITS, container & ((1 << INDEX_BITS) - 1))
}

/// A `Registry`/`RemoveRegistry` `Root` number: −1 (`HKMU`) and 2 are `HKLM`.
pub fn hive_of_root(root: i32) -> Hive {
    match root {
        -1 | 2 => Hive::LocalMachine,
        0 => Hive::ClassesRoot,
        1 => Hive::CurrentUser,
        3 => Hive::Users,
        _ => Hive::Unknown,
    }
}

/// Whether text holds something expanded before or at install time (see the module docs).
pub fn is_opaque(text: &[u8]) -> bool {
    memchr::memchr(b'[', text).is_some()
        || memchr::memmem::find(text, b"$(").is_some()
        || memchr::memmem::find(text, b"!(").is_some()
        || memchr::memmem::find(text, b"{{").is_some()
}

/// The data of a `Registry.Value` (see the module docs); `None` is a NULL cell. The second
/// item is the NUL characters after the string data as the registry receives them.
pub fn registry_value(value: Option<&[u8]>) -> (Data<'_>, u8) {
    let Some(value) = value else {
        return (Data::Sz(Cow::Borrowed(b"")), 1);
    };
    match value {
        [b'#', b'x', hex @ ..] => match hex_bytes(hex) {
            Some(bytes) => (Data::Binary(bytes), 0),
            None => (raw(super::kind::BINARY, hex), 0),
        },
        [b'#', b'%', rest @ ..] => string(rest, true),
        [b'#', b'#', ..] => string(&value[1..], false),
        [b'#', number @ ..] => (dword(number), 0),
        _ => string(value, false),
    }
}

fn raw(kind: u32, bytes: &[u8]) -> Data<'static> {
    Data::Raw {
        kind,
        bytes: bytes.to_vec(),
    }
}

/// A decimal `REG_DWORD` as the installer reads it; install-time text is kept raw.
fn dword(text: &[u8]) -> Data<'_> {
    if is_opaque(text) {
        return raw(super::kind::DWORD, text);
    }
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    let mut n: u32 = 0;
    for &d in digits.iter().take_while(|d| d.is_ascii_digit()) {
        n = n.wrapping_mul(10).wrapping_add(u32::from(d - b'0'));
    }
    Data::Dword(if negative { n.wrapping_neg() } else { n })
}

/// Hex digits as bytes, an odd count padded with a leading 0; `None` for anything else.
pub fn hex_bytes(hex: &[u8]) -> Option<Vec<u8>> {
    let digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(hex.len().div_ceil(2));
    let mut rest = hex;
    if hex.len() % 2 == 1 {
        out.push(digit(hex[0])?);
        rest = &hex[1..];
    }
    for pair in rest.chunks_exact(2) {
        out.push((digit(pair[0])? << 4) | digit(pair[1])?);
    }
    Some(out)
}

/// A string value: a multi-string when it holds `[~]`.
fn string(text: &[u8], expand: bool) -> (Data<'_>, u8) {
    if memchr::memmem::find(text, b"[~]").is_none() {
        let text = Cow::Borrowed(text);
        return (
            if expand {
                Data::ExpandSz(text)
            } else {
                Data::Sz(text)
            },
            1,
        );
    }
    let mut parts: Vec<&[u8]> = split(text, b"[~]");
    // A `[~]` at either end marks an append or a prepend, not an empty string.
    if parts.first().is_some_and(|p| p.is_empty()) {
        parts.remove(0);
    }
    if parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    (
        Data::MultiSz(parts.into_iter().map(Cow::Borrowed).collect()),
        2,
    )
}

/// `text` split at every `separator`.
pub fn split<'t>(text: &'t [u8], separator: &[u8]) -> Vec<&'t [u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    for found in memchr::memmem::find_iter(text, separator) {
        out.push(&text[at..found]);
        at = found + separator.len();
    }
    out.push(&text[at..]);
    out
}

/// `ServiceInstall.ErrorControl`'s flag that makes a failure to install fatal: the installer's,
/// not passed to the Service Control Manager.
pub const ERROR_CONTROL_VITAL: u32 = 0x8000;

/// What a Windows Installer service install can set (a fix may compare a captured value with
/// any of them): every value CreateService writes, plus its load-order group, dependencies and
/// description.
pub const SETTABLE: &[ServiceValue] = &ServiceValue::ALL;

/// An MSI `ServiceInstall.Dependencies` list (or WiX's `ServiceDependency` ids) as the two
/// registry values CreateService writes: services, and `+`-prefixed groups.
pub fn dependencies<'d>(
    entries: impl IntoIterator<Item = Cow<'d, [u8]>>,
) -> Vec<(ServiceValue, Data<'d>)> {
    let mut services: Vec<Cow<'d, [u8]>> = Vec::new();
    let mut groups: Vec<Cow<'d, [u8]>> = Vec::new();
    for entry in entries {
        match entry {
            Cow::Borrowed([]) => {}
            Cow::Owned(ref o) if o.is_empty() => {}
            Cow::Borrowed([b'+', group @ ..]) => groups.push(Cow::Borrowed(group)),
            Cow::Owned(o) if o.first() == Some(&b'+') => groups.push(Cow::Owned(o[1..].to_vec())),
            other => services.push(other),
        }
    }
    let mut out = Vec::new();
    if !services.is_empty() {
        out.push((ServiceValue::DependOnService, Data::MultiSz(services)));
    }
    if !groups.is_empty() {
        out.push((ServiceValue::DependOnGroup, Data::MultiSz(groups)));
    }
    out
}

/// A model's operations as (kind, key, value name) text: what the WiX and database lowering
/// tests compare.
#[cfg(test)]
pub(crate) fn ops_shown(
    model: &super::FileModel<'_>,
) -> Vec<(super::OpKind, String, Option<String>)> {
    model
        .ops
        .iter()
        .map(|op| {
            (
                op.kind,
                String::from_utf8_lossy(&op.key).into_owned(),
                op.value
                    .as_ref()
                    .map(|v| String::from_utf8_lossy(v).into_owned()),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Data<'_> {
        registry_value(Some(text.as_bytes())).0
    }

    #[test]
    fn registry_values_read_as_the_installer_reads_them() {
        assert_eq!(value("#16"), Data::Dword(16));
        assert_eq!(value("#-1"), Data::Dword(u32::MAX));
        assert_eq!(value("#12abc"), Data::Dword(12));
        assert_eq!(value("#x0a0B"), Data::Binary(vec![0x0a, 0x0b]));
        assert_eq!(value("#xabc"), Data::Binary(vec![0x0a, 0xbc]));
        assert_eq!(
            value("#%%SystemRoot%"),
            Data::ExpandSz(Cow::Borrowed(b"%SystemRoot%"))
        );
        assert_eq!(value("##1"), Data::Sz(Cow::Borrowed(b"#1")));
        assert_eq!(value("plain"), Data::Sz(Cow::Borrowed(b"plain")));
        assert_eq!(
            value("a[~]b[~]"),
            Data::MultiSz(vec![Cow::Borrowed(b"a"), Cow::Borrowed(b"b")])
        );
        assert_eq!(
            value("[~]a[~][~]b"),
            Data::MultiSz(vec![
                Cow::Borrowed(b"a"),
                Cow::Borrowed(b""),
                Cow::Borrowed(b"b")
            ])
        );
        assert_eq!(registry_value(None).0, Data::Sz(Cow::Borrowed(b"")));
        // Install-time text is not guessed at.
        assert_eq!(
            value("#[COUNT]"),
            Data::Raw {
                kind: 4,
                bytes: b"[COUNT]".to_vec()
            }
        );
        assert!(matches!(value("#xzz"), Data::Raw { kind: 3, .. }));
    }

    #[test]
    fn containers_keep_operations_in_order() {
        assert!(container(0, 5) < container(1, 0));
        assert_eq!(split_container(container(1, 77)), (1, 77));
        assert!(is_opaque(
            b"SYSTEM\\CurrentControlSet\\Services\\[SERVICE_NAME]"
        ));
        assert!(is_opaque(b"$(var.Name)") && is_opaque(b"{{ .Binary }}"));
        assert!(!is_opaque(b"SYSTEM\\CurrentControlSet\\Services\\X"));
    }

    #[test]
    fn dependencies_split_into_services_and_groups() {
        let deps = dependencies([
            Cow::Borrowed(&b"Tcpip"[..]),
            Cow::Borrowed(&b"+NetworkProvider"[..]),
            Cow::Borrowed(&b""[..]),
        ]);
        assert_eq!(
            deps,
            vec![
                (
                    ServiceValue::DependOnService,
                    Data::MultiSz(vec![Cow::Borrowed(b"Tcpip")])
                ),
                (
                    ServiceValue::DependOnGroup,
                    Data::MultiSz(vec![Cow::Borrowed(b"NetworkProvider")])
                ),
            ]
        );
    }
}
