//! Regular expressions (`~`, `~*`, regexp_replace, regexp_like) and the
//! date/time functions date_bin, age and to_char, with PostgreSQL's
//! results and errors.

use catalog::strconv::{self, MICROS_PER_SEC};
use catalog::{sqlstate, Datum, Interval, SqlError, SqlResult};
use chrono::{Datelike, NaiveDateTime, Timelike};
use regex::Regex;
use std::cell::RefCell;
use std::collections::HashMap;

thread_local! {
    /// Compiled patterns by (pattern, case-insensitive): a view evaluates
    /// the same pattern for every row.
    static REGEXES: RefCell<HashMap<(String, bool), Regex>> = RefCell::new(HashMap::new());
}

/// The compiled `pattern`, from the cache when it was seen before.
pub fn regex(pattern: &str, insensitive: bool) -> SqlResult<Regex> {
    let key = (pattern.to_string(), insensitive);
    if let Some(r) = REGEXES.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(r);
    }
    let r = regex::RegexBuilder::new(pattern)
        .case_insensitive(insensitive)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            SqlError::new(
                sqlstate::INVALID_REGULAR_EXPRESSION,
                format!("invalid regular expression: {}", first_line(&e.to_string())),
            )
        })?;
    REGEXES.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 256 {
            c.clear();
        }
        c.insert(key, r.clone());
    });
    Ok(r)
}

fn first_line(s: &str) -> &str {
    s.lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or(s.lines().next().unwrap_or(s))
}

/// The flags of regexp_replace / regexp_like: (global, case-insensitive).
fn flags(f: &str) -> SqlResult<(bool, bool)> {
    let (mut global, mut insensitive) = (false, false);
    for c in f.chars() {
        match c {
            'g' => global = true,
            'i' => insensitive = true,
            'c' => insensitive = false,
            _ => {
                return Err(SqlError::new(
                    sqlstate::INVALID_PARAMETER_VALUE,
                    format!("invalid regular expression option: \"{c}\""),
                ))
            }
        }
    }
    Ok((global, insensitive))
}

/// regexp_replace(source, pattern, replacement [, flags]): `\1`..`\9`
/// name groups and `\&` the whole match, as in PostgreSQL.
pub fn regexp_replace(s: &str, pattern: &str, replacement: &str, f: &str) -> SqlResult<String> {
    let (global, insensitive) = flags(f)?;
    let re = regex(pattern, insensitive)?;
    let mut rep = String::new();
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(d)) if d.is_ascii_digit() => {
                rep.push_str(&format!("${{{d}}}"));
                chars.next();
            }
            ('\\', Some('&')) => {
                rep.push_str("${0}");
                chars.next();
            }
            ('\\', Some('\\')) => {
                rep.push('\\');
                chars.next();
            }
            ('$', _) => rep.push_str("$$"),
            (c, _) => rep.push(c),
        }
    }
    Ok(if global {
        re.replace_all(s, rep.as_str()).into_owned()
    } else {
        re.replace(s, rep.as_str()).into_owned()
    })
}

/// regexp_match(string, pattern [, flags]): the first match's capture
/// groups (the whole match without groups) as text[], NULL without a match.
pub fn regexp_match(s: &str, pattern: &str, f: &str) -> SqlResult<Datum> {
    let (global, insensitive) = flags(f)?;
    if global {
        return Err(SqlError::new(
            sqlstate::INVALID_PARAMETER_VALUE,
            "regexp_match() does not support the \"global\" option",
        )
        .with_hint("Use the regexp_matches function instead."));
    }
    let re = regex(pattern, insensitive)?;
    Ok(match re.captures(s) {
        None => Datum::Null,
        Some(c) if c.len() == 1 => Datum::Array(vec![Datum::Text(c[0].to_string())]),
        Some(c) => Datum::Array(
            c.iter()
                .skip(1)
                .map(|m| m.map_or(Datum::Null, |m| Datum::Text(m.as_str().to_string())))
                .collect(),
        ),
    })
}

/// regexp_split_to_array(string, pattern [, flags]).
pub fn regexp_split(s: &str, pattern: &str, f: &str) -> SqlResult<Datum> {
    let (global, insensitive) = flags(f)?;
    if global {
        return Err(SqlError::new(
            sqlstate::INVALID_PARAMETER_VALUE,
            "regexp_split_to_array() does not support the \"global\" option",
        ));
    }
    let re = regex(pattern, insensitive)?;
    Ok(Datum::Array(
        re.split(s).map(|p| Datum::Text(p.to_string())).collect(),
    ))
}

/// regexp_like(string, pattern [, flags]) and the `~` family.
pub fn regexp_like(s: &str, pattern: &str, f: &str) -> SqlResult<bool> {
    let (global, insensitive) = flags(f)?;
    if global {
        return Err(SqlError::new(
            sqlstate::INVALID_PARAMETER_VALUE,
            "regexp_like() does not support the \"global\" option",
        ));
    }
    Ok(regex(pattern, insensitive)?.is_match(s))
}

fn bad(msg: &str) -> SqlError {
    SqlError::new(sqlstate::INVALID_PARAMETER_VALUE, msg)
}

/// date_bin(stride, source, origin): the start of the bin of width
/// `stride`, aligned to `origin`, that holds `source` (microseconds).
pub fn date_bin(stride: &Interval, source: i64, origin: i64) -> SqlResult<i64> {
    if stride.months != 0 {
        return Err(bad(
            "timestamps cannot be binned into intervals containing months or years",
        ));
    }
    let width = (stride.days as i64)
        .checked_mul(strconv::MICROS_PER_DAY)
        .and_then(|d| d.checked_add(stride.micros))
        .ok_or_else(range)?;
    if width <= 0 {
        return Err(bad("stride must be greater than zero"));
    }
    if source == i64::MAX || source == i64::MIN {
        return Err(range());
    }
    let diff = source.checked_sub(origin).ok_or_else(range)?;
    let bins = diff.div_euclid(width);
    bins.checked_mul(width)
        .and_then(|d| origin.checked_add(d))
        .ok_or_else(range)
}

fn range() -> SqlError {
    SqlError::new(sqlstate::DATETIME_FIELD_OVERFLOW, "timestamp out of range")
}

fn days_in_month(year: i32, month: u32) -> i64 {
    let next = if month == 12 {
        chrono::NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    let this = chrono::NaiveDate::from_ymd_opt(year, month, 1);
    match (this, next) {
        (Some(a), Some(b)) => (b - a).num_days(),
        _ => 30,
    }
}

/// age(a, b): the symbolic difference in years, months, days and time,
/// borrowing days from the month of the earlier argument as PostgreSQL does.
pub fn age(a: i64, b: i64) -> SqlResult<Interval> {
    if [a, b].iter().any(|t| *t == i64::MAX || *t == i64::MIN) {
        return Err(SqlError::new(
            sqlstate::DATETIME_FIELD_OVERFLOW,
            "cannot subtract infinite timestamps",
        ));
    }
    let (t1, t2) = (
        strconv::datetime_from_micros(a),
        strconv::datetime_from_micros(b),
    );
    let field = |t: &NaiveDateTime| {
        [
            t.year() as i64,
            t.month() as i64,
            t.day() as i64,
            t.hour() as i64,
            t.minute() as i64,
            t.second() as i64,
            (t.nanosecond() / 1000) as i64,
        ]
    };
    let (f1, f2) = (field(&t1), field(&t2));
    let mut d: Vec<i64> = f1.iter().zip(&f2).map(|(x, y)| x - y).collect();
    let flip = a < b;
    if flip {
        d.iter_mut().for_each(|x| *x = -*x);
    }
    let [mut year, mut mon, mut mday, mut hour, mut min, mut sec, mut usec] =
        [d[0], d[1], d[2], d[3], d[4], d[5], d[6]];
    while usec < 0 {
        usec += MICROS_PER_SEC;
        sec -= 1;
    }
    while sec < 0 {
        sec += 60;
        min -= 1;
    }
    while min < 0 {
        min += 60;
        hour -= 1;
    }
    while hour < 0 {
        hour += 24;
        mday -= 1;
    }
    while mday < 0 {
        let t = if flip { &t1 } else { &t2 };
        mday += days_in_month(t.year(), t.month());
        mon -= 1;
    }
    while mon < 0 {
        mon += 12;
        year -= 1;
    }
    let sign = if flip { -1 } else { 1 };
    let months = (year * 12 + mon) * sign;
    let micros = ((hour * 60 + min) * 60 + sec) * MICROS_PER_SEC + usec;
    Ok(Interval {
        months: i32::try_from(months).map_err(|_| range())?,
        days: (mday * sign) as i32,
        micros: micros * sign,
    })
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// to_char(timestamp, format) for the common template patterns (YYYY,
/// YY, MM, DD, DDD, D, HH24, HH12/HH, MI, SS, MS, US, AM/PM, Month/Mon,
/// Day/Dy in their capitalisations, Q, WW, the FM prefix); other
/// characters are copied, and "…" quotes literal text.
pub fn to_char(us: i64, format: &str) -> SqlResult<String> {
    if us == i64::MAX || us == i64::MIN {
        return Ok(String::new());
    }
    let t = strconv::datetime_from_micros(us);
    let f: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let starts = |i: usize, p: &str| -> bool {
        let p: Vec<char> = p.chars().collect();
        f.len() >= i + p.len() && f[i..i + p.len()] == p[..]
    };
    let starts_ci = |i: usize, p: &str| -> Option<String> {
        let n = p.chars().count();
        (f.len() >= i + n
            && f[i..i + n]
                .iter()
                .collect::<String>()
                .eq_ignore_ascii_case(p))
        .then(|| f[i..i + n].iter().collect())
    };
    while i < f.len() {
        let fm = starts(i, "FM") || starts(i, "fm");
        if fm {
            i += 2;
        }
        let num = |v: i64, width: usize| -> String {
            if fm {
                v.to_string()
            } else {
                format!("{v:0width$}")
            }
        };
        let name = |s: &str, spelled: &str, full: bool| -> String {
            let cased = if spelled.chars().all(|c| c.is_ascii_uppercase()) {
                s.to_uppercase()
            } else if spelled.chars().skip(1).all(|c| c.is_ascii_lowercase()) {
                s.to_string()
            } else {
                s.to_lowercase()
            };
            if full && !fm {
                format!("{cased:<9}")
            } else {
                cased
            }
        };
        let ci = |i: usize, p: &str| starts_ci(i, p).is_some();
        let hour12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        } as i64;
        let (piece, len): (String, usize) = if ci(i, "YYYY") {
            (num(t.year() as i64, 4), 4)
        } else if ci(i, "YYY") {
            (num((t.year() % 1000) as i64, 3), 3)
        } else if ci(i, "YY") {
            (num((t.year() % 100) as i64, 2), 2)
        } else if ci(i, "HH24") {
            (num(t.hour() as i64, 2), 4)
        } else if ci(i, "HH12") {
            (num(hour12, 2), 4)
        } else if ci(i, "HH") {
            (num(hour12, 2), 2)
        } else if ci(i, "MI") {
            (num(t.minute() as i64, 2), 2)
        } else if ci(i, "MS") {
            (num((t.nanosecond() / 1_000_000) as i64, 3), 2)
        } else if ci(i, "SS") {
            (num(t.second() as i64, 2), 2)
        } else if ci(i, "US") {
            (num((t.nanosecond() / 1000) as i64, 6), 2)
        } else if starts(i, "AM") || starts(i, "PM") {
            ((if t.hour() < 12 { "AM" } else { "PM" }).into(), 2)
        } else if starts(i, "am") || starts(i, "pm") {
            ((if t.hour() < 12 { "am" } else { "pm" }).into(), 2)
        } else if let Some(s) = starts_ci(i, "MONTH") {
            (name(MONTHS[t.month0() as usize], &s, true), 5)
        } else if let Some(s) = starts_ci(i, "MON") {
            (name(&MONTHS[t.month0() as usize][..3], &s, false), 3)
        } else if ci(i, "MM") {
            (num(t.month() as i64, 2), 2)
        } else if let Some(s) = starts_ci(i, "DAY") {
            let d = DAYS[t.weekday().num_days_from_sunday() as usize];
            (name(d, &s, true), 3)
        } else if let Some(s) = starts_ci(i, "DY") {
            let d = &DAYS[t.weekday().num_days_from_sunday() as usize][..3];
            (name(d, &s, false), 2)
        } else if ci(i, "DDD") {
            (num(t.ordinal() as i64, 3), 3)
        } else if ci(i, "DD") {
            (num(t.day() as i64, 2), 2)
        } else if ci(i, "D") {
            ((t.weekday().num_days_from_sunday() + 1).to_string(), 1)
        } else if ci(i, "Q") {
            (((t.month0() / 3) + 1).to_string(), 1)
        } else if ci(i, "WW") {
            (num(((t.ordinal() - 1) / 7 + 1) as i64, 2), 2)
        } else if f[i] == '"' {
            let mut j = i + 1;
            let mut lit = String::new();
            while j < f.len() && f[j] != '"' {
                if f[j] == '\\' && j + 1 < f.len() {
                    j += 1;
                }
                lit.push(f[j]);
                j += 1;
            }
            (lit, j + 1 - i)
        } else {
            (f[i].to_string(), 1)
        };
        out.push_str(&piece);
        i += len;
    }
    Ok(out)
}

/// A `Datum` of a timestamp type as microseconds.
pub fn micros(d: &Datum) -> Option<i64> {
    match d {
        Datum::Timestamp(us) | Datum::TimestampTz(us) => Some(*us),
        Datum::Date(days) => Some(*days as i64 * strconv::MICROS_PER_DAY),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        strconv::micros_from_datetime(
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("test timestamp"),
        )
    }

    #[test]
    fn age_borrows_from_the_earlier_month() {
        let a = age(ts("2024-03-15 00:00:00"), ts("2023-01-20 00:00:00")).unwrap();
        assert_eq!((a.months, a.days, a.micros), (13, 26, 0));
        let b = age(ts("2023-01-20 00:00:00"), ts("2024-03-15 00:00:00")).unwrap();
        assert_eq!((b.months, b.days, b.micros), (-13, -26, 0));
    }

    #[test]
    fn to_char_common_patterns() {
        let t = ts("2024-03-05 14:07:09.123456");
        assert_eq!(
            to_char(t, "YYYY-MM-DD HH24:MI:SS.MS Mon FMMonth Dy AM").unwrap(),
            "2024-03-05 14:07:09.123 Mar March Tue PM"
        );
        assert_eq!(to_char(t, "Month|DAY").unwrap(), "March    |TUESDAY  ");
    }

    #[test]
    fn date_bin_floors_toward_the_origin_grid() {
        let hour = Interval {
            months: 0,
            days: 0,
            micros: 3_600_000_000,
        };
        let origin = ts("2020-01-01 01:00:00");
        assert_eq!(
            date_bin(&hour, ts("2020-01-01 00:30:00"), origin).unwrap(),
            ts("2020-01-01 00:00:00")
        );
        assert_eq!(
            date_bin(&hour, ts("2020-01-01 00:00:00"), origin).unwrap(),
            ts("2020-01-01 00:00:00")
        );
    }

    #[test]
    fn regexp_replace_uses_postgres_backreferences() {
        assert_eq!(regexp_replace("abc", "(b)", "[\\1]", "").unwrap(), "a[b]c");
        assert_eq!(regexp_replace("aXbXc", "x", "-", "gi").unwrap(), "a-b-c");
        assert_eq!(regexp_replace("a$b", "\\$", "$", "").unwrap(), "a$b");
        assert!(regexp_replace("a", "(", "", "").is_err());
    }
}
