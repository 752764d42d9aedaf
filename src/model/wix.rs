//! Lowering a WiX source to a [`FileModel`]: what the package compiled from it does to the
//! registry (see [`super::installer`] for the installer's order, conditions and formatted text).
//!
//! Operations come from the registry elements as [`WixDocument::registry_operations`] reads
//! them: a `RegistryValue` sets its value under its key (its own `Key` joined after the `Key`s
//! of the `RegistryKey` elements around it, its `Root` or theirs), a `RegistryKey` with
//! `ForceCreateOnInstall="yes"` or v3's `Action="create…"` creates its key, `RemoveRegistryKey`
//! and `RemoveRegistryValue` (and WiX 2's `Action="remove…"`) delete. They run in the installer's
//! order: the deletions, then the writes, each in document order, then the `ServiceInstall`s.
//! `ServiceConfig` and `util:ServiceConfig` configure a service through tables of their own and
//! are no operation of this model.
//!
//! Origins: `container` is the element's index in [`WixDocument::elements`] with the action's
//! rank above it ([`installer::container`]: 0 deletions, 1 writes), `index` is 0. A service
//! install's handle is its element's index.
//!
//! Values by `Type`: `string` (the default), `expandable`, `integer` (decimal, a `REG_DWORD`),
//! `binary` (hex digits), `multiString` (the element's `Value`, then its `MultiStringValue`
//! children). A value that is not a constant (`$(var.X)`, `[PROPERTY]`) is kept as written; a
//! number or binary value that is not one is kept raw.

use std::borrow::Cow;
use std::collections::HashSet;

use super::installer::{self, INSTALL_SERVICES, REMOVE_REGISTRY_VALUES, WRITE_REGISTRY_VALUES};
use super::{
    Charset, Data, FileModel, Hive, OpKind, Operation, Origin, Selection, ServiceField,
    ServiceInstall, ServiceValue, TreeRef,
};
use crate::syntax::wix::{
    Attribute, ElementKind, RegistryElement, RegistryOperation, WixDocument, WixRoot,
};

/// How the working text of `doc` reads: UTF-8, unless it is not (a source in the ANSI code
/// page, declared as such).
pub fn charset(doc: &WixDocument) -> Charset {
    if doc.eight_bit {
        Charset::Ansi
    } else {
        Charset::Utf8
    }
}

/// The operations and service installs of `doc`.
pub fn lower<'a>(doc: &'a WixDocument, text: &'a [u8]) -> FileModel<'a> {
    lower_selected(doc, text, &super::All)
}

/// As [`lower`], with only the operations `selection` wants.
pub fn lower_selected<'a>(
    doc: &'a WixDocument,
    text: &'a [u8],
    selection: &impl Selection,
) -> FileModel<'a> {
    let conditions = conditions(doc);
    let mut deletions = Vec::new();
    let mut writes = Vec::new();
    for operation in doc.registry_operations(text) {
        let (kind, element) = match &operation {
            RegistryOperation::SetValue(e) => (OpKind::SetValue, e),
            RegistryOperation::CreateKey(e, _) => (OpKind::CreateKey, e),
            RegistryOperation::DeleteValue(e) => (OpKind::DeleteValue, e),
            RegistryOperation::DeleteKey(e) => (OpKind::DeleteKey, e),
        };
        let Some(op) = lower_operation(doc, text, &conditions, kind, element, selection) else {
            continue;
        };
        if kind.is_write() {
            writes.push(op);
        } else {
            deletions.push(op);
        }
    }
    deletions.extend(writes);
    let services = doc
        .service_installs()
        .map(|s| service_install(doc, text, &conditions, s.index))
        .collect();
    FileModel {
        ops: deletions,
        services,
        charset: charset(doc),
        templates: false,
        includes: Vec::new(),
        service_item: Some("ServiceInstall"),
        tree: TreeRef::Wix,
    }
}

/// The hive a `Root` names (`HKMU` is `HKLM`: a per-machine install).
fn hive(root: Option<WixRoot>) -> Hive {
    match root {
        Some(WixRoot::Hklm | WixRoot::Hkmu) => Hive::LocalMachine,
        Some(WixRoot::Hkcu) => Hive::CurrentUser,
        Some(WixRoot::Hkcr) => Hive::ClassesRoot,
        Some(WixRoot::Hku) => Hive::Users,
        None => Hive::Unknown,
    }
}

/// An element's full key (its `Key` parts joined by one `\`), borrowed when it has one part
/// written without references; and the range of that part's value when the key stands there
/// verbatim.
fn key_of<'a>(
    doc: &WixDocument,
    text: &'a [u8],
    element: &RegistryElement<'_>,
) -> (Cow<'a, [u8]>, Option<crate::text::TextRange>) {
    if let [part] = element.key_parts.as_slice() {
        let value = doc.value(text, part);
        let verbatim = matches!(value, Cow::Borrowed(_)).then_some(part.value);
        return (value, verbatim);
    }
    (Cow::Owned(element.key(doc, text)), None)
}

fn lower_operation<'a>(
    doc: &'a WixDocument,
    text: &'a [u8],
    conditions: &Conditions,
    kind: OpKind,
    element: &RegistryElement<'_>,
    selection: &impl Selection,
) -> Option<Operation<'a>> {
    let (key, key_range) = key_of(doc, text, element);
    if !selection.key_in_any_hive(&key) {
        return None;
    }
    let hive = hive(element.root(doc, text));
    if !selection.key(hive, &key) {
        return None;
    }
    let e = element.element;
    let index = element.index;
    let name = || {
        doc.attribute_value(text, e, "Name")
            .unwrap_or(Cow::Borrowed(b""))
    };
    let (value, data, nuls) = match kind {
        OpKind::SetValue => {
            let (data, nuls) = value_data(doc, text, index);
            (Some(name()), data, nuls)
        }
        OpKind::DeleteValue => (Some(name()), Data::None, 0),
        OpKind::CreateKey | OpKind::DeleteKey => (None, Data::None, 0),
    };
    let unresolved = installer::is_opaque(&key)
        || value.as_deref().is_some_and(installer::is_opaque)
        || element
            .root
            .is_some_and(|r| installer::is_opaque(&doc.value(text, r)));
    let (rank, action) = if kind.is_write() {
        (1, WRITE_REGISTRY_VALUES)
    } else {
        (0, REMOVE_REGISTRY_VALUES)
    };
    Some(Operation {
        kind,
        hive,
        key,
        key_range,
        unresolved,
        value,
        data,
        nuls,
        range: e.start_tag,
        record: e.range,
        wow64_64: win64(doc, text, index),
        origin: Origin {
            container: installer::container(rank, index),
            index: 0,
        },
        block: block(doc, text, conditions, index),
        seq: installer::seq(action, index),
        statement: None,
    })
}

/// A `RegistryValue`'s data by its `Type` (see the module docs), with its NUL count.
fn value_data<'a>(doc: &WixDocument, text: &'a [u8], index: u32) -> (Data<'a>, u8) {
    let Some(e) = doc.element(index) else {
        return (Data::None, 0);
    };
    let value = || {
        doc.attribute_value(text, e, "Value")
            .unwrap_or(Cow::Borrowed(b""))
    };
    let kind = doc.attribute_value(text, e, "Type");
    match kind.as_deref().map(<[u8]>::to_ascii_lowercase).as_deref() {
        Some(b"integer") => {
            let v = value();
            let n = std::str::from_utf8(&v)
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .filter(|n| (i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(n));
            match n {
                Some(n) => (Data::Dword(n as u32), 0),
                None => (
                    Data::Raw {
                        kind: super::kind::DWORD,
                        bytes: v.into_owned(),
                    },
                    0,
                ),
            }
        }
        Some(b"binary") => {
            let v = value();
            match installer::hex_bytes(&v) {
                Some(bytes) => (Data::Binary(bytes), 0),
                None => (
                    Data::Raw {
                        kind: super::kind::BINARY,
                        bytes: v.into_owned(),
                    },
                    0,
                ),
            }
        }
        Some(b"expandable") => (Data::ExpandSz(value()), 1),
        Some(b"multistring") => (Data::MultiSz(doc.multi_strings(text, index)), 2),
        _ => (Data::Sz(value()), 1),
    }
}

/// The nearest `Component` around element `index`, and whether it is installed only under a
/// condition: a `Condition` child (v3) or attribute (v4), or inside a `<?if?>`/`<?foreach?>`.
fn component(
    doc: &WixDocument,
    text: &[u8],
    conditions: &Conditions,
    index: u32,
) -> (Option<u32>, bool) {
    let Some(c) = doc.component_of(index) else {
        return (None, false);
    };
    let conditional = doc.element(c).is_some_and(|e| {
        e.conditional
            || e.repeated
            || doc.attribute(text, e, "Condition").is_some()
            || conditions.contains(&c)
    });
    (Some(c), conditional)
}

/// The components with a `Condition` child, found once: looking through a component's
/// children for every element in it would cost its size squared.
type Conditions = HashSet<u32>;

fn conditions(doc: &WixDocument) -> Conditions {
    doc.elements
        .iter()
        .filter(|e| e.kind == ElementKind::Condition)
        .filter(|e| {
            doc.element(e.parent)
                .is_some_and(|p| p.kind == ElementKind::Component)
        })
        .map(|e| e.parent)
        .collect()
}

/// The control-flow region of element `index`: 0 when it is always built and installed, else
/// one per conditional component (or element).
fn block(doc: &WixDocument, text: &[u8], conditions: &Conditions, index: u32) -> u32 {
    let own = doc
        .element(index)
        .is_some_and(|e| e.conditional || e.repeated);
    match component(doc, text, conditions, index) {
        (Some(c), conditional) if conditional || own => c + 1,
        (None, _) if own => index + 1,
        _ => 0,
    }
}

/// Whether the component of element `index` writes the 64-bit registry view.
fn win64(doc: &WixDocument, text: &[u8], index: u32) -> bool {
    let Some(e) = doc.component_of(index).and_then(|c| doc.element(c)) else {
        return false;
    };
    doc.attribute_value(text, e, "Win64").as_deref() == Some(b"yes")
        || doc.attribute_value(text, e, "Bitness").as_deref() == Some(b"always64")
}

/// The registry value a `ServiceInstall` attribute sets.
fn sets(name: &[u8]) -> Option<ServiceValue> {
    Some(match name {
        b"Type" | b"Interactive" => ServiceValue::Type,
        b"Start" => ServiceValue::Start,
        b"ErrorControl" => ServiceValue::ErrorControl,
        b"DisplayName" => ServiceValue::DisplayName,
        b"Account" => ServiceValue::ObjectName,
        b"LoadOrderGroup" => ServiceValue::Group,
        b"Description" => ServiceValue::Description,
        b"Arguments" => ServiceValue::ImagePath,
        _ => return None,
    })
}

/// `Type`: the service type CreateService gets (`Interactive="yes"` adds 0x100).
pub fn service_type(value: &[u8]) -> Option<u32> {
    Some(match value {
        b"ownProcess" => 0x10,
        b"shareProcess" => 0x20,
        b"kernelDriver" => 0x1,
        b"systemDriver" => 0x2,
        _ => return None,
    })
}

/// `Start`: the start type.
pub fn start_type(value: &[u8]) -> Option<u32> {
    Some(match value {
        b"boot" => 0,
        b"system" => 1,
        b"auto" => 2,
        b"demand" => 3,
        b"disabled" => 4,
        _ => return None,
    })
}

/// `ErrorControl`: the error control.
pub fn error_control(value: &[u8]) -> Option<u32> {
    Some(match value {
        b"ignore" => 0,
        b"normal" => 1,
        b"critical" => 3,
        _ => return None,
    })
}

/// The `ServiceInstall` element at `index`, in the SCM's terms.
fn service_install<'a>(
    doc: &'a WixDocument,
    text: &'a [u8],
    conditions: &Conditions,
    index: u32,
) -> ServiceInstall<'a> {
    let e = &doc.elements[index as usize];
    let raw = |a: &Attribute| text.get(a.value.as_range()).unwrap_or_default();
    let fields: Vec<ServiceField<'a>> = doc
        .attributes_of(e)
        .iter()
        .map(|a| {
            let label = text.get(a.name.as_range()).unwrap_or_default();
            ServiceField {
                label,
                value: raw(a),
                line: a.range,
                value_range: a.value,
                sets: sets(label),
            }
        })
        .collect();
    let attr = |name: &str| doc.attribute_value(text, e, name);
    let name = attr("Name").unwrap_or(Cow::Borrowed(b""));
    let interactive = attr("Interactive").as_deref() == Some(b"yes");
    let service_type = attr("Type")
        .as_deref()
        .and_then(service_type)
        .map(|t| if interactive { t | 0x100 } else { t });
    // The texts as XML reads them (an escaped one cannot be borrowed from the source).
    let mut more = Vec::new();
    for (attribute, value) in [
        ("DisplayName", ServiceValue::DisplayName),
        ("Account", ServiceValue::ObjectName),
        ("LoadOrderGroup", ServiceValue::Group),
    ] {
        if let Some(text) = attr(attribute) {
            more.push((value, Data::Sz(text)));
        }
    }
    if let Some(file) = key_file(doc, text, index) {
        let mut path = [b"[#", &file[..], b"]"].concat();
        if let Some(arguments) = attr("Arguments").filter(|a| !a.is_empty()) {
            path.push(b' ');
            path.extend_from_slice(&arguments);
        }
        more.push((ServiceValue::ImagePath, Data::ExpandSz(Cow::Owned(path))));
    }
    let dependencies = doc.children(index).filter_map(|(_, child)| {
        if child.kind != ElementKind::ServiceDependency {
            return None;
        }
        let id = doc.attribute_value(text, child, "Id")?;
        Some(
            if doc.attribute_value(text, child, "Group").as_deref() == Some(b"yes") {
                Cow::Owned([&b"+"[..], &id].concat())
            } else {
                id
            },
        )
    });
    more.extend(installer::dependencies(dependencies));
    if let Some(description) = attr("Description")
        && attr("EraseDescription").as_deref() != Some(b"yes")
    {
        more.push((ServiceValue::Description, Data::Sz(description)));
    }
    ServiceInstall {
        unresolved: installer::is_opaque(&name),
        name,
        service_type,
        start: attr("Start").as_deref().and_then(start_type),
        error_control: attr("ErrorControl").as_deref().and_then(error_control),
        image_path: None,
        display_name: None,
        account: None,
        group: None,
        more,
        settable: installer::SETTABLE,
        fields,
        handle: Origin {
            container: index,
            index: 0,
        },
        head: e.start_tag,
        range: e.range,
        block: block(doc, text, conditions, index),
        seq: installer::seq(INSTALL_SERVICES, index),
    }
}

/// The `Id` of the file the service's component installs as its key path (the executable
/// Windows Installer gives CreateService): its `File` with `KeyPath="yes"`, else its first.
fn key_file<'a>(doc: &WixDocument, text: &'a [u8], index: u32) -> Option<Cow<'a, [u8]>> {
    let component = doc.component_of(index)?;
    let files: Vec<_> = doc
        .children(component)
        .filter(|(_, e)| e.kind == ElementKind::File)
        .collect();
    let (_, file) = files
        .iter()
        .find(|(_, f)| doc.attribute_value(text, f, "KeyPath").as_deref() == Some(b"yes"))
        .or_else(|| files.first())?;
    doc.attribute_value(text, file, "Id")
        .or_else(|| doc.attribute_value(text, file, "Name"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::state::{KeepAll, KeyId, Outcome, State};

    fn parse(text: &str) -> WixDocument {
        let schema = if text.contains("wixtoolset.org") {
            crate::detect::WixSchema::V4
        } else {
            crate::detect::WixSchema::V3
        };
        crate::syntax::wix::parse(text.as_bytes(), schema).unwrap()
    }

    const V3: &str = r#"<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi"><Product>
  <Component Id="Svc">
    <File Id="SvcExe" Name="svc.exe" KeyPath="yes" />
    <ServiceInstall Name="Svc" Type="ownProcess" Interactive="yes" Start="auto" ErrorControl="critical" Vital="yes" LoadOrderGroup="Base" Arguments="-k">
      <ServiceDependency Id="Tcpip" />
      <ServiceDependency Id="NetworkProvider" Group="yes" />
    </ServiceInstall>
    <ServiceConfig ServiceName="Svc" DelayedAutoStart="yes" OnInstall="yes" />
  </Component>
  <Component Id="Captured">
    <Condition>NOT Installed</Condition>
    <RegistryKey Root="HKMU" Key="SYSTEM\CurrentControlSet\Services">
      <RegistryKey Key="Svc\Security" Action="create">
        <RegistryValue Name="Security" Type="binary" Value="0100ff" KeyPath="yes" />
      </RegistryKey>
      <RegistryValue Key="Svc" Name="Start" Type="integer" Value="2" />
      <RegistryValue Key="Svc" Name="Group" Value="$(var.Group)" />
      <RegistryValue Key="Svc" Name="DependOnService" Type="multiString" Value="Tcpip">
        <MultiStringValue>Afd</MultiStringValue>
      </RegistryValue>
    </RegistryKey>
    <RemoveRegistryValue Root="HKLM" Key="SYSTEM\CurrentControlSet\Services\Svc" Name="Tag" />
    <RegistryValue Root="HKLM" Key="SYSTEM\CurrentControlSet\Services\[SVCNAME]" Name="Start" Type="integer" Value="[START]" />
  </Component>
</Product></Wix>"#;

    #[test]
    fn registry_elements_lower_in_the_installers_order() {
        let doc = parse(V3);
        let model = lower(&doc, V3.as_bytes());
        let shown = crate::model::installer::ops_shown(&model);
        let services = r"SYSTEM\CurrentControlSet\Services";
        assert_eq!(
            shown,
            vec![
                (
                    OpKind::DeleteValue,
                    format!(r"{services}\Svc"),
                    Some("Tag".into())
                ),
                (OpKind::CreateKey, format!(r"{services}\Svc\Security"), None),
                (
                    OpKind::SetValue,
                    format!(r"{services}\Svc\Security"),
                    Some("Security".into())
                ),
                (
                    OpKind::SetValue,
                    format!(r"{services}\Svc"),
                    Some("Start".into())
                ),
                (
                    OpKind::SetValue,
                    format!(r"{services}\Svc"),
                    Some("Group".into())
                ),
                (
                    OpKind::SetValue,
                    format!(r"{services}\Svc"),
                    Some("DependOnService".into())
                ),
                (
                    OpKind::SetValue,
                    format!(r"{services}\[SVCNAME]"),
                    Some("Start".into())
                ),
            ]
        );
        // In order of position and of origin; the deletion first although written last.
        assert!(model.ops.windows(2).all(|w| w[0].seq < w[1].seq));
        assert!(model.ops.windows(2).all(|w| w[0].origin < w[1].origin));
        assert!(model.ops.iter().all(|op| op.hive == Hive::LocalMachine));
        // A conditional component is a region of its own; nested keys have no single range,
        // a key written whole in one attribute has.
        assert!(model.ops.iter().all(|op| op.conditional()));
        assert!(model.ops[1..6].iter().all(|op| op.key_range.is_none()));
        assert_eq!(
            model.ops[0].key_range.map(|r| r.slice(V3.as_bytes())),
            Some(&br"SYSTEM\CurrentControlSet\Services\Svc"[..])
        );
        let data: Vec<&Data<'_>> = model.ops.iter().map(|op| &op.data).collect();
        assert_eq!(*data[2], Data::Binary(vec![1, 0, 0xff]));
        assert_eq!(*data[3], Data::Dword(2));
        assert_eq!(*data[4], Data::Sz(Cow::Borrowed(b"$(var.Group)")));
        assert_eq!(
            *data[5],
            Data::MultiSz(vec![Cow::Borrowed(b"Tcpip"), Cow::Borrowed(b"Afd")])
        );
        assert_eq!(
            *data[6],
            Data::Raw {
                kind: 4,
                bytes: b"[START]".to_vec()
            }
        );
        assert!(model.ops[6].unresolved && !model.ops[3].unresolved);

        let [svc] = model.services.as_slice() else {
            panic!("one service install")
        };
        assert_eq!(&*svc.name, b"Svc");
        assert!(!svc.unresolved && svc.block == 0);
        assert_eq!(svc.service_type, Some(0x110));
        assert_eq!((svc.start, svc.error_control), (Some(2), Some(3)));
        assert!(model.ops.iter().all(|op| op.seq < svc.seq));
        assert_eq!(
            svc.writes(ServiceValue::ImagePath),
            Some(Data::ExpandSz(Cow::Owned(b"[#SvcExe] -k".to_vec())))
        );
        assert_eq!(
            svc.writes(ServiceValue::Group),
            Some(Data::Sz(Cow::Borrowed(b"Base")))
        );
        assert_eq!(
            svc.writes(ServiceValue::DependOnGroup),
            Some(Data::MultiSz(vec![Cow::Owned(b"NetworkProvider".to_vec())]))
        );
        assert_eq!(
            svc.writes(ServiceValue::ObjectName),
            Some(Data::Sz(Cow::Borrowed(b"LocalSystem")))
        );
        assert_eq!(svc.writes(ServiceValue::Description), None);
        assert_eq!(
            svc.field(ServiceValue::Start).map(|f| f.value),
            Some(&b"auto"[..])
        );
    }

    #[test]
    fn the_state_installs_the_service_over_the_captured_values() {
        let text = r#"<Wix xmlns="http://wixtoolset.org/schemas/v4/wxs"><Package>
  <Component><File Id="a.exe" /><ServiceInstall Name="A" Type="ownProcess" Start="demand" ErrorControl="normal" /></Component>
  <Component>
    <RegistryValue Root="HKLM" Key="SYSTEM\ControlSet001\Services\A" Name="Start" Type="integer" Value="2" />
    <RegistryKey Root="HKLM" Key="SYSTEM\CurrentControlSet\Services\A\Parameters" ForceCreateOnInstall="yes" />
  </Component>
</Package></Wix>"#;
        let doc = parse(text);
        let model = lower(&doc, text.as_bytes());
        assert_eq!(model.ops.len(), 2);
        assert!(model.ops.iter().all(|op| !op.conditional()));
        assert_eq!(
            model.ops[0].key_range.map(|r| r.slice(text.as_bytes())),
            Some(&b"SYSTEM\\ControlSet001\\Services\\A"[..])
        );
        let state = State::of_files([(0, &model)], &KeepAll);
        let (id, _) = KeyId::of(
            Charset::Utf8,
            Hive::LocalMachine,
            b"SYSTEM\\CurrentControlSet\\Services\\A",
        )
        .unwrap();
        let dword = |n: u32| {
            Outcome::Set(crate::model::state::Value {
                kind: 4,
                bytes: n.to_le_bytes().to_vec(),
            })
        };
        // The install comes last: its start type wins over the captured one.
        assert_eq!(state.keys[&id].values["START"].possible, vec![dword(3)]);
        assert!(state.keys[&id].values.contains_key("IMAGEPATH"));
    }
}
