//! The relational plan (`Plan`) that dataflow renders, and the statement
//! plans (`StatementPlan`) the coordinator sequences. `Plan` is shaped like
//! differential's own operators; outer joins, set operations and global
//! aggregates are lowered into this small closed set by the binder.

use crate::expr::Expr;
use catalog::{Column, Datum, GlobalId, Row, ScalarType, Schema};
use serde::{Deserialize, Serialize};

/// Aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AggregateFunc {
    /// count(*): rows in the group.
    CountStar,
    /// count(x): non-NULL values.
    Count,
    /// sum(x) in the result type (bigint for small ints, numeric for bigint/numeric, float for floats).
    Sum(ScalarType),
    Min,
    Max,
    /// avg(x): numeric for integer and numeric inputs, double for floats.
    Avg(ScalarType),
    BoolAnd,
    BoolOr,
    /// string_agg(x, delimiter [ORDER BY …]): the aggregate's `extra`
    /// columns are the delimiter, then the sort keys.
    StringAgg,
    /// jsonb_agg(x [ORDER BY …]): NULLs become JSON null; the `extra`
    /// columns are the sort keys.
    JsonbAgg,
    /// array_agg(x [ORDER BY …]): NULLs kept.
    ArrayAgg,
    /// Variances and standard deviations, sample or population: numeric
    /// for integer and numeric input, double for floats.
    VarSamp(ScalarType),
    VarPop(ScalarType),
    StddevSamp(ScalarType),
    StddevPop(ScalarType),
}

/// Window functions (`f(…) OVER (…)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WindowFunc {
    RowNumber,
    Rank,
    DenseRank,
    PercentRank,
    CumeDist,
    /// ntile(n): `args[0]` is n.
    Ntile,
    /// lag/lead(x [, offset [, default]]).
    Lag,
    Lead,
    FirstValue,
    LastValue,
    /// nth_value(x, n).
    NthValue,
    /// An aggregate over the frame.
    Aggregate(AggregateFunc),
}

/// A frame bound, counted in rows (ROWS) or peer groups' edges (RANGE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FrameBound {
    UnboundedPreceding,
    Preceding(u64),
    CurrentRow,
    Following(u64),
    UnboundedFollowing,
}

/// A window frame: `rows` is ROWS mode, otherwise RANGE (whose bounds are
/// unbounded or the current row's peer group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Frame {
    pub rows: bool,
    pub start: FrameBound,
    pub end: FrameBound,
}

impl Frame {
    /// RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW.
    pub const DEFAULT: Frame = Frame {
        rows: false,
        start: FrameBound::UnboundedPreceding,
        end: FrameBound::CurrentRow,
    };
}

/// One window function call: arguments are input columns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WindowCall {
    pub func: WindowFunc,
    pub args: Vec<usize>,
    pub frame: Frame,
}

/// One aggregate of a `Reduce`: `func` over `expr`, optionally DISTINCT.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Aggregate {
    pub func: AggregateFunc,
    pub expr: Expr,
    pub distinct: bool,
    /// Further argument columns (string_agg's delimiter and sort keys).
    #[serde(default)]
    pub extra: Vec<Expr>,
    /// The aggregate's ORDER BY, over positions in `extra`.
    #[serde(default)]
    pub order: Vec<SortKey>,
}

impl Aggregate {
    /// An aggregate of one argument column.
    pub fn new(func: AggregateFunc, expr: Expr, distinct: bool) -> Aggregate {
        Aggregate {
            func,
            expr,
            distinct,
            extra: vec![],
            order: vec![],
        }
    }
}

/// Sort key of an ORDER BY column.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SortKey {
    pub column: usize,
    pub desc: bool,
    pub nulls_first: bool,
}

/// A relational plan. Each variant says what it computes and what state its
/// rendering keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Plan {
    /// The rows of a table or materialized view, read from its shared
    /// arrangement (no new state). With `index`, the rows come from that
    /// index's arrangement instead.
    Get {
        id: GlobalId,
        name: String,
        arity: usize,
    },
    /// Fixed rows with multiplicities (no state). Shared: decorrelation
    /// copies the plans around subqueries, and a system catalog's rows
    /// must not be copied with them.
    Constant {
        rows: std::sync::Arc<Vec<(Row, isize)>>,
        arity: usize,
    },
    /// Appends the value of each expression as a new column (no state).
    Map { input: Box<Plan>, exprs: Vec<Expr> },
    /// Each input row followed by each row `func` yields for the values of
    /// `exprs` over it (no state).
    FlatMap {
        input: Box<Plan>,
        func: crate::table_func::TableFunc,
        exprs: Vec<Expr>,
    },
    /// Keeps rows for which every predicate is TRUE (no state).
    Filter {
        input: Box<Plan>,
        predicates: Vec<Expr>,
    },
    /// A temporal filter: each row is valid only while the clock is
    /// within its bounds (from the `now()` comparisons of a view's WHERE),
    /// so it enters and leaves the result as time passes (no state; the
    /// retraction is an update at a future time).
    Temporal {
        input: Box<Plan>,
        bounds: Vec<TimeBound>,
    },
    /// Keeps the listed columns, in order (no state).
    Project {
        input: Box<Plan>,
        outputs: Vec<usize>,
    },
    /// Equi-join on column pairs, output `left ++ right`; keys compare with
    /// `=` on datums, so NULL matches NULL: SQL joins filter NULL keys first.
    /// Keeps both inputs arranged by key, or reuses `right_index`'s arrangement.
    Join {
        left: Box<Plan>,
        right: Box<Plan>,
        on: Vec<(usize, usize)>,
        right_index: Option<GlobalId>,
    },
    /// Groups by `group_key` columns and computes aggregates; output is the
    /// key columns followed by one column per aggregate. Keeps the input
    /// arranged by key and the output per key.
    Reduce {
        input: Box<Plan>,
        group_key: Vec<usize>,
        aggregates: Vec<Aggregate>,
    },
    /// Per group of `group_key`, the rows ranked `offset..offset+limit` by
    /// `order`. Keeps the input arranged by group.
    TopK {
        input: Box<Plan>,
        group_key: Vec<usize>,
        order: Vec<SortKey>,
        limit: Option<usize>,
        offset: usize,
    },
    /// Window functions over partitions of `partition` columns ordered by
    /// `order`: each input row with one column per call appended. Keeps
    /// the input and output arranged by partition; a change re-evaluates
    /// its partition only.
    Window {
        input: Box<Plan>,
        partition: Vec<usize>,
        order: Vec<SortKey>,
        calls: Vec<WindowCall>,
    },
    /// Each distinct row once. Keeps the input and output arranged.
    Distinct { input: Box<Plan> },
    /// Multiplicities negated (no state).
    Negate { input: Box<Plan> },
    /// Rows with positive multiplicity, negative ones dropped. Keeps counts.
    Threshold { input: Box<Plan> },
    /// Multiset union (no state).
    Union { inputs: Vec<Plan> },
    /// WITH RECURSIVE: the least fixed point of `R = base ∪ step(R)`, where
    /// `step` reads `R` through `RecRef { id }`; with `distinct`, each row
    /// once (UNION). Rendered with differential's iteration: keeps the
    /// state of `step`'s operators per round, and a change re-derives only
    /// the rows it affects.
    Recursive {
        id: usize,
        base: Box<Plan>,
        step: Box<Plan>,
        distinct: bool,
    },
    /// The rows of the enclosing `Recursive { id }` so far.
    RecRef { id: usize, arity: usize },
}

impl Plan {
    /// Number of output columns.
    pub fn arity(&self) -> usize {
        match self {
            Plan::Get { arity, .. } | Plan::Constant { arity, .. } | Plan::RecRef { arity, .. } => {
                *arity
            }
            Plan::Recursive { base, .. } => base.arity(),
            Plan::Map { input, exprs } => input.arity() + exprs.len(),
            Plan::FlatMap { input, func, .. } => input.arity() + func.arity(),
            Plan::Filter { input, .. }
            | Plan::Temporal { input, .. }
            | Plan::Distinct { input }
            | Plan::Negate { input }
            | Plan::Threshold { input }
            | Plan::TopK { input, .. } => input.arity(),
            Plan::Project { outputs, .. } => outputs.len(),
            Plan::Window { input, calls, .. } => input.arity() + calls.len(),
            Plan::Join { left, right, .. } => left.arity() + right.arity(),
            Plan::Reduce {
                group_key,
                aggregates,
                ..
            } => group_key.len() + aggregates.len(),
            Plan::Union { inputs } => inputs.first().map(|p| p.arity()).unwrap_or(0),
        }
    }

    /// Ids of the tables and materialized views this plan reads.
    pub fn depends_on(&self) -> Vec<GlobalId> {
        let mut out = Vec::new();
        self.visit(&mut |p| {
            if let Plan::Get { id, .. } = p {
                if !out.contains(id) {
                    out.push(*id);
                }
            }
            if let Plan::Join {
                right_index: Some(ix),
                ..
            } = p
            {
                if !out.contains(ix) {
                    out.push(*ix);
                }
            }
        });
        out
    }

    /// Calls `f` on this node and every descendant, parents first.
    pub fn visit<'p>(&'p self, f: &mut impl FnMut(&'p Plan)) {
        f(self);
        self.visit_children(&mut |c| c.visit(f));
    }

    /// Calls `f` on this node and then on every descendant, mutably.
    pub fn visit_mut(&mut self, f: &mut impl FnMut(&mut Plan)) {
        f(self);
        match self {
            Plan::Get { .. } | Plan::Constant { .. } | Plan::RecRef { .. } => {}
            Plan::Recursive { base, step, .. } => {
                base.visit_mut(f);
                step.visit_mut(f);
            }
            Plan::Map { input, .. }
            | Plan::FlatMap { input, .. }
            | Plan::Filter { input, .. }
            | Plan::Temporal { input, .. }
            | Plan::Project { input, .. }
            | Plan::Reduce { input, .. }
            | Plan::TopK { input, .. }
            | Plan::Window { input, .. }
            | Plan::Distinct { input }
            | Plan::Negate { input }
            | Plan::Threshold { input } => input.visit_mut(f),
            Plan::Join { left, right, .. } => {
                left.visit_mut(f);
                right.visit_mut(f);
            }
            Plan::Union { inputs } => inputs.iter_mut().for_each(|i| i.visit_mut(f)),
        }
    }

    /// The direct inputs of this node, mutably.
    pub fn children_mut(&mut self) -> Vec<&mut Plan> {
        match self {
            Plan::Get { .. } | Plan::Constant { .. } | Plan::RecRef { .. } => vec![],
            Plan::Recursive { base, step, .. } => vec![base, step],
            Plan::Map { input, .. }
            | Plan::FlatMap { input, .. }
            | Plan::Filter { input, .. }
            | Plan::Temporal { input, .. }
            | Plan::Project { input, .. }
            | Plan::Reduce { input, .. }
            | Plan::TopK { input, .. }
            | Plan::Window { input, .. }
            | Plan::Distinct { input }
            | Plan::Negate { input }
            | Plan::Threshold { input } => vec![input],
            Plan::Join { left, right, .. } => vec![left, right],
            Plan::Union { inputs } => inputs.iter_mut().collect(),
        }
    }

    /// Calls `f` on each direct input of this node.
    pub fn visit_children<'p>(&'p self, f: &mut impl FnMut(&'p Plan)) {
        match self {
            Plan::Get { .. } | Plan::Constant { .. } | Plan::RecRef { .. } => {}
            Plan::Recursive { base, step, .. } => {
                f(base);
                f(step);
            }
            Plan::Map { input, .. }
            | Plan::FlatMap { input, .. }
            | Plan::Filter { input, .. }
            | Plan::Temporal { input, .. }
            | Plan::Project { input, .. }
            | Plan::Reduce { input, .. }
            | Plan::TopK { input, .. }
            | Plan::Window { input, .. }
            | Plan::Distinct { input }
            | Plan::Negate { input }
            | Plan::Threshold { input } => f(input),
            Plan::Join { left, right, .. } => {
                f(left);
                f(right);
            }
            Plan::Union { inputs } => inputs.iter().for_each(f),
        }
    }

    /// Whether the plan reads `RecRef { id }`.
    pub fn reads_rec(&self, id: usize) -> bool {
        let mut found = false;
        self.visit(&mut |p| found |= matches!(p, Plan::RecRef { id: i, .. } if *i == id));
        found
    }

    pub fn project(self, outputs: Vec<usize>) -> Plan {
        if outputs.len() == self.arity() && outputs.iter().enumerate().all(|(i, o)| i == *o) {
            return self;
        }
        Plan::Project {
            input: Box::new(self),
            outputs,
        }
    }

    pub fn map(self, exprs: Vec<Expr>) -> Plan {
        if exprs.is_empty() {
            return self;
        }
        Plan::Map {
            input: Box::new(self),
            exprs,
        }
    }

    pub fn filter(self, predicates: Vec<Expr>) -> Plan {
        if predicates.is_empty() {
            return self;
        }
        match self {
            Plan::Filter {
                input,
                predicates: mut p,
            } => {
                p.extend(predicates);
                Plan::Filter {
                    input,
                    predicates: p,
                }
            }
            other => Plan::Filter {
                input: Box::new(other),
                predicates,
            },
        }
    }

    pub fn distinct(self) -> Plan {
        Plan::Distinct {
            input: Box::new(self),
        }
    }

    pub fn negate(self) -> Plan {
        Plan::Negate {
            input: Box::new(self),
        }
    }

    pub fn union(inputs: Vec<Plan>) -> Plan {
        Plan::Union { inputs }
    }

    /// One row of NULLs, `arity` wide.
    pub fn constant_row(row: Row) -> Plan {
        let arity = row.len();
        Plan::Constant {
            rows: std::sync::Arc::new(vec![(row, 1)]),
            arity,
        }
    }

    pub fn nulls(n: usize) -> Vec<Expr> {
        vec![Expr::Literal(Datum::Null); n]
    }
}

/// ORDER BY / LIMIT / OFFSET applied to peeked rows, then a projection that
/// drops sort-only columns.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Finishing {
    pub order: Vec<SortKey>,
    pub limit: Option<usize>,
    pub offset: usize,
    pub project: Vec<usize>,
}

/// One bound of a temporal filter: `expr` is the row's time (timestamp
/// or timestamptz, in microseconds), compared with `now()`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeBound {
    pub expr: Expr,
    /// `now() >= expr` / `now() > expr` (the row becomes valid), else
    /// `now() < expr` / `now() <= expr` (the row stops being valid).
    pub lower: bool,
    /// `>` or `<` rather than `>=` or `<=`.
    pub strict: bool,
}

impl TimeBound {
    /// The first millisecond (logical time) at which the bound lets the
    /// row in (`lower`), or at which it shuts it out (not `lower`).
    pub fn boundary_ms(&self, micros: i64) -> i64 {
        let floor = micros.div_euclid(1000);
        let exact = micros.rem_euclid(1000) == 0;
        match (self.lower, self.strict) {
            // now*1000 >= e  <=>  now >= ceil(e / 1000)
            (true, false) => floor + i64::from(!exact),
            // now*1000 > e   <=>  now >= floor(e / 1000) + 1
            (true, true) => floor + 1,
            // now*1000 < e   <=>  now < ceil(e / 1000)
            (false, true) => floor + i64::from(!exact),
            // now*1000 <= e  <=>  now < floor(e / 1000) + 1
            (false, false) => floor + 1,
        }
    }
}

/// A read: the plan, its output columns, and the finishing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadPlan {
    pub plan: Plan,
    pub columns: Vec<Column>,
    pub finishing: Finishing,
}

/// What a statement does, ready for the coordinator to sequence.
#[derive(Debug, Clone, PartialEq)]
pub enum StatementPlan {
    CreateTable {
        name: String,
        schema: Schema,
        defaults: Vec<Option<String>>,
        if_not_exists: bool,
    },
    /// A view or materialized view over `plan`; `sql` is the defining query.
    CreateView {
        name: String,
        columns: Vec<Column>,
        plan: Plan,
        sql: String,
        /// Catalog items the query names directly.
        depends: Vec<GlobalId>,
        materialized: bool,
        if_not_exists: bool,
        or_replace: bool,
    },
    /// CREATE TABLE … AS / SELECT … INTO: a table of `schema`, filled with
    /// the rows of `read`.
    CreateTableAs {
        name: String,
        schema: Schema,
        read: ReadPlan,
        if_not_exists: bool,
    },
    CreateIndex {
        name: String,
        on: GlobalId,
        keys: Vec<usize>,
        if_not_exists: bool,
    },
    /// Insert the rows `source` produces into `table`.
    Insert {
        table: GlobalId,
        source: Plan,
    },
    /// Replace each row of `table` passing `predicate` by `assignments`
    /// (one expression per column, over the old row).
    Update {
        table: GlobalId,
        predicate: Option<Expr>,
        assignments: Vec<Expr>,
    },
    /// Remove each row of `table` passing `predicate`.
    Delete {
        table: GlobalId,
        predicate: Option<Expr>,
    },
    /// TRUNCATE: remove every row of each of `tables`, atomically.
    Truncate {
        tables: Vec<GlobalId>,
    },
    Select(ReadPlan),
    /// Drop `ids` (dependents first). `missing` names what IF EXISTS skipped.
    Drop {
        ids: Vec<GlobalId>,
        missing: Vec<String>,
        kind: catalog::ItemKind,
    },
    Explain(String),
    Begin,
    Commit,
    Rollback,
    Set {
        name: String,
        value: String,
    },
    Reset {
        name: String,
    },
    Show {
        name: String,
    },
    ShowObjects {
        kind: catalog::ItemKind,
    },
    /// CHECKPOINT: write the state to a checkpoint and truncate the log.
    Checkpoint,
    /// `COPY t FROM STDIN`: the session reads the data, then writes rows.
    CopyFrom(Box<crate::copy::CopyFrom>),
    /// `COPY t|(query) TO STDOUT`: a read whose rows go out as COPY data
    /// (in the format the session takes from the statement).
    CopyTo(ReadPlan),
    /// `CREATE SOURCE`: the source, and for a multi-output connector its
    /// subsources (name and columns).
    CreateSource {
        name: String,
        if_not_exists: bool,
        schema: Schema,
        spec: catalog::SourceSpec,
        subsources: Vec<(String, Schema)>,
    },
    /// `SUBSCRIBE`: a dataflow over `plan` whose changes stream to the session.
    Subscribe {
        plan: Plan,
        /// The target's own columns (without mz_timestamp and friends).
        columns: Vec<Column>,
        depends: Vec<catalog::GlobalId>,
        snapshot: bool,
        progress: bool,
        as_of: Option<u64>,
    },
    /// A statement accepted and ignored (e.g. SET TRANSACTION).
    Noop {
        tag: String,
    },
    /// SAVEPOINT, RELEASE [SAVEPOINT] and ROLLBACK TO [SAVEPOINT] inside a
    /// transaction block.
    Savepoint {
        name: String,
    },
    Release {
        name: String,
    },
    RollbackTo {
        name: String,
    },
    /// DEALLOCATE name, or DEALLOCATE ALL (`None`).
    Deallocate {
        name: Option<String>,
    },
    /// DISCARD ALL: settings reset, prepared statements and portals closed.
    Discard,
    /// CREATE ROLE / CREATE USER (checked: the name is free and allowed).
    CreateRole {
        name: String,
        options: RoleOptions,
    },
    /// ALTER ROLE: new attributes, or a new name.
    AlterRole {
        name: String,
        options: RoleOptions,
        rename: Option<String>,
    },
    /// DROP ROLE: the roles that exist (IF EXISTS skipped the others).
    DropRole {
        names: Vec<String>,
    },
}

/// Role attributes a CREATE or ALTER ROLE sets; `None` leaves one as is
/// (or at its default).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoleOptions {
    pub superuser: Option<bool>,
    pub login: Option<bool>,
    pub create_role: Option<bool>,
    pub create_db: Option<bool>,
    /// `Some(None)`: PASSWORD NULL (or `''`); `Some(Some(p))`: the password
    /// as given (cleartext, or an already-hashed SCRAM verifier).
    pub password: Option<Option<String>>,
}

impl StatementPlan {
    /// The columns the statement returns, or `None` when it returns no rows
    /// (what Describe reports).
    pub fn result_columns(&self) -> Option<Vec<Column>> {
        let text = |name: &str| {
            Some(vec![Column {
                name: name.into(),
                ty: ScalarType::Text,
                nullable: false,
                origin: None,
            }])
        };
        match self {
            StatementPlan::Select(read) => Some(read.columns.clone()),
            StatementPlan::Explain(_) => text("QUERY PLAN"),
            StatementPlan::ShowObjects { .. } => text("name"),
            StatementPlan::Show { name } if name.eq_ignore_ascii_case("all") => Some(
                ["name", "setting", "description"]
                    .into_iter()
                    .map(|n| Column {
                        name: n.into(),
                        ty: ScalarType::Text,
                        nullable: false,
                        origin: None,
                    })
                    .collect(),
            ),
            StatementPlan::Show { name } => text(&name.to_lowercase()),
            StatementPlan::Subscribe {
                columns, progress, ..
            } => Some(crate::stream::subscribe_columns(*progress, columns)),
            _ => None,
        }
    }

    /// Whether the statement writes table contents.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            StatementPlan::Insert { .. }
                | StatementPlan::Update { .. }
                | StatementPlan::Delete { .. }
                | StatementPlan::Truncate { .. }
        )
    }
}

/// Compares rows by sort keys with PostgreSQL's NULL placement.
pub fn compare(a: &Row, b: &Row, order: &[SortKey]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for k in order {
        let (x, y) = (a.get(k.column), b.get(k.column));
        let o = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if k.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, true) => {
                if k.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            _ => {
                let o = x.cmp(y);
                if k.desc {
                    o.reverse()
                } else {
                    o
                }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}
