import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // test/browser/*.browser.ts drive chromium: Node only (Deno and Bun pick up *_test.ts alone).
    include: ["test/**/*_test.ts", "test/browser/*.browser.ts"],
    exclude: ["test/cloudflare/**", "node_modules/**"],
  },
});
