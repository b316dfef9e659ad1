/** Reason phrases, for HTTP/2 responses and runtimes that leave `statusText` empty. */
const REASONS: Record<number, string> = {
  200: 'OK',
  206: 'Partial Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  416: 'Range Not Satisfiable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

/** Go's `http.StatusText`, for the statuses a registry client meets. */
export const statusText = (status: number): string => REASONS[status] ?? ''
