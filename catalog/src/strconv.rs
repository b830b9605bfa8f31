//! Text input and output of datums in PostgreSQL's exact formats (DateStyle
//! ISO, MDY; TimeZone UTC; extra_float_digits 1). Clients parse these strings,
//! so every byte matters.

use crate::error::{sqlstate, SqlError, SqlResult};
use crate::types::{Datum, Interval, ScalarType, F32, F64};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use rust_decimal::Decimal;
use std::fmt::Write;
use std::str::FromStr;

pub const MICROS_PER_SEC: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

/// The text form of `d`, or `None` for NULL.
/// A uuid in its canonical form (lower-case, hyphenated) from any of the
/// forms PostgreSQL accepts (hyphens anywhere between digit pairs, braces).
pub fn parse_uuid(t: &str) -> Option<String> {
    let inner = t
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(t);
    let hex: String = inner.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32
        || !hex.chars().all(|c| c.is_ascii_hexdigit())
        || inner.starts_with('-')
        || inner.ends_with('-')
        || inner.contains("--")
    {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// A uuid's 16 bytes from its canonical text.
pub fn uuid_bytes(s: &str) -> Option<Vec<u8>> {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    hex_decode(&hex)
}

fn hex_decode(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// bytea input: the hex format (`\x0a1b`, whitespace between pairs
/// allowed) or the escape format (`\\` and `\ooo` octal escapes).
pub fn parse_bytea(s: &str) -> Option<Vec<u8>> {
    if let Some(hex) = s.strip_prefix("\\x").or_else(|| s.strip_prefix("\\X")) {
        let hex: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
        return hex_decode(&hex);
    }
    let bytes = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
        } else if bytes.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let oct = s.get(i + 1..i + 4)?;
            out.push(u8::from_str_radix(oct, 8).ok()?);
            i += 4;
        }
    }
    Some(out)
}

/// bytea's output (PostgreSQL's default `bytea_output = hex`).
pub fn format_bytea(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * b.len());
    s.push_str("\\x");
    for byte in b {
        s.push_str(&format!("{byte:02x}"));
    }
    s
}

/// A bytea's bytes from its stored hex text.
pub fn bytea_bytes(s: &str) -> Option<Vec<u8>> {
    hex_decode(s.strip_prefix("\\x")?)
}

/// An int2vector's text: its elements separated by spaces.
pub fn format_vector(items: &[Datum]) -> String {
    items
        .iter()
        .filter_map(format_datum)
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn format_datum(d: &Datum) -> Option<String> {
    Some(match d {
        Datum::Null => return None,
        Datum::Bool(b) => if *b { "t" } else { "f" }.to_string(),
        Datum::Int16(i) => i.to_string(),
        Datum::Int32(i) => i.to_string(),
        Datum::Int64(i) => i.to_string(),
        Datum::Float32(F32(f)) => {
            format_float(format!("{:e}", f), f.is_nan(), f.is_infinite(), *f < 0.0, 6)
        }
        Datum::Float64(F64(f)) => format_float(
            format!("{:e}", f),
            f.is_nan(),
            f.is_infinite(),
            *f < 0.0,
            15,
        ),
        Datum::Numeric(n) => n.to_string(),
        Datum::Text(s) => s.clone(),
        Datum::Date(i32::MAX) | Datum::Timestamp(i64::MAX) | Datum::TimestampTz(i64::MAX) => {
            "infinity".into()
        }
        Datum::Date(i32::MIN) | Datum::Timestamp(i64::MIN) | Datum::TimestampTz(i64::MIN) => {
            "-infinity".into()
        }
        Datum::Date(days) => format_date(*days),
        Datum::Time(us) => format_time(*us),
        Datum::Timestamp(us) => format_timestamp(*us),
        Datum::TimestampTz(us) => format!("{}+00", format_timestamp(*us)),
        Datum::Interval(iv) => format_interval(iv),
        Datum::Jsonb(s) => s.clone(),
        Datum::Array(items) => format_array(items),
        Datum::Record(fields) => format_record(fields),
    })
}

/// A timestamptz as PostgreSQL prints it in `zone`: local time and offset
/// (`2024-07-15 08:00:00-04`).
pub fn format_timestamptz(us: i64, zone: crate::zone::Zone) -> String {
    match us {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        us => format!(
            "{}{}",
            format_timestamp(zone.to_local(us)),
            crate::zone::format_offset(zone.offset_at(us))
        ),
    }
}

/// A timestamptz from text: a value with an offset (`+02`, `Z`, ` UTC`)
/// means that instant, one without is local time in `zone`.
pub fn parse_timestamptz(t: &str, zone: crate::zone::Zone) -> SqlResult<i64> {
    let bad = || {
        let mut e = SqlError::invalid_input("timestamp with time zone", t);
        e.code = sqlstate::INVALID_DATETIME_FORMAT.into();
        e
    };
    let trimmed = t.trim();
    let has_offset = split_offset(trimmed).0.len() != trimmed.len();
    if has_offset
        || matches!(
            trimmed.to_ascii_lowercase().as_str(),
            "infinity" | "+infinity" | "-infinity" | "epoch"
        )
    {
        return parse_timestamp(trimmed, true).ok_or_else(bad);
    }
    let local = parse_timestamp(trimmed, false).ok_or_else(bad)?;
    Ok(zone.to_utc(local))
}

/// A composite's text form, as PostgreSQL's `record_out`: `(1,"a b",)`; a
/// NULL field is empty, a field is quoted when it is empty or holds
/// parentheses, commas, quotes, backslashes or white space, and quotes and
/// backslashes inside are doubled.
pub fn format_record(fields: &[Datum]) -> String {
    let mut out = String::from("(");
    for (i, d) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let Some(s) = format_datum(d) else { continue };
        let quote = s.is_empty()
            || s.chars()
                .any(|c| matches!(c, '(' | ')' | ',' | '"' | '\\') || c.is_whitespace());
        if quote {
            out.push('"');
            for c in s.chars() {
                if c == '"' || c == '\\' {
                    out.push(c);
                }
                out.push(c);
            }
            out.push('"');
        } else {
            out.push_str(&s);
        }
    }
    out.push(')');
    out
}

/// An array's text form: `{1,2,NULL}`, elements quoted when they are empty,
/// spell NULL, or hold braces, commas, quotes, backslashes or white space.
pub fn format_array(items: &[Datum]) -> String {
    let mut out = String::from("{");
    for (i, d) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match format_datum(d) {
            None => out.push_str("NULL"),
            Some(s) => {
                let quote = s.is_empty()
                    || s.eq_ignore_ascii_case("null")
                    || s.chars()
                        .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_whitespace());
                if quote {
                    out.push('"');
                    for c in s.chars() {
                        if c == '"' || c == '\\' {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                    out.push('"');
                } else {
                    out.push_str(&s);
                }
            }
        }
    }
    out.push('}');
    out
}

/// Parses an array's text form (one dimension) into elements of `elem`.
pub fn parse_array(s: &str, elem: crate::types::ElemType) -> SqlResult<Vec<Datum>> {
    let malformed = |detail: &str| {
        SqlError::new(
            sqlstate::INVALID_TEXT_REPRESENTATION,
            format!("malformed array literal: \"{s}\""),
        )
        .with_detail(detail.to_string())
    };
    let t = s.trim();
    let inner = t
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .ok_or_else(|| malformed("Array value must start with \"{\" or dimension information."))?;
    let mut items = vec![];
    if inner.trim().is_empty() {
        return Ok(items);
    }
    let chars: Vec<char> = inner.chars().collect();
    let mut i = 0;
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let mut text = String::new();
        let mut quoted = false;
        if i < chars.len() && chars[i] == '"' {
            quoted = true;
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(malformed("Unexpected end of input.")),
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        if let Some(c) = chars.get(i + 1) {
                            text.push(*c);
                        }
                        i += 2;
                    }
                    Some(c) => {
                        text.push(*c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < chars.len() && chars[i] != ',' {
                match chars[i] {
                    '{' | '}' | '"' => {
                        return Err(match chars[i] {
                            '{' => SqlError::unsupported("multidimensional arrays"),
                            _ => malformed("Unexpected array element."),
                        })
                    }
                    '\\' => {
                        if let Some(c) = chars.get(i + 1) {
                            text.push(*c);
                        }
                        i += 2;
                        continue;
                    }
                    c => text.push(c),
                }
                i += 1;
            }
            text = text.trim_end().to_string();
        }
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if !quoted && text.is_empty() {
            return Err(malformed("Unexpected \",\" character."));
        }
        items.push(if !quoted && text.eq_ignore_ascii_case("null") {
            Datum::Null
        } else {
            parse_datum(&text, elem.scalar())?
        });
        match chars.get(i) {
            None => break,
            Some(',') => i += 1,
            Some(_) => return Err(malformed("Unexpected array element.")),
        }
    }
    Ok(items)
}

/// Lays out Rust's shortest round-trip digits (`{:e}` form, e.g. `1.5e-5`) the
/// way PostgreSQL's float output does: fixed notation for decimal exponents in
/// `-4..digits`, otherwise `1.5e-05` with at least two exponent digits.
fn format_float(sci: String, nan: bool, inf: bool, neg: bool, digits: i32) -> String {
    if nan {
        return "NaN".into();
    }
    if inf {
        return if neg { "-Infinity" } else { "Infinity" }.into();
    }
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let all_digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if all_digits == "0" {
        return format!("{sign}0");
    }
    if exp < -4 || exp >= digits {
        let (first, rest) = all_digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    let n = all_digits.len() as i32;
    if exp < 0 {
        format!("{sign}0.{}{}", "0".repeat((-exp - 1) as usize), all_digits)
    } else if exp + 1 >= n {
        format!("{sign}{}{}", all_digits, "0".repeat((exp + 1 - n) as usize))
    } else {
        let (int, frac) = all_digits.split_at((exp + 1) as usize);
        format!("{sign}{int}.{frac}")
    }
}

pub fn epoch_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")
}

pub fn date_from_days(days: i32) -> NaiveDate {
    epoch_date() + chrono::Duration::days(days as i64)
}

pub fn days_from_date(d: NaiveDate) -> i32 {
    (d - epoch_date()).num_days() as i32
}

pub fn datetime_from_micros(us: i64) -> NaiveDateTime {
    DateTime::from_timestamp_micros(us)
        .map(|d| d.naive_utc())
        .unwrap_or_default()
}

pub fn micros_from_datetime(dt: NaiveDateTime) -> i64 {
    dt.and_utc().timestamp_micros()
}

fn format_year(y: i32) -> (String, &'static str) {
    if y <= 0 {
        (format!("{:04}", 1 - y), " BC")
    } else {
        (format!("{:04}", y), "")
    }
}

fn format_date(days: i32) -> String {
    let d = date_from_days(days);
    let (y, bc) = format_year(d.year());
    format!("{}-{:02}-{:02}{}", y, d.month(), d.day(), bc)
}

/// `HH:MM:SS` plus a fraction with trailing zeros removed.
fn format_time_of_day(h: i64, m: i64, s: i64, micros: i64) -> String {
    let mut out = format!("{:02}:{:02}:{:02}", h, m, s);
    if micros != 0 {
        let frac = format!("{:06}", micros);
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out
}

/// A time of day: `HH:MM:SS[.ffffff]` (24:00:00 allowed).
pub fn format_time(us: i64) -> String {
    let secs = us.div_euclid(MICROS_PER_SEC);
    format_time_of_day(
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        us.rem_euclid(MICROS_PER_SEC),
    )
}

/// Why a `time` input was refused.
#[derive(Debug, PartialEq)]
pub enum TimeInputError {
    /// Not of the form `HH:MM[:SS[.ffffff]]`.
    Syntax,
    /// Well formed, but a field is past its range (`10:61`, `24:00:01`).
    Range,
}

/// A time of day in microseconds from `HH:MM[:SS[.ffffff]]`; a zone after
/// it is ignored, as PostgreSQL's `time` ignores it.
pub fn parse_time_micros(t: &str) -> Result<i64, TimeInputError> {
    use TimeInputError::*;
    let mut t = t.trim();
    if t.eq_ignore_ascii_case("allballs") {
        return Ok(0);
    }
    // a date before the time (`2024-01-02 10:00`) is read and dropped
    if let Some((d, rest)) = t.split_once([' ', 'T']) {
        if parse_date(d).is_some() {
            t = rest;
        }
    }
    let t = split_offset(t).0.trim();
    let mut parts = t.split(':');
    let mut field = || -> Result<i64, TimeInputError> {
        let f = parts.next().ok_or(Syntax)?;
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Syntax);
        }
        f.parse().map_err(|_| Range)
    };
    let h = field()?;
    let m = field()?;
    let (s, micros) = match parts.next() {
        Some(sec) => parse_seconds(sec).ok_or(Syntax)?,
        None => (0, 0),
    };
    if parts.next().is_some() {
        return Err(Syntax);
    }
    if m > 59 || s > 60 {
        return Err(Range);
    }
    let us = ((h * 60 + m) * 60 + s as i64) * MICROS_PER_SEC + micros as i64;
    if us > 24 * 3600 * MICROS_PER_SEC {
        return Err(Range);
    }
    Ok(us)
}

fn format_timestamp(us: i64) -> String {
    let dt = datetime_from_micros(us);
    let (y, bc) = format_year(dt.year());
    let t = format_time_of_day(
        dt.hour() as i64,
        dt.minute() as i64,
        dt.second() as i64,
        (dt.nanosecond() / 1000) as i64,
    );
    // BC goes after the time zone in PostgreSQL; timestamptz appends "+00"
    // after this, so BC dates of timestamptz are rare enough to ignore here.
    format!("{}-{:02}-{:02} {}{}", y, dt.month(), dt.day(), t, bc)
}

/// PostgreSQL's default ("postgres") interval style.
pub fn format_interval(iv: &Interval) -> String {
    let mut out = String::new();
    let mut prior_negative = false;
    let mut field = |out: &mut String, value: i64, unit: &str| {
        if value == 0 {
            return;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        let plus = if prior_negative && value > 0 { "+" } else { "" };
        let s = if value == 1 { "" } else { "s" };
        let _ = write!(out, "{plus}{value} {unit}{s}");
        prior_negative = value < 0;
    };
    let years = (iv.months / 12) as i64;
    let months = (iv.months % 12) as i64;
    field(&mut out, years, "year");
    field(&mut out, months, "mon");
    field(&mut out, iv.days as i64, "day");
    if iv.micros != 0 || out.is_empty() {
        if !out.is_empty() {
            out.push(' ');
        }
        let neg = iv.micros < 0;
        let total = iv.micros.unsigned_abs() as i64;
        let sign = if neg {
            "-"
        } else if prior_negative {
            "+"
        } else {
            ""
        };
        let secs = total / MICROS_PER_SEC;
        out.push_str(sign);
        out.push_str(&format_time_of_day(
            secs / 3600,
            (secs / 60) % 60,
            secs % 60,
            total % MICROS_PER_SEC,
        ));
    }
    out
}

/// Parses `s` as a value of type `ty`, with PostgreSQL's errors.
pub fn parse_datum(s: &str, ty: ScalarType) -> SqlResult<Datum> {
    let bad = || {
        let mut e = SqlError::invalid_input(ty.input_name(), s);
        if matches!(
            ty,
            ScalarType::Date
                | ScalarType::Timestamp
                | ScalarType::TimestampTz
                | ScalarType::Interval
        ) {
            e.code = sqlstate::INVALID_DATETIME_FORMAT.into();
            // A well-formed date with an impossible field is "out of range".
            let digits_ok = s.trim().len() >= 10
                && s.trim().as_bytes()[4] == b'-'
                && s.trim()[..4].bytes().all(|b| b.is_ascii_digit());
            if ty != ScalarType::Interval && digits_ok {
                e = SqlError::new(
                    sqlstate::DATETIME_FIELD_OVERFLOW,
                    format!("date/time field value out of range: \"{s}\""),
                );
            }
        }
        e
    };
    let t = s.trim();
    Ok(match ty {
        ScalarType::Bool => Datum::Bool(parse_bool(t).ok_or_else(bad)?),
        ScalarType::Int16 => {
            Datum::Int16(parse_int(s, ty)?.try_into().map_err(|_| range_err(s, ty))?)
        }
        ScalarType::Int32 => {
            Datum::Int32(parse_int(s, ty)?.try_into().map_err(|_| range_err(s, ty))?)
        }
        ScalarType::Int64 => Datum::Int64(parse_int(s, ty)?),
        ScalarType::Oid => Datum::Int64(
            oid_from_int(parse_int(s, ScalarType::Int64)?).ok_or_else(|| range_err(s, ty))?,
        ),
        ScalarType::Float32 => {
            let f = parse_float(t).ok_or_else(bad)?;
            let f32v = f as f32;
            let inf_word = t.to_ascii_lowercase().contains("inf");
            if (f32v.is_infinite() && !inf_word) || (f32v == 0.0 && has_nonzero_mantissa(t)) {
                return Err(SqlError::new(
                    sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
                    format!("\"{s}\" is out of range for type real"),
                ));
            }
            Datum::Float32(F32(f32v))
        }
        ScalarType::Float64 => {
            let f = parse_float(t).ok_or_else(bad)?;
            if (f.is_infinite() && !t.to_ascii_lowercase().contains("inf"))
                || (f == 0.0 && has_nonzero_mantissa(t))
            {
                return Err(SqlError::new(
                    sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
                    format!("\"{s}\" is out of range for type double precision"),
                ));
            }
            Datum::Float64(F64(f))
        }
        ScalarType::Numeric(m) => {
            Datum::Numeric(apply_numeric_typmod(parse_numeric(t).ok_or_else(bad)?, m)?)
        }
        ScalarType::Text | ScalarType::Varchar(None) => Datum::Text(s.to_string()),
        ScalarType::Varchar(Some(n)) => Datum::Text(check_length(s, n, "character varying")?),
        ScalarType::Char(n) => Datum::Text(pad_char(&check_length(s, n, "character")?, n)),
        ScalarType::Date => Datum::Date(parse_date(t).ok_or_else(bad)?),
        ScalarType::Timestamp => Datum::Timestamp(parse_timestamp(t, false).ok_or_else(bad)?),
        ScalarType::TimestampTz => Datum::TimestampTz(parse_timestamp(t, true).ok_or_else(bad)?),
        ScalarType::Interval => Datum::Interval(parse_interval(t).ok_or_else(bad)?),
        ScalarType::Jsonb => Datum::Jsonb(crate::json::canonical(s)?),
        ScalarType::Array(e) => Datum::Array(parse_array(s, e)?),
        ScalarType::Uuid => Datum::Text(parse_uuid(t).ok_or_else(bad)?),
        ScalarType::Record(_) => {
            return Err(SqlError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "input of anonymous composite types is not implemented",
            ))
        }
        ScalarType::Time => Datum::Time(parse_time_micros(t).map_err(|e| match e {
            TimeInputError::Syntax => {
                let mut e = bad();
                e.code = sqlstate::INVALID_DATETIME_FORMAT.into();
                e
            }
            TimeInputError::Range => SqlError::new(
                sqlstate::DATETIME_FIELD_OVERFLOW,
                format!("date/time field value out of range: \"{s}\""),
            ),
        })?),
        ScalarType::Bytea => Datum::Text(format_bytea(&parse_bytea(s).ok_or_else(|| {
            SqlError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                format!("invalid input syntax for type bytea: \"{s}\""),
            )
        })?)),
        ScalarType::Int2Vector => Datum::Array(
            t.split_whitespace()
                .map(|w| parse_datum(w, ScalarType::Int16))
                .collect::<SqlResult<Vec<_>>>()?,
        ),
    })
}

fn range_err(s: &str, ty: ScalarType) -> SqlError {
    SqlError::new(
        sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
        format!(
            "value \"{}\" is out of range for type {}",
            s,
            ty.input_name()
        ),
    )
}

/// Trims trailing blanks beyond `n` and rejects longer strings (22001).
pub fn check_length(s: &str, n: u32, type_name: &str) -> SqlResult<String> {
    let len = s.chars().count();
    if len <= n as usize {
        return Ok(s.to_string());
    }
    let kept: String = s.chars().take(n as usize).collect();
    if s.chars().skip(n as usize).all(|c| c == ' ') {
        return Ok(kept);
    }
    Err(SqlError::new(
        sqlstate::STRING_DATA_RIGHT_TRUNCATION,
        format!("value too long for type {type_name}({n})"),
    ))
}

/// Blank-pads to `n` characters, as char(n) stores.
pub fn pad_char(s: &str, n: u32) -> String {
    let len = s.chars().count();
    let mut out = s.to_string();
    for _ in len..n as usize {
        out.push(' ');
    }
    out
}

/// An integer as an oid: PostgreSQL accepts -2^31..2^32 and wraps negative
/// values (`-1::oid` is 4294967295).
pub fn oid_from_int(v: i64) -> Option<i64> {
    (-(1i64 << 31)..(1i64 << 32))
        .contains(&v)
        .then_some(v as u32 as i64)
}

pub fn parse_bool(t: &str) -> Option<bool> {
    let l = t.to_ascii_lowercase();
    match l.as_str() {
        "t" | "tr" | "tru" | "true" | "y" | "ye" | "yes" | "on" | "1" => Some(true),
        "f" | "fa" | "fal" | "fals" | "false" | "n" | "no" | "of" | "off" | "0" => Some(false),
        _ => None,
    }
}

fn parse_int(s: &str, ty: ScalarType) -> SqlResult<i64> {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SqlError::invalid_input(ty.input_name(), s));
    }
    t.parse::<i64>().map_err(|_| range_err(s, ty))
}

pub fn parse_float(t: &str) -> Option<f64> {
    match t.to_ascii_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "infinity" | "+infinity" | "inf" | "+inf" => Some(f64::INFINITY),
        "-infinity" | "-inf" => Some(f64::NEG_INFINITY),
        l if l.contains("inf") || l.contains("nan") || l.is_empty() => None,
        _ => t.parse::<f64>().ok(),
    }
}

/// Rounds `n` to numeric(p,s)'s scale (half away from zero) and checks its
/// precision, as PostgreSQL's assignment and cast to numeric(p,s) do.
pub fn apply_numeric_typmod(n: Decimal, m: Option<(u16, i16)>) -> SqlResult<Decimal> {
    let Some((p, s)) = m else {
        return Ok(n);
    };
    let strategy = rust_decimal::RoundingStrategy::MidpointAwayFromZero;
    let mut r = if s >= 0 {
        let mut r = n.round_dp_with_strategy(s as u32, strategy);
        r.rescale(s as u32);
        r
    } else {
        let unit = Decimal::from(10i64.pow(s.unsigned_abs() as u32));
        ((n / unit).round_dp_with_strategy(0, strategy)) * unit
    };
    // |r| must be below 10^(p - s)
    let digits = p as i32 - s as i32;
    let too_big = if digits >= 0 {
        let int_part = r.abs().trunc();
        !int_part.is_zero() && int_part.to_string().len() as i32 > digits
    } else {
        r.abs() >= Decimal::new(1, digits.unsigned_abs())
    };
    if too_big {
        return Err(SqlError::new(
            sqlstate::NUMERIC_VALUE_OUT_OF_RANGE,
            "numeric field overflow",
        )
        .with_detail(format!(
            "A field with precision {p}, scale {s} must round to an absolute value less than {}.",
            if digits == 0 {
                "1".to_string()
            } else {
                format!("10^{digits}")
            }
        )));
    }
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    Ok(r)
}

/// Whether a float literal has a nonzero digit before its exponent (so a
/// parse to 0 means underflow).
fn has_nonzero_mantissa(t: &str) -> bool {
    t.split(['e', 'E'])
        .next()
        .is_some_and(|m| m.bytes().any(|b| (b'1'..=b'9').contains(&b)))
}

pub fn parse_numeric(t: &str) -> Option<Decimal> {
    if t.is_empty() || t.contains(['_', ' ']) {
        return None;
    }
    if t.contains(['e', 'E']) {
        return Decimal::from_scientific(t).ok();
    }
    Decimal::from_str(t).ok()
}

/// Parses `YYYY-MM-DD` or `YYYYMMDD`, optionally followed by a time part
/// that is ignored (as PostgreSQL does), or `infinity`/`-infinity`.
pub fn parse_date(t: &str) -> Option<i32> {
    match t.to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" => return Some(i32::MAX),
        "-infinity" => return Some(i32::MIN),
        "epoch" => return Some(0),
        _ => {}
    }
    let date = match t.split_once([' ', 'T']) {
        Some((d, time)) => {
            // a time and/or a zone after the date are ignored
            let time = time.trim();
            let zone_only = (time.starts_with(['+', '-'])
                && time.len() > 1
                && time[1..].chars().all(|c| c.is_ascii_digit() || c == ':'))
                || ["UTC", "GMT", "Z"].contains(&time.to_ascii_uppercase().as_str());
            if !zone_only {
                parse_time(split_offset(time).0.trim())?;
            }
            d
        }
        None => t,
    };
    let d = parse_ymd(date)?;
    let days = days_from_date(d);
    // the infinities are reserved
    (days != i32::MAX && days != i32::MIN).then_some(days)
}

fn parse_ymd(t: &str) -> Option<NaiveDate> {
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::from_ymd_opt(
            t[..4].parse().ok()?,
            t[4..6].parse().ok()?,
            t[6..].parse().ok()?,
        );
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
}

/// Parses `YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]][offset]`. An offset is applied
/// for timestamptz and ignored for timestamp (as PostgreSQL does).
pub fn parse_timestamp(t: &str, tz: bool) -> Option<i64> {
    match t.to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" => return Some(i64::MAX),
        "-infinity" => return Some(i64::MIN),
        "epoch" => return Some(0),
        _ => {}
    }
    let (body, offset_secs) = split_offset(t);
    let body = body.trim();
    let dt = if let Some((date, time)) = body.split_once([' ', 'T']) {
        NaiveDateTime::new(parse_ymd(date)?, parse_time(time.trim())?)
    } else {
        parse_ymd(body)?.and_hms_opt(0, 0, 0)?
    };
    let mut us = micros_from_datetime(dt);
    if tz {
        us = us.checked_sub(offset_secs.checked_mul(MICROS_PER_SEC)?)?;
    }
    Some(us)
}

fn parse_time(t: &str) -> Option<NaiveTime> {
    let mut parts = t.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let (s, micros) = match parts.next() {
        Some(sec) => parse_seconds(sec)?,
        None => (0, 0),
    };
    if parts.next().is_some() {
        return None;
    }
    if h == 24 && m == 0 && s == 0 && micros == 0 {
        return NaiveTime::from_hms_opt(23, 59, 59).map(|t| t + chrono::Duration::seconds(1));
    }
    NaiveTime::from_hms_micro_opt(h, m, s, micros)
}

fn parse_seconds(sec: &str) -> Option<(u32, u32)> {
    match sec.split_once('.') {
        Some((s, frac)) => {
            if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let mut digits: String = frac.chars().take(7).collect();
            while digits.len() < 7 {
                digits.push('0');
            }
            // round half up at microseconds
            let seven: u32 = digits.parse().ok()?;
            let micros = (seven + 5) / 10;
            Some((s.parse().ok()?, micros))
        }
        None => Some((sec.parse().ok()?, 0)),
    }
}

/// Splits a trailing `+HH[:MM]`, `-HH[:MM]`, `Z` or ` UTC` off a timestamp.
fn split_offset(t: &str) -> (&str, i64) {
    let upper = t.to_ascii_uppercase();
    for suffix in [" UTC", " GMT", "Z"] {
        if upper.ends_with(suffix) {
            return (&t[..t.len() - suffix.len()], 0);
        }
    }
    // An offset sign must come after the time part (after a ':').
    let Some(colon) = t.find(':') else {
        return (t, 0);
    };
    if let Some(pos) = t[colon..].rfind(['+', '-']).map(|p| p + colon) {
        let off = &t[pos + 1..];
        let sign = if &t[pos..pos + 1] == "-" { -1 } else { 1 };
        let (h, m) = match off.split_once(':') {
            Some((h, m)) => (h.parse::<i64>().ok(), m.parse::<i64>().ok()),
            None if off.len() == 4 => (off[..2].parse().ok(), off[2..].parse().ok()),
            None => (off.parse().ok(), Some(0)),
        };
        // PostgreSQL accepts offsets up to 15:59 hours
        if let (Some(h @ 0..=15), Some(m @ 0..=59)) = (h, m) {
            return (&t[..pos], sign * (h * 3600 + m * 60));
        }
    }
    (t, 0)
}

/// Parses PostgreSQL interval input: unit words (`1 year 2 mons 3 days`,
/// `5 minutes`, `1.5 hours`), a `[-]HH:MM[:SS]` time part, and `ago`.
pub fn parse_interval(t: &str) -> Option<Interval> {
    if let Some(iso) = t.strip_prefix('P') {
        return parse_iso_interval(iso);
    }
    let mut iv = Interval::default();
    let lower = t.to_ascii_lowercase();
    let mut tokens: Vec<&str> = lower.split_whitespace().collect();
    if tokens.is_empty() {
        return None;
    }
    let ago = tokens.last() == Some(&"ago");
    if ago {
        tokens.pop();
    }
    let mut i = 0;
    let mut any = false;
    while i < tokens.len() {
        let tok = tokens[i].trim_start_matches('@');
        if tok.is_empty() {
            i += 1;
            continue;
        }
        if tok.contains(':') {
            iv.micros = iv.micros.checked_add(parse_time_span(tok)?)?;
            any = true;
            i += 1;
            continue;
        }
        // a number, optionally glued to its unit ("5min")
        let split = tok
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(tok.len());
        let (num, glued) = tok.split_at(split);
        let value: f64 = num.parse().ok()?;
        let unit = if !glued.is_empty() {
            glued
        } else if i + 1 < tokens.len() {
            i += 1;
            tokens[i]
        } else {
            // a bare number means seconds
            "second"
        };
        add_interval_unit(&mut iv, value, unit)?;
        any = true;
        i += 1;
    }
    if !any {
        return None;
    }
    if ago {
        iv = Interval {
            months: iv.months.checked_neg()?,
            days: iv.days.checked_neg()?,
            micros: iv.micros.checked_neg()?,
        };
    }
    Some(iv)
}

/// ISO 8601 "format with designators" after the `P`:
/// `[nY][nM][nW][nD][T[nH][nM][nS]]`, numbers may carry a fraction.
fn parse_iso_interval(t: &str) -> Option<Interval> {
    let mut iv = Interval::default();
    let mut in_time = false;
    let mut num = String::new();
    let mut any = false;
    for c in t.chars() {
        match c {
            'T' if num.is_empty() && !in_time => in_time = true,
            '0'..='9' | '.' | '-' | '+' => num.push(c),
            _ => {
                let value: f64 = num.parse().ok()?;
                num.clear();
                let unit = match (c, in_time) {
                    ('Y', false) => "year",
                    ('M', false) => "month",
                    ('W', false) => "week",
                    ('D', false) => "day",
                    ('H', true) => "hour",
                    ('M', true) => "minute",
                    ('S', true) => "second",
                    _ => return None,
                };
                add_interval_unit(&mut iv, value, unit)?;
                any = true;
            }
        }
    }
    (any && num.is_empty()).then_some(iv)
}

fn parse_time_span(tok: &str) -> Option<i64> {
    let (neg, body) = match tok.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, tok.strip_prefix('+').unwrap_or(tok)),
    };
    let parts: Vec<&str> = body.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    let h: i64 = parts[0].parse().ok()?;
    let m: i64 = parts[1].parse().ok()?;
    let (s, us) = match parts.get(2) {
        Some(sec) => parse_seconds(sec)?,
        None => (0, 0),
    };
    let total = h
        .checked_mul(60)?
        .checked_add(m)?
        .checked_mul(60)?
        .checked_add(s as i64)?
        .checked_mul(MICROS_PER_SEC)?
        .checked_add(us as i64)?;
    Some(if neg { -total } else { total })
}

fn add_interval_unit(iv: &mut Interval, value: f64, unit: &str) -> Option<()> {
    let unit = unit.trim_end_matches(',');
    // Each field must stay in range (PostgreSQL: "interval field value out
    // of range"); overflow makes the input invalid.
    fn add_months(iv: &mut Interval, m: f64) -> Option<()> {
        iv.months = iv.months.checked_add(whole_i32(m)?)?;
        Some(())
    }
    fn add_micros(iv: &mut Interval, us: f64) -> Option<()> {
        let us = us.round();
        if !(us.is_finite() && us.abs() < 9.2e18) {
            return None;
        }
        iv.micros = iv.micros.checked_add(us as i64)?;
        Some(())
    }
    fn add_days(iv: &mut Interval, days: f64) -> Option<()> {
        let whole = days.trunc();
        iv.days = iv.days.checked_add(whole_i32(whole)?)?;
        add_micros(iv, (days - whole) * MICROS_PER_DAY as f64)
    }
    fn whole_i32(v: f64) -> Option<i32> {
        (v.is_finite() && v.abs() <= i32::MAX as f64).then_some(v as i32)
    }
    match unit {
        "millennium" | "millennia" | "millenniums" => add_months(iv, (value * 12000.0).trunc()),
        "century" | "centuries" => add_months(iv, (value * 1200.0).trunc()),
        "decade" | "decades" => add_months(iv, (value * 120.0).trunc()),
        "y" | "yr" | "yrs" | "year" | "years" => add_months(iv, (value * 12.0).round()),
        "mon" | "mons" | "month" | "months" => {
            let whole = value.trunc();
            add_months(iv, whole)?;
            add_days(iv, (value - whole) * 30.0)
        }
        "w" | "week" | "weeks" => add_days(iv, value * 7.0),
        "d" | "day" | "days" => add_days(iv, value),
        "h" | "hr" | "hrs" | "hour" | "hours" => add_micros(iv, value * 3600e6),
        "m" | "min" | "mins" | "minute" | "minutes" => add_micros(iv, value * 60e6),
        "s" | "sec" | "secs" | "second" | "seconds" => add_micros(iv, value * 1e6),
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => add_micros(iv, value * 1e3),
        "us" | "usec" | "usecs" | "microsecond" | "microseconds" => add_micros(iv, value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f8(v: f64) -> String {
        format_datum(&Datum::Float64(F64(v))).unwrap()
    }
    fn f4(v: f32) -> String {
        format_datum(&Datum::Float32(F32(v))).unwrap()
    }

    #[test]
    fn records_print_as_postgres_record_out() {
        let rec = Datum::Record(vec![
            Datum::Text("a b".into()),
            Datum::Null,
            Datum::Text("".into()),
            Datum::Text("x\"y\\".into()),
            Datum::Int32(5),
        ]);
        assert_eq!(
            format_datum(&rec).unwrap(),
            "(\"a b\",,\"\",\"x\"\"y\\\\\",5)"
        );
    }

    #[test]
    fn floats_print_like_postgres() {
        assert_eq!(f8(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(f8(1e20), "1e+20");
        assert_eq!(f8(1e-5), "1e-05");
        assert_eq!(f8(0.0001), "0.0001");
        assert_eq!(f8(123456789012345.0), "123456789012345");
        assert_eq!(f8(1e15), "1e+15");
        assert_eq!(f8(-0.0), "-0");
        assert_eq!(f8(2.5), "2.5");
        assert_eq!(f8(100.0), "100");
        assert_eq!(f8(f64::NAN), "NaN");
        assert_eq!(f8(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(f4(0.1), "0.1");
        assert_eq!(f4(1e6), "1e+06");
        assert_eq!(f4(123456.0), "123456");
    }

    #[test]
    fn timestamps_trim_fractions() {
        let us = parse_timestamp("2024-01-02 03:04:05.120", false).unwrap();
        assert_eq!(
            format_datum(&Datum::Timestamp(us)).unwrap(),
            "2024-01-02 03:04:05.12"
        );
        let us = parse_timestamp("2024-01-02", false).unwrap();
        assert_eq!(
            format_datum(&Datum::Timestamp(us)).unwrap(),
            "2024-01-02 00:00:00"
        );
        let us = parse_timestamp("2024-01-02 03:00:00+02", true).unwrap();
        assert_eq!(
            format_datum(&Datum::TimestampTz(us)).unwrap(),
            "2024-01-02 01:00:00+00"
        );
        assert!(parse_timestamp("2024-13-02", false).is_none());
    }

    #[test]
    fn intervals_print_like_postgres() {
        let p = |s| format_interval(&parse_interval(s).unwrap());
        assert_eq!(
            p("1 year 2 months 3 days 04:05:06.5"),
            "1 year 2 mons 3 days 04:05:06.5"
        );
        assert_eq!(p("-1 day"), "-1 days");
        assert_eq!(p("0 seconds"), "00:00:00");
        assert_eq!(p("-1 day 1 hour"), "-1 days +01:00:00");
        assert_eq!(p("90 minutes"), "01:30:00");
        assert_eq!(p("1.5 days"), "1 day 12:00:00");
        assert_eq!(p("2 years"), "2 years");
    }

    #[test]
    fn inputs_reject_garbage_with_sqlstate() {
        assert_eq!(
            parse_datum("abc", ScalarType::Int32).unwrap_err().code,
            "22P02"
        );
        assert_eq!(
            parse_datum("99999", ScalarType::Int16).unwrap_err().code,
            "22003"
        );
        assert_eq!(
            parse_datum(" 42 ", ScalarType::Int64).unwrap(),
            Datum::Int64(42)
        );
        assert_eq!(
            parse_datum("yes", ScalarType::Bool).unwrap(),
            Datum::Bool(true)
        );
        assert_eq!(
            parse_datum("ab", ScalarType::Char(4)).unwrap(),
            Datum::Text("ab  ".into())
        );
        assert_eq!(
            parse_datum("abcdef", ScalarType::Varchar(Some(3)))
                .unwrap_err()
                .code,
            "22001"
        );
        assert_eq!(
            format_datum(&parse_datum("9.50", ScalarType::Numeric(None)).unwrap()).unwrap(),
            "9.50"
        );
    }

    #[test]
    fn numeric_typmods_round_and_check_precision() {
        let n = |s: &str, p: u16, sc: i16| {
            apply_numeric_typmod(parse_numeric(s).unwrap(), Some((p, sc))).map(|d| d.to_string())
        };
        assert_eq!(n("2.5", 2, 0).unwrap(), "3");
        assert_eq!(n("-0.005", 3, 2).unwrap(), "-0.01");
        assert_eq!(n("7", 4, 3).unwrap(), "7.000");
        assert_eq!(n("1234.5", 4, -2).unwrap(), "1200");
        assert_eq!(n("0.04", 2, 3).unwrap(), "0.040");
        let e = n("99.995", 4, 2).unwrap_err();
        assert_eq!(e.code, "22003");
        assert_eq!(
            e.detail.as_deref(),
            Some(
                "A field with precision 4, scale 2 must round to an absolute value less than 10^2."
            )
        );
        assert_eq!(n("0.5", 2, 3).unwrap_err().code, "22003");
    }

    #[test]
    fn iso_intervals_and_infinities_parse() {
        let iv = |s: &str| format_interval(&parse_interval(s).unwrap());
        assert_eq!(iv("P1Y2M3DT4H5M6S"), "1 year 2 mons 3 days 04:05:06");
        assert_eq!(iv("PT1.5H"), "01:30:00");
        assert_eq!(iv("P2W"), "14 days");
        assert!(parse_interval("P1H").is_none());
        assert!(parse_interval("P").is_none());
        let d = parse_datum("infinity", ScalarType::Date).unwrap();
        assert_eq!(format_datum(&d).unwrap(), "infinity");
        let t = parse_datum("-infinity", ScalarType::Timestamp).unwrap();
        assert_eq!(format_datum(&t).unwrap(), "-infinity");
        assert_eq!(
            format_datum(&parse_datum("20240229", ScalarType::Date).unwrap()).unwrap(),
            "2024-02-29"
        );
        assert_eq!(
            parse_datum("1e400", ScalarType::Float64).unwrap_err().code,
            "22003"
        );
    }
}
