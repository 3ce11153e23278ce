import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { HttpProblem } from './problem.js';

/**
 * Deepest nesting of arrays and objects a body may have. Requests are a few levels deep; a deeper
 * body is an attack on whatever walks it recursively (the request fingerprint, validation, Prisma).
 */
export const MAX_JSON_DEPTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** A UTF-16 surrogate without its other half: no valid text holds one, SQLite and git refuse it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const refuse = (slug: string, title: string, detail: string, extra = {}) =>
  new HttpProblem(400, slug, title, detail, extra);

/**
 * The JSON body parser, with an answer for each way a body can be refused. Fastify's own parser
 * says "Body is not valid JSON" also for well-formed JSON it refuses on purpose (a `__proto__` or
 * `constructor.prototype` key, which could poison object prototypes): that sends people looking
 * for a syntax error that is not there. Text nothing downstream can hold is refused here too, at
 * the door, rather than accepted and failing later inside a cell's workflow: invalid UTF-8, nesting
 * deeper than MAX_JSON_DEPTH, a lone surrogate or a NUL character in any string.
 */
export function registerJsonBody(app: FastifyInstance) {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseBody(typeof body === 'string' ? Buffer.from(body) : body));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

function parseBody(body: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw refuse(
      'invalid-utf8',
      'Body is not UTF-8',
      'The body is not valid UTF-8 (JSON must be UTF-8, RFC 8259). Send the text encoded as UTF-8.',
    );
  }
  if (text.trim() === '') {
    throw refuse(
      'empty-body',
      'Empty JSON body',
      'The body is empty. Send a JSON object, or drop the Content-Type header when there is no body.',
    );
  }
  const depth = nestingDepth(text);
  if (depth > MAX_JSON_DEPTH) {
    throw refuse(
      'json-too-deep',
      'JSON nested too deeply',
      `The body nests arrays and objects ${depth} levels deep; at most ${MAX_JSON_DEPTH} are accepted. Send a flatter document.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw refuse(
      'malformed-json',
      'Malformed JSON',
      `The body is not well-formed JSON (${reason}). Send a well-formed JSON object.`,
    );
  }
  try {
    if (parsed && typeof parsed === 'object')
      secureJson.scan(parsed, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    throw refuse(
      'forbidden-key',
      'Forbidden key in the body',
      'The body is well-formed JSON but uses the key "__proto__", or "constructor" holding "prototype", which is refused to protect the server. Rename that key (option names are letters, digits, "_" and "-").',
    );
  }
  const errors = unusableText(parsed);
  if (errors.length > 0) {
    throw refuse(
      'invalid-text',
      'Text that cannot be stored',
      `The body is invalid: ${errors
        .map((e) => `${e.pointer === '#' ? 'body' : e.pointer.slice(2).replaceAll('/', '.')}: ${e.detail}`)
        .join('; ')}. Remove those characters and send it again.`,
      { errors },
    );
  }
  return parsed;
}

/** The deepest nesting of [ and { in JSON text, counted without parsing (strings skipped). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

const pointerPart = (key: string | number) => String(key).replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * Every string (value or key) holding a lone surrogate or a NUL, as JSON pointers (ten at most).
 * A loop, not recursion: the depth is bounded above, but nothing here should depend on it.
 */
function unusableText(root: unknown): Array<{ pointer: string; detail: string }> {
  const found: Array<{ pointer: string; detail: string }> = [];
  const check = (text: string, pointer: string, what: string) => {
    if (text.includes('\u0000')) found.push({ pointer, detail: `${what} holds a NUL character (\\u0000)` });
    else if (LONE_SURROGATE.test(text)) {
      found.push({ pointer, detail: `${what} holds a lone UTF-16 surrogate (half of a character)` });
    }
  };
  const stack: Array<[unknown, string]> = [[root, '#']];
  while (stack.length > 0 && found.length < 10) {
    const [value, pointer] = stack.pop() as [unknown, string];
    if (typeof value === 'string') check(value, pointer, 'the text');
    else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) stack.push([item, `${pointer}/${i}`]);
    } else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        const at = `${pointer}/${pointerPart(key)}`;
        check(key, at, 'the key');
        stack.push([item, at]);
      }
    }
  }
  return found;
}
