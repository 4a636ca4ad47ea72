// Loads the widget for ?bot= and opens it (the email link's fragment resumes the conversation).
(() => {
  const bot = new URLSearchParams(location.search).get("bot");
  if (!bot) return;
  const s = document.createElement("script");
  s.src = "/widget.js";
  s.async = true;
  s.dataset.bot = bot;
  s.dataset.open = "true";
  document.body.append(s);
})();
