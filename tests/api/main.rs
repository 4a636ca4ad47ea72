//! Black-box tests of the HTTP API (API.md), each against a real server on port 0, on SQLite and
//! on PostgreSQL.

mod hardening;
mod helpers;

mod accounts;
mod attachments;
mod audit;
mod authz;
mod bad_input;
mod bots;
mod cluster;
mod corrupt;
mod deploy;
mod durability;
mod lag;
mod layers;
mod lifecycle;
mod links;
mod lists;
mod live_pages;
mod notifications;
mod openapi;
mod presence;
mod privacy;
mod realtime;
mod reports;
mod resync_property;
mod search;
mod shortcuts;
mod shutdown;
mod snooze;
mod storm;
mod teams;
mod ui;
mod visitor_context;
mod visitor_side;
mod webhooks;
mod widget;
