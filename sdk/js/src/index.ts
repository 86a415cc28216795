/**
 * tinycrm-sdk sends a product's customers to TinyCRM: `identify` when
 * someone signs up, activates, logs in or changes plan; `ping` for activity.
 * It has no dependencies and uses only fetch, so it runs on Node 18+, Deno,
 * Bun, browsers and edge workers. It reads nothing from the server.
 */
export { TinyCRM } from "./client.js";
export type { Fetch, FetchInit, FetchResponse, IdentifyInput, IdentifyResult, PingOptions, TinyCRMOptions } from "./client.js";
export { TinyCRMError } from "./error.js";
export type { TinyCRMErrorInit } from "./error.js";
