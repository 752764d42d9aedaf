//! Turning [`Change`]s into edits of a WiX source.
//!
//! - A removed write removes its element: a `RegistryValue` (with its children), or a creating
//!   `RegistryKey` whose children all go too; with its line when nothing else stands on it
//!   ([`WixDocument::removal`]).
//! - A `RegistryKey` that creates no key goes when every element in it goes (it only named the
//!   key its children write under); one that creates its key loses its creating attribute
//!   (`Action`, `ForceCreateOnInstall`) when its creation is removed but children stay.
//! - A removed element that is its component's key path (`KeyPath="yes"`) hands the key path
//!   to another value the component keeps (its first kept `RegistryValue`, else its first kept
//!   `File`). With none left, a component that keeps other elements would lose its key path:
//!   that fix is unsafe. A component left without any element is not removed (its
//!   `ComponentRef`s live elsewhere, maybe in other files): the review says so.
//! - [`Change::Replace`] edits (a `Key` attribute's `ControlSetNNN`, a suppression comment's
//!   codes) apply where they do not fall inside a removed element.

use std::collections::{BTreeMap, BTreeSet};

use super::{Change, Edit, Review};
use crate::model::installer;
use crate::syntax::wix::{Element, ElementKind, WixDocument};
use crate::text::TextRange;

/// Plans edits on one WiX source.
pub struct Planner<'d> {
    doc: &'d WixDocument,
    text: &'d [u8],
}

/// What a set of changes does to the elements. Only the elements the changes name and the
/// `RegistryKey`s around them are looked at, so planning one finding's fix costs what it
/// touches, not the size of the document.
struct Removal {
    /// Elements that go (with everything in them).
    gone: BTreeSet<u32>,
    /// Creating `RegistryKey`s that stay but whose creation goes.
    uncreated: Vec<u32>,
}

impl Removal {
    fn is_gone(&self, index: u32) -> bool {
        self.gone.contains(&index)
    }
}

impl<'d> Planner<'d> {
    pub fn new(doc: &'d WixDocument, text: &'d [u8]) -> Self {
        Self { doc, text }
    }

    /// The edits of `changes` (sorted, non-overlapping) and what they do beyond them.
    pub fn plan(&self, changes: &[Change]) -> (Vec<Edit>, Review) {
        let (doc, text) = (self.doc, self.text);
        let removal = self.removal(changes);
        let mut edits = Vec::new();
        for &index in &removal.gone {
            if let Some(e) = doc.element(index)
                && !removal.is_gone(e.parent)
            {
                edits.push(doc.removal(text, e));
            }
        }
        for &index in &removal.uncreated {
            if let Some(e) = doc.element(index) {
                for name in ["Action", "ForceCreateOnInstall"] {
                    if let Some(a) = doc.attribute(text, e, name) {
                        edits.push(Edit::delete(with_leading_blanks(text, a.range)));
                    }
                }
            }
        }
        let mut review = Review::default();
        self.key_paths(&removal, &mut edits, &mut review);
        let kept = super::apply::with_replacements(text.len(), edits, changes);
        (kept, review)
    }

    /// Which elements `changes` remove (see the module docs).
    fn removal(&self, changes: &[Change]) -> Removal {
        let doc = self.doc;
        let mut removed: BTreeSet<u32> = BTreeSet::new();
        for change in changes {
            if let Change::RemoveWrite(origin) = change {
                let (rank, index) = installer::split_container(origin.container);
                if rank == 1
                    && doc.element(index).is_some_and(|e| {
                        matches!(
                            e.kind,
                            ElementKind::RegistryValue | ElementKind::RegistryKey
                        )
                    })
                {
                    removed.insert(index);
                }
            }
        }
        // The removed elements and the `RegistryKey`s around them: the only ones that can go.
        let mut candidates = removed.clone();
        for &index in &removed {
            for (a, _) in doc
                .ancestors(index)
                .take_while(|(_, e)| e.kind == ElementKind::RegistryKey)
            {
                if !candidates.insert(a) {
                    break;
                }
            }
        }
        let mut gone = BTreeSet::new();
        let mut uncreated = Vec::new();
        // Children come after their parent: deciding from the last element back sees every
        // child before its parent.
        for &index in candidates.iter().rev() {
            let Some(e) = doc.element(index) else {
                continue;
            };
            let is_removed = removed.contains(&index);
            match e.kind {
                ElementKind::RegistryValue if is_removed => {
                    gone.insert(index);
                }
                ElementKind::RegistryKey => {
                    let mut children = doc.children(index).peekable();
                    let has_children = children.peek().is_some();
                    let all_go = children.all(|(c, _)| gone.contains(&c));
                    if is_removed || !self.creates(e) {
                        if has_children && all_go || !has_children && is_removed {
                            gone.insert(index);
                        } else if is_removed {
                            uncreated.push(index);
                        }
                    }
                }
                _ => {}
            }
        }
        Removal { gone, uncreated }
    }

    /// Whether a `RegistryKey` creates its key on install.
    fn creates(&self, e: &Element) -> bool {
        let (doc, text) = (self.doc, self.text);
        let attr = |name: &str| doc.attribute_value(text, e, name);
        matches!(
            attr("Action").as_deref(),
            Some(b"create" | b"createAndRemoveOnUninstall")
        ) || attr("ForceCreateOnInstall").as_deref() == Some(b"yes")
    }

    /// Moves the key paths of removed elements (see the module docs) and reviews the
    /// components the removal empties.
    fn key_paths(&self, removal: &Removal, edits: &mut Vec<Edit>, review: &mut Review) {
        let (doc, text) = (self.doc, self.text);
        let is_key_path =
            |e: &Element| doc.attribute_value(text, e, "KeyPath").as_deref() == Some(b"yes");
        // The outermost elements that go, by component.
        let mut components: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for &index in &removal.gone {
            if let Some(e) = doc.element(index)
                && !removal.is_gone(e.parent)
                && let Some(c) = doc.component_of(index)
            {
                components.entry(c).or_default().push(index);
            }
        }
        for (c, outermost) in components {
            let Some(component) = doc.element(c) else {
                continue;
            };
            let name = self.name_of(component);
            // The component's elements as they stay (a removed element's subtree goes with it).
            let subtree = (c + 1)..component.end;
            let kept = |i: u32| {
                !removal.is_gone(i)
                    && doc
                        .ancestors(i)
                        .take_while(|(a, _)| *a != c)
                        .all(|(a, _)| !removal.is_gone(a))
            };
            // Only what goes is looked at here; the whole component only when its key path goes.
            let lost_key_path = outermost.iter().any(|&g| {
                let end = doc.element(g).map_or(g + 1, |e| e.end);
                (g..end).any(|i| doc.element(i).is_some_and(is_key_path))
            });
            let children_left = doc
                .children(c)
                .filter(|(_, e)| e.kind != ElementKind::Condition)
                .any(|(i, _)| kept(i));
            if lost_key_path {
                let has_key_path = subtree
                    .clone()
                    .any(|i| kept(i) && doc.element(i).is_some_and(is_key_path));
                let value = |i: &u32| {
                    kept(*i)
                        && doc.element(*i).is_some_and(|e| {
                            e.kind == ElementKind::RegistryValue
                                && !matches!(
                                    doc.attribute_value(text, e, "Action").as_deref(),
                                    Some(
                                        b"remove" | b"removeKeyOnInstall" | b"removeKeyOnUninstall"
                                    )
                                )
                        })
                };
                let file = |i: &u32| {
                    kept(*i) && doc.element(*i).is_some_and(|e| e.kind == ElementKind::File)
                };
                let heir = subtree
                    .clone()
                    .find(value)
                    .or_else(|| subtree.clone().find(file));
                match (has_key_path, heir) {
                    (true, _) => {}
                    (false, Some(heir)) => {
                        if let Some(e) = doc.element(heir) {
                            edits.push(self.set_key_path(e));
                            review.notes.push(format!(
                                "the key path of component {name} moves to {}",
                                self.describe(e)
                            ));
                        }
                    }
                    (false, None) if children_left => {
                        review.unsafe_because.get_or_insert_with(|| {
                            format!(
                                "it removes the key path of component {name}, which keeps other elements: Windows Installer would track the component by its directory"
                            )
                        });
                    }
                    (false, None) => {}
                }
            }
            if !children_left {
                review.notes.push(format!(
                    "it leaves component {name} empty: remove it and its ComponentRef by hand"
                ));
            }
        }
    }

    /// `KeyPath="yes"` on element `e`: its `KeyPath` attribute rewritten, or one added after
    /// its last attribute.
    fn set_key_path(&self, e: &Element) -> Edit {
        let (doc, text) = (self.doc, self.text);
        if let Some(a) = doc.attribute(text, e, "KeyPath") {
            return doc.attribute_rewrite(a, b"yes");
        }
        let at = doc
            .attributes_of(e)
            .last()
            .map_or(e.name.end, |a| a.range.end);
        Edit::insert(at, " KeyPath=\"yes\"")
    }

    /// A component as messages name it: `` `Id` ``, or by its line.
    fn name_of(&self, component: &Element) -> String {
        let (doc, text) = (self.doc, self.text);
        match doc.attribute_value(text, component, "Id") {
            Some(id) => format!("`{}`", String::from_utf8_lossy(&id)),
            None => format!("at byte {}", component.range.start),
        }
    }

    /// An element as messages name it: ``RegistryValue `Name` `` or ``File `Id` ``.
    fn describe(&self, e: &Element) -> String {
        let (doc, text) = (self.doc, self.text);
        let tag = String::from_utf8_lossy(e.name.slice(text)).into_owned();
        let label = ["Name", "Id"]
            .iter()
            .find_map(|n| doc.attribute_value(text, e, n));
        match label {
            Some(l) => format!("{tag} `{}`", String::from_utf8_lossy(&l)),
            None => tag,
        }
    }
}

/// `range` (an attribute) with the blanks before it, so removing it leaves the tag as written.
fn with_leading_blanks(text: &[u8], range: TextRange) -> TextRange {
    let blanks = text[..range.start]
        .iter()
        .rev()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .count();
    TextRange::new(range.start - blanks, range.end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fix::apply_edits;
    use crate::model::Origin;

    fn doc(text: &str) -> WixDocument {
        crate::syntax::wix::parse(text.as_bytes(), crate::detect::WixSchema::V3).unwrap()
    }

    /// The removal of the element whose start tag holds `marker`.
    fn remove(text: &str, doc: &WixDocument, marker: &str) -> Change {
        let at = text.find(marker).unwrap();
        let index = doc
            .elements
            .iter()
            .rposition(|e| e.start_tag.start <= at && at < e.start_tag.end)
            .unwrap();
        Change::RemoveWrite(Origin {
            container: installer::container(1, index as u32),
            index: 0,
        })
    }

    fn fixed(text: &str, markers: &[&str]) -> (String, Review) {
        let doc = doc(text);
        let changes: Vec<Change> = markers.iter().map(|m| remove(text, &doc, m)).collect();
        let (edits, review) = Planner::new(&doc, text.as_bytes()).plan(&changes);
        let out = apply_edits(text.as_bytes(), &edits).unwrap();
        (String::from_utf8(out).unwrap(), review)
    }

    const SOURCE: &str = "<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\">\r
  <Component Id=\"State\">\r
    <RegistryKey Root=\"HKLM\" Key=\"SYSTEM\\CurrentControlSet\\Services\\A\\Security\">\r
      <RegistryValue Name=\"Security\" Type=\"binary\" Value=\"01\" KeyPath=\"yes\" />\r
    </RegistryKey>\r
    <RegistryKey Root=\"HKLM\" Key=\"SYSTEM\\CurrentControlSet\\Services\\A\\Enum\">\r
      <RegistryValue Name=\"0\" Value=\"Root\\LEGACY_A\\0000\" /><RegistryValue Name=\"Count\" Type=\"integer\" Value=\"1\" />\r
    </RegistryKey>\r
  </Component>\r
</Wix>\r
";

    #[test]
    fn a_removed_key_path_moves_to_a_kept_value() {
        let (out, review) = fixed(SOURCE, &["Name=\"Security\""]);
        assert_eq!(
            out,
            "<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\">\r
  <Component Id=\"State\">\r
    <RegistryKey Root=\"HKLM\" Key=\"SYSTEM\\CurrentControlSet\\Services\\A\\Enum\">\r
      <RegistryValue Name=\"0\" Value=\"Root\\LEGACY_A\\0000\" KeyPath=\"yes\" /><RegistryValue Name=\"Count\" Type=\"integer\" Value=\"1\" />\r
    </RegistryKey>\r
  </Component>\r
</Wix>\r
"
        );
        assert_eq!(review.unsafe_because, None);
        assert_eq!(
            review.notes,
            ["the key path of component `State` moves to RegistryValue `0`"]
        );
    }

    #[test]
    fn values_sharing_a_line_go_exactly_and_an_emptied_component_is_reported() {
        let (out, _) = fixed(SOURCE, &["Name=\"0\""]);
        assert!(
            out.contains("\r\n      <RegistryValue Name=\"Count\""),
            "{out}"
        );
        let (out, review) = fixed(
            SOURCE,
            &["Name=\"Security\"", "Name=\"0\"", "Name=\"Count\""],
        );
        assert_eq!(
            out,
            "<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\">\r
  <Component Id=\"State\">\r
  </Component>\r
</Wix>\r
"
        );
        assert_eq!(review.unsafe_because, None);
        assert_eq!(
            review.notes,
            ["it leaves component `State` empty: remove it and its ComponentRef by hand"]
        );
    }

    #[test]
    fn a_key_path_with_nothing_to_take_it_makes_the_fix_unsafe() {
        let text = "<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\"><Component Id=\"C\">
  <RegistryValue Root=\"HKLM\" Key=\"SYSTEM\\CurrentControlSet\\Services\\A\\Security\" Name=\"Security\" Value=\"01\" KeyPath=\"yes\" />
  <ServiceControl Id=\"A\" Name=\"A\" Stop=\"both\" />
</Component></Wix>";
        let (out, review) = fixed(text, &["Name=\"Security\""]);
        assert!(!out.contains("Security"));
        assert!(
            review
                .unsafe_because
                .is_some_and(|w| w.contains("key path of component `C`")),
        );
    }

    #[test]
    fn a_creating_key_keeps_children_it_still_has() {
        let text = "<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\"><Component Id=\"C\"><File Id=\"f\" />
  <RegistryKey Root=\"HKLM\" Key=\"K\" Action=\"create\">
    <RegistryValue Name=\"a\" Value=\"1\" />
  </RegistryKey>
  <RegistryKey Root=\"HKLM\" Key=\"L\" ForceCreateOnInstall=\"yes\" />
</Component></Wix>";
        let (out, review) = fixed(text, &["Key=\"K\"", "Key=\"L\""]);
        assert_eq!(
            out,
            "<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\"><Component Id=\"C\"><File Id=\"f\" />
  <RegistryKey Root=\"HKLM\" Key=\"K\">
    <RegistryValue Name=\"a\" Value=\"1\" />
  </RegistryKey>
</Component></Wix>"
        );
        assert_eq!(review, Review::default());
        // Its children gone too, the key goes.
        let (out, _) = fixed(text, &["Key=\"K\"", "Name=\"a\""]);
        assert!(!out.contains("Key=\"K\""), "{out}");
    }
}
