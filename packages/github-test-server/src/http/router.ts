import type { IncomingMessage, ServerResponse } from "node:http";
import type { Endpoint } from "./endpoints.ts";

// A small route table: method + path pattern → endpoint name + handler. The endpoint name is
// what the call log records and what faults are injected by.

/** What a handler gets. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Named groups of the path pattern. */
  readonly params: Readonly<Record<string, string>>;
}

export type RouteHandler = (context: RouteContext) => Promise<void> | void;

export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly endpoint: Endpoint;
  readonly handler: RouteHandler;
}

/** A route matched to a request. */
export interface RouteMatch {
  readonly route: Route;
  readonly params: Readonly<Record<string, string>>;
}

/** The first route whose method and pattern match; `undefined` when none. */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  pathname: string,
): RouteMatch | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(pathname);
    if (match === null) continue;
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(match.groups ?? {})) {
      if (value !== undefined) params[name] = decodeURIComponent(value);
    }
    return { route, params };
  }
  return undefined;
}

/** Whether some route has this path under another method (405 rather than 404). */
export function pathKnown(routes: readonly Route[], pathname: string): boolean {
  return routes.some((route) => route.pattern.test(pathname));
}
