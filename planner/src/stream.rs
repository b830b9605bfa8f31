//! Streaming statements sqlparser does not read: `SUBSCRIBE`,
//! `COPY (SUBSCRIBE …) TO STDOUT`, `DECLARE c CURSOR FOR SUBSCRIBE …` and
//! `FETCH … WITH (timeout = …)`, parsed on sqlparser's token stream, and
//! the planning of a SUBSCRIBE.

use crate::bind::{object_name, Binder};
use crate::plan::{Plan, StatementPlan};
use crate::Parsed;
use catalog::{sqlstate, Column, ScalarType, SqlError, SqlResult};
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
    let parsed = if p.parse_keyword(Keyword::COPY) {
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
        p.expect_token(&Token::LParen)?;
        loop {
            let key = crate::ident_name(&p.parse_identifier()?);
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
            match key.as_str() {
                "snapshot" => s.snapshot = value,
                "progress" => s.progress = value,
                other => {
                    return Err(ParserError::ParserError(format!(
                        "unrecognized SUBSCRIBE option: {other}"
                    )))
                }
            }
            if !p.consume_token(&Token::Comma) {
                break;
            }
        }
        p.expect_token(&Token::RParen)?;
    }
    if p.parse_keyword(Keyword::AS) {
        p.expect_keyword_is(Keyword::OF)?;
        s.as_of = Some(p.parse_literal_uint()?);
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
                let rel = self.bind_query(&q)?;
                if let Some(item) = self.catalog.get_by_name(&name) {
                    if item.kind == catalog::ItemKind::Index {
                        return Err(SqlError::new(
                            sqlstate::WRONG_OBJECT_TYPE,
                            format!("\"{name}\" is an index; SUBSCRIBE to its table or view"),
                        ));
                    }
                }
                rel
            }
        };
        if self.system_used.get() {
            return Err(SqlError::unsupported(
                "SUBSCRIBE to system catalogs (pg_catalog, information_schema)",
            ));
        }
        let plan: Plan = crate::optimize::optimize(rel.plan);
        Ok(StatementPlan::Subscribe {
            columns: rel.scope.columns(),
            depends: plan.depends_on(),
            plan,
            snapshot: s.snapshot,
            progress: s.progress,
            as_of: s.as_of,
        })
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
}
