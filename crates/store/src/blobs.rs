//! Message bodies too large to keep inside the database, as files named by
//! their SHA-256 under `blobs/ab/cd/<hex>`.
//!
//! A file is written to `blobs/tmp`, fsynced, renamed into place and its
//! directory fsynced, so a name that exists always holds the complete body
//! (DESIGN.md, durability rule). Content addressing makes a second write of
//! the same body a no-op.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use mailroom_types::BlobId;

#[derive(Debug)]
pub(crate) struct FsBlobs {
    root: PathBuf,
    counter: AtomicU64,
}

impl FsBlobs {
    pub(crate) fn new(root: PathBuf) -> Self {
        FsBlobs { root, counter: AtomicU64::new(0) }
    }

    pub(crate) fn path(&self, id: &BlobId) -> PathBuf {
        let hex = id.to_hex();
        self.root.join(&hex[..2]).join(&hex[2..4]).join(hex)
    }

    /// Writes the body durably unless it is already there.
    pub(crate) fn write(&self, id: &BlobId, bytes: &[u8]) -> io::Result<()> {
        let path = self.path(id);
        if path.exists() {
            return Ok(());
        }
        let dir = path.parent().ok_or_else(|| io::Error::other("blob path without parent"))?;
        create_dir_durably(dir)?;
        let tmp_dir = self.root.join("tmp");
        fs::create_dir_all(&tmp_dir)?;
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = tmp_dir.join(format!("{}.{}.{n}", id.to_hex(), std::process::id()));
        {
            let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        sync_dir(dir)
    }

    pub(crate) fn read(&self, id: &BlobId) -> io::Result<Vec<u8>> {
        fs::read(self.path(id))
    }

    /// Octets `range` of a body, cut at its end.
    pub(crate) fn read_range(&self, id: &BlobId, range: std::ops::Range<u64>) -> io::Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = File::open(self.path(id))?;
        file.seek(SeekFrom::Start(range.start))?;
        let mut out = Vec::new();
        file.take(range.end.saturating_sub(range.start)).read_to_end(&mut out)?;
        Ok(out)
    }

    /// Temporary files a crash left behind (never renamed into place).
    pub(crate) fn remove_stale_temporaries(&self, older_than_seconds: i64) {
        let Ok(entries) = fs::read_dir(self.root.join("tmp")) else { return };
        let limit = std::time::Duration::from_secs(older_than_seconds.max(0) as u64);
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= limit);
            if old {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    pub(crate) fn remove(&self, id: &BlobId) -> io::Result<()> {
        match fs::remove_file(self.path(id)) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }
}

/// Creates `dir` and its missing parents, fsyncing each parent whose entry
/// list changed so the new directories survive a crash.
fn create_dir_durably(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir_durably(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(err) => return Err(err),
    }
    match dir.parent() {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_remove() {
        let tmp = tempfile::tempdir().unwrap();
        let blobs = FsBlobs::new(tmp.path().join("blobs"));
        let id = BlobId([7; 32]);
        blobs.write(&id, b"hello").unwrap();
        blobs.write(&id, b"hello").unwrap();
        assert_eq!(blobs.read(&id).unwrap(), b"hello");
        assert!(blobs.path(&id).to_string_lossy().contains("/07/07/0707"));
        assert_eq!(fs::read_dir(tmp.path().join("blobs/tmp")).unwrap().count(), 0, "no temp files left");
        blobs.remove(&id).unwrap();
        blobs.remove(&id).unwrap();
        assert!(blobs.read(&id).is_err());
    }
}
