//! The durable log: an ordered sequence of catalog changes and table
//! writes, so that replaying it (after the latest checkpoint) rebuilds the
//! catalog and every table's contents together. Each record is framed as
//! `len: u32 | crc32: u32 | payload` (bincode), and is acknowledged only
//! after `sync_data`.
//!
//! The log is split into segments, `log.<seq>`. A checkpoint
//! (`checkpoint.<seq>`, see [`crate::checkpoint`]) holds the state that
//! every segment before `<seq>` produced, so once it is durable those
//! segments are deleted: the log does not grow without bound.
//!
//! A torn record at the tail of the last segment (a crash mid-append) is
//! dropped with a warning; a bad record anywhere else is corruption and
//! stops start-up with the file and offset.

use crate::catalog::CatalogItem;
use crate::error::{sqlstate, SqlError, SqlResult};
use crate::types::{Diff, GlobalId, Row, Timestamp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The on-disk format version written to `FORMAT`.
pub const FORMAT_VERSION: &str = "ripple-log-3";
/// The previous format (one `log` file, no checkpoints), upgraded in place.
const FORMAT_V2: &str = "ripple-log-2";
pub(crate) const HEADER: usize = 8;

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
    /// Source `id` has read up to `offset` (grouped with the write of what
    /// it read, so a restart neither repeats nor skips any of it).
    SourceOffset { id: GlobalId, offset: u64 },
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

/// What start-up finds in the data directory.
#[derive(Debug)]
pub struct Recovered {
    /// The latest checkpoint, if one was taken: the state before the
    /// first segment below.
    pub checkpoint: Option<PathBuf>,
    /// The records of the segments after the checkpoint, in order.
    pub records: Vec<LogRecord>,
    /// Bytes of log read.
    pub log_bytes: u64,
    /// Segments read.
    pub segments: usize,
}

/// An open, append-only log segment plus the data directory's lock.
pub struct Wal {
    file: File,
    path: PathBuf,
    dir: PathBuf,
    /// The open segment's sequence number.
    seq: u64,
    /// Held for the life of the process so a second server cannot share the directory.
    _lock: File,
    fsync: bool,
    /// Length of the segment's complete records: a failed append is cut back
    /// to it, so no partial record stays in front of later ones.
    len: u64,
    /// Why the log takes no more writes (a failed fsync, or a failed
    /// append that could not be cut back): until a restart re-reads it.
    broken: Option<String>,
    /// Tests: the next append writes only this many bytes, then fails.
    #[cfg(test)]
    fail_after: Option<usize>,
}

pub(crate) fn io_err(what: &str, path: &Path, e: std::io::Error) -> SqlError {
    let code = match e.raw_os_error() {
        Some(28) | Some(122) => sqlstate::DISK_FULL, // ENOSPC, EDQUOT
        _ => sqlstate::IO_ERROR,
    };
    SqlError::new(
        code,
        format!("could not {what} \"{}\": {e}", path.display()),
    )
}

/// The path of log segment `seq`.
pub fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("log.{seq:020}"))
}

/// The path of the checkpoint that covers the segments before `seq`.
pub fn checkpoint_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("checkpoint.{seq:020}"))
}

/// The files of the data directory: log segments and checkpoints by
/// sequence number. Leftover temporary files of an unfinished checkpoint
/// are removed.
fn scan(dir: &Path) -> SqlResult<(Vec<u64>, Vec<u64>)> {
    let (mut segments, mut checkpoints) = (vec![], vec![]);
    let entries = std::fs::read_dir(dir).map_err(|e| io_err("read directory", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err("read directory", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp") {
            tracing::info!(file = %name, "removing an unfinished checkpoint");
            let _ = std::fs::remove_file(entry.path());
        } else if let Some(n) = name.strip_prefix("log.").and_then(|n| n.parse().ok()) {
            segments.push(n);
        } else if let Some(n) = name
            .strip_prefix("checkpoint.")
            .and_then(|n| n.parse().ok())
        {
            checkpoints.push(n);
        }
    }
    segments.sort_unstable();
    checkpoints.sort_unstable();
    Ok((segments, checkpoints))
}

/// Deletes the segments and checkpoints that the checkpoint `seq` replaces.
pub fn remove_before(dir: &Path, seq: u64) -> SqlResult<()> {
    let (segments, checkpoints) = scan(dir)?;
    for s in segments.into_iter().filter(|s| *s < seq) {
        let p = segment_path(dir, s);
        std::fs::remove_file(&p).map_err(|e| io_err("remove", &p, e))?;
    }
    for c in checkpoints.into_iter().filter(|c| *c < seq) {
        let p = checkpoint_path(dir, c);
        std::fs::remove_file(&p).map_err(|e| io_err("remove", &p, e))?;
    }
    sync_dir(dir)
}

/// Makes renames, creations and deletions in `dir` durable.
pub fn sync_dir(dir: &Path) -> SqlResult<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("fsync directory", dir, e))
}

impl Wal {
    /// Opens (creating if needed) the log in `dir`, locks the directory, and
    /// returns what recovery needs: the latest checkpoint and the records
    /// after it.
    pub fn open(dir: &Path, fsync: bool) -> SqlResult<(Wal, Recovered)> {
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
        let (segments, checkpoints) = scan(dir)?;
        let base = checkpoints.last().copied().unwrap_or(0);
        // a crash between a checkpoint's rename and the removal of what it
        // replaces leaves older files: they are not needed
        if segments.first().is_some_and(|s| *s < base) || checkpoints.len() > 1 {
            remove_before(dir, base)?;
        }
        let mut live: Vec<u64> = segments.into_iter().filter(|s| *s >= base).collect();
        if live.is_empty() {
            live.push(base);
        }
        let mut records = Vec::new();
        let mut log_bytes = 0;
        let last = *live.last().expect("one segment at least");
        for &seq in &live[..live.len() - 1] {
            let path = segment_path(dir, seq);
            let bytes = std::fs::read(&path).map_err(|e| io_err("read", &path, e))?;
            let (recs, valid) = decode_all::<LogRecord>(&bytes, &path)?;
            if valid < bytes.len() {
                // only the last segment is ever appended to after a crash
                return Err(corrupt(&path, valid));
            }
            log_bytes += bytes.len() as u64;
            records.extend(recs);
        }
        let path = segment_path(dir, last);
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
        let (recs, valid_len) = decode_all::<LogRecord>(&bytes, &path)?;
        records.extend(recs);
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
        log_bytes += valid_len as u64;
        Ok((
            Wal {
                file,
                path,
                dir: dir.to_path_buf(),
                seq: last,
                _lock: lock,
                fsync,
                len: valid_len as u64,
                broken: None,
                #[cfg(test)]
                fail_after: None,
            },
            Recovered {
                checkpoint: (!checkpoints.is_empty()).then(|| checkpoint_path(dir, base)),
                records,
                log_bytes,
                segments: live.len(),
            },
        ))
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether appends are synced to disk.
    pub fn fsync(&self) -> bool {
        self.fsync
    }

    /// Bytes in the open segment.
    pub fn segment_bytes(&self) -> u64 {
        self.len
    }

    /// Starts a new segment and returns its sequence number: every record
    /// appended so far is in the segments before it, every later one in it
    /// or after.
    pub fn rotate(&mut self) -> SqlResult<u64> {
        if let Some(why) = &self.broken {
            return Err(self.refusal(why));
        }
        let seq = self.seq + 1;
        let path = segment_path(&self.dir, seq);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| io_err("create", &path, e))?;
        if self.fsync {
            sync_dir(&self.dir)?;
        }
        self.file = file;
        self.path = path;
        self.seq = seq;
        self.len = 0;
        Ok(seq)
    }

    fn refusal(&self, why: &str) -> SqlError {
        SqlError::new(
            sqlstate::IO_ERROR,
            format!(
                "the log \"{}\" takes no more writes since {why}; reads still work, restart the server to write again",
                self.path.display()
            ),
        )
    }

    /// Appends `records` and makes them durable before returning.
    pub fn append(&mut self, records: &[LogRecord]) -> SqlResult<()> {
        let mut buf = Vec::new();
        for r in records {
            encode_frame(r, &mut buf)?;
        }
        if let Some(why) = &self.broken {
            return Err(self.refusal(why));
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

/// Appends `record` to `buf` as one frame.
pub(crate) fn encode_frame<T: Serialize>(record: &T, buf: &mut Vec<u8>) -> SqlResult<()> {
    let payload = bincode::serialize(record)
        .map_err(|e| SqlError::internal(format!("could not encode a record: {e}")))?;
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    buf.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    buf.extend_from_slice(&payload);
    Ok(())
}

pub(crate) fn corrupt(path: &Path, offset: usize) -> SqlError {
    let kind = match path.file_name().and_then(|n| n.to_str()) {
        Some(n) if n.starts_with("checkpoint") => "checkpoint",
        _ => "log",
    };
    SqlError::new(
        sqlstate::DATA_CORRUPTED,
        format!(
            "{kind} file \"{}\" is corrupt at offset {offset}; refusing to start",
            path.display()
        ),
    )
}

fn check_format(dir: &Path) -> SqlResult<()> {
    let path = dir.join("FORMAT");
    match std::fs::read_to_string(&path) {
        Ok(v) if v.trim() == FORMAT_VERSION => Ok(()),
        Ok(v) if v.trim() == FORMAT_V2 => {
            // one `log` file becomes the first segment
            let old = dir.join("log");
            if old.exists() {
                let new = segment_path(dir, 0);
                std::fs::rename(&old, &new).map_err(|e| io_err("rename", &old, e))?;
            }
            write_format(dir)
        }
        Ok(v) => Err(SqlError::new(
            sqlstate::IO_ERROR,
            format!(
                "data directory \"{}\" has format \"{}\", this ripple reads \"{}\"",
                dir.display(),
                v.trim(),
                FORMAT_VERSION
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => write_format(dir),
        Err(e) => Err(io_err("read", &path, e)),
    }
}

fn write_format(dir: &Path) -> SqlResult<()> {
    let tmp = dir.join("FORMAT.new");
    let path = dir.join("FORMAT");
    File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(FORMAT_VERSION.as_bytes())?;
            f.sync_all()
        })
        .map_err(|e| io_err("write", &tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io_err("rename", &tmp, e))?;
    sync_dir(dir)
}

/// Frames' payloads with their offsets in the file.
pub(crate) type Frames<'a> = Vec<(usize, &'a [u8])>;

/// Checks every whole frame's checksum; returns the payloads and the
/// length of the valid prefix. A bad frame that is the last thing in the
/// file is a torn tail; a bad frame followed by more bytes is corruption.
pub(crate) fn frames<'a>(bytes: &'a [u8], path: &Path) -> SqlResult<(Frames<'a>, usize)> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < bytes.len() {
        let rest = &bytes[off..];
        let frame = (rest.len() >= HEADER).then(|| {
            let len = u32::from_le_bytes(rest[0..4].try_into().unwrap()) as usize;
            let crc = u32::from_le_bytes(rest[4..8].try_into().unwrap());
            (len, crc)
        });
        let payload = frame.and_then(|(len, crc)| {
            let payload = rest.get(HEADER..HEADER + len)?;
            (crc32fast::hash(payload) == crc).then_some(payload)
        });
        match payload {
            Some(p) => {
                out.push((off, p));
                off += HEADER + p.len();
            }
            None => {
                let torn = match frame {
                    None => true,
                    Some((len, _)) => off + HEADER + len >= bytes.len(),
                };
                if torn {
                    return Ok((out, off));
                }
                return Err(corrupt(path, off));
            }
        }
    }
    Ok((out, off))
}

/// Decodes every whole record (see [`frames`]); a frame whose checksum
/// holds but which does not decode is corruption.
fn decode_all<T: DeserializeOwned>(bytes: &[u8], path: &Path) -> SqlResult<(Vec<T>, usize)> {
    let (frames, valid) = frames(bytes, path)?;
    let records = frames
        .into_iter()
        .map(|(off, p)| bincode::deserialize(p).map_err(|_| corrupt(path, off)))
        .collect::<SqlResult<Vec<T>>>()?;
    Ok((records, valid))
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

    /// Loses the last `n` bytes of segment 0, as a crash mid-append does.
    fn cut_segment_0(dir: &Path, n: u64) {
        let log = segment_path(dir, 0);
        let len = std::fs::metadata(&log).unwrap().len();
        let f = OpenOptions::new().write(true).open(&log).unwrap();
        f.set_len(len - n).unwrap();
    }

    #[test]
    fn replays_and_drops_torn_tail() {
        let dir = tempdir("torn");
        {
            let (mut wal, rec) = Wal::open(&dir, true).unwrap();
            assert!(rec.records.is_empty() && rec.checkpoint.is_none());
            wal.append(&[write(1), write(2)]).unwrap();
        }
        cut_segment_0(&dir, 3);
        let (_wal, rec) = Wal::open(&dir, true).unwrap();
        let recs = rec.records;
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
        let (_wal, rec) = Wal::open(&dir, true).unwrap();
        let recs = rec.records;
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
        // the tail of the group's frame (its last record) is lost
        cut_segment_0(&dir, 3);
        let (_wal, rec) = Wal::open(&dir, true).unwrap();
        let recs = rec.records;
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
        let log = segment_path(&dir, 0);
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

    #[test]
    fn segments_after_the_checkpoint_are_replayed() {
        let dir = tempdir("segments");
        {
            let (mut wal, _) = Wal::open(&dir, true).unwrap();
            wal.append(&[write(1)]).unwrap();
            let seq = wal.rotate().unwrap();
            assert_eq!(seq, 1);
            wal.append(&[write(2)]).unwrap();
            wal.rotate().unwrap();
            wal.append(&[write(3)]).unwrap();
            // a checkpoint covering segment 0 is written, then the crash
            // comes before the old segment is removed
            std::fs::write(checkpoint_path(&dir, 1), b"").unwrap();
        }
        let (_wal, rec) = Wal::open(&dir, true).unwrap();
        assert_eq!(rec.records, vec![write(2), write(3)]);
        assert_eq!(rec.checkpoint, Some(checkpoint_path(&dir, 1)));
        assert_eq!(rec.segments, 2);
        assert!(!segment_path(&dir, 0).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_torn_segment_before_the_last_is_corruption() {
        let dir = tempdir("tornmid");
        {
            let (mut wal, _) = Wal::open(&dir, true).unwrap();
            wal.append(&[write(1), write(2)]).unwrap();
            wal.rotate().unwrap();
            wal.append(&[write(3)]).unwrap();
        }
        cut_segment_0(&dir, 3);
        let err = Wal::open(&dir, true).err().unwrap();
        assert_eq!(err.code, sqlstate::DATA_CORRUPTED);
        assert!(
            err.message.contains("log.00000000000000000000"),
            "{}",
            err.message
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_version_2_directory_is_upgraded() {
        let dir = tempdir("v2");
        std::fs::create_dir_all(&dir).unwrap();
        let mut buf = vec![];
        encode_frame(&write(1), &mut buf).unwrap();
        std::fs::write(dir.join("log"), buf).unwrap();
        std::fs::write(dir.join("FORMAT"), FORMAT_V2).unwrap();
        let (_wal, rec) = Wal::open(&dir, true).unwrap();
        assert_eq!(rec.records, vec![write(1)]);
        assert_eq!(
            std::fs::read_to_string(dir.join("FORMAT")).unwrap(),
            FORMAT_VERSION
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unknown_format_is_refused() {
        let dir = tempdir("format");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("FORMAT"), "ripple-log-99").unwrap();
        let err = Wal::open(&dir, true).err().unwrap();
        assert!(err.message.contains("ripple-log-99"), "{}", err.message);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
