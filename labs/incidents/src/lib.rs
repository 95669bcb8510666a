//! `lab-incidents`: the incident drills — services that miss their latency objective under load, for a learner to
//! diagnose from evidence and fix, the way an on-call engineer meets them.
//!
//! Every drill is a route of one small service, served three ways (`--variant`): `broken` (the code as it shipped),
//! `fixed` (the reference fix), `yours` (the learner's edit of `labs/incidents/exercise`). `cargo xtask incident` runs
//! them: `start` shows the symptom, `evidence` what the run recorded (the CPU flamegraph from lab-kit's in-process
//! profiler, event-loop lag and memory over time from `/metrics`, the counters in `/stats`), `answer` grades a
//! diagnosis, `check` measures the learner's fix beside the broken build in one run.
//!
//! | drill | route | the fault | what gives it away |
//! |---|---|---|---|
//! | `regex-per-request` | `GET /signup/validate?email=` | a regex compiled on every request | the flamegraph: regex compilation on top |
//! | `lock-across-await` | `GET /quote/{sku}` | a lock held across a 20 ms network call | throughput flat at 50/s, CPU idle, calls never overlap |
//! | `blocking-in-async` | `GET /convert?amount=&currency=` | a blocking SDK call on the event loop | event-loop lag high, CPU flamegraph flat |
//! | `memory-leak` | `GET /login?user=`, `GET /session/{token}` | a session store that never lets go | RSS rising at a steady slope, `sessions_kept` = sign-ins |
//! | `csv-upload` | `POST /orders/import`, `GET /orders/recent` | every row of an upload checked on the event loop | the cheap page's p99 during uploads, loop lag, `check_order` in the flamegraph |
//! | `db-degradation` | `GET /customers/{customer}/orders` | the history query has no index: it scans 400,000 orders per page | the plan in `/stats` (`SCAN orders`), 1.2 million SQLite steps per 20 rows |
//! | `flash-sale` | `GET /product/{id}` | a cache read as get-then-insert (a stampede at every expiry) and a pool that queues builds for 30 s past the database's capacity | duplicate builds, the queue for a connection, views refused with 429 (`catalogue_shed`) |
//! | `canary` | `GET /checkout/{cart}` | a canary build failing 3 carts in 10 keeps a tenth of the traffic, unwatched | 3% of checkouts fail, all of them the canary's (`canary_errors`) |
//! | `chat-rooms` | `GET /chat` (WebSocket) | every member keeps its own copy of the room's history, every message wrapped once per member | memory that grows with connections, not traffic (`heap_bytes` per connection), envelopes = members × messages |
//! | `five-services` | `GET /account/{user}` | five services called one after another, no deadline, any failure fails the page | the page's p50 ≈ the sum of its calls (826 ms), 1 page in 5 a 502, the CPU idle |
//!
//! | module | what it holds |
//! |---|---|
//! | [`cli`] | the server's variants and how they are started (one event loop, as in one Node.js process) |
//! | [`server`] | `app(variant)`: the routes, dispatching to the variant's code, and `/stats` |
//! | [`drills`] | each drill's broken and fixed code |
//! | [`downstream`] | the five services the account page calls: real HTTP servers on their own thread |
//! | [`chat`] | the chat rooms' WebSocket endpoint: handshake, one task per connection, writes |

pub mod chat;
pub mod cli;
pub mod downstream;
pub mod drills;
pub mod server;
