//! Plan rewrites applied after binding, each preserving the result:
//! equalities over a cross product become join keys, and `row_number() <= k`
//! filters read a Top-K (see `window::limit_ranked`).

use crate::expr::{BinaryOp, Expr};
use crate::plan::Plan;

/// The rewrites, in order.
pub fn optimize(plan: Plan) -> Plan {
    crate::window::limit_ranked(join_equalities(plan))
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
