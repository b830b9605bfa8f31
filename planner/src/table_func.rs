//! Table functions in FROM (`generate_series`): each call yields rows
//! for the values of its arguments. A call whose arguments read columns
//! of earlier FROM items is LATERAL, as in PostgreSQL, and decorrelates
//! like a LATERAL subquery.

use crate::bind::{object_name, rename_columns, Binder, Rel};
use crate::bind_expr::{ident_name, ExprCtx};
use crate::coerce::common_type_all;
use crate::expr::{BinaryOp, Expr};
use crate::plan::Plan;
use crate::scope::{Scope, ScopeItem};
use catalog::{sqlstate, Datum, Interval, Row, ScalarType, SqlError, SqlResult};
use serde::{Deserialize, Serialize};
use sqlparser::ast::{self, Expr as AstExpr};

/// Table functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TableFunc {
    /// generate_series(start, stop [, step]) over integers, numeric or
    /// timestamps (with an interval step).
    GenerateSeries,
    /// jsonb_array_elements(j) (jsonb values) or _text (text values).
    JsonbArrayElements {
        text: bool,
    },
    /// jsonb_each(j) / _text: (key, value) per member.
    JsonbEach {
        text: bool,
    },
    JsonbObjectKeys,
    /// unnest(array): one row per element.
    Unnest,
    /// generate_subscripts(array, dim): the subscripts of dimension `dim`
    /// (from 0 for an int2vector, else from 1).
    GenerateSubscripts {
        from: i32,
    },
    /// Several unnest / generate_subscripts calls of one select list, run
    /// in lockstep as PostgreSQL runs them: row i holds each call's i-th
    /// value (NULL once a call has run out). Bit k of `subscripts` marks
    /// call k as generate_subscripts (arguments: array, dimension); the
    /// others are unnest (argument: array).
    /// Bit k of `zero` marks call k's subscripts as starting at 0.
    Zip {
        n: u8,
        subscripts: u16,
        zero: u16,
        /// Bit k marks call k as _pg_expandarray: (element, subscript) records.
        records: u16,
    },
    /// information_schema._pg_expandarray(array): per element, the record
    /// (x = element, n = subscript from 1); `split`: as two columns x and n
    /// (in FROM) instead of one record column (in a select list).
    ExpandArray {
        split: bool,
    },
}

/// Rows one call may produce before it fails (PostgreSQL streams them;
/// Ripple keeps them in a collection).
pub const MAX_ROWS: usize = 10_000_000;

impl TableFunc {
    /// Number of output columns.
    pub fn arity(&self) -> usize {
        match self {
            TableFunc::JsonbEach { .. } | TableFunc::ExpandArray { split: true } => 2,
            TableFunc::Zip { n, .. } => *n as usize,
            _ => 1,
        }
    }

    /// The rows of one call.
    pub fn eval(&self, args: &[Datum]) -> SqlResult<Vec<Row>> {
        use crate::jsonfn;
        if !matches!(self, TableFunc::GenerateSeries | TableFunc::Zip { .. })
            && args.iter().any(|a| a.is_null())
        {
            return Ok(vec![]);
        }
        let rows = match self {
            TableFunc::GenerateSeries => return generate_series(args),
            TableFunc::JsonbArrayElements { text } => jsonfn::elements(&args[0], *text)?,
            TableFunc::JsonbEach { text } => jsonfn::each(&args[0], *text)?,
            TableFunc::JsonbObjectKeys => jsonfn::object_keys(&args[0])?,
            TableFunc::Unnest => match &args[0] {
                Datum::Array(items) => items.iter().map(|d| vec![d.clone()]).collect(),
                _ => vec![],
            },
            TableFunc::ExpandArray { split } => match &args[0] {
                Datum::Array(items) => items
                    .iter()
                    .zip(1..)
                    .map(|(d, i)| {
                        let pair = vec![d.clone(), Datum::Int32(i)];
                        if *split {
                            pair
                        } else {
                            vec![Datum::Record(pair)]
                        }
                    })
                    .collect(),
                _ => vec![],
            },
            TableFunc::Zip {
                n,
                subscripts,
                zero,
                records,
            } => {
                let mut columns: Vec<Vec<Datum>> = vec![];
                let mut at = 0;
                for k in 0..*n as usize {
                    let items = match &args[at] {
                        Datum::Array(items) => items.clone(),
                        _ => vec![],
                    };
                    if subscripts & (1 << k) != 0 {
                        let dim_one = args[at + 1] == Datum::Int32(1);
                        let from = if zero & (1 << k) != 0 { 0 } else { 1 };
                        columns.push(if dim_one {
                            (from..from + items.len() as i32)
                                .map(Datum::Int32)
                                .collect()
                        } else {
                            vec![]
                        });
                        at += 2;
                    } else if records & (1 << k) != 0 {
                        columns.push(
                            items
                                .into_iter()
                                .zip(1..)
                                .map(|(d, i)| Datum::Record(vec![d, Datum::Int32(i)]))
                                .collect(),
                        );
                        at += 1;
                    } else {
                        columns.push(items);
                        at += 1;
                    }
                }
                let len = columns.iter().map(Vec::len).max().unwrap_or(0);
                (0..len)
                    .map(|i| {
                        columns
                            .iter()
                            .map(|c| c.get(i).cloned().unwrap_or(Datum::Null))
                            .collect()
                    })
                    .collect()
            }
            TableFunc::GenerateSubscripts { from } => match (&args[0], &args[1]) {
                (Datum::Array(items), Datum::Int32(1)) => (*from..*from + items.len() as i32)
                    .map(|i| vec![Datum::Int32(i)])
                    .collect(),
                _ => vec![],
            },
        };
        Ok(rows.into_iter().map(Row::new).collect())
    }

    /// The output columns' names (None: named after the alias or the
    /// function, as PostgreSQL names a function's single unnamed column)
    /// and types.
    fn columns(&self) -> Vec<(Option<&'static str>, ScalarType)> {
        use ScalarType::*;
        match self {
            TableFunc::GenerateSeries => vec![(None, Int32)],
            TableFunc::JsonbArrayElements { text } => {
                vec![(Some("value"), if *text { Text } else { Jsonb })]
            }
            TableFunc::JsonbEach { text } => vec![
                (Some("key"), Text),
                (Some("value"), if *text { Text } else { Jsonb }),
            ],
            TableFunc::JsonbObjectKeys => vec![(None, Text)],
            // the element type comes from the argument
            TableFunc::Unnest => vec![(None, Text)],
            TableFunc::GenerateSubscripts { .. } => vec![(None, Int32)],
            // the types come from the arguments
            TableFunc::Zip { n, .. } => vec![(None, Text); *n as usize],
            TableFunc::ExpandArray { split: true } => vec![(Some("x"), Text), (Some("n"), Int32)],
            TableFunc::ExpandArray { split: false } => vec![(None, Text)],
        }
    }
}

fn generate_series(args: &[Datum]) -> SqlResult<Vec<Row>> {
    if args.iter().any(|a| a.is_null()) {
        return Ok(vec![]);
    }
    let (start, stop) = (args[0].clone(), &args[1]);
    let step = match args.get(2) {
        Some(s) => s.clone(),
        None => match start {
            Datum::Int64(_) => Datum::Int64(1),
            Datum::Numeric(_) => Datum::Numeric(1.into()),
            _ => Datum::Int32(1),
        },
    };
    let zero = match &step {
        Datum::Int32(_) => Datum::Int32(0),
        Datum::Int64(_) => Datum::Int64(0),
        Datum::Numeric(_) => Datum::Numeric(0.into()),
        Datum::Interval(_) => Datum::Interval(Interval::default()),
        other => {
            return Err(SqlError::internal(format!(
                "generate_series step {other:?}"
            )))
        }
    };
    let up = match step.cmp(&zero) {
        std::cmp::Ordering::Equal => {
            return Err(SqlError::new(
                sqlstate::INVALID_PARAMETER_VALUE,
                "step size cannot equal zero",
            ))
        }
        o => o.is_gt(),
    };
    // Refuse a series past the limit before computing it (a tiny step
    // would otherwise spend minutes reaching the limit one row at a time).
    if series_length(&start, stop, &step).is_some_and(|n| n > MAX_ROWS as f64) {
        return Err(SqlError::new(
            sqlstate::PROGRAM_LIMIT_EXCEEDED,
            format!("generate_series would produce more than {MAX_ROWS} rows"),
        ));
    }
    let mut out = vec![];
    let mut cur = start;
    // compare by value: 2.0 reaches a stop of 2
    let stop = stop.normalized();
    while (up && cur.normalized() <= stop) || (!up && cur.normalized() >= stop) {
        if out.len() >= MAX_ROWS {
            return Err(SqlError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!("generate_series would produce more than {MAX_ROWS} rows"),
            ));
        }
        out.push(Row::new(vec![cur.clone()]));
        // past the type's range the series simply ends, as in PostgreSQL
        match crate::func::eval_binary(BinaryOp::Add, cur, step.clone()) {
            Ok(next) => cur = next,
            Err(_) => break,
        }
    }
    Ok(out)
}

/// About how many values a series from `start` to `stop` by `step` has
/// (`None` when it cannot be told without walking it: month steps).
fn series_length(start: &Datum, stop: &Datum, step: &Datum) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive;
    let as_f64 = |d: &Datum| -> Option<f64> {
        match d {
            Datum::Int32(i) => Some(*i as f64),
            Datum::Int64(i) => Some(*i as f64),
            Datum::Numeric(n) => n.to_f64(),
            Datum::Timestamp(t) | Datum::TimestampTz(t) => Some(*t as f64),
            Datum::Interval(iv) if iv.months == 0 => {
                Some(iv.days as f64 * 86_400_000_000.0 + iv.micros as f64)
            }
            _ => None,
        }
    };
    let (a, b, s) = (as_f64(start)?, as_f64(stop)?, as_f64(step)?);
    if s == 0.0 {
        return None;
    }
    Some(((b - a) / s).max(-1.0) + 1.0)
}

impl Binder<'_> {
    /// Binds `name(args) [AS alias[(column)]]` in FROM. Arguments may read
    /// the enclosing scopes (`self.outer`): the caller decorrelates.
    pub fn bind_table_function(&self, tf: &ast::TableFactor) -> SqlResult<Rel> {
        let unnest_args: Vec<ast::FunctionArg>;
        let unnest_name: ast::ObjectName;
        let (name, args, alias) = match tf {
            ast::TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                with_ordinality: false,
                ..
            } => {
                if array_exprs.len() != 1 {
                    return Err(SqlError::unsupported("unnest of several arrays"));
                }
                unnest_args = vec![ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(
                    array_exprs[0].clone(),
                ))];
                unnest_name = ast::ObjectName::from(vec![ast::Ident::new("unnest")]);
                (&unnest_name, &unnest_args, alias.as_ref())
            }
            ast::TableFactor::Table {
                name,
                args: Some(args),
                alias,
                with_ordinality,
                ..
            } if !with_ordinality => (name, &args.args, alias.as_ref()),
            ast::TableFactor::Function {
                name,
                args,
                alias,
                with_ordinality: false,
                ..
            } => (name, args, alias.as_ref()),
            _ => return Err(SqlError::unsupported("WITH ORDINALITY")),
        };
        let fname = match crate::bind::system_schema(name) {
            Some((schema, n)) if schema == "pg_catalog" => n,
            Some((schema, n)) if schema == "information_schema" && n == "_pg_expandarray" => n,
            _ => object_name(name)?,
        };
        let empty = Scope::default();
        let ctx = ExprCtx {
            scope: &empty,
            agg: None,
            clause: "functions in FROM",
        };
        // catalog functions that return a relation
        let system = match fname.as_str() {
            "pg_get_keywords" => Some("pg_get_keywords"),
            "pg_show_all_settings" => Some("pg_settings"),
            _ => None,
        };
        if let Some(rel) = system {
            let label = alias.map(|a| ident_name(&a.name)).unwrap_or(fname.clone());
            return self
                .bind_system_relation(None, rel, &label)
                .ok_or_else(|| SqlError::internal(format!("{rel} is missing")));
        }
        let (func, exprs, ty) = match self.bind_table_call(&fname, args, ctx) {
            Ok(call) => call,
            // any other function in FROM yields one row: its value
            Err(e) if e.code == sqlstate::UNDEFINED_FUNCTION && !is_set_function(&fname) => {
                return self.scalar_function_in_from(name, args, alias, &fname, e);
            }
            Err(e) => return Err(e),
        };
        // PostgreSQL names columns after the function's OUT parameters; a
        // function without them (generate_series) names its column after
        // the alias, else itself
        let table = alias
            .map(|a| ident_name(&a.name))
            .unwrap_or_else(|| fname.clone());
        let (func, columns) = match (func, ty) {
            // in FROM, a record's fields are the columns
            (TableFunc::ExpandArray { .. }, ScalarType::Record(rt)) => (
                TableFunc::ExpandArray { split: true },
                rt.fields().into_iter().map(|(n, t)| (Some(n), t)).collect(),
            ),
            // generate_series and unnest yield their arguments' type
            (TableFunc::GenerateSeries | TableFunc::Unnest, _) => (func, vec![(None, ty)]),
            _ => (func, func.columns()),
        };
        let mut scope = Scope {
            items: columns
                .into_iter()
                .map(|(name, t)| ScopeItem {
                    table: Some(table.clone()),
                    name: name.map(String::from).unwrap_or_else(|| table.clone()),
                    ty: t,
                    nullable: func != TableFunc::GenerateSeries,
                    hidden: false,
                    origin: None,
                })
                .collect(),
        };
        if let Some(a) = alias {
            let cols: Vec<String> = a.columns.iter().map(|c| ident_name(&c.name)).collect();
            rename_columns(&mut scope, &cols)?;
        }
        Ok(Rel {
            plan: Plan::FlatMap {
                input: Box::new(Plan::constant_row(Row::empty())),
                func,
                exprs,
            },
            scope,
        })
    }
}

impl Binder<'_> {
    /// A scalar function called in FROM (`string_to_array(…) AS s`): one
    /// row holding its value, in a column named after the alias or the
    /// function. `table_error` is reported if it is no function at all.
    fn scalar_function_in_from(
        &self,
        name: &ast::ObjectName,
        args: &[ast::FunctionArg],
        alias: Option<&ast::TableAlias>,
        fname: &str,
        table_error: SqlError,
    ) -> SqlResult<Rel> {
        let call = AstExpr::Function(ast::Function {
            name: name.clone(),
            uses_odbc_syntax: false,
            parameters: ast::FunctionArguments::None,
            args: ast::FunctionArguments::List(ast::FunctionArgumentList {
                duplicate_treatment: None,
                args: args.to_vec(),
                clauses: vec![],
            }),
            filter: None,
            null_treatment: None,
            over: None,
            within_group: vec![],
        });
        let empty = Scope::default();
        let ctx = ExprCtx {
            scope: &empty,
            agg: None,
            clause: "functions in FROM",
        };
        let t = match self.bind_expr(&call, ctx) {
            Ok(t) => t.text_if_unknown()?,
            Err(e) if e.code == sqlstate::UNDEFINED_FUNCTION => return Err(table_error),
            Err(e) => return Err(e),
        };
        let table = alias
            .map(|a| ident_name(&a.name))
            .unwrap_or_else(|| fname.to_string());
        let mut scope = Scope {
            items: vec![ScopeItem {
                table: Some(table.clone()),
                name: table,
                ty: t.ty,
                nullable: true,
                hidden: false,
                origin: None,
            }],
        };
        if let Some(a) = alias {
            let cols: Vec<String> = a.columns.iter().map(|c| ident_name(&c.name)).collect();
            rename_columns(&mut scope, &cols)?;
        }
        Ok(Rel {
            plan: Plan::constant_row(Row::empty())
                .map(vec![t.expr])
                .project(vec![0]),
            scope,
        })
    }

    /// A table function call's function, bound arguments and the type of
    /// its single or generated column.
    pub fn bind_table_call(
        &self,
        fname: &str,
        args: &[ast::FunctionArg],
        ctx: ExprCtx,
    ) -> SqlResult<(TableFunc, Vec<Expr>, ScalarType)> {
        let mut bound = vec![];
        for a in args {
            match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => {
                    bound.push(self.bind_expr(e, ctx)?)
                }
                _ => return Err(SqlError::unsupported("named arguments to table functions")),
            }
        }
        let no_such = || crate::bind_expr::no_such_function(fname, &bound);
        Ok(match (fname, bound.len()) {
            ("generate_series", 2 | 3) => {
                use ScalarType::*;
                let ends = common_type_all(&bound[..2], "generate_series")?;
                let (ty, step_ty) = match ends.base() {
                    Int16 | Int32 => (Int32, Int32),
                    Int64 => (Int64, Int64),
                    Numeric(_) => (Numeric(None), Numeric(None)),
                    Timestamp => (Timestamp, Interval),
                    TimestampTz => (TimestampTz, Interval),
                    _ => return Err(no_such()),
                };
                let (ty, step_ty) = match bound.get(2).map(|s| s.ty.base()) {
                    Some(Int64) if ty == Int32 => (Int64, Int64),
                    Some(Numeric(_)) if matches!(ty, Int32 | Int64) => {
                        (Numeric(None), Numeric(None))
                    }
                    Some(Interval) if step_ty != Interval => return Err(no_such()),
                    _ => (ty, step_ty),
                };
                let mut exprs = vec![bound[0].clone().cast_to(ty)?, bound[1].clone().cast_to(ty)?];
                if let Some(step) = bound.get(2) {
                    exprs.push(step.clone().cast_to(step_ty)?);
                }
                (TableFunc::GenerateSeries, exprs, ty)
            }
            ("generate_series", _) => return Err(no_such()),
            ("generate_subscripts", 2) => match bound[0].ty {
                t @ (ScalarType::Array(_) | ScalarType::Int2Vector) if !bound[0].unknown => (
                    TableFunc::GenerateSubscripts {
                        from: if t == ScalarType::Int2Vector { 0 } else { 1 },
                    },
                    vec![
                        bound[0].expr.clone(),
                        bound[1].clone().cast_to(ScalarType::Int32)?,
                    ],
                    ScalarType::Int32,
                ),
                _ => return Err(no_such()),
            },
            ("_pg_expandarray", 1) => {
                let elem = match bound[0].ty {
                    ScalarType::Array(e) if !bound[0].unknown => e,
                    ScalarType::Int2Vector => catalog::ElemType::Int16,
                    _ => return Err(no_such()),
                };
                (
                    TableFunc::ExpandArray { split: false },
                    vec![bound[0].expr.clone()],
                    ScalarType::Record(catalog::RecordType::ExpandArray(elem)),
                )
            }
            ("unnest", 1) => match bound[0].ty {
                ScalarType::Array(e) if !bound[0].unknown => {
                    (TableFunc::Unnest, vec![bound[0].expr.clone()], e.scalar())
                }
                ScalarType::Int2Vector => (
                    TableFunc::Unnest,
                    vec![bound[0].expr.clone()],
                    ScalarType::Int16,
                ),
                _ => return Err(no_such()),
            },
            (
                "jsonb_array_elements"
                | "jsonb_array_elements_text"
                | "jsonb_each"
                | "jsonb_each_text"
                | "jsonb_object_keys",
                1,
            ) => {
                let j = &bound[0];
                if !(j.unknown || j.ty == ScalarType::Jsonb) {
                    return Err(no_such());
                }
                let func = match fname {
                    "jsonb_array_elements" => TableFunc::JsonbArrayElements { text: false },
                    "jsonb_array_elements_text" => TableFunc::JsonbArrayElements { text: true },
                    "jsonb_each" => TableFunc::JsonbEach { text: false },
                    "jsonb_each_text" => TableFunc::JsonbEach { text: true },
                    _ => TableFunc::JsonbObjectKeys,
                };
                (
                    func,
                    vec![j.clone().cast_to(ScalarType::Jsonb)?],
                    ScalarType::Jsonb,
                )
            }
            _ => return Err(no_such()),
        })
    }

    /// A set-returning function as a whole item of a (non-grouped) select
    /// list, `SELECT generate_series(1, n) FROM t`: each row of `rel` is
    /// repeated for each row the call yields, which becomes a column the
    /// item reads. PostgreSQL runs several such calls in lockstep; Ripple
    /// takes one.
    pub fn attach_set_functions(&self, s: &ast::Select, mut rel: Rel) -> SqlResult<Rel> {
        // every set-returning call of the select list, also inside larger
        // expressions (`CASE WHEN (f(a)).x = 0 …`), by its place in the AST
        // (the calls are bound where they stand: a subquery in their
        // arguments was attached by its address)
        // where the walk does not reach (a call inside a construct it does
        // not know), the call found by the visitor is bound from a copy
        let mut found: Vec<&ast::Function> = vec![];
        let mut visited: Vec<(usize, ast::Function)> = vec![];
        for item in &s.projection {
            let (ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. }) =
                item
            else {
                continue;
            };
            find_set_calls(e, &mut found);
            crate::subquery::visit_outside_subqueries(e, &mut |x| {
                if let AstExpr::Function(f) = x {
                    if f.over.is_none() && is_set_function(&crate::bind_expr::function_name(f)) {
                        visited.push((crate::window::call_key(f), f.clone()));
                    }
                }
            });
        }
        let walked: Vec<usize> = found.iter().map(|f| crate::window::call_key(f)).collect();
        let mut all: Vec<(usize, std::borrow::Cow<ast::Function>)> = found
            .into_iter()
            .map(|f| (crate::window::call_key(f), std::borrow::Cow::Borrowed(f)))
            .collect();
        for (key, f) in visited {
            if !walked.contains(&key) {
                all.push((key, std::borrow::Cow::Owned(f)));
            }
        }
        let mut calls: Vec<(usize, std::borrow::Cow<ast::Function>, _, _, _, _)> = vec![];
        let mut same_calls = vec![];
        for (key, f) in all {
            let fname = crate::bind_expr::function_name(&f);
            // the same call twice (`(f(a)).n, (f(a)).x`) is one call
            if let Some(first) = calls.iter().position(|c| c.1 == f) {
                same_calls.push((key, first));
                continue;
            }
            // the arguments where they stand (not a copy): a subquery in
            // them was attached by its address
            let args: &[ast::FunctionArg] = match &f.args {
                ast::FunctionArguments::List(l) => &l.args,
                _ => &[],
            };
            let ctx = ExprCtx {
                scope: &rel.scope,
                agg: None,
                clause: "SELECT",
            };
            let (func, exprs, ty) = self.bind_table_call(&fname, args, ctx)?;
            if func.arity() != 1 {
                return Err(SqlError::unsupported(format!("{fname} in a select list")));
            }
            let ty = if matches!(
                func,
                TableFunc::GenerateSeries | TableFunc::Unnest | TableFunc::ExpandArray { .. }
            ) {
                ty
            } else {
                func.columns()[0].1
            };
            calls.push((key, f, fname, func, exprs, ty));
        }
        let (func, exprs) = match calls.as_slice() {
            [] => return Ok(rel),
            [(_, _, _, func, exprs, _)] => (*func, exprs.clone()),
            many => {
                let zippable = many.len() <= 16
                    && many.iter().all(|c| {
                        matches!(
                            c.3,
                            TableFunc::Unnest
                                | TableFunc::GenerateSubscripts { .. }
                                | TableFunc::ExpandArray { .. }
                        )
                    });
                if !zippable {
                    return Err(SqlError::unsupported(
                        "more than one set-returning function in a select list, unless all are unnest or generate_subscripts",
                    ));
                }
                let (mut subscripts, mut zero, mut records) = (0u16, 0u16, 0u16);
                let mut exprs = vec![];
                for (k, c) in many.iter().enumerate() {
                    if let TableFunc::GenerateSubscripts { from } = c.3 {
                        subscripts |= 1 << k;
                        if from == 0 {
                            zero |= 1 << k;
                        }
                    }
                    if let TableFunc::ExpandArray { .. } = c.3 {
                        records |= 1 << k;
                    }
                    exprs.extend(c.4.iter().cloned());
                }
                let n = many.len() as u8;
                (
                    TableFunc::Zip {
                        n,
                        subscripts,
                        zero,
                        records,
                    },
                    exprs,
                )
            }
        };
        let base = rel.plan.arity();
        rel.plan = Plan::FlatMap {
            input: Box::new(rel.plan),
            func,
            exprs,
        };
        let keys: Vec<usize> = calls.iter().map(|c| c.0).collect();
        for (k, (key, _, fname, _, _, ty)) in calls.into_iter().enumerate() {
            rel.scope.items.push(ScopeItem {
                table: None,
                name: fname,
                ty,
                nullable: true,
                hidden: true,
                origin: None,
            });
            self.srf_cols.borrow_mut().insert(key, (base + k, ty));
        }
        for (key, first) in same_calls {
            let col = self.srf_cols.borrow()[&keys[first]];
            self.srf_cols.borrow_mut().insert(key, col);
        }
        Ok(rel)
    }
}

/// The set-returning calls in `e`, outside subqueries, in the order they
/// appear (a call inside another's arguments is not looked into).
fn find_set_calls<'a>(e: &'a AstExpr, out: &mut Vec<&'a ast::Function>) {
    let mut walk = |x: &'a AstExpr| find_set_calls(x, out);
    match e {
        AstExpr::Function(f) => {
            if f.over.is_none() && is_set_function(&crate::bind_expr::function_name(f)) {
                out.push(f);
                return;
            }
            if let ast::FunctionArguments::List(l) = &f.args {
                for a in &l.args {
                    if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x))
                    | ast::FunctionArg::Named {
                        arg: ast::FunctionArgExpr::Expr(x),
                        ..
                    } = a
                    {
                        walk(x);
                    }
                }
            }
        }
        AstExpr::Nested(x)
        | AstExpr::UnaryOp { expr: x, .. }
        | AstExpr::Cast { expr: x, .. }
        | AstExpr::IsNull(x)
        | AstExpr::IsNotNull(x)
        | AstExpr::IsTrue(x)
        | AstExpr::IsNotTrue(x)
        | AstExpr::IsFalse(x)
        | AstExpr::IsNotFalse(x) => walk(x),
        AstExpr::BinaryOp { left, right, .. } => {
            walk(left);
            walk(right);
        }
        AstExpr::CompoundFieldAccess { root, access_chain } => {
            walk(root);
            for a in access_chain {
                if let ast::AccessExpr::Subscript(ast::Subscript::Index { index }) = a {
                    walk(index);
                }
            }
        }
        AstExpr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            if let Some(o) = operand {
                walk(o);
            }
            for w in conditions {
                walk(&w.condition);
                walk(&w.result);
            }
            if let Some(x) = else_result {
                walk(x);
            }
        }
        AstExpr::Between {
            expr, low, high, ..
        } => {
            walk(expr);
            walk(low);
            walk(high);
        }
        AstExpr::Like { expr, pattern, .. } | AstExpr::ILike { expr, pattern, .. } => {
            walk(expr);
            walk(pattern);
        }
        AstExpr::Array(a) => {
            for x in &a.elem {
                walk(x);
            }
        }
        AstExpr::Tuple(items) => {
            for x in items {
                walk(x);
            }
        }
        _ => {}
    }
}

/// The table functions that may stand in a select list.
pub fn is_set_function(name: &str) -> bool {
    matches!(
        name,
        "_pg_expandarray"
            | "generate_series"
            | "generate_subscripts"
            | "unnest"
            | "jsonb_array_elements"
            | "jsonb_array_elements_text"
            | "jsonb_object_keys"
    )
}

/// Whether a FROM item is a table function call.
pub fn is_table_function(tf: &ast::TableFactor) -> bool {
    matches!(
        tf,
        ast::TableFactor::Table { args: Some(_), .. }
            | ast::TableFactor::Function { .. }
            | ast::TableFactor::UNNEST { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_series_counts_both_ways_and_refuses_zero_steps() {
        let run = |a: &[i32]| -> SqlResult<Vec<i32>> {
            let args: Vec<Datum> = a.iter().map(|x| Datum::Int32(*x)).collect();
            Ok(generate_series(&args)?
                .into_iter()
                .map(|r| match r.get(0) {
                    Datum::Int32(v) => *v,
                    _ => -1,
                })
                .collect())
        };
        assert_eq!(run(&[1, 3]).unwrap(), vec![1, 2, 3]);
        assert_eq!(run(&[5, 1, -2]).unwrap(), vec![5, 3, 1]);
        assert_eq!(run(&[3, 1]).unwrap(), Vec::<i32>::new());
        assert!(run(&[1, 3, 0]).is_err());
        // the series stops at the end of the type's range
        assert_eq!(run(&[i32::MAX - 1, i32::MAX]).unwrap().len(), 2);
    }

    #[test]
    fn generate_series_refuses_huge_series_up_front() {
        let num = |s: &str| Datum::Numeric(s.parse().unwrap());
        let tiny = [num("10"), num("1"), num("-0.0000000000000000000000000001")];
        assert!(series_length(&tiny[0], &tiny[1], &tiny[2]).unwrap() > MAX_ROWS as f64);
        let e = generate_series(&tiny).unwrap_err();
        assert_eq!(e.code, sqlstate::PROGRAM_LIMIT_EXCEEDED);
        let micros = Datum::Interval(Interval {
            months: 0,
            days: 0,
            micros: 1,
        });
        let e = generate_series(&[
            Datum::Timestamp(0),
            Datum::Timestamp(86_400_000_000 * 365),
            micros,
        ])
        .unwrap_err();
        assert_eq!(e.code, sqlstate::PROGRAM_LIMIT_EXCEEDED);
        // a series just under the limit's size is not refused early
        assert_eq!(
            series_length(&Datum::Int32(1), &Datum::Int32(5), &Datum::Int32(2)),
            Some(3.0)
        );
    }
}
