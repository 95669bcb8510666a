//! The grader of drill `db-degradation`, generic over the module graded: `grade_db_degradation!(path)`.
//! It judges the schema by what SQLite does with the query — its plan, and the steps its virtual machine takes —
//! which are the same on every machine, unlike the time the query takes.

#[macro_export]
macro_rules! grade_db_degradation {
    ($module:path) => {
        use exercise_incidents::support::{self, OrdersDb};
        use $module as drill;

        /// The virtual-machine steps of one history query, and its rows.
        fn one_query(db: &OrdersDb, customer: i64) -> (u64, Vec<support::OrderRow>) {
            let before = support::counter("db_vm_steps");
            let rows = db.query(drill::ORDER_HISTORY, customer).expect("the history query runs");
            (support::counter("db_vm_steps") - before, rows)
        }

        #[test]
        fn the_history_lists_a_customers_twenty_latest_orders_newest_first() {
            let _counters = support::counters_lock();
            let db = OrdersDb::open(drill::SCHEMA, 40_000).expect("the schema creates the orders table");
            let (_, rows) = one_query(&db, 42);
            assert_eq!(rows.len(), 20);
            assert!(rows.iter().all(|r| r.customer_id == 42), "{rows:?}");
            assert!(rows.windows(2).all(|w| w[0].created_at > w[1].created_at), "newest first: {rows:?}");
        }

        #[test]
        fn the_history_query_reads_an_index_instead_of_scanning_the_table() {
            let _counters = support::counters_lock();
            let db = OrdersDb::open(drill::SCHEMA, 40_000).expect("the schema creates the orders table");
            let plan = db.plan(drill::ORDER_HISTORY).expect("a plan");
            assert!(
                !plan.contains("SCAN"),
                "the plan reads the whole table (or a whole index) for every page:\n{plan}"
            );
            one_query(&db, 42);
            assert_eq!(support::counter("db_fullscan_steps"), 0, "plan:\n{plan}");
        }

        #[test]
        fn the_work_per_query_does_not_grow_with_the_table() {
            let _counters = support::counters_lock();
            let small = OrdersDb::open(drill::SCHEMA, 16_000).expect("the schema creates the orders table");
            let large = OrdersDb::open(drill::SCHEMA, 160_000).expect("the schema creates the orders table");
            let (small_steps, _) = one_query(&small, 7);
            let (large_steps, _) = one_query(&large, 7);
            assert!(
                large_steps < small_steps * 2,
                "10x the orders (and the customer's history as long), {large_steps} steps against {small_steps}: the query's cost grows with the table"
            );
        }
    };
}
