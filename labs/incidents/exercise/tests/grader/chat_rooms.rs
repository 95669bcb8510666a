//! The grader of drill `chat-rooms`, generic over the module graded: `grade_chat_rooms!(path, heap_bytes)`, where
//! `heap_bytes` reads the test binary's counting allocator (a binary has one, so the caller brings it). It checks
//! what a member receives, and counts what the rooms keep per member and how often a message is wrapped; the
//! memory of ten thousand real connections is measured by `cargo xtask incident check`.

/// The most heap a member may add to a room that already exists: its outbox and its entry, not a history.
pub const MEMBER_BYTES_AT_MOST: u64 = 8 * 1024;

#[macro_export]
macro_rules! grade_chat_rooms {
    ($module:path, $heap_bytes:expr) => {
        use exercise_incidents::support::{self, Frame, JOIN_BACKLOG, ROOM_HISTORY};
        use $module as drill;

        /// Every frame waiting in `outbox`, in order.
        fn drain(outbox: &mut drill::Outbox) -> Vec<Frame> {
            let mut frames = Vec::new();
            while let Ok(frame) = outbox.try_recv() {
                frames.push(frame);
            }
            frames
        }

        fn text(frame: &Frame) -> &str {
            std::str::from_utf8(frame).expect("a frame is UTF-8 text")
        }

        #[test]
        fn a_member_gets_the_backlog_then_every_message_of_its_room_in_order() {
            let _counters = support::counters_lock();
            let rooms = drill::ChatRooms::new();
            let (ada, mut to_ada) = rooms.join(1);
            let (ben, mut to_ben) = rooms.join(1);
            let (_cy, mut to_cy) = rooms.join(2);
            let history = support::load_room_history(1);
            let backlog = drain(&mut to_ada);
            assert_eq!(
                backlog.len(),
                JOIN_BACKLOG,
                "a new member is sent the room's last {JOIN_BACKLOG} messages"
            );
            assert_eq!(
                text(&backlog[JOIN_BACKLOG - 1]),
                history[ROOM_HISTORY - 1],
                "the newest last"
            );
            assert_eq!(text(&backlog[0]), history[ROOM_HISTORY - JOIN_BACKLOG]);
            drain(&mut to_ben);
            drain(&mut to_cy);

            rooms.post(1, ada, "hello \"room\"");
            rooms.post(1, ben, "second");
            let expected = [
                support::envelope(1, ada, "hello \"room\""),
                support::envelope(1, ben, "second"),
            ];
            for (who, outbox) in [("ada", &mut to_ada), ("ben", &mut to_ben)] {
                let got: Vec<String> = drain(outbox).iter().map(|f| text(f).to_string()).collect();
                assert_eq!(
                    got, expected,
                    "{who} gets both messages of room 1, in order, in their envelope"
                );
            }
            assert!(drain(&mut to_cy).is_empty(), "room 2 hears nothing of room 1");

            rooms.leave(1, ben);
            rooms.post(1, ada, "after ben left");
            assert_eq!(drain(&mut to_ada).len(), 1);
            assert!(
                drain(&mut to_ben).is_empty(),
                "a member who left gets nothing more"
            );
        }

        #[test]
        fn the_scrollback_is_the_room_s_last_messages_oldest_first() {
            let _counters = support::counters_lock();
            let rooms = drill::ChatRooms::new();
            let (ada, _to_ada) = rooms.join(3);
            for i in 0..5 {
                rooms.post(3, ada, &format!("line {i}"));
            }
            let last: Vec<String> = rooms
                .scrollback(3, ada, 3)
                .iter()
                .map(|f| text(f).to_string())
                .collect();
            let expected: Vec<String> = (2..5)
                .map(|i| support::envelope(3, ada, &format!("line {i}")))
                .collect();
            assert_eq!(last, expected);
            let all = rooms.scrollback(3, ada, 10_000);
            assert_eq!(
                all.len(),
                ROOM_HISTORY,
                "at most the room's last {ROOM_HISTORY} messages"
            );
            assert_eq!(
                text(&all[0]),
                support::load_room_history(3)[5],
                "the oldest five made room for the new"
            );
            // A member who joins later reads the same scrollback.
            let (ben, _to_ben) = rooms.join(3);
            assert_eq!(rooms.scrollback(3, ben, 3).len(), 3);
            assert!(rooms.scrollback(3, 999_999, 3).is_empty(), "no such member");
            assert!(
                rooms.scrollback(4, ada, 3).is_empty(),
                "not a member of that room"
            );
        }

        #[test]
        fn a_message_is_wrapped_once_whatever_the_size_of_its_room() {
            let _counters = support::counters_lock();
            let rooms = drill::ChatRooms::new();
            let members: Vec<_> = (0..100).map(|_| rooms.join(5)).collect();
            let envelopes = support::counter("chat_envelopes");
            for i in 0..10 {
                rooms.post(5, members[0].0, &format!("announcement {i}"));
            }
            let wrapped = support::counter("chat_envelopes") - envelopes;
            assert!(
                wrapped <= 10,
                "10 messages to a room of 100 were wrapped in {wrapped} envelopes: the envelope is the same for \
                 every member, so build it once a message"
            );
        }

        #[test]
        fn a_member_costs_a_few_kilobytes_not_a_copy_of_the_room() {
            let _counters = support::counters_lock();
            let heap_bytes: fn() -> u64 = $heap_bytes;
            let rooms = drill::ChatRooms::new();
            // The rooms exist first: a room's own history is paid once, by its first member.
            let mut outboxes: Vec<_> = (0..10).map(|room| rooms.join(room)).collect();
            outboxes.reserve(1_000);
            let before = heap_bytes();
            for i in 0..1_000 {
                outboxes.push(rooms.join(i % 10));
            }
            let per_member = heap_bytes().saturating_sub(before) / 1_000;
            assert!(
                per_member <= $crate::grader::MEMBER_BYTES_AT_MOST,
                "each member added {per_member} bytes of heap (at most {} expected): ten thousand members would \
                 need {} MiB. What does a member keep that every member of its room also keeps?",
                $crate::grader::MEMBER_BYTES_AT_MOST,
                per_member * 10_000 >> 20
            );
            drop(outboxes);
        }
    };
}
