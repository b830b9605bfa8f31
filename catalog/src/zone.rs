//! Time zones: the session's `TimeZone` and `AT TIME ZONE`. A zone is UTC,
//! a fixed offset (`+05:30`) or an IANA zone (`Europe/Berlin`, from
//! chrono-tz's copy of the tz database). `timestamptz` values are instants
//! (microseconds since 1970 UTC); a zone turns them into local wall-clock
//! time and back.

use crate::strconv::{datetime_from_micros, micros_from_datetime};
use chrono::{Offset, TimeZone};

const MICROS_PER_SEC: i64 = 1_000_000;

/// A time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Utc,
    /// Seconds east of UTC.
    Fixed(i32),
    Named(chrono_tz::Tz),
}

impl Zone {
    /// The zone a `TimeZone` setting or `AT TIME ZONE` names: UTC and its
    /// aliases, an offset (`+05:30`, `-8`, `0530`), or an IANA name in any
    /// letter case. `None` for anything else. As in PostgreSQL, an offset
    /// given as a string follows POSIX: `'+05:30'` is 5:30 hours *west* of
    /// UTC (a timestamp's own `+05:30` suffix is east, as in ISO 8601).
    pub fn parse(name: &str) -> Option<Zone> {
        let n = name.trim();
        match n.to_ascii_lowercase().as_str() {
            "utc" | "etc/utc" | "gmt" | "etc/gmt" | "z" | "zulu" | "universal"
            | "etc/universal" | "uct" | "etc/uct" | "greenwich" | "etc/greenwich" | "gmt0"
            | "gmt+0" | "gmt-0" => return Some(Zone::Utc),
            _ => {}
        }
        if let Some(west) = parse_offset(n) {
            return Some(if west == 0 {
                Zone::Utc
            } else {
                Zone::Fixed(-west)
            });
        }
        chrono_tz::Tz::from_str_insensitive(n).ok().map(Zone::Named)
    }

    /// The name SHOW TimeZone prints: `UTC`, the IANA name, or the offset
    /// as it was given.
    pub fn name(&self, given: &str) -> String {
        match self {
            Zone::Utc => "UTC".into(),
            Zone::Named(tz) => tz.name().into(),
            Zone::Fixed(_) => given.trim().into(),
        }
    }

    /// A name `parse` reads back as this zone (an offset in POSIX form).
    pub fn spec(&self) -> String {
        match self {
            Zone::Utc => "UTC".into(),
            Zone::Named(tz) => tz.name().into(),
            Zone::Fixed(east) => {
                let west = -east;
                let sign = if west < 0 { '-' } else { '+' };
                let a = west.unsigned_abs();
                format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60)
            }
        }
    }

    /// The offset from UTC, in seconds, at the instant `us`.
    pub fn offset_at(&self, us: i64) -> i32 {
        match self {
            Zone::Utc => 0,
            Zone::Fixed(s) => *s,
            Zone::Named(tz) => {
                let utc = datetime_from_micros(us);
                tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
            }
        }
    }

    /// The local wall-clock time (as microseconds of a naive timestamp) of
    /// the instant `us`. Infinities stay infinite.
    pub fn to_local(&self, us: i64) -> i64 {
        if us == i64::MAX || us == i64::MIN {
            return us;
        }
        us.saturating_add(self.offset_at(us) as i64 * MICROS_PER_SEC)
    }

    /// The instant at which the local wall-clock time `local` occurs. In a
    /// fall-back overlap the later instant (standard time) is taken, and a
    /// time skipped by a spring-forward gap is read with the offset before
    /// the gap, as PostgreSQL does.
    pub fn to_utc(&self, local: i64) -> i64 {
        if local == i64::MAX || local == i64::MIN {
            return local;
        }
        match self {
            Zone::Utc => local,
            Zone::Fixed(s) => local.saturating_sub(*s as i64 * MICROS_PER_SEC),
            Zone::Named(tz) => {
                let naive = datetime_from_micros(local);
                let offset = match tz.offset_from_local_datetime(&naive) {
                    chrono::LocalResult::Single(o) => o.fix().local_minus_utc(),
                    chrono::LocalResult::Ambiguous(a, b) => {
                        a.fix().local_minus_utc().min(b.fix().local_minus_utc())
                    }
                    chrono::LocalResult::None => {
                        // in a gap: the offset in force just before it
                        let before = naive - chrono::Duration::hours(3);
                        tz.offset_from_local_datetime(&before)
                            .earliest()
                            .map(|o| o.fix().local_minus_utc())
                            .unwrap_or(0)
                    }
                };
                let us = micros_from_datetime(naive);
                us.saturating_sub(offset as i64 * MICROS_PER_SEC)
            }
        }
    }
}

/// `+05:30`, `-08`, `+0530`, `5` (hours), as seconds; at most 15:59 hours,
/// as PostgreSQL accepts.
fn parse_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        b'0'..=b'9' => (1, s),
        _ => return None,
    };
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?),
        None if rest.len() == 4 => (rest[..2].parse().ok()?, rest[2..].parse().ok()?),
        None => (rest.parse().ok()?, 0),
    };
    if !(0..=15).contains(&h) || !(0..=59).contains(&m) {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// An offset as PostgreSQL prints it after a timestamptz: `+01`, `-05:30`,
/// `+05:53:28`.
pub fn format_offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    match (m, s) {
        (0, 0) => format!("{sign}{h:02}"),
        (_, 0) => format!("{sign}{h:02}:{m:02}"),
        _ => format!("{sign}{h:02}:{m:02}:{s:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        crate::strconv::parse_timestamp(s, false).unwrap()
    }

    #[test]
    fn names_and_offsets() {
        assert_eq!(Zone::parse("utc"), Some(Zone::Utc));
        // POSIX signs, as PostgreSQL reads a zone given as a string
        assert_eq!(Zone::parse("+05:30"), Some(Zone::Fixed(-19800)));
        assert_eq!(Zone::parse("-8"), Some(Zone::Fixed(28800)));
        assert!(matches!(
            Zone::parse("america/new_york"),
            Some(Zone::Named(_))
        ));
        assert_eq!(Zone::parse("Mars/Olympus"), None);
        assert_eq!(format_offset(3600), "+01");
        for z in ["+05:30", "-8", "Asia/Kolkata", "UTC"] {
            let zone = Zone::parse(z).unwrap();
            assert_eq!(Zone::parse(&zone.spec()), Some(zone));
        }
        assert_eq!(format_offset(-19800), "-05:30");
    }

    #[test]
    fn daylight_saving_both_ways() {
        let ny = Zone::parse("America/New_York").unwrap();
        // winter: UTC-5, summer: UTC-4
        assert_eq!(ny.offset_at(ts("2024-01-15 12:00:00")), -5 * 3600);
        assert_eq!(ny.offset_at(ts("2024-07-15 12:00:00")), -4 * 3600);
        let local = ts("2024-07-15 08:00:00");
        assert_eq!(ny.to_local(ny.to_utc(local)), local);
        // 2024-03-10 02:30 does not exist in New York: read with EST (-5)
        assert_eq!(
            ny.to_utc(ts("2024-03-10 02:30:00")),
            ts("2024-03-10 07:30:00")
        );
        // 2024-11-03 01:30 happens twice: the second (EST, -5) is taken
        assert_eq!(
            ny.to_utc(ts("2024-11-03 01:30:00")),
            ts("2024-11-03 06:30:00")
        );
    }
}
