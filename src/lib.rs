//! Baton: a self-hosted live-chat handoff server.
//!
//! # Layout
//! Dependencies point one way, from the edges down (a test in `tests/api/layers.rs` reads every
//! module's imports and holds the code to it):
//!
//! - [`http`], [`realtime`] — the edges: HTTP handlers, one module per resource, and the
//!   WebSocket sessions. Thin: extract, authorise, call a service, map the result.
//! - [`services`] — what follows every change: [`services::chats`] owns every conversation
//!   change (store write, events, notifications, the bot's reply); presence, notifications, the
//!   bot's responder, the timers. The only way in for edges, timers and the bot.
//! - [`views`] — the JSON shapes of records, shared by both edges and the events.
//! - [`store`] — the one storage interface ([`store::Store`]) and its two backends, SQLite
//!   (embedded default) and PostgreSQL, sharing one SQL implementation.
//! - [`hub`] — the real-time hub: topic-routed, bounded, best-effort wake-ups published after
//!   commit.
//! - [`cluster`] — several nodes as one over Redis: the bus between hubs, the registry of who is
//!   connected where, shared rate-limit counters.
//! - [`domain`] — the pure core: the live-chat state machine ([`domain::chat::decide`]),
//!   presence rules, roles and bot access, parsed values, message HTML, the knowledge-base
//!   ranking. No I/O.
//! - [`clock`] — time as a dependency, so tests control it.
//! - [`app`] — wiring: start-up, the router, the listener and clean shutdown; [`demo`] — the
//!   demo data.

pub mod app;
pub mod clock;
pub mod cluster;
pub mod demo;
pub mod domain;
pub mod http;
pub mod hub;
pub mod realtime;
pub mod services;
pub mod store;
pub mod views;
