//! SQL text → `StatementPlan`. The planner parses with sqlparser's
//! PostgreSQL dialect, binds names and types against the catalog, and lowers
//! queries to the `Plan` operators dataflow renders. Pure: no I/O, no
//! threads, no clock (the statement time is an argument).
//!
//! Stages: [`parse`] → `Binder` ([`bind`], [`select`], [`join`],
//! [`statement`]) → [`plan::StatementPlan`]; [`explain`] prints plans.

pub mod aggregate;
pub mod arrayfn;
pub mod bind;
pub mod bind_expr;
pub mod builtins;
pub mod coerce;
pub mod copy;
pub mod explain;
pub mod expr;
pub mod func;
pub mod join;
pub mod jsonfn;
pub mod optimize;
pub mod plan;
pub mod scope;
pub mod select;
pub mod statement;
pub mod stream;
pub mod subquery;
pub mod syscat;
pub mod table_func;
pub mod temporal;
pub mod textdate;
pub mod window;

pub use bind::{bind_type, Binder};
pub use bind_expr::ident_name;
pub use expr::Expr;
pub use plan::{
    Aggregate, AggregateFunc, Finishing, Frame, FrameBound, Plan, ReadPlan, RoleOptions, SortKey,
    StatementPlan, TimeBound, WindowCall, WindowFunc,
};

use catalog::{sqlstate, Catalog, ItemKind, SqlError, SqlResult, Timestamp};
use sqlparser::ast::Statement;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};

/// One statement of a query string: its parsed form, or a Ripple-specific
/// command sqlparser does not know.
#[derive(Debug, Clone)]
pub enum Parsed {
    Sql(Box<Statement>),
    /// `SHOW MATERIALIZED VIEWS`, `SHOW VIEWS`, `SHOW INDEXES`, `SHOW TABLES`.
    ShowObjects(ItemKind),
    /// `CHECKPOINT`: write a checkpoint now.
    Checkpoint,
    /// `SUBSCRIBE …` or `COPY (SUBSCRIBE …) TO STDOUT`.
    Subscribe(Box<stream::Subscribe>),
    /// `DECLARE name CURSOR FOR SUBSCRIBE …`.
    DeclareSubscribe {
        name: String,
        hold: bool,
        subscribe: Box<stream::Subscribe>,
    },
    /// `FETCH [n|ALL] name WITH (timeout = '…')`: waits up to the timeout
    /// for rows (`count` `None` is ALL).
    FetchWait {
        name: String,
        count: Option<usize>,
        timeout: Option<String>,
    },
    /// `CREATE SOURCE …`.
    CreateSource(Box<stream::CreateSource>),
    /// `DROP SOURCE [IF EXISTS] name, … [CASCADE]`.
    DropSource {
        names: Vec<sqlparser::ast::ObjectName>,
        if_exists: bool,
        cascade: bool,
    },
    /// Rows for a table, read by `COPY t FROM STDIN`: written like an INSERT.
    Rows {
        table: catalog::GlobalId,
        rows: std::sync::Arc<Vec<(catalog::Row, isize)>>,
    },
}

/// Parses a query string into statements. Like PostgreSQL, a syntax error
/// anywhere fails the whole string before anything runs.
pub fn parse(sql: &str) -> SqlResult<Vec<Parsed>> {
    let mut out = vec![];
    let mut rest = vec![];
    // Ripple's own SHOW forms and CHECKPOINT (which sqlparser does not
    // read), recognised as whole statements.
    for piece in split_statements(sql) {
        let norm = piece
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let kind = match norm.trim_end_matches(';').trim() {
            "show materialized views" => Some(ItemKind::MaterializedView),
            "show views" => Some(ItemKind::View),
            "show indexes" | "show indices" => Some(ItemKind::Index),
            "show tables" => Some(ItemKind::Table),
            _ => None,
        };
        let own = match kind {
            Some(k) => Some(Parsed::ShowObjects(k)),
            None if norm.trim_end_matches(';').trim() == "checkpoint" => Some(Parsed::Checkpoint),
            None => None,
        };
        match own {
            Some(p) if rest.is_empty() => out.push(p),
            _ => rest.push(piece),
        }
    }
    if rest.is_empty() {
        return Ok(out);
    }
    if !out.is_empty() {
        // Mixed strings: parse everything with sqlparser (rare).
        out.clear();
    }
    // Streaming statements (SUBSCRIBE and friends): each piece on its own.
    if rest
        .iter()
        .any(|p| stream::parse_stream_statement(p).is_some())
    {
        let mut all = vec![];
        for piece in split_statements(sql) {
            match stream::parse_stream_statement(piece) {
                Some(p) => all.push(p?),
                None => all.extend(parse(piece)?),
            }
        }
        return Ok(all);
    }
    // FETCH [n] cursor: PostgreSQL's FROM/IN is optional, sqlparser's is not
    let fixed: Vec<String> = rest
        .iter()
        .map(|p| ctas_column_names(&user_as_role(&fetch_with_from(p))))
        .collect();
    let rewritten;
    let sql = if fixed.iter().zip(&rest).any(|(f, p)| f != p) {
        rewritten = fixed.join(";");
        rewritten.as_str()
    } else {
        sql
    };
    let stmts = Parser::parse_sql(&PostgreSqlDialect {}, sql).map_err(|e| parser_error(sql, e))?;
    Ok(stmts
        .into_iter()
        .map(|s| Parsed::Sql(Box::new(s)))
        .collect())
}

/// `CREATE TABLE t (a, b) AS query` (column names without types, which
/// sqlparser does not read) as `CREATE TABLE t AS SELECT * FROM (query) AS
/// ctas(a, b)`; other statements unchanged.
fn ctas_column_names(piece: &str) -> String {
    static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = PATTERN.get_or_init(|| {
        let ident = r#"(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)"#;
        regex::Regex::new(&format!(
            r"(?is)^(\s*create\s+(?:(?:temp|temporary|unlogged)\s+)?table\s+(?:if\s+not\s+exists\s+)?{ident}(?:\.{ident})?)\s*\(\s*({ident}(?:\s*,\s*{ident})*)\s*\)\s*as\s+(.*?)\s*;?\s*$"
        ))
        .expect("a valid pattern")
    });
    match re.captures(piece) {
        Some(c) => format!(
            "{} AS SELECT * FROM ({}) AS ripple_ctas({})",
            &c[1], &c[3], &c[2]
        ),
        None => piece.to_string(),
    }
}

/// PostgreSQL's `CREATE USER`, `ALTER USER` and `DROP USER` as the ROLE
/// statements they abbreviate (sqlparser reads the USER forms in another
/// dialect's syntax); `CREATE USER` implies LOGIN.
fn user_as_role(piece: &str) -> String {
    let body = piece.trim_start();
    let mut words = body.split_whitespace();
    let (Some(verb), Some(user), next) = (words.next(), words.next(), words.next()) else {
        return piece.to_string();
    };
    let verb_l = verb.to_ascii_lowercase();
    if !user.eq_ignore_ascii_case("user")
        || !matches!(verb_l.as_str(), "create" | "alter" | "drop")
        || next.is_some_and(|w| w.eq_ignore_ascii_case("mapping"))
    {
        return piece.to_string();
    }
    let after = body[verb.len()..].trim_start()[user.len()..].to_string();
    // LOGIN or NOLOGIN given outside a quoted password?
    let unquoted: String = after.split('\'').step_by(2).collect::<Vec<_>>().join(" ");
    let login = verb_l == "create"
        && !unquoted
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w.eq_ignore_ascii_case("login") || w.eq_ignore_ascii_case("nologin"));
    let after = after.trim_end();
    let (after, semi) = match after.strip_suffix(';') {
        Some(a) => (a, ";"),
        None => (after, ""),
    };
    format!(
        "{verb} ROLE{after}{}{semi}",
        if login { " LOGIN" } else { "" }
    )
}

/// `FETCH [direction] name` with `FROM` before the cursor name when the
/// statement has neither `FROM` nor `IN`; other statements unchanged.
fn fetch_with_from(piece: &str) -> String {
    let body = piece.trim().trim_end_matches(';').trim_end();
    let words: Vec<&str> = body.split_whitespace().collect();
    let is_fetch = words
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("fetch") || w.eq_ignore_ascii_case("move"));
    let has_from = words
        .iter()
        .any(|w| w.eq_ignore_ascii_case("from") || w.eq_ignore_ascii_case("in"));
    if !is_fetch || has_from || words.len() < 2 || body.contains(['\'', '-', '/']) {
        return piece.to_string();
    }
    let (head, name) = words.split_at(words.len() - 1);
    let direction = if head.len() == 1 { " NEXT" } else { "" };
    format!("{}{direction} FROM {}", head.join(" "), name[0])
}

/// Splits on semicolons outside quotes and comments (for recognising
/// Ripple-only statements; sqlparser does the real parsing).
fn split_statements(sql: &str) -> Vec<&str> {
    let mut out = vec![];
    let bytes = sql.as_bytes();
    let (mut start, mut i) = (0, 0);
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if c == b'-' && bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            None if c == b';' => {
                out.push(&sql[start..i]);
                start = i + 1;
            }
            None => {}
        }
        i += 1;
    }
    out.push(&sql[start..]);
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// Turns sqlparser's message into PostgreSQL's shape: `syntax error at or
/// near "x"` with a 1-based character position.
pub(crate) fn parser_error(sql: &str, e: ParserError) -> SqlError {
    let msg = match e {
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => m,
        ParserError::RecursionLimitExceeded => {
            return SqlError::new("54001", "statement is too complex")
        }
    };
    let position = msg.rfind("Line: ").and_then(|i| {
        let rest = &msg[i + 6..];
        let (line, rest) = rest.split_once(", Column: ")?;
        let col: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let (line, col): (usize, usize) = (line.parse().ok()?, col.parse().ok()?);
        let offset: usize = sql
            .split('\n')
            .take(line - 1)
            .map(|l| l.chars().count() + 1)
            .sum();
        Some(offset + col)
    });
    let near = msg
        .split("found: ")
        .nth(1)
        .map(|f| f.split(" at Line").next().unwrap_or(f).trim().to_string());
    let message = match near.as_deref() {
        Some("EOF") | None => "syntax error at end of input".to_string(),
        Some(tok) => format!("syntax error at or near \"{tok}\""),
    };
    let mut err = SqlError::new(sqlstate::SYNTAX_ERROR, message).with_detail(msg);
    if let Some(p) = position {
        err = err.with_position(p.min(sql.chars().count() + 1));
    } else {
        err = err.with_position(sql.chars().count() + 1);
    }
    err
}

/// Parses a query (view bodies are stored as text).
pub fn parse_query(sql: &str) -> SqlResult<sqlparser::ast::Query> {
    let mut p = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .map_err(|e| parser_error(sql, e))?;
    p.parse_query()
        .map(|q| *q)
        .map_err(|e| parser_error(sql, e))
}

/// Parses a scalar expression (column defaults are stored as text).
pub fn parse_expr(sql: &str) -> SqlResult<sqlparser::ast::Expr> {
    let mut p = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .map_err(|e| parser_error(sql, e))?;
    p.parse_expr().map_err(|e| parser_error(sql, e))
}

/// Plans one parsed statement against `catalog` at statement time `now` (epoch ms).
/// for `session`.
pub fn plan(
    parsed: &Parsed,
    catalog: &Catalog,
    now: Timestamp,
    session: &catalog::system::SessionInfo,
) -> SqlResult<StatementPlan> {
    match parsed {
        Parsed::ShowObjects(kind) => Ok(StatementPlan::ShowObjects { kind: *kind }),
        Parsed::Checkpoint => {
            if catalog.role(session.user()).is_some_and(|r| !r.superuser) {
                return Err(SqlError::new(
                    sqlstate::INSUFFICIENT_PRIVILEGE,
                    "must be superuser to do CHECKPOINT",
                ));
            }
            Ok(StatementPlan::Checkpoint)
        }
        Parsed::Subscribe(s) | Parsed::DeclareSubscribe { subscribe: s, .. } => {
            Binder::with_session(catalog, None, session).plan_subscribe(s)
        }
        Parsed::CreateSource(c) => {
            Binder::with_session(catalog, Some(now), session).plan_create_source(c)
        }
        Parsed::DropSource {
            names,
            if_exists,
            cascade,
        } => Binder::with_session(catalog, Some(now), session).plan_drop_kind(
            ItemKind::Source,
            *if_exists,
            names,
            *cascade,
        ),
        Parsed::FetchWait { .. } => Err(SqlError::internal(
            "FETCH … WITH is run by the session, not planned",
        )),
        Parsed::Rows { table, rows } => {
            let item = copy::copy_target(catalog, *table)?;
            Ok(StatementPlan::Insert {
                table: *table,
                source: Plan::Constant {
                    rows: rows.clone(),
                    arity: item.schema.len(),
                },
            })
        }
        Parsed::Sql(stmt) => {
            let zone = session
                .setting("timezone")
                .and_then(|z| catalog::zone::Zone::parse(&z))
                .unwrap_or(catalog::zone::Zone::Utc);
            coerce::with_zone(zone, || {
                Binder::with_session(catalog, Some(now), session).plan_statement(stmt)
            })
        }
    }
}

/// Re-plans a view's stored query text (at restart, or to render it).
pub fn plan_view_query(sql: &str, catalog: &Catalog) -> SqlResult<Plan> {
    let q = parse_query(sql)?;
    Ok(Binder::new(catalog, None).bind_query(&q)?.plan)
}

/// What a prepared statement takes and returns (the extended protocol's
/// ParameterDescription and RowDescription).
#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    pub params: Vec<catalog::ScalarType>,
    /// `None` for statements that return no rows.
    pub columns: Option<Vec<catalog::Column>>,
}

/// Plans `parsed` with `$n` parameters, typed as `declared` where the client
/// gave a type and inferred from context elsewhere.
pub fn describe(
    parsed: &Parsed,
    catalog: &Catalog,
    now: Timestamp,
    declared: Vec<Option<catalog::ScalarType>>,
    session: &catalog::system::SessionInfo,
) -> SqlResult<Description> {
    let (plan, params) = coerce::infer_params(declared, || plan(parsed, catalog, now, session));
    Ok(Description {
        params,
        columns: plan?.result_columns(),
    })
}

/// Replaces each `$n` by its value (text form, `None` for NULL) cast to the
/// parameter's type, so the statement plans and runs like one written with
/// literals.
pub fn bind_params(
    parsed: &Parsed,
    values: &[(Option<String>, catalog::ScalarType)],
) -> SqlResult<Parsed> {
    use sqlparser::ast::{Expr as AstExpr, Value};
    use std::ops::ControlFlow;
    let Parsed::Sql(stmt) = parsed else {
        return Ok(parsed.clone());
    };
    let mut literals = Vec::with_capacity(values.len());
    for (value, ty) in values {
        let AstExpr::Cast {
            kind, data_type, ..
        } = parse_expr(&format!("CAST(NULL AS {})", ty.name()))?
        else {
            return Err(SqlError::internal(format!(
                "type {} does not parse",
                ty.name()
            )));
        };
        let inner = match value {
            Some(text) => Value::SingleQuotedString(text.clone()),
            None => Value::Null,
        };
        literals.push(AstExpr::Cast {
            kind,
            expr: Box::new(AstExpr::Value(inner.with_empty_span())),
            data_type,
            format: None,
        });
    }
    let mut stmt = stmt.clone();
    let mut missing = None;
    let _ = sqlparser::ast::visit_expressions_mut(&mut *stmt, |e| {
        if let AstExpr::Value(v) = e {
            if let Value::Placeholder(p) = &v.value {
                let n = p.strip_prefix('$').and_then(|n| n.parse::<usize>().ok());
                match n.and_then(|n| literals.get(n.wrapping_sub(1))) {
                    Some(lit) => *e = lit.clone(),
                    None => missing = Some(p.clone()),
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
    if let Some(p) = missing {
        return Err(SqlError::new("42P02", format!("there is no parameter {p}")));
    }
    Ok(Parsed::Sql(stmt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctas_column_lists_become_aliases() {
        assert_eq!(
            ctas_column_names("CREATE TABLE t (a, \"B c\") AS SELECT 1, 2;"),
            "CREATE TABLE t AS SELECT * FROM (SELECT 1, 2) AS ripple_ctas(a, \"B c\")"
        );
        // a column list with types is an ordinary CREATE TABLE
        let plain = "CREATE TABLE t (a int, b text)";
        assert_eq!(ctas_column_names(plain), plain);
    }

    #[test]
    fn user_statements_become_role_statements() {
        assert_eq!(
            user_as_role("CREATE USER bob PASSWORD 'has login in it'"),
            "CREATE ROLE bob PASSWORD 'has login in it' LOGIN"
        );
        assert_eq!(
            user_as_role("create user bob nologin;"),
            "create ROLE bob nologin;"
        );
        assert_eq!(
            user_as_role("DROP USER IF EXISTS bob"),
            "DROP ROLE IF EXISTS bob"
        );
        assert_eq!(
            user_as_role("ALTER USER bob PASSWORD 'x'"),
            "ALTER ROLE bob PASSWORD 'x'"
        );
        assert_eq!(
            user_as_role("CREATE USER MAPPING FOR x"),
            "CREATE USER MAPPING FOR x"
        );
        assert_eq!(user_as_role("SELECT user"), "SELECT user");
    }
}
