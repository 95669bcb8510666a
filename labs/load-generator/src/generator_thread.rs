//! One generator thread, as every engine runs it: its own current-thread tokio runtime with a `LocalSet` (so its
//! tasks share `Rc`s and `RefCell`s, nothing on the hot path crosses threads), its priority raised
//! ([`crate::pacer::raise_priority`]), and its CPU time measured for the generator's self-check.

use std::future::Future;
use std::time::Instant;

use crate::pacer;
use crate::plan::LoadError;
use crate::report::ThreadUsage;

/// Runs the future `make` builds on a new thread named `name` and returns its output with the thread's usage.
/// `realtime` asks for realtime scheduling (a thread that keeps a schedule); otherwise a raised niceness.
pub(crate) fn run_measured<T, F, Fut>(name: &str, realtime: bool, make: F) -> Result<(T, ThreadUsage), LoadError>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = std::io::Result<T>>,
{
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || -> std::io::Result<_> {
            let priority = pacer::raise_priority(realtime);
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let (started, cpu_before) = (Instant::now(), crate::proc_stat::thread_cpu_time());
            let value = tokio::task::LocalSet::new().block_on(&runtime, make())?;
            let cpu = cpu_before
                .zip(crate::proc_stat::thread_cpu_time())
                .map(|(a, b)| b.saturating_sub(a));
            Ok((
                value,
                ThreadUsage {
                    wall: started.elapsed(),
                    cpu,
                    priority,
                },
            ))
        })?
        .join()
        .unwrap_or_else(|_| panic!("the generator thread {name} panicked"))
        .map_err(LoadError::Io)
}
