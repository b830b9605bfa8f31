// Client test: Go drivers lib/pq (database/sql) and pgx v4 against a real `ripple`
// (or PostgreSQL with --pg), built from Debian's Go packages in GOPATH mode
// (golang-github-lib-pq-dev, golang-github-jackc-pgx-v4-dev).
//
// lib/pq: unnamed Parse + Describe S + Sync, then Bind/Execute/Sync, text params,
// binary int results only; db.Prepare gives a named statement. pgx v4: every
// statement is prepared and cached (`lrupsc_N_M`), Bind + Describe P on each run,
// binary parameters typed from ParameterDescription and binary results for all
// columns. Grafana uses these two. One scenario per driver, one line per check.
//
// Usage (tests/clients/go/run.sh sets GO111MODULE=off GOPATH=/usr/share/gocode):
//   bash tests/clients/go/run.sh --ripple-bin target/debug/ripple [--workers N]
//   bash tests/clients/go/run.sh --pg        # PostgreSQL at 127.0.0.1:54329
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgconn"
	"github.com/jackc/pgx/v4"
	"github.com/lib/pq"
)

var (
	rippleBin = flag.String("ripple-bin", "target/debug/ripple", "ripple binary")
	workers   = flag.String("workers", "1", "ripple --workers")
	usePg     = flag.Bool("pg", false, "run against PostgreSQL at 127.0.0.1:54329")
	pgPort    = envOr("PGTEST_PORT", "54329")
)

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

type checkFailed struct{ msg string }

func (c checkFailed) Error() string { return c.msg }

func check(cond bool, format string, a ...interface{}) {
	if !cond {
		panic(checkFailed{fmt.Sprintf(format, a...)})
	}
}

func must(err error, what string) {
	if err != nil {
		panic(fmt.Errorf("%s: %w", what, err))
	}
}

type server struct {
	cmd     *exec.Cmd
	port    int
	tmp     string
	logPath string
	exited  chan struct{}
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startServer(prefix string) *server {
	bin, _ := filepath.Abs(*rippleBin)
	tmp, err := os.MkdirTemp("", prefix)
	must(err, "mkdtemp")
	s := &server{port: freePort(), tmp: tmp, logPath: filepath.Join(tmp, "ripple.log"), exited: make(chan struct{})}
	log, err := os.Create(s.logPath)
	must(err, "log")
	s.cmd = exec.Command(bin, "--listen", fmt.Sprintf("127.0.0.1:%d", s.port), "--data-dir",
		filepath.Join(tmp, "data"), "--workers", *workers)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	must(s.cmd.Start(), "start ripple")
	go func() { s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			panic(checkFailed{"ripple exited during start-up\n" + s.logTail()})
		default:
		}
		c, err := pgx.Connect(context.Background(), s.url())
		if err == nil {
			c.Close(context.Background())
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	panic(checkFailed{"ripple did not accept connections within 30 s\n" + s.logTail()})
}

func (s *server) url() string {
	return fmt.Sprintf("postgres://ripple@127.0.0.1:%d/ripple?sslmode=disable", s.port)
}

func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *server) stop() {
	if !s.alive() {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
	}
}

func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no server log)"
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

type runner struct {
	name           string
	passed, failed int
	srv            *server
}

func (r *runner) run(name string, fn func()) {
	full := r.name + "." + name
	defer func() {
		if e := recover(); e != nil {
			r.failed++
			msg := fmt.Sprint(e)
			if err, ok := e.(error); ok {
				var pge *pgconn.PgError
				var pqe *pq.Error
				if errors.As(err, &pge) {
					msg += " [SQLSTATE " + pge.Code + "]"
				} else if errors.As(err, &pqe) {
					msg += " [SQLSTATE " + string(pqe.Code) + "]"
				}
			}
			fmt.Printf("FAIL %s: %s\n", full, msg)
			if r.srv != nil && !r.srv.alive() {
				fmt.Println(r.srv.logTail())
			}
			return
		}
		r.passed++
		fmt.Printf("ok   %s\n", full)
	}()
	fn()
}

func sqlState(err error) string {
	var pge *pgconn.PgError
	var pqe *pq.Error
	if errors.As(err, &pge) {
		return pge.Code
	}
	if errors.As(err, &pqe) {
		return string(pqe.Code)
	}
	return ""
}

var schema = []string{
	"CREATE TABLE things (id integer NOT NULL, big bigint, f8 double precision, amount numeric(12,3)," +
		" label text, flag boolean, day date, at timestamp, atz timestamptz)",
	"CREATE MATERIALIZED VIEW totals AS SELECT flag, count(*) AS n, sum(amount) AS total FROM things GROUP BY flag",
}

const insertSQL = "INSERT INTO things VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"

type row struct {
	id     int32
	big    sql.NullInt64
	f8     float64
	amount string
	label  string
	flag   bool
	day    time.Time
	at     time.Time
	atz    time.Time
}

func mkRow(i int) []interface{} {
	return []interface{}{int32(i), int64(i) * 1000000000000, float64(i) / 4, fmt.Sprintf("%d.25", i),
		fmt.Sprintf("row%d", i), i%2 == 0, time.Date(2024, 1, i, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 1, i, 10, 30, 15, 500000000, time.UTC),
		time.Date(2024, 1, i, 12, 0, 0, 0, time.FixedZone("", 2*3600))}
}

func freshPgDb(name string) string {
	c, err := pgx.Connect(context.Background(), "postgres://postgres@127.0.0.1:"+pgPort+"/postgres?sslmode=disable")
	must(err, "connect to PostgreSQL")
	defer c.Close(context.Background())
	_, err = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name)
	must(err, "drop database")
	_, err = c.Exec(context.Background(), "CREATE DATABASE "+name)
	must(err, "create database")
	return "postgres://postgres@127.0.0.1:" + pgPort + "/" + name + "?sslmode=disable"
}

// ---------------------------------------------------------------- lib/pq

func runLibPq(url string, r *runner) {
	var db *sql.DB
	ctx := context.Background()
	syncMv := func() {
		if *usePg {
			_, err := db.Exec("REFRESH MATERIALIZED VIEW totals")
			must(err, "refresh")
		}
	}
	r.run("connect_ping", func() {
		var err error
		db, err = sql.Open("postgres", url)
		must(err, "open")
		db.SetMaxOpenConns(2)
		must(db.PingContext(ctx), "ping")
		var v string
		must(db.QueryRow("SHOW server_version").Scan(&v), "SHOW server_version")
	})
	if db == nil {
		return
	}
	defer db.Close()
	r.run("schema", func() {
		for _, s := range schema {
			_, err := db.Exec(s)
			must(err, s)
		}
	})
	r.run("insert_params", func() {
		for i := 1; i <= 6; i++ {
			res, err := db.Exec(insertSQL, mkRow(i)...)
			must(err, fmt.Sprintf("insert %d", i))
			n, _ := res.RowsAffected()
			check(n == 1, "rows affected %d", n)
		}
	})
	r.run("fetch_typed", func() {
		rows, err := db.Query("SELECT id, big, f8, amount, label, flag, day, at, atz FROM things WHERE id <= $1 ORDER BY id", 3)
		must(err, "query")
		defer rows.Close()
		i := 0
		for rows.Next() {
			i++
			var x row
			must(rows.Scan(&x.id, &x.big, &x.f8, &x.amount, &x.label, &x.flag, &x.day, &x.at, &x.atz), "scan")
			want := mkRow(i)
			check(x.id == int32(i) && x.big.Int64 == want[1].(int64) && x.f8 == want[2].(float64), "row %d: %+v", i, x)
			check(x.amount == fmt.Sprintf("%d.250", i) && x.label == want[4].(string) && x.flag == want[5].(bool), "row %d: %+v", i, x)
			check(x.day.Equal(want[6].(time.Time)), "row %d day %v", i, x.day)
			check(x.at.Equal(want[7].(time.Time)), "row %d at %v", i, x.at)
			check(x.atz.Equal(want[8].(time.Time)), "row %d atz %v", i, x.atz)
		}
		must(rows.Err(), "rows")
		check(i == 3, "%d rows", i)
	})
	r.run("prepared_reuse", func() {
		st, err := db.Prepare("SELECT label FROM things WHERE id = $1 AND big > $2")
		must(err, "prepare")
		defer st.Close()
		for run := 0; run < 8; run++ {
			id := run%6 + 1
			var label string
			must(st.QueryRow(id, 0).Scan(&label), fmt.Sprintf("run %d", run))
			check(label == fmt.Sprintf("row%d", id), "run %d: %q", run, label)
		}
	})
	r.run("mv_follows_writes", func() {
		var n int64
		var total string
		syncMv()
		must(db.QueryRow("SELECT n, total FROM totals WHERE flag = $1", true).Scan(&n, &total), "before")
		check(n == 3 && total == "12.750", "before: n=%d total=%s", n, total)
		_, err := db.Exec("INSERT INTO things (id, amount, flag) VALUES ($1, $2, $3)", 50, "1.5", true)
		must(err, "insert")
		syncMv()
		must(db.QueryRow("SELECT n, total FROM totals WHERE flag = $1", true).Scan(&n, &total), "after")
		check(n == 4 && total == "14.250", "after INSERT: n=%d total=%s", n, total)
		_, err = db.Exec("DELETE FROM things WHERE id = $1", 50)
		must(err, "delete")
		syncMv()
		must(db.QueryRow("SELECT n FROM totals WHERE flag = $1", true).Scan(&n), "after delete")
		check(n == 3, "after DELETE: n=%d", n)
	})
	r.run("information_schema", func() {
		rows, err := db.Query("SELECT column_name, data_type FROM information_schema.columns"+
			" WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position", "things")
		must(err, "query")
		defer rows.Close()
		var got []string
		for rows.Next() {
			var c, t string
			must(rows.Scan(&c, &t), "scan")
			got = append(got, c+":"+t)
		}
		want := []string{"id:integer", "big:bigint", "f8:double precision", "amount:numeric", "label:text",
			"flag:boolean", "day:date", "at:timestamp without time zone", "atz:timestamp with time zone"}
		check(reflect.DeepEqual(got, want), "want %v got %v", want, got)
	})
	r.run("transaction", func() {
		tx, err := db.Begin()
		must(err, "begin")
		_, err = tx.Exec("INSERT INTO things (id, label) VALUES ($1, $2)", 60, "gone")
		must(err, "insert")
		must(tx.Rollback(), "rollback")
		tx, err = db.Begin()
		must(err, "begin")
		_, err = tx.Exec("INSERT INTO things (id, label) VALUES ($1, $2)", 61, "kept")
		must(err, "insert")
		must(tx.Commit(), "commit")
		var ids []int
		rows, err := db.Query("SELECT id FROM things WHERE id >= 60")
		must(err, "select")
		for rows.Next() {
			var id int
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		check(reflect.DeepEqual(ids, []int{61}), "after rollback + commit: %v", ids)
		_, err = db.Exec("DELETE FROM things WHERE id >= 60")
		must(err, "cleanup")
	})
	r.run("errors", func() {
		for _, c := range [][2]string{{"SELECT * FROM no_such_table", "42P01"}, {"SELEC 1", "42601"}, {"SELECT 1 / 0", "22012"}} {
			_, err := db.Exec(c[0])
			check(err != nil && sqlState(err) == c[1], "%s: want %s got %v", c[0], c[1], err)
		}
		var n int
		must(db.QueryRow("SELECT $1::int + 1", 1).Scan(&n), "after errors")
		check(n == 2, "n=%d", n)
	})
}

// ---------------------------------------------------------------- pgx v4

func runPgx(url string, r *runner) {
	ctx := context.Background()
	var c *pgx.Conn
	syncMv := func() {
		if *usePg {
			_, err := c.Exec(ctx, "REFRESH MATERIALIZED VIEW totals")
			must(err, "refresh")
		}
	}
	r.run("connect_ping", func() {
		var err error
		c, err = pgx.Connect(ctx, url)
		must(err, "connect")
		must(c.Ping(ctx), "ping")
	})
	if c == nil {
		return
	}
	defer c.Close(ctx)
	r.run("schema", func() {
		for _, s := range schema {
			_, err := c.Exec(ctx, s)
			must(err, s)
		}
	})
	r.run("insert_params", func() {
		for i := 1; i <= 6; i++ {
			args := mkRow(i)
			if i == 5 {
				args[1] = nil
			}
			tag, err := c.Exec(ctx, insertSQL, args...)
			must(err, fmt.Sprintf("insert %d", i))
			check(tag.RowsAffected() == 1, "rows affected %d", tag.RowsAffected())
		}
	})
	r.run("fetch_typed_binary", func() {
		rows, err := c.Query(ctx, "SELECT id, big, f8, amount, label, flag, day, at, atz FROM things ORDER BY id")
		must(err, "query")
		defer rows.Close()
		i := 0
		for rows.Next() {
			i++
			var id int32
			var big *int64
			var f8, amount float64
			var label string
			var flag bool
			var day, at, atz time.Time
			must(rows.Scan(&id, &big, &f8, &amount, &label, &flag, &day, &at, &atz), "scan")
			want := mkRow(i)
			check(id == int32(i) && f8 == want[2].(float64) && amount == float64(i)+0.25, "row %d: %d %v %v", i, id, f8, amount)
			check((i == 5 && big == nil) || (big != nil && *big == want[1].(int64)), "row %d big %v", i, big)
			check(label == want[4].(string) && flag == want[5].(bool), "row %d: %q %v", i, label, flag)
			check(day.Equal(want[6].(time.Time)), "row %d day %v", i, day)
			check(at.Equal(want[7].(time.Time)), "row %d at %v", i, at)
			check(atz.Equal(want[8].(time.Time)), "row %d atz %v", i, atz)
		}
		must(rows.Err(), "rows")
		check(i == 6, "%d rows", i)
	})
	r.run("param_inference", func() {
		var ids []int32
		rows, err := c.Query(ctx, "SELECT id FROM things WHERE big > $1 AND f8 < $2 AND label LIKE $3 AND day <= $4 ORDER BY id",
			int64(1), 1.4, "row%", time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC))
		must(err, "query")
		for rows.Next() {
			var id int32
			must(rows.Scan(&id), "scan")
			ids = append(ids, id)
		}
		must(rows.Err(), "rows")
		check(reflect.DeepEqual(ids, []int32{1, 2, 3, 4}), "ids %v", ids)
	})
	r.run("prepared_reuse", func() {
		_, err := c.Prepare(ctx, "by_id", "SELECT label, amount::text FROM things WHERE id = $1")
		must(err, "prepare")
		for run := 0; run < 8; run++ {
			id := run%6 + 1
			var label, amount string
			must(c.QueryRow(ctx, "by_id", id).Scan(&label, &amount), fmt.Sprintf("run %d", run))
			check(label == fmt.Sprintf("row%d", id) && amount == fmt.Sprintf("%d.250", id), "run %d: %q %q", run, label, amount)
		}
	})
	r.run("batch", func() {
		b := &pgx.Batch{}
		b.Queue("INSERT INTO things (id, label) VALUES ($1, $2)", 70, "b1")
		b.Queue("INSERT INTO things (id, label) VALUES ($1, $2)", 71, "b2")
		b.Queue("SELECT count(*) FROM things WHERE id >= $1", 70)
		br := c.SendBatch(ctx, b)
		_, err := br.Exec()
		must(err, "batch insert 1")
		_, err = br.Exec()
		must(err, "batch insert 2")
		var n int64
		must(br.QueryRow().Scan(&n), "batch count")
		must(br.Close(), "batch close")
		check(n == 2, "count %d", n)
		_, err = c.Exec(ctx, "DELETE FROM things WHERE id >= 70")
		must(err, "cleanup")
	})
	r.run("mv_follows_writes", func() {
		var n int64
		var total float64
		syncMv()
		must(c.QueryRow(ctx, "SELECT n, total FROM totals WHERE flag = $1", true).Scan(&n, &total), "before")
		check(n == 3 && total == 12.75, "before: n=%d total=%v", n, total)
		_, err := c.Exec(ctx, "INSERT INTO things (id, amount, flag) VALUES ($1, $2, $3)", 50, 1.5, true)
		must(err, "insert")
		syncMv()
		must(c.QueryRow(ctx, "SELECT n, total FROM totals WHERE flag = $1", true).Scan(&n, &total), "after")
		check(n == 4 && total == 14.25, "after INSERT: n=%d total=%v", n, total)
		_, err = c.Exec(ctx, "DELETE FROM things WHERE id = $1", 50)
		must(err, "delete")
	})
	r.run("information_schema_pg_class", func() {
		var got []string
		rows, err := c.Query(ctx, "SELECT c.relname::text, c.relkind::text FROM pg_catalog.pg_class c"+
			" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1", "public")
		must(err, "query")
		for rows.Next() {
			var a, b string
			must(rows.Scan(&a, &b), "scan")
			got = append(got, a+":"+b)
		}
		must(rows.Err(), "rows")
		check(reflect.DeepEqual(got, []string{"things:r", "totals:m"}), "pg_class %v", got)
		var nCols int64
		must(c.QueryRow(ctx, "SELECT count(*) FROM information_schema.columns WHERE table_name = $1", "things").Scan(&nCols), "columns")
		check(nCols == 9, "information_schema.columns count %d", nCols)
	})
	r.run("transaction", func() {
		tx, err := c.Begin(ctx)
		must(err, "begin")
		_, err = tx.Exec(ctx, "INSERT INTO things (id, label) VALUES ($1, $2)", 60, "gone")
		must(err, "insert")
		must(tx.Rollback(ctx), "rollback")
		var n int64
		must(c.QueryRow(ctx, "SELECT count(*) FROM things WHERE id = 60").Scan(&n), "count")
		check(n == 0, "after rollback: %d", n)
	})
	r.run("errors", func() {
		for _, q := range [][2]string{{"SELECT * FROM no_such_table", "42P01"}, {"SELEC 1", "42601"}, {"SELECT 1 / 0", "22012"}} {
			_, err := c.Exec(ctx, q[0])
			check(err != nil && sqlState(err) == q[1], "%s: want %s got %v", q[0], q[1], err)
		}
		var n int32
		must(c.QueryRow(ctx, "SELECT $1::int + 1", 1).Scan(&n), "after errors")
		check(n == 2, "n=%d", n)
	})
}

func main() {
	flag.Parse()
	fmt.Printf("lib/pq (Debian golang-github-lib-pq-dev), pgx v4 (golang-github-jackc-pgx-v4-dev)\n")
	total := &runner{}
	for _, d := range []struct {
		name string
		fn   func(string, *runner)
	}{{"libpq", runLibPq}, {"pgx", runPgx}} {
		r := &runner{name: d.name}
		func() {
			defer func() {
				if e := recover(); e != nil {
					r.failed++
					fmt.Printf("FAIL %s.setup: %v\n", d.name, e)
				}
			}()
			var url string
			if *usePg {
				url = freshPgDb("ripple_go_" + d.name)
			} else {
				r.srv = startServer("ripple-go-" + d.name + "-")
				defer r.srv.stop()
				url = r.srv.url()
			}
			d.fn(url, r)
			if r.failed > 0 && r.srv != nil {
				fmt.Printf("server log (%s): %s\n", d.name, r.srv.logPath)
			}
		}()
		total.passed += r.passed
		total.failed += r.failed
	}
	fmt.Printf("go_clients: %d passed, %d failed\n", total.passed, total.failed)
	if total.failed > 0 {
		os.Exit(1)
	}
}
