//! The difference type of accumulable reductions (count, sum, avg): a
//! group's sums and counts ride in the differences of one update per row,
//! and differential adds them up, so a change costs O(1) instead of a
//! re-read of its group. The slots' meaning is `planner::aggregate`'s.

use differential_dataflow::difference::{IsZero, Multiply, Semigroup};
use serde::{Deserialize, Serialize};

/// Sparse slots: (slot, amount), sorted by slot, no zero amounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Accum(Vec<(u32, i128)>);

impl Accum {
    /// From (slot, amount) pairs in any order, repeats added up.
    pub fn from_pairs(mut pairs: Vec<(u32, i128)>) -> Self {
        pairs.sort_unstable_by_key(|(s, _)| *s);
        let mut out: Vec<(u32, i128)> = Vec::with_capacity(pairs.len());
        for (s, v) in pairs {
            match out.last_mut() {
                Some((last, acc)) if *last == s => *acc = acc.wrapping_add(v),
                _ => out.push((s, v)),
            }
        }
        out.retain(|(_, v)| *v != 0);
        Accum(out)
    }

    /// The amount in `slot` (0 when absent).
    pub fn get(&self, slot: u32) -> i128 {
        self.0
            .binary_search_by_key(&slot, |(s, _)| *s)
            .map_or(0, |i| self.0[i].1)
    }
}

impl IsZero for Accum {
    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }
}

impl Semigroup for Accum {
    fn plus_equals(&mut self, rhs: &Self) {
        if rhs.0.is_empty() {
            return;
        }
        let (x, y) = (&self.0, &rhs.0);
        let mut merged = Vec::with_capacity(x.len().max(y.len()));
        let (mut i, mut j) = (0, 0);
        while i < x.len() || j < y.len() {
            let next = if j == y.len() || (i < x.len() && x[i].0 < y[j].0) {
                i += 1;
                x[i - 1]
            } else if i == x.len() || y[j].0 < x[i].0 {
                j += 1;
                y[j - 1]
            } else {
                i += 1;
                j += 1;
                (x[i - 1].0, x[i - 1].1.wrapping_add(y[j - 1].1))
            };
            if next.1 != 0 {
                merged.push(next);
            }
        }
        self.0 = merged;
    }
}

impl Multiply<isize> for Accum {
    type Output = Accum;
    fn multiply(mut self, rhs: &isize) -> Accum {
        if *rhs == 0 {
            return Accum::default();
        }
        for (_, v) in &mut self.0 {
            *v = v.wrapping_mul(*rhs as i128);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_add_up_and_cancel() {
        let mut a = Accum::from_pairs(vec![(3, 5), (0, 1), (3, 2)]);
        assert_eq!(a.get(3), 7);
        assert_eq!(a.get(9), 0);
        a.plus_equals(&Accum::from_pairs(vec![(1, 4), (0, 1)]));
        assert_eq!((a.get(0), a.get(1), a.get(3)), (2, 4, 7));
        // a retraction of everything leaves zero
        let minus = a.clone().multiply(&-1);
        a.plus_equals(&minus);
        assert!(a.is_zero());
        assert!(Accum::from_pairs(vec![(2, 1), (2, -1)]).is_zero());
    }
}
