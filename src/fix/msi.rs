//! Turning [`Change`]s into edits of a database's view (written into the database by
//! [`crate::syntax::msi::database::encode`]).
//!
//! - A removed write deletes its `Registry` row (its line of the view).
//! - A deleted row that is its component's key path (`Component.KeyPath`, with the registry
//!   key path attribute) hands the key path to the component's first kept `Registry` row. With
//!   none left, the component's key path is cleared (`KeyPath` NULL, the attribute off), as WiX
//!   compiles a component without one: its directory becomes its key path. That is safe for a
//!   component left without rows of the view's tables; one that keeps others (a
//!   `ServiceInstall`, `ServiceControl` or `RemoveRegistry` row) would be tracked by its
//!   directory instead: that fix is unsafe. (A component's files are not in the view.)
//! - [`Change::Replace`] edits (a `Key` cell's `ControlSetNNN`) apply where they do not fall in
//!   a deleted row.
//! - A signed package: every change invalidates its signature, which the review says.

use std::collections::{BTreeMap, HashMap};

use super::{Change, Edit, Review};
use crate::model::installer;
use crate::model::msi::{ComponentInfo, REGISTRY_KEY_PATH, Sequence, components};
use crate::syntax::msi::{Table, View};

/// Plans edits on one database's view. What every plan reads (the components, the `Registry`
/// rows of each, the sequence) is gathered once, so planning one finding's fix costs what it
/// touches, not the size of the tables.
pub struct Planner<'v> {
    view: &'v View,
    text: &'v [u8],
    signed: bool,
    sequence: Sequence,
    components: HashMap<&'v [u8], ComponentInfo<'v>>,
    /// Component name → its `Registry` rows, in table order.
    registry_rows: HashMap<&'v [u8], Vec<usize>>,
}

impl<'v> Planner<'v> {
    /// `signed`: the database carries a digital signature.
    pub fn new(view: &'v View, text: &'v [u8], signed: bool) -> Self {
        let mut registry_rows: HashMap<&[u8], Vec<usize>> = HashMap::new();
        if let Some(table) = view.table(text, "Registry")
            && let Some(column) = table.column("Component_")
        {
            for (i, row) in table.rows.iter().enumerate() {
                let name = row.cells.get(column).map_or(&b""[..], |c| c.slice(text));
                registry_rows.entry(name).or_default().push(i);
            }
        }
        Self {
            view,
            text,
            signed,
            sequence: Sequence::of(view, text),
            components: components(view, text),
            registry_rows,
        }
    }

    /// The edits of `changes` (sorted, non-overlapping) and what they do beyond them.
    pub fn plan(&self, changes: &[Change]) -> (Vec<Edit>, Review) {
        let (view, text) = (self.view, self.text);
        let mut edits = Vec::new();
        let mut review = Review::default();
        let registry = view.table(text, "Registry");
        let sequence = &self.sequence;
        let mut deleted: Vec<usize> = changes
            .iter()
            .filter_map(|c| match c {
                Change::RemoveWrite(origin) => {
                    let (rank, row) = installer::split_container(origin.container);
                    (sequence.table_of_rank(rank) == "Registry").then_some(row as usize)
                }
                _ => None,
            })
            .filter(|&row| registry.is_some_and(|t| row < t.rows.len()))
            .collect();
        deleted.sort_unstable();
        deleted.dedup();
        if let Some(table) = registry {
            for &row in &deleted {
                edits.push(Edit::delete(table.rows[row].line));
            }
            self.key_paths(table, &deleted, &mut edits, &mut review);
        }
        let kept = super::apply::with_replacements(text.len(), edits, changes);
        if self.signed && !kept.is_empty() {
            review.notes.push(
                "the package is digitally signed: this change invalidates its signature; sign it again".into(),
            );
        }
        (kept, review)
    }

    /// Moves or clears the key paths of the components whose key-path row `deleted` holds
    /// (see the module docs).
    fn key_paths(
        &self,
        registry: &Table,
        deleted: &[usize],
        edits: &mut Vec<Edit>,
        review: &mut Review,
    ) {
        let (view, text) = (self.view, self.text);
        let Some(component_table) = view.table(text, "Component") else {
            return;
        };
        let components = &self.components;
        let (Some(id_column), Some(component_column)) =
            (registry.column("Registry"), registry.column("Component_"))
        else {
            return;
        };
        let cell = |row: usize, column: usize| {
            registry
                .rows
                .get(row)
                .and_then(|r| r.cells.get(column))
                .map_or(&b""[..], |c| c.slice(text))
        };
        // Component name → its deleted rows.
        let mut by_component: BTreeMap<&[u8], Vec<usize>> = BTreeMap::new();
        for &row in deleted {
            by_component
                .entry(cell(row, component_column))
                .or_default()
                .push(row);
        }
        for (name, rows) in by_component {
            let Some(info) = components.get(name) else {
                continue;
            };
            let shown = format!("`{}`", String::from_utf8_lossy(name));
            let heir = self.registry_rows.get(name).and_then(|rows| {
                rows.iter()
                    .copied()
                    .find(|r| deleted.binary_search(r).is_err())
            });
            let loses_key_path = info.attributes & REGISTRY_KEY_PATH != 0
                && rows.iter().any(|&r| cell(r, id_column) == info.key_path);
            let Some(component_row) = component_table.rows.get(info.row) else {
                continue;
            };
            let column = |name: &str| {
                component_table
                    .column(name)
                    .and_then(|c| component_row.cells.get(c))
                    .copied()
            };
            if loses_key_path {
                match (heir, column("KeyPath")) {
                    (Some(heir), Some(key_path)) => {
                        edits.push(Edit::replace(key_path, cell(heir, id_column)));
                        review.notes.push(format!(
                            "the key path of component {shown} moves to Registry row `{}`",
                            String::from_utf8_lossy(cell(heir, id_column))
                        ));
                    }
                    (None, Some(key_path)) => {
                        edits.push(Edit::delete(key_path));
                        if let Some(attributes) = column("Attributes") {
                            let cleared = info.attributes & !REGISTRY_KEY_PATH;
                            edits.push(Edit::replace(attributes, cleared.to_string()));
                        }
                        if self.keeps_other_rows(name) {
                            review.unsafe_because.get_or_insert_with(|| {
                                format!(
                                    "it removes the key path of component {shown}, which keeps other rows: Windows Installer would track the component by its directory"
                                )
                            });
                        } else {
                            review.notes.push(format!(
                                "component {shown} keeps no registry row: its key path becomes its directory"
                            ));
                        }
                    }
                    (_, None) => {}
                }
            } else if heir.is_none() {
                review
                    .notes
                    .push(format!("component {shown} keeps no registry row"));
            }
        }
    }

    /// Whether a row of the view's other tables belongs to component `name`.
    fn keeps_other_rows(&self, name: &[u8]) -> bool {
        let (view, text) = (self.view, self.text);
        ["ServiceInstall", "ServiceControl", "RemoveRegistry"]
            .iter()
            .filter_map(|t| view.table(text, t))
            .any(|table| {
                table.column("Component_").is_some_and(|c| {
                    table
                        .rows
                        .iter()
                        .any(|r| r.cells.get(c).is_some_and(|cell| cell.slice(text) == name))
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::apply_edits;
    use crate::model::Origin;

    fn view(tables: &[&str]) -> Vec<u8> {
        tables.join("\n").replace('\n', "\r\n").into_bytes()
    }

    const REGISTRY: &str = "Registry\tRoot\tKey\tName\tValue\tComponent_\ns72\ti2\tl255\tL255\tL0\ts72\nRegistry\tRegistry\n\
r1\t2\tSYSTEM\\CurrentControlSet\\Services\\A\\Security\tSecurity\t01\tState\n\
r2\t2\tSYSTEM\\CurrentControlSet\\Services\\A\\Enum\tCount\t#1\tState\n\
r3\t2\tSYSTEM\\CurrentControlSet\\Services\\A\tStart\t#2\tService\n";

    const COMPONENT: &str = "Component\tComponentId\tDirectory_\tAttributes\tCondition\tKeyPath\ns72\tS38\ts72\ti2\tS255\tS72\nComponent\tComponent\n\
State\t{1}\tD\t4\t\tr1\n\
Service\t{2}\tD\t4\t\tr3\n";

    const SERVICE_CONTROL: &str = "ServiceControl\tName\tEvent\tArguments\tWait\tComponent_\ns72\tl255\ti2\tL255\tI2\ts72\nServiceControl\tServiceControl\n\
c1\tA\t160\t\t1\tService\n";

    fn plan(text: &[u8], rows: &[u32], signed: bool) -> (String, Review) {
        let parsed = crate::syntax::msi::parse(text).unwrap();
        let changes: Vec<Change> = rows
            .iter()
            .map(|&r| {
                Change::RemoveWrite(Origin {
                    container: installer::container(1, r),
                    index: 0,
                })
            })
            .collect();
        let (edits, review) = Planner::new(&parsed, text, signed).plan(&changes);
        let out = apply_edits(text, &edits).unwrap();
        // What the planner writes is a view of the same database.
        crate::syntax::msi::database::row_changes(text, &out).unwrap();
        (String::from_utf8(out).unwrap(), review)
    }

    #[test]
    fn a_deleted_key_path_row_hands_the_key_path_on_or_clears_it() {
        let text = view(&[REGISTRY, COMPONENT, SERVICE_CONTROL]);
        let (out, review) = plan(&text, &[0], false);
        assert!(
            !out.contains("r1\t2") && out.contains("State\t{1}\tD\t4\t\tr2\r\n"),
            "{out}"
        );
        assert_eq!(
            review.notes,
            ["the key path of component `State` moves to Registry row `r2`"]
        );
        let (out, review) = plan(&text, &[0, 1], false);
        assert!(out.contains("State\t{1}\tD\t0\t\t\r\n"), "{out}");
        assert_eq!(review.unsafe_because, None);
        assert_eq!(
            review.notes,
            ["component `State` keeps no registry row: its key path becomes its directory"]
        );
        // A component that keeps a ServiceControl row would be tracked by its directory.
        let (_, review) = plan(&text, &[2], true);
        assert!(
            review
                .unsafe_because
                .is_some_and(|w| w.contains("component `Service`"))
        );
        assert!(review.notes.iter().any(|n| n.contains("signature")));
    }
}
