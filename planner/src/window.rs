//! Window functions: `f(…) OVER (PARTITION BY … ORDER BY … [frame])`.
//!
//! A SELECT's window calls are evaluated after WHERE, GROUP BY and HAVING
//! and before DISTINCT and the output ORDER BY, as PostgreSQL does: each
//! distinct (partition, order) pair becomes one `Plan::Window` node that
//! appends a column per call, and the select list then reads those columns.

use crate::bind::{sort_key, Binder};
use crate::bind_expr::{aggregate_kind, function_name, ident_name, ExprCtx};
use crate::coerce::{common_type_all, Typed};
use crate::expr::Expr;
use crate::plan::{Frame, FrameBound, Plan, SortKey, WindowCall, WindowFunc};
use crate::subquery::visit_outside_subqueries;
use catalog::{sqlstate, Datum, ScalarType, SqlError, SqlResult};
use sqlparser::ast::{self, Expr as AstExpr};

fn window_error(message: impl Into<String>) -> SqlError {
    SqlError::new(sqlstate::WINDOWING_ERROR, message)
}

/// The window calls in `e` (outside subqueries), with their addresses.
fn window_calls(e: &AstExpr, out: &mut Vec<(usize, ast::Function)>) {
    visit_outside_subqueries(e, &mut |x| {
        if let AstExpr::Function(f) = x {
            if f.over.is_some() {
                out.push((call_key(f), f.clone()));
            }
        }
    });
}

/// The key the binder finds a window call's column by: its address.
pub fn call_key(f: &ast::Function) -> usize {
    f as *const ast::Function as usize
}

/// One bound call before grouping by window.
struct BoundCall {
    key: usize,
    partition: Vec<usize>,
    order: Vec<SortKey>,
    call: WindowCall,
    ty: ScalarType,
}

impl Binder<'_> {
    /// Evaluates the window calls of `s`'s select list and `order_by` over
    /// `plan` (whose columns `ctx` binds) and records the column of each, so
    /// that binding the call later reads it. Returns the widened plan.
    pub fn bind_windows(
        &self,
        s: &ast::Select,
        order_by: &[ast::OrderByExpr],
        plan: Plan,
        ctx: ExprCtx,
    ) -> SqlResult<Plan> {
        let mut found = vec![];
        for p in &s.projection {
            if let ast::SelectItem::UnnamedExpr(e)
            | ast::SelectItem::ExprWithAlias { expr: e, .. } = p
            {
                window_calls(e, &mut found);
            }
        }
        for o in order_by {
            window_calls(&o.expr, &mut found);
        }
        if found.is_empty() {
            return Ok(plan);
        }
        let ctx = ExprCtx {
            clause: "window functions",
            ..ctx
        };
        let base = plan.arity();
        let mut pre: Vec<Expr> = vec![];
        let mut column = |e: Expr| -> usize {
            if let Expr::Column(c) = e {
                return c;
            }
            match pre.iter().position(|x| *x == e) {
                Some(i) => base + i,
                None => {
                    pre.push(e);
                    base + pre.len() - 1
                }
            }
        };
        let mut bound = vec![];
        for (key, f) in &found {
            let spec = self.window_spec(f, s)?;
            for e in spec
                .partition_by
                .iter()
                .chain(spec.order_by.iter().map(|o| &o.expr))
            {
                let mut nested = vec![];
                window_calls(e, &mut nested);
                if !nested.is_empty() {
                    return Err(window_error("window function calls cannot be nested"));
                }
            }
            let mut partition = vec![];
            for e in &spec.partition_by {
                partition.push(column(self.bind_key(e, ctx)?.expr));
            }
            let mut order = vec![];
            for o in &spec.order_by {
                order.push(sort_key(
                    column(self.bind_key(&o.expr, ctx)?.expr),
                    &o.options,
                ));
            }
            let frame = frame(spec.window_frame.as_ref())?;
            let (func, args, ty) = self.window_func(f, ctx)?;
            bound.push(BoundCall {
                key: *key,
                partition,
                order,
                call: WindowCall {
                    func,
                    args: args.into_iter().map(&mut column).collect(),
                    frame,
                },
                ty,
            });
        }
        let mut plan = plan.map(pre);
        // one Window node per (partition, order), in order of appearance
        while !bound.is_empty() {
            let (partition, order) = (bound[0].partition.clone(), bound[0].order.clone());
            let (same, rest): (Vec<_>, Vec<_>) = bound
                .into_iter()
                .partition(|b| b.partition == partition && b.order == order);
            bound = rest;
            let start = plan.arity();
            let mut cols = self.window_cols.borrow_mut();
            for (i, b) in same.iter().enumerate() {
                cols.insert(b.key, (start + i, b.ty));
            }
            plan = Plan::Window {
                input: Box::new(plan),
                partition,
                order,
                calls: same.into_iter().map(|b| b.call).collect(),
            };
        }
        Ok(plan)
    }

    /// A PARTITION BY or ORDER BY expression; unknown literals are text.
    fn bind_key(&self, e: &AstExpr, ctx: ExprCtx) -> SqlResult<Typed> {
        self.bind_expr(e, ctx)?.text_if_unknown()
    }

    /// The call's OVER clause, named windows resolved.
    fn window_spec(&self, f: &ast::Function, s: &ast::Select) -> SqlResult<ast::WindowSpec> {
        let named = |name: &ast::Ident| -> SqlResult<ast::WindowSpec> {
            let wanted = ident_name(name);
            for ast::NamedWindowDefinition(n, def) in &s.named_window {
                if ident_name(n) == wanted {
                    return match def {
                        ast::NamedWindowExpr::WindowSpec(spec) => Ok(spec.clone()),
                        ast::NamedWindowExpr::NamedWindow(_) => {
                            Err(SqlError::unsupported("a window defined as another window"))
                        }
                    };
                }
            }
            Err(SqlError::new(
                sqlstate::UNDEFINED_OBJECT,
                format!("window \"{wanted}\" does not exist"),
            ))
        };
        match f.over.as_ref().expect("window call") {
            ast::WindowType::NamedWindow(name) => named(name),
            ast::WindowType::WindowSpec(spec) => match &spec.window_name {
                // OVER (w ORDER BY …) copies w's PARTITION BY
                Some(name) => {
                    let mut base = named(name)?;
                    if !spec.partition_by.is_empty() {
                        return Err(window_error(format!(
                            "cannot override PARTITION BY clause of window \"{}\"",
                            ident_name(name)
                        )));
                    }
                    if !spec.order_by.is_empty() {
                        base.order_by = spec.order_by.clone();
                    }
                    if spec.window_frame.is_some() {
                        base.window_frame = spec.window_frame.clone();
                    }
                    Ok(base)
                }
                None => Ok(spec.clone()),
            },
        }
    }

    /// The function of a window call, its bound arguments and result type.
    fn window_func(
        &self,
        f: &ast::Function,
        ctx: ExprCtx,
    ) -> SqlResult<(WindowFunc, Vec<Expr>, ScalarType)> {
        let name = function_name(f);
        if f.filter.is_some() && aggregate_kind(&name).is_none() {
            return Err(SqlError::new(
                sqlstate::WRONG_OBJECT_TYPE,
                "FILTER is not implemented for non-aggregate window functions",
            ));
        }
        if let ast::FunctionArguments::List(l) = &f.args {
            for a in &l.args {
                if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = a {
                    let mut nested = vec![];
                    window_calls(e, &mut nested);
                    if !nested.is_empty() {
                        return Err(window_error("window function calls cannot be nested"));
                    }
                }
            }
        }
        if aggregate_kind(&name).is_some() {
            let agg = self.bind_agg_call_in(f, ctx, true)?;
            if agg.distinct {
                return Err(SqlError::unsupported("DISTINCT in window functions"));
            }
            if !agg.extra.is_empty() {
                return Err(SqlError::unsupported(format!(
                    "{name} as a window function"
                )));
            }
            let args = match agg.func {
                crate::plan::AggregateFunc::CountStar => vec![],
                _ => vec![agg.arg.expr],
            };
            return Ok((WindowFunc::Aggregate(agg.func), args, agg.result));
        }
        let args: Vec<AstExpr> = match &f.args {
            ast::FunctionArguments::None => vec![],
            ast::FunctionArguments::List(l) => l
                .args
                .iter()
                .map(|a| match a {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Ok(e.clone()),
                    _ => Err(SqlError::unsupported(format!("this argument to {name}"))),
                })
                .collect::<SqlResult<_>>()?,
            ast::FunctionArguments::Subquery(_) => {
                return Err(SqlError::unsupported("subquery as function argument"))
            }
        };
        let bound = args
            .iter()
            .map(|a| self.bind_expr(a, ctx))
            .collect::<SqlResult<Vec<_>>>()?;
        let int = |t: &Typed| -> SqlResult<Expr> { t.clone().cast_to(ScalarType::Int32) };
        let value = |t: &Typed| t.clone().text_if_unknown();
        let no_such = || {
            SqlError::new(
                sqlstate::UNDEFINED_FUNCTION,
                format!(
                    "function {name}({}) does not exist",
                    bound
                        .iter()
                        .map(|b| b.ty.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        };
        use ScalarType::*;
        Ok(match (name.as_str(), bound.len()) {
            ("row_number", 0) => (WindowFunc::RowNumber, vec![], Int64),
            ("rank", 0) => (WindowFunc::Rank, vec![], Int64),
            ("dense_rank", 0) => (WindowFunc::DenseRank, vec![], Int64),
            ("percent_rank", 0) => (WindowFunc::PercentRank, vec![], Float64),
            ("cume_dist", 0) => (WindowFunc::CumeDist, vec![], Float64),
            ("ntile", 1) => (WindowFunc::Ntile, vec![int(&bound[0])?], Int32),
            ("lag" | "lead", 1..=3) => {
                let func = if name == "lag" {
                    WindowFunc::Lag
                } else {
                    WindowFunc::Lead
                };
                let x = value(&bound[0])?;
                let offset = match bound.get(1) {
                    Some(o) => int(o)?,
                    None => Expr::Literal(Datum::Int32(1)),
                };
                match bound.get(2) {
                    None => (func, vec![x.expr, offset], x.ty),
                    Some(d) => {
                        let ty = common_type_all(&[x.clone(), d.clone()], &name)?;
                        (
                            func,
                            vec![x.cast_to(ty)?, offset, d.clone().cast_to(ty)?],
                            ty,
                        )
                    }
                }
            }
            ("first_value", 1) | ("last_value", 1) => {
                let func = if name == "first_value" {
                    WindowFunc::FirstValue
                } else {
                    WindowFunc::LastValue
                };
                let x = value(&bound[0])?;
                (func, vec![x.expr], x.ty)
            }
            ("nth_value", 2) => {
                let x = value(&bound[0])?;
                (WindowFunc::NthValue, vec![x.expr, int(&bound[1])?], x.ty)
            }
            (
                "row_number" | "rank" | "dense_rank" | "percent_rank" | "cume_dist" | "ntile"
                | "lag" | "lead" | "first_value" | "last_value" | "nth_value",
                _,
            ) => return Err(no_such()),
            _ => {
                return Err(SqlError::new(
                    sqlstate::WRONG_OBJECT_TYPE,
                    format!(
                    "OVER specified, but {name} is not a window function nor an aggregate function"
                ),
                ))
            }
        })
    }
}

/// The frame a window clause gives (RANGE UNBOUNDED PRECEDING to CURRENT
/// ROW when it gives none).
fn frame(f: Option<&ast::WindowFrame>) -> SqlResult<Frame> {
    let Some(f) = f else {
        return Ok(Frame::DEFAULT);
    };
    let rows = match f.units {
        ast::WindowFrameUnits::Rows => true,
        ast::WindowFrameUnits::Range => false,
        ast::WindowFrameUnits::Groups => return Err(SqlError::unsupported("GROUPS frames")),
    };
    let offset = |e: &AstExpr, which: &str| -> SqlResult<u64> {
        if !rows {
            return Err(SqlError::unsupported("RANGE frames with an offset"));
        }
        let v = match e {
            AstExpr::Value(v) => match &v.value {
                ast::Value::Number(n, _) => n.parse::<i64>().ok(),
                _ => None,
            },
            AstExpr::UnaryOp {
                op: ast::UnaryOperator::Minus,
                expr,
            } => match expr.as_ref() {
                AstExpr::Value(v) => match &v.value {
                    ast::Value::Number(n, _) => n.parse::<i64>().ok().map(|n| -n),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        match v {
            Some(n) if n >= 0 => Ok(n as u64),
            Some(_) => Err(SqlError::new(
                sqlstate::INVALID_PRECEDING_OR_FOLLOWING_SIZE,
                format!("frame {which} offset must not be negative"),
            )),
            None => Err(SqlError::unsupported(
                "a frame offset that is not an integer constant",
            )),
        }
    };
    let bound = |b: &ast::WindowFrameBound, which: &str| -> SqlResult<FrameBound> {
        Ok(match b {
            ast::WindowFrameBound::CurrentRow => FrameBound::CurrentRow,
            ast::WindowFrameBound::Preceding(None) => FrameBound::UnboundedPreceding,
            ast::WindowFrameBound::Following(None) => FrameBound::UnboundedFollowing,
            ast::WindowFrameBound::Preceding(Some(e)) => FrameBound::Preceding(offset(e, which)?),
            ast::WindowFrameBound::Following(Some(e)) => FrameBound::Following(offset(e, which)?),
        })
    };
    let start = bound(&f.start_bound, "starting")?;
    let end = match &f.end_bound {
        Some(b) => bound(b, "ending")?,
        None => FrameBound::CurrentRow,
    };
    if start == FrameBound::UnboundedFollowing {
        return Err(window_error("frame start cannot be UNBOUNDED FOLLOWING"));
    }
    if end == FrameBound::UnboundedPreceding {
        return Err(window_error("frame end cannot be UNBOUNDED PRECEDING"));
    }
    let rank = |b: FrameBound| match b {
        FrameBound::UnboundedPreceding => 0,
        FrameBound::Preceding(_) => 1,
        FrameBound::CurrentRow => 2,
        FrameBound::Following(_) => 3,
        FrameBound::UnboundedFollowing => 4,
    };
    if rank(start) == 2 && rank(end) == 1 {
        return Err(window_error(
            "frame starting from current row cannot have preceding rows",
        ));
    }
    if rank(start) == 3 && rank(end) < 3 {
        return Err(window_error(
            "frame starting from following row cannot have preceding rows",
        ));
    }
    Ok(Frame { rows, start, end })
}

/// Evaluates `row_number() <= k` style filters over a Top-K: where a filter
/// keeps rows whose row_number (or rank, dense_rank) is at most k, the
/// window only needs each partition's first k rows, which a hierarchical
/// Top-K maintains without re-sorting the partition on every change.
pub fn limit_ranked(mut plan: Plan) -> Plan {
    plan.visit_mut(&mut |p| {
        let Plan::Filter { input, predicates } = p else {
            return;
        };
        let mut parts = vec![];
        for pred in predicates.iter() {
            crate::bind::conjuncts(pred.clone(), &mut parts);
        }
        for part in parts {
            if let Some((col, k)) = rank_bound(&part) {
                limit_window(input, col, k);
            }
        }
    });
    plan
}

/// `col <= k`, `col < k` or `col = k` with an integer constant: the
/// column and the largest rank it keeps.
fn rank_bound(e: &Expr) -> Option<(usize, usize)> {
    use crate::expr::BinaryOp;
    let Expr::Binary(op, l, r) = e else {
        return None;
    };
    let (Expr::Column(c), Expr::Literal(v)) = (l.as_ref(), r.as_ref()) else {
        return None;
    };
    let k = match v {
        Datum::Int64(k) => *k,
        Datum::Int32(k) => *k as i64,
        _ => return None,
    };
    let k = match op {
        BinaryOp::LtEq | BinaryOp::Eq => k,
        BinaryOp::Lt => k - 1,
        _ => return None,
    };
    usize::try_from(k).ok().map(|k| (*c, k))
}

/// Puts a Top-K of `k` rows per partition under the Window that computes
/// column `col` of `plan`, when that column is a ranking whose values for
/// the first k rows do not depend on the rows after them.
fn limit_window(plan: &mut Plan, col: usize, k: usize) {
    match plan {
        Plan::Project { input, outputs } => {
            if let Some(c) = outputs.get(col) {
                limit_window(input, *c, k)
            }
        }
        Plan::Map { input, .. } | Plan::Filter { input, .. } if col < input.arity() => {
            limit_window(input, col, k)
        }
        Plan::Window {
            input,
            partition,
            order,
            calls,
        } => {
            let base = input.arity();
            if col < base {
                return limit_window(input, col, k);
            }
            let prefix_only = calls.iter().all(|c| {
                matches!(
                    c.func,
                    WindowFunc::RowNumber
                        | WindowFunc::Rank
                        | WindowFunc::DenseRank
                        | WindowFunc::Lag
                )
            });
            // rank and dense_rank: ties can make more than k rows rank <= k
            let by_row = calls[col - base].func == WindowFunc::RowNumber;
            let limited = matches!(input.as_ref(), Plan::TopK { limit: Some(l), .. } if *l <= k);
            if prefix_only && by_row && !limited {
                let inner = std::mem::replace(input.as_mut(), Plan::union(vec![]));
                **input = Plan::TopK {
                    input: Box::new(inner),
                    group_key: partition.clone(),
                    order: order.clone(),
                    limit: Some(k),
                    offset: 0,
                };
            }
        }
        _ => {}
    }
}
