//! Service installs: what a format's service-install item (WiseScript's `Create Service`)
//! asks the Service Control Manager to create, in the SCM's own terms, and how a format writes
//! a new one.
//!
//! CreateService writes, under `SYSTEM\CurrentControlSet\Services\<name>`: `Type`, `Start`,
//! `ErrorControl` and `ImagePath` always; `DisplayName` and `Group` when given; `ObjectName` as
//! given, or `LocalSystem` for a Win32 service without an account (a driver gets none). It
//! assigns a `Tag` only for a service in a load-order group whose creator asks for one, which
//! a WiseScript `Create Service` item cannot (it has no load-order group). (CreateService's
//! documentation for `lpdwTagId` and `lpLoadOrderGroup`; ReactOS's SCM writes the values the
//! same way.)

use std::borrow::Cow;

use super::{Data, Origin};
use crate::text::TextRange;

/// A value under a service's key that a service install can set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceValue {
    Type,
    Start,
    ErrorControl,
    ImagePath,
    DisplayName,
    ObjectName,
    Group,
    /// The services it depends on (`lpDependencies` without the `+` entries).
    DependOnService,
    /// The load-order groups it depends on (`lpDependencies`' `+` entries).
    DependOnGroup,
    /// `SERVICE_CONFIG_DESCRIPTION`, set through ChangeServiceConfig2.
    Description,
}

impl ServiceValue {
    pub const ALL: [ServiceValue; 10] = [
        ServiceValue::Type,
        ServiceValue::Start,
        ServiceValue::ErrorControl,
        ServiceValue::ImagePath,
        ServiceValue::DisplayName,
        ServiceValue::ObjectName,
        ServiceValue::Group,
        ServiceValue::DependOnService,
        ServiceValue::DependOnGroup,
        ServiceValue::Description,
    ];

    /// The registry value's name.
    pub fn registry_name(self) -> &'static str {
        match self {
            ServiceValue::Type => "Type",
            ServiceValue::Start => "Start",
            ServiceValue::ErrorControl => "ErrorControl",
            ServiceValue::ImagePath => "ImagePath",
            ServiceValue::DisplayName => "DisplayName",
            ServiceValue::ObjectName => "ObjectName",
            ServiceValue::Group => "Group",
            ServiceValue::DependOnService => "DependOnService",
            ServiceValue::DependOnGroup => "DependOnGroup",
            ServiceValue::Description => "Description",
        }
    }

    /// A value CreateService writes for every service (`ObjectName` as `LocalSystem` when no
    /// account is given), whatever its creator asks: the others are written only when the
    /// install sets them.
    pub fn always_written(self) -> bool {
        matches!(
            self,
            ServiceValue::Type
                | ServiceValue::Start
                | ServiceValue::ErrorControl
                | ServiceValue::ImagePath
                | ServiceValue::DisplayName
                | ServiceValue::ObjectName
        )
    }

    /// The value named `name` (ASCII case-insensitive: these names are ASCII).
    pub fn named(name: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|v| name.eq_ignore_ascii_case(v.registry_name().as_bytes()))
    }

    /// A number (`Type`, `Start`, `ErrorControl`) rather than text.
    pub fn is_number(self) -> bool {
        matches!(
            self,
            ServiceValue::Type | ServiceValue::Start | ServiceValue::ErrorControl
        )
    }
}

/// One field of a service-install item as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceField<'a> {
    /// The field's name as the format spells it (`Boot Type`, `Display Name English`).
    pub label: &'a [u8],
    pub value: &'a [u8],
    /// The whole line, with indentation and terminator.
    pub line: TextRange,
    pub value_range: TextRange,
    /// The registry value the field sets, if any.
    pub sets: Option<ServiceValue>,
}

/// A service-install item: the service it creates, in the SCM's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceInstall<'a> {
    /// The service name (the key name under `Services`), with the package's constants put in
    /// (see [`super::FileModel::resolve`]); empty when the item names none.
    pub name: Cow<'a, [u8]>,
    /// The name holds a reference that does not resolve to a constant: it could be any
    /// service.
    pub unresolved: bool,
    /// `dwServiceType`; `None` when the item's text is not a number.
    pub service_type: Option<u32>,
    /// `dwStartType`.
    pub start: Option<u32>,
    /// `dwErrorControl`.
    pub error_control: Option<u32>,
    /// `lpBinaryPathName`, as written (a template in formats whose strings are).
    pub image_path: Option<&'a [u8]>,
    pub display_name: Option<&'a [u8]>,
    /// `lpServiceStartName`; `None`: LocalSystem.
    pub account: Option<&'a [u8]>,
    /// `lpLoadOrderGroup`.
    pub group: Option<&'a [u8]>,
    /// What the install writes beyond the fields above, as its format builds it: an MSI
    /// service's `ImagePath` (its component's key file, `[#File]`, and its arguments),
    /// `DependOnService`, `DependOnGroup` and `Description`. Taken before the fields above.
    pub more: Vec<(ServiceValue, Data<'a>)>,
    /// The values its creator can set (a fix may move a captured value into the item).
    pub settable: &'static [ServiceValue],
    /// Every field as written, in order (unknown ones included).
    pub fields: Vec<ServiceField<'a>>,
    /// The format's handle for its fix planner.
    pub handle: Origin,
    /// The item's head line (for messages) and whole extent.
    pub head: TextRange,
    pub range: TextRange,
    /// The control-flow region (0: always runs) and position in the file's order.
    pub block: u32,
    pub seq: u64,
}

/// `Type` values of Win32 services (own or shared process), which run under an account.
const WIN32: u32 = 0x30;

impl<'a> ServiceInstall<'a> {
    /// The field that sets `value`, if the item has one.
    pub fn field(&self, value: ServiceValue) -> Option<&ServiceField<'a>> {
        self.fields.iter().find(|f| f.sets == Some(value))
    }

    /// The install once a fix sets the field that writes `value` to `data` (`None`: the
    /// field removed). What the install derives from it (a Win32 service's default
    /// `ObjectName` from its `Type`) follows.
    pub fn with_value(&self, value: ServiceValue, data: Option<Data<'a>>) -> ServiceInstall<'a> {
        let mut out = self.clone();
        out.more.retain(|(v, _)| *v != value);
        let number = data.as_ref().and_then(|d| match d {
            Data::Dword(n) => Some(*n),
            _ => None,
        });
        match value {
            ServiceValue::Type => out.service_type = number,
            ServiceValue::Start => out.start = number,
            ServiceValue::ErrorControl => out.error_control = number,
            ServiceValue::ImagePath => out.image_path = None,
            ServiceValue::DisplayName => out.display_name = None,
            ServiceValue::ObjectName => out.account = None,
            ServiceValue::Group => out.group = None,
            ServiceValue::DependOnService
            | ServiceValue::DependOnGroup
            | ServiceValue::Description => {}
        }
        if !value.is_number()
            && let Some(data) = data
        {
            let data = match (value, data) {
                (ServiceValue::ImagePath, Data::Sz(t)) => Data::ExpandSz(t),
                (_, data) => data,
            };
            out.more.push((value, data));
        }
        out
    }

    /// What the install writes to registry value `value`: `None` when it writes nothing
    /// there (or its text is not a number). Text comes as written: compare it in the file's
    /// terms ([`super::FileModel::templates`]).
    pub fn writes(&self, value: ServiceValue) -> Option<Data<'a>> {
        if let Some((_, data)) = self.more.iter().find(|(v, _)| *v == value) {
            return Some(data.clone());
        }
        let text = |t: &'a [u8]| Data::Sz(Cow::Borrowed(t));
        match value {
            ServiceValue::Type => self.service_type.map(Data::Dword),
            ServiceValue::Start => self.start.map(Data::Dword),
            ServiceValue::ErrorControl => self.error_control.map(Data::Dword),
            ServiceValue::ImagePath => self.image_path.map(|p| Data::ExpandSz(Cow::Borrowed(p))),
            ServiceValue::DisplayName => self.display_name.map(text),
            ServiceValue::ObjectName => match self.account {
                Some(account) => Some(text(account)),
                None if self.service_type.is_some_and(|t| t & WIN32 != 0) => {
                    Some(text(b"LocalSystem"))
                }
                None => None,
            },
            ServiceValue::Group => self.group.map(text),
            ServiceValue::DependOnService
            | ServiceValue::DependOnGroup
            | ServiceValue::Description => None,
        }
    }
}

/// A piece of the text of a new service's field: literal text, an install-time variable's
/// value (a format whose strings are templates writes it as its reference), or text already
/// written in the target file's own template syntax (copied from that file).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TextPiece {
    Literal(Vec<u8>),
    Variable(Vec<u8>),
    Template(Vec<u8>),
}

/// Literal text as pieces.
pub fn literal(text: &[u8]) -> Vec<TextPiece> {
    vec![TextPiece::Literal(text.to_vec())]
}

/// A service to install with a new item (SVC030's fix), in the SCM's terms.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NewService {
    pub name: Vec<u8>,
    pub service_type: u32,
    pub start: u32,
    pub error_control: Option<u32>,
    pub image_path: Vec<TextPiece>,
    pub display_name: Option<Vec<TextPiece>>,
    pub account: Option<Vec<TextPiece>>,
}

/// Which kind of service install a format writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceForm {
    /// A WiseScript `Create Service` item (its fix inserts one).
    WiseItem,
    /// A WiX `<ServiceInstall>` element, in the component that installs the executable.
    WixElement,
    /// A row of a database's `ServiceInstall` table.
    MsiRow,
}

/// How a file writes service-install items: the field names, their order and how text is
/// escaped, as the file's own items do it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSyntax<'a> {
    /// The name the format gives its item (`Create Service`).
    pub item: &'static str,
    pub form: ServiceForm,
    /// The key of the display name field (`Display Name`, `Display Name English`).
    display_name: Cow<'a, str>,
    /// Field ranks in the order an existing item writes them.
    existing_order: Vec<usize>,
}

/// A WiseScript `Create Service` item's fields, in the order the editor writes them.
pub const WISE_FIELD_ORDER: &[&str] = &[
    "Service Name",
    "Executable Path",
    "Login User",
    "Service Type",
    "Boot Type",
    "Error Type",
    "Display Name",
];

/// The registry value a WiseScript `Create Service` field sets (`Display Name <Language>`
/// included).
pub fn wise_field_value(label: &[u8]) -> Option<ServiceValue> {
    match wise_field_rank(label)? {
        1 => Some(ServiceValue::ImagePath),
        2 => Some(ServiceValue::ObjectName),
        3 => Some(ServiceValue::Type),
        4 => Some(ServiceValue::Start),
        5 => Some(ServiceValue::ErrorControl),
        6 => Some(ServiceValue::DisplayName),
        _ => None,
    }
}

/// A field's position in [`WISE_FIELD_ORDER`] (every `Display Name …` is `Display Name`).
pub fn wise_field_rank(label: &[u8]) -> Option<usize> {
    if label.len() >= 12 && label[..12].eq_ignore_ascii_case(b"Display Name") {
        return Some(WISE_FIELD_ORDER.len() - 1);
    }
    WISE_FIELD_ORDER
        .iter()
        .position(|f| label.eq_ignore_ascii_case(f.as_bytes()))
}

/// The values a WiseScript `Create Service` item can set.
pub const WISE_SETTABLE: &[ServiceValue] = &[
    ServiceValue::Type,
    ServiceValue::Start,
    ServiceValue::ErrorControl,
    ServiceValue::ImagePath,
    ServiceValue::DisplayName,
    ServiceValue::ObjectName,
];

impl<'a> ServiceSyntax<'a> {
    /// A WiseScript's syntax: its display-name key (`Display Name English` in scripts whose
    /// fields carry a language, as SMS Installer 2.0 writes them) and the field order of its
    /// first `Create Service` item.
    pub(crate) fn wise(
        doc: &crate::syntax::wise::Document,
        text: &'a [u8],
        model: &super::FileModel<'a>,
    ) -> Self {
        let mut existing_order = Vec::new();
        if let Some(item) = model.services.first() {
            for f in &item.fields {
                if let Some(r) = wise_field_rank(f.label)
                    && !existing_order.contains(&r)
                {
                    existing_order.push(r);
                }
            }
        }
        let display_name = super::script::display_name_key(doc, text, &model.services);
        ServiceSyntax {
            item: "Create Service",
            form: ServiceForm::WiseItem,
            display_name,
            existing_order,
        }
    }

    /// The syntax of a package that has no file able to hold a service install: a plain
    /// WiseScript `Create Service` item, the one format that installs services today.
    pub fn default_syntax() -> ServiceSyntax<'static> {
        ServiceSyntax {
            item: "Create Service",
            form: ServiceForm::WiseItem,
            display_name: Cow::Borrowed("Display Name"),
            existing_order: Vec::new(),
        }
    }

    /// A WiX source's: a `<ServiceInstall>` element.
    pub fn wix() -> ServiceSyntax<'static> {
        ServiceSyntax {
            item: "ServiceInstall",
            form: ServiceForm::WixElement,
            display_name: Cow::Borrowed("DisplayName"),
            existing_order: Vec::new(),
        }
    }

    /// A database's: a `ServiceInstall` row.
    pub fn msi() -> ServiceSyntax<'static> {
        ServiceSyntax {
            item: "ServiceInstall",
            form: ServiceForm::MsiRow,
            display_name: Cow::Borrowed("DisplayName"),
            existing_order: Vec::new(),
        }
    }

    /// Whether a fix can insert a new item into the file (a WiseScript's): a WiX or database
    /// service install needs the component that installs the service's executable, which only
    /// its author knows.
    pub fn inserts_items(&self) -> bool {
        self.form == ServiceForm::WiseItem
    }

    /// Whether the item can install a service of type `service_type`: a `Create Service` item
    /// any CreateService accepts (kernel and file-system drivers, own and shared processes, the
    /// last two interactive), Windows Installer no driver.
    pub fn accepts_type(&self, service_type: u64) -> bool {
        let processes = [16, 32, 16 | 256, 32 | 256];
        processes.contains(&service_type)
            || (self.form == ServiceForm::WiseItem && matches!(service_type, 1 | 2))
    }

    /// What to add to `target` (a file's path, or a description) to install `service`, for a
    /// message: a sentence ending in `:`, then the item, indented by two spaces. `show` makes
    /// text fit a message.
    pub fn suggestion(
        &self,
        service: &NewService,
        target: &str,
        show: &dyn Fn(&[u8]) -> String,
    ) -> String {
        let mut out = String::new();
        match self.form {
            ServiceForm::WiseItem => {
                out.push_str(&format!(
                    "add this item to {target}, before the service's registry writes:\n  item: {}\n",
                    self.item
                ));
                for (key, value) in self.fields(service) {
                    for part in ["    ", &key, "=", &show(&value), "\n"] {
                        out.push_str(part);
                    }
                }
                out.push_str("  end");
            }
            ServiceForm::WixElement => {
                let quoted = |t: &[u8]| show(&crate::syntax::wix::escape(t, b'"'));
                out.push_str(&format!(
                    "add this element to {target}, in the component whose key path is the service's executable (`{}`):\n  <ServiceInstall Name=\"{}\"",
                    show(&Self::plain(&service.image_path)),
                    quoted(&service.name)
                ));
                let (kind, interactive) = wix_type(service.service_type);
                out.push_str(&format!(" Type=\"{kind}\""));
                if interactive {
                    out.push_str(" Interactive=\"yes\"");
                }
                out.push_str(&format!(" Start=\"{}\"", wix_start(service.start)));
                out.push_str(&format!(
                    " ErrorControl=\"{}\"",
                    wix_error_control(service.error_control.unwrap_or(0))
                ));
                if let Some(d) = &service.display_name {
                    out.push_str(&format!(" DisplayName=\"{}\"", quoted(&Self::plain(d))));
                }
                if let Some(a) = &service.account {
                    out.push_str(&format!(" Account=\"{}\"", quoted(&Self::plain(a))));
                }
                out.push_str(" />");
            }
            ServiceForm::MsiRow => {
                out.push_str(&format!(
                    "add this row to the ServiceInstall table of {target}, for the component whose key path is the service's executable (`{}`):\n  Name={}, ServiceType={}, StartType={}, ErrorControl={}",
                    show(&Self::plain(&service.image_path)),
                    show(&service.name),
                    service.service_type,
                    service.start,
                    service.error_control.unwrap_or(0)
                ));
                if let Some(d) = &service.display_name {
                    out.push_str(&format!(", DisplayName={}", show(&Self::plain(d))));
                }
                if let Some(a) = &service.account {
                    out.push_str(&format!(", StartName={}", show(&Self::plain(a))));
                }
            }
        }
        out
    }

    /// Text pieces as the text they stand for, references as `[NAME]` (Windows Installer's
    /// formatted text).
    fn plain(pieces: &[TextPiece]) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in pieces {
            match piece {
                TextPiece::Literal(t) | TextPiece::Template(t) => out.extend_from_slice(t),
                TextPiece::Variable(name) => {
                    out.push(b'[');
                    out.extend_from_slice(name);
                    out.push(b']');
                }
            }
        }
        out
    }

    /// The same syntax, owning its text.
    pub fn into_owned(self) -> ServiceSyntax<'static> {
        ServiceSyntax {
            item: self.item,
            form: self.form,
            display_name: Cow::Owned(self.display_name.into_owned()),
            existing_order: self.existing_order,
        }
    }

    /// The field name that sets `value` in a new field.
    pub fn label(&self, value: ServiceValue) -> Option<Cow<'_, str>> {
        match self.form {
            ServiceForm::WiseItem => {}
            ServiceForm::WixElement => {
                return Some(Cow::Borrowed(match value {
                    ServiceValue::Type => "Type",
                    ServiceValue::Start => "Start",
                    ServiceValue::ErrorControl => "ErrorControl",
                    ServiceValue::DisplayName => "DisplayName",
                    ServiceValue::ObjectName => "Account",
                    ServiceValue::Group => "LoadOrderGroup",
                    ServiceValue::Description => "Description",
                    ServiceValue::ImagePath
                    | ServiceValue::DependOnService
                    | ServiceValue::DependOnGroup => return None,
                }));
            }
            ServiceForm::MsiRow => {
                return Some(Cow::Borrowed(match value {
                    ServiceValue::Type => "ServiceType",
                    ServiceValue::Start => "StartType",
                    ServiceValue::ErrorControl => "ErrorControl",
                    ServiceValue::DisplayName => "DisplayName",
                    ServiceValue::ObjectName => "StartName",
                    ServiceValue::Group => "LoadOrderGroup",
                    ServiceValue::Description => "Description",
                    ServiceValue::DependOnService | ServiceValue::DependOnGroup => "Dependencies",
                    ServiceValue::ImagePath => return None,
                }));
            }
        }
        Some(Cow::Borrowed(match value {
            ServiceValue::Type => "Service Type",
            ServiceValue::Start => "Boot Type",
            ServiceValue::ErrorControl => "Error Type",
            ServiceValue::ImagePath => "Executable Path",
            ServiceValue::DisplayName => return Some(Cow::Borrowed(&self.display_name)),
            ServiceValue::ObjectName => "Login User",
            ServiceValue::Group
            | ServiceValue::DependOnService
            | ServiceValue::DependOnGroup
            | ServiceValue::Description => return None,
        }))
    }

    /// Text pieces as field text: literal `%` doubled, variables as `%NAME%`.
    pub fn text(pieces: &[TextPiece]) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in pieces {
            match piece {
                TextPiece::Literal(t) => out.extend_from_slice(&super::template::escape_percent(t)),
                TextPiece::Variable(name) => {
                    out.push(b'%');
                    out.extend_from_slice(name);
                    out.push(b'%');
                }
                TextPiece::Template(t) => out.extend_from_slice(t),
            }
        }
        out
    }

    /// The new item's fields, in the order this file writes them.
    pub fn fields(&self, service: &NewService) -> Vec<(String, Vec<u8>)> {
        let mut fields: Vec<(String, Vec<u8>)> = vec![
            ("Service Name".into(), service.name.clone()),
            ("Executable Path".into(), Self::text(&service.image_path)),
        ];
        if let Some(account) = &service.account {
            fields.push(("Login User".into(), Self::text(account)));
        }
        fields.push((
            "Service Type".into(),
            service.service_type.to_string().into_bytes(),
        ));
        fields.push(("Boot Type".into(), service.start.to_string().into_bytes()));
        if let Some(e) = service.error_control {
            fields.push(("Error Type".into(), e.to_string().into_bytes()));
        }
        if let Some(d) = &service.display_name {
            fields.push((self.display_name.to_string(), Self::text(d)));
        }
        let order = field_order(&self.existing_order);
        // Stable, each field's place worked out once.
        fields.sort_by_cached_key(|(k, _)| {
            order
                .iter()
                .position(|&r| Some(r) == wise_field_rank(k.as_bytes()))
        });
        fields
    }
}

/// A service type as WiX writes it: `Type` and whether `Interactive="yes"`.
fn wix_type(service_type: u32) -> (String, bool) {
    let kind = match service_type & !0x100 {
        0x10 => "ownProcess".to_string(),
        0x20 => "shareProcess".to_string(),
        0x1 => "kernelDriver".to_string(),
        0x2 => "systemDriver".to_string(),
        other => other.to_string(),
    };
    (kind, service_type & 0x100 != 0)
}

fn wix_start(start: u32) -> String {
    match start {
        0 => "boot".into(),
        1 => "system".into(),
        2 => "auto".into(),
        3 => "demand".into(),
        4 => "disabled".into(),
        other => other.to_string(),
    }
}

fn wix_error_control(error_control: u32) -> String {
    match error_control {
        0 => "ignore".into(),
        1 => "normal".into(),
        3 => "critical".into(),
        other => other.to_string(),
    }
}

/// The field ranks in the order a script writes them: the order of its existing item, with the
/// fields that item lacks placed after their nearest predecessor in the editor's order.
pub fn field_order(existing: &[usize]) -> Vec<usize> {
    let mut order = existing.to_vec();
    for r in 0..WISE_FIELD_ORDER.len() {
        if order.contains(&r) {
            continue;
        }
        let at = order
            .iter()
            .enumerate()
            .filter(|&(_, &o)| o < r)
            .max_by_key(|&(_, &o)| o)
            .map_or(0, |(p, _)| p + 1);
        order.insert(at, r);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_an_existing_item_and_otherwise_the_editor() {
        assert_eq!(field_order(&[]), [0, 1, 2, 3, 4, 5, 6]);
        // An item written as Name, Type, Boot, Path: Login User goes after Path, Error Type
        // after Boot Type, Display Name after Error Type.
        assert_eq!(field_order(&[0, 3, 4, 1]), [0, 3, 4, 5, 6, 1, 2]);
    }

    #[test]
    fn wise_fields_set_service_values() {
        assert_eq!(wise_field_value(b"boot type"), Some(ServiceValue::Start));
        assert_eq!(
            wise_field_value(b"Display Name English"),
            Some(ServiceValue::DisplayName)
        );
        assert_eq!(wise_field_value(b"Service Name"), None);
        assert_eq!(wise_field_value(b"Password"), None);
        assert_eq!(
            ServiceSyntax::text(&[
                TextPiece::Variable(b"SYS32".to_vec()),
                TextPiece::Literal(b"\\x 100%".to_vec())
            ]),
            b"%SYS32%\\x 100%%"
        );
    }
}
