//! COPY: planning `COPY t FROM STDIN` / `COPY t|(query) TO STDOUT`, and the
//! text and CSV formats (PostgreSQL's rules: backslash escapes and `\N`
//! in text; quotes, doubled quotes and unquoted-empty NULL in CSV).

use crate::bind::{object_name, Binder};
use crate::bind_expr::ident_name;
use crate::plan::StatementPlan;
use catalog::{sqlstate, Column, Datum, GlobalId, Row, ScalarType, SqlError, SqlResult};
use sqlparser::ast::{self, CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource};

/// Format options of one COPY.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyOptions {
    pub csv: bool,
    pub delimiter: char,
    pub null: String,
    pub header: bool,
    pub quote: char,
    pub escape: char,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            csv: false,
            delimiter: '\t',
            null: "\\N".into(),
            header: false,
            quote: '"',
            escape: '"',
        }
    }
}

/// Where each table column of a COPY FROM comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum CopyColumn {
    /// The n-th field of each input line.
    Field(usize),
    /// The column's default, the same for every row.
    Value(Datum),
}

/// A planned `COPY t FROM STDIN`.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyFrom {
    pub table: GlobalId,
    pub name: String,
    /// The columns the input lines carry, in order.
    pub fields: Vec<Column>,
    /// One entry per table column.
    pub fill: Vec<CopyColumn>,
    pub options: CopyOptions,
}

fn bad_option(message: impl Into<String>) -> SqlError {
    SqlError::new(sqlstate::SYNTAX_ERROR, message)
}

/// The format options of a COPY statement.
pub fn copy_options(options: &[CopyOption], legacy: &[CopyLegacyOption]) -> SqlResult<CopyOptions> {
    let mut o = CopyOptions::default();
    let (mut delimiter, mut null, mut quote, mut escape) = (None, None, None, None);
    for opt in options {
        match opt {
            CopyOption::Format(f) => match ident_name(f).as_str() {
                "text" => o.csv = false,
                "csv" => o.csv = true,
                "binary" => return Err(SqlError::unsupported("COPY in binary format")),
                other => {
                    return Err(bad_option(format!(
                        "COPY format \"{other}\" not recognized"
                    )))
                }
            },
            CopyOption::Delimiter(c) => delimiter = Some(*c),
            CopyOption::Null(s) => null = Some(s.clone()),
            CopyOption::Header(h) => o.header = *h,
            CopyOption::Quote(c) => quote = Some(*c),
            CopyOption::Escape(c) => escape = Some(*c),
            CopyOption::Encoding(e) => {
                let e = e.to_uppercase().replace(['-', '_'], "");
                if e != "UTF8" {
                    return Err(SqlError::unsupported(format!("COPY with ENCODING '{e}'")));
                }
            }
            CopyOption::Freeze(_) => {}
            other => return Err(SqlError::unsupported(format!("COPY option {other}"))),
        }
    }
    for opt in legacy {
        match opt {
            CopyLegacyOption::Binary => return Err(SqlError::unsupported("COPY in binary format")),
            CopyLegacyOption::Delimiter(c) => delimiter = Some(*c),
            CopyLegacyOption::Null(s) => null = Some(s.clone()),
            CopyLegacyOption::Csv(csv) => {
                o.csv = true;
                for c in csv {
                    match c {
                        CopyLegacyCsvOption::Header => o.header = true,
                        CopyLegacyCsvOption::Quote(q) => quote = Some(*q),
                        CopyLegacyCsvOption::Escape(e) => escape = Some(*e),
                        other => return Err(SqlError::unsupported(format!("COPY option {other}"))),
                    }
                }
            }
            other => return Err(SqlError::unsupported(format!("COPY option {other}"))),
        }
    }
    if o.csv {
        o.delimiter = delimiter.unwrap_or(',');
        o.null = null.unwrap_or_default();
        o.quote = quote.unwrap_or('"');
        o.escape = escape.unwrap_or(o.quote);
    } else {
        if quote.is_some() {
            return Err(bad_option("COPY QUOTE requires CSV mode").with_code("0A000"));
        }
        if escape.is_some() {
            return Err(bad_option("COPY ESCAPE requires CSV mode").with_code("0A000"));
        }
        o.delimiter = delimiter.unwrap_or('\t');
        o.null = null.unwrap_or_else(|| "\\N".into());
        if o.delimiter == '\\' || o.delimiter.is_ascii_alphanumeric() {
            return Err(bad_option(format!(
                "COPY delimiter cannot be \"{}\"",
                o.delimiter
            )));
        }
    }
    if matches!(o.delimiter, '\r' | '\n') {
        return Err(bad_option(
            "COPY delimiter cannot be newline or carriage return",
        ));
    }
    if o.csv && o.delimiter == o.quote {
        return Err(bad_option("COPY delimiter and quote must be different"));
    }
    if o.null.contains(o.delimiter) {
        return Err(bad_option(
            "COPY delimiter character must not appear in the NULL specification",
        ));
    }
    Ok(o)
}

trait WithCode {
    fn with_code(self, code: &str) -> Self;
}

impl WithCode for SqlError {
    fn with_code(mut self, code: &str) -> Self {
        self.code = code.into();
        self
    }
}

impl Binder<'_> {
    /// Plans `COPY … FROM STDIN` and `COPY … TO STDOUT`.
    pub fn plan_copy(
        &self,
        source: &CopySource,
        to: bool,
        target: &ast::CopyTarget,
        options: &[CopyOption],
        legacy: &[CopyLegacyOption],
    ) -> SqlResult<StatementPlan> {
        let options = copy_options(options, legacy)?;
        match (to, target) {
            (false, ast::CopyTarget::Stdin) => {}
            (true, ast::CopyTarget::Stdout) => {}
            (_, ast::CopyTarget::File { .. } | ast::CopyTarget::Program { .. }) => {
                return Err(SqlError::new(
                    sqlstate::INSUFFICIENT_PRIVILEGE,
                    "COPY to or from a file or program is not allowed; use STDIN/STDOUT (psql's \\copy)",
                ))
            }
            _ => return Err(SqlError::syntax("COPY FROM needs STDIN and COPY TO needs STDOUT")),
        }
        match source {
            CopySource::Query(q) if to => self.copy_query(q),
            CopySource::Query(_) => Err(SqlError::syntax("COPY FROM needs a table")),
            CopySource::Table {
                table_name,
                columns,
            } if to => {
                let name = object_name(table_name)?;
                let item = self.catalog.resolve(&name)?;
                if !item.kind.is_stored() && item.kind != catalog::ItemKind::MaterializedView {
                    return Err(SqlError::new(
                        sqlstate::WRONG_OBJECT_TYPE,
                        format!("cannot copy from {} \"{name}\"", item.kind.noun()),
                    )
                    .with_hint("Try the COPY (SELECT ...) TO variant."));
                }
                let all = &item.schema.columns;
                let cols =
                    crate::statement::target_columns(&name, all, columns.iter().map(ident_name))?
                        .into_iter()
                        .map(|i| quote(&all[i].name))
                        .collect::<Vec<_>>()
                        .join(", ");
                let q = crate::parse_query(&format!(
                    "SELECT {cols} FROM {}",
                    name.split('.').map(quote).collect::<Vec<_>>().join(".")
                ))?;
                self.copy_query(&q)
            }
            CopySource::Table {
                table_name,
                columns,
            } => {
                let name = object_name(table_name)?;
                let item = self.catalog.resolve(&name)?;
                if item.kind != catalog::ItemKind::Table {
                    return Err(SqlError::new(
                        sqlstate::WRONG_OBJECT_TYPE,
                        format!("cannot copy to {} \"{name}\"", item.kind.noun()),
                    ));
                }
                let all = &item.schema.columns;
                let targets =
                    crate::statement::target_columns(&name, all, columns.iter().map(ident_name))?;
                let defaults = match &item.detail {
                    catalog::ItemDetail::Table { defaults } => defaults.clone(),
                    _ => vec![None; all.len()],
                };
                let mut fill = vec![];
                for (ci, col) in all.iter().enumerate() {
                    fill.push(match targets.iter().position(|t| *t == ci) {
                        Some(p) => CopyColumn::Field(p),
                        None => {
                            let e = self.default_expr(defaults.get(ci).cloned().flatten(), col)?;
                            CopyColumn::Value(e.eval(&Row::empty())?)
                        }
                    });
                }
                Ok(StatementPlan::CopyFrom(Box::new(CopyFrom {
                    table: item.id,
                    name,
                    fields: targets.iter().map(|i| all[*i].clone()).collect(),
                    fill,
                    options,
                })))
            }
        }
    }
}

impl Binder<'_> {
    /// The read of a `COPY … TO STDOUT` (its options are the session's to
    /// apply when it writes the rows).
    fn copy_query(&self, q: &ast::Query) -> SqlResult<StatementPlan> {
        Ok(StatementPlan::CopyTo(self.read_plan(q)?))
    }
}

/// The table a finished COPY FROM writes to, still there (it may have been
/// dropped while the data was being sent).
pub fn copy_target(
    catalog: &catalog::Catalog,
    table: GlobalId,
) -> SqlResult<&catalog::CatalogItem> {
    catalog
        .get(table)
        .filter(|i| i.kind == catalog::ItemKind::Table)
        .ok_or_else(|| {
            SqlError::new(
                sqlstate::UNDEFINED_TABLE,
                "the table of this COPY was dropped while it ran",
            )
        })
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads COPY FROM data as it arrives in chunks (not aligned to lines),
/// keeping the rows; the first bad line stops it with an error that names
/// the line.
pub struct CopyDecoder {
    plan: CopyFrom,
    /// Bytes of an incomplete last line.
    pending: Vec<u8>,
    /// Lines read so far (1-based number of the next one is `line + 1`).
    line: usize,
    /// `\.` was seen: everything after it is ignored.
    ended: bool,
    rows: Vec<(Row, isize)>,
}

impl CopyDecoder {
    pub fn new(plan: CopyFrom) -> Self {
        CopyDecoder {
            plan,
            pending: vec![],
            line: 0,
            ended: false,
            rows: vec![],
        }
    }

    pub fn table(&self) -> GlobalId {
        self.plan.table
    }

    /// Takes a chunk of input; decodes every complete line in it.
    pub fn feed(&mut self, chunk: &[u8]) -> SqlResult<()> {
        if self.ended {
            return Ok(());
        }
        self.pending.extend_from_slice(chunk);
        let buf = std::mem::take(&mut self.pending);
        let mut start = 0;
        let mut in_quote = false;
        let (quote, escape) = (
            self.plan.options.quote as u8,
            self.plan.options.escape as u8,
        );
        let csv = self.plan.options.csv;
        let mut i = 0;
        while i < buf.len() {
            let b = buf[i];
            if csv && in_quote && b == escape && escape != quote && buf.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            if csv && b == quote {
                in_quote = !in_quote;
            } else if b == b'\n' && !in_quote {
                let mut end = i;
                if end > start && buf[end - 1] == b'\r' {
                    end -= 1;
                }
                self.line(&buf[start..end])?;
                start = i + 1;
                if self.ended {
                    return Ok(());
                }
            }
            i += 1;
        }
        self.pending = buf[start..].to_vec();
        Ok(())
    }

    /// The end of the data: the last line (without a newline), then the rows.
    pub fn finish(mut self) -> SqlResult<Vec<(Row, isize)>> {
        if !self.ended && !self.pending.is_empty() {
            let last = std::mem::take(&mut self.pending);
            if self.plan.options.csv && count_quotes(&last, self.plan.options.quote as u8) % 2 == 1
            {
                return Err(SqlError::new(
                    sqlstate::BAD_COPY_FILE_FORMAT,
                    "unterminated CSV quoted field",
                )
                .with_context(self.context_line(self.line + 1, &last)));
            }
            let end = if last.last() == Some(&b'\r') {
                last.len() - 1
            } else {
                last.len()
            };
            self.line(&last[..end])?;
        }
        Ok(self.rows)
    }

    fn context_line(&self, line: usize, raw: &[u8]) -> String {
        format!(
            "COPY {}, line {line}: \"{}\"",
            self.plan.name,
            String::from_utf8_lossy(raw)
        )
    }

    fn line(&mut self, raw: &[u8]) -> SqlResult<()> {
        self.line += 1;
        let n = self.line;
        if raw == b"\\." {
            self.ended = true;
            return Ok(());
        }
        if n == 1 && self.plan.options.header {
            return Ok(());
        }
        let text = std::str::from_utf8(raw).map_err(|_| {
            SqlError::new(
                sqlstate::CHARACTER_NOT_IN_REPERTOIRE,
                "invalid byte sequence for encoding \"UTF8\"",
            )
            .with_context(self.context_line(n, raw))
        })?;
        let fields = if self.plan.options.csv {
            split_csv(text, &self.plan.options)
        } else {
            split_text(text, &self.plan.options)
        }
        .map_err(|e| e.with_context(self.context_line(n, raw)))?;
        let want = self.plan.fields.len();
        if fields.len() > want && !(want == 0 && fields.len() == 1 && text.is_empty()) {
            return Err(SqlError::new(
                sqlstate::BAD_COPY_FILE_FORMAT,
                "extra data after last expected column",
            )
            .with_context(self.context_line(n, raw)));
        }
        if fields.len() < want {
            return Err(SqlError::new(
                sqlstate::BAD_COPY_FILE_FORMAT,
                format!(
                    "missing data for column \"{}\"",
                    self.plan.fields[fields.len()].name
                ),
            )
            .with_context(self.context_line(n, raw)));
        }
        let mut values = Vec::with_capacity(want);
        for (field, col) in fields.into_iter().zip(&self.plan.fields) {
            let value = match field {
                None if !col.nullable => {
                    return Err(SqlError::new(
                        sqlstate::NOT_NULL_VIOLATION,
                        format!(
                            "null value in column \"{}\" of relation \"{}\" violates not-null constraint",
                            col.name, self.plan.name
                        ),
                    )
                    .with_context(self.context_line(n, raw)))
                }
                None => Datum::Null,
                Some(s) => parse_field(s, col.ty, |s| {
                    format!(
                        "COPY {}, line {n}, column {}: \"{s}\"",
                        self.plan.name, col.name
                    )
                })?,
            };
            values.push(value);
        }
        let row: Vec<Datum> = self
            .plan
            .fill
            .iter()
            .map(|f| match f {
                CopyColumn::Field(i) => std::mem::replace(&mut values[*i], Datum::Null),
                CopyColumn::Value(d) => d.clone(),
            })
            .collect();
        self.rows.push((Row::new(row), 1));
        Ok(())
    }
}

/// A field's value (text moves in without a copy); an error gets the
/// CONTEXT line `context` makes from the field.
fn parse_field(
    s: String,
    ty: ScalarType,
    context: impl FnOnce(&str) -> String,
) -> SqlResult<Datum> {
    match ty {
        ScalarType::Text | ScalarType::Varchar(_) | ScalarType::Char(_) => Ok(Datum::Text(s)),
        ty => catalog::strconv::parse_datum(&s, ty).map_err(|e| e.with_context(context(&s))),
    }
}

fn count_quotes(b: &[u8], q: u8) -> usize {
    b.iter().filter(|c| **c == q).count()
}

/// A text-format line's fields (`None` for NULL).
fn split_text(line: &str, o: &CopyOptions) -> SqlResult<Vec<Option<String>>> {
    let mut out = vec![];
    let mut raw_start = 0;
    let mut value = String::new();
    let mut chars = line.char_indices().peekable();
    let finish = |raw: &str, value: &mut String, out: &mut Vec<Option<String>>| {
        if raw == o.null {
            out.push(None);
            value.clear();
        } else {
            out.push(Some(std::mem::take(value)));
        }
    };
    while let Some((i, c)) = chars.next() {
        if c == o.delimiter {
            finish(&line[raw_start..i], &mut value, &mut out);
            raw_start = i + c.len_utf8();
            continue;
        }
        if c != '\\' {
            value.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            // a backslash at the end of the line is taken literally
            value.push('\\');
            break;
        };
        match e {
            'b' => value.push('\u{8}'),
            'f' => value.push('\u{c}'),
            'n' => value.push('\n'),
            'r' => value.push('\r'),
            't' => value.push('\t'),
            'v' => value.push('\u{b}'),
            '0'..='7' => {
                let mut n = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek() {
                        Some((_, d @ '0'..='7')) => {
                            n = n * 8 + d.to_digit(8).unwrap_or(0);
                            chars.next();
                        }
                        _ => break,
                    }
                }
                push_byte(&mut value, n)?;
            }
            'x' => {
                let mut n = 0;
                let mut digits = 0;
                while digits < 2 {
                    match chars.peek() {
                        Some((_, d)) if d.is_ascii_hexdigit() => {
                            n = n * 16 + d.to_digit(16).unwrap_or(0);
                            chars.next();
                            digits += 1;
                        }
                        _ => break,
                    }
                }
                if digits == 0 {
                    value.push('x');
                } else {
                    push_byte(&mut value, n)?;
                }
            }
            other => value.push(other),
        }
    }
    finish(&line[raw_start..], &mut value, &mut out);
    Ok(out)
}

fn push_byte(value: &mut String, n: u32) -> SqlResult<()> {
    if n == 0 || n > 0x7f {
        return Err(SqlError::new(
            sqlstate::CHARACTER_NOT_IN_REPERTOIRE,
            format!("invalid byte sequence for encoding \"UTF8\": 0x{n:02x}"),
        ));
    }
    value.push(n as u8 as char);
    Ok(())
}

/// A CSV record's fields (`None` for NULL: an unquoted field equal to the
/// NULL string).
fn split_csv(record: &str, o: &CopyOptions) -> SqlResult<Vec<Option<String>>> {
    let mut out = vec![];
    let mut value = String::new();
    let mut quoted = false;
    let mut in_quote = false;
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quote {
            if c == o.escape && chars.peek() == Some(&o.quote) {
                value.push(o.quote);
                chars.next();
            } else if c == o.quote {
                in_quote = false;
            } else {
                value.push(c);
            }
        } else if c == o.quote {
            in_quote = true;
            quoted = true;
        } else if c == o.delimiter {
            out.push(if !quoted && value == o.null {
                None
            } else {
                Some(std::mem::take(&mut value))
            });
            value.clear();
            quoted = false;
        } else {
            value.push(c);
        }
    }
    if in_quote {
        return Err(SqlError::new(
            sqlstate::BAD_COPY_FILE_FORMAT,
            "unterminated CSV quoted field",
        ));
    }
    out.push(if !quoted && value == o.null {
        None
    } else {
        Some(value)
    });
    Ok(out)
}

/// One output line of COPY TO (with its newline): `values` in text form,
/// `None` for NULL.
pub fn encode_line(values: &[Option<String>], o: &CopyOptions, out: &mut String) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(o.delimiter);
        }
        match v {
            None => out.push_str(&o.null),
            Some(s) if o.csv => {
                let needs = s.is_empty() && o.null.is_empty()
                    || *s == o.null
                    || s.starts_with("\\.")
                    || s.contains([o.delimiter, o.quote, '\n', '\r']);
                if needs {
                    out.push(o.quote);
                    for c in s.chars() {
                        if c == o.quote || c == o.escape {
                            out.push(o.escape);
                        }
                        out.push(c);
                    }
                    out.push(o.quote);
                } else {
                    out.push_str(s);
                }
            }
            Some(s) => {
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        '\u{8}' => out.push_str("\\b"),
                        '\u{c}' => out.push_str("\\f"),
                        '\u{b}' => out.push_str("\\v"),
                        c if c == o.delimiter => {
                            out.push('\\');
                            out.push(c);
                        }
                        c => out.push(c),
                    }
                }
            }
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, ty: ScalarType, nullable: bool) -> Column {
        Column {
            name: name.into(),
            ty,
            nullable,
            origin: None,
        }
    }

    fn decoder(options: CopyOptions) -> CopyDecoder {
        CopyDecoder::new(CopyFrom {
            table: GlobalId(1),
            name: "t".into(),
            fields: vec![
                col("a", ScalarType::Int32, false),
                col("b", ScalarType::Text, true),
            ],
            fill: vec![CopyColumn::Field(0), CopyColumn::Field(1)],
            options,
        })
    }

    fn rows(d: CopyDecoder) -> Vec<Vec<Datum>> {
        d.finish()
            .expect("decodes")
            .into_iter()
            .map(|(r, _)| r.into_datums())
            .collect()
    }

    #[test]
    fn text_lines_split_across_chunks() {
        let mut d = decoder(CopyOptions::default());
        for chunk in ["1\tone\n2\t", "\\N\n3\ta\\tb\\\\c\\", "nd\n4\tlast"] {
            d.feed(chunk.as_bytes()).expect("feeds");
        }
        assert_eq!(
            rows(d),
            vec![
                vec![Datum::Int32(1), Datum::Text("one".into())],
                vec![Datum::Int32(2), Datum::Null],
                vec![Datum::Int32(3), Datum::Text("a\tb\\c\nd".into())],
                vec![Datum::Int32(4), Datum::Text("last".into())],
            ]
        );
    }

    #[test]
    fn csv_quotes_header_and_end_marker() {
        let o = CopyOptions {
            csv: true,
            delimiter: ',',
            null: String::new(),
            header: true,
            ..Default::default()
        };
        let mut d = decoder(o);
        d.feed(b"a,b\r\n1,\"x,\"\"y\"\"\nz\"\r\n2,\n3,\"\"\n\\.\n9,ignored\n")
            .expect("feeds");
        assert_eq!(
            rows(d),
            vec![
                vec![Datum::Int32(1), Datum::Text("x,\"y\"\nz".into())],
                vec![Datum::Int32(2), Datum::Null],
                vec![Datum::Int32(3), Datum::Text(String::new())],
            ]
        );
    }

    #[test]
    fn bad_lines_name_their_line_and_column() {
        let mut d = decoder(CopyOptions::default());
        let e = d.feed(b"1\tok\nx\tbad\n").expect_err("bad integer");
        assert_eq!(e.code, sqlstate::INVALID_TEXT_REPRESENTATION);
        assert_eq!(
            e.context.as_deref(),
            Some("COPY t, line 2, column a: \"x\"")
        );
        let mut d = decoder(CopyOptions::default());
        let e = d.feed(b"1\n").expect_err("missing column");
        assert_eq!(e.message, "missing data for column \"b\"");
        let mut d = decoder(CopyOptions::default());
        let e = d.feed(b"1\ta\tb\n").expect_err("extra column");
        assert_eq!(e.code, sqlstate::BAD_COPY_FILE_FORMAT);
        let mut d = decoder(CopyOptions::default());
        let e = d.feed(b"\\N\ta\n").expect_err("not null");
        assert_eq!(e.code, sqlstate::NOT_NULL_VIOLATION);
    }

    #[test]
    fn lines_encode_as_postgres_does() {
        let mut s = String::new();
        let text = CopyOptions::default();
        encode_line(&[Some("a\tb\\".into()), None], &text, &mut s);
        assert_eq!(s, "a\\tb\\\\\t\\N\n");
        let csv = CopyOptions {
            csv: true,
            delimiter: ',',
            null: String::new(),
            ..Default::default()
        };
        s.clear();
        encode_line(
            &[
                Some("x,\"y\"".into()),
                Some(String::new()),
                None,
                Some("p".into()),
            ],
            &csv,
            &mut s,
        );
        assert_eq!(s, "\"x,\"\"y\"\"\",\"\",,p\n");
    }
}
