//! Joins: binding ON/USING/NATURAL and lowering inner, outer and cross
//! joins into `Join`, `Filter`, `Distinct`, `Negate` and `Union`, so the
//! renderer only needs inner equi-joins.

use crate::bind::{conjuncts, not_null, Binder, Rel};
use crate::bind_expr::{ident_name, ExprCtx};
use crate::coerce::bind_binary;
use crate::expr::{BinaryOp, Expr};
use crate::plan::Plan;
use catalog::{sqlstate, ItemKind, SqlError, SqlResult};
use sqlparser::ast::{JoinConstraint, JoinOperator};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
}

pub fn bind_join(b: &Binder, left: Rel, right: Rel, op: &JoinOperator) -> SqlResult<Rel> {
    let (kind, constraint) = match op {
        JoinOperator::Join(c) | JoinOperator::Inner(c) => (JoinKind::Inner, c),
        JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (JoinKind::Left, c),
        JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (JoinKind::Right, c),
        JoinOperator::FullOuter(c) => (JoinKind::Full, c),
        JoinOperator::CrossJoin(c) => (JoinKind::Inner, c),
        other => {
            return Err(SqlError::unsupported(
                format!("join {other:?}")
                    .chars()
                    .take(60)
                    .collect::<String>(),
            ))
        }
    };
    let combined = left.scope.concat(&right.scope);
    let ctx = ExprCtx {
        scope: &combined,
        agg: None,
        clause: "JOIN conditions",
    };
    let (pred, using) = match constraint {
        JoinConstraint::On(e) => (Some(b.bind_expr(e, ctx)?.into_bool("JOIN/ON")?), vec![]),
        JoinConstraint::None => (None, vec![]),
        JoinConstraint::Using(names) => {
            let names: Vec<String> = names
                .iter()
                .map(|n| {
                    n.0.last()
                        .and_then(|p| p.as_ident())
                        .map(ident_name)
                        .unwrap_or_default()
                })
                .collect();
            (None, names)
        }
        JoinConstraint::Natural => {
            let names = left
                .scope
                .items
                .iter()
                .filter(|l| {
                    !l.hidden
                        && right
                            .scope
                            .items
                            .iter()
                            .any(|r| r.name == l.name && !r.hidden)
                })
                .map(|l| l.name.clone())
                .collect();
            (None, names)
        }
        JoinConstraint::UsingAlias(..) => return Err(SqlError::unsupported("USING … AS")),
    };
    let mut pred = pred;
    let mut hide = vec![];
    for name in &using {
        let li = left
            .scope
            .resolve(None, name)
            .map_err(|_| using_missing(name, "left"))?;
        let ri = right
            .scope
            .resolve(None, name)
            .map_err(|_| using_missing(name, "right"))?;
        let l = crate::coerce::Typed::new(Expr::Column(li), left.scope.items[li].ty);
        let r = crate::coerce::Typed::new(
            Expr::Column(left.scope.len() + ri),
            right.scope.items[ri].ty,
        );
        let eq = bind_binary(BinaryOp::Eq, "=", l, r)?.expr;
        pred = Some(match pred {
            None => eq,
            Some(p) => p.and(eq),
        });
        hide.push(if kind == JoinKind::Right {
            li
        } else {
            left.scope.len() + ri
        });
    }
    let mut rel = lower_join(b, kind, left, right, pred, vec![])?;
    // an outer join copies its inputs three times, and the next join
    // copies the result again: joins of constant rows (catalog queries)
    // are computed here so the copies stay small
    crate::optimize::fold_constants(&mut rel.plan);
    for h in hide {
        rel.scope.items[h].hidden = true;
    }
    Ok(rel)
}

fn using_missing(name: &str, side: &str) -> SqlError {
    SqlError::new(
        sqlstate::UNDEFINED_COLUMN,
        format!("column \"{name}\" specified in USING clause does not exist in {side} table"),
    )
}

/// Lowers `left kind JOIN right ON pred`. Equality conjuncts between one
/// side and the other become join keys; the rest filter the matches.
pub fn lower_join(
    b: &Binder,
    kind: JoinKind,
    left: Rel,
    right: Rel,
    pred: Option<Expr>,
    _extra: Vec<Expr>,
) -> SqlResult<Rel> {
    if kind != JoinKind::Inner {
        // the padded rows of an outer join are not linear in its inputs
        let mut rec = None;
        for side in [&left.plan, &right.plan] {
            side.visit(&mut |p| {
                if let Plan::RecRef { id, .. } = p {
                    rec = Some(*id);
                }
            });
        }
        if let Some(id) = rec {
            return Err(SqlError::new(
                sqlstate::INVALID_RECURSION,
                format!(
                    "recursive reference to query \"{}\" must not appear within an outer join",
                    b.recursive_name(id)
                ),
            ));
        }
    }
    let la = left.scope.len();
    let ra = right.scope.len();
    let mut conj = vec![];
    if let Some(p) = pred {
        conjuncts(p, &mut conj);
    }
    let mut lkeys = vec![];
    let mut rkeys = vec![];
    let mut residual = vec![];
    for c in conj {
        match split_equality(&c, la) {
            Some((l, r)) => {
                lkeys.push(l);
                rkeys.push(r.map_columns(&|i| i - la));
            }
            None => residual.push(c),
        }
    }
    let k = lkeys.len();
    // Key expressions that are plain columns need no Map.
    let right_plain: Option<Vec<usize>> = rkeys
        .iter()
        .map(|e| {
            if let Expr::Column(i) = e {
                Some(*i)
            } else {
                None
            }
        })
        .collect();
    let right_index = match (&right.plan, &right_plain) {
        (Plan::Get { id, .. }, Some(cols)) if k > 0 => b
            .catalog
            .indexes_on(*id)
            .find(|ix| {
                matches!(&ix.detail, catalog::ItemDetail::Index { keys, .. } if keys == cols)
                    && ix.kind == ItemKind::Index
            })
            .map(|ix| ix.id),
        _ => None,
    };
    let lplan = left.plan.clone().map(lkeys);
    let lplan = lplan.filter(not_null(la..la + k));
    let (rplan, ron): (Plan, Vec<usize>) = match (right_index, right_plain) {
        (Some(_), Some(cols)) => (right.plan.clone(), cols),
        _ => (right.plan.clone().map(rkeys), (ra..ra + k).collect()),
    };
    let rwidth = rplan.arity();
    let on = (0..k).map(|i| (la + i, ron[i])).collect();
    let mut outputs: Vec<usize> = (0..la).collect();
    outputs.extend((0..ra).map(|i| la + k + i));
    let joined = Plan::Join {
        left: Box::new(lplan),
        right: Box::new(rplan),
        on,
        right_index,
    };
    let _ = rwidth;
    let matched = joined.project(outputs).filter(residual);
    let scope = match kind {
        JoinKind::Inner => left.scope.concat(&right.scope),
        JoinKind::Left => left.scope.concat(&right.scope.clone().nullable()),
        JoinKind::Right => left.scope.clone().nullable().concat(&right.scope),
        JoinKind::Full => left
            .scope
            .clone()
            .nullable()
            .concat(&right.scope.clone().nullable()),
    };
    let mut parts = vec![matched.clone()];
    if matches!(kind, JoinKind::Left | JoinKind::Full) {
        let unmatched = antijoin(
            left.plan.clone(),
            matched.clone().project((0..la).collect()),
            la,
        );
        parts.push(unmatched.map(Plan::nulls(ra)));
    }
    if matches!(kind, JoinKind::Right | JoinKind::Full) {
        let unmatched = antijoin(
            right.plan.clone(),
            matched.project((la..la + ra).collect()),
            ra,
        );
        let mut order: Vec<usize> = (ra..ra + la).collect();
        order.extend(0..ra);
        parts.push(unmatched.map(Plan::nulls(la)).project(order));
    }
    let plan = if parts.len() == 1 {
        parts.pop().expect("one part")
    } else {
        Plan::union(parts)
    };
    Ok(Rel { plan, scope })
}

/// The rows of `all` that do not appear in `matched` (both `arity` wide):
/// `all − (all ⋈ distinct(matched))`, comparing whole rows (NULL = NULL).
fn antijoin(all: Plan, matched: Plan, arity: usize) -> Plan {
    let on = (0..arity).map(|i| (i, i)).collect();
    let present = Plan::Join {
        left: Box::new(all.clone()),
        right: Box::new(matched.distinct()),
        on,
        right_index: None,
    }
    .project((0..arity).collect());
    Plan::union(vec![all, present.negate()])
}

/// `l = r` where `l` reads only the left input (columns < `la`) and `r`
/// only the right one, or the mirror image.
fn split_equality(e: &Expr, la: usize) -> Option<(Expr, Expr)> {
    let Expr::Binary(BinaryOp::Eq, a, b) = e else {
        return None;
    };
    let side = |x: &Expr| {
        let mut cols = vec![];
        x.collect_columns(&mut cols);
        if cols.is_empty() {
            None
        } else if cols.iter().all(|c| *c < la) {
            Some(0)
        } else if cols.iter().all(|c| *c >= la) {
            Some(1)
        } else {
            None
        }
    };
    match (side(a), side(b)) {
        (Some(0), Some(1)) => Some(((**a).clone(), (**b).clone())),
        (Some(1), Some(0)) => Some(((**b).clone(), (**a).clone())),
        _ => None,
    }
}
