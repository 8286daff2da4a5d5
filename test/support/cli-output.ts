/**
 * What a CLI command printed, run in process: console.log / console.error and direct writes to
 * process.stdout / process.stderr (Jest's console does not write through the streams in a worker).
 */
export async function capturedCli(
  run: () => Promise<number>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const into = (sink: string[]) => (chunk: string | Uint8Array) => {
    sink.push(String(chunk));
    return true;
  };
  const spies = [
    jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' '))),
    jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' '))),
    jest.spyOn(process.stdout, 'write').mockImplementation(into(out)),
    jest.spyOn(process.stderr, 'write').mockImplementation(into(err)),
  ];
  try {
    const code = await run();
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    for (const s of spies) s.mockRestore();
  }
}
