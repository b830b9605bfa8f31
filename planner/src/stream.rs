//! Streaming statements sqlparser does not read: `SUBSCRIBE`,
//! `COPY (SUBSCRIBE …) TO STDOUT`, `DECLARE c CURSOR FOR SUBSCRIBE …` and
//! `FETCH … WITH (timeout = …)`, parsed on sqlparser's token stream, and
//! the planning of a SUBSCRIBE.

use crate::bind::{object_name, Binder};
use crate::plan::{Plan, StatementPlan};
use crate::Parsed;
use catalog::{sqlstate, Column, ScalarType, Schema, SqlError, SqlResult};
use sqlparser::ast::{ObjectName, Query};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// What a SUBSCRIBE follows.
#[derive(Debug, Clone)]
pub enum SubscribeTarget {
    Name(ObjectName),
    Query(Box<Query>),
}

/// `SUBSCRIBE [TO] target [WITH (SNAPSHOT = b, PROGRESS = b)] [AS OF ts]`.
#[derive(Debug, Clone)]
pub struct Subscribe {
    pub target: SubscribeTarget,
    /// Start with the current contents (default true).
    pub snapshot: bool,
    /// Also emit a row each time a timestamp is complete.
    pub progress: bool,
    /// Start at this logical time instead of now.
    pub as_of: Option<u64>,
}

/// A parsed Ripple streaming statement, or `None` if `piece` is not one.
pub fn parse_stream_statement(piece: &str) -> Option<SqlResult<Parsed>> {
    let words: Vec<String> = piece
        .split(|c: char| c.is_whitespace() || c == '(' || c == ';')
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let first = words.first()?.as_str();
    let is_ours = match first {
        "subscribe" => true,
        "copy" => words.get(1).is_some_and(|w| w == "subscribe"),
        "declare" => words
            .iter()
            .position(|w| w == "for")
            .is_some_and(|i| words.get(i + 1).is_some_and(|w| w == "subscribe")),
        "fetch" => has_word_outside_quotes(piece, "with"),
        "create" | "drop" => words.get(1).is_some_and(|w| w == "source"),
        "show" => words.get(1).is_some_and(|w| w == "sources"),
        _ => false,
    };
    if !is_ours {
        return None;
    }
    Some(parse_ours(piece).map_err(|e| crate::parser_error(piece, e)))
}

/// True if `word` appears as a whole word outside quotes.
fn has_word_outside_quotes(s: &str, word: &str) -> bool {
    s.split('\'')
        .step_by(2)
        .flat_map(|part| part.split(|c: char| !c.is_ascii_alphanumeric() && c != '_'))
        .any(|w| w.eq_ignore_ascii_case(word))
}

fn parse_ours(piece: &str) -> Result<Parsed, ParserError> {
    let dialect = PostgreSqlDialect {};
    let mut p = Parser::new(&dialect).try_with_sql(piece)?;
    let parsed = if p.parse_keyword(Keyword::CREATE) {
        expect_word(&mut p, "SOURCE")?;
        Parsed::CreateSource(Box::new(parse_create_source(&mut p)?))
    } else if p.parse_keyword(Keyword::DROP) {
        expect_word(&mut p, "SOURCE")?;
        let if_exists = p.parse_keyword(Keyword::IF) && {
            p.expect_keyword_is(Keyword::EXISTS)?;
            true
        };
        let mut names = vec![p.parse_object_name(false)?];
        while p.consume_token(&Token::Comma) {
            names.push(p.parse_object_name(false)?);
        }
        let cascade = p.parse_keyword(Keyword::CASCADE);
        if !cascade {
            let _ = p.parse_keyword(Keyword::RESTRICT);
        }
        Parsed::DropSource {
            names,
            if_exists,
            cascade,
        }
    } else if p.parse_keyword(Keyword::SHOW) {
        expect_word(&mut p, "SOURCES")?;
        Parsed::ShowObjects(catalog::ItemKind::Source)
    } else if p.parse_keyword(Keyword::COPY) {
        p.expect_token(&Token::LParen)?;
        expect_word(&mut p, "SUBSCRIBE")?;
        let s = parse_subscribe_body(&mut p)?;
        p.expect_token(&Token::RParen)?;
        p.expect_keyword_is(Keyword::TO)?;
        p.expect_keyword_is(Keyword::STDOUT)?;
        Parsed::Subscribe(Box::new(s))
    } else if p.parse_keyword(Keyword::DECLARE) {
        let name = crate::ident_name(&p.parse_identifier()?);
        let _ = p.parse_keyword(Keyword::NO);
        let _ = p.parse_keyword(Keyword::SCROLL);
        p.expect_keyword_is(Keyword::CURSOR)?;
        let hold = if p.parse_keyword(Keyword::WITH) {
            p.expect_keyword_is(Keyword::HOLD)?;
            true
        } else {
            if p.parse_keyword(Keyword::WITHOUT) {
                p.expect_keyword_is(Keyword::HOLD)?;
            }
            false
        };
        p.expect_keyword_is(Keyword::FOR)?;
        expect_word(&mut p, "SUBSCRIBE")?;
        let s = parse_subscribe_body(&mut p)?;
        Parsed::DeclareSubscribe {
            name,
            hold,
            subscribe: Box::new(s),
        }
    } else if p.parse_keyword(Keyword::FETCH) {
        let _ = p.parse_keyword(Keyword::FORWARD) || p.parse_keyword(Keyword::NEXT);
        let count = if p.parse_keyword(Keyword::ALL) {
            None
        } else {
            match p.peek_token().token {
                Token::Number(..) => Some(p.parse_literal_uint()? as usize),
                _ => Some(1),
            }
        };
        let _ = p.parse_keyword(Keyword::FROM) || p.parse_keyword(Keyword::IN);
        let name = crate::ident_name(&p.parse_identifier()?);
        p.expect_keyword_is(Keyword::WITH)?;
        p.expect_token(&Token::LParen)?;
        let mut options = vec![];
        loop {
            let key = crate::ident_name(&p.parse_identifier()?);
            p.expect_token(&Token::Eq)?;
            let value = p.parse_value()?.value;
            if key != "timeout" {
                return Err(ParserError::ParserError(format!(
                    "unrecognized FETCH option: {key}"
                )));
            }
            options.push(value_text(&value));
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        let timeout = options.pop();
        p.expect_token(&Token::RParen)?;
        Parsed::FetchWait {
            name,
            count,
            timeout,
        }
    } else {
        expect_word(&mut p, "SUBSCRIBE")?;
        Parsed::Subscribe(Box::new(parse_subscribe_body(&mut p)?))
    };
    while p.consume_token(&Token::SemiColon) {}
    match p.peek_token().token {
        Token::EOF => Ok(parsed),
        t => Err(ParserError::ParserError(format!(
            "Expected: end of statement, found: {t}"
        ))),
    }
}

fn value_text(v: &sqlparser::ast::Value) -> String {
    match v {
        sqlparser::ast::Value::SingleQuotedString(s) => s.clone(),
        other => other.to_string(),
    }
}

fn expect_word(p: &mut Parser, word: &str) -> Result<(), ParserError> {
    let t = p.next_token();
    match &t.token {
        Token::Word(w) if w.value.eq_ignore_ascii_case(word) => Ok(()),
        other => Err(ParserError::ParserError(format!(
            "Expected: {word}, found: {other}"
        ))),
    }
}

/// `(key …, key …)`: `each` reads what follows each key (lower case).
fn parse_options(
    p: &mut Parser,
    mut each: impl FnMut(&mut Parser, &str) -> Result<(), ParserError>,
) -> Result<(), ParserError> {
    p.expect_token(&Token::LParen)?;
    loop {
        let key = crate::ident_name(&p.parse_identifier()?);
        each(p, &key)?;
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    p.expect_token(&Token::RParen)?;
    Ok(())
}

/// After `SUBSCRIBE`: `[TO] name | (query)`, options and `AS OF`.
fn parse_subscribe_body(p: &mut Parser) -> Result<Subscribe, ParserError> {
    let _ = p.parse_keyword(Keyword::TO);
    let target = if p.consume_token(&Token::LParen) {
        let q = p.parse_query()?;
        p.expect_token(&Token::RParen)?;
        SubscribeTarget::Query(q)
    } else {
        SubscribeTarget::Name(p.parse_object_name(false)?)
    };
    let mut s = Subscribe {
        target,
        snapshot: true,
        progress: false,
        as_of: None,
    };
    if p.parse_keyword(Keyword::WITH) {
        parse_options(p, |p, key| {
            let value = if p.consume_token(&Token::Eq) {
                match p.parse_value()?.value {
                    sqlparser::ast::Value::Boolean(b) => b,
                    sqlparser::ast::Value::SingleQuotedString(s)
                        if matches!(s.to_lowercase().as_str(), "true" | "on") =>
                    {
                        true
                    }
                    sqlparser::ast::Value::SingleQuotedString(s)
                        if matches!(s.to_lowercase().as_str(), "false" | "off") =>
                    {
                        false
                    }
                    other => {
                        return Err(ParserError::ParserError(format!(
                            "{key} requires a boolean value, found: {other}"
                        )))
                    }
                }
            } else {
                true
            };
            match key {
                "snapshot" => s.snapshot = value,
                "progress" => s.progress = value,
                other => {
                    return Err(ParserError::ParserError(format!(
                        "unrecognized SUBSCRIBE option: {other}"
                    )))
                }
            }
            Ok(())
        })?;
    }
    if p.parse_keyword(Keyword::AS) {
        p.expect_keyword_is(Keyword::OF)?;
        s.as_of = Some(p.parse_literal_uint()?);
    }
    Ok(s)
}

/// What feeds a source.
#[derive(Debug, Clone)]
pub enum Connector {
    Counter,
    Auction,
    Webhook,
    File { path: String },
}

/// `CREATE SOURCE [IF NOT EXISTS] name [(columns)] FROM LOAD GENERATOR
/// COUNTER | AUCTION [(options)] [FOR ALL TABLES]`, or `… FROM FILE 'path'
/// [(options)]`; options: `TICK INTERVAL 'i'`, `FORMAT csv | json`,
/// `HEADER [bool]`.
#[derive(Debug, Clone)]
pub struct CreateSource {
    pub name: ObjectName,
    pub if_not_exists: bool,
    pub columns: Vec<sqlparser::ast::ColumnDef>,
    pub connector: Connector,
    pub tick: Option<String>,
    pub json: bool,
    pub header: bool,
    /// FORMAT or HEADER was given (options of file sources only).
    pub file_options: bool,
}

fn parse_create_source(p: &mut Parser) -> Result<CreateSource, ParserError> {
    let if_not_exists = p.parse_keyword(Keyword::IF) && {
        p.expect_keyword_is(Keyword::NOT)?;
        p.expect_keyword_is(Keyword::EXISTS)?;
        true
    };
    let name = p.parse_object_name(false)?;
    let (columns, constraints) = p.parse_columns()?;
    if !constraints.is_empty() {
        return Err(ParserError::ParserError(
            "a source has no constraints".into(),
        ));
    }
    p.expect_keyword_is(Keyword::FROM)?;
    let connector = if p.parse_keyword(Keyword::FILE) {
        Connector::File {
            path: p.parse_literal_string()?,
        }
    } else if p
        .peek_token()
        .token
        .to_string()
        .eq_ignore_ascii_case("webhook")
    {
        p.next_token();
        // Materialize's `BODY FORMAT JSON` (the only body format here)
        if p.peek_token()
            .token
            .to_string()
            .eq_ignore_ascii_case("body")
        {
            p.next_token();
            p.expect_keyword_is(Keyword::FORMAT)?;
            expect_word(p, "JSON")?;
        }
        Connector::Webhook
    } else {
        expect_word(p, "LOAD")?;
        expect_word(p, "GENERATOR")?;
        let t = p.next_token();
        match &t.token {
            Token::Word(w) if w.value.eq_ignore_ascii_case("counter") => Connector::Counter,
            Token::Word(w) if w.value.eq_ignore_ascii_case("auction") => Connector::Auction,
            other => {
                return Err(ParserError::ParserError(format!(
                    "Expected: COUNTER or AUCTION, found: {other}"
                )))
            }
        }
    };
    let mut s = CreateSource {
        name,
        if_not_exists,
        columns,
        connector,
        tick: None,
        json: false,
        header: false,
        file_options: false,
    };
    let with = p.parse_keyword(Keyword::WITH);
    if with || p.peek_token().token == Token::LParen {
        parse_options(p, |p, key| {
            match key {
                "tick" => {
                    p.expect_keyword_is(Keyword::INTERVAL)?;
                    let _ = p.consume_token(&Token::Eq);
                    s.tick = Some(p.parse_literal_string()?);
                }
                "format" => {
                    s.file_options = true;
                    let _ = p.consume_token(&Token::Eq);
                    let f = match p.next_token().token {
                        Token::Word(w) => w.value.to_lowercase(),
                        Token::SingleQuotedString(v) => v.to_lowercase(),
                        other => {
                            return Err(ParserError::ParserError(format!(
                                "Expected: a format, found: {other}"
                            )))
                        }
                    };
                    s.json = match f.as_str() {
                        "csv" => false,
                        "json" => true,
                        other => {
                            return Err(ParserError::ParserError(format!(
                                "unknown source format {other}: CSV or JSON"
                            )))
                        }
                    };
                }
                "header" => {
                    s.file_options = true;
                    let _ = p.consume_token(&Token::Eq);
                    s.header = match p.peek_token().token {
                        Token::Comma | Token::RParen => true,
                        _ => matches!(p.parse_value()?.value, sqlparser::ast::Value::Boolean(true)),
                    };
                }
                other => {
                    return Err(ParserError::ParserError(format!(
                        "unrecognized source option: {other}"
                    )))
                }
            }
            Ok(())
        })?;
    }
    if p.parse_keyword(Keyword::FOR) {
        p.expect_keyword_is(Keyword::ALL)?;
        p.expect_keyword_is(Keyword::TABLES)?;
    }
    Ok(s)
}

/// The columns a SUBSCRIBE adds before the target's own.
pub fn subscribe_columns(progress: bool, columns: &[Column]) -> Vec<Column> {
    let col = |name: &str, ty, nullable| Column {
        name: name.into(),
        ty,
        nullable,
        origin: None,
    };
    let mut out = vec![col("mz_timestamp", ScalarType::Numeric(None), false)];
    if progress {
        out.push(col("mz_progressed", ScalarType::Bool, false));
    }
    out.push(col("mz_diff", ScalarType::Int64, progress));
    out.extend(columns.iter().map(|c| Column {
        nullable: c.nullable || progress,
        ..c.clone()
    }));
    out
}

impl Binder<'_> {
    /// Plans a SUBSCRIBE: its target bound like a view body (ORDER BY
    /// without LIMIT dropped, LIMIT a TopK), since it is maintained.
    pub fn plan_subscribe(&self, s: &Subscribe) -> SqlResult<StatementPlan> {
        let rel = match &s.target {
            SubscribeTarget::Query(q) => self.bind_query(q)?,
            SubscribeTarget::Name(name) => {
                let name = object_name(name)?;
                let q = crate::parse_query(&format!("SELECT * FROM {}", quote_ident_path(&name)))?;
                // (an index name fails here: binding refuses it, 42809)
                self.bind_query(&q)?
            }
        };
        if self.system_used.get() {
            return Err(SqlError::unsupported(
                "SUBSCRIBE to system catalogs (pg_catalog, information_schema)",
            ));
        }
        let plan: Plan = crate::optimize::optimize(rel.plan);
        // what it reads: the collections of its plan, and the plain views
        // it names (inlined in the plan, but dropping one ends it too)
        let mut depends = plan.depends_on();
        for id in self.used.borrow().iter() {
            if !depends.contains(id) {
                depends.push(*id);
            }
        }
        Ok(StatementPlan::Subscribe {
            columns: rel.scope.columns(),
            depends,
            plan,
            snapshot: s.snapshot,
            progress: s.progress,
            as_of: s.as_of,
        })
    }
}

/// A column of a generated source.
fn gen_col(name: &str, ty: ScalarType) -> Column {
    Column {
        name: name.into(),
        ty,
        nullable: false,
        origin: None,
    }
}

/// The auction generator's outputs, named as in Nexmark.
pub fn auction_subsources() -> Vec<(String, Schema)> {
    use ScalarType::*;
    let t = |cols: Vec<(&str, ScalarType)>| {
        Schema::new(cols.into_iter().map(|(n, ty)| gen_col(n, ty)).collect())
    };
    vec![
        (
            "persons".into(),
            t(vec![
                ("id", Int64),
                ("name", Text),
                ("email", Text),
                ("city", Text),
                ("state", Text),
                ("created_at", TimestampTz),
            ]),
        ),
        (
            "auctions".into(),
            t(vec![
                ("id", Int64),
                ("seller", Int64),
                ("category", Int32),
                ("item_name", Text),
                ("initial_bid", Int64),
                ("reserve", Int64),
                ("created_at", TimestampTz),
                ("expires", TimestampTz),
            ]),
        ),
        (
            "bids".into(),
            t(vec![
                ("id", Int64),
                ("auction", Int64),
                ("bidder", Int64),
                ("price", Int64),
                ("channel", Text),
                ("created_at", TimestampTz),
            ]),
        ),
    ]
}

impl Binder<'_> {
    /// Plans `CREATE SOURCE`: the columns (given for a file, fixed for a
    /// generator) and the connector.
    pub fn plan_create_source(&self, c: &CreateSource) -> SqlResult<StatementPlan> {
        let name = object_name(&c.name)?;
        let tick_ms = match &c.tick {
            None => 1000,
            Some(t) => match catalog::strconv::parse_datum(t, ScalarType::Interval)? {
                catalog::Datum::Interval(i) => {
                    let ms = (i.months as i64 * 30 + i.days as i64) * 86_400_000 + i.micros / 1000;
                    if ms < 1 {
                        return Err(SqlError::new(
                            sqlstate::INVALID_PARAMETER_VALUE,
                            format!("TICK INTERVAL must be at least 1 millisecond, not '{t}'"),
                        ));
                    }
                    ms as u64
                }
                _ => return Err(SqlError::internal("interval did not parse as one")),
            },
        };
        let generated = |what: &str| {
            if c.columns.is_empty() {
                Ok(())
            } else {
                Err(SqlError::new(
                    sqlstate::SYNTAX_ERROR,
                    format!("the {what} load generator has fixed columns; give none"),
                ))
            }
        };
        let (schema, spec, subsources) = match &c.connector {
            Connector::Counter => {
                generated("COUNTER")?;
                (
                    Schema::new(vec![gen_col("counter", ScalarType::Int64)]),
                    catalog::SourceSpec::Counter { tick_ms },
                    vec![],
                )
            }
            Connector::Auction => {
                generated("AUCTION")?;
                (
                    Schema::new(vec![gen_col("ticks", ScalarType::Int64)]),
                    catalog::SourceSpec::Auction { tick_ms },
                    auction_subsources(),
                )
            }
            Connector::Webhook => {
                let schema = if c.columns.is_empty() {
                    Schema::new(vec![Column {
                        nullable: true,
                        ..gen_col("body", ScalarType::Jsonb)
                    }])
                } else {
                    self.source_columns(&name, &c.columns)?
                };
                (schema, catalog::SourceSpec::Webhook, vec![])
            }
            Connector::File { path } => {
                if c.columns.is_empty() {
                    return Err(SqlError::new(
                        sqlstate::SYNTAX_ERROR,
                        "a file source needs its columns: CREATE SOURCE name (column type, …) FROM FILE …",
                    ));
                }
                if !std::path::Path::new(path).is_absolute() {
                    return Err(SqlError::new(
                        sqlstate::INVALID_PARAMETER_VALUE,
                        format!("the file of a source must be an absolute path, not '{path}'"),
                    ));
                }
                let schema = self.source_columns(&name, &c.columns)?;
                (
                    schema,
                    catalog::SourceSpec::File {
                        path: path.clone(),
                        json: c.json,
                        header: c.header,
                        tick_ms,
                    },
                    vec![],
                )
            }
        };
        if !matches!(c.connector, Connector::File { .. }) && c.file_options {
            return Err(SqlError::new(
                sqlstate::SYNTAX_ERROR,
                "FORMAT and HEADER are options of file sources",
            ));
        }
        let mut names = vec![name.clone()];
        names.extend(subsources.iter().map(|(n, _)| n.clone()));
        for n in &names {
            if self.catalog.get_by_name(n).is_some() && !c.if_not_exists {
                return Err(SqlError::new(
                    sqlstate::DUPLICATE_TABLE,
                    format!("relation \"{n}\" already exists"),
                ));
            }
        }
        Ok(StatementPlan::CreateSource {
            name,
            if_not_exists: c.if_not_exists,
            schema,
            spec,
            subsources,
        })
    }
}

impl Binder<'_> {
    /// A source's declared columns, typed as CREATE TABLE would type them.
    fn source_columns(
        &self,
        name: &str,
        columns: &[sqlparser::ast::ColumnDef],
    ) -> SqlResult<Schema> {
        let cols: Vec<String> = columns.iter().map(|d| d.to_string()).collect();
        let table = crate::parse(&format!(
            "CREATE TABLE {} ({})",
            quote_ident_path(name),
            cols.join(", ")
        ))?;
        match table
            .first()
            .map(|p| crate::plan(p, self.catalog, 0, self.session))
        {
            Some(Ok(StatementPlan::CreateTable { schema, .. })) => Ok(schema),
            Some(Err(e)) => Err(e),
            _ => Err(SqlError::internal("source columns did not plan")),
        }
    }
}

fn quote_ident_path(name: &str) -> String {
    name.split('.')
        .map(|p| format!("\"{}\"", p.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Parsed {
        parse_stream_statement(s)
            .expect("a streaming statement")
            .expect("parses")
    }

    #[test]
    fn subscribe_forms() {
        let Parsed::Subscribe(s) = parse("SUBSCRIBE TO v") else {
            panic!("not a subscribe")
        };
        assert!(s.snapshot && !s.progress && s.as_of.is_none());
        assert!(matches!(s.target, SubscribeTarget::Name(_)));
        let Parsed::Subscribe(s) = parse(
            "COPY (SUBSCRIBE (SELECT a FROM t) WITH (SNAPSHOT = false, PROGRESS)) TO STDOUT;",
        ) else {
            panic!("not a subscribe")
        };
        assert!(!s.snapshot && s.progress);
        assert!(matches!(s.target, SubscribeTarget::Query(_)));
        let Parsed::Subscribe(s) = parse("subscribe t as of 1234") else {
            panic!("not a subscribe")
        };
        assert_eq!(s.as_of, Some(1234));
        let Parsed::DeclareSubscribe { name, hold, .. } =
            parse("DECLARE c CURSOR FOR SUBSCRIBE v WITH (progress = true)")
        else {
            panic!("not a declare")
        };
        assert_eq!((name.as_str(), hold), ("c", false));
        let Parsed::FetchWait {
            name,
            count,
            timeout,
        } = parse("FETCH 100 c WITH (timeout = '1s')")
        else {
            panic!("not a fetch")
        };
        assert_eq!(
            (name.as_str(), count, timeout.as_deref()),
            ("c", Some(100), Some("1s"))
        );
        let Parsed::FetchWait { count, .. } = parse("FETCH ALL FROM c WITH (TIMEOUT = '0s')")
        else {
            panic!("not a fetch")
        };
        assert_eq!(count, None);
    }

    #[test]
    fn other_statements_are_not_ours() {
        assert!(parse_stream_statement("SELECT 1").is_none());
        assert!(parse_stream_statement("COPY t FROM STDIN").is_none());
        assert!(parse_stream_statement("DECLARE c CURSOR FOR SELECT 1").is_none());
        assert!(parse_stream_statement("FETCH 2 c").is_none());
        assert!(parse_stream_statement("SUBSCRIBE v WITH (bogus)")
            .expect("ours")
            .is_err());
        assert!(parse_stream_statement("SUBSCRIBE").expect("ours").is_err());
    }

    #[test]
    fn source_statements() {
        let Parsed::CreateSource(c) = parse(
            "CREATE SOURCE IF NOT EXISTS ticks FROM LOAD GENERATOR COUNTER (TICK INTERVAL '100ms')",
        ) else {
            panic!("not a source")
        };
        assert!(c.if_not_exists && matches!(c.connector, Connector::Counter));
        assert_eq!(c.tick.as_deref(), Some("100ms"));
        let Parsed::CreateSource(c) =
            parse("create source a from load generator auction for all tables")
        else {
            panic!("not a source")
        };
        assert!(matches!(c.connector, Connector::Auction));
        let Parsed::CreateSource(c) = parse(
            "CREATE SOURCE logs (at timestamptz, msg text) FROM FILE '/tmp/x.json' WITH (FORMAT JSON)",
        ) else {
            panic!("not a source")
        };
        assert!(c.json && c.columns.len() == 2);
        let Parsed::DropSource { names, cascade, .. } = parse("DROP SOURCE a, b CASCADE") else {
            panic!("not a drop")
        };
        assert!(cascade && names.len() == 2);
        assert!(matches!(
            parse("SHOW SOURCES"),
            Parsed::ShowObjects(catalog::ItemKind::Source)
        ));
        assert!(parse_stream_statement("CREATE TABLE t (a int)").is_none());
        assert!(parse_stream_statement("CREATE SOURCE s FROM KAFKA")
            .expect("ours")
            .is_err());
    }
}
