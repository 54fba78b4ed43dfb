/** The stylesheet, served from the package (no build step, no static-asset binding). */
export const CSS = `
:root{color-scheme:light dark;--fg:#1d2230;--muted:#5d6477;--bg:#fff;--panel:#f4f5f8;--line:#d9dce4;--link:#1a56c4;
--done:#16794a;--dead:#b3261e;--retrying:#9a5b00;--pending:#3056a8;--scheduled:#6a3fb5;--cancelled:#5d6477}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8ee;--muted:#a3a9b8;--bg:#15171d;--panel:#1f222b;--line:#343947;
--link:#8ab4ff;--done:#5fd39a;--dead:#ff8a80;--retrying:#ffc266;--pending:#9bb8ff;--scheduled:#c4a5ff;--cancelled:#a3a9b8}}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--link)}header{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;padding:.6rem 1rem;
border-bottom:1px solid var(--line);background:var(--panel)}header strong{font-size:1.05rem}
nav ul{display:flex;gap:.2rem;list-style:none;margin:0;padding:0}nav a{padding:.3rem .6rem;border-radius:4px;text-decoration:none}
nav a[aria-current=page]{background:var(--bg);font-weight:600}header form{margin-left:auto}
main{padding:1rem;max-width:1200px}h1{font-size:1.3rem;margin:.2rem 0 1rem}h2{font-size:1.05rem;margin:1.4rem 0 .5rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted)}td code,.id{font-family:ui-monospace,monospace;font-size:.9em;word-break:break-all}
.status{display:inline-block;padding:0 .45rem;border-radius:9px;border:1px solid currentColor;font-size:.85em}
.s-done{color:var(--done)}.s-dead{color:var(--dead)}.s-retrying,.s-failed{color:var(--retrying)}.s-pending{color:var(--pending)}
.s-scheduled{color:var(--scheduled)}.s-cancelled{color:var(--cancelled)}
.counts{display:flex;flex-wrap:wrap;gap:.5rem;list-style:none;padding:0;margin:0 0 1rem}
.counts a{display:block;padding:.4rem .7rem;border:1px solid var(--line);border-radius:6px;text-decoration:none;color:inherit}
.counts b{display:block;font-size:1.2rem}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;margin-bottom:1rem}
label{display:flex;flex-direction:column;gap:.15rem;font-size:.9em;color:var(--muted)}
input,select,textarea,button{font:inherit;color:inherit;background:var(--bg);border:1px solid var(--line);border-radius:4px;padding:.3rem .5rem}
button{cursor:pointer;background:var(--panel)}button.danger{color:var(--dead)}
:focus-visible{outline:2px solid var(--link);outline-offset:2px}
pre{background:var(--panel);padding:.7rem;border-radius:6px;overflow:auto;max-height:28rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{color:var(--muted)}dd{margin:0}
.flash{padding:.6rem .8rem;border-radius:6px;margin-bottom:1rem;border:1px solid var(--done)}
.flash.error{border-color:var(--dead)}.muted{color:var(--muted)}.row{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center}
ul.tree,ul.tree ul{list-style:none;padding-left:1.3rem;margin:0}ul.tree{padding-left:0}
ul.tree li{position:relative;padding:.25rem 0}ul.tree ul li::before{content:"";position:absolute;left:-1rem;top:0;
height:1.05rem;width:.8rem;border-left:1px solid var(--line);border-bottom:1px solid var(--line)}
.node{display:inline-flex;gap:.5rem;align-items:center;padding:.2rem .5rem;border:1px solid var(--line);border-radius:6px}
.node.here{border-color:var(--link)}.live{margin-left:auto}.sr{position:absolute;left:-9999px}
`;

/**
 * The little JavaScript the pages use: local times, and live updates that can be paused. Every
 * page reads without it.
 */
export const JS = `
(() => {
  const local = (root) => {
    for (const t of root.querySelectorAll("time[datetime]")) {
      const d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) continue;
      t.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
      t.title = d.toISOString().replace("T", " ").replace("Z", " UTC");
    }
  };
  local(document);
  for (const box of document.querySelectorAll("[data-check-all]")) {
    box.addEventListener("change", () => {
      for (const c of document.querySelectorAll("input[name=id]")) c.checked = box.checked;
    });
  }
  const live = document.querySelector("[data-live]");
  if (!live) return;
  const button = live.querySelector("button");
  const state = live.querySelector("[data-state]");
  const every = Number(live.dataset.every) || 3000;
  let paused = sessionStorage.getItem("edgebus.paused") === "1";
  let stamp = live.dataset.stamp;
  const show = () => {
    button.setAttribute("aria-pressed", String(paused));
    button.textContent = paused ? "Resume live updates" : "Pause live updates";
    state.textContent = paused ? "paused" : "live";
  };
  show();
  button.addEventListener("click", () => {
    paused = !paused;
    sessionStorage.setItem("edgebus.paused", paused ? "1" : "0");
    show();
  });
  const refresh = async () => {
    const page = await fetch(location.href, { credentials: "same-origin" });
    if (!page.ok) return;
    const doc = new DOMParser().parseFromString(await page.text(), "text/html");
    const main = doc.querySelector("main");
    if (!main || document.activeElement?.closest("main form")) return;
    document.querySelector("main").replaceWith(main);
    local(main);
  };
  const poll = async () => {
    if (!paused && !document.hidden) {
      try {
        const answer = await fetch(live.dataset.live, { credentials: "same-origin" });
        if (answer.ok) {
          const next = (await answer.json()).stamp;
          if (next !== stamp) { stamp = next; await refresh(); }
        }
      } catch {}
    }
    setTimeout(poll, every);
  };
  setTimeout(poll, every);
})();
`;
