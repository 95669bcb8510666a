//! Every drill's grader run against the reference fix — the code the `fixed` variant serves. (That the code as
//! shipped fails the same graders is checked by `tests/tests/incidents.rs` in the workspace's end-to-end tests,
//! by running them on the untouched `exercise-incidents` crate.)

#[path = "../exercise/tests/grader/regex_per_request.rs"]
#[macro_use]
mod regex_grader;

#[path = "../exercise/tests/grader/lock_across_await.rs"]
#[macro_use]
mod lock_grader;

#[path = "../exercise/tests/grader/blocking_in_async.rs"]
#[macro_use]
mod blocking_grader;

#[path = "../exercise/tests/grader/memory_leak.rs"]
#[macro_use]
mod memory_grader;

#[path = "../exercise/tests/grader/csv_upload.rs"]
#[macro_use]
mod csv_grader;

#[path = "../exercise/tests/grader/five_services.rs"]
#[macro_use]
mod five_grader;

#[path = "../exercise/tests/grader/db_degradation.rs"]
#[macro_use]
mod db_grader;

#[path = "../exercise/tests/grader/flash_sale.rs"]
#[macro_use]
mod flash_grader;

#[path = "../exercise/tests/grader/canary.rs"]
#[macro_use]
mod canary_grader;

#[path = "../exercise/tests/grader/chat_rooms.rs"]
#[macro_use]
mod grader;

mod regex_per_request {
    grade_regex_per_request!(lab_incidents::drills::regex_per_request::fixed);
}

mod lock_across_await {
    grade_lock_across_await!(lab_incidents::drills::lock_across_await::fixed);
}

mod blocking_in_async {
    grade_blocking_in_async!(lab_incidents::drills::blocking_in_async::fixed);
}

mod memory_leak {
    grade_memory_leak!(lab_incidents::drills::memory_leak::fixed);
}

mod csv_upload {
    grade_csv_upload!(lab_incidents::drills::csv_upload::fixed);
}

mod five_services {
    grade_five_services!(lab_incidents::drills::five_services::fixed);
}

mod db_degradation {
    grade_db_degradation!(lab_incidents::drills::db_degradation::fixed);
}

mod flash_sale {
    grade_flash_sale!(lab_incidents::drills::flash_sale::fixed);
}

mod canary {
    grade_canary!(lab_incidents::drills::canary::fixed);
}

mod chat_rooms {
    // lab-incidents counts its heap (lab-kit's `heap-counter`): the grader reads that allocator.
    grade_chat_rooms!(lab_incidents::drills::chat_rooms::fixed, lab_kit::heap::current_bytes);
}
