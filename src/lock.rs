//! Advisory file locks between wheelforge processes, taken the way cargo takes its build-directory
//! lock: try first, and when another process holds the lock, say who before blocking.
//!
//! The holder of an exclusive lock writes its process id into the lock file, so that a waiter
//! can name it ("waiting for another wheelforge build using build/six (pid 4242)"). Locks are
//! `flock`-style: they are released when the file is closed, also when the holder dies, so a
//! crashed build never leaves a stale lock behind. This module knows nothing of what the locks
//! protect; callers (the pipeline's work directories, the index) decide.

use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct Held {
    file: fs_err::File,
    exclusive: bool,
}

impl Drop for Held {
    /// An exclusive holder takes its pid out while it still holds the lock, so that a waiter
    /// never names a process that is gone (a shared holder writes none).
    fn drop(&mut self) {
        if self.exclusive {
            let _ = self.file.set_len(0);
        }
    }
}

/// Who holds a lock a caller is about to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The lock file.
    pub path: PathBuf,
    /// The holder's process id, when it has written it (an exclusive holder always does,
    /// right after taking the lock).
    pub pid: Option<u32>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pid {
            Some(pid) => write!(f, "pid {pid}"),
            None => f.write_str("pid unknown"),
        }
    }
}

/// Takes `path` exclusively, creating it. When another process holds it, `on_wait` is told who
/// before this blocks until the lock is free.
pub fn exclusive(path: &Path, on_wait: impl FnOnce(&Holder)) -> io::Result<Held> {
    let mut file = open(path)?;
    acquire(&mut file, path, true, on_wait)?;
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "{}", std::process::id())?;
    file.flush()?;
    Ok(Held {
        file,
        exclusive: true,
    })
}

/// Takes `path` shared (readers), creating it; `on_wait` as for [`exclusive`].
pub fn shared(path: &Path, on_wait: impl FnOnce(&Holder)) -> io::Result<Held> {
    let mut file = open(path)?;
    acquire(&mut file, path, false, on_wait)?;
    Ok(Held {
        file,
        exclusive: false,
    })
}

fn open(path: &Path) -> io::Result<fs_err::File> {
    if let Some(parent) = path.parent() {
        fs_err::create_dir_all(parent)?;
    }
    fs_err::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

fn acquire(
    file: &mut fs_err::File,
    path: &Path,
    exclusive: bool,
    on_wait: impl FnOnce(&Holder),
) -> io::Result<()> {
    let attempt = if exclusive {
        file.file().try_lock()
    } else {
        file.file().try_lock_shared()
    };
    match attempt {
        Ok(()) => return Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(error)) => return Err(error),
    }
    on_wait(&Holder {
        path: path.to_path_buf(),
        pid: read_pid(file),
    });
    if exclusive {
        file.file().lock()
    } else {
        file.file().lock_shared()
    }
}

fn read_pid(file: &mut fs_err::File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_second_taker_is_told_the_holders_pid_and_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("work.lock");
        let held = exclusive(&path, |_| panic!("nobody holds it yet")).unwrap();
        let (told, heard) = mpsc::channel();
        let (done, finished) = mpsc::channel();
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || {
                // A second open file description conflicts with the first, as another process's.
                let _lock = exclusive(&path, |holder| told.send(holder.clone()).unwrap()).unwrap();
                done.send(()).unwrap();
            })
        };
        let holder = heard.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(holder.pid, Some(std::process::id()));
        assert!(
            finished.recv_timeout(Duration::from_millis(200)).is_err(),
            "the waiter must block while the lock is held"
        );
        drop(held);
        finished.recv_timeout(Duration::from_secs(10)).unwrap();
        waiter.join().unwrap();
        assert_eq!(
            fs_err::read_to_string(&path).unwrap(),
            "",
            "a released lock names nobody"
        );
    }

    #[test]
    fn shared_holders_do_not_wait_for_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.lock");
        let _first = shared(&path, |_| panic!("free")).unwrap();
        let _second = shared(&path, |_| panic!("readers share the lock")).unwrap();
    }
}
