//! The files behind `manifests PATH` and the last good objects of each.
//!
//! PATH is a file, or a folder whose `*.yaml`, `*.yml` and `*.json` files (not hidden ones, not
//! sub-folders) are read in name order; an object defined twice is taken from the later file.
//! A file is read again when its size or modification time (nanoseconds) changes, and parsed
//! again only when its content hash changes too (`touch` delivers nothing).
//!
//! Decisions where files go away: PATH itself missing keeps every object (an editor's
//! save-by-rename, an unmounted volume); a file removed from a folder that still exists takes its
//! objects with it (that is how one removes objects).

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::ManifestError;
use super::parse::{MAX_FILE_BYTES, Objects, is_manifest_name, parse_file};
use crate::source::selection::Selection;

pub(super) struct ManifestSet {
    root: PathBuf,
    files: BTreeMap<PathBuf, FileState>,
}

struct FileState {
    stamp: Stamp,
    content_hash: u64,
    /// The objects of the last content that parsed (none if it never did).
    objects: Objects,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

pub(super) struct Refresh {
    /// The merged objects differ from the last refresh's (or may: a file's good content changed,
    /// a file appeared or went away).
    pub(super) changed: bool,
    pub(super) errors: Vec<ManifestError>,
}

impl ManifestSet {
    pub(super) fn new(root: PathBuf) -> ManifestSet {
        ManifestSet {
            root,
            files: BTreeMap::new(),
        }
    }

    pub(super) fn refresh(&mut self, selection: &Selection) -> Refresh {
        let mut refresh = Refresh {
            changed: false,
            errors: Vec::new(),
        };
        let listed = match self.list() {
            Ok(listed) => listed,
            Err(source) => {
                refresh.errors.push(ManifestError::Read {
                    path: self.root.clone(),
                    source,
                });
                return refresh;
            }
        };
        let before = self.files.len();
        self.files.retain(|path, _| listed.contains(path));
        refresh.changed |= self.files.len() != before;
        for path in listed {
            match self.refresh_file(&path, selection) {
                Ok(changed) => refresh.changed |= changed,
                Err(error) => refresh.errors.push(error),
            }
        }
        refresh
    }

    /// All files' objects, later files over earlier ones.
    pub(super) fn merged(&self) -> Objects {
        let mut merged = Objects::default();
        for state in self.files.values() {
            merged.overlay(&state.objects);
        }
        merged
    }

    fn list(&self) -> std::io::Result<Vec<PathBuf>> {
        let metadata = std::fs::metadata(&self.root)?;
        if !metadata.is_dir() {
            return Ok(vec![self.root.clone()]);
        }
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.root)? {
            let entry = entry?;
            let name = entry.file_name();
            if !name.to_str().is_some_and(is_manifest_name) {
                continue;
            }
            let path = entry.path();
            // Follows symlinks: a mounted ConfigMap's keys are links into `..data/`.
            if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                files.push(path);
            }
        }
        files.sort();
        Ok(files)
    }

    /// Whether the file's good objects changed.
    fn refresh_file(&mut self, path: &Path, selection: &Selection) -> Result<bool, ManifestError> {
        let read_error = |source| ManifestError::Read {
            path: path.to_owned(),
            source,
        };
        let metadata = std::fs::metadata(path).map_err(read_error)?;
        let stamp = Stamp {
            len: metadata.len(),
            modified: metadata.modified().ok(),
        };
        if self.files.get(path).is_some_and(|s| s.stamp == stamp) {
            return Ok(false);
        }
        if stamp.len > MAX_FILE_BYTES {
            return Err(ManifestError::TooLarge {
                path: path.to_owned(),
                limit: MAX_FILE_BYTES,
            });
        }
        let text = read_text(path).map_err(read_error)?;
        let content_hash = hash(&text);
        let state = self.files.entry(path.to_owned()).or_insert(FileState {
            stamp,
            content_hash: content_hash.wrapping_add(1),
            objects: Objects::default(),
        });
        state.stamp = stamp;
        if state.content_hash == content_hash {
            return Ok(false);
        }
        // Remembered before parsing: a broken content is reported once, not at every poll.
        state.content_hash = content_hash;
        state.objects = parse_file(path, &text, selection)?;
        Ok(true)
    }
}

/// The file as UTF-8 text, at most [`MAX_FILE_BYTES`] of it even if it grows while read.
fn read_text(path: &Path) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES).read_to_string(&mut text)?;
    Ok(text)
}

fn hash(text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}
