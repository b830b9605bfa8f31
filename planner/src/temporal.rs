//! Temporal filters: in a view or a SUBSCRIBE (bound without a statement
//! time), a WHERE conjunct that compares `now()` (or `mz_now()`,
//! `current_timestamp`), optionally plus or minus an interval, with a
//! row's time becomes a [`TimeBound`]. The row then enters the result
//! when the clock reaches its lower bound and leaves it at its upper bound:
//! the dataflow schedules both as updates at those (future) times.
//!
//! `WHERE at + INTERVAL '5 minutes' > now()` keeps a row for five minutes
//! after `at`; `WHERE at <= now()` holds a future-dated row back until its
//! time comes.

use crate::bind::Binder;
use crate::bind_expr::{function_name, ExprCtx};
use crate::plan::TimeBound;
use crate::scope::Scope;
use catalog::{sqlstate, ScalarType, SqlError, SqlResult};
use sqlparser::ast::{self, BinaryOperator as Op, Expr as AstExpr};

/// True for a call of the clock: `now()`, `mz_now()`, `current_timestamp`, ….
fn is_clock(e: &AstExpr) -> bool {
    match e {
        AstExpr::Function(f) => matches!(
            function_name(f).as_str(),
            "now"
                | "mz_now"
                | "current_timestamp"
                | "transaction_timestamp"
                | "statement_timestamp"
        ),
        AstExpr::Nested(inner) => is_clock(inner),
        _ => false,
    }
}

/// `now()` plus or minus offsets: the offsets, each with `true` for plus.
fn clock_with_offsets(e: &AstExpr) -> Option<Vec<(bool, &AstExpr)>> {
    match e {
        _ if is_clock(e) => Some(vec![]),
        AstExpr::Nested(inner) => clock_with_offsets(inner),
        AstExpr::BinaryOp { left, op, right } if matches!(op, Op::Plus | Op::Minus) => {
            if let Some(mut offs) = clock_with_offsets(left) {
                if mentions_clock(right) {
                    return None;
                }
                offs.push((*op == Op::Plus, right));
                return Some(offs);
            }
            if *op == Op::Plus {
                if let Some(mut offs) = clock_with_offsets(right) {
                    if mentions_clock(left) {
                        return None;
                    }
                    offs.push((true, left));
                    return Some(offs);
                }
            }
            None
        }
        _ => None,
    }
}

/// Whether `e` calls the clock anywhere.
pub fn mentions_clock(e: &AstExpr) -> bool {
    let mut found = false;
    let _ = ast::visit_expressions(e, |x| {
        if is_clock(x) {
            found = true;
            return std::ops::ControlFlow::Break(());
        }
        std::ops::ControlFlow::Continue(())
    });
    found
}

/// `now() op x` for `x op' now()`.
fn flip(op: &Op) -> Op {
    match op {
        Op::Gt => Op::Lt,
        Op::GtEq => Op::LtEq,
        Op::Lt => Op::Gt,
        Op::LtEq => Op::GtEq,
        other => other.clone(),
    }
}

impl Binder<'_> {
    /// Splits WHERE conjuncts into the ordinary ones and the bounds of a
    /// temporal filter (only when there is no statement time: a view or a
    /// SUBSCRIBE; an ad hoc query's `now()` is its statement time).
    pub(crate) fn temporal_bounds<'e>(
        &self,
        conjuncts: Vec<&'e AstExpr>,
        scope: &Scope,
    ) -> SqlResult<(Vec<&'e AstExpr>, Vec<TimeBound>)> {
        if self.now.is_some() {
            return Ok((conjuncts, vec![]));
        }
        let mut rest = vec![];
        let mut bounds = vec![];
        for c in conjuncts {
            let AstExpr::BinaryOp { left, op, right } = c else {
                rest.push(c);
                continue;
            };
            if !matches!(op, Op::Gt | Op::GtEq | Op::Lt | Op::LtEq) {
                rest.push(c);
                continue;
            }
            // now() ± offsets  op  time
            let (offsets, op, time) = match (clock_with_offsets(left), clock_with_offsets(right)) {
                (Some(o), None) => (o, op.clone(), right),
                (None, Some(o)) => (o, flip(op), left),
                _ => {
                    rest.push(c);
                    continue;
                }
            };
            if mentions_clock(time) {
                rest.push(c);
                continue;
            }
            // now() + k op t  <=>  now() op t - k
            let mut moved: AstExpr = (**time).clone();
            for (plus, off) in offsets {
                moved = AstExpr::BinaryOp {
                    left: Box::new(AstExpr::Nested(Box::new(moved))),
                    op: if plus { Op::Minus } else { Op::Plus },
                    right: Box::new(AstExpr::Nested(Box::new(off.clone()))),
                };
            }
            let typed = self.bind_expr(
                &moved,
                ExprCtx {
                    scope,
                    agg: None,
                    clause: "WHERE",
                },
            )?;
            let expr = match typed.ty {
                ScalarType::TimestampTz | ScalarType::Timestamp => typed.expr,
                ScalarType::Date => typed.cast_to(ScalarType::Timestamp)?,
                _ if typed.unknown => typed.cast_to(ScalarType::TimestampTz)?,
                other => {
                    return Err(SqlError::new(
                        sqlstate::DATATYPE_MISMATCH,
                        format!(
                            "a temporal filter compares now() with a timestamp, not {}",
                            other.name()
                        ),
                    ))
                }
            };
            bounds.push(TimeBound {
                expr,
                lower: matches!(op, Op::Gt | Op::GtEq),
                strict: matches!(op, Op::Gt | Op::Lt),
            });
        }
        Ok((rest, bounds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(lower: bool, strict: bool) -> TimeBound {
        TimeBound {
            expr: crate::Expr::Literal(catalog::Datum::Null),
            lower,
            strict,
        }
    }

    #[test]
    fn boundaries_round_as_the_comparison_requires() {
        // now() >= 1500 µs: first valid ms is 2; now() > 2000 µs: 3
        assert_eq!(bound(true, false).boundary_ms(1500), 2);
        assert_eq!(bound(true, false).boundary_ms(2000), 2);
        assert_eq!(bound(true, true).boundary_ms(2000), 3);
        // now() < 2000 µs: invalid from 2; now() <= 2000 µs: from 3
        assert_eq!(bound(false, true).boundary_ms(2000), 2);
        assert_eq!(bound(false, true).boundary_ms(1500), 2);
        assert_eq!(bound(false, false).boundary_ms(2000), 3);
        assert_eq!(bound(false, false).boundary_ms(-1500), -1);
    }

    #[test]
    fn clock_offsets_are_found() {
        let e = crate::parse_expr("now() - INTERVAL '5 minutes'").expect("parses");
        let offs = clock_with_offsets(&e).expect("a clock expression");
        assert_eq!(offs.len(), 1);
        assert!(!offs[0].0);
        let e = crate::parse_expr("INTERVAL '1 day' + mz_now()").expect("parses");
        assert_eq!(clock_with_offsets(&e).map(|o| o.len()), Some(1));
        let e = crate::parse_expr("at + INTERVAL '1 day'").expect("parses");
        assert!(clock_with_offsets(&e).is_none());
        assert!(!mentions_clock(&e));
        let e = crate::parse_expr("now() - now()").expect("parses");
        assert!(clock_with_offsets(&e).is_none());
    }
}
