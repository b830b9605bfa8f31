//! Plan rewrites applied after binding, each preserving the result:
//! filters move below the joins they do not need, equalities over a cross
//! product become join keys, `row_number() <= k` filters read a Top-K (see
//! `window::limit_ranked`), and operators over constant rows (the system
//! catalogs, VALUES) are computed when the statement is planned.

use crate::expr::{BinaryOp, Expr};
use crate::plan::Plan;
use catalog::{Datum, Row};
use std::collections::HashMap;

/// The rewrites, in order.
pub fn optimize(plan: Plan) -> Plan {
    let mut plan = join_equalities(push_filters(plan));
    fold_constants(&mut plan);
    crate::window::limit_ranked(plan)
}

/// The input columns an expression reads.
fn columns_of(e: &Expr) -> Vec<usize> {
    let mut out = vec![];
    e.visit(&mut |x| {
        if let Expr::Column(c) = x {
            out.push(*c);
        }
    });
    out
}

/// Moves each conjunct of a filter over an inner join to the side whose
/// columns it reads, recursively, so joins of several relations meet
/// their filters before they multiply rows. Conjuncts reading both sides
/// (or none) stay above the join, where `join_equalities` makes keys of
/// the equalities.
pub fn push_filters(plan: Plan) -> Plan {
    let mut plan = match plan {
        Plan::Filter { input, predicates } => match push_filters(*input) {
            Plan::Join {
                left,
                right,
                on,
                right_index,
            } => {
                let la = left.arity();
                let mut parts = vec![];
                for p in predicates {
                    crate::bind::conjuncts(p, &mut parts);
                }
                let (mut l, mut r, mut keep) = (vec![], vec![], vec![]);
                for part in parts {
                    let cols = columns_of(&part);
                    if cols.is_empty() {
                        keep.push(part);
                    } else if cols.iter().all(|c| *c < la) {
                        l.push(part);
                    } else if cols.iter().all(|c| *c >= la) && right_index.is_none() {
                        r.push(part.map_leaves(&|leaf| match leaf {
                            Expr::Column(c) => Expr::Column(c - la),
                            other => other.clone(),
                        }));
                    } else {
                        keep.push(part);
                    }
                }
                let side = |input: Box<Plan>, preds: Vec<Expr>| -> Box<Plan> {
                    if preds.is_empty() {
                        input
                    } else {
                        Box::new(push_filters(Plan::Filter {
                            input,
                            predicates: preds,
                        }))
                    }
                };
                let join = Plan::Join {
                    left: side(left, l),
                    right: side(right, r),
                    on,
                    right_index,
                };
                if keep.is_empty() {
                    join
                } else {
                    Plan::Filter {
                        input: Box::new(join),
                        predicates: keep,
                    }
                }
            }
            other => Plan::Filter {
                input: Box::new(other),
                predicates,
            },
        },
        other => other,
    };
    if !matches!(plan, Plan::Filter { .. }) {
        for c in plan.children_mut() {
            let child = std::mem::replace(c, Plan::Union { inputs: vec![] });
            *c = push_filters(child);
        }
    }
    plan
}

/// Constant rows that folding may produce at most per operator; larger
/// results (a big generate_series, a cross product) are left to the
/// dataflow, which streams them.
const FOLD_LIMIT: usize = 100_000;

/// Computes operators whose inputs are all constant rows when the statement
/// is planned, bottom-up: filters, maps, projections, table functions,
/// joins, unions, negation, DISTINCT and thresholds. Catalog queries then
/// reach the dataflow as a few small constants. An expression error stops
/// folding at that operator, so the dataflow reports it as it would.
pub fn fold_constants(plan: &mut Plan) {
    for c in plan.children_mut() {
        fold_constants(c);
    }
    if let Some(folded) = fold(plan) {
        *plan = folded;
    }
}

fn constant(p: &Plan) -> Option<&[(Row, isize)]> {
    match p {
        Plan::Constant { rows, .. } => Some(&rows[..]),
        _ => None,
    }
}

/// Rows with equal values merged and zero multiplicities dropped.
fn consolidate(rows: Vec<(Row, isize)>) -> Vec<(Row, isize)> {
    let mut counts: HashMap<Row, isize> = HashMap::new();
    for (r, d) in rows {
        *counts.entry(r).or_default() += d;
    }
    counts.into_iter().filter(|(_, d)| *d != 0).collect()
}

/// Whether evaluating `e` does something beyond computing a value
/// (signalling a backend), which must happen when the statement runs, not
/// whenever it is planned (a Parse plans it too).
fn has_side_effect(e: &Expr) -> bool {
    let mut found = false;
    e.visit(&mut |x| {
        found |= matches!(
            x,
            Expr::Call(
                crate::expr::Func::PgCancelBackend | crate::expr::Func::PgTerminateBackend,
                _
            )
        )
    });
    found
}

fn fold(p: &Plan) -> Option<Plan> {
    let arity = p.arity();
    let exprs: &[Expr] = match p {
        Plan::Filter { predicates, .. } => predicates,
        Plan::Map { exprs, .. } | Plan::FlatMap { exprs, .. } => exprs,
        _ => &[],
    };
    if exprs.iter().any(has_side_effect) {
        return None;
    }
    let rows: Vec<(Row, isize)> = match p {
        // a join with no rows on one side has none, whatever the other is
        Plan::Join { left, right, .. }
            if [left, right]
                .iter()
                .any(|s| constant(s).is_some_and(|r| r.is_empty())) =>
        {
            vec![]
        }
        Plan::Filter { input, predicates } => {
            let mut out = vec![];
            for (r, d) in constant(input)? {
                let mut keep = true;
                for pred in predicates {
                    match pred.eval(r).ok()? {
                        Datum::Bool(true) => {}
                        _ => {
                            keep = false;
                            break;
                        }
                    }
                }
                if keep {
                    out.push((r.clone(), *d));
                }
            }
            out
        }
        Plan::Map { input, exprs } => {
            let mut out = vec![];
            for (r, d) in constant(input)? {
                let mut values = r.iter().cloned().collect::<Vec<_>>();
                for e in exprs {
                    let v = e.eval(&Row::new(values.clone())).ok()?;
                    values.push(v);
                }
                out.push((Row::new(values), *d));
            }
            out
        }
        Plan::Project { input, outputs } => constant(input)?
            .iter()
            .map(|(r, d)| (r.project(outputs), *d))
            .collect(),
        Plan::FlatMap { input, func, exprs } => {
            let mut out = vec![];
            for (r, d) in constant(input)? {
                let args = exprs
                    .iter()
                    .map(|e| e.eval(r))
                    .collect::<Result<Vec<_>, _>>()
                    .ok()?;
                for extra in func.eval(&args).ok()? {
                    out.push((r.concat(&extra), *d));
                    if out.len() > FOLD_LIMIT {
                        return None;
                    }
                }
            }
            out
        }
        Plan::Join {
            left,
            right,
            on,
            right_index: None,
        } => {
            let (l, r) = (constant(left)?, constant(right)?);
            let mut index: HashMap<Row, Vec<&(Row, isize)>> = HashMap::new();
            let rkeys: Vec<usize> = on.iter().map(|(_, b)| *b).collect();
            let lkeys: Vec<usize> = on.iter().map(|(a, _)| *a).collect();
            for row in r {
                index.entry(row.0.project(&rkeys)).or_default().push(row);
            }
            let mut out = vec![];
            for (lr, ld) in l {
                if let Some(matches) = index.get(&lr.project(&lkeys)) {
                    for (rr, rd) in matches {
                        out.push((lr.concat(rr), ld * rd));
                    }
                    if out.len() > FOLD_LIMIT {
                        return None;
                    }
                }
            }
            out
        }
        Plan::Union { inputs } if !inputs.is_empty() => {
            let mut out = vec![];
            for i in inputs {
                out.extend(constant(i)?.iter().cloned());
            }
            out
        }
        Plan::Negate { input } => constant(input)?
            .iter()
            .map(|(r, d)| (r.clone(), -d))
            .collect(),
        Plan::Reduce {
            input,
            group_key,
            aggregates,
        } => {
            // each aggregate's argument, then every aggregate's extra
            // arguments, as `aggregate::evaluate` reads them
            let cols = aggregates
                .iter()
                .map(|a| &a.expr)
                .chain(aggregates.iter().flat_map(|a| a.extra.iter()))
                .map(|e| match e {
                    Expr::Column(c) => Some(*c),
                    _ => None,
                })
                .collect::<Option<Vec<usize>>>()?;
            let mut groups: HashMap<Row, HashMap<Row, isize>> = HashMap::new();
            for (r, d) in constant(input)? {
                *groups
                    .entry(r.project(group_key))
                    .or_default()
                    .entry(r.project(&cols))
                    .or_default() += d;
            }
            let mut out = vec![];
            for (key, vals) in groups {
                let mut vals: Vec<(Row, isize)> =
                    vals.into_iter().filter(|(_, d)| *d != 0).collect();
                if vals.is_empty() {
                    continue;
                }
                if vals.iter().any(|(_, d)| *d < 0) {
                    return None;
                }
                vals.sort();
                let refs: Vec<(&Row, isize)> = vals.iter().map(|(r, d)| (r, *d)).collect();
                let agg = crate::aggregate::evaluate(aggregates, &refs).ok()?;
                out.push((key.concat(&agg), 1));
            }
            out
        }
        Plan::Distinct { input } => consolidate(constant(input)?.to_vec())
            .into_iter()
            .filter(|(_, d)| *d > 0)
            .map(|(r, _)| (r, 1))
            .collect(),
        Plan::Threshold { input } => consolidate(constant(input)?.to_vec())
            .into_iter()
            .filter(|(_, d)| *d > 0)
            .collect(),
        _ => return None,
    };
    Some(Plan::Constant {
        rows: std::sync::Arc::new(rows),
        arity,
    })
}

/// A filter `l.a = r.b` directly over a join of `l` and `r` also becomes a
/// key of the join, so the join matches by key instead of testing every
/// pair (decorrelated subqueries produce such filters over a cross join
/// with the outer values). The filter stays: join keys match NULL with
/// NULL, SQL's `=` does not. Only bare columns qualify, whose values are of
/// one type and compare as the join compares them.
pub fn join_equalities(mut plan: Plan) -> Plan {
    plan.visit_mut(&mut |p| {
        let Plan::Filter { input, predicates } = p else {
            return;
        };
        let Plan::Join {
            left,
            on,
            right_index: None,
            ..
        } = input.as_mut()
        else {
            return;
        };
        let la = left.arity();
        let mut parts = vec![];
        for pred in predicates.iter() {
            crate::bind::conjuncts(pred.clone(), &mut parts);
        }
        for part in parts {
            let Expr::Binary(BinaryOp::Eq, l, r) = &part else {
                continue;
            };
            let (Expr::Column(a), Expr::Column(b)) = (l.as_ref(), r.as_ref()) else {
                continue;
            };
            let key = match (*a < la, *b < la) {
                (true, false) => (*a, *b - la),
                (false, true) => (*b, *a - la),
                _ => continue,
            };
            if !on.contains(&key) {
                on.push(key);
            }
        }
    });
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog::GlobalId;

    fn get(id: u64, arity: usize) -> Plan {
        Plan::Get {
            id: GlobalId(id),
            name: "t".into(),
            arity,
        }
    }

    #[test]
    fn cross_join_equalities_become_keys() {
        let plan = Plan::Join {
            left: Box::new(get(1, 2)),
            right: Box::new(get(2, 2)),
            on: vec![],
            right_index: None,
        }
        .filter(vec![Expr::binary(
            BinaryOp::And,
            Expr::binary(BinaryOp::Eq, Expr::Column(3), Expr::Column(0)),
            Expr::binary(BinaryOp::Lt, Expr::Column(1), Expr::Column(2)),
        )]);
        let Plan::Filter { input, predicates } = join_equalities(plan) else {
            panic!("the filter stays")
        };
        assert_eq!(predicates.len(), 1);
        let Plan::Join { on, .. } = *input else {
            panic!("a join")
        };
        assert_eq!(on, vec![(0, 1)]);
    }
}
