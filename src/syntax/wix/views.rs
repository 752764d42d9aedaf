//! Typed views of the WiX elements that touch the registry or install a service.
//!
//! What WiX compiles each element into (the Windows Installer tables it fills) decides what
//! it does at install time, and so whether it is a registry write, a deletion, or neither:
//! - `RegistryValue` → a `Registry` row: a write (`Action` `write`, `append`, `prepend`).
//!   WiX 2's `Action="remove"` and `"removeKeyOnInstall"` were deletions (`RemoveRegistry`).
//! - `RegistryKey` → a `Registry` row with `Name` `+` (create the key on install) or `*`
//!   (create, and delete on uninstall) when v3's `Action` is `create` or
//!   `createAndRemoveOnUninstall`, or v4's `ForceCreateOnInstall="yes"`; otherwise it only
//!   names the key its children write under (their `Key`s are relative to it, and they take its
//!   `Root`).
//! - `RemoveRegistryKey` (`Action="removeOnInstall"`) and `RemoveRegistryValue` → `RemoveRegistry`
//!   rows: install-time deletions. `removeOnUninstall` and `ForceDeleteOnUninstall` act only on
//!   uninstall: not operations of the install.
//! - `ServiceInstall` → a `ServiceInstall` row (the Service Control Manager's `CreateService`);
//!   `ServiceConfig`/`util:ServiceConfig` → `MsiServiceConfig*` and the utility extension's
//!   tables: configuration, never a registry write of this model.

use std::borrow::Cow;

use super::{Attribute, Element, ElementKind, WixDocument};

/// A `Root` attribute's hive. `HKMU` is HKLM in a per-machine install and HKCU in a per-user
/// one (`ALLUSERS`); svcscrub's packages are per-machine captures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WixRoot {
    Hklm,
    Hkcu,
    Hkcr,
    Hku,
    Hkmu,
}

impl WixRoot {
    pub fn parse(value: &[u8]) -> Option<Self> {
        match value {
            b"HKLM" => Some(WixRoot::Hklm),
            b"HKCU" => Some(WixRoot::Hkcu),
            b"HKCR" => Some(WixRoot::Hkcr),
            b"HKU" => Some(WixRoot::Hku),
            b"HKMU" => Some(WixRoot::Hkmu),
            _ => None,
        }
    }
}

/// How a `RegistryKey` creates its key on install (the `Registry` row `Name` it compiles to).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCreation {
    /// `+`: created on install.
    Create,
    /// `*`: created on install, deleted with its subtree on uninstall.
    CreateAndRemoveOnUninstall,
}

/// A registry element with the context it inherits: its `Root` and the `Key`s of the
/// `RegistryKey` elements around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryElement<'d> {
    pub index: u32,
    pub element: &'d Element,
    /// The element's own `Root`, or its nearest `RegistryKey` ancestor's.
    pub root: Option<&'d Attribute>,
    /// The `Key` attributes that make up its key, outermost first (its own last, if it has one).
    pub key_parts: Vec<&'d Attribute>,
}

impl RegistryElement<'_> {
    /// The full key: the parts joined with `\` (one `\` between two parts, however they end).
    pub fn key(&self, doc: &WixDocument, text: &[u8]) -> Vec<u8> {
        let mut key: Vec<u8> = Vec::new();
        for part in &self.key_parts {
            let value = doc.value(text, part);
            if !key.is_empty() && !key.ends_with(b"\\") && !value.starts_with(b"\\") {
                key.push(b'\\');
            }
            key.extend_from_slice(&value);
        }
        key
    }

    /// The hive named by the `Root` in effect; `None` when absent or not a constant.
    pub fn root(&self, doc: &WixDocument, text: &[u8]) -> Option<WixRoot> {
        WixRoot::parse(&doc.value(text, self.root?))
    }
}

/// What a registry element does at install time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryOperation<'d> {
    /// A `RegistryValue` that writes its value.
    SetValue(RegistryElement<'d>),
    /// A `RegistryKey` that creates its key.
    CreateKey(RegistryElement<'d>, KeyCreation),
    /// `RemoveRegistryValue`, or WiX 2's `RegistryValue Action="remove"`.
    DeleteValue(RegistryElement<'d>),
    /// `RemoveRegistryKey Action="removeOnInstall"`, or WiX 2's
    /// `RegistryValue Action="removeKeyOnInstall"`.
    DeleteKey(RegistryElement<'d>),
}

impl<'d> RegistryOperation<'d> {
    pub fn element(&self) -> &RegistryElement<'d> {
        match self {
            RegistryOperation::SetValue(e)
            | RegistryOperation::CreateKey(e, _)
            | RegistryOperation::DeleteValue(e)
            | RegistryOperation::DeleteKey(e) => e,
        }
    }
}

/// A `ServiceInstall` element and its attributes (as written, unescaped on request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceInstall<'d> {
    pub index: u32,
    pub element: &'d Element,
}

impl ServiceInstall<'_> {
    /// One of `Name`, `Type`, `Start`, `ErrorControl`, `Account`, `DisplayName`,
    /// `LoadOrderGroup`, `Description`, `Arguments`, `Id`…
    pub fn field<'t>(
        &self,
        doc: &WixDocument,
        text: &'t [u8],
        name: &str,
    ) -> Option<Cow<'t, [u8]>> {
        doc.attribute_value(text, self.element, name)
    }

    /// The `Id`s of its `ServiceDependency` children (services and groups it depends on).
    pub fn dependencies<'t>(&self, doc: &WixDocument, text: &'t [u8]) -> Vec<Cow<'t, [u8]>> {
        doc.children(self.index)
            .filter(|(_, e)| e.kind == ElementKind::ServiceDependency)
            .filter_map(|(_, e)| doc.attribute_value(text, e, "Id"))
            .collect()
    }
}

impl WixDocument {
    /// The element at `index` with the `Root` and `Key`s it inherits.
    pub fn registry_element(&self, text: &[u8], index: u32) -> Option<RegistryElement<'_>> {
        let element = self.element(index)?;
        let mut root = self.attribute(text, element, "Root");
        let mut key_parts: Vec<&Attribute> =
            self.attribute(text, element, "Key").into_iter().collect();
        for (_, ancestor) in self.ancestors(index) {
            if ancestor.kind != ElementKind::RegistryKey {
                break;
            }
            if let Some(key) = self.attribute(text, ancestor, "Key") {
                key_parts.push(key);
            }
            root = root.or_else(|| self.attribute(text, ancestor, "Root"));
        }
        key_parts.reverse();
        Some(RegistryElement {
            index,
            element,
            root,
            key_parts,
        })
    }

    /// Every install-time registry operation, in document order (see the module docs).
    pub fn registry_operations(&self, text: &[u8]) -> Vec<RegistryOperation<'_>> {
        let mut operations = Vec::new();
        for (index, element) in self.elements.iter().enumerate() {
            let index = index as u32;
            let attr = |name: &str| self.attribute_value(text, element, name);
            let is = |name: &str, value: &[u8]| attr(name).as_deref() == Some(value);
            let Some(found) = (match element.kind {
                ElementKind::RegistryValue
                | ElementKind::RegistryKey
                | ElementKind::RemoveRegistryKey
                | ElementKind::RemoveRegistryValue => self.registry_element(text, index),
                _ => None,
            }) else {
                continue;
            };
            let operation = match element.kind {
                ElementKind::RegistryValue => match attr("Action").as_deref() {
                    Some(b"remove") => RegistryOperation::DeleteValue(found),
                    Some(b"removeKeyOnInstall") => RegistryOperation::DeleteKey(found),
                    Some(b"removeKeyOnUninstall") => continue,
                    _ => RegistryOperation::SetValue(found),
                },
                ElementKind::RegistryKey => {
                    let creation = match attr("Action").as_deref() {
                        Some(b"create") => Some(KeyCreation::Create),
                        Some(b"createAndRemoveOnUninstall") => {
                            Some(KeyCreation::CreateAndRemoveOnUninstall)
                        }
                        _ if is("ForceCreateOnInstall", b"yes") => {
                            Some(if is("ForceDeleteOnUninstall", b"yes") {
                                KeyCreation::CreateAndRemoveOnUninstall
                            } else {
                                KeyCreation::Create
                            })
                        }
                        _ => None,
                    };
                    match creation {
                        Some(creation) => RegistryOperation::CreateKey(found, creation),
                        None => continue,
                    }
                }
                ElementKind::RemoveRegistryKey => match attr("Action").as_deref() {
                    Some(b"removeOnUninstall") => continue,
                    _ => RegistryOperation::DeleteKey(found),
                },
                ElementKind::RemoveRegistryValue => RegistryOperation::DeleteValue(found),
                _ => continue,
            };
            operations.push(operation);
        }
        operations
    }

    /// Every `ServiceInstall` element, in document order.
    pub fn service_installs(&self) -> impl Iterator<Item = ServiceInstall<'_>> + '_ {
        self.elements
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == ElementKind::ServiceInstall)
            .map(|(i, element)| ServiceInstall {
                index: i as u32,
                element,
            })
    }

    /// A `RegistryValue`'s strings of a `multiString` value: its `MultiStringValue` children
    /// (their text in v3, their `Value` in v4) after its own `Value`, if any.
    pub fn multi_strings<'t>(&self, text: &'t [u8], index: u32) -> Vec<Cow<'t, [u8]>> {
        let Some(element) = self.element(index) else {
            return Vec::new();
        };
        let mut strings: Vec<Cow<'t, [u8]>> = self
            .attribute_value(text, element, "Value")
            .into_iter()
            .collect();
        for (_, child) in self.children(index) {
            if child.kind == ElementKind::MultiStringValue {
                strings.push(
                    self.attribute_value(text, child, "Value")
                        .unwrap_or_else(|| self.text_content(text, child)),
                );
            }
        }
        strings
    }
}
