use super::*;
use crate::fix::apply_edits;

const V3: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi"
     xmlns:util="http://schemas.microsoft.com/wix/UtilExtension">
  <Product Id="*" Name="Acme">
    <Component Id="Svc" Guid="*">
      <ServiceInstall Id="S" Name="AcmeSvc" Type="ownProcess" Start="auto" ErrorControl="normal"
                      DisplayName="Acme &amp; Co" Account="LocalSystem" LoadOrderGroup="Base">
        <ServiceDependency Id="Tcpip" />
        <util:ServiceConfig FirstFailureActionType="restart" />
      </ServiceInstall>
      <RegistryKey Root="HKLM" Key="SYSTEM\CurrentControlSet\Services\AcmeSvc">
        <RegistryValue Name="Type" Type="integer" Value="16" KeyPath="yes"/>
        <RegistryKey Key="Security" ForceCreateOnInstall="yes">
          <RegistryValue Name="Security" Type="binary" Value="0100" /><!-- captured -->
        </RegistryKey>
      </RegistryKey>
<?if $(var.Legacy) = 1 ?>
      <RegistryValue Root="HKMU" Key="SYSTEM\ControlSet001\Services\AcmeSvc\Enum" Name="Count" Type="integer" Value="1" />
<?endif?>
      <RegistryValue Root="HKLM" Key="Software\Acme" Name="Tags" Type="multiString">
        <MultiStringValue>one</MultiStringValue>
        <MultiStringValue>t&lt;w<![CDATA[&o]]><!-- c --></MultiStringValue>
      </RegistryValue>
      <RemoveRegistryKey Root="HKLM" Key="Software\Old" Action="removeOnInstall" />
      <RemoveRegistryKey Root="HKLM" Key="Software\Later" Action="removeOnUninstall" />
      <RemoveRegistryValue Root="HKLM" Key="Software\Acme" Name="Stale" />
    </Component>
  </Product>
</Wix>
"#;

fn parsed(text: &str) -> WixDocument {
    parse(text.as_bytes(), WixSchema::V3).unwrap()
}

fn kinds(doc: &WixDocument) -> Vec<ElementKind> {
    doc.elements.iter().map(|e| e.kind).collect()
}

#[test]
fn elements_in_document_order_with_their_ranges() {
    let doc = parsed(V3);
    let text = V3.as_bytes();
    use ElementKind::*;
    assert_eq!(
        kinds(&doc),
        [
            Wix,
            Product,
            Component,
            ServiceInstall,
            ServiceDependency,
            UtilServiceConfig,
            RegistryKey,
            RegistryValue,
            RegistryKey,
            RegistryValue,
            RegistryValue,
            RegistryValue,
            MultiStringValue,
            MultiStringValue,
            RemoveRegistryKey,
            RemoveRegistryKey,
            RemoveRegistryValue,
        ]
    );
    for (i, e) in doc.elements.iter().enumerate() {
        let slice = |r: TextRange| &V3[r.as_range()];
        assert!(slice(e.range).starts_with('<'), "{i}");
        assert!(slice(e.range).ends_with('>'), "{i}");
        assert!(slice(e.start_tag).ends_with('>'), "{i}");
        assert!(e.range.contains_range(e.start_tag) && e.range.contains_range(e.content));
        if e.content.is_empty() && e.range.end == e.start_tag.end {
            assert!(slice(e.start_tag).ends_with("/>"), "{i}");
        } else {
            assert!(slice(TextRange::new(e.content.end, e.range.end)).starts_with("</"));
        }
        // The subtree nests inside the element.
        for child in &doc.elements[i + 1..e.end as usize] {
            assert!(e.content.contains_range(child.range), "{i}");
        }
        if let Some(parent) = doc.element(e.parent) {
            assert!(parent.content.contains_range(e.range));
        } else {
            assert_eq!(i, 0);
        }
        // Attributes sit in the start tag, in order.
        let mut at = e.name.end;
        for a in doc.attributes_of(e) {
            assert!(a.range.start >= at && e.start_tag.contains_range(a.range));
            assert_eq!(text[a.value.start - 1], a.quote);
            assert_eq!(text[a.value.end], a.quote);
            at = a.range.end;
        }
    }
    // Namespace declarations are attributes too (the root's two).
    assert_eq!(doc.attributes_of(&doc.elements[0]).len(), 2);
    assert_eq!(doc.elements[0].end as usize, doc.elements.len());
    let conditional: Vec<bool> = doc.elements.iter().map(|e| e.conditional).collect();
    assert_eq!(conditional.iter().filter(|&&c| c).count(), 1);
    assert!(doc.elements[10].conditional);
}

#[test]
fn registry_operations_inherit_root_and_keys() {
    let doc = parsed(V3);
    let text = V3.as_bytes();
    let ops = doc.registry_operations(text);
    let shown: Vec<(String, String, Option<WixRoot>)> = ops
        .iter()
        .map(|op| {
            let kind = match op {
                RegistryOperation::SetValue(_) => "set",
                RegistryOperation::CreateKey(_, KeyCreation::Create) => "create",
                RegistryOperation::CreateKey(_, _) => "create*",
                RegistryOperation::DeleteValue(_) => "delete value",
                RegistryOperation::DeleteKey(_) => "delete key",
            };
            let e = op.element();
            (
                kind.to_string(),
                String::from_utf8(e.key(&doc, text)).unwrap(),
                e.root(&doc, text),
            )
        })
        .collect();
    let services = r"SYSTEM\CurrentControlSet\Services\AcmeSvc";
    let expected: Vec<(&str, String, Option<WixRoot>)> = vec![
        ("set", services.to_string(), Some(WixRoot::Hklm)),
        (
            "create",
            format!(r"{services}\Security"),
            Some(WixRoot::Hklm),
        ),
        ("set", format!(r"{services}\Security"), Some(WixRoot::Hklm)),
        (
            "set",
            r"SYSTEM\ControlSet001\Services\AcmeSvc\Enum".into(),
            Some(WixRoot::Hkmu),
        ),
        ("set", r"Software\Acme".into(), Some(WixRoot::Hklm)),
        ("delete key", r"Software\Old".into(), Some(WixRoot::Hklm)),
        ("delete value", r"Software\Acme".into(), Some(WixRoot::Hklm)),
    ];
    let expected: Vec<(String, String, Option<WixRoot>)> = expected
        .into_iter()
        .map(|(k, key, root)| (k.to_string(), key, root))
        .collect();
    assert_eq!(shown, expected);
    // The component of each operation is the Component element.
    for op in &ops {
        assert_eq!(doc.component_of(op.element().index), Some(2));
    }
    let tags = ops[4].element().index;
    let strings: Vec<Vec<u8>> = doc
        .multi_strings(text, tags)
        .into_iter()
        .map(|s| s.into_owned())
        .collect();
    assert_eq!(strings, [b"one".to_vec(), b"t<w&o".to_vec()]);
}

#[test]
fn service_install_fields_are_read_unescaped() {
    let doc = parsed(V3);
    let text = V3.as_bytes();
    let services: Vec<ServiceInstall<'_>> = doc.service_installs().collect();
    assert_eq!(services.len(), 1);
    let s = &services[0];
    let field = |name| s.field(&doc, text, name).map(|v| v.into_owned());
    assert_eq!(field("Name").as_deref(), Some(&b"AcmeSvc"[..]));
    assert_eq!(field("DisplayName").as_deref(), Some(&b"Acme & Co"[..]));
    assert_eq!(field("LoadOrderGroup").as_deref(), Some(&b"Base"[..]));
    assert_eq!(field("Password"), None);
    let deps: Vec<Vec<u8>> = s
        .dependencies(&doc, text)
        .into_iter()
        .map(|d| d.into_owned())
        .collect();
    assert_eq!(deps, [b"Tcpip".to_vec()]);
}

#[test]
fn v4_multi_strings_are_values_and_v2_actions_are_deletions() {
    let text = r#"<Wix xmlns="http://wixtoolset.org/schemas/v4/wxs"><Fragment><Component>
<RegistryValue Root="HKLM" Key="K" Name="M" Type="multiString"><MultiStringValue Value="a" /><MultiStringValue Value="b" /></RegistryValue>
<RegistryValue Root="HKLM" Key="K" Name="Gone" Action="remove" />
<RegistryValue Root="HKLM" Key="K\Sub" Action="removeKeyOnInstall" />
<RegistryKey Root="HKLM" Key="K\Both" ForceCreateOnInstall="yes" ForceDeleteOnUninstall="yes" />
<RegistryKey Root="HKLM" Key="K\Named" />
</Component></Fragment></Wix>"#;
    let doc = parse(text.as_bytes(), WixSchema::V4).unwrap();
    let ops = doc.registry_operations(text.as_bytes());
    assert!(matches!(ops[0], RegistryOperation::SetValue(_)));
    let strings: Vec<Vec<u8>> = doc
        .multi_strings(text.as_bytes(), ops[0].element().index)
        .into_iter()
        .map(|s| s.into_owned())
        .collect();
    assert_eq!(strings, [b"a".to_vec(), b"b".to_vec()]);
    assert!(matches!(ops[1], RegistryOperation::DeleteValue(_)));
    assert!(matches!(ops[2], RegistryOperation::DeleteKey(_)));
    assert!(matches!(
        ops[3],
        RegistryOperation::CreateKey(_, KeyCreation::CreateAndRemoveOnUninstall)
    ));
    // A key that only names a path creates nothing.
    assert_eq!(ops.len(), 4);
}

#[test]
fn elements_of_another_namespace_are_other() {
    // A v3 element in a v4 source, and an unqualified include's WiX elements.
    let text = r#"<Wix xmlns="http://wixtoolset.org/schemas/v4/wxs"><Fragment><w3:RegistryValue xmlns:w3="http://schemas.microsoft.com/wix/2006/wi" /></Fragment></Wix>"#;
    let doc = parse(text.as_bytes(), WixSchema::V4).unwrap();
    assert_eq!(
        kinds(&doc),
        [ElementKind::Wix, ElementKind::Fragment, ElementKind::Other]
    );
    let include = r#"<Include xmlns:x="y"><Component><ServiceInstall Name="$(var.Svc)"/></Component></Include>"#;
    let doc = parse(include.as_bytes(), WixSchema::Unqualified).unwrap();
    assert_eq!(
        kinds(&doc),
        [
            ElementKind::Include,
            ElementKind::Component,
            ElementKind::ServiceInstall
        ]
    );
    let name = doc
        .service_installs()
        .next()
        .unwrap()
        .field(&doc, include.as_bytes(), "Name");
    assert_eq!(name.as_deref(), Some(&b"$(var.Svc)"[..]));
}

#[test]
fn removal_takes_the_line_only_when_the_element_stands_alone() {
    let text = "<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\">\r\n  <A/>\r\n\t<RegistryValue Name=\"x\" />  \r\n  <B/><RegistryValue Name=\"y\"/>\n<RegistryValue Name=\"z\"/></Wix>";
    let doc = parsed(text);
    let bytes = text.as_bytes();
    let values: Vec<&Element> = doc
        .elements
        .iter()
        .filter(|e| e.kind == ElementKind::RegistryValue)
        .collect();
    let removed = |e: &Element| {
        let edit = doc.removal(bytes, e);
        String::from_utf8(apply_edits(bytes, &[edit]).unwrap()).unwrap()
    };
    // Alone on its line (with blanks around it): the line with its CRLF goes.
    assert_eq!(
        removed(values[0]),
        "<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\">\r\n  <A/>\r\n  <B/><RegistryValue Name=\"y\"/>\n<RegistryValue Name=\"z\"/></Wix>"
    );
    // Beside another element, or before the end tag: only the element.
    assert!(removed(values[1]).contains("  <B/>\n<Registry"));
    assert!(removed(values[2]).ends_with("\n</Wix>"));
    // Every result parses again, with one element fewer.
    for e in values {
        let again = parse(removed(e).as_bytes(), WixSchema::V3).unwrap();
        assert_eq!(again.elements.len(), doc.elements.len() - 1);
    }
}

#[test]
fn a_rewritten_attribute_reads_back_as_written_and_nothing_else_moves() {
    let text = "<Wix xmlns='http://schemas.microsoft.com/wix/2006/wi'><RegistryValue Key='SYSTEM\\ControlSet001\\Services\\x' Name=\"v\"/></Wix>";
    let doc = parsed(text);
    let bytes = text.as_bytes();
    let value = &doc.elements[1];
    let key = doc.attribute(bytes, value, "Key").unwrap();
    for new in [
        &b"SYSTEM\\CurrentControlSet\\Services\\x"[..],
        b"it's <&> \"q\"\ttab",
    ] {
        let edit = doc.attribute_rewrite(key, new);
        let fixed = apply_edits(bytes, std::slice::from_ref(&edit)).unwrap();
        assert_eq!(&fixed[..key.value.start], &bytes[..key.value.start]);
        assert_eq!(
            &fixed[fixed.len() - (bytes.len() - key.value.end)..],
            &bytes[key.value.end..]
        );
        let again = parse(&fixed, WixSchema::V3).unwrap();
        let read = again
            .attribute_value(&fixed, &again.elements[1], "Key")
            .unwrap();
        assert_eq!(&*read, new);
    }
}

#[test]
fn unescape_reads_references_and_normalizes_blanks() {
    let read = |raw: &[u8], attribute| unescape(raw, attribute, false).into_owned();
    assert_eq!(read(b"a&amp;b&lt;&gt;&quot;&apos;", true), b"a&b<>\"'");
    assert_eq!(read(b"&#65;&#x42;&#233;", true), "AB\u{e9}".as_bytes());
    assert_eq!(read(b"a\r\nb\tc\rd\ne", true), b"a b c d e");
    assert_eq!(read(b"a\r\nb", false), b"a\r\nb");
    assert_eq!(read(b"&#10;", true), b"\n");
    // In an 8-bit text a referenced character is written in its code page.
    assert_eq!(
        unescape(b"&#233;&#x20AC;&#x4E00;", true, true).into_owned(),
        b"\xE9\x80?"
    );
    assert!(matches!(unescape(b"plain", true, false), Cow::Borrowed(_)));
    assert_eq!(escape(b"a&<>\"'", b'"'), b"a&amp;&lt;>&quot;'");
}

#[test]
fn an_8_bit_text_keeps_its_offsets_and_bytes() {
    let text = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?>\r\n<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\"><ServiceInstall Name=\"Caf\xE9\" DisplayName=\"\xC9t\xE9\"/></Wix>";
    let doc = parse(text, WixSchema::V3).unwrap();
    assert!(doc.eight_bit);
    let service = doc.service_installs().next().unwrap();
    assert_eq!(
        service.field(&doc, text, "Name").as_deref(),
        Some(&b"Caf\xE9"[..])
    );
    assert_eq!(
        service.field(&doc, text, "DisplayName").as_deref(),
        Some(&b"\xC9t\xE9"[..])
    );
    assert_eq!(
        &text[service.element.range.as_range()][..15],
        b"<ServiceInstall"
    );
}

#[test]
fn malformed_xml_is_an_error_at_its_position() {
    let at = |text: &str| {
        let e = parse(text.as_bytes(), WixSchema::V3).unwrap_err();
        (e.offset, e.message)
    };
    // Truncated: the root is never closed.
    let truncated = "<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\">\n  <Product>\n";
    let (offset, message) = at(truncated);
    assert!(message.contains("unexpected end of file"), "{message}");
    assert_eq!(offset, truncated.len());
    // A mismatched end tag on line 2, at the `</B>` (column 4).
    let (offset, message) =
        at("<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\">\n<A></B></Wix>");
    assert!(message.contains("malformed XML"), "{message}");
    assert_eq!(offset, 55 + 3);
    let (_, message) = at("<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\">&bomb;</Wix>");
    assert!(message.contains("unknown entity `&bomb;`"), "{message}");
    let (offset, message) = at(
        "<!DOCTYPE Wix [<!ENTITY a \"aaaa\">]>\n<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\">&a;</Wix>",
    );
    assert!(message.contains("document type declaration"), "{message}");
    assert_eq!(offset, 0);
}

#[test]
fn the_tree_accounts_for_every_byte() {
    let doc = parsed(V3);
    assert!(doc.is_lossless(V3.as_bytes()));
    // A tree that lost a piece (an element's start tag) no longer accounts for its text.
    let mut broken = doc.clone();
    broken.elements.remove(4);
    assert!(!broken.is_lossless(V3.as_bytes()));
    // Nor does it account for another text.
    assert!(!doc.is_lossless(format!("{V3} ").as_bytes()));
}
