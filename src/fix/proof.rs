//! Proving a fix against the registry the package installs.
//!
//! A fix is **safe** only if the state the package installs ([`crate::model::state`]) is the
//! same with and without it, except for the captured system state its rule targets
//! ([`Target`]): a service's `Security` descriptor, its `Enum` state, `LEGACY_*` and other device
//! nodes, `DeleteFlag`, copies outside the reference configuration's current control set, and a
//! `Tag` that no load-order group makes count. (A value the package's own service install sets
//! to the same data needs no exception: the state holds the install's writes, so removing a
//! redundant copy of one changes nothing.)
//!
//! The proof is local: a fix changes some operations (removes them, moves them to another
//! key, changes their data) or a service install; only the keys and values those operations
//! name can end up different, so only their outcomes are computed, from every step of the
//! package that touches them (deletions of an enclosing key and creations below a key
//! included), once with the fix and once without. A fix whose every changed operation lies in
//! its target is safe without computing anything.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::state::{
    Action, Expansion, KeyId, Outcome, Possible, Spelling, Step, Steps, Value, data_value,
    service_key,
};
use crate::model::{Data, FileModel, Hive, NewService, Operation, Origin, ServiceValue, TextPiece};
use crate::rules::context::FoldState;

/// The proof's own maps and sets, keyed by paths, value names and step numbers: hashed with
/// the rules' byte fold, as SipHash took a quarter of a proof on an export dense in services.
type Map<K, V> = HashMap<K, V, FoldState>;
type Set<K> = HashSet<K, FoldState>;

/// The captured system state a rule's fix removes: what its proof may see change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// Nothing: the fix must leave the installed state as it is.
    #[default]
    Nothing,
    /// A service's `Security` key and its `Security` value (not `EventLog\Security`).
    SecurityDescriptor,
    /// A service's `Enum` key and everything under it.
    ServiceEnum,
    /// `Enum\Root\LEGACY_*` and everything under it.
    LegacyNode,
    /// Plug and Play device keys: `Enum\…` (other than `LEGACY_*`), `Control\Class\{GUID}\NNNN`,
    /// `Control\DeviceClasses\{GUID}\<interface>` and everything under them.
    DeviceNode,
    /// A service's `DeleteFlag` value.
    DeleteFlag,
    /// Anything under a `ControlSetNNN` other than the reference configuration's current one.
    OtherControlSet,
    /// A service's `Tag`, where the service has no `Group` (after the fix): the system
    /// evaluates a tag only within a load-order group.
    UngroupedTag,
}

impl Target {
    /// What a person reads for it.
    pub fn describe(self) -> &'static str {
        match self {
            Target::Nothing => "nothing",
            Target::SecurityDescriptor => "a captured security descriptor",
            Target::ServiceEnum => "a service's captured Enum state",
            Target::LegacyNode => "a captured LEGACY_ device node",
            Target::DeviceNode => "a captured Plug and Play device key",
            Target::DeleteFlag => "a captured DeleteFlag",
            Target::OtherControlSet => "a copy outside the current control set",
            Target::UngroupedTag => "a tag without a load-order group",
        }
    }
}

/// Which targets a key (and a value name of it: folded, `None` for the key itself) falls in.
pub fn targets_of(key: &KeyId, value: Option<&str>) -> Vec<Target> {
    let s = &key.segments;
    let mut out = Vec::new();
    if key.hive != Hive::LocalMachine || s.len() < 2 || &*s[0] != "SYSTEM" {
        return out;
    }
    let set = &*s[1];
    if set != "CURRENTCONTROLSET" {
        if !set.starts_with("CONTROLSET") {
            return out;
        }
        out.push(Target::OtherControlSet);
    }
    let rest: Vec<&str> = s[2..].iter().map(|s| &**s).collect();
    match rest.as_slice() {
        ["SERVICES", service, "SECURITY"]
            if *service != "EVENTLOG" && matches!(value, None | Some("SECURITY")) =>
        {
            out.push(Target::SecurityDescriptor)
        }
        ["SERVICES", _, "ENUM", ..] => out.push(Target::ServiceEnum),
        ["SERVICES", _] if value == Some("DELETEFLAG") => out.push(Target::DeleteFlag),
        ["SERVICES", _] if value == Some("TAG") => out.push(Target::UngroupedTag),
        ["ENUM", "ROOT", node, ..] if node.starts_with("LEGACY_") => out.push(Target::LegacyNode),
        ["ENUM", _, ..] => out.push(Target::DeviceNode),
        ["CONTROL", "CLASS", guid, instance, ..]
            if is_guid(guid) && instance.bytes().all(|b| b.is_ascii_digit()) =>
        {
            out.push(Target::DeviceNode)
        }
        ["CONTROL", "DEVICECLASSES", guid, _, ..] if is_guid(guid) => out.push(Target::DeviceNode),
        _ => {}
    }
    out
}

/// The keys whose existence a proof compares: those a step names outside every target (a
/// key only implied by keys below it, or named only by captured system state such as its
/// `DeleteFlag`, exists or not with what implies it; the keys a safe fix may take away never
/// decide which keys count, so that proofs made one after another agree with one made at once).
pub fn counted_keys<'s>(steps: impl IntoIterator<Item = &'s Step>) -> HashSet<KeyId> {
    steps
        .into_iter()
        .filter(|s| targets_of(&s.key, s.name.as_deref()).is_empty())
        .map(|s| s.key.clone())
        .collect()
}

fn is_guid(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// What a fix changes in the model beyond removing operations (those come from its changes).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    /// The service install `service` writes `data` to `value` (or nothing, `None`).
    ServiceValue {
        service: Origin,
        value: ServiceValue,
        data: Option<ServiceData>,
    },
    /// A new service install, placed before operation `before`.
    Install { before: Origin, service: NewService },
    /// The operation's text changes in a way the model does not follow (an install-time
    /// reference escaped): its key and value count as changed.
    Touches(Origin),
    /// As [`Effect::Touches`], for a service install: every value it writes.
    TouchesInstall(Origin),
}

/// Data a service install writes, owned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceData {
    Number(u32),
    Text(Vec<u8>),
}

impl ServiceData {
    /// As the model holds a service install's data.
    pub fn as_data(&self) -> Data<'_> {
        match self {
            ServiceData::Number(n) => Data::Dword(*n),
            ServiceData::Text(t) => Data::Sz(std::borrow::Cow::Borrowed(t)),
        }
    }
}

/// One key or value whose outcome a fix changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub key: KeyId,
    /// The folded value name; `None` for the key itself.
    pub value: Option<String>,
    pub before: Possible<Value>,
    pub after: Possible<Value>,
    /// How it is spelled, for messages.
    pub spelling: Spelling,
}

/// The proof of one fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// What changes outside the fix's target (empty: the fix is safe).
    pub outside: Vec<Difference>,
    /// Every key and value the fix may change (the targeted ones included), for the check of
    /// the fixed file.
    pub touched: Vec<(KeyId, Option<String>)>,
}

impl Proof {
    pub fn is_safe(&self) -> bool {
        self.outside.is_empty()
    }

    /// What changes, for people: the first difference outside the target (and how many more).
    pub fn describe(&self) -> Option<String> {
        let first = self.outside.first()?;
        let key = describe_key(&first.key, &first.spelling);
        let what = match (&first.value, &first.spelling.value) {
            (None, _) => format!("key `{key}`"),
            (Some(_), Some(name)) if name.is_empty() => format!("the default value of `{key}`"),
            (Some(_), Some(name)) => format!("value `{name}` of `{key}`"),
            (Some(folded), None) => format!("value `{folded}` of `{key}`"),
        };
        let mut out = format!(
            "it changes what is installed: {what} goes from {} to {}",
            describe_outcomes(&first.before, first.value.is_none()),
            describe_outcomes(&first.after, first.value.is_none())
        );
        if self.outside.len() > 1 {
            out.push_str(&format!(" (and {} more)", self.outside.len() - 1));
        }
        Some(out)
    }
}

/// `HKLM\…` as first spelled.
pub fn describe_key(key: &KeyId, spelling: &Spelling) -> String {
    let segments = if spelling.key.len() >= key.segments.len() {
        &spelling.key[..key.segments.len()]
    } else {
        &key.segments[..]
    };
    let mut out = key.hive.short_name().to_string();
    for s in segments {
        out.push('\\');
        out.push_str(&crate::model::state::show_references(s));
    }
    crate::model::state::escape_controls(&out)
}

fn describe_outcomes<T: DescribeOutcome>(possible: &[Outcome<T>], key: bool) -> String {
    let shown: Vec<String> = possible
        .iter()
        .map(|o| match o {
            Outcome::Untouched if key => "not created".to_string(),
            Outcome::Untouched => "not written".to_string(),
            Outcome::Deleted => "deleted".to_string(),
            Outcome::Set(v) => v.describe(),
        })
        .collect();
    shown.join(" or ")
}

trait DescribeOutcome {
    fn describe(&self) -> String;
}

impl DescribeOutcome for Value {
    fn describe(&self) -> String {
        if *self == KEY_EXISTS {
            return "created".to_string();
        }
        self.shown()
    }
}

impl DescribeOutcome for () {
    fn describe(&self) -> String {
        "created".to_string()
    }
}

/// Every step of a package, indexed for proofs. Built on first use: a package whose fixes all
/// lie in their targets needs none.
pub struct Index {
    steps: Steps,
    /// Steps naming each key.
    by_key: Map<KeyId, Vec<usize>>,
    /// Steps naming each value (key, folded name).
    by_value: Map<(KeyId, String), Vec<usize>>,
    /// Key deletions by key.
    deletions: Map<KeyId, Vec<usize>>,
    /// The keys whose existence a proof compares ([`counted_keys`]).
    counted: HashSet<KeyId>,
    /// Key-creating steps below each key that steps name (the creation they imply).
    below: Map<KeyId, Vec<usize>>,
    /// Steps by (file, position): to find a fix's steps in the index (compared whole).
    by_position: Map<(usize, u64), Vec<usize>>,
    /// The outcomes of the keys and values proofs asked about, without any fix.
    memo: std::sync::Mutex<Map<Identity, std::sync::Arc<Memo>>>,
}

/// What a key or value's outcome comes from, and what it is without a fix.
struct Memo {
    /// The steps that bear on it, in order.
    steps: Vec<usize>,
    /// Where each file's steps lie in `steps`.
    files: Vec<std::ops::Range<usize>>,
    before: Possible<Value>,
    /// The steps that decide it: in each file, the last unconditional one and those after.
    /// Taking away any other changes nothing.
    tail: Set<usize>,
    /// For a key that no step deletes: per file, how many steps create it unconditionally and
    /// conditionally. Its existence follows from these counts alone, so a proof updates them
    /// instead of folding every step below a key again (one key may have thousands).
    creations: Option<Map<usize, Counts>>,
}

/// Unconditional and conditional creations of a key in one file.
type Counts = (i64, i64);

/// A key's possible existence from its creations per file.
fn existence<'c>(per_file: impl Iterator<Item = &'c Counts>) -> Possible<Value> {
    let per_file: Vec<Possible<Value>> = per_file
        .map(|&(unconditional, conditional)| {
            if unconditional > 0 {
                vec![Outcome::Set(KEY_EXISTS.clone())]
            } else if conditional > 0 {
                vec![Outcome::Untouched, Outcome::Set(KEY_EXISTS.clone())]
            } else {
                vec![Outcome::Untouched]
            }
        })
        .collect();
    crate::model::state::join_files(per_file)
}

/// Adds `sign` to the creation counts of `step` in `counts` (nothing for other steps).
fn count(counts: &mut Map<usize, Counts>, step: &Step, sign: i64) {
    if !creates(step) {
        return;
    }
    let entry = counts.entry(step.file).or_default();
    if step.conditional {
        entry.1 += sign;
    } else {
        entry.0 += sign;
    }
}

impl Index {
    /// The index of `models` (the package's files, in order).
    pub fn new(models: &[&FileModel<'_>], vars: &dyn Expansion) -> Index {
        let steps = Steps::of(models.iter().copied().enumerate(), vars);
        let mut by_key: Map<KeyId, Vec<usize>> = Map::default();
        let mut by_value: Map<(KeyId, String), Vec<usize>> = Map::default();
        let mut deletions: Map<KeyId, Vec<usize>> = Map::default();
        let mut by_position: Map<(usize, u64), Vec<usize>> = Map::default();
        for (i, step) in steps.steps.iter().enumerate() {
            by_key.entry(step.key.clone()).or_default().push(i);
            if let Some(name) = &step.name {
                by_value
                    .entry((step.key.clone(), name.clone()))
                    .or_default()
                    .push(i);
            }
            if step.action == Action::DeleteKey {
                deletions.entry(step.key.clone()).or_default().push(i);
            }
            by_position
                .entry((step.file, step.seq))
                .or_default()
                .push(i);
        }
        // The creations below each named key: walked up once per key, not once per step (a
        // key block's values all create the same key).
        let mut below: Map<KeyId, Vec<usize>> = Map::default();
        for (key, own) in &by_key {
            let creating: Vec<usize> = own
                .iter()
                .copied()
                .filter(|&i| creates(&steps.steps[i]))
                .collect();
            if creating.is_empty() {
                continue;
            }
            let mut above = key.parent();
            while let Some(k) = above {
                if by_key.contains_key(&k) {
                    below.entry(k.clone()).or_default().extend(&creating);
                }
                above = k.parent();
            }
        }
        for steps in below.values_mut() {
            steps.sort_unstable();
        }
        Index {
            counted: counted_keys(&steps.steps),
            steps,
            by_key,
            by_value,
            deletions,
            below,
            by_position,
            memo: std::sync::Mutex::new(Map::default()),
        }
    }

    fn step(&self, i: usize) -> &Step {
        &self.steps.steps[i]
    }

    /// The steps that bear on `id`, in order, with their outcome and the tail that decides it.
    fn memo(&self, id: &(KeyId, Option<String>)) -> std::sync::Arc<Memo> {
        if let Some(m) = self.memo.lock().ok().and_then(|m| m.get(id).cloned()) {
            return m;
        }
        let (key, value) = (&id.0, id.1.as_deref());
        let mut indices: Vec<usize> = match value {
            Some(name) => self
                .by_value
                .get(&(key.clone(), name.to_string()))
                .cloned()
                .unwrap_or_default(),
            None => {
                let mut own = self.by_key.get(key).cloned().unwrap_or_default();
                own.extend(self.below.get(key).map(Vec::as_slice).unwrap_or_default());
                own
            }
        };
        indices.extend(killers(self, key));
        indices.retain(|&i| effect(self.step(i), key, value).is_some());
        indices.sort_unstable_by_key(|&i| (self.step(i).file, self.step(i).seq, i));
        indices.dedup();
        let steps: Vec<&Step> = indices.iter().map(|&i| self.step(i)).collect();
        let before = crate::model::state::outcomes(&steps, |s| effect(s, key, value));
        let mut tail = Set::default();
        let mut files = Vec::new();
        for file in indices.chunk_by(|&a, &b| self.step(a).file == self.step(b).file) {
            let from = file
                .iter()
                .rposition(|&i| !self.step(i).conditional)
                .unwrap_or(0);
            tail.extend(&file[from..]);
            let start = files.last().map_or(0, |r: &std::ops::Range<usize>| r.end);
            files.push(start..start + file.len());
        }
        let creations =
            (value.is_none() && indices.iter().all(|&i| creates(self.step(i)))).then(|| {
                let mut counts = Map::default();
                for &i in &indices {
                    count(&mut counts, self.step(i), 1);
                }
                counts
            });
        let memo = std::sync::Arc::new(Memo {
            steps: indices,
            files,
            before,
            tail,
            creations,
        });
        if let Ok(mut m) = self.memo.lock() {
            m.insert(id.clone(), memo.clone());
        }
        memo
    }
}

/// The steps of `memo` that decide its outcome once those `removed` are taken away: in each
/// file, the last unconditional step left and the conditional ones after it (an unconditional
/// step replaces whatever came before). Found from the end, so a pass whose fixes take a key's
/// thousands of writes away one by one, front to back, looks at a few steps per fix instead of
/// all of them (which made it quadratic).
fn deciding<'i>(index: &'i Index, memo: &Memo, removed: impl Fn(&usize) -> bool) -> Vec<&'i Step> {
    let mut out = Vec::new();
    for file in &memo.files {
        let last_first = memo.steps[file.clone()].iter().rev();
        push_deciding(
            &mut out,
            last_first.filter(|i| !removed(i)).map(|&i| index.step(i)),
        );
    }
    out
}

/// Pushes onto `out`, in fold order, the steps of one file that decide an outcome, given from
/// the last to the first: back to and including the first unconditional one met (a fold
/// ignores whatever comes before an unconditional step).
fn push_deciding<'s>(out: &mut Vec<&'s Step>, last_first: impl Iterator<Item = &'s Step>) {
    let from = out.len();
    for step in last_first {
        out.push(step);
        if !step.conditional {
            break;
        }
    }
    out[from..].reverse();
}

/// What `step` does to key `key` (`value`: `None`) or to its value `value`.
fn effect(step: &Step, key: &KeyId, value: Option<&str>) -> Option<Outcome<Value>> {
    let own = step.key == *key;
    let above = key.is_within(&step.key);
    match (&step.action, value) {
        (Action::DeleteKey, _) if above => Some(Outcome::Deleted),
        (Action::SetValue(v), Some(name)) if own && step.name.as_deref() == Some(name) => {
            Some(Outcome::Set(v.clone()))
        }
        (Action::DeleteValue, Some(name)) if own && step.name.as_deref() == Some(name) => {
            Some(Outcome::Deleted)
        }
        (Action::CreateKey | Action::SetValue(_), None) if step.key.is_within(key) => {
            Some(Outcome::Set(KEY_EXISTS.clone()))
        }
        _ => None,
    }
}

/// A key's existence, as a value (outcomes of keys and values compare the same way).
static KEY_EXISTS: Value = Value {
    kind: u32::MAX,
    bytes: Vec::new(),
};

fn creates(step: &Step) -> bool {
    matches!(step.action, Action::CreateKey | Action::SetValue(_))
}

/// The steps a fix adds, and the ones it takes away.
#[derive(Default)]
struct Delta {
    removed: Set<usize>,
    added: Vec<(Step, Spelling)>,
    /// The positions of the operations removed outright.
    dropped: Set<Position>,
}

/// A key (value name `None`) or a value (its folded name), as a proof compares them.
pub type Identity = (KeyId, Option<String>);

/// A step and how its key and value are spelled.
type Spelled = (Step, Spelling);

/// Where a step comes from: file, position in it, value name.
type Position = (usize, u64, Option<String>);

fn position(step: &Step) -> Position {
    (step.file, step.seq, step.name.clone())
}

/// What a fix changes, read from its changes and effects for the operations of `file`.
pub struct FixDelta<'f> {
    pub file: usize,
    pub changes: &'f [super::Change],
    pub effects: &'f [Effect],
}

/// The operations a change to `origin`'s key path applies to: its path statement.
fn statement_ops<'m, 'a>(
    model: &'m FileModel<'a>,
    op: &'m Operation<'a>,
) -> Vec<&'m Operation<'a>> {
    let Some(id) = op.statement else {
        return vec![op];
    };
    let ops = &model.ops;
    let start = ops.partition_point(|o| o.origin.container < op.origin.container);
    ops[start..]
        .iter()
        .take_while(|o| o.origin.container == op.origin.container)
        .filter(|o| o.statement == Some(id))
        .collect()
}

/// The key and value a step names, as the identities a proof compares.
fn identities_of(step: &Step) -> Vec<(KeyId, Option<String>)> {
    let mut out = vec![(step.key.clone(), None)];
    if let Some(name) = &step.name {
        out.push((step.key.clone(), Some(name.clone())));
    }
    out
}

/// The keys and values `steps` name, each once, in order; and the keys above a key they create:
/// a creation implies its ancestors, so taking one away (or adding one) may change whether an
/// enclosing key exists (a service's `Enum` key may be all that creates the service's key).
fn distinct_identities<'s>(steps: impl Iterator<Item = &'s Step>) -> Vec<(KeyId, Option<String>)> {
    let mut seen: Set<(KeyId, Option<String>)> = Set::default();
    let mut out = Vec::new();
    for step in steps {
        for id in identities_of(step) {
            if seen.insert(id.clone()) {
                out.push(id);
            }
        }
        if creates(step) {
            let mut above = step.key.parent();
            while let Some(key) = above {
                above = key.parent();
                if seen.insert((key.clone(), None)) {
                    out.push((key, None));
                }
            }
        }
    }
    out
}

/// Proves fixes of one package.
pub struct Prover<'p, 'a> {
    models: Vec<&'p FileModel<'a>>,
    vars: &'p (dyn Expansion + Sync),
    index: std::sync::OnceLock<Index>,
    /// Each file's operations by origin, built on first use.
    origins: Vec<std::sync::OnceLock<Map<Origin, usize>>>,
    /// The fixes proven safe so far.
    accepted: Accepted,
}

impl<'p, 'a> Prover<'p, 'a> {
    pub fn new(models: Vec<&'p FileModel<'a>>, vars: &'p (dyn Expansion + Sync)) -> Self {
        let origins = models.iter().map(|_| std::sync::OnceLock::new()).collect();
        Prover {
            models,
            vars,
            index: std::sync::OnceLock::new(),
            origins,
            accepted: Accepted::default(),
        }
    }

    /// The operation of file `file` with origin `origin`.
    fn op(&self, file: usize, origin: Origin) -> Option<&'p Operation<'a>> {
        let model: &'p FileModel<'a> = self.models.get(file)?;
        let map = self.origins.get(file)?.get_or_init(|| {
            model
                .ops
                .iter()
                .enumerate()
                .map(|(i, op)| (op.origin, i))
                .collect()
        });
        model.ops.get(*map.get(&origin)?)
    }

    /// As [`Prover::new`], with the package's index already built (on another thread, while
    /// the rules ran): `index` must be [`Index::new`] of the same `models` and `vars`.
    pub fn with_index(
        models: Vec<&'p FileModel<'a>>,
        vars: &'p (dyn Expansion + Sync),
        index: Index,
    ) -> Self {
        let prover = Prover::new(models, vars);
        let _ = prover.index.set(index);
        prover
    }

    /// The index, if a proof built it (or it was given), and what the prover holds besides
    /// the models: for the caller to keep or to free off the critical path.
    pub fn into_parts(self) -> (Option<Index>, Box<dyn Send>) {
        (
            self.index.into_inner(),
            Box::new((self.origins, self.accepted)),
        )
    }

    fn index(&self) -> &Index {
        self.index
            .get_or_init(|| Index::new(&self.models, self.vars))
    }

    /// The steps of `op` of file `file`, computed from the model (no index needed).
    fn op_steps(&self, file: usize, op: &Operation<'_>) -> Steps {
        let mut steps = Steps::default();
        if let Some(model) = self.models.get(file) {
            steps.push_op(file, model, op, self.vars);
        }
        steps
    }

    /// The steps a change set adds and the identities it touches, without the index: the
    /// operations it removes or rewrites as they are, and as they become.
    fn delta_steps(&self, fix: &FixDelta<'_>) -> (Vec<Spelled>, Vec<Spelled>) {
        let Some(model) = self.models.get(fix.file) else {
            return (Vec::new(), Vec::new());
        };
        let (mut gone, mut new) = (Vec::new(), Vec::new());
        let take = |steps: Steps, into: &mut Vec<(Step, Spelling)>| {
            into.extend(steps.steps.into_iter().zip(steps.spellings));
        };
        // A statement's path rewritten moves its operations but those the fix removes.
        let removed: Set<Origin> = fix
            .changes
            .iter()
            .filter_map(|c| match c {
                super::Change::RemoveWrite(origin) => Some(*origin),
                _ => None,
            })
            .collect();
        for change in fix.changes {
            match change {
                super::Change::RemoveWrite(origin) => {
                    if let Some(op) = self.op(fix.file, *origin).filter(|o| o.is_write()) {
                        take(self.op_steps(fix.file, op), &mut gone);
                    }
                }
                super::Change::ToCurrentControlSet { op: origin, .. } => {
                    let Some(op) = self.op(fix.file, *origin) else {
                        continue;
                    };
                    for op in statement_ops(model, op) {
                        if removed.contains(&op.origin) {
                            continue;
                        }
                        take(self.op_steps(fix.file, op), &mut gone);
                        if let Some(moved) = to_current_control_set(op) {
                            take(self.op_steps(fix.file, &moved), &mut new);
                        }
                    }
                }
                super::Change::SetHexBytes { op: origin, bytes } => {
                    let Some(op) = self.op(fix.file, *origin) else {
                        continue;
                    };
                    take(self.op_steps(fix.file, op), &mut gone);
                    let value = data_value(model, &reencoded(op, bytes), 0, self.vars);
                    let mut steps = self.op_steps(fix.file, op);
                    for step in &mut steps.steps {
                        if let Action::SetValue(v) = &mut step.action {
                            *v = value.clone();
                        }
                    }
                    take(steps, &mut new);
                }
                super::Change::Replace(_)
                | super::Change::SetServiceField { .. }
                | super::Change::InsertItem { .. } => {}
            }
        }
        for effect in fix.effects {
            match effect {
                Effect::Touches(origin) => {
                    if let Some(op) = self.op(fix.file, *origin) {
                        take(self.op_steps(fix.file, op), &mut gone);
                    }
                }
                Effect::TouchesInstall(handle) => {
                    if let Some(install) = model.services.iter().find(|s| s.handle == *handle) {
                        let mut steps = Steps::default();
                        steps.push_install(fix.file, model, install, self.vars);
                        take(steps, &mut gone);
                    }
                }
                Effect::ServiceValue {
                    service,
                    value,
                    data,
                } => {
                    let Some(install) = model.services.iter().find(|s| s.handle == *service) else {
                        continue;
                    };
                    if install.unresolved || install.name.is_empty() {
                        continue;
                    }
                    let data = data.as_ref().map(ServiceData::as_data);
                    // The whole install before and after: a value it derives from the one
                    // set (a Win32 service's default `ObjectName` from its `Type`) changes too.
                    let changed = install.with_value(*value, data);
                    let (mut before, mut after) = (Steps::default(), Steps::default());
                    before.push_install(fix.file, model, install, self.vars);
                    after.push_install(fix.file, model, &changed, self.vars);
                    let before: Vec<Spelled> =
                        before.steps.into_iter().zip(before.spellings).collect();
                    let after: Vec<Spelled> =
                        after.steps.into_iter().zip(after.spellings).collect();
                    let kept =
                        |step: &Step, other: &[Spelled]| other.iter().any(|(s, _)| s == step);
                    gone.extend(before.iter().filter(|(s, _)| !kept(s, &after)).cloned());
                    new.extend(after.iter().filter(|(s, _)| !kept(s, &before)).cloned());
                }
                Effect::Install { before, service } => {
                    let seq = self
                        .op(fix.file, *before)
                        .map_or(u64::MAX, |o| o.seq.saturating_sub(1));
                    for (step, spelling) in install_steps(fix.file, model, seq, service, self.vars)
                    {
                        new.push((step, spelling));
                    }
                }
            }
        }
        (gone, new)
    }

    /// The positions of the operations `fix` removes outright.
    fn dropped_positions(&self, fix: &FixDelta<'_>) -> Set<Position> {
        let mut out = Set::default();
        for change in fix.changes {
            if let super::Change::RemoveWrite(origin) = change
                && let Some(op) = self.op(fix.file, *origin).filter(|o| o.is_write())
            {
                out.extend(self.op_steps(fix.file, op).steps.iter().map(position));
            }
        }
        out
    }

    /// The keys and values a fix may change (without proving anything).
    pub fn touched(&self, fix: &FixDelta<'_>) -> Vec<(KeyId, Option<String>)> {
        let (gone, new) = self.delta_steps(fix);
        distinct_identities(gone.iter().chain(&new).map(|(s, _)| s))
    }

    /// Proves the fix `fix` whose rule targets `target`, together with the fixes proven safe
    /// before it (fixes that are each safe alone may not be together: two captured `Enum` keys
    /// may each be what creates their service's key). A safe fix joins them.
    pub fn prove(&mut self, fix: &FixDelta<'_>, target: Target) -> Proof {
        let (gone, new) = self.delta_steps(fix);
        let touched = distinct_identities(gone.iter().chain(&new).map(|(s, _)| s));
        let in_target = |key: &KeyId, value: Option<&str>| {
            targets_of(key, value)
                .iter()
                .any(|t| *t == target && *t != Target::UngroupedTag)
        };
        // Nothing outside the target is touched: nothing outside it can change, with or
        // without the fixes accepted before (a step bears only on what it names).
        if touched
            .iter()
            .all(|(key, value)| in_target(key, value.as_deref()))
        {
            return Proof {
                outside: Vec::new(),
                touched,
            };
        }
        self.index();
        let Some(index) = self.index.get() else {
            return Proof {
                outside: Vec::new(),
                touched,
            };
        };
        let accepted = &self.accepted;
        // Removing an operation wins over rewriting it (the planner drops a rewrite inside a
        // removed line): the positions the candidate removes outright, and those removed before.
        let dropped: Set<Position> = self.dropped_positions(fix);
        let mut delta = Delta::default();
        for (step, _) in &gone {
            // The index's own copies of the steps taken away.
            for &i in index
                .by_position
                .get(&(step.file, step.seq))
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if index.step(i) == step {
                    delta.removed.insert(i);
                }
            }
        }
        delta.added = new
            .into_iter()
            .filter(|(s, _)| !accepted.dropped.contains(&position(s)))
            .collect();
        delta.dropped = dropped;
        // The outcomes of `id` with the fixes accepted before, and with the candidate too: a
        // fix is judged by what it changes itself (a rewrite of a line that an accepted fix
        // removes changes nothing).
        let outcomes = |id: &(KeyId, Option<String>)| -> (Possible<Value>, Possible<Value>) {
            let memo = index.memo(id);
            let (key, value) = (&id.0, id.1.as_deref());
            let candidate: Vec<&Step> = delta
                .added
                .iter()
                .map(|(s, _)| s)
                .filter(|s| effect(s, key, value).is_some())
                .collect();
            if !accepted.touched.contains(id) {
                // As the package stands: a step taken away before the decisive ones changes
                // nothing.
                if candidate.is_empty() && !memo.tail.iter().any(|i| delta.removed.contains(i)) {
                    return (memo.before.clone(), memo.before.clone());
                }
                let mut steps = deciding(index, &memo, |i| delta.removed.contains(i));
                steps.extend(candidate);
                let after = crate::model::state::outcomes(&steps, |s| effect(s, key, value));
                return (memo.before.clone(), after);
            }
            if let Some(creations) = &memo.creations
                && !accepted.adds_deletions
                && !candidate.iter().any(|s| s.action == Action::DeleteKey)
            {
                let mut counts = creations.clone();
                for (file, d) in accepted.creations.get(key).into_iter().flatten() {
                    let entry = counts.entry(*file).or_default();
                    entry.0 += d.0;
                    entry.1 += d.1;
                }
                let before = existence(counts.values());
                let within = |s: &Step| s.key.is_within(key);
                for &i in &delta.removed {
                    if !accepted.removed.contains(&i) && within(index.step(i)) {
                        count(&mut counts, index.step(i), -1);
                    }
                }
                for s in &candidate {
                    count(&mut counts, s, 1);
                }
                for i in accepted.undone_by(&delta.dropped) {
                    if within(&accepted.added[i]) {
                        count(&mut counts, &accepted.added[i], -1);
                    }
                }
                return (before, existence(counts.values()));
            }
            let state = |removed: &dyn Fn(&usize) -> bool, added: Vec<&Step>| {
                let mut steps = deciding(index, &memo, removed);
                steps.extend(added);
                crate::model::state::outcomes(&steps, |s| effect(s, key, value))
            };
            let dropped = |s: &Step| delta.dropped.contains(&position(s));
            let (before, mut added) = match value {
                // A value no added step deletes the key of: only the added steps that decide it.
                Some(name) if !accepted.adds_deletions => {
                    let before = state(
                        &|i| accepted.removed.contains(i),
                        accepted.deciding_value(key, name, &|_| false),
                    );
                    (before, accepted.deciding_value(key, name, &dropped))
                }
                _ => {
                    let earlier: Vec<&Step> = accepted.bearing_on(key, value);
                    let before = state(&|i| accepted.removed.contains(i), earlier.clone());
                    let after = earlier.into_iter().filter(|s| !dropped(s)).collect();
                    (before, after)
                }
            };
            added.extend(candidate);
            let after = state(
                &|i| delta.removed.contains(i) || accepted.removed.contains(i),
                added,
            );
            (before, after)
        };
        let mut outside = Vec::new();
        for id in &touched {
            let (key, value) = (&id.0, &id.1);
            // A change in the target is allowed whatever it is: its outcomes are not computed
            // (a captured service's `Security` and `Enum` keys and values are most of what its
            // fixes touch).
            if in_target(key, value.as_deref()) {
                continue;
            }
            if value.is_none() {
                // A key's existence counts where a step names the key itself.
                let counted =
                    |s: &Step| &s.key == key && targets_of(key, s.name.as_deref()).is_empty();
                let explicit = index.counted.contains(key)
                    || delta.added.iter().any(|(s, _)| counted(s))
                    || accepted.by_key.contains_key(key);
                if !explicit {
                    continue;
                }
            }
            let (before, after) = outcomes(id);
            if before == after {
                continue;
            }
            let allowed = targets_of(key, value.as_deref())
                .into_iter()
                .any(|t| match t {
                    Target::UngroupedTag => {
                        t == target
                            && !outcomes(&(key.clone(), Some("GROUP".to_string())))
                                .1
                                .iter()
                                .any(|o| matches!(o, Outcome::Set(_)))
                    }
                    t => t == target,
                });
            if allowed {
                continue;
            }
            outside.push(Difference {
                key: key.clone(),
                value: value.clone(),
                before,
                after,
                spelling: spelling_of(index, &delta, key, value.as_deref()),
            });
        }
        if outside.is_empty() {
            self.accepted.touched.extend(touched.iter().cloned());
            self.accepted.join(delta, index);
        }
        Proof { outside, touched }
    }
}

/// The fixes of a pass proven safe so far: the steps they take away and add.
#[derive(Default)]
struct Accepted {
    /// The keys and values they may change: nothing else is as it was.
    touched: Set<(KeyId, Option<String>)>,
    removed: Set<usize>,
    /// The positions of the operations removed outright: a step added there (a rewrite of
    /// the same operation) does not happen.
    dropped: Set<Position>,
    added: Vec<Step>,
    /// Added steps by position, and those a later removal undid.
    by_position: Map<Position, Vec<usize>>,
    dead: Set<usize>,
    /// Per key, per file: how the creations of the key (or below it) changed.
    creations: Map<KeyId, Map<usize, Counts>>,
    /// Whether an added step deletes a key (creation counts then do not decide existence).
    adds_deletions: bool,
    /// Added steps by the key they name.
    by_key: Map<KeyId, Vec<usize>>,
    /// Added key-creating steps by each key above theirs.
    below: Map<KeyId, Vec<usize>>,
    /// Added steps that set or delete a value, by key and value name, in the order they fold
    /// in (file, position, then as added).
    by_value: Map<(KeyId, String), Vec<usize>>,
}

impl Accepted {
    /// The added steps (not undone yet) that a removal of `dropped` positions undoes.
    fn undone_by<'s>(&'s self, dropped: &'s Set<Position>) -> impl Iterator<Item = usize> + 's {
        dropped
            .iter()
            .flat_map(|p| self.by_position.get(p).into_iter().flatten().copied())
            .filter(|i| !self.dead.contains(i))
    }

    /// Adds `sign` to the creation counts of `step`'s key and every key above it.
    fn count_creation(&mut self, step: &Step, sign: i64) {
        if !creates(step) {
            return;
        }
        let mut at = Some(step.key.clone());
        while let Some(key) = at {
            at = key.parent();
            count(self.creations.entry(key).or_default(), step, sign);
        }
    }

    fn join(&mut self, delta: Delta, index: &Index) {
        for i in delta.removed {
            if self.removed.insert(i) {
                self.count_creation(index.step(i), -1);
            }
        }
        let undone: Vec<usize> = self.undone_by(&delta.dropped).collect();
        for i in undone {
            if self.dead.insert(i) {
                let step = self.added[i].clone();
                self.count_creation(&step, -1);
            }
        }
        self.dropped.extend(delta.dropped);
        for (step, _) in delta.added {
            self.count_creation(&step, 1);
            self.adds_deletions |= step.action == Action::DeleteKey;
            let i = self.added.len();
            self.by_position.entry(position(&step)).or_default().push(i);
            self.by_key.entry(step.key.clone()).or_default().push(i);
            if let Some(name) = &step.name {
                let order = |j: usize| (self.added[j].file, self.added[j].seq);
                let steps = self
                    .by_value
                    .entry((step.key.clone(), name.clone()))
                    .or_default();
                // After every step added before at the same or an earlier position.
                let at = steps.partition_point(|&j| order(j) <= (step.file, step.seq));
                steps.insert(at, i);
            }
            if creates(&step) {
                let mut above = step.key.parent();
                while let Some(key) = above {
                    above = key.parent();
                    self.below.entry(key).or_default().push(i);
                }
            }
            self.added.push(step);
        }
    }

    /// The added steps (not undone, nor `gone`) that decide value `name` of `key`, when no
    /// added step deletes a key: in each file, the last unconditional one and the conditional
    /// ones after it, in the order they fold in (an unconditional step replaces whatever came
    /// before it, in the package's steps as in the added ones). Found from the end, so a value
    /// that thousands of accepted fixes rewrite costs a few steps per proof, not all of them.
    fn deciding_value(&self, key: &KeyId, name: &str, gone: &dyn Fn(&Step) -> bool) -> Vec<&Step> {
        let Some(steps) = self.by_value.get(&(key.clone(), name.to_string())) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut end = steps.len();
        while end > 0 {
            let file = self.added[steps[end - 1]].file;
            let start = steps[..end].partition_point(|&j| self.added[j].file < file);
            let last_first = steps[start..end]
                .iter()
                .rev()
                .filter(|j| !self.dead.contains(j));
            push_deciding(
                &mut out,
                last_first
                    .map(|&j| &self.added[j])
                    .filter(|step| !gone(step)),
            );
            end = start;
        }
        out
    }

    /// The added steps that bear on key `key` (`value`: `None`) or its value `value`.
    fn bearing_on(&self, key: &KeyId, value: Option<&str>) -> Vec<&Step> {
        if self.added.is_empty() {
            return Vec::new();
        }
        let mut indices: Vec<usize> = Vec::new();
        // The key's own steps, and deletions of it or a key above it.
        let mut at = Some(key.clone());
        while let Some(k) = at {
            at = k.parent();
            indices.extend(self.by_key.get(&k).map(Vec::as_slice).unwrap_or_default());
        }
        if value.is_none() {
            indices.extend(self.below.get(key).map(Vec::as_slice).unwrap_or_default());
        }
        indices.sort_unstable();
        indices.dedup();
        indices
            .into_iter()
            .filter(|i| !self.dead.contains(i))
            .map(|i| &self.added[i])
            .filter(|s| effect(s, key, value).is_some())
            .collect()
    }
}

/// An operation moved to `CurrentControlSet` (`None` when its key names no numbered set).
fn to_current_control_set<'a>(op: &Operation<'a>) -> Option<Operation<'a>> {
    let location = crate::model::SystemLocation::of(op.hive, &op.key)?;
    if !matches!(location.control_set, crate::model::ControlSet::Numbered(_)) {
        return None;
    }
    let span = location.control_set_span;
    let mut key = op.key[..span.start].to_vec();
    key.extend_from_slice(b"CurrentControlSet");
    key.extend_from_slice(&op.key[span.end..]);
    let mut moved = op.clone();
    moved.key = std::borrow::Cow::Owned(key);
    Some(moved)
}

/// A hex string's new bytes as the data they become (8-bit text of the file).
fn reencoded<'b>(op: &Operation<'_>, bytes: &'b [u8]) -> Data<'b> {
    let text = std::borrow::Cow::Borrowed(bytes);
    match op.data {
        Data::ExpandSz(_) => Data::ExpandSz(text),
        Data::MultiSz(_) => Data::MultiSz(
            bytes
                .split(|&b| b == 0)
                .map(std::borrow::Cow::Borrowed)
                .collect(),
        ),
        _ => Data::Sz(text),
    }
}

/// The writes of a new service install placed at `seq` of `file`.
fn install_steps(
    file: usize,
    model: &FileModel<'_>,
    seq: u64,
    service: &NewService,
    vars: &dyn Expansion,
) -> Vec<(Step, Spelling)> {
    let path = service_key(&service.name);
    let Some((key, shown)) = KeyId::of(model.charset, Hive::LocalMachine, &path) else {
        return Vec::new();
    };
    let text = |pieces: &[TextPiece]| {
        let mut out = String::new();
        for piece in pieces {
            match piece {
                TextPiece::Literal(t) => out.push_str(&model.charset.decode(t)),
                TextPiece::Variable(name) => {
                    out.push(crate::model::state::REFERENCE_OPEN);
                    out.push_str(&model.charset.decode(name));
                    out.push(crate::model::state::REFERENCE_CLOSE);
                }
                TextPiece::Template(t) => {
                    out.push_str(&crate::model::state::installed_text(model, t, vars))
                }
            }
        }
        out
    };
    let string = |kind: u32, s: String| {
        let mut bytes: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        bytes.extend_from_slice(&[0, 0]);
        Value { kind, bytes }
    };
    let dword = |n: u32| Value {
        kind: 4,
        bytes: n.to_le_bytes().to_vec(),
    };
    let mut values: Vec<(&str, Value)> = vec![
        ("Type", dword(service.service_type)),
        ("Start", dword(service.start)),
        ("ErrorControl", dword(service.error_control.unwrap_or(0))),
        ("ImagePath", string(2, text(&service.image_path))),
    ];
    if let Some(d) = &service.display_name {
        values.push(("DisplayName", string(1, text(d))));
    }
    match &service.account {
        Some(a) => values.push(("ObjectName", string(1, text(a)))),
        None if service.service_type & 0x30 != 0 => {
            values.push(("ObjectName", string(1, "LocalSystem".into())))
        }
        None => {}
    }
    let mut out = vec![(
        Step {
            file,
            seq,
            conditional: false,
            key: key.clone(),
            name: None,
            action: Action::CreateKey,
        },
        Spelling {
            key: shown.clone(),
            value: None,
        },
    )];
    for (name, value) in values {
        out.push((
            Step {
                file,
                seq,
                conditional: false,
                key: key.clone(),
                name: Some(name.to_ascii_uppercase()),
                action: Action::SetValue(value),
            },
            Spelling {
                key: shown.clone(),
                value: Some(name.to_string()),
            },
        ));
    }
    out
}

/// How a key or value is spelled where it is first written.
fn spelling_of(index: &Index, delta: &Delta, key: &KeyId, value: Option<&str>) -> Spelling {
    let own = index.by_key.get(key).map(Vec::as_slice).unwrap_or_default();
    let found = own
        .iter()
        .find(|&&i| value.is_none() || index.step(i).name.as_deref() == value)
        .map(|&i| index.steps.spellings[i].clone())
        .or_else(|| {
            delta
                .added
                .iter()
                .find(|(s, _)| &s.key == key && (value.is_none() || s.name.as_deref() == value))
                .map(|(_, sp)| sp.clone())
        });
    // A key only implied: as a key below it spells it.
    let below = || {
        let first = *index.below.get(key)?.first()?;
        let spelled = &index.steps.spellings[first].key;
        Some(Spelling {
            key: spelled.get(..key.segments.len())?.into(),
            value: None,
        })
    };
    found
        .or_else(|| value.is_none().then(below).flatten())
        .unwrap_or_else(|| Spelling {
            key: key.segments.clone(),
            value: value.map(str::to_string),
        })
}

/// The deletions of `key` and its ancestors.
fn killers(index: &Index, key: &KeyId) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = Some(key.clone());
    while let Some(k) = at {
        if let Some(d) = index.deletions.get(&k) {
            out.extend(d);
        }
        at = k.parent();
    }
    out
}

/// What the fixes applied to a package may change: the targets of its safe fixes, and every
/// key and value its unsafe fixes touch.
#[derive(Clone, Debug, Default)]
pub struct Allowance {
    pub targets: HashSet<Target>,
    pub touched: HashSet<(KeyId, Option<String>)>,
}

impl Allowance {
    /// Whether a change of `id` is one the applied fixes may make.
    pub fn allows(&self, id: &(KeyId, Option<String>)) -> bool {
        self.touched.contains(id)
            || targets_of(&id.0, id.1.as_deref())
                .iter()
                .any(|t| self.targets.contains(t))
    }
}

/// A digest of the state a package installs: each key and value (by identity) with a hash of
/// its possible outcomes (and, for a key, whether a step names it). What the check of a fixed
/// file compares, without keeping the state itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Digest {
    pub entries: BTreeMap<Identity, (u64, bool)>,
}

fn hash_of(outcomes: &impl std::hash::Hash) -> u64 {
    use std::hash::Hasher;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    outcomes.hash(&mut hasher);
    hasher.finish()
}

impl Digest {
    /// The digest of the state `models` install.
    pub fn of(models: &[&FileModel<'_>], vars: &dyn Expansion) -> Digest {
        let steps = Steps::of(models.iter().copied().enumerate(), vars);
        let counted = counted_keys(&steps.steps);
        let state = crate::model::state::State::of(&steps);
        let mut entries = BTreeMap::new();
        for (id, key) in state.keys {
            let counts = counted.contains(&id);
            entries.insert((id.clone(), None), (hash_of(&key.exists), counts));
            for (name, value) in key.values {
                entries.insert((id.clone(), Some(name)), (hash_of(&value.possible), true));
            }
        }
        Digest { entries }
    }

    /// The keys and values whose outcomes differ between `self` and `other`. A key counts
    /// where it is counted in either state ([`counted_keys`]); one that is absent was left as
    /// it was.
    pub fn differences<'d>(&'d self, other: &'d Digest) -> Vec<&'d Identity> {
        let untouched_key = hash_of(&vec![Outcome::<()>::Untouched]);
        let absent = |id: &Identity| match id.1 {
            None => (untouched_key, false),
            Some(_) => (0, true),
        };
        let mut out: Vec<&Identity> = Vec::new();
        for (id, mine) in &self.entries {
            let theirs = other.entries.get(id).copied().unwrap_or_else(|| absent(id));
            if (mine.1 || theirs.1) && mine.0 != theirs.0 {
                out.push(id);
            }
        }
        for (id, theirs) in &other.entries {
            if !self.entries.contains_key(id) && theirs.1 && theirs.0 != absent(id).0 {
                out.push(id);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(path: &str) -> KeyId {
        KeyId::of(
            crate::model::Charset::Utf8,
            Hive::LocalMachine,
            path.as_bytes(),
        )
        .unwrap()
        .0
    }

    /// A captured service export: the fixes of its `Security` and `Enum` keys touch the
    /// service's key too (they take creations below it away), so they need the index.
    const EXPORT: &str = "Windows Registry Editor Version 5.00\r\n\r\n\
        [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Foo]\r\n\
        \"Type\"=dword:00000010\r\n\"Start\"=dword:00000002\r\n\r\n\
        [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Foo\\Security]\r\n\
        \"Security\"=hex:01,00,14,80\r\n\r\n\
        [HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Foo\\Enum]\r\n\
        \"0\"=\"Root\\\\LEGACY_FOO\\\\0000\"\r\n\"Count\"=dword:00000001\r\n";

    /// A fix's change inside its target is allowed whatever it is, so a proof computes no
    /// outcome for it: the index remembers only the keys and values outside the targets (the
    /// service's key), not the captured `Security` and `Enum` state the fixes remove.
    #[test]
    fn a_proof_computes_nothing_for_what_lies_in_its_target() {
        let loaded = [crate::pipeline::load("capture.reg", EXPORT.as_bytes().to_vec()).unwrap()];
        let lowered = crate::pipeline::lower_package(&loaded, &crate::rules::Needed);
        let package = crate::rules::context::PackageContext::new(&lowered, &[]);
        let findings = crate::rules::check_file(&package, &lowered, 0);
        let expansion = package.expansion();
        let mut prover = Prover::new(vec![&lowered[0].model], &expansion);
        let mut targets = Vec::new();
        for plan in findings.iter().filter_map(|f| f.fix.as_ref()) {
            let fix = FixDelta {
                file: 0,
                changes: &plan.changes,
                effects: &plan.effects,
            };
            assert!(prover.prove(&fix, plan.target).is_safe(), "{}", plan.title);
            targets.push(plan.target);
        }
        targets.sort();
        targets.dedup();
        assert_eq!(targets, [Target::SecurityDescriptor, Target::ServiceEnum]);
        let index = prover
            .index
            .get()
            .expect("the fixes touch the service's key");
        let mut asked: Vec<String> = index
            .memo
            .lock()
            .unwrap()
            .keys()
            .map(|(key, value)| format!("{}:{value:?}", key.segments.join("\\")))
            .collect();
        asked.sort();
        assert_eq!(asked, [r"SYSTEM\CURRENTCONTROLSET\SERVICES\FOO:None"]);
    }

    /// The steps of one key share one copy of its path (and its spelling): a key block of an
    /// export or one item's key is read once, not once per value.
    #[test]
    fn the_steps_of_one_key_share_its_path() {
        let loaded = [crate::pipeline::load("capture.reg", EXPORT.as_bytes().to_vec()).unwrap()];
        let lowered = crate::pipeline::lower_package(&loaded, &crate::model::All);
        let steps = Steps::of([(0, &lowered[0].model)], &crate::model::state::KeepAll);
        let (steps, spellings) = (&steps.steps, &steps.spellings);
        assert_eq!(steps.len(), 8, "{steps:?}");
        for i in 1..steps.len() {
            let same = steps[i].key == steps[i - 1].key;
            let shared = std::sync::Arc::ptr_eq(&steps[i].key.segments, &steps[i - 1].key.segments);
            let spelled = std::sync::Arc::ptr_eq(&spellings[i].key, &spellings[i - 1].key);
            assert_eq!((shared, spelled), (same, same), "step {i}: {:?}", steps[i]);
        }
        let keys: std::collections::HashSet<&KeyId> = steps.iter().map(|s| &s.key).collect();
        assert_eq!(keys.len(), 3);
    }

    #[test]
    fn targets_are_the_captured_system_state() {
        let svc = r"SYSTEM\CurrentControlSet\Services\Foo";
        assert_eq!(
            targets_of(&key(&format!(r"{svc}\Security")), Some("SECURITY")),
            [Target::SecurityDescriptor]
        );
        assert_eq!(
            targets_of(&key(&format!(r"{svc}\Security")), Some("OTHER")),
            []
        );
        assert_eq!(
            targets_of(
                &key(r"SYSTEM\CurrentControlSet\Services\EventLog\Security"),
                None
            ),
            []
        );
        assert_eq!(
            targets_of(&key(&format!(r"{svc}\Enum")), Some("COUNT")),
            [Target::ServiceEnum]
        );
        assert_eq!(
            targets_of(&key(svc), Some("DELETEFLAG")),
            [Target::DeleteFlag]
        );
        assert_eq!(targets_of(&key(svc), Some("START")), []);
        assert_eq!(
            targets_of(
                &key(r"SYSTEM\ControlSet002\Enum\Root\LEGACY_FOO\0000"),
                None
            ),
            [Target::OtherControlSet, Target::LegacyNode]
        );
        // ControlSet001 is the current set of the reference configuration.
        assert_eq!(
            targets_of(&key(r"SYSTEM\ControlSet001\Services\Foo"), None),
            []
        );
        assert_eq!(
            targets_of(
                &key(
                    r"SYSTEM\CurrentControlSet\Control\DeviceClasses\{4D36E96F-E325-11CE-BFC1-08002BE10318}\##?#Root#LEGACY_FOO#0000#{4D36E96F-E325-11CE-BFC1-08002BE10318}"
                ),
                None
            ),
            [Target::DeviceNode]
        );
        assert_eq!(
            targets_of(
                &key(
                    r"SYSTEM\CurrentControlSet\Control\Class\{4D36E96F-E325-11CE-BFC1-08002BE10318}"
                ),
                None
            ),
            []
        );
    }
}
