//! Reading the weight file: at setup, then every `reload` interval when the hash of its
//! content changed (plugins-resolution.md §5.4). A file that cannot be read or does not
//! parse on reload is logged and the weights in use stay.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};

use crate::NAME;
use crate::weights::{self, WeightFileError, WeightTable};

/// Owns the file side of the weights and publishes new tables to the plugin.
pub struct Loader {
    path: PathBuf,
    table: Arc<ArcSwap<WeightTable>>,
    /// Hash of the content last parsed, good or bad: a bad file is reported once, not at
    /// every interval (CoreDNS records the checksum before parsing).
    last: Option<[u8; 32]>,
}

impl Loader {
    pub fn new(path: PathBuf) -> Loader {
        Loader {
            path,
            table: Arc::new(ArcSwap::from_pointee(WeightTable::default())),
            last: None,
        }
    }

    /// The weights in use, swapped by each successful read.
    pub fn table(&self) -> Arc<ArcSwap<WeightTable>> {
        self.table.clone()
    }

    /// Reads the file (blocking I/O: setup time only). True when new weights are in use.
    pub fn read_blocking(&mut self) -> Result<bool, WeightFileError> {
        use std::io::Read;
        let mut file = std::fs::File::open(&self.path).map_err(|_| WeightFileError::Open)?;
        let mut content = Vec::new();
        file.read_to_end(&mut content)
            .map_err(|e| self.read_error(&e))?;
        self.apply(&content)
    }

    /// The same, for the reload task.
    pub async fn read(&mut self) -> Result<bool, WeightFileError> {
        use tokio::io::AsyncReadExt;
        let mut file = tokio::fs::File::open(&self.path)
            .await
            .map_err(|_| WeightFileError::Open)?;
        let mut content = Vec::new();
        file.read_to_end(&mut content)
            .await
            .map_err(|e| self.read_error(&e))?;
        self.apply(&content)
    }

    /// Go's `read FILE: REASON` (e.g. the file is a directory).
    fn read_error(&self, error: &std::io::Error) -> WeightFileError {
        WeightFileError::Read(format!(
            "read {}: {}",
            self.path.display(),
            plugin::os_error::go_reason(error)
        ))
    }

    fn apply(&mut self, content: &[u8]) -> Result<bool, WeightFileError> {
        let hash: [u8; 32] = Sha256::digest(content).into();
        if self.last == Some(hash) {
            return Ok(false);
        }
        self.last = Some(hash);
        let table = weights::parse(content, &self.path.display().to_string())?;
        self.table.store(Arc::new(table));
        plugin::log::info(
            Some(NAME),
            format_args!("Successfully reloaded weight file {}", self.path.display()),
        );
        Ok(true)
    }

    /// Checks the file every `every` until the instance stops. `every` is not zero.
    pub async fn run(mut self, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            if let Err(error) = self.read().await {
                plugin::log::error(Some(NAME), format_args!("{error}"));
            }
        }
    }
}
