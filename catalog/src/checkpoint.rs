//! Checkpoints: the consolidated state that the log segments before a
//! sequence number produced (the catalog, every table's contents, and the
//! contents of materialized views), in one file, so those segments can be
//! deleted and start-up reads live data instead of history.
//!
//! A checkpoint is written to `checkpoint.<seq>.tmp`, synced, and renamed
//! into place, so a crash mid-write leaves the previous checkpoint in
//! charge. Its records are framed like the log's (length and CRC); a file
//! that does not end with its `End` record, or whose counts disagree, is
//! corrupt and stops start-up, never loaded in part.

use crate::catalog::Catalog;
use crate::error::{SqlError, SqlResult};
use crate::types::{Diff, GlobalId, Row, Timestamp};
use crate::wal::{checkpoint_path, corrupt, encode_frame, frames, io_err, sync_dir};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Rows per frame: small enough to decode frames in parallel.
const CHUNK_ROWS: usize = 16_384;

/// The writer syncs the file every this many bytes, so the disk writes the
/// checkpoint out steadily instead of in one burst at the end, which would
/// stall the log's own fsyncs (and so the writers' acknowledgements) behind
/// it.
const SYNC_EVERY: u64 = 32 << 20;

/// One frame of a checkpoint file, as read back.
#[derive(Debug, Deserialize)]
enum Record {
    /// First: the state's timestamp, the catalog (roles included), and the
    /// collections whose rows follow (an empty one has no `Rows`).
    Header {
        ts: Timestamp,
        catalog: Catalog,
        collections: Vec<GlobalId>,
    },
    /// Some of one collection's rows.
    Rows {
        id: GlobalId,
        rows: Vec<(Row, Diff)>,
    },
    /// Last: how many frames and rows came before it.
    End { chunks: u64, rows: u64 },
}

/// [`Record`] as written, borrowing what it encodes (the same encoding).
#[derive(Serialize)]
enum RecordRef<'a> {
    Header {
        ts: Timestamp,
        catalog: &'a Catalog,
        collections: &'a [GlobalId],
    },
    Rows {
        id: GlobalId,
        rows: &'a [(Row, Diff)],
    },
    End {
        chunks: u64,
        rows: u64,
    },
}

/// What a finished checkpoint holds.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckpointStats {
    pub rows: u64,
    pub bytes: u64,
}

/// Writes one checkpoint file.
pub struct CheckpointWriter {
    out: BufWriter<File>,
    tmp: PathBuf,
    path: PathBuf,
    dir: PathBuf,
    fsync: bool,
    chunks: u64,
    rows: u64,
    bytes: u64,
    /// `bytes` at the last sync.
    synced: u64,
    buf: Vec<u8>,
}

impl CheckpointWriter {
    /// Starts checkpoint `seq` (covering the log segments before `seq`)
    /// of the state at `ts`, holding the rows of `collections`.
    pub fn create(
        dir: &Path,
        seq: u64,
        fsync: bool,
        ts: Timestamp,
        catalog: &Catalog,
        collections: &[GlobalId],
    ) -> SqlResult<Self> {
        let path = checkpoint_path(dir, seq);
        let tmp = path.with_extension(format!(
            "{}.tmp",
            path.extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default()
        ));
        let file = File::create(&tmp).map_err(|e| io_err("create", &tmp, e))?;
        let mut w = CheckpointWriter {
            out: BufWriter::with_capacity(1 << 20, file),
            tmp,
            path,
            dir: dir.to_path_buf(),
            fsync,
            chunks: 0,
            rows: 0,
            bytes: 0,
            synced: 0,
            buf: Vec::new(),
        };
        w.write(&RecordRef::Header {
            ts,
            catalog,
            collections,
        })?;
        Ok(w)
    }

    fn write(&mut self, record: &RecordRef) -> SqlResult<()> {
        self.buf.clear();
        encode_frame(record, &mut self.buf)?;
        self.out
            .write_all(&self.buf)
            .map_err(|e| io_err("write to", &self.tmp, e))?;
        self.bytes += self.buf.len() as u64;
        if self.fsync && self.bytes - self.synced >= SYNC_EVERY {
            self.out
                .flush()
                .and_then(|_| self.out.get_ref().sync_data())
                .map_err(|e| io_err("fsync", &self.tmp, e))?;
            self.synced = self.bytes;
        }
        Ok(())
    }

    /// Adds rows of collection `id`.
    pub fn rows(&mut self, id: GlobalId, rows: &[(Row, Diff)]) -> SqlResult<()> {
        for chunk in rows.chunks(CHUNK_ROWS) {
            self.write(&RecordRef::Rows { id, rows: chunk })?;
            self.chunks += 1;
            self.rows += chunk.len() as u64;
        }
        Ok(())
    }

    /// Seals the file and puts it in place; only then may the log segments
    /// it covers go.
    pub fn finish(mut self) -> SqlResult<CheckpointStats> {
        self.write(&RecordRef::End {
            chunks: self.chunks,
            rows: self.rows,
        })?;
        let file = self
            .out
            .into_inner()
            .map_err(|e| io_err("write to", &self.tmp, e.into_error()))?;
        if self.fsync {
            file.sync_all().map_err(|e| io_err("fsync", &self.tmp, e))?;
        }
        std::fs::rename(&self.tmp, &self.path).map_err(|e| io_err("rename", &self.tmp, e))?;
        if self.fsync {
            sync_dir(&self.dir)?;
        }
        Ok(CheckpointStats {
            rows: self.rows,
            bytes: self.bytes,
        })
    }

    /// Gives up: the temporary file goes.
    pub fn abandon(self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// A checkpoint read back.
#[derive(Debug)]
pub struct Checkpoint {
    /// The time of the state it holds.
    pub ts: Timestamp,
    pub catalog: Catalog,
    /// Rows of every table and materialized view it holds.
    pub contents: BTreeMap<GlobalId, Vec<(Row, Diff)>>,
    /// The collections it holds (some may have no rows).
    pub collections: std::collections::BTreeSet<GlobalId>,
    pub stats: CheckpointStats,
}

/// Reads a checkpoint, decoding its frames on every core. Anything short
/// of a whole, consistent file is corruption.
pub fn load(path: &Path) -> SqlResult<Checkpoint> {
    let bytes = std::fs::read(path).map_err(|e| io_err("read", path, e))?;
    let (frames, valid) = frames(&bytes, path)?;
    if valid < bytes.len() {
        return Err(corrupt(path, valid));
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let per = frames.len().div_ceil(threads).max(1);
    let decoded: Vec<SqlResult<Vec<Record>>> = std::thread::scope(|s| {
        let handles: Vec<_> = frames
            .chunks(per)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|(off, p)| bincode::deserialize(p).map_err(|_| corrupt(path, *off)))
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(SqlError::internal("checkpoint decoder panicked")))
            })
            .collect()
    });
    let mut records = Vec::with_capacity(frames.len());
    for part in decoded {
        records.extend(part?);
    }
    let end_offset = frames.last().map_or(0, |(off, _)| *off);
    let mut it = records.into_iter();
    let Some(Record::Header {
        ts,
        catalog,
        collections,
    }) = it.next()
    else {
        return Err(corrupt(path, 0));
    };
    let mut contents: BTreeMap<GlobalId, Vec<(Row, Diff)>> = BTreeMap::new();
    let (mut chunks, mut rows) = (0u64, 0u64);
    let mut ended = false;
    for r in it {
        match r {
            Record::Rows { id, rows: part } if !ended && collections.contains(&id) => {
                chunks += 1;
                rows += part.len() as u64;
                let slot = contents.entry(id).or_default();
                if slot.is_empty() {
                    *slot = part;
                } else {
                    slot.extend(part);
                }
            }
            Record::End { chunks: c, rows: n } if !ended && c == chunks && n == rows => {
                ended = true
            }
            _ => return Err(corrupt(path, end_offset)),
        }
    }
    if !ended {
        return Err(corrupt(path, valid));
    }
    Ok(Checkpoint {
        ts,
        catalog,
        contents,
        collections: collections.into_iter().collect(),
        stats: CheckpointStats {
            rows,
            bytes: bytes.len() as u64,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Datum;

    fn tempdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ripple-ckpt-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn rows(n: i64) -> Vec<(Row, Diff)> {
        (0..n)
            .map(|i| {
                (
                    Row::new(vec![Datum::Int64(i), Datum::Text(format!("r{i}"))]),
                    1,
                )
            })
            .collect()
    }

    #[test]
    fn round_trip() {
        let dir = tempdir("roundtrip");
        let mut cat = Catalog::new();
        cat.allocate_id();
        let ids = [GlobalId(1), GlobalId(2), GlobalId(3)];
        let mut w = CheckpointWriter::create(&dir, 3, true, 42, &cat, &ids).unwrap();
        w.rows(GlobalId(1), &rows(40_000)).unwrap();
        w.rows(GlobalId(2), &rows(3)).unwrap();
        w.rows(GlobalId(3), &[]).unwrap();
        let stats = w.finish().unwrap();
        assert_eq!(stats.rows, 40_003);
        let mut c = load(&checkpoint_path(&dir, 3)).unwrap();
        assert_eq!(c.ts, 42);
        assert_eq!(c.contents[&GlobalId(1)], rows(40_000));
        assert_eq!(c.contents[&GlobalId(2)], rows(3));
        // an empty collection is held, with no rows
        assert!(c.collections.contains(&GlobalId(3)) && !c.contents.contains_key(&GlobalId(3)));
        assert_eq!(c.catalog.allocate_id(), GlobalId(2));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_cut_or_damaged_checkpoint_is_refused() {
        let dir = tempdir("damaged");
        let cat = Catalog::new();
        let mut w = CheckpointWriter::create(&dir, 1, true, 1, &cat, &[GlobalId(1)]).unwrap();
        w.rows(GlobalId(1), &rows(50_000)).unwrap();
        w.finish().unwrap();
        let path = checkpoint_path(&dir, 1);
        let whole = std::fs::read(&path).unwrap();
        // cut at a frame boundary: every frame checks, but End is missing
        let (frames, _) = frames(&whole, &path).unwrap();
        let cut = frames.last().unwrap().0;
        std::fs::write(&path, &whole[..cut]).unwrap();
        let err = load(&path).unwrap_err();
        assert!(err.message.contains("checkpoint file"), "{}", err.message);
        // a flipped byte inside
        let mut bad = whole.clone();
        bad[cut / 2] ^= 0x55;
        std::fs::write(&path, &bad).unwrap();
        assert!(load(&path).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
