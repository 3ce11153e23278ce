import { type ParseError, parse, printParseErrorCode } from 'jsonc-parser';

// hive.config.jsonc: JSON with comments and trailing commas, as VS Code's settings are written, read
// with VS Code's own parser (jsonc-parser) rather than a hand-written comment stripper.

/** Line and column (1-based) of an offset, as an editor shows them. */
function position(text: string, offset: number) {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

/** The value of a JSONC text; throws on the first syntax error, naming where it is. */
export function parseJsonc(text: string): unknown {
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first) throw new Error(`${printParseErrorCode(first.error)} at ${position(text, first.offset)}`);
  return value;
}
