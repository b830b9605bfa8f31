//! jsonb operators and functions: `->`, `->>`, `#>`, `#>>`, `@>`, `<@`,
//! `?`, `||`, jsonb_build_object, jsonb_build_array, to_jsonb,
//! jsonb_typeof, jsonb_array_length, and the conversion of SQL values to
//! JSON that they and jsonb_agg share.

use crate::expr::Func;
use catalog::json::Json;
use catalog::{sqlstate, strconv, Datum, SqlError, SqlResult, F32, F64};

fn parse(d: &Datum) -> SqlResult<Json> {
    match d {
        Datum::Jsonb(s) => Json::parse(s),
        other => Err(SqlError::internal(format!("jsonb expected, got {other:?}"))),
    }
}

fn jsonb(j: &Json) -> Datum {
    Datum::Jsonb(j.to_text())
}

/// The value a SQL datum becomes inside JSON (to_jsonb's rules).
pub fn to_json(d: &Datum) -> SqlResult<Json> {
    Ok(match d {
        Datum::Null => Json::Null,
        Datum::Bool(b) => Json::Bool(*b),
        Datum::Int16(i) => Json::Number((*i).into()),
        Datum::Int32(i) => Json::Number((*i).into()),
        Datum::Int64(i) => Json::Number((*i).into()),
        Datum::Numeric(n) => Json::Number(*n),
        Datum::Float32(F32(f)) if f.is_finite() => {
            Json::parse(&strconv::format_datum(d).unwrap_or_default())?
        }
        Datum::Float64(F64(f)) if f.is_finite() => {
            Json::parse(&strconv::format_datum(d).unwrap_or_default())?
        }
        Datum::Jsonb(s) => Json::parse(s)?,
        Datum::Timestamp(_) | Datum::TimestampTz(_) if strconv::format_datum(d).is_some() => {
            // ISO 8601, as PostgreSQL writes timestamps into JSON
            let text = strconv::format_datum(d).unwrap_or_default();
            let text = match text.split_once(' ') {
                Some((date, time)) => format!("{date}T{time}"),
                None => text,
            };
            Json::String(match text.strip_suffix("+00") {
                Some(t) => format!("{t}+00:00"),
                None => text,
            })
        }
        other => Json::String(strconv::format_datum(other).unwrap_or_default()),
    })
}

fn invalid(msg: impl Into<String>) -> SqlError {
    SqlError::new(sqlstate::INVALID_PARAMETER_VALUE, msg)
}

/// `j -> key` (objects) or `j -> index` (arrays, negative from the end).
fn get<'j>(j: &'j Json, key: &Datum) -> Option<&'j Json> {
    match (j, key) {
        (Json::Object(m), Datum::Text(k)) => m.iter().find(|(mk, _)| mk == k).map(|(_, v)| v),
        (Json::Array(a), Datum::Int32(i)) => {
            let i = if *i < 0 {
                a.len() as i64 + *i as i64
            } else {
                *i as i64
            };
            usize::try_from(i).ok().and_then(|i| a.get(i))
        }
        _ => None,
    }
}

/// A path written as a text array literal (`'{a,2,b}'`).
fn path(p: &str) -> SqlResult<Vec<String>> {
    let inner = p
        .trim()
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or_else(|| {
            SqlError::new(
                sqlstate::INVALID_TEXT_REPRESENTATION,
                format!("malformed array literal: \"{p}\""),
            )
        })?;
    if inner.trim().is_empty() {
        return Ok(vec![]);
    }
    Ok(inner
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .collect())
}

fn follow<'j>(mut j: &'j Json, steps: &[String]) -> Option<&'j Json> {
    for step in steps {
        j = match j {
            Json::Object(m) => m.iter().find(|(k, _)| k == step).map(|(_, v)| v)?,
            Json::Array(a) => {
                let i: i64 = step.parse().ok()?;
                let i = if i < 0 { a.len() as i64 + i } else { i };
                a.get(usize::try_from(i).ok()?)?
            }
            _ => return None,
        };
    }
    Some(j)
}

/// The text `->>` gives: strings unquoted, JSON null as SQL NULL.
fn as_text(j: &Json) -> Datum {
    match j {
        Json::Null => Datum::Null,
        Json::String(s) => Datum::Text(s.clone()),
        other => Datum::Text(other.to_text()),
    }
}

/// Evaluates a jsonb function on its arguments.
pub fn eval(func: Func, args: &[Datum]) -> SqlResult<Datum> {
    let a = |i: usize| args.get(i).unwrap_or(&Datum::Null);
    Ok(match func {
        Func::JsonBuildObject => {
            if !args.len().is_multiple_of(2) {
                return Err(invalid("argument list must have even number of elements")
                    .with_hint("The arguments of jsonb_build_object() must consist of alternating keys and values."));
            }
            let mut members = vec![];
            for (i, pair) in args.chunks(2).enumerate() {
                let key = match &pair[0] {
                    Datum::Null => {
                        return Err(invalid(format!(
                            "argument {}: key must not be null",
                            2 * i + 1
                        )))
                    }
                    Datum::Text(s) => s.clone(),
                    other => strconv::format_datum(other).unwrap_or_default(),
                };
                members.push((key, to_json(&pair[1])?));
            }
            jsonb(&Json::object(members))
        }
        Func::JsonBuildArray => jsonb(&Json::Array(
            args.iter().map(to_json).collect::<SqlResult<_>>()?,
        )),
        Func::ToJsonb => match a(0) {
            Datum::Null => Datum::Null,
            d => jsonb(&to_json(d)?),
        },
        _ if args.iter().any(|d| d.is_null()) => Datum::Null,
        Func::JsonGet | Func::JsonGetText => {
            let j = parse(a(0))?;
            match get(&j, a(1)) {
                None => Datum::Null,
                Some(v) if func == Func::JsonGet => jsonb(v),
                Some(v) => as_text(v),
            }
        }
        Func::JsonPath | Func::JsonPathText => {
            let j = parse(a(0))?;
            let steps = path(&strconv::format_datum(a(1)).unwrap_or_default())?;
            match follow(&j, &steps) {
                None => Datum::Null,
                Some(v) if func == Func::JsonPath => jsonb(v),
                Some(v) => as_text(v),
            }
        }
        Func::JsonContains => Datum::Bool(parse(a(0))?.contains(&parse(a(1))?, true)),
        Func::JsonContained => Datum::Bool(parse(a(1))?.contains(&parse(a(0))?, true)),
        Func::JsonHasKey => {
            let key = strconv::format_datum(a(1)).unwrap_or_default();
            Datum::Bool(match parse(a(0))? {
                Json::Object(m) => m.iter().any(|(k, _)| *k == key),
                Json::Array(items) => items.contains(&Json::String(key)),
                Json::String(s) => s == key,
                _ => false,
            })
        }
        Func::JsonConcat => {
            let (l, r) = (parse(a(0))?, parse(a(1))?);
            jsonb(&match (l, r) {
                (Json::Object(mut x), Json::Object(y)) => {
                    x.extend(y);
                    Json::object(x)
                }
                (Json::Array(mut x), Json::Array(y)) => {
                    x.extend(y);
                    Json::Array(x)
                }
                (Json::Array(mut x), y) => {
                    x.push(y);
                    Json::Array(x)
                }
                (x, Json::Array(y)) => Json::Array(std::iter::once(x).chain(y).collect()),
                (x, y) => Json::Array(vec![x, y]),
            })
        }
        Func::JsonTypeof => Datum::Text(parse(a(0))?.type_name().into()),
        Func::JsonArrayLength => match parse(a(0))? {
            Json::Array(items) => Datum::Int32(items.len() as i32),
            Json::Object(_) => return Err(invalid("cannot get array length of a non-array")),
            _ => return Err(invalid("cannot get array length of a scalar")),
        },
        _ => {
            return Err(SqlError::internal(format!(
                "{} is not a jsonb function",
                func.name()
            )))
        }
    })
}

/// A scalar jsonb cast to a SQL type (`'1'::jsonb::int`).
pub fn cast_scalar(j: &str, to: catalog::ScalarType) -> SqlResult<Datum> {
    use catalog::ScalarType as T;
    let v = Json::parse(j)?;
    match (&v, to) {
        (Json::Number(n), t) if t.is_numeric() => crate::func::cast(Datum::Numeric(*n), t),
        (Json::Bool(b), T::Bool) => Ok(Datum::Bool(*b)),
        (v, t) => Err(invalid(format!(
            "cannot cast jsonb {} to type {}",
            v.type_name(),
            t.name()
        ))),
    }
}

/// jsonb_agg: the values, NULLs as JSON null, in `rows`' order.
pub fn agg(values: impl Iterator<Item = Datum>) -> SqlResult<Datum> {
    let items = values.map(|d| to_json(&d)).collect::<SqlResult<Vec<_>>>()?;
    Ok(jsonb(&Json::Array(items)))
}

/// The rows of jsonb_array_elements / _text, jsonb_each / _text and
/// jsonb_object_keys.
pub fn elements(j: &Datum, text: bool) -> SqlResult<Vec<Vec<Datum>>> {
    match parse(j)? {
        Json::Array(items) => Ok(items
            .iter()
            .map(|v| vec![if text { as_text(v) } else { jsonb(v) }])
            .collect()),
        Json::Object(_) => Err(invalid("cannot extract elements from an object")),
        _ => Err(invalid("cannot extract elements from a scalar")),
    }
}

pub fn each(j: &Datum, text: bool) -> SqlResult<Vec<Vec<Datum>>> {
    match parse(j)? {
        Json::Object(m) => Ok(m
            .iter()
            .map(|(k, v)| {
                vec![
                    Datum::Text(k.clone()),
                    if text { as_text(v) } else { jsonb(v) },
                ]
            })
            .collect()),
        _ => Err(invalid("cannot call jsonb_each on a non-object")),
    }
}

pub fn object_keys(j: &Datum) -> SqlResult<Vec<Vec<Datum>>> {
    match parse(j)? {
        Json::Object(m) => Ok(m.into_iter().map(|(k, _)| vec![Datum::Text(k)]).collect()),
        Json::Array(_) => Err(invalid("cannot call jsonb_object_keys on an array")),
        _ => Err(invalid("cannot call jsonb_object_keys on a scalar")),
    }
}
