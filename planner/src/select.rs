//! The SELECT list, GROUP BY/HAVING, DISTINCT and ORDER BY of one SELECT.

use crate::bind::{ordinal, sort_key, Binder, Rel};
use crate::bind_expr::{ident_name, AggContext, ExprCtx};
use crate::coerce::Typed;
use crate::expr::Expr;
use crate::plan::{Plan, SortKey};
use crate::scope::{Scope, ScopeItem};
use catalog::{sqlstate, ScalarType, SqlError, SqlResult};
use sqlparser::ast::{self, Expr as AstExpr, SelectItem};

/// The column name PostgreSQL gives an unaliased select item.
pub fn derived_name(e: &AstExpr) -> String {
    match e {
        AstExpr::Identifier(i) => ident_name(i),
        AstExpr::CompoundIdentifier(ids) => ids.last().map(ident_name).unwrap_or_default(),
        AstExpr::Function(f) => crate::bind_expr::function_name(f),
        AstExpr::Cast {
            expr, data_type, ..
        } => match expr.as_ref() {
            AstExpr::Identifier(_) | AstExpr::CompoundIdentifier(_) => derived_name(expr),
            _ => cast_name(data_type),
        },
        AstExpr::Nested(inner) => derived_name(inner),
        // (x).field is named after the field; a[i] after the array
        AstExpr::CompoundFieldAccess { root, access_chain } => match access_chain.last() {
            Some(ast::AccessExpr::Dot(AstExpr::Identifier(i))) => ident_name(i),
            _ => derived_name(root),
        },
        AstExpr::Case { .. } => "case".into(),
        AstExpr::AtTimeZone { .. } => "timezone".into(),
        AstExpr::Substring {
            shorthand: true, ..
        } => "substr".into(),
        AstExpr::Trim { trim_where, .. } => match trim_where {
            Some(ast::TrimWhereField::Leading) => "ltrim",
            Some(ast::TrimWhereField::Trailing) => "rtrim",
            _ => "btrim",
        }
        .into(),
        AstExpr::Substring { .. } => "substring".into(),
        _ => "?column?".into(),
    }
}

fn cast_name(t: &ast::DataType) -> String {
    match crate::bind::bind_type(t) {
        Ok(ty) => type_label(ty).into(),
        Err(_) => "?column?".into(),
    }
}

/// The short name PostgreSQL gives a cast's column (`x::int` is `int4`;
/// an array cast is named after its element type).
fn type_label(ty: ScalarType) -> &'static str {
    match ty {
        ScalarType::Bool => "bool",
        ScalarType::Int16 => "int2",
        ScalarType::Int32 => "int4",
        ScalarType::Int64 => "int8",
        ScalarType::Float32 => "float4",
        ScalarType::Float64 => "float8",
        ScalarType::Numeric(_) => "numeric",
        ScalarType::Text => "text",
        ScalarType::Varchar(_) => "varchar",
        ScalarType::Char(_) => "bpchar",
        ScalarType::Date => "date",
        ScalarType::Timestamp => "timestamp",
        ScalarType::TimestampTz => "timestamptz",
        ScalarType::Interval => "interval",
        ScalarType::Jsonb => "jsonb",
        ScalarType::Oid => "oid",
        ScalarType::Int2Vector => "int2vector",
        ScalarType::Uuid => "uuid",
        ScalarType::Bytea => "bytea",
        ScalarType::Time => "time",
        ScalarType::Record(_) => "record",
        ScalarType::Array(e) => type_label(e.scalar()),
    }
}

/// A SELECT with GROUP BY, HAVING or aggregates.
pub fn bind_grouped(
    b: &Binder,
    s: &ast::Select,
    order_by: &[ast::OrderByExpr],
    plan: Plan,
    input: Scope,
    group_exprs: Vec<AstExpr>,
    select_exprs: &[&AstExpr],
) -> SqlResult<(Rel, usize, Vec<SortKey>)> {
    let ctx = ExprCtx {
        scope: &input,
        agg: None,
        clause: "GROUP BY",
    };
    let items: Vec<(&AstExpr, Option<String>)> = s
        .projection
        .iter()
        .filter_map(|p| match p {
            SelectItem::UnnamedExpr(e) => Some((e, None)),
            SelectItem::ExprWithAlias { expr, alias } => Some((expr, Some(ident_name(alias)))),
            _ => None,
        })
        .collect();
    let mut keys: Vec<Typed> = vec![];
    for g in &group_exprs {
        let resolved: &AstExpr = match g {
            AstExpr::Value(v) => {
                let i = ordinal(&v.value, s.projection.len()).map_err(|_| {
                    SqlError::new(
                        sqlstate::INVALID_COLUMN_REFERENCE,
                        format!("GROUP BY position {} is not in select list", v.value),
                    )
                })?;
                match &s.projection[i] {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
                    _ => return Err(SqlError::unsupported("GROUP BY a * position")),
                }
            }
            AstExpr::Identifier(id) if input.resolve(None, &ident_name(id)).is_err() => {
                let name = ident_name(id);
                items
                    .iter()
                    .find(|(_, a)| a.as_deref() == Some(name.as_str()))
                    .map(|(e, _)| *e)
                    .unwrap_or(g)
            }
            other => other,
        };
        if crate::bind_expr::contains_aggregate(resolved) {
            return Err(SqlError::new(
                sqlstate::GROUPING_ERROR,
                "aggregate functions are not allowed in GROUP BY",
            ));
        }
        let t = b.bind_expr(resolved, ctx)?.text_if_unknown()?;
        if !keys.iter().any(|k| k.expr == t.expr) {
            keys.push(t);
        }
    }
    let mut agg_sources: Vec<&AstExpr> = items.iter().map(|(e, _)| *e).collect();
    if let Some(h) = &s.having {
        agg_sources.push(h);
    }
    agg_sources.extend(order_by.iter().map(|o| &o.expr));
    let aggs = b.collect_aggs(&agg_sources, &input)?;
    let base = input.len();
    let mut pre = keys.iter().map(|k| k.expr.clone()).collect::<Vec<_>>();
    pre.extend(aggs.iter().map(|a| a.arg.expr.clone()));
    pre.extend(aggs.iter().flat_map(|a| a.extra.iter().cloned()));
    let reduce = b.lower_reduce(plan.map(pre), base, keys.len(), &aggs);
    // a key that is a column keeps its name, for subqueries that refer to it
    let mut out_items: Vec<ScopeItem> = keys
        .iter()
        .map(|k| match &k.expr {
            Expr::Column(i) => ScopeItem {
                hidden: false,
                ..input.items[*i].clone()
            },
            _ => ScopeItem {
                table: None,
                name: "?column?".into(),
                ty: k.ty,
                nullable: true,
                hidden: false,
                origin: None,
            },
        })
        .collect();
    out_items.extend(aggs.iter().map(|a| ScopeItem {
        table: None,
        name: crate::bind_expr::function_name(&a.ast),
        ty: a.result,
        nullable: true,
        hidden: false,
        origin: None,
    }));
    let agg_ctx = AggContext {
        input: &input,
        keys: keys.into_iter().map(|k| k.expr).collect(),
        aggs,
    };
    // subqueries in the select list, HAVING and ORDER BY read the grouped
    // rows: they become columns after the keys and aggregates
    let grouped = b.attach_subqueries(
        select_exprs,
        Rel {
            plan: reduce,
            scope: Scope { items: out_items },
        },
    )?;
    let out_scope = grouped.scope;
    let mut plan = grouped.plan;
    if let Some(h) = &s.having {
        let hctx = ExprCtx {
            scope: &out_scope,
            agg: Some(&agg_ctx),
            clause: "HAVING",
        };
        let pred = b.bind_expr(h, hctx)?.into_bool("HAVING")?;
        plan = plan.filter(vec![pred]);
    }
    bind_projection(b, s, order_by, plan, &out_scope, Some(&agg_ctx))
}

/// Binds the select list (and ORDER BY columns) over `plan`, whose columns
/// `scope` names. Returns visible columns followed by hidden sort columns.
pub fn bind_projection(
    b: &Binder,
    s: &ast::Select,
    order_by: &[ast::OrderByExpr],
    plan: Plan,
    scope: &Scope,
    agg: Option<&AggContext>,
) -> SqlResult<(Rel, usize, Vec<SortKey>)> {
    let ctx = ExprCtx {
        scope,
        agg,
        clause: "SELECT",
    };
    let plan = b.bind_windows(s, order_by, plan, ctx)?;
    let mut exprs: Vec<Typed> = vec![];
    let mut items: Vec<ScopeItem> = vec![];
    for p in &s.projection {
        match p {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                let t = b.bind_expr(e, ctx)?.text_if_unknown()?;
                let name = match p {
                    SelectItem::ExprWithAlias { alias, .. } => ident_name(alias),
                    _ => derived_name(e),
                };
                // a plain column keeps its table's identity
                let origin = match &t.expr {
                    Expr::Column(i) => scope.items.get(*i).and_then(|it| it.origin),
                    _ => None,
                };
                items.push(ScopeItem {
                    table: None,
                    name,
                    ty: t.ty,
                    nullable: true,
                    hidden: false,
                    origin,
                });
                exprs.push(t);
            }
            SelectItem::ExprWithAliases { .. } => {
                return Err(SqlError::unsupported("multiple aliases for one expression"))
            }
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                let qualifier = match p {
                    SelectItem::QualifiedWildcard(
                        ast::SelectItemQualifiedWildcardKind::ObjectName(n),
                        _,
                    ) => Some(
                        n.0.last()
                            .and_then(|x| x.as_ident())
                            .map(ident_name)
                            .unwrap_or_default(),
                    ),
                    SelectItem::QualifiedWildcard(..) => {
                        return Err(SqlError::unsupported("expression.*"))
                    }
                    _ => None,
                };
                let source = agg.map(|a| a.input).unwrap_or(scope);
                if let Some(q) = &qualifier {
                    if !source
                        .items
                        .iter()
                        .any(|i| i.table.as_deref() == Some(q.as_str()))
                    {
                        return Err(SqlError::new(
                            sqlstate::UNDEFINED_TABLE,
                            format!("missing FROM-clause entry for table \"{q}\""),
                        ));
                    }
                }
                if qualifier.is_none() && source.is_empty() {
                    return Err(SqlError::syntax(
                        "SELECT * with no tables specified is not valid",
                    ));
                }
                for (i, item) in source.items.iter().enumerate() {
                    let wanted = match &qualifier {
                        Some(q) => item.table.as_deref() == Some(q.as_str()),
                        None => !item.hidden,
                    };
                    if !wanted {
                        continue;
                    }
                    let expr = match agg {
                        None => Expr::Column(i),
                        Some(a) => match a.keys.iter().position(|k| *k == Expr::Column(i)) {
                            Some(k) => Expr::Column(k),
                            None => {
                                return Err(SqlError::new(
                                    sqlstate::GROUPING_ERROR,
                                    format!("column \"{}\" must appear in the GROUP BY clause or be used in an aggregate function", item.name),
                                ))
                            }
                        },
                    };
                    items.push(ScopeItem {
                        hidden: false,
                        ..item.clone()
                    });
                    exprs.push(Typed::new(expr, item.ty));
                }
            }
        }
    }
    let visible = exprs.len();
    let (distinct, distinct_on) = match &s.distinct {
        None | Some(ast::Distinct::All) => (false, None),
        Some(ast::Distinct::Distinct) => (true, None),
        Some(ast::Distinct::On(on)) => (false, Some(on)),
    };
    // ORDER BY and DISTINCT ON items: an output ordinal, an output column
    // name, or an expression over the input (added as a hidden column).
    let mut sort_column =
        |e: &AstExpr, clause: &'static str| -> SqlResult<usize> {
            Ok(match e {
                AstExpr::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                    ordinal(&v.value, visible)?
                }
                AstExpr::Identifier(id)
                    if items[..visible]
                        .iter()
                        .filter(|i| i.name == ident_name(id))
                        .count()
                        == 1 =>
                {
                    items
                        .iter()
                        .position(|i| i.name == ident_name(id))
                        .expect("found above")
                }
                e => {
                    let t = b.bind_expr(e, ExprCtx { clause, ..ctx })?;
                    match exprs.iter().position(|x| x.expr == t.expr) {
                        Some(i) => i,
                        None if distinct => return Err(SqlError::new(
                            sqlstate::INVALID_COLUMN_REFERENCE,
                            "for SELECT DISTINCT, ORDER BY expressions must appear in select list",
                        )),
                        None => {
                            items.push(ScopeItem {
                                table: None,
                                name: "?order?".into(),
                                ty: t.ty,
                                nullable: true,
                                hidden: true,
                                origin: None,
                            });
                            exprs.push(t);
                            exprs.len() - 1
                        }
                    }
                }
            })
        };
    let mut order = vec![];
    for o in order_by {
        order.push(sort_key(sort_column(&o.expr, "ORDER BY")?, &o.options));
    }
    let on_columns = match distinct_on {
        Some(on) => Some(
            on.iter()
                .map(|e| sort_column(e, "DISTINCT ON"))
                .collect::<SqlResult<Vec<usize>>>()?,
        ),
        None => None,
    };
    let base = plan.arity();
    let mut outputs = vec![];
    let mut maps = vec![];
    for t in exprs {
        match t.expr {
            Expr::Column(i) => outputs.push(i),
            other => {
                outputs.push(base + maps.len());
                maps.push(other);
            }
        }
    }
    let mut plan = plan.map(maps).project(outputs);
    if distinct {
        plan = plan.distinct();
    }
    if let Some(on) = on_columns {
        // The first row of each group by ORDER BY, which must lead with the
        // DISTINCT ON expressions (PostgreSQL's rule); without ORDER BY any
        // row of the group will do, so take the least.
        let mut leading: Vec<usize> = order.iter().take(on.len()).map(|k| k.column).collect();
        let mut wanted = on.clone();
        leading.sort_unstable();
        leading.dedup();
        wanted.sort_unstable();
        wanted.dedup();
        if !order.is_empty() && leading != wanted {
            return Err(SqlError::new(
                sqlstate::INVALID_COLUMN_REFERENCE,
                "SELECT DISTINCT ON expressions must match initial ORDER BY expressions",
            ));
        }
        let rank = if order.is_empty() {
            (0..plan.arity())
                .map(|column| SortKey {
                    column,
                    desc: false,
                    nulls_first: false,
                })
                .collect()
        } else {
            order.clone()
        };
        plan = Plan::TopK {
            input: Box::new(plan),
            group_key: wanted,
            order: rank,
            limit: Some(1),
            offset: 0,
        };
    }
    Ok((
        Rel {
            plan,
            scope: Scope { items },
        },
        visible,
        order,
    ))
}
