//! Every WiX source of the shared corpus (`../shared/corpus/wix`): recognised by its content
//! (whatever its extension), parsed into a tree that accounts for every byte, with the element
//! counts an independent XML reader finds, and edited without touching any other byte.

mod common;

use std::path::PathBuf;

use svcscrub::detect::{Format, WixSchema};
use svcscrub::fix::apply_edits;
use svcscrub::pipeline::{Loaded, load};
use svcscrub::syntax::Syntax;
use svcscrub::syntax::wix::{ElementKind, RegistryOperation, WixDocument, parse};

/// Per file: its schema and the counts of `RegistryValue`, `RegistryKey`, `ServiceInstall` and
/// `Component` elements, as Python's `xml.dom.minidom` counts them (`getElementsByTagNameNS('*',
/// name)`), an independent reader.
const EXPECTED: &[(&str, WixSchema, [usize; 4])] = &[
    (
        "OpenVPN__openvpn-build__windows-msi__msi.wxs",
        WixSchema::V3,
        [43, 10, 2, 106],
    ),
    (
        "PowerShell__openssh-portable__contrib__win32__install__server.wxs",
        WixSchema::V3,
        [0, 2, 1, 5],
    ),
    (
        "dokan-dev__dokany__dokan_wix__Dokan_x64.wxs",
        WixSchema::V4,
        [2, 2, 0, 22],
    ),
    (
        "dorssel__usbipd-win__Installer__Server.wxs",
        WixSchema::V4,
        [2, 3, 1, 3],
    ),
    (
        "fluent__fluent-package-builder__fluent-package__msi__source.wxs",
        WixSchema::V3,
        [4, 0, 0, 7],
    ),
    (
        "grafana__grafana__scripts__build__ci-msi-build__msigenerator__templates__common__grafana-service.wxs.j2",
        WixSchema::V3,
        [13, 3, 1, 1],
    ),
    (
        "mickem__nscp__installers__installer-NSCP__Product.wxs",
        WixSchema::V3,
        [4, 0, 1, 29],
    ),
    (
        "microsoft__WSL__msipackage__package.wix.in",
        WixSchema::V4,
        [140, 109, 1, 11],
    ),
    (
        "open-telemetry__opentelemetry-collector-releases__distributions__otelcol__windows__installer.wxs",
        WixSchema::V3,
        [1, 1, 1, 1],
    ),
    (
        "prometheus-community__windows_exporter__installer__files.wxs",
        WixSchema::V4,
        [0, 0, 1, 2],
    ),
    (
        "signalfx__splunk-otel-collector__internal__buildscripts__packaging__msi__splunk-otel-collector.wxs",
        WixSchema::V3,
        [2, 2, 1, 3],
    ),
    (
        "signalfx__splunk-otel-collector__packaging__msi__splunk-otel-collector.wxs",
        WixSchema::V4,
        [2, 2, 1, 2],
    ),
    (
        "virtio-win__virtio-win-guest-tools-installer__virtio-win-drivers-installer__Drivers__Balloon__balloon_extras.wxi",
        WixSchema::Unqualified,
        [0, 0, 1, 1],
    ),
    (
        "winfsp__winfsp__build__VStudio__installer__Product.wxs",
        WixSchema::V3,
        [18, 8, 3, 129],
    ),
    (
        "wixtoolset__wix__src__tools__test__WixToolsetTest.Heat__TestData__RegFile__Expected.wxs",
        WixSchema::V4,
        [13, 7, 0, 7],
    ),
];

fn corpus_files() -> Option<Vec<(String, PathBuf)>> {
    let dir = common::corpus()?.join("wix");
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .expect("corpus/wix is readable")
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(name, _)| name != "PROVENANCE.md")
        .collect();
    files.sort();
    Some(files)
}

fn load_wix(path: &std::path::Path) -> Loaded {
    let raw = std::fs::read(path).expect("readable corpus file");
    load(&path.to_string_lossy(), raw).unwrap_or_else(|e| panic!("{e}"))
}

fn doc_of(loaded: &Loaded) -> &WixDocument {
    match &loaded.syntax {
        Syntax::Wix(doc) => doc,
        _ => panic!("{}: not read as WiX", loaded.source.path),
    }
}

#[test]
fn every_source_is_recognised_and_read_whole() {
    let Some(files) = corpus_files() else { return };
    assert_eq!(files.len(), EXPECTED.len(), "the corpus changed: {files:?}");
    for (name, path) in &files {
        let (_, schema, counts) = EXPECTED
            .iter()
            .find(|(expected, ..)| expected == name)
            .unwrap_or_else(|| panic!("{name}: not in the expected list"));
        let loaded = load_wix(path);
        assert_eq!(loaded.format, Format::Wix(*schema), "{name}");
        let doc = doc_of(&loaded);
        let text = loaded.source.text();
        assert!(
            doc.is_lossless(text),
            "{name}: the tree does not account for the text"
        );
        // Nothing read is rebuilt: the file's bytes come back as they were.
        assert_eq!(
            loaded.source.encode(text),
            std::fs::read(path).unwrap(),
            "{name}"
        );
        let count = |kind| doc.elements.iter().filter(|e| e.kind == kind).count();
        let found = [
            count(ElementKind::RegistryValue),
            count(ElementKind::RegistryKey),
            count(ElementKind::ServiceInstall),
            count(ElementKind::Component),
        ];
        assert_eq!(&found, counts, "{name}");
    }
}

#[test]
fn service_keys_are_read_with_their_nested_paths() {
    let Some(files) = corpus_files() else { return };
    let find = |fragment: &str| {
        let (_, path) = files.iter().find(|(n, _)| n.contains(fragment)).unwrap();
        load_wix(path)
    };
    // Keys of every write, joined through nested RegistryKey elements.
    let keys = |loaded: &Loaded| -> Vec<String> {
        let doc = doc_of(loaded);
        let text = loaded.source.text();
        doc.registry_operations(text)
            .iter()
            .filter(|op| matches!(op, RegistryOperation::SetValue(_)))
            .map(|op| String::from_utf8_lossy(&op.element().key(doc, text)).into_owned())
            .collect()
    };
    let grafana = keys(&find("grafana"));
    assert_eq!(grafana.len(), 13);
    assert!(
        grafana
            .contains(&r"SYSTEM\CurrentControlSet\Services\Grafana\Parameters\AppExit".to_string())
    );
    assert!(grafana.contains(&r"SYSTEM\CurrentControlSet\Services\Grafana\Parameters".to_string()));
    // fluent: bare RegistryValue elements with their own Root and Key.
    let fluent = keys(&find("fluent"));
    assert_eq!(
        fluent
            .iter()
            .filter(|k| k.as_str() == r"System\CurrentControlSet\Services\fluentdwinsvc")
            .count(),
        3
    );
    // heat's output: ForceCreateOnInstall keys, one under Services.
    let heat = find("Heat");
    let doc = doc_of(&heat);
    let created: Vec<String> = doc
        .registry_operations(heat.source.text())
        .iter()
        .filter(|op| matches!(op, RegistryOperation::CreateKey(..)))
        .map(|op| String::from_utf8_lossy(&op.element().key(doc, heat.source.text())).into_owned())
        .collect();
    assert!(
        created
            .contains(&r"SYSTEM\CurrentControlSet\Services\service.jvm.web\Parameters".to_string()),
        "{created:?}"
    );
    // Service names stay opaque where they are not constants.
    for (fragment, name) in [
        ("nscp", "[SERVICE_NAME]"),
        ("open-telemetry", "{{ .Binary }}"),
        ("winfsp", "$(var.MyProductName).Launcher"),
    ] {
        let loaded = find(fragment);
        let doc = doc_of(&loaded);
        let service = doc.service_installs().next().unwrap();
        let read = service.field(doc, loaded.source.text(), "Name").unwrap();
        assert_eq!(String::from_utf8_lossy(&read), name, "{fragment}");
    }
}

#[test]
fn every_registry_element_can_be_removed_and_every_key_rewritten() {
    let Some(files) = corpus_files() else { return };
    let mut edits = 0;
    for (name, path) in &files {
        let loaded = load_wix(path);
        let doc = doc_of(&loaded);
        let text = loaded.source.text();
        let schema = match loaded.format {
            Format::Wix(schema) => schema,
            _ => unreachable!(),
        };
        for (index, element) in doc.elements.iter().enumerate() {
            if !matches!(
                element.kind,
                ElementKind::RegistryValue | ElementKind::RegistryKey
            ) {
                continue;
            }
            let removal = doc.removal(text, element);
            assert!(removal.range.contains_range(element.range), "{name}");
            let removed = apply_edits(text, std::slice::from_ref(&removal)).unwrap();
            let after =
                parse(&removed, schema).unwrap_or_else(|e| panic!("{name}: element {index}: {e}"));
            let subtree = (element.end as usize) - index;
            assert_eq!(after.elements.len(), doc.elements.len() - subtree, "{name}");
            assert!(after.is_lossless(&removed), "{name}");
            // What was removed is the element and, at most, the blanks and line break around it.
            let outside = [
                &text[removal.range.start..element.range.start],
                &text[element.range.end..removal.range.end],
            ];
            assert!(
                outside
                    .iter()
                    .all(|s| s.iter().all(|b| b" \t\r\n".contains(b))),
                "{name}"
            );
            if let Some(key) = doc.attribute(text, element, "Key") {
                let old = doc.value(text, key).into_owned();
                let new = [&old[..], b"\\ControlSet001&<>\"'"].concat();
                let rewrite = doc.attribute_rewrite(key, &new);
                let rewritten = apply_edits(text, std::slice::from_ref(&rewrite)).unwrap();
                let after = parse(&rewritten, schema).unwrap_or_else(|e| panic!("{name}: {e}"));
                let read = after
                    .attribute_value(&rewritten, &after.elements[index], "Key")
                    .unwrap();
                assert_eq!(&*read, &new[..], "{name}");
                edits += 1;
            }
            edits += 1;
        }
    }
    assert!(edits > 500, "only {edits} edits tried");
}

/// The command line finds WiX sources in a directory walk (`.wxs`, `.wxi`), finds nothing in
/// them (their registry writes are event sources, `Parameters` and other vendor configuration,
/// or name the service by a property), and writes every source it read back byte for byte.
#[test]
fn the_command_reads_and_writes_back_every_source() {
    let Some(files) = corpus_files() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for (name, path) in &files {
        std::fs::copy(path, tmp.path().join(name)).unwrap();
    }
    let out = assert_cmd::cargo::cargo_bin_cmd!("svcscrub")
        .current_dir(tmp.path())
        .args(["check", "--no-config", "--format", "concise", "."])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `.wxs` and `.wxi` files are found; `.wxs.j2` and `.wix.in` are not WiX extensions.
    let walked = files
        .iter()
        .filter(|(n, _)| n.ends_with(".wxs") || n.ends_with(".wxi"))
        .count();
    assert_eq!(walked, 13);
    assert!(stdout.contains(&format!("({walked} files)")), "{stdout}");
    for (name, path) in &files {
        let written = tmp.path().join(format!("{name}.out"));
        let out = assert_cmd::cargo::cargo_bin_cmd!("svcscrub")
            .args(["fix", "--no-config", "-o"])
            .arg(&written)
            .arg(path)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read(&written).unwrap(),
            std::fs::read(path).unwrap(),
            "{name}"
        );
    }
}

/// A source saved as UTF-16LE (with its BOM) reads as the same document, and encodes back to
/// its own bytes.
#[test]
fn a_utf16_source_reads_like_its_utf8_twin() {
    let Some(files) = corpus_files() else { return };
    let (_, path) = files
        .iter()
        .find(|(n, _)| n.starts_with("grafana"))
        .unwrap();
    let utf8 = load_wix(path);
    let text = String::from_utf8(utf8.source.text().to_vec()).unwrap();
    let mut raw = b"\xFF\xFE".to_vec();
    raw.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let wide = load("grafana-utf16.wxs", raw.clone()).unwrap();
    assert_eq!(wide.source.encoding, svcscrub::source::Encoding::Utf16Le);
    assert_eq!(wide.format, utf8.format);
    assert_eq!(doc_of(&wide), doc_of(&utf8));
    assert_eq!(wide.source.encode(wide.source.text()), raw);
}
