import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The signal of the request being served, seen by whatever runs on its behalf (the server aborts it when the
 * request's deadline passes): work handed to another thread can then be dropped instead of running on for a
 * request nobody waits for, without every pipeline function taking a signal.
 */
export const requestSignal = new AsyncLocalStorage<AbortSignal>();
