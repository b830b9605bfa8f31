//! The catalog of named objects: tables, views, materialized views and
//! indexes, with the dependencies between them. The coordinator owns one
//! `Catalog`; the planner reads it to bind names.

use crate::error::{sqlstate, SqlError, SqlResult};
use crate::types::{GlobalId, Schema};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What kind of object a catalog item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemKind {
    Table,
    View,
    MaterializedView,
    Index,
    /// A collection fed by a connector (a load generator, a file), not by
    /// INSERT; read like a table.
    Source,
}

impl ItemKind {
    /// The noun PostgreSQL uses in messages ("table", "materialized view").
    pub fn noun(&self) -> &'static str {
        match self {
            ItemKind::Table => "table",
            ItemKind::View => "view",
            ItemKind::MaterializedView => "materialized view",
            ItemKind::Index => "index",
            ItemKind::Source => "source",
        }
    }

    /// A collection whose rows are stored and written (tables, sources),
    /// rather than computed from others.
    pub fn is_stored(&self) -> bool {
        matches!(self, ItemKind::Table | ItemKind::Source)
    }
}

/// Where a source's rows come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SourceSpec {
    /// One row per tick: 1, 2, 3, …
    Counter { tick_ms: u64 },
    /// Nexmark-style persons, auctions and bids (three subsources) each tick.
    Auction { tick_ms: u64 },
    /// JSON posted to `/api/webhook/ripple/public/<name>` on the HTTP port.
    Webhook,
    /// The lines appended to a file (CSV or JSON objects), read every tick.
    File {
        path: String,
        json: bool,
        header: bool,
        tick_ms: u64,
    },
}

impl SourceSpec {
    /// The connector's name, as `ripple_catalog.source_status` shows it.
    pub fn connector(&self) -> &'static str {
        match self {
            SourceSpec::Counter { .. } => "counter",
            SourceSpec::Auction { .. } => "auction",
            SourceSpec::File { json: true, .. } => "file (json)",
            SourceSpec::File { .. } => "file (csv)",
            SourceSpec::Webhook => "webhook",
        }
    }

    pub fn tick_ms(&self) -> u64 {
        match self {
            SourceSpec::Counter { tick_ms }
            | SourceSpec::Auction { tick_ms }
            | SourceSpec::File { tick_ms, .. } => *tick_ms,
            SourceSpec::Webhook => 0,
        }
    }
}

/// What each kind of item needs beyond a name and schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ItemDetail {
    /// A table: per column, the SQL text of its DEFAULT expression.
    Table { defaults: Vec<Option<String>> },
    /// A view or materialized view: the SQL text of its defining query,
    /// re-planned when it is used (views) or rendered (materialized views).
    Query { sql: String },
    /// An index: an arrangement of relation `on` keyed by columns `keys`.
    Index { on: GlobalId, keys: Vec<usize> },
    /// A source: its connector, and how far it has read (ticks generated,
    /// bytes of a file), stored with each write so a restart resumes there.
    Source { spec: SourceSpec, offset: u64 },
    /// One output of a multi-output source (the auction generator's
    /// `bids`): its source and which of its outputs it is.
    Subsource { of: GlobalId, part: String },
}

/// One named object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogItem {
    pub id: GlobalId,
    pub name: String,
    pub kind: ItemKind,
    /// Output columns (for an index, those of the indexed relation).
    pub schema: Schema,
    /// Objects this item reads; they cannot be dropped without CASCADE.
    pub uses: Vec<GlobalId>,
    pub detail: ItemDetail,
}

/// A role made with `CREATE ROLE` / `CREATE USER`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    /// From the catalog's id counter, so unique among object OIDs too.
    pub id: GlobalId,
    pub superuser: bool,
    pub login: bool,
    pub create_role: bool,
    pub create_db: bool,
    /// PostgreSQL's SCRAM verifier
    /// (`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`), never
    /// the password itself.
    pub password: Option<String>,
}

/// Every named object, by id and by name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Catalog {
    items: BTreeMap<GlobalId, CatalogItem>,
    by_name: BTreeMap<String, GlobalId>,
    next_id: u64,
    #[serde(default)]
    roles: BTreeMap<String, Role>,
    /// How the last start-up brought each object back (not stored: it
    /// describes this process).
    #[serde(skip)]
    recovery: Vec<RecoveryFigure>,
    /// How each running source is doing (not stored: it describes this
    /// process), for `ripple_catalog.source_status`.
    #[serde(skip)]
    source_status: BTreeMap<GlobalId, SourceStatus>,
}

/// What a source's connector did lately, for
/// `ripple_catalog.source_status`. Counts are since the process started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceStatus {
    /// `starting` until its first read, then `running`, or `stalled` while
    /// its reads fail (`error` says why).
    pub status: &'static str,
    /// Rows written.
    pub rows: u64,
    /// Records skipped because they did not fit the columns.
    pub skipped: u64,
    /// The last failed read or skipped record, and when (µs since the Unix
    /// epoch).
    pub error: Option<(String, i64)>,
    /// When rows or an offset were last written (µs since the Unix epoch).
    pub written_at: Option<i64>,
}

/// How one object came back at start-up, for `ripple_catalog.recovery`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryFigure {
    pub id: GlobalId,
    pub name: String,
    pub kind: ItemKind,
    /// Where its contents came from: `checkpoint`, `log`,
    /// `checkpoint+log`, `snapshot` (a view's checkpointed contents,
    /// served until its tables change) or `recomputed`.
    pub source: &'static str,
    /// Rows loaded from the checkpoint and the log.
    pub rows: u64,
    /// Milliseconds from process start until it answered reads with
    /// complete contents (`None`: not yet).
    pub ready_ms: Option<f64>,
    /// … until its own arrangement was complete (for a view served from a
    /// snapshot, later than `ready_ms`: its dataflow rebuilt).
    pub rebuilt_ms: Option<f64>,
}

impl Catalog {
    pub fn new() -> Self {
        Catalog {
            next_id: 1,
            ..Default::default()
        }
    }

    /// A fresh id, never handed out before.
    pub fn allocate_id(&mut self) -> GlobalId {
        let id = GlobalId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Adds `item`; its name must be free (42P07).
    pub fn insert(&mut self, item: CatalogItem) -> SqlResult<()> {
        if self.by_name.contains_key(&item.name) {
            return Err(SqlError::new(
                sqlstate::DUPLICATE_TABLE,
                format!("relation \"{}\" already exists", item.name),
            ));
        }
        self.next_id = self.next_id.max(item.id.0 + 1);
        self.by_name.insert(item.name.clone(), item.id);
        self.items.insert(item.id, item);
        Ok(())
    }

    pub fn get(&self, id: GlobalId) -> Option<&CatalogItem> {
        self.items.get(&id)
    }

    /// Records how far source `id` has read.
    pub fn set_source_offset(&mut self, id: GlobalId, to: u64) {
        if let Some(CatalogItem {
            detail: ItemDetail::Source { offset, .. },
            ..
        }) = self.items.get_mut(&id)
        {
            *offset = to;
        }
    }

    /// Source `id`'s status, created as `starting`.
    pub fn source_status_mut(&mut self, id: GlobalId) -> &mut SourceStatus {
        self.source_status
            .entry(id)
            .or_insert_with(|| SourceStatus {
                status: "starting",
                ..Default::default()
            })
    }

    /// The status of every source still in the catalog.
    pub fn source_statuses(&self) -> impl Iterator<Item = (&CatalogItem, &SourceStatus)> {
        self.source_status
            .iter()
            .filter_map(|(id, s)| Some((self.items.get(id)?, s)))
    }

    /// Forgets a dropped source's status.
    pub fn remove_source_status(&mut self, id: GlobalId) {
        self.source_status.remove(&id);
    }

    pub fn get_by_name(&self, name: &str) -> Option<&CatalogItem> {
        self.by_name.get(name).and_then(|id| self.items.get(id))
    }

    /// The item called `name`, or `relation "name" does not exist` (42P01).
    pub fn resolve(&self, name: &str) -> SqlResult<&CatalogItem> {
        self.get_by_name(name)
            .ok_or_else(|| SqlError::undefined_table(name))
    }

    /// All items, in creation order.
    pub fn items(&self) -> impl Iterator<Item = &CatalogItem> {
        self.items.values()
    }

    /// Indexes built on `on`.
    pub fn indexes_on(&self, on: GlobalId) -> impl Iterator<Item = &CatalogItem> {
        self.items
            .values()
            .filter(move |i| matches!(&i.detail, ItemDetail::Index { on: o, .. } if *o == on))
    }

    /// Items that use `id` directly.
    pub fn direct_dependents(&self, id: GlobalId) -> Vec<GlobalId> {
        self.items
            .values()
            .filter(|i| i.uses.contains(&id))
            .map(|i| i.id)
            .collect()
    }

    /// `id` and everything that depends on it, transitively, dependents
    /// first (the order to drop them in).
    pub fn drop_order(&self, id: GlobalId) -> Vec<GlobalId> {
        let mut out = Vec::new();
        self.visit_dependents(id, &mut out);
        out
    }

    fn visit_dependents(&self, id: GlobalId, out: &mut Vec<GlobalId>) {
        if out.contains(&id) {
            return;
        }
        for dep in self.direct_dependents(id) {
            self.visit_dependents(dep, out);
        }
        if !out.contains(&id) {
            out.push(id);
        }
    }

    /// Adds or replaces the role called `role.name`.
    pub fn set_role(&mut self, role: Role) {
        self.next_id = self.next_id.max(role.id.0 + 1);
        self.roles.insert(role.name.clone(), role);
    }

    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(name)
    }

    pub fn remove_role(&mut self, name: &str) -> Option<Role> {
        self.roles.remove(name)
    }

    /// All roles, by name.
    pub fn roles(&self) -> impl Iterator<Item = &Role> {
        self.roles.values()
    }

    /// The start-up figures of every object.
    pub fn recovery(&self) -> &[RecoveryFigure] {
        &self.recovery
    }

    /// Records (or replaces) an object's start-up figure.
    pub fn set_recovery(&mut self, figure: RecoveryFigure) {
        match self.recovery.iter_mut().find(|f| f.id == figure.id) {
            Some(f) => *f = figure,
            None => self.recovery.push(figure),
        }
    }

    /// Marks an object ready for reads `ms` after process start, and
    /// `rebuilt` when its own arrangement is complete.
    pub fn recovery_ready(&mut self, id: GlobalId, ms: f64, rebuilt: bool) {
        if let Some(f) = self.recovery.iter_mut().find(|f| f.id == id) {
            f.ready_ms.get_or_insert(ms);
            if rebuilt {
                f.rebuilt_ms.get_or_insert(ms);
            }
        }
    }

    /// The tables `id` reads, directly or through views.
    pub fn base_tables(&self, id: GlobalId) -> Vec<GlobalId> {
        let mut out = vec![];
        let mut todo = vec![id];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(i) = todo.pop() {
            if !seen.insert(i) {
                continue;
            }
            match self.items.get(&i) {
                Some(item) if item.kind.is_stored() => out.push(i),
                Some(item) => todo.extend(item.uses.iter().copied()),
                None => {}
            }
        }
        out.sort();
        out
    }

    /// The materialized views and tables whose arrangements `id`'s dataflow
    /// imports: its direct inputs, seen through plain views (which are
    /// inlined into the plans that read them).
    pub fn materialized_inputs(&self, id: GlobalId) -> Vec<GlobalId> {
        let mut out = vec![];
        let mut todo: Vec<GlobalId> = self
            .items
            .get(&id)
            .map(|i| i.uses.clone())
            .unwrap_or_default();
        while let Some(i) = todo.pop() {
            match self.items.get(&i) {
                Some(item) if item.kind == ItemKind::View => todo.extend(item.uses.iter().copied()),
                Some(_) => out.push(i),
                None => {}
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Removes `id`; the caller has checked dependencies.
    pub fn remove(&mut self, id: GlobalId) -> Option<CatalogItem> {
        let item = self.items.remove(&id)?;
        self.by_name.remove(&item.name);
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(cat: &mut Catalog, name: &str, uses: Vec<GlobalId>) -> GlobalId {
        let id = cat.allocate_id();
        cat.insert(CatalogItem {
            id,
            name: name.into(),
            kind: ItemKind::View,
            schema: Schema::default(),
            uses,
            detail: ItemDetail::Query { sql: String::new() },
        })
        .unwrap();
        id
    }

    #[test]
    fn drop_order_puts_dependents_first() {
        let mut cat = Catalog::new();
        let t = item(&mut cat, "t", vec![]);
        let v = item(&mut cat, "v", vec![t]);
        let w = item(&mut cat, "w", vec![v, t]);
        assert_eq!(cat.drop_order(t), vec![w, v, t]);
        assert_eq!(
            cat.insert(cat.get(t).unwrap().clone()).unwrap_err().code,
            "42P07"
        );
    }
}
