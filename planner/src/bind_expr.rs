//! Binding scalar SQL expressions to typed `Expr`s against a `Scope`,
//! including the aggregate context of a grouped SELECT.

use crate::bind::Binder;
use crate::coerce::{self, bind_binary, common_type_all, Typed};
use crate::expr::{BinaryOp, Expr, Func, UnaryOp};
use crate::plan::AggregateFunc;
use crate::scope::Scope;
use catalog::{sqlstate, strconv, Datum, ScalarType, SqlError, SqlResult};
use sqlparser::ast::{
    self, Expr as AstExpr, FunctionArg, FunctionArgExpr, FunctionArguments, Value,
};

/// An aggregate call found in a SELECT, HAVING or ORDER BY.
#[derive(Debug, Clone)]
pub struct AggCall {
    pub ast: ast::Function,
    pub func: AggregateFunc,
    pub arg: Typed,
    pub distinct: bool,
    pub result: ScalarType,
    /// Further arguments (string_agg's delimiter, then its sort keys).
    pub extra: Vec<Expr>,
    /// The call's ORDER BY over positions in `extra`.
    pub order: Vec<crate::plan::SortKey>,
}

/// What a grouped SELECT's expressions may refer to: group keys (bound
/// against the input scope) and aggregates, both as output columns.
pub struct AggContext<'a> {
    pub input: &'a Scope,
    pub keys: Vec<Expr>,
    pub aggs: Vec<AggCall>,
}

/// Where an expression is bound.
#[derive(Clone, Copy)]
pub struct ExprCtx<'a> {
    pub scope: &'a Scope,
    pub agg: Option<&'a AggContext<'a>>,
    /// The clause name for messages ("WHERE", "JOIN/ON", …).
    pub clause: &'static str,
}

pub fn ident_name(i: &ast::Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

pub fn aggregate_kind(name: &str) -> Option<&'static str> {
    Some(match name {
        "count" => "count",
        "sum" => "sum",
        "min" => "min",
        "max" => "max",
        "avg" => "avg",
        "bool_and" | "every" => "bool_and",
        "bool_or" => "bool_or",
        "string_agg" => "string_agg",
        "jsonb_agg" | "json_agg" => "jsonb_agg",
        "array_agg" => "array_agg",
        "variance" | "var_samp" => "var_samp",
        "var_pop" => "var_pop",
        "stddev" | "stddev_samp" => "stddev_samp",
        "stddev_pop" => "stddev_pop",
        _ => return None,
    })
}

pub fn function_name(f: &ast::Function) -> String {
    f.name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .map(ident_name)
        .unwrap_or_default()
}

/// The plain expression arguments of a call, and whether `*` was given.
fn call_args(f: &ast::Function) -> SqlResult<(Vec<&AstExpr>, bool, bool)> {
    if !agg_order_by(f).is_empty() {
        return Err(SqlError::unsupported(
            "ORDER BY inside a call of a function that is not an aggregate",
        ));
    }
    call_args_ordered(f)
}

/// An aggregate call's ORDER BY (`string_agg(x, ',' ORDER BY y)`).
fn agg_order_by(f: &ast::Function) -> &[ast::OrderByExpr] {
    if let FunctionArguments::List(list) = &f.args {
        for c in &list.clauses {
            if let ast::FunctionArgumentClause::OrderBy(o) = c {
                return o;
            }
        }
    }
    &[]
}

/// As `call_args`, allowing an ORDER BY clause.
/// The arguments are borrowed: subqueries among them are found again by
/// their address (`subquery::query_key`).
fn call_args_ordered(f: &ast::Function) -> SqlResult<(Vec<&AstExpr>, bool, bool)> {
    match &f.args {
        FunctionArguments::None => Ok((vec![], false, false)),
        FunctionArguments::Subquery(_) => {
            Err(SqlError::unsupported("subquery as function argument"))
        }
        FunctionArguments::List(list) => {
            let distinct = matches!(
                list.duplicate_treatment,
                Some(ast::DuplicateTreatment::Distinct)
            );
            if list
                .clauses
                .iter()
                .any(|c| !matches!(c, ast::FunctionArgumentClause::OrderBy(_)))
            {
                return Err(SqlError::unsupported("this clause inside a function call"));
            }
            let mut out = vec![];
            let mut star = false;
            for a in &list.args {
                match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => out.push(e),
                    FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => star = true,
                    _ => {
                        return Err(SqlError::unsupported(
                            "named or qualified function arguments",
                        ))
                    }
                }
            }
            Ok((out, star, distinct))
        }
    }
}

/// Whether the AST contains a subquery.
pub fn contains_subquery(e: &AstExpr) -> bool {
    let mut found = false;
    let _ = ast::visit_expressions(e, |x| {
        found |= matches!(
            x,
            AstExpr::Subquery(_)
                | AstExpr::Exists { .. }
                | AstExpr::In {
                    target: ast::InTarget::Subquery(_),
                    ..
                }
                | AstExpr::Function(ast::Function {
                    args: FunctionArguments::Subquery(_),
                    ..
                })
        );
        std::ops::ControlFlow::<()>::Continue(())
    });
    found
}

/// Whether the AST contains an aggregate call (outside subqueries).
pub fn contains_aggregate(e: &AstExpr) -> bool {
    let mut found = false;
    crate::subquery::visit_outside_subqueries(e, &mut |x| {
        if let AstExpr::Function(f) = x {
            if f.over.is_none() && aggregate_kind(&function_name(f)).is_some() {
                found = true;
            }
        }
    });
    found
}

impl Binder<'_> {
    /// Binds an aggregate call's argument against the input scope.
    pub fn bind_agg_call(&self, f: &ast::Function, input: &Scope) -> SqlResult<AggCall> {
        let ctx = ExprCtx {
            scope: input,
            agg: None,
            clause: "aggregate function calls",
        };
        self.bind_agg_call_in(f, ctx, false)
    }

    /// Binds an aggregate call whose argument binds in `ctx`; `window`: the
    /// call has OVER, so (in a grouped query) it may contain aggregates.
    pub fn bind_agg_call_in(
        &self,
        f: &ast::Function,
        ctx: ExprCtx,
        window: bool,
    ) -> SqlResult<AggCall> {
        let call = self.bind_agg_call_unfiltered(f, ctx, window)?;
        let Some(filter) = &f.filter else {
            return Ok(call);
        };
        // agg(x) FILTER (WHERE p) aggregates CASE WHEN p THEN x END: the
        // aggregates skip NULLs, and count(*) becomes a count of those
        if contains_aggregate(filter) {
            return Err(SqlError::new(
                sqlstate::GROUPING_ERROR,
                "aggregate functions are not allowed in FILTER",
            ));
        }
        if matches!(call.func, AggregateFunc::JsonbAgg | AggregateFunc::ArrayAgg) {
            return Err(SqlError::unsupported("FILTER on jsonb_agg and array_agg"));
        }
        let pred = self
            .bind_expr(
                filter,
                ExprCtx {
                    clause: "FILTER",
                    ..ctx
                },
            )?
            .into_bool("FILTER")?;
        let (func, value) = match call.func {
            AggregateFunc::CountStar => (AggregateFunc::Count, Expr::Literal(Datum::Bool(true))),
            f => (f, call.arg.expr),
        };
        Ok(AggCall {
            func,
            arg: Typed::new(
                Expr::If {
                    cond: Box::new(pred),
                    then: Box::new(value),
                    els: Box::new(Expr::Literal(Datum::Null)),
                },
                call.arg.ty,
            ),
            ..call
        })
    }

    fn bind_agg_call_unfiltered(
        &self,
        f: &ast::Function,
        ctx: ExprCtx,
        window: bool,
    ) -> SqlResult<AggCall> {
        let name = function_name(f);
        let kind = aggregate_kind(&name).expect("caller checked");
        if !f.within_group.is_empty() {
            return Err(SqlError::unsupported("WITHIN GROUP on aggregates"));
        }
        let (args, star, distinct) = call_args_ordered(f)?;
        if star || (kind == "count" && args.is_empty()) {
            if kind != "count" {
                return Err(SqlError::syntax(format!("{name}(*) is not supported")));
            }
            return Ok(AggCall {
                ast: f.clone(),
                func: AggregateFunc::CountStar,
                arg: Typed::new(Expr::Literal(Datum::Null), ScalarType::Bool),
                distinct: false,
                result: ScalarType::Int64,
                extra: vec![],
                order: vec![],
            });
        }
        if args.len() != 1 && !(kind == "string_agg" && args.len() == 2) {
            return Err(no_function(&name, args.len()));
        }
        if contains_aggregate(args[0]) && !(window && ctx.agg.is_some()) {
            return Err(SqlError::new(
                sqlstate::GROUPING_ERROR,
                "aggregate function calls cannot be nested",
            ));
        }
        let mut arg = self.bind_expr(args[0], ctx)?.text_if_unknown()?;
        use ScalarType::*;
        let t = arg.ty.base();
        let bad = || {
            SqlError::new(
                sqlstate::UNDEFINED_FUNCTION,
                format!("function {name}({}) does not exist", t.name()),
            )
        };
        let (func, result) = match kind {
            "count" => (AggregateFunc::Count, Int64),
            "sum" => {
                let r = match t {
                    Int16 | Int32 => Int64,
                    Int64 | Numeric(_) => Numeric(None),
                    Float32 | Float64 | Interval => t,
                    _ => return Err(bad()),
                };
                (AggregateFunc::Sum(r), r)
            }
            "avg" => {
                let r = match t {
                    Int16 | Int32 | Int64 | Numeric(_) => Numeric(None),
                    Float32 | Float64 => Float64,
                    _ => return Err(bad()),
                };
                (AggregateFunc::Avg(r), r)
            }
            "var_samp" | "var_pop" | "stddev_samp" | "stddev_pop" => {
                let r = match t {
                    Int16 | Int32 | Int64 | Numeric(_) => Numeric(None),
                    Float32 | Float64 => Float64,
                    _ => return Err(bad()),
                };
                let f = match kind {
                    "var_samp" => AggregateFunc::VarSamp(r),
                    "var_pop" => AggregateFunc::VarPop(r),
                    "stddev_samp" => AggregateFunc::StddevSamp(r),
                    _ => AggregateFunc::StddevPop(r),
                };
                if t != r {
                    arg = Typed::new(arg.cast_to(r)?, r);
                }
                (f, r)
            }
            "string_agg" => (AggregateFunc::StringAgg, Text),
            "jsonb_agg" => (AggregateFunc::JsonbAgg, Jsonb),
            "array_agg" => {
                let elem = catalog::ElemType::of(arg.ty)
                    .ok_or_else(|| SqlError::unsupported("array_agg of arrays"))?;
                (AggregateFunc::ArrayAgg, Array(elem))
            }
            "min" => (AggregateFunc::Min, if t == Char(0) { Text } else { t }),
            "max" => (AggregateFunc::Max, t),
            "bool_and" | "bool_or" => {
                if t != Bool {
                    return Err(bad());
                }
                let f = if kind == "bool_and" {
                    AggregateFunc::BoolAnd
                } else {
                    AggregateFunc::BoolOr
                };
                (f, Bool)
            }
            _ => unreachable!(),
        };
        // Sums and averages of integers accumulate as numeric.
        if matches!(
            func,
            AggregateFunc::Sum(Numeric(_)) | AggregateFunc::Avg(Numeric(_))
        ) && t != Numeric(None)
        {
            arg = Typed::new(arg.cast_to(Numeric(None))?, Numeric(None));
        }
        if matches!(func, AggregateFunc::Avg(Float64)) && t == Float32 {
            arg = Typed::new(arg.cast_to(Float64)?, Float64);
        }
        let mut extra = vec![];
        let mut order = vec![];
        if func == AggregateFunc::StringAgg {
            let delim = self.bind_expr(args[1], ctx)?;
            let no_such = no_such_function("string_agg", &[arg.clone(), delim.clone()]);
            let text = |t: Typed| -> SqlResult<Typed> {
                match t.ty.base() {
                    Text | Varchar(_) | Char(_) => Ok(Typed::new(t.cast_to(Text)?, Text)),
                    _ if t.unknown => t.text_if_unknown(),
                    _ => Err(no_such.clone()),
                }
            };
            arg = text(arg)?;
            extra.push(text(delim)?.expr);
        }
        if matches!(
            func,
            AggregateFunc::StringAgg | AggregateFunc::JsonbAgg | AggregateFunc::ArrayAgg
        ) {
            for o in agg_order_by(f) {
                let key = self.bind_expr(&o.expr, ctx)?;
                if distinct && key.expr != arg.expr {
                    return Err(SqlError::new(
                        sqlstate::INVALID_COLUMN_REFERENCE,
                        "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list",
                    ));
                }
                let key = key.text_if_unknown()?;
                order.push(crate::bind::sort_key(extra.len(), &o.options));
                extra.push(key.expr);
            }
        }
        Ok(AggCall {
            ast: f.clone(),
            func,
            arg,
            distinct,
            result,
            extra,
            order,
        })
    }

    /// Binds `e` in `ctx`, returning its expression and type.
    pub fn bind_expr(&self, e: &AstExpr, ctx: ExprCtx) -> SqlResult<Typed> {
        if let Some(agg) = ctx.agg {
            if let Some(t) = self.bind_in_agg_context(e, agg)? {
                return Ok(t);
            }
        }
        match e {
            AstExpr::Identifier(id) => self.bind_column(None, &ident_name(id), ctx),
            AstExpr::CompoundIdentifier(ids) => {
                let names: Vec<String> = ids.iter().map(ident_name).collect();
                match names.as_slice() {
                    [t, c] => self.bind_column(Some(t), c, ctx),
                    [_, t, c] => self.bind_column(Some(t), c, ctx),
                    _ => Err(SqlError::new(
                        sqlstate::SYNTAX_ERROR,
                        format!("improper qualified name: {e}"),
                    )),
                }
            }
            AstExpr::Value(v) => bind_value(&v.value),
            AstExpr::TypedString(ts) => {
                let ty = crate::bind::bind_type(&ts.data_type)?;
                let s = match &ts.value.value {
                    Value::SingleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                Ok(Typed::new(Expr::Literal(strconv::parse_datum(&s, ty)?), ty))
            }
            AstExpr::Interval(iv) => bind_interval_literal(iv),
            AstExpr::Nested(inner) => self.bind_expr(inner, ctx),
            AstExpr::Array(arr) => {
                let items = arr
                    .elem
                    .iter()
                    .map(|e| self.bind_expr(e, ctx))
                    .collect::<SqlResult<Vec<_>>>()?;
                if items.is_empty() {
                    return Err(SqlError::new(
                        sqlstate::INDETERMINATE_DATATYPE,
                        "cannot determine type of empty array",
                    )
                    .with_hint(
                        "Explicitly cast to the desired type, for example ARRAY[]::integer[].",
                    ));
                }
                let ty = crate::coerce::common_type_all(&items, "ARRAY")?;
                let elem = catalog::ElemType::of(ty)
                    .ok_or_else(|| SqlError::unsupported("arrays of arrays"))?;
                let exprs = items
                    .into_iter()
                    .map(|t| t.cast_to(elem.scalar()))
                    .collect::<SqlResult<Vec<_>>>()?;
                Ok(Typed::new(
                    Expr::Call(Func::ArrayCtor, exprs),
                    ScalarType::Array(elem),
                ))
            }
            AstExpr::AtTimeZone {
                timestamp,
                time_zone,
            } => {
                let ts = self.bind_expr(timestamp, ctx)?;
                let zone = self.bind_expr(time_zone, ctx)?;
                at_time_zone(ts, zone)
            }
            // (record).field: a field of a composite value
            AstExpr::CompoundFieldAccess { root, access_chain }
                if matches!(root.as_ref(), AstExpr::Nested(_))
                    && access_chain
                        .iter()
                        .all(|a| matches!(a, ast::AccessExpr::Dot(AstExpr::Identifier(_)))) =>
            {
                let mut t = self.bind_expr(root, ctx)?;
                for a in access_chain {
                    let ast::AccessExpr::Dot(AstExpr::Identifier(field)) = a else {
                        unreachable!("matched above")
                    };
                    t = record_field(t, &ident_name(field))?;
                }
                Ok(t)
            }
            // t.col[i]: the qualified column, subscripted
            AstExpr::CompoundFieldAccess { root, access_chain }
                if access_chain.len() > 1
                    && matches!(
                        access_chain.last(),
                        Some(ast::AccessExpr::Subscript(ast::Subscript::Index { .. }))
                    )
                    && access_chain[..access_chain.len() - 1]
                        .iter()
                        .all(|a| matches!(a, ast::AccessExpr::Dot(AstExpr::Identifier(_)))) =>
            {
                let mut idents = match root.as_ref() {
                    AstExpr::Identifier(i) => vec![i.clone()],
                    AstExpr::CompoundIdentifier(ids) => ids.clone(),
                    _ => return Err(SqlError::unsupported(format!("expression \"{e}\""))),
                };
                for a in &access_chain[..access_chain.len() - 1] {
                    if let ast::AccessExpr::Dot(AstExpr::Identifier(i)) = a {
                        idents.push(i.clone());
                    }
                }
                // the index is bound where it stands in the statement (a
                // set-returning call in it is found by its address)
                let column = self.bind_expr(&AstExpr::CompoundIdentifier(idents), ctx)?;
                let Some(ast::AccessExpr::Subscript(ast::Subscript::Index { index })) =
                    access_chain.last()
                else {
                    unreachable!("matched above")
                };
                self.bind_subscript(column, index, ctx)
            }
            AstExpr::CompoundFieldAccess { root, access_chain }
                if matches!(
                    access_chain.as_slice(),
                    [ast::AccessExpr::Subscript(ast::Subscript::Index { .. })]
                ) =>
            {
                let [ast::AccessExpr::Subscript(ast::Subscript::Index { index })] =
                    access_chain.as_slice()
                else {
                    unreachable!("matched above")
                };
                let a = self.bind_expr(root, ctx)?;
                self.bind_subscript(a, index, ctx)
            }
            AstExpr::UnaryOp { op, expr } => {
                let t = self.bind_expr(expr, ctx)?;
                match op {
                    ast::UnaryOperator::Not => {
                        let b = t.into_bool("NOT")?;
                        Ok(Typed::new(Expr::unary(UnaryOp::Not, b), ScalarType::Bool))
                    }
                    ast::UnaryOperator::Minus => {
                        // Fold negative numeric literals so -2147483648 stays an integer.
                        if let AstExpr::Value(v) = expr.as_ref() {
                            if let Value::Number(n, _) = &v.value {
                                return bind_number(&format!("-{n}"));
                            }
                        }
                        let ty = if t.unknown { ScalarType::Float64 } else { t.ty };
                        if !(ty.is_numeric() || ty == ScalarType::Interval) {
                            return Err(SqlError::new(
                                sqlstate::UNDEFINED_FUNCTION,
                                format!("operator does not exist: - {}", ty.name()),
                            ));
                        }
                        Ok(Typed::new(Expr::unary(UnaryOp::Neg, t.cast_to(ty)?), ty))
                    }
                    ast::UnaryOperator::Plus => Ok(t),
                    other => Err(SqlError::unsupported(format!("operator {other}"))),
                }
            }
            AstExpr::BinaryOp {
                left,
                op: ast::BinaryOperator::PGCustomBinaryOperator(parts),
                right,
            } => {
                // OPERATOR(pg_catalog.~): the operator itself
                let op = match parts.as_slice() {
                    [op] => operator_by_symbol(op),
                    [schema, op] if schema.eq_ignore_ascii_case("pg_catalog") => {
                        operator_by_symbol(op)
                    }
                    _ => None,
                }
                .ok_or_else(|| {
                    SqlError::new(
                        sqlstate::UNDEFINED_FUNCTION,
                        format!("operator does not exist: {}", parts.join(".")),
                    )
                })?;
                self.bind_expr(
                    &AstExpr::BinaryOp {
                        left: left.clone(),
                        op,
                        right: right.clone(),
                    },
                    ctx,
                )
            }
            AstExpr::BinaryOp { left, op, right } => {
                use ast::BinaryOperator as B;
                let regex = match op {
                    B::PGRegexMatch => Some((Func::RegexMatch, false)),
                    B::PGRegexIMatch => Some((Func::RegexIMatch, false)),
                    B::PGRegexNotMatch => Some((Func::RegexMatch, true)),
                    B::PGRegexNotIMatch => Some((Func::RegexIMatch, true)),
                    _ => None,
                };
                // an operator Ripple lacks fails before its operands bind
                let plain = match regex.is_some() || is_json_operator(op) {
                    true => None,
                    false => Some(binary_op(op)?),
                };
                let l = self.bind_expr(left, ctx)?;
                let r = self.bind_expr(right, ctx)?;
                if let Some((func, negated)) = regex {
                    let t = bind_builtin(func.name(), func, vec![l, r])?;
                    return Ok(negate_if(t, negated));
                }
                if let Some(t) = bind_json_operator(op, &l, &r)? {
                    return Ok(t);
                }
                let (bop, sym) = match plain {
                    Some(p) => p,
                    None => binary_op(op)?,
                };
                bind_binary(bop, sym, l, r)
            }
            AstExpr::Like {
                negated,
                expr,
                pattern,
                escape_char,
                any,
                ..
            }
            | AstExpr::ILike {
                negated,
                expr,
                pattern,
                escape_char,
                any,
            } => {
                if *any {
                    return Err(SqlError::unsupported("LIKE ANY"));
                }
                let op = if matches!(e, AstExpr::ILike { .. }) {
                    BinaryOp::ILike
                } else {
                    BinaryOp::Like
                };
                let l = self.bind_expr(expr, ctx)?;
                let mut r = self.bind_expr(pattern, ctx)?;
                if let Some(esc) = escape_char {
                    // ESCAPE 'c': the pattern in the default escape (\)
                    let esc = esc.to_string();
                    let esc = esc.trim_matches('\'');
                    if esc.chars().count() > 1 {
                        return Err(SqlError::new("22025", "invalid escape string")
                            .with_hint("Escape string must be empty or one character."));
                    }
                    let lit = |s: &str| Expr::Literal(Datum::Text(s.to_string()));
                    if esc != "\\" {
                        let mut p = Expr::Call(
                            Func::Replace,
                            vec![r.cast_to(ScalarType::Text)?, lit("\\"), lit("\\\\")],
                        );
                        if !esc.is_empty() {
                            p = Expr::Call(Func::Replace, vec![p, lit(esc), lit("\\")]);
                        }
                        r = Typed::new(p, ScalarType::Text);
                    }
                }
                let t = bind_binary(op, "~~", l, r)?;
                Ok(negate_if(t, *negated))
            }
            AstExpr::IsNull(x) => self.bind_is(x, UnaryOp::IsNull, ctx),
            AstExpr::IsNotNull(x) => self.bind_is(x, UnaryOp::IsNotNull, ctx),
            AstExpr::IsTrue(x) => self.bind_is(x, UnaryOp::IsTrue, ctx),
            AstExpr::IsNotTrue(x) => self.bind_is(x, UnaryOp::IsNotTrue, ctx),
            AstExpr::IsFalse(x) => self.bind_is(x, UnaryOp::IsFalse, ctx),
            AstExpr::IsNotFalse(x) => self.bind_is(x, UnaryOp::IsNotFalse, ctx),
            AstExpr::IsUnknown(x) => self.bind_is(x, UnaryOp::IsNull, ctx),
            AstExpr::IsNotUnknown(x) => self.bind_is(x, UnaryOp::IsNotNull, ctx),
            AstExpr::IsDistinctFrom(a, b) | AstExpr::IsNotDistinctFrom(a, b) => {
                let op = if matches!(e, AstExpr::IsDistinctFrom(..)) {
                    BinaryOp::IsDistinctFrom
                } else {
                    BinaryOp::IsNotDistinctFrom
                };
                let l = self.bind_expr(a, ctx)?;
                let r = self.bind_expr(b, ctx)?;
                bind_binary(op, "IS DISTINCT FROM", l, r)
            }
            AstExpr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let x = self.bind_expr(expr, ctx)?;
                let lo = bind_binary(BinaryOp::GtEq, ">=", x.clone(), self.bind_expr(low, ctx)?)?;
                let hi = bind_binary(BinaryOp::LtEq, "<=", x, self.bind_expr(high, ctx)?)?;
                let t = bind_binary(BinaryOp::And, "AND", lo, hi)?;
                Ok(negate_if(t, *negated))
            }
            AstExpr::In {
                expr,
                target: ast::InTarget::List(list),
                negated,
                ..
            } => {
                let x = self.bind_expr(expr, ctx)?;
                let mut acc: Option<Typed> = None;
                for item in list {
                    let eq = bind_binary(BinaryOp::Eq, "=", x.clone(), self.bind_expr(item, ctx)?)?;
                    acc = Some(match acc {
                        None => eq,
                        Some(prev) => bind_binary(BinaryOp::Or, "OR", prev, eq)?,
                    });
                }
                let t = acc.unwrap_or_else(|| {
                    Typed::new(Expr::Literal(Datum::Bool(false)), ScalarType::Bool)
                });
                Ok(negate_if(t, *negated))
            }
            AstExpr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let returns_set = |e: &AstExpr| {
                    let mut found = false;
                    crate::subquery::visit_outside_subqueries(e, &mut |x| {
                        if let AstExpr::Function(f) = x {
                            found |= f.over.is_none()
                                && crate::table_func::is_set_function(&function_name(f));
                        }
                    });
                    found
                };
                if conditions.iter().any(|w| returns_set(&w.condition)) {
                    return Err(SqlError::new(
                        sqlstate::DATATYPE_MISMATCH,
                        "argument of CASE/WHEN must not return a set",
                    ));
                }
                if returns_set(e) {
                    return Err(SqlError::new(
                        sqlstate::FEATURE_NOT_SUPPORTED,
                        "set-returning functions are not allowed in CASE",
                    )
                    .with_hint("You might be able to move the set-returning function into a LATERAL FROM item."));
                }
                self.bind_case(operand.as_deref(), conditions, else_result.as_deref(), ctx)
            }
            AstExpr::Cast {
                expr,
                data_type,
                format,
                ..
            } => {
                if format.is_some() {
                    return Err(SqlError::unsupported("CAST … FORMAT"));
                }
                if let Some(kind) = crate::syscat::reg_kind(data_type) {
                    let t = self.bind_expr(expr, ctx)?;
                    return self.bind_reg_cast(t, kind);
                }
                let ty = crate::bind::bind_type(data_type)?;
                // `x::regclass::text`: the object's name
                if let AstExpr::Cast {
                    expr: inner,
                    data_type: inner_type,
                    ..
                } = expr.as_ref()
                {
                    if let (Some(kind), true) =
                        (crate::syscat::reg_kind(inner_type), ty.is_string())
                    {
                        let t = self.bind_expr(inner, ctx)?;
                        let name = self.bind_reg_name(t, kind)?;
                        return Ok(Typed::new(name.cast_to(ty)?, ty));
                    }
                }
                if let (AstExpr::Array(arr), ScalarType::Array(_)) = (expr.as_ref(), ty) {
                    if arr.elem.is_empty() {
                        // ARRAY[]::t[] takes its type from the cast
                        return Ok(Typed::new(Expr::Literal(Datum::Array(vec![])), ty));
                    }
                }
                let t = self.bind_expr(expr, ctx)?;
                check_castable(&t, ty)?;
                Ok(Typed::new(t.cast_to(ty)?, ty))
            }
            AstExpr::Function(f) => self.bind_function(f, ctx),
            AstExpr::Collate { expr, collation } => {
                // Ripple compares strings by code point: the C collation
                let name = collation
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(|i| i.value.clone())
                    .unwrap_or_default();
                if !matches!(name.as_str(), "default" | "C" | "POSIX" | "ucs_basic") {
                    return Err(SqlError::new(
                        sqlstate::UNDEFINED_OBJECT,
                        format!("collation \"{name}\" for encoding \"UTF8\" does not exist"),
                    ));
                }
                self.bind_expr(expr, ctx)
            }
            AstExpr::Ceil {
                expr,
                field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime),
            }
            | AstExpr::Floor {
                expr,
                field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime),
            } => {
                let name = if matches!(e, AstExpr::Ceil { .. }) {
                    "ceil"
                } else {
                    "floor"
                };
                bind_rounding(name, vec![self.bind_expr(expr, ctx)?])
            }
            AstExpr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![self.bind_expr(expr, ctx)?.cast_to(ScalarType::Text)?];
                let from = match substring_from {
                    Some(f) => self.bind_expr(f, ctx)?.cast_to(ScalarType::Int64)?,
                    None => Expr::Literal(Datum::Int64(1)),
                };
                args.push(from);
                if let Some(n) = substring_for {
                    args.push(self.bind_expr(n, ctx)?.cast_to(ScalarType::Int64)?);
                }
                Ok(Typed::new(Expr::Call(Func::Substr, args), ScalarType::Text))
            }
            AstExpr::Position { expr, r#in } => {
                let needle = self.bind_expr(expr, ctx)?;
                let hay = self.bind_expr(r#in, ctx)?;
                bind_builtin("position", Func::StrPos, vec![hay, needle])
            }
            AstExpr::Extract { field, expr, .. } => {
                let source = self.bind_expr(expr, ctx)?;
                let source = if source.unknown {
                    Typed::new(
                        source.cast_to(ScalarType::Timestamp)?,
                        ScalarType::Timestamp,
                    )
                } else {
                    source
                };
                let name = match field {
                    ast::DateTimeField::Custom(i) => ident_name(i),
                    f => f.to_string().to_lowercase(),
                };
                let field = Typed::new(Expr::Literal(Datum::Text(name)), ScalarType::Text);
                bind_builtin("extract", Func::Extract, vec![field, source])
            }
            AstExpr::Trim {
                expr,
                trim_where,
                trim_what,
                trim_characters,
            } => {
                let func = match trim_where {
                    Some(ast::TrimWhereField::Leading) => Func::LTrim,
                    Some(ast::TrimWhereField::Trailing) => Func::RTrim,
                    _ => Func::Trim,
                };
                let mut args = vec![self.bind_expr(expr, ctx)?.cast_to(ScalarType::Text)?];
                let chars = trim_what
                    .as_deref()
                    .or(trim_characters.as_ref().and_then(|c| c.first()));
                if let Some(c) = chars {
                    args.push(self.bind_expr(c, ctx)?.cast_to(ScalarType::Text)?);
                }
                Ok(Typed::new(Expr::Call(func, args), ScalarType::Text))
            }
            AstExpr::AnyOp {
                left,
                compare_op,
                right,
                ..
            }
            | AstExpr::AllOp {
                left,
                compare_op,
                right,
            } if !matches!(right.as_ref(), AstExpr::Subquery(_)) => {
                let all = matches!(e, AstExpr::AllOp { .. });
                let (_, symbol) = binary_op(compare_op)?;
                if crate::arrayfn::comparison(symbol).is_none() {
                    return Err(SqlError::unsupported(format!(
                        "operator {symbol} with ANY or ALL"
                    )));
                }
                let x = self.bind_expr(left, ctx)?;
                let a = self.bind_expr(right, ctx)?;
                let elem = match a.ty {
                    ScalarType::Array(e) if !a.unknown => e.scalar(),
                    _ if a.unknown => {
                        if x.unknown {
                            ScalarType::Text
                        } else {
                            x.ty.base()
                        }
                    }
                    other => {
                        return Err(SqlError::new(
                            sqlstate::DATATYPE_MISMATCH,
                            format!(
                                "op ANY/ALL (array) requires array on right side, not {}",
                                other.name()
                            ),
                        ))
                    }
                };
                let ty = crate::coerce::common_type(&x, &Typed::new(Expr::Column(0), elem))
                    .ok_or_else(|| {
                        SqlError::new(
                            sqlstate::UNDEFINED_FUNCTION,
                            format!(
                                "operator does not exist: {} {symbol} {}",
                                x.ty.name(),
                                elem.name()
                            ),
                        )
                    })?;
                let arr_ty = ScalarType::Array(
                    catalog::ElemType::of(ty)
                        .ok_or_else(|| SqlError::unsupported("arrays of arrays"))?,
                );
                let func = if all { Func::ArrayAll } else { Func::ArrayAny };
                Ok(Typed::new(
                    Expr::Call(
                        func,
                        vec![
                            x.cast_to(ty)?,
                            a.cast_to(arr_ty)?,
                            Expr::Literal(Datum::Text(symbol.into())),
                        ],
                    ),
                    ScalarType::Bool,
                ))
            }
            // attach_subqueries bound the whole comparison as the subquery's column
            AstExpr::AnyOp { right, .. } | AstExpr::AllOp { right, .. } => {
                self.bind_expr(right, ctx)
            }
            AstExpr::Subquery(q)
            | AstExpr::Exists { subquery: q, .. }
            | AstExpr::In {
                target: ast::InTarget::Subquery(q),
                ..
            } => {
                // attach_subqueries bound it as a column of the relation
                let found = self
                    .subquery_cols
                    .borrow()
                    .get(&crate::subquery::query_key(q))
                    .copied();
                let negated = matches!(
                    e,
                    AstExpr::Exists { negated: true, .. } | AstExpr::In { negated: true, .. }
                );
                match found {
                    Some((crate::subquery::UNEVALUABLE, ty)) => {
                        Ok(Typed::new(crate::subquery::unevaluable(), ty))
                    }
                    Some((col, ty)) if col < ctx.scope.len() => {
                        Ok(negate_if(Typed::new(Expr::Column(col), ty), negated))
                    }
                    _ => Err(SqlError::unsupported(format!(
                        "a subquery in {}",
                        if ctx.clause.is_empty() {
                            "this position"
                        } else {
                            ctx.clause
                        }
                    ))),
                }
            }
            other => Err(SqlError::unsupported(format!("expression \"{other}\""))),
        }
    }

    /// In a grouped SELECT: group keys and aggregate calls become output
    /// columns; a bare column that is neither is an error (42803).
    fn bind_in_agg_context(&self, e: &AstExpr, agg: &AggContext) -> SqlResult<Option<Typed>> {
        let nkeys = agg.keys.len();
        if let AstExpr::Function(f) = e {
            if f.over.is_none() && aggregate_kind(&function_name(f)).is_some() {
                let i = agg
                    .aggs
                    .iter()
                    .position(|a| a.ast == *f)
                    .ok_or_else(|| SqlError::internal("aggregate not collected"))?;
                return Ok(Some(Typed::new(
                    Expr::Column(nkeys + i),
                    agg.aggs[i].result,
                )));
            }
        }
        if contains_aggregate(e) || contains_subquery(e) {
            // subqueries bind as columns of the grouped relation
            return Ok(None);
        }
        let plain = ExprCtx {
            scope: agg.input,
            agg: None,
            clause: "",
        };
        if let Ok(t) = self.bind_expr(e, plain) {
            if let Some(i) = agg.keys.iter().position(|k| *k == t.expr) {
                return Ok(Some(Typed::new(Expr::Column(i), t.ty)));
            }
            if t.expr.is_constant() {
                return Ok(Some(t));
            }
            if let AstExpr::Identifier(_) | AstExpr::CompoundIdentifier(_) = e {
                let mut cols = vec![];
                t.expr.collect_columns(&mut cols);
                let item = &agg.input.items[cols[0]];
                let q = item
                    .table
                    .as_ref()
                    .map(|t| format!("{t}."))
                    .unwrap_or_default();
                return Err(SqlError::new(
                    sqlstate::GROUPING_ERROR,
                    format!(
                        "column \"{q}{}\" must appear in the GROUP BY clause or be used in an aggregate function",
                        item.name
                    ),
                ));
            }
        }
        Ok(None)
    }

    fn bind_column(&self, table: Option<&str>, name: &str, ctx: ExprCtx) -> SqlResult<Typed> {
        let scope = match ctx.agg {
            Some(agg) => agg.input,
            None => ctx.scope,
        };
        match scope.resolve(table, name) {
            Ok(i) => Ok(Typed::new(Expr::Column(i), scope.items[i].ty)),
            Err(e)
                if e.code == sqlstate::UNDEFINED_COLUMN || e.code == sqlstate::UNDEFINED_TABLE =>
            {
                // A correlated reference to an enclosing query's row, the
                // nearest one that has the column.
                let outer = self.outer.borrow();
                for (depth, o) in outer.iter().rev().enumerate() {
                    if let Ok(i) = o.resolve(table, name) {
                        let expr = match depth {
                            0 => Expr::Outer(i),
                            d => Expr::OuterN {
                                depth: d + 1,
                                col: i,
                            },
                        };
                        return Ok(Typed::new(expr, o.items[i].ty));
                    }
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn bind_is(&self, x: &AstExpr, op: UnaryOp, ctx: ExprCtx) -> SqlResult<Typed> {
        let t = self.bind_expr(x, ctx)?;
        let e = match op {
            UnaryOp::IsNull | UnaryOp::IsNotNull => t.expr,
            _ => t.into_bool("IS TRUE")?,
        };
        Ok(Typed::new(Expr::unary(op, e), ScalarType::Bool))
    }

    fn bind_case(
        &self,
        operand: Option<&AstExpr>,
        conditions: &[ast::CaseWhen],
        else_result: Option<&AstExpr>,
        ctx: ExprCtx,
    ) -> SqlResult<Typed> {
        let mut conds = vec![];
        let mut results = vec![];
        let op = operand.map(|o| self.bind_expr(o, ctx)).transpose()?;
        for w in conditions {
            let c = self.bind_expr(&w.condition, ctx)?;
            let c = match &op {
                Some(o) => bind_binary(BinaryOp::Eq, "=", o.clone(), c)?.expr,
                None => c.into_bool("CASE/WHEN")?,
            };
            conds.push(c);
            results.push(self.bind_expr(&w.result, ctx)?);
        }
        let els = match else_result {
            Some(e) => self.bind_expr(e, ctx)?,
            None => Typed::unknown_literal(Datum::Null),
        };
        results.push(els);
        let ty = common_type_all(&results, "CASE")?;
        let mut out = results.pop().expect("else branch").cast_to(ty)?;
        while let Some(r) = results.pop() {
            let cond = conds.pop().expect("one condition per branch");
            out = Expr::If {
                cond: Box::new(cond),
                then: Box::new(r.cast_to(ty)?),
                els: Box::new(out),
            };
        }
        Ok(Typed::new(out, ty))
    }

    /// `a[index]`: an array's element (from 1), or an int2vector's (from 0).
    fn bind_subscript(&self, a: Typed, index: &AstExpr, ctx: ExprCtx) -> SqlResult<Typed> {
        if a.ty == ScalarType::Int2Vector {
            // int2vector subscripts start at 0
            let i = self.bind_expr(index, ctx)?.cast_to(ScalarType::Int32)?;
            let i = Expr::binary(BinaryOp::Add, i, Expr::Literal(Datum::Int32(1)));
            return Ok(Typed::new(
                Expr::Call(Func::ArraySubscript, vec![a.expr, i]),
                ScalarType::Int16,
            ));
        }
        let ScalarType::Array(elem) = a.ty else {
            return Err(SqlError::new(
                sqlstate::DATATYPE_MISMATCH,
                format!(
                    "cannot subscript type {} because it does not support subscripting",
                    a.ty.name()
                ),
            ));
        };
        let i = self.bind_expr(index, ctx)?.cast_to(ScalarType::Int32)?;
        Ok(Typed::new(
            Expr::Call(Func::ArraySubscript, vec![a.expr, i]),
            elem.scalar(),
        ))
    }

    fn bind_function(&self, f: &ast::Function, ctx: ExprCtx) -> SqlResult<Typed> {
        let name = json_as_jsonb(function_name(f));
        if let (FunctionArguments::Subquery(q), "array") = (&f.args, name.as_str()) {
            // attach_subqueries bound ARRAY(q) as a column of the relation
            let key = crate::subquery::query_key(q);
            return match self.subquery_cols.borrow().get(&key).copied() {
                Some((col, ty)) if col < ctx.scope.len() => Ok(Typed::new(Expr::Column(col), ty)),
                _ => Err(SqlError::unsupported(format!(
                    "ARRAY(subquery) in {}",
                    ctx.clause
                ))),
            };
        }
        if crate::table_func::is_set_function(&name) && f.over.is_none() {
            return match self.srf_cols.borrow().get(&crate::window::call_key(f)) {
                Some((c, ty)) => Ok(Typed::new(Expr::Column(*c), *ty)),
                None => Err(SqlError::unsupported(format!(
                    "{name}() here (set-returning functions may stand in the select list of a query without GROUP BY, or in FROM)"
                ))),
            };
        }
        if f.over.is_some() {
            return match self.window_cols.borrow().get(&crate::window::call_key(f)) {
                Some((c, ty)) => Ok(Typed::new(Expr::Column(*c), *ty)),
                None => Err(SqlError::new(
                    sqlstate::WINDOWING_ERROR,
                    format!("window functions are not allowed in {}", ctx.clause),
                )),
            };
        }
        if aggregate_kind(&name).is_some() {
            return Err(SqlError::new(
                sqlstate::GROUPING_ERROR,
                format!("aggregate functions are not allowed in {}", ctx.clause),
            ));
        }
        let (args, _star, _distinct) = call_args(f)?;
        let bound = args
            .iter()
            .map(|a| self.bind_expr(a, ctx))
            .collect::<SqlResult<Vec<_>>>()?;
        use ScalarType::*;
        let n = bound.len();
        let text_fn = |func: Func,
                       arity: std::ops::RangeInclusive<usize>,
                       ret: ScalarType|
         -> SqlResult<Typed> {
            if !arity.contains(&n) {
                return Err(no_function(&name, n));
            }
            let mut exprs = vec![];
            for (i, b) in bound.iter().cloned().enumerate() {
                exprs.push(if i == 0 || !matches!(func, Func::Substr) {
                    b.cast_to(Text)?
                } else {
                    b.cast_to(Int64)?
                });
            }
            Ok(Typed::new(Expr::Call(func, exprs), ret))
        };
        match name.as_str() {
            "now"
            | "mz_now"
            | "current_timestamp"
            | "transaction_timestamp"
            | "statement_timestamp"
            | "localtimestamp" => {
                let now = self.now_micros()?;
                let ty = if name == "localtimestamp" {
                    Timestamp
                } else {
                    TimestampTz
                };
                // local time is the session zone's
                let d = if ty == Timestamp {
                    Datum::Timestamp(crate::coerce::session_zone().to_local(now))
                } else {
                    Datum::TimestampTz(now)
                };
                Ok(Typed::new(Expr::Literal(d), ty))
            }
            "current_date" => Ok(Typed::new(
                Expr::Literal(Datum::Date(
                    crate::coerce::session_zone()
                        .to_local(self.now_micros()?)
                        .div_euclid(strconv::MICROS_PER_DAY) as i32,
                )),
                Date,
            )),
            "coalesce" | "greatest" | "least" => {
                if n == 0 {
                    return Err(no_function(&name, n));
                }
                let ty = common_type_all(&bound, &name.to_uppercase())?;
                let exprs = bound
                    .into_iter()
                    .map(|b| b.cast_to(ty))
                    .collect::<SqlResult<Vec<_>>>()?;
                let func = match name.as_str() {
                    "coalesce" => Func::Coalesce,
                    "greatest" => Func::Greatest,
                    _ => Func::Least,
                };
                Ok(Typed::new(Expr::Call(func, exprs), ty))
            }
            "nullif" => {
                if n != 2 {
                    return Err(no_function(&name, n));
                }
                let ty = common_type_all(&bound, "NULLIF")?;
                let exprs = bound
                    .into_iter()
                    .map(|b| b.cast_to(ty))
                    .collect::<SqlResult<Vec<_>>>()?;
                Ok(Typed::new(Expr::Call(Func::NullIf, exprs), ty))
            }
            "abs" | "round" | "trunc" | "ceil" | "ceiling" | "floor" => bind_rounding(&name, bound),
            "timezone" if bound.len() == 2 => {
                let mut it = bound.into_iter();
                let zone = it.next().expect("two arguments");
                let ts = it.next().expect("two arguments");
                at_time_zone(ts, zone)
            }
            "upper" => text_fn(Func::Upper, 1..=1, Text),
            "lower" => text_fn(Func::Lower, 1..=1, Text),
            "length" | "char_length" | "character_length" => text_fn(Func::Length, 1..=1, Int32),
            "substr" | "substring" => text_fn(Func::Substr, 2..=3, Text),
            "replace" => text_fn(Func::Replace, 3..=3, Text),
            "btrim" => text_fn(Func::Trim, 1..=2, Text),
            "ltrim" => text_fn(Func::LTrim, 1..=2, Text),
            "rtrim" => text_fn(Func::RTrim, 1..=2, Text),
            "strpos"
            | "starts_with"
            | "split_part"
            | "left"
            | "right"
            | "lpad"
            | "rpad"
            | "repeat"
            | "reverse"
            | "initcap"
            | "power"
            | "pow"
            | "sqrt"
            | "exp"
            | "ln"
            | "log"
            | "log10"
            | "pi"
            | "make_date"
            | "date_trunc"
            | "date_part"
            | "regexp_replace"
            | "regexp_like"
            | "date_bin"
            | "to_char"
            | "regexp_match"
            | "regexp_split_to_array" => {
                let func = match name.as_str() {
                    "strpos" => Func::StrPos,
                    "starts_with" => Func::StartsWith,
                    "split_part" => Func::SplitPart,
                    "left" => Func::Left,
                    "right" => Func::Right,
                    "lpad" => Func::Lpad,
                    "rpad" => Func::Rpad,
                    "repeat" => Func::Repeat,
                    "reverse" => Func::Reverse,
                    "initcap" => Func::Initcap,
                    "power" | "pow" => Func::Power,
                    "sqrt" => Func::Sqrt,
                    "exp" => Func::Exp,
                    "ln" => Func::Ln,
                    "log" | "log10" => Func::Log10,
                    "pi" => Func::Pi,
                    "make_date" => Func::MakeDate,
                    "date_trunc" => Func::DateTrunc,
                    "regexp_replace" => Func::RegexpReplace,
                    "regexp_like" => Func::RegexpLike,
                    "regexp_match" => Func::RegexpMatch,
                    "regexp_split_to_array" => Func::RegexpSplitToArray,
                    "date_bin" => Func::DateBin,
                    "to_char" => Func::ToChar,
                    _ => Func::DatePart,
                };
                bind_builtin(&name, func, bound)
            }
            "age" if n == 1 => {
                // age(x) counts from midnight of the current date
                let today = self.now_micros()?.div_euclid(strconv::MICROS_PER_DAY)
                    * strconv::MICROS_PER_DAY;
                let mut args = vec![Typed::new(
                    Expr::Literal(Datum::Timestamp(today)),
                    Timestamp,
                )];
                args.extend(bound);
                bind_builtin(&name, Func::Age, args)
            }
            "age" => bind_builtin(&name, Func::Age, bound),
            "mod" => {
                if n != 2 {
                    return Err(no_function(&name, n));
                }
                let mut it = bound.into_iter();
                let (a, b) = (it.next().expect("two"), it.next().expect("two"));
                bind_binary(BinaryOp::Mod, "%", a, b)
            }
            "jsonb_build_object" | "jsonb_build_array" => {
                let func = if name == "jsonb_build_object" {
                    Func::JsonBuildObject
                } else {
                    Func::JsonBuildArray
                };
                let exprs = bound
                    .into_iter()
                    .map(|b| Ok(b.text_if_unknown()?.expr))
                    .collect::<SqlResult<Vec<_>>>()?;
                Ok(Typed::new(Expr::Call(func, exprs), Jsonb))
            }
            "to_jsonb" if n == 1 => {
                let b = bound.into_iter().next().expect("one");
                let e = b.text_if_unknown()?.expr;
                Ok(Typed::new(Expr::Call(Func::ToJsonb, vec![e]), Jsonb))
            }
            "jsonb_typeof" | "jsonb_array_length" if n == 1 => {
                let b = bound.into_iter().next().expect("one");
                if !(b.unknown || b.ty == Jsonb) {
                    return Err(SqlError::new(
                        sqlstate::UNDEFINED_FUNCTION,
                        format!("function {name}({}) does not exist", b.ty.name()),
                    ));
                }
                let (func, ty) = if name == "jsonb_typeof" {
                    (Func::JsonTypeof, Text)
                } else {
                    (Func::JsonArrayLength, Int32)
                };
                Ok(Typed::new(Expr::Call(func, vec![b.cast_to(Jsonb)?]), ty))
            }
            "array_length" | "cardinality" | "array_to_string" | "string_to_array"
            | "array_append" | "array_cat" | "array_position" => {
                self.bind_array_function(&name, bound)
            }
            "concat_ws" => {
                if n == 0 {
                    return Err(no_function(&name, n));
                }
                let exprs = bound
                    .into_iter()
                    .enumerate()
                    .map(|(i, b)| {
                        if b.unknown || i == 0 {
                            b.cast_to(Text)
                        } else {
                            Ok(b.expr)
                        }
                    })
                    .collect::<SqlResult<Vec<_>>>()?;
                Ok(Typed::new(Expr::Call(Func::ConcatWs, exprs), Text))
            }
            "concat" => {
                let exprs = bound
                    .into_iter()
                    .map(|b| Ok(b.text_if_unknown()?.expr))
                    .collect::<SqlResult<Vec<_>>>()?;
                Ok(Typed::new(Expr::Call(Func::Concat, exprs), Text))
            }
            _ => match self.bind_system_function(&name, bound) {
                Some(r) => r,
                None => Err(no_function(&name, n)),
            },
        }
    }
}

impl Binder<'_> {
    /// The array functions, with their arguments' types checked.
    fn bind_array_function(&self, name: &str, bound: Vec<Typed>) -> SqlResult<Typed> {
        use ScalarType::*;
        let n = bound.len();
        let sig = || no_such_function(name, &bound);
        let array = |t: &Typed| match t.ty {
            Array(e) if !t.unknown => Some(e),
            _ => None,
        };
        let mut it = bound.iter();
        let first = it.next().ok_or_else(sig)?;
        let (func, exprs, ty) = match (name, n) {
            ("array_length", 2) => {
                array(first).ok_or_else(sig)?;
                (
                    Func::ArrayLength,
                    vec![first.expr.clone(), bound[1].clone().cast_to(Int32)?],
                    Int32,
                )
            }
            ("cardinality", 1) => {
                array(first).ok_or_else(sig)?;
                (Func::Cardinality, vec![first.expr.clone()], Int32)
            }
            ("array_to_string", 2 | 3) => {
                array(first).ok_or_else(sig)?;
                let mut exprs = vec![first.expr.clone()];
                for b in &bound[1..] {
                    exprs.push(b.clone().cast_to(Text)?);
                }
                (Func::ArrayToString, exprs, Text)
            }
            ("string_to_array", 2 | 3) => {
                let exprs = bound
                    .iter()
                    .map(|b| b.clone().cast_to(Text))
                    .collect::<SqlResult<Vec<_>>>()?;
                (Func::StringToArray, exprs, Array(catalog::ElemType::Text))
            }
            ("array_append" | "array_position", 2) => {
                let e = array(first).ok_or_else(sig)?;
                let func = if name == "array_append" {
                    Func::ArrayAppend
                } else {
                    Func::ArrayPosition
                };
                let ty = if name == "array_append" {
                    first.ty
                } else {
                    Int32
                };
                (
                    func,
                    vec![first.expr.clone(), bound[1].clone().cast_to(e.scalar())?],
                    ty,
                )
            }
            ("array_cat", 2) => {
                let e = array(first).or_else(|| array(&bound[1])).ok_or_else(sig)?;
                let ty = Array(e);
                (
                    Func::ArrayCat,
                    vec![first.clone().cast_to(ty)?, bound[1].clone().cast_to(ty)?],
                    ty,
                )
            }
            _ => return Err(sig()),
        };
        Ok(Typed::new(Expr::Call(func, exprs), ty))
    }
}

/// The jsonb operators other than `||`.
fn is_json_operator(op: &ast::BinaryOperator) -> bool {
    use ast::BinaryOperator as B;
    matches!(
        op,
        B::Arrow
            | B::LongArrow
            | B::HashArrow
            | B::HashLongArrow
            | B::AtArrow
            | B::ArrowAt
            | B::Question
    )
}

/// The jsonb operators (`->`, `->>`, `#>`, `#>>`, `@>`, `<@`, `?`, and
/// `||` between jsonb values) over bound operands, or `None` for other
/// operators.
fn bind_json_operator(op: &ast::BinaryOperator, l: &Typed, r: &Typed) -> SqlResult<Option<Typed>> {
    use ast::BinaryOperator as B;
    use ScalarType::*;
    if !is_json_operator(op) && *op != B::StringConcat {
        return Ok(None);
    }
    // jsonb || jsonb merges; with text on one side it is text concatenation
    let json_side = |t: &Typed| t.unknown || t.ty == Jsonb;
    if *op == B::StringConcat && !(json_side(l) && json_side(r) && (l.ty == Jsonb || r.ty == Jsonb))
    {
        return Ok(None);
    }
    let no_operator = || {
        SqlError::new(
            sqlstate::UNDEFINED_FUNCTION,
            format!("operator does not exist: {} {op} {}", arg_type(l), arg_type(r)),
        )
        .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts.")
    };
    if !(l.unknown || l.ty == Jsonb) {
        return Err(no_operator());
    }
    let lhs = l.clone().cast_to(Jsonb)?;
    let (func, rhs, ty) = match op {
        B::Arrow | B::LongArrow => {
            let func = if *op == B::Arrow {
                Func::JsonGet
            } else {
                Func::JsonGetText
            };
            let ty = if *op == B::Arrow { Jsonb } else { Text };
            let rhs = match r.ty {
                _ if r.unknown => r.clone().cast_to(Text)?,
                Int16 | Int32 => r.clone().cast_to(Int32)?,
                t if t.is_string() => r.clone().cast_to(Text)?,
                _ => return Err(no_operator()),
            };
            (func, rhs, ty)
        }
        B::HashArrow | B::HashLongArrow => {
            if !(r.unknown || r.ty.is_string()) {
                return Err(no_operator());
            }
            let func = if *op == B::HashArrow {
                Func::JsonPath
            } else {
                Func::JsonPathText
            };
            let ty = if *op == B::HashArrow { Jsonb } else { Text };
            (func, r.clone().cast_to(Text)?, ty)
        }
        B::AtArrow | B::ArrowAt | B::StringConcat => {
            if !(r.unknown || r.ty == Jsonb) {
                return Err(no_operator());
            }
            let (func, ty) = match op {
                B::AtArrow => (Func::JsonContains, Bool),
                B::ArrowAt => (Func::JsonContained, Bool),
                _ => (Func::JsonConcat, Jsonb),
            };
            (func, r.clone().cast_to(Jsonb)?, ty)
        }
        _ => {
            if !(r.unknown || r.ty.is_string()) {
                return Err(no_operator());
            }
            (Func::JsonHasKey, r.clone().cast_to(Text)?, Bool)
        }
    };
    Ok(Some(Typed::new(Expr::Call(func, vec![lhs, rhs]), ty)))
}

/// A function from `builtins`: arguments cast to its signature's types.
fn bind_builtin(name: &str, func: Func, bound: Vec<Typed>) -> SqlResult<Typed> {
    let types: Vec<ScalarType> = bound.iter().map(|b| b.ty).collect();
    let Some((params, ret)) = crate::builtins::signature(func, &types) else {
        return Err(no_function(name, bound.len()));
    };
    if params.len() != bound.len() {
        return Err(no_function(name, bound.len()));
    }
    let mut exprs = vec![];
    for (b, p) in bound.into_iter().zip(&params) {
        if !(b.unknown
            || b.ty == *p
            || (b.ty.is_numeric() && p.is_numeric())
            || (b.ty.is_string() && p.is_string())
            || matches!(
                (b.ty, p),
                (
                    ScalarType::Date,
                    ScalarType::Timestamp | ScalarType::TimestampTz
                ) | (ScalarType::Timestamp, ScalarType::TimestampTz)
            ))
        {
            return Err(SqlError::new(
                sqlstate::UNDEFINED_FUNCTION,
                format!("function {name}({}) does not exist", types.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")),
            )
            .with_hint("No function matches the given name and argument types. You might need to add explicit type casts."));
        }
        exprs.push(b.cast_to(*p)?);
    }
    // calendar fields of a timestamptz are those of its local time in the
    // session's zone
    let zone = crate::coerce::session_zone();
    if zone != catalog::zone::Zone::Utc && params.get(1) == Some(&ScalarType::TimestampTz) {
        let local =
            |e: Expr| Expr::Call(Func::TzToLocal, vec![e, crate::coerce::zone_literal(zone)]);
        let epoch =
            matches!(&exprs[0], Expr::Literal(Datum::Text(f)) if f.eq_ignore_ascii_case("epoch"));
        match func {
            Func::DateTrunc => {
                let x = exprs.pop().expect("two arguments");
                exprs.push(local(x));
                let trunc = Expr::Call(func, exprs);
                return Ok(Typed::new(
                    Expr::Call(
                        Func::TzFromLocal,
                        vec![trunc, crate::coerce::zone_literal(zone)],
                    ),
                    ret,
                ));
            }
            Func::Extract | Func::DatePart if !epoch => {
                let x = exprs.pop().expect("two arguments");
                exprs.push(local(x));
            }
            _ => {}
        }
    }
    if zone != catalog::zone::Zone::Utc
        && func == Func::ToChar
        && params.first() == Some(&ScalarType::TimestampTz)
    {
        exprs[0] = Expr::Call(
            Func::TzToLocal,
            vec![exprs[0].clone(), crate::coerce::zone_literal(zone)],
        );
    }
    Ok(Typed::new(Expr::Call(func, exprs), ret))
}

/// abs, round, trunc, ceil and floor: integers keep their type for abs,
/// otherwise numeric stays numeric and everything else is double.
fn bind_rounding(name: &str, bound: Vec<Typed>) -> SqlResult<Typed> {
    use ScalarType::*;
    let n = bound.len();
    if n == 0 || n > 2 {
        return Err(no_function(name, n));
    }
    let mut it = bound.into_iter();
    let x = it.next().expect("one argument");
    let ty = match x.ty {
        _ if x.unknown => Float64,
        t if t.is_integer() && name == "abs" => t,
        t if t.is_integer() || matches!(t, Numeric(_)) => Numeric(None),
        Float32 if name == "abs" => Float32,
        t if t.is_numeric() => Float64,
        _ => return Err(no_function(name, n)),
    };
    let mut exprs = vec![x.cast_to(ty)?];
    if let Some(p) = it.next() {
        if ty != Numeric(None) {
            return Err(no_function(name, n));
        }
        exprs.push(p.cast_to(Int32)?);
    }
    let func = match name {
        "abs" => Func::Abs,
        "round" => Func::Round,
        "trunc" => Func::Trunc,
        "ceil" | "ceiling" => Func::Ceil,
        _ => Func::Floor,
    };
    Ok(Typed::new(Expr::Call(func, exprs), ty))
}

/// Argument types as PostgreSQL lists them in "function f(…) does not
/// exist": `unknown` for untyped literals.
pub fn arg_types(args: &[Typed]) -> String {
    args.iter().map(arg_type).collect::<Vec<_>>().join(", ")
}

/// One argument's type as PostgreSQL names it in such messages.
fn arg_type(t: &Typed) -> String {
    if t.unknown {
        "unknown".into()
    } else {
        t.ty.name()
    }
}

/// `function name(types) does not exist` (42883) for these arguments.
/// json functions run as their jsonb counterparts (Ripple has no `json`
/// type: the result is jsonb, whose text differs only in spacing and key
/// order).
pub fn json_as_jsonb(name: String) -> String {
    match name.as_str() {
        "json_build_object"
        | "json_build_array"
        | "json_agg"
        | "json_typeof"
        | "json_array_length"
        | "json_array_elements"
        | "json_array_elements_text"
        | "json_each"
        | "json_each_text"
        | "json_object_keys" => {
            format!("jsonb{}", &name["json".len()..])
        }
        "to_json" => "to_jsonb".into(),
        _ => name,
    }
}

/// The binary operator written `sym` (as inside `OPERATOR(…)`).
fn operator_by_symbol(sym: &str) -> Option<ast::BinaryOperator> {
    use ast::BinaryOperator as B;
    [
        B::Plus,
        B::Minus,
        B::Multiply,
        B::Divide,
        B::Modulo,
        B::StringConcat,
        B::Gt,
        B::Lt,
        B::GtEq,
        B::LtEq,
        B::Eq,
        B::NotEq,
        B::PGRegexMatch,
        B::PGRegexIMatch,
        B::PGRegexNotMatch,
        B::PGRegexNotIMatch,
        B::PGLikeMatch,
        B::PGILikeMatch,
        B::PGNotLikeMatch,
        B::PGNotILikeMatch,
        B::Arrow,
        B::LongArrow,
        B::HashArrow,
        B::HashLongArrow,
        B::AtArrow,
        B::ArrowAt,
        B::Question,
    ]
    .into_iter()
    .find(|op| op.to_string() == sym)
}

pub fn no_such_function(name: &str, args: &[Typed]) -> SqlError {
    SqlError::new(
        sqlstate::UNDEFINED_FUNCTION,
        format!("function {name}({}) does not exist", arg_types(args)),
    )
}

fn no_function(name: &str, n: usize) -> SqlError {
    SqlError::new(
        sqlstate::UNDEFINED_FUNCTION,
        format!("function {name}({}) does not exist", vec!["unknown"; n].join(", ")),
    )
    .with_hint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

/// `ts AT TIME ZONE zone` (and `timezone(zone, ts)`): a timestamptz as
/// local time in `zone`, or a local timestamp as the instant it is there.
pub fn at_time_zone(ts: Typed, zone: Typed) -> SqlResult<Typed> {
    use ScalarType::*;
    if !(zone.unknown || zone.ty.is_string()) {
        return Err(SqlError::new(
            sqlstate::UNDEFINED_FUNCTION,
            format!(
                "function timezone({}, {}) does not exist",
                zone.ty.name(),
                ts.ty.name()
            ),
        ));
    }
    let z = zone.cast_to(Text)?;
    // an untyped literal is read as a timestamptz, PostgreSQL's preferred type
    let (func, arg, ret) = match (ts.unknown, ts.ty) {
        (true, _) | (false, TimestampTz) => (Func::TzToLocal, ts.cast_to(TimestampTz)?, Timestamp),
        (false, Timestamp | Date) => (Func::TzFromLocal, ts.cast_to(Timestamp)?, TimestampTz),
        (false, t) => {
            return Err(SqlError::new(
                sqlstate::UNDEFINED_FUNCTION,
                format!("function timezone(text, {}) does not exist", t.name()),
            ))
        }
    };
    let e = Expr::Call(func, vec![arg, z]);
    let e = if e.is_constant() {
        Expr::Literal(e.eval(&catalog::Row::empty())?)
    } else {
        e
    };
    Ok(Typed::new(e, ret))
}

/// Field `name` of the composite `t` (42703 if it has none such; 42809 if
/// `t` is not a composite).
fn record_field(t: Typed, name: &str) -> SqlResult<Typed> {
    let ScalarType::Record(rt) = t.ty else {
        return Err(SqlError::new(
            sqlstate::WRONG_OBJECT_TYPE,
            format!(
                "column notation .{name} applied to type {}, which is not a composite type",
                t.ty.name()
            ),
        ));
    };
    let fields = rt.fields();
    let Some(i) = fields.iter().position(|(f, _)| *f == name) else {
        return Err(SqlError::new(
            sqlstate::UNDEFINED_COLUMN,
            format!("could not identify column \"{name}\" in record data type"),
        ));
    };
    Ok(Typed::new(
        Expr::Call(
            Func::RecordField,
            vec![t.expr, Expr::Literal(Datum::Int32(i as i32))],
        ),
        fields[i].1,
    ))
}

fn negate_if(t: Typed, negated: bool) -> Typed {
    if negated {
        Typed::new(Expr::unary(UnaryOp::Not, t.expr), ScalarType::Bool)
    } else {
        t
    }
}

fn check_castable(t: &Typed, to: ScalarType) -> SqlResult<()> {
    use ScalarType::*;
    let from = t.ty;
    let ok = t.unknown
        || from == to
        || from.is_string()
        || to.is_string()
        || (from.is_numeric() && to.is_numeric())
        || (from == Oid && (to.is_integer() || to == Oid))
        || (from.is_integer() && to == Oid)
        || matches!((from, to), (Bool, Int32) | (Int32, Bool))
        || (from == Jsonb && (to.is_numeric() || to == Bool))
        || matches!((from, to), (Array(_) | Int2Vector, Array(_)))
        || (matches!(from, Date | Timestamp | TimestampTz)
            && matches!(to, Date | Timestamp | TimestampTz))
        || matches!(
            (from, to),
            (Timestamp | TimestampTz | Interval, Time) | (Time, Interval)
        );
    if ok {
        Ok(())
    } else {
        Err(SqlError::new(
            sqlstate::CANNOT_COERCE,
            format!("cannot cast type {} to {}", from.name(), to.name()),
        ))
    }
}

fn binary_op(op: &ast::BinaryOperator) -> SqlResult<(BinaryOp, &'static str)> {
    use ast::BinaryOperator as B;
    Ok(match op {
        B::Plus => (BinaryOp::Add, "+"),
        B::Minus => (BinaryOp::Sub, "-"),
        B::Multiply => (BinaryOp::Mul, "*"),
        B::Divide => (BinaryOp::Div, "/"),
        B::Modulo => (BinaryOp::Mod, "%"),
        B::Eq => (BinaryOp::Eq, "="),
        B::NotEq => (BinaryOp::NotEq, "<>"),
        B::Lt => (BinaryOp::Lt, "<"),
        B::LtEq => (BinaryOp::LtEq, "<="),
        B::Gt => (BinaryOp::Gt, ">"),
        B::GtEq => (BinaryOp::GtEq, ">="),
        B::And => (BinaryOp::And, "AND"),
        B::Or => (BinaryOp::Or, "OR"),
        B::StringConcat => (BinaryOp::Concat, "||"),
        B::BitwiseAnd => (BinaryOp::BitAnd, "&"),
        B::BitwiseOr => (BinaryOp::BitOr, "|"),
        B::PGBitwiseXor => (BinaryOp::BitXor, "#"),
        B::PGBitwiseShiftLeft => (BinaryOp::ShiftLeft, "<<"),
        B::PGBitwiseShiftRight => (BinaryOp::ShiftRight, ">>"),
        other => return Err(SqlError::unsupported(format!("operator {other}"))),
    })
}

pub fn bind_number(n: &str) -> SqlResult<Typed> {
    if !n.contains(['.', 'e', 'E']) {
        if let Ok(i) = n.parse::<i64>() {
            return Ok(match i32::try_from(i) {
                Ok(i) => Typed::new(Expr::Literal(Datum::Int32(i)), ScalarType::Int32),
                Err(_) => Typed::new(Expr::Literal(Datum::Int64(i)), ScalarType::Int64),
            });
        }
    }
    match strconv::parse_numeric(n) {
        Some(d) => Ok(Typed::new(
            Expr::Literal(Datum::Numeric(d)),
            ScalarType::Numeric(None),
        )),
        // Beyond the 28 digits Ripple's numeric holds: keep the value as a double.
        None => {
            let f = strconv::parse_float(n).ok_or_else(|| SqlError::invalid_input("numeric", n))?;
            Ok(Typed::new(
                Expr::Literal(Datum::Float64(catalog::F64(f))),
                ScalarType::Float64,
            ))
        }
    }
}

fn bind_value(v: &Value) -> SqlResult<Typed> {
    match v {
        Value::Number(n, _) => bind_number(n),
        Value::SingleQuotedString(s)
        | Value::EscapedStringLiteral(s)
        | Value::DollarQuotedString(ast::DollarQuotedString { value: s, .. }) => {
            Ok(Typed::unknown_literal(Datum::Text(s.clone())))
        }
        Value::Boolean(b) => Ok(Typed::new(Expr::Literal(Datum::Bool(*b)), ScalarType::Bool)),
        Value::Null => Ok(Typed::unknown_literal(Datum::Null)),
        Value::Placeholder(p) => coerce::bind_param(p),
        other => Err(SqlError::unsupported(format!("literal {other}"))),
    }
}

fn bind_interval_literal(iv: &ast::Interval) -> SqlResult<Typed> {
    let text = match iv.value.as_ref() {
        AstExpr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => s.clone(),
            Value::Number(n, _) => n.clone(),
            other => other.to_string(),
        },
        other => return Err(SqlError::unsupported(format!("INTERVAL {other}"))),
    };
    let text = match (&iv.leading_field, &iv.last_field) {
        (Some(f), None) if !text.trim().contains(' ') && !text.contains(':') => {
            format!("{text} {f}")
        }
        _ => text,
    };
    let d = strconv::parse_datum(&text, ScalarType::Interval)?;
    Ok(Typed::new(Expr::Literal(d), ScalarType::Interval))
}

/// Assignment coercion re-exported for statements.
pub use coerce::assign;
