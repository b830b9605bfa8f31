//! COPY and SUBSCRIBE on the wire: `COPY … FROM STDIN` (data read in
//! chunks, written as one INSERT when it ends), `COPY … TO STDOUT`, and a
//! SUBSCRIBE streamed as COPY data or read through a cursor with FETCH.
//! Streamed rows go out with `send`, which flushes: pgwire's own COPY OUT
//! path only feeds its buffer.

use super::{
    ask, canceled, check_new_cursor, error_response, session_info, session_of, user_error, Block,
    Cursor, QueryHandler, Session,
};
use crate::coordinator::{
    event_rows, Request, SubscribeReceiver, Subscription, SubscriptionEnd as End, SubscriptionGuard,
};
use crate::pgtypes;
use async_trait::async_trait;
use catalog::{sqlstate, GlobalId, Row, SqlError};
use futures::{Sink, SinkExt};
use pgwire::api::copy::CopyHandler;
use pgwire::api::results::{Response, Tag};
use pgwire::api::ClientInfo;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail, CopyOutResponse};
use pgwire::messages::PgWireBackendMessage;
use planner::copy::{encode_line, CopyDecoder, CopyOptions};
use planner::Parsed;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

/// A `COPY … FROM STDIN` in progress: its decoder, or the error that
/// stopped it (reported when the client ends the data).
pub(super) struct CopyIn {
    decoder: Option<CopyDecoder>,
    error: Option<SqlError>,
}

impl CopyIn {
    pub(super) fn new(plan: planner::copy::CopyFrom) -> Self {
        CopyIn {
            decoder: Some(CopyDecoder::new(plan)),
            error: None,
        }
    }
}

/// The subscription behind a cursor declared FOR SUBSCRIBE.
pub(super) struct SubscribeCursor {
    /// Taken while a FETCH waits on it.
    receiver: Option<SubscribeReceiver>,
    progress: bool,
    width: usize,
    /// How it ended, once it has: an error, or complete (`None`).
    ended: Option<Option<SqlError>>,
    _guard: SubscriptionGuard,
}

/// Resolves when the armed cancel signal fires; never if none is armed or
/// its sender is gone (then it is disarmed, so it is not polled again).
async fn cancel_requested(cancel: &mut Option<tokio::sync::oneshot::Receiver<()>>) {
    if let Some(c) = cancel.as_mut() {
        if c.await.is_ok() {
            return;
        }
        *cancel = None;
    }
    std::future::pending().await
}

/// COPY's text or CSV line for `row`.
fn copy_line(row: &Row, zone: catalog::zone::Zone, options: &CopyOptions, out: &mut String) {
    let values: Vec<Option<String>> = row.iter().map(|d| pgtypes::text(d, zone)).collect();
    encode_line(&values, options, out);
}

/// Sends the COPY OUT header for `columns` text columns.
async fn copy_out_start<C>(client: &mut C, columns: usize) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    client
        .send(PgWireBackendMessage::CopyOutResponse(CopyOutResponse::new(
            0,
            columns as i16,
            vec![0; columns],
        )))
        .await?;
    Ok(())
}

fn copy_data(line: &str) -> PgWireBackendMessage {
    PgWireBackendMessage::CopyData(CopyData::new(bytes::Bytes::copy_from_slice(
        line.as_bytes(),
    )))
}

/// The options of a `COPY … TO STDOUT`, or `None` for other statements.
pub(super) fn copy_to_options(stmt: &Parsed) -> Option<Result<CopyOptions, SqlError>> {
    match stmt {
        Parsed::Sql(s) => match &**s {
            sqlparser::ast::Statement::Copy {
                to: true,
                options,
                legacy_options,
                ..
            } => Some(planner::copy::copy_options(options, legacy_options)),
            _ => None,
        },
        _ => None,
    }
}

/// True for statements whose output is written straight to the client
/// (the responses before them must go out first).
pub(super) fn streams_output(stmt: &Parsed) -> bool {
    matches!(stmt, Parsed::Subscribe(_)) || copy_to_options(stmt).is_some()
}

/// Writes the responses gathered so far, in order (a simple query string
/// whose later statement streams its own output), tracking the
/// transaction status as pgwire would.
pub(super) async fn flush_responses<C>(client: &mut C, out: &mut Vec<Response>) -> PgWireResult<()>
where
    C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    use pgwire::api::query::{send_execution_response, send_query_response};
    for r in out.drain(..) {
        let status = client.transaction_status();
        match r {
            Response::Query(q) => send_query_response(client, q, true).await?,
            Response::Execution(tag) => send_execution_response(client, tag).await?,
            Response::TransactionStart(tag) => {
                send_execution_response(client, tag).await?;
                client.set_transaction_status(status.to_in_transaction_state());
            }
            Response::TransactionEnd(tag) => {
                send_execution_response(client, tag).await?;
                client.set_transaction_status(status.to_idle_state());
            }
            Response::EmptyQuery => {}
            Response::Error(e) => {
                client
                    .feed(PgWireBackendMessage::ErrorResponse((*e).into()))
                    .await?;
                client.set_transaction_status(status.to_error_state());
            }
            // COPY IN and friends are never followed by another statement
            Response::CopyIn(_) | Response::CopyOut(_) | Response::CopyBoth(_) => {}
        }
    }
    Ok(())
}

impl QueryHandler {
    /// Writes a finished read as COPY data: a header line if asked, then a
    /// message per row; the command tag counts the rows.
    pub(super) async fn copy_out<C>(
        &self,
        client: &mut C,
        options: &CopyOptions,
        columns: &[catalog::Column],
        rows: Vec<Row>,
        zone: catalog::zone::Zone,
    ) -> PgWireResult<Response>
    where
        C: Sink<PgWireBackendMessage> + Unpin + Send,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        copy_out_start(client, columns.len()).await?;
        let mut line = String::new();
        if options.header {
            let names: Vec<Option<String>> = columns.iter().map(|c| Some(c.name.clone())).collect();
            encode_line(&names, options, &mut line);
            client.feed(copy_data(&line)).await?;
        }
        let n = rows.len();
        for row in rows {
            line.clear();
            copy_line(&row, zone, options, &mut line);
            client.feed(copy_data(&line)).await?;
        }
        client
            .send(PgWireBackendMessage::CopyDone(CopyDone::new()))
            .await?;
        Ok(Response::Execution(Tag::new("COPY").with_rows(n)))
    }

    /// Starts the subscription `stmt` asks for.
    async fn start_subscription<C: ClientInfo>(
        &self,
        client: &C,
        stmt: Parsed,
    ) -> Result<(Subscription, SubscriptionGuard), SqlError> {
        let info = session_info(client, &self.backends);
        let sub = ask(&self.coord, |reply| Request::Subscribe {
            stmt,
            session: info,
            reply,
        })
        .await?;
        let guard = SubscriptionGuard::new(sub.id, self.coord.clone());
        Ok((sub, guard))
    }

    /// Runs a SUBSCRIBE as COPY OUT until it completes, fails, is
    /// canceled, or the client goes away.
    pub(super) async fn run_subscribe<C>(
        &self,
        client: &mut C,
        stmt: Parsed,
        zone: catalog::zone::Zone,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (mut sub, _guard) = match self.start_subscription(client, stmt).await {
            Ok(s) => s,
            Err(e) => return Ok(error_response(e)),
        };
        let pid = client.pid_and_secret_key().0;
        let conn = self.conns.lock().expect("lock").get(&pid).cloned();
        let mut cancel = conn.as_ref().map(|c| c.start_query());
        super::set_activity(&self.backends, pid, "active", Some("SUBSCRIBE".into()));
        let width = sub.columns.len() - if sub.progress { 3 } else { 2 };
        copy_out_start(client, sub.columns.len()).await?;
        let options = CopyOptions::default();
        let (mut rows, mut line, mut sent) = (vec![], String::new(), 0usize);
        let end = loop {
            let event = tokio::select! {
                e = sub.receiver.recv() => e,
                () = cancel_requested(&mut cancel) => break End::Error(canceled()),
            };
            let Some(event) = event else {
                break End::Complete;
            };
            // take whatever else is already waiting, then flush once
            let mut end = event_rows(event, sub.progress, width, &mut rows);
            while end.is_none() {
                match sub.receiver.try_recv() {
                    Some(e) => end = event_rows(e, sub.progress, width, &mut rows),
                    None => break,
                }
            }
            for row in rows.drain(..) {
                line.clear();
                copy_line(&row, zone, &options, &mut line);
                client.feed(copy_data(&line)).await?;
                sent += 1;
            }
            client.flush().await?;
            if let Some(end) = end {
                break end;
            }
        };
        super::set_activity(&self.backends, pid, "idle", None);
        match end {
            End::Error(e) => Ok(error_response(e)),
            End::Complete => {
                client
                    .send(PgWireBackendMessage::CopyDone(CopyDone::new()))
                    .await?;
                Ok(Response::Execution(Tag::new("SUBSCRIBE").with_rows(sent)))
            }
        }
    }

    /// `DECLARE name CURSOR FOR SUBSCRIBE …`: the subscription runs from
    /// now on; FETCH reads what it has delivered.
    pub(super) async fn declare_subscribe<C: ClientInfo>(
        &self,
        client: &C,
        session: &Mutex<Session>,
        name: String,
        hold: bool,
        stmt: Parsed,
    ) -> Response {
        if let Err(e) = check_new_cursor(&session.lock().expect("lock"), &name, hold) {
            return error_response(e);
        }
        let (sub, guard) = match self.start_subscription(client, stmt).await {
            Ok(s) => s,
            Err(e) => return error_response(e),
        };
        let width = sub.columns.len() - if sub.progress { 3 } else { 2 };
        session.lock().expect("lock").cursors.insert(
            name,
            Cursor {
                columns: sub.columns,
                rows: Default::default(),
                hold,
                sub: Some(SubscribeCursor {
                    receiver: Some(sub.receiver),
                    progress: sub.progress,
                    width,
                    ended: None,
                    _guard: guard,
                }),
            },
        );
        Response::Execution(Tag::new("DECLARE CURSOR"))
    }

    /// FETCH from a subscription cursor: waits until it has at least one
    /// row (or `timeout` passes, or the subscription ends), then returns
    /// up to `count` of the rows delivered so far. `None` if `name` is not
    /// a subscription cursor.
    pub(super) async fn fetch_subscribe(
        &self,
        session: &Mutex<Session>,
        pid: i32,
        name: &str,
        count: Option<usize>,
        timeout: Option<std::time::Duration>,
    ) -> Option<Result<(Vec<catalog::Column>, Vec<Row>), SqlError>> {
        let (mut receiver, progress, width) = {
            let mut s = session.lock().expect("lock");
            let sub = s.cursors.get_mut(name)?.sub.as_mut()?;
            (sub.receiver.take(), sub.progress, sub.width)
        };
        let conn = self.conns.lock().expect("lock").get(&pid).cloned();
        let mut cancel = conn.as_ref().map(|c| c.start_query());
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let mut rows = vec![];
        let mut end = None;
        let mut interrupted = None;
        if let Some(rx) = receiver.as_mut() {
            loop {
                while end.is_none() {
                    match rx.try_recv() {
                        Some(e) => end = event_rows(e, progress, width, &mut rows),
                        None => break,
                    }
                }
                let buffered = session
                    .lock()
                    .expect("lock")
                    .cursors
                    .get(name)
                    .is_some_and(|c| !c.rows.is_empty());
                if end.is_some() || !rows.is_empty() || buffered {
                    break;
                }
                let sleep = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    e = rx.recv() => match e {
                        Some(e) => end = event_rows(e, progress, width, &mut rows),
                        None => end = Some(End::Complete),
                    },
                    () = sleep => break,
                    () = cancel_requested(&mut cancel) => {
                        interrupted = Some(canceled());
                        break;
                    }
                }
            }
        }
        let mut s = session.lock().expect("lock");
        let cursor = s.cursors.get_mut(name)?;
        cursor.rows.extend(rows);
        let columns = cursor.columns.clone();
        let sub = cursor.sub.as_mut()?;
        sub.receiver = receiver;
        if let Some(end) = end {
            sub.receiver = None;
            sub.ended = Some(match end {
                End::Error(e) => Some(e),
                End::Complete => None,
            });
        }
        if let Some(e) = interrupted {
            return Some(Err(e));
        }
        if cursor.rows.is_empty() {
            if let Some(Some(e)) = &sub.ended {
                return Some(Err(e.clone()));
            }
        }
        let take = count.unwrap_or(usize::MAX).min(cursor.rows.len());
        Some(Ok((columns, cursor.rows.drain(..take).collect())))
    }

    /// Writes the rows a finished COPY FROM read, as one INSERT (inside a
    /// transaction block, as one of its writes); returns the row count.
    async fn write_copied<C: ClientInfo>(
        &self,
        client: &C,
        session: &Mutex<Session>,
        table: GlobalId,
        rows: Vec<(Row, isize)>,
    ) -> Result<usize, SqlError> {
        let n = rows.len();
        let stmt = Parsed::Rows {
            table,
            rows: Arc::new(rows),
        };
        let info = session_info(client, &self.backends);
        let block = session
            .lock()
            .expect("lock")
            .block
            .as_ref()
            .map(|b: &Block| b.writes.clone());
        match block {
            Some(pending) => {
                ask(&self.coord, |reply| Request::DryRun {
                    pending,
                    stmt: stmt.clone(),
                    session: info,
                    reply,
                })
                .await?;
                if let Some(b) = session.lock().expect("lock").block.as_mut() {
                    b.writes.push(stmt);
                }
            }
            None => {
                ask(&self.coord, |reply| Request::Execute {
                    stmt,
                    session: info,
                    reply,
                })
                .await?;
            }
        }
        Ok(n)
    }
}

/// Marks the transaction block (if any) failed.
fn fail_block(session: &Mutex<Session>) {
    if let Some(b) = session.lock().expect("lock").block.as_mut() {
        b.failed = true;
    }
}

#[async_trait]
impl CopyHandler for QueryHandler {
    async fn on_copy_data<C>(&self, client: &mut C, data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client);
        let mut s = session.lock().expect("lock");
        if let Some(copy) = s.copy_in.as_mut() {
            if let Some(d) = copy.decoder.as_mut() {
                if let Err(e) = d.feed(&data.data) {
                    // the rest of the data is read and dropped
                    copy.decoder = None;
                    copy.error = Some(e);
                }
            }
        }
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client);
        let copy = session.lock().expect("lock").copy_in.take();
        let result = match copy {
            None => Err(SqlError::new(
                sqlstate::PROTOCOL_VIOLATION,
                "CopyDone without a COPY in progress",
            )),
            Some(CopyIn { error: Some(e), .. }) => Err(e),
            Some(CopyIn {
                decoder: Some(d), ..
            }) => {
                let table = d.table();
                match d.finish() {
                    Ok(rows) => self.write_copied(client, &session, table, rows).await,
                    Err(e) => Err(e),
                }
            }
            Some(_) => Err(SqlError::internal("COPY lost its decoder")),
        };
        match result {
            Ok(n) => {
                client
                    .send(PgWireBackendMessage::CommandComplete(
                        Tag::new("COPY").with_rows(n).into(),
                    ))
                    .await?;
                Ok(())
            }
            Err(e) => {
                fail_block(&session);
                Err(user_error(e))
            }
        }
    }

    async fn on_copy_fail<C>(&self, client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client);
        session.lock().expect("lock").copy_in = None;
        fail_block(&session);
        user_error(SqlError::new(
            sqlstate::QUERY_CANCELED,
            format!("COPY from stdin failed: {}", fail.message),
        ))
    }
}
