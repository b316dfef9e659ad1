/** Reads an Engine API progress stream the way the docker CLI's decoder does. */
export interface Message {
  status?: string
  id?: string
  progressDetail?: { current?: number; total?: number }
  progress?: string
  errorDetail?: { message: string }
  error?: string
  aux?: unknown
}

export async function readMessages(res: Response): Promise<Message[]> {
  const text = await res.text()
  return text
    .split('\r\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Message)
}

/** `id: status` lines as the CLI prints them when stdout is not a terminal. */
export const lines = (ms: Message[]): string[] =>
  ms
    .filter((m) => !(m.progressDetail && ((m.progressDetail.current ?? 0) > 0 || (m.progressDetail.total ?? 0) > 0)))
    .map((m) => (m.errorDetail ? `ERROR ${m.errorDetail.message}` : m.id ? `${m.id}: ${m.status}` : `${m.status}`))
