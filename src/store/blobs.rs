//! File contents (attachments) live beside the database, behind [`BlobStore`]: the database
//! keeps what a file is and who may see it, the blob store only its bytes by key. The one
//! backend today keeps them under the data directory ([`FsBlobs`]); an object store can take
//! its place behind the same interface.
//!
//! Order of writes: a blob is stored (and synced) before the row that names it is committed, and
//! deleted only after the row is gone; a crash in between leaves an unnamed blob, which
//! [`BlobStore::keys`] lets the timers find and remove, never a row without its bytes.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

pub type BlobError = Box<dyn std::error::Error + Send + Sync>;

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `bytes` under `key` durably (replacing nothing: keys are fresh ids).
    async fn put(&self, key: &str, bytes: bytes::Bytes) -> Result<(), BlobError>;
    /// The bytes stored under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<bytes::Bytes>, BlobError>;
    /// Removes `key`; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// Every stored key with its age, for the sweep of blobs no row names.
    async fn keys(&self) -> Result<Vec<(String, std::time::Duration)>, BlobError>;
}

/// Blobs as files: `<root>/<first two characters of the key>/<key>`, written to a temporary file,
/// synced, then renamed into place, so a reader never sees half a file.
pub struct FsBlobs {
    root: PathBuf,
}

impl FsBlobs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        // Keys are ids Baton made; anything else never reaches the file system.
        if key.len() < 3 || !key.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            return Err(format!("bad blob key {key:?}").into());
        }
        Ok(self.root.join(&key[..2]).join(key))
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[async_trait]
impl BlobStore for FsBlobs {
    async fn put(&self, key: &str, bytes: bytes::Bytes) -> Result<(), BlobError> {
        let path = self.path(key)?;
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            use std::io::Write;
            let dir = path.parent().expect("a blob path has a directory");
            std::fs::create_dir_all(dir)?;
            let tmp = dir.join(format!(".{}.part", path.file_name().and_then(|n| n.to_str()).unwrap_or("blob")));
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, &path)?;
            sync_dir(dir)
        })
        .await??;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<bytes::Bytes>, BlobError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(Some(b.into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn keys(&self) -> Result<Vec<(String, std::time::Duration)>, BlobError> {
        let root = self.root.clone();
        let keys = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<(String, std::time::Duration)>> {
            let mut out = Vec::new();
            let shards = match std::fs::read_dir(&root) {
                Ok(d) => d,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
                Err(e) => return Err(e),
            };
            for shard in shards {
                let shard = shard?;
                if !shard.file_type()?.is_dir() {
                    continue;
                }
                for f in std::fs::read_dir(shard.path())? {
                    let f = f?;
                    let age = f.metadata()?.modified().ok().and_then(|m| m.elapsed().ok()).unwrap_or_default();
                    let Some(name) = f.file_name().to_str().map(str::to_string) else { continue };
                    if name.starts_with('.') {
                        // A write a crash interrupted: nobody will finish it.
                        if age > std::time::Duration::from_secs(3600) {
                            let _ = std::fs::remove_file(f.path());
                        }
                        continue;
                    }
                    out.push((name, age));
                }
            }
            Ok(out)
        })
        .await??;
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_round_trip_and_keys_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FsBlobs::new(dir.path().join("blobs"));
        assert!(blobs.keys().await.unwrap().is_empty(), "no directory yet is no keys");
        let key = "0194f0a2-7c1e-7000-8000-000000000001";
        blobs.put(key, bytes::Bytes::from_static(b"hello")).await.unwrap();
        assert_eq!(blobs.get(key).await.unwrap().as_deref(), Some(&b"hello"[..]));
        assert_eq!(blobs.keys().await.unwrap().into_iter().map(|(k, _)| k).collect::<Vec<_>>(), vec![key.to_string()]);
        blobs.delete(key).await.unwrap();
        blobs.delete(key).await.unwrap();
        assert_eq!(blobs.get(key).await.unwrap(), None);
        for bad in ["../etc/passwd", "ab", "a/b/c", ""] {
            assert!(blobs.put(bad, bytes::Bytes::new()).await.is_err(), "{bad}");
        }
    }
}
