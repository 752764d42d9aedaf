//! The real scripts of `../shared/corpus/wise`: detection, lossless round trip, and the
//! structural counts recorded in its PROVENANCE.md (so the parse is right, not only lossless).

use std::path::{Path, PathBuf};

use svcscrub::pipeline::{self, Loaded};
use svcscrub::syntax::Syntax;
use svcscrub::syntax::wise::{BlockRole, Document, ItemKind, Prefix, RegistryForm};

#[path = "common/locate.rs"]
mod locate;

/// `wise/` of the shared corpus (see `locate`).
fn corpus() -> Option<PathBuf> {
    locate::corpus("wise_corpus").map(|dir| dir.join("wise"))
}

fn load(dir: &Path, name: &str) -> Result<Loaded, svcscrub::error::InputError> {
    let bytes = std::fs::read(dir.join(name)).expect("corpus file is readable");
    pipeline::load(name, bytes)
}

fn script(loaded: &Loaded) -> &Document {
    match &loaded.syntax {
        Syntax::Script(doc) => doc,
        _ => panic!("{} not parsed as a script", loaded.source.path),
    }
}

/// (file, Edit Registry items, of which nested, Create Service items), from PROVENANCE.md.
const TABLE: &[(&str, usize, usize, usize)] = &[
    (
        "alexcpn__TelephonyIVRKeyMapDemo__TelescriberInteractive.ipf",
        20,
        7,
        1,
    ),
    ("dtwaling__WiseToNSIS__WiseSample.wse", 7, 3, 0),
    ("maddymonty__helloworld__Setup.wse", 7, 3, 0),
    ("buryhuang__auctionexpress__install.wse", 0, 0, 0),
    ("enthought__tcl__tools__tcl.wse.in", 7, 0, 0),
    ("robertorosero__pyhtonmig__PCbuild__python20.wse", 58, 0, 0),
    (
        "robertorosero__pyhtonmig__PCbuild__python20_py2.1.1_wise5.wse",
        29,
        0,
        0,
    ),
    ("robertorosero__pyhtonmig__PC__VS7.1__Uninstal.wse", 5, 1, 0),
    ("mhammond__pywin32__Wise__win32all.wse", 17, 0, 0),
    ("mhammond__pywin32__Wise__pywin_body.wse", 12, 0, 0),
];

#[test]
fn every_text_script_round_trips() {
    let Some(dir) = corpus() else { return };
    let mut parsed = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus dir") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".md") || name.contains("BINARY") || name.contains("junk_before") {
            continue;
        }
        let loaded = load(&dir, &name).unwrap_or_else(|e| panic!("{e}"));
        let doc = script(&loaded);
        let text = loaded.source.text();
        assert_eq!(doc.print(text), text, "{name} does not print back");
        assert_eq!(doc.text_len(), text.len());
        // Every top-level item is followed by the next one or the end: nothing is skipped.
        let mut pos = doc.header.end;
        for top in doc.top_level() {
            let item = doc.item(top).unwrap();
            let gap = &text[pos..item.range().start];
            assert!(gap.iter().all(|b| b.is_ascii_whitespace()), "{name}");
            pos = item.range().end;
        }
        parsed += 1;
    }
    assert_eq!(parsed, TABLE.len());
}

#[test]
fn binary_and_junk_samples_are_refused() {
    let Some(dir) = corpus() else { return };
    let err = load(&dir, "op12no2__foldit__install_BINARY.wse").unwrap_err();
    assert!(
        err.message.contains("binary (legacy) WiseScript"),
        "{}",
        err.message
    );
    let err = load(
        &dir,
        "maddymonty__helloworld__Setup_edited_junk_before_header.wse",
    )
    .unwrap_err();
    assert!(
        err.message
            .contains("text before the `Document Type:` header"),
        "{}",
        err.message
    );
}

#[test]
fn counts_match_provenance() {
    let Some(dir) = corpus() else { return };
    for &(name, er, nested, cs) in TABLE {
        let loaded = load(&dir, name).unwrap_or_else(|e| panic!("{e}"));
        let doc = script(&loaded);
        let text = loaded.source.text();
        let registry: Vec<_> = (0..doc.items().len() as u32)
            .filter_map(|i| doc.edit_registry(text, i))
            .collect();
        assert_eq!(registry.len(), er, "{name}: Edit Registry items");
        let nested_items: Vec<_> = registry
            .iter()
            .filter(|r| r.form == RegistryForm::Nested)
            .collect();
        assert_eq!(nested_items.len(), nested, "{name}: nested items");
        // "In 162 real items Total Keys always equalled the number of keys."
        for r in &registry {
            if r.form != RegistryForm::Wise5 {
                assert_eq!(
                    r.total_keys_value(text),
                    Some(r.key_count() as u32),
                    "{name}"
                );
            }
        }
        let services = doc
            .items()
            .iter()
            .filter(|i| i.kind() == ItemKind::CreateService)
            .count();
        assert_eq!(services, cs, "{name}: Create Service items");
        // Every file closes all its run-time regions: the last item is back at the top level.
        let last_top = doc.top_level().last().unwrap();
        assert_eq!(doc.block(last_top), 0, "{name}");
    }
}

#[test]
fn per_file_facts() {
    let Some(dir) = corpus() else { return };
    let text_of = |l: &Loaded| l.source.text().to_vec();

    // Wise 5: no Edit Registry has a Total Keys line.
    let l = load(
        &dir,
        "robertorosero__pyhtonmig__PCbuild__python20_py2.1.1_wise5.wse",
    )
    .unwrap();
    let (doc, text) = (script(&l), text_of(&l));
    let forms: Vec<_> = (0..doc.items().len() as u32)
        .filter_map(|i| doc.edit_registry(&text, i))
        .map(|r| r.form)
        .collect();
    assert!(forms.iter().all(|f| *f == RegistryForm::Wise5));

    // The IPF sample: two breakpoint items, a remarked Custom Graphic whose children are
    // inactive, and the Telescriber service.
    let l = load(
        &dir,
        "alexcpn__TelephonyIVRKeyMapDemo__TelescriberInteractive.ipf",
    )
    .unwrap();
    let (doc, text) = (script(&l), text_of(&l));
    let breakpoints = doc
        .items()
        .iter()
        .filter(|i| i.prefix() == Prefix::Breakpoint)
        .count();
    assert_eq!(breakpoints, 2);
    assert!(
        doc.items()
            .iter()
            .filter(|i| i.prefix() == Prefix::Breakpoint)
            .all(|i| i.active())
    );
    let graphic = doc
        .items()
        .iter()
        .position(|i| &text[i.name().as_range()] == b"Custom Graphic")
        .unwrap() as u32;
    let g = doc.item(graphic).unwrap();
    assert_eq!(g.prefix(), Prefix::Remarked);
    assert!(g.subtree_end() > graphic + 1, "has children");
    for child in graphic + 1..g.subtree_end() {
        let c = doc.item(child).unwrap();
        assert_eq!(c.prefix(), Prefix::None);
        assert!(!c.active());
    }
    let cs = doc
        .items()
        .iter()
        .position(|i| i.kind() == ItemKind::CreateService)
        .unwrap() as u32;
    let service = doc.create_service(cs).unwrap();
    assert_eq!(
        service.name(&text).unwrap().value_bytes(&text),
        b"Telescriber"
    );
    let deletions = (0..doc.items().len() as u32)
        .filter_map(|i| doc.edit_registry(&text, i))
        .flat_map(|r| r.keys().collect::<Vec<_>>())
        .filter(|k| k.root(&text).number() == Some(194))
        .count();
    assert_eq!(deletions, 6);

    // tcl: UTF-8, ends with `end\r\n\r\n`, the blank line is kept as trivia.
    let l = load(&dir, "enthought__tcl__tools__tcl.wse.in").unwrap();
    let (doc, text) = (script(&l), text_of(&l));
    assert!(text.ends_with(b"end\r\n\r\n"));
    assert_eq!(
        doc.blank_lines().last().map(|r| r.as_range()),
        Some(text.len() - 2..text.len())
    );

    // Uninstal.wse: Compiler Variable regions are tracked, and the nested item has 2 keys.
    let l = load(&dir, "robertorosero__pyhtonmig__PC__VS7.1__Uninstal.wse").unwrap();
    let (doc, text) = (script(&l), text_of(&l));
    assert!(
        doc.items()
            .iter()
            .any(|i| i.role() == BlockRole::CompileOpen)
    );
    let nested = (0..doc.items().len() as u32)
        .filter_map(|i| doc.edit_registry(&text, i))
        .find(|r| r.form == RegistryForm::Nested)
        .unwrap();
    assert_eq!(nested.key_count(), 2);
    assert!(doc.block(nested.item) > 0);
}

#[test]
fn removing_writes_keeps_real_scripts_consistent() {
    let Some(dir) = corpus() else { return };
    for &(name, ..) in TABLE {
        let loaded = load(&dir, name).unwrap_or_else(|e| panic!("{e}"));
        let (doc, text) = (script(&loaded), loaded.source.text());
        let model = svcscrub::model::wise::lower(doc, text, svcscrub::model::Charset::Ansi);
        let changes: Vec<_> = model
            .writes()
            .step_by(2)
            .map(|w| svcscrub::fix::Change::RemoveWrite(w.origin))
            .collect();
        let edits = svcscrub::fix::wise::plan(doc, text, &changes);
        let out = svcscrub::fix::apply_edits(text, &edits).unwrap();
        let fixed = svcscrub::syntax::wise::parse(&out, doc.kind)
            .unwrap_or_else(|e| panic!("{name}: {} at {}", e.message, e.offset));
        let after = svcscrub::model::wise::lower(&fixed, &out, svcscrub::model::Charset::Ansi);
        assert_eq!(
            after.writes().count(),
            model.writes().count() - changes.len(),
            "{name}"
        );
        for i in 0..fixed.items().len() as u32 {
            if let Some(r) = fixed.edit_registry(&out, i)
                && r.form != RegistryForm::Wise5
            {
                assert_eq!(
                    r.total_keys_value(&out),
                    Some(r.key_count() as u32),
                    "{name}"
                );
                assert_eq!(r.form == RegistryForm::Nested, r.key_count() >= 2, "{name}");
            }
        }
    }
}
