//! Name resolution: the columns visible at a point of a query, each with the
//! table name or alias that qualifies it.

use catalog::{sqlstate, Column, ScalarType, SqlError, SqlResult};

/// One visible column.
#[derive(Debug, Clone)]
pub struct ScopeItem {
    pub table: Option<String>,
    pub name: String,
    pub ty: ScalarType,
    pub nullable: bool,
    /// Hidden from unqualified lookups and `*` (the right copy of a USING column).
    pub hidden: bool,
    /// The table or view column this is, unchanged (see `Column::origin`).
    pub origin: Option<(u32, i16)>,
}

/// The columns of a relation being bound, in output order.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub items: Vec<ScopeItem>,
}

impl Scope {
    pub fn from_columns(table: Option<&str>, columns: &[Column]) -> Scope {
        Scope {
            items: columns
                .iter()
                .map(|c| ScopeItem {
                    table: table.map(str::to_string),
                    name: c.name.clone(),
                    ty: c.ty,
                    nullable: c.nullable,
                    hidden: false,
                    origin: c.origin,
                })
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// This scope followed by `other` (a join's columns).
    pub fn concat(&self, other: &Scope) -> Scope {
        let mut items = self.items.clone();
        items.extend(other.items.iter().cloned());
        Scope { items }
    }

    /// Every column renamed to belong to `alias`.
    pub fn with_alias(mut self, alias: &str) -> Scope {
        for item in &mut self.items {
            item.table = Some(alias.to_string());
        }
        self
    }

    /// Marks every column nullable (the padded side of an outer join).
    pub fn nullable(mut self) -> Scope {
        for item in &mut self.items {
            item.nullable = true;
        }
        self
    }

    pub fn columns(&self) -> Vec<Column> {
        self.items
            .iter()
            .map(|i| Column {
                name: i.name.clone(),
                ty: i.ty,
                nullable: i.nullable,
                origin: i.origin,
            })
            .collect()
    }

    /// The index of column `name`, optionally qualified by `table`.
    pub fn resolve(&self, table: Option<&str>, name: &str) -> SqlResult<usize> {
        if let Some(t) = table {
            if !self.items.iter().any(|i| i.table.as_deref() == Some(t)) {
                return Err(SqlError::new(
                    sqlstate::UNDEFINED_TABLE,
                    format!("missing FROM-clause entry for table \"{t}\""),
                ));
            }
        }
        let mut found = self.items.iter().enumerate().filter(|(_, i)| {
            i.name == name
                && match table {
                    Some(t) => i.table.as_deref() == Some(t),
                    None => !i.hidden,
                }
        });
        let first = found.next();
        if found.next().is_some() {
            return Err(SqlError::new(
                sqlstate::AMBIGUOUS_COLUMN,
                format!("column reference \"{name}\" is ambiguous"),
            ));
        }
        match first {
            Some((idx, _)) => Ok(idx),
            None => Err(match table {
                Some(t) => SqlError::new(
                    sqlstate::UNDEFINED_COLUMN,
                    format!("column {t}.{name} does not exist"),
                ),
                None => SqlError::undefined_column(name),
            }),
        }
    }
}
