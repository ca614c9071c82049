/**
 * Which names and browser origins the server answers. A server without credentials on
 * loopback is reachable by any web page the user opens: a page whose own name resolves to
 * 127.0.0.1 (DNS rebinding) sends its name as `Host` and `Origin`, so neither may be trusted
 * by comparing one with the other. The server trusts loopback names and what the operator
 * listed, nothing the request says about itself.
 */
import type { MiddlewareHandler } from 'hono'
import { ValidationError, describeValue } from '../errors.js'
import type { ServerEnv } from './caller.js'
import { HttpError } from './http-errors.js'

/** Whether an address or host name is loopback only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host)
}

/** One `allowedHosts` entry: a name, with a port or any port, and its subdomains when it starts with a dot. */
interface HostRule {
  readonly hostname: string
  readonly port: string | undefined
  readonly subdomains: boolean
}

/** What {@link hostPolicy} builds from the server's options. */
export interface HostPolicy {
  /** Whether `Host` is checked at all: only when nothing else (a token, users, a resolver) authenticates callers. */
  readonly checkHost: boolean | (() => Promise<boolean>)
  /** Whether a `Host` value (`name[:port]`) is a loopback name or allowed. */
  hostAllowed(host: string): boolean
  /** Whether an `Origin` value is a loopback origin, an allowed origin, or on an allowed host. */
  originAllowed(origin: string): boolean
}

/**
 * Checks and compiles `allowedHosts` and `allowedOrigins`; throws a `ValidationError` quoting
 * the first bad entry of each.
 */
export function hostPolicy(options: { readonly allowedHosts?: readonly string[] | undefined; readonly allowedOrigins?: readonly string[] | undefined; readonly checkHost: boolean | (() => Promise<boolean>) }): HostPolicy {
  const rules = (options.allowedHosts ?? []).map((entry, i) => hostRule(entry, `allowedHosts[${i}]`))
  const origins = new Set((options.allowedOrigins ?? []).map((entry, i) => normalOrigin(entry, `allowedOrigins[${i}]`)))
  const hostAllowed = (host: string): boolean => {
    const parsed = parseHost(host)
    if (parsed === undefined) return false
    return isLoopback(parsed.hostname) || rules.some((rule) => matches(rule, parsed.hostname, parsed.port))
  }
  return {
    checkHost: options.checkHost,
    hostAllowed,
    originAllowed(origin) {
      let url: URL
      try {
        url = new URL(origin)
      } catch {
        return false
      }
      if (origins.has(url.origin)) return true
      return (url.protocol === 'http:' || url.protocol === 'https:') && hostAllowed(url.host)
    },
  }
}

/**
 * Refuses requests on a name the server does not answer (when {@link HostPolicy.checkHost}),
 * and writes and WebSocket upgrades from browser pages of other origins. Requests without an
 * `Origin` come from programs, not pages, and pass; `Origin: null` (sandboxed frames, pages
 * that send no referrer) proves nothing and is refused.
 */
export function guardHosts(policy: HostPolicy): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const host = c.req.header('host') ?? new URL(c.req.url).host
    const checkHost = typeof policy.checkHost === 'function' ? await policy.checkHost() : policy.checkHost
    if (checkHost && !policy.hostAllowed(host)) {
      const name = parseHost(host)?.hostname ?? host
      throw new HttpError(
        'ERR_HOST_NOT_ALLOWED',
        `host "${host}" is not allowed: without a token this server answers only loopback names (localhost, 127.0.0.1, [::1]); to reach it under another name, add that name to allowedHosts (taskengine serve --allowed-hosts ${name}), or require a token or add users`,
      )
    }
    const origin = c.req.header('origin')
    // Where callers must authenticate, the server's own pages (Origin on the name they were
    // opened under) may write: a rebinding page shares that name but not the site's cookie or
    // token. Without credentials, the name proves nothing.
    const ownPage = !checkHost && origin !== undefined && sameHost(origin, host)
    if (origin !== undefined && !ownPage && (WRITES.has(c.req.method) || c.req.header('upgrade')?.toLowerCase() === 'websocket') && !policy.originAllowed(origin)) {
      const name = originHostname(origin)
      const advice = name === undefined ? '' : ` (add "${name}" to allowedHosts, or "${origin}" to allowedOrigins, if it is yours)`
      throw new HttpError('ERR_ORIGIN_NOT_ALLOWED', `cross-site request refused: origin "${origin}" is not allowed to change anything here; allowed are loopback origins and those in allowedOrigins or allowedHosts${advice}`)
    }
    await next()
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

function hostRule(entry: unknown, what: string): HostRule {
  const bad = (): ValidationError =>
    new ValidationError(`${what}: expected a host name such as "ops.example", "ops.example:8443" or ".example.com" (the domain and its subdomains), without scheme or path, got ${describeValue(entry)}`)
  if (typeof entry !== 'string' || /[/@?#\\\s]/.test(entry)) throw bad()
  const subdomains = entry.startsWith('.')
  const parsed = parseHost(subdomains ? entry.slice(1) : entry)
  if (parsed === undefined || parsed.hostname === '') throw bad()
  return { hostname: parsed.hostname, port: /:\d+$/.test(entry) ? parsed.port : undefined, subdomains }
}

function matches(rule: HostRule, hostname: string, port: string): boolean {
  if (rule.port !== undefined && rule.port !== port) return false
  return hostname === rule.hostname || (rule.subdomains && hostname.endsWith(`.${rule.hostname}`))
}

function normalOrigin(entry: unknown, what: string): string {
  const bad = (): ValidationError => new ValidationError(`${what}: expected an origin such as "https://ops.example" or "http://localhost:3000" (scheme, host and port, no path), got ${describeValue(entry)}`)
  if (typeof entry !== 'string') throw bad()
  let url: URL
  try {
    url = new URL(entry)
  } catch {
    throw bad()
  }
  if (url.origin === 'null' || entry.replace(/\/$/, '').toLowerCase() !== url.origin.toLowerCase()) throw bad()
  return url.origin
}

/** `name[:port]` as the URL parser reads it (lower case, default ports dropped), or `undefined` when it is no host. */
function parseHost(host: string): { hostname: string; port: string } | undefined {
  if (host === '' || /[/@?#\\\s]/.test(host)) return undefined
  try {
    const url = new URL(`http://${host}`)
    return { hostname: url.hostname, port: url.port }
  } catch {
    return undefined
  }
}

/** Whether an `Origin` names the same host and port as a `Host` value. */
function sameHost(origin: string, host: string): boolean {
  try {
    const url = new URL(origin)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`${url.protocol}//${host}`).host
  } catch {
    return false
  }
}

function originHostname(origin: string): string | undefined {
  try {
    const url = new URL(origin)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.hostname : undefined
  } catch {
    return undefined
  }
}
