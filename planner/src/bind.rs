//! Binding queries: SQL `Query` ASTs become `Plan`s with named, typed output
//! columns. Joins, outer joins, set operations and global aggregates are
//! lowered here into the small operator set dataflow renders.

use crate::bind_expr::{
    aggregate_kind, contains_aggregate, function_name, ident_name, AggCall, ExprCtx,
};
use crate::coerce::{common_type_all, Typed};
use crate::expr::{BinaryOp, Expr, UnaryOp};
use crate::plan::{Aggregate, AggregateFunc, Finishing, Plan, SortKey};
use crate::scope::{Scope, ScopeItem};
use catalog::{
    sqlstate, Catalog, Datum, ItemDetail, ItemKind, Row, ScalarType, SqlError, SqlResult, Timestamp,
};
use sqlparser::ast::{self, Expr as AstExpr, SelectItem, SetExpr, TableFactor};
use std::cell::RefCell;

/// A bound relation: its plan and the scope naming its columns.
pub struct Rel {
    pub plan: Plan,
    pub scope: Scope,
}

/// A common table expression in scope.
struct Cte {
    name: String,
    plan: Plan,
    scope: Scope,
    use_: CteUse,
}

enum CteUse {
    Plain,
    /// The recursive reference of a WITH RECURSIVE step, bound with
    /// `depth` enclosing subquery scopes.
    Recursive {
        depth: usize,
        /// References the step's text makes to the name.
        uses: std::rc::Rc<std::cell::Cell<usize>>,
    },
    /// A name that must not be read here: reading it fails with this error.
    Forbidden(&'static str, String),
}

/// Checks that the step of a recursive query reads the recursive
/// reference in a way whose fixed point is PostgreSQL's answer: once in its
/// text (`refs`; decorrelating a subquery that filters the reading rows
/// repeats the reference in the plan, linearly), and only through
/// operators that distribute over union (with UNION, also DISTINCT and
/// EXCEPT on the reading side, which distribute over set union). Outer
/// joins are refused where they are bound (`join::lower_join`).
fn check_recursive_step(
    step: &Plan,
    id: usize,
    distinct: bool,
    name: &str,
    refs: usize,
) -> SqlResult<()> {
    let err = |m: String| Err(SqlError::new(sqlstate::INVALID_RECURSION, m));
    let mut result = Ok(());
    step.visit(&mut |p| {
        if result.is_err() || !p.reads_rec(id) {
            return;
        }
        result = match p {
            Plan::Reduce { aggregates, .. } if !aggregates.is_empty() => err(
                "aggregate functions are not allowed in a recursive query's recursive term".into(),
            ),
            Plan::Threshold { input } => match input.as_ref() {
                Plan::Union { inputs }
                    if inputs
                        .iter()
                        .any(|i| matches!(i, Plan::Negate { .. }) && i.reads_rec(id)) =>
                {
                    err(format!(
                        "recursive reference to query \"{name}\" must not appear within EXCEPT"
                    ))
                }
                _ if distinct => Ok(()),
                _ => Err(SqlError::unsupported(
                    "EXCEPT in the recursive term of WITH RECURSIVE … UNION ALL",
                )),
            },
            Plan::Window { .. } => Err(SqlError::unsupported(
                "window functions in the recursive term of WITH RECURSIVE",
            )),
            Plan::TopK { .. } => Err(SqlError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "LIMIT or DISTINCT ON in a recursive query is not implemented",
            )),
            _ => Ok(()),
        };
    });
    result?;
    if refs > 1 {
        return err(format!(
            "recursive reference to query \"{name}\" must not appear more than once"
        ));
    }
    Ok(())
}

/// Binds SQL against a catalog. Pure: the clock reading used for `now()` is
/// passed in.
/// The session of statements planned without one (view definitions).
static NO_SESSION: catalog::system::SessionInfo = catalog::system::SessionInfo {
    user: String::new(),
    pid: 0,
    settings: std::collections::BTreeMap::new(),
    backends: Vec::new(),
};

pub struct Binder<'a> {
    pub catalog: &'a Catalog,
    /// The session running the statement (user, settings) for the catalog
    /// functions and system relations.
    pub session: &'a catalog::system::SessionInfo,
    /// Whether the statement read a system relation (whose rows are fixed
    /// when it is planned, so no materialized view may read one).
    pub system_used: std::cell::Cell<bool>,
    /// Statement time (epoch ms) for now(); `None` where now() is not allowed (views).
    pub now: Option<Timestamp>,
    /// Common table expressions in scope, innermost last.
    ctes: RefCell<Vec<Cte>>,
    /// Ids handed to WITH RECURSIVE bindings.
    next_rec: std::cell::Cell<usize>,
    /// Views being expanded, to stop recursive definitions.
    depth: RefCell<usize>,
    /// Catalog items this statement names directly (its dependencies).
    pub used: RefCell<Vec<catalog::GlobalId>>,
    /// Scopes of the queries enclosing the subquery being bound, innermost
    /// last: their columns bind as `Expr::Outer`.
    pub outer: RefCell<Vec<Scope>>,
    /// Subqueries in expressions already bound as a column of the relation
    /// (by `subquery::query_key`): the column and its type.
    pub subquery_cols: RefCell<std::collections::HashMap<usize, (usize, ScalarType)>>,
    /// Copies of subquery ASTs bound during this statement, kept so that
    /// the addresses `subquery_cols` is keyed by are never reused.
    pub keep_alive: RefCell<Vec<Box<ast::Query>>>,
    /// Window calls already evaluated as a column of the relation (by
    /// `window::call_key`): the column and its type.
    pub window_cols: RefCell<std::collections::HashMap<usize, (usize, ScalarType)>>,
    /// Set-returning calls of select lists evaluated as a column (by
    /// `window::call_key`): the column and its type.
    pub srf_cols: RefCell<std::collections::HashMap<usize, (usize, ScalarType)>>,
}

impl<'a> Binder<'a> {
    pub fn new(catalog: &'a Catalog, now: Option<Timestamp>) -> Self {
        Binder::with_session(catalog, now, &NO_SESSION)
    }

    /// A binder for statements of `session`.
    pub fn with_session(
        catalog: &'a Catalog,
        now: Option<Timestamp>,
        session: &'a catalog::system::SessionInfo,
    ) -> Self {
        Binder {
            catalog,
            session,
            system_used: std::cell::Cell::new(false),
            now,
            ctes: RefCell::new(vec![]),
            next_rec: std::cell::Cell::new(0),
            depth: RefCell::new(0),
            used: RefCell::new(vec![]),
            outer: RefCell::new(vec![]),
            subquery_cols: RefCell::new(std::collections::HashMap::new()),
            keep_alive: RefCell::new(vec![]),
            window_cols: RefCell::new(std::collections::HashMap::new()),
            srf_cols: RefCell::new(std::collections::HashMap::new()),
        }
    }

    pub fn now_micros(&self) -> SqlResult<i64> {
        match self.now {
            Some(ms) => Ok(ms as i64 * 1000),
            None => Err(SqlError::unsupported(
                "now() in a view or SUBSCRIBE outside a WHERE comparison with a row's time (a temporal filter such as WHERE at + INTERVAL '5 minutes' > now())",
            )),
        }
    }

    /// Binds a top-level query: ORDER BY/LIMIT/OFFSET become a finishing.
    pub fn bind_top_query(&self, q: &ast::Query) -> SqlResult<(Rel, Finishing)> {
        self.bind_query_inner(q, true)
    }

    /// Binds a nested query (view body, subquery): ORDER BY without LIMIT is
    /// dropped, LIMIT/OFFSET become a TopK.
    pub fn bind_query(&self, q: &ast::Query) -> SqlResult<Rel> {
        let (rel, _) = self.bind_query_inner(q, false)?;
        Ok(rel)
    }

    fn bind_query_inner(&self, q: &ast::Query, top: bool) -> SqlResult<(Rel, Finishing)> {
        if !q.locks.is_empty() {
            // Ripple takes no row locks: a read and a later write in one
            // block are not isolated from other writers, so the clause's
            // promise could not be kept.
            return Err(SqlError::unsupported("SELECT … FOR UPDATE/SHARE"));
        }
        let before = self.ctes.borrow().len();
        let result = self
            .push_ctes(q)
            .and_then(|()| self.bind_query_body(q, top));
        self.ctes.borrow_mut().truncate(before);
        result
    }

    fn push_ctes(&self, q: &ast::Query) -> SqlResult<()> {
        let Some(with) = &q.with else { return Ok(()) };
        for cte in &with.cte_tables {
            let name = ident_name(&cte.alias.name);
            let columns: Vec<String> = cte
                .alias
                .columns
                .iter()
                .map(|c| ident_name(&c.name))
                .collect();
            let rel = if with.recursive {
                self.bind_recursive_cte(&name, &columns, &cte.query)?
            } else {
                self.bind_query(&cte.query)?
            };
            let mut scope = rel.scope.with_alias(&name);
            rename_columns(&mut scope, &columns)?;
            self.push_cte(name, rel.plan, scope, CteUse::Plain);
        }
        Ok(())
    }

    fn push_cte(&self, name: String, plan: Plan, scope: Scope, use_: CteUse) {
        self.ctes.borrow_mut().push(Cte {
            name,
            plan,
            scope,
            use_,
        });
    }

    /// Runs `bind` with the CTE `name` in scope.
    fn with_cte(
        &self,
        name: &str,
        plan: Plan,
        scope: Scope,
        use_: CteUse,
        bind: impl FnOnce() -> SqlResult<Rel>,
    ) -> SqlResult<Rel> {
        let before = self.ctes.borrow().len();
        self.push_cte(name.into(), plan, scope, use_);
        let rel = bind();
        self.ctes.borrow_mut().truncate(before);
        rel
    }

    /// Binds `q`, a query of WITH RECURSIVE named `name`, with the shape
    /// and restrictions PostgreSQL gives it: `base UNION [ALL] step` where
    /// only `step` reads `name`, once, outside subqueries, aggregates and
    /// outer joins. A query that does not read itself binds as usual.
    fn bind_recursive_cte(&self, name: &str, columns: &[String], q: &ast::Query) -> SqlResult<Rel> {
        let union = match q.body.as_ref() {
            SetExpr::SetOperation {
                op: ast::SetOperator::Union,
                set_quantifier,
                left,
                right,
            } => Some((left, right, set_quantifier)),
            _ => None,
        };
        let Some((left, right, quantifier)) =
            union.filter(|_| q.order_by.is_none() && q.limit_clause.is_none())
        else {
            let (code, message) = if union.is_some() {
                (
                    sqlstate::FEATURE_NOT_SUPPORTED,
                    "ORDER BY or LIMIT in a recursive query is not implemented".to_string(),
                )
            } else {
                (sqlstate::INVALID_RECURSION, format!("recursive query \"{name}\" does not have the form non-recursive-term UNION [ALL] recursive-term"))
            };
            return self.with_cte(
                name,
                Plan::union(vec![]),
                Scope::default(),
                CteUse::Forbidden(code, message),
                || self.bind_query(q),
            );
        };
        let base = self.with_cte(
            name,
            Plan::union(vec![]),
            Scope::default(),
            CteUse::Forbidden(
                sqlstate::INVALID_RECURSION,
                format!("recursive reference to query \"{name}\" must not appear within its non-recursive term"),
            ),
            || self.bind_set_expr(left),
        )?;
        let id = self.next_rec.get();
        self.next_rec.set(id + 1);
        let mut scope = base.scope.clone().with_alias(name);
        rename_columns(&mut scope, columns)?;
        for item in &mut scope.items {
            item.nullable = true;
        }
        let arity = scope.len();
        let depth = self.outer.borrow().len();
        let uses = std::rc::Rc::new(std::cell::Cell::new(0));
        let step = self.with_cte(
            name,
            Plan::RecRef { id, arity },
            scope,
            CteUse::Recursive {
                depth,
                uses: uses.clone(),
            },
            || self.bind_set_expr(right),
        )?;
        if !step.plan.reads_rec(id) {
            return self.bind_set_operation(&ast::SetOperator::Union, quantifier, base, step);
        }
        let distinct = !matches!(quantifier, ast::SetQuantifier::All);
        // PostgreSQL applies a UNION ALL step's DISTINCT / GROUP BY to each
        // round's new rows; a fixed point applies it to all rows
        if let SetExpr::Select(sel) = right.as_ref() {
            let grouped =
                !matches!(&sel.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty());
            if !distinct && (sel.distinct.is_some() || grouped) {
                return Err(SqlError::unsupported(
                    "DISTINCT or GROUP BY in the recursive term of WITH RECURSIVE … UNION ALL",
                ));
            }
        }
        if base.scope.len() != step.scope.len() {
            return Err(SqlError::new(
                sqlstate::SYNTAX_ERROR,
                "each UNION query must have the same number of columns",
            ));
        }
        // the step's columns take the base's types, as PostgreSQL requires
        let mut casts = vec![];
        for (i, (b, s)) in base.scope.items.iter().zip(&step.scope.items).enumerate() {
            let ts = Typed::new(Expr::Column(i), s.ty);
            let overall =
                common_type_all(&[Typed::new(Expr::Column(i), b.ty), ts.clone()], "UNION")?;
            if overall != b.ty {
                return Err(SqlError::new(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "recursive query \"{name}\" column {} has type {} in non-recursive term but type {} overall",
                        i + 1,
                        b.ty.name(),
                        overall.name()
                    ),
                ));
            }
            casts.push(ts.cast_to(overall)?);
        }
        let step_plan = if casts.iter().enumerate().all(|(i, e)| *e == Expr::Column(i)) {
            step.plan
        } else {
            step.plan.map(casts).project((arity..2 * arity).collect())
        };
        check_recursive_step(&step_plan, id, distinct, name, uses.get())?;
        Ok(Rel {
            plan: Plan::Recursive {
                id,
                base: Box::new(base.plan),
                step: Box::new(step_plan),
                distinct,
            },
            scope: Scope {
                items: base.scope.items,
            },
        })
    }

    fn bind_query_body(&self, q: &ast::Query, top: bool) -> SqlResult<(Rel, Finishing)> {
        let order_by: &[ast::OrderByExpr] = match &q.order_by {
            None => &[],
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(e) => e,
                ast::OrderByKind::All(_) => return Err(SqlError::unsupported("ORDER BY ALL")),
            },
        };
        let (limit, offset) = self.bind_limit(q)?;
        let (rel, visible, order) = match q.body.as_ref() {
            SetExpr::Select(s) => self.bind_select(s, order_by)?,
            other => {
                let rel = self.bind_set_expr(other)?;
                let n = rel.scope.len();
                let order = order_by
                    .iter()
                    .map(|o| self.bind_output_order(o, &rel.scope))
                    .collect::<SqlResult<Vec<_>>>()?;
                (rel, n, order)
            }
        };
        let project: Vec<usize> = (0..visible).collect();
        if top {
            let finishing = Finishing {
                order,
                limit,
                offset,
                project,
            };
            return Ok((rel, finishing));
        }
        let mut plan = rel.plan;
        if limit.is_some() || offset > 0 {
            plan = Plan::TopK {
                input: Box::new(plan),
                group_key: vec![],
                order,
                limit,
                offset,
            };
        }
        let scope = Scope {
            items: rel.scope.items[..visible].to_vec(),
        };
        Ok((
            Rel {
                plan: plan.project(project),
                scope,
            },
            Finishing::default(),
        ))
    }

    fn bind_limit(&self, q: &ast::Query) -> SqlResult<(Option<usize>, usize)> {
        let (limit, offset) = match &q.limit_clause {
            None => (None, None),
            Some(ast::LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            }) => {
                if !limit_by.is_empty() {
                    return Err(SqlError::unsupported("LIMIT BY"));
                }
                (limit.as_ref(), offset.as_ref().map(|o| &o.value))
            }
            Some(ast::LimitClause::OffsetCommaLimit { .. }) => {
                return Err(SqlError::syntax("LIMIT #,# syntax is not supported"))
            }
        };
        let eval = |e: &AstExpr, what: &str, code: &str| -> SqlResult<Option<usize>> {
            let t = self.bind_expr(
                e,
                ExprCtx {
                    scope: &Scope::default(),
                    agg: None,
                    clause: "LIMIT",
                },
            )?;
            let v = t.cast_to(ScalarType::Int64)?.eval(&Row::empty())?;
            match v {
                Datum::Null => Ok(None),
                Datum::Int64(n) if n >= 0 => Ok(Some(n as usize)),
                _ => Err(SqlError::new(code, format!("{what} must not be negative"))),
            }
        };
        let limit = match (limit, &q.fetch) {
            (Some(e), None) => eval(e, "LIMIT", sqlstate::INVALID_ROW_COUNT_IN_LIMIT)?,
            (None, Some(f)) if !f.with_ties && !f.percent => match &f.quantity {
                Some(e) => eval(e, "FETCH FIRST", sqlstate::INVALID_ROW_COUNT_IN_LIMIT)?,
                None => Some(1),
            },
            (None, Some(_)) => {
                return Err(SqlError::unsupported("FETCH FIRST … WITH TIES / PERCENT"))
            }
            (Some(_), Some(_)) => {
                return Err(SqlError::syntax("multiple LIMIT clauses not allowed"))
            }
            (None, None) => None,
        };
        let offset = match offset {
            Some(e) => eval(e, "OFFSET", sqlstate::INVALID_ROW_COUNT_IN_OFFSET)?.unwrap_or(0),
            None => 0,
        };
        Ok((limit, offset))
    }

    /// ORDER BY over a set operation's output: ordinals or output names.
    fn bind_output_order(&self, o: &ast::OrderByExpr, scope: &Scope) -> SqlResult<SortKey> {
        let column = match &o.expr {
            AstExpr::Value(v) => ordinal(&v.value, scope.len())?,
            e => {
                let t = self.bind_expr(
                    e,
                    ExprCtx {
                        scope,
                        agg: None,
                        clause: "ORDER BY",
                    },
                )?;
                match t.expr {
                    Expr::Column(i) => i,
                    _ => {
                        return Err(SqlError::unsupported(
                            "ORDER BY expressions on UNION/INTERSECT/EXCEPT results",
                        ))
                    }
                }
            }
        };
        Ok(sort_key(column, &o.options))
    }

    pub fn bind_set_expr(&self, body: &SetExpr) -> SqlResult<Rel> {
        match body {
            SetExpr::Select(s) => {
                let (rel, visible, _) = self.bind_select(s, &[])?;
                let scope = Scope {
                    items: rel.scope.items[..visible].to_vec(),
                };
                Ok(Rel {
                    plan: rel.plan.project((0..visible).collect()),
                    scope,
                })
            }
            SetExpr::Query(q) => self.bind_query(q),
            SetExpr::Values(v) => self.bind_values(v),
            SetExpr::SetOperation {
                op,
                set_quantifier,
                left,
                right,
            } => {
                let l = self.bind_set_expr(left)?;
                let r = self.bind_set_expr(right)?;
                self.bind_set_operation(op, set_quantifier, l, r)
            }
            SetExpr::Table(t) => {
                let name = t
                    .table_name
                    .as_ref()
                    .ok_or_else(|| SqlError::syntax("TABLE needs a name"))?;
                self.bind_named_relation(&ident_name(name), None)
            }
            other => Err(SqlError::unsupported(format!("query body {other}"))),
        }
    }

    fn bind_set_operation(
        &self,
        op: &ast::SetOperator,
        q: &ast::SetQuantifier,
        l: Rel,
        r: Rel,
    ) -> SqlResult<Rel> {
        let opname = op.to_string().to_uppercase();
        if l.scope.len() != r.scope.len() {
            return Err(SqlError::new(
                sqlstate::SYNTAX_ERROR,
                format!("each {opname} query must have the same number of columns"),
            ));
        }
        // Unify column types.
        let mut lmaps = vec![];
        let mut rmaps = vec![];
        let mut items = vec![];
        for (i, (a, b)) in l.scope.items.iter().zip(&r.scope.items).enumerate() {
            let ta = Typed::new(Expr::Column(i), a.ty);
            let tb = Typed::new(Expr::Column(i), b.ty);
            let ty = common_type_all(&[ta.clone(), tb.clone()], &opname)?;
            lmaps.push(ta.cast_to(ty)?);
            rmaps.push(tb.cast_to(ty)?);
            items.push(ScopeItem {
                table: None,
                name: a.name.clone(),
                ty,
                nullable: a.nullable || b.nullable,
                hidden: false,
                origin: None,
            });
        }
        let n = items.len();
        let cast = |plan: Plan, maps: Vec<Expr>| -> Plan {
            if maps.iter().enumerate().all(|(i, e)| *e == Expr::Column(i)) {
                plan
            } else {
                plan.map(maps).project((n..2 * n).collect())
            }
        };
        let lp = cast(l.plan, lmaps);
        let rp = cast(r.plan, rmaps);
        let all = matches!(q, ast::SetQuantifier::All);
        let plan = match op {
            ast::SetOperator::Union => {
                let u = Plan::union(vec![lp, rp]);
                if all {
                    u
                } else {
                    u.distinct()
                }
            }
            ast::SetOperator::Except | ast::SetOperator::Minus => {
                let (lp, rp) = if all {
                    (lp, rp)
                } else {
                    (lp.distinct(), rp.distinct())
                };
                Plan::Threshold {
                    input: Box::new(Plan::union(vec![lp, rp.negate()])),
                }
            }
            ast::SetOperator::Intersect if all => {
                // min(a, b) multiplicities: a - max(a - b, 0)
                let surplus = Plan::Threshold {
                    input: Box::new(Plan::union(vec![lp.clone(), rp.negate()])),
                };
                Plan::union(vec![lp, surplus.negate()])
            }
            ast::SetOperator::Intersect => {
                let on = (0..n).map(|i| (i, i)).collect();
                Plan::Join {
                    left: Box::new(lp.distinct()),
                    right: Box::new(rp.distinct()),
                    on,
                    right_index: None,
                }
                .project((0..n).collect())
            }
        };
        Ok(Rel {
            plan,
            scope: Scope { items },
        })
    }

    fn bind_values(&self, v: &ast::Values) -> SqlResult<Rel> {
        let empty = Scope::default();
        let ctx = ExprCtx {
            scope: &empty,
            agg: None,
            clause: "VALUES",
        };
        let rows: Vec<Vec<Typed>> = v
            .rows
            .iter()
            .map(|r| {
                r.content
                    .iter()
                    .map(|e| self.bind_expr(e, ctx))
                    .collect::<SqlResult<Vec<_>>>()
            })
            .collect::<SqlResult<_>>()?;
        let width = rows.first().map(|r| r.len()).unwrap_or(0);
        if rows.iter().any(|r| r.len() != width) {
            return Err(SqlError::syntax("VALUES lists must all be the same length"));
        }
        let mut types = vec![];
        for c in 0..width {
            let col: Vec<Typed> = rows.iter().map(|r| r[c].clone()).collect();
            types.push(common_type_all(&col, "VALUES")?);
        }
        let mut out = vec![];
        for r in rows {
            let mut datums = vec![];
            for (t, ty) in r.into_iter().zip(&types) {
                datums.push(t.cast_to(*ty)?.eval(&Row::empty())?);
            }
            out.push((Row::new(datums), 1));
        }
        let items = types
            .iter()
            .enumerate()
            .map(|(i, ty)| ScopeItem {
                table: None,
                name: format!("column{}", i + 1),
                ty: *ty,
                nullable: true,
                hidden: false,
                origin: None,
            })
            .collect();
        Ok(Rel {
            plan: Plan::Constant {
                rows: std::sync::Arc::new(out),
                arity: width,
            },
            scope: Scope { items },
        })
    }

    /// The name of the recursive query whose reference is `RecRef { id }`.
    pub fn recursive_name(&self, id: usize) -> String {
        self.ctes
            .borrow()
            .iter()
            .find(|c| matches!(c.plan, Plan::RecRef { id: i, .. } if i == id))
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }

    /// Binds a table, materialized view, view or CTE by name.
    pub fn bind_named_relation(&self, name: &str, alias: Option<&str>) -> SqlResult<Rel> {
        let label = alias.unwrap_or(name);
        if let Some(cte) = self.ctes.borrow().iter().rev().find(|c| c.name == name) {
            match &cte.use_ {
                CteUse::Plain => {}
                CteUse::Forbidden(code, message) => return Err(SqlError::new(code, message.clone())),
                CteUse::Recursive { depth, .. } if self.outer.borrow().len() > *depth => {
                    return Err(SqlError::new(
                        sqlstate::INVALID_RECURSION,
                        format!("recursive reference to query \"{name}\" must not appear within a subquery"),
                    ))
                }
                CteUse::Recursive { uses, .. } => uses.set(uses.get() + 1),
            }
            return Ok(Rel {
                plan: cte.plan.clone(),
                scope: cte.scope.clone().with_alias(label),
            });
        }
        // pg_catalog comes first in PostgreSQL's search path
        if let Some(rel) = self.bind_system_relation(None, name, label) {
            return Ok(rel);
        }
        let item = self.catalog.resolve(name)?;
        if !self.used.borrow().contains(&item.id) {
            self.used.borrow_mut().push(item.id);
        }
        let mut scope = Scope::from_columns(Some(label), &item.schema.columns);
        for (i, it) in scope.items.iter_mut().enumerate() {
            it.origin = Some((catalog::system::object_oid(item.id), i as i16 + 1));
        }
        match (&item.kind, &item.detail) {
            (ItemKind::Table | ItemKind::Source | ItemKind::MaterializedView, _) => Ok(Rel {
                plan: Plan::Get {
                    id: item.id,
                    name: item.name.clone(),
                    arity: item.schema.len(),
                },
                scope,
            }),
            (ItemKind::View, ItemDetail::Query { sql }) => {
                if *self.depth.borrow() > 32 {
                    return Err(SqlError::internal("views nested too deeply"));
                }
                *self.depth.borrow_mut() += 1;
                let q = crate::parse_query(sql)?;
                let inner = Binder::with_session(self.catalog, self.now, self.session);
                *inner.depth.borrow_mut() = *self.depth.borrow();
                let rel = inner.bind_query(&q);
                if inner.system_used.get() {
                    self.system_used.set(true);
                }
                *self.depth.borrow_mut() -= 1;
                Ok(Rel {
                    plan: rel?.plan,
                    scope,
                })
            }
            _ => Err(SqlError::new(
                sqlstate::WRONG_OBJECT_TYPE,
                format!("\"{name}\" is an index"),
            )),
        }
    }

    fn bind_table_factor(&self, tf: &TableFactor) -> SqlResult<Rel> {
        match tf {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                if args.is_some() {
                    return self.bind_table_function(tf);
                }
                let alias_name = alias.as_ref().map(|a| ident_name(&a.name));
                let mut rel = match system_schema(name) {
                    Some((schema, rel_name)) => {
                        self.bind_system_relation(
                            Some(&schema),
                            &rel_name,
                            alias_name.as_deref().unwrap_or(&rel_name),
                        )
                        .ok_or_else(|| SqlError::undefined_table(&format!("{schema}.{rel_name}")))?
                    }
                    None => {
                        let rel_name = object_name(name)?;
                        self.bind_named_relation(&rel_name, alias_name.as_deref())?
                    }
                };
                if let Some(a) = alias {
                    rename_columns(
                        &mut rel.scope,
                        &a.columns
                            .iter()
                            .map(|c| ident_name(&c.name))
                            .collect::<Vec<_>>(),
                    )?;
                }
                Ok(rel)
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                // a LATERAL item first in FROM has nothing to its left
                let _ = lateral;
                let rel = self.bind_query(subquery)?;
                let Some(a) = alias else {
                    return Err(SqlError::syntax("subquery in FROM must have an alias"));
                };
                let name = ident_name(&a.name);
                let mut scope = rel.scope.with_alias(&name);
                rename_columns(
                    &mut scope,
                    &a.columns
                        .iter()
                        .map(|c| ident_name(&c.name))
                        .collect::<Vec<_>>(),
                )?;
                Ok(Rel {
                    plan: rel.plan,
                    scope,
                })
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let mut rel = self.bind_table_with_joins(table_with_joins)?;
                if let Some(a) = alias {
                    rel.scope = rel.scope.with_alias(&ident_name(&a.name));
                }
                Ok(rel)
            }
            TableFactor::Function { .. } | TableFactor::UNNEST { .. } => {
                self.bind_table_function(tf)
            }
            other => Err(SqlError::unsupported(format!("FROM item {other}"))),
        }
    }

    pub fn bind_from(&self, from: &[ast::TableWithJoins]) -> SqlResult<Rel> {
        let mut acc: Option<Rel> = None;
        for twj in from {
            if let (true, Some((q, alias))) = (acc.is_some(), lateral(&twj.relation)) {
                let left = acc.take().expect("checked above");
                let mut rel =
                    self.lateral_join(left, q, alias, crate::subquery::LateralKind::Inner, None)?;
                for j in &twj.joins {
                    rel = self.bind_join_item(rel, j)?;
                }
                acc = Some(rel);
                continue;
            }
            if let (true, true) = (
                acc.is_some(),
                crate::table_func::is_table_function(&twj.relation),
            ) {
                let left = acc.take().expect("checked above");
                let mut rel = self.lateral_function(
                    left,
                    &twj.relation,
                    crate::subquery::LateralKind::Inner,
                    None,
                )?;
                for j in &twj.joins {
                    rel = self.bind_join_item(rel, j)?;
                }
                acc = Some(rel);
                continue;
            }
            let rel = self.bind_table_with_joins(twj)?;
            acc = Some(match acc {
                None => rel,
                Some(l) => crate::join::lower_join(
                    self,
                    crate::join::JoinKind::Inner,
                    l,
                    rel,
                    None,
                    vec![],
                )?,
            });
        }
        Ok(acc.unwrap_or(Rel {
            plan: Plan::constant_row(Row::empty()),
            scope: Scope::default(),
        }))
    }

    fn bind_table_with_joins(&self, twj: &ast::TableWithJoins) -> SqlResult<Rel> {
        let mut left = self.bind_table_factor(&twj.relation)?;
        for j in &twj.joins {
            left = self.bind_join_item(left, j)?;
        }
        Ok(left)
    }

    /// One `JOIN` of a FROM item onto `left`; a LATERAL subquery reads
    /// `left`'s columns.
    fn bind_join_item(&self, left: Rel, j: &ast::Join) -> SqlResult<Rel> {
        use crate::subquery::LateralKind;
        use ast::{JoinConstraint as C, JoinOperator as J};
        let function = crate::table_func::is_table_function(&j.relation);
        if function || lateral(&j.relation).is_some() {
            let (kind, on) = match &j.join_operator {
                J::CrossJoin(C::None) | J::Join(C::None) | J::Inner(C::None) => {
                    (LateralKind::Inner, None)
                }
                J::Join(C::On(e)) | J::Inner(C::On(e)) => (LateralKind::Inner, Some(e)),
                J::Left(C::On(e)) | J::LeftOuter(C::On(e)) => (LateralKind::Left, Some(e)),
                _ => {
                    return Err(SqlError::unsupported(
                        "this kind of join with a LATERAL subquery (use [LEFT] JOIN LATERAL … ON or a comma)",
                    ))
                }
            };
            return match lateral(&j.relation) {
                Some((q, alias)) => self.lateral_join(left, q, alias, kind, on),
                None => self.lateral_function(left, &j.relation, kind, on),
            };
        }
        let right = self.bind_table_factor(&j.relation)?;
        crate::join::bind_join(self, left, right, &j.join_operator)
    }

    /// Binds a SELECT. Returns the relation (visible columns first, then
    /// hidden ORDER BY columns), the number of visible columns, and the sort keys.
    pub fn bind_select(
        &self,
        s: &ast::Select,
        order_by: &[ast::OrderByExpr],
    ) -> SqlResult<(Rel, usize, Vec<SortKey>)> {
        let mut rel = self.bind_from(&s.from)?;
        if let Some(w) = &s.selection {
            if contains_aggregate(w) {
                return Err(SqlError::new(
                    sqlstate::GROUPING_ERROR,
                    "aggregate functions are not allowed in WHERE",
                ));
            }
            // [NOT] EXISTS and [NOT] IN conjuncts become semi/antijoins;
            // other subqueries become columns the rest of WHERE reads.
            let mut parts = vec![];
            ast_conjuncts(w, &mut parts);
            let parts_len = parts.len();
            let mut rest = vec![];
            for c in parts {
                rel = match self.where_subquery(c, rel)? {
                    Ok(r) => r,
                    Err(r) => {
                        rest.push(c);
                        r
                    }
                };
            }
            rel = self.attach_subqueries(&rest, rel)?;
            let all_rest = rest.len() == parts_len;
            let mut bounds = vec![];
            if self.now.is_none() && rest.iter().any(|c| crate::temporal::mentions_clock(c)) {
                // a view's comparisons with now() become a temporal filter
                (rest, bounds) = self.temporal_bounds(rest, &rel.scope)?;
            } else if all_rest {
                // nothing became a join: bind the condition as written (its
                // errors name the AND, as PostgreSQL's do)
                rest = vec![w];
            }
            let mut preds = vec![];
            for c in rest {
                preds.push(
                    self.bind_expr(
                        c,
                        ExprCtx {
                            scope: &rel.scope,
                            agg: None,
                            clause: "WHERE",
                        },
                    )?
                    .into_bool("WHERE")?,
                );
            }
            if !preds.is_empty() {
                rel.plan = rel.plan.filter(preds);
            }
            if !bounds.is_empty() {
                rel.plan = Plan::Temporal {
                    input: Box::new(rel.plan),
                    bounds,
                };
            }
        }
        let group_exprs: Vec<AstExpr> = match &s.group_by {
            ast::GroupByExpr::Expressions(e, m) if m.is_empty() => e.clone(),
            _ => return Err(SqlError::unsupported("GROUP BY ALL / ROLLUP / CUBE")),
        };
        let grouped = !group_exprs.is_empty() || s.having.is_some() || has_aggregates(s, order_by);
        let select_exprs: Vec<&AstExpr> = s
            .projection
            .iter()
            .filter_map(|p| match p {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => Some(e),
                _ => None,
            })
            .chain(s.having.iter())
            .chain(order_by.iter().map(|o| &o.expr))
            .collect();
        if grouped {
            crate::select::bind_grouped(
                self,
                s,
                order_by,
                rel.plan,
                rel.scope,
                group_exprs,
                &select_exprs,
            )
        } else {
            let rel = self.attach_subqueries(&select_exprs, rel)?;
            let rel = self.attach_set_functions(s, rel)?;
            crate::select::bind_projection(self, s, order_by, rel.plan, &rel.scope, None)
        }
    }

    /// Collects the aggregate calls of a grouped SELECT, deduplicated.
    pub fn collect_aggs(&self, exprs: &[&AstExpr], input: &Scope) -> SqlResult<Vec<AggCall>> {
        let mut out: Vec<AggCall> = vec![];
        let mut err = None;
        for e in exprs {
            let _ = ast::visit_expressions(*e, |x| {
                if let AstExpr::Function(f) = x {
                    if f.over.is_none()
                        && aggregate_kind(&function_name(f)).is_some()
                        && !out.iter().any(|a| a.ast == *f)
                    {
                        match self.bind_agg_call(f, input) {
                            Ok(a) => out.push(a),
                            Err(e) => {
                                err = Some(e);
                                return std::ops::ControlFlow::Break(());
                            }
                        }
                    }
                }
                std::ops::ControlFlow::Continue(())
            });
            if let Some(e) = err {
                return Err(e);
            }
        }
        Ok(out)
    }

    /// Lowers a Reduce; with no group key, adds PostgreSQL's one row over
    /// empty input (count 0, other aggregates NULL).
    pub fn lower_reduce(
        &self,
        input: Plan,
        nkeys_at: usize,
        keys: usize,
        aggs: &[AggCall],
    ) -> Plan {
        let group_key: Vec<usize> = (nkeys_at..nkeys_at + keys).collect();
        // the input holds the keys, each aggregate's argument, then each
        // aggregate's extra arguments (as bind_grouped lays them out)
        let mut next_extra = nkeys_at + keys + aggs.len();
        let aggregates = aggs
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let extra = (next_extra..next_extra + a.extra.len())
                    .map(Expr::Column)
                    .collect();
                next_extra += a.extra.len();
                Aggregate {
                    func: a.func,
                    expr: Expr::Column(nkeys_at + keys + i),
                    distinct: a.distinct,
                    extra,
                    order: a.order.clone(),
                }
            })
            .collect();
        let reduce = Plan::Reduce {
            input: Box::new(input),
            group_key,
            aggregates,
        };
        if keys > 0 {
            return reduce;
        }
        let default: Vec<Datum> = aggs
            .iter()
            .map(|a| match a.func {
                AggregateFunc::Count | AggregateFunc::CountStar => Datum::Int64(0),
                _ => Datum::Null,
            })
            .collect();
        let n = aggs.len();
        let retract = reduce
            .clone()
            .map(default.iter().cloned().map(Expr::Literal).collect())
            .project((n..2 * n).collect())
            .negate();
        Plan::union(vec![reduce, Plan::constant_row(Row::new(default)), retract])
    }
}

/// The subquery and alias of a `LATERAL (…)` FROM item.
fn lateral(tf: &TableFactor) -> Option<(&ast::Query, Option<&ast::TableAlias>)> {
    match tf {
        TableFactor::Derived {
            lateral: true,
            subquery,
            alias,
            ..
        } => Some((subquery, alias.as_ref())),
        _ => None,
    }
}

fn has_aggregates(s: &ast::Select, order_by: &[ast::OrderByExpr]) -> bool {
    s.projection.iter().any(|p| match p {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
            contains_aggregate(e)
        }
        _ => false,
    }) || s.having.as_ref().is_some_and(contains_aggregate)
        || order_by.iter().any(|o| contains_aggregate(&o.expr))
}

pub fn ordinal(v: &ast::Value, n: usize) -> SqlResult<usize> {
    match v {
        ast::Value::Number(s, _) => match s.parse::<usize>() {
            Ok(i) if i >= 1 && i <= n => Ok(i - 1),
            _ => Err(SqlError::new(
                sqlstate::INVALID_COLUMN_REFERENCE,
                format!("ORDER BY position {s} is not in select list"),
            )),
        },
        _ => Err(SqlError::unsupported("ORDER BY a constant")),
    }
}

pub fn sort_key(column: usize, o: &ast::OrderByOptions) -> SortKey {
    let desc = matches!(o.sort, Some(ast::OrderBySort::Desc));
    // PostgreSQL: NULLs sort as larger than any value.
    let nulls_first = o.nulls_first.unwrap_or(desc);
    SortKey {
        column,
        desc,
        nulls_first,
    }
}

pub fn rename_columns(scope: &mut Scope, names: &[String]) -> SqlResult<()> {
    if names.len() > scope.len() {
        return Err(SqlError::new(
            sqlstate::INVALID_COLUMN_REFERENCE,
            format!(
                "table has {} columns available but {} columns specified",
                scope.len(),
                names.len()
            ),
        ));
    }
    for (item, n) in scope.items.iter_mut().zip(names) {
        item.name = n.clone();
    }
    Ok(())
}

/// `pg_catalog.x`, `information_schema.x` or `ripple_catalog.x` (optionally after the database
/// name): the schema and the relation name.
pub fn system_schema(name: &ast::ObjectName) -> Option<(String, String)> {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident())
        .map(ident_name)
        .collect();
    let (s, n) = match parts.as_slice() {
        [s, n] => (s, n),
        [d, s, n] if d == catalog::system::DATABASE => (s, n),
        _ => return None,
    };
    matches!(
        s.as_str(),
        "pg_catalog" | "information_schema" | "ripple_catalog"
    )
    .then(|| (s.clone(), n.clone()))
}

/// A relation name: the last part, lower-cased unless quoted. `public.` and
/// `pg_catalog.`-free schemas are accepted.
pub fn object_name(name: &ast::ObjectName) -> SqlResult<String> {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident())
        .map(ident_name)
        .collect();
    match parts.as_slice() {
        [n] => Ok(n.clone()),
        [s, n] if s == "public" => Ok(n.clone()),
        [d, s, n] if d == "ripple" && s == "public" => Ok(n.clone()),
        _ => Err(SqlError::new(
            sqlstate::UNDEFINED_TABLE,
            format!("relation \"{name}\" does not exist"),
        )),
    }
}

/// Maps a SQL type name to a `ScalarType`.
/// numeric(p[,s]) with PostgreSQL's limits; Ripple's numeric holds at most
/// 28 fractional digits.
fn numeric_typmod(info: &ast::ExactNumberInfo) -> SqlResult<Option<(u16, i16)>> {
    let (p, s) = match *info {
        ast::ExactNumberInfo::None => return Ok(None),
        ast::ExactNumberInfo::Precision(p) => (p, 0),
        ast::ExactNumberInfo::PrecisionAndScale(p, s) => (p, s),
    };
    if !(1..=1000).contains(&p) {
        return Err(SqlError::new(
            sqlstate::INVALID_PARAMETER_VALUE,
            format!("NUMERIC precision {p} must be between 1 and 1000"),
        ));
    }
    if !(-1000..=1000).contains(&s) {
        return Err(SqlError::new(
            sqlstate::INVALID_PARAMETER_VALUE,
            format!("NUMERIC scale {s} must be between -1000 and 1000"),
        ));
    }
    if s > 28 {
        return Err(SqlError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            format!("NUMERIC scale {s} is larger than the 28 digits Ripple supports"),
        ));
    }
    Ok(Some((p as u16, s as i16)))
}

pub fn bind_type(t: &ast::DataType) -> SqlResult<ScalarType> {
    use ast::DataType as D;
    use ScalarType::*;
    // PostgreSQL's limits on char(n) and varchar(n).
    let len = |c: &Option<ast::CharacterLength>, ty: &str| -> SqlResult<Option<u32>> {
        match c {
            Some(ast::CharacterLength::IntegerLength { length, .. }) => match *length {
                0 => Err(SqlError::new(
                    sqlstate::INVALID_PARAMETER_VALUE,
                    format!("length for type {ty} must be at least 1"),
                )),
                n if n > 10_485_760 => Err(SqlError::new(
                    sqlstate::INVALID_PARAMETER_VALUE,
                    format!("length for type {ty} cannot exceed 10485760"),
                )),
                n => Ok(Some(n as u32)),
            },
            Some(ast::CharacterLength::Max) => Err(SqlError::unsupported("length MAX")),
            None => Ok(None),
        }
    };
    Ok(match t {
        D::Bool | D::Boolean => Bool,
        D::SmallInt(_) | D::Int2(_) => Int16,
        D::Int(_) | D::Integer(_) | D::Int4(_) => Int32,
        D::BigInt(_) | D::Int8(_) => Int64,
        D::Real | D::Float4 => Float32,
        D::DoublePrecision | D::Float8 | D::Double(_) => Float64,
        D::Float(info) => match info {
            ast::ExactNumberInfo::Precision(p) if *p <= 24 => Float32,
            _ => Float64,
        },
        D::Numeric(info) | D::Decimal(info) | D::Dec(info) => Numeric(numeric_typmod(info)?),
        D::Text | D::String(_) => Text,
        D::Varchar(l) | D::CharacterVarying(l) | D::CharVarying(l) => Varchar(len(l, "varchar")?),
        D::Char(l) | D::Character(l) => Char(len(l, "char")?.unwrap_or(1)),
        D::Date => Date,
        D::Timestamp(_, tz) => match tz {
            ast::TimezoneInfo::Tz | ast::TimezoneInfo::WithTimeZone => TimestampTz,
            _ => Timestamp,
        },
        D::Time(_, tz) => match tz {
            ast::TimezoneInfo::None | ast::TimezoneInfo::WithoutTimeZone => Time,
            _ => return Err(SqlError::unsupported("type time with time zone")),
        },
        D::Interval { .. } => Interval,
        D::JSONB => Jsonb,
        D::Regclass => Oid,
        D::Uuid => Uuid,
        D::Bytea => Bytea,
        D::Array(
            ast::ArrayElemTypeDef::SquareBracket(inner, _)
            | ast::ArrayElemTypeDef::AngleBracket(inner)
            | ast::ArrayElemTypeDef::Parenthesis(inner)
            | ast::ArrayElemTypeDef::Qualified(inner, _),
        ) => {
            let elem = bind_type(inner)?;
            Array(
                catalog::ElemType::of(elem)
                    .ok_or_else(|| SqlError::unsupported(format!("arrays of {}", elem.name())))?,
            )
        }
        D::Custom(name, _) => match custom_type_name(name).as_str() {
            "timestamptz" => TimestampTz,
            "text" | "name" | "char" | "pg_node_tree" | "citext" => Text,
            "varchar" => Varchar(None),
            "numeric" | "decimal" => Numeric(None),
            "date" => Date,
            "timestamp" => Timestamp,
            "time" => Time,
            "interval" => Interval,
            "jsonb" => Jsonb,
            "oid" | "regclass" | "regtype" | "regproc" | "regprocedure" | "regnamespace"
            | "xid" => Oid,
            "int2vector" => Array(catalog::ElemType::Int16),
            "oidvector" => Array(catalog::ElemType::Oid),
            "bpchar" => Char(1),
            "int" | "int4" | "serial" => Int32,
            "int8" | "bigserial" => Int64,
            "int2" => Int16,
            "float4" => Float32,
            "float8" => Float64,
            "bool" => Bool,
            "string" => Text,
            other => {
                return Err(SqlError::new(
                    sqlstate::UNDEFINED_OBJECT,
                    format!("type \"{other}\" does not exist"),
                ))
            }
        },
        other => {
            return Err(SqlError::new(
                sqlstate::UNDEFINED_OBJECT,
                format!("type \"{other}\" is not supported"),
            ))
        }
    })
}

/// A type name as written, without a `pg_catalog.` qualifier: quoted
/// names keep their case (`"char"` is `char`).
fn custom_type_name(name: &ast::ObjectName) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident())
        .map(|i| match i.quote_style {
            Some(_) => i.value.clone(),
            None => i.value.to_lowercase(),
        })
        .collect();
    match parts.as_slice() {
        [s, n] if s == "pg_catalog" => n.clone(),
        _ => parts.join("."),
    }
}

/// `IS NOT NULL` predicates over `cols`.
pub fn not_null(cols: impl Iterator<Item = usize>) -> Vec<Expr> {
    cols.map(|c| Expr::unary(UnaryOp::IsNotNull, Expr::Column(c)))
        .collect()
}

/// Splits a predicate into its AND-ed conjuncts.
/// The AND-ed parts of a condition, as written.
pub fn ast_conjuncts<'e>(e: &'e AstExpr, out: &mut Vec<&'e AstExpr>) {
    match e {
        AstExpr::BinaryOp {
            left,
            op: ast::BinaryOperator::And,
            right,
        } => {
            ast_conjuncts(left, out);
            ast_conjuncts(right, out);
        }
        AstExpr::Nested(inner)
            if matches!(
                **inner,
                AstExpr::BinaryOp {
                    op: ast::BinaryOperator::And,
                    ..
                }
            ) =>
        {
            ast_conjuncts(inner, out)
        }
        other => out.push(other),
    }
}

pub fn conjuncts(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::Binary(BinaryOp::And, l, r) => {
            conjuncts(*l, out);
            conjuncts(*r, out);
        }
        other => out.push(other),
    }
}
