//! Sources: a driver thread per source reads its connector (a load
//! generator, a file) once per tick and hands the coordinator a batch with
//! the offset it reached. The coordinator writes the rows and the new
//! offset in one log frame, then applies them like any write. A restart
//! resumes from the logged offset: nothing acknowledged is repeated or lost.
//! One batch is in flight at a time, so a slow coordinator slows the
//! source instead of queueing without bound.

use super::{Coordinator, Request};
use catalog::wal::LogRecord;
use catalog::{
    sqlstate, CatalogItem, Column, Datum, GlobalId, ItemDetail, ItemKind, Row, Schema, SourceSpec,
    SqlError, SqlResult,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

/// What one read found.
#[derive(Default)]
struct Batch {
    /// The offset after it.
    to: u64,
    /// Rows for the source and its subsources.
    updates: Vec<(GlobalId, Row, isize)>,
    /// Records skipped because they did not fit the columns, and the last
    /// one's error.
    skipped: u64,
    skip_error: Option<String>,
}

/// A running source's driver: set `stop` to end it.
pub(super) struct Driver {
    stop: Arc<AtomicBool>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What a driver hands the coordinator: rows for the source (and its
/// subsources) read from offset `from` up to `to`.
pub struct SourceBatch {
    pub id: GlobalId,
    pub from: u64,
    pub to: u64,
    pub updates: Vec<(GlobalId, Row, isize)>,
    /// Records skipped, and the last one's error.
    pub skipped: u64,
    pub skip_error: Option<String>,
    /// `true` once written; `false` if the source is gone (the driver stops)
    /// or the write failed (the driver retries).
    pub reply: oneshot::Sender<Result<(), bool>>,
}

impl Coordinator {
    /// Creates a source (and its subsources) and starts its driver.
    pub(super) fn create_source(
        &mut self,
        name: String,
        schema: Schema,
        spec: SourceSpec,
        subsources: Vec<(String, Schema)>,
    ) -> SqlResult<()> {
        let id = self.catalog.allocate_id();
        let mut items = vec![CatalogItem {
            id,
            name,
            kind: ItemKind::Source,
            schema,
            uses: vec![],
            detail: ItemDetail::Source { spec, offset: 0 },
        }];
        for (name, schema) in subsources {
            items.push(CatalogItem {
                id: self.catalog.allocate_id(),
                detail: ItemDetail::Subsource {
                    of: id,
                    part: name.clone(),
                },
                name,
                kind: ItemKind::Source,
                schema,
                uses: vec![id],
            });
        }
        self.wal.append(&[LogRecord::Group(
            items.iter().cloned().map(LogRecord::Create).collect(),
        )])?;
        for item in items {
            self.install(item, None)?;
        }
        self.start_source(id);
        Ok(())
    }

    /// Starts the driver of source `id` from its recorded offset.
    pub(super) fn start_source(&mut self, id: GlobalId) {
        let Some(item) = self.catalog.get(id) else {
            return;
        };
        let ItemDetail::Source { spec, offset } = &item.detail else {
            return;
        };
        if *spec == SourceSpec::Webhook {
            // written by HTTP requests, not read by a driver
            self.catalog.source_status_mut(id).status = "running";
            return;
        }
        let mut outputs = vec![(id, String::new(), item.schema.columns.clone())];
        for d in self.catalog.direct_dependents(id) {
            if let Some(CatalogItem {
                detail: ItemDetail::Subsource { part, .. },
                schema,
                ..
            }) = self.catalog.get(d)
            {
                outputs.push((d, part.clone(), schema.columns.clone()));
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        let driver = Reader {
            id,
            name: item.name.clone(),
            spec: spec.clone(),
            offset: *offset,
            outputs,
            tx: self.self_tx.clone(),
            stop: stop.clone(),
        };
        info!(%id, name = %item.name, offset, "source started");
        self.catalog.source_status_mut(id);
        let spawned = std::thread::Builder::new()
            .name(format!("source {id}"))
            .spawn(move || driver.run());
        match spawned {
            Ok(_) => {
                self.sources.insert(id, Driver { stop });
            }
            Err(e) => warn!(%id, error = %e, "could not start the source's thread"),
        }
    }

    /// Starts every source (after recovery).
    pub(super) fn start_sources(&mut self) {
        let ids: Vec<GlobalId> = self
            .catalog
            .items()
            .filter(|i| matches!(i.detail, ItemDetail::Source { .. }))
            .map(|i| i.id)
            .collect();
        for id in ids {
            self.start_source(id);
        }
    }

    /// Stops the drivers of dropped sources.
    pub(super) fn stop_sources(&mut self, dropped: &[GlobalId]) {
        for id in dropped {
            self.sources.remove(id);
            self.catalog.remove_source_status(*id);
        }
    }

    /// A driver's reads fail (`error`) or work again.
    pub(super) fn source_stalled(&mut self, id: GlobalId, error: Option<String>) {
        if self.catalog.get(id).is_none() {
            return;
        }
        let status = self.catalog.source_status_mut(id);
        match error {
            Some(e) => {
                status.status = "stalled";
                status.error = Some((e, unix_us()));
            }
            None => status.status = "running",
        }
    }

    /// Writes a driver's batch: rows and offset in one log frame.
    pub(super) fn source_batch(&mut self, b: SourceBatch) {
        let current = match self.catalog.get(b.id).map(|i| &i.detail) {
            Some(ItemDetail::Source { offset, .. }) => *offset,
            _ => {
                let _ = b.reply.send(Err(false));
                return;
            }
        };
        if current != b.from {
            // a batch from a driver of a dropped and re-created source
            let _ = b.reply.send(Err(false));
            return;
        }
        // subsources dropped on their own get nothing
        let updates: Vec<(GlobalId, Row, isize)> = b
            .updates
            .into_iter()
            .filter(|(id, _, _)| self.catalog.get(*id).is_some())
            .collect();
        let record = LogRecord::SourceOffset {
            id: b.id,
            offset: b.to,
        };
        let rows = updates.iter().filter(|u| u.2 > 0).count() as u64;
        let result = if updates.is_empty() {
            self.wal.append(&[record])
        } else {
            self.write_with(updates, vec![record])
        };
        let status = self.catalog.source_status_mut(b.id);
        match result {
            Ok(()) => {
                status.status = "running";
                status.rows += rows;
                status.written_at = Some(unix_us());
                // counted once written: a failed write is read again
                status.skipped += b.skipped;
                if let Some(e) = b.skip_error {
                    status.error = Some((e, unix_us()));
                }
                self.catalog.set_source_offset(b.id, b.to);
                let _ = b.reply.send(Ok(()));
            }
            Err(e) => {
                warn!(id = %b.id, error = %e.message, "a source's write failed; it will retry");
                status.status = "stalled";
                status.error = Some((format!("writing failed: {}", e.message), unix_us()));
                let _ = b.reply.send(Err(true));
            }
        }
    }
}

impl Coordinator {
    /// Writes what was posted to webhook source `name`: a JSON object, or
    /// an array of them, one row each (with the default `body jsonb`
    /// column: the whole body as one row). Returns the rows written.
    pub(super) fn webhook(&mut self, name: &str, body: &str) -> SqlResult<usize> {
        let (id, result) = self.webhook_rows(name, body)?;
        let status = self.catalog.source_status_mut(id);
        match &result {
            Ok(n) => {
                status.rows += *n as u64;
                status.written_at = Some(unix_us());
            }
            Err(e) => {
                // the poster gets the error; the source's status keeps it too
                status.skipped += 1;
                status.error = Some((format!("refused a body: {}", e.message), unix_us()));
            }
        }
        result
    }

    /// The webhook source `name`'s id (an error if there is none), and the
    /// outcome of writing `body` to it.
    fn webhook_rows(&mut self, name: &str, body: &str) -> SqlResult<(GlobalId, SqlResult<usize>)> {
        let item = self
            .catalog
            .get_by_name(name)
            .filter(|i| {
                matches!(
                    &i.detail,
                    ItemDetail::Source {
                        spec: SourceSpec::Webhook,
                        ..
                    }
                )
            })
            .ok_or_else(|| {
                SqlError::new(
                    sqlstate::UNDEFINED_TABLE,
                    format!("webhook source \"{name}\" does not exist"),
                )
            })?;
        let (id, schema) = (item.id, item.schema.clone());
        Ok((id, self.webhook_write(id, &schema, body)))
    }

    fn webhook_write(&mut self, id: GlobalId, schema: &Schema, body: &str) -> SqlResult<usize> {
        let columns = &schema.columns;
        let whole_body = columns.len() == 1
            && columns[0].name == "body"
            && columns[0].ty == catalog::ScalarType::Jsonb;
        let mut rows = vec![];
        if whole_body {
            rows.push(Row::new(vec![Datum::Jsonb(catalog::json::canonical(
                body,
            )?)]));
        } else {
            match catalog::json::Json::parse(body)? {
                catalog::json::Json::Array(items) => {
                    for (i, v) in items.iter().enumerate() {
                        let row =
                            catalog::json::object_row(&v.to_text(), columns).map_err(|e| {
                                e.with_context(format!("element {i} of the posted array"))
                            })?;
                        rows.push(row);
                    }
                }
                _ => rows.push(catalog::json::object_row(body, columns)?),
            }
        }
        let mut updates = Vec::with_capacity(rows.len());
        for r in rows {
            updates.push((id, self.validate_row(id, schema, r)?, 1));
        }
        let n = updates.len();
        self.apply_writes(updates)?;
        Ok(n)
    }
}

/// A driver: reads its connector every tick and sends batches.
struct Reader {
    id: GlobalId,
    name: String,
    spec: SourceSpec,
    offset: u64,
    /// The source (part "") and its subsources, with their columns.
    outputs: Vec<(GlobalId, String, Vec<Column>)>,
    tx: mpsc::UnboundedSender<Request>,
    stop: Arc<AtomicBool>,
}

impl Reader {
    fn run(mut self) {
        let tick = Duration::from_millis(self.spec.tick_ms());
        let mut next = std::time::Instant::now() + tick;
        // the read error last told to the coordinator (`Some(None)`: none)
        let mut reported: Option<Option<String>> = None;
        while !self.stop.load(Ordering::Relaxed) {
            let now = std::time::Instant::now();
            if now < next {
                std::thread::sleep((next - now).min(Duration::from_millis(100)));
                continue;
            }
            next += tick;
            if next < now {
                // fell behind (a slow write): do not burst to catch up
                next = now + tick;
            }
            let read = self.read();
            let error = read.as_ref().err().map(|e| e.message.to_string());
            if reported.as_ref() != Some(&error) {
                if let Some(e) = &error {
                    warn!(source = %self.name, error = %e, "source read failed");
                }
                let id = self.id;
                let stalled = Request::SourceStalled {
                    id,
                    error: error.clone(),
                };
                if self.tx.send(stalled).is_err() {
                    return;
                }
                reported = Some(error);
            }
            let Ok(b) = read else { continue };
            if b.to == self.offset && b.updates.is_empty() && b.skipped == 0 {
                continue;
            }
            let to = b.to;
            let (reply, answer) = oneshot::channel();
            let batch = SourceBatch {
                id: self.id,
                from: self.offset,
                to,
                updates: b.updates,
                skipped: b.skipped,
                skip_error: b.skip_error,
                reply,
            };
            if self.tx.send(Request::SourceBatch(batch)).is_err() {
                return;
            }
            match answer.blocking_recv() {
                Ok(Ok(())) => self.offset = to,
                Ok(Err(true)) => {} // the write failed: read it again next tick
                Ok(Err(false)) | Err(_) => {
                    info!(source = %self.name, "source stopped");
                    return;
                }
            }
        }
    }

    /// The next batch and the offset after it.
    fn read(&self) -> SqlResult<Batch> {
        let rows = |to, updates| Batch {
            to,
            updates,
            ..Default::default()
        };
        match &self.spec {
            SourceSpec::Counter { .. } => {
                let n = self.offset + 1;
                let row = Row::new(vec![Datum::Int64(n as i64)]);
                Ok(rows(n, vec![(self.id, row, 1)]))
            }
            SourceSpec::Auction { .. } => Ok(rows(self.offset + 1, self.auction_tick(unix_us()))),
            SourceSpec::File {
                path, json, header, ..
            } => self.read_file(path, *json, *header),
            SourceSpec::Webhook => Ok(rows(self.offset, vec![])),
        }
    }

    /// Tick `k` of the auction generator: one person, three auctions and
    /// 46 bids (Nexmark's proportions), ids derived from `k` so a restart
    /// continues without repeats, values from a hash of the ids.
    fn auction_tick(&self, now_us: i64) -> Vec<(GlobalId, Row, isize)> {
        let k = self.offset;
        let id_of = |part: &str| {
            self.outputs
                .iter()
                .find(|(_, p, _)| p == part)
                .map(|(id, _, _)| *id)
        };
        let mut out = vec![];
        if let Some(progress) = id_of("") {
            if k > 0 {
                out.push((progress, Row::new(vec![Datum::Int64(k as i64)]), -1));
            }
            out.push((progress, Row::new(vec![Datum::Int64(k as i64 + 1)]), 1));
        }
        const FIRST: [&str; 8] = ["Ana", "Bo", "Cy", "Di", "Ed", "Fay", "Gus", "Hal"];
        const CITIES: [(&str, &str); 6] = [
            ("Portland", "OR"),
            ("Boise", "ID"),
            ("Austin", "TX"),
            ("Albany", "NY"),
            ("Tucson", "AZ"),
            ("Salem", "OR"),
        ];
        const ITEMS: [&str; 6] = ["lamp", "chair", "vase", "clock", "rug", "desk"];
        const CHANNELS: [&str; 3] = ["web", "app", "phone"];
        let text = |s: String| Datum::Text(s);
        let ts = |us: i64| Datum::TimestampTz(us);
        if let Some(persons) = id_of("persons") {
            let h = mix(k, 1);
            let (city, state) = CITIES[(h % 6) as usize];
            let first = FIRST[(h >> 8) as usize % FIRST.len()];
            out.push((
                persons,
                Row::new(vec![
                    Datum::Int64(k as i64),
                    text(format!("{first} {k}")),
                    text(format!("{}{k}@example.com", first.to_lowercase())),
                    text(city.into()),
                    text(state.into()),
                    ts(now_us),
                ]),
                1,
            ));
        }
        if let Some(auctions) = id_of("auctions") {
            for j in 0..3u64 {
                let a = k * 3 + j;
                let h = mix(a, 2);
                let initial = 10 + (h % 90) as i64;
                out.push((
                    auctions,
                    Row::new(vec![
                        Datum::Int64(a as i64),
                        Datum::Int64((h >> 16) as i64 % (k as i64 + 1)),
                        Datum::Int32(((h >> 32) % 5) as i32),
                        text(ITEMS[(h >> 40) as usize % ITEMS.len()].into()),
                        Datum::Int64(initial),
                        Datum::Int64(initial * 2 + (h >> 48) as i64 % 50),
                        ts(now_us),
                        ts(now_us + (10 + (h >> 24) as i64 % 50) * 1_000_000),
                    ]),
                    1,
                ));
            }
        }
        if let Some(bids) = id_of("bids") {
            for j in 0..46u64 {
                let b = k * 46 + j;
                let h = mix(b, 3);
                // a recent auction (the last ten ticks')
                let newest = k * 3 + 2;
                let auction = newest.saturating_sub(h % 30);
                out.push((
                    bids,
                    Row::new(vec![
                        Datum::Int64(b as i64),
                        Datum::Int64(auction as i64),
                        Datum::Int64(((h >> 16) % (k + 1)) as i64),
                        Datum::Int64(10 + ((h >> 24) % 500) as i64),
                        text(CHANNELS[(h >> 40) as usize % 3].into()),
                        ts(now_us),
                    ]),
                    1,
                ));
            }
        }
        out
    }

    /// The complete records appended to the file since the offset (a byte
    /// position): lines of JSON, or CSV records (which may span lines inside
    /// quotes). A record that does not fit the columns is skipped and
    /// counted.
    fn read_file(&self, path: &str, json: bool, header: bool) -> SqlResult<Batch> {
        use std::io::{Read, Seek, SeekFrom};
        let io = |what: &str, e: std::io::Error| {
            SqlError::new(
                sqlstate::IO_ERROR,
                format!("could not {what} \"{path}\": {e}"),
            )
        };
        let mut f = std::fs::File::open(path).map_err(|e| io("open", e))?;
        let len = f.metadata().map_err(|e| io("stat", e))?.len();
        if len < self.offset {
            return Err(SqlError::new(
                sqlstate::IO_ERROR,
                format!(
                    "\"{path}\" shrank to {len} bytes, below the {} already read; waiting for it to grow back",
                    self.offset
                ),
            ));
        }
        f.seek(SeekFrom::Start(self.offset))
            .map_err(|e| io("read", e))?;
        let mut buf = vec![];
        f.take(64 << 20)
            .read_to_end(&mut buf)
            .map_err(|e| io("read", e))?;
        let (records, used) = if json { lines(&buf) } else { csv_records(&buf) };
        let columns = &self.outputs[0].2;
        let mut batch = Batch {
            to: self.offset + used as u64,
            ..Default::default()
        };
        for (n, record) in records.into_iter().enumerate() {
            if self.offset == 0 && n == 0 && header {
                continue;
            }
            let record = record.strip_suffix(b"\r").unwrap_or(record);
            if record.is_empty() {
                continue;
            }
            let row = if json {
                std::str::from_utf8(record)
                    .map_err(|_| SqlError::new(sqlstate::CHARACTER_NOT_IN_REPERTOIRE, "not UTF-8"))
                    .and_then(|t| catalog::json::object_row(t, columns))
            } else {
                csv_row(record, columns, &self.name)
            };
            match row {
                Ok(r) => batch.updates.push((self.id, r, 1)),
                Err(e) => {
                    let shown = String::from_utf8_lossy(record);
                    warn!(
                        source = %self.name,
                        error = %e.message,
                        record = %shown,
                        "skipped a record that does not fit the source's columns"
                    );
                    batch.skipped += 1;
                    batch.skip_error = Some(format!("skipped {shown:?}: {}", e.message));
                }
            }
        }
        Ok(batch)
    }
}

/// The complete lines of `buf` (without their `\n`), and the bytes they
/// take.
fn lines(buf: &[u8]) -> (Vec<&[u8]>, usize) {
    let Some(end) = buf.iter().rposition(|b| *b == b'\n') else {
        return (vec![], 0);
    };
    (buf[..end].split(|b| *b == b'\n').collect(), end + 1)
}

/// The complete CSV records of `buf` (without their final `\n`; a quoted
/// field may hold newlines), and the bytes they take.
fn csv_records(buf: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut records = vec![];
    let (mut start, mut quoted) = (0, false);
    for (i, b) in buf.iter().enumerate() {
        match b {
            // a doubled quote inside quotes toggles twice
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                records.push(&buf[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    (records, start)
}

/// One CSV record as a row of `columns` (COPY's CSV rules).
fn csv_row(line: &[u8], columns: &[Column], name: &str) -> SqlResult<Row> {
    let mut d = planner::copy::CopyDecoder::new(planner::copy::CopyFrom {
        table: GlobalId(0),
        name: name.to_string(),
        fields: columns.to_vec(),
        fill: (0..columns.len())
            .map(planner::copy::CopyColumn::Field)
            .collect(),
        options: planner::copy::CopyOptions {
            csv: true,
            delimiter: ',',
            null: String::new(),
            ..Default::default()
        },
    });
    d.feed(line)?;
    d.finish()?
        .pop()
        .map(|(r, _)| r)
        .ok_or_else(|| SqlError::new(sqlstate::BAD_COPY_FILE_FORMAT, "an empty line"))
}

/// The wall clock in microseconds since the Unix epoch.
fn unix_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// A well-spread hash of `x` in stream `s` (splitmix64).
fn mix(x: u64, s: u64) -> u64 {
    let mut z = x
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(s.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_span_quoted_newlines_and_stop_at_a_partial_one() {
        let buf = b"1,\"two\nlines\"\n2,\"say \"\"hi\"\"\"\n3,\"open\nstill";
        let (records, used) = csv_records(buf);
        assert_eq!(
            records,
            vec![&b"1,\"two\nlines\""[..], &b"2,\"say \"\"hi\"\"\""[..]]
        );
        assert_eq!(&buf[used..], b"3,\"open\nstill");
        let cols = vec![
            Column::new("id", catalog::ScalarType::Int32, true),
            Column::new("t", catalog::ScalarType::Text, true),
        ];
        let row = csv_row(records[0], &cols, "s").unwrap();
        assert_eq!(row.get(1), &Datum::Text("two\nlines".into()));
        let row = csv_row(records[1], &cols, "s").unwrap();
        assert_eq!(row.get(1), &Datum::Text("say \"hi\"".into()));
    }

    #[test]
    fn lines_keep_a_partial_last_line() {
        assert_eq!(lines(b"a\nb\nc"), (vec![&b"a"[..], &b"b"[..]], 4));
        assert_eq!(lines(b"partial"), (vec![], 0));
    }
}
