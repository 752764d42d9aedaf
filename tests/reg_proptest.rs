//! Generated exports (UTF-16 and 8-bit, CRLF/LF, escapes, wrapped hex with comments and blank
//! lines inside, deletions, comments, blank lines, with or without a final newline) round-trip
//! byte for byte and yield exactly the generated writes.

mod reg_common;

use std::borrow::Cow;

use proptest::prelude::*;
use svcscrub::detect::RegVersion;
use svcscrub::model::{Data, Hive, reg::lower};
use svcscrub::source::{Encoding, SourceFile};
use svcscrub::syntax::reg;

#[derive(Clone, Debug)]
enum HexData {
    Binary(Vec<u8>),
    Expand(String),
    Multi(Vec<String>),
    Qword(u64),
    Dword4(u32),
}

#[derive(Clone, Debug)]
enum GenData {
    Sz(String),
    Dword {
        value: u32,
        padded: bool,
        upper: bool,
    },
    Hex {
        data: HexData,
        wrap: Option<usize>,
        filler: u8,
    },
    Delete,
}

#[derive(Clone, Debug)]
struct GenValue {
    /// `None` writes `@`.
    name: Option<String>,
    data: GenData,
    comment: bool,
}

#[derive(Clone, Debug)]
struct GenBlock {
    delete: bool,
    hive: usize,
    path: Vec<String>,
    values: Vec<GenValue>,
    comment: bool,
    blank_after: usize,
}

#[derive(Clone, Debug)]
struct GenFile {
    wide: bool,
    v4: bool,
    crlf: bool,
    final_newline: bool,
    preamble_comment: bool,
    blocks: Vec<GenBlock>,
}

/// One expected write: hive, subkey, value name (`None` for the key line), data.
type Write = (Hive, Vec<u8>, Option<Vec<u8>>, Data<'static>);

const HIVES: &[(&str, Hive)] = &[
    ("HKEY_LOCAL_MACHINE", Hive::LocalMachine),
    ("HKLM", Hive::LocalMachine),
    ("HKEY_CURRENT_USER", Hive::CurrentUser),
    ("hkcu", Hive::CurrentUser),
    ("HKEY_USERS", Hive::Users),
];

fn text_strategy() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _.éü日\\\\\"-]{0,12}"
}

fn segment_strategy() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _.{}é日;\"\\]-]{1,10}"
}

fn hex_data() -> impl Strategy<Value = HexData> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..80).prop_map(HexData::Binary),
        "[a-zA-Z0-9%\\\\ é日]{0,40}".prop_map(HexData::Expand),
        prop::collection::vec("[a-zA-Z0-9 é日]{1,10}", 0..4).prop_map(HexData::Multi),
        any::<u64>().prop_map(HexData::Qword),
        any::<u32>().prop_map(HexData::Dword4),
    ]
}

fn data_strategy() -> impl Strategy<Value = GenData> {
    prop_oneof![
        text_strategy().prop_map(GenData::Sz),
        (any::<u32>(), any::<bool>(), any::<bool>()).prop_map(|(value, padded, upper)| {
            GenData::Dword {
                value,
                padded,
                upper,
            }
        }),
        (hex_data(), prop::option::of(1usize..30), 0u8..4)
            .prop_map(|(data, wrap, filler)| GenData::Hex { data, wrap, filler }),
        Just(GenData::Delete),
    ]
}

fn value_strategy() -> impl Strategy<Value = GenValue> {
    (
        prop::option::of(text_strategy()),
        data_strategy(),
        any::<bool>(),
    )
        .prop_map(|(name, data, comment)| GenValue {
            name,
            data,
            comment,
        })
}

fn block_strategy() -> impl Strategy<Value = GenBlock> {
    (
        prop::bool::weighted(0.15),
        0..HIVES.len(),
        prop::collection::vec(segment_strategy(), 0..4),
        prop::collection::vec(value_strategy(), 0..6),
        any::<bool>(),
        0usize..3,
    )
        .prop_map(
            |(delete, hive, path, values, comment, blank_after)| GenBlock {
                delete,
                hive,
                path,
                values,
                comment,
                blank_after,
            },
        )
}

fn file_strategy() -> impl Strategy<Value = GenFile> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(block_strategy(), 0..6),
    )
        .prop_map(
            |(wide, v4, crlf, final_newline, preamble_comment, blocks)| GenFile {
                wide,
                v4: v4 && !wide,
                crlf,
                final_newline,
                preamble_comment,
                blocks,
            },
        )
}

/// Characters of 8-bit files are their Latin-1 bytes; `日` is outside Latin-1, so 8-bit files
/// spell it `?`.
fn narrow(s: &str) -> String {
    s.chars()
        .map(|c| if (c as u32) < 0x100 { c } else { '?' })
        .collect()
}

/// A string as it appears in the working text (UTF-8 for UTF-16 files, Latin-1 bytes otherwise).
fn working(s: &str, wide: bool) -> Vec<u8> {
    if wide {
        s.as_bytes().to_vec()
    } else {
        narrow(s).chars().map(|c| c as u8).collect()
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// String bytes of a `hex(2)`/`hex(7)` value: UTF-16LE in UTF-16 files, 8-bit otherwise.
fn string_bytes(s: &str, wide: bool) -> Vec<u8> {
    if wide {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    } else {
        working(s, false)
    }
}

fn terminator(wide: bool) -> Vec<u8> {
    if wide { vec![0, 0] } else { vec![0] }
}

/// Renders the hex value lines: `prefix` then bytes, wrapped every `wrap` bytes with `,\` and
/// optional blank/comment lines inside the continuation.
fn hex_lines(
    prefix: String,
    bytes: &[u8],
    wrap: Option<usize>,
    filler: u8,
    lines: &mut Vec<String>,
) {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let Some(wrap) = wrap.filter(|_| !hex.is_empty()) else {
        lines.push(format!("{prefix}{}", hex.join(",")));
        return;
    };
    let chunks: Vec<&[String]> = hex.chunks(wrap).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let lead = if i == 0 {
            prefix.clone()
        } else {
            "  ".to_string()
        };
        let last = i + 1 == chunks.len();
        if last {
            lines.push(format!("{lead}{}", chunk.join(",")));
        } else {
            let marker = if filler == 3 { ",\\ ; wrapped" } else { ",\\" };
            lines.push(format!("{lead}{}{marker}", chunk.join(",")));
            match filler {
                1 => lines.push(String::new()),
                2 => lines.push("  ; inside".to_string()),
                _ => {}
            }
        }
    }
}

/// The file's text (as chars) and the writes it must lower to: (hive, key, value, data).
fn render(file: &GenFile) -> (String, Vec<Write>) {
    let wide = file.wide;
    let mut lines: Vec<String> = vec![
        if file.v4 {
            "REGEDIT4"
        } else {
            "Windows Registry Editor Version 5.00"
        }
        .to_string(),
        String::new(),
    ];
    if file.preamble_comment {
        lines.push("; generated".to_string());
        lines.push(String::new());
    }
    let mut writes = Vec::new();
    for block in &file.blocks {
        let (hive_name, hive) = HIVES[block.hive];
        let path: Vec<String> = block
            .path
            .iter()
            .map(|p| if wide { p.clone() } else { narrow(p) })
            .collect();
        let subkey = path.join("\\");
        let name = if subkey.is_empty() {
            hive_name.to_string()
        } else {
            format!("{hive_name}\\{subkey}")
        };
        let dash = if block.delete { "-" } else { "" };
        lines.push(format!("[{dash}{name}]"));
        if !block.delete {
            writes.push((hive, working(&subkey, wide), None, Data::None));
        }
        if block.comment {
            lines.push("; about this key".to_string());
        }
        for value in &block.values {
            let name_text = match &value.name {
                None => "@".to_string(),
                Some(n) => format!("\"{}\"", escape(&narrow_if(n, wide))),
            };
            let decoded_name = value
                .name
                .as_deref()
                .map_or(Vec::new(), |n| working(n, wide));
            let comment = if value.comment { " ; note" } else { "" };
            let expected = match &value.data {
                GenData::Delete => {
                    lines.push(format!("{name_text}=-{comment}"));
                    None
                }
                GenData::Sz(s) => {
                    lines.push(format!(
                        "{name_text}=\"{}\"{comment}",
                        escape(&narrow_if(s, wide))
                    ));
                    Some(Data::Sz(Cow::Owned(working(s, wide))))
                }
                GenData::Dword {
                    value: n,
                    padded,
                    upper,
                } => {
                    let digits = match (padded, upper) {
                        (true, true) => format!("{n:08X}"),
                        (true, false) => format!("{n:08x}"),
                        (false, true) => format!("{n:X}"),
                        (false, false) => format!("{n:x}"),
                    };
                    lines.push(format!("{name_text}=dword:{digits}{comment}"));
                    Some(Data::Dword(*n))
                }
                GenData::Hex { data, wrap, filler } => {
                    let (kind, bytes, expected) = match data {
                        HexData::Binary(b) => {
                            ("hex".to_string(), b.clone(), Data::Binary(b.clone()))
                        }
                        HexData::Expand(s) => {
                            let mut b = string_bytes(s, wide);
                            b.extend(terminator(wide));
                            (
                                "hex(2)".to_string(),
                                b,
                                Data::ExpandSz(Cow::Owned(working(s, wide))),
                            )
                        }
                        HexData::Multi(list) => {
                            let mut b = Vec::new();
                            for s in list {
                                b.extend(string_bytes(s, wide));
                                b.extend(terminator(wide));
                            }
                            b.extend(terminator(wide));
                            let strings =
                                list.iter().map(|s| Cow::Owned(working(s, wide))).collect();
                            ("hex(7)".to_string(), b, Data::MultiSz(strings))
                        }
                        HexData::Qword(q) => (
                            "hex(b)".to_string(),
                            q.to_le_bytes().to_vec(),
                            Data::Qword(*q),
                        ),
                        HexData::Dword4(d) => (
                            "hex(4)".to_string(),
                            d.to_le_bytes().to_vec(),
                            Data::Dword(*d),
                        ),
                    };
                    hex_lines(
                        format!("{name_text}={kind}:"),
                        &bytes,
                        *wrap,
                        *filler,
                        &mut lines,
                    );
                    Some(expected)
                }
            };
            if let Some(data) = expected.filter(|_| !block.delete) {
                writes.push((hive, working(&subkey, wide), Some(decoded_name), data));
            }
        }
        for _ in 0..block.blank_after {
            lines.push(String::new());
        }
    }
    let eol = if file.crlf { "\r\n" } else { "\n" };
    let mut text = lines.join(eol);
    if file.final_newline {
        text.push_str(eol);
    }
    (text, writes)
}

fn owned(data: &Data<'_>) -> Data<'static> {
    let own = |s: &Cow<'_, [u8]>| Cow::Owned(s.to_vec());
    match data {
        Data::Sz(s) => Data::Sz(own(s)),
        Data::ExpandSz(s) => Data::ExpandSz(own(s)),
        Data::MultiSz(list) => Data::MultiSz(list.iter().map(own).collect()),
        Data::None => Data::None,
        Data::Dword(n) => Data::Dword(*n),
        Data::Qword(n) => Data::Qword(*n),
        Data::Binary(b) => Data::Binary(b.clone()),
        Data::Raw { kind, bytes } => Data::Raw {
            kind: *kind,
            bytes: bytes.clone(),
        },
    }
}

fn narrow_if(s: &str, wide: bool) -> String {
    if wide { s.to_string() } else { narrow(s) }
}

fn raw_bytes(text: &str, wide: bool) -> Vec<u8> {
    if wide {
        let mut raw = vec![0xFF, 0xFE];
        raw.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        raw
    } else {
        text.chars().map(|c| c as u8).collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_exports_round_trip_and_decode(file in file_strategy()) {
        let (text, expected) = render(&file);
        let raw = raw_bytes(&text, file.wide);
        let source = SourceFile::new("gen.reg", raw.clone()).expect("decodes");
        prop_assert_eq!(source.encoding == Encoding::Utf16Le, file.wide);
        let version = if file.v4 { RegVersion::Regedit4 } else { RegVersion::Regedit5 };
        let parsed = reg::parse(source.text(), version).expect("header");
        prop_assert!(parsed.is_lossless());
        prop_assert_eq!(source.encode(&parsed.print(source.text())), raw);
        prop_assert_eq!(parsed.blocks.len(), file.blocks.len());

        let model = lower(&parsed, source.text(), source.encoding);
        let got: Vec<Write> = model
            .writes()
            .map(|w| (w.hive, w.key.to_vec(), w.value.as_ref().map(|v| v.to_vec()), owned(&w.data)))
            .collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn arbitrary_bytes_after_a_header_never_panic(body in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut text = b"REGEDIT4\r\n".to_vec();
        text.extend(body);
        let parsed = reg::parse(&text, RegVersion::Regedit4).expect("header");
        prop_assert!(parsed.is_lossless());
        prop_assert_eq!(parsed.print(&text), text.clone());
        let model = lower(&parsed, &text, Encoding::Ansi);
        for write in model.writes() {
            prop_assert!(write.record.end <= text.len());
        }
    }

    #[test]
    fn reg_like_noise_never_panics(lines in prop::collection::vec(
        "[\\[\\]@\"=;\\\\,:a-fhx0-9() \t-]{0,24}", 0..40), crlf in any::<bool>()) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let text = format!("Windows Registry Editor Version 5.00{eol}{}", lines.join(eol));
        let parsed = reg::parse(text.as_bytes(), RegVersion::Regedit5).expect("header");
        prop_assert_eq!(parsed.print(text.as_bytes()), text.as_bytes());
        let _ = lower(&parsed, text.as_bytes(), Encoding::Utf8);
        // Planning the removal of every write never produces overlapping edits.
        let changes: Vec<svcscrub::fix::Change> = lower(&parsed, text.as_bytes(), Encoding::Utf8)
            .writes()
            .map(|w| svcscrub::fix::Change::RemoveWrite(w.origin))
            .collect();
        let edits = svcscrub::fix::reg::plan(&parsed, text.as_bytes(), &changes);
        let out = svcscrub::fix::apply_edits(text.as_bytes(), &edits).expect("disjoint");
        let again = reg::parse(&out, RegVersion::Regedit5).expect("header kept");
        prop_assert!(again.is_lossless());
    }
}
