//! Evaluation of window functions over one partition, as a differential
//! `reduce` presents it: distinct rows with positive multiplicities. Each
//! input row comes out once per copy with the calls' values appended.

use crate::render::compare;
use catalog::{sqlstate, Datum, Row, SqlError, SqlResult, F64};
use planner::aggregate;
use planner::{Aggregate, AggregateFunc, Expr, Frame, FrameBound, SortKey, WindowCall, WindowFunc};

/// The rows of one partition with the calls' values, consolidated.
pub fn evaluate(
    vals: &[(&Row, isize)],
    order: &[SortKey],
    calls: &[WindowCall],
) -> SqlResult<Vec<(Row, isize)>> {
    // one entry per copy, in window order; ties broken by the whole row so
    // that every worker and every run numbers alike
    let mut rows: Vec<&Row> = vec![];
    for (r, n) in vals {
        for _ in 0..*n {
            rows.push(r);
        }
    }
    rows.sort_by(|a, b| compare(a, b, order).then_with(|| a.cmp(b)));
    let n = rows.len();
    // peer groups: rows equal under ORDER BY
    let mut peer_start = vec![0; n];
    let mut peer_end = vec![0; n];
    let mut group = vec![0; n];
    for i in 1..n {
        let same = compare(rows[i - 1], rows[i], order).is_eq();
        peer_start[i] = if same { peer_start[i - 1] } else { i };
        group[i] = group[i - 1] + usize::from(!same);
    }
    for i in (0..n).rev() {
        peer_end[i] = if i + 1 < n && peer_start[i + 1] == peer_start[i] {
            peer_end[i + 1]
        } else {
            i
        };
    }
    let peers = Peers {
        rows: &rows,
        start: &peer_start,
        end: &peer_end,
    };
    let mut columns = Vec::with_capacity(calls.len());
    for call in calls {
        columns.push(evaluate_call(call, &peers, &group)?);
    }
    let mut out: Vec<(Row, isize)> = (0..n)
        .map(|i| {
            let mut row = rows[i].clone();
            for c in &columns {
                row.push(c[i].clone());
            }
            (row, 1)
        })
        .collect();
    out.sort();
    out.dedup_by(|next, kept| {
        let same = next.0 == kept.0;
        if same {
            kept.1 += next.1;
        }
        same
    });
    Ok(out)
}

/// A partition in window order and each row's peer group bounds.
struct Peers<'a> {
    rows: &'a [&'a Row],
    start: &'a [usize],
    end: &'a [usize],
}

impl Peers<'_> {
    /// The frame of row `i` as an index range, empty when it holds no row.
    fn frame(&self, f: &Frame, i: usize) -> std::ops::Range<usize> {
        let n = self.rows.len();
        let lo = match f.start {
            FrameBound::UnboundedPreceding => 0,
            FrameBound::Preceding(k) => i.saturating_sub(k as usize),
            FrameBound::CurrentRow if f.rows => i,
            FrameBound::CurrentRow => self.start[i],
            FrameBound::Following(k) => i.saturating_add(k as usize),
            FrameBound::UnboundedFollowing => n,
        };
        let hi = match f.end {
            FrameBound::UnboundedPreceding => 0,
            FrameBound::Preceding(k) => (i + 1).saturating_sub(k as usize),
            FrameBound::CurrentRow if f.rows => i + 1,
            FrameBound::CurrentRow => self.end[i] + 1,
            FrameBound::Following(k) => i.saturating_add(k as usize).saturating_add(1),
            FrameBound::UnboundedFollowing => n,
        };
        let hi = hi.min(n);
        lo.min(hi)..hi
    }
}

fn int_arg(row: &Row, col: usize) -> Option<i64> {
    match row.get(col) {
        Datum::Int32(v) => Some(*v as i64),
        Datum::Int64(v) => Some(*v),
        Datum::Int16(v) => Some(*v as i64),
        _ => None,
    }
}

/// The values of one call for every row of the partition.
fn evaluate_call(call: &WindowCall, p: &Peers, group: &[usize]) -> SqlResult<Vec<Datum>> {
    let rows = p.rows;
    let n = rows.len();
    let arg = |i: usize, k: usize| rows[i].get(call.args[k]).clone();
    let mut out = Vec::with_capacity(n);
    match call.func {
        WindowFunc::RowNumber => out.extend((0..n).map(|i| Datum::Int64(i as i64 + 1))),
        WindowFunc::Rank => out.extend((0..n).map(|i| Datum::Int64(p.start[i] as i64 + 1))),
        WindowFunc::DenseRank => out.extend((0..n).map(|i| Datum::Int64(group[i] as i64 + 1))),
        WindowFunc::PercentRank => out.extend((0..n).map(|i| {
            Datum::Float64(F64(if n > 1 {
                p.start[i] as f64 / (n - 1) as f64
            } else {
                0.0
            }))
        })),
        WindowFunc::CumeDist => {
            out.extend((0..n).map(|i| Datum::Float64(F64((p.end[i] + 1) as f64 / n as f64))))
        }
        WindowFunc::Ntile => {
            for (i, row) in rows.iter().enumerate() {
                out.push(match int_arg(row, call.args[0]) {
                    None => Datum::Null,
                    Some(k) if k <= 0 => {
                        return Err(SqlError::new(
                            sqlstate::INVALID_ARGUMENT_FOR_NTILE,
                            "argument of ntile must be greater than zero",
                        ))
                    }
                    Some(k) => Datum::Int32(ntile(i, n, k as usize) as i32),
                });
            }
        }
        WindowFunc::Lag | WindowFunc::Lead => {
            for (i, row) in rows.iter().enumerate() {
                out.push(match int_arg(row, call.args[1]) {
                    None => Datum::Null,
                    Some(off) => {
                        let off = if call.func == WindowFunc::Lag {
                            -off
                        } else {
                            off
                        };
                        let j = i as i64 + off;
                        if (0..n as i64).contains(&j) {
                            arg(j as usize, 0)
                        } else if call.args.len() > 2 {
                            arg(i, 2)
                        } else {
                            Datum::Null
                        }
                    }
                });
            }
        }
        WindowFunc::FirstValue | WindowFunc::LastValue | WindowFunc::NthValue => {
            for (i, row) in rows.iter().enumerate() {
                let f = p.frame(&call.frame, i);
                let pick = match call.func {
                    WindowFunc::FirstValue => Some(f.start),
                    WindowFunc::LastValue => f.end.checked_sub(1),
                    _ => match int_arg(row, call.args[1]) {
                        None => None,
                        Some(k) if k <= 0 => {
                            return Err(SqlError::new(
                                sqlstate::INVALID_ARGUMENT_FOR_NTH_VALUE,
                                "argument of nth_value must be greater than zero",
                            ))
                        }
                        Some(k) => f.start.checked_add(k as usize - 1),
                    },
                };
                out.push(match pick {
                    Some(j) if f.contains(&j) => arg(j, 0),
                    _ => Datum::Null,
                });
            }
        }
        WindowFunc::Aggregate(func) => {
            let col = call.args.first().copied().unwrap_or(0);
            let agg = Aggregate::new(func, Expr::Column(col), false);
            // frames that start at the partition's first row grow as the
            // row advances: such aggregates that combine take the previous
            // frame's value and add the rows past its end
            let combine = call.frame.start == FrameBound::UnboundedPreceding
                && matches!(
                    func,
                    AggregateFunc::Count
                        | AggregateFunc::CountStar
                        | AggregateFunc::Sum(_)
                        | AggregateFunc::Min
                        | AggregateFunc::Max
                        | AggregateFunc::BoolAnd
                        | AggregateFunc::BoolOr
                );
            let mut last: Option<(std::ops::Range<usize>, Datum)> = None;
            for i in 0..n {
                let f = p.frame(&call.frame, i);
                let value = match &last {
                    // peers and shared frames give the same value
                    Some((r, v)) if *r == f => v.clone(),
                    Some((r, v)) if combine && r.start == f.start && r.end <= f.end => {
                        let vals: Vec<(&Row, isize)> =
                            rows[r.end..f.end].iter().map(|r| (*r, 1)).collect();
                        let more = aggregate::evaluate_one(&agg, col, col, &vals)?;
                        combined(func, v.clone(), more)?
                    }
                    _ => {
                        let vals: Vec<(&Row, isize)> =
                            rows[f.clone()].iter().map(|r| (*r, 1)).collect();
                        aggregate::evaluate_one(&agg, col, col, &vals)?
                    }
                };
                last = Some((f, value.clone()));
                out.push(value);
            }
        }
    }
    Ok(out)
}

/// The aggregate over two disjoint row sets from the aggregate over each
/// (NULL: the set had no non-NULL value).
fn combined(func: AggregateFunc, a: Datum, b: Datum) -> SqlResult<Datum> {
    use planner::expr::BinaryOp;
    if a.is_null() {
        return Ok(b);
    }
    if b.is_null() {
        return Ok(a);
    }
    match func {
        AggregateFunc::Count | AggregateFunc::CountStar | AggregateFunc::Sum(_) => {
            planner::func::eval_binary(BinaryOp::Add, a, b)
        }
        AggregateFunc::Min => Ok(a.min(b)),
        AggregateFunc::Max => Ok(a.max(b)),
        AggregateFunc::BoolAnd => planner::func::eval_binary(BinaryOp::And, a, b),
        AggregateFunc::BoolOr => planner::func::eval_binary(BinaryOp::Or, a, b),
        other => Err(SqlError::internal(format!("{other:?} does not combine"))),
    }
}

/// PostgreSQL's ntile: `n` rows into `k` buckets, the first `n % k` one
/// row larger; the 1-based bucket of row `i`.
fn ntile(i: usize, n: usize, k: usize) -> usize {
    if k >= n {
        return i + 1;
    }
    let (q, r) = (n / k, n % k);
    let big = r * (q + 1);
    if i < big {
        i / (q + 1) + 1
    } else {
        (i - big) / q + r + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: &[i32]) -> Row {
        Row::new(v.iter().map(|x| Datum::Int32(*x)).collect())
    }

    fn call(func: WindowFunc, args: Vec<usize>) -> WindowCall {
        WindowCall {
            func,
            args,
            frame: Frame::DEFAULT,
        }
    }

    #[test]
    fn ranks_number_copies_and_peers() {
        let (a, b, c) = (row(&[1]), row(&[2]), row(&[3]));
        let vals = vec![(&a, 1), (&b, 2), (&c, 1)];
        let order = vec![SortKey {
            column: 0,
            desc: false,
            nulls_first: false,
        }];
        let calls = vec![
            call(WindowFunc::RowNumber, vec![]),
            call(WindowFunc::Rank, vec![]),
            call(WindowFunc::DenseRank, vec![]),
        ];
        let out = evaluate(&vals, &order, &calls).unwrap();
        let got: Vec<Vec<i64>> = out
            .iter()
            .map(|(r, _)| {
                r.iter()
                    .skip(1)
                    .map(|d| match d {
                        Datum::Int64(v) => *v,
                        _ => -1,
                    })
                    .collect()
            })
            .collect();
        assert_eq!(
            got,
            vec![vec![1, 1, 1], vec![2, 2, 2], vec![3, 2, 2], vec![4, 4, 3]]
        );
    }

    #[test]
    fn ntile_matches_postgres_bucket_sizes() {
        // 10 rows in 4 buckets: sizes 3, 3, 2, 2
        let got: Vec<usize> = (0..10).map(|i| ntile(i, 10, 4)).collect();
        assert_eq!(got, vec![1, 1, 1, 2, 2, 2, 3, 3, 4, 4]);
        assert_eq!(ntile(2, 3, 5), 3);
    }
}
