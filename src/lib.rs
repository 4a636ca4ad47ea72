//! Baton: a self-hosted live-chat handoff server.
//!
//! # Layout
//! - [`domain`] — the pure core: the live-chat state machine ([`domain::chat::decide`]),
//!   presence statuses, roles and bot access, parsed values, message HTML, the knowledge-base
//!   ranking. No I/O.
//! - [`store`] — the one storage interface ([`store::Store`]) and its two backends, SQLite
//!   (embedded default) and PostgreSQL, sharing one SQL implementation.
//! - [`hub`] — the real-time hub: topic-routed, bounded, best-effort wake-ups published after
//!   commit; [`realtime`] — the WebSocket sessions that read from it and resync by `seq`.
//! - [`presence`] — presence signals and capacity re-checks; [`notify`] — agent notifications
//!   (in page, Web Push) and visitor emails from durable outboxes; [`sweeper`] — the one timer
//!   loop; [`effects`] — what follows every committed chat change.
//! - [`bot`] — answering visitors: the built-in knowledge base and the webhook responder.
//! - [`http`] — the HTTP edge: one module per resource, thin handlers, one error type.
//! - [`app`] — wiring: settings, start-up, the listener and clean shutdown.
//! - [`clock`] — time as a dependency, so tests control it.

pub mod app;
pub mod auth;
pub mod bot;
pub mod clock;
pub mod demo;
pub mod domain;
pub mod effects;
pub mod http;
pub mod hub;
pub mod notify;
pub mod presence;
pub mod ratelimit;
pub mod realtime;
pub mod store;
pub mod sweeper;
