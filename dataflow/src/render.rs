//! Rendering a `Plan` into differential operators inside one dataflow.
//! Every rendered collection is a pair: the rows, and the evaluation errors
//! met while computing them (errors are data; a worker never panics on user
//! input).

use crate::worker::{ErrTrace, RowTrace};
use catalog::{GlobalId, Row, SqlError};
use differential_dataflow::lattice::Lattice;
use differential_dataflow::operators::arrange::{Arranged, ShutdownButton, TraceAgent};
use differential_dataflow::operators::iterate::Variable;
use differential_dataflow::trace::wrappers::frontier::TraceFrontier;
use differential_dataflow::trace::TraceReader;
use differential_dataflow::AsCollection;
use differential_dataflow::VecCollection;
use planner::aggregate;
use planner::{AggregateFunc, Plan, SortKey};
use std::collections::HashMap;
use timely::dataflow::operators::vec::{Filter, Map as _, ToStream};
use timely::dataflow::operators::CapabilitySet;
use timely::dataflow::Scope;
use timely::order::Product;
use timely::progress::{Antichain, Timestamp};

pub type Coll<'s, T> = VecCollection<'s, T, Row, isize>;
pub type ErrColl<'s, T> = VecCollection<'s, T, SqlError, isize>;
pub type Rows<'s> = Coll<'s, u64>;
pub type Errs<'s> = ErrColl<'s, u64>;

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
    /// Subplans rendered so far: a plan that repeats a subplan (subquery
    /// decorrelation does) shares its operators and state.
    pub memo: HashMap<Plan, Rows<'s>>,
    /// Rounds a WITH RECURSIVE may take before it stops with an error.
    pub max_recursion_rounds: u64,
}

impl<'s> RenderCtx<'s, '_> {
    /// Imports a shared trace into this dataflow as of `as_of`.
    fn import<Tr>(
        &mut self,
        trace: &TraceAgent<Tr>,
        name: String,
    ) -> Arranged<'s, TraceFrontier<TraceAgent<Tr>>>
    where
        Tr: TraceReader<Time = u64> + 'static,
    {
        let (arranged, button) = trace.clone().import_frontier_core(
            self.scope,
            &name,
            Antichain::from_elem(self.as_of),
            Antichain::new(),
        );
        self.buttons.push(button);
        arranged
    }

    fn import_rows(&mut self, id: GlobalId) -> Result<Rows<'s>, SqlError> {
        let rows = self.imports.rows;
        let (trace, is_index) = rows
            .get(&id)
            .ok_or_else(|| SqlError::internal(format!("collection {id} is not available")))?;
        let is_index = *is_index;
        Ok(self
            .import(trace, format!("Import {id}"))
            .as_collection(move |k: &Row, v: &Row| if is_index { v.clone() } else { k.clone() }))
    }

    fn import_errs(&mut self, id: GlobalId) {
        let errs = self.imports.errs;
        if let Some(trace) = errs.get(&id) {
            let arranged = self.import(trace, format!("ImportErrors {id}"));
            self.errs
                .push(arranged.as_collection(|k: &SqlError, _: &()| k.clone()));
        }
    }

    /// Renders `plan`, returning its rows; errors accumulate in `self.errs`.
    pub fn render(&mut self, plan: &Plan) -> Result<Rows<'s>, SqlError> {
        render_plan(self, plan)
    }

    /// WITH RECURSIVE: the parts of `step` that do not read the recursive
    /// reference render here and enter the loop; the rest renders inside
    /// an iterative scope whose variable holds the rows so far.
    fn render_recursive(
        &mut self,
        id: usize,
        base: &Plan,
        step: &Plan,
        distinct: bool,
    ) -> Result<Rows<'s>, SqlError> {
        let base = self.render(base)?;
        let mut outside = HashMap::new();
        self.render_outside(step, id, &mut outside)?;
        let outer = self.scope;
        let max = self.max_recursion_rounds;
        let (rows, errs) = outer.iterative::<u64, _, _>(|inner| {
            let (variable, rec) = Variable::new(inner, Product::new(0, 1));
            let mut cx = LoopCtx {
                id,
                rec,
                outside: outside
                    .into_iter()
                    .map(|(k, c)| (k, c.enter(inner)))
                    .collect(),
                errs: vec![],
                memo: HashMap::new(),
            };
            let step = render_plan(&mut cx, step)?;
            let next = base.enter(inner).concat(step);
            let next = if distinct {
                next.distinct()
            } else {
                next.consolidate()
            };
            // A recursion that has not converged after `max` rounds stops
            // there and reports an error (PostgreSQL would run on).
            let overflow = next
                .inner
                .clone()
                .flat_map(move |(_, t, _): (Row, Product<u64, u64>, isize)| {
                    (t.inner >= max).then(|| (recursion_limit(max), t, 1))
                })
                .as_collection();
            cx.errs.push(overflow);
            variable.set(
                next.inner
                    .clone()
                    .filter(move |(_, t, _)| t.inner < max)
                    .as_collection(),
            );
            let errs: Vec<Errs<'s>> = cx.errs.into_iter().map(|e| e.leave(outer)).collect();
            Ok::<_, SqlError>((next.leave(outer), errs))
        })?;
        self.errs.extend(errs);
        Ok(rows)
    }

    /// Renders the largest subplans of `step` that do not read
    /// `RecRef { id }`, keyed by their address in `step`.
    fn render_outside(
        &mut self,
        plan: &Plan,
        id: usize,
        out: &mut HashMap<usize, Rows<'s>>,
    ) -> Result<(), SqlError> {
        if !plan.reads_rec(id) {
            out.insert(plan as *const Plan as usize, self.render(plan)?);
            return Ok(());
        }
        let mut children = vec![];
        plan.visit_children(&mut |c| children.push(c));
        for c in children {
            self.render_outside(c, id, out)?;
        }
        Ok(())
    }
}

fn recursion_limit(max: u64) -> SqlError {
    SqlError::new(
        catalog::sqlstate::PROGRAM_LIMIT_EXCEEDED,
        format!("recursive query did not converge within {max} iterations"),
    )
    .with_hint("Raise the server's --max-recursion-rounds, or bound the recursion.")
}

impl<'s> Render<'s, u64> for RenderCtx<'s, '_> {
    fn special(&mut self, plan: &Plan) -> Option<Result<Rows<'s>, SqlError>> {
        Some(match plan {
            Plan::Get { id, .. } => {
                self.import_errs(*id);
                self.import_rows(*id)
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
                Ok(updates.to_stream(self.scope).as_collection())
            }
            Plan::Join {
                left,
                right,
                on,
                right_index: Some(ix),
            } => self.render_index_join(left, right, on, *ix),
            Plan::Recursive {
                id,
                base,
                step,
                distinct,
            } => self.render_recursive(*id, base, step, *distinct),
            Plan::RecRef { id, .. } => Err(SqlError::internal(format!(
                "recursive reference {id} outside its query"
            ))),
            Plan::Temporal { input, bounds } => self.render_temporal(input, bounds),
            _ => return None,
        })
    }

    fn errs(&mut self) -> &mut Vec<Errs<'s>> {
        &mut self.errs
    }

    fn memo(&mut self) -> &mut HashMap<Plan, Rows<'s>> {
        &mut self.memo
    }
}

impl<'s> RenderCtx<'s, '_> {
    /// A temporal filter: each update of a row is moved to the time its
    /// lower bounds let it in, and undone at the time its upper bounds
    /// shut it out, both at (future) logical times in milliseconds. The
    /// arrangement downstream holds them until the clock passes.
    fn render_temporal(
        &mut self,
        input: &Plan,
        bounds: &[planner::TimeBound],
    ) -> Result<Rows<'s>, SqlError> {
        let rows = self.render(input)?;
        let bounds = bounds.to_vec();
        let results = rows
            .inner
            .flat_map(move |(row, t, d)| {
                let (mut lower, mut upper) = (t, u64::MAX);
                for b in &bounds {
                    let micros = match b.expr.eval(&row) {
                        Ok(catalog::Datum::Timestamp(us) | catalog::Datum::TimestampTz(us)) => us,
                        // compared with NULL: never true
                        Ok(catalog::Datum::Null) => return vec![],
                        Ok(other) => {
                            let e = SqlError::internal(format!(
                                "a temporal filter bound is not a timestamp: {other:?}"
                            ));
                            return vec![(Err(e), t, d)];
                        }
                        Err(e) => return vec![(Err(e), t, d)],
                    };
                    let ms = u64::try_from(b.boundary_ms(micros)).unwrap_or(0);
                    if b.lower {
                        lower = lower.max(ms);
                    } else {
                        upper = upper.min(ms);
                    }
                }
                match upper {
                    u if u <= lower => vec![],
                    u64::MAX => vec![(Ok(row), lower, d)],
                    u => vec![(Ok(row.clone()), lower, d), (Ok(row), u, -d)],
                }
            })
            .as_collection();
        Ok(split(self, results))
    }

    /// A join whose right side is an index: the left side probes the
    /// index's shared arrangement.
    fn render_index_join(
        &mut self,
        left: &Plan,
        right: &Plan,
        on: &[(usize, usize)],
        ix: GlobalId,
    ) -> Result<Rows<'s>, SqlError> {
        let lkeys: Vec<usize> = on.iter().map(|(l, _)| *l).collect();
        let l = self.render(left)?.map(move |r| (join_key(&r, &lkeys), r));
        let rows = self.imports.rows;
        let (trace, _) = rows
            .get(&ix)
            .ok_or_else(|| SqlError::internal(format!("index {ix} is not available")))?;
        let arranged = self.import(trace, format!("ImportIndex {ix}"));
        if let Plan::Get { id, .. } = right {
            self.import_errs(*id);
        }
        Ok(l.join_core(arranged, |_k, a: &Row, b: &Row| Some(a.concat(b))))
    }
}

/// The inside of a WITH RECURSIVE loop: the recursive reference, and the
/// subplans rendered outside and entered.
struct LoopCtx<'s> {
    id: usize,
    rec: Coll<'s, Product<u64, u64>>,
    outside: HashMap<usize, Coll<'s, Product<u64, u64>>>,
    errs: Vec<ErrColl<'s, Product<u64, u64>>>,
    memo: HashMap<Plan, Coll<'s, Product<u64, u64>>>,
}

impl<'s> Render<'s, Product<u64, u64>> for LoopCtx<'s> {
    fn special(&mut self, plan: &Plan) -> Option<Result<Coll<'s, Product<u64, u64>>, SqlError>> {
        if let Some(c) = self.outside.get(&(plan as *const Plan as usize)) {
            return Some(Ok(c.clone()));
        }
        match plan {
            Plan::RecRef { id, .. } if *id == self.id => Some(Ok(self.rec.clone())),
            Plan::Get { .. } | Plan::Constant { .. } | Plan::RecRef { .. } => Some(Err(
                SqlError::internal("a leaf of a recursive step was not rendered outside the loop"),
            )),
            Plan::Recursive { .. } => Some(Err(SqlError::unsupported(
                "WITH RECURSIVE inside the recursive term of another WITH RECURSIVE",
            ))),
            Plan::Temporal { .. } => Some(Err(SqlError::unsupported(
                "a temporal filter (now() in WHERE) inside the recursive term of WITH RECURSIVE",
            ))),
            _ => None,
        }
    }

    fn errs(&mut self) -> &mut Vec<ErrColl<'s, Product<u64, u64>>> {
        &mut self.errs
    }

    fn memo(&mut self) -> &mut HashMap<Plan, Coll<'s, Product<u64, u64>>> {
        &mut self.memo
    }
}

/// A scope plans render in: it renders the nodes that depend on where the
/// rendering happens (sources, index joins, recursion) and keeps errors.
pub trait Render<'s, T: Timestamp + Lattice> {
    /// Renders `plan` if this scope renders it specially.
    fn special(&mut self, plan: &Plan) -> Option<Result<Coll<'s, T>, SqlError>>;
    /// Error streams met so far.
    fn errs(&mut self) -> &mut Vec<ErrColl<'s, T>>;
    /// Subplans already rendered in this scope.
    fn memo(&mut self) -> &mut HashMap<Plan, Coll<'s, T>>;
}

/// Splits results into rows and errors, keeping the errors.
fn split<'s, T: Timestamp + Lattice>(
    cx: &mut impl Render<'s, T>,
    results: VecCollection<'s, T, Result<Row, SqlError>, isize>,
) -> Coll<'s, T> {
    cx.errs().push(results.clone().flat_map(|r| r.err()));
    results.flat_map(|r| r.ok())
}

/// As `split`, for keyed results.
fn split_pairs<'s, T: Timestamp + Lattice>(
    cx: &mut impl Render<'s, T>,
    results: VecCollection<'s, T, (Row, Result<Row, SqlError>), isize>,
) -> VecCollection<'s, T, (Row, Row), isize> {
    cx.errs().push(results.clone().flat_map(|(_, r)| r.err()));
    results.flat_map(|(k, r)| r.ok().map(|v| (k, v)))
}

/// Renders `plan` in `cx`'s scope.
fn render_plan<'s, T, C>(cx: &mut C, plan: &Plan) -> Result<Coll<'s, T>, SqlError>
where
    T: Timestamp + Lattice,
    C: Render<'s, T>,
{
    if let Some(done) = cx.memo().get(plan) {
        return Ok(done.clone());
    }
    let rows = render_node(cx, plan)?;
    cx.memo().insert(plan.clone(), rows.clone());
    Ok(rows)
}

/// Renders `plan` itself, its inputs through `render_plan`.
fn render_node<'s, T, C>(cx: &mut C, plan: &Plan) -> Result<Coll<'s, T>, SqlError>
where
    T: Timestamp + Lattice,
    C: Render<'s, T>,
{
    if let Some(special) = cx.special(plan) {
        return special;
    }
    Ok(match plan {
        Plan::Get { .. }
        | Plan::Constant { .. }
        | Plan::Recursive { .. }
        | Plan::RecRef { .. }
        | Plan::Temporal { .. } => {
            return Err(SqlError::internal("node not rendered by its scope"))
        }
        Plan::Map { input, exprs } => {
            let exprs = exprs.clone();
            let rows = render_plan(cx, input)?;
            let results = rows.map(move |mut row| {
                for e in &exprs {
                    let v = e.eval(&row)?;
                    row.push(v);
                }
                Ok(row)
            });
            split(cx, results)
        }
        Plan::FlatMap { input, func, exprs } => {
            let (func, exprs) = (*func, exprs.clone());
            let rows = render_plan(cx, input)?;
            let results = rows.flat_map(move |row| {
                let args: Result<Vec<_>, SqlError> = exprs.iter().map(|e| e.eval(&row)).collect();
                match args.and_then(|a| func.eval(&a)) {
                    Ok(out) => out.into_iter().map(|r| Ok(row.concat(&r))).collect(),
                    Err(e) => vec![Err(e)],
                }
            });
            split(cx, results)
        }
        Plan::Filter { input, predicates } => {
            let preds = predicates.clone();
            let rows = render_plan(cx, input)?;
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
            split(cx, results)
        }
        Plan::Project { input, outputs } => {
            let outputs = outputs.clone();
            render_plan(cx, input)?.map(move |r| r.project(&outputs))
        }
        Plan::Join {
            left, right, on, ..
        } => {
            let lkeys: Vec<usize> = on.iter().map(|(l, _)| *l).collect();
            let rkeys: Vec<usize> = on.iter().map(|(_, r)| *r).collect();
            let l = render_plan(cx, left)?.map(move |r| (join_key(&r, &lkeys), r));
            let r = render_plan(cx, right)?.map(move |r| (join_key(&r, &rkeys), r));
            l.join_map(r, |_k, a: &Row, b: &Row| a.concat(b))
        }
        Plan::Reduce {
            input,
            group_key,
            aggregates,
        } => {
            let keys = group_key.clone();
            // each aggregate's argument, then every aggregate's extra
            // arguments, as `aggregate::evaluate` reads them
            let cols: Vec<usize> = aggregates
                .iter()
                .map(|a| &a.expr)
                .chain(aggregates.iter().flat_map(|a| a.extra.iter()))
                .map(|e| match e {
                    planner::Expr::Column(c) => *c,
                    _ => usize::MAX,
                })
                .collect();
            if cols.contains(&usize::MAX) {
                return Err(SqlError::internal("aggregate argument is not a column"));
            }
            let pairs = render_plan(cx, input)?.map(move |r| (r.project(&keys), r.project(&cols)));
            let grouped = reduce_aggregates(cx, pairs, aggregates);
            let results = grouped.map(|(k, v)| v.map(|a| k.concat(&a)));
            split(cx, results)
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
            let mut pairs = render_plan(cx, input)?.map(move |r| (r.project(&keys), r));
            // With a limit, each stage keeps only the top rows of a hash
            // bucket, so a change re-sorts a bucket, not the group.
            if let Some(limit) = limit {
                for modulus in BUCKETS {
                    let order = order.clone();
                    pairs = pairs
                        .map(move |(k, r)| (with_bucket(k, &r, modulus), r))
                        .reduce(
                            move |_k, vals: &[(&Row, isize)], out: &mut Vec<(Row, isize)>| {
                                let keep = offset.saturating_add(limit).min(isize::MAX as usize);
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
        Plan::Window {
            input,
            partition,
            order,
            calls,
        } => {
            let keys = partition.clone();
            let (order, calls) = (order.clone(), calls.clone());
            let results = render_plan(cx, input)?
                .map(move |r| (r.project(&keys), r))
                .reduce(
                    move |_k,
                          vals: &[(&Row, isize)],
                          out: &mut Vec<(Result<Row, SqlError>, isize)>| {
                        match crate::window::evaluate(vals, &order, &calls) {
                            Ok(rows) => out.extend(rows.into_iter().map(|(r, n)| (Ok(r), n))),
                            Err(e) => out.push((Err(e), 1)),
                        }
                    },
                )
                .map(|(_k, r)| r);
            split(cx, results)
        }
        Plan::Distinct { input } => render_plan(cx, input)?.distinct(),
        Plan::Negate { input } => render_plan(cx, input)?.negate(),
        Plan::Threshold { input } => {
            render_plan(cx, input)?.threshold(|_, r| if *r > 0 { *r } else { 0 })
        }
        Plan::Union { inputs } => {
            let mut parts = inputs
                .iter()
                .map(|p| render_plan(cx, p))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter();
            let first = parts
                .next()
                .ok_or_else(|| SqlError::internal("empty union"))?;
            first.concatenate(parts)
        }
    })
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

/// Keyed rows with one value column per aggregate (then their extra
/// columns), and keyed aggregate values.
type KeyedVals<'s, T> = VecCollection<'s, T, (Row, Row), isize>;
type KeyedResults<'s, T> = VecCollection<'s, T, (Row, Result<Row, SqlError>), isize>;

/// How an aggregate is maintained.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AggClass {
    /// count, sum, avg of integers and numerics: in the differences.
    Accumulated,
    /// min, max: in stages over hash buckets.
    Hierarchical,
    /// anything else: one reduce over the group's values.
    Basic,
}

fn agg_class(a: &planner::Aggregate) -> AggClass {
    if aggregate::accumulable(std::slice::from_ref(a)) {
        AggClass::Accumulated
    } else if matches!(a.func, AggregateFunc::Min | AggregateFunc::Max) && !a.distinct {
        AggClass::Hierarchical
    } else {
        AggClass::Basic
    }
}

/// Each group's aggregate values. Accumulable aggregates and min/max each
/// keep their cheap form; a mix of the two computes each class on its own
/// and joins the two on the key (one row per group on each side). Any other
/// aggregate makes the whole reduction one reduce over the group's values.
fn reduce_aggregates<'s, T: Timestamp + Lattice>(
    cx: &mut impl Render<'s, T>,
    pairs: KeyedVals<'s, T>,
    aggs: &[planner::Aggregate],
) -> KeyedResults<'s, T> {
    let classes: Vec<AggClass> = aggs.iter().map(agg_class).collect();
    if aggs.is_empty() || classes.contains(&AggClass::Basic) {
        return reduce_basic(pairs, aggs.to_vec());
    }
    let of = |class| -> Vec<usize> { (0..aggs.len()).filter(|i| classes[*i] == class).collect() };
    let (acc, hier) = (of(AggClass::Accumulated), of(AggClass::Hierarchical));
    if hier.is_empty() {
        return reduce_accumulated(pairs, aggs.to_vec());
    }
    if acc.is_empty() {
        return reduce_hierarchical(cx, pairs, aggs.to_vec());
    }
    // value column i is aggregate i's argument (neither class has extras)
    let part = |idx: &[usize]| {
        let idx = idx.to_vec();
        let subset: Vec<planner::Aggregate> = idx.iter().map(|i| aggs[*i].clone()).collect();
        (
            pairs.clone().map(move |(k, v)| (k, v.project(&idx))),
            subset,
        )
    };
    let (acc_pairs, acc_aggs) = part(&acc);
    let (hier_pairs, hier_aggs) = part(&hier);
    let accumulated = reduce_accumulated(acc_pairs, acc_aggs);
    let hierarchical = reduce_hierarchical(cx, hier_pairs, hier_aggs);
    // the values back in the aggregates' order
    let mut order = vec![0; aggs.len()];
    for (at, i) in acc.iter().chain(hier.iter()).enumerate() {
        order[*i] = at;
    }
    accumulated.join_map(hierarchical, move |k, a, h| {
        let values = match (a, h) {
            (Ok(a), Ok(h)) => Ok(a.concat(h).project(&order)),
            (Err(e), _) | (_, Err(e)) => Err(e.clone()),
        };
        (k.clone(), values)
    })
}

/// One reduce per group over its values.
fn reduce_basic<'s, T: Timestamp + Lattice>(
    pairs: KeyedVals<'s, T>,
    aggs: Vec<planner::Aggregate>,
) -> KeyedResults<'s, T> {
    pairs.reduce(
        move |_k, vals: &[(&Row, isize)], out: &mut Vec<(Result<Row, SqlError>, isize)>| {
            out.push((aggregate::evaluate(&aggs, vals), 1));
        },
    )
}

/// Sums and counts ride in the differences: one arranged entry per group,
/// O(1) work per change.
fn reduce_accumulated<'s, T: Timestamp + Lattice>(
    pairs: KeyedVals<'s, T>,
    aggs: Vec<planner::Aggregate>,
) -> KeyedResults<'s, T> {
    let explode_aggs = aggs.clone();
    pairs
        .explode(move |(k, v)| {
            let mut slots = vec![];
            aggregate::accumulate(&explode_aggs, &v, &mut slots);
            Some((k, crate::accum::Accum::from_pairs(slots)))
        })
        .count()
        .map(move |(k, acc)| {
            let values = aggregate::finish_accumulated(&aggs, |s| acc.get(s));
            (k, values)
        })
}

/// min and max in stages over hash buckets of the values, so a change
/// re-reads a bucket, not the group.
fn reduce_hierarchical<'s, T: Timestamp + Lattice>(
    cx: &mut impl Render<'s, T>,
    mut pairs: KeyedVals<'s, T>,
    aggs: Vec<planner::Aggregate>,
) -> KeyedResults<'s, T> {
    for modulus in BUCKETS {
        let partial = reduce_basic(
            pairs.map(move |(k, v)| (with_bucket(k, &v, modulus), v)),
            aggs.clone(),
        );
        pairs = split_pairs(cx, partial.map(|(kb, v)| (without_bucket(&kb), v)));
    }
    reduce_basic(pairs, aggs)
}

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

pub use planner::plan::compare;

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
