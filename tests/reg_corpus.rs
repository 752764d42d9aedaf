//! Every `.reg` file of the shared corpus: accepted files round-trip byte for byte through
//! load → parse → print → encode; refused files are refused with their reason; and a few
//! structural facts about real exports hold.

mod reg_common;

use std::borrow::Cow;
use std::path::Path;

use reg_common::{corpus_or_skip, corpus_reg_files};
use svcscrub::detect::{Format, RegVersion};
use svcscrub::fix::{Change, apply_edits, reg::plan};
use svcscrub::model::path::keys_equal;
use svcscrub::model::reg::lower;
use svcscrub::model::{Data, Hive};
use svcscrub::pipeline::{Loaded, load};
use svcscrub::source::Encoding;
use svcscrub::syntax::Syntax;
use svcscrub::syntax::reg::{RecordKind, RegFile, ValueData};

/// Files the tool must refuse, with a fragment of the expected message.
const REFUSED: &[(&str, &str)] = &[
    (
        "other/x2es_bt-dualboot__export_sample_01.reg",
        "unrecognised content",
    ),
    ("regashii/wine-v2.reg", "Wine registry file"),
];

fn load_file(path: &Path) -> Result<Loaded, svcscrub::error::InputError> {
    let raw = std::fs::read(path).expect("readable corpus file");
    load(&path.to_string_lossy(), raw)
}

fn reg_of(loaded: &Loaded) -> &RegFile {
    match &loaded.syntax {
        Syntax::Reg(file) => file,
        _ => panic!("{}: not parsed as .reg", loaded.source.path),
    }
}

fn load_named(corpus: &Path, name: &str) -> Loaded {
    load_file(&corpus.join("reg").join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn accepted_files_round_trip_byte_for_byte() {
    let Some(corpus) = corpus_or_skip("accepted_files_round_trip_byte_for_byte") else {
        return;
    };
    let files = corpus_reg_files(&corpus);
    assert!(
        files.len() >= 23,
        "expected the whole corpus, found {}",
        files.len()
    );
    let mut accepted = 0;
    for (name, path) in &files {
        if REFUSED.iter().any(|(refused, _)| refused == name) {
            continue;
        }
        let loaded = load_file(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let file = reg_of(&loaded);
        assert!(file.is_lossless(), "{name}: tree does not tile the text");
        let printed = file.print(loaded.source.text());
        assert_eq!(printed, loaded.source.text(), "{name}: print differs");
        assert_eq!(
            loaded.source.encode(&printed),
            *loaded.source.raw(),
            "{name}: re-encoded bytes differ"
        );
        // Lowering never panics and every write points inside the text.
        let model = lower(file, loaded.source.text(), loaded.source.encoding);
        for write in model.writes() {
            assert!(write.record.end <= loaded.source.text().len(), "{name}");
            assert!(write.record.contains_range(write.range), "{name}");
        }
        accepted += 1;
    }
    assert_eq!(accepted, files.len() - REFUSED.len());
}

#[test]
fn refused_files_say_why() {
    let Some(corpus) = corpus_or_skip("refused_files_say_why") else {
        return;
    };
    for (name, message) in REFUSED {
        let err = match load_file(&corpus.join("reg").join(name)) {
            Ok(_) => panic!("{name}: accepted"),
            Err(e) => e,
        };
        assert!(
            err.message.contains(message),
            "{name}: unexpected message `{}`",
            err.message
        );
    }
}

#[test]
fn encodings_and_versions_are_detected() {
    let Some(corpus) = corpus_or_skip("encodings_and_versions_are_detected") else {
        return;
    };
    let cases = [
        (
            "real/itsglennlabra_WindowsUpdateFix__wuauserv.reg",
            Encoding::Utf16Le,
            RegVersion::Regedit5,
        ),
        (
            "real/isPique_Fuck-Windows-Security__Enable.reg",
            Encoding::Utf8Bom,
            RegVersion::Regedit5,
        ),
        (
            "real/blendonl_mshell__services.reg",
            Encoding::Utf8,
            RegVersion::Regedit5,
        ),
        (
            "regashii/complex-regedit4.reg",
            Encoding::Ansi,
            RegVersion::Regedit4,
        ),
    ];
    for (name, encoding, version) in cases {
        let loaded = load_named(&corpus, name);
        assert_eq!(loaded.source.encoding, encoding, "{name}");
        assert_eq!(loaded.format, Format::Reg(version), "{name}");
        assert_eq!(reg_of(&loaded).version, version, "{name}");
    }
}

#[test]
fn wuauserv_has_its_security_descriptor() {
    let Some(corpus) = corpus_or_skip("wuauserv_has_its_security_descriptor") else {
        return;
    };
    let loaded = load_named(&corpus, "real/itsglennlabra_WindowsUpdateFix__wuauserv.reg");
    let text = loaded.source.text();
    let file = reg_of(&loaded);
    let model = lower(file, text, loaded.source.encoding);
    let security = model
        .writes()
        .find(|w| {
            keys_equal(
                &w.key,
                b"SYSTEM\\CurrentControlSet\\services\\wuauserv\\Security",
            ) && w.value.as_deref() == Some(&b"Security"[..])
        })
        .expect("Security value under wuauserv\\Security");
    assert_eq!(security.hive, Hive::LocalMachine);
    let Data::Binary(bytes) = &security.data else {
        panic!("Security is {:?}", security.data);
    };
    assert_eq!(&bytes[..4], &[0x01, 0x00, 0x14, 0x80]);
    assert!(
        bytes.len() > 100,
        "a whole descriptor over continuation lines"
    );
    // The record spans its continuation lines; the range is its first line only.
    assert!(text[security.record.as_range()].starts_with(b"\"Security\"=hex:01,00,14,80"));
    assert!(security.record.len() > security.range.len() * 2);

    // Typed hex values decode as UTF-16 strings in this UTF-16 export.
    let image = model
        .writes()
        .find(|w| w.value.as_deref() == Some(&b"ImagePath"[..]))
        .expect("ImagePath");
    assert_eq!(
        image.data,
        Data::ExpandSz(Cow::Borrowed(
            &b"%systemroot%\\system32\\svchost.exe -k netsvcs"[..]
        ))
    );
    let depend = model
        .writes()
        .find(|w| w.value.as_deref() == Some(&b"DependOnService"[..]))
        .expect("DependOnService");
    assert_eq!(
        depend.data,
        Data::MultiSz(vec![Cow::Borrowed(&b"rpcss"[..])])
    );
    let start = model
        .writes()
        .find(|w| w.value.as_deref() == Some(&b"Start"[..]))
        .expect("Start");
    assert!(matches!(start.data, Data::Dword(_)));
}

#[test]
fn gorstak_has_the_eventlog_security_key() {
    let Some(corpus) = corpus_or_skip("gorstak_has_the_eventlog_security_key") else {
        return;
    };
    let loaded = load_named(&corpus, "real/Gorstak-Zadar_Services__Services.reg");
    let text = loaded.source.text();
    let file = reg_of(&loaded);
    assert_eq!(file.blocks.len(), 689);
    let block = file
        .blocks
        .iter()
        .find(|b| {
            keys_equal(
                &text[b.key.subkey.as_range()],
                b"System\\CurrentControlSet\\Services\\EventLog\\Security",
            )
        })
        .expect("EventLog\\Security key");
    assert_eq!(&text[block.key.root.as_range()], b"HKEY_LOCAL_MACHINE");
    let names: Vec<&[u8]> = file
        .block_records(block)
        .iter()
        .filter_map(|r| r.value())
        .map(|v| &text[v.name.inner().as_range()])
        .collect();
    assert!(names.contains(&&b"WarningLevel"[..]), "{names:?}");
    assert!(!names.contains(&&b"Security"[..]));
}

#[test]
fn remove_services_is_mostly_deletions() {
    let Some(corpus) = corpus_or_skip("remove_services_is_mostly_deletions") else {
        return;
    };
    let loaded = load_named(
        &corpus,
        "real/ionuttbara_windows-defender-remover__Remove_Defender_RemoveServices.reg",
    );
    let file = reg_of(&loaded);
    assert_eq!(file.blocks.len(), 20);
    assert_eq!(file.blocks.iter().filter(|b| b.key.delete).count(), 19);
    assert!(matches!(file.preamble()[1].kind, RecordKind::Comment));
    // The file has no final newline: the last key line ends the text.
    let last = file.blocks.last().expect("blocks");
    assert_eq!(last.key.range.end, loaded.source.text().len());
    assert_eq!(last.key.line, last.key.range);
    // Only the one non-deleted key and its value are writes.
    let model = lower(file, loaded.source.text(), loaded.source.encoding);
    assert_eq!(model.writes().count(), 2);
}

#[test]
fn defender_enable_keeps_the_split_string_opaque() {
    let Some(corpus) = corpus_or_skip("defender_enable_keeps_the_split_string_opaque") else {
        return;
    };
    let loaded = load_named(
        &corpus,
        "real/ionuttbara_windows-defender-remover__Disabler_Enable.reg",
    );
    let text = loaded.source.text();
    let file = reg_of(&loaded);
    let split: Vec<_> = file
        .records
        .iter()
        .filter(|r| {
            matches!(
                r.value().map(|v| v.data),
                Some(ValueData::MultiLineString { .. })
            )
        })
        .collect();
    assert_eq!(split.len(), 1);
    assert_eq!(
        &text[split[0].range.as_range()],
        b"\"SignaturesVersion\"=\"1.264 (0) (1.303.25.0) (1.1.16400.2)\r\n\"\r\n"
    );
    let model = lower(file, text, loaded.source.encoding);
    assert!(
        !model
            .writes()
            .any(|w| w.value.as_deref() == Some(&b"SignaturesVersion"[..]))
    );
}

#[test]
fn irregular_regashii_fixture_parses_like_regedit() {
    let Some(corpus) = corpus_or_skip("irregular_regashii_fixture_parses_like_regedit") else {
        return;
    };
    let loaded = load_named(&corpus, "regashii/irregular-regedit5.reg");
    let text = loaded.source.text();
    let file = reg_of(&loaded);
    assert_eq!(file.blocks.len(), 1);
    let key = file.blocks.get(0).unwrap().key;
    assert_eq!(
        &text[key.name.as_range()],
        b"HKEY_CURRENT_USER\\Software\\regashii\\\\irre]\";gular"
    );
    assert_eq!(&text[key.trailer.as_range()], b" addendum ; blah");
    let model = lower(file, text, loaded.source.encoding);
    let values: Vec<(String, &Data<'_>)> = model
        .writes()
        .filter_map(|w| {
            Some((
                String::from_utf8_lossy(w.value.as_deref()?).into_owned(),
                &w.data,
            ))
        })
        .collect();
    let names: Vec<&str> = values.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "",
            "dword",
            "sz-line-break",
            "hex-continuations",
            "semi;colons",
            "hex-continuations-with-long-name ............................................ end"
        ]
    );
    assert_eq!(
        values[1].1,
        &Data::Raw {
            kind: 4,
            bytes: vec![0]
        }
    );
    assert_eq!(values[3].1, &Data::Binary(vec![0, 1, 2]));
    assert_eq!(values[4].1.as_text(), Some(&br#"and"quotes;"#[..]));
    assert_eq!(values[5].1, &Data::Binary((0..=0x1f).collect()));
    // `hex(1)` in an 8-bit file keeps its bytes (the file is not UTF-16), and Windows reads
    // the string up to its first NUL.
    assert_eq!(
        values[2].1,
        &Data::Sz(std::borrow::Cow::Owned(vec![0x61, 0, 0x0a, 0, 0x62]))
    );
    assert_eq!(values[2].1.as_text(), Some(&b"a"[..]));
}

/// Plans the removal of every write of `text` and applies it.
fn remove_every_write(text: &[u8], version: RegVersion, encoding: Encoding) -> Vec<u8> {
    let file = svcscrub::syntax::reg::parse(text, version).expect("header");
    let changes: Vec<Change> = lower(&file, text, encoding)
        .writes()
        .map(|w| Change::RemoveWrite(w.origin))
        .collect();
    let edits = plan(&file, text, &changes);
    apply_edits(text, &edits).expect("disjoint edits")
}

#[test]
fn removing_every_write_of_real_files_converges() {
    let Some(corpus) = corpus_or_skip("removing_every_write_of_real_files_converges") else {
        return;
    };
    for (name, path) in corpus_reg_files(&corpus) {
        if REFUSED.iter().any(|(refused, _)| *refused == name) {
            continue;
        }
        let loaded = load_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let version = reg_of(&loaded).version;
        let encoding = loaded.source.encoding;
        let once = remove_every_write(loaded.source.text(), version, encoding);
        let file = svcscrub::syntax::reg::parse(&once, version).expect("header kept");
        assert!(file.is_lossless(), "{name}");
        // Only key lines that must stay (a deletion or opaque record binds to them) remain.
        for write in lower(&file, &once, encoding).writes() {
            assert_eq!(
                write.origin.index,
                svcscrub::model::Origin::KEY_LINE,
                "{name}"
            );
            let block = file.blocks.get(write.origin.container as usize).unwrap();
            assert!(
                file.block_records(block).iter().any(|r| r.binds_to_key()),
                "{name}: key line kept without reason"
            );
        }
        // The encoding survives and a second pass changes nothing.
        let src = svcscrub::source::SourceFile::new(name.clone(), loaded.source.encode(&once))
            .expect("re-decodes");
        assert_eq!(src.encoding, encoding, "{name}");
        assert_eq!(remove_every_write(&once, version, encoding), once, "{name}");
    }
}
