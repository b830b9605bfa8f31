//! A client connection: pgwire's handlers for startup and simple queries,
//! the session's settings and its transaction block. This is the one place
//! a `SqlError` becomes a wire ErrorResponse.

use crate::coordinator::{Outcome, Request};
use crate::pgtypes;
use async_trait::async_trait;
use catalog::system::{Backend, SessionInfo};
use catalog::{sqlstate, SqlError};
use futures::{Sink, SinkExt};
use pgwire::api::auth::mechanism::AuthMechanismFactory;
use pgwire::api::auth::{
    finish_authentication, protocol_negotiation, save_startup_parameters_to_metadata, AuthOutcome,
    DefaultServerParameterProvider, StartupHandler,
};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response, Tag};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireServerHandlers, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::response::NoticeResponse;
use pgwire::messages::startup::ParameterStatus;
use pgwire::messages::startup::SecretKey;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use planner::{Parsed, StatementPlan};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

mod stream;

/// The database name clients must connect to.
pub const DATABASE: &str = "ripple";

/// Per-connection state, kept in pgwire's session extensions.
#[derive(Default)]
struct Session {
    /// Settings changed with SET (lower-case names).
    vars: BTreeMap<String, String>,
    /// Settings from the startup packet, which RESET returns to.
    startup: BTreeMap<String, String>,
    /// Open cursors by name.
    cursors: BTreeMap<String, Cursor>,
    /// Statements prepared with SQL PREPARE, by name.
    prepared: BTreeMap<String, Prepared>,
    block: Option<Block>,
    /// A `COPY … FROM STDIN` reading its data.
    copy_in: Option<stream::CopyIn>,
}

/// A cursor from DECLARE: its query's result, computed when declared (the
/// snapshot FETCH reads), and whether it outlives the transaction block.
struct Cursor {
    columns: Vec<catalog::Column>,
    rows: std::collections::VecDeque<catalog::Row>,
    hold: bool,
    /// For a cursor FOR SUBSCRIBE: the subscription filling `rows`.
    sub: Option<stream::SubscribeCursor>,
}

/// An open transaction block: writes wait for COMMIT.
#[derive(Default)]
struct Block {
    writes: Vec<Parsed>,
    failed: bool,
    /// Savepoints, oldest first: name and the number of writes before it.
    savepoints: Vec<(String, usize)>,
}

/// Every open connection by pid, for `pg_stat_activity`.
type Backends = Arc<Mutex<BTreeMap<i32, Backend>>>;

/// How to interrupt a connection's running query: its cancel key, the
/// sender the running read waits on, and whether the session was ended.
#[derive(Default)]
struct Conn {
    secret: i32,
    cancel: Mutex<Option<oneshot::Sender<()>>>,
    terminated: std::sync::atomic::AtomicBool,
}

impl Conn {
    /// Arms the cancel signal for the query about to run.
    fn start_query(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        *self.cancel.lock().expect("lock") = Some(tx);
        rx
    }

    fn cancel(&self) {
        if let Some(tx) = self.cancel.lock().expect("lock").take() {
            let _ = tx.send(());
        }
    }
}

/// Every open connection's [`Conn`], by pid.
type Conns = Arc<Mutex<BTreeMap<i32, Arc<Conn>>>>;

/// Answers CancelRequest messages (psql's Ctrl-C, drivers' cancel).
struct Canceller {
    conns: Conns,
}

#[async_trait]
impl CancelHandler for Canceller {
    async fn on_cancel_request(&self, req: CancelRequest) {
        let conn = self.conns.lock().expect("lock").get(&req.pid).cloned();
        match conn {
            Some(c) if SecretKey::I32(c.secret).eq_value(&req.secret_key) => {
                tracing::info!(pid = req.pid, "cancel request");
                c.cancel();
            }
            _ => tracing::debug!(pid = req.pid, "cancel request for no connection"),
        }
    }
}

/// Keeps a connection listed in [`Backends`] while the client lives (it
/// sits in the client's session extensions, dropped at disconnect).
struct Registration {
    pid: i32,
    backends: Backends,
    conns: Conns,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.backends.lock().expect("lock").remove(&self.pid);
        self.conns.lock().expect("lock").remove(&self.pid);
    }
}

/// PostgreSQL's answer to a failed login (28P01), whatever went wrong.
fn auth_failed(user: &str) -> PgWireError {
    let e = ErrorInfo::new(
        "FATAL".into(),
        sqlstate::INVALID_PASSWORD.into(),
        format!("password authentication failed for user \"{user}\""),
    );
    PgWireError::UserError(Box::new(e))
}

/// Shared by every connection; per-connection state lives in the client.
pub struct Handlers {
    coord: mpsc::UnboundedSender<Request>,
    backends: Backends,
    conns: Conns,
    /// `None`: trust; else the password check and what it checks against.
    auth: Option<(crate::auth::AuthMethod, Arc<crate::auth::Credentials>)>,
    /// Connections from the loopback interface skip the password check.
    trust_loopback: bool,
    roles: crate::auth::RoleDirectory,
}

impl Handlers {
    pub fn new(
        coord: mpsc::UnboundedSender<Request>,
        method: crate::auth::AuthMethod,
        credentials: Arc<crate::auth::Credentials>,
        roles: crate::auth::RoleDirectory,
    ) -> Arc<Self> {
        let conns: Conns = Arc::default();
        let signal = conns.clone();
        catalog::system::set_signal_backend(Box::new(move |pid, terminate| {
            let conn = signal.lock().expect("lock").get(&pid).cloned();
            conn.map(|c| {
                if terminate {
                    c.terminated
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                }
                c.cancel();
            })
            .is_some()
        }));
        Arc::new(Handlers {
            coord,
            backends: Arc::default(),
            conns,
            auth: (method != crate::auth::AuthMethod::Trust).then_some((method, credentials)),
            trust_loopback: method == crate::auth::AuthMethod::TrustLoopback,
            roles,
        })
    }
}

impl Handlers {
    fn query_handler(&self) -> QueryHandler {
        QueryHandler {
            coord: self.coord.clone(),
            backends: self.backends.clone(),
            conns: self.conns.clone(),
            parser: Arc::new(StatementParser {
                coord: self.coord.clone(),
                backends: self.backends.clone(),
            }),
        }
    }
}

/// The connection's session state (created on first use).
fn session_of<C: ClientInfo>(client: &C) -> Arc<Mutex<Session>> {
    client
        .session_extensions()
        .get_or_insert_with(|| Mutex::new(Session::default()))
}

/// What the planner knows of the session running a statement.
fn session_info<C: ClientInfo>(client: &C, backends: &Backends) -> Arc<SessionInfo> {
    let session = session_of(client);
    let settings = session.lock().expect("lock").vars.clone();
    Arc::new(SessionInfo {
        user: client.metadata().get("user").cloned().unwrap_or_default(),
        pid: client.pid_and_secret_key().0,
        settings,
        backends: backends.lock().expect("lock").values().cloned().collect(),
    })
}

/// PostgreSQL's answer to a cancel request (57014).
fn canceled() -> SqlError {
    SqlError::new(
        sqlstate::QUERY_CANCELED,
        "canceling statement due to user request",
    )
}

/// Checks that cursor `name` may be declared now: inside a transaction
/// block (or WITH HOLD), and not declared already.
fn check_new_cursor(s: &Session, name: &str, hold: bool) -> Result<(), SqlError> {
    if s.block.is_none() && !hold {
        return Err(SqlError::new(
            sqlstate::NO_ACTIVE_TRANSACTION,
            "DECLARE CURSOR can only be used in transaction blocks",
        ));
    }
    if s.cursors.contains_key(name) {
        return Err(SqlError::new(
            sqlstate::DUPLICATE_CURSOR,
            format!("cursor \"{name}\" already exists"),
        ));
    }
    Ok(())
}

/// Runs a read until it finishes, the client cancels it, or it exceeds
/// `timeout` (57014 for both, as PostgreSQL reports them). Reads only:
/// dropping a write's reply would not undo the write.
async fn interruptible<T>(
    run: impl std::future::Future<Output = Result<T, SqlError>>,
    conn: &Conn,
    timeout: Option<std::time::Duration>,
) -> Result<T, SqlError> {
    let mut cancel = conn.start_query();
    let sleep = async {
        match timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        r = run => r,
        Ok(()) = &mut cancel => Err(canceled()),
        () = sleep => Err(SqlError::new(
            sqlstate::QUERY_CANCELED,
            "canceling statement due to statement timeout",
        )),
    }
}

/// The session's statement_timeout (`None`: no limit).
fn statement_timeout(info: &SessionInfo) -> Option<std::time::Duration> {
    let v = info.setting("statement_timeout")?;
    parse_duration_ms(&v)
        .filter(|ms| *ms > 0)
        .map(std::time::Duration::from_millis)
}

/// A duration setting in PostgreSQL's form: a number of milliseconds, or a
/// number with a unit (`us`, `ms`, `s`, `min`, `h`, `d`).
fn parse_duration_ms(v: &str) -> Option<u64> {
    let v = v.trim().trim_matches('\'');
    let split = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    let scale = match unit.trim() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    Some((n * scale).round() as u64)
}

/// Records what connection `pid` is doing, for `pg_stat_activity`.
fn set_activity(backends: &Backends, pid: i32, state: &str, query: Option<String>) {
    if let Some(b) = backends.lock().expect("lock").get_mut(&pid) {
        b.state = state.to_string();
        if let Some(q) = query {
            b.query = q;
        }
    }
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        Arc::new(self.query_handler())
    }
    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        Arc::new(self.query_handler())
    }
    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::new(Startup {
            backends: self.backends.clone(),
            conns: self.conns.clone(),
            roles: self.roles.clone(),
            trust_loopback: self.trust_loopback,
            auth: self.auth.clone().map(|(method, credentials)| {
                let mechanism: Arc<dyn AuthMechanismFactory> = match method {
                    crate::auth::AuthMethod::Password => Arc::new(
                        pgwire::api::auth::cleartext::CleartextPasswordAuth::new(credentials),
                    ),
                    _ => Arc::new(pgwire::api::auth::sasl::SaslMechanisms::new(vec![
                        Arc::new(pgwire::api::auth::sasl::scram::ScramAuth::new(credentials)),
                    ])),
                };
                (AuthDriver::new(Arc::new(parameters())), mechanism)
            }),
        })
    }
    fn copy_handler(&self) -> Arc<impl pgwire::api::copy::CopyHandler> {
        Arc::new(self.query_handler())
    }
    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        Arc::new(Canceller {
            conns: self.conns.clone(),
        })
    }
}

type AuthDriver = pgwire::api::auth::AuthDriver<Arc<DefaultServerParameterProvider>>;

/// Trust or password authentication (`--auth`); only the `ripple`
/// database exists.
struct Startup {
    backends: Backends,
    conns: Conns,
    /// The password check (SCRAM-SHA-256 or cleartext); `None`: trust.
    auth: Option<(AuthDriver, Arc<dyn AuthMechanismFactory>)>,
    /// Roles without LOGIN are refused whatever the method.
    roles: crate::auth::RoleDirectory,
    /// Connections from the loopback interface skip the password check.
    trust_loopback: bool,
}

fn parameters() -> DefaultServerParameterProvider {
    let mut p = DefaultServerParameterProvider::default();
    p.server_version = "15.0".into();
    p.date_style = "ISO, MDY".into();
    p.time_zone = "UTC".into();
    p.interval_style = "postgres".into();
    p
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let PgWireFrontendMessage::Startup(ref startup) = message {
            protocol_negotiation(client, startup).await?;
            save_startup_parameters_to_metadata(client, startup);
            let user = client.metadata().get("user").cloned().unwrap_or_default();
            let db = client
                .metadata()
                .get("database")
                .cloned()
                .unwrap_or_else(|| user.clone());
            if db != DATABASE {
                let e = ErrorInfo::new(
                    "FATAL".into(),
                    sqlstate::INVALID_CATALOG_NAME.into(),
                    format!("database \"{db}\" does not exist"),
                );
                return Err(PgWireError::UserError(Box::new(e)));
            }
            let trusted = self.trust_loopback && client.socket_addr().ip().is_loopback();
            match &self.auth {
                _ if trusted => self.finish(client, &user).await?,
                None => self.finish(client, &user).await?,
                Some((driver, mechanisms)) => {
                    match driver
                        .begin_authentication(client, mechanisms.create())
                        .await
                        .map_err(|_| auth_failed(&user))?
                    {
                        AuthOutcome::InProgress => {}
                        AuthOutcome::Authenticated { final_message, .. } => {
                            if let Some(m) = final_message {
                                client.send(PgWireBackendMessage::Authentication(m)).await?;
                            }
                            self.finish(client, &user).await?;
                        }
                    }
                }
            }
        } else if let (PgWireFrontendMessage::PasswordMessageFamily(m), Some((driver, _))) =
            (message, &self.auth)
        {
            let user = client.metadata().get("user").cloned().unwrap_or_default();
            match driver
                .advance_authentication(client, m)
                .await
                .map_err(|_| auth_failed(&user))?
            {
                AuthOutcome::InProgress => {}
                AuthOutcome::Authenticated { final_message, .. } => {
                    if let Some(m) = final_message {
                        client.send(PgWireBackendMessage::Authentication(m)).await?;
                    }
                    self.finish(client, &user).await?;
                }
            }
        }
        Ok(())
    }
}

impl Startup {
    /// Registers an authenticated connection and completes the startup:
    /// AuthenticationOk, ParameterStatus, BackendKeyData, ReadyForQuery.
    async fn finish<C>(&self, client: &mut C, user: &str) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let user = user.to_string();
        if crate::auth::cannot_login(&self.roles, &user) {
            let e = ErrorInfo::new(
                "FATAL".into(),
                sqlstate::INVALID_AUTHORIZATION_SPECIFICATION.into(),
                format!("role \"{user}\" is not permitted to log in"),
            );
            return Err(PgWireError::UserError(Box::new(e)));
        }
        let pid = loop {
            let pid = (rand_u32() & 0x3fff_ffff) as i32 | 1;
            if !self.conns.lock().expect("lock").contains_key(&pid) {
                break pid;
            }
        };
        let secret = rand_u32() as i32;
        client.set_pid_and_secret_key(pid, SecretKey::I32(secret));
        self.conns.lock().expect("lock").insert(
            pid,
            Arc::new(Conn {
                secret,
                ..Conn::default()
            }),
        );
        let vars = startup_settings(client.metadata());
        client.session_extensions().insert(Mutex::new(Session {
            vars: vars.clone(),
            startup: vars.clone(),
            cursors: BTreeMap::new(),
            prepared: BTreeMap::new(),
            block: None,
            copy_in: None,
        }));
        self.backends.lock().expect("lock").insert(
            pid,
            Backend {
                pid,
                user: user.clone(),
                application_name: vars.get("application_name").cloned().unwrap_or_default(),
                client_addr: Some(client.socket_addr().ip().to_string()),
                backend_start: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_micros() as i64),
                state: "idle".into(),
                query: String::new(),
            },
        );
        client.session_extensions().insert(Registration {
            pid,
            backends: self.backends.clone(),
            conns: self.conns.clone(),
        });
        let mut params = parameters();
        if let Some(app) = vars.get("application_name") {
            params.application_name = Some(app.clone());
        }
        if let Some(zone) = vars.get("timezone") {
            params.time_zone = zone.clone();
        }
        finish_authentication(client, &params).await?;
        Ok(())
    }
}

/// The settings a client gave in its startup packet (`application_name`,
/// `DateStyle`, `options=-c name=value`, …) that Ripple accepts; values it
/// cannot honour keep their defaults, as the client learns from the
/// ParameterStatus messages that follow.
fn startup_settings(
    metadata: &std::collections::HashMap<String, String>,
) -> BTreeMap<String, String> {
    let mut given: Vec<(String, String)> = metadata
        .iter()
        .map(|(k, v)| (k.to_lowercase(), v.clone()))
        .collect();
    if let Some(options) = metadata.get("options") {
        let mut words = options.split_whitespace();
        while let Some(w) = words.next() {
            let kv = match w {
                "-c" => words.next(),
                w => w.strip_prefix("-c").or_else(|| w.strip_prefix("--")),
            };
            if let Some((k, v)) = kv.and_then(|kv| kv.split_once('=')) {
                given.push((k.to_lowercase().replace('-', "_"), v.to_string()));
            }
        }
    }
    let mut vars = BTreeMap::new();
    for (name, value) in given {
        if matches!(
            name.as_str(),
            "user" | "database" | "options" | "replication"
        ) {
            continue;
        }
        let settable = catalog::system::SETTINGS
            .iter()
            .any(|s| s.0.eq_ignore_ascii_case(&name) && s.2 != "Preset Options");
        if settable {
            let value = value.trim_matches('\'').to_string();
            if let Ok(v) = validate_setting(&name, &value) {
                vars.insert(name, v);
            }
        }
    }
    vars
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    h.finish() as u32
}

/// Runs statements from simple-protocol query strings and from extended
/// protocol portals.
struct QueryHandler {
    coord: mpsc::UnboundedSender<Request>,
    backends: Backends,
    conns: Conns,
    parser: Arc<StatementParser>,
}

fn error_info(e: SqlError) -> ErrorInfo {
    let mut info = ErrorInfo::new("ERROR".into(), e.code, e.message);
    info.detail = e.detail;
    info.hint = e.hint;
    info.position = e.position.map(|p| p.to_string());
    info.where_context = e.context.map(String::from);
    info
}

fn error_response(e: SqlError) -> Response {
    Response::Error(Box::new(error_info(e)))
}

fn user_error(e: SqlError) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(e)))
}

/// The format of result column `i` (text when the client sent fewer codes).
fn field_format(formats: &Format, i: usize) -> FieldFormat {
    match formats {
        Format::Individual(codes) => codes
            .get(i)
            .map_or(FieldFormat::Text, |c| FieldFormat::from(*c)),
        f => f.format_for(i),
    }
}

/// RowDescription fields for `columns` in the requested formats.
fn fields(columns: &[catalog::Column], formats: &Format) -> Vec<FieldInfo> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            FieldInfo::new(
                c.name.clone(),
                c.origin.map(|(table, _)| table as i32),
                c.origin.map(|(_, attnum)| attnum),
                pgtypes::wire_type(c.ty),
                field_format(formats, i),
            )
            .with_type_modifier(catalog::system::typmod(c.ty))
        })
        .collect()
}

/// The session's time zone, from its `TimeZone` setting.
fn zone_of(timezone: Option<&String>) -> catalog::zone::Zone {
    timezone
        .and_then(|z| catalog::zone::Zone::parse(z))
        .unwrap_or(catalog::zone::Zone::Utc)
}

fn rows_response(
    columns: Vec<catalog::Column>,
    rows: Vec<catalog::Row>,
    formats: &Format,
    zone: catalog::zone::Zone,
) -> PgWireResult<Response> {
    let fields = Arc::new(fields(&columns, formats));
    let mut encoded = Vec::with_capacity(rows.len());
    let mut enc = DataRowEncoder::new(fields.clone());
    for row in rows {
        for d in row.iter() {
            enc.encode_field(&pgtypes::ZonedDatum(d, zone))?;
        }
        encoded.push(Ok(enc.take_row()));
    }
    Ok(Response::Query(QueryResponse::new(
        fields,
        futures::stream::iter(encoded),
    )))
}

/// FETCH's result: rows tagged `FETCH n`.
fn fetch_response(
    columns: Vec<catalog::Column>,
    rows: Vec<catalog::Row>,
    formats: &Format,
    zone: catalog::zone::Zone,
) -> PgWireResult<Response> {
    rows_response(columns, rows, formats, zone).map(|r| match r {
        Response::Query(mut q) => {
            q.set_command_tag("FETCH");
            Response::Query(q)
        }
        other => other,
    })
}

/// Parameters PostgreSQL reports to the client when they change.
fn reported_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "application_name" => "application_name",
        "timezone" => "TimeZone",
        "datestyle" => "DateStyle",
        "client_encoding" => "client_encoding",
        "intervalstyle" => "IntervalStyle",
        _ => return None,
    })
}

/// Sends a request to the coordinator and waits for its answer.
pub(crate) async fn ask<T>(
    coord: &mpsc::UnboundedSender<Request>,
    make: impl FnOnce(oneshot::Sender<Result<T, SqlError>>) -> Request,
) -> Result<T, SqlError> {
    let (tx, rx) = oneshot::channel();
    let down = || SqlError::new(sqlstate::ADMIN_SHUTDOWN, "the server is shutting down");
    coord.send(make(tx)).map_err(|_| down())?;
    rx.await.map_err(|_| down())?
}

impl QueryHandler {
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, SqlError>>) -> Request,
    ) -> Result<T, SqlError> {
        ask(&self.coord, make).await
    }

    /// Runs one statement of a query string.
    async fn statement<C>(
        &self,
        client: &mut C,
        session: &Mutex<Session>,
        stmt: Parsed,
        formats: &Format,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let local = session_plan(&stmt);
        let failed = session
            .lock()
            .expect("lock")
            .block
            .as_ref()
            .is_some_and(|b| b.failed);
        if failed
            && !matches!(
                local,
                Some(
                    StatementPlan::Commit
                        | StatementPlan::Rollback
                        | StatementPlan::RollbackTo { .. }
                )
            )
        {
            return Ok(error_response(SqlError::new(
                sqlstate::IN_FAILED_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block",
            )));
        }
        if let Some(plan) = local {
            return self.session_statement(client, session, plan, formats).await;
        }
        let zone = zone_of(
            session_info(client, &self.backends)
                .settings
                .get("timezone"),
        );
        match stmt {
            Parsed::Subscribe(_) => return self.run_subscribe(client, stmt, zone).await,
            Parsed::DeclareSubscribe {
                name,
                hold,
                subscribe,
            } => {
                let stmt = Parsed::Subscribe(subscribe);
                return Ok(self
                    .declare_subscribe(client, session, name, hold, stmt)
                    .await);
            }
            Parsed::FetchWait {
                name,
                count,
                timeout,
            } => {
                let timeout = match timeout.as_deref().map(parse_duration_ms) {
                    None => None,
                    Some(Some(ms)) => Some(std::time::Duration::from_millis(ms)),
                    Some(None) => {
                        return Ok(error_response(SqlError::new(
                            sqlstate::INVALID_PARAMETER_VALUE,
                            format!("invalid FETCH timeout: {}", timeout.unwrap_or_default()),
                        )))
                    }
                };
                let pid = client.pid_and_secret_key().0;
                return match self
                    .fetch_subscribe(session, pid, &name, count, timeout)
                    .await
                {
                    Some(Ok((columns, rows))) => fetch_response(columns, rows, formats, zone),
                    Some(Err(e)) => Ok(error_response(e)),
                    // an ordinary cursor has all its rows: the timeout does not matter
                    None => {
                        let count = count.map_or("ALL".to_string(), |n| n.to_string());
                        let name = catalog::system::quote_ident(&name);
                        match planner::parse(&format!("FETCH {count} FROM {name}")) {
                            Ok(mut p) if p.len() == 1 => {
                                let fetch = p.remove(0);
                                Box::pin(self.statement(client, session, fetch, formats)).await
                            }
                            Ok(_) => Ok(error_response(SqlError::internal("FETCH did not parse"))),
                            Err(e) => Ok(error_response(e)),
                        }
                    }
                };
            }
            _ => {}
        }
        let copy_to = match stream::copy_to_options(&stmt) {
            Some(Ok(o)) => Some(o),
            Some(Err(e)) => return Ok(error_response(e)),
            None => None,
        };
        if let Parsed::Sql(s) = &stmt {
            if let Some(r) = self.cursor_statement(client, session, s, formats).await {
                return r;
            }
            if let Some(r) = self.prepare_statement(client, session, s, formats).await {
                return r;
            }
        }
        if let Parsed::Sql(s) = &stmt {
            let pid = client.pid_and_secret_key().0;
            set_activity(&self.backends, pid, "active", Some(s.to_string()));
        }
        let info = session_info(client, &self.backends);
        let conn = self.conns.lock().expect("lock").get(&info.pid).cloned();
        if conn
            .as_ref()
            .is_some_and(|c| c.terminated.load(std::sync::atomic::Ordering::SeqCst))
        {
            let mut e = error_info(SqlError::new(
                sqlstate::ADMIN_SHUTDOWN,
                "terminating connection due to administrator command",
            ));
            e.severity = "FATAL".into();
            return Err(PgWireError::UserError(Box::new(e)));
        }
        let is_write = matches!(&stmt, Parsed::Sql(s) if matches!(**s, sqlparser_stmt::Insert(_) | sqlparser_stmt::Update(_) | sqlparser_stmt::Delete(_) | sqlparser_stmt::Truncate(_)));
        // COPY FROM only plans here; its rows become a write when read
        let copy_from = matches!(&stmt, Parsed::Sql(s) if matches!(**s, sqlparser_stmt::Copy { to: false, .. }));
        let in_block = session
            .lock()
            .expect("lock")
            .block
            .as_ref()
            .map(|b| b.writes.clone());
        let result = match in_block {
            Some(pending) if is_write => {
                let r = self
                    .ask(|reply| Request::DryRun {
                        pending,
                        stmt: stmt.clone(),
                        session: info.clone(),
                        reply,
                    })
                    .await;
                if r.is_ok() {
                    if let Some(b) = session.lock().expect("lock").block.as_mut() {
                        b.writes.push(stmt);
                    }
                }
                r
            }
            Some(pending) if !pending.is_empty() && !is_ddl(&stmt) && !copy_from => {
                Err(SqlError::new(
                    sqlstate::INVALID_TRANSACTION_STATE,
                    "reads after writes in a transaction block are not supported; COMMIT first",
                ))
            }
            _ => {
                let cancellable = matches!(&stmt, Parsed::Sql(s) if matches!(**s, sqlparser_stmt::Query(_)))
                    || copy_to.is_some();
                let run = self.ask(|reply| Request::Execute {
                    stmt,
                    session: info.clone(),
                    reply,
                });
                match (cancellable, conn) {
                    (true, Some(conn)) => interruptible(run, &conn, statement_timeout(&info)).await,
                    _ => run.await,
                }
            }
        };
        set_activity(&self.backends, info.pid, "idle", None);
        match result {
            Ok(Outcome::Tag(tag)) => Ok(Response::Execution(tag_of(&tag))),
            Ok(Outcome::Rows { columns, rows }) => match copy_to {
                Some(options) => self.copy_out(client, &options, &columns, rows, zone).await,
                None => rows_response(columns, rows, formats, zone),
            },
            Ok(Outcome::CopyIn(plan)) => {
                let columns = plan.fields.len();
                session.lock().expect("lock").copy_in = Some(stream::CopyIn::new(*plan));
                Ok(Response::CopyIn(pgwire::api::results::CopyResponse::new(
                    0,
                    columns,
                    futures::stream::empty(),
                )))
            }
            Err(e) => Ok(error_response(e)),
        }
    }

    /// SQL-level PREPARE and EXECUTE; `None` for other statements.
    async fn prepare_statement<C>(
        &self,
        client: &mut C,
        session: &Mutex<Session>,
        stmt: &sqlparser_stmt,
        formats: &Format,
    ) -> Option<PgWireResult<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let err = |e: SqlError| Some(Ok(error_response(e)));
        match stmt {
            sqlparser_stmt::Prepare {
                name,
                data_types,
                statement,
            } => {
                let name = planner::ident_name(name);
                if session.lock().expect("lock").prepared.contains_key(&name) {
                    return err(SqlError::new(
                        sqlstate::DUPLICATE_PSTATEMENT,
                        format!("prepared statement \"{name}\" already exists"),
                    ));
                }
                let mut declared = vec![];
                for t in data_types {
                    match planner::bind_type(t) {
                        Ok(t) => declared.push(Some(t)),
                        Err(e) => return err(e),
                    }
                }
                let parsed = Parsed::Sql(statement.clone());
                let prepared = match self.query_parser().describe(client, parsed, declared).await {
                    Ok(p) => p,
                    Err(PgWireError::UserError(info)) => return Some(Ok(Response::Error(info))),
                    Err(e) => return Some(Err(e)),
                };
                session
                    .lock()
                    .expect("lock")
                    .prepared
                    .insert(name, prepared);
                Some(Ok(Response::Execution(Tag::new("PREPARE"))))
            }
            sqlparser_stmt::Execute {
                name: Some(name),
                parameters,
                immediate: false,
                using,
                into,
                ..
            } if using.is_empty() && into.is_empty() => {
                let name = statement_name(name);
                let Some(prepared) = session.lock().expect("lock").prepared.get(&name).cloned()
                else {
                    return err(SqlError::new(
                        sqlstate::UNDEFINED_PSTATEMENT,
                        format!("prepared statement \"{name}\" does not exist"),
                    ));
                };
                let types = &prepared.desc.params;
                if parameters.len() != types.len() {
                    return err(SqlError::new(
                        sqlstate::SYNTAX_ERROR,
                        format!("wrong number of parameters for prepared statement \"{name}\""),
                    )
                    .with_detail(format!(
                        "Expected {} parameters but got {}.",
                        types.len(),
                        parameters.len()
                    )));
                }
                let values = match self.parameter_values(client, parameters, types).await {
                    Ok(v) => v,
                    Err(e) => return err(e),
                };
                let stmt = match planner::bind_params(&prepared.parsed, &values) {
                    Ok(s) => s,
                    Err(e) => return err(e),
                };
                Some(Box::pin(self.statement(client, session, stmt, formats)).await)
            }
            _ => None,
        }
    }

    /// The values of EXECUTE's parameter expressions, each cast to its
    /// parameter's type (computed as one SELECT, so any expression works),
    /// in text form as a Bind would carry them.
    async fn parameter_values<C: ClientInfo>(
        &self,
        client: &C,
        exprs: &[sqlparser::ast::Expr],
        types: &[catalog::ScalarType],
    ) -> Result<Vec<(Option<String>, catalog::ScalarType)>, SqlError> {
        if exprs.is_empty() {
            return Ok(vec![]);
        }
        let items: Vec<String> = exprs
            .iter()
            .zip(types)
            .map(|(e, t)| format!("CAST(({e}) AS {})", t.name()))
            .collect();
        let query = planner::parse(&format!("SELECT {}", items.join(", ")))?
            .pop()
            .ok_or_else(|| SqlError::internal("no parameter query"))?;
        let info = session_info(client, &self.backends);
        let outcome = self
            .ask(|reply| Request::Execute {
                stmt: query,
                session: info,
                reply,
            })
            .await?;
        let Outcome::Rows { rows, .. } = outcome else {
            return Err(SqlError::internal("parameter query gave no rows"));
        };
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| SqlError::internal("parameter query gave no rows"))?;
        Ok(types
            .iter()
            .enumerate()
            .map(|(i, t)| (catalog::strconv::format_datum(row.get(i)), *t))
            .collect())
    }

    /// DECLARE, FETCH and CLOSE; `None` for any other statement.
    async fn cursor_statement<C>(
        &self,
        client: &mut C,
        session: &Mutex<Session>,
        stmt: &sqlparser_stmt,
        formats: &Format,
    ) -> Option<PgWireResult<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let err = |e: SqlError| Some(Ok(error_response(e)));
        match stmt {
            sqlparser_stmt::Declare { stmts, .. } => {
                let [d] = stmts.as_slice() else {
                    return err(SqlError::unsupported("DECLARE of several cursors"));
                };
                let Some(query) = &d.for_query else {
                    return err(SqlError::unsupported("DECLARE without a cursor query"));
                };
                let name = d.names.first().map(planner::ident_name).unwrap_or_default();
                let hold = d.hold == Some(true);
                {
                    let s = session.lock().expect("lock");
                    if let Err(e) = check_new_cursor(&s, &name, hold) {
                        return err(e);
                    }
                    if s.block.as_ref().is_some_and(|b| !b.writes.is_empty()) {
                        return err(SqlError::new(
                            sqlstate::INVALID_TRANSACTION_STATE,
                            "reads after writes in a transaction block are not supported; COMMIT first",
                        ));
                    }
                }
                let read = Parsed::Sql(Box::new(sqlparser_stmt::Query(query.clone())));
                let info = session_info(client, &self.backends);
                let conn = self.conns.lock().expect("lock").get(&info.pid).cloned();
                let run = self.ask(|reply| Request::Execute {
                    stmt: read,
                    session: info.clone(),
                    reply,
                });
                let result = match conn {
                    Some(c) => interruptible(run, &c, statement_timeout(&info)).await,
                    None => run.await,
                };
                match result {
                    Ok(Outcome::Rows { columns, rows }) => {
                        session.lock().expect("lock").cursors.insert(
                            name,
                            Cursor {
                                columns,
                                rows: rows.into(),
                                hold,
                                sub: None,
                            },
                        );
                        Some(Ok(Response::Execution(Tag::new("DECLARE CURSOR"))))
                    }
                    Ok(_) => err(SqlError::internal("a cursor query returned no rows")),
                    Err(e) => err(e),
                }
            }
            sqlparser_stmt::Fetch {
                name, direction, ..
            } => {
                let n = match fetch_count(direction) {
                    Ok(n) => n,
                    Err(e) => return err(e),
                };
                let name = planner::ident_name(name);
                let pid = client.pid_and_secret_key().0;
                let zone = zone_of(session.lock().expect("lock").vars.get("timezone"));
                if let Some(r) = self.fetch_subscribe(session, pid, &name, n, None).await {
                    return Some(match r {
                        Ok((columns, rows)) => fetch_response(columns, rows, formats, zone),
                        Err(e) => Ok(error_response(e)),
                    });
                }
                let mut s = session.lock().expect("lock");
                let Some(cursor) = s.cursors.get_mut(&name) else {
                    return err(SqlError::new(
                        sqlstate::INVALID_CURSOR_NAME,
                        format!("cursor \"{name}\" does not exist"),
                    ));
                };
                let take = n.unwrap_or(cursor.rows.len()).min(cursor.rows.len());
                let rows: Vec<catalog::Row> = cursor.rows.drain(..take).collect();
                let columns = cursor.columns.clone();
                drop(s);
                Some(fetch_response(columns, rows, formats, zone))
            }
            sqlparser_stmt::Close { cursor } => {
                let mut s = session.lock().expect("lock");
                match cursor {
                    sqlparser::ast::CloseCursor::All => s.cursors.clear(),
                    sqlparser::ast::CloseCursor::Specific { name } => {
                        let name = planner::ident_name(name);
                        if s.cursors.remove(&name).is_none() {
                            return err(SqlError::new(
                                sqlstate::INVALID_CURSOR_NAME,
                                format!("cursor \"{name}\" does not exist"),
                            ));
                        }
                    }
                }
                Some(Ok(Response::Execution(Tag::new("CLOSE CURSOR"))))
            }
            _ => None,
        }
    }

    async fn session_statement<C>(
        &self,
        client: &mut C,
        session: &Mutex<Session>,
        plan: StatementPlan,
        formats: &Format,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match plan {
            StatementPlan::Begin => {
                let mut s = session.lock().expect("lock");
                if s.block.is_none() {
                    s.block = Some(Block::default());
                }
                Ok(Response::TransactionStart(Tag::new("BEGIN")))
            }
            StatementPlan::Rollback => {
                let mut s = session.lock().expect("lock");
                s.block = None;
                s.cursors.retain(|_, c| c.hold);
                Ok(Response::TransactionEnd(Tag::new("ROLLBACK")))
            }
            StatementPlan::Commit => {
                let block = {
                    let mut s = session.lock().expect("lock");
                    s.cursors.retain(|_, c| c.hold);
                    s.block.take()
                };
                match block {
                    Some(b) if b.failed => Ok(Response::TransactionEnd(Tag::new("ROLLBACK"))),
                    Some(b) if !b.writes.is_empty() => match self
                        .ask(|reply| Request::Commit {
                            writes: b.writes,
                            session: session_info(client, &self.backends),
                            reply,
                        })
                        .await
                    {
                        Ok(()) => Ok(Response::TransactionEnd(Tag::new("COMMIT"))),
                        Err(e) => Ok(error_response(e)),
                    },
                    _ => Ok(Response::TransactionEnd(Tag::new("COMMIT"))),
                }
            }
            StatementPlan::Set { name, value } => {
                let name = name.to_lowercase();
                let value = validate_setting(&name, &value).map_err(|e| {
                    PgWireError::UserError(Box::new(ErrorInfo::new(
                        "ERROR".into(),
                        e.code.clone(),
                        e.message.clone(),
                    )))
                });
                let value = match value {
                    Ok(v) => v,
                    Err(PgWireError::UserError(info)) => return Ok(Response::Error(info)),
                    Err(e) => return Err(e),
                };
                if let Some(reported) = reported_name(&name) {
                    client
                        .feed(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
                            reported.into(),
                            value.clone(),
                        )))
                        .await?;
                }
                session.lock().expect("lock").vars.insert(name, value);
                Ok(Response::Execution(Tag::new("SET")))
            }
            StatementPlan::Reset { name } => {
                let mut s = session.lock().expect("lock");
                if name == "all" {
                    s.vars = s.startup.clone();
                } else {
                    match s.startup.get(&name).cloned() {
                        Some(v) => s.vars.insert(name, v),
                        None => s.vars.remove(&name),
                    };
                }
                Ok(Response::Execution(Tag::new("RESET")))
            }
            StatementPlan::Discard => {
                let mut s = session.lock().expect("lock");
                if s.block.is_some() {
                    return Ok(error_response(SqlError::new(
                        sqlstate::ACTIVE_SQL_TRANSACTION,
                        "DISCARD ALL cannot run inside a transaction block",
                    )));
                }
                s.vars = s.startup.clone();
                s.prepared.clear();
                client.portal_store().clear_portals();
                Ok(Response::Execution(Tag::new("DISCARD ALL")))
            }
            StatementPlan::Deallocate { name } => {
                let mut s = session.lock().expect("lock");
                match name {
                    None => s.prepared.clear(),
                    Some(name) if s.prepared.remove(&name).is_some() => {}
                    Some(name) => {
                        if client.portal_store().get_statement(&name).is_none() {
                            return Ok(error_response(SqlError::new(
                                sqlstate::UNDEFINED_PSTATEMENT,
                                format!("prepared statement \"{name}\" does not exist"),
                            )));
                        }
                        client.portal_store().rm_statement(&name);
                    }
                }
                Ok(Response::Execution(Tag::new("DEALLOCATE")))
            }
            StatementPlan::Savepoint { name } => {
                let mut s = session.lock().expect("lock");
                match s.block.as_mut() {
                    Some(b) => {
                        let at = b.writes.len();
                        b.savepoints.push((name, at));
                        Ok(Response::Execution(Tag::new("SAVEPOINT")))
                    }
                    None => Ok(error_response(SqlError::new(
                        sqlstate::NO_ACTIVE_TRANSACTION,
                        "SAVEPOINT can only be used in transaction blocks",
                    ))),
                }
            }
            StatementPlan::Release { ref name } | StatementPlan::RollbackTo { ref name } => {
                let release = matches!(plan, StatementPlan::Release { .. });
                let verb = if release {
                    "RELEASE SAVEPOINT"
                } else {
                    "ROLLBACK TO SAVEPOINT"
                };
                let mut s = session.lock().expect("lock");
                let Some(b) = s.block.as_mut() else {
                    return Ok(error_response(SqlError::new(
                        sqlstate::NO_ACTIVE_TRANSACTION,
                        format!("{verb} can only be used in transaction blocks"),
                    )));
                };
                let Some(i) = b.savepoints.iter().rposition(|(n, _)| n == name) else {
                    return Ok(error_response(SqlError::new(
                        sqlstate::INVALID_SAVEPOINT,
                        format!("savepoint \"{name}\" does not exist"),
                    )));
                };
                if release {
                    b.savepoints.truncate(i);
                    Ok(Response::Execution(Tag::new("RELEASE")))
                } else {
                    // the block's writes since the savepoint are undone;
                    // the savepoint itself stays
                    let at = b.savepoints[i].1;
                    b.writes.truncate(at);
                    b.savepoints.truncate(i + 1);
                    b.failed = false;
                    Ok(Response::Execution(Tag::new("ROLLBACK")))
                }
            }
            StatementPlan::Show { ref name } if name.eq_ignore_ascii_case("all") => {
                let info = session_info(client, &self.backends);
                let rows = catalog::system::SETTINGS
                    .iter()
                    .map(|(n, _, _, desc)| {
                        catalog::Row::new(vec![
                            catalog::Datum::Text(n.to_string()),
                            catalog::Datum::Text(info.setting(n).unwrap_or_default()),
                            catalog::Datum::Text(desc.to_string()),
                        ])
                    })
                    .collect();
                rows_response(
                    plan.result_columns().unwrap_or_default(),
                    rows,
                    formats,
                    catalog::zone::Zone::Utc,
                )
            }
            StatementPlan::Show { ref name } => {
                let name = name.to_lowercase();
                let value = {
                    let s = session.lock().expect("lock");
                    s.vars
                        .get(&name)
                        .cloned()
                        .or_else(|| catalog::system::setting_default(&name).map(str::to_string))
                };
                match value {
                    Some(v) => rows_response(
                        plan.result_columns().unwrap_or_default(),
                        vec![catalog::Row::new(vec![catalog::Datum::Text(v)])],
                        formats,
                        catalog::zone::Zone::Utc,
                    ),
                    None => Ok(error_response(SqlError::new(
                        sqlstate::UNDEFINED_OBJECT,
                        format!("unrecognized configuration parameter \"{name}\""),
                    ))),
                }
            }
            StatementPlan::Noop { tag } => Ok(Response::Execution(Tag::new(&tag))),
            _ => Err(PgWireError::ApiError("not a session statement".into())),
        }
    }
}

use sqlparser::ast::Statement as sqlparser_stmt;

/// Plans statements about the session itself (transactions, settings),
/// which need no catalog; `None` for everything else.
fn session_plan(stmt: &Parsed) -> Option<StatementPlan> {
    let Parsed::Sql(s) = stmt else {
        return None;
    };
    match planner::Binder::new(&catalog::Catalog::new(), Some(0)).plan_statement(s) {
        Ok(
            p @ (StatementPlan::Begin
            | StatementPlan::Commit
            | StatementPlan::Rollback
            | StatementPlan::Set { .. }
            | StatementPlan::Reset { .. }
            | StatementPlan::Show { .. }
            | StatementPlan::Noop { .. }
            | StatementPlan::Savepoint { .. }
            | StatementPlan::Release { .. }
            | StatementPlan::RollbackTo { .. }
            | StatementPlan::Deallocate { .. }
            | StatementPlan::Discard),
        ) => Some(p),
        _ => None,
    }
}

fn is_ddl(stmt: &Parsed) -> bool {
    matches!(stmt, Parsed::Sql(s) if matches!(**s, sqlparser_stmt::CreateTable(_) | sqlparser_stmt::CreateView(_) | sqlparser_stmt::CreateIndex(_) | sqlparser_stmt::Drop { .. } | sqlparser_stmt::CreateRole(_) | sqlparser_stmt::AlterRole { .. }))
}

/// Accepts the settings Ripple can honour and rejects values it cannot.
fn validate_setting(name: &str, value: &str) -> Result<String, SqlError> {
    let bad = || {
        SqlError::new(
            sqlstate::INVALID_PARAMETER_VALUE,
            format!("invalid value for parameter \"{name}\": \"{value}\""),
        )
    };
    match name {
        "timezone" | "time zone" => match value.to_lowercase().as_str() {
            "local" | "default" => Ok("UTC".into()),
            _ => catalog::zone::Zone::parse(value)
                .map(|z| z.name(value))
                .ok_or_else(|| {
                    SqlError::new(
                        sqlstate::INVALID_PARAMETER_VALUE,
                        format!("invalid value for parameter \"TimeZone\": \"{value}\""),
                    )
                }),
        },
        "datestyle" => {
            if value.to_lowercase().contains("iso") || value.to_lowercase() == "mdy" {
                Ok("ISO, MDY".into())
            } else {
                Err(bad().with_hint("Ripple currently supports only DateStyle ISO."))
            }
        }
        "statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout" => {
            match parse_duration_ms(value) {
                Some(_) => Ok(value.trim_matches('\'').to_string()),
                None => Err(bad()),
            }
        }
        "client_encoding" | "names" => match value.to_lowercase().replace('-', "").as_str() {
            "utf8" | "unicode" => Ok("UTF8".into()),
            _ => Err(bad()),
        },
        _ => Ok(value.to_string()),
    }
}

/// Builds a command tag from text like `INSERT 0 3` or `CREATE TABLE`.
fn tag_of(text: &str) -> Tag {
    let parts: Vec<&str> = text.split(' ').collect();
    match parts.as_slice() {
        ["INSERT", oid, n] => Tag::new("INSERT")
            .with_oid(oid.parse().unwrap_or(0))
            .with_rows(n.parse().unwrap_or(0)),
        [cmd @ ("UPDATE" | "DELETE" | "SELECT" | "COPY"), n] => {
            Tag::new(cmd).with_rows(n.parse().unwrap_or(0))
        }
        _ => Tag::new(text),
    }
}

#[async_trait]
impl SimpleQueryHandler for QueryHandler {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client);
        let stmts = match planner::parse(query) {
            Ok(s) if s.is_empty() => return Ok(vec![Response::EmptyQuery]),
            Ok(s) => s,
            Err(e) => return Ok(vec![error_response(e)]),
        };
        let mut out = vec![];
        for stmt in stmts {
            if stream::streams_output(&stmt) && !out.is_empty() {
                stream::flush_responses(client, &mut out).await?;
            }
            let r = self
                .statement(client, &session, stmt, &Format::UnifiedText)
                .await?;
            if let Response::Error(_) = &r {
                if let Some(b) = session.lock().expect("lock").block.as_mut() {
                    b.failed = true;
                }
                out.push(r);
                break;
            }
            out.push(r);
        }
        Ok(out)
    }
}

/// Sends a NOTICE to the client (used for warnings PostgreSQL gives).
#[allow(dead_code)]
pub async fn notice<C>(client: &mut C, message: &str) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let info = ErrorInfo::new("NOTICE".into(), sqlstate::SUCCESSFUL.into(), message.into());
    client
        .send(PgWireBackendMessage::NoticeResponse(NoticeResponse::from(
            info,
        )))
        .await?;
    Ok(())
}

/// A statement prepared with Parse: parsed once, typed by the coordinator.
#[derive(Debug, Clone)]
pub struct Prepared {
    parsed: Parsed,
    desc: planner::Description,
}

/// Parses and types extended-protocol statements.
pub struct StatementParser {
    coord: mpsc::UnboundedSender<Request>,
    backends: Backends,
}

#[async_trait]
impl QueryParser for StatementParser {
    type Statement = Prepared;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let mut stmts = planner::parse(sql).map_err(user_error)?;
        if stmts.len() > 1 {
            return Err(user_error(SqlError::new(
                sqlstate::SYNTAX_ERROR,
                "cannot insert multiple commands into a prepared statement",
            )));
        }
        let Some(parsed) = stmts.pop() else {
            return Ok(None);
        };
        let declared: Vec<_> = types
            .iter()
            .map(|t| t.as_ref().and_then(|t| pgtypes::type_of_oid(t.oid())))
            .collect();
        self.describe(client, parsed, declared).await.map(Some)
    }

    fn get_parameter_types(&self, stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        Ok(stmt
            .desc
            .params
            .iter()
            .map(|t| pgtypes::wire_type(*t))
            .collect())
    }

    fn get_result_schema(
        &self,
        stmt: &Prepared,
        formats: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        let columns = stmt.desc.columns.as_deref().unwrap_or_default();
        Ok(fields(columns, formats.unwrap_or(&Format::UnifiedText)))
    }
}

impl StatementParser {
    /// Types a statement: its parameters (`declared` where the client gave
    /// them) and result columns.
    async fn describe<C>(
        &self,
        client: &C,
        parsed: Parsed,
        declared: Vec<Option<catalog::ScalarType>>,
    ) -> PgWireResult<Prepared>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let desc = match session_plan(&parsed) {
            Some(plan) => planner::Description {
                params: declared
                    .iter()
                    .map(|t| t.unwrap_or(catalog::ScalarType::Text))
                    .collect(),
                columns: plan.result_columns(),
            },
            None => {
                // cursor statements: DECLARE takes its query's parameters,
                // FETCH returns its cursor's columns
                let (described, columns) = match &parsed {
                    Parsed::Sql(s) => match &**s {
                        sqlparser_stmt::Declare { stmts, .. } => {
                            match stmts.first().and_then(|d| d.for_query.clone()) {
                                Some(q) => {
                                    (Parsed::Sql(Box::new(sqlparser_stmt::Query(q))), Some(None))
                                }
                                None => (parsed.clone(), None),
                            }
                        }
                        sqlparser_stmt::Fetch { name, .. } => {
                            let name = planner::ident_name(name);
                            let cols = client
                                .session_extensions()
                                .get::<Mutex<Session>>()
                                .and_then(|s| {
                                    s.lock()
                                        .expect("lock")
                                        .cursors
                                        .get(&name)
                                        .map(|c| c.columns.clone())
                                });
                            let Some(cols) = cols else {
                                return Err(user_error(SqlError::new(
                                    sqlstate::INVALID_CURSOR_NAME,
                                    format!("cursor \"{name}\" does not exist"),
                                )));
                            };
                            let desc = planner::Description {
                                params: vec![],
                                columns: Some(cols),
                            };
                            return Ok(Prepared { parsed, desc });
                        }
                        sqlparser_stmt::Close { .. } | sqlparser_stmt::Prepare { .. } => {
                            let desc = planner::Description {
                                params: vec![],
                                columns: None,
                            };
                            return Ok(Prepared { parsed, desc });
                        }
                        // EXECUTE returns what its prepared statement does
                        sqlparser_stmt::Execute {
                            name: Some(name),
                            parameters,
                            ..
                        } => {
                            let name = statement_name(name);
                            let target = client
                                .session_extensions()
                                .get::<Mutex<Session>>()
                                .and_then(|s| s.lock().expect("lock").prepared.get(&name).cloned());
                            let Some(target) = target else {
                                return Err(user_error(SqlError::new(
                                    sqlstate::UNDEFINED_PSTATEMENT,
                                    format!("prepared statement \"{name}\" does not exist"),
                                )));
                            };
                            // `EXECUTE p($1)`: $1 takes the type of the
                            // parameter it is passed as (else text)
                            let mut params = declared
                                .iter()
                                .map(|t| t.unwrap_or(catalog::ScalarType::Text))
                                .collect::<Vec<_>>();
                            for (i, arg) in parameters.iter().enumerate() {
                                let n = match arg {
                                    sqlparser::ast::Expr::Value(v) => match &v.value {
                                        sqlparser::ast::Value::Placeholder(p) => {
                                            p.trim_start_matches('$').parse::<usize>().ok()
                                        }
                                        _ => None,
                                    },
                                    _ => None,
                                };
                                if let Some(n @ 1..=65535) = n {
                                    if params.len() < n {
                                        params.resize(n, catalog::ScalarType::Text);
                                    }
                                    if declared.get(n - 1).copied().flatten().is_none() {
                                        if let Some(t) = target.desc.params.get(i) {
                                            params[n - 1] = *t;
                                        }
                                    }
                                }
                            }
                            let desc = planner::Description {
                                params,
                                columns: target.desc.columns,
                            };
                            return Ok(Prepared { parsed, desc });
                        }
                        _ => (parsed.clone(), None),
                    },
                    _ => (parsed.clone(), None),
                };
                let mut desc = ask(&self.coord, |reply| Request::Describe {
                    stmt: described,
                    declared,
                    session: session_info(client, &self.backends),
                    reply,
                })
                .await
                .map_err(user_error)?;
                if let Some(c) = columns {
                    desc.columns = c;
                }
                desc
            }
        };
        Ok(Prepared { parsed, desc })
    }
}

#[async_trait]
impl ExtendedQueryHandler for QueryHandler {
    type Statement = Prepared;
    type QueryParser = StatementParser;

    fn query_parser(&self) -> Arc<StatementParser> {
        self.parser.clone()
    }

    /// As pgwire's, except that a statement returning no rows is described
    /// with NoData even when it has parameters (pgwire sends an empty
    /// RowDescription then, which pgjdbc takes for a result set).
    async fn on_describe<C>(
        &self,
        client: &mut C,
        message: pgwire::messages::extendedquery::Describe,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        use pgwire::api::store::Entry;
        use pgwire::messages::data::{NoData, ParameterDescription};
        if message.target_type == pgwire::messages::extendedquery::TARGET_TYPE_BYTE_STATEMENT {
            let name = message.name.as_deref().unwrap_or(pgwire::api::DEFAULT_NAME);
            if let Some(Entry::Value(stmt)) = client.portal_store().get_statement(name) {
                if stmt.statement.desc.columns.is_none() {
                    let declared = &stmt.parameter_types;
                    let inferred = &stmt.statement.desc.params;
                    let oids = (0..declared.len().max(inferred.len()))
                        .map(|i| {
                            declared
                                .get(i)
                                .cloned()
                                .flatten()
                                .map(|t| t.oid())
                                .or_else(|| inferred.get(i).map(|t| t.oid()))
                                .unwrap_or(25)
                        })
                        .collect();
                    client
                        .send(PgWireBackendMessage::ParameterDescription(
                            ParameterDescription::new(oids),
                        ))
                        .await?;
                    client
                        .send(PgWireBackendMessage::NoData(NoData::new()))
                        .await?;
                    return Ok(());
                }
            }
        }
        self._on_describe(client, message).await
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Prepared>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let prepared = &portal.statement.statement;
        let types = &prepared.desc.params;
        if portal.parameters.len() != types.len() {
            return Ok(error_response(SqlError::new(
                sqlstate::PROTOCOL_VIOLATION,
                format!(
                    "bind message supplies {} parameters, but prepared statement \"{}\" requires {}",
                    portal.parameters.len(),
                    portal.statement.id,
                    types.len()
                ),
            )));
        }
        let mut values = Vec::with_capacity(types.len());
        for (i, (value, ty)) in portal.parameters.iter().zip(types).enumerate() {
            let binary = field_format(&portal.parameter_format, i) == FieldFormat::Binary;
            match pgtypes::decode_param(value.as_deref(), binary, *ty) {
                Ok(v) => values.push((v, *ty)),
                Err(e) => return Ok(error_response(e)),
            }
        }
        let stmt = match planner::bind_params(&prepared.parsed, &values) {
            Ok(s) => s,
            Err(e) => return Ok(error_response(e)),
        };
        let session = session_of(client);
        let cursor = match &stmt {
            Parsed::Sql(s) => match &**s {
                sqlparser_stmt::Declare { stmts, .. } => stmts
                    .first()
                    .and_then(|d| d.names.first())
                    .map(|n| (planner::ident_name(n), true)),
                sqlparser_stmt::Close {
                    cursor: sqlparser::ast::CloseCursor::Specific { name },
                } => Some((planner::ident_name(name), false)),
                _ => None,
            },
            _ => None,
        };
        let r = self
            .statement(client, &session, stmt, &portal.result_column_format)
            .await?;
        if let Response::Error(_) = &r {
            if let Some(b) = session.lock().expect("lock").block.as_mut() {
                b.failed = true;
            }
        }
        match (cursor, &r) {
            // a cursor is also a portal of its name, which clients describe
            (Some((name, true)), Response::Execution(_)) => {
                let columns = session
                    .lock()
                    .expect("lock")
                    .cursors
                    .get(&name)
                    .map(|c| c.columns.clone());
                if let (Some(columns), Ok(fetch)) = (
                    columns,
                    planner::parse(&format!(
                        "FETCH ALL FROM {}",
                        catalog::system::quote_ident(&name)
                    )),
                ) {
                    if let Some(parsed) = fetch.into_iter().next() {
                        let statement = Arc::new(pgwire::api::stmt::StoredStatement::new(
                            name.clone(),
                            Prepared {
                                parsed,
                                desc: planner::Description {
                                    params: vec![],
                                    columns: Some(columns),
                                },
                            },
                            vec![],
                        ));
                        client
                            .portal_store()
                            .put_portal(Arc::new(Portal::new_cursor(name, statement)));
                    }
                }
            }
            (Some((name, false)), Response::Execution(_)) => client.portal_store().rm_portal(&name),
            _ => {}
        }
        Ok(r)
    }
}

/// The name in `EXECUTE name`, folded to lower case unless quoted.
fn statement_name(name: &sqlparser::ast::ObjectName) -> String {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(planner::ident_name)
        .unwrap_or_default()
}

/// How many rows a FETCH asks for (`None`: all that remain). Cursors are
/// NO SCROLL: backward and absolute positions fail with 0A000.
fn fetch_count(direction: &sqlparser::ast::FetchDirection) -> Result<Option<usize>, SqlError> {
    use sqlparser::ast::FetchDirection as D;
    let count = |v: &sqlparser::ast::ValueWithSpan| match &v.value {
        sqlparser::ast::Value::Number(n, _) => match n.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(Some(n as usize)),
            Ok(_) => Err(SqlError::unsupported(
                "FETCH backward (Ripple's cursors are NO SCROLL)",
            )),
            Err(_) => Err(SqlError::syntax("FETCH count must be an integer")),
        },
        _ => Err(SqlError::syntax("FETCH count must be an integer")),
    };
    match direction {
        D::Count { limit } | D::Forward { limit: Some(limit) } => count(limit),
        D::Next | D::Forward { limit: None } => Ok(Some(1)),
        D::All | D::ForwardAll => Ok(None),
        _ => Err(SqlError::unsupported(
            "FETCH in this direction (Ripple's cursors are NO SCROLL)",
        )),
    }
}
