//! EXPLAIN: the plan as dataflow will render it, one operator per line.

use crate::plan::{AggregateFunc, Finishing, Plan};
use std::fmt::Write;

/// Renders `plan` (and the finishing of a read) as indented text.
pub fn explain(plan: &Plan, finishing: Option<&Finishing>) -> String {
    let mut out = String::new();
    let mut depth = 0;
    if let Some(f) = finishing {
        if !f.order.is_empty() || f.limit.is_some() || f.offset > 0 {
            let keys: Vec<String> = f
                .order
                .iter()
                .map(|k| format!("#{}{}", k.column, if k.desc { " desc" } else { "" }))
                .collect();
            let _ = writeln!(
                out,
                "Finish order_by=[{}] limit={} offset={}",
                keys.join(", "),
                f.limit
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "none".into()),
                f.offset
            );
            depth = 1;
        }
    }
    write_plan(plan, depth, &mut out);
    out
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_plan(plan: &Plan, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let line = match plan {
        Plan::Get { id, name, .. } => format!("Get {name} ({id})"),
        Plan::Constant { rows, .. } => format!("Constant rows={}", rows.len()),
        Plan::Map { exprs, .. } => format!("Map {}", list(exprs)),
        Plan::Filter { predicates, .. } => format!("Filter {}", list(predicates)),
        Plan::Temporal { bounds, .. } => format!(
            "TemporalFilter {}",
            bounds
                .iter()
                .map(|b| {
                    let op = match (b.lower, b.strict) {
                        (true, false) => ">=",
                        (true, true) => ">",
                        (false, true) => "<",
                        (false, false) => "<=",
                    };
                    format!("now() {op} {}", b.expr)
                })
                .collect::<Vec<_>>()
                .join(" AND ")
        ),
        Plan::Project { outputs, .. } => format!(
            "Project {}",
            outputs
                .iter()
                .map(|o| format!("#{o}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Plan::Join {
            on, right_index, ..
        } => {
            let keys: Vec<String> = on
                .iter()
                .map(|(l, r)| format!("#{l} = right.#{r}"))
                .collect();
            let state = match right_index {
                Some(i) => format!(" using_index={i} [arranges left by key; reads the index's arrangement]"),
                None => " [arranges both inputs by key]".into(),
            };
            if on.is_empty() {
                format!("CrossJoin{state}")
            } else {
                format!("Join on=[{}]{state}", keys.join(", "))
            }
        }
        Plan::Reduce {
            group_key,
            aggregates,
            ..
        } => {
            let aggs: Vec<String> = aggregates
                .iter()
                .map(|a| {
                    format!(
                        "{:?}({}{})",
                        a.func,
                        if a.distinct { "distinct " } else { "" },
                        a.expr
                    )
                })
                .collect();
            let hierarchical = !aggregates.is_empty()
                && aggregates.iter().all(|a| {
                    matches!(a.func, AggregateFunc::Min | AggregateFunc::Max) && !a.distinct
                });
            format!(
                "Reduce group_by=[{}] aggregates=[{}] [{}]",
                group_key
                    .iter()
                    .map(|k| format!("#{k}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                aggs.join(", "),
                if hierarchical {
                    "hierarchical: arranges hash buckets of each group"
                } else {
                    "arranges input and output by group"
                }
            )
        }
        Plan::TopK {
            group_key,
            limit,
            offset,
            ..
        } => format!(
            "TopK group_by={group_key:?} limit={} offset={offset} [{}]",
            limit.map(|l| l.to_string()).unwrap_or_else(|| "none".into()),
            if limit.is_some() {
                "hierarchical: arranges hash buckets of each group"
            } else {
                "arranges input by group"
            }
        ),
        Plan::Window {
            partition,
            order,
            calls,
            ..
        } => format!(
            "Window partition_by={partition:?} order_by=[{}] calls=[{}] [arranges input and output by partition]",
            order
                .iter()
                .map(|k| format!("#{}{}", k.column, if k.desc { " desc" } else { "" }))
                .collect::<Vec<_>>()
                .join(", "),
            calls
                .iter()
                .map(|c| format!(
                    "{:?}({})",
                    c.func,
                    c.args
                        .iter()
                        .map(|a| format!("#{a}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Plan::FlatMap { func, exprs, .. } => format!(
            "FlatMap {func:?}({})",
            exprs
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Plan::Distinct { .. } => "Distinct [arranges input and output]".into(),
        Plan::Negate { .. } => "Negate".into(),
        Plan::Threshold { .. } => "Threshold [arranges input and output]".into(),
        Plan::Union { .. } => "Union".into(),
        Plan::Recursive { id, distinct, .. } => format!(
            "Recursive id={id} {} [iterates base, then step, to a fixed point]",
            if *distinct { "union" } else { "union all" }
        ),
        Plan::RecRef { id, .. } => format!("RecursiveRef id={id}"),
    };
    let _ = writeln!(out, "{pad}{line}");
    match plan {
        Plan::Get { .. } | Plan::Constant { .. } | Plan::RecRef { .. } => {}
        Plan::Recursive { base, step, .. } => {
            write_plan(base, depth + 1, out);
            write_plan(step, depth + 1, out);
        }
        Plan::Map { input, .. }
        | Plan::Filter { input, .. }
        | Plan::Temporal { input, .. }
        | Plan::Project { input, .. }
        | Plan::Reduce { input, .. }
        | Plan::TopK { input, .. }
        | Plan::Window { input, .. }
        | Plan::FlatMap { input, .. }
        | Plan::Distinct { input }
        | Plan::Negate { input }
        | Plan::Threshold { input } => write_plan(input, depth + 1, out),
        Plan::Join {
            left,
            right,
            right_index,
            ..
        } => {
            write_plan(left, depth + 1, out);
            if right_index.is_some() {
                let _ = writeln!(out, "{}  ArrangedIndex", pad);
            } else {
                write_plan(right, depth + 1, out);
            }
        }
        Plan::Union { inputs } => inputs.iter().for_each(|i| write_plan(i, depth + 1, out)),
    }
}
