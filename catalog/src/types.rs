//! SQL types and values: `ScalarType`, `Datum`, `Row`, and the identifiers
//! (`GlobalId`, `Timestamp`, `Diff`) every other crate speaks in.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// Logical time: epoch milliseconds from the coordinator's monotone clock.
pub type Timestamp = u64;
/// Multiplicity of an update in a differential collection.
pub type Diff = isize;

/// Identifies a catalog object (table, view, materialized view, index) for its
/// whole life; never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GlobalId(pub u64);

impl std::fmt::Display for GlobalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "u{}", self.0)
    }
}

/// The SQL types Ripple stores and computes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ScalarType {
    Bool,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    /// numeric, or numeric(precision, scale) when `Some`.
    Numeric(Option<(u16, i16)>),
    /// text, or varchar(n) when `Some(n)`.
    Text,
    Varchar(Option<u32>),
    /// char(n): blank-padded to n.
    Char(u32),
    Date,
    Timestamp,
    TimestampTz,
    Interval,
    Jsonb,
    /// A one-dimensional array of `ElemType` values (NULLs allowed).
    Array(ElemType),
    /// An object identifier (unsigned 32 bits, held as `Datum::Int64`); the
    /// type of the system catalogs' keys. `regclass`, `regtype`, `regproc`
    /// and `regnamespace` values are oids too.
    Oid,
    /// int2vector (pg_index.indkey): an array of smallints held as
    /// `Datum::Array`, written `1 2` and subscripted from 0.
    Int2Vector,
    /// uuid, held as its canonical text (lower-case, hyphenated), whose
    /// order is the bytes' order.
    Uuid,
    /// bytea, held as its hex text form (`\\x0a1b`), whose order is the
    /// bytes' order.
    Bytea,
    /// time (without time zone): microseconds since midnight.
    Time,
    /// A composite value returned by a function (PostgreSQL's `record`).
    Record(RecordType),
}

/// The composite types Ripple's functions return; each shape is known, so
/// `(f(x)).field` resolves when the statement is planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RecordType {
    /// `information_schema._pg_expandarray(a)`: `(x element, n integer)`.
    ExpandArray(ElemType),
}

impl RecordType {
    /// The fields, in order: name and type.
    pub fn fields(&self) -> Vec<(&'static str, ScalarType)> {
        match self {
            RecordType::ExpandArray(e) => vec![("x", e.scalar()), ("n", ScalarType::Int32)],
        }
    }
}

/// The element types of arrays: the scalar types without typmods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ElemType {
    Bool,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Numeric,
    Text,
    Varchar,
    Date,
    Timestamp,
    TimestampTz,
    Interval,
    Jsonb,
    Oid,
}

impl ElemType {
    /// The element type as a scalar type.
    pub fn scalar(self) -> ScalarType {
        match self {
            ElemType::Bool => ScalarType::Bool,
            ElemType::Int16 => ScalarType::Int16,
            ElemType::Int32 => ScalarType::Int32,
            ElemType::Int64 => ScalarType::Int64,
            ElemType::Float32 => ScalarType::Float32,
            ElemType::Float64 => ScalarType::Float64,
            ElemType::Numeric => ScalarType::Numeric(None),
            ElemType::Text => ScalarType::Text,
            ElemType::Varchar => ScalarType::Varchar(None),
            ElemType::Date => ScalarType::Date,
            ElemType::Timestamp => ScalarType::Timestamp,
            ElemType::TimestampTz => ScalarType::TimestampTz,
            ElemType::Interval => ScalarType::Interval,
            ElemType::Jsonb => ScalarType::Jsonb,
            ElemType::Oid => ScalarType::Oid,
        }
    }

    /// The element type of arrays of `t` (typmods dropped; no arrays of arrays).
    pub fn of(t: ScalarType) -> Option<ElemType> {
        Some(match t {
            ScalarType::Bool => ElemType::Bool,
            ScalarType::Int16 => ElemType::Int16,
            ScalarType::Int32 => ElemType::Int32,
            ScalarType::Int64 => ElemType::Int64,
            ScalarType::Float32 => ElemType::Float32,
            ScalarType::Float64 => ElemType::Float64,
            ScalarType::Numeric(_) => ElemType::Numeric,
            ScalarType::Text | ScalarType::Char(_) => ElemType::Text,
            ScalarType::Varchar(_) => ElemType::Varchar,
            ScalarType::Date => ElemType::Date,
            ScalarType::Timestamp => ElemType::Timestamp,
            ScalarType::TimestampTz => ElemType::TimestampTz,
            ScalarType::Interval => ElemType::Interval,
            ScalarType::Jsonb => ElemType::Jsonb,
            ScalarType::Oid => ElemType::Oid,
            ScalarType::Array(_)
            | ScalarType::Int2Vector
            | ScalarType::Uuid
            | ScalarType::Bytea
            | ScalarType::Time
            | ScalarType::Record(_) => return None,
        })
    }

    /// PostgreSQL's OID of the array type.
    pub fn array_oid(self) -> u32 {
        match self {
            ElemType::Bool => 1000,
            ElemType::Int16 => 1005,
            ElemType::Int32 => 1007,
            ElemType::Int64 => 1016,
            ElemType::Float32 => 1021,
            ElemType::Float64 => 1022,
            ElemType::Numeric => 1231,
            ElemType::Text => 1009,
            ElemType::Varchar => 1015,
            ElemType::Date => 1182,
            ElemType::Timestamp => 1115,
            ElemType::TimestampTz => 1185,
            ElemType::Interval => 1187,
            ElemType::Jsonb => 3807,
            ElemType::Oid => 1028,
        }
    }

    /// The element type of the array type with OID `oid`.
    pub fn of_array_oid(oid: u32) -> Option<ElemType> {
        use ElemType::*;
        [
            Bool,
            Int16,
            Int32,
            Int64,
            Float32,
            Float64,
            Numeric,
            Text,
            Varchar,
            Date,
            Timestamp,
            TimestampTz,
            Interval,
            Jsonb,
            Oid,
        ]
        .into_iter()
        .find(|e| e.array_oid() == oid)
    }
}

impl ScalarType {
    /// The PostgreSQL name used in messages and `format_type`.
    pub fn name(&self) -> String {
        match self {
            ScalarType::Bool => "boolean".into(),
            ScalarType::Int16 => "smallint".into(),
            ScalarType::Int32 => "integer".into(),
            ScalarType::Int64 => "bigint".into(),
            ScalarType::Float32 => "real".into(),
            ScalarType::Float64 => "double precision".into(),
            ScalarType::Numeric(None) => "numeric".into(),
            ScalarType::Numeric(Some((p, s))) => format!("numeric({p},{s})"),
            ScalarType::Text => "text".into(),
            ScalarType::Varchar(None) => "character varying".into(),
            ScalarType::Varchar(Some(n)) => format!("character varying({n})"),
            ScalarType::Char(n) => format!("character({n})"),
            ScalarType::Date => "date".into(),
            ScalarType::Timestamp => "timestamp without time zone".into(),
            ScalarType::TimestampTz => "timestamp with time zone".into(),
            ScalarType::Interval => "interval".into(),
            ScalarType::Jsonb => "jsonb".into(),
            ScalarType::Oid => "oid".into(),
            ScalarType::Int2Vector => "int2vector".into(),
            ScalarType::Uuid => "uuid".into(),
            ScalarType::Bytea => "bytea".into(),
            ScalarType::Time => "time without time zone".into(),
            ScalarType::Record(_) => "record".into(),
            ScalarType::Array(e) => format!("{}[]", e.scalar().name()),
        }
    }

    /// The short name PostgreSQL uses in input-syntax errors.
    pub fn input_name(&self) -> &'static str {
        match self {
            ScalarType::Bool => "boolean",
            ScalarType::Int16 => "smallint",
            ScalarType::Int32 => "integer",
            ScalarType::Int64 => "bigint",
            ScalarType::Float32 => "real",
            ScalarType::Float64 => "double precision",
            ScalarType::Numeric(_) => "numeric",
            ScalarType::Text | ScalarType::Varchar(_) | ScalarType::Char(_) => "text",
            ScalarType::Date => "date",
            ScalarType::Timestamp => "timestamp",
            ScalarType::TimestampTz => "timestamp with time zone",
            ScalarType::Interval => "interval",
            ScalarType::Jsonb => "json",
            ScalarType::Oid => "oid",
            ScalarType::Int2Vector => "int2vector",
            ScalarType::Uuid => "uuid",
            ScalarType::Bytea => "bytea",
            ScalarType::Time => "time",
            ScalarType::Record(_) => "record",
            ScalarType::Array(_) => "array",
        }
    }

    /// PostgreSQL's type OID, for RowDescription.
    pub fn oid(&self) -> u32 {
        match self {
            ScalarType::Bool => 16,
            ScalarType::Int16 => 21,
            ScalarType::Int32 => 23,
            ScalarType::Int64 => 20,
            ScalarType::Float32 => 700,
            ScalarType::Float64 => 701,
            ScalarType::Numeric(_) => 1700,
            ScalarType::Text => 25,
            ScalarType::Varchar(_) => 1043,
            ScalarType::Char(_) => 1042,
            ScalarType::Date => 1082,
            ScalarType::Timestamp => 1114,
            ScalarType::TimestampTz => 1184,
            ScalarType::Interval => 1186,
            ScalarType::Jsonb => 3802,
            ScalarType::Oid => 26,
            ScalarType::Int2Vector => 22,
            ScalarType::Uuid => 2950,
            ScalarType::Bytea => 17,
            ScalarType::Time => 1083,
            ScalarType::Record(_) => 2249,
            ScalarType::Array(e) => e.array_oid(),
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            ScalarType::Int16
                | ScalarType::Int32
                | ScalarType::Int64
                | ScalarType::Float32
                | ScalarType::Float64
                | ScalarType::Numeric(_)
        )
    }

    /// The type without a numeric typmod: what an expression computed from a
    /// value of this type has (`numeric(10,2) * 2` is plain numeric).
    pub fn base(self) -> ScalarType {
        match self {
            ScalarType::Numeric(_) => ScalarType::Numeric(None),
            t => t,
        }
    }

    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            ScalarType::Int16 | ScalarType::Int32 | ScalarType::Int64
        )
    }

    pub fn is_string(&self) -> bool {
        matches!(
            self,
            ScalarType::Text | ScalarType::Varchar(_) | ScalarType::Char(_)
        )
    }

    /// Rank in PostgreSQL's numeric promotion order (int2 < int4 < int8 < numeric < float4 < float8).
    pub fn numeric_rank(&self) -> Option<u8> {
        Some(match self {
            ScalarType::Int16 => 1,
            ScalarType::Int32 => 2,
            ScalarType::Int64 => 3,
            ScalarType::Numeric(_) => 4,
            ScalarType::Float32 => 5,
            ScalarType::Float64 => 6,
            _ => return None,
        })
    }
}

/// A totally ordered `f64`: NaN sorts above everything and equals itself, and
/// -0 equals 0, as in PostgreSQL.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct F64(pub f64);

/// A totally ordered `f32`, as [`F64`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct F32(pub f32);

macro_rules! ordered_float {
    ($t:ident, $f:ty, $bits:ty) => {
        impl $t {
            fn key(&self) -> $f {
                if self.0 == 0.0 {
                    0.0
                } else {
                    self.0
                }
            }
        }
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == Ordering::Equal
            }
        }
        impl Eq for $t {}
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $t {
            fn cmp(&self, other: &Self) -> Ordering {
                match (self.0.is_nan(), other.0.is_nan()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => self.key().partial_cmp(&other.key()).unwrap(),
                }
            }
        }
        impl Hash for $t {
            fn hash<H: Hasher>(&self, state: &mut H) {
                let bits: $bits = if self.0.is_nan() {
                    <$f>::NAN.to_bits()
                } else {
                    self.key().to_bits()
                };
                bits.hash(state)
            }
        }
    };
}
ordered_float!(F64, f64, u64);
ordered_float!(F32, f32, u32);

/// `d` shown with at least `scale` fractional digits when that does not
/// change its value. Decimal arithmetic drops the scale of zero results
/// (`0.00 * 2` gives `0`), while PostgreSQL keeps it (`0.00`): the callers
/// restore the scale PostgreSQL's rules give.
pub fn numeric_with_scale(d: Decimal, scale: u32) -> Decimal {
    if d.scale() >= scale || scale > 28 {
        return d;
    }
    let mut r = d;
    r.rescale(scale);
    if r == d {
        r
    } else {
        d
    }
}

/// An interval as PostgreSQL keeps it: months, days and microseconds, each
/// signed independently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

impl Interval {
    /// Total span with a month as 30 days and a day as 24 hours (PostgreSQL's
    /// comparison rule).
    pub fn as_micros_approx(&self) -> i128 {
        const DAY: i128 = 86_400_000_000;
        (self.months as i128 * 30 + self.days as i128) * DAY + self.micros as i128
    }
}

impl PartialOrd for Interval {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Interval {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_micros_approx()
            .cmp(&other.as_micros_approx())
            .then_with(|| {
                (self.months, self.days, self.micros).cmp(&(other.months, other.days, other.micros))
            })
    }
}

/// One SQL value. Variants order as their types do; within a type, values
/// order as SQL orders them (NULL first here; ORDER BY applies SQL's NULLS
/// LAST default itself).
///
/// Equality is exact, not SQL's: numerics that are equal in value but
/// written with different scales (`1.5`, `1.50`) are different datums,
/// because PostgreSQL shows them differently and a maintained view must
/// notice when an output changes from one to the other. SQL comparisons go
/// through `planner::func::sql_cmp`; joins compare numerics by value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Datum {
    Null,
    Bool(bool),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(F32),
    Float64(F64),
    Numeric(Decimal),
    Text(String),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since 1970-01-01 00:00:00.
    Timestamp(i64),
    /// Microseconds since 1970-01-01 00:00:00 UTC.
    TimestampTz(i64),
    Interval(Interval),
    /// jsonb, as its canonical text (see `json`).
    Jsonb(String),
    /// A one-dimensional array (lower bound 1).
    Array(Vec<Datum>),
    /// Microseconds since midnight (0 ..= 24:00:00).
    Time(i64),
    /// A composite value: its fields in order.
    Record(Vec<Datum>),
}

impl PartialEq for Datum {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Datum {}

impl PartialOrd for Datum {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Datum {
    fn cmp(&self, other: &Self) -> Ordering {
        use Datum::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int16(a), Int16(b)) => a.cmp(b),
            (Int32(a), Int32(b)) => a.cmp(b),
            (Int64(a), Int64(b)) => a.cmp(b),
            (Float32(a), Float32(b)) => a.cmp(b),
            (Float64(a), Float64(b)) => a.cmp(b),
            // by value, then by scale: 1.5 < 1.50 < 1.6
            (Numeric(a), Numeric(b)) => a.cmp(b).then_with(|| a.scale().cmp(&b.scale())),
            (Text(a), Text(b)) => a.cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) => a.cmp(b),
            (TimestampTz(a), TimestampTz(b)) => a.cmp(b),
            (Interval(a), Interval(b)) => a.cmp(b),
            (Time(a), Time(b)) => a.cmp(b),
            (Jsonb(a), Jsonb(b)) => a.cmp(b),
            (Array(a), Array(b)) => a.cmp(b),
            (Record(a), Record(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl std::hash::Hash for Datum {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        use Datum::*;
        self.rank().hash(state);
        match self {
            Null => {}
            Bool(b) => b.hash(state),
            Int16(i) => i.hash(state),
            Int32(i) => i.hash(state),
            Int64(i) => i.hash(state),
            Float32(f) => f.hash(state),
            Float64(f) => f.hash(state),
            // consistent with `cmp`: value and scale (a zero's sign ignored)
            Numeric(d) => (d.mantissa(), d.scale()).hash(state),
            Text(s) => s.hash(state),
            Date(d) => d.hash(state),
            Timestamp(t) | TimestampTz(t) => t.hash(state),
            Interval(iv) => iv.hash(state),
            Jsonb(s) => s.hash(state),
            Array(items) => items.hash(state),
            Time(t) => t.hash(state),
            Record(fields) => fields.hash(state),
        }
    }
}

impl Datum {
    /// Position of the variant in the declaration (the order of types).
    fn rank(&self) -> u8 {
        match self {
            Datum::Null => 0,
            Datum::Bool(_) => 1,
            Datum::Int16(_) => 2,
            Datum::Int32(_) => 3,
            Datum::Int64(_) => 4,
            Datum::Float32(_) => 5,
            Datum::Float64(_) => 6,
            Datum::Numeric(_) => 7,
            Datum::Text(_) => 8,
            Datum::Date(_) => 9,
            Datum::Timestamp(_) => 10,
            Datum::TimestampTz(_) => 11,
            Datum::Interval(_) => 12,
            Datum::Jsonb(_) => 13,
            Datum::Array(_) => 14,
            Datum::Time(_) => 15,
            Datum::Record(_) => 16,
        }
    }

    /// The datum with numerics reduced to their value (trailing zeros
    /// dropped): the form join keys compare in, as SQL's `=` does.
    pub fn normalized(&self) -> Datum {
        match self {
            Datum::Numeric(d) => {
                let mut n = d.normalize();
                if n.is_zero() {
                    n.set_sign_positive(true);
                }
                Datum::Numeric(n)
            }
            Datum::Array(items) => Datum::Array(items.iter().map(Datum::normalized).collect()),
            other => other.clone(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Datum::Null)
    }

    /// The boolean value, or `None` for NULL (and non-booleans).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Datum::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// A row of datums. The field is private so the representation can become a
/// packed byte row later without touching callers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Row(Vec<Datum>);

impl Row {
    pub fn new(datums: Vec<Datum>) -> Self {
        Row(datums)
    }
    pub fn empty() -> Self {
        Row(Vec::new())
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn get(&self, i: usize) -> &Datum {
        &self.0[i]
    }
    pub fn iter(&self) -> std::slice::Iter<'_, Datum> {
        self.0.iter()
    }
    pub fn datums(&self) -> &[Datum] {
        &self.0
    }
    pub fn into_datums(self) -> Vec<Datum> {
        self.0
    }
    /// Appends a datum.
    pub fn push(&mut self, d: Datum) {
        self.0.push(d);
    }
    /// The columns at `indices`, in that order.
    pub fn project(&self, indices: &[usize]) -> Row {
        Row(indices.iter().map(|&i| self.0[i].clone()).collect())
    }
    /// This row followed by `other`.
    pub fn concat(&self, other: &Row) -> Row {
        let mut v = Vec::with_capacity(self.0.len() + other.0.len());
        v.extend_from_slice(&self.0);
        v.extend_from_slice(&other.0);
        Row(v)
    }
    /// Approximate heap bytes held by this row, for memory accounting.
    pub fn heap_size(&self) -> usize {
        self.0.capacity() * std::mem::size_of::<Datum>()
            + self
                .0
                .iter()
                .map(|d| match d {
                    Datum::Text(s) => s.capacity(),
                    _ => 0,
                })
                .sum::<usize>()
    }
}

impl From<Vec<Datum>> for Row {
    fn from(v: Vec<Datum>) -> Self {
        Row(v)
    }
}

/// A named, typed column of a relation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub ty: ScalarType,
    pub nullable: bool,
    /// For a query's result column that is a column of a table or view:
    /// that relation's OID and the column's number (RowDescription reports
    /// them). Not stored, and not part of the column's identity.
    #[serde(skip)]
    pub origin: Option<(u32, i16)>,
}

impl Column {
    pub fn new(name: impl Into<String>, ty: ScalarType, nullable: bool) -> Column {
        Column {
            name: name.into(),
            ty,
            nullable,
            origin: None,
        }
    }
}

impl PartialEq for Column {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, self.ty, self.nullable) == (&other.name, other.ty, other.nullable)
    }
}

impl Eq for Column {}

impl std::hash::Hash for Column {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (&self.name, self.ty, self.nullable).hash(state)
    }
}

/// The columns of a relation, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Schema {
    pub columns: Vec<Column>,
}

impl Schema {
    pub fn new(columns: Vec<Column>) -> Self {
        Schema { columns }
    }
    pub fn len(&self) -> usize {
        self.columns.len()
    }
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
    pub fn types(&self) -> Vec<ScalarType> {
        self.columns.iter().map(|c| c.ty).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_order_totally() {
        assert_eq!(F64(0.0), F64(-0.0));
        assert_eq!(F64(f64::NAN), F64(f64::NAN));
        assert!(F64(f64::NAN) > F64(f64::INFINITY));
        assert!(F64(1.0) < F64(2.0));
    }

    #[test]
    fn numerics_are_equal_only_with_the_same_scale() {
        use std::str::FromStr;
        let n = |s: &str| Datum::Numeric(Decimal::from_str(s).unwrap());
        assert_ne!(n("1.5"), n("1.50"));
        assert!(n("1.5") < n("1.50") && n("1.50") < n("1.6"));
        assert_eq!(n("1.50").normalized(), n("1.5"));
        assert_eq!(n("-0.00").normalized(), n("0"));
        let hash = |d: &Datum| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            d.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(&n("0.00")), hash(&n("-0.00")));
        assert_eq!(n("0.00"), n("-0.00"));
    }

    #[test]
    fn intervals_compare_by_span() {
        let month = Interval {
            months: 1,
            days: 0,
            micros: 0,
        };
        let days31 = Interval {
            months: 0,
            days: 31,
            micros: 0,
        };
        assert!(month < days31);
    }
}
