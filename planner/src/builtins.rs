//! More built-in scalar functions, with PostgreSQL's results and errors:
//! the string family (strpos, split_part, left/right, lpad/rpad, repeat,
//! reverse, initcap, concat_ws, starts_with), math (power, sqrt, exp, ln,
//! log, sign, pi) and date/time (date_trunc, extract, date_part, make_date).
//! Arguments arrive already cast to the types `signature` gives.

use crate::expr::Func;
use catalog::strconv::{self, MICROS_PER_DAY, MICROS_PER_SEC};
use catalog::{sqlstate, Datum, ScalarType, SqlError, SqlResult, F64};
use chrono::{Datelike, NaiveDate, Timelike};
use rust_decimal::Decimal;

/// The longest string these functions build (PostgreSQL's limit is 1 GB;
/// Ripple keeps results well below it).
const MAX_LEN: i64 = 10 * 1024 * 1024;

/// Argument types and result type of `func` for arguments of types `args`
/// (only where they vary: the datetime source of date_trunc and extract).
pub fn signature(func: Func, args: &[ScalarType]) -> Option<(Vec<ScalarType>, ScalarType)> {
    use ScalarType::*;
    let n = args.len();
    Some(match func {
        Func::StrPos => (vec![Text, Text], Int32),
        Func::StartsWith => (vec![Text, Text], Bool),
        Func::SplitPart => (vec![Text, Text, Int32], Text),
        Func::Left | Func::Right | Func::Repeat => (vec![Text, Int32], Text),
        Func::Lpad | Func::Rpad if n == 2 => (vec![Text, Int32], Text),
        Func::Lpad | Func::Rpad => (vec![Text, Int32, Text], Text),
        Func::Reverse | Func::Initcap => (vec![Text], Text),
        Func::Power => (vec![Float64, Float64], Float64),
        Func::Sqrt | Func::Exp | Func::Ln | Func::Log10 => (vec![Float64], Float64),
        Func::Pi => (vec![], Float64),
        Func::MakeDate => (vec![Int32, Int32, Int32], Date),
        Func::DateTrunc => {
            // a date meets date_trunc at timestamptz, as in PostgreSQL
            let t = match args.get(1) {
                Some(TimestampTz | Date) => TimestampTz,
                Some(Interval) => return None,
                _ => Timestamp,
            };
            (vec![Text, t], t)
        }
        Func::RegexpReplace if n == 3 => (vec![Text, Text, Text], Text),
        Func::RegexpReplace => (vec![Text, Text, Text, Text], Text),
        Func::RegexMatch | Func::RegexIMatch => (vec![Text, Text], Bool),
        Func::RegexpMatch | Func::RegexpSplitToArray if n == 2 => {
            (vec![Text, Text], Array(catalog::ElemType::Text))
        }
        Func::RegexpMatch | Func::RegexpSplitToArray => {
            (vec![Text, Text, Text], Array(catalog::ElemType::Text))
        }
        Func::RegexpLike if n == 2 => (vec![Text, Text], Bool),
        Func::RegexpLike => (vec![Text, Text, Text], Bool),
        Func::DateBin => {
            let t = match args.get(1) {
                Some(Timestamp) => Timestamp,
                _ => TimestampTz,
            };
            (vec![Interval, t, t], t)
        }
        Func::Age => {
            let t = if args.contains(&TimestampTz) {
                TimestampTz
            } else {
                Timestamp
            };
            (vec![t, t], Interval)
        }
        Func::ToChar => match args.first() {
            Some(t @ (Timestamp | TimestampTz)) => (vec![*t, Text], Text),
            Some(Date) => (vec![Timestamp, Text], Text),
            _ => return None,
        },
        Func::Extract | Func::DatePart => {
            let t = match args.get(1) {
                Some(t @ (Timestamp | TimestampTz | Date | Interval | Time)) => *t,
                _ => Timestamp,
            };
            let ret = if func == Func::Extract {
                Numeric(None)
            } else {
                Float64
            };
            (vec![Text, t], ret)
        }
        _ => return None,
    })
}

fn text(d: &Datum) -> &str {
    match d {
        Datum::Text(s) => s,
        _ => "",
    }
}

use crate::func::int_arg as int;

fn float(d: &Datum) -> f64 {
    match d {
        Datum::Float64(F64(f)) => *f,
        _ => 0.0,
    }
}

fn too_long() -> SqlError {
    SqlError::new("54000", "requested length too large")
}

fn invalid(msg: impl Into<String>) -> SqlError {
    SqlError::new(sqlstate::INVALID_PARAMETER_VALUE, msg)
}

/// Evaluates `func` on non-NULL arguments (the caller handles NULLs).
pub fn eval(func: Func, args: &[Datum]) -> SqlResult<Datum> {
    let a = |i: usize| args.get(i).unwrap_or(&Datum::Null);
    Ok(match func {
        Func::StrPos => {
            let (s, sub) = (text(a(0)), text(a(1)));
            Datum::Int32(match s.find(sub) {
                Some(byte) => s[..byte].chars().count() as i32 + 1,
                None => 0,
            })
        }
        Func::StartsWith => Datum::Bool(text(a(0)).starts_with(text(a(1)))),
        Func::SplitPart => {
            let (s, delim, n) = (text(a(0)), text(a(1)), int(a(2)));
            if n == 0 {
                return Err(invalid("field position must not be zero"));
            }
            let parts: Vec<&str> = if delim.is_empty() {
                vec![s]
            } else {
                s.split(delim).collect()
            };
            let idx = if n > 0 { n - 1 } else { parts.len() as i64 + n };
            let part = usize::try_from(idx).ok().and_then(|i| parts.get(i));
            Datum::Text(part.map_or(String::new(), |p| p.to_string()))
        }
        Func::Left | Func::Right => {
            let chars: Vec<char> = text(a(0)).chars().collect();
            let len = chars.len() as i64;
            let n = int(a(1));
            let keep = if n >= 0 { n.min(len) } else { (len + n).max(0) } as usize;
            let out: String = if func == Func::Left {
                chars[..keep].iter().collect()
            } else {
                chars[chars.len() - keep..].iter().collect()
            };
            Datum::Text(out)
        }
        Func::Lpad | Func::Rpad => {
            let s: Vec<char> = text(a(0)).chars().collect();
            let n = int(a(1));
            if n > MAX_LEN {
                return Err(too_long());
            }
            let n = n.max(0) as usize;
            let fill: Vec<char> = match args.get(2) {
                Some(f) => text(f).chars().collect(),
                None => vec![' '],
            };
            if s.len() >= n || fill.is_empty() {
                return Ok(Datum::Text(s[..n.min(s.len())].iter().collect()));
            }
            let pad: String = fill.iter().cycle().take(n - s.len()).collect();
            let s: String = s.into_iter().collect();
            Datum::Text(if func == Func::Lpad {
                pad + &s
            } else {
                s + &pad
            })
        }
        Func::Repeat => {
            let (s, n) = (text(a(0)), int(a(1)).max(0));
            if (s.len() as i64).saturating_mul(n) > MAX_LEN {
                return Err(too_long());
            }
            Datum::Text(s.repeat(n as usize))
        }
        Func::Reverse => Datum::Text(text(a(0)).chars().rev().collect()),
        Func::Initcap => {
            let mut out = String::new();
            let mut start = true;
            for c in text(a(0)).chars() {
                if c.is_alphanumeric() {
                    if start {
                        out.extend(c.to_uppercase());
                    } else {
                        out.extend(c.to_lowercase());
                    }
                    start = false;
                } else {
                    out.push(c);
                    start = true;
                }
            }
            Datum::Text(out)
        }
        Func::Power => {
            let (x, y) = (float(a(0)), float(a(1)));
            if x == 0.0 && y < 0.0 {
                return Err(SqlError::new(
                    "2201F",
                    "zero raised to a negative power is undefined",
                ));
            }
            if x < 0.0 && y.fract() != 0.0 {
                return Err(SqlError::new(
                    "2201F",
                    "a negative number raised to a non-integer power yields a complex result",
                ));
            }
            finite(x.powf(y))?
        }
        Func::Sqrt => {
            let x = float(a(0));
            if x < 0.0 {
                return Err(SqlError::new(
                    "2201F",
                    "cannot take square root of a negative number",
                ));
            }
            Datum::Float64(F64(x.sqrt()))
        }
        Func::Exp => finite(float(a(0)).exp())?,
        Func::Ln | Func::Log10 => {
            let x = float(a(0));
            if x == 0.0 {
                return Err(SqlError::new("2201E", "cannot take logarithm of zero"));
            }
            if x < 0.0 {
                return Err(SqlError::new(
                    "2201E",
                    "cannot take logarithm of a negative number",
                ));
            }
            Datum::Float64(F64(if func == Func::Ln { x.ln() } else { x.log10() }))
        }
        Func::Pi => Datum::Float64(F64(std::f64::consts::PI)),
        Func::MakeDate => {
            let (y, m, d) = (int(a(0)), int(a(1)), int(a(2)));
            // PostgreSQL counts year -1 as 1 BC, which is chrono's year 0
            let cy = if y < 0 { y + 1 } else { y };
            let date = (y != 0)
                .then(|| NaiveDate::from_ymd_opt(cy as i32, m as u32, d as u32))
                .flatten()
                .ok_or_else(|| {
                    SqlError::new(
                        sqlstate::DATETIME_FIELD_OVERFLOW,
                        format!("date field value out of range: {y}-{m:02}-{d:02}"),
                    )
                })?;
            Datum::Date(strconv::days_from_date(date))
        }
        Func::DateTrunc => {
            let unit = text(a(0)).to_lowercase();
            match a(1) {
                Datum::Timestamp(us) => Datum::Timestamp(trunc_ts(&unit, *us)?),
                Datum::TimestampTz(us) => Datum::TimestampTz(trunc_ts(&unit, *us)?),
                _ => Datum::Null,
            }
        }
        Func::Extract | Func::DatePart => {
            let field = text(a(0)).to_lowercase();
            let (value, scale) = extract(&field, a(1))?;
            if func == Func::DatePart {
                use rust_decimal::prelude::ToPrimitive;
                Datum::Float64(F64(value.to_f64().unwrap_or(f64::NAN)))
            } else {
                let mut v = value;
                v.rescale(scale);
                Datum::Numeric(v)
            }
        }
        Func::RegexpReplace => Datum::Text(crate::textdate::regexp_replace(
            text(a(0)),
            text(a(1)),
            text(a(2)),
            args.get(3).map(text).unwrap_or(""),
        )?),
        Func::RegexMatch | Func::RegexpLike => Datum::Bool(crate::textdate::regexp_like(
            text(a(0)),
            text(a(1)),
            args.get(2).map(text).unwrap_or(""),
        )?),
        Func::RegexIMatch => {
            Datum::Bool(crate::textdate::regex(text(a(1)), true)?.is_match(text(a(0))))
        }
        Func::RegexpMatch => crate::textdate::regexp_match(
            text(a(0)),
            text(a(1)),
            args.get(2).map(text).unwrap_or(""),
        )?,
        Func::RegexpSplitToArray => crate::textdate::regexp_split(
            text(a(0)),
            text(a(1)),
            args.get(2).map(text).unwrap_or(""),
        )?,
        Func::DateBin => {
            let stride = match a(0) {
                Datum::Interval(iv) => *iv,
                _ => return Ok(Datum::Null),
            };
            let (Some(source), Some(origin)) =
                (crate::textdate::micros(a(1)), crate::textdate::micros(a(2)))
            else {
                return Ok(Datum::Null);
            };
            let binned = crate::textdate::date_bin(&stride, source, origin)?;
            match a(1) {
                Datum::Timestamp(_) => Datum::Timestamp(binned),
                _ => Datum::TimestampTz(binned),
            }
        }
        Func::Age => match (crate::textdate::micros(a(0)), crate::textdate::micros(a(1))) {
            (Some(x), Some(y)) => Datum::Interval(crate::textdate::age(x, y)?),
            _ => Datum::Null,
        },
        Func::ToChar => match crate::textdate::micros(a(0)) {
            Some(us) => Datum::Text(crate::textdate::to_char(us, text(a(1)))?),
            None => Datum::Null,
        },
        _ => {
            return Err(SqlError::internal(format!(
                "{} is not a builtin",
                func.name()
            )))
        }
    })
}

fn finite(x: f64) -> SqlResult<Datum> {
    if x.is_infinite() {
        return Err(SqlError::new(
            sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
            "value out of range: overflow",
        ));
    }
    Ok(Datum::Float64(F64(x)))
}

fn unit_error(unit: &str, ty: &str) -> SqlError {
    SqlError::new(
        sqlstate::INVALID_PARAMETER_VALUE,
        format!("unit \"{unit}\" not recognized for type {ty}"),
    )
}

/// Truncates a timestamp (microseconds since 1970) to `unit`.
fn trunc_ts(unit: &str, us: i64) -> SqlResult<i64> {
    if us == i64::MAX || us == i64::MIN {
        return Ok(us);
    }
    let dt = strconv::datetime_from_micros(us);
    let date = dt.date();
    let day =
        |d: NaiveDate| strconv::micros_from_datetime(d.and_hms_opt(0, 0, 0).expect("midnight"));
    let ymd = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1).map(day);
    let floor_year = |n: i32| {
        // decades, centuries and millennia start at years ending in 0/01/001
        let y = date.year();
        match n {
            10 => y.div_euclid(10) * 10,
            100 => (y - 1).div_euclid(100) * 100 + 1,
            _ => (y - 1).div_euclid(1000) * 1000 + 1,
        }
    };
    let r = match unit {
        "microseconds" | "microsecond" => Some(us),
        "milliseconds" | "millisecond" => floor_to(us, 1000),
        "second" | "seconds" => floor_to(us, MICROS_PER_SEC),
        "minute" | "minutes" => floor_to(us, 60 * MICROS_PER_SEC),
        "hour" | "hours" => floor_to(us, 3600 * MICROS_PER_SEC),
        "day" | "days" => floor_to(us, MICROS_PER_DAY),
        "week" | "weeks" => {
            let monday =
                date - chrono::Duration::days(date.weekday().num_days_from_monday() as i64);
            Some(day(monday))
        }
        "month" | "months" => ymd(date.year(), date.month()),
        "quarter" => ymd(date.year(), (date.month() - 1) / 3 * 3 + 1),
        "year" | "years" => ymd(date.year(), 1),
        "decade" => ymd(floor_year(10), 1),
        "century" => ymd(floor_year(100), 1),
        "millennium" => ymd(floor_year(1000), 1),
        _ => return Err(unit_error(unit, "timestamp without time zone")),
    };
    r.ok_or_else(|| SqlError::new(sqlstate::DATETIME_FIELD_OVERFLOW, "timestamp out of range"))
}

/// `us` rounded down to a multiple of `unit` (None past the i64 range).
fn floor_to(us: i64, unit: i64) -> Option<i64> {
    us.div_euclid(unit).checked_mul(unit)
}

/// `extract(field FROM v)`: the value and the numeric scale PostgreSQL
/// gives it (6 for seconds and epoch, 3 for milliseconds, else 0).
fn extract(field: &str, v: &Datum) -> SqlResult<(Decimal, u32)> {
    let us = match v {
        // PostgreSQL gives ±Infinity for some fields of infinite values,
        // which Ripple's numeric cannot hold
        Datum::Timestamp(i64::MAX | i64::MIN)
        | Datum::TimestampTz(i64::MAX | i64::MIN)
        | Datum::Date(i32::MAX | i32::MIN) => {
            return Err(SqlError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "extract from an infinite date or timestamp is not supported",
            ))
        }
        Datum::Timestamp(us) | Datum::TimestampTz(us) => *us,
        Datum::Date(d) => (*d as i64)
            .checked_mul(MICROS_PER_DAY)
            .ok_or_else(|| SqlError::new(sqlstate::DATETIME_FIELD_OVERFLOW, "date out of range"))?,
        Datum::Interval(iv) => return extract_interval(field, iv),
        Datum::Time(us) => return extract_time(field, *us),
        _ => return Err(SqlError::internal("extract from a non-datetime")),
    };
    let dt = strconv::datetime_from_micros(us);
    let secs_frac = Decimal::new(
        (dt.second() as i64) * MICROS_PER_SEC + (dt.nanosecond() / 1000) as i64,
        6,
    );
    let int = |i: i64| (Decimal::from(i), 0);
    let y = dt.year() as i64;
    let is_date = matches!(v, Datum::Date(_));
    Ok(match field {
        "year" | "years" => int(if y <= 0 { y - 1 } else { y }),
        "month" | "months" => int(dt.month() as i64),
        "day" | "days" => int(dt.day() as i64),
        "hour" | "hours" if !is_date => int(dt.hour() as i64),
        "minute" | "minutes" if !is_date => int(dt.minute() as i64),
        "second" | "seconds" if !is_date => (secs_frac, 6),
        "millisecond" | "milliseconds" if !is_date => (secs_frac * Decimal::from(1000), 3),
        "microsecond" | "microseconds" if !is_date => {
            int(dt.second() as i64 * MICROS_PER_SEC + (dt.nanosecond() / 1000) as i64)
        }
        "epoch" => {
            let e = Decimal::new(us, 6);
            if is_date {
                (e.trunc(), 0)
            } else {
                (e, 6)
            }
        }
        "dow" => int(dt.weekday().num_days_from_sunday() as i64),
        "isodow" => int(dt.weekday().number_from_monday() as i64),
        "doy" => int(dt.ordinal() as i64),
        "week" => int(dt.iso_week().week() as i64),
        "isoyear" => int(dt.iso_week().year() as i64),
        "quarter" => int((dt.month() as i64 - 1) / 3 + 1),
        "decade" => int(y.div_euclid(10)),
        "century" => int(if y > 0 {
            (y + 99) / 100
        } else {
            -((99 - y) / 100)
        }),
        "millennium" => int(if y > 0 {
            (y + 999) / 1000
        } else {
            -((999 - y) / 1000)
        }),
        _ => {
            let ty = match v {
                Datum::Date(_) => "date",
                Datum::TimestampTz(_) => "timestamp with time zone",
                _ => "timestamp without time zone",
            };
            return Err(unit_error(field, ty));
        }
    })
}

fn extract_time(field: &str, us: i64) -> SqlResult<(Decimal, u32)> {
    let int = |i: i64| (Decimal::from(i), 0);
    let in_minute = us % (60 * MICROS_PER_SEC);
    Ok(match field {
        "hour" | "hours" => int(us / (3600 * MICROS_PER_SEC)),
        "minute" | "minutes" => int(us / (60 * MICROS_PER_SEC) % 60),
        "second" | "seconds" => (Decimal::new(in_minute, 6), 6),
        "millisecond" | "milliseconds" => (Decimal::new(in_minute, 3), 3),
        "microsecond" | "microseconds" => int(in_minute),
        "epoch" => (Decimal::new(us, 6), 6),
        "day" | "days" | "month" | "months" | "year" | "years" | "dow" | "isodow" | "doy"
        | "week" | "isoyear" | "quarter" | "decade" | "century" | "millennium" => {
            return Err(SqlError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                format!("unit \"{field}\" not supported for type time without time zone"),
            ))
        }
        _ => return Err(unit_error(field, "time without time zone")),
    })
}

fn extract_interval(field: &str, iv: &catalog::Interval) -> SqlResult<(Decimal, u32)> {
    let int = |i: i64| (Decimal::from(i), 0);
    let time = iv.micros;
    Ok(match field {
        "year" | "years" => int((iv.months / 12) as i64),
        "month" | "months" => int((iv.months % 12) as i64),
        "day" | "days" => int(iv.days as i64),
        "hour" | "hours" => int(time / (3600 * MICROS_PER_SEC)),
        "minute" | "minutes" => int(time / (60 * MICROS_PER_SEC) % 60),
        "second" | "seconds" => (Decimal::new(time % (60 * MICROS_PER_SEC), 6), 6),
        "epoch" => {
            // a month is 30 days and a year 365.25 days, as PostgreSQL counts
            let years = (iv.months / 12) as i64;
            let months = (iv.months % 12) as i64;
            let secs = Decimal::from(years) * Decimal::new(3_155_760_000, 2)
                + Decimal::from(months * 30 + iv.days as i64) * Decimal::from(86_400)
                + Decimal::new(time, 6);
            (secs, 6)
        }
        _ => return Err(unit_error(field, "interval")),
    })
}
