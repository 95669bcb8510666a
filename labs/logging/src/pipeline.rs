//! Each variant's way from a log event to the sink, and what it costs when the sink stalls.
//!
//! | variant | path of a line | when the sink stalls |
//! |---|---|---|
//! | `println` | format, lock, `write()` into the sink | the request's thread blocks in `write()` |
//! | `tracing-sync` | a `tracing` event, the JSON layer, lock, `write()` | the same |
//! | `non-blocking-lossy` | the event is formatted and queued for tracing-appender's worker thread | the queue fills, then lines are **dropped** (counted) and requests go on |
//! | `non-blocking-backpressure` | the same queue, `lossy(false)` | the queue fills, then the request's thread **waits** for room |
//! | `filtered` | the event is below the enabled level: nothing | nothing |
//!
//! The non-blocking variants also write in batches: the worker writes into a 64 KiB buffer that is flushed when
//! full and at least every 100 ms, so one `write()` carries hundreds of lines — where `println` makes one system
//! call per line. The price of a batch is the lines it holds if the process dies before the flush: a crash loses
//! up to 100 ms of logs, which is why the guard is flushed on every graceful stop (`Pipeline`'s `Drop`), as
//! pino's `final` and tracing-appender's `WorkerGuard` exist to do.

use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use lab_kit::Counters;
use serde_json::Value;
use tracing::level_filters::LevelFilter;
use tracing::Dispatch;
use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

use crate::layer::JsonLines;
use crate::line::Redact;
use crate::sink::{CountingSink, Sink};

/// The variants, as `lab.toml` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// Format and write each line under a lock: `console.log` into a file or a pipe.
    Println,
    /// tracing events through the JSON layer into a blocking writer.
    TracingSync,
    /// tracing-appender's worker, dropping lines when its queue is full.
    NonBlockingLossy,
    /// tracing-appender's worker, making the logger wait when its queue is full.
    NonBlockingBackpressure,
    /// The same events, below the enabled level.
    Filtered,
    /// As `tracing-sync`, redacting with the learner's redactor (`exercise/src/lib.rs`).
    Exercise,
}

/// The sink behind a lock: what `println` and `tracing-sync` write into.
#[derive(Clone)]
pub struct Locked(Arc<Mutex<CountingSink>>);

/// One locked use of the sink.
pub struct LockedWriter<'a>(MutexGuard<'a, CountingSink>);

impl Write for LockedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl<'a> MakeWriter<'a> for Locked {
    type Writer = LockedWriter<'a>;
    fn make_writer(&'a self) -> LockedWriter<'a> {
        LockedWriter(self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The `println` variant's logger: a line formatted by hand and written under the lock.
pub struct Println {
    sink: Locked,
    redactor: Arc<dyn Redact>,
    counters: Counters,
}

impl Println {
    /// Logs one line.
    pub fn log(&self, level: &str, message: &str, request_id: &str, fields: Vec<(&str, Value)>) {
        let mut line = Vec::with_capacity(256);
        crate::line::write_line(&mut line, level, message, Some(request_id), fields, &*self.redactor);
        self.counters.incr("lines_produced");
        let _ = self.sink.make_writer().write_all(&line);
    }
}

/// How the handlers log.
pub enum Logger {
    /// By hand.
    Println(Println),
    /// Through `tracing`, with this dispatcher.
    Tracing(Dispatch),
}

/// A batch buffer in front of the sink: the non-blocking worker writes into it; a flusher thread empties it.
#[derive(Clone)]
struct Batched(Arc<Mutex<BufWriter<CountingSink>>>);

impl Write for Batched {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).write(buf)
    }
    /// The worker asks for a flush after every few lines; the flusher decides instead (full, or every 100 ms).
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The thread that flushes the batch buffer every 100 ms.
struct Flusher {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    batched: Batched,
}

impl Flusher {
    const EVERY: Duration = Duration::from_millis(100);

    fn start(batched: Batched) -> Flusher {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, shared) = (stop.clone(), batched.clone());
        let thread = std::thread::Builder::new()
            .name("log-flusher".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    // A period, not a wait for an event: the batch is flushed on a clock, as a buffered appender does.
                    std::thread::sleep(Flusher::EVERY);
                    let _ = shared.0.lock().unwrap_or_else(PoisonError::into_inner).flush();
                }
            })
            .expect("spawn the log flusher");
        Flusher {
            stop,
            thread: Some(thread),
            batched,
        }
    }

    /// Stops the thread and flushes what is left.
    fn finish(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = self.batched.0.lock().unwrap_or_else(PoisonError::into_inner).flush();
    }
}

/// A variant's logging, from the handlers' calls to the sink, and its accounting.
pub struct Pipeline {
    /// How handlers log.
    pub logger: Option<Logger>,
    dropped: Option<ErrorCounter>,
    guard: Option<WorkerGuard>,
    flusher: Option<Flusher>,
    sink: Sink,
}

impl Pipeline {
    /// Builds `variant`'s pipeline into `sink`; `queue_lines` bounds the non-blocking variants' queue.
    pub fn build(
        variant: Variant,
        mut sink: Sink,
        redactor: Arc<dyn Redact>,
        counters: Counters,
        queue_lines: usize,
    ) -> Pipeline {
        let writer = sink.writer.take().expect("a freshly opened sink has its writer");
        let json = |w| JsonLines::new(w, redactor.clone(), counters.clone());
        let (logger, dropped, guard, flusher) = match variant {
            Variant::Println => {
                let println = Println {
                    sink: Locked(Arc::new(Mutex::new(writer))),
                    redactor: redactor.clone(),
                    counters: counters.clone(),
                };
                (Logger::Println(println), None, None, None)
            }
            Variant::TracingSync | Variant::Exercise => {
                let layer = json(Locked(Arc::new(Mutex::new(writer))));
                (
                    Logger::Tracing(Dispatch::new(tracing_subscriber::registry().with(layer))),
                    None,
                    None,
                    None,
                )
            }
            Variant::Filtered => {
                // Requests log at INFO; only WARN and above are enabled.
                let layer = json(Locked(Arc::new(Mutex::new(writer)))).with_filter(LevelFilter::WARN);
                (
                    Logger::Tracing(Dispatch::new(tracing_subscriber::registry().with(layer))),
                    None,
                    None,
                    None,
                )
            }
            // ANCHOR: non_blocking
            Variant::NonBlockingLossy | Variant::NonBlockingBackpressure => {
                let batched = Batched(Arc::new(Mutex::new(BufWriter::with_capacity(64 << 10, writer))));
                let (non_blocking, guard) = NonBlockingBuilder::default()
                    .lossy(variant == Variant::NonBlockingLossy)
                    .buffered_lines_limit(queue_lines.max(1))
                    .thread_name("log-writer")
                    .finish(batched.clone());
                let dropped = non_blocking.error_counter();
                let layer = JsonLines::new(non_blocking, redactor.clone(), counters.clone());
                let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
                (
                    Logger::Tracing(dispatch),
                    Some(dropped),
                    Some(guard),
                    Some(Flusher::start(batched)),
                )
            } // ANCHOR_END: non_blocking
        };
        Pipeline {
            logger: Some(logger),
            dropped,
            guard,
            flusher,
            sink,
        }
    }

    /// Lines the lossy queue dropped so far (never any for the other variants).
    pub fn dropped_lines(&self) -> u64 {
        self.dropped.as_ref().map_or(0, |c| c.dropped_lines() as u64)
    }
}

impl Drop for Pipeline {
    /// Flushes everything, in order: the queue (the guard waits for the worker), the batch, then closes the pipe
    /// and waits for the consumer to write what it read.
    fn drop(&mut self) {
        drop(self.guard.take());
        if let Some(flusher) = &mut self.flusher {
            flusher.finish();
        }
        drop(self.logger.take());
        drop(self.flusher.take());
        self.sink.close(Duration::from_secs(5));
    }
}
