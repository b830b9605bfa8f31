//! Evaluation of operators, functions and casts on datums, with PostgreSQL's
//! result types, rounding, overflow checks and error codes.

use crate::expr::{BinaryOp, Func, UnaryOp};
use catalog::strconv::{self, format_datum, MICROS_PER_DAY};
use catalog::{sqlstate, Datum, Interval, ScalarType, SqlError, SqlResult, F32, F64};
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};
use std::cmp::Ordering;

fn range(ty: &str) -> SqlError {
    SqlError::new(
        sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
        format!("{ty} out of range"),
    )
}

fn float_overflow(v: f64) -> SqlResult<f64> {
    if v.is_infinite() {
        Err(SqlError::new(
            sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
            "value out of range: overflow",
        ))
    } else {
        Ok(v)
    }
}

pub fn eval_unary(op: UnaryOp, v: Datum) -> SqlResult<Datum> {
    Ok(match op {
        UnaryOp::IsNull => Datum::Bool(v.is_null()),
        UnaryOp::IsNotNull => Datum::Bool(!v.is_null()),
        UnaryOp::IsTrue => Datum::Bool(v == Datum::Bool(true)),
        UnaryOp::IsNotTrue => Datum::Bool(v != Datum::Bool(true)),
        UnaryOp::IsFalse => Datum::Bool(v == Datum::Bool(false)),
        UnaryOp::IsNotFalse => Datum::Bool(v != Datum::Bool(false)),
        UnaryOp::Not => match v {
            Datum::Bool(b) => Datum::Bool(!b),
            _ => Datum::Null,
        },
        UnaryOp::Neg => match v {
            Datum::Null => Datum::Null,
            Datum::Int16(i) => Datum::Int16(i.checked_neg().ok_or_else(|| range("smallint"))?),
            Datum::Int32(i) => Datum::Int32(i.checked_neg().ok_or_else(|| range("integer"))?),
            Datum::Int64(i) => Datum::Int64(i.checked_neg().ok_or_else(|| range("bigint"))?),
            Datum::Float32(f) => Datum::Float32(F32(-f.0)),
            Datum::Float64(f) => Datum::Float64(F64(-f.0)),
            Datum::Numeric(n) => Datum::Numeric(-n),
            Datum::Interval(iv) => Datum::Interval(Interval {
                months: iv.months.checked_neg().ok_or_else(|| range("interval"))?,
                days: iv.days.checked_neg().ok_or_else(|| range("interval"))?,
                micros: iv.micros.checked_neg().ok_or_else(|| range("interval"))?,
            }),
            other => return Err(SqlError::internal(format!("cannot negate {other:?}"))),
        },
    })
}

/// SQL comparison of two values of one type: as `Datum` orders them, except
/// that intervals are equal when their spans are (`1 day` = `24 hours`).
pub fn sql_cmp(l: &Datum, r: &Datum) -> Ordering {
    match (l, r) {
        (Datum::Interval(a), Datum::Interval(b)) => a.as_micros_approx().cmp(&b.as_micros_approx()),
        // numerics compare by value (`1.5 = 1.50`)
        (Datum::Numeric(a), Datum::Numeric(b)) => a.cmp(b),
        _ => l.cmp(r),
    }
}

pub fn eval_binary(op: BinaryOp, l: Datum, r: Datum) -> SqlResult<Datum> {
    match op {
        BinaryOp::IsDistinctFrom => return Ok(Datum::Bool(sql_cmp(&l, &r) != Ordering::Equal)),
        BinaryOp::IsNotDistinctFrom => return Ok(Datum::Bool(sql_cmp(&l, &r) == Ordering::Equal)),
        _ => {}
    }
    if l.is_null() || r.is_null() {
        return Ok(Datum::Null);
    }
    let cmp = |f: fn(Ordering) -> bool| Ok(Datum::Bool(f(sql_cmp(&l, &r))));
    match op {
        BinaryOp::Eq => cmp(|o| o == Ordering::Equal),
        BinaryOp::NotEq => cmp(|o| o != Ordering::Equal),
        BinaryOp::Lt => cmp(|o| o == Ordering::Less),
        BinaryOp::LtEq => cmp(|o| o != Ordering::Greater),
        BinaryOp::Gt => cmp(|o| o == Ordering::Greater),
        BinaryOp::GtEq => cmp(|o| o != Ordering::Less),
        BinaryOp::Concat => {
            let (Some(a), Some(b)) = (text_of(&l), text_of(&r)) else {
                return Ok(Datum::Null);
            };
            Ok(Datum::Text(a + &b))
        }
        BinaryOp::Like | BinaryOp::ILike => match (l, r) {
            (Datum::Text(s), Datum::Text(p)) => {
                let ci = op == BinaryOp::ILike;
                Ok(Datum::Bool(like(&s, &p, ci)?))
            }
            _ => Err(SqlError::internal("LIKE on non-text")),
        },
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
            arith(op, l, r)
        }
        BinaryOp::BitAnd
        | BinaryOp::BitOr
        | BinaryOp::BitXor
        | BinaryOp::ShiftLeft
        | BinaryOp::ShiftRight => bitwise(op, l, r),
        BinaryOp::And | BinaryOp::Or | BinaryOp::IsDistinctFrom | BinaryOp::IsNotDistinctFrom => {
            unreachable!("handled above")
        }
    }
}

/// Integer bitwise operators; a shift count wraps at the type's width, as
/// PostgreSQL's C shifts do on common hardware.
fn bitwise(op: BinaryOp, l: Datum, r: Datum) -> SqlResult<Datum> {
    use BinaryOp::*;
    macro_rules! bits {
        ($a:expr, $b:expr, $ctor:path) => {{
            let (a, b) = ($a, $b);
            $ctor(match op {
                BitAnd => a & b,
                BitOr => a | b,
                _ => a ^ b,
            })
        }};
    }
    macro_rules! shift {
        ($a:expr, $n:expr, $ctor:path) => {{
            let (a, n) = ($a, $n as u32);
            $ctor(if op == ShiftLeft {
                a.wrapping_shl(n)
            } else {
                a.wrapping_shr(n)
            })
        }};
    }
    Ok(match (op, l, r) {
        (ShiftLeft | ShiftRight, Datum::Int16(a), Datum::Int32(n)) => shift!(a, n, Datum::Int16),
        (ShiftLeft | ShiftRight, Datum::Int32(a), Datum::Int32(n)) => shift!(a, n, Datum::Int32),
        (ShiftLeft | ShiftRight, Datum::Int64(a), Datum::Int32(n)) => shift!(a, n, Datum::Int64),
        (_, Datum::Int16(a), Datum::Int16(b)) => bits!(a, b, Datum::Int16),
        (_, Datum::Int32(a), Datum::Int32(b)) => bits!(a, b, Datum::Int32),
        (_, Datum::Int64(a), Datum::Int64(b)) => bits!(a, b, Datum::Int64),
        (op, l, r) => {
            return Err(SqlError::internal(format!(
                "bitwise {op:?} on {l:?} and {r:?}"
            )))
        }
    })
}

fn text_of(d: &Datum) -> Option<String> {
    match d {
        Datum::Bool(b) => Some(if *b { "true" } else { "false" }.into()),
        other => format_datum(other),
    }
}

fn arith(op: BinaryOp, l: Datum, r: Datum) -> SqlResult<Datum> {
    use BinaryOp::*;
    macro_rules! int_op {
        ($a:expr, $b:expr, $ctor:path, $name:expr) => {{
            let (a, b) = ($a, $b);
            let v = match op {
                Add => a.checked_add(b),
                Sub => a.checked_sub(b),
                Mul => a.checked_mul(b),
                Div | Mod if b == 0 => return Err(SqlError::division_by_zero()),
                Div => a.checked_div(b),
                Mod => Some(a.checked_rem(b).unwrap_or(0)),
                _ => unreachable!(),
            };
            Ok($ctor(v.ok_or_else(|| range($name))?))
        }};
    }
    match (l, r) {
        (Datum::Int16(a), Datum::Int16(b)) => int_op!(a, b, Datum::Int16, "smallint"),
        (Datum::Int32(a), Datum::Int32(b)) => int_op!(a, b, Datum::Int32, "integer"),
        (Datum::Int64(a), Datum::Int64(b)) => int_op!(a, b, Datum::Int64, "bigint"),
        (Datum::Float64(F64(a)), Datum::Float64(F64(b))) => {
            Ok(Datum::Float64(F64(float_arith(op, a, b)?)))
        }
        (Datum::Float32(F32(a)), Datum::Float32(F32(b))) => {
            let v = float_arith(op, a as f64, b as f64)? as f32;
            Ok(Datum::Float32(F32(float_overflow(v as f64)? as f32)))
        }
        (Datum::Numeric(a), Datum::Numeric(b)) => Ok(Datum::Numeric(numeric_arith(op, a, b)?)),
        (l, r) => datetime_arith(op, l, r),
    }
}

fn float_arith(op: BinaryOp, a: f64, b: f64) -> SqlResult<f64> {
    let v = match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div if b == 0.0 => return Err(SqlError::division_by_zero()),
        BinaryOp::Div => a / b,
        BinaryOp::Mod if b == 0.0 => return Err(SqlError::division_by_zero()),
        BinaryOp::Mod => a % b,
        _ => unreachable!(),
    };
    if v.is_infinite() && a.is_finite() && b.is_finite() {
        return float_overflow(v);
    }
    Ok(v)
}

fn numeric_overflow() -> SqlError {
    SqlError::new(
        sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
        "value overflows numeric format",
    )
}

pub fn numeric_arith(op: BinaryOp, a: Decimal, b: Decimal) -> SqlResult<Decimal> {
    // PostgreSQL's result scales: max of the operands' for + - %, their sum
    // for *.
    let max_scale = a.scale().max(b.scale());
    let r = match op {
        BinaryOp::Add => (a.checked_add(b), max_scale),
        BinaryOp::Sub => (a.checked_sub(b), max_scale),
        BinaryOp::Mul => (a.checked_mul(b), a.scale() + b.scale()),
        BinaryOp::Div => return numeric_div(a, b),
        BinaryOp::Mod => {
            if b.is_zero() {
                return Err(SqlError::division_by_zero());
            }
            (a.checked_rem(b), max_scale)
        }
        _ => unreachable!(),
    };
    match r {
        (Some(d), scale) => Ok(catalog::types::numeric_with_scale(d, scale)),
        (None, _) => Err(numeric_overflow()),
    }
}

/// Base-10000 weight and leading base-10000 digit of a non-zero decimal, as
/// PostgreSQL's numeric stores it.
fn weight_and_first_digit(d: Decimal) -> (i32, i64) {
    if d.is_zero() {
        return (0, 0);
    }
    let x = d.abs();
    let int_digits = x.trunc().to_string().trim_start_matches('0').len() as i32;
    let e10 = if int_digits > 0 {
        int_digits - 1
    } else {
        // count leading zeros after the decimal point
        let s = x.to_string();
        let frac = s.split('.').nth(1).unwrap_or("");
        -(frac.chars().take_while(|c| *c == '0').count() as i32) - 1
    };
    let w = e10.div_euclid(4);
    let scaled = if w >= 0 {
        x / Decimal::from_i128_with_scale(10i128.pow((4 * w) as u32), 0)
    } else {
        x * Decimal::from_i128_with_scale(10i128.pow((-4 * w) as u32), 0)
    };
    (w, scaled.trunc().to_i64().unwrap_or(1))
}

/// Numeric division with PostgreSQL's choice of result scale
/// (`select_div_scale`: at least 16 significant digits).
pub fn numeric_div(a: Decimal, b: Decimal) -> SqlResult<Decimal> {
    if b.is_zero() {
        return Err(SqlError::division_by_zero());
    }
    let (w1, f1) = weight_and_first_digit(a);
    let (w2, f2) = weight_and_first_digit(b);
    let mut qweight = w1 - w2;
    if f1 <= f2 {
        qweight -= 1;
    }
    let rscale = (16 - qweight * 4)
        .max(a.scale() as i32)
        .max(b.scale() as i32)
        .clamp(0, 28) as u32;
    let q = a.checked_div(b).ok_or_else(numeric_overflow)?;
    let mut q = q.round_dp_with_strategy(rscale, RoundingStrategy::MidpointAwayFromZero);
    q.rescale(rscale);
    Ok(q)
}

fn interval_to_micros_days(iv: &Interval) -> SqlResult<(i64, i32, i64)> {
    Ok((iv.months as i64, iv.days, iv.micros))
}

fn add_interval_to_ts(us: i64, iv: &Interval, sign: i64) -> SqlResult<i64> {
    if us == i64::MAX || us == i64::MIN {
        return Ok(us); // infinity stays infinite
    }
    let (months, days, micros) = interval_to_micros_days(iv)?;
    let mut dt = strconv::datetime_from_micros(us);
    if months != 0 {
        let m = months * sign;
        let n =
            chrono::Months::new(u32::try_from(m.unsigned_abs()).map_err(|_| range("timestamp"))?);
        dt = if m >= 0 {
            dt.checked_add_months(n)
        } else {
            dt.checked_sub_months(n)
        }
        .ok_or_else(|| range("timestamp"))?;
    }
    let us = strconv::micros_from_datetime(dt);
    (days as i64)
        .checked_mul(MICROS_PER_DAY)
        .and_then(|d| d.checked_add(micros))
        .and_then(|d| d.checked_mul(sign))
        .and_then(|d| us.checked_add(d))
        .ok_or_else(|| range("timestamp"))
}

/// A date as a timestamp at midnight; the infinities map to each other.
fn date_to_ts(d: i32) -> i64 {
    match d {
        i32::MAX => i64::MAX,
        i32::MIN => i64::MIN,
        // far beyond PostgreSQL's date range: saturate rather than wrap
        d => (d as i64).saturating_mul(MICROS_PER_DAY),
    }
}

fn datetime_arith(op: BinaryOp, l: Datum, r: Datum) -> SqlResult<Datum> {
    use BinaryOp::*;
    use Datum::*;
    Ok(match (op, l, r) {
        (Add, Timestamp(t), Interval(iv)) | (Add, Interval(iv), Timestamp(t)) => {
            Timestamp(add_interval_to_ts(t, &iv, 1)?)
        }
        (Sub, Timestamp(t), Interval(iv)) => Timestamp(add_interval_to_ts(t, &iv, -1)?),
        (Add, TimestampTz(t), Interval(iv)) | (Add, Interval(iv), TimestampTz(t)) => {
            TimestampTz(add_interval_to_ts(t, &iv, 1)?)
        }
        (Sub, TimestampTz(t), Interval(iv)) => TimestampTz(add_interval_to_ts(t, &iv, -1)?),
        (Sub, Timestamp(a), Timestamp(b)) | (Sub, TimestampTz(a), TimestampTz(b)) => {
            let infinite = |t: i64| t == i64::MAX || t == i64::MIN;
            if infinite(a) || infinite(b) {
                return Err(SqlError::new(
                    sqlstate::DATETIME_FIELD_OVERFLOW,
                    "cannot subtract infinite timestamps",
                ));
            }
            let d = a.checked_sub(b).ok_or_else(|| range("interval"))?;
            Interval(catalog::Interval {
                months: 0,
                days: (d / MICROS_PER_DAY) as i32,
                micros: d % MICROS_PER_DAY,
            })
        }
        (Add | Sub, Date(d @ (i32::MAX | i32::MIN)), Int32(_))
        | (Add, Int32(_), Date(d @ (i32::MAX | i32::MIN))) => {
            Date(d) // infinity stays infinite
        }
        (Add, Date(d), Int32(n)) | (Add, Int32(n), Date(d)) => {
            Date(d.checked_add(n).ok_or_else(|| range("date"))?)
        }
        (Sub, Date(d), Int32(n)) => Date(d.checked_sub(n).ok_or_else(|| range("date"))?),
        (Sub, Date(a), Date(b)) => {
            let infinite = |d: i32| d == i32::MAX || d == i32::MIN;
            if infinite(a) || infinite(b) {
                return Err(SqlError::new(
                    sqlstate::DATETIME_FIELD_OVERFLOW,
                    "cannot subtract infinite dates",
                ));
            }
            Int32(a.checked_sub(b).ok_or_else(|| range("integer"))?)
        }
        (Add, Date(d), Interval(iv)) | (Add, Interval(iv), Date(d)) => {
            Timestamp(add_interval_to_ts(date_to_ts(d), &iv, 1)?)
        }
        (Sub, Date(d), Interval(iv)) => Timestamp(add_interval_to_ts(date_to_ts(d), &iv, -1)?),
        // time ± interval wraps around midnight and ignores days and months
        (Add, Time(t), Interval(iv)) | (Add, Interval(iv), Time(t)) => {
            Time((t + iv.micros % MICROS_PER_DAY).rem_euclid(MICROS_PER_DAY))
        }
        (Sub, Time(t), Interval(iv)) => {
            Time((t - iv.micros % MICROS_PER_DAY).rem_euclid(MICROS_PER_DAY))
        }
        (Sub, Time(a), Time(b)) => Interval(catalog::Interval {
            months: 0,
            days: 0,
            micros: a - b,
        }),
        (Add, Date(d), Time(t)) | (Add, Time(t), Date(d)) => Timestamp(
            date_to_ts(d)
                .checked_add(t)
                .ok_or_else(|| range("timestamp"))?,
        ),
        (Add, Interval(a), Interval(b)) => Interval(catalog::Interval {
            months: a
                .months
                .checked_add(b.months)
                .ok_or_else(|| range("interval"))?,
            days: a
                .days
                .checked_add(b.days)
                .ok_or_else(|| range("interval"))?,
            micros: a
                .micros
                .checked_add(b.micros)
                .ok_or_else(|| range("interval"))?,
        }),
        (Sub, Interval(a), Interval(b)) => Interval(catalog::Interval {
            months: a
                .months
                .checked_sub(b.months)
                .ok_or_else(|| range("interval"))?,
            days: a
                .days
                .checked_sub(b.days)
                .ok_or_else(|| range("interval"))?,
            micros: a
                .micros
                .checked_sub(b.micros)
                .ok_or_else(|| range("interval"))?,
        }),
        (Mul, Interval(iv), Float64(F64(f))) | (Mul, Float64(F64(f)), Interval(iv)) => {
            Interval(scale_interval(&iv, f))
        }
        (Div, Interval(iv), Float64(F64(f))) => {
            if f == 0.0 {
                return Err(SqlError::division_by_zero());
            }
            Interval(scale_interval(&iv, 1.0 / f))
        }
        (op, l, r) => {
            return Err(SqlError::new(
                sqlstate::UNDEFINED_FUNCTION,
                format!("operator does not exist: {l:?} {op:?} {r:?}"),
            ))
        }
    })
}

/// Multiplies an interval as PostgreSQL does: fractional months spill into
/// days (30 per month) and fractional days into time.
fn scale_interval(iv: &Interval, f: f64) -> Interval {
    let months = iv.months as f64 * f;
    let whole_months = months.trunc();
    let days = iv.days as f64 * f + (months - whole_months) * 30.0;
    let whole_days = days.trunc();
    let micros = iv.micros as f64 * f + (days - whole_days) * MICROS_PER_DAY as f64;
    Interval {
        months: whole_months as i32,
        days: whole_days as i32,
        micros: micros.round() as i64,
    }
}

/// SQL LIKE with `%`, `_` and backslash escapes.
fn like(s: &str, p: &str, ci: bool) -> SqlResult<bool> {
    let (s, p): (Vec<char>, Vec<char>) = if ci {
        (
            s.to_lowercase().chars().collect(),
            p.to_lowercase().chars().collect(),
        )
    } else {
        (s.chars().collect(), p.chars().collect())
    };
    fn go(s: &[char], p: &[char]) -> SqlResult<bool> {
        match p.first() {
            None => Ok(s.is_empty()),
            Some('%') => {
                let rest = &p[1..];
                for i in 0..=s.len() {
                    if go(&s[i..], rest)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Some('_') => Ok(!s.is_empty() && go(&s[1..], &p[1..])?),
            Some('\\') => {
                let Some(c) = p.get(1) else {
                    return Err(SqlError::new(
                        "22025",
                        "LIKE pattern must not end with escape character",
                    ));
                };
                Ok(s.first() == Some(c) && go(&s[1..], &p[2..])?)
            }
            Some(c) => Ok(s.first() == Some(c) && go(&s[1..], &p[1..])?),
        }
    }
    go(&s, &p)
}

pub fn eval_call(f: Func, args: Vec<Datum>) -> SqlResult<Datum> {
    use Datum::*;
    let arg = |i: usize| args.get(i).cloned().unwrap_or(Null);
    Ok(match f {
        Func::Coalesce => args.into_iter().find(|a| !a.is_null()).unwrap_or(Null),
        Func::Raise => {
            return Err(SqlError::new(
                &text_of(&arg(0)).unwrap_or_default(),
                text_of(&arg(1)).unwrap_or_default(),
            ))
        }
        Func::SingleRow => match arg(0) {
            Int64(n) if n > 1 => {
                return Err(SqlError::new(
                    sqlstate::CARDINALITY_VIOLATION,
                    "more than one row returned by a subquery used as an expression",
                ))
            }
            _ => arg(1),
        },
        Func::NullIf => {
            let (a, b) = (arg(0), arg(1));
            if !b.is_null() && !a.is_null() && sql_cmp(&a, &b) == Ordering::Equal {
                Null
            } else {
                a
            }
        }
        Func::Greatest => args
            .into_iter()
            .filter(|a| !a.is_null())
            .max()
            .unwrap_or(Null),
        Func::Least => args
            .into_iter()
            .filter(|a| !a.is_null())
            .min()
            .unwrap_or(Null),
        Func::Concat => Text(args.iter().filter_map(text_of).collect()),
        Func::TzToLocal | Func::TzFromLocal | Func::TzFormat | Func::TzParse => {
            let zone = match &args[1] {
                Null => return Ok(Null),
                Text(z) => catalog::zone::Zone::parse(z).ok_or_else(|| {
                    SqlError::new(
                        sqlstate::INVALID_PARAMETER_VALUE,
                        format!("time zone \"{z}\" not recognized"),
                    )
                })?,
                other => {
                    return Err(SqlError::internal(format!("time zone {other:?}")));
                }
            };
            match (f, &args[0]) {
                (_, Null) => Null,
                (Func::TzToLocal, TimestampTz(us)) => Timestamp(zone.to_local(*us)),
                (Func::TzFromLocal, Timestamp(us)) => TimestampTz(zone.to_utc(*us)),
                (Func::TzFormat, TimestampTz(us)) => Text(strconv::format_timestamptz(*us, zone)),
                (Func::TzParse, Text(t)) => TimestampTz(strconv::parse_timestamptz(t, zone)?),
                (_, other) => return Err(SqlError::internal(format!("{} of {other:?}", f.name()))),
            }
        }
        Func::RecordField => match (&args[0], &args[1]) {
            (Record(fields), Int32(i)) => fields.get(*i as usize).cloned().unwrap_or(Null),
            _ => Null,
        },
        Func::JsonBuildObject | Func::JsonBuildArray | Func::ToJsonb => {
            return crate::jsonfn::eval(f, &args)
        }
        Func::ArrayCtor
        | Func::ArraySubscript
        | Func::ArrayAny
        | Func::ArrayAll
        | Func::ArrayLength
        | Func::Cardinality
        | Func::ArrayToString
        | Func::StringToArray
        | Func::ArrayAppend
        | Func::ArrayCat
        | Func::ArrayPosition => return crate::arrayfn::eval(f, &args),
        Func::FormatType
        | Func::QuoteIdent
        | Func::ParseIdent
        | Func::PgSizePretty
        | Func::PgCancelBackend
        | Func::PgTerminateBackend
        | Func::Format
        | Func::Lookup => return crate::syscat::eval(f, &args),
        Func::ConcatWs => match args.split_first() {
            Some((sep, rest)) if !sep.is_null() => {
                let parts: Vec<String> = rest.iter().filter_map(text_of).collect();
                Text(parts.join(&text_arg(sep)))
            }
            _ => Null,
        },
        _ if args.iter().any(|a| a.is_null()) => Null,
        Func::Abs => match arg(0) {
            Int16(i) => Int16(i.checked_abs().ok_or_else(|| range("smallint"))?),
            Int32(i) => Int32(i.checked_abs().ok_or_else(|| range("integer"))?),
            Int64(i) => Int64(i.checked_abs().ok_or_else(|| range("bigint"))?),
            Float32(x) => Float32(F32(x.0.abs())),
            Float64(x) => Float64(F64(x.0.abs())),
            Numeric(n) => Numeric(n.abs()),
            other => other,
        },
        Func::Round | Func::Trunc | Func::Ceil | Func::Floor => round_like(f, arg(0), args.get(1))?,
        Func::Upper => Text(text_arg(&arg(0)).to_uppercase()),
        Func::Lower => Text(text_arg(&arg(0)).to_lowercase()),
        Func::Length => Int32(text_arg(&arg(0)).chars().count() as i32),
        Func::Substr => {
            let s: Vec<char> = text_arg(&arg(0)).chars().collect();
            let start = int_arg(&arg(1));
            let end = match args.get(2) {
                Some(n) => {
                    let n = int_arg(n);
                    if n < 0 {
                        return Err(SqlError::new(
                            "22011",
                            "negative substring length not allowed",
                        ));
                    }
                    start.saturating_add(n)
                }
                None => i64::MAX,
            };
            let from = (start.max(1) - 1) as usize;
            let to = (end.max(1) - 1).min(s.len() as i64) as usize;
            Text(if from < to {
                s[from..to].iter().collect()
            } else {
                String::new()
            })
        }
        Func::Replace => {
            let from = text_arg(&arg(1));
            let s = text_arg(&arg(0));
            Text(if from.is_empty() {
                s
            } else {
                s.replace(&from, &text_arg(&arg(2)))
            })
        }
        Func::Trim | Func::LTrim | Func::RTrim => {
            let s = text_arg(&arg(0));
            let chars: Vec<char> = match args.get(1) {
                Some(c) => text_arg(c).chars().collect(),
                None => vec![' '],
            };
            let set = |c: char| chars.contains(&c);
            Text(match f {
                Func::Trim => s.trim_matches(set).to_string(),
                Func::LTrim => s.trim_start_matches(set).to_string(),
                _ => s.trim_end_matches(set).to_string(),
            })
        }
        // strict functions from `builtins`: NULL in, NULL out
        _ if args.iter().any(Datum::is_null) => Null,
        Func::JsonGet
        | Func::JsonGetText
        | Func::JsonPath
        | Func::JsonPathText
        | Func::JsonContains
        | Func::JsonContained
        | Func::JsonHasKey
        | Func::JsonConcat
        | Func::JsonTypeof
        | Func::JsonArrayLength => return crate::jsonfn::eval(f, &args),
        f => return crate::builtins::eval(f, &args),
    })
}

fn text_arg(d: &Datum) -> String {
    text_of(d).unwrap_or_default()
}

pub(crate) fn int_arg(d: &Datum) -> i64 {
    match d {
        Datum::Int16(i) => *i as i64,
        Datum::Int32(i) => *i as i64,
        Datum::Int64(i) => *i,
        _ => 0,
    }
}

fn round_like(f: Func, v: Datum, places: Option<&Datum>) -> SqlResult<Datum> {
    let dp = places.map(int_arg).unwrap_or(0);
    Ok(match v {
        Datum::Numeric(n) => {
            let rounded = match f {
                Func::Round => round_numeric(n, dp),
                Func::Trunc => n.round_dp_with_strategy(dp.max(0) as u32, RoundingStrategy::ToZero),
                Func::Ceil => n.ceil(),
                _ => n.floor(),
            };
            let mut r = rounded;
            if matches!(f, Func::Round | Func::Trunc) && dp >= 0 {
                r.rescale(dp as u32);
            }
            Datum::Numeric(r.normalize_zero())
        }
        Datum::Float64(F64(x)) => Datum::Float64(F64(match f {
            Func::Round => x.round_ties_even(),
            Func::Trunc => x.trunc(),
            Func::Ceil => x.ceil(),
            _ => x.floor(),
        })),
        other => other,
    })
}

trait NormalizeZero {
    fn normalize_zero(self) -> Self;
}

impl NormalizeZero for Decimal {
    /// PostgreSQL has no negative zero numeric.
    fn normalize_zero(mut self) -> Self {
        if self.is_zero() {
            self.set_sign_positive(true);
        }
        self
    }
}

fn round_numeric(n: Decimal, dp: i64) -> Decimal {
    if dp >= 0 {
        n.round_dp_with_strategy(dp as u32, RoundingStrategy::MidpointAwayFromZero)
    } else {
        let scale = Decimal::from_i128_with_scale(10i128.pow((-dp) as u32), 0);
        (n / scale).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero) * scale
    }
}

/// Converts `v` to type `to`, following PostgreSQL's cast rules.
pub fn cast(v: Datum, to: ScalarType) -> SqlResult<Datum> {
    use Datum::*;
    use ScalarType as T;
    if v.is_null() {
        return Ok(Null);
    }
    let int_range = |i: i128| -> SqlResult<Datum> {
        Ok(match to {
            T::Int16 => Int16(i16::try_from(i).map_err(|_| range("smallint"))?),
            T::Int32 => Int32(i32::try_from(i).map_err(|_| range("integer"))?),
            _ => Int64(i64::try_from(i).map_err(|_| range("bigint"))?),
        })
    };
    if let T::Numeric(Some(m)) = to {
        let Numeric(n) = cast(v, T::Numeric(None))? else {
            return Err(SqlError::internal("cast to numeric gave another type"));
        };
        return Ok(Numeric(strconv::apply_numeric_typmod(n, Some(m))?));
    }
    Ok(match (v, to) {
        (v @ Bool(_), T::Bool) => v,
        (Int16(i), T::Oid) => Int64(strconv::oid_from_int(i as i64).ok_or_else(|| range("oid"))?),
        (Int32(i), T::Oid) => Int64(strconv::oid_from_int(i as i64).ok_or_else(|| range("oid"))?),
        (Int64(i), T::Oid) => Int64(strconv::oid_from_int(i).ok_or_else(|| range("oid"))?),
        (Bool(b), T::Int32) => Int32(b as i32),
        (Int32(i), T::Bool) => Bool(i != 0),
        (Int16(i), t) if t.is_integer() => int_range(i as i128)?,
        (Int32(i), t) if t.is_integer() => int_range(i as i128)?,
        (Int64(i), t) if t.is_integer() => int_range(i as i128)?,
        (Int16(i), T::Numeric(_)) => Numeric(Decimal::from(i)),
        (Int32(i), T::Numeric(_)) => Numeric(Decimal::from(i)),
        (Int64(i), T::Numeric(_)) => Numeric(Decimal::from(i)),
        (Int16(i), T::Float64) => Float64(F64(i as f64)),
        (Int32(i), T::Float64) => Float64(F64(i as f64)),
        (Int64(i), T::Float64) => Float64(F64(i as f64)),
        (Int16(i), T::Float32) => Float32(F32(i as f32)),
        (Int32(i), T::Float32) => Float32(F32(i as f32)),
        (Int64(i), T::Float32) => Float32(F32(i as f32)),
        (Float64(F64(f)), t) if t.is_integer() => float_to_int(f, t)?,
        (Float32(F32(f)), t) if t.is_integer() => float_to_int(f as f64, t)?,
        (Float64(F64(f)), T::Float32) => Float32(F32(float_overflow(f)? as f32)),
        (Float32(F32(f)), T::Float64) => Float64(F64(f as f64)),
        (v @ Float64(_), T::Float64) | (v @ Float32(_), T::Float32) => v,
        (Float64(F64(f)), T::Numeric(_)) => Numeric(float_to_numeric(f)?),
        (Float32(F32(f)), T::Numeric(_)) => {
            Numeric(float_to_numeric(format!("{f}").parse().unwrap_or(0.0))?)
        }
        (Numeric(n), t) if t.is_integer() => {
            let r = n.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
            int_range(r.to_i128().ok_or_else(|| range(t.input_name()))?)?
        }
        (Numeric(n), T::Float64) => Float64(F64(n.to_f64().unwrap_or(f64::NAN))),
        (Numeric(n), T::Float32) => Float32(F32(n.to_f32().unwrap_or(f32::NAN))),
        (v @ Numeric(_), T::Numeric(_)) => v,
        (Jsonb(j), t) if t.is_numeric() || t == T::Bool => crate::jsonfn::cast_scalar(&j, t)?,
        (Array(items), T::Array(e)) => Array(
            items
                .into_iter()
                .map(|d| cast(d, e.scalar()))
                .collect::<SqlResult<Vec<_>>>()?,
        ),
        (v, T::Text | T::Varchar(None)) => Text(text_of(&v).unwrap_or_default()),
        (v, T::Varchar(Some(n))) => Text(
            text_of(&v)
                .unwrap_or_default()
                .chars()
                .take(n as usize)
                .collect(),
        ),
        (v, T::Char(n)) => {
            let s: String = text_of(&v)
                .unwrap_or_default()
                .chars()
                .take(n as usize)
                .collect();
            Text(strconv::pad_char(&s, n))
        }
        (Text(s), t) => strconv::parse_datum(&s, t)?,
        (Date(d), T::Timestamp) => Timestamp(date_to_ts(d)),
        (Date(d), T::TimestampTz) => TimestampTz(date_to_ts(d)),
        (Timestamp(t), T::Date) | (TimestampTz(t), T::Date) => Date(match t {
            i64::MAX => i32::MAX,
            i64::MIN => i32::MIN,
            t => t.div_euclid(MICROS_PER_DAY) as i32,
        }),
        (Timestamp(t), T::TimestampTz) => TimestampTz(t),
        (TimestampTz(t), T::Timestamp) => Timestamp(t),
        (v @ Timestamp(_), T::Timestamp)
        | (v @ TimestampTz(_), T::TimestampTz)
        | (v @ Date(_), T::Date) => v,
        (v @ Interval(_), T::Interval) => v,
        (Timestamp(t) | TimestampTz(t), T::Time) if t != i64::MAX && t != i64::MIN => {
            Time(t.rem_euclid(MICROS_PER_DAY))
        }
        (v @ Time(_), T::Time) => v,
        (Time(t), T::Interval) => Interval(catalog::Interval {
            months: 0,
            days: 0,
            micros: t,
        }),
        (Interval(iv), T::Time) => Time(iv.micros.rem_euclid(MICROS_PER_DAY)),
        (v, t) => {
            return Err(SqlError::new(
                sqlstate::CANNOT_COERCE,
                format!(
                    "cannot cast value {} to type {}",
                    text_of(&v).unwrap_or_default(),
                    t.name()
                ),
            ))
        }
    })
}

fn float_to_int(f: f64, to: ScalarType) -> SqlResult<Datum> {
    let r = f.round_ties_even();
    let err = || range(to.input_name());
    if !r.is_finite() {
        return Err(err());
    }
    Ok(match to {
        ScalarType::Int16 if r >= i16::MIN as f64 && r <= i16::MAX as f64 => Datum::Int16(r as i16),
        ScalarType::Int32 if r >= i32::MIN as f64 && r <= i32::MAX as f64 => Datum::Int32(r as i32),
        ScalarType::Int64 if r >= i64::MIN as f64 && r < i64::MAX as f64 => Datum::Int64(r as i64),
        _ => return Err(err()),
    })
}

fn float_to_numeric(f: f64) -> SqlResult<Decimal> {
    if !f.is_finite() {
        return Err(SqlError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            "cannot convert NaN or infinity to numeric",
        ));
    }
    let s = format_datum(&Datum::Float64(F64(f))).unwrap_or_default();
    strconv::parse_numeric(&s)
        .or_else(|| Decimal::from_f64(f))
        .ok_or_else(|| range("numeric"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn numeric_division_uses_postgres_scale() {
        assert_eq!(
            numeric_div(num("1"), num("3")).unwrap().to_string(),
            "0.33333333333333333333"
        );
        assert_eq!(
            numeric_div(num("3"), num("2")).unwrap().to_string(),
            "1.5000000000000000"
        );
        assert_eq!(
            numeric_div(num("10"), num("4")).unwrap().to_string(),
            "2.5000000000000000"
        );
        assert_eq!(
            numeric_div(num("12.50"), num("2")).unwrap().to_string(),
            "6.2500000000000000"
        );
        assert_eq!(numeric_div(num("1"), num("0")).unwrap_err().code, "22012");
    }

    #[test]
    fn integer_arithmetic_checks_overflow() {
        let e = eval_binary(BinaryOp::Add, Datum::Int32(i32::MAX), Datum::Int32(1)).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("22003", "integer out of range")
        );
        assert_eq!(
            eval_binary(BinaryOp::Div, Datum::Int32(7), Datum::Int32(2)).unwrap(),
            Datum::Int32(3)
        );
        assert_eq!(
            eval_binary(BinaryOp::Mod, Datum::Int32(-7), Datum::Int32(2)).unwrap(),
            Datum::Int32(-1)
        );
        assert_eq!(
            eval_binary(BinaryOp::Div, Datum::Int64(1), Datum::Int64(0))
                .unwrap_err()
                .code,
            "22012"
        );
    }

    #[test]
    fn casts_round_like_postgres() {
        assert_eq!(
            cast(Datum::Float64(F64(2.5)), ScalarType::Int32).unwrap(),
            Datum::Int32(2)
        );
        assert_eq!(
            cast(Datum::Numeric(num("2.5")), ScalarType::Int32).unwrap(),
            Datum::Int32(3)
        );
        assert_eq!(
            cast(Datum::Bool(true), ScalarType::Text).unwrap(),
            Datum::Text("true".into())
        );
        assert_eq!(
            cast(Datum::Text("x".into()), ScalarType::Int32)
                .unwrap_err()
                .code,
            "22P02"
        );
        assert_eq!(
            cast(Datum::Int64(1 << 40), ScalarType::Int32)
                .unwrap_err()
                .code,
            "22003"
        );
    }

    #[test]
    fn like_matches_wildcards() {
        assert!(like("hello", "h%o", false).unwrap());
        assert!(like("hello", "h_llo", false).unwrap());
        assert!(!like("hello", "H%", false).unwrap());
        assert!(like("hello", "H%", true).unwrap());
        assert!(like("50%", "50\\%", false).unwrap());
    }
}
