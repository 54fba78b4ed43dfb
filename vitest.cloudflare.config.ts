// The Cloudflare adapter's tests, inside real workerd: `vitest run -c vitest.cloudflare.config.ts`.
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./test/cloudflare/worker.ts",
      wrangler: { configPath: "./test/cloudflare/wrangler.toml" },
    }),
  ],
  test: {
    include: ["test/cloudflare/**/*_test.ts"],
    testTimeout: 30_000,
  },
});
