//! Classify many messages on several threads, keep their order: `rebound parse` and
//! `rebound import` over an archive. One thread produces (reads files, splits mboxes), up to
//! `jobs` workers turn items into results (classify, render), and the calling thread consumes
//! the results in the order the items were produced (prints them, records them), so the
//! outcome is the same, byte for byte and row for row, whatever the number of jobs.
//!
//! Items travel in batches of up to 32, or past 1 MiB: one hand-over per message cost a
//! thread wake-up each way and gave 1.3x on two cores, batches 1.75x (bench/parse.sh).
//! Memory stays bounded: the producer blocks while `2 * jobs` batches wait, and the reorder
//! buffer holds only what the other workers finish while one is still on an earlier batch.
//! A consumer error (stdout closed, a database error) ends the workers, then the producer:
//! no thread is left blocked. A process that may not start threads (RLIMIT_NPROC, a
//! container's pids limit) does everything on the calling thread, as `jobs == 1` does.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// A batch is handed over at this many items or this weight, whichever comes first.
const BATCH_ITEMS: usize = 32;
const BATCH_WEIGHT: usize = 1 << 20;

/// Reading a file is about a sixth of a message's work (perf: open, read, close), so one
/// producer keeps six to eight workers busy; more would wait for it.
pub const MAX_JOBS: usize = 8;

/// The default number of jobs: the CPUs this process may use, at most [`MAX_JOBS`].
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_JOBS))
}

/// Run `produce`, which hands every item to the `feed` it is given (`feed` says `false` once
/// the consumer has stopped: produce no more); `work` each item on up to `jobs` threads;
/// `consume` the results, in order, on this thread. `weight` sizes an item (its bytes) for
/// batching. The first error wins: the consumer's, else the producer's.
pub fn ordered<T: Send, R: Send, P>(
    jobs: usize,
    weight: impl Fn(&T) -> usize + Sync,
    produce: P,
    work: impl Fn(T) -> R + Sync,
    mut consume: impl FnMut(R) -> anyhow::Result<()>,
) -> anyhow::Result<()>
where
    P: FnOnce(&mut dyn FnMut(T) -> bool) -> anyhow::Result<()> + Send,
{
    if jobs <= 1 {
        return alone(produce, &work, &mut consume);
    }
    // Lent to the producer thread, so that it is still here if that thread cannot start.
    let mut produce = Some(produce);
    let threaded = std::thread::scope(|scope| {
        let (batch_tx, batch_rx) = mpsc::sync_channel::<(u64, Vec<T>)>(2 * jobs);
        // None: the worker panicked on that batch (its results are lost, so nothing after
        // it may be consumed either).
        let (done_tx, done_rx) = mpsc::channel::<(u64, Option<Vec<R>>)>();
        let batch_rx = Arc::new(Mutex::new(batch_rx));
        let mut workers = 0;
        for _ in 0..jobs {
            let batch_rx = Arc::clone(&batch_rx);
            let done_tx = done_tx.clone();
            let work = &work;
            let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                loop {
                    // The lock is held only while waiting for the next batch.
                    let next = batch_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((seq, items))) = next else { break };
                    let results = catch_unwind(AssertUnwindSafe(|| {
                        items.into_iter().map(work).collect::<Vec<R>>()
                    }));
                    if done_tx.send((seq, results.ok())).is_err() {
                        break;
                    }
                }
            });
            if spawned.is_err() {
                break;
            }
            workers += 1;
        }
        // Only the workers hold these now: when they are gone, so is the receiver of
        // batches, and when they are done, the consumer's input ends.
        drop(batch_rx);
        drop(done_tx);
        if workers == 0 {
            return None;
        }
        let weight = &weight;
        let lent = &mut produce;
        let producer = std::thread::Builder::new().spawn_scoped(scope, move || {
            let Some(produce) = lent.take() else {
                return Ok(());
            };
            let mut seq = 0u64;
            let mut batch = Vec::with_capacity(BATCH_ITEMS);
            let mut batch_weight = 0;
            let mut open = true;
            let produced = produce(&mut |item: T| {
                batch_weight += weight(&item);
                batch.push(item);
                if batch.len() == BATCH_ITEMS || batch_weight >= BATCH_WEIGHT {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ITEMS));
                    open = open && batch_tx.send((seq, full)).is_ok();
                    seq += 1;
                    batch_weight = 0;
                }
                open
            });
            if open && !batch.is_empty() {
                let _ = batch_tx.send((seq, batch));
            }
            produced
        });
        // No producer thread: its channel went with it, so the workers end; all is done on
        // this thread instead.
        let producer = producer.ok()?;
        let mut waiting = BTreeMap::new();
        let mut next = 0u64;
        let mut consumed = Ok(());
        'results: for (seq, results) in &done_rx {
            waiting.insert(seq, results);
            while let Some(results) = waiting.remove(&next) {
                next += 1;
                let Some(results) = results else {
                    consumed = Err(anyhow::anyhow!("a classifying thread panicked"));
                    break 'results;
                };
                for r in results {
                    consumed = consume(r);
                    if consumed.is_err() {
                        break 'results;
                    }
                }
            }
        }
        // On a consumer error the receiver goes: the workers' sends fail and they end, the
        // producer's next hand-over fails and `feed` tells it to stop.
        drop(done_rx);
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the reading thread panicked")));
        Some(consumed.and(produced))
    });
    match (threaded, produce.take()) {
        (Some(result), _) => result,
        (None, Some(produce)) => alone(produce, &work, &mut consume),
        (None, None) => Err(anyhow::anyhow!(
            "the messages went to a thread that never ran"
        )),
    }
}

/// Everything on this thread, item by item.
fn alone<T, R>(
    produce: impl FnOnce(&mut dyn FnMut(T) -> bool) -> anyhow::Result<()>,
    work: &impl Fn(T) -> R,
    consume: &mut impl FnMut(R) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut consumed = Ok(());
    let produced = produce(&mut |item| {
        consumed = consume(work(item));
        consumed.is_ok()
    });
    consumed?;
    produced
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(jobs: usize, n: u32, fail_at: Option<u32>) -> (anyhow::Result<()>, Vec<u32>, u32) {
        let mut got = Vec::new();
        let mut produced = 0;
        let result = ordered(
            jobs,
            |i: &u32| *i as usize * 1000,
            |feed| {
                for i in 0..n {
                    produced = i + 1;
                    if !feed(i) {
                        anyhow::bail!("stopped at {i}");
                    }
                }
                Ok(())
            },
            |i| i * 2,
            |r| {
                if Some(r / 2) == fail_at {
                    anyhow::bail!("consumer failed at {}", r / 2);
                }
                got.push(r);
                Ok(())
            },
        );
        (result, got, produced)
    }

    #[test]
    fn results_come_in_order_whatever_the_jobs() {
        let want: Vec<u32> = (0..1000).map(|i| i * 2).collect();
        for jobs in [1, 2, 3, 8] {
            let (result, got, _) = run(jobs, 1000, None);
            assert!(result.is_ok(), "{jobs}");
            assert_eq!(got, want, "jobs {jobs}");
        }
    }

    #[test]
    fn a_consumer_error_stops_the_producer_and_wins() {
        for jobs in [1, 2, 4] {
            let (result, got, produced) = run(jobs, 100_000, Some(500));
            let e = result.unwrap_err().to_string();
            assert_eq!(e, "consumer failed at 500", "jobs {jobs}");
            assert_eq!(got.len(), 500);
            // The producer stopped soon after: what the channels and workers held, no more.
            assert!(produced < 5_000, "jobs {jobs}: produced {produced}");
        }
    }

    #[test]
    fn a_panicking_worker_is_an_error_not_a_hang() {
        let mut got = Vec::new();
        let result = ordered(
            2,
            |_: &u32| 1,
            |feed| {
                for i in 0..1000 {
                    if !feed(i) {
                        break;
                    }
                }
                Ok(())
            },
            |i| {
                assert!(i != 700, "a bug in a classifier");
                i
            },
            |r| {
                got.push(r);
                Ok(())
            },
        );
        assert!(result.unwrap_err().to_string().contains("panicked"));
        assert!(got.len() < 700 && got.iter().enumerate().all(|(i, r)| *r == i as u32));
    }
}
