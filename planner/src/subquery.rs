//! Subqueries in expressions — `EXISTS`, `IN`, `NOT IN` and scalar
//! subqueries, correlated or not — decorrelated into joins, reductions and
//! set differences so that they are maintained incrementally like any other
//! plan.
//!
//! A correlated subquery refers to columns of the enclosing row
//! (`Expr::Outer`). Decorrelation evaluates it once per distinct value `d`
//! of the referenced outer columns: `D = DISTINCT(outer[corr])`, and
//! `apply(D, sub)` yields `d ++ row` for every row the subquery gives for
//! `d`. The result is then joined back to the outer rows on the correlated
//! columns. Those joins match NULL with NULL on purpose: `d` values, NULLs
//! included, come from the outer rows themselves.

use crate::bind::{Binder, Rel};
use crate::coerce::{bind_binary, Typed};
use crate::expr::{BinaryOp, Expr, Func, UnaryOp};
use crate::plan::{Aggregate, AggregateFunc, Plan};
use crate::scope::{Scope, ScopeItem};
use catalog::{sqlstate, Datum, Row, ScalarType, SqlError, SqlResult};
use sqlparser::ast::{self, Expr as AstExpr};

/// The expressions a plan node evaluates itself.
fn node_exprs(plan: &Plan) -> Vec<&Expr> {
    match plan {
        Plan::Map { exprs, .. } | Plan::FlatMap { exprs, .. } => exprs.iter().collect(),
        Plan::Filter { predicates, .. } => predicates.iter().collect(),
        Plan::Reduce { aggregates, .. } => aggregates
            .iter()
            .flat_map(|a| std::iter::once(&a.expr).chain(a.extra.iter()))
            .collect(),
        _ => vec![],
    }
}

/// The outer columns `plan` refers to, sorted and without repeats.
pub fn outer_refs(plan: &Plan) -> Vec<usize> {
    let mut out = vec![];
    plan.visit(&mut |p| {
        for e in node_exprs(p) {
            e.visit(&mut |x| {
                if let Expr::Outer(i) = x {
                    out.push(*i);
                }
            });
        }
    });
    out.sort_unstable();
    out.dedup();
    out
}

fn has_outer(plan: &Plan) -> bool {
    !outer_refs(plan).is_empty()
}

/// The column recorded for a subquery that binds as an expression failing
/// when evaluated (see `attach_subqueries`).
pub const UNEVALUABLE: usize = usize::MAX;

/// The expression standing for such a subquery.
pub fn unevaluable() -> Expr {
    let e = correlated_recursion_error();
    Expr::Call(
        Func::Raise,
        vec![
            Expr::Literal(Datum::Text(e.code.to_string())),
            Expr::Literal(Datum::Text(e.message)),
        ],
    )
}

fn correlated_recursion_error() -> SqlError {
    SqlError::unsupported("WITH RECURSIVE inside a subquery that refers to the enclosing query")
}

/// `outer` joined with `per_d`, a plan whose first columns are the values
/// of the outer columns `corr` (NULL meets NULL: both sides come from the
/// outer rows).
fn join_on_d(outer: Plan, per_d: Plan, corr: &[usize]) -> Plan {
    Plan::Join {
        left: Box::new(outer),
        right: Box::new(per_d),
        on: corr.iter().enumerate().map(|(j, c)| (*c, j)).collect(),
        right_index: None,
    }
}

fn cross(left: Plan, right: Plan) -> Plan {
    Plan::Join {
        left: Box::new(left),
        right: Box::new(right),
        on: vec![],
        right_index: None,
    }
}

/// `sub` evaluated for every row `d` of `d_plan` (the values of the outer
/// columns `corr`, in that order): rows `d ++ row`.
pub fn apply(sub: Plan, d_plan: &Plan, corr: &[usize]) -> Plan {
    let k = corr.len();
    if !has_outer(&sub) {
        return cross(d_plan.clone(), sub);
    }
    let rw = |e: &Expr| {
        e.map_leaves(&|leaf| match leaf {
            Expr::Column(c) => Expr::Column(c + k),
            Expr::Outer(i) => Expr::Column(corr.iter().position(|c| c == i).expect("collected")),
            other => other.clone(),
        })
    };
    let ds = || (0..k).collect::<Vec<usize>>();
    let shift = |cols: &[usize]| cols.iter().map(|c| c + k).collect::<Vec<usize>>();
    let recur = |p: Box<Plan>| Box::new(apply(*p, d_plan, corr));
    match sub {
        Plan::Get { .. } | Plan::Constant { .. } | Plan::RecRef { .. } => {
            unreachable!("leaves have no outer references")
        }
        Plan::Recursive { .. } => unreachable!("bind_subquery refuses correlated recursion"),
        Plan::Map { input, exprs } => Plan::Map {
            input: recur(input),
            exprs: exprs.iter().map(rw).collect(),
        },
        Plan::FlatMap { input, func, exprs } => Plan::FlatMap {
            input: recur(input),
            func,
            exprs: exprs.iter().map(rw).collect(),
        },
        Plan::Filter { input, predicates } => Plan::Filter {
            input: recur(input),
            predicates: predicates.iter().map(rw).collect(),
        },
        Plan::Temporal { input, bounds } => Plan::Temporal {
            input: recur(input),
            bounds: bounds
                .iter()
                .map(|b| crate::plan::TimeBound {
                    expr: rw(&b.expr),
                    ..b.clone()
                })
                .collect(),
        },
        Plan::Project { input, outputs } => Plan::Project {
            input: recur(input),
            outputs: ds().into_iter().chain(shift(&outputs)).collect(),
        },
        Plan::Join {
            left,
            right,
            on,
            right_index,
        } => {
            let (la, ra) = (left.arity(), right.arity());
            match (has_outer(&left), has_outer(&right)) {
                (true, false) => Plan::Join {
                    left: recur(left),
                    right,
                    on: on.iter().map(|(l, r)| (l + k, *r)).collect(),
                    right_index,
                },
                (false, true) => Plan::Join {
                    left: recur(right),
                    right: left,
                    on: on.iter().map(|(l, r)| (r + k, *l)).collect(),
                    right_index: None,
                }
                .project(
                    ds().into_iter()
                        .chain(k + ra..k + ra + la)
                        .chain(k..k + ra)
                        .collect(),
                ),
                _ => Plan::Join {
                    left: recur(left),
                    right: recur(right),
                    on: (0..k)
                        .map(|i| (i, i))
                        .chain(on.iter().map(|(l, r)| (l + k, r + k)))
                        .collect(),
                    right_index: None,
                }
                .project(
                    ds().into_iter()
                        .chain(k..k + la)
                        .chain(2 * k + la..2 * k + la + ra)
                        .collect(),
                ),
            }
        }
        Plan::Reduce {
            input,
            group_key,
            aggregates,
        } => Plan::Reduce {
            input: recur(input),
            group_key: ds().into_iter().chain(shift(&group_key)).collect(),
            aggregates: aggregates
                .into_iter()
                .map(|a| Aggregate {
                    expr: rw(&a.expr),
                    extra: a.extra.iter().map(rw).collect(),
                    ..a
                })
                .collect(),
        },
        Plan::TopK {
            input,
            group_key,
            order,
            limit,
            offset,
        } => Plan::TopK {
            input: recur(input),
            group_key: ds().into_iter().chain(shift(&group_key)).collect(),
            order: order
                .into_iter()
                .map(|mut o| {
                    o.column += k;
                    o
                })
                .collect(),
            limit,
            offset,
        },
        Plan::Window {
            input,
            partition,
            order,
            calls,
        } => Plan::Window {
            input: recur(input),
            partition: ds().into_iter().chain(shift(&partition)).collect(),
            order: order
                .into_iter()
                .map(|mut o| {
                    o.column += k;
                    o
                })
                .collect(),
            calls: calls
                .into_iter()
                .map(|mut c| {
                    c.args = shift(&c.args);
                    c
                })
                .collect(),
        },
        Plan::Distinct { input } => Plan::Distinct {
            input: recur(input),
        },
        Plan::Negate { input } => Plan::Negate {
            input: recur(input),
        },
        Plan::Threshold { input } => Plan::Threshold {
            input: recur(input),
        },
        Plan::Union { inputs } => Plan::Union {
            inputs: inputs.into_iter().map(|p| apply(p, d_plan, corr)).collect(),
        },
    }
}

/// A subquery bound inside an enclosing relation, ready to decorrelate.
struct Bound {
    plan: Plan,
    scope: Scope,
}

impl Bound {
    /// The distinct values of the correlated outer columns (one empty row
    /// when uncorrelated) and `apply` of the subquery over them.
    fn applied(self, outer: &Plan) -> (Vec<usize>, Plan) {
        let corr = outer_refs(&self.plan);
        let d = if corr.is_empty() {
            Plan::constant_row(Row::new(vec![]))
        } else {
            outer.clone().project(corr.clone()).distinct()
        };
        let a = apply(self.plan, &d, &corr);
        (corr, closer(a))
    }
}

/// References to queries further out come one level closer: the plan now
/// lives inside the enclosing query, whose own outer row they read.
fn closer(mut plan: Plan) -> Plan {
    let step = |e: &Expr| {
        e.map_leaves(&|leaf| match leaf {
            Expr::OuterN { depth: 2, col } => Expr::Outer(*col),
            Expr::OuterN { depth, col } => Expr::OuterN {
                depth: depth - 1,
                col: *col,
            },
            other => other.clone(),
        })
    };
    plan.visit_mut(&mut |p| match p {
        Plan::Map { exprs, .. } | Plan::FlatMap { exprs, .. } => {
            exprs.iter_mut().for_each(|e| *e = step(e))
        }
        Plan::Filter { predicates, .. } => predicates.iter_mut().for_each(|e| *e = step(e)),
        Plan::Temporal { bounds, .. } => bounds.iter_mut().for_each(|b| b.expr = step(&b.expr)),
        Plan::Reduce { aggregates, .. } => {
            for a in aggregates {
                a.expr = step(&a.expr);
                a.extra.iter_mut().for_each(|e| *e = step(e));
            }
        }
        _ => {}
    });
    plan
}

/// The AST node's identity, for finding a subquery's bound column again.
pub fn query_key(q: &ast::Query) -> usize {
    q as *const ast::Query as usize
}

impl Binder<'_> {
    /// Binds `q` as a subquery of a relation whose columns `scope` names.
    fn bind_subquery(&self, q: &ast::Query, scope: &Scope) -> SqlResult<Bound> {
        let (bound, correlated_recursion) = self.bind_subquery_unchecked(q, scope)?;
        if correlated_recursion {
            return Err(correlated_recursion_error());
        }
        Ok(bound)
    }

    /// `bind_subquery` without refusing a correlated WITH RECURSIVE: the
    /// flag says whether the plan holds one.
    fn bind_subquery_unchecked(&self, q: &ast::Query, scope: &Scope) -> SqlResult<(Bound, bool)> {
        self.outer.borrow_mut().push(scope.clone());
        let rel = self.bind_query(q);
        self.outer.borrow_mut().pop();
        let Rel { plan, scope } = rel?;
        let mut correlated_recursion = false;
        plan.visit(&mut |p| {
            correlated_recursion |= matches!(p, Plan::Recursive { .. }) && has_outer(p)
        });
        Ok((Bound { plan, scope }, correlated_recursion))
    }

    /// `expr IN (q)` as a filter over `q`'s rows: its one column equals the
    /// (outer) `expr`; for NOT IN, also rows where either side is NULL, which
    /// make NOT IN not true.
    fn in_filter(
        &self,
        expr: &AstExpr,
        q: &ast::Query,
        rel: &Rel,
        negated: bool,
    ) -> SqlResult<Bound> {
        let (eq, sub) = self.in_filter_parts(expr, BinaryOp::Eq, "=", q, rel)?;
        // rows where the comparison is true or unknown make NOT IN not true
        let pred = if negated {
            Expr::binary(BinaryOp::Or, eq.clone(), Expr::unary(UnaryOp::IsNull, eq))
        } else {
            eq
        };
        Ok(Bound {
            plan: sub.plan.filter(vec![pred]),
            scope: sub.scope,
        })
    }

    /// Binds `expr IN (q)`'s parts: `expr` over the outer row, `q`'s one
    /// column compared with it (as an expression over `q`'s row with outer
    /// references), and `q` itself.
    fn in_filter_parts(
        &self,
        expr: &AstExpr,
        op: BinaryOp,
        symbol: &'static str,
        q: &ast::Query,
        rel: &Rel,
    ) -> SqlResult<(Expr, Bound)> {
        let sub = self.bind_subquery(q, &rel.scope)?;
        // a row constructor compares column by column: (a, b) IN (SELECT x, y …)
        let xs: Vec<&AstExpr> = match strip(expr) {
            AstExpr::Tuple(items) => items.iter().collect(),
            e => vec![e],
        };
        if sub.scope.len() != xs.len() {
            return Err(SqlError::new(
                sqlstate::SYNTAX_ERROR,
                if sub.scope.len() > xs.len() {
                    "subquery has too many columns"
                } else {
                    "subquery has too few columns"
                },
            ));
        }
        let mut cmp: Option<Expr> = None;
        for (i, x) in xs.into_iter().enumerate() {
            let x = self.bind_expr(
                x,
                crate::bind_expr::ExprCtx {
                    scope: &rel.scope,
                    agg: None,
                    clause: "WHERE",
                },
            )?;
            let x_outer = Typed {
                expr: outer_of(&x.expr),
                ..x
            };
            let col = Typed::new(Expr::Column(i), sub.scope.items[i].ty);
            let c = bind_binary(op, symbol, x_outer, col)?.expr;
            cmp = Some(match cmp {
                None => c,
                Some(prev) => Expr::binary(BinaryOp::And, prev, c),
            });
        }
        Ok((cmp.expect("at least one column"), sub))
    }

    /// Keeps the rows of `rel` for which `sub` has a row (or, `negated`, has
    /// none): a semijoin or antijoin on the correlated columns.
    fn semijoin(&self, rel: Rel, sub: Bound, negated: bool) -> Rel {
        let n = rel.plan.arity();
        let (corr, a) = sub.applied(&rel.plan);
        let k = corr.len();
        let keys = a.project((0..k).collect()).distinct();
        let semi = join_on_d(rel.plan.clone(), keys, &corr).project((0..n).collect());
        let plan = if negated {
            Plan::union(vec![rel.plan, semi.negate()])
        } else {
            semi
        };
        Rel {
            plan,
            scope: rel.scope,
        }
    }

    /// A WHERE conjunct that is `[NOT] EXISTS (…)` or `x [NOT] IN (…)`,
    /// applied as a semijoin or antijoin; `None` for any other conjunct.
    pub fn where_subquery(&self, c: &AstExpr, rel: Rel) -> SqlResult<Result<Rel, Rel>> {
        match c {
            AstExpr::Nested(inner) => self.where_subquery(inner, rel),
            AstExpr::Exists { subquery, negated } => {
                let sub = self.bind_subquery(subquery, &rel.scope)?;
                Ok(Ok(self.semijoin(rel, sub, *negated)))
            }
            AstExpr::UnaryOp {
                op: ast::UnaryOperator::Not,
                expr,
            } if matches!(strip(expr), AstExpr::Exists { .. }) => {
                let AstExpr::Exists { subquery, negated } = strip(expr) else {
                    unreachable!()
                };
                let sub = self.bind_subquery(subquery, &rel.scope)?;
                Ok(Ok(self.semijoin(rel, sub, !*negated)))
            }
            AstExpr::In {
                expr,
                target: ast::InTarget::Subquery(subquery),
                negated,
                ..
            } => {
                let sub = self.in_filter(expr, subquery, &rel, *negated)?;
                Ok(Ok(self.semijoin(rel, sub, *negated)))
            }
            _ => Ok(Err(rel)),
        }
    }

    /// Adds one column per subquery in `exprs` that is not a WHERE conjunct
    /// handled by `where_subquery`: the value of a scalar subquery (NULL
    /// when it has no row, error 21000 when it has more than one) or of
    /// `EXISTS` (true/false). `bind_expr` then reads the column.
    pub fn attach_subqueries(&self, exprs: &[&AstExpr], mut rel: Rel) -> SqlResult<Rel> {
        let mut found = vec![];
        for e in exprs {
            collect_subqueries(e, &mut found)?;
        }
        if !found.is_empty() {
            // each subquery copies the plan it is attached to: catalog
            // queries keep it a few constant rows instead
            crate::optimize::fold_constants(&mut rel.plan);
        }
        for Found { key, query, kind } in found {
            if self.subquery_cols.borrow().contains_key(&key) {
                continue;
            }
            if let Kind::Quantified { x, op, all } = &kind {
                rel = self.attach_quantified(key, x, op, *all, &query, rel)?;
                self.keep_alive.borrow_mut().push(query);
                continue;
            }
            if let Kind::Array = kind {
                rel = self.attach_array(key, &query, rel)?;
                self.keep_alive.borrow_mut().push(query);
                continue;
            }
            let exists = matches!(kind, Kind::Exists);
            let (sub, correlated_recursion) = self.bind_subquery_unchecked(&query, &rel.scope)?;
            if correlated_recursion {
                // A scalar subquery Ripple cannot decorrelate becomes a
                // column whose value is that error: a query fails only if
                // it evaluates it (asyncpg's type query has one under
                // CASE WHEN t.typtype = 'd', for domains Ripple lacks).
                if exists || sub.scope.len() != 1 {
                    return Err(correlated_recursion_error());
                }
                self.keep_alive.borrow_mut().push(query);
                let ty = sub.scope.items[0].ty;
                self.subquery_cols
                    .borrow_mut()
                    .insert(key, (UNEVALUABLE, ty));
                continue;
            }
            self.keep_alive.borrow_mut().push(query);
            let (ty, name) = if exists {
                (ScalarType::Bool, "exists".to_string())
            } else {
                if sub.scope.len() != 1 {
                    return Err(SqlError::new(
                        sqlstate::SYNTAX_ERROR,
                        "subquery must return only one column",
                    ));
                }
                let item = &sub.scope.items[0];
                (item.ty, item.name.clone())
            };
            let (corr, a) = sub.applied(&rel.plan);
            let k = corr.len();
            let keys: Vec<usize> = (0..k).collect();
            // One row per d: (d, value).
            let (per_d, missing) = if exists {
                let s = a
                    .project(keys.clone())
                    .distinct()
                    .map(vec![Expr::Literal(Datum::Bool(true))]);
                (s, Datum::Bool(false))
            } else {
                let s = Plan::Reduce {
                    input: Box::new(a),
                    group_key: keys.clone(),
                    aggregates: vec![
                        Aggregate::new(AggregateFunc::CountStar, Expr::Column(k), false),
                        Aggregate::new(AggregateFunc::Max, Expr::Column(k), false),
                    ],
                }
                .map(vec![Expr::Call(
                    Func::SingleRow,
                    vec![Expr::Column(k), Expr::Column(k + 1)],
                )])
                .project(keys.iter().copied().chain([k + 2]).collect());
                (s, Datum::Null)
            };
            let value = Expr::Column(rel.plan.arity() + k);
            self.attach_column(&mut rel, key, &corr, per_d, value, missing, name, ty);
        }
        Ok(rel)
    }

    /// Appends a hidden column to `rel`: `value`, computed over a row of
    /// `rel` followed by its `d`'s row of `per_d` (one row per `d`, keyed by
    /// the values of `corr`), or `missing` for rows whose `d` has none; and
    /// records it as subquery `key`'s column.
    #[allow(clippy::too_many_arguments)]
    fn attach_column(
        &self,
        rel: &mut Rel,
        key: usize,
        corr: &[usize],
        per_d: Plan,
        value: Expr,
        missing: Datum,
        name: String,
        ty: ScalarType,
    ) {
        let n = rel.plan.arity();
        let joined = join_on_d(rel.plan.clone(), per_d, corr);
        let width = joined.arity();
        let matched = match value {
            Expr::Column(c) => joined.clone().project((0..n).chain([c]).collect()),
            v => joined
                .clone()
                .map(vec![v])
                .project((0..n).chain([width]).collect()),
        };
        let unmatched = Plan::union(vec![
            rel.plan.clone(),
            joined.project((0..n).collect()).negate(),
        ])
        .map(vec![Expr::Literal(missing)]);
        rel.plan = Plan::union(vec![matched, unmatched]);
        crate::optimize::fold_constants(&mut rel.plan);
        rel.scope.items.push(ScopeItem {
            table: None,
            name,
            ty,
            nullable: true,
            hidden: true,
            origin: None,
        });
        self.subquery_cols.borrow_mut().insert(key, (n, ty));
    }
}

impl Binder<'_> {
    /// `ARRAY(q)` as a column: the values of `q`'s one column aggregated
    /// into an array ordered by `q`'s ORDER BY (an empty array when `q` has
    /// no rows). The ORDER BY keys become extra columns of `q`.
    fn attach_array(&self, key: usize, q: &ast::Query, mut rel: Rel) -> SqlResult<Rel> {
        let mut q = q.clone();
        let mut order = vec![];
        let mut sort_positions = vec![];
        let mut added = 0;
        if let (Some(ob), ast::SetExpr::Select(select)) = (q.order_by.take(), q.body.as_mut()) {
            if let ast::OrderByKind::Expressions(exprs) = &ob.kind {
                let width = select.projection.len();
                for o in exprs {
                    let pos = match &o.expr {
                        AstExpr::Value(v) => match &v.value {
                            ast::Value::Number(n, _) => n.parse::<usize>().ok().filter(|n| (1..=width).contains(n)).map(|n| n - 1),
                            _ => None,
                        },
                        AstExpr::Identifier(id) => select.projection.iter().position(|p| {
                            matches!(p, ast::SelectItem::ExprWithAlias { alias, .. } if crate::bind_expr::ident_name(alias) == crate::bind_expr::ident_name(id))
                        }),
                        _ => None,
                    };
                    let pos = pos.unwrap_or_else(|| {
                        added += 1;
                        select
                            .projection
                            .push(ast::SelectItem::UnnamedExpr(o.expr.clone()));
                        select.projection.len() - 1
                    });
                    order.push(crate::bind::sort_key(sort_positions.len(), &o.options));
                    sort_positions.push(pos);
                }
            }
            q.order_by = Some(ob);
        }
        let sub = self.bind_subquery(&q, &rel.scope)?;
        if sub.scope.len() != 1 + added {
            return Err(SqlError::new(
                sqlstate::SYNTAX_ERROR,
                "subquery must return only one column",
            ));
        }
        let item = &sub.scope.items[0];
        let elem = catalog::ElemType::of(item.ty)
            .ok_or_else(|| SqlError::unsupported(format!("arrays of {}", item.ty.name())))?;
        let (name, ty) = ("array".to_string(), ScalarType::Array(elem));
        let (corr, a) = sub.applied(&rel.plan);
        let k = corr.len();
        let agg = crate::plan::Aggregate {
            extra: sort_positions.iter().map(|p| Expr::Column(k + p)).collect(),
            order,
            ..Aggregate::new(AggregateFunc::ArrayAgg, Expr::Column(k), false)
        };
        let per_d = Plan::Reduce {
            input: Box::new(a),
            group_key: (0..k).collect(),
            aggregates: vec![agg],
        };
        let value = Expr::Column(rel.plan.arity() + k);
        self.attach_column(
            &mut rel,
            key,
            &corr,
            per_d,
            value,
            Datum::Array(vec![]),
            name,
            ty,
        );
        Ok(rel)
    }

    /// `x IN (q)` anywhere in an expression, as a boolean column with
    /// PostgreSQL's three values: true when some row equals `x`; otherwise
    /// NULL when `x` is NULL or some row is NULL (and there are rows);
    /// otherwise false.
    fn attach_quantified(
        &self,
        key: usize,
        x: &AstExpr,
        op: &ast::BinaryOperator,
        all: bool,
        q: &ast::Query,
        mut rel: Rel,
    ) -> SqlResult<Rel> {
        use ast::BinaryOperator as B;
        // x op ALL (q) is NOT (x negated-op ANY (q))
        let (op, symbol) = match (op, all) {
            (B::Eq, false) | (B::NotEq, true) => (BinaryOp::Eq, "="),
            (B::NotEq, false) | (B::Eq, true) => (BinaryOp::NotEq, "<>"),
            (B::Lt, false) | (B::GtEq, true) => (BinaryOp::Lt, "<"),
            (B::LtEq, false) | (B::Gt, true) => (BinaryOp::LtEq, "<="),
            (B::Gt, false) | (B::LtEq, true) => (BinaryOp::Gt, ">"),
            (B::GtEq, false) | (B::Lt, true) => (BinaryOp::GtEq, ">="),
            (other, _) => {
                return Err(SqlError::unsupported(format!(
                    "operator {other} with ANY or ALL"
                )))
            }
        };
        let (cmp, sub) = self.in_filter_parts(x, op, symbol, q, &rel)?;
        let w = sub.scope.len();
        // per subquery row: (values, x op values, (x op values) IS NULL)
        let with_flags = Bound {
            plan: sub
                .plan
                .map(vec![cmp.clone(), Expr::unary(UnaryOp::IsNull, cmp)]),
            scope: sub.scope,
        };
        let (corr, a) = with_flags.applied(&rel.plan);
        let k = corr.len();
        let per_d = Plan::Reduce {
            input: Box::new(a),
            group_key: (0..k).collect(),
            aggregates: vec![
                Aggregate::new(AggregateFunc::BoolOr, Expr::Column(k + w), false),
                Aggregate::new(AggregateFunc::BoolOr, Expr::Column(k + w + 1), false),
            ],
        };
        let n = rel.plan.arity();
        // ANY: true if some comparison is true, else NULL if some is NULL
        let any = Expr::If {
            cond: Box::new(Expr::Column(n + k)),
            then: Box::new(Expr::Literal(Datum::Bool(true))),
            els: Box::new(Expr::If {
                cond: Box::new(Expr::Column(n + k + 1)),
                then: Box::new(Expr::Literal(Datum::Null)),
                els: Box::new(Expr::Literal(Datum::Bool(false))),
            }),
        };
        // over no rows ANY is false and ALL true
        let (value, missing) = if all {
            (Expr::unary(UnaryOp::Not, any), Datum::Bool(true))
        } else {
            (any, Datum::Bool(false))
        };
        self.attach_column(
            &mut rel,
            key,
            &corr,
            per_d,
            value,
            missing,
            "?column?".into(),
            ScalarType::Bool,
        );
        Ok(rel)
    }
}

/// How a LATERAL subquery joins the relation on its left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LateralKind {
    Inner,
    Left,
}

impl Binder<'_> {
    /// `left [LEFT] JOIN LATERAL (q) alias [ON cond]`: `q` may read `left`'s
    /// columns; it is decorrelated like any subquery and joined back on the
    /// columns it reads. With `Left`, rows of `left` without a match are kept,
    /// padded with NULLs.
    pub fn lateral_join(
        &self,
        left: Rel,
        q: &ast::Query,
        alias: Option<&ast::TableAlias>,
        kind: LateralKind,
        on: Option<&AstExpr>,
    ) -> SqlResult<Rel> {
        let Some(a) = alias else {
            return Err(SqlError::syntax("subquery in FROM must have an alias"));
        };
        let mut sub = self.bind_subquery(q, &left.scope)?;
        sub.scope = sub.scope.with_alias(&crate::bind_expr::ident_name(&a.name));
        crate::bind::rename_columns(
            &mut sub.scope,
            &a.columns
                .iter()
                .map(|c| crate::bind_expr::ident_name(&c.name))
                .collect::<Vec<_>>(),
        )?;
        self.lateral_join_bound(left, sub, kind, on)
    }

    /// A table function call in FROM after `left`: LATERAL, as in
    /// PostgreSQL, so its arguments may read `left`'s columns.
    pub fn lateral_function(
        &self,
        left: Rel,
        tf: &ast::TableFactor,
        kind: LateralKind,
        on: Option<&AstExpr>,
    ) -> SqlResult<Rel> {
        self.outer.borrow_mut().push(left.scope.clone());
        let rel = self.bind_table_function(tf);
        self.outer.borrow_mut().pop();
        let Rel { plan, scope } = rel?;
        self.lateral_join_bound(left, Bound { plan, scope }, kind, on)
    }

    fn lateral_join_bound(
        &self,
        left: Rel,
        sub: Bound,
        kind: LateralKind,
        on: Option<&AstExpr>,
    ) -> SqlResult<Rel> {
        let right_scope = sub.scope.clone();
        let n = left.plan.arity();
        let m = right_scope.len();
        let (corr, applied) = sub.applied(&left.plan);
        let k = corr.len();
        let joined = join_on_d(left.plan.clone(), applied, &corr)
            .project((0..n).chain(n + k..n + k + m).collect());
        let scope = left.scope.concat(&right_scope);
        let matched = match on {
            Some(cond) => {
                let pred = self
                    .bind_expr(
                        cond,
                        crate::bind_expr::ExprCtx {
                            scope: &scope,
                            agg: None,
                            clause: "JOIN conditions",
                        },
                    )?
                    .into_bool("JOIN/ON")?;
                joined.filter(vec![pred])
            }
            None => joined,
        };
        let plan = match kind {
            LateralKind::Inner => matched,
            LateralKind::Left => {
                let hits = matched.clone().project((0..n).collect()).distinct();
                let with_match = Plan::Join {
                    left: Box::new(left.plan.clone()),
                    right: Box::new(hits),
                    on: (0..n).map(|i| (i, i)).collect(),
                    right_index: None,
                }
                .project((0..n).collect());
                let unmatched =
                    Plan::union(vec![left.plan, with_match.negate()]).map(Plan::nulls(m));
                Plan::union(vec![matched, unmatched])
            }
        };
        let scope = match kind {
            LateralKind::Inner => scope,
            LateralKind::Left => left.scope.concat(&right_scope.nullable()),
        };
        Ok(Rel { plan, scope })
    }
}

/// An expression over the outer row, as seen from inside a subquery.
fn outer_of(e: &Expr) -> Expr {
    e.map_leaves(&|leaf| match leaf {
        Expr::Column(i) => Expr::Outer(*i),
        other => other.clone(),
    })
}

fn strip(e: &AstExpr) -> &AstExpr {
    match e {
        AstExpr::Nested(inner) => strip(inner),
        other => other,
    }
}

/// Calls `f` on every expression node of `e` that is not inside a subquery.
pub fn visit_outside_subqueries(e: &AstExpr, f: &mut impl FnMut(&AstExpr)) {
    struct V<'f, F> {
        depth: usize,
        f: &'f mut F,
    }
    impl<F: FnMut(&AstExpr)> ast::Visitor for V<'_, F> {
        type Break = ();
        fn pre_visit_query(&mut self, _q: &ast::Query) -> std::ops::ControlFlow<()> {
            self.depth += 1;
            std::ops::ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _q: &ast::Query) -> std::ops::ControlFlow<()> {
            self.depth -= 1;
            std::ops::ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, x: &AstExpr) -> std::ops::ControlFlow<()> {
            if self.depth == 0 {
                (self.f)(x);
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    let _ = ast::Visit::visit(e, &mut V { depth: 0, f });
}

/// A subquery found in an expression: its identity in the AST (see
/// `query_key`), a copy to bind, and whether it is `EXISTS`.
struct Found {
    key: usize,
    /// Boxed, and kept alive for the binder's lifetime once bound: the
    /// subqueries nested in it are found again by address.
    query: Box<ast::Query>,
    kind: Kind,
}

/// What a subquery in an expression computes.
enum Kind {
    /// `(SELECT …)`: its one value.
    Scalar,
    /// `EXISTS (…)`.
    Exists,
    /// `ARRAY(SELECT …)`: its rows' one column as an array, in the
    /// subquery's order.
    Array,
    /// `x IN (…)` (the caller negates for NOT IN), `x op ANY (…)` and
    /// `x op ALL (…)`.
    Quantified {
        x: Box<AstExpr>,
        op: ast::BinaryOperator,
        all: bool,
    },
}

/// The scalar, EXISTS and IN subqueries of `e`, not those nested inside
/// them.
fn collect_subqueries(e: &AstExpr, out: &mut Vec<Found>) -> SqlResult<()> {
    visit_outside_subqueries(e, &mut |x| {
        let (q, kind) = match x {
            AstExpr::Subquery(q) => (q, Kind::Scalar),
            AstExpr::Function(ast::Function {
                name,
                args: ast::FunctionArguments::Subquery(q),
                ..
            }) if name.to_string().eq_ignore_ascii_case("array") => (q, Kind::Array),
            AstExpr::Exists { subquery, .. } => (subquery, Kind::Exists),
            AstExpr::In {
                expr,
                target: ast::InTarget::Subquery(q),
                ..
            } => (
                q,
                Kind::Quantified {
                    x: expr.clone(),
                    op: ast::BinaryOperator::Eq,
                    all: false,
                },
            ),
            AstExpr::AnyOp {
                left,
                compare_op,
                right,
                ..
            }
            | AstExpr::AllOp {
                left,
                compare_op,
                right,
            } => match right.as_ref() {
                AstExpr::Subquery(q) => (
                    q,
                    Kind::Quantified {
                        x: left.clone(),
                        op: compare_op.clone(),
                        all: matches!(x, AstExpr::AllOp { .. }),
                    },
                ),
                _ => return,
            },
            _ => return,
        };
        out.push(Found {
            key: query_key(q),
            query: q.clone(),
            kind,
        });
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog::GlobalId;

    fn get(arity: usize) -> Plan {
        Plan::Get {
            id: GlobalId(1),
            name: "t".into(),
            arity,
        }
    }

    #[test]
    fn apply_removes_every_outer_reference() {
        // SELECT count(*) FROM t WHERE t.#0 = outer.#2, grouped globally
        let sub = Plan::Reduce {
            input: Box::new(get(2).filter(vec![Expr::binary(
                BinaryOp::Eq,
                Expr::Column(0),
                Expr::Outer(2),
            )])),
            group_key: vec![],
            aggregates: vec![Aggregate::new(
                AggregateFunc::CountStar,
                Expr::Column(0),
                false,
            )],
        };
        let outer = get(3);
        let corr = outer_refs(&sub);
        assert_eq!(corr, vec![2]);
        let d = outer.project(corr.clone()).distinct();
        let a = apply(sub, &d, &corr);
        assert!(outer_refs(&a).is_empty());
        // d's one column, then the count
        assert_eq!(a.arity(), 2);
        match a {
            Plan::Reduce { group_key, .. } => assert_eq!(group_key, vec![0]),
            other => panic!("expected a reduce keyed by d, got {other:?}"),
        }
    }

    #[test]
    fn uncorrelated_parts_are_crossed_with_d() {
        let d = Plan::constant_row(Row::new(vec![]));
        let a = apply(get(2), &d, &[]);
        assert_eq!(a.arity(), 2);
        assert!(matches!(a, Plan::Join { ref on, .. } if on.is_empty()));
    }
}
