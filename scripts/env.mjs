// The environment every script gives the tools it starts: offline wrangler (no metrics, and no
// fetch of Request.cf from Cloudflare: a placeholder is used) and no colours in captured output.

/** Variables for an offline run of wrangler, workerd and the test runners. */
export const offline = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

/** The process environment with {@linkcode offline} and colours off. */
export const env = { ...process.env, ...offline, NO_COLOR: "1", FORCE_COLOR: "0" };
