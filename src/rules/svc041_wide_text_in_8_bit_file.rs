//! SVC041 wide-text-in-8-bit-file.

use super::{Finding, FixPlan, RuleContext, RuleInfo, concat};
use crate::diagnostic::Severity;
use crate::fix::{Applicability, Change};
use crate::model::state::{data_value, escape_controls};
use crate::model::{Charset, Data, OpKind, Operation};

pub const INFO: RuleInfo = RuleInfo {
    code: "SVC041",
    name: "wide-text-in-8-bit-file",
    severity: Severity::Error,
    fix: Some(Applicability::Unsafe),
    summary: "`hex(2)`/`hex(7)` data that holds UTF-16 text in an 8-bit file: Windows installs it cut at its first character.",
    doc: r#"## What it finds
A `REG_EXPAND_SZ` or `REG_MULTI_SZ` value written as `hex(2):`/`hex(7):` bytes in an 8-bit
`.reg` file (ANSI or UTF-8, whatever its header says) whose bytes are UTF-16LE text: every
second byte is zero and the data ends with a zero pair. This is what a `Windows Registry Editor
Version 5.00` export (UTF-16) becomes once it is re-saved as 8-bit text in an editor: the text
is converted, the hex bytes are not. Only text whose characters all lie below U+0100 is
recognised. Values under `HKLM\SYSTEM` are checked (the keys the other rules read).

## Why it breaks targets
regedit (and Wine's regedit) reads the data of an 8-bit file as 8-bit text, whatever it holds:
`53,00,79,00,73,00,…` becomes the string `S`, a NUL, `y`, a NUL… and Windows reads a string up
to its first NUL. The service's `ImagePath` installs as `S`; a `DependOnService` list as one
letter per entry. Every report shows such a value as Windows reads it (`"S"`), never with its
NUL bytes.

## Example
Before (an 8-bit file):
```text
"ImagePath"=hex(2):53,00,79,00,73,00,74,00,65,00,6d,00,33,00,32,00,5c,00,00,00
```
After:
```text
"ImagePath"=hex(2):53,79,73,74,65,6d,33,32,5c,00
```

## Fix
The data is re-encoded as the 8-bit text the author meant (Windows-1252 bytes, one NUL after
each string), wrapped as regedit wraps hex data. **Unsafe**: it changes what is installed —
from the truncated string to the whole one. No fix is offered when a character has no
Windows-1252 byte or the file's 8-bit text is not Windows-1252."#,
};

pub fn check(cx: &RuleContext<'_, '_, '_>, out: &mut Vec<Finding>) {
    let charset = cx.facts.charset;
    let model = &cx.file().model;
    for (_, c) in cx.system() {
        let write = c.write;
        if write.kind != OpKind::SetValue {
            continue;
        }
        let Some(raw) = installed_bytes(write) else {
            continue;
        };
        let Some(meant) = wide_text(&raw) else {
            continue;
        };
        let installed = data_value(
            model,
            &write.data,
            write.nuls,
            &crate::model::state::KeepAll,
        );
        let key = cx.key_of(write);
        let what = cx.describe_at(write, &key);
        let message = concat(&[
            &what,
            " holds UTF-16 text in an 8-bit file: Windows installs ",
            &installed.shown(),
            ", not ",
            &escape_controls(&shown_meant(&meant, write)),
        ]);
        let fix = eight_bit(&meant, charset, write).map(|bytes| {
            FixPlan::new(
                Applicability::Unsafe,
                "re-encode the data as 8-bit text; it then installs whole",
                vec![Change::SetHexBytes {
                    op: write.origin,
                    bytes,
                }],
            )
        });
        out.push(cx.finding_at(&INFO, write, key, None, message, fix));
    }
}

/// The bytes an 8-bit file's `hex(2)`/`hex(7)` data holds (`None` for other data): the
/// decoded text with its NULs back in place.
fn installed_bytes(write: &Operation<'_>) -> Option<Vec<u8>> {
    let mut bytes = match &write.data {
        Data::ExpandSz(s) => s.to_vec(),
        Data::MultiSz(list) => list.join(&0u8),
        _ => return None,
    };
    bytes.extend(std::iter::repeat_n(0, usize::from(write.nuls)));
    Some(bytes)
}

/// The UTF-16LE text `bytes` hold (without its final terminator), if they are UTF-16LE text
/// of characters below U+0100: an even length of at least four, every odd byte zero, a zero
/// pair at the end, and some character that is not NUL.
fn wide_text(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() < 4 || bytes.len() % 2 != 0 || !bytes.ends_with(&[0, 0]) {
        return None;
    }
    if bytes.iter().skip(1).step_by(2).any(|&b| b != 0) {
        return None;
    }
    let low: Vec<u8> = bytes.iter().step_by(2).copied().collect();
    let end = low.iter().rposition(|&b| b != 0)? + 1;
    Some(low[..end].to_vec())
}

/// The meant text for people: a string, or a list of strings.
fn shown_meant(meant: &[u8], write: &Operation<'_>) -> String {
    let latin1 = |s: &[u8]| s.iter().map(|&b| char::from(b)).collect::<String>();
    match write.data {
        Data::MultiSz(_) => {
            let strings: Vec<String> = meant
                .split(|&b| b == 0)
                .map(|s| format!("\"{}\"", latin1(s)))
                .collect();
            format!("[{}]", strings.join(", "))
        }
        _ => format!("\"{}\"", latin1(meant)),
    }
}

/// `meant` (characters below U+0100, NUL-separated for a list) as Windows-1252 bytes with
/// regedit's terminators; `None` when a character has no such byte or the file's text is not
/// Windows-1252.
fn eight_bit(meant: &[u8], charset: Charset, write: &Operation<'_>) -> Option<Vec<u8>> {
    if charset != Charset::Ansi {
        return None;
    }
    let text: String = meant.iter().map(|&b| char::from(b)).collect();
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    if unmappable {
        return None;
    }
    let mut out = bytes.into_owned();
    out.push(0);
    if matches!(write.data, Data::MultiSz(_)) {
        out.push(0);
    }
    Some(out)
}
