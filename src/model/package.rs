//! What the files of a package say together: the install-time variables they define, which of
//! them hold a constant, and the keys and service names those constants complete.
//!
//! A variable holds a constant when every definition of it in the package is a plain
//! constant (a `Set Variable` with a `Value` without references and without flags), all the
//! same, and at least one runs unconditionally. Such a variable in a key path or a service name
//! is put in ([`super::FileModel::resolve`]); any other reference there leaves the name
//! unresolved: it could be any key, any service.

use std::collections::HashMap;

use super::{FileModel, Holds, script, state};

/// What the definitions of one variable say: the constant values seen, whether a definition
/// is not a constant, whether one runs unconditionally.
type Seen = (Vec<Vec<u8>>, bool, bool);

/// The variables of a package (names compare ASCII case-insensitively, as the installer's).
#[derive(Clone, Debug, Default)]
pub struct Variables {
    /// Upper-cased name → its constant value, `None` when it holds no single constant.
    defined: HashMap<Vec<u8>, Option<Vec<u8>>>,
}

impl Variables {
    /// The variables `models` define.
    pub fn of<'m, 'a: 'm>(models: impl IntoIterator<Item = &'m FileModel<'a>>) -> Self {
        let mut seen: HashMap<Vec<u8>, Seen> = HashMap::new();
        for model in models {
            for v in model.variables() {
                let entry = seen.entry(v.name.to_ascii_uppercase()).or_default();
                match v.holds {
                    Holds::Constant(value) => {
                        if !entry.0.iter().any(|x| x == value) {
                            entry.0.push(value.to_vec());
                        }
                    }
                    Holds::SystemDirectory | Holds::Unknown => entry.1 = true,
                }
                entry.2 |= v.block == 0;
            }
        }
        let defined = seen
            .into_iter()
            .map(|(name, (values, other, unconditional))| {
                let constant = match values.as_slice() {
                    [one] if !other && unconditional => Some(one.clone()),
                    _ => None,
                };
                (name, constant)
            })
            .collect();
        Variables { defined }
    }

    /// Whether a file of the package defines variable `name`.
    pub fn defines(&self, name: &[u8]) -> bool {
        self.defined.contains_key(&name.to_ascii_uppercase())
    }

    /// The constant `name` holds, if it holds one.
    pub fn constant(&self, name: &[u8]) -> Option<Vec<u8>> {
        self.defined.get(&name.to_ascii_uppercase())?.clone()
    }

    /// Whether a reference to `name` names a variable: a built-in one, a compiler variable or
    /// one the package defines.
    pub fn is_known(&self, name: &[u8]) -> bool {
        script::is_built_in(name) || self.defines(name)
    }
}

/// How references expand in a package: to a variable when it is known, or when a file the
/// package includes was not read (it may define it); to nothing otherwise.
pub struct Known<'v> {
    pub variables: &'v Variables,
    pub unsure: bool,
}

impl state::Expansion for Known<'_> {
    fn keeps(&self, name: &[u8]) -> bool {
        self.unsure || self.variables.is_known(name)
    }
}

/// Puts the package's constants into the keys and service names of `models` that refer to
/// variables. Costs nothing when no key or service name holds a `%`.
pub fn resolve<'m, 'a: 'm>(models: impl IntoIterator<Item = &'m mut FileModel<'a>>) {
    let models: Vec<&mut FileModel<'a>> = models.into_iter().collect();
    let refers = |m: &FileModel<'_>| {
        m.templates
            && (m
                .ops
                .iter()
                .any(|op| memchr::memchr(b'%', &op.key).is_some())
                || m.services
                    .iter()
                    .any(|s| memchr::memchr(b'%', &s.name).is_some()))
    };
    if !models.iter().any(|m| refers(m)) {
        return;
    }
    let variables = Variables::of(models.iter().map(|m| &**m));
    for model in models {
        model.resolve(&|name| variables.constant(name));
    }
}
