/**
 * The little of Express the mounting tests use (Express 5 ships no types and the project does
 * not depend on @types/express).
 */
declare module 'express' {
  import type { IncomingMessage, Server, ServerResponse } from 'node:http'

  export interface Request extends IncomingMessage {
    readonly originalUrl: string
    readonly body?: unknown
  }
  export interface Response extends ServerResponse {
    send(body: string): this
    json(body: unknown): this
  }
  export type NextFunction = (error?: unknown) => void
  export type Handler = (req: Request, res: Response, next: NextFunction) => void
  export interface Application {
    (req: IncomingMessage, res: ServerResponse): void
    use(path: string, ...handlers: Handler[]): Application
    use(...handlers: Handler[]): Application
    get(path: string, handler: Handler): Application
    post(path: string, handler: Handler): Application
    listen(port: number, host: string, callback: () => void): Server
  }
  interface Express {
    (): Application
    json(): Handler
  }
  const express: Express
  export default express
}
