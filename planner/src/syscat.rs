//! Binding what clients use to introspect: the system relations of
//! `pg_catalog` and `information_schema` (constant rows computed from the
//! catalog when the statement is planned), the `::regclass`-style casts, and
//! the catalog functions (`format_type`, `pg_get_userbyid`,
//! `current_setting`, …) psql, drivers and BI tools call.

use crate::bind::{Binder, Rel};
use crate::coerce::Typed;
use crate::expr::{BinaryOp, Expr, Func, UnaryOp};
use crate::plan::Plan;
use crate::scope::Scope;
use catalog::system::{self, SystemRelation};
use catalog::{sqlstate, Datum, ElemType, ScalarType, SqlError, SqlResult};
use sqlparser::ast;

/// The alias types of `oid` that look names up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegKind {
    Class,
    Type,
    Proc,
    Namespace,
}

/// The reg* type a cast names (`regclass`, `pg_catalog.regtype`, …).
pub fn reg_kind(t: &ast::DataType) -> Option<RegKind> {
    let ast::DataType::Custom(name, _) = t else {
        return matches!(t, ast::DataType::Regclass).then_some(RegKind::Class);
    };
    let last = name.0.last()?.as_ident()?.value.to_lowercase();
    Some(match last.as_str() {
        "regclass" => RegKind::Class,
        "regtype" => RegKind::Type,
        "regproc" | "regprocedure" => RegKind::Proc,
        "regnamespace" => RegKind::Namespace,
        _ => return None,
    })
}

/// `key = k1 THEN v1 … ELSE default` as nested conditionals.
/// One call however many pairs there are (nested CASEs over every relation
/// name would recurse as deep as the catalog is large).
fn lookup(key: &Expr, pairs: Vec<(Datum, Datum)>, default: Expr) -> Expr {
    let (keys, values): (Vec<Datum>, Vec<Datum>) = pairs.into_iter().unzip();
    Expr::Call(
        Func::Lookup,
        vec![
            key.clone(),
            Expr::Literal(Datum::Array(keys)),
            Expr::Literal(Datum::Array(values)),
            default,
        ],
    )
}

fn oid(v: u32) -> Datum {
    Datum::Int64(v as i64)
}

fn text(s: &str) -> Datum {
    Datum::Text(s.to_string())
}

fn literal_text(t: &Typed) -> Option<String> {
    match &t.expr {
        Expr::Literal(Datum::Text(s)) => Some(s.clone()),
        _ => None,
    }
}

/// A name as `::regclass` reads it: quoted parts keep their case, others
/// are lower-cased; `"public"."t"` and `public.t` are the same.
fn normalize_name(s: &str) -> String {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            '"' => quoted = !quoted,
            '.' if !quoted => out.push(std::mem::take(&mut cur)),
            c if quoted => cur.push(c),
            c => cur.extend(c.to_lowercase()),
        }
    }
    out.push(cur);
    out.join(".")
}

impl Binder<'_> {
    /// The system relation `name` (schema-qualified or not) as constant
    /// rows, if it is one.
    pub fn bind_system_relation(
        &self,
        schema: Option<&str>,
        name: &str,
        label: &str,
    ) -> Option<Rel> {
        let rel: &SystemRelation = system::lookup(schema, name)?;
        self.system_used.set(true);
        let schema = rel.schema();
        let rows = rel
            .rows(self.catalog, self.session)
            .into_iter()
            .map(|r| (catalog::Row::new(r), 1))
            .collect::<Vec<_>>();
        Some(Rel {
            plan: Plan::Constant {
                rows: std::sync::Arc::new(rows),
                arity: schema.len(),
            },
            scope: Scope::from_columns(Some(label), &schema.columns),
        })
    }

    /// `x::regclass` (and regtype, regproc, regnamespace): a name looked up
    /// to its OID (an error for an unknown constant, as PostgreSQL gives),
    /// or a number taken as an OID.
    pub fn bind_reg_cast(&self, t: Typed, kind: RegKind) -> SqlResult<Typed> {
        if !(t.unknown || t.ty.is_string()) {
            let e = t.cast_to(ScalarType::Oid)?;
            return Ok(Typed::new(e, ScalarType::Oid));
        }
        if let Some(s) = literal_text(&t) {
            if let Ok(n) = s.trim().parse::<u32>() {
                return Ok(Typed::new(Expr::Literal(oid(n)), ScalarType::Oid));
            }
            let found = match kind {
                RegKind::Class => {
                    let n = normalize_name(&s);
                    system::relation_oids(self.catalog)
                        .into_iter()
                        .find(|(name, _)| *name == n || *name == format!("ripple.{n}"))
                        .map(|(_, o)| o)
                        .ok_or_else(|| SqlError::undefined_table(&s))
                }
                RegKind::Type => system::type_oid(&s).ok_or_else(|| {
                    SqlError::new(
                        sqlstate::UNDEFINED_OBJECT,
                        format!("type \"{s}\" does not exist"),
                    )
                }),
                RegKind::Proc => system::proc_oid(&s).ok_or_else(|| {
                    SqlError::new(
                        sqlstate::UNDEFINED_FUNCTION,
                        format!("function \"{s}\" does not exist"),
                    )
                }),
                RegKind::Namespace => system::namespace_oid(&normalize_name(&s)).ok_or_else(|| {
                    SqlError::new(
                        sqlstate::INVALID_SCHEMA_NAME,
                        format!("schema \"{s}\" does not exist"),
                    )
                }),
            }?;
            return Ok(Typed::new(Expr::Literal(oid(found)), ScalarType::Oid));
        }
        let key = t.cast_to(ScalarType::Text)?;
        Ok(Typed::new(self.name_to_oid(kind, &key), ScalarType::Oid))
    }

    /// A run-time name → OID lookup (NULL for unknown names).
    fn name_to_oid(&self, kind: RegKind, key: &Expr) -> Expr {
        let pairs: Vec<(Datum, Datum)> = match kind {
            RegKind::Class => system::relation_oids(self.catalog)
                .into_iter()
                .flat_map(|(n, o)| {
                    let quoted = n
                        .split('.')
                        .map(system::quote_ident)
                        .collect::<Vec<_>>()
                        .join(".");
                    let mut v = vec![(text(&n), oid(o))];
                    if quoted != n {
                        v.push((text(&quoted), oid(o)));
                    }
                    v
                })
                .collect(),
            RegKind::Namespace => [
                "pg_catalog",
                "public",
                "information_schema",
                "ripple_catalog",
                "pg_toast",
            ]
            .into_iter()
            .filter_map(|n| Some((text(n), oid(system::namespace_oid(n)?))))
            .collect(),
            RegKind::Type => system::type_oids()
                .into_iter()
                .map(|(n, o)| (text(&n), oid(o)))
                .collect(),
            RegKind::Proc => system::proc_oids()
                .into_iter()
                .map(|(n, o)| (text(&n), oid(o)))
                .collect(),
        };
        lookup(key, pairs, Expr::Literal(Datum::Null))
    }

    /// `x::regclass::text` and friends: the OID's name.
    pub fn bind_reg_name(&self, t: Typed, kind: RegKind) -> SqlResult<Typed> {
        let key = self.bind_reg_cast(t, kind)?.expr;
        let pairs: Vec<(Datum, Datum)> = match kind {
            RegKind::Class => system::relation_names(self.catalog)
                .into_iter()
                .map(|(o, n)| (oid(o), text(&n)))
                .collect(),
            RegKind::Type => {
                return Ok(Typed::new(
                    Expr::Call(Func::FormatType, vec![key, Expr::Literal(Datum::Null)]),
                    ScalarType::Text,
                ))
            }
            RegKind::Namespace => [
                system::PG_CATALOG,
                system::PUBLIC,
                system::INFORMATION_SCHEMA,
                system::PG_TOAST,
            ]
            .into_iter()
            .filter_map(|o| Some((oid(o), text(system::namespace_name(o)?))))
            .collect(),
            RegKind::Proc => vec![],
        };
        let fallback = Expr::Cast {
            expr: Box::new(key.clone()),
            to: ScalarType::Text,
        };
        Ok(Typed::new(lookup(&key, pairs, fallback), ScalarType::Text))
    }

    /// The catalog and session functions; `None` if `name` is not one.
    pub fn bind_system_function(&self, name: &str, args: Vec<Typed>) -> Option<SqlResult<Typed>> {
        use ScalarType::*;
        let n = args.len();
        let lit = |d: Datum, ty: ScalarType| Some(Ok(Typed::new(Expr::Literal(d), ty)));
        let arity = |ok: bool| -> Option<SqlResult<()>> {
            if ok {
                Some(Ok(()))
            } else {
                Some(Err(crate::bind_expr::no_such_function(name, &args)))
            }
        };
        // the value of a function of its arguments, NULL for NULL input
        let strict = |args: &[Typed], value: Expr| -> Expr {
            args.iter().fold(value, |acc, a| Expr::If {
                cond: Box::new(Expr::unary(UnaryOp::IsNull, a.expr.clone())),
                then: Box::new(Expr::Literal(Datum::Null)),
                els: Box::new(acc),
            })
        };
        let session = self.session;
        match name {
            "version" if n == 0 => lit(text(system::VERSION), Text),
            "current_database" | "current_catalog" if n == 0 => lit(text(system::DATABASE), Text),
            "current_schema" if n == 0 => lit(text("public"), Text),
            "current_schemas" if n == 1 => {
                let implicit = matches!(args[0].expr, Expr::Literal(Datum::Bool(true)));
                let mut v = vec![];
                if implicit {
                    v.push(text("pg_catalog"));
                }
                v.push(text("public"));
                lit(Datum::Array(v), Array(ElemType::Text))
            }
            "current_user" | "session_user" | "user" | "current_role" | "getpgusername"
                if n == 0 =>
            {
                let user = if session.user.is_empty() {
                    system::OWNER
                } else {
                    &session.user
                };
                lit(text(user), Text)
            }
            "pg_backend_pid" if n == 0 => lit(Datum::Int32(session.pid), Int32),
            "pg_is_in_recovery" if n == 0 => lit(Datum::Bool(false), Bool),
            "pg_get_userbyid" => {
                if let Some(Err(e)) = arity(n == 1) {
                    return Some(Err(e));
                }
                let key = match args[0].clone().cast_to(Oid) {
                    Ok(k) => k,
                    Err(e) => return Some(Err(e)),
                };
                let pairs = system::role_list(self.catalog, session)
                    .into_iter()
                    .map(|r| (oid(r.oid), text(&r.name)))
                    .collect();
                let unknown = Expr::Call(
                    Func::Concat,
                    vec![
                        Expr::Literal(text("unknown (OID=")),
                        key.clone(),
                        Expr::Literal(text(")")),
                    ],
                );
                Some(Ok(Typed::new(
                    strict(&args, lookup(&key, pairs, unknown)),
                    Text,
                )))
            }
            "pg_table_is_visible" => {
                if let Some(Err(e)) = arity(n == 1) {
                    return Some(Err(e));
                }
                // information_schema and ripple_catalog are not on the search path
                let key = match args[0].clone().cast_to(Oid) {
                    Ok(k) => k,
                    Err(e) => return Some(Err(e)),
                };
                let (lo, hi) = system::OFF_SEARCH_PATH_RELATIONS;
                let inside = Expr::binary(
                    BinaryOp::And,
                    Expr::binary(BinaryOp::GtEq, key.clone(), Expr::Literal(oid(lo))),
                    Expr::binary(BinaryOp::LtEq, key, Expr::Literal(oid(hi))),
                );
                Some(Ok(Typed::new(
                    strict(&args, Expr::unary(UnaryOp::Not, inside)),
                    Bool,
                )))
            }
            "pg_type_is_visible"
            | "pg_function_is_visible"
            | "pg_collation_is_visible"
            | "pg_opclass_is_visible"
            | "pg_operator_is_visible"
            | "pg_conversion_is_visible"
            | "pg_ts_config_is_visible" => {
                if let Some(Err(e)) = arity(n == 1) {
                    return Some(Err(e));
                }
                Some(Ok(Typed::new(
                    strict(&args, Expr::Literal(Datum::Bool(true))),
                    Bool,
                )))
            }
            "pg_stat_get_numscans" | "pg_stat_get_tuples_returned" | "pg_stat_get_live_tuples" => {
                if let Some(Err(e)) = arity(n == 1) {
                    return Some(Err(e));
                }
                Some(Ok(Typed::new(
                    strict(&args, Expr::Literal(Datum::Int64(0))),
                    Int64,
                )))
            }
            "has_table_privilege"
            | "has_schema_privilege"
            | "has_database_privilege"
            | "has_any_column_privilege"
            | "has_column_privilege"
            | "has_function_privilege"
            | "has_sequence_privilege"
            | "has_type_privilege"
            | "has_tablespace_privilege"
            | "pg_has_role" => {
                if let Some(Err(e)) = arity((2..=4).contains(&n)) {
                    return Some(Err(e));
                }
                lit(Datum::Bool(true), Bool)
            }
            "format_type" => {
                if let Some(Err(e)) = arity(n == 2) {
                    return Some(Err(e));
                }
                let exprs = (|| -> SqlResult<Vec<Expr>> {
                    Ok(vec![
                        args[0].clone().cast_to(Oid)?,
                        args[1].clone().cast_to(Int32)?,
                    ])
                })();
                Some(exprs.map(|e| {
                    Typed::new(
                        Expr::If {
                            cond: Box::new(Expr::unary(UnaryOp::IsNull, e[0].clone())),
                            then: Box::new(Expr::Literal(Datum::Null)),
                            els: Box::new(Expr::Call(Func::FormatType, e)),
                        },
                        Text,
                    )
                }))
            }
            "pg_get_expr" => {
                if let Some(Err(e)) = arity(n == 2 || n == 3) {
                    return Some(Err(e));
                }
                Some(args[0].clone().cast_to(Text).map(|e| Typed::new(e, Text)))
            }
            "pg_get_indexdef" | "pg_get_viewdef" => {
                if let Some(Err(e)) = arity((1..=3).contains(&n)) {
                    return Some(Err(e));
                }
                let key = if args[0].unknown || args[0].ty.is_string() {
                    self.bind_reg_cast(args[0].clone(), RegKind::Class)
                        .map(|t| t.expr)
                } else {
                    args[0].clone().cast_to(Oid)
                };
                let key = match key {
                    Ok(k) => k,
                    Err(e) => return Some(Err(e)),
                };
                let pairs = self
                    .catalog
                    .items()
                    .filter_map(|i| {
                        let def = if name == "pg_get_indexdef" {
                            system::index_def(self.catalog, i)
                        } else {
                            system::view_def(i)
                        }?;
                        Some((oid(system::object_oid(i.id)), text(&def)))
                    })
                    .collect();
                let whole = lookup(&key, pairs, Expr::Literal(Datum::Null));
                // pg_get_indexdef(oid, n, …) with n > 0: the n-th key column
                let column = match (name, args.get(1)) {
                    ("pg_get_indexdef", Some(col)) => match col.clone().cast_to(Int64) {
                        Ok(c) => Some(c),
                        Err(e) => return Some(Err(e)),
                    },
                    _ => None,
                };
                let Some(col) = column else {
                    return Some(Ok(Typed::new(whole, Text)));
                };
                let combined = Expr::binary(
                    BinaryOp::Add,
                    Expr::binary(
                        BinaryOp::Mul,
                        Expr::Cast {
                            expr: Box::new(key.clone()),
                            to: Int64,
                        },
                        Expr::Literal(Datum::Int64(1000)),
                    ),
                    col.clone(),
                );
                let cols = self
                    .catalog
                    .items()
                    .flat_map(|i| {
                        let base = system::object_oid(i.id) as i64 * 1000;
                        system::index_columns(self.catalog, i)
                            .into_iter()
                            .enumerate()
                            .map(move |(j, c)| (Datum::Int64(base + j as i64 + 1), text(&c)))
                    })
                    .collect();
                Some(Ok(Typed::new(
                    Expr::If {
                        cond: Box::new(Expr::binary(
                            BinaryOp::Eq,
                            col,
                            Expr::Literal(Datum::Int64(0)),
                        )),
                        then: Box::new(whole),
                        els: Box::new(lookup(&combined, cols, Expr::Literal(Datum::Null))),
                    },
                    Text,
                )))
            }
            "pg_get_constraintdef"
            | "obj_description"
            | "col_description"
            | "shobj_description"
            | "pg_get_serial_sequence"
            | "pg_get_function_result"
            | "pg_get_function_arguments"
            | "pg_get_function_identity_arguments"
            | "pg_get_statisticsobjdef_columns"
            | "pg_get_triggerdef"
            | "pg_get_ruledef"
            | "pg_get_partkeydef" => {
                if let Some(Err(e)) = arity((1..=3).contains(&n)) {
                    return Some(Err(e));
                }
                lit(Datum::Null, Text)
            }
            "pg_relation_is_publishable" if n == 1 => lit(Datum::Bool(false), Bool),
            "pg_encoding_to_char" => {
                if let Some(Err(e)) = arity(n == 1) {
                    return Some(Err(e));
                }
                let key = match args[0].clone().cast_to(Int32) {
                    Ok(k) => k,
                    Err(e) => return Some(Err(e)),
                };
                let pairs = vec![
                    (Datum::Int32(6), text("UTF8")),
                    (Datum::Int32(0), text("SQL_ASCII")),
                ];
                Some(Ok(Typed::new(
                    strict(&args, lookup(&key, pairs, Expr::Literal(text("")))),
                    Text,
                )))
            }
            "pg_table_size"
            | "pg_relation_size"
            | "pg_total_relation_size"
            | "pg_indexes_size"
            | "pg_database_size" => {
                if let Some(Err(e)) = arity(n == 1 || n == 2) {
                    return Some(Err(e));
                }
                Some(Ok(Typed::new(
                    strict(&args, Expr::Literal(Datum::Int64(0))),
                    Int64,
                )))
            }
            "pg_size_pretty" => {
                if let Some(Err(e)) = arity(n == 1) {
                    return Some(Err(e));
                }
                Some(
                    args[0]
                        .clone()
                        .cast_to(Int64)
                        .map(|e| Typed::new(Expr::Call(Func::PgSizePretty, vec![e]), Text)),
                )
            }
            "quote_ident" => {
                if let Some(Err(e)) = arity(n == 1) {
                    return Some(Err(e));
                }
                Some(
                    args[0]
                        .clone()
                        .cast_to(Text)
                        .map(|e| Typed::new(Expr::Call(Func::QuoteIdent, vec![e]), Text)),
                )
            }
            "parse_ident" => {
                if let Some(Err(e)) = arity(n == 1 || n == 2) {
                    return Some(Err(e));
                }
                Some(args[0].clone().cast_to(Text).map(|e| {
                    Typed::new(Expr::Call(Func::ParseIdent, vec![e]), Array(ElemType::Text))
                }))
            }
            "to_regclass" | "to_regtype" | "to_regproc" | "to_regnamespace" => {
                if let Some(Err(e)) = arity(n == 1) {
                    return Some(Err(e));
                }
                let kind = match name {
                    "to_regclass" => RegKind::Class,
                    "to_regtype" => RegKind::Type,
                    "to_regproc" => RegKind::Proc,
                    _ => RegKind::Namespace,
                };
                Some(Ok(self
                    .bind_reg_cast(args[0].clone(), kind)
                    .unwrap_or_else(|_| {
                        Typed::new(Expr::Literal(Datum::Null), Oid)
                    })))
            }
            "current_setting" => {
                if let Some(Err(e)) = arity(n == 1 || n == 2) {
                    return Some(Err(e));
                }
                let missing_ok = matches!(
                    args.get(1).map(|a| &a.expr),
                    Some(Expr::Literal(Datum::Bool(true)))
                );
                match literal_text(&args[0]) {
                    Some(s) => match session.setting(&s) {
                        Some(v) => lit(text(&v), Text),
                        None if missing_ok => lit(Datum::Null, Text),
                        None => Some(Err(SqlError::new(
                            sqlstate::UNDEFINED_OBJECT,
                            format!("unrecognized configuration parameter \"{s}\""),
                        ))),
                    },
                    None => {
                        let key = match args[0].clone().cast_to(Text) {
                            Ok(k) => k,
                            Err(e) => return Some(Err(e)),
                        };
                        let pairs = system::SETTINGS
                            .iter()
                            .filter_map(|s| Some((text(s.0), text(&session.setting(s.0)?))))
                            .collect();
                        Some(Ok(Typed::new(
                            lookup(&key, pairs, Expr::Literal(Datum::Null)),
                            Text,
                        )))
                    }
                }
            }
            "set_config" => {
                if let Some(Err(e)) = arity(n == 3) {
                    return Some(Err(e));
                }
                Some(args[1].clone().cast_to(Text).map(|e| Typed::new(e, Text)))
            }
            "pg_cancel_backend" | "pg_terminate_backend" => {
                if let Some(Err(e)) = arity(n == 1 || (n == 2 && name == "pg_terminate_backend")) {
                    return Some(Err(e));
                }
                // a side effect: no materialized view may call it
                self.system_used.set(true);
                let func = if name == "pg_cancel_backend" {
                    Func::PgCancelBackend
                } else {
                    Func::PgTerminateBackend
                };
                Some(
                    args[0]
                        .clone()
                        .cast_to(Int32)
                        .map(|e| Typed::new(Expr::Call(func, vec![e]), Bool)),
                )
            }
            "format" => {
                if n == 0 {
                    return Some(Err(crate::bind_expr::no_such_function(name, &args)));
                }
                let exprs = args
                    .into_iter()
                    .map(|a| a.cast_to(Text))
                    .collect::<SqlResult<Vec<_>>>();
                Some(exprs.map(|e| Typed::new(Expr::Call(Func::Format, e), Text)))
            }
            "array_upper" | "array_lower" => {
                if let Some(Err(e)) = arity(n == 2) {
                    return Some(Err(e));
                }
                if !matches!(args[0].ty, Array(_)) || args[0].unknown {
                    return Some(Err(crate::bind_expr::no_such_function(name, &args)));
                }
                let len = match args[1].clone().cast_to(Int32) {
                    Ok(d) => Expr::Call(Func::ArrayLength, vec![args[0].expr.clone(), d]),
                    Err(e) => return Some(Err(e)),
                };
                Some(Ok(Typed::new(
                    if name == "array_upper" {
                        len
                    } else {
                        Expr::If {
                            cond: Box::new(Expr::unary(UnaryOp::IsNull, len)),
                            then: Box::new(Expr::Literal(Datum::Null)),
                            els: Box::new(Expr::Literal(Datum::Int32(1))),
                        }
                    },
                    Int32,
                )))
            }
            _ => None,
        }
    }
}

/// Evaluates the catalog functions that run per row.
pub fn eval(func: Func, args: &[Datum]) -> SqlResult<Datum> {
    let arg = |i: usize| args.get(i).cloned().unwrap_or(Datum::Null);
    Ok(match func {
        Func::FormatType => match arg(0) {
            Datum::Int64(o) => {
                let m = match arg(1) {
                    Datum::Int32(m) => Some(m),
                    _ => None,
                };
                text(&system::format_type(o as u32, m))
            }
            _ => Datum::Null,
        },
        Func::QuoteIdent => match arg(0) {
            Datum::Text(s) => text(&system::quote_ident(&s)),
            _ => Datum::Null,
        },
        Func::ParseIdent => match arg(0) {
            Datum::Text(s) => Datum::Array(parse_ident(&s)?.into_iter().map(Datum::Text).collect()),
            _ => Datum::Null,
        },
        Func::PgSizePretty => match arg(0) {
            Datum::Int64(b) => text(&size_pretty(b)),
            _ => Datum::Null,
        },
        Func::Lookup => match (arg(0), arg(1), arg(2)) {
            (k, Datum::Array(keys), Datum::Array(values)) if !k.is_null() => keys
                .iter()
                .position(|x| *x == k)
                .and_then(|i| values.get(i).cloned())
                .unwrap_or_else(|| arg(3)),
            _ => arg(3),
        },
        Func::Format => match arg(0) {
            Datum::Text(f) => text(&format(&f, &args[1..])?),
            _ => Datum::Null,
        },
        Func::PgCancelBackend | Func::PgTerminateBackend => match arg(0) {
            Datum::Int32(pid) => Datum::Bool(system::signal_backend(
                pid,
                func == Func::PgTerminateBackend,
            )),
            _ => Datum::Null,
        },
        _ => {
            return Err(SqlError::internal(format!(
                "{} is not a catalog function",
                func.name()
            )))
        }
    })
}

/// PostgreSQL's `format`: `%s` (text, NULL as empty), `%I` (an
/// identifier, quoted as needed), `%L` (a literal, NULL unquoted) and `%%`.
fn format(f: &str, args: &[Datum]) -> SqlResult<String> {
    let mut out = String::new();
    let mut next = 0;
    let mut chars = f.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = chars.next().ok_or_else(|| {
            SqlError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                "unterminated format() type specifier",
            )
        })?;
        if spec == '%' {
            out.push('%');
            continue;
        }
        let arg = args.get(next).ok_or_else(|| {
            SqlError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                "too few arguments for format()",
            )
        })?;
        next += 1;
        let value = match arg {
            Datum::Text(s) => Some(s.as_str()),
            _ => None,
        };
        match (spec, value) {
            ('s', v) => out.push_str(v.unwrap_or("")),
            ('I', Some(v)) => out.push_str(&system::quote_ident(v)),
            ('I', None) => {
                return Err(SqlError::new(
                    "22004",
                    "null values cannot be formatted as an SQL identifier",
                ))
            }
            ('L', Some(v)) => out.push_str(&format!("'{}'", v.replace('\'', "''"))),
            ('L', None) => out.push_str("NULL"),
            (other, _) => {
                return Err(SqlError::new(
                    sqlstate::INVALID_PARAMETER_VALUE,
                    format!("unrecognized format() type specifier \"{other}\""),
                ))
            }
        }
    }
    Ok(out)
}

/// PostgreSQL's `parse_ident`: the parts of a qualified identifier.
fn parse_ident(s: &str) -> SqlResult<Vec<String>> {
    let bad = || {
        SqlError::new(
            sqlstate::INVALID_PARAMETER_VALUE,
            format!("string is not a valid identifier: \"{s}\""),
        )
    };
    let mut parts = vec![];
    let mut chars = s.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return Err(bad()),
                }
            }
            if part.is_empty() {
                return Err(bad());
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_alphanumeric() || c == '_' || c == '$' {
                    part.extend(c.to_lowercase());
                    chars.next();
                } else {
                    break;
                }
            }
            if part.is_empty() {
                return Err(bad());
            }
        }
        parts.push(part);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Ok(parts),
            Some('.') => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some(_) => return Err(bad()),
        }
    }
}

/// PostgreSQL's `pg_size_pretty(bigint)`: bytes below 10 kB, then the
/// largest unit that keeps the value below 20 thousand, rounded half away
/// from zero.
fn size_pretty(bytes: i64) -> String {
    if bytes.abs() < 10 * 1024 {
        return format!("{bytes} bytes");
    }
    let half_rounded = |x: i64| (x + if x < 0 { -1 } else { 1 }) / 2;
    // one extra bit is kept for rounding
    let mut size = bytes >> 9;
    let units = ["kB", "MB", "GB", "TB", "PB"];
    for (i, unit) in units.iter().enumerate() {
        if size.abs() < 20 * 1024 - 1 || i == units.len() - 1 {
            return format!("{} {unit}", half_rounded(size));
        }
        size >>= 10;
    }
    unreachable!("the loop returns at the last unit")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents_parse_as_postgresql_does() {
        assert_eq!(
            parse_ident("Public.\"My T\"").unwrap(),
            vec!["public", "My T"]
        );
        assert!(parse_ident("a.").is_err());
        assert_eq!(normalize_name("\"public\".\"T\""), "public.T");
        assert_eq!(normalize_name("Public.T"), "public.t");
    }

    #[test]
    fn sizes_print_as_postgresql_does() {
        assert_eq!(size_pretty(0), "0 bytes");
        assert_eq!(size_pretty(10239), "10239 bytes");
        assert_eq!(size_pretty(10240), "10 kB");
        assert_eq!(size_pretty(1_000_000_000), "954 MB");
    }
}
