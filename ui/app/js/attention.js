// Not missing a chat while the inbox is in another tab: the number of chats waiting for me in the
// tab's title and on its icon, and a sound for a new escalation or a visitor's new message (a
// preference of this browser).

import { get } from "./api.js";

const SOUND_KEY = "baton:sound";
let base = document.title;
let audio = null;
let counted = 0;
let timer = null;
let iconLink = null;
let plainIcon = null;

export function soundOn() {
  return localStorage.getItem(SOUND_KEY) !== "off";
}

export function setSound(on) {
  localStorage.setItem(SOUND_KEY, on ? "on" : "off");
}

/// A short two-note chime, made on the spot (no file to fetch).
export function chime() {
  try {
    audio = audio ?? new AudioContext();
    if (audio.state === "suspended") audio.resume();
    const now = audio.currentTime;
    for (const [i, freq] of [[0, 880], [1, 1320]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, now + i * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.18, now + i * 0.12 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.12 + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.12);
      osc.stop(now + i * 0.12 + 0.3);
    }
  } catch { /* no audio here */ }
}

/// The tab's title and icon show `n` chats waiting.
function show(n) {
  counted = n;
  document.title = n > 0 ? `(${n}) ${base}` : base;
  iconLink = iconLink ?? document.querySelector("link[rel=icon]");
  if (!iconLink) return;
  plainIcon = plainIcon ?? iconLink.href;
  if (n <= 0) {
    iconLink.href = plainIcon;
    return;
  }
  const img = new Image();
  img.onload = () => {
    const c = document.createElement("canvas");
    c.width = c.height = 64;
    const g = c.getContext("2d");
    g.drawImage(img, 0, 0, 64, 64);
    g.fillStyle = "#dc2626";
    g.beginPath();
    g.arc(46, 18, 18, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = "#fff";
    g.font = "bold 24px system-ui, sans-serif";
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText(n > 9 ? "9+" : String(n), 46, 19);
    if (counted === n) iconLink.href = c.toDataURL("image/png");
  };
  img.src = plainIcon;
}

/// Chats waiting for me: unclaimed ones, and mine with messages I have not read.
async function recount() {
  try {
    const page = await get("/api/live-chats?view=inbox&limit=100");
    const me = whoAmI();
    const n = page.items.filter((c) => c.state === "pending" || (c.assignee?.id === me && c.unread_count > 0)).length;
    show(n);
  } catch { /* the next change counts again */ }
}

/// Follows the live socket: counts again after chat changes (once per burst), chimes on the
/// notifications that mean "someone is waiting".
let whoAmI = () => null;
let observing = false;
export function watch(live, me) {
  whoAmI = me;
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(recount, 400);
  };
  live.addEventListener("frame", (e) => {
    const t = e.detail.type;
    if (t.startsWith("chat.") || t === "message.created") later();
  });
  live.addEventListener("reconnected", later);
  live.addEventListener("notification", (e) => {
    const kind = e.detail.data?.kind;
    if (soundOn() && (kind === "new_escalation" || kind === "visitor_message")) chime();
  });
  // A page change sets its own title: keep the count in front of it.
  if (!observing) observing = true; else return recount();
  new MutationObserver(() => {
    const t = document.title.replace(/^\(\d+\) /, "");
    if (t !== base) {
      base = t;
      show(counted);
    }
  }).observe(document.querySelector("title"), { childList: true });
  recount();
}
