//! The pure core: types, rules and decisions with no I/O. Everything here is plain Rust that
//! the store and the HTTP edge call into; it never touches a database, a socket or a clock.

pub mod attachment;
pub mod audit;
pub mod chat;
pub mod html;
pub mod ids;
pub mod jwt;
pub mod knowledge;
pub mod notify;
pub mod presence;
pub mod report;
pub mod search;
pub mod team;
pub mod values;
pub mod visitor;
pub mod webhook;
pub mod widget;
pub mod words;
