//! A unique scratch folder under the system temp dir for import and glob tests; removed on drop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    pub fn new(purpose: &str) -> TestDir {
        let unique = format!(
            "clusterdns-corefile-{purpose}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(unique);
        // A leftover from a killed run is stale: start clean.
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create test dir");
        TestDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn path_str(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    /// Writes `content` to `relative`, creating folders on the way.
    pub fn write(&self, relative: &str, content: &str) -> String {
        let file = self.path.join(relative);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).expect("create test subdir");
        }
        std::fs::write(&file, content).expect("write test file");
        file.to_string_lossy().into_owned()
    }

    pub fn mkdir(&self, relative: &str) -> String {
        let dir = self.path.join(relative);
        std::fs::create_dir_all(&dir).expect("create test subdir");
        dir.to_string_lossy().into_owned()
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
