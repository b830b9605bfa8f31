//! Arrays (one dimension): `ARRAY[…]`, subscripts, `op ANY/ALL (array)`,
//! array_length, cardinality, array_to_string, string_to_array,
//! array_append, array_cat, array_position.

use crate::expr::{BinaryOp, Func};
use catalog::{sqlstate, strconv, Datum, SqlError, SqlResult};

fn items(d: &Datum) -> Option<&[Datum]> {
    match d {
        Datum::Array(items) => Some(items),
        _ => None,
    }
}

/// The comparison operators `op ANY/ALL (array)` accepts, by name.
pub fn comparison(op: &str) -> Option<BinaryOp> {
    Some(match op {
        "=" => BinaryOp::Eq,
        "<>" => BinaryOp::NotEq,
        "<" => BinaryOp::Lt,
        "<=" => BinaryOp::LtEq,
        ">" => BinaryOp::Gt,
        ">=" => BinaryOp::GtEq,
        _ => return None,
    })
}

/// `x op ANY (a)` (or ALL): true/false/NULL as PostgreSQL folds the
/// element comparisons.
fn quantified(all: bool, x: &Datum, a: &Datum, op: &Datum) -> SqlResult<Datum> {
    let Some(items) = items(a) else {
        return Ok(Datum::Null);
    };
    let op = match op {
        Datum::Text(s) => comparison(s).ok_or_else(|| SqlError::internal("bad operator"))?,
        _ => return Err(SqlError::internal("bad operator")),
    };
    let mut unknown = false;
    for item in items {
        match crate::func::eval_binary(op, x.clone(), item.clone())? {
            Datum::Bool(b) if b != all => return Ok(Datum::Bool(b)),
            Datum::Bool(_) => {}
            _ => unknown = true,
        }
    }
    Ok(if unknown {
        Datum::Null
    } else {
        Datum::Bool(all)
    })
}

fn int(d: &Datum) -> i64 {
    match d {
        Datum::Int16(i) => *i as i64,
        Datum::Int32(i) => *i as i64,
        Datum::Int64(i) => *i,
        _ => 0,
    }
}

/// Evaluates an array function. Those that take NULL arguments without
/// returning NULL come first.
pub fn eval(func: Func, args: &[Datum]) -> SqlResult<Datum> {
    let a = |i: usize| args.get(i).unwrap_or(&Datum::Null);
    Ok(match func {
        Func::ArrayCtor => Datum::Array(args.to_vec()),
        Func::ArrayAny | Func::ArrayAll => quantified(func == Func::ArrayAll, a(0), a(1), a(2))?,
        Func::ArrayAppend => match a(0) {
            Datum::Array(items) => Datum::Array(items.iter().chain([a(1)]).cloned().collect()),
            _ => Datum::Array(vec![a(1).clone()]),
        },
        Func::ArrayCat => match (a(0), a(1)) {
            (Datum::Array(x), Datum::Array(y)) => {
                Datum::Array(x.iter().chain(y).cloned().collect())
            }
            (Datum::Null, other) | (other, Datum::Null) => other.clone(),
            _ => Datum::Null,
        },
        Func::ArrayToString => {
            let (Some(items), Datum::Text(sep)) = (items(a(0)), a(1)) else {
                return Ok(Datum::Null);
            };
            let null = match a(2) {
                Datum::Text(n) => Some(n.as_str()),
                _ => None,
            };
            let parts: Vec<String> = items
                .iter()
                .filter_map(|d| match strconv::format_datum(d) {
                    Some(s) => Some(s),
                    None => null.map(String::from),
                })
                .collect();
            Datum::Text(parts.join(sep))
        }
        _ if args.iter().take(2).any(|d| d.is_null()) && func != Func::StringToArray => Datum::Null,
        Func::ArraySubscript => {
            let items = items(a(0)).unwrap_or(&[]);
            let i = int(a(1));
            usize::try_from(i - 1)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .unwrap_or(Datum::Null)
        }
        Func::ArrayLength => {
            let items = items(a(0)).unwrap_or(&[]);
            if int(a(1)) == 1 && !items.is_empty() {
                Datum::Int32(items.len() as i32)
            } else {
                Datum::Null
            }
        }
        Func::Cardinality => Datum::Int32(items(a(0)).map_or(0, |i| i.len()) as i32),
        Func::ArrayPosition => {
            let items = items(a(0)).unwrap_or(&[]);
            items
                .iter()
                .position(|d| !d.is_null() && crate::func::sql_cmp(d, a(1)).is_eq())
                .map(|p| Datum::Int32(p as i32 + 1))
                .unwrap_or(Datum::Null)
        }
        Func::StringToArray => {
            let Datum::Text(s) = a(0) else {
                return Ok(Datum::Null);
            };
            let null = match a(2) {
                Datum::Text(n) => Some(n.as_str()),
                _ => None,
            };
            let to_datum = |p: &str| match null {
                Some(n) if n == p => Datum::Null,
                _ => Datum::Text(p.to_string()),
            };
            if s.is_empty() {
                return Ok(Datum::Array(vec![]));
            }
            Datum::Array(match a(1) {
                // a NULL delimiter splits into characters
                Datum::Null => s.chars().map(|c| to_datum(&c.to_string())).collect(),
                Datum::Text(sep) if sep.is_empty() => vec![to_datum(s)],
                Datum::Text(sep) => s.split(sep.as_str()).map(to_datum).collect(),
                _ => return Ok(Datum::Null),
            })
        }
        _ => {
            return Err(SqlError::new(
                sqlstate::INTERNAL_ERROR,
                format!("{} is not an array function", func.name()),
            ))
        }
    })
}
