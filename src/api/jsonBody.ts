import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { HttpProblem } from './problem.js';

/**
 * The JSON body parser, with an answer for each way a body can be refused. Fastify's own parser
 * says "Body is not valid JSON" also for well-formed JSON it refuses on purpose (a `__proto__` or
 * `constructor.prototype` key, which could poison object prototypes): that sends people looking
 * for a syntax error that is not there.
 */
export function registerJsonBody(app: FastifyInstance) {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(
        new HttpProblem(
          400,
          'empty-body',
          'Empty JSON body',
          'The body is empty. Send a JSON object, or drop the Content-Type header when there is no body.',
        ),
        undefined,
      );
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      done(
        new HttpProblem(
          400,
          'malformed-json',
          'Malformed JSON',
          `The body is not well-formed JSON (${reason}). Send a well-formed JSON object.`,
        ),
        undefined,
      );
      return;
    }
    try {
      if (parsed && typeof parsed === 'object')
        secureJson.scan(parsed, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      done(
        new HttpProblem(
          400,
          'forbidden-key',
          'Forbidden key in the body',
          'The body is well-formed JSON but uses the key "__proto__", or "constructor" holding "prototype", which is refused to protect the server. Rename that key (option names are letters, digits, "_" and "-").',
        ),
        undefined,
      );
      return;
    }
    done(null, parsed);
  });
}
