//! The booking benchmark (not a test): 300 centres, 10,000 officers in 8 agencies and 1,000,000
//! past and future bookings in PostgreSQL; measures slot search latency and booking creation
//! throughput through the HTTP router (routing, session, JSON, store: what a request costs, without
//! the socket), and writes `docs/benchmarks/booking-latest.json` and the `## Booking` section of
//! `docs/benchmarks.md`.
//!
//!     cargo run --release -p narvaro-booking --example booking-bench
//!
//! `NARVARO_BENCH_DATABASE_URL` (default: database `narvaro_bench` over PostgreSQL's Unix socket in
//! `/var/run/postgresql` when it is there, with booking creation measured over TCP at
//! 127.0.0.1:5432 too, else over TCP only; a database of its own, created when missing, so the
//! load's `ANALYZE` and a million rows stay out of the database the tests use); the data goes into
//! a schema `narvaro_bench`, dropped and made again on each run; with `-- --reuse` a run measures
//! again on the data a previous run loaded.
//!
//! Agencies, services, centres, booths, guides and officers are written through the store (the
//! volume generator). The million bookings are generated inside PostgreSQL with one
//! `INSERT … SELECT` per table from `generate_series`: through the store they would take hours,
//! and the benchmark is about reading and writing a full database, not about loading it. Every
//! officer gets 100 bookings and every booth about 1,100, on distinct half hours of the weekdays of
//! a year before and a year after today, so the rows satisfy the same exclusion constraint the API
//! is held to; past ones are ended (and hold no reservation), future ones booked.

use std::time::Instant;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use booking::schedule::local_to_utc;
use booking::volume::{VolumeSpec, generate};
use booking::{Booking, BookingConfig, Clock, Environment, Personnummer, SystemClock};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};
use tower::ServiceExt;

const SCHEMA: &str = "narvaro_bench";
const SOCKET: &str = "/var/run/postgresql/.s.PGSQL.5432";
const SOCKET_URL: &str = "postgres://postgres@%2Fvar%2Frun%2Fpostgresql/narvaro_bench";
const TCP_URL: &str = "postgres://postgres@127.0.0.1:5432/narvaro_bench";
const BOOKINGS: i64 = 1_000_000;
const OFFICERS: i64 = 10_000;
const BOOTHS: i64 = 900;
const SEARCHES: usize = 1_000;
const CREATES: usize = 2_000;
/// Batches of CREATES bookings; the median counts.
const BATCHES: usize = 3;
const CONCURRENCY: usize = 16;
const CITIZENS: usize = 2_000;

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    cookie: Option<&str>,
    body: Value,
) -> (StatusCode, Value, Option<String>) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
        // As the web client does: the session's CSRF token beside it.
        let mut cookies = axum::http::HeaderMap::new();
        if let Ok(value) = c.parse() {
            cookies.insert(header::COOKIE, value);
        }
        if let Some(credential) = booking::csrf::credential(&cookies) {
            req = req.header(
                booking::csrf::CSRF_HEADER,
                booking::csrf::token_for(credential),
            );
        }
    }
    // A well-formed request: building it cannot fail.
    let req = req.body(Body::from(body.to_string())).expect("request");
    // The router's error type is Infallible.
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let set_cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 22)
        .await
        .unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        set_cookie,
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn local_date(day: i64) -> String {
    // Days since 1970-01-01; 2440588 is its Julian day number. In range for any booking date.
    time::Date::from_julian_day((day + 2_440_588) as i32)
        .expect("date in range")
        .to_string()
}

fn rfc3339(unix: i64) -> String {
    booking::schedule::format_rfc3339(unix)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|kb| format!("{:.0} GiB RAM", kb as f64 / 1_048_576.0))
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!(", Linux {}", k.trim()))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores available, {mem}{kernel}")
}

fn load_average_1m() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|s| {
        s.split_whitespace()
            .next()
            .and_then(|l| l.parse::<f64>().ok())
    })
}

/// CPU time, user and system, in seconds: this process and the PostgreSQL backends serving it.
/// The machine is shared, so wall-clock figures move with other people's work; CPU per request
/// does much less, and says what an idle machine could do.
struct CpuMeter {
    /// CPU seconds of each backend when the measurement began.
    backends: std::collections::HashMap<i32, f64>,
    own: f64,
}

fn cpu_of(stat_path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    // Fields after the command name (which may hold spaces) in `(…)`: utime and stime are the
    // 12th and 13th (proc(5)), in clock ticks of 1/100 s on Linux.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

async fn backend_cpu(
    conn: &mut PgConnection,
) -> Result<std::collections::HashMap<i32, f64>, Error> {
    let pids: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(pids
        .into_iter()
        .filter_map(|p| cpu_of(&format!("/proc/{p}/stat")).map(|c| (p, c)))
        .collect())
}

impl CpuMeter {
    async fn start(conn: &mut PgConnection) -> Result<CpuMeter, Error> {
        Ok(CpuMeter {
            backends: backend_cpu(conn).await?,
            own: cpu_of("/proc/self/stat").unwrap_or(0.0),
        })
    }

    /// Seconds used since `start` by this process and by the backends (a backend opened since
    /// counts from zero). `None` when PostgreSQL runs elsewhere and its processes are not visible.
    async fn used(&self, conn: &mut PgConnection) -> Result<Option<(f64, f64)>, Error> {
        let now = backend_cpu(conn).await?;
        if now.is_empty() {
            return Ok(None);
        }
        let db: f64 = now
            .iter()
            .map(|(p, c)| c - self.backends.get(p).copied().unwrap_or(0.0))
            .sum();
        Ok(Some((
            cpu_of("/proc/self/stat").unwrap_or(0.0) - self.own,
            db,
        )))
    }
}

/// Connects, creating the database first (from the server's `postgres` database) when it does
/// not exist yet.
async fn connect_or_create(url: &str) -> Result<PgConnection, Error> {
    match PgConnection::connect(url).await {
        Ok(conn) => Ok(conn),
        // 3D000: invalid_catalog_name, the database does not exist.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {
            let options: sqlx::postgres::PgConnectOptions = url.parse()?;
            let name = options
                .get_database()
                .ok_or("the benchmark URL names no database")?
                .to_owned();
            if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!("database name {name:?}: letters, digits and _ only").into());
            }
            let mut admin = PgConnection::connect_with(&options.database("postgres")).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await?;
            Ok(PgConnection::connect(url).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // PostgreSQL on this machine is reached as a single-machine deployment reaches it, over its
    // Unix socket; booking creation is measured over TCP loopback too, in the same run.
    let (url, tcp_url) = match std::env::var("NARVARO_BENCH_DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) if std::path::Path::new(SOCKET).exists() => {
            (SOCKET_URL.to_owned(), Some(TCP_URL.to_owned()))
        }
        Err(_) => (TCP_URL.to_owned(), None),
    };
    let mut conn = connect_or_create(&url).await?;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public")
        .execute(&mut conn)
        .await?;
    let reuse = std::env::args().any(|a| a == "--reuse");
    if !reuse {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"
        )))
        .execute(&mut conn)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {SCHEMA}")))
            .execute(&mut conn)
            .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SET search_path TO {SCHEMA}, public"
    )))
    .execute(&mut conn)
    .await?;
    let pg_version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&mut conn)
        .await?;
    let config = BookingConfig {
        database_url: in_schema(&url),
        demo_data: false,
        data_key: Some(booking::crypto::DataKey::generate_secret()?),
        outbox_poll_secs: 3600,
        // It signs in 300 guides from one address, which the sign-in limit would refuse.
        rate_limits: false,
        ..Default::default()
    };
    let booking = Booking::open(&config, Environment::Development).await?;
    // The same service on the same data, its pool over TCP.
    let over_tcp = match &tcp_url {
        Some(tcp) => Some(
            Booking::open(
                &BookingConfig {
                    database_url: in_schema(tcp),
                    ..config.clone()
                },
                Environment::Development,
            )
            .await?,
        ),
        None => None,
    };
    let now = SystemClock.now();
    let today = now.div_euclid(86_400);

    let first_monday = {
        let d = today - 365;
        d - (booking::schedule::iso_weekday(d) - 1)
    };
    if !reuse {
        load(&booking, &mut conn, now, first_monday).await?;
    }
    sqlx::raw_sql(
        "CREATE TEMP TABLE bo AS SELECT o.id, (row_number() OVER (ORDER BY o.id) - 1) AS n, \
             (SELECT min(s.service_id) FROM officer_services s WHERE s.officer_id = o.id) AS service_id FROM officers o;
         CREATE TEMP TABLE bb AS SELECT b.id, (row_number() OVER (ORDER BY b.id) - 1) AS n, g.id AS guide_id \
             FROM booths b JOIN guides g ON g.centre_id = b.centre_id;",
    )
    .execute(&mut conn)
    .await?;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bookings")
        .fetch_one(&mut conn)
        .await?;
    let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reservations")
        .fetch_one(&mut conn)
        .await?;
    let officer_count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM officers")
        .fetch_one(&mut conn)
        .await?;
    let centres: Vec<String> = sqlx::query_scalar("SELECT id FROM centres ORDER BY id")
        .fetch_all(&mut conn)
        .await?;
    let services: Vec<String> = sqlx::query_scalar("SELECT id FROM services ORDER BY id")
        .fetch_all(&mut conn)
        .await?;
    // Earlier runs on the same data created their bookings on earlier days.
    let earlier_runs = (rows - BOOKINGS).max(0) / CREATES as i64;
    measure(
        &booking,
        over_tcp.as_ref(),
        &mut conn,
        &MeasureInput {
            connection: if tcp_url.is_some() || url.contains("%2F") {
                "Unix socket"
            } else {
                "TCP"
            },
            today,
            first_monday,
            rows,
            live,
            officer_count,
            centres,
            services,
            pg_version,
            earlier_runs,
            reuse,
        },
    )
    .await
}

fn in_schema(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options[search_path]={SCHEMA}")
}

struct MeasureInput {
    /// How the measured service reaches PostgreSQL.
    connection: &'static str,
    today: i64,
    first_monday: i64,
    rows: i64,
    live: i64,
    officer_count: i64,
    centres: Vec<String>,
    services: Vec<String>,
    pg_version: String,
    earlier_runs: i64,
    /// Measured on data an earlier run loaded.
    reuse: bool,
}

async fn load(
    booking: &Booking,
    conn: &mut PgConnection,
    now: i64,
    first_monday: i64,
) -> Result<(), Error> {
    let t = Instant::now();
    let report = generate(
        booking.store(),
        &VolumeSpec {
            bookings: 0,
            ..VolumeSpec::benchmark(now)
        },
    )
    .await?;
    println!(
        "resources through the store: {} centres, {} officers in {:.1} s",
        report.centres.len(),
        report.officers,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    for i in 0..CITIZENS {
        let pnr = Personnummer::from_parts(
            &format!("1980{:02}{:02}", 1 + i / 2800, 1 + (i / 100) % 28),
            900 + (i % 100) as u16,
        )?;
        booking
            .store()
            .ensure_citizen(booking::ids::CitizenId::new(), &pnr, "Testperson", now)
            .await?;
    }
    println!(
        "{CITIZENS} citizens through the store in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Weekday w (0 = the Monday a year ago) is local day `first_monday + (w/5)*7 + w%5`; slot h
    // (0–15) starts at 08:30 + h half hours local time, inside opening and working hours.
    let weekday_slots: i64 = 104 * 5 * 16;
    let per_officer = BOOKINGS / OFFICERS;
    let officers_per_booth = (OFFICERS + BOOTHS - 1) / BOOTHS;
    let t = Instant::now();
    let load = format!(
        "CREATE TEMP TABLE lo AS SELECT o.id, (row_number() OVER (ORDER BY o.id) - 1) AS n, \
             (SELECT min(s.service_id) FROM officer_services s WHERE s.officer_id = o.id) AS service_id FROM officers o;
         CREATE TEMP TABLE lb AS SELECT b.id, (row_number() OVER (ORDER BY b.id) - 1) AS n, g.id AS guide_id \
             FROM booths b JOIN guides g ON g.centre_id = b.centre_id;
         CREATE TEMP TABLE bc AS SELECT id, (row_number() OVER (ORDER BY id) - 1) AS n FROM citizens;
         CREATE TEMP TABLE bk AS
         SELECT md5('bench-' || g.i)::uuid::text AS id, o.id AS officer_id, o.service_id, b.id AS booth_id, b.guide_id,
                c.id AS citizen_id,
                extract(epoch FROM ((DATE '1970-01-01' + ({first_monday} + (g.p / 16 / 5) * 7 + (g.p / 16) % 5)::int)
                    + TIME '08:30' + (g.p % 16) * INTERVAL '30 minutes') AT TIME ZONE 'Europe/Stockholm')::bigint AS starts_at
         FROM (SELECT i, i % {OFFICERS} AS o, ((i / {OFFICERS}) * {officers_per_booth} + (i % {OFFICERS}) / {BOOTHS}) * {weekday_slots}
                      / ({per_officer} * {officers_per_booth}) AS p
               FROM generate_series(0, {last}) i) g
         JOIN lo o ON o.n = g.o
         JOIN lb b ON b.n = g.o % {BOOTHS}
         JOIN bc c ON c.n = g.i % {CITIZENS};
         INSERT INTO bookings (id, service_id, officer_id, booth_id, citizen_id, starts_at, duration_minutes, ends_at, state,
                               created_by_guide_id, created_at, outcome)
         SELECT id, service_id, officer_id, booth_id, citizen_id, starts_at, 30, starts_at + 1800,
                CASE WHEN starts_at < {now} THEN 'ended' ELSE 'booked' END, guide_id, LEAST(starts_at, {now}) - 7 * 86400,
                CASE WHEN starts_at < {now} THEN 'resolved' END
         FROM bk;
         INSERT INTO booking_officers (booking_id, officer_id, service_id) SELECT id, officer_id, service_id FROM bk;
         INSERT INTO booking_events (booking_id, seq, at, actor_kind, actor_id, kind, detail)
         SELECT id, 1, LEAST(starts_at, {now}) - 7 * 86400, 'guide', guide_id, 'created', '{{}}' FROM bk;
         INSERT INTO reservations (booking_id, resource_id, kind, starts_at, ends_at)
         SELECT id, officer_id, 'officer', starts_at, starts_at + 1800 FROM bk WHERE starts_at >= {now}
         UNION ALL
         SELECT id, booth_id, 'booth', starts_at, starts_at + 1800 FROM bk WHERE starts_at >= {now};
         ANALYZE;",
        last = BOOKINGS - 1,
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(load))
        .execute(&mut *conn)
        .await?;
    println!(
        "{BOOKINGS} bookings generated in PostgreSQL in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Creates the bookings of `jobs` (request body, guide's cookie), CONCURRENCY at a time: how
/// many, how many per second, and the CPU they cost (this process, PostgreSQL's backends).
async fn create_bookings(
    app: &axum::Router,
    conn: &mut PgConnection,
    jobs: Vec<(Value, String)>,
) -> Result<(usize, f64, Option<(f64, f64)>), Error> {
    let queue = std::sync::Arc::new(std::sync::Mutex::new(jobs));
    let meter = CpuMeter::start(conn).await?;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (app, queue) = (app.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            let mut created = 0usize;
            loop {
                // Poisoned only if another worker panicked, which ends the run anyway.
                let Some((body, cookie)) = queue.lock().expect("queue").pop() else {
                    break;
                };
                let (status, answer, _) =
                    call(&app, Method::POST, "/api/v1/bookings", Some(&cookie), body).await;
                if status != StatusCode::CREATED {
                    return Err(format!("create: {status} {answer}"));
                }
                created += 1;
            }
            Ok(created)
        }));
    }
    let mut created = 0;
    for task in tasks {
        created += task.await?.map_err(Error::from)?;
    }
    let per_s = created as f64 / t.elapsed().as_secs_f64();
    Ok((created, per_s, meter.used(conn).await?))
}

async fn measure(
    booking: &Booking,
    over_tcp: Option<&Booking>,
    conn: &mut PgConnection,
    input: &MeasureInput,
) -> Result<(), Error> {
    let MeasureInput {
        connection,
        today,
        first_monday,
        rows,
        live,
        officer_count,
        centres,
        services,
        pg_version,
        earlier_runs,
        reuse,
    } = input;
    let load_before = load_average_1m();
    let (today, first_monday, rows, live) = (*today, *first_monday, *rows, *live);

    let app = booking.router();
    let guides: Vec<(String, String)> =
        sqlx::query_as("SELECT centre_id, id FROM guides ORDER BY centre_id")
            .fetch_all(&mut *conn)
            .await?;
    let mut cookies = std::collections::HashMap::new();
    for (centre, guide) in &guides {
        let (status, body, cookie) = call(
            &app,
            Method::POST,
            "/api/v1/dev-eid/login",
            None,
            json!({"person_id": guide}),
        )
        .await;
        let cookie = cookie
            .filter(|_| status == StatusCode::OK)
            .ok_or_else(|| format!("login failed: {status} {body}"))?;
        cookies.insert(centre.clone(), cookie);
    }

    // Slot search: a random centre and service, one working week (Monday–Friday) within the
    // next eight weeks, the first 20 slots.
    let mut rng = StdRng::seed_from_u64(1);
    let next_monday = today + 8 - booking::schedule::iso_weekday(today);
    let mut latencies = Vec::with_capacity(SEARCHES);
    let mut found = 0usize;
    let meter = CpuMeter::start(conn).await?;
    for _ in 0..SEARCHES {
        let centre = centres[rng.random_range(0..centres.len())].clone();
        let service = &services[rng.random_range(0..services.len())];
        let monday = next_monday + 7 * rng.random_range(0..8);
        let body = json!({"centre_id": centre, "service_id": service, "from": local_date(monday), "to": local_date(monday + 4), "limit": 20});
        let t = Instant::now();
        let (status, answer, _) = call(
            &app,
            Method::POST,
            "/api/v1/slots/search",
            Some(&cookies[&centre]),
            body,
        )
        .await;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        if status != StatusCode::OK {
            return Err(format!("slot search: {status} {answer}").into());
        }
        found += answer["slots"].as_array().map_or(0, Vec::len);
    }
    let search_cpu = meter.used(conn).await?;
    latencies.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    println!("slot search ×{SEARCHES}: p50 {p50:.2} ms, p99 {p99:.2} ms ({found} slots found)");

    // Booking creation: distinct officers and booth half hours on a day after the generated
    // year, so none refuses another; CONCURRENCY requests at a time.
    let officers: Vec<(String, String)> =
        sqlx::query_as("SELECT id, service_id FROM bo ORDER BY n")
            .fetch_all(&mut *conn)
            .await?;
    let booths: Vec<(String, String)> = sqlx::query_as(
        "SELECT b.id, b2.centre_id FROM bb b JOIN booths b2 ON b2.id = b.id ORDER BY b.n",
    )
    .fetch_all(&mut *conn)
    .await?;
    // Each batch on a week of its own after the generated year (and after earlier runs' batches).
    let jobs = |batch: i64| -> Vec<(Value, String)> {
        let day = first_monday + 106 * 7 + 7 * (earlier_runs + batch);
        (0..CREATES)
            .map(|j| {
                let (officer, service) = &officers[j];
                let (booth, centre) = &booths[j % BOOTHS as usize];
                let starts = local_to_utc(day, 8 * 60 + 30 + 30 * (j / BOOTHS as usize) as i64);
                let pnr = Personnummer::from_parts("19900101", 900 + (j % 100) as u16).expect("valid parts");
                let body = json!({"service_id": service, "officer_id": officer, "booth_id": booth, "starts_at": rfc3339(starts),
                                  "duration_minutes": 30, "citizen_personnummer": pnr.expose()});
                (body, cookies[centre].clone())
            })
            .collect()
    };
    // BATCHES batches through the measured connection, each followed by one over TCP when that is
    // measured too (taking turns, so neither gains from going first); the median batch counts.
    let tcp_app = over_tcp.map(Booking::router);
    let (mut rates, mut tcp_rates) = (Vec::new(), Vec::new());
    let (mut created, mut tcp_created) = (0, 0);
    let mut create_cpu = Some((0.0, 0.0));
    let mut batch = 0;
    for _ in 0..BATCHES {
        let (n, per_s, used) = create_bookings(&app, conn, jobs(batch)).await?;
        batch += 1;
        created += n;
        rates.push(per_s);
        create_cpu = create_cpu.zip(used).map(|((a, b), (c, d))| (a + c, b + d));
        println!(
            "created {n} bookings, {CONCURRENCY} at a time: {per_s:.0} per second ({connection})"
        );
        if let Some(tcp_app) = &tcp_app {
            let (n, per_s, _) = create_bookings(tcp_app, conn, jobs(batch)).await?;
            batch += 1;
            tcp_created += n;
            tcp_rates.push(per_s);
            println!("created {n} bookings over TCP loopback: {per_s:.0} per second");
        }
    }
    let median = |mut rates: Vec<f64>| {
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    };
    let batch_rates: Vec<f64> = rates.iter().map(|r| r.round()).collect();
    let per_s = median(rates);
    let tcp = (!tcp_rates.is_empty()).then(|| (tcp_created, median(tcp_rates)));
    // Milliseconds of CPU per request: (this process, PostgreSQL backends).
    let per_request = |used: Option<(f64, f64)>, n: usize| {
        used.map(|(own, db)| (own * 1000.0 / n as f64, db * 1000.0 / n as f64))
    };
    let search_cpu = per_request(search_cpu, SEARCHES);
    let create_cpu = per_request(create_cpu, created.max(1));
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as f64;
    let ceiling = create_cpu.map(|(own, db)| cores * 1000.0 / (own + db));
    if let (Some((so, sd)), Some((co, cd)), Some(ceiling)) = (search_cpu, create_cpu, ceiling) {
        println!(
            "CPU per slot search {so:.2} ms here + {sd:.2} ms PostgreSQL; per booking {co:.2} ms + {cd:.2} ms \
             (at most {ceiling:.0} bookings per second on {cores} idle cores)"
        );
    }
    let round = |x: f64| (x * 100.0).round() / 100.0;

    let machine = machine();
    let database = format!("PostgreSQL {pg_version}");
    let rows = rows + (created + tcp.map_or(0, |(n, _)| n)) as i64;
    let (profile, command) = if cfg!(debug_assertions) {
        (
            "debug",
            "cargo run -p narvaro-booking --example booking-bench",
        )
    } else {
        (
            "release",
            "cargo run --release -p narvaro-booking --example booking-bench",
        )
    };
    let command = if *reuse {
        format!("{command} -- --reuse")
    } else {
        command.to_owned()
    };
    // The machine is shared; how busy it was, before and after, says how far the figures can
    // be trusted.
    let load_average = load_average_1m();
    let load_text = match (load_before, load_average) {
        (Some(a), Some(b)) => format!(", load average {a:.1} before and {b:.1} after measuring"),
        _ => String::new(),
    };
    let result = json!({
        "slot_search_p50_ms": (p50 * 100.0).round() / 100.0,
        "slot_search_p99_ms": (p99 * 100.0).round() / 100.0,
        "bookings_created_per_s": per_s.round(),
        "bookings_created_per_s_each_batch": batch_rates,
        "connection": connection,
        "bookings_created_per_s_over_tcp_loopback": tcp.map(|(_, per_s)| per_s.round()),
        "database": database,
        "rows": {"centres": centres.len(), "officers": officer_count, "agencies": 8, "bookings": rows, "reservations": live},
        "machine": machine,
        "build": profile,
        "command": command,
        "load_average_1m_before": load_before,
        "load_average_1m": load_average,
        "searches": SEARCHES,
        "bookings_created": created,
        "concurrency": CONCURRENCY,
        "cpu_ms_per_slot_search": search_cpu.map(|(own, db)| json!({"benchmark_process": round(own), "postgresql_backends": round(db)})),
        "cpu_ms_per_booking_created": create_cpu.map(|(own, db)| json!({"benchmark_process": round(own), "postgresql_backends": round(db)})),
        "bookings_per_s_cpu_bound_on_idle_machine": ceiling.map(f64::round),
    });
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::create_dir_all(root.join("docs/benchmarks"))?;
    std::fs::write(
        root.join("docs/benchmarks/booking-latest.json"),
        format!("{:#}\n", result),
    )?;
    let tcp_row = match tcp {
        Some((n, per_s)) => format!(
            "| booking creation over TCP loopback instead (median of {BATCHES} batches taking turns with those above, {n} bookings) | {per_s:.0} per second | |\n"
        ),
        None => String::new(),
    };
    let cpu_rows = match (search_cpu, create_cpu, ceiling) {
        (Some((so, sd)), Some((co, cd)), Some(ceiling)) => format!(
            "| CPU per slot search (benchmark process + PostgreSQL) | {so:.2} + {sd:.2} ms | |\n\
             | CPU per booking created | {co:.2} + {cd:.2} ms | |\n\
             | bookings per second the CPU allows on {cores} idle cores | {ceiling:.0} | |\n"
        ),
        _ => String::new(),
    };
    let section = format!(
        "## Booking\n\n\
         `{command}` ({profile} build{load_text}) on {machine}, {database} on the same \
         machine: {} centres, {} officers in 8 agencies, {rows} bookings (past ones ended, {live} reservations of future ones), \
         loaded by `booking/examples/booking-bench.rs`.\n\n\
         | measure | result | target |\n|---|---|---|\n\
         | slot search p50 ({SEARCHES} searches: random centre and service, one working week, 20 slots) | {p50:.2} ms | |\n\
         | slot search p99 | {p99:.2} ms | ≤ 20 ms |\n\
         | booking creation (median of {BATCHES} batches of {CREATES} bookings, {CONCURRENCY} concurrent requests) | {per_s:.0} per second | ≥ 1,000 per second |\n\
         {tcp_row}{cpu_rows}\n\
         Measured through the HTTP router in process (routing, session, JSON, store), without an HTTP socket; the \
         service reaches PostgreSQL over {}. CPU is \
         user + system time of the benchmark process and of the PostgreSQL backends serving it (not PostgreSQL's \
         WAL writer or checkpointer), from `/proc`. The latest figures are in `docs/benchmarks/booking-latest.json`; \
         what the time is spent on is below.\n",
        centres.len(),
        officer_count,
        if *connection == "TCP" {
            "TCP"
        } else {
            "its Unix socket"
        },
    );
    let md_path = root.join("docs/benchmarks.md");
    let md = std::fs::read_to_string(&md_path).unwrap_or_else(|_| "# Benchmarks\n".into());
    // Only this section is replaced; others (## SFU) are kept as they are.
    let md = match md.find("## Booking\n") {
        Some(start) => {
            let end = md[start + 1..]
                .find("\n## ")
                .map(|i| start + 2 + i)
                .unwrap_or(md.len());
            format!(
                "{}{section}{}",
                &md[..start],
                if end < md.len() {
                    format!("\n{}", &md[end..])
                } else {
                    String::new()
                }
            )
        }
        None => format!("{}\n{section}", md.trim_end().to_owned() + "\n"),
    };
    std::fs::write(md_path, md)?;
    println!(
        "wrote docs/benchmarks/booking-latest.json and the Booking section of docs/benchmarks.md"
    );
    Ok(())
}
