//! Client scenario: tokio-postgres against a real `ripple` process.
//!
//! tokio-postgres prepares every statement (Parse + Describe, then Bind with
//! binary parameters typed from the ParameterDescription) and reads every
//! result column in binary, so this checks inferred parameter types, the
//! binary formats both ways, oid parameters for catalog lookups, SQLSTATEs
//! and a materialized view following writes.

use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls};

struct Server {
    child: Child,
    data: std::path::PathBuf,
    port: u16,
}

impl Server {
    fn start() -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let data =
            std::env::temp_dir().join(format!("ripple-tokio-pg-{}-{port}", std::process::id()));
        let child = Command::new(env!("CARGO_BIN_EXE_ripple"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--workers", "1"])
            .arg("--data-dir")
            .arg(&data)
            .stderr(Stdio::null())
            .spawn()
            .expect("start ripple");
        Server { child, data, port }
    }

    async fn connect(&self) -> Client {
        let conf = format!(
            "host=127.0.0.1 port={} user=ripple dbname=ripple",
            self.port
        );
        for _ in 0..300 {
            if let Ok((client, conn)) = tokio_postgres::connect(&conf, NoTls).await {
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                return client;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("ripple did not accept connections on port {}", self.port);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

#[tokio::test]
async fn tokio_postgres_scenario() {
    let server = Server::start();
    let c = server.connect().await;

    c.batch_execute(
        "CREATE TABLE t (id bigint, name text, score double precision, ok boolean, tags text[]);
         CREATE MATERIALIZED VIEW v AS SELECT ok, count(*) AS n, sum(score) AS s FROM t GROUP BY ok",
    )
    .await
    .expect("DDL");

    // parameter types come from the server's inference
    let insert = c
        .prepare("INSERT INTO t VALUES ($1, $2, $3, $4, $5)")
        .await
        .expect("prepare insert");
    assert_eq!(
        insert.params(),
        &[
            Type::INT8,
            Type::TEXT,
            Type::FLOAT8,
            Type::BOOL,
            Type::TEXT_ARRAY
        ]
    );
    assert!(insert.columns().is_empty(), "an INSERT returns no columns");
    let rows: [(i64, &str, f64, bool, Vec<&str>); 3] = [
        (1, "ann", 1.5, true, vec!["a", "b"]),
        (2, "bob", -2.25, false, vec![]),
        (3, "o'neil", 10.0, true, vec!["c"]),
    ];
    for (id, name, score, ok, tags) in &rows {
        let n = c
            .execute(&insert, &[id, name, score, ok, tags])
            .await
            .expect("insert");
        assert_eq!(n, 1);
    }

    // typed binary results
    let got = c
        .query(
            "SELECT id, name, score, ok, tags FROM t WHERE id > $1 ORDER BY id",
            &[&1i64],
        )
        .await
        .expect("select");
    let got: Vec<(i64, String, f64, bool, Vec<String>)> = got
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "bob".into(), -2.25, false, vec![]),
            (3, "o'neil".into(), 10.0, true, vec!["c".into()]),
        ]
    );

    // the materialized view follows the writes
    let row = c
        .query_one("SELECT n, s FROM v WHERE ok = $1", &[&true])
        .await
        .expect("view");
    assert_eq!((row.get::<_, i64>(0), row.get::<_, f64>(1)), (2, 11.5));
    c.execute("DELETE FROM t WHERE id = $1", &[&3i64])
        .await
        .expect("delete");
    let row = c
        .query_one("SELECT n, s FROM v WHERE ok = true", &[])
        .await
        .expect("view after delete");
    assert_eq!((row.get::<_, i64>(0), row.get::<_, f64>(1)), (1, 1.5));

    // catalog introspection with an oid parameter, as drivers look types up
    let rel = c
        .query_one(
            "SELECT c.oid, c.relkind FROM pg_class c WHERE c.relname = $1",
            &[&"t"],
        )
        .await
        .expect("pg_class");
    let oid: u32 = rel.get(0);
    assert!(oid > 16384, "user objects have OIDs above 16384: {oid}");
    let cols = c
        .query(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = $1 AND attnum > 0 ORDER BY attnum",
            &[&oid],
        )
        .await
        .expect("pg_attribute");
    let cols: Vec<(String, String)> = cols.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        cols,
        [
            ("id", "bigint"),
            ("name", "text"),
            ("score", "double precision"),
            ("ok", "boolean"),
            ("tags", "text[]"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let typ = c
        .query_one("SELECT typname FROM pg_type WHERE oid = $1", &[&25u32])
        .await
        .expect("pg_type");
    assert_eq!(typ.get::<_, String>(0), "text");

    // errors keep their SQLSTATE and the connection stays usable
    let err = c.query("SELECT * FROM nosuch", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNDEFINED_TABLE));
    let err = c.query("SELECT 1 / $1", &[&0i32]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::DIVISION_BY_ZERO));
    let one = c
        .query_one("SELECT 1::int4", &[])
        .await
        .expect("after errors");
    assert_eq!(one.get::<_, i32>(0), 1);
}
