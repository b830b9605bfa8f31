//! Type inference and implicit casts: which type two operands meet at, and
//! how a value is converted to a column's type on assignment.

use crate::expr::{BinaryOp, Expr};
use crate::func;
use catalog::zone::Zone;
use catalog::{sqlstate, Datum, ScalarType, SqlError, SqlResult};
use std::cell::RefCell;

/// A bound expression with its type. `unknown` marks a string literal (or
/// NULL) whose type comes from context, as PostgreSQL's `unknown` type.
#[derive(Debug, Clone)]
pub struct Typed {
    pub expr: Expr,
    pub ty: ScalarType,
    pub unknown: bool,
    /// The statement parameter (`$n`, zero-based) this untyped value is,
    /// while parameter types are being inferred.
    pub param: Option<usize>,
}

thread_local! {
    /// Parameter types of the statement being described: declared by the
    /// client or inferred from the context each parameter is used in.
    static PARAMS: RefCell<Option<Vec<Option<ScalarType>>>> = const { RefCell::new(None) };
    /// The session's time zone while one of its statements is planned.
    static ZONE: std::cell::Cell<Zone> = const { std::cell::Cell::new(Zone::Utc) };
}

/// Runs `f` (planning) with `zone` as the session's time zone: conversions
/// between `timestamptz` and local time bind to it.
pub fn with_zone<T>(zone: Zone, f: impl FnOnce() -> T) -> T {
    let prev = ZONE.with(|z| z.replace(zone));
    let out = f();
    ZONE.with(|z| z.set(prev));
    out
}

/// The time zone statements are being planned in.
pub fn session_zone() -> Zone {
    ZONE.with(|z| z.get())
}

/// The zone as a literal argument of the zone-dependent functions.
pub fn zone_literal(zone: Zone) -> Expr {
    Expr::Literal(Datum::Text(zone.spec()))
}

/// `e` (of type `from`) converted to `to` in the session's time zone, when
/// the conversion depends on it (`timestamptz` to or from local time and
/// text); `None` when it does not, or the zone is UTC.
fn zoned_cast(e: Expr, from: ScalarType, to: ScalarType) -> Option<Expr> {
    use crate::expr::Func;
    use ScalarType::*;
    let zone = session_zone();
    if zone == Zone::Utc || (from != TimestampTz && to != TimestampTz) || from == to {
        return None;
    }
    let z = || zone_literal(zone);
    let call = |f: Func, e: Expr| Expr::Call(f, vec![e, z()]);
    let cast = |e: Expr, to: ScalarType| Expr::Cast {
        expr: Box::new(e),
        to,
    };
    Some(match (from, to) {
        (TimestampTz, Timestamp) => call(Func::TzToLocal, e),
        (TimestampTz, Date | Time) => cast(call(Func::TzToLocal, e), to),
        (TimestampTz, t) if t.is_string() => {
            let text = call(Func::TzFormat, e);
            if t == Text {
                text
            } else {
                cast(text, t)
            }
        }
        (Timestamp, TimestampTz) => call(Func::TzFromLocal, e),
        (Date, TimestampTz) => call(Func::TzFromLocal, cast(e, Timestamp)),
        (t, TimestampTz) if t.is_string() => call(Func::TzParse, cast(e, Text)),
        _ => return None,
    })
}

/// Runs `f` (which plans one statement) with `$n` parameters allowed, and
/// returns the parameter types: `declared` where given, else the type the
/// context resolved each parameter to (as PostgreSQL resolves an unknown
/// literal), else text.
pub fn infer_params<T>(
    declared: Vec<Option<ScalarType>>,
    f: impl FnOnce() -> T,
) -> (T, Vec<ScalarType>) {
    PARAMS.with(|p| *p.borrow_mut() = Some(declared));
    let out = f();
    let types = PARAMS.with(|p| p.borrow_mut().take()).unwrap_or_default();
    (
        out,
        types
            .into_iter()
            .map(|t| t.unwrap_or(ScalarType::Text))
            .collect(),
    )
}

/// Binds `$n`: only while parameter types are being inferred (a statement
/// run with values has them substituted before planning).
pub fn bind_param(name: &str) -> SqlResult<Typed> {
    let missing = || SqlError::new("42P02", format!("there is no parameter {name}"));
    let n: usize = name
        .strip_prefix('$')
        .and_then(|n| n.parse().ok())
        .filter(|n| (1..=65535).contains(n))
        .ok_or_else(missing)?;
    PARAMS.with(|p| {
        let mut p = p.borrow_mut();
        let params = p.as_mut().ok_or_else(missing)?;
        if params.len() < n {
            params.resize(n, None);
        }
        Ok(match params[n - 1] {
            Some(ty) => Typed::new(Expr::Literal(Datum::Null), ty),
            None => Typed {
                param: Some(n - 1),
                ..Typed::unknown_literal(Datum::Null)
            },
        })
    })
}

/// Records that parameter `n` resolved to `ty` (the first resolution wins).
fn resolve_param(n: usize, ty: ScalarType) {
    PARAMS.with(|p| {
        if let Some(slot) = p.borrow_mut().as_mut().and_then(|v| v.get_mut(n)) {
            slot.get_or_insert(ty);
        }
    });
}

impl Typed {
    pub fn new(expr: Expr, ty: ScalarType) -> Typed {
        Typed {
            expr,
            ty,
            unknown: false,
            param: None,
        }
    }

    pub fn unknown_literal(d: Datum) -> Typed {
        Typed {
            expr: Expr::Literal(d),
            ty: ScalarType::Text,
            unknown: true,
            param: None,
        }
    }

    /// The value with an unknown literal resolved to `text`, as PostgreSQL
    /// resolves one that no context types.
    pub fn text_if_unknown(self) -> SqlResult<Typed> {
        if self.unknown {
            Ok(Typed::new(
                self.cast_to(ScalarType::Text)?,
                ScalarType::Text,
            ))
        } else {
            Ok(self)
        }
    }

    /// Converts to `to`: unknown literals are parsed now (errors at plan
    /// time, as PostgreSQL reports them), other values get a cast.
    pub fn cast_to(self, to: ScalarType) -> SqlResult<Expr> {
        if self.ty == to && !self.unknown {
            return Ok(self.expr);
        }
        if let (Some(n), true) = (self.param, self.unknown) {
            resolve_param(n, to);
            return Ok(Expr::Literal(Datum::Null));
        }
        // char(n) to text or varchar drops the padding (PostgreSQL's rtrim).
        if matches!(self.ty, ScalarType::Char(_))
            && !self.unknown
            && matches!(to, ScalarType::Text | ScalarType::Varchar(_))
        {
            let trimmed = Expr::Call(crate::expr::Func::RTrim, vec![self.expr]);
            if to == ScalarType::Text {
                return Ok(trimmed);
            }
            return Typed::new(trimmed, ScalarType::Text).cast_to(to);
        }
        // an int2vector's text form is its elements separated by spaces
        if self.ty == ScalarType::Int2Vector && !self.unknown && to.is_string() {
            let text = Expr::Call(
                crate::expr::Func::ArrayToString,
                vec![self.expr, Expr::Literal(Datum::Text(" ".into()))],
            );
            return Typed::new(text, ScalarType::Text).cast_to(to);
        }
        let from = if self.unknown {
            ScalarType::Text
        } else {
            self.ty
        };
        if let Some(e) = zoned_cast(self.expr.clone(), from, to.base()) {
            let e = Typed::new(e, to.base()).fold()?;
            return if to == to.base() {
                Ok(e)
            } else {
                Typed::new(e, to.base()).cast_to(to)
            };
        }
        if let Expr::Literal(d) = &self.expr {
            return Ok(Expr::Literal(func::cast(d.clone(), to)?));
        }
        if self.ty == to {
            return Ok(self.expr);
        }
        Ok(Expr::Cast {
            expr: Box::new(self.expr),
            to,
        })
    }

    /// The expression, evaluated now if it reads no columns: a constant
    /// stays a literal (and a bad one fails when the statement is planned).
    fn fold(self) -> SqlResult<Expr> {
        let mut e = self.expr;
        if e.is_constant() {
            e = Expr::Literal(e.eval(&catalog::Row::empty())?);
        }
        Ok(e)
    }

    /// Requires a boolean (WHERE, HAVING, AND/OR/NOT operands).
    pub fn into_bool(self, clause: &str) -> SqlResult<Expr> {
        if self.unknown || self.ty == ScalarType::Bool {
            return self.cast_to(ScalarType::Bool);
        }
        Err(SqlError::new(
            sqlstate::DATATYPE_MISMATCH,
            format!(
                "argument of {clause} must be type boolean, not type {}",
                self.ty.name()
            ),
        ))
    }
}

/// The family used for "can these be compared" decisions.
fn category(t: ScalarType) -> u8 {
    match t {
        ScalarType::Bool => 0,
        t if t.is_numeric() => 1,
        t if t.is_string() => 2,
        ScalarType::Date | ScalarType::Timestamp | ScalarType::TimestampTz => 3,
        ScalarType::Interval => 4,
        ScalarType::Array(_) => 6,
        ScalarType::Oid => 7,
        ScalarType::Uuid => 8,
        ScalarType::Bytea => 9,
        ScalarType::Time => 10,
        _ => 5,
    }
}

/// The type two values meet at for comparison, CASE, UNION and COALESCE.
pub fn common_type(a: &Typed, b: &Typed) -> Option<ScalarType> {
    use ScalarType::*;
    if a.unknown && b.unknown {
        return Some(Text);
    }
    if a.unknown {
        return Some(b.ty.base());
    }
    if b.unknown {
        return Some(a.ty.base());
    }
    if a.ty == b.ty {
        return Some(a.ty);
    }
    // an integer meets an oid as an oid (PostgreSQL's implicit int4 → oid)
    if (a.ty == Oid && b.ty.is_integer()) || (b.ty == Oid && a.ty.is_integer()) {
        return Some(Oid);
    }
    match (a.ty.numeric_rank(), b.ty.numeric_rank()) {
        (Some(x), Some(y)) => return Some(if x >= y { a.ty } else { b.ty }.base()),
        (Some(_), None) | (None, Some(_)) => return None,
        _ => {}
    }
    if a.ty.is_string() && b.ty.is_string() {
        return Some(Text);
    }
    match (a.ty, b.ty) {
        (Date, Timestamp) | (Timestamp, Date) => Some(Timestamp),
        (Date | Timestamp, TimestampTz) | (TimestampTz, Date | Timestamp) => Some(TimestampTz),
        _ if category(a.ty) == category(b.ty) => Some(a.ty),
        _ => None,
    }
}

/// The type a binary operator's operands meet at. As `common_type`, except
/// that real with another numeric type meets at double precision: PostgreSQL
/// resolves `real op integer` to its float48 operators.
fn operator_type(a: &Typed, b: &Typed) -> Option<ScalarType> {
    use ScalarType::*;
    match (a.ty, b.ty) {
        (Float32, t) | (t, Float32)
            if !a.unknown && !b.unknown && t != Float32 && t.is_numeric() =>
        {
            Some(Float64)
        }
        _ => common_type(a, b),
    }
}

/// The common type of many values (CASE branches, VALUES columns, UNION).
pub fn common_type_all(items: &[Typed], what: &str) -> SqlResult<ScalarType> {
    let mut acc: Option<Typed> = None;
    for item in items {
        acc = Some(match acc {
            None => item.clone(),
            Some(prev) => {
                let ty = common_type(&prev, item).ok_or_else(|| {
                    SqlError::new(
                        sqlstate::DATATYPE_MISMATCH,
                        format!(
                            "{what} types {} and {} cannot be matched",
                            item.ty.name(),
                            prev.ty.name()
                        ),
                    )
                })?;
                Typed {
                    expr: Expr::Literal(Datum::Null),
                    ty,
                    unknown: prev.unknown && item.unknown,
                    param: None,
                }
            }
        });
    }
    Ok(acc.map(|t| t.ty).unwrap_or(ScalarType::Text))
}

fn no_operator(op: &str, a: &Typed, b: &Typed) -> SqlError {
    SqlError::new(
        sqlstate::UNDEFINED_FUNCTION,
        format!("operator does not exist: {} {op} {}", a.ty.name(), b.ty.name()),
    )
    .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts.")
}

/// Binds a binary operator: picks operand types, inserts casts, and returns
/// the typed result.
pub fn bind_binary(op: BinaryOp, sym: &str, l: Typed, r: Typed) -> SqlResult<Typed> {
    use BinaryOp::*;
    use ScalarType::*;
    match op {
        And | Or => {
            let l = l.into_bool(sym)?;
            let r = r.into_bool(sym)?;
            Ok(Typed::new(Expr::binary(op, l, r), Bool))
        }
        Eq | NotEq | Lt | LtEq | Gt | GtEq | IsDistinctFrom | IsNotDistinctFrom => {
            let ty = operator_type(&l, &r).ok_or_else(|| no_operator(sym, &l, &r))?;
            if let Char(_) = ty {
                // bpchar comparisons ignore trailing blanks: compare as text
                // after padding unknown literals the way the column is.
                let pad = |t: Typed| -> SqlResult<Typed> { Ok(Typed::new(t.cast_to(ty)?, ty)) };
                return Ok(Typed::new(
                    Expr::binary(op, pad(l)?.cast_to(Text)?, pad(r)?.cast_to(Text)?),
                    Bool,
                ));
            }
            Ok(Typed::new(
                Expr::binary(op, l.cast_to(ty)?, r.cast_to(ty)?),
                Bool,
            ))
        }
        Concat if matches!(l.ty, Array(_)) || matches!(r.ty, Array(_)) => {
            use crate::expr::Func;
            let (la, ra) = (
                matches!(l.ty, Array(_)) && !l.unknown,
                matches!(r.ty, Array(_)) && !r.unknown,
            );
            let arr = if la { l.ty } else { r.ty };
            let Array(elem) = arr else {
                unreachable!("one side is an array")
            };
            let e = elem.scalar();
            // an unknown literal beside an array is an array (array_cat)
            let (expr, ty) = match (la || l.unknown, ra || r.unknown) {
                (true, true) => {
                    let ty = if la && ra {
                        common_type(&l, &r).ok_or_else(|| no_operator(sym, &l, &r))?
                    } else {
                        arr
                    };
                    (
                        Expr::Call(Func::ArrayCat, vec![l.cast_to(ty)?, r.cast_to(ty)?]),
                        ty,
                    )
                }
                (true, false) => (
                    Expr::Call(Func::ArrayAppend, vec![l.cast_to(arr)?, r.cast_to(e)?]),
                    arr,
                ),
                (false, true) => (
                    Expr::Call(
                        Func::ArrayCat,
                        vec![
                            Expr::Call(Func::ArrayCtor, vec![l.cast_to(e)?]),
                            r.cast_to(arr)?,
                        ],
                    ),
                    arr,
                ),
                (false, false) => return Err(no_operator(sym, &l, &r)),
            };
            Ok(Typed::new(expr, ty))
        }
        Concat => {
            if !(l.ty.is_string() || l.unknown || r.ty.is_string() || r.unknown) {
                return Err(no_operator(sym, &l, &r));
            }
            Ok(Typed::new(
                Expr::binary(op, l.cast_to(Text)?, r.cast_to(Text)?),
                Text,
            ))
        }
        Like | ILike => {
            if !(l.ty.is_string() || l.unknown) || !(r.ty.is_string() || r.unknown) {
                return Err(no_operator(sym, &l, &r));
            }
            Ok(Typed::new(
                Expr::binary(op, l.cast_to(Text)?, r.cast_to(Text)?),
                Bool,
            ))
        }
        Add | Sub | Mul | Div | Mod => bind_arith(op, sym, l, r),
        BitAnd | BitOr | BitXor | ShiftLeft | ShiftRight => {
            let int = |t: &Typed| t.unknown || t.ty.is_integer();
            if !int(&l) || !int(&r) {
                return Err(no_operator(sym, &l, &r));
            }
            if matches!(op, ShiftLeft | ShiftRight) {
                let ty = if l.unknown { Int32 } else { l.ty };
                return Ok(Typed::new(
                    Expr::binary(op, l.cast_to(ty)?, r.cast_to(Int32)?),
                    ty,
                ));
            }
            let ty = match common_type(&l, &r) {
                Some(t) if t.is_integer() => t,
                _ => Int32,
            };
            Ok(Typed::new(
                Expr::binary(op, l.cast_to(ty)?, r.cast_to(ty)?),
                ty,
            ))
        }
    }
}

fn bind_arith(op: BinaryOp, sym: &str, l: Typed, r: Typed) -> SqlResult<Typed> {
    use BinaryOp::*;
    use ScalarType::*;
    // Unknown literals take the other side's type (or numeric when both unknown).
    let (lt, rt) = match (l.unknown, r.unknown) {
        (true, true) => return Err(no_operator(sym, &l, &r)),
        (true, false) => (unknown_partner(op, r.ty), r.ty),
        (false, true) => (l.ty, unknown_partner(op, l.ty)),
        _ => (l.ty, r.ty),
    };
    if lt.is_numeric() && rt.is_numeric() {
        let ty = operator_type(
            &Typed::new(Expr::Literal(Datum::Null), lt),
            &Typed::new(Expr::Literal(Datum::Null), rt),
        )
        .expect("numeric types meet")
        .base();
        return Ok(Typed::new(
            Expr::binary(op, l.cast_to(ty)?, r.cast_to(ty)?),
            ty,
        ));
    }
    let result = match (op, lt, rt) {
        (Add, Timestamp, Interval) | (Add, Interval, Timestamp) | (Sub, Timestamp, Interval) => {
            Timestamp
        }
        (Add, TimestampTz, Interval)
        | (Add, Interval, TimestampTz)
        | (Sub, TimestampTz, Interval) => TimestampTz,
        (Sub, Timestamp, Timestamp) | (Sub, TimestampTz, TimestampTz) => Interval,
        (Add, Date, t) | (Sub, Date, t) if t.is_integer() => Date,
        (Add, t, Date) if t.is_integer() => Date,
        (Sub, Date, Date) => Int32,
        (Add, Date, Interval) | (Add, Interval, Date) | (Sub, Date, Interval) => Timestamp,
        (Add, Interval, Interval) | (Sub, Interval, Interval) => Interval,
        (Add, Time, Interval) | (Add, Interval, Time) | (Sub, Time, Interval) => Time,
        (Sub, Time, Time) => Interval,
        (Add, Date, Time) | (Add, Time, Date) => Timestamp,
        (Mul, Interval, t) | (Mul, t, Interval) | (Div, Interval, t) if t.is_numeric() => Interval,
        _ => return Err(no_operator(sym, &l, &r)),
    };
    let scaling = result == Interval && matches!(op, Mul | Div);
    let conv = |t: Typed, want: ScalarType| -> SqlResult<Expr> {
        match want {
            w if scaling && w.is_numeric() => t.cast_to(Float64),
            w if w.is_integer() => t.cast_to(Int32),
            w if w.is_numeric() => t.cast_to(Float64),
            w => t.cast_to(w),
        }
    };
    let le = conv(l, lt)?;
    let re = conv(r, rt)?;
    Ok(Typed::new(Expr::binary(op, le, re), result))
}

/// The type an unknown literal takes when its partner has type `other`.
fn unknown_partner(op: BinaryOp, other: ScalarType) -> ScalarType {
    use ScalarType::*;
    match (op, other) {
        (BinaryOp::Sub, Timestamp | TimestampTz) => Interval,
        (BinaryOp::Add, Timestamp | TimestampTz | Date | Time) => Interval,
        (BinaryOp::Sub, Date) => Int32,
        (BinaryOp::Mul | BinaryOp::Div, Interval) => Float64,
        (_, t) => t,
    }
}

/// Converts a value for storing into a column of type `to` (INSERT,
/// UPDATE): PostgreSQL's assignment casts. Length limits of varchar(n) and
/// char(n) are checked when the row is stored.
pub fn assign(t: Typed, to: ScalarType, column: &str) -> SqlResult<Expr> {
    let target = match to {
        ScalarType::Varchar(_) | ScalarType::Char(_) => ScalarType::Text,
        other => other,
    };
    let ok = t.unknown
        || t.ty == target
        || (t.ty.is_numeric() && target.is_numeric())
        || (t.ty.is_string() && target.is_string())
        || category(t.ty) == category(target) && category(t.ty) == 3
        || target == ScalarType::Text;
    if !ok {
        return Err(SqlError::new(
            sqlstate::DATATYPE_MISMATCH,
            format!(
                "column \"{column}\" is of type {} but expression is of type {}",
                to.name(),
                t.ty.name()
            ),
        )
        .with_hint("You will need to rewrite or cast the expression."));
    }
    t.cast_to(target)
}
