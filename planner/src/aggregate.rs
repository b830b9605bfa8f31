//! Evaluation of aggregate functions over one group's values, as a
//! differential `reduce` presents them: distinct value rows with positive
//! multiplicities. Column `i` of each value row is aggregate `i`'s argument.

use crate::func::numeric_div;
use crate::plan::{Aggregate, AggregateFunc};
use catalog::{Datum, Interval, Row, SqlError, SqlResult, F32, F64};
use rust_decimal::Decimal;
use std::collections::BTreeSet;

/// Computes every aggregate of one group. Column `i` of each value row is
/// aggregate `i`'s argument; the aggregates' extra arguments follow, in
/// aggregate order.
pub fn evaluate(aggs: &[Aggregate], vals: &[(&Row, isize)]) -> SqlResult<Row> {
    let mut out = Row::new(Vec::with_capacity(aggs.len()));
    let mut extra_at = aggs.len();
    for (i, agg) in aggs.iter().enumerate() {
        out.push(evaluate_one(agg, i, extra_at, vals)?);
        extra_at += agg.extra.len();
    }
    Ok(out)
}

/// One aggregate whose argument is column `col` of the value rows and
/// whose extra arguments start at column `extra_at`.
pub fn evaluate_one(
    agg: &Aggregate,
    col: usize,
    extra_at: usize,
    vals: &[(&Row, isize)],
) -> SqlResult<Datum> {
    if agg.func == AggregateFunc::StringAgg {
        return string_agg(agg, col, extra_at, vals);
    }
    if matches!(agg.func, AggregateFunc::JsonbAgg | AggregateFunc::ArrayAgg) {
        if vals.is_empty() {
            return Ok(Datum::Null);
        }
        let rows = ordered(agg, col, extra_at, vals, true);
        let values = rows
            .into_iter()
            .flat_map(|(r, n)| std::iter::repeat_n(r.get(col).clone(), n as usize));
        if agg.func == AggregateFunc::ArrayAgg {
            return Ok(Datum::Array(values.collect()));
        }
        return crate::jsonfn::agg(values);
    }
    if agg.func == AggregateFunc::CountStar {
        return Ok(Datum::Int64(vals.iter().map(|(_, n)| *n as i64).sum()));
    }
    // Non-NULL values with multiplicities (1 each when DISTINCT).
    let values: Vec<(&Datum, i64)> = if agg.distinct {
        let set: BTreeSet<&Datum> = vals
            .iter()
            .map(|(r, _)| r.get(col))
            .filter(|d| !d.is_null())
            .collect();
        set.into_iter().map(|d| (d, 1)).collect()
    } else {
        vals.iter()
            .map(|(r, n)| (r.get(col), *n as i64))
            .filter(|(d, _)| !d.is_null())
            .collect()
    };
    let count: i64 = values.iter().map(|(_, n)| n).sum();
    Ok(match agg.func {
        AggregateFunc::CountStar
        | AggregateFunc::StringAgg
        | AggregateFunc::JsonbAgg
        | AggregateFunc::ArrayAgg => {
            unreachable!("handled above")
        }
        AggregateFunc::Count => Datum::Int64(count),
        _ if values.is_empty() => Datum::Null,
        AggregateFunc::Min => values
            .iter()
            .map(|(d, _)| *d)
            .min()
            .cloned()
            .unwrap_or(Datum::Null),
        AggregateFunc::Max => values
            .iter()
            .map(|(d, _)| *d)
            .max()
            .cloned()
            .unwrap_or(Datum::Null),
        AggregateFunc::BoolAnd => Datum::Bool(values.iter().all(|(d, _)| **d == Datum::Bool(true))),
        AggregateFunc::BoolOr => Datum::Bool(values.iter().any(|(d, _)| **d == Datum::Bool(true))),
        AggregateFunc::Sum(_) => sum(&values)?,
        AggregateFunc::VarSamp(_) => variance(&values, true, false)?,
        AggregateFunc::VarPop(_) => variance(&values, false, false)?,
        AggregateFunc::StddevSamp(_) => variance(&values, true, true)?,
        AggregateFunc::StddevPop(_) => variance(&values, false, true)?,
        AggregateFunc::Avg(_) => match sum(&values)? {
            Datum::Numeric(s) => Datum::Numeric(numeric_div(s, Decimal::from(count))?),
            Datum::Float64(F64(s)) => Datum::Float64(F64(s / count as f64)),
            other => return Err(SqlError::internal(format!("avg over {other:?}"))),
        },
    })
}

/// string_agg: the non-NULL values in the call's ORDER BY (by value
/// without one), each preceded by its row's delimiter except the first.
fn string_agg(
    agg: &Aggregate,
    col: usize,
    extra_at: usize,
    vals: &[(&Row, isize)],
) -> SqlResult<Datum> {
    let rows = ordered(agg, col, extra_at, vals, false);
    let mut out: Option<String> = None;
    for (r, n) in rows {
        let text = |d: &Datum| match d {
            Datum::Text(s) => s.clone(),
            _ => String::new(),
        };
        for _ in 0..n {
            match &mut out {
                None => out = Some(text(r.get(col))),
                Some(acc) => {
                    acc.push_str(&text(r.get(extra_at)));
                    acc.push_str(&text(r.get(col)));
                }
            }
        }
    }
    Ok(out.map(Datum::Text).unwrap_or(Datum::Null))
}

/// The value rows of an ordered aggregate (string_agg, jsonb_agg) in the
/// call's ORDER BY, then by value; NULL values dropped unless `nulls`;
/// one copy of each value with DISTINCT (whose ORDER BY is the value).
fn ordered<'r>(
    agg: &Aggregate,
    col: usize,
    extra_at: usize,
    vals: &[(&'r Row, isize)],
    nulls: bool,
) -> Vec<(&'r Row, isize)> {
    let order: Vec<crate::plan::SortKey> = agg
        .order
        .iter()
        .map(|k| crate::plan::SortKey {
            column: extra_at + k.column,
            ..k.clone()
        })
        .collect();
    let mut rows: Vec<(&Row, isize)> = vals
        .iter()
        .filter(|(r, _)| nulls || !r.get(col).is_null())
        .map(|(r, n)| (*r, if agg.distinct { 1 } else { *n }))
        .collect();
    // DISTINCT requires the ORDER BY to be the argument, so equal values
    // end up adjacent
    rows.sort_by(|a, b| {
        crate::plan::compare(a.0, b.0, &order).then_with(|| a.0.get(col).cmp(b.0.get(col)))
    });
    if agg.distinct {
        rows.dedup_by(|a, b| a.0.get(col) == b.0.get(col));
    }
    rows
}

/// Variance or standard deviation, sample or population, as PostgreSQL
/// computes them: exactly for numeric (N·Σx² − (Σx)² over N(N−1) or N²,
/// with numeric division's scale), Youngs-Cramer for double.
fn variance(values: &[(&Datum, i64)], sample: bool, sqrt: bool) -> SqlResult<Datum> {
    let n: i64 = values.iter().map(|(_, c)| c).sum();
    if n == 0 || (sample && n == 1) {
        return Ok(Datum::Null);
    }
    if let Datum::Float64(_) = values[0].0 {
        let (mut count, mut sx, mut sxx) = (0f64, 0f64, 0f64);
        for (d, c) in values {
            let x = match d {
                Datum::Float64(F64(x)) => *x,
                _ => 0.0,
            };
            for _ in 0..*c {
                count += 1.0;
                sx += x;
                if count > 1.0 {
                    let tmp = x * count - sx;
                    sxx += tmp * tmp / (count * (count - 1.0));
                }
            }
        }
        let v = sxx / if sample { count - 1.0 } else { count };
        return Ok(Datum::Float64(F64(if sqrt { v.sqrt() } else { v })));
    }
    let (mut sx, mut sxx) = (Decimal::ZERO, Decimal::ZERO);
    let big = || overflow("numeric");
    for (d, c) in values {
        if let Datum::Numeric(x) = d {
            let c = Decimal::from(*c);
            sx = x
                .checked_mul(c)
                .and_then(|t| sx.checked_add(t))
                .ok_or_else(big)?;
            sxx = x
                .checked_mul(*x)
                .and_then(|t| t.checked_mul(c))
                .and_then(|t| sxx.checked_add(t))
                .ok_or_else(big)?;
        }
    }
    let nd = Decimal::from(n);
    let numerator = nd
        .checked_mul(sxx)
        .and_then(|a| sx.checked_mul(sx).and_then(|b| a.checked_sub(b)))
        .ok_or_else(big)?;
    if numerator <= Decimal::ZERO {
        return Ok(Datum::Numeric(Decimal::ZERO));
    }
    let denominator = nd
        .checked_mul(if sample { nd - Decimal::ONE } else { nd })
        .ok_or_else(big)?;
    let v = numeric_div(numerator, denominator)?;
    if !sqrt {
        return Ok(Datum::Numeric(v));
    }
    use rust_decimal::MathematicalOps;
    let scale = v.scale();
    let mut r = v
        .sqrt()
        .ok_or_else(big)?
        .round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    r.rescale(scale);
    Ok(Datum::Numeric(r))
}

fn overflow(ty: &str) -> SqlError {
    SqlError::new(
        catalog::sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
        format!("{ty} out of range"),
    )
}

/// The sum of non-NULL values times their multiplicities, in the sum's
/// result type (bigint for smallint/integer input).
fn sum(values: &[(&Datum, i64)]) -> SqlResult<Datum> {
    match values[0].0 {
        Datum::Int16(_) | Datum::Int32(_) => {
            let mut acc: i64 = 0;
            for (d, n) in values {
                let v = match d {
                    Datum::Int16(i) => *i as i64,
                    Datum::Int32(i) => *i as i64,
                    _ => 0,
                };
                acc = v
                    .checked_mul(*n)
                    .and_then(|x| acc.checked_add(x))
                    .ok_or_else(|| overflow("bigint"))?;
            }
            Ok(Datum::Int64(acc))
        }
        Datum::Numeric(_) => {
            let mut acc = Decimal::ZERO;
            let mut scale = 0;
            for (d, n) in values {
                if let Datum::Numeric(v) = d {
                    let term = v
                        .checked_mul(Decimal::from(*n))
                        .ok_or_else(|| overflow("numeric"))?;
                    acc = acc.checked_add(term).ok_or_else(|| overflow("numeric"))?;
                    scale = scale.max(v.scale());
                }
            }
            Ok(Datum::Numeric(catalog::types::numeric_with_scale(
                acc, scale,
            )))
        }
        Datum::Float64(_) => Ok(Datum::Float64(F64(values
            .iter()
            .map(|(d, n)| {
                if let Datum::Float64(F64(f)) = d {
                    f * *n as f64
                } else {
                    0.0
                }
            })
            .sum()))),
        Datum::Float32(_) => Ok(Datum::Float32(F32(values
            .iter()
            .map(|(d, n)| {
                if let Datum::Float32(F32(f)) = d {
                    f * *n as f32
                } else {
                    0.0
                }
            })
            .sum()))),
        Datum::Interval(_) => {
            let mut acc = Interval::default();
            for (d, n) in values {
                if let Datum::Interval(iv) = d {
                    let n32 = i32::try_from(*n).map_err(|_| overflow("interval"))?;
                    acc.months = iv
                        .months
                        .checked_mul(n32)
                        .and_then(|m| acc.months.checked_add(m))
                        .ok_or_else(|| overflow("interval"))?;
                    acc.days = iv
                        .days
                        .checked_mul(n32)
                        .and_then(|m| acc.days.checked_add(m))
                        .ok_or_else(|| overflow("interval"))?;
                    acc.micros = iv
                        .micros
                        .checked_mul(*n)
                        .and_then(|m| acc.micros.checked_add(m))
                        .ok_or_else(|| overflow("interval"))?;
                }
            }
            Ok(Datum::Interval(acc))
        }
        other => Err(SqlError::internal(format!("sum over {other:?}"))),
    }
}

/// Slots of the accumulation an accumulable reduction carries in its
/// differences: slot 0 counts the group's rows; aggregate `i` owns the 64
/// slots from `1 + 64 * i`:
/// - `+0`: count(*) and count(x): the count; sum and avg: the sum of
///   smallint/integer values;
/// - `+1`: sum and avg: the non-NULL values;
/// - `+2 + 2s`, `+3 + 2s`: sum and avg of numeric values of scale `s`
///   (0 to 28): the sum of their mantissas, and how many there are, so the
///   result takes the largest scale still present, as PostgreSQL's does;
/// - `+63`: values of a type that does not accumulate (never planned).
const SLOTS: u32 = 64;
const UNEXPECTED: u32 = 63;

fn slot(agg: usize, offset: u32) -> u32 {
    1 + agg as u32 * SLOTS + offset
}

/// Whether every aggregate of a reduction can be computed from sums and
/// counts that insertions add and retractions subtract: count(*),
/// count(x), and sum and avg of integers and numerics (not DISTINCT). Such
/// a reduction costs O(1) per change instead of re-reading its group.
pub fn accumulable(aggs: &[Aggregate]) -> bool {
    use catalog::ScalarType::{Int64, Numeric};
    !aggs.is_empty()
        && aggs.iter().all(|a| {
            !a.distinct
                && a.extra.is_empty()
                && matches!(
                    a.func,
                    AggregateFunc::CountStar
                        | AggregateFunc::Count
                        | AggregateFunc::Sum(Int64 | Numeric(_))
                        | AggregateFunc::Avg(Numeric(_))
                )
        })
}

/// One row's contribution to the accumulation (`accumulable` aggregates;
/// column `i` of `vals` is aggregate `i`'s argument), as (slot, amount).
pub fn accumulate(aggs: &[Aggregate], vals: &Row, out: &mut Vec<(u32, i128)>) {
    out.push((0, 1));
    for (i, agg) in aggs.iter().enumerate() {
        let v = vals.get(i);
        match agg.func {
            AggregateFunc::CountStar => out.push((slot(i, 0), 1)),
            _ if v.is_null() => {}
            AggregateFunc::Count => out.push((slot(i, 0), 1)),
            _ => {
                out.push((slot(i, 1), 1));
                match v {
                    Datum::Int16(x) => out.push((slot(i, 0), *x as i128)),
                    Datum::Int32(x) => out.push((slot(i, 0), *x as i128)),
                    Datum::Int64(x) => out.push((slot(i, 0), *x as i128)),
                    Datum::Numeric(d) if d.scale() <= 28 => {
                        let s = d.scale();
                        out.push((slot(i, 2 + 2 * s), d.mantissa()));
                        out.push((slot(i, 3 + 2 * s), 1));
                    }
                    _ => out.push((slot(i, UNEXPECTED), 1)),
                }
            }
        }
    }
}

/// The aggregates' values from a group's accumulated slots (`get(slot)`,
/// 0 when absent): the same values `evaluate` computes from the rows.
pub fn finish_accumulated(aggs: &[Aggregate], get: impl Fn(u32) -> i128) -> SqlResult<Row> {
    let mut out = Row::new(Vec::with_capacity(aggs.len()));
    for (i, agg) in aggs.iter().enumerate() {
        if get(slot(i, UNEXPECTED)) != 0 {
            return Err(SqlError::internal(
                "an accumulated aggregate saw a value it cannot add",
            ));
        }
        let count = get(slot(i, 0));
        let datum = match agg.func {
            AggregateFunc::CountStar | AggregateFunc::Count => Datum::Int64(count as i64),
            _ => {
                let nonnull = get(slot(i, 1));
                if nonnull == 0 {
                    out.push(Datum::Null);
                    continue;
                }
                // the largest scale of the numeric values present
                let scale = (0..=28u32).rev().find(|s| get(slot(i, 3 + 2 * s)) != 0);
                let sum = match (scale, agg.func) {
                    (None, AggregateFunc::Sum(catalog::ScalarType::Int64)) => {
                        Datum::Int64(i64::try_from(count).map_err(|_| overflow("bigint"))?)
                    }
                    (None, _) => Datum::Numeric(
                        Decimal::try_from_i128_with_scale(count, 0)
                            .map_err(|_| overflow("numeric"))?,
                    ),
                    (Some(scale), _) => {
                        let mut total: i128 = 0;
                        for s in 0..=scale {
                            let part = get(slot(i, 2 + 2 * s));
                            let term = 10i128
                                .checked_pow(scale - s)
                                .and_then(|f| part.checked_mul(f))
                                .ok_or_else(|| overflow("numeric"))?;
                            total = total.checked_add(term).ok_or_else(|| overflow("numeric"))?;
                        }
                        let d = Decimal::try_from_i128_with_scale(total, scale)
                            .map_err(|_| overflow("numeric"))?;
                        Datum::Numeric(catalog::types::numeric_with_scale(d, scale))
                    }
                };
                match (agg.func, sum) {
                    (AggregateFunc::Avg(_), Datum::Numeric(s)) => {
                        Datum::Numeric(numeric_div(s, Decimal::from(nonnull as i64))?)
                    }
                    (_, sum) => sum,
                }
            }
        };
        out.push(datum);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Expr;

    fn agg(func: AggregateFunc, distinct: bool) -> Aggregate {
        Aggregate::new(func, Expr::Column(0), distinct)
    }

    /// Accumulating rows (and retracting some) then finishing gives what
    /// `evaluate` gives over the rows that remain.
    #[test]
    fn accumulation_matches_evaluation() {
        use catalog::ScalarType::{Int64, Numeric};
        let aggs: Vec<Aggregate> = [
            AggregateFunc::CountStar,
            AggregateFunc::Count,
            AggregateFunc::Sum(Numeric(None)),
            AggregateFunc::Avg(Numeric(None)),
            AggregateFunc::Sum(Int64),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, f)| Aggregate::new(f, Expr::Column(i), false))
        .collect();
        assert!(accumulable(&aggs));
        let num = |s: &str| Datum::Numeric(s.parse().expect("decimal"));
        let row = |n: Datum, i: Datum| Row::new(vec![n.clone(), n.clone(), n.clone(), n, i]);
        let rows = [
            row(num("1.5"), Datum::Int32(4)),
            row(num("-2.125"), Datum::Int32(-9)),
            row(Datum::Null, Datum::Null),
            row(num("7"), Datum::Int16(3)),
            row(num("0.30"), Datum::Int32(i32::MAX)),
        ];
        let mut slots = vec![];
        for r in &rows {
            accumulate(&aggs, r, &mut slots);
        }
        // retract the row of the largest scale and one integer
        let mut gone = vec![];
        accumulate(&aggs, &rows[1], &mut gone);
        slots.extend(gone.into_iter().map(|(s, v)| (s, -v)));
        let get = |slot: u32| -> i128 {
            slots
                .iter()
                .filter(|(s, _)| *s == slot)
                .map(|(_, v)| v)
                .sum()
        };
        let left: Vec<(&Row, isize)> = [0, 2, 3, 4].iter().map(|i| (&rows[*i], 1)).collect();
        assert_eq!(
            finish_accumulated(&aggs, get).expect("finish"),
            evaluate(&aggs, &left).expect("evaluate")
        );
        assert!(!accumulable(&[agg(AggregateFunc::Count, true)]));
        assert!(!accumulable(&[agg(AggregateFunc::Max, false)]));
    }

    #[test]
    fn aggregates_weigh_multiplicities_and_skip_nulls() {
        let a = Row::new(vec![Datum::Int32(2)]);
        let b = Row::new(vec![Datum::Int32(5)]);
        let n = Row::new(vec![Datum::Null]);
        let vals = vec![(&n, 1), (&a, 3), (&b, 1)];
        let ty = catalog::ScalarType::Int64;
        let run = |f, d| evaluate_one(&agg(f, d), 0, 1, &vals).unwrap();
        assert_eq!(run(AggregateFunc::CountStar, false), Datum::Int64(5));
        assert_eq!(run(AggregateFunc::Count, false), Datum::Int64(4));
        assert_eq!(run(AggregateFunc::Count, true), Datum::Int64(2));
        assert_eq!(run(AggregateFunc::Sum(ty), false), Datum::Int64(11));
        assert_eq!(run(AggregateFunc::Sum(ty), true), Datum::Int64(7));
        assert_eq!(run(AggregateFunc::Min, false), Datum::Int32(2));
        assert_eq!(run(AggregateFunc::Max, false), Datum::Int32(5));
    }

    #[test]
    fn variance_of_numeric_uses_postgres_scale() {
        let rows: Vec<Row> = [1, 2, 4]
            .iter()
            .map(|v| Row::new(vec![Datum::Numeric(Decimal::from(*v))]))
            .collect();
        let vals: Vec<(&Row, isize)> = rows.iter().map(|r| (r, 1)).collect();
        let ty = catalog::ScalarType::Numeric(None);
        let run = |f| {
            catalog::strconv::format_datum(&evaluate_one(&agg(f, false), 0, 1, &vals).unwrap())
                .unwrap()
        };
        // as PostgreSQL prints variance(x), stddev(x) over 1, 2, 4
        assert_eq!(run(AggregateFunc::VarSamp(ty)), "2.3333333333333333");
        assert_eq!(run(AggregateFunc::StddevSamp(ty)), "1.5275252316519467");
        assert_eq!(run(AggregateFunc::StddevPop(ty)), "1.2472191289246471");
    }

    #[test]
    fn avg_of_numeric_uses_postgres_scale() {
        let a = Row::new(vec![Datum::Numeric(Decimal::from(1))]);
        let b = Row::new(vec![Datum::Numeric(Decimal::from(2))]);
        let vals = vec![(&a, 1), (&b, 1)];
        let ty = catalog::ScalarType::Numeric(None);
        let d = evaluate_one(&agg(AggregateFunc::Avg(ty), false), 0, 1, &vals).unwrap();
        assert_eq!(
            catalog::strconv::format_datum(&d).unwrap(),
            "1.5000000000000000"
        );
    }
}
