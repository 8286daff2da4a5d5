/**
 * restJson1 (Bedrock): an operation is a method and a URI template, its input is split between
 * the path (labels), the query string and a JSON body, and its errors name themselves in
 * `x-amzn-errortype`. The routes are not written again here: every operation schema the AWS SDK
 * ships (`<Operation>$`) carries the `http` trait of the service model — method, URI template and
 * success code (botocore's `http.method` / `requestUri` / `responseCode`) — and each input member
 * says whether it is bound to a label or a query parameter. So the service declares one operation
 * table (operation → handler) and the protocol serves exactly those operations at exactly AWS's
 * paths, with AWS's statuses.
 *
 * A handler sees one input object, as the SDK builds it: the body's members, then the path labels
 * and the declared query parameters (as strings) under their member names. A body member that the
 * model binds to the path or the query is dropped, as AWS never reads it from the body.
 */
import { randomBytes } from 'node:crypto';
import { NormalizedSchema } from '@smithy/core/schema';
import type { AccessRequest } from '../iam/types';
import type { Body } from './input';
import { parseJsonBody } from './json-protocol';
import { checkInputShape } from './json-shapes';
import { type OperationTable, operationIn } from './operations';
import { AwsError, type LocalRequest, type LocalResponse, type LocalService } from './types';

type Segment = { literal: string } | { label: string };

interface Route {
  operation: string;
  method: string;
  segments: Segment[];
  /** The success status the model gives the operation (200, 201 for a create, 202 …). */
  status: number;
  /** Input members bound to a query parameter: [member, parameter]. */
  query: Array<[string, string]>;
  /** Input members bound to the path or the query, never read from the body. */
  bound: string[];
}

export interface Matched {
  route: Route;
  input: Body;
}

/** An operation schema is [9, namespace, name, traits, input, output]. */
function routeOf(model: Record<string, unknown>, operation: string): Route {
  const schema = Object.hasOwn(model, `${operation}$`) ? model[`${operation}$`] : undefined;
  const http = Array.isArray(schema) && schema[0] === 9 ? (schema[3] as { http?: unknown }).http : undefined;
  if (!Array.isArray(http)) throw new Error(`the service model has no HTTP binding for ${operation}`);
  const [method, uri, status] = http as [string, string, number];
  const segments = uri
    .split('/')
    .filter((s) => s !== '')
    .map((s): Segment => (s.startsWith('{') ? { label: s.slice(1, -1) } : { literal: s }));
  const query: Array<[string, string]> = [];
  const bound: string[] = [];
  const input = NormalizedSchema.of((schema as unknown[])[4] as never);
  if (input.isStructSchema()) {
    for (const [name, member] of input.structIterator()) {
      const traits = member.getMergedTraits();
      if (typeof traits.httpQuery === 'string') query.push([name, traits.httpQuery]);
      if (traits.httpLabel || traits.httpQuery || traits.httpHeader) bound.push(name);
    }
  }
  return { operation, method, segments, status, query, bound };
}

/** The routes of the operations of TABLE, read from the service MODEL. */
export function restRoutes(model: Record<string, unknown>, operations: readonly string[]): Route[] {
  return operations.map((operation) => routeOf(model, operation));
}

/**
 * The route a request takes and its path labels (percent-decoded, one segment each: an ARN in a
 * label arrives with its `/` encoded), or undefined. Empty segments are ignored, so a trailing
 * slash reaches the same operation.
 */
function match(
  routes: readonly Route[],
  req: LocalRequest,
): { route: Route; labels: Record<string, string> } | undefined {
  let segments: string[];
  try {
    segments = req.path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
  const method = req.method.toUpperCase();
  for (const route of routes) {
    if (route.method !== method || route.segments.length !== segments.length) continue;
    const labels: Record<string, string> = {};
    const fits = route.segments.every((s, i) => {
      const actual = segments[i] as string;
      if ('literal' in s) return s.literal === actual;
      labels[s.label] = actual;
      return true;
    });
    if (fits) return { route, labels };
  }
  return undefined;
}

/** What a restJson service is on the wire. */
export interface RestJsonProtocol {
  /** How its errors name it: `The embedded ${name} does not serve …`. */
  name: string;
  /** The service's SDK client module: its operation schemas give routes, member bindings and error statuses. */
  model: Record<string, unknown>;
}

/**
 * What a restJson service shares: the route from the model, the input read and checked against
 * it, dispatch through the one operation table, the modeled success status, errors as
 * `x-amzn-errortype` with the status the model gives the error.
 */
export abstract class RestJsonService implements LocalService {
  abstract readonly signingName: string;
  protected abstract readonly operations: OperationTable<Body>;
  private routeTable: Route[] | undefined;

  constructor(protected readonly protocol: RestJsonProtocol) {}

  private get routes(): Route[] {
    this.routeTable ??= restRoutes(this.protocol.model, Object.keys(this.operations));
    return this.routeTable;
  }

  /** The operation and its whole input, or undefined when no route of the table fits. */
  protected matched(req: LocalRequest): Matched | undefined {
    const found = match(this.routes, req);
    if (!found) return undefined;
    const { route, labels } = found;
    const body = parseJsonBody<Body>(req);
    checkInputShape(this.protocol.model, route.operation, body);
    const input: Body = { ...body };
    for (const name of route.bound) delete input[name];
    Object.assign(input, labels);
    for (const [member, parameter] of route.query) {
      const value = req.query.get(parameter);
      if (value !== null) input[member] = value;
    }
    return { route, input };
  }

  operationOf(req: LocalRequest): string {
    return match(this.routes, req)?.route.operation ?? 'Unknown';
  }

  /** The IAM questions of OPERATION with INPUT (see local/iam). */
  protected abstract access(operation: string, input: Body): AccessRequest[] | Promise<AccessRequest[]>;

  accessRequests(req: LocalRequest): AccessRequest[] | Promise<AccessRequest[]> {
    const m = this.matched(req);
    return m ? this.access(m.route.operation, m.input) : [];
  }

  async handle(req: LocalRequest): Promise<LocalResponse> {
    const m = this.matched(req);
    const handler = m && operationIn(this.operations, m.route.operation);
    if (!m || !handler) {
      throw new AwsError(
        'UnknownOperationException',
        `The embedded ${this.protocol.name} does not serve ${req.method} ${req.path}`,
        404,
      );
    }
    return {
      status: m.route.status,
      headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomBytes(16).toString('hex') },
      body: JSON.stringify((await handler(m.input, req)) ?? {}),
    };
  }

  /** An error raised with the generic 400 takes the status the model gives it (ResourceNotFound 404, Throttling 429, …). */
  errorResponse(error: AwsError): LocalResponse {
    return {
      status: error.status === 400 ? (this.modeledStatus(error.code) ?? 400) : error.status,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.code },
      body: JSON.stringify({ message: error.message, ...error.extra }),
    };
  }

  /** An error schema is [-3, namespace, name, {error, httpError}, …]. */
  private modeledStatus(code: string): number | undefined {
    const schema = Object.hasOwn(this.protocol.model, `${code}$`)
      ? this.protocol.model[`${code}$`]
      : undefined;
    if (!Array.isArray(schema) || schema[0] !== -3) return undefined;
    const status = (schema[3] as { httpError?: unknown }).httpError;
    return typeof status === 'number' ? status : undefined;
  }
}
