import { execa } from 'execa';

/**
 * A GET with curl (which resolves `*.localhost` to loopback itself, as browsers do): the status and
 * the time to the first byte, in ms.
 */
export async function curlFirstByte(url: string): Promise<{ status: number; ms: number }> {
  const { stdout } = await execa('curl', [
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code} %{time_starttransfer}',
    '--max-time',
    '60',
    url,
  ]);
  const [status = '0', seconds = '0'] = stdout.split(' ');
  return { status: Number(status), ms: Number(seconds) * 1000 };
}
