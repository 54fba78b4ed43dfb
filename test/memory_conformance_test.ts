import { memoryDriver } from "../mod.ts";
import { runDriverConformance } from "./conformance/mod.ts";

runDriverConformance({ name: "memory", create: () => memoryDriver() });
