// What a team would hand-roll: a Socket.IO 4.8 server that persists every message to SQLite
// (WAL, synchronous=FULL — the same durability Baton gives) and pushes it to the agent's room.
//   visitors connect with ?role=visitor&chat=ID and emit("message", {body}, ack)
//   agents connect with ?role=agent&chat=ID and receive "message.created"
import { createServer } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { Server } from "socket.io";

const db = new Database(join(process.env.DATA_DIR ?? mkdtempSync(join(tmpdir(), "sio-")), "chat.db"));
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.exec(`CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY, chat TEXT NOT NULL, seq INTEGER NOT NULL, author TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,
  UNIQUE (chat, seq))`);
const nextSeq = db.prepare("SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM messages WHERE chat = ?");
const insert = db.prepare("INSERT INTO messages (chat, seq, author, body, created_at) VALUES (?, ?, ?, ?, ?)");
const save = db.transaction((chat, body) => {
  const { seq } = nextSeq.get(chat);
  const now = Date.now();
  insert.run(chat, seq, "visitor", body, now);
  return { seq, created_at: now };
});

const http = createServer();
const io = new Server(http, { transports: ["websocket"], serveClient: false, perMessageDeflate: false });
io.on("connection", (socket) => {
  const { role, chat } = socket.handshake.query;
  if (role === "agent") socket.join(`chat:${chat}`);
  socket.on("message", (msg, ack) => {
    const body = String(msg?.body ?? "");
    const { seq, created_at } = save(chat, body);
    const data = { seq, conversation_id: chat, author: { kind: "visitor" }, body, text: body, visibility: "public", created_at };
    io.to(`chat:${chat}`).emit("message.created", data);
    if (typeof ack === "function") ack({ ok: true, seq });
  });
});
http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(`socket.io listening on http://127.0.0.1:${http.address().port}`);
});
