//! Statements other than queries: DDL, DML, transactions, SET/SHOW.

use crate::bind::{bind_type, object_name, Binder};
use crate::bind_expr::{assign, ident_name, ExprCtx};
use crate::expr::Expr;
use crate::plan::{Plan, ReadPlan, RoleOptions, StatementPlan};
use crate::scope::Scope;
use catalog::{sqlstate, Column, ItemKind, Row, Schema, SqlError, SqlResult};
use sqlparser::ast::{self, Statement};

impl Binder<'_> {
    /// A query's read: its optimized plan, result columns and finishing
    /// (for SELECT and COPY … TO).
    pub(crate) fn read_plan(&self, q: &ast::Query) -> SqlResult<ReadPlan> {
        let (rel, finishing) = self.bind_top_query(q)?;
        let columns = rel.scope.columns()[..finishing.project.len()].to_vec();
        Ok(ReadPlan {
            plan: crate::optimize::optimize(rel.plan),
            columns,
            finishing,
        })
    }

    /// Plans one parsed statement.
    pub fn plan_statement(&self, stmt: &Statement) -> SqlResult<StatementPlan> {
        match stmt {
            Statement::Query(q) if select_into(q).is_some() => self.plan_select_into(q),
            Statement::Query(q) => Ok(StatementPlan::Select(self.read_plan(q)?)),
            Statement::Copy {
                source,
                to,
                target,
                options,
                legacy_options,
                ..
            } => self.plan_copy(source, *to, target, options, legacy_options),
            Statement::CreateTable(ct) => self.plan_create_table(ct),
            Statement::CreateView(cv) => self.plan_create_view(cv),
            Statement::CreateIndex(ci) => self.plan_create_index(ci),
            Statement::Insert(ins) => self.plan_insert(ins),
            Statement::Update(u) => self.plan_update(u),
            Statement::Delete(d) => self.plan_delete(d),
            Statement::Drop {
                object_type,
                if_exists,
                names,
                cascade,
                ..
            } => self.plan_drop(object_type, *if_exists, names, *cascade),
            Statement::StartTransaction { .. } => Ok(StatementPlan::Begin),
            Statement::Commit { .. } => Ok(StatementPlan::Commit),
            Statement::Rollback {
                savepoint: None, ..
            } => Ok(StatementPlan::Rollback),
            Statement::Rollback {
                savepoint: Some(name),
                ..
            } => Ok(StatementPlan::RollbackTo {
                name: ident_name(name),
            }),
            Statement::Savepoint { name } => Ok(StatementPlan::Savepoint {
                name: ident_name(name),
            }),
            Statement::ReleaseSavepoint { name } => Ok(StatementPlan::Release {
                name: ident_name(name),
            }),
            Statement::Deallocate { name, .. } => Ok(StatementPlan::Deallocate {
                name: match ident_name(name).as_str() {
                    "all" if name.quote_style.is_none() => None,
                    n => Some(n.to_string()),
                },
            }),
            Statement::Explain {
                statement,
                analyze: false,
                ..
            } => {
                let inner = self.plan_statement(statement)?;
                let text = match &inner {
                    StatementPlan::Select(r) => {
                        crate::explain::explain(&r.plan, Some(&r.finishing))
                    }
                    StatementPlan::CreateView { plan, .. } => crate::explain::explain(plan, None),
                    _ => return Err(SqlError::unsupported("EXPLAIN of this statement")),
                };
                Ok(StatementPlan::Explain(text))
            }
            Statement::Set(set) => plan_set(set),
            Statement::ShowVariable { variable } => {
                let name = variable
                    .iter()
                    .map(ident_name)
                    .collect::<Vec<_>>()
                    .join(" ");
                Ok(StatementPlan::Show { name })
            }
            Statement::ShowTables { .. } => Ok(StatementPlan::ShowObjects {
                kind: ItemKind::Table,
            }),
            Statement::Reset(r) => Ok(StatementPlan::Reset {
                name: format!("{r}").trim_start_matches("RESET ").to_lowercase(),
            }),
            Statement::Discard { .. } => Ok(StatementPlan::Discard),
            Statement::CreateRole(cr) => self.plan_create_role(cr),
            Statement::Truncate(t) => {
                let mut tables = vec![];
                for target in &t.table_names {
                    let name = object_name(&target.name)?;
                    let item = self.catalog.resolve(&name)?;
                    if item.kind != ItemKind::Table {
                        return Err(SqlError::new(
                            sqlstate::WRONG_OBJECT_TYPE,
                            format!("\"{name}\" is not a table"),
                        ));
                    }
                    let id = item.id;
                    if !tables.contains(&id) {
                        tables.push(id);
                    }
                }
                Ok(StatementPlan::Truncate { tables })
            }
            Statement::AlterRole { name, operation } => self.plan_alter_role(name, operation),
            other => Err(SqlError::unsupported(format!(
                "statement \"{}\"",
                first_words(&other.to_string())
            ))),
        }
    }

    /// `SELECT … INTO t FROM …`: CREATE TABLE t AS the query without INTO.
    fn plan_select_into(&self, q: &ast::Query) -> SqlResult<StatementPlan> {
        let mut query = q.clone();
        let ast::SetExpr::Select(select) = query.body.as_mut() else {
            return Err(SqlError::internal("SELECT INTO without a SELECT"));
        };
        let Some(into) = select.into.take() else {
            return Err(SqlError::internal("SELECT INTO without INTO"));
        };
        let name = match into.targets.as_slice() {
            [ast::Expr::Identifier(i)] => ident_name(i),
            [ast::Expr::CompoundIdentifier(ids)] => {
                object_name(&ast::ObjectName::from(ids.clone()))?
            }
            _ => {
                return Err(SqlError::new(
                    sqlstate::SYNTAX_ERROR,
                    "SELECT INTO takes one table name",
                ))
            }
        };
        self.plan_create_table_as(name, &[], &query, false)
    }

    /// CREATE TABLE name [(columns)] AS query: a table with the query's
    /// columns (renamed by `names`), filled with its rows.
    fn plan_create_table_as(
        &self,
        name: String,
        names: &[String],
        query: &ast::Query,
        if_not_exists: bool,
    ) -> SqlResult<StatementPlan> {
        let (rel, finishing) = self.bind_top_query(query)?;
        let mut columns: Vec<Column> = rel.scope.columns()[..finishing.project.len()].to_vec();
        if names.len() > columns.len() {
            return Err(SqlError::new(
                sqlstate::SYNTAX_ERROR,
                "too many column names were specified",
            ));
        }
        for (c, n) in columns.iter_mut().zip(names) {
            c.name = n.clone();
        }
        for c in columns.iter_mut() {
            c.nullable = true;
        }
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].iter().any(|x| x.name == c.name) {
                return Err(SqlError::new(
                    sqlstate::DUPLICATE_COLUMN,
                    format!("column \"{}\" specified more than once", c.name),
                ));
            }
        }
        Ok(StatementPlan::CreateTableAs {
            name,
            read: ReadPlan {
                plan: crate::optimize::optimize(rel.plan),
                columns: columns.clone(),
                finishing,
            },
            schema: Schema::new(columns),
            if_not_exists,
        })
    }

    fn plan_create_table(&self, ct: &ast::CreateTable) -> SqlResult<StatementPlan> {
        let name = object_name(&ct.name)?;
        if let Some(q) = &ct.query {
            let names: Vec<String> = ct.columns.iter().map(|c| ident_name(&c.name)).collect();
            return self.plan_create_table_as(name, &names, q, ct.if_not_exists);
        }
        let mut columns: Vec<Column> = vec![];
        let mut defaults = vec![];
        for c in &ct.columns {
            let cname = ident_name(&c.name);
            if columns.iter().any(|x| x.name == cname) {
                return Err(SqlError::new(
                    sqlstate::DUPLICATE_COLUMN,
                    format!("column \"{cname}\" specified more than once"),
                ));
            }
            let ty = bind_type(&c.data_type)?;
            let mut nullable = true;
            let mut default = None;
            for o in &c.options {
                match &o.option {
                    ast::ColumnOption::Null => nullable = true,
                    ast::ColumnOption::NotNull | ast::ColumnOption::PrimaryKey(_) => {
                        nullable = false
                    }
                    ast::ColumnOption::Default(e) => {
                        // Check the default binds and fits the column now.
                        let t = self.bind_expr(
                            e,
                            ExprCtx {
                                scope: &Scope::default(),
                                agg: None,
                                clause: "DEFAULT expressions",
                            },
                        )?;
                        assign(t, ty, &cname)?;
                        default = Some(e.to_string());
                    }
                    ast::ColumnOption::Unique(_)
                    | ast::ColumnOption::Check(_)
                    | ast::ColumnOption::ForeignKey(_) => {
                        return Err(SqlError::unsupported(
                            "UNIQUE, CHECK and FOREIGN KEY constraints",
                        ))
                    }
                    _ => {}
                }
            }
            columns.push(Column {
                name: cname,
                ty,
                nullable,
                origin: None,
            });
            defaults.push(default);
        }
        for tc in &ct.constraints {
            match tc {
                ast::TableConstraint::PrimaryKey(pk) => {
                    for col in &pk.columns {
                        let n = col.column.expr.to_string().to_lowercase();
                        let c = columns
                            .iter_mut()
                            .find(|c| c.name == n)
                            .ok_or_else(|| SqlError::undefined_column(&n))?;
                        c.nullable = false;
                    }
                }
                _ => {
                    return Err(SqlError::unsupported(
                        "table constraints other than PRIMARY KEY",
                    ))
                }
            }
        }
        Ok(StatementPlan::CreateTable {
            name,
            schema: Schema::new(columns),
            defaults,
            if_not_exists: ct.if_not_exists,
        })
    }

    fn plan_create_view(&self, cv: &ast::CreateView) -> SqlResult<StatementPlan> {
        let name = object_name(&cv.name)?;
        // Views are re-planned from their text; now() is not allowed in them.
        let binder = Binder::with_session(self.catalog, None, self.session);
        // and in UTC, as when they are re-planned at restart
        let rel =
            crate::coerce::with_zone(catalog::zone::Zone::Utc, || binder.bind_query(&cv.query))?;
        if cv.materialized && binder.system_used.get() {
            return Err(SqlError::unsupported(
                "materialized views over system catalogs (pg_catalog, information_schema)",
            ));
        }
        let mut columns = rel.scope.columns();
        if !cv.columns.is_empty() {
            if cv.columns.len() > columns.len() {
                return Err(SqlError::new(
                    sqlstate::SYNTAX_ERROR,
                    "CREATE VIEW specifies more column names than columns",
                ));
            }
            for (c, n) in columns.iter_mut().zip(&cv.columns) {
                c.name = ident_name(&n.name);
            }
        }
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].iter().any(|x| x.name == c.name) {
                return Err(SqlError::new(
                    sqlstate::DUPLICATE_COLUMN,
                    format!("column \"{}\" specified more than once", c.name),
                ));
            }
        }
        let depends = binder.used.borrow().clone();
        Ok(StatementPlan::CreateView {
            name,
            columns,
            plan: crate::optimize::optimize(rel.plan),
            sql: cv.query.to_string(),
            depends,
            materialized: cv.materialized,
            if_not_exists: cv.if_not_exists,
            or_replace: cv.or_replace,
        })
    }

    fn plan_create_index(&self, ci: &ast::CreateIndex) -> SqlResult<StatementPlan> {
        let on_name = object_name(&ci.table_name)?;
        let on = self.catalog.resolve(&on_name)?;
        if on.kind == ItemKind::Index {
            return Err(SqlError::new(
                sqlstate::WRONG_OBJECT_TYPE,
                format!("\"{on_name}\" is an index"),
            ));
        }
        if ci.unique {
            return Err(SqlError::unsupported("UNIQUE indexes"));
        }
        if ci.predicate.is_some() {
            return Err(SqlError::unsupported(
                "partial indexes (CREATE INDEX … WHERE)",
            ));
        }
        if !ci.include.is_empty() {
            return Err(SqlError::unsupported("INCLUDE columns in indexes"));
        }
        // An arrangement serves both equality lookups and ordered scans, so
        // btree and hash both map to it; other access methods do not.
        match &ci.using {
            None | Some(ast::IndexType::BTree) | Some(ast::IndexType::Hash) => {}
            Some(other) => {
                return Err(SqlError::unsupported(format!(
                    "index access method \"{other}\""
                )))
            }
        }
        let scope = Scope::from_columns(Some(&on_name), &on.schema.columns);
        let mut keys = vec![];
        for c in &ci.columns {
            let t = self.bind_expr(
                &c.column.expr,
                ExprCtx {
                    scope: &scope,
                    agg: None,
                    clause: "index expressions",
                },
            )?;
            match t.expr {
                Expr::Column(i) => keys.push(i),
                _ => return Err(SqlError::unsupported("index on an expression")),
            }
        }
        let name = match &ci.name {
            Some(n) => object_name(n)?,
            None => {
                let cols: Vec<&str> = keys
                    .iter()
                    .map(|k| on.schema.columns[*k].name.as_str())
                    .collect();
                format!("{}_{}_idx", on_name, cols.join("_"))
            }
        };
        Ok(StatementPlan::CreateIndex {
            name,
            on: on.id,
            keys,
            if_not_exists: ci.if_not_exists,
        })
    }

    fn table_target(&self, name: &str) -> SqlResult<&catalog::CatalogItem> {
        let item = self.catalog.resolve(name)?;
        if item.kind != ItemKind::Table {
            return Err(SqlError::new(
                sqlstate::WRONG_OBJECT_TYPE,
                format!("cannot change {} \"{}\"", item.kind.noun(), name),
            ));
        }
        Ok(item)
    }

    fn plan_insert(&self, ins: &ast::Insert) -> SqlResult<StatementPlan> {
        let ast::TableObject::TableName(tname) = &ins.table else {
            return Err(SqlError::unsupported("INSERT into a table function"));
        };
        if ins.returning.is_some() || ins.on.is_some() {
            return Err(SqlError::unsupported("INSERT … RETURNING / ON CONFLICT"));
        }
        let name = object_name(tname)?;
        let table = self.table_target(&name)?;
        let cols = &table.schema.columns;
        let targets = target_columns(
            &name,
            cols,
            ins.columns.iter().map(|c| {
                c.0.last()
                    .and_then(|p| p.as_ident())
                    .map(ident_name)
                    .unwrap_or_default()
            }),
        )?;
        let defaults = match &table.detail {
            catalog::ItemDetail::Table { defaults } => defaults.clone(),
            _ => vec![None; cols.len()],
        };
        let Some(source) = ins.source.as_ref() else {
            // DEFAULT VALUES
            let exprs = cols
                .iter()
                .enumerate()
                .map(|(i, c)| self.default_expr(defaults.get(i).cloned().flatten(), c))
                .collect::<SqlResult<Vec<_>>>()?;
            let plan = Plan::constant_row(Row::empty())
                .map(exprs)
                .project((0..cols.len()).collect());
            return Ok(StatementPlan::Insert {
                table: table.id,
                source: fold_constant(plan),
            });
        };
        if let (ast::SetExpr::Values(values), None, None) =
            (source.body.as_ref(), &source.order_by, &source.limit_clause)
        {
            return self.plan_insert_values(table, &targets, &defaults, values);
        }
        let rel = self.bind_query(source)?;
        if rel.scope.len() > targets.len() {
            return Err(SqlError::syntax(
                "INSERT has more expressions than target columns",
            ));
        }
        if rel.scope.len() < targets.len() && !ins.columns.is_empty() {
            return Err(SqlError::syntax(
                "INSERT has more target columns than expressions",
            ));
        }
        // One expression per table column: the source value, the DEFAULT, or NULL.
        let arity = rel.scope.len();
        let mut exprs = vec![];
        for (ci, col) in cols.iter().enumerate() {
            let e = match targets.iter().position(|t| *t == ci).filter(|p| *p < arity) {
                Some(p) => {
                    let item = &rel.scope.items[p];
                    let t = crate::coerce::Typed::new(Expr::Column(p), item.ty);
                    assign(t, col.ty, &col.name)?
                }
                None => self.default_expr(defaults.get(ci).cloned().flatten(), col)?,
            };
            exprs.push(e);
        }
        let source = rel
            .plan
            .map(exprs)
            .project((arity..arity + cols.len()).collect());
        Ok(StatementPlan::Insert {
            table: table.id,
            source: fold_constant(crate::optimize::optimize(source)),
        })
    }

    /// INSERT … VALUES: each value is typed by its target column, as
    /// PostgreSQL resolves literals in VALUES; `DEFAULT` takes the default.
    fn plan_insert_values(
        &self,
        table: &catalog::CatalogItem,
        targets: &[usize],
        defaults: &[Option<String>],
        values: &ast::Values,
    ) -> SqlResult<StatementPlan> {
        let cols = &table.schema.columns;
        let empty = Scope::default();
        let ctx = ExprCtx {
            scope: &empty,
            agg: None,
            clause: "VALUES",
        };
        let mut rows = vec![];
        let width = values.rows.first().map(|r| r.content.len()).unwrap_or(0);
        for r in &values.rows {
            if r.content.len() != width {
                return Err(SqlError::syntax("VALUES lists must all be the same length"));
            }
            if r.content.len() > targets.len() {
                return Err(SqlError::syntax(
                    "INSERT has more expressions than target columns",
                ));
            }
            if r.content.len() < targets.len() && targets.len() != cols.len() {
                return Err(SqlError::syntax(
                    "INSERT has more target columns than expressions",
                ));
            }
            let mut datums = vec![];
            for (ci, col) in cols.iter().enumerate() {
                let given = targets
                    .iter()
                    .position(|t| *t == ci)
                    .and_then(|p| r.content.get(p));
                let expr = match given {
                    Some(ast::Expr::Identifier(id))
                        if id.quote_style.is_none() && id.value.eq_ignore_ascii_case("default") =>
                    {
                        self.default_expr(defaults.get(ci).cloned().flatten(), col)?
                    }
                    Some(e) => assign(self.bind_expr(e, ctx)?, col.ty, &col.name)?,
                    None => self.default_expr(defaults.get(ci).cloned().flatten(), col)?,
                };
                datums.push(expr.eval(&Row::empty())?);
            }
            rows.push((Row::new(datums), 1));
        }
        Ok(StatementPlan::Insert {
            table: table.id,
            source: Plan::Constant {
                rows: std::sync::Arc::new(rows),
                arity: cols.len(),
            },
        })
    }

    pub(crate) fn default_expr(&self, sql: Option<String>, col: &Column) -> SqlResult<Expr> {
        match sql {
            None => Ok(Expr::Literal(catalog::Datum::Null)),
            Some(sql) => {
                let e = crate::parse_expr(&sql)?;
                let t = self.bind_expr(
                    &e,
                    ExprCtx {
                        scope: &Scope::default(),
                        agg: None,
                        clause: "DEFAULT expressions",
                    },
                )?;
                assign(t, col.ty, &col.name)
            }
        }
    }

    fn plan_update(&self, u: &ast::Update) -> SqlResult<StatementPlan> {
        if u.from.is_some() || u.returning.is_some() || !u.table.joins.is_empty() {
            return Err(SqlError::unsupported("UPDATE … FROM / RETURNING"));
        }
        let (name, alias) = match &u.table.relation {
            ast::TableFactor::Table { name, alias, .. } => (
                object_name(name)?,
                alias.as_ref().map(|a| ident_name(&a.name)),
            ),
            _ => return Err(SqlError::unsupported("UPDATE of this target")),
        };
        let table = self.table_target(&name)?;
        let scope = Scope::from_columns(
            Some(alias.as_deref().unwrap_or(&name)),
            &table.schema.columns,
        );
        let ctx = ExprCtx {
            scope: &scope,
            agg: None,
            clause: "UPDATE",
        };
        let mut assignments: Vec<Expr> = (0..scope.len()).map(Expr::Column).collect();
        for a in &u.assignments {
            let target = match &a.target {
                ast::AssignmentTarget::ColumnName(n) => {
                    n.0.last()
                        .and_then(|p| p.as_ident())
                        .map(ident_name)
                        .unwrap_or_default()
                }
                _ => return Err(SqlError::unsupported("UPDATE of a column tuple")),
            };
            let i = table
                .schema
                .columns
                .iter()
                .position(|c| c.name == target)
                .ok_or_else(|| {
                    SqlError::new(
                        sqlstate::UNDEFINED_COLUMN,
                        format!("column \"{target}\" of relation \"{name}\" does not exist"),
                    )
                })?;
            if crate::bind_expr::contains_aggregate(&a.value) {
                return Err(SqlError::new(
                    sqlstate::GROUPING_ERROR,
                    "aggregate functions are not allowed in UPDATE",
                ));
            }
            let col = &table.schema.columns[i];
            let value = match &a.value {
                ast::Expr::Identifier(id)
                    if id.value.eq_ignore_ascii_case("default") && id.quote_style.is_none() =>
                {
                    let defaults = match &table.detail {
                        catalog::ItemDetail::Table { defaults } => {
                            defaults.get(i).cloned().flatten()
                        }
                        _ => None,
                    };
                    self.default_expr(defaults, col)?
                }
                v => assign(self.bind_expr(v, ctx)?, col.ty, &col.name)?,
            };
            assignments[i] = value;
        }
        let predicate = u
            .selection
            .as_ref()
            .map(|w| {
                self.bind_expr(
                    w,
                    ExprCtx {
                        clause: "WHERE",
                        ..ctx
                    },
                )?
                .into_bool("WHERE")
            })
            .transpose()?;
        Ok(StatementPlan::Update {
            table: table.id,
            predicate,
            assignments,
        })
    }

    fn plan_delete(&self, d: &ast::Delete) -> SqlResult<StatementPlan> {
        let from = match &d.from {
            ast::FromTable::WithFromKeyword(f) | ast::FromTable::WithoutKeyword(f) => f,
        };
        if from.len() != 1
            || d.using.is_some()
            || d.returning.is_some()
            || !from[0].joins.is_empty()
        {
            return Err(SqlError::unsupported("DELETE … USING / RETURNING"));
        }
        let (name, alias) = match &from[0].relation {
            ast::TableFactor::Table { name, alias, .. } => (
                object_name(name)?,
                alias.as_ref().map(|a| ident_name(&a.name)),
            ),
            _ => return Err(SqlError::unsupported("DELETE of this target")),
        };
        let table = self.table_target(&name)?;
        let scope = Scope::from_columns(
            Some(alias.as_deref().unwrap_or(&name)),
            &table.schema.columns,
        );
        let ctx = ExprCtx {
            scope: &scope,
            agg: None,
            clause: "WHERE",
        };
        let predicate = d
            .selection
            .as_ref()
            .map(|w| self.bind_expr(w, ctx)?.into_bool("WHERE"))
            .transpose()?;
        Ok(StatementPlan::Delete {
            table: table.id,
            predicate,
        })
    }

    fn plan_create_role(&self, cr: &ast::CreateRole) -> SqlResult<StatementPlan> {
        let [name] = cr.names.as_slice() else {
            return Err(SqlError::new(
                sqlstate::SYNTAX_ERROR,
                "CREATE ROLE takes one role name",
            ));
        };
        let name = object_name(name)?;
        if name == "public" || name == "none" {
            return Err(SqlError::new(
                sqlstate::RESERVED_NAME,
                format!("role name \"{name}\" is reserved"),
            ));
        }
        if name.starts_with("pg_") {
            return Err(SqlError::new(
                sqlstate::RESERVED_NAME,
                format!("role name \"{name}\" is reserved"),
            )
            .with_detail("Role names starting with \"pg_\" are reserved."));
        }
        let options = RoleOptions {
            superuser: cr.superuser,
            login: cr.login,
            create_role: cr.create_role,
            create_db: cr.create_db,
            password: cr.password.as_ref().map(role_password).transpose()?,
        };
        self.check_role_privilege("create", &options)?;
        if name == catalog::system::OWNER || self.catalog.role(&name).is_some() {
            return Err(SqlError::new(
                sqlstate::DUPLICATE_OBJECT,
                format!("role \"{name}\" already exists"),
            ));
        }
        Ok(StatementPlan::CreateRole { name, options })
    }

    fn plan_alter_role(
        &self,
        name: &ast::Ident,
        op: &ast::AlterRoleOperation,
    ) -> SqlResult<StatementPlan> {
        let name = ident_name(name);
        if name != catalog::system::OWNER && self.catalog.role(&name).is_none() {
            return Err(role_missing(&name));
        }
        let mut options = RoleOptions::default();
        let mut rename = None;
        match op {
            ast::AlterRoleOperation::WithOptions { options: given } => {
                for o in given {
                    match o {
                        ast::RoleOption::SuperUser(b) => options.superuser = Some(*b),
                        ast::RoleOption::Login(b) => options.login = Some(*b),
                        ast::RoleOption::CreateRole(b) => options.create_role = Some(*b),
                        ast::RoleOption::CreateDB(b) => options.create_db = Some(*b),
                        ast::RoleOption::Password(p) => options.password = Some(role_password(p)?),
                        // accepted, not enforced (as CREATE ROLE ignores them)
                        ast::RoleOption::Inherit(_)
                        | ast::RoleOption::BypassRLS(_)
                        | ast::RoleOption::Replication(_)
                        | ast::RoleOption::ConnectionLimit(_)
                        | ast::RoleOption::ValidUntil(_) => {}
                    }
                }
            }
            ast::AlterRoleOperation::RenameRole { role_name } => {
                let to = ident_name(role_name);
                if name == catalog::system::OWNER || name == self.session.user() {
                    return Err(SqlError::new(
                        sqlstate::FEATURE_NOT_SUPPORTED,
                        "session user cannot be renamed",
                    ));
                }
                if to == catalog::system::OWNER || self.catalog.role(&to).is_some() {
                    return Err(SqlError::new(
                        sqlstate::DUPLICATE_OBJECT,
                        format!("role \"{to}\" already exists"),
                    ));
                }
                if to.starts_with("pg_") || to == "public" || to == "none" {
                    return Err(SqlError::new(
                        sqlstate::RESERVED_NAME,
                        format!("role name \"{to}\" is reserved"),
                    ));
                }
                rename = Some(to);
            }
            other => return Err(SqlError::unsupported(format!("ALTER ROLE … {other}"))),
        }
        if name == catalog::system::OWNER
            && (options.superuser == Some(false) || options.login == Some(false))
        {
            return Err(SqlError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                format!("the owner role \"{name}\" must remain a superuser that can log in"),
            ));
        }
        // a role may change its own password; anything else needs CREATEROLE,
        // and altering a superuser needs SUPERUSER
        let own_password = name == self.session.user()
            && rename.is_none()
            && options
                == RoleOptions {
                    password: options.password.clone(),
                    ..RoleOptions::default()
                };
        if !own_password {
            self.check_role_privilege("alter", &options)?;
            let target_is_superuser = name == catalog::system::OWNER
                || self.catalog.role(&name).is_some_and(|r| r.superuser);
            let me_superuser = self
                .catalog
                .role(self.session.user())
                .is_none_or(|r| r.superuser);
            if target_is_superuser && !me_superuser {
                return Err(SqlError::new(
                    sqlstate::INSUFFICIENT_PRIVILEGE,
                    "permission denied to alter role",
                )
                .with_detail("Only roles with the SUPERUSER attribute may alter roles with the SUPERUSER attribute."));
            }
        }
        Ok(StatementPlan::AlterRole {
            name,
            options,
            rename,
        })
    }

    fn plan_drop_role(
        &self,
        names: &[ast::ObjectName],
        if_exists: bool,
    ) -> SqlResult<StatementPlan> {
        self.check_role_privilege("drop", &RoleOptions::default())?;
        let mut out = vec![];
        for n in names {
            let name = object_name(n)?;
            if name == self.session.user() {
                return Err(SqlError::new(
                    sqlstate::OBJECT_IN_USE,
                    "current user cannot be dropped",
                ));
            }
            if name == catalog::system::OWNER {
                return Err(SqlError::new(
                    sqlstate::DEPENDENT_OBJECTS_STILL_EXIST,
                    format!("role \"{name}\" cannot be dropped because some objects depend on it"),
                ));
            }
            if self.catalog.role(&name).is_none() {
                if if_exists {
                    continue;
                }
                return Err(role_missing(&name));
            }
            if !out.contains(&name) {
                out.push(name);
            }
        }
        Ok(StatementPlan::DropRole { names: out })
    }

    /// Only superusers and roles with CREATEROLE manage roles, and only
    /// superusers grant SUPERUSER. A user that is not a role (trusted
    /// connections under any name) counts as a superuser.
    fn check_role_privilege(&self, verb: &str, options: &RoleOptions) -> SqlResult<()> {
        let Some(me) = self.catalog.role(self.session.user()) else {
            return Ok(());
        };
        if me.superuser {
            return Ok(());
        }
        if !me.create_role {
            return Err(SqlError::new(
                sqlstate::INSUFFICIENT_PRIVILEGE,
                format!("permission denied to {verb} role"),
            )
            .with_detail("Only roles with the CREATEROLE attribute may manage roles."));
        }
        if options.superuser.is_some() {
            return Err(SqlError::new(
                sqlstate::INSUFFICIENT_PRIVILEGE,
                format!("permission denied to {verb} role"),
            )
            .with_detail(
                "Only roles with the SUPERUSER attribute may change the SUPERUSER attribute.",
            ));
        }
        Ok(())
    }

    fn plan_drop(
        &self,
        ty: &ast::ObjectType,
        if_exists: bool,
        names: &[ast::ObjectName],
        cascade: bool,
    ) -> SqlResult<StatementPlan> {
        if *ty == ast::ObjectType::Role {
            return self.plan_drop_role(names, if_exists);
        }
        let kind = match ty {
            ast::ObjectType::Table => ItemKind::Table,
            ast::ObjectType::View => ItemKind::View,
            ast::ObjectType::MaterializedView => ItemKind::MaterializedView,
            ast::ObjectType::Index => ItemKind::Index,
            other => return Err(SqlError::unsupported(format!("DROP {other}"))),
        };
        self.plan_drop_kind(kind, if_exists, names, cascade)
    }

    /// DROP of items of `kind` (CASCADE: with every item that uses them).
    pub(crate) fn plan_drop_kind(
        &self,
        kind: ItemKind,
        if_exists: bool,
        names: &[ast::ObjectName],
        cascade: bool,
    ) -> SqlResult<StatementPlan> {
        let mut ids = vec![];
        let mut missing = vec![];
        for n in names {
            let name = object_name(n)?;
            let Some(item) = self.catalog.get_by_name(&name) else {
                if if_exists {
                    missing.push(name);
                    continue;
                }
                let noun = kind.noun();
                let code = if kind == ItemKind::Index {
                    sqlstate::UNDEFINED_OBJECT
                } else {
                    sqlstate::UNDEFINED_TABLE
                };
                return Err(SqlError::new(
                    code,
                    format!("{noun} \"{name}\" does not exist"),
                ));
            };
            if item.kind != kind {
                let e = SqlError::new(
                    sqlstate::WRONG_OBJECT_TYPE,
                    format!("\"{name}\" is not a {}", kind.noun()),
                );
                return Err(e.with_hint(format!(
                    "Use DROP {} to remove a {}.",
                    item.kind.noun().to_uppercase(),
                    item.kind.noun()
                )));
            }
            // Indexes go with their relation, as in PostgreSQL; anything else
            // that uses it needs CASCADE. Name a direct dependent, as PostgreSQL does.
            let blocking = self
                .catalog
                .direct_dependents(item.id)
                .into_iter()
                .find(|d| {
                    let dep = self.catalog.get(*d).expect("listed by the catalog");
                    !(dep.kind == ItemKind::Index && dep.uses == vec![item.id])
                });
            if let (Some(d), false) = (blocking, cascade) {
                let dep = self.catalog.get(d).expect("listed by the catalog");
                return Err(SqlError::new(
                    sqlstate::DEPENDENT_OBJECTS_STILL_EXIST,
                    format!(
                        "cannot drop {} {} because other objects depend on it",
                        item.kind.noun(),
                        name
                    ),
                )
                .with_detail(format!(
                    "{} {} depends on {} {}",
                    dep.kind.noun(),
                    dep.name,
                    item.kind.noun(),
                    name
                ))
                .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
            }
            for id in self.catalog.drop_order(item.id) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        Ok(StatementPlan::Drop { ids, missing, kind })
    }
}

/// The positions of the columns an INSERT or COPY names (all of them when
/// it names none), with PostgreSQL's errors for unknown and repeated names.
pub(crate) fn target_columns(
    table: &str,
    cols: &[Column],
    names: impl ExactSizeIterator<Item = String>,
) -> SqlResult<Vec<usize>> {
    if names.len() == 0 {
        return Ok((0..cols.len()).collect());
    }
    let mut t = vec![];
    for n in names {
        let i = cols.iter().position(|x| x.name == n).ok_or_else(|| {
            SqlError::new(
                sqlstate::UNDEFINED_COLUMN,
                format!("column \"{n}\" of relation \"{table}\" does not exist"),
            )
        })?;
        if t.contains(&i) {
            return Err(SqlError::new(
                sqlstate::DUPLICATE_COLUMN,
                format!("column \"{n}\" specified more than once"),
            ));
        }
        t.push(i);
    }
    Ok(t)
}

/// Evaluates a plan made only of constants (INSERT … VALUES) now.
fn fold_constant(plan: Plan) -> Plan {
    fn eval(plan: &Plan) -> Option<Vec<(Row, isize)>> {
        match plan {
            Plan::Constant { rows, .. } => Some(rows.to_vec()),
            Plan::Map { input, exprs } => {
                let rows = eval(input)?;
                let mut out = vec![];
                for (r, d) in rows {
                    let mut datums = r.datums().to_vec();
                    for e in exprs {
                        let v = e.eval(&Row::new(datums.clone())).ok()?;
                        datums.push(v);
                    }
                    out.push((Row::new(datums), d));
                }
                Some(out)
            }
            Plan::Project { input, outputs } => Some(
                eval(input)?
                    .into_iter()
                    .map(|(r, d)| (r.project(outputs), d))
                    .collect(),
            ),
            _ => None,
        }
    }
    match eval(&plan) {
        Some(rows) => Plan::Constant {
            rows: std::sync::Arc::new(rows),
            arity: plan.arity(),
        },
        None => plan,
    }
}

fn plan_set(set: &ast::Set) -> SqlResult<StatementPlan> {
    let value_text = |values: &[ast::Expr]| -> String {
        values
            .iter()
            .map(|v| match v {
                ast::Expr::Value(v) => match &v.value {
                    ast::Value::SingleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                },
                ast::Expr::Identifier(i) => i.value.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match set {
        ast::Set::SingleAssignment {
            variable, values, ..
        } => {
            let name = variable.to_string().to_lowercase();
            Ok(StatementPlan::Set {
                name,
                value: value_text(values),
            })
        }
        ast::Set::SetTimeZone { value, .. } => Ok(StatementPlan::Set {
            name: "timezone".into(),
            value: value_text(std::slice::from_ref(value)),
        }),
        ast::Set::SetNames { charset_name, .. } => Ok(StatementPlan::Set {
            name: "client_encoding".into(),
            value: charset_name.to_string(),
        }),
        ast::Set::SetTransaction { .. } => Ok(StatementPlan::Noop { tag: "SET".into() }),
        other => Err(SqlError::unsupported(format!("SET form \"{other}\""))),
    }
}

fn first_words(s: &str) -> String {
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn role_missing(name: &str) -> SqlError {
    SqlError::new(
        sqlstate::UNDEFINED_OBJECT,
        format!("role \"{name}\" does not exist"),
    )
}

/// `PASSWORD 'text'` or `PASSWORD NULL`; an empty password clears it, as
/// in PostgreSQL.
fn role_password(p: &ast::Password) -> SqlResult<Option<String>> {
    match p {
        ast::Password::NullPassword => Ok(None),
        ast::Password::Password(ast::Expr::Value(v)) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::EscapedStringLiteral(s) => {
                Ok((!s.is_empty()).then(|| s.clone()))
            }
            ast::Value::Null => Ok(None),
            _ => Err(SqlError::new(
                sqlstate::SYNTAX_ERROR,
                "a password must be a string constant",
            )),
        },
        _ => Err(SqlError::new(
            sqlstate::SYNTAX_ERROR,
            "a password must be a string constant",
        )),
    }
}

/// The INTO clause of `SELECT … INTO t`, if the query has one.
fn select_into(q: &ast::Query) -> Option<&ast::SelectInto> {
    match q.body.as_ref() {
        ast::SetExpr::Select(s) => s.into.as_ref(),
        _ => None,
    }
}
