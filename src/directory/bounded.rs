//! Running many directory calls at once, at most `width` spawned at a time, results in input order.

use std::future::Future;
use tokio::task::JoinSet;

/// Run `call` on every item with at most `width` tasks alive, calling `on_done` as each finishes;
/// the results come back in the order of `items`. The limiter inside each call decides how many
/// requests are really in flight; `width` only bounds memory.
pub async fn run_bounded<T, R, F, Fut>(
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
    let total = items.len();
    let mut results: Vec<Option<R>> = (0..total).map(|_| None).collect();
    let mut tasks = JoinSet::new();
    let mut pending = items.into_iter().enumerate();
    loop {
        while tasks.len() < width.max(1) {
            let Some((index, item)) = pending.next() else { break };
            let future = call(item);
            tasks.spawn(async move { (index, future.await) });
        }
        let Some(joined) = tasks.join_next().await else { break };
        match joined {
            Ok((index, result)) => {
                on_done(&result);
                results[index] = Some(result);
            }
            // A panicking call is a bug; surface it instead of losing the user silently.
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    }
    results.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn results_keep_input_order_and_every_item_runs() {
        let items: Vec<u64> = (0..50).collect();
        let mut done = 0;
        let out = run_bounded(
            items,
            7,
            |i| async move {
                tokio::time::sleep(Duration::from_millis(50 - i)).await;
                i * 2
            },
            |_| done += 1,
        )
        .await;
        assert_eq!(out, (0..50).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(done, 50);
    }
}
