// The inbox's WebSocket: heartbeats every 20 s, activity at most once a minute, reconnects with
// backoff, and a "reconnected" event on every open so views re-read what they show and resync by
// seq. Events are re-dispatched by type.

export class Live extends EventTarget {
  constructor() {
    super();
    this.ws = null;
    this.connected = false;
    this.attempt = 0;
    this.lastActivity = 0;
    this.closed = false;
    this.heartbeat = setInterval(() => this.send({ type: "heartbeat" }), 20_000);
    const activity = () => {
      const now = Date.now();
      if (now - this.lastActivity >= 60_000) {
        this.lastActivity = now;
        this.send({ type: "activity" });
      }
    };
    for (const ev of ["pointerdown", "keydown", "focus"]) window.addEventListener(ev, activity, { passive: true });
    this.connect();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.connected = this.wasConnected = true;
      this.dispatchEvent(new Event("status"));
      this.lastActivity = Date.now();
      this.send({ type: "activity" });
      // Also on the first open: a view may have loaded before the socket subscribed, and what
      // happened in between reached no frame.
      this.dispatchEvent(new Event("reconnected"));
    };
    ws.onmessage = (e) => {
      let frame;
      try { frame = JSON.parse(e.data); } catch { return; }
      this.dispatchEvent(new CustomEvent(frame.type, { detail: frame }));
      this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.connected = false;
      this.dispatchEvent(new Event("status"));
      if (this.closed) return;
      const delay = Math.min(10_000, 500 * 2 ** this.attempt++) * (0.75 + Math.random() / 2);
      setTimeout(() => this.connect(), delay);
    };
  }

  send(frame) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  close() {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.ws?.close();
  }
}
