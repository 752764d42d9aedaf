//! Lowering a Windows Installer database (its view, see [`crate::syntax::msi`]) to a
//! [`FileModel`] (see [`super::installer`] for the installer's order, conditions, roots,
//! formatted text and value forms).
//!
//! - A `Registry` row sets its value (`Name` NULL: the default value); a row whose `Name` is `+`
//!   or `*` creates its key (the installer sets no value then, whatever `Value` holds); a row
//!   whose `Name` is `-` and whose `Value` is NULL does nothing on install (it deletes the key
//!   on uninstall).
//! - A `RemoveRegistry` row deletes its value, or its key with everything under it when its
//!   `Name` is `-`.
//! - A `ServiceInstall` row creates its service: `ServiceType`, `StartType`, `ErrorControl`
//!   (without its vital flag), `DisplayName`, `StartName` (the account), `LoadOrderGroup`,
//!   `Dependencies` (`[~]`-separated, groups with a leading `+`) and `Description`; its image
//!   path is its component's key file (`[#File]`) followed by its `Arguments`.
//!
//! Rows run in the order of their actions in the `InstallExecuteSequence` (the standard
//! numbers when the table or an action is missing), then in table order. A row of a component
//! with a `Condition` is in that component's region. A component with the 64-bit attribute
//! writes the 64-bit view.
//!
//! Origins: a registry row's `container` is its index in its table with the rank of its
//! table's action above it ([`installer::container`]), `index` 0; a service install's handle is
//! its row index.

use std::borrow::Cow;
use std::collections::HashMap;

use super::installer::{self, INSTALL_SERVICES, REMOVE_REGISTRY_VALUES, WRITE_REGISTRY_VALUES};
use super::{
    Charset, Data, FileModel, OpKind, Operation, Origin, Selection, ServiceField, ServiceInstall,
    ServiceValue, TreeRef,
};
use crate::syntax::msi::{Row, Table, View};
use crate::text::TextRange;

/// `Component.Attributes`: the key path is a `Registry` row.
pub const REGISTRY_KEY_PATH: i32 = 0x4;
/// `Component.Attributes`: the component writes the 64-bit registry view.
const SIXTY_FOUR_BIT: i32 = 0x100;

/// What the rows of a component inherit from it.
#[derive(Clone, Copy, Debug)]
pub struct ComponentInfo<'a> {
    /// Its row in the `Component` table.
    pub row: usize,
    pub conditional: bool,
    pub attributes: i32,
    /// Its `KeyPath` cell.
    pub key_path: &'a [u8],
}

/// The components of a view by name.
pub fn components<'a>(view: &View, text: &'a [u8]) -> HashMap<&'a [u8], ComponentInfo<'a>> {
    let mut out = HashMap::new();
    let Some(table) = view.table(text, "Component") else {
        return out;
    };
    let (Some(name), condition, attributes, key_path) = (
        table.column("Component"),
        table.column("Condition"),
        table.column("Attributes"),
        table.column("KeyPath"),
    ) else {
        return out;
    };
    for (i, row) in table.rows.iter().enumerate() {
        let cell = |c: Option<usize>| c.and_then(|c| row.cells.get(c)).map(|r| r.slice(text));
        out.insert(
            cell(Some(name)).unwrap_or_default(),
            ComponentInfo {
                row: i,
                conditional: cell(condition).is_some_and(|c| !c.is_empty()),
                attributes: cell(attributes)
                    .and_then(|a| std::str::from_utf8(a).ok()?.parse().ok())
                    .unwrap_or(0),
                key_path: cell(key_path).unwrap_or_default(),
            },
        );
    }
    out
}

/// The sequence numbers of the three actions the model follows, from the view's
/// `InstallExecuteSequence` (standard numbers for those it lacks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sequence {
    pub remove_registry: u32,
    pub write_registry: u32,
    pub install_services: u32,
}

impl Sequence {
    pub fn of(view: &View, text: &[u8]) -> Sequence {
        let mut sequence = Sequence {
            remove_registry: REMOVE_REGISTRY_VALUES,
            write_registry: WRITE_REGISTRY_VALUES,
            install_services: INSTALL_SERVICES,
        };
        let Some(table) = view.table(text, "InstallExecuteSequence") else {
            return sequence;
        };
        for row in &table.rows {
            let Some(number) = table
                .integer(text, row, "Sequence")
                .and_then(|n| u32::try_from(n).ok())
            else {
                continue;
            };
            match table.cell(text, row, "Action").as_deref() {
                Some(b"RemoveRegistryValues") => sequence.remove_registry = number,
                Some(b"WriteRegistryValues") => sequence.write_registry = number,
                Some(b"InstallServices") => sequence.install_services = number,
                _ => {}
            }
        }
        sequence
    }

    /// The rank of the two registry tables' actions: (`RemoveRegistry`, `Registry`).
    pub fn ranks(&self) -> (u32, u32) {
        if self.write_registry < self.remove_registry {
            (1, 0)
        } else {
            (0, 1)
        }
    }

    /// The table a registry origin's rank stands for.
    pub fn table_of_rank(&self, rank: u32) -> &'static str {
        if rank == self.ranks().1 {
            "Registry"
        } else {
            "RemoveRegistry"
        }
    }
}

/// The operations and service installs of a database's view.
pub fn lower<'a>(view: &'a View, text: &'a [u8]) -> FileModel<'a> {
    lower_selected(view, text, &super::All)
}

/// As [`lower`], with only the operations `selection` wants.
pub fn lower_selected<'a>(
    view: &'a View,
    text: &'a [u8],
    selection: &impl Selection,
) -> FileModel<'a> {
    let components = components(view, text);
    let sequence = Sequence::of(view, text);
    let (remove_rank, write_rank) = sequence.ranks();
    let lowering = Lowering {
        text,
        components: &components,
    };
    let mut deletions = Vec::new();
    if let Some(table) = view.table(text, "RemoveRegistry") {
        for (i, row) in table.rows.iter().enumerate() {
            let step = Step {
                rank: remove_rank,
                action: sequence.remove_registry,
                index: i,
            };
            deletions.extend(lowering.removal(table, row, step, selection));
        }
    }
    let mut writes = Vec::new();
    if let Some(table) = view.table(text, "Registry") {
        for (i, row) in table.rows.iter().enumerate() {
            let step = Step {
                rank: write_rank,
                action: sequence.write_registry,
                index: i,
            };
            writes.extend(lowering.write(table, row, step, selection));
        }
    }
    let mut ops = if remove_rank == 0 {
        deletions.extend(writes);
        deletions
    } else {
        writes.extend(deletions);
        writes
    };
    ops.sort_by_key(|op| op.seq);
    let services = view
        .table(text, "ServiceInstall")
        .map(|table| {
            table
                .rows
                .iter()
                .enumerate()
                .map(|(i, row)| lowering.service(table, row, i, sequence.install_services))
                .collect()
        })
        .unwrap_or_default();
    FileModel {
        ops,
        services,
        charset: Charset::Utf8,
        templates: false,
        includes: Vec::new(),
        service_item: Some("ServiceInstall"),
        tree: TreeRef::Msi,
    }
}

/// Where a registry row stands in the install: its action's rank and number, its row.
#[derive(Clone, Copy)]
struct Step {
    rank: u32,
    action: u32,
    index: usize,
}

struct Lowering<'c, 'a> {
    text: &'a [u8],
    components: &'c HashMap<&'a [u8], ComponentInfo<'a>>,
}

/// A cell's range in a row, by column name.
fn cell_range(table: &Table, row: &Row, column: &str) -> Option<TextRange> {
    row.cells.get(table.column(column)?).copied()
}

impl<'a> Lowering<'_, 'a> {
    /// A cell's value (`None` for NULL) and, when it stands in the view unescaped, its range.
    fn cell(&self, table: &Table, row: &Row, column: &str) -> Option<(Cow<'a, [u8]>, TextRange)> {
        let range = cell_range(table, row, column)?;
        let value = crate::syntax::msi::unescape_cell(range.slice(self.text));
        (!value.is_empty()).then_some((value, range))
    }

    /// The region and 64-bit view of a row of component `name`.
    fn component(&self, name: Option<&[u8]>) -> (u32, bool) {
        match name.and_then(|n| self.components.get(n)) {
            Some(c) => (
                if c.conditional { c.row as u32 + 1 } else { 0 },
                c.attributes & SIXTY_FOUR_BIT != 0,
            ),
            None => (0, false),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        &self,
        table: &Table,
        row: &Row,
        step: Step,
        kind: OpKind,
        value: Option<Cow<'a, [u8]>>,
        (data, nuls): (Data<'a>, u8),
        selection: &impl Selection,
    ) -> Option<Operation<'a>> {
        let (key, key_cell) = self.cell(table, row, "Key")?;
        // The registry ignores a trailing `\` (wixl ends every key with one): the key is read
        // without it, as Windows shows it.
        let kept = key.len() - key.iter().rev().take_while(|&&b| b == b'\\').count();
        let key = match key {
            Cow::Borrowed(k) => Cow::Borrowed(&k[..kept]),
            Cow::Owned(mut k) => {
                k.truncate(kept);
                Cow::Owned(k)
            }
        };
        if !selection.key_in_any_hive(&key) {
            return None;
        }
        let hive = installer::hive_of_root(table.integer(self.text, row, "Root")?);
        if !selection.key(hive, &key) {
            return None;
        }
        let key_range = matches!(key, Cow::Borrowed(_))
            .then(|| TextRange::new(key_cell.start, key_cell.start + kept));
        let component = self.cell(table, row, "Component_").map(|(c, _)| c);
        let (block, wow64_64) = self.component(component.as_deref());
        let unresolved =
            installer::is_opaque(&key) || value.as_deref().is_some_and(installer::is_opaque);
        // A value's finding points at its name, a key's at its key.
        let range = match kind {
            OpKind::SetValue | OpKind::DeleteValue => cell_range(table, row, "Name"),
            OpKind::CreateKey | OpKind::DeleteKey => None,
        }
        .unwrap_or(key_cell);
        Some(Operation {
            kind,
            hive,
            key,
            key_range,
            unresolved,
            value,
            data,
            nuls,
            range,
            record: row.line,
            wow64_64,
            origin: Origin {
                container: installer::container(step.rank, step.index as u32),
                index: 0,
            },
            block,
            seq: installer::seq(step.action, step.index as u32),
            statement: None,
        })
    }

    /// A `Registry` row's operation (see the module docs).
    fn write(
        &self,
        table: &Table,
        row: &Row,
        step: Step,
        selection: &impl Selection,
    ) -> Option<Operation<'a>> {
        let name = self.cell(table, row, "Name").map(|(n, _)| n);
        let value = self.cell(table, row, "Value").map(|(v, _)| v);
        match name.as_deref() {
            Some(b"+" | b"*") => self.operation(
                table,
                row,
                step,
                OpKind::CreateKey,
                None,
                (Data::None, 0),
                selection,
            ),
            Some(b"-") if value.is_none() => None,
            _ => {
                let data = match value {
                    None => installer::registry_value(None),
                    Some(Cow::Borrowed(v)) => installer::registry_value(Some(v)),
                    Some(Cow::Owned(v)) => {
                        let (data, nuls) = installer::registry_value(Some(&v));
                        (data.into_owned(), nuls)
                    }
                };
                let name = name.unwrap_or(Cow::Borrowed(b""));
                self.operation(
                    table,
                    row,
                    step,
                    OpKind::SetValue,
                    Some(name),
                    data,
                    selection,
                )
            }
        }
    }

    /// A `RemoveRegistry` row's operation.
    fn removal(
        &self,
        table: &Table,
        row: &Row,
        step: Step,
        selection: &impl Selection,
    ) -> Option<Operation<'a>> {
        let name = self.cell(table, row, "Name").map(|(n, _)| n);
        let (kind, value) = match name {
            Some(n) if *n == *b"-" => (OpKind::DeleteKey, None),
            other => (
                OpKind::DeleteValue,
                Some(other.unwrap_or(Cow::Borrowed(b""))),
            ),
        };
        self.operation(table, row, step, kind, value, (Data::None, 0), selection)
    }

    /// A `ServiceInstall` row, in the SCM's terms.
    fn service(&self, table: &Table, row: &Row, index: usize, action: u32) -> ServiceInstall<'a> {
        let text = self.text;
        let fields: Vec<ServiceField<'a>> = table
            .columns
            .iter()
            .zip(&row.cells)
            .map(|(column, cell)| ServiceField {
                label: column_label(&column.name),
                value: cell.slice(text),
                line: row.line,
                value_range: *cell,
                sets: column_sets(&column.name),
            })
            .collect();
        let number = |column: &str| {
            table
                .integer(text, row, column)
                .and_then(|n| u32::try_from(n).ok())
        };
        let cell = |column: &str| self.cell(table, row, column).map(|(c, _)| c);
        let name = cell("Name").unwrap_or(Cow::Borrowed(b""));
        let component = cell("Component_");
        let mut more = Vec::new();
        for (column, value) in [
            ("DisplayName", ServiceValue::DisplayName),
            ("StartName", ServiceValue::ObjectName),
            ("LoadOrderGroup", ServiceValue::Group),
            ("Description", ServiceValue::Description),
        ] {
            if let Some(text) = cell(column) {
                more.push((value, Data::Sz(text)));
            }
        }
        let key_file = component
            .as_deref()
            .and_then(|c| self.components.get(c))
            .filter(|c| c.attributes & REGISTRY_KEY_PATH == 0 && !c.key_path.is_empty())
            .map(|c| c.key_path);
        if let Some(file) = key_file {
            let mut path = [b"[#", file, b"]"].concat();
            if let Some(arguments) = cell("Arguments") {
                path.push(b' ');
                path.extend_from_slice(&arguments);
            }
            more.push((ServiceValue::ImagePath, Data::ExpandSz(Cow::Owned(path))));
        }
        if let Some(dependencies) = cell("Dependencies") {
            let entries: Vec<Cow<'a, [u8]>> = match dependencies {
                Cow::Borrowed(d) => installer::split(d, b"[~]")
                    .into_iter()
                    .map(Cow::Borrowed)
                    .collect(),
                Cow::Owned(d) => installer::split(&d, b"[~]")
                    .into_iter()
                    .map(|e| Cow::Owned(e.to_vec()))
                    .collect(),
            };
            more.extend(installer::dependencies(entries));
        }
        let line = row.line;
        let head = TextRange::new(line.start, line.end.saturating_sub(2).max(line.start));
        ServiceInstall {
            unresolved: installer::is_opaque(&name),
            name,
            service_type: number("ServiceType"),
            start: number("StartType"),
            error_control: number("ErrorControl").map(|e| e & !installer::ERROR_CONTROL_VITAL),
            image_path: None,
            display_name: None,
            account: None,
            group: None,
            more,
            settable: installer::SETTABLE,
            fields,
            handle: Origin {
                container: index as u32,
                index: 0,
            },
            head,
            range: row.line,
            block: self.component(component.as_deref()).0,
            seq: installer::seq(action, index as u32),
        }
    }
}

/// The `ServiceInstall` columns, as labels that live as long as any text.
const SERVICE_COLUMNS: &[&str] = &[
    "ServiceInstall",
    "Name",
    "DisplayName",
    "ServiceType",
    "StartType",
    "ErrorControl",
    "LoadOrderGroup",
    "Dependencies",
    "StartName",
    "Password",
    "Arguments",
    "Component_",
    "Description",
];

fn column_label(name: &str) -> &'static [u8] {
    SERVICE_COLUMNS
        .iter()
        .find(|c| **c == name)
        .map_or(&b"?"[..], |c| c.as_bytes())
}

/// The registry value a `ServiceInstall` column sets.
fn column_sets(name: &str) -> Option<ServiceValue> {
    Some(match name {
        "ServiceType" => ServiceValue::Type,
        "StartType" => ServiceValue::Start,
        "ErrorControl" => ServiceValue::ErrorControl,
        "DisplayName" => ServiceValue::DisplayName,
        "StartName" => ServiceValue::ObjectName,
        "LoadOrderGroup" => ServiceValue::Group,
        "Dependencies" => ServiceValue::DependOnService,
        "Description" => ServiceValue::Description,
        "Arguments" => ServiceValue::ImagePath,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Hive;

    /// A view of the given tables (`.idt` exports with LF line ends).
    fn view(tables: &[&str]) -> Vec<u8> {
        tables.join("\n").replace('\n', "\r\n").into_bytes()
    }

    const REGISTRY: &str = "Registry\tRoot\tKey\tName\tValue\tComponent_\ns72\ti2\tl255\tL255\tL0\ts72\nRegistry\tRegistry\n\
r1\t2\tSYSTEM\\CurrentControlSet\\Services\\Svc\\Security\\\tSecurity\t#x0100ff\tCaptured\n\
r2\t-1\tSYSTEM\\ControlSet001\\Services\\Svc\tStart\t#2\tCaptured\n\
r3\t2\tSYSTEM\\CurrentControlSet\\Services\\Svc\\Parameters\t+\t\tConfig\n\
r4\t2\tSYSTEM\\CurrentControlSet\\Services\\Svc\t-\t\tConfig\n\
r5\t2\tSYSTEM\\CurrentControlSet\\Services\\Svc\\Parameters\tList\ta[~]b[~]c\tConfig\n\
r6\t2\tSYSTEM\\CurrentControlSet\\Services\\Svc\\Parameters\t\t#%[INSTALLDIR]x\tConfig\n\
r7\t2\tSOFTWARE\\Acme\tVersion\t1\tConfig\n\
r8\t2\tSYSTEM\\CurrentControlSet\\Services\\[NAME]\tStart\t#3\tConfig\n";

    const REMOVE: &str = "RemoveRegistry\tRoot\tKey\tName\tComponent_\ns72\ti2\tl255\tL255\ts72\nRemoveRegistry\tRemoveRegistry\n\
d1\t2\tSYSTEM\\CurrentControlSet\\Services\\Svc\\Enum\t-\tCaptured\n\
d2\t2\tSYSTEM\\CurrentControlSet\\Services\\Svc\tTag\tCaptured\n";

    const SERVICE: &str = "ServiceInstall\tName\tDisplayName\tServiceType\tStartType\tErrorControl\tLoadOrderGroup\tDependencies\tStartName\tPassword\tArguments\tComponent_\tDescription\n\
s72\ts255\tL255\ti4\ti4\ti4\tS255\tS255\tS255\tS255\tS255\ts72\tL255\nServiceInstall\tServiceInstall\n\
Svc\tSvc\tThe Service\t16\t2\t32769\tBase\tTcpip[~]+NetworkProvider[~][~]\tNT AUTHORITY\\LocalService\t\t-k net\tService\tDoes things.\n";

    const COMPONENT: &str = "Component\tComponentId\tDirectory_\tAttributes\tCondition\tKeyPath\ns72\tS38\ts72\ti2\tS255\tS72\nComponent\tComponent\n\
Service\t{1}\tINSTALLDIR\t0\t\tSvcExe\n\
Captured\t{2}\tINSTALLDIR\t4\tNOT Installed\tr1\n\
Config\t{3}\tINSTALLDIR\t260\t\tr3\n";

    const SEQUENCE: &str = "Action\tCondition\tSequence\ns72\tS255\tI2\nInstallExecuteSequence\tAction\n\
InstallServices\tVersionNT\t5800\nWriteRegistryValues\t\t5000\nRemoveRegistryValues\t\t2600\n";

    #[test]
    fn rows_lower_in_the_installers_order() {
        let text = view(&[REGISTRY, REMOVE, SERVICE, COMPONENT, SEQUENCE]);
        let parsed = crate::syntax::msi::parse(&text).unwrap();
        let model = lower(&parsed, &text);
        let shown = crate::model::installer::ops_shown(&model);
        let s = r"SYSTEM\CurrentControlSet\Services\Svc";
        assert_eq!(
            shown,
            vec![
                (OpKind::DeleteKey, format!(r"{s}\Enum"), None),
                (OpKind::DeleteValue, s.to_string(), Some("Tag".into())),
                (
                    OpKind::SetValue,
                    format!(r"{s}\Security"),
                    Some("Security".into())
                ),
                (
                    OpKind::SetValue,
                    r"SYSTEM\ControlSet001\Services\Svc".into(),
                    Some("Start".into())
                ),
                (OpKind::CreateKey, format!(r"{s}\Parameters"), None),
                (
                    OpKind::SetValue,
                    format!(r"{s}\Parameters"),
                    Some("List".into())
                ),
                (
                    OpKind::SetValue,
                    format!(r"{s}\Parameters"),
                    Some("".into())
                ),
                (
                    OpKind::SetValue,
                    r"SOFTWARE\Acme".into(),
                    Some("Version".into())
                ),
                (
                    OpKind::SetValue,
                    r"SYSTEM\CurrentControlSet\Services\[NAME]".into(),
                    Some("Start".into())
                ),
            ]
        );
        assert!(model.ops.windows(2).all(|w| w[0].seq < w[1].seq));
        assert!(model.ops.windows(2).all(|w| w[0].origin < w[1].origin));
        assert!(model.ops.iter().all(|op| op.hive == Hive::LocalMachine));
        assert_eq!(model.ops[2].data, Data::Binary(vec![1, 0, 0xff]));
        assert_eq!(model.ops[3].data, Data::Dword(2));
        assert_eq!(
            model.ops[5].data,
            Data::MultiSz(vec![
                Cow::Borrowed(b"a"),
                Cow::Borrowed(b"b"),
                Cow::Borrowed(b"c")
            ])
        );
        assert_eq!(
            model.ops[6].data,
            Data::ExpandSz(Cow::Borrowed(b"[INSTALLDIR]x"))
        );
        // The conditional component's rows are a region; the 64-bit one writes that view.
        assert!(model.ops[..4].iter().all(|op| op.conditional()));
        assert!(
            model.ops[4..]
                .iter()
                .all(|op| !op.conditional() && op.wow64_64)
        );
        assert!(model.ops[8].unresolved && !model.ops[7].unresolved);
        // Positions name the row's value name, or its key.
        assert_eq!(model.ops[2].range.slice(&text), b"Security");
        // A key read without its trailing `\` stands verbatim without it.
        assert_eq!(
            model.ops[2].key_range.map(|r| r.slice(&text)),
            Some(&br"SYSTEM\CurrentControlSet\Services\Svc\Security"[..])
        );
        assert_eq!(
            model.ops[4].range.slice(&text),
            br"SYSTEM\CurrentControlSet\Services\Svc\Parameters"
        );
        assert_eq!(
            model.ops[3].key_range.map(|r| r.slice(&text)),
            Some(&br"SYSTEM\ControlSet001\Services\Svc"[..])
        );

        let [svc] = model.services.as_slice() else {
            panic!("one service")
        };
        assert_eq!(&*svc.name, b"Svc");
        assert_eq!(
            (svc.service_type, svc.start, svc.error_control),
            (Some(16), Some(2), Some(1))
        );
        assert!(model.ops.iter().all(|op| op.seq < svc.seq) && svc.block == 0);
        let sz = |t: &'static [u8]| Some(Data::Sz(Cow::Borrowed(t)));
        assert_eq!(svc.writes(ServiceValue::DisplayName), sz(b"The Service"));
        assert_eq!(
            svc.writes(ServiceValue::ObjectName),
            sz(br"NT AUTHORITY\LocalService")
        );
        assert_eq!(svc.writes(ServiceValue::Group), sz(b"Base"));
        assert_eq!(svc.writes(ServiceValue::Description), sz(b"Does things."));
        assert_eq!(
            svc.writes(ServiceValue::ImagePath),
            Some(Data::ExpandSz(Cow::Owned(b"[#SvcExe] -k net".to_vec())))
        );
        assert_eq!(
            svc.writes(ServiceValue::DependOnService),
            Some(Data::MultiSz(vec![Cow::Borrowed(b"Tcpip")]))
        );
        assert_eq!(
            svc.writes(ServiceValue::DependOnGroup),
            Some(Data::MultiSz(vec![Cow::Borrowed(b"NetworkProvider")]))
        );
        assert_eq!(
            svc.field(ServiceValue::Start).map(|f| f.value),
            Some(&b"2"[..])
        );
    }

    #[test]
    fn a_database_without_registry_tables_has_no_operations() {
        let text = view(&[COMPONENT]);
        let parsed = crate::syntax::msi::parse(&text).unwrap();
        let model = lower(&parsed, &text);
        assert!(model.ops.is_empty() && model.services.is_empty());
    }
}
