//! The durable log: one ordered file of catalog changes and table writes, so
//! that replaying it rebuilds the catalog and every table's contents
//! together. Each record is framed as `len: u32 | crc32: u32 | payload`
//! (bincode), and is acknowledged only after `sync_data`.
//!
//! A torn record at the tail (a crash mid-append) is dropped with a warning;
//! a bad record followed by more data is corruption and stops start-up.

use crate::catalog::CatalogItem;
use crate::error::{sqlstate, SqlError, SqlResult};
use crate::types::{Diff, GlobalId, Row, Timestamp};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The on-disk format version written to `FORMAT`.
pub const FORMAT_VERSION: &str = "ripple-log-2";
const HEADER: usize = 8;

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LogRecord {
    /// A catalog item was created.
    Create(CatalogItem),
    /// Catalog items were dropped.
    Drop(Vec<GlobalId>),
    /// Table updates committed atomically at `ts`.
    Write {
        ts: Timestamp,
        updates: Vec<(GlobalId, Row, Diff)>,
    },
    /// A role was created or altered: its whole new definition, replacing
    /// the role called `replaces` too when it was renamed. (New variants go
    /// last: records are encoded by variant index.)
    Role {
        role: crate::catalog::Role,
        replaces: Option<String>,
    },
    /// Roles were dropped.
    DropRoles(Vec<String>),
    /// Records that take effect together (CREATE TABLE … AS: the table and
    /// its rows): one frame, so a torn tail drops all of them.
    Group(Vec<LogRecord>),
}

impl LogRecord {
    /// The records in log order, with groups opened up.
    pub fn flatten(records: Vec<LogRecord>) -> Vec<LogRecord> {
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            match r {
                LogRecord::Group(inner) => out.extend(LogRecord::flatten(inner)),
                other => out.push(other),
            }
        }
        out
    }
}

/// An open, append-only log file plus the data directory's lock.
pub struct Wal {
    file: File,
    path: PathBuf,
    /// Held for the life of the process so a second server cannot share the directory.
    _lock: File,
    fsync: bool,
    /// Length of the log's complete records: a failed append is cut back
    /// to it, so no partial record stays in front of later ones.
    len: u64,
    /// Why the log takes no more writes (a failed fsync, or a failed
    /// append that could not be cut back): until a restart re-reads it.
    broken: Option<String>,
    /// Tests: the next append writes only this many bytes, then fails.
    #[cfg(test)]
    fail_after: Option<usize>,
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> SqlError {
    let code = if e.raw_os_error() == Some(28) {
        sqlstate::DISK_FULL // ENOSPC
    } else {
        sqlstate::IO_ERROR
    };
    SqlError::new(
        code,
        format!("could not {what} \"{}\": {e}", path.display()),
    )
}

impl Wal {
    /// Opens (creating if needed) the log in `dir`, locks the directory, and
    /// returns the records already in it.
    pub fn open(dir: &Path, fsync: bool) -> SqlResult<(Wal, Vec<LogRecord>)> {
        std::fs::create_dir_all(dir).map_err(|e| io_err("create directory", dir, e))?;
        let lock_path = dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_err("open", &lock_path, e))?;
        if lock.try_lock().is_err() {
            return Err(SqlError::new(
                sqlstate::IO_ERROR,
                format!(
                    "data directory \"{}\" is in use by another ripple process",
                    dir.display()
                ),
            ));
        }
        check_format(dir)?;
        let path = dir.join("log");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| io_err("open", &path, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| io_err("read", &path, e))?;
        let (records, valid_len) = decode_all(&bytes, &path)?;
        if valid_len < bytes.len() {
            tracing::warn!(
                file = %path.display(),
                offset = valid_len,
                dropped_bytes = bytes.len() - valid_len,
                "dropping torn record at the tail of the log"
            );
            file.set_len(valid_len as u64)
                .map_err(|e| io_err("truncate", &path, e))?;
            file.seek(SeekFrom::End(0))
                .map_err(|e| io_err("seek", &path, e))?;
        }
        Ok((
            Wal {
                file,
                path,
                _lock: lock,
                fsync,
                len: valid_len as u64,
                broken: None,
                #[cfg(test)]
                fail_after: None,
            },
            records,
        ))
    }

    /// Appends `records` and makes them durable before returning.
    pub fn append(&mut self, records: &[LogRecord]) -> SqlResult<()> {
        let mut buf = Vec::new();
        for r in records {
            let payload = bincode::serialize(r)
                .map_err(|e| SqlError::internal(format!("could not encode log record: {e}")))?;
            buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            buf.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
            buf.extend_from_slice(&payload);
        }
        if let Some(why) = &self.broken {
            return Err(SqlError::new(
                sqlstate::IO_ERROR,
                format!(
                    "the log \"{}\" takes no more writes since {why}; reads still work, restart the server to write again",
                    self.path.display()
                ),
            ));
        }
        if let Err(e) = self.write_frames(&buf) {
            let err = io_err("write to", &self.path, e);
            // cut the partial frames off, so later appends follow the last
            // complete record (a partial one in the middle of the log would
            // stop the next start-up as corruption)
            let cut = self
                .file
                .set_len(self.len)
                .and_then(|_| self.file.seek(SeekFrom::End(0)).map(|_| ()))
                .and_then(|_| {
                    if self.fsync {
                        self.file.sync_data()
                    } else {
                        Ok(())
                    }
                });
            if let Err(c) = cut {
                tracing::error!(file = %self.path.display(), error = %c, "could not cut a failed append off the log; refusing further writes");
                self.broken = Some(format!("a failed append could not be undone ({c})"));
            }
            return Err(err);
        }
        if self.fsync {
            if let Err(e) = self.file.sync_data() {
                // After a failed fsync the kernel may have dropped the pages
                // it could not write: nothing written since the last good
                // fsync can be trusted to be on disk, so take no more writes
                // rather than acknowledge ones that may be lost.
                tracing::error!(file = %self.path.display(), error = %e, "fsync of the log failed; refusing further writes");
                self.broken = Some(format!("an fsync failed ({e})"));
                return Err(io_err("fsync", &self.path, e));
            }
        }
        self.len += buf.len() as u64;
        Ok(())
    }

    fn write_frames(&mut self, buf: &[u8]) -> std::io::Result<()> {
        #[cfg(test)]
        if let Some(n) = self.fail_after.take() {
            self.file.write_all(&buf[..n.min(buf.len())])?;
            return Err(std::io::Error::from_raw_os_error(28));
        }
        self.file.write_all(buf)
    }
}

fn check_format(dir: &Path) -> SqlResult<()> {
    let path = dir.join("FORMAT");
    match std::fs::read_to_string(&path) {
        Ok(v) if v.trim() == FORMAT_VERSION => Ok(()),
        Ok(v) => Err(SqlError::new(
            sqlstate::IO_ERROR,
            format!(
                "data directory \"{}\" has format \"{}\", this ripple reads \"{}\"",
                dir.display(),
                v.trim(),
                FORMAT_VERSION
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::write(&path, FORMAT_VERSION).map_err(|e| io_err("write", &path, e))
        }
        Err(e) => Err(io_err("read", &path, e)),
    }
}

/// Decodes every whole record; returns them and the length of the valid
/// prefix. A bad frame that is the last thing in the file is a torn tail; a
/// bad frame followed by more bytes is corruption.
fn decode_all(bytes: &[u8], path: &Path) -> SqlResult<(Vec<LogRecord>, usize)> {
    let mut records = Vec::new();
    let mut off = 0;
    while off < bytes.len() {
        let rest = &bytes[off..];
        let frame = (rest.len() >= HEADER).then(|| {
            let len = u32::from_le_bytes(rest[0..4].try_into().unwrap()) as usize;
            let crc = u32::from_le_bytes(rest[4..8].try_into().unwrap());
            (len, crc)
        });
        let decoded = frame.and_then(|(len, crc)| {
            let payload = rest.get(HEADER..HEADER + len)?;
            if crc32fast::hash(payload) != crc {
                return None;
            }
            bincode::deserialize::<LogRecord>(payload)
                .ok()
                .map(|r| (r, len))
        });
        match decoded {
            Some((r, len)) => {
                records.push(r);
                off += HEADER + len;
            }
            None => {
                let torn = match frame {
                    None => true,
                    Some((len, _)) => off + HEADER + len >= bytes.len(),
                };
                if torn {
                    return Ok((records, off));
                }
                return Err(SqlError::new(
                    sqlstate::DATA_CORRUPTED,
                    format!(
                        "log file \"{}\" is corrupt at offset {off}; refusing to start",
                        path.display()
                    ),
                ));
            }
        }
    }
    Ok((records, off))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Datum;

    fn write(ts: u64) -> LogRecord {
        LogRecord::Write {
            ts,
            updates: vec![(GlobalId(1), Row::new(vec![Datum::Int64(ts as i64)]), 1)],
        }
    }

    fn tempdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ripple-wal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn replays_and_drops_torn_tail() {
        let dir = tempdir("torn");
        {
            let (mut wal, recs) = Wal::open(&dir, true).unwrap();
            assert!(recs.is_empty());
            wal.append(&[write(1), write(2)]).unwrap();
        }
        let log = dir.join("log");
        let len = std::fs::metadata(&log).unwrap().len();
        let f = OpenOptions::new().write(true).open(&log).unwrap();
        f.set_len(len - 3).unwrap();
        let (_wal, recs) = Wal::open(&dir, true).unwrap();
        assert_eq!(recs, vec![write(1)]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failed_append_leaves_no_partial_record() {
        let dir = tempdir("failed");
        {
            let (mut wal, _) = Wal::open(&dir, true).unwrap();
            wal.append(&[write(1)]).unwrap();
            // the disk fills up in the middle of the next record
            wal.fail_after = Some(5);
            let err = wal.append(&[write(2)]).unwrap_err();
            assert_eq!(err.code, sqlstate::DISK_FULL);
            // space comes back: the log goes on after record 1
            wal.append(&[write(3)]).unwrap();
        }
        let (_wal, recs) = Wal::open(&dir, true).unwrap();
        assert_eq!(recs, vec![write(1), write(3)]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_torn_group_is_dropped_whole() {
        let dir = tempdir("group");
        {
            let (mut wal, _) = Wal::open(&dir, true).unwrap();
            wal.append(&[write(1)]).unwrap();
            wal.append(&[LogRecord::Group(vec![write(2), write(3)])])
                .unwrap();
        }
        let log = dir.join("log");
        let len = std::fs::metadata(&log).unwrap().len();
        let f = OpenOptions::new().write(true).open(&log).unwrap();
        // the tail of the group's frame (its last record) is lost
        f.set_len(len - 3).unwrap();
        let (_wal, recs) = Wal::open(&dir, true).unwrap();
        assert_eq!(LogRecord::flatten(recs), vec![write(1)]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn groups_flatten_in_order() {
        let recs = vec![
            write(1),
            LogRecord::Group(vec![write(2), LogRecord::Group(vec![write(3)])]),
            write(4),
        ];
        assert_eq!(
            LogRecord::flatten(recs),
            vec![write(1), write(2), write(3), write(4)]
        );
    }

    #[test]
    fn corruption_in_the_middle_stops_startup() {
        let dir = tempdir("corrupt");
        {
            let (mut wal, _) = Wal::open(&dir, true).unwrap();
            wal.append(&[write(1), write(2)]).unwrap();
        }
        let log = dir.join("log");
        let mut bytes = std::fs::read(&log).unwrap();
        bytes[HEADER + 2] ^= 0xff;
        std::fs::write(&log, bytes).unwrap();
        let err = Wal::open(&dir, true).err().unwrap();
        assert!(
            err.message.contains("corrupt at offset 0"),
            "{}",
            err.message
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn second_open_is_refused() {
        let dir = tempdir("lock");
        let (_wal, _) = Wal::open(&dir, true).unwrap();
        let err = Wal::open(&dir, true).err().unwrap();
        assert!(err.message.contains("in use"), "{}", err.message);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
