/** An error as log fields, without its stack (which says nothing useful about broker errors). */
export function errorFields(error: unknown): { err: { message: string; code?: unknown; name?: string } } {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return { err: { name: error.name, message: error.message, ...(code === undefined ? {} : { code }) } };
  }
  return { err: { message: String(error) } };
}
