//! Password hashing on a few dedicated threads, one per core.
//!
//! Argon2id needs its whole memory cost (19 MiB by default) on every call.
//! Each thread keeps one such block for all its calls
//! ([`HasherWithMemory`]): allocating it per call left the C allocator
//! holding freed blocks in arena after arena, and the process grew by
//! hundreds of MiB that it never gave back. A fixed set of threads bounds
//! hashing memory to threads × 19 MiB, and bounds concurrent hashing to the
//! cores, so a burst of sign-ins queues instead of starving every other
//! request.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};

use tokio::sync::oneshot;
use tunnus_core::password::{HasherWithMemory, PasswordHasher};

type Job = Box<dyn FnOnce(&mut HasherWithMemory) + Send>;

/// Cheap to clone; the threads end when the last clone is dropped.
#[derive(Clone)]
pub struct HashingPool {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for HashingPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashingPool").finish_non_exhaustive()
    }
}

impl HashingPool {
    /// Starts `threads` (at least one) threads named `tunnus-hash-N`.
    pub fn new(hasher: PasswordHasher, threads: usize) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            // Its memory is allocated at the thread's first job.
            let mut hasher = hasher.with_memory();
            std::thread::Builder::new().name(format!("tunnus-hash-{i}")).spawn(move || {
                loop {
                    // The lock is held only while waiting for the next job.
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(job) = next else { break };
                    // A panicking job fails its own caller (its answer channel
                    // is dropped), not the thread.
                    let _ = catch_unwind(AssertUnwindSafe(|| job(&mut hasher)));
                }
            })?;
        }
        Ok(Self { jobs })
    }

    /// Runs `work` on one of the hashing threads and waits for its result.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut HasherWithMemory) -> T + Send + 'static,
    ) -> Result<T, String> {
        let (answer, result) = oneshot::channel();
        let job: Job = Box::new(move |hasher| {
            let _ = answer.send(work(hasher));
        });
        self.jobs.send(job).map_err(|_| "the hashing threads have stopped".to_owned())?;
        result.await.map_err(|_| "a hashing job failed".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use tunnus_core::password::{Argon2Config, Verified};
    use tunnus_core::secret::Password;

    use super::*;

    fn pool(threads: usize) -> HashingPool {
        let cheap = Argon2Config { memory_kib: 64, iterations: 1, parallelism: 1 };
        HashingPool::new(PasswordHasher::new(cheap).unwrap(), threads).unwrap()
    }

    fn thread_name() -> String {
        std::thread::current().name().unwrap_or("").to_owned()
    }

    #[tokio::test]
    async fn work_runs_on_the_hashing_threads_only() {
        let pool = pool(2);
        let calls = (0..16).map(|_| pool.run(|_| thread_name()));
        let names: BTreeSet<String> =
            futures_util::future::join_all(calls).await.into_iter().map(Result::unwrap).collect();
        assert!(!names.is_empty() && names.len() <= 2, "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("tunnus-hash-")), "{names:?}");
    }

    #[tokio::test]
    async fn a_real_hash_verifies() {
        let pool = pool(1);
        let pw = || Password::new("Kuusi-Hirvi-42".to_owned());
        let hash = pool.run(move |h| h.hash(&pw())).await.unwrap().unwrap();
        let again = hash.clone();
        assert_eq!(pool.run(move |h| h.verify(&pw(), &again)).await.unwrap().unwrap(), Verified::Yes);
        let wrong = Password::new("Kuusi-Hirvi-43".to_owned());
        assert_eq!(pool.run(move |h| h.verify(&wrong, &hash)).await.unwrap().unwrap(), Verified::No);
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone() {
        let pool = pool(1);
        let failed = pool.run(|_| -> u8 { panic!("boom") }).await;
        assert_eq!(failed.unwrap_err(), "a hashing job failed");
        assert_eq!(pool.run(|_| 7).await.unwrap(), 7, "the thread survived");
    }
}
