//! The vocabulary every Ripple crate speaks: SQL types and values (`Datum`,
//! `Row`, `ScalarType`), identifiers and time, errors with their SQLSTATE,
//! the catalog of named objects, and the durable log they are replayed from.
//!
//! In the life of a statement this crate is everywhere and does nothing by
//! itself: the planner binds names against the [`Catalog`], the dataflow
//! moves [`Row`]s, and the server writes the log and turns a [`SqlError`] into
//! a wire error.

pub mod catalog;
pub mod checkpoint;
pub mod error;
pub mod json;
pub mod strconv;
pub mod system;
pub mod types;
pub mod wal;
pub mod zone;

pub use catalog::{
    Catalog, CatalogItem, ItemDetail, ItemKind, RecoveryFigure, Role, SourceSpec, SourceStatus,
};
pub use error::{sqlstate, SqlError, SqlResult};
pub use types::{
    Column, Datum, Diff, ElemType, GlobalId, Interval, RecordType, Row, ScalarType, Schema,
    Timestamp, F32, F64,
};
