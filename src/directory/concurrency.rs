//! Running many directory calls at once, at most `width` spawned at a time, results in input order.

use futures_util::{FutureExt, StreamExt, stream};
use std::future::Future;

/// Run `call` on every item with at most `width` tasks alive, calling `on_done` as each finishes;
/// the results come back in the order of `items`. The limiter inside each call decides how many
/// requests are really in flight; `width` only bounds memory.
///
/// Each call is spawned, so calls share the runtime's worker threads. Dropping the returned
/// future cancels the calls still running, and a call that panics re-raises its panic here: a
/// bug surfaces instead of losing the user silently.
pub(crate) async fn run_bounded<T, R, F, Fut>(
    items: Vec<T>,
    width: usize,
    call: F,
    mut on_done: impl FnMut(&R),
) -> Vec<R>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let mut results: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    let mut finished = stream::iter(items.into_iter().enumerate())
        .map(|(index, item)| {
            let (running, handle) = call(item).remote_handle();
            tokio::spawn(running);
            handle.map(move |result| (index, result))
        })
        .buffer_unordered(width.max(1));
    while let Some((index, result)) = finished.next().await {
        on_done(&result);
        results[index] = Some(result);
    }
    results.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Later items finish first; the results still come in input order, `on_done` sees each as
    /// it finishes, and no more than `width` run at once.
    #[tokio::test(start_paused = true)]
    async fn results_keep_input_order_and_at_most_width_run() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut finished = Vec::new();
        let out = run_bounded(
            (0..50u64).collect(),
            7,
            |i| {
                let (running, most) = (Arc::clone(&running), Arc::clone(&most));
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50 - i)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    i * 2
                }
            },
            |r| finished.push(*r),
        )
        .await;
        assert_eq!(out, (0..50).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(finished.len(), 50);
        assert_eq!(finished[..7], [12, 10, 8, 6, 4, 2, 0], "the first seven, shortest first");
        assert_eq!(most.load(Ordering::SeqCst), 7);
    }

    #[tokio::test]
    #[should_panic(expected = "a bug in a call")]
    async fn a_panicking_call_panics_the_caller() {
        run_bounded(vec![1], 2, |_: i32| async { panic!("a bug in a call") }, |_: &()| ()).await;
    }

    /// Dropping the run stops the calls it spawned.
    #[tokio::test(start_paused = true)]
    async fn dropping_the_run_cancels_its_calls() {
        let done = Arc::new(AtomicUsize::new(0));
        let run = run_bounded(
            vec![(); 3],
            3,
            |()| {
                let done = Arc::clone(&done);
                async move {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    done.fetch_add(1, Ordering::SeqCst);
                }
            },
            |_| (),
        );
        assert!(tokio::time::timeout(Duration::from_secs(1), run).await.is_err());
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(done.load(Ordering::SeqCst), 0);
    }
}
