//! A `tracing` layer that writes each event as a [`crate::line`] JSON line, with the correlation id of the request
//! span it happened in — including events on spawned tasks and blocking threads, as long as the work carries the
//! span along (`.in_current_span()`, `span.in_scope(…)`).
//!
//! Why not tracing-subscriber's own `fmt().json()`: redaction must see every field before it is formatted, and
//! its JSON formatter offers no hook for that; a layer that formats the line itself is a screenful and keeps the
//! bytes identical to the `println` variant's, so the variants differ only in how the line reaches the sink.

use std::io::Write;

use lab_kit::Counters;
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use std::sync::Arc;

use crate::line::Redact;

/// The correlation id of a span, kept in its extensions.
struct RequestId(String);

/// Writes events as JSON lines into `make_writer`'s writer.
pub struct JsonLines<W> {
    make_writer: W,
    redactor: Arc<dyn Redact>,
    counters: Counters,
}

impl<W> JsonLines<W> {
    /// A layer writing into `make_writer`, redacting with `redactor`, counting `lines_produced`.
    pub fn new(make_writer: W, redactor: Arc<dyn Redact>, counters: Counters) -> Self {
        JsonLines {
            make_writer,
            redactor,
            counters,
        }
    }
}

/// Collects an event's or a span's fields as JSON values.
#[derive(Default)]
struct Fields {
    message: String,
    values: Vec<(&'static str, Value)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.values.push((field.name(), Value::from(value)));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.values.push((field.name(), Value::from(value)));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.values.push((field.name(), Value::from(value)));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.values.push((field.name(), Value::from(value)));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.values.push((field.name(), Value::from(format!("{value:?}"))));
        }
    }
}

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let request_id = fields.values.into_iter().find(|(name, _)| *name == "request_id");
        if let (Some((_, Value::String(value))), Some(span)) = (request_id, ctx.span(id)) {
            span.extensions_mut().insert(RequestId(value));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let request_id = ctx.event_scope(event).and_then(|scope| {
            scope
                .from_root()
                .find_map(|span| span.extensions().get::<RequestId>().map(|id| id.0.clone()))
        });
        let mut line = Vec::with_capacity(256);
        crate::line::write_line(
            &mut line,
            event.metadata().level().as_str(),
            &fields.message,
            request_id.as_deref(),
            fields.values,
            &*self.redactor,
        );
        self.counters.incr("lines_produced");
        // A failed write has nowhere to be logged; the sink's counters show the lines that did not arrive.
        let _ = self.make_writer.make_writer().write_all(&line);
    }
}
