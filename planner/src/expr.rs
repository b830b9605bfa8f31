//! Scalar expressions (`Expr`) and their evaluation. The binder has already
//! coerced operands to matching types, so evaluation dispatches on the datums
//! it meets. Evaluation never panics on user data: every failure is a
//! `SqlError` with its SQLSTATE, which the dataflow carries as data.

use crate::func;
use catalog::{Datum, Row, ScalarType, SqlResult};
use serde::{Deserialize, Serialize};

/// Operators with one argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnaryOp {
    Not,
    Neg,
    IsNull,
    IsNotNull,
    IsTrue,
    IsNotTrue,
    IsFalse,
    IsNotFalse,
}

/// Operators with two arguments of matching types (after coercion).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
    Concat,
    Like,
    ILike,
    IsDistinctFrom,
    IsNotDistinctFrom,
    /// Integer bitwise `&`, `|`, `#` (xor), `<<`, `>>`.
    BitAnd,
    BitOr,
    BitXor,
    ShiftLeft,
    ShiftRight,
}

/// Named scalar functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Func {
    Coalesce,
    NullIf,
    Greatest,
    Least,
    Abs,
    Round,
    Trunc,
    Ceil,
    Floor,
    Upper,
    Lower,
    Length,
    Concat,
    Substr,
    Replace,
    Trim,
    LTrim,
    RTrim,
    /// `(count, value)` of a scalar subquery's rows for one outer row: the
    /// value, or error 21000 when the subquery returned more than one row.
    SingleRow,
    // The rest are evaluated in `builtins`.
    StrPos,
    StartsWith,
    SplitPart,
    Left,
    Right,
    Lpad,
    Rpad,
    Repeat,
    Reverse,
    Initcap,
    Power,
    Sqrt,
    Exp,
    Ln,
    Log10,
    Pi,
    MakeDate,
    DateTrunc,
    Extract,
    DatePart,
    ConcatWs,
    RegexpReplace,
    /// `~` (and `~*`): the pattern matches somewhere in the string.
    RegexMatch,
    RegexIMatch,
    RegexpLike,
    DateBin,
    Age,
    ToChar,
    // jsonb, evaluated in `jsonfn`
    JsonGet,
    JsonGetText,
    JsonPath,
    JsonPathText,
    JsonContains,
    JsonContained,
    JsonHasKey,
    JsonConcat,
    JsonBuildObject,
    JsonBuildArray,
    ToJsonb,
    JsonTypeof,
    JsonArrayLength,
    // arrays, evaluated in `arrayfn`
    ArrayCtor,
    ArraySubscript,
    /// `(record).field`: the field at the (0-based, literal) index.
    RecordField,
    /// timestamptz → the local timestamp in zone arg 2 (`AT TIME ZONE`).
    TzToLocal,
    /// local timestamp → the timestamptz it is in zone arg 2.
    TzFromLocal,
    /// timestamptz → its text in zone arg 2 (`… +01`).
    TzFormat,
    /// text → timestamptz, a value without an offset read in zone arg 2.
    TzParse,
    /// `x op ANY (a)`: arguments x, a, and the operator as text.
    ArrayAny,
    ArrayAll,
    ArrayLength,
    Cardinality,
    ArrayToString,
    StringToArray,
    ArrayAppend,
    ArrayCat,
    ArrayPosition,
    RegexpMatch,
    RegexpSplitToArray,
    // catalog functions, evaluated in `syscat`
    FormatType,
    QuoteIdent,
    ParseIdent,
    PgSizePretty,
    /// pg_cancel_backend(pid) and pg_terminate_backend(pid): signal a
    /// connection (a side effect, so never in a materialized view).
    PgCancelBackend,
    PgTerminateBackend,
    /// format(fmt, args…) with %s, %I, %L and %%.
    Format,
    /// (key, keys[], values[], default): the value at the position of the
    /// first key equal to `key`, else `default` (catalog lookups).
    Lookup,
    /// Fails with SQLSTATE arg 0 and message arg 1 when evaluated (a
    /// value Ripple cannot compute, in a branch that may never run).
    Raise,
}

impl Func {
    pub fn name(&self) -> &'static str {
        match self {
            Func::Coalesce => "coalesce",
            Func::NullIf => "nullif",
            Func::Greatest => "greatest",
            Func::Least => "least",
            Func::Abs => "abs",
            Func::Round => "round",
            Func::Trunc => "trunc",
            Func::Ceil => "ceil",
            Func::Floor => "floor",
            Func::Upper => "upper",
            Func::Lower => "lower",
            Func::Length => "length",
            Func::Concat => "concat",
            Func::Substr => "substr",
            Func::Replace => "replace",
            Func::Trim => "btrim",
            Func::LTrim => "ltrim",
            Func::RTrim => "rtrim",
            Func::SingleRow => "single_row",
            Func::StrPos => "strpos",
            Func::StartsWith => "starts_with",
            Func::SplitPart => "split_part",
            Func::Left => "left",
            Func::Right => "right",
            Func::Lpad => "lpad",
            Func::Rpad => "rpad",
            Func::Repeat => "repeat",
            Func::Reverse => "reverse",
            Func::Initcap => "initcap",
            Func::Power => "power",
            Func::Sqrt => "sqrt",
            Func::Exp => "exp",
            Func::Ln => "ln",
            Func::Log10 => "log",
            Func::Pi => "pi",
            Func::MakeDate => "make_date",
            Func::DateTrunc => "date_trunc",
            Func::Extract => "extract",
            Func::DatePart => "date_part",
            Func::ConcatWs => "concat_ws",
            Func::RegexpReplace => "regexp_replace",
            Func::RegexMatch => "~",
            Func::RegexIMatch => "~*",
            Func::RegexpLike => "regexp_like",
            Func::DateBin => "date_bin",
            Func::Age => "age",
            Func::ToChar => "to_char",
            Func::JsonGet => "->",
            Func::JsonGetText => "->>",
            Func::JsonPath => "#>",
            Func::JsonPathText => "#>>",
            Func::JsonContains => "@>",
            Func::JsonContained => "<@",
            Func::JsonHasKey => "?",
            Func::JsonConcat => "||",
            Func::JsonBuildObject => "jsonb_build_object",
            Func::JsonBuildArray => "jsonb_build_array",
            Func::ToJsonb => "to_jsonb",
            Func::JsonTypeof => "jsonb_typeof",
            Func::JsonArrayLength => "jsonb_array_length",
            Func::ArrayCtor => "array",
            Func::ArraySubscript => "subscript",
            Func::RecordField => "field",
            Func::TzToLocal | Func::TzFromLocal => "timezone",
            Func::TzFormat => "timestamptz_out",
            Func::TzParse => "timestamptz_in",
            Func::ArrayAny => "any",
            Func::ArrayAll => "all",
            Func::ArrayLength => "array_length",
            Func::Cardinality => "cardinality",
            Func::ArrayToString => "array_to_string",
            Func::StringToArray => "string_to_array",
            Func::ArrayAppend => "array_append",
            Func::ArrayCat => "array_cat",
            Func::ArrayPosition => "array_position",
            Func::RegexpMatch => "regexp_match",
            Func::RegexpSplitToArray => "regexp_split_to_array",
            Func::FormatType => "format_type",
            Func::QuoteIdent => "quote_ident",
            Func::ParseIdent => "parse_ident",
            Func::PgSizePretty => "pg_size_pretty",
            Func::PgCancelBackend => "pg_cancel_backend",
            Func::PgTerminateBackend => "pg_terminate_backend",
            Func::Format => "format",
            Func::Lookup => "lookup",
            Func::Raise => "raise",
        }
    }
}

/// A scalar expression over the columns of one input row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Expr {
    /// The input row's column at this index.
    Column(usize),
    /// A constant.
    Literal(Datum),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// A function call; arguments are evaluated lazily where SQL says so (COALESCE).
    Call(Func, Vec<Expr>),
    /// CASE WHEN cond THEN then ELSE els END (a NULL condition takes ELSE).
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        els: Box<Expr>,
    },
    /// Conversion to `to` with PostgreSQL's rules and errors.
    Cast {
        expr: Box<Expr>,
        to: ScalarType,
    },
    /// Column `i` of the enclosing query's row, inside a correlated
    /// subquery. Decorrelation (`subquery::apply`) replaces every one by a
    /// column before the plan leaves the binder; it is never evaluated.
    Outer(usize),
    /// Column `col` of the query `depth` (≥ 2) levels out. Each
    /// decorrelation step brings it one level closer; at depth 1 it becomes
    /// `Outer(col)`.
    OuterN {
        depth: usize,
        col: usize,
    },
}

impl Expr {
    pub fn column(i: usize) -> Expr {
        Expr::Column(i)
    }

    pub fn binary(op: BinaryOp, l: Expr, r: Expr) -> Expr {
        Expr::Binary(op, Box::new(l), Box::new(r))
    }

    pub fn unary(op: UnaryOp, e: Expr) -> Expr {
        Expr::Unary(op, Box::new(e))
    }

    /// `self AND other`, skipping a literal TRUE.
    pub fn and(self, other: Expr) -> Expr {
        match (&self, &other) {
            (Expr::Literal(Datum::Bool(true)), _) => other,
            (_, Expr::Literal(Datum::Bool(true))) => self,
            _ => Expr::binary(BinaryOp::And, self, other),
        }
    }

    /// Evaluates the expression against `row`.
    pub fn eval(&self, row: &Row) -> SqlResult<Datum> {
        match self {
            Expr::Column(i) => Ok(row.get(*i).clone()),
            Expr::Literal(d) => Ok(d.clone()),
            Expr::Unary(op, e) => func::eval_unary(*op, e.eval(row)?),
            Expr::Binary(BinaryOp::And, l, r) => {
                // FALSE wins over NULL and over errors on the other side is not
                // guaranteed in SQL; evaluate left first and short-circuit.
                let l = l.eval(row)?;
                if l == Datum::Bool(false) {
                    return Ok(l);
                }
                let r = r.eval(row)?;
                Ok(match (l, r) {
                    (_, Datum::Bool(false)) => Datum::Bool(false),
                    (Datum::Bool(true), Datum::Bool(true)) => Datum::Bool(true),
                    _ => Datum::Null,
                })
            }
            Expr::Binary(BinaryOp::Or, l, r) => {
                let l = l.eval(row)?;
                if l == Datum::Bool(true) {
                    return Ok(l);
                }
                let r = r.eval(row)?;
                Ok(match (l, r) {
                    (_, Datum::Bool(true)) => Datum::Bool(true),
                    (Datum::Bool(false), Datum::Bool(false)) => Datum::Bool(false),
                    _ => Datum::Null,
                })
            }
            Expr::Binary(op, l, r) => func::eval_binary(*op, l.eval(row)?, r.eval(row)?),
            Expr::Call(Func::Coalesce, args) => {
                for a in args {
                    let v = a.eval(row)?;
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                Ok(Datum::Null)
            }
            Expr::Call(f, args) => {
                let vals = args
                    .iter()
                    .map(|a| a.eval(row))
                    .collect::<SqlResult<Vec<_>>>()?;
                func::eval_call(*f, vals)
            }
            Expr::If { cond, then, els } => {
                if cond.eval(row)? == Datum::Bool(true) {
                    then.eval(row)
                } else {
                    els.eval(row)
                }
            }
            Expr::Cast { expr, to } => func::cast(expr.eval(row)?, *to),
            Expr::Outer(i) | Expr::OuterN { col: i, .. } => Err(catalog::SqlError::internal(
                format!("outer reference #{i} was not decorrelated"),
            )),
        }
    }

    /// Evaluates a predicate: only TRUE passes (NULL and FALSE do not).
    pub fn eval_predicate(&self, row: &Row) -> SqlResult<bool> {
        Ok(self.eval(row)? == Datum::Bool(true))
    }

    /// Whether the expression reads no columns (of its row or an outer one).
    pub fn is_constant(&self) -> bool {
        let mut cols = Vec::new();
        self.collect_columns(&mut cols);
        cols.is_empty() && !self.has_outer()
    }

    /// Whether the expression reads the enclosing query's row.
    pub fn has_outer(&self) -> bool {
        let mut found = false;
        self.visit(&mut |e| found |= matches!(e, Expr::Outer(_) | Expr::OuterN { .. }));
        found
    }

    /// Calls `f` on this expression and every subexpression.
    pub fn visit(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Column(_) | Expr::Literal(_) | Expr::Outer(_) | Expr::OuterN { .. } => {}
            Expr::Unary(_, e) | Expr::Cast { expr: e, .. } => e.visit(f),
            Expr::Binary(_, l, r) => {
                l.visit(f);
                r.visit(f);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.visit(f)),
            Expr::If { cond, then, els } => {
                cond.visit(f);
                then.visit(f);
                els.visit(f);
            }
        }
    }

    /// Appends every column index this expression reads.
    pub fn collect_columns(&self, out: &mut Vec<usize>) {
        self.visit(&mut |e| {
            if let Expr::Column(i) = e {
                out.push(*i)
            }
        });
    }

    /// Rebuilds the expression bottom-up, replacing each leaf (column,
    /// literal, outer reference) by `f`'s answer.
    pub fn map_leaves(&self, f: &impl Fn(&Expr) -> Expr) -> Expr {
        match self {
            Expr::Column(_) | Expr::Literal(_) | Expr::Outer(_) | Expr::OuterN { .. } => f(self),
            Expr::Unary(op, e) => Expr::unary(*op, e.map_leaves(f)),
            Expr::Binary(op, l, r) => Expr::binary(*op, l.map_leaves(f), r.map_leaves(f)),
            Expr::Call(func, args) => {
                Expr::Call(*func, args.iter().map(|a| a.map_leaves(f)).collect())
            }
            Expr::If { cond, then, els } => Expr::If {
                cond: Box::new(cond.map_leaves(f)),
                then: Box::new(then.map_leaves(f)),
                els: Box::new(els.map_leaves(f)),
            },
            Expr::Cast { expr, to } => Expr::Cast {
                expr: Box::new(expr.map_leaves(f)),
                to: *to,
            },
        }
    }

    /// Rewrites column references through `f`.
    pub fn map_columns(&self, f: &impl Fn(usize) -> usize) -> Expr {
        self.map_leaves(&|e| match e {
            Expr::Column(i) => Expr::Column(f(*i)),
            other => other.clone(),
        })
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expr::Column(i) => write!(f, "#{i}"),
            Expr::Literal(d) => match catalog::strconv::format_datum(d) {
                None => write!(f, "NULL"),
                Some(s) if matches!(d, Datum::Text(_)) => write!(f, "'{s}'"),
                Some(s) => write!(f, "{s}"),
            },
            Expr::Unary(op, e) => write!(f, "{op:?}({e})"),
            Expr::Binary(op, l, r) => write!(f, "({l} {} {r})", binary_symbol(*op)),
            Expr::Call(func, args) => {
                write!(f, "{}(", func.name())?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, ")")
            }
            Expr::If { cond, then, els } => write!(f, "if({cond}, {then}, {els})"),
            Expr::Cast { expr, to } => write!(f, "{expr}::{}", to.name()),
            Expr::Outer(i) => write!(f, "outer#{i}"),
            Expr::OuterN { depth, col } => write!(f, "outer{depth}#{col}"),
        }
    }
}

fn binary_symbol(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Mod => "%",
        BinaryOp::Eq => "=",
        BinaryOp::NotEq => "<>",
        BinaryOp::Lt => "<",
        BinaryOp::LtEq => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::GtEq => ">=",
        BinaryOp::And => "AND",
        BinaryOp::Or => "OR",
        BinaryOp::Concat => "||",
        BinaryOp::Like => "LIKE",
        BinaryOp::ILike => "ILIKE",
        BinaryOp::IsDistinctFrom => "IS DISTINCT FROM",
        BinaryOp::IsNotDistinctFrom => "IS NOT DISTINCT FROM",
        BinaryOp::BitAnd => "&",
        BinaryOp::BitOr => "|",
        BinaryOp::BitXor => "#",
        BinaryOp::ShiftLeft => "<<",
        BinaryOp::ShiftRight => ">>",
    }
}
