//! The HTTP API on `--http-listen`, for clients that do not speak the
//! PostgreSQL protocol:
//!
//! - `POST /api/sql` with `{"query": "…"}`: runs the statements in order,
//!   each on its own, and answers `{"results": [...]}` with one entry per
//!   statement: `{"tag", "columns", "rows"}` or `{"error": {"code",
//!   "message"}}` (the first error ends the list).
//! - `GET /api/subscribe` upgrades to a WebSocket. The client sends one
//!   text message, a SUBSCRIBE (or any query), and gets JSON messages:
//!   `{"type": "Columns", …}`, then `{"type": "Row", "payload": [...]}` per
//!   change (`mz_timestamp`, [`mz_progressed`], `mz_diff`, columns…), and a
//!   final `CommandComplete` or `Error`.
//! - `POST /api/webhook/ripple/public/<source>`: appends the posted JSON to
//!   a webhook source (an object, or an array of objects, one row each).
//!
//! Every request passes `--auth` as a connection to the PostgreSQL port
//! would, with the user and password sent as HTTP Basic authentication (or,
//! on the WebSocket, as a first message `{"user", "password"}`); the
//! statements then run as that user.

use crate::auth::{AuthMethod, Credentials, RoleDirectory};
use crate::coordinator::{event_rows, Outcome, Request, SubscriptionEnd, SubscriptionGuard};
use crate::session::ask;
use axum::extract::connect_info::Connected;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::{IncomingStream, Listener};
use axum::{Extension, Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use catalog::system::SessionInfo;
use catalog::{sqlstate, Column, Datum, Row, SqlError};
use planner::Parsed;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;

/// What every handler shares: the coordinator's queue.
#[derive(Clone)]
struct Api {
    coord: mpsc::UnboundedSender<Request>,
    auth: Arc<HttpAuth>,
}

/// Serves the HTTP API on `listener` until the process ends: HTTPS with
/// `tls` (the PostgreSQL port's certificate), else plain HTTP.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    coord: mpsc::UnboundedSender<Request>,
    auth: HttpAuth,
) {
    let auth = Arc::new(auth);
    let app = Router::new()
        .route("/api/sql", post(sql))
        .route("/api/subscribe", get(subscribe))
        .route("/api/webhook/{database}/{schema}/{name}", post(webhook))
        .layer(middleware::from_fn_with_state(auth.clone(), authenticate))
        .with_state(Api { coord, auth });
    let served = match tls {
        Some(tls) => {
            let listener = TlsListener::new(listener, tls);
            axum::serve(listener, app.into_make_service_with_connect_info::<Peer>()).await
        }
        None => axum::serve(listener, app.into_make_service_with_connect_info::<Peer>()).await,
    };
    if let Err(e) = served {
        tracing::warn!(error = %e, "the HTTP API stopped");
    }
}

/// The client's address, for the authentication layer.
#[derive(Clone, Copy)]
struct Peer(SocketAddr);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// Accepts TCP connections and completes their TLS handshakes, each in its
/// own task (a slow or silent client holds up no one), handing on those
/// that finish within `HANDSHAKE_TIMEOUT`.
struct TlsListener {
    handshaken: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl TlsListener {
    fn new(tcp: tokio::net::TcpListener, tls: tokio_rustls::TlsAcceptor) -> Self {
        let local = tcp
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let (done, handshaken) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (socket, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!(error = %e, "the HTTP API could not accept a connection");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (tls, sender) = (tls.clone(), done.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(socket)).await {
                        Ok(Ok(stream)) => {
                            let _ = sender.send((stream, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "HTTPS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "HTTPS handshake timed out"),
                    }
                });
                if done.is_closed() {
                    return;
                }
            }
        });
        TlsListener { handshaken, local }
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.handshaken.recv().await {
            Some(accepted) => accepted,
            // the accepting task ended: no more connections
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// Who may use the API: `--auth`'s rules, as on the PostgreSQL port, with
/// the password sent as HTTP Basic authentication.
pub struct HttpAuth {
    method: AuthMethod,
    credentials: Arc<Credentials>,
    roles: RoleDirectory,
    /// Per user, the SHA-256 of the password that last passed and the
    /// verifier it passed against: hashing a password against its verifier
    /// takes thousands of rounds, too slow to redo on every request.
    passed: Mutex<BTreeMap<String, (Vec<u8>, String)>>,
}

/// The user a request was authenticated as.
#[derive(Clone)]
struct HttpUser(String);

impl HttpAuth {
    pub fn new(method: AuthMethod, credentials: Arc<Credentials>, roles: RoleDirectory) -> Self {
        HttpAuth {
            method,
            credentials,
            roles,
            passed: Mutex::default(),
        }
    }

    /// The user a request from `peer` runs as, or the answer refusing it.
    fn user(&self, peer: SocketAddr, headers: &HeaderMap) -> Result<String, Refusal> {
        let basic = match headers.get(header::AUTHORIZATION) {
            None => None,
            Some(v) => Some(basic_credentials(v.as_bytes()).ok_or_else(|| {
                refuse(
                    StatusCode::UNAUTHORIZED,
                    sqlstate::INVALID_AUTHORIZATION_SPECIFICATION,
                    "the Authorization header is not Basic base64(user:password)".into(),
                )
            })?),
        };
        self.login(peer, basic)
    }

    /// The user `peer` runs as with these credentials (if any), or the
    /// answer refusing it.
    fn login(&self, peer: SocketAddr, basic: Option<(String, String)>) -> Result<String, Refusal> {
        let trusted = self.method == AuthMethod::Trust
            || (self.method == AuthMethod::TrustLoopback && peer.ip().is_loopback());
        let user = match basic {
            Some((user, _)) if trusted => user,
            None if trusted => catalog::system::OWNER.to_string(),
            Some((user, password)) if self.password_ok(&user, &password) => user,
            Some((user, _)) => {
                return Err(refuse(
                    StatusCode::UNAUTHORIZED,
                    sqlstate::INVALID_PASSWORD,
                    format!("password authentication failed for user \"{user}\""),
                ))
            }
            None => {
                return Err(refuse(
                    StatusCode::UNAUTHORIZED,
                    sqlstate::INVALID_AUTHORIZATION_SPECIFICATION,
                    "a user and password are needed (HTTP Basic authentication)".into(),
                ))
            }
        };
        if crate::auth::cannot_login(&self.roles, &user) {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                sqlstate::INVALID_AUTHORIZATION_SPECIFICATION,
                format!("role \"{user}\" is not permitted to log in"),
            ));
        }
        Ok(user)
    }

    fn password_ok(&self, user: &str, password: &str) -> bool {
        let Some(verifier) = self.credentials.verifier(user) else {
            return false;
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, password.as_bytes());
        let digest = digest.as_ref().to_vec();
        let remembered = self.passed.lock().expect("lock").get(user).cloned();
        if remembered.is_some_and(|(d, v)| d == digest && v == verifier) {
            return true;
        }
        let ok = crate::auth::check_password(&verifier, password);
        if ok {
            self.passed
                .lock()
                .expect("lock")
                .insert(user.to_string(), (digest, verifier));
        }
        ok
    }
}

/// `Basic base64(user:password)`, decoded.
fn basic_credentials(value: &[u8]) -> Option<(String, String)> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(B64.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// A refused request: its status, and the error as JSON (a 401 also asks
/// for Basic authentication).
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn refuse(status: StatusCode, code: &'static str, message: String) -> Refusal {
    Refusal {
        status,
        code,
        message,
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": {"code": self.code, "message": self.message}}));
        if self.status == StatusCode::UNAUTHORIZED {
            let ask = [(header::WWW_AUTHENTICATE, "Basic realm=\"ripple\"")];
            (self.status, ask, body).into_response()
        } else {
            (self.status, body).into_response()
        }
    }
}

/// The layer in front of every route: authenticates the request and hands
/// its user to the handler.
async fn authenticate(
    State(auth): State<Arc<HttpAuth>>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    mut request: axum::extract::Request,
    next: Next,
) -> Response {
    match auth.user(peer, request.headers()) {
        Ok(user) => {
            request.extensions_mut().insert(HttpUser(user));
            next.run(request).await
        }
        // a WebSocket upgrade without credentials goes on with no user: the
        // client logs in with its first message (browsers cannot set
        // headers on a WebSocket)
        Err(refused)
            if refused.status == StatusCode::UNAUTHORIZED
                && request.uri().path() == "/api/subscribe"
                && !request.headers().contains_key(header::AUTHORIZATION) =>
        {
            next.run(request).await
        }
        Err(refused) => refused.into_response(),
    }
}

/// The session an HTTP request runs as: its user, default settings.
fn http_session(user: &str) -> Arc<SessionInfo> {
    Arc::new(SessionInfo {
        user: user.into(),
        pid: 0,
        settings: Default::default(),
        backends: vec![],
    })
}

fn error_json(e: &SqlError) -> Value {
    let mut v = json!({"code": e.code, "message": e.message});
    if let Some(d) = &e.detail {
        v["detail"] = json!(d);
    }
    if let Some(h) = &e.hint {
        v["hint"] = json!(h);
    }
    v
}

/// A value as JSON: numbers as numbers (numeric as a string, to keep its
/// digits), booleans, jsonb as JSON, arrays as arrays, anything else as its
/// PostgreSQL text.
pub fn datum_json(d: &Datum) -> Value {
    match d {
        Datum::Null => Value::Null,
        Datum::Bool(b) => json!(b),
        Datum::Int16(i) => json!(i),
        Datum::Int32(i) => json!(i),
        Datum::Int64(i) => json!(i),
        Datum::Float32(f) if f.0.is_finite() => json!(f.0),
        Datum::Float64(f) if f.0.is_finite() => json!(f.0),
        Datum::Jsonb(text) => serde_json::from_str(text).unwrap_or_else(|_| json!(text)),
        Datum::Array(items) => Value::Array(items.iter().map(datum_json).collect()),
        other => catalog::strconv::format_datum(other).map_or(Value::Null, Value::String),
    }
}

fn columns_json(columns: &[Column]) -> Value {
    Value::Array(
        columns
            .iter()
            .map(|c| json!({"name": c.name, "type_oid": c.ty.oid()}))
            .collect(),
    )
}

fn row_json(r: &Row) -> Value {
    Value::Array(r.iter().map(datum_json).collect())
}

/// Statements the HTTP API cannot run: they need a session that lasts.
fn refused(stmt: &Parsed) -> Option<SqlError> {
    let what = match stmt {
        Parsed::Subscribe(_) | Parsed::DeclareSubscribe { .. } => {
            "SUBSCRIBE over POST /api/sql (use the WebSocket at /api/subscribe)"
        }
        Parsed::FetchWait { .. } => "FETCH over HTTP",
        Parsed::Sql(s) => match &**s {
            sqlparser::ast::Statement::Copy { .. } => "COPY over HTTP",
            sqlparser::ast::Statement::StartTransaction { .. }
            | sqlparser::ast::Statement::Commit { .. }
            | sqlparser::ast::Statement::Rollback { .. }
            | sqlparser::ast::Statement::Set(_)
            | sqlparser::ast::Statement::Declare { .. }
            | sqlparser::ast::Statement::Fetch { .. }
            | sqlparser::ast::Statement::Prepare { .. } => {
                "transaction blocks, SET, cursors and PREPARE over HTTP (each statement runs on its own)"
            }
            _ => return None,
        },
        _ => return None,
    };
    Some(SqlError::unsupported(what))
}

/// Runs one statement for the HTTP API.
async fn run(coord: &mpsc::UnboundedSender<Request>, stmt: Parsed, user: &str) -> Value {
    if let Some(e) = refused(&stmt) {
        return json!({"error": error_json(&e)});
    }
    let result = ask(coord, |reply| Request::Execute {
        stmt,
        session: http_session(user),
        reply,
    })
    .await;
    match result {
        Ok(Outcome::Tag(tag)) => json!({"tag": tag}),
        Ok(Outcome::Rows { columns, rows }) => json!({
            "tag": format!("SELECT {}", rows.len()),
            "columns": columns_json(&columns),
            "rows": rows.iter().map(row_json).collect::<Vec<_>>(),
        }),
        Ok(Outcome::CopyIn(_)) => {
            json!({"error": error_json(&SqlError::unsupported("COPY over HTTP"))})
        }
        Err(e) => json!({"error": error_json(&e)}),
    }
}

/// `POST /api/sql`.
async fn sql(
    State(api): State<Api>,
    Extension(HttpUser(user)): Extension<HttpUser>,
    body: String,
) -> Response {
    let body: Option<Value> = serde_json::from_str(&body).ok();
    let Some(query) = body
        .as_ref()
        .and_then(|v| v.get("query"))
        .and_then(Value::as_str)
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "expected a JSON body {\"query\": \"…\"}"}})),
        )
            .into_response();
    };
    let stmts = match planner::parse(query) {
        Ok(s) => s,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"results": [{"error": error_json(&e)}]})),
            )
                .into_response()
        }
    };
    let mut results = vec![];
    for stmt in stmts {
        let r = run(&api.coord, stmt, &user).await;
        let failed = r.get("error").is_some();
        results.push(r);
        if failed {
            break;
        }
    }
    Json(json!({ "results": results })).into_response()
}

/// `POST /api/webhook/ripple/public/<name>`.
async fn webhook(
    State(api): State<Api>,
    Path((database, schema, name)): Path<(String, String, String)>,
    body: String,
) -> Response {
    if database != crate::session::DATABASE || schema != "public" {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"message": format!("no webhook source {database}.{schema}.{name}")}})),
        )
            .into_response();
    }
    let result = ask(&api.coord, |reply| Request::Webhook { name, body, reply }).await;
    match result {
        Ok(rows) => Json(json!({ "rows": rows })).into_response(),
        Err(e) => {
            let status = match e.code.as_str() {
                sqlstate::UNDEFINED_TABLE => StatusCode::NOT_FOUND,
                sqlstate::DISK_FULL | sqlstate::IO_ERROR | sqlstate::ADMIN_SHUTDOWN => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                sqlstate::INTERNAL_ERROR => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            };
            (status, Json(json!({ "error": error_json(&e) }))).into_response()
        }
    }
}

/// `GET /api/subscribe`: a WebSocket.
async fn subscribe(
    State(api): State<Api>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    user: Option<Extension<HttpUser>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let user = user.map(|Extension(HttpUser(u))| u);
    upgrade.on_upgrade(move |socket| follow(api, socket, peer, user))
}

fn message(kind: &str, payload: Value) -> Message {
    Message::Text(json!({"type": kind, "payload": payload}).to_string().into())
}

/// One WebSocket: the first text message is the statement; a SUBSCRIBE
/// streams until it ends or the client closes the socket.
async fn follow(api: Api, mut socket: WebSocket, peer: SocketAddr, user: Option<String>) {
    async fn next_text(socket: &mut WebSocket) -> Option<String> {
        loop {
            match socket.recv().await {
                Some(Ok(Message::Text(t))) => return Some(t.to_string()),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }
    let Some(mut text) = next_text(&mut socket).await else {
        return;
    };
    // a first message {"user", "password"} logs in (needed when the
    // upgrade came without credentials)
    let login = serde_json::from_str::<Value>(&text).ok().and_then(|v| {
        let user = v.get("user")?.as_str()?.to_string();
        let password = v.get("password").and_then(Value::as_str).unwrap_or("");
        v.get("query")
            .is_none()
            .then(|| (user, password.to_string()))
    });
    let user = match (login, user) {
        (Some(basic), _) => match api.auth.login(peer, Some(basic)) {
            Ok(user) => {
                let Some(t) = next_text(&mut socket).await else {
                    return;
                };
                text = t;
                user
            }
            Err(refused) => {
                let e = json!({"code": refused.code, "message": refused.message});
                let _ = socket.send(message("Error", e)).await;
                return;
            }
        },
        (None, Some(user)) => user,
        (None, None) => {
            let e = json!({
                "code": sqlstate::INVALID_AUTHORIZATION_SPECIFICATION,
                "message": "log in first: send {\"user\": …, \"password\": …}",
            });
            let _ = socket.send(message("Error", e)).await;
            return;
        }
    };
    // either the bare statement or {"query": "…"}
    let query = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("query").and_then(Value::as_str).map(str::to_string))
        .unwrap_or(text);
    let stmt = match planner::parse(&query) {
        Ok(mut s) if s.len() == 1 => s.remove(0),
        Ok(_) => {
            let e = SqlError::syntax("send exactly one statement");
            let _ = socket.send(message("Error", error_json(&e))).await;
            return;
        }
        Err(e) => {
            let _ = socket.send(message("Error", error_json(&e))).await;
            return;
        }
    };
    if !matches!(stmt, Parsed::Subscribe(_)) {
        let r = run(&api.coord, stmt, &user).await;
        let msgs = match r.get("error") {
            Some(e) => vec![message("Error", e.clone())],
            None => {
                let mut m = vec![];
                if let Some(cols) = r.get("columns") {
                    m.push(message("Columns", cols.clone()));
                }
                for row in r
                    .get("rows")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    m.push(message("Row", row.clone()));
                }
                m.push(message("CommandComplete", r["tag"].clone()));
                m
            }
        };
        for m in msgs {
            if socket.send(m).await.is_err() {
                return;
            }
        }
        return;
    }
    let sub = ask(&api.coord, |reply| Request::Subscribe {
        stmt,
        session: http_session(&user),
        reply,
    })
    .await;
    let mut sub = match sub {
        Ok(s) => s,
        Err(e) => {
            let _ = socket.send(message("Error", error_json(&e))).await;
            return;
        }
    };
    let _guard = SubscriptionGuard::new(sub.id, api.coord.clone());
    if socket
        .send(message("Columns", columns_json(&sub.columns)))
        .await
        .is_err()
    {
        return;
    }
    let width = sub.columns.len() - if sub.progress { 3 } else { 2 };
    let mut rows = vec![];
    loop {
        tokio::select! {
            event = sub.receiver.recv() => {
                let end = match event {
                    Some(e) => event_rows(e, sub.progress, width, &mut rows),
                    None => Some(SubscriptionEnd::Complete),
                };
                for r in rows.drain(..) {
                    if socket.send(message("Row", row_json(&r))).await.is_err() {
                        return;
                    }
                }
                match end {
                    Some(SubscriptionEnd::Error(e)) => {
                        let _ = socket.send(message("Error", error_json(&e))).await;
                        return;
                    }
                    Some(SubscriptionEnd::Complete) => {
                        let _ = socket.send(message("CommandComplete", json!("SUBSCRIBE"))).await;
                        return;
                    }
                    None => {}
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_become_json() {
        assert_eq!(datum_json(&Datum::Int32(3)), json!(3));
        assert_eq!(datum_json(&Datum::Null), Value::Null);
        assert_eq!(
            datum_json(&Datum::Numeric("1.50".parse().expect("decimal"))),
            json!("1.50")
        );
        assert_eq!(
            datum_json(&Datum::Jsonb("{\"a\": [1]}".into())),
            json!({"a": [1]})
        );
        assert_eq!(
            datum_json(&Datum::Array(vec![Datum::Text("x".into()), Datum::Null])),
            json!(["x", null])
        );
        assert_eq!(datum_json(&Datum::Date(0)), json!("1970-01-01"));
    }

    fn auth(method: AuthMethod) -> HttpAuth {
        let role = |name: &str, login| catalog::Role {
            name: name.into(),
            id: catalog::GlobalId(1),
            superuser: false,
            login,
            create_role: false,
            create_db: false,
            password: Some(crate::auth::scram_verifier("pw")),
        };
        let roles: RoleDirectory = Arc::default();
        roles.write().expect("lock").extend([
            ("ann".into(), role("ann", true)),
            ("gus".into(), role("gus", false)),
        ]);
        HttpAuth::new(method, Arc::new(Credentials::new(roles.clone())), roles)
    }

    fn user_of(a: &HttpAuth, peer: &str, basic: Option<&str>) -> Result<String, StatusCode> {
        let mut headers = HeaderMap::new();
        if let Some(b) = basic {
            let value = format!("Basic {}", B64.encode(b));
            headers.insert(header::AUTHORIZATION, value.parse().expect("header"));
        }
        a.user(peer.parse().expect("address"), &headers)
            .map_err(|r| r.status)
    }

    #[test]
    fn requests_pass_the_ports_authentication_rules() {
        let local = "127.0.0.1:5000";
        let remote = "10.0.0.7:5000";
        let loopback = auth(AuthMethod::TrustLoopback);
        assert_eq!(user_of(&loopback, local, None), Ok("ripple".into()));
        assert_eq!(user_of(&loopback, local, Some("ann:x")), Ok("ann".into()));
        assert_eq!(
            user_of(&loopback, remote, None),
            Err(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(user_of(&loopback, remote, Some("ann:pw")), Ok("ann".into()));
        let scram = auth(AuthMethod::Scram);
        assert_eq!(user_of(&scram, local, None), Err(StatusCode::UNAUTHORIZED));
        assert_eq!(
            user_of(&scram, local, Some("ann:no")),
            Err(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(user_of(&scram, local, Some("ann:pw")), Ok("ann".into()));
        assert_eq!(user_of(&scram, local, Some("ann:pw")), Ok("ann".into()));
        assert_eq!(
            user_of(&scram, local, Some("nobody:pw")),
            Err(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            user_of(&scram, local, Some("gus:pw")),
            Err(StatusCode::FORBIDDEN)
        );
        let trust = auth(AuthMethod::Trust);
        assert_eq!(user_of(&trust, remote, None), Ok("ripple".into()));
        // not Basic, or not user:password
        assert_eq!(basic_credentials(b"Bearer abc"), None);
        assert_eq!(basic_credentials(b"Basic bm9jb2xvbg=="), None);
        assert_eq!(
            basic_credentials(b"basic YTpiOmM="),
            Some(("a".into(), "b:c".into()))
        );
    }
}
