//! Grades the learner's fix of drill `chat-rooms` (the file `labs/incidents/exercise/src/chat_rooms.rs`).

#[path = "grader/chat_rooms.rs"]
mod grader;

/// Every allocation of this test binary, counted: how much heap a member adds is the drill's question.
#[global_allocator]
static HEAP: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

grade_chat_rooms!(exercise_incidents::chat_rooms, || HEAP.current_usage() as u64);
