//! Rendering a `Plan` into differential operators inside one dataflow.
//! Every rendered collection is a pair: the rows, and the evaluation errors
//! met while computing them (errors are data; a worker never panics on user
//! input).

use crate::aggregate;
use crate::worker::{ErrTrace, RowTrace};
use catalog::{GlobalId, Row, SqlError};
use differential_dataflow::operators::arrange::ShutdownButton;
use differential_dataflow::AsCollection;
use differential_dataflow::VecCollection;
use planner::{AggregateFunc, Plan, SortKey};
use std::collections::HashMap;
use timely::dataflow::operators::vec::ToStream;
use timely::dataflow::operators::CapabilitySet;
use timely::dataflow::Scope;
use timely::progress::Antichain;

pub type Rows<'s> = VecCollection<'s, u64, Row, isize>;
pub type Errs<'s> = VecCollection<'s, u64, SqlError, isize>;

/// Traces a dataflow may import: the arrangement of each table, view and
/// index, and its error arrangement if it has one.
pub struct Imports<'a> {
    pub rows: &'a HashMap<GlobalId, (RowTrace, bool)>,
    pub errs: &'a HashMap<GlobalId, ErrTrace>,
}

/// State of one rendering.
pub struct RenderCtx<'s, 'a> {
    pub scope: Scope<'s, u64>,
    pub as_of: u64,
    pub imports: Imports<'a>,
    pub worker_index: usize,
    /// Error streams met so far.
    pub errs: Vec<Errs<'s>>,
    /// Kept alive with the dataflow; dropping them does not stop it.
    pub buttons: Vec<ShutdownButton<CapabilitySet<u64>>>,
}

impl<'s> RenderCtx<'s, '_> {
    fn import_rows(&mut self, id: GlobalId) -> Result<Rows<'s>, SqlError> {
        let (trace, is_index) = self
            .imports
            .rows
            .get(&id)
            .ok_or_else(|| SqlError::internal(format!("collection {id} is not available")))?;
        let mut trace = trace.clone();
        let (arranged, button) = trace.import_frontier_core(
            self.scope,
            &format!("Import {id}"),
            Antichain::from_elem(self.as_of),
            Antichain::new(),
        );
        self.buttons.push(button);
        let is_index = *is_index;
        Ok(arranged
            .as_collection(move |k: &Row, v: &Row| if is_index { v.clone() } else { k.clone() }))
    }

    fn import_errs(&mut self, id: GlobalId) {
        if let Some(trace) = self.imports.errs.get(&id) {
            let mut trace = trace.clone();
            let (arranged, button) = trace.import_frontier_core(
                self.scope,
                &format!("ImportErrors {id}"),
                Antichain::from_elem(self.as_of),
                Antichain::new(),
            );
            self.buttons.push(button);
            self.errs
                .push(arranged.as_collection(|k: &SqlError, _: &()| k.clone()));
        }
    }

    /// As `split`, for keyed results.
    fn split_pairs(
        &mut self,
        results: VecCollection<'s, u64, (Row, Result<Row, SqlError>), isize>,
    ) -> VecCollection<'s, u64, (Row, Row), isize> {
        self.errs.push(results.clone().flat_map(|(_, r)| r.err()));
        results.flat_map(|(k, r)| r.ok().map(|v| (k, v)))
    }

    /// Splits results into rows and errors, keeping the errors.
    fn split(&mut self, results: VecCollection<'s, u64, Result<Row, SqlError>, isize>) -> Rows<'s> {
        self.errs.push(results.clone().flat_map(|r| r.err()));
        results.flat_map(|r| r.ok())
    }

    /// Renders `plan`, returning its rows; errors accumulate in `self.errs`.
    pub fn render(&mut self, plan: &Plan) -> Result<Rows<'s>, SqlError> {
        Ok(match plan {
            Plan::Get { id, .. } => {
                self.import_errs(*id);
                self.import_rows(*id)?
            }
            Plan::Constant { rows, .. } => {
                // Worker 0 holds the rows; the source finishes at once.
                let updates: Vec<(Row, u64, isize)> = if self.worker_index == 0 {
                    rows.iter()
                        .map(|(r, d)| (r.clone(), self.as_of, *d))
                        .collect()
                } else {
                    vec![]
                };
                updates.to_stream(self.scope).as_collection()
            }
            Plan::Map { input, exprs } => {
                let exprs = exprs.clone();
                let rows = self.render(input)?;
                let results = rows.map(move |mut row| {
                    for e in &exprs {
                        let v = e.eval(&row)?;
                        row.push(v);
                    }
                    Ok(row)
                });
                self.split(results)
            }
            Plan::Filter { input, predicates } => {
                let preds = predicates.clone();
                let rows = self.render(input)?;
                let results = rows.flat_map(move |row| {
                    for p in &preds {
                        match p.eval_predicate(&row) {
                            Ok(true) => {}
                            Ok(false) => return None,
                            Err(e) => return Some(Err(e)),
                        }
                    }
                    Some(Ok(row))
                });
                self.split(results)
            }
            Plan::Project { input, outputs } => {
                let outputs = outputs.clone();
                self.render(input)?.map(move |r| r.project(&outputs))
            }
            Plan::Join {
                left,
                right,
                on,
                right_index,
            } => {
                let lkeys: Vec<usize> = on.iter().map(|(l, _)| *l).collect();
                let rkeys: Vec<usize> = on.iter().map(|(_, r)| *r).collect();
                let l = self.render(left)?.map(move |r| (join_key(&r, &lkeys), r));
                match right_index {
                    Some(ix) => {
                        let (trace, _) = self.imports.rows.get(ix).ok_or_else(|| {
                            SqlError::internal(format!("index {ix} is not available"))
                        })?;
                        let mut trace = trace.clone();
                        let (arranged, button) = trace.import_frontier_core(
                            self.scope,
                            &format!("ImportIndex {ix}"),
                            Antichain::from_elem(self.as_of),
                            Antichain::new(),
                        );
                        self.buttons.push(button);
                        if let Plan::Get { id, .. } = right.as_ref() {
                            self.import_errs(*id);
                        }
                        l.join_core(arranged, |_k, a: &Row, b: &Row| Some(a.concat(b)))
                    }
                    None => {
                        let r = self.render(right)?.map(move |r| (join_key(&r, &rkeys), r));
                        l.join_map(r, |_k, a: &Row, b: &Row| a.concat(b))
                    }
                }
            }
            Plan::Reduce {
                input,
                group_key,
                aggregates,
            } => {
                let keys = group_key.clone();
                let cols: Vec<usize> = aggregates
                    .iter()
                    .map(|a| match a.expr {
                        planner::Expr::Column(c) => c,
                        _ => usize::MAX,
                    })
                    .collect();
                if cols.contains(&usize::MAX) {
                    return Err(SqlError::internal("aggregate argument is not a column"));
                }
                let aggs = aggregates.clone();
                let mut pairs = self
                    .render(input)?
                    .map(move |r| (r.project(&keys), r.project(&cols)));
                // min and max reduce in stages over hash buckets of the
                // values, so a change re-reads a bucket, not the group
                let hierarchical = !aggs.is_empty()
                    && aggs.iter().all(|a| {
                        matches!(a.func, AggregateFunc::Min | AggregateFunc::Max) && !a.distinct
                    });
                if hierarchical {
                    for modulus in BUCKETS {
                        let aggs = aggs.clone();
                        let partial = pairs
                            .map(move |(k, v)| (with_bucket(k, &v, modulus), v))
                            .reduce(move |_k, vals: &[(&Row, isize)], out: &mut Vec<(Result<Row, SqlError>, isize)>| {
                                out.push((aggregate::evaluate(&aggs, vals), 1));
                            });
                        pairs = self.split_pairs(partial.map(|(kb, v)| (without_bucket(&kb), v)));
                    }
                }
                let grouped = pairs.reduce(
                    move |_k,
                          vals: &[(&Row, isize)],
                          out: &mut Vec<(Result<Row, SqlError>, isize)>| {
                        out.push((aggregate::evaluate(&aggs, vals), 1));
                    },
                );
                let results = grouped.map(|(k, v)| v.map(|a| k.concat(&a)));
                self.split(results)
            }
            Plan::TopK {
                input,
                group_key,
                order,
                limit,
                offset,
            } => {
                let keys = group_key.clone();
                let (order, limit, offset) = (order.clone(), *limit, *offset);
                let mut pairs = self.render(input)?.map(move |r| (r.project(&keys), r));
                // With a limit, each stage keeps only the top rows of a hash
                // bucket, so a change re-sorts a bucket, not the group.
                if let Some(limit) = limit {
                    for modulus in BUCKETS {
                        let order = order.clone();
                        pairs = pairs
                            .map(move |(k, r)| (with_bucket(k, &r, modulus), r))
                            .reduce(
                                move |_k, vals: &[(&Row, isize)], out: &mut Vec<(Row, isize)>| {
                                    let keep =
                                        offset.saturating_add(limit).min(isize::MAX as usize);
                                    top_k(vals, &order, Some(keep), 0, out);
                                },
                            )
                            .map(|(kb, r)| (without_bucket(&kb), r));
                    }
                }
                pairs
                    .reduce(
                        move |_k, vals: &[(&Row, isize)], out: &mut Vec<(Row, isize)>| {
                            top_k(vals, &order, limit, offset, out);
                        },
                    )
                    .map(|(_k, r)| r)
            }
            Plan::Distinct { input } => self.render(input)?.distinct(),
            Plan::Negate { input } => self.render(input)?.negate(),
            Plan::Threshold { input } => self
                .render(input)?
                .threshold(|_, r| if *r > 0 { *r } else { 0 }),
            Plan::Union { inputs } => {
                let mut parts = inputs
                    .iter()
                    .map(|p| self.render(p))
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter();
                let first = parts
                    .next()
                    .ok_or_else(|| SqlError::internal("empty union"))?;
                first.concatenate(parts)
            }
        })
    }
}

/// The columns `keys` of `row` as a join key: numerics by value, so that
/// `1.5` meets `1.50` as SQL's `=` says (index arrangements use the same).
pub fn join_key(row: &Row, keys: &[usize]) -> Row {
    Row::new(keys.iter().map(|k| row.get(*k).normalized()).collect())
}

/// Bucket counts of the stages of hierarchical min/max and Top-K: a change
/// costs about group size / 4096 + 3 × 16 rows of work instead of the
/// group's size.
const BUCKETS: [u64; 3] = [4096, 256, 16];

/// `key` with the hash bucket of `value` appended.
fn with_bucket(mut key: Row, value: &Row, modulus: u64) -> Row {
    use std::hash::{Hash, Hasher};
    // a fixed-key hasher: every worker and every run buckets alike
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    key.push(catalog::Datum::Int64((h.finish() % modulus) as i64));
    key
}

/// `key` without the bucket `with_bucket` appended.
fn without_bucket(key: &Row) -> Row {
    let n = key.len().saturating_sub(1);
    key.project(&(0..n).collect::<Vec<_>>())
}

/// Compares rows by sort keys with PostgreSQL's NULL placement.
pub fn compare(a: &Row, b: &Row, order: &[SortKey]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for k in order {
        let (x, y) = (a.get(k.column), b.get(k.column));
        let o = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if k.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, true) => {
                if k.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            _ => {
                let o = x.cmp(y);
                if k.desc {
                    o.reverse()
                } else {
                    o
                }
            }
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn top_k(
    vals: &[(&Row, isize)],
    order: &[SortKey],
    limit: Option<usize>,
    offset: usize,
    out: &mut Vec<(Row, isize)>,
) {
    let mut sorted: Vec<(&Row, isize)> = vals.to_vec();
    sorted.sort_by(|a, b| compare(a.0, b.0, order).then_with(|| a.0.cmp(b.0)));
    let mut skip = offset as isize;
    let mut room = limit.map(|l| l as isize).unwrap_or(isize::MAX);
    for (row, n) in sorted {
        let mut n = n;
        let skipped = n.min(skip);
        skip -= skipped;
        n -= skipped;
        let take = n.min(room);
        if take > 0 {
            out.push((row.clone(), take));
            room -= take;
        }
        if room == 0 {
            break;
        }
    }
}
