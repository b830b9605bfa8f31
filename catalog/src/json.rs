//! `jsonb` values: parsing, PostgreSQL's canonical form (object keys
//! sorted shorter-first then bytewise, the last of duplicate keys kept,
//! numbers as numeric) and its text output. A `Datum::Jsonb` holds the
//! canonical text, so equal documents are equal datums and the value
//! crosses process boundaries as plain text.

use crate::error::{sqlstate, SqlError, SqlResult};
use rust_decimal::Decimal;
use std::fmt::Write;

/// A parsed JSON document.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(Decimal),
    String(String),
    Array(Vec<Json>),
    /// Keys in canonical order, without duplicates.
    Object(Vec<(String, Json)>),
}

fn syntax(input: &str, detail: impl Into<String>) -> SqlError {
    SqlError::new(
        sqlstate::INVALID_TEXT_REPRESENTATION,
        "invalid input syntax for type json",
    )
    .with_detail(format!("{} Input: \"{}\"", detail.into(), truncate(input)))
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

/// Nesting deeper than this is refused (PostgreSQL's stack depth limit
/// plays the same role).
const MAX_DEPTH: usize = 1000;

struct Parser<'a> {
    s: &'a [u8],
    input: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> SqlResult<T> {
        Err(syntax(self.input, what))
    }

    fn value(&mut self, depth: usize) -> SqlResult<Json> {
        if depth > MAX_DEPTH {
            return Err(SqlError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                "stack depth limit exceeded",
            ));
        }
        self.ws();
        let Some(&c) = self.s.get(self.i) else {
            return self.err("The input string ended unexpectedly.");
        };
        match c {
            b'{' => {
                self.i += 1;
                let mut members: Vec<(String, Json)> = vec![];
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Object(members));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return self.err("Expected string or \"}\".");
                    }
                    let key = self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return self.err("Expected \":\".");
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    members.push((key, v));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(object(members));
                        }
                        _ => return self.err("Expected \",\" or \"}\"."),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = vec![];
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return self.err("Expected \",\" or \"]\"."),
                    }
                }
            }
            b'"' => Ok(Json::String(self.string()?)),
            b't' if self.s[self.i..].starts_with(b"true") => {
                self.i += 4;
                Ok(Json::Bool(true))
            }
            b'f' if self.s[self.i..].starts_with(b"false") => {
                self.i += 5;
                Ok(Json::Bool(false))
            }
            b'n' if self.s[self.i..].starts_with(b"null") => {
                self.i += 4;
                Ok(Json::Null)
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                self.i += 1;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-'
                    )
                {
                    self.i += 1;
                }
                let tok = &self.input[start..self.i];
                match number(tok) {
                    Some(n) => Ok(Json::Number(n)),
                    None => self.err(&format!("Token \"{tok}\" is invalid.")),
                }
            }
            _ => {
                let tok: String = self.input[self.i..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric())
                    .collect();
                let tok = if tok.is_empty() {
                    self.input[self.i..]
                        .chars()
                        .next()
                        .map(String::from)
                        .unwrap_or_default()
                } else {
                    tok
                };
                self.err(&format!("Token \"{tok}\" is invalid."))
            }
        }
    }

    fn string(&mut self) -> SqlResult<String> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return self.err("The input string ended unexpectedly.");
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let Some(&e) = self.s.get(self.i + 1) else {
                        return self.err("The input string ended unexpectedly.");
                    };
                    self.i += 2;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hex = |p: &Self, at: usize| -> Option<u32> {
                                p.input
                                    .get(at..at + 4)
                                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                            };
                            let Some(mut code) = hex(self, self.i) else {
                                return self
                                    .err("\"\\u\" must be followed by four hexadecimal digits.");
                            };
                            self.i += 4;
                            if (0xD800..0xDC00).contains(&code) {
                                // a surrogate pair
                                let low = (self.input.get(self.i..self.i + 2) == Some("\\u"))
                                    .then(|| hex(self, self.i + 2))
                                    .flatten();
                                match low {
                                    Some(l) if (0xDC00..0xE000).contains(&l) => {
                                        code = 0x10000 + ((code - 0xD800) << 10) + (l - 0xDC00);
                                        self.i += 6;
                                    }
                                    _ => return self.err(
                                        "Unicode high surrogate must not follow a high surrogate.",
                                    ),
                                }
                            }
                            match char::from_u32(code) {
                                Some('\0') | None => {
                                    return Err(SqlError::new(
                                        sqlstate::UNTRANSLATABLE_CHARACTER,
                                        "unsupported Unicode escape sequence",
                                    ))
                                }
                                Some(ch) => out.push(ch),
                            }
                        }
                        _ => {
                            return self
                                .err(&format!("Escape sequence \"\\{}\" is invalid.", e as char))
                        }
                    }
                }
                c if c < 0x20 => return self.err("Character with value 0x0a must be escaped."),
                _ => {
                    // copy one UTF-8 character
                    let ch = self.input[self.i..].chars().next().expect("in bounds");
                    out.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
    }
}

/// A JSON number as numeric, as PostgreSQL's jsonb stores it.
fn number(tok: &str) -> Option<Decimal> {
    let digits = tok.strip_prefix('-').unwrap_or(tok);
    // JSON forbids leading zeros, "1.", ".5" and a leading "+"
    let int_part: &str = digits.split(['.', 'e', 'E']).next().unwrap_or("");
    if int_part.is_empty() || (int_part.len() > 1 && int_part.starts_with('0')) {
        return None;
    }
    if digits.contains(".e") || digits.contains(".E") || digits.ends_with('.') {
        return None;
    }
    let mut n = crate::strconv::parse_numeric(tok)?;
    if n.is_zero() {
        n.set_sign_positive(true);
    }
    Some(n)
}

/// An object from members in input order: keys sorted as jsonb sorts them
/// (shorter first, then bytewise), the last value of a repeated key kept.
fn object(members: Vec<(String, Json)>) -> Json {
    let mut out: Vec<(String, Json)> = Vec::with_capacity(members.len());
    for (k, v) in members {
        match out.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out.sort_by(|a, b| key_order(&a.0, &b.0));
    Json::Object(out)
}

/// jsonb's key order.
pub fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

impl Json {
    /// Parses JSON text, with PostgreSQL's error for bad input.
    pub fn parse(input: &str) -> SqlResult<Json> {
        let mut p = Parser {
            s: input.as_bytes(),
            input,
            i: 0,
        };
        let v = p.value(0)?;
        p.ws();
        if p.i != p.s.len() {
            let tok: String = input[p.i..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            return p.err(&format!("Token \"{tok}\" is invalid."));
        }
        Ok(v)
    }

    /// An object built from members in order (later keys win).
    pub fn object(members: Vec<(String, Json)>) -> Json {
        object(members)
    }

    /// jsonb's text output: `{"a": 1, "b": [true, null]}`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Number(n) => {
                let _ = write!(out, "{n}");
            }
            Json::String(s) => write_string(s, out),
            Json::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_string(k, out);
                    out.push_str(": ");
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// jsonb_typeof's name for the value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Number(_) => "number",
            Json::String(_) => "string",
            Json::Array(_) => "array",
            Json::Object(_) => "object",
        }
    }

    /// Whether `self` contains `other` (`@>`): objects contain objects
    /// whose pairs they contain, arrays contain arrays whose elements they
    /// contain (a top-level array also contains a scalar it holds).
    pub fn contains(&self, other: &Json, top: bool) -> bool {
        match (self, other) {
            (Json::Object(a), Json::Object(b)) => b.iter().all(|(k, bv)| {
                a.iter()
                    .find(|(ak, _)| ak == k)
                    .is_some_and(|(_, av)| av.contains(bv, false))
            }),
            (Json::Array(a), Json::Array(b)) => b.iter().all(|bv| match bv {
                Json::Array(_) | Json::Object(_) => a.iter().any(|av| av.contains(bv, false)),
                scalar => a.contains(scalar),
            }),
            (Json::Array(a), scalar) if top && !matches!(scalar, Json::Object(_)) => {
                a.contains(scalar)
            }
            (a, b) => a == b,
        }
    }
}

/// A JSON string literal with JSON escapes.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The canonical text of a jsonb input string.
pub fn canonical(input: &str) -> SqlResult<String> {
    Ok(Json::parse(input)?.to_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_matches_postgres() {
        assert_eq!(
            canonical(r#" {"bb": 1, "a": [1.50, 1e3, -0, true, null], "a": {"z":"q\"x"} } "#)
                .unwrap(),
            r#"{"a": {"z": "q\"x"}, "bb": 1}"#
        );
        assert_eq!(canonical("[1e3, 2.5E-1, -0]").unwrap(), "[1000, 0.25, 0]");
        assert_eq!(canonical(r#""\u00e9\ud83d\ude00""#).unwrap(), "\"é😀\"");
        for bad in [
            "{",
            "[1,]",
            "01",
            "1.",
            "tru",
            "{\"a\" 1}",
            "\"\\x\"",
            "[1] x",
        ] {
            assert!(canonical(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn containment() {
        let j = |s: &str| Json::parse(s).unwrap();
        assert!(
            j(r#"{"a": 1, "b": [1, 2, {"c": 3}]}"#).contains(&j(r#"{"b": [{"c": 3}, 2]}"#), true)
        );
        assert!(!j(r#"{"a": 1}"#).contains(&j(r#"{"a": 2}"#), true));
        assert!(j("[1, 2, 3]").contains(&j("2"), true));
        assert!(!j(r#"{"a": [1, 2]}"#).contains(&j(r#"{"a": 1}"#), true));
    }
}

/// A JSON object (one line of a JSON-lines file, a webhook body) as a row
/// of `columns`: each column from the key of its name (missing or null:
/// NULL), strings, numbers and booleans read as the column's type, objects
/// and arrays only into jsonb columns.
pub fn object_row(input: &str, columns: &[crate::Column]) -> SqlResult<crate::Row> {
    use crate::{Datum, ScalarType};
    let Json::Object(members) = Json::parse(input)? else {
        return Err(SqlError::new(
            sqlstate::INVALID_PARAMETER_VALUE,
            "expected a JSON object",
        ));
    };
    let mut datums = Vec::with_capacity(columns.len());
    for c in columns {
        let value = members.iter().find(|(k, _)| *k == c.name).map(|(_, v)| v);
        let d = match (value, c.ty) {
            (None | Some(Json::Null), _) => Datum::Null,
            (Some(v), ScalarType::Jsonb) => Datum::Jsonb(v.to_text()),
            (
                Some(Json::String(s)),
                ScalarType::Text | ScalarType::Varchar(_) | ScalarType::Char(_),
            ) => Datum::Text(s.clone()),
            (Some(Json::String(s)), ty) => crate::strconv::parse_datum(s, ty)?,
            (Some(Json::Number(n)), ty) => crate::strconv::parse_datum(&n.to_string(), ty)?,
            (Some(Json::Bool(b)), ty) => crate::strconv::parse_datum(&b.to_string(), ty)?,
            (Some(v), ty) => {
                return Err(SqlError::new(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "key \"{}\" holds {}, which does not fit column type {}",
                        c.name,
                        v.to_text(),
                        ty.name()
                    ),
                ))
            }
        };
        if d == Datum::Null && !c.nullable {
            return Err(SqlError::new(
                sqlstate::NOT_NULL_VIOLATION,
                format!(
                    "null value in column \"{}\" violates not-null constraint",
                    c.name
                ),
            ));
        }
        datums.push(d);
    }
    if let Some((k, _)) = members
        .iter()
        .find(|(k, _)| !columns.iter().any(|c| c.name == *k))
    {
        return Err(SqlError::new(
            sqlstate::UNDEFINED_COLUMN,
            format!("key \"{k}\" is not a column"),
        ));
    }
    Ok(crate::Row::new(datums))
}

#[cfg(test)]
mod object_row_tests {
    use super::*;
    use crate::{Column, Datum, ScalarType};

    #[test]
    fn objects_become_rows_with_checked_types() {
        let col = |name: &str, ty, nullable| Column {
            name: name.into(),
            ty,
            nullable,
            origin: None,
        };
        let cols = vec![
            col("id", ScalarType::Int64, false),
            col("at", ScalarType::TimestampTz, true),
            col("tags", ScalarType::Jsonb, true),
            col("ok", ScalarType::Bool, true),
        ];
        let r = object_row(
            r#"{"id": 7, "at": "2024-01-01 00:00:00+00", "tags": ["a"], "ok": true}"#,
            &cols,
        )
        .expect("fits");
        assert_eq!(r.get(0), &Datum::Int64(7));
        assert_eq!(r.get(2), &Datum::Jsonb("[\"a\"]".into()));
        assert_eq!(r.get(3), &Datum::Bool(true));
        let r = object_row(r#"{"id": 8}"#, &cols).expect("missing keys are NULL");
        assert_eq!(r.get(1), &Datum::Null);
        for bad in [
            r#"{"id": "x"}"#,
            r#"{"ok": true}"#,
            r#"{"id": 1, "extra": 2}"#,
            r#"[1]"#,
            r#"{"id": {"a": 1}}"#,
            "not json",
        ] {
            assert!(object_row(bad, &cols).is_err(), "{bad} was accepted");
        }
    }
}
